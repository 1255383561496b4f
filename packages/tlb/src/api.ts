/**
 * The types of @mmsim/tlb: the geometry of a TLB (entries, ways, page sizes, split or unified
 * arrays), the replacement-policy interface a user can implement, and the options of a TLB
 * hierarchy. The `Tlb` interface itself lives in @mmsim/core (the MMU drives a TLB through it).
 *
 * Sources: Intel SDM vol. 3A §4.10 "Caching translation information" (TLBs, PCIDs, global
 * pages, INVLPG/INVPCID); the RISC-V privileged spec, "Supervisor Memory-Management Fence
 * Instruction" (sfence.vma by address and ASID); CS:APP 3e §6.4 and its cache lab (the
 * sets/ways/block-bits vocabulary used here for a TLB too).
 */

/** The replacement policies this package provides. */
export type PolicyName = 'lru' | 'plru' | 'fifo' | 'nru' | 'random';

/**
 * A replacement policy for one set-associative array of `sets` x `ways` entries.
 *
 * The TLB keeps one policy instance per array, and calls it only with numbers:
 * - `touch(set, way)` on every lookup hit;
 * - `fill(set, way)` after writing an entry into a way (a miss being filled);
 * - `victim(set)` when a set has no invalid way left, to choose the way to replace;
 * - `reset()` when the whole TLB is flushed.
 *
 * Invalid ways are always filled first, lowest way first, as hardware does; a policy only
 * chooses among valid ways. Keep the state in typed arrays and the methods small: `touch` runs
 * on every TLB hit.
 */
export interface ReplacementPolicy {
  /** 'lru', 'plru', … or your own. */
  readonly name: string;
  touch(set: number, way: number): void;
  fill(set: number, way: number): void;
  victim(set: number): number;
  reset(): void;
}

/**
 * Makes a policy for an array of `sets` x `ways` entries. `seed` is the TLB's seed (plus the
 * array's index), for policies that draw random numbers.
 */
export type PolicyFactory = (sets: number, ways: number, seed: number) => ReplacementPolicy;

/** The geometry of one array of a TLB. */
export interface TlbArrayOptions {
  /**
   * Number of entries: `sets * ways`, with `sets` a power of two.
   * @defaultValue 64
   */
  entries?: number;
  /**
   * Associativity: 1 = direct-mapped, `entries` = fully associative.
   * @defaultValue entries (fully associative)
   */
  ways?: number;
  /**
   * log2 of the page size this array caches, 0..30 (12 = 4 KiB, 21 = 2 MiB, 30 = 1 GiB; as a
   * data-cache model, the block bits `b`). Ignored when `pageShifts` is given.
   * @defaultValue 12
   */
  pageShift?: number;
  /**
   * Several page sizes in one unified array (as Skylake's STLB holds 4K and 2M entries): a
   * lookup probes the set of each size in turn (ascending), a tag matches only its own size.
   */
  pageShifts?: readonly number[];
}

/** Options of `createTlb()`: one TLB made of one array, or of several split arrays. */
export interface TlbOptions extends TlbArrayOptions {
  /**
   * The TLB's name (`Tlb.name`).
   * @defaultValue 'tlb'
   */
  name?: string;
  /**
   * Split arrays, one per page size or group of sizes (Skylake's L1 dTLB: 4K, 2M and 1G
   * arrays). When given, `entries`/`ways`/`pageShift`/`pageShifts` of the options themselves
   * are ignored. Lookups probe the arrays in this order; page sizes must not repeat.
   */
  arrays?: readonly TlbArrayOptions[];
  /**
   * Replacement policy, by name or as a factory of your own.
   * @defaultValue 'lru'
   */
  policy?: PolicyName | PolicyFactory;
  /**
   * Seed for the random policy (array k uses seed + k): the same seed gives the same victims.
   * @defaultValue 0
   */
  seed?: number;
}

/**
 * Options of `createTlbHierarchy()`: private L1 TLBs for data and (optionally) instructions,
 * and an optional shared second level, each an ordinary TLB built from `TlbOptions`.
 */
export interface TlbHierarchyOptions {
  /** @defaultValue 'tlb-hierarchy' */
  name?: string;
  /** The L1 data TLB: the level the hierarchy's own `Tlb` methods drive. */
  l1d: TlbOptions;
  /**
   * The L1 instruction TLB, driven through `hierarchy.instruction`. Without one, instruction
   * fetches use the L1 dTLB (a unified L1).
   * @defaultValue null
   */
  l1i?: TlbOptions | null;
  /**
   * The second-level TLB (Intel's STLB), shared by both L1s; null for a single level.
   * @defaultValue null
   */
  l2?: TlbOptions | null;
  /**
   * Inclusive L2: an entry evicted from the L2 is also removed from the L1s (back-invalidation).
   * Off (the default, "non-inclusive non-exclusive"): fills go into both levels and each level
   * replaces on its own, which is what the Intel SDM allows (§4.10.3: the processor may cache
   * a translation in any of its TLBs independently) and what Intel's STLB is usually described as.
   * @defaultValue false
   */
  inclusive?: boolean;
  /**
   * A policy for every level that does not name its own.
   * @defaultValue 'lru'
   */
  policy?: PolicyName | PolicyFactory;
  /** @defaultValue 0 */
  seed?: number;
}

/** One entry, as `SetAssocTlb.entries()` reports it (cold path, for tests and displays). */
export interface TlbEntry {
  slot: number;
  /** The virtual base address of the page. */
  va: number;
  pa: number;
  pageShift: number;
  asid: number;
  global: boolean;
  flags: number;
}
