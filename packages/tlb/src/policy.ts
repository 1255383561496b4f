/**
 * Replacement policies: which valid way of a full set a fill replaces.
 *
 * Each policy is one small class whose state is a typed array indexed by `set * ways + way`
 * (or by set), and whose hot methods (`touch` on every hit, `victim` on every miss to a full
 * set) are a few array operations, so V8 inlines them into the TLB's lookup. A TLB makes its
 * own instance for each of its arrays, so the call sites of a TLB see one class.
 *
 * - LRU: a timestamp per entry from a counter; the victim is the oldest. Exact, as the
 *   textbook and CS:APP's cache lab define it (hardware rarely implements it past 4 ways).
 * - Tree-PLRU: ways-1 bits per set, a binary tree whose bits point towards the
 *   less recently used half; an access flips the bits on its path to point away from it, the
 *   victim follows the bits (the classic pseudo-LRU of set-associative caches since the i486;
 *   see Handy, "The Cache Memory Book", and Al-Zoubi et al., "Performance evaluation of cache
 *   replacement policies for the SPEC CPU2000 benchmark suite", 2004). With a number of ways
 *   that is not a power of two (a 12-way STLB) the tree spans the next power of two and the
 *   victim walk never enters a subtree that holds no real way.
 * - FIFO: a fill timestamp per entry; hits do not count (round-robin replacement, common in
 *   small TLBs because it needs no update on a hit).
 * - NRU: a reference bit per entry, set on access; when that sets the last clear bit of a set,
 *   the set's other bits are cleared. The victim is the lowest way whose bit is clear (the
 *   "MRU-bit" / bit-PLRU scheme of the same literature).
 * - Random: a seeded PRNG (@mmsim/core's sfc32) draws the way: the same seed gives the same
 *   sequence of victims.
 *
 * A policy of your own implements `ReplacementPolicy` (see api.ts) and is passed to
 * `createTlb({ policy: (sets, ways, seed) => new MyPolicy(sets, ways) })`; `definePolicy()`
 * gives the factory its type.
 */
import { Prng } from '@mmsim/core';
import type { PolicyFactory, PolicyName, ReplacementPolicy } from './api.js';

/**
 * The victim is the way with the oldest stamp; LRU and FIFO differ only in what stamps an
 * entry (every access, or its fill alone).
 */
abstract class OldestStampPolicy implements ReplacementPolicy {
  abstract readonly name: string;
  /** The stamp of each entry, from `clock`. */
  readonly stamp: Float64Array;
  protected clock = 0;

  constructor(
    readonly sets: number,
    readonly ways: number,
  ) {
    this.stamp = new Float64Array(sets * ways);
  }

  abstract touch(set: number, way: number): void;

  fill(set: number, way: number): void {
    this.stamp[set * this.ways + way] = ++this.clock;
  }

  /**
   * The first way with the smallest stamp, without a branch per way: which way is older is
   * random, so a compare-and-branch mispredicts about half the time (~15 ns per victim on the
   * machine of the README); the comparisons are computed as 0/1 instead. Stamps are integers
   * below 2^53, so `oldest + (t - oldest)` is exactly `t`.
   */
  victim(set: number): number {
    const ways = this.ways;
    const stamp = this.stamp;
    const first = set * ways;
    if (ways === 4) {
      // A tournament; ties go to the lower way, as in the loop below.
      const a = stamp[first]!;
      const b = stamp[first + 1]!;
      const c = stamp[first + 2]!;
      const d = stamp[first + 3]!;
      const x = Number(b < a);
      const y = Number(d < c);
      const ab = a + (b - a) * x;
      const cd = c + (d - c) * y;
      const z = Number(cd < ab);
      return x + (2 + y - x) * z;
    }
    let best = 0;
    let oldest = stamp[first]!;
    for (let w = 1; w < ways; w++) {
      const t = stamp[first + w]!;
      const older = Number(t < oldest);
      oldest += (t - oldest) * older;
      best += (w - best) * older;
    }
    return best;
  }

  reset(): void {
    this.stamp.fill(0);
    this.clock = 0;
  }
}

/** LRU: victim = the way with the oldest access (fills count as accesses). */
export class LruPolicy extends OldestStampPolicy {
  readonly name = 'lru';

  touch(set: number, way: number): void {
    this.stamp[set * this.ways + way] = ++this.clock;
  }
}

/**
 * Tree-PLRU. Node n (1-based, heap order: children 2n and 2n+1) has bit 0 when the victim
 * lies in its left subtree and 1 when it lies in the right one. Leaves are ways: leaf
 * `size + way`, `size` the number of ways rounded up to a power of two.
 */
export class TreePlruPolicy implements ReplacementPolicy {
  readonly name = 'plru';
  /** Tree bits: set s's node n is `bits[s * size + n]` (n = 1..size-1). */
  readonly bits: Uint8Array;
  /** The number of leaves: `ways` rounded up to a power of two. */
  readonly size: number;
  private readonly levels: number;

  constructor(
    readonly sets: number,
    readonly ways: number,
  ) {
    let size = 1;
    let levels = 0;
    while (size < ways) {
      size <<= 1;
      levels++;
    }
    this.size = size;
    this.levels = levels;
    this.bits = new Uint8Array(sets * size);
  }

  touch(set: number, way: number): void {
    const bits = this.bits;
    const base = set * this.size;
    // Walk up from the leaf; each parent points away from the child we came from.
    let node = this.size + way;
    while (node > 1) {
      const parent = node >> 1;
      bits[base + parent] = (node & 1) ^ 1;
      node = parent;
    }
  }

  fill(set: number, way: number): void {
    this.touch(set, way);
  }

  victim(set: number): number {
    const bits = this.bits;
    const base = set * this.size;
    const size = this.size;
    let node = 1;
    if (size === this.ways) {
      while (node < size) node = 2 * node + bits[base + node]!;
      return node - size;
    }
    // Not a power of two: never descend into a subtree whose first leaf is past the last way.
    for (let depth = 1; depth <= this.levels; depth++) {
      let next = 2 * node + bits[base + node]!;
      if ((next << (this.levels - depth)) - size >= this.ways) next = 2 * node;
      node = next;
    }
    return node - size;
  }

  reset(): void {
    this.bits.fill(0);
  }

  /** Set `set`'s tree bits, node 1 first (for tests and displays). */
  treeBits(set: number): number[] {
    return Array.from(this.bits.subarray(set * this.size + 1, (set + 1) * this.size));
  }
}

/** FIFO: victim = the way filled longest ago; hits change nothing. */
export class FifoPolicy extends OldestStampPolicy {
  readonly name = 'fifo';

  /** A hit does not change the order of eviction. */
  touch(_set: number, _way: number): void {}
}

/**
 * NRU (not recently used): one reference bit per entry. Setting the last clear bit of a set
 * clears all the others, so some way is always a candidate.
 */
export class NruPolicy implements ReplacementPolicy {
  readonly name = 'nru';
  /** Reference bit of each entry. */
  readonly ref: Uint8Array;
  /** Number of set reference bits in each set. */
  private readonly count: Uint8Array;

  constructor(
    readonly sets: number,
    readonly ways: number,
  ) {
    if (ways > 255) throw new RangeError(`NRU policy: ${ways} ways, at most 255 supported`);
    this.ref = new Uint8Array(sets * ways);
    this.count = new Uint8Array(sets);
  }

  touch(set: number, way: number): void {
    const i = set * this.ways + way;
    if (this.ref[i] !== 0) return;
    this.ref[i] = 1;
    if (++this.count[set]! === this.ways) this.clearOthers(set, way);
  }

  fill(set: number, way: number): void {
    this.touch(set, way);
  }

  victim(set: number): number {
    const ways = this.ways;
    const first = set * ways;
    for (let w = 0; w < ways; w++) if (this.ref[first + w] === 0) return w;
    return 0; // one way: its bit is the only one and stays set
  }

  reset(): void {
    this.ref.fill(0);
    this.count.fill(0);
  }

  /** The reference bits of one set, way 0 first. */
  refBits(set: number): number[] {
    return Array.from(this.ref.subarray(set * this.ways, (set + 1) * this.ways));
  }

  private clearOthers(set: number, way: number): void {
    const first = set * this.ways;
    this.ref.fill(0, first, first + this.ways);
    this.ref[first + way] = 1;
    this.count[set] = 1;
  }
}

/** Random: the victim is drawn from a seeded PRNG, uniformly over the ways. */
export class RandomPolicy implements ReplacementPolicy {
  readonly name = 'random';
  private readonly prng: Prng;
  /** ways - 1 when ways is a power of two (then nextInt(ways) is nextU32() & mask), else -1. */
  private readonly mask: number;

  constructor(
    readonly sets: number,
    readonly ways: number,
    seed = 0,
  ) {
    this.prng = new Prng(seed);
    this.mask = (ways & (ways - 1)) === 0 ? ways - 1 : -1;
  }

  touch(_set: number, _way: number): void {}

  fill(_set: number, _way: number): void {}

  victim(_set: number): number {
    return this.mask >= 0 ? this.prng.nextU32() & this.mask : this.prng.nextInt(this.ways);
  }

  reset(): void {}
}

/** The built-in policies by name. */
export const POLICIES: Readonly<Record<PolicyName, PolicyFactory>> = {
  lru: (sets, ways) => new LruPolicy(sets, ways),
  plru: (sets, ways) => new TreePlruPolicy(sets, ways),
  fifo: (sets, ways) => new FifoPolicy(sets, ways),
  nru: (sets, ways) => new NruPolicy(sets, ways),
  random: (sets, ways, seed) => new RandomPolicy(sets, ways, seed),
};

/** Gives a policy factory of your own its type: `definePolicy((sets, ways) => new Mine(…))`. */
export function definePolicy<P extends ReplacementPolicy>(
  factory: (sets: number, ways: number, seed: number) => P,
): (sets: number, ways: number, seed: number) => P {
  return factory;
}

/** The factory for a policy name or a factory (RangeError for an unknown name). */
export function resolvePolicy(policy: PolicyName | PolicyFactory | undefined): PolicyFactory {
  if (policy === undefined) return POLICIES.lru;
  if (typeof policy === 'function') return policy;
  const factory = (POLICIES as Record<string, PolicyFactory | undefined>)[policy];
  if (!factory) {
    throw new RangeError(
      `unknown TLB replacement policy '${String(policy)}' (expected one of ${Object.keys(POLICIES).join(', ')} or a factory)`,
    );
  }
  return factory;
}
