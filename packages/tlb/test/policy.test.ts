/**
 * Replacement policies: the exact victim of each miss on small examples, with the policies'
 * own state (tree bits, reference bits) checked after each step where it matters.
 */
import { Prng } from '@mmsim/core';
import { describe, expect, it } from 'vitest';
import {
  createTlb,
  definePolicy,
  type NruPolicy,
  type PolicyName,
  type ReplacementPolicy,
  type SetAssocTlb,
  TreePlruPolicy,
} from '../src/index.js';

const PAGE = 4096;

/** Access page numbers in ASID 1: 'hit', 'miss' or 'miss, evict P' for each. */
function run(t: SetAssocTlb, pages: number[]): string[] {
  return pages.map((p) => access(t, p));
}

function access(t: SetAssocTlb, page: number): string {
  if (t.lookup(page * PAGE, 1) >= 0) return 'hit';
  const before = new Map(t.entries().map((e) => [e.slot, e.va / PAGE]));
  const slot = t.insert(page * PAGE, 1, page * PAGE, 12, 0, false);
  const evicted = before.get(slot);
  return evicted === undefined ? 'miss' : `miss, evict ${evicted}`;
}

/** One fully associative set of `ways` entries. */
function oneSet(policy: PolicyName, ways: number, seed = 0): SetAssocTlb {
  return createTlb({ entries: ways, ways, policy, seed });
}

describe('LRU', () => {
  it('evicts the least recently used way; hits refresh', () => {
    const t = oneSet('lru', 4);
    expect(run(t, [0, 1, 2, 3, 0, 4, 5, 0, 6, 1])).toEqual([
      'miss',
      'miss',
      'miss',
      'miss',
      'hit',
      'miss, evict 1',
      'miss, evict 2',
      'hit',
      'miss, evict 3',
      'miss, evict 4',
    ]);
    expect(t.stats).toEqual({ hits: 2, misses: 8, evictions: 4, flushes: 0 });
  });

  it('a cyclic sweep one page larger than the TLB misses every time', () => {
    const t = oneSet('lru', 4);
    const pages = Array.from({ length: 20 }, (_, i) => i % 5);
    run(t, pages);
    expect(t.stats).toEqual({ hits: 0, misses: 20, evictions: 16, flushes: 0 });
  });
});

describe('tree-PLRU', () => {
  it('4 ways: the bits after each fill and hit, and a victim LRU would not choose', () => {
    const t = oneSet('plru', 4);
    const p = t.policy() as TreePlruPolicy;
    const bits: number[][] = [];
    for (const page of [0, 1, 2, 3]) {
      access(t, page);
      bits.push(p.treeBits(0));
    }
    // Node 1 is the root, 2 and 3 its children; a bit points at the half holding the victim.
    expect(bits).toEqual([
      [1, 1, 0], // way 0 used: root points right, node 2 points at way 1
      [1, 0, 0], // way 1 used: node 2 points at way 0
      [0, 0, 1], // way 2 used: root points left, node 3 at way 3
      [0, 0, 0], // way 3 used: node 3 points at way 2
    ]);
    expect(access(t, 0)).toBe('hit');
    expect(p.treeBits(0)).toEqual([1, 1, 0]);
    // LRU would evict page 1 here; the tree's right half was used longer ago as a whole.
    expect(access(t, 4)).toBe('miss, evict 2');
    expect(p.treeBits(0)).toEqual([0, 1, 1]);
    expect(access(t, 5)).toBe('miss, evict 1');
    expect(p.treeBits(0)).toEqual([1, 0, 1]);
    expect(access(t, 0)).toBe('hit');
    expect(p.treeBits(0)).toEqual([1, 1, 1]);
    expect(access(t, 6)).toBe('miss, evict 3');
    expect(p.treeBits(0)).toEqual([0, 1, 0]);
  });

  it('8 ways: seven bits per set, victims follow them', () => {
    const t = oneSet('plru', 8);
    const p = t.policy() as TreePlruPolicy;
    const bits: number[][] = [];
    for (let page = 0; page < 8; page++) {
      access(t, page);
      bits.push(p.treeBits(0));
    }
    expect(bits).toEqual([
      [1, 1, 0, 1, 0, 0, 0],
      [1, 1, 0, 0, 0, 0, 0],
      [1, 0, 0, 0, 1, 0, 0],
      [1, 0, 0, 0, 0, 0, 0],
      [0, 0, 1, 0, 0, 1, 0],
      [0, 0, 1, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 1],
      [0, 0, 0, 0, 0, 0, 0],
    ]);
    expect(run(t, [0, 5])).toEqual(['hit', 'hit']);
    expect(p.treeBits(0)).toEqual([0, 1, 1, 1, 0, 0, 0]);
    // True LRU would evict pages 1 then 2.
    expect(access(t, 8)).toBe('miss, evict 2');
    expect(p.treeBits(0)).toEqual([1, 0, 1, 1, 1, 0, 0]);
    expect(access(t, 9)).toBe('miss, evict 6');
  });

  it('12 ways (not a power of two): victims are always real ways, every way gets used', () => {
    const p = new TreePlruPolicy(1, 12);
    const seen = new Set<number>();
    for (let i = 0; i < 48; i++) {
      const v = p.victim(0);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(12);
      seen.add(v);
      p.fill(0, v);
    }
    expect(seen.size).toBe(12);
    const t = createTlb({ entries: 1536, ways: 12, policy: 'plru' });
    expect(t.arrays()).toEqual([{ entries: 1536, sets: 128, ways: 12, pageShifts: [12] }]);
  });
});

describe('FIFO', () => {
  it('evicts in fill order and ignores hits', () => {
    const t = oneSet('fifo', 4);
    expect(run(t, [0, 1, 2, 3, 0, 4, 5, 0, 6, 1])).toEqual([
      'miss',
      'miss',
      'miss',
      'miss',
      'hit', // does not save page 0
      'miss, evict 0',
      'miss, evict 1',
      'miss, evict 2', // page 0 is gone; its refill replaces the oldest, page 2
      'miss, evict 3',
      'miss, evict 4',
    ]);
  });
});

describe('NRU', () => {
  it('sets a reference bit per access and clears the others when all are set', () => {
    const t = oneSet('nru', 4);
    const p = t.policy() as NruPolicy;
    run(t, [0, 1, 2]);
    expect(p.refBits(0)).toEqual([1, 1, 1, 0]);
    access(t, 3); // the last clear bit: the others are cleared
    expect(p.refBits(0)).toEqual([0, 0, 0, 1]);
    expect(access(t, 0)).toBe('hit');
    expect(p.refBits(0)).toEqual([1, 0, 0, 1]);
    expect(access(t, 4)).toBe('miss, evict 1'); // lowest way with a clear bit
    expect(p.refBits(0)).toEqual([1, 1, 0, 1]);
    expect(access(t, 5)).toBe('miss, evict 2');
    expect(p.refBits(0)).toEqual([0, 0, 1, 0]);
    expect(access(t, 6)).toBe('miss, evict 0');
    expect(p.refBits(0)).toEqual([1, 0, 1, 0]);
    expect(access(t, 3)).toBe('hit');
    expect(p.refBits(0)).toEqual([1, 0, 1, 1]);
    expect(access(t, 7)).toBe('miss, evict 4');
    expect(p.refBits(0)).toEqual([0, 1, 0, 0]);
  });
});

describe('random', () => {
  /** The ways replaced by 40 misses over 12 pages cycling through a 4-way set. */
  function victims(seed: number): number[] {
    const t = oneSet('random', 4, seed);
    const out: number[] = [];
    for (let i = 0; i < 44; i++) {
      const page = i % 12;
      if (t.lookup(page * PAGE, 1) >= 0) continue;
      const slot = t.insert(page * PAGE, 1, 0, 12, 0, false);
      if (i >= 4) out.push(slot);
    }
    return out;
  }

  it('draws each victim uniformly from the seeded PRNG', () => {
    const v = victims(42);
    const prng = new Prng(42);
    expect(v).toEqual(v.map(() => prng.nextInt(4)));
    expect(new Set(v)).toEqual(new Set([0, 1, 2, 3]));
  });

  it('is reproducible from the seed, and another seed gives another sequence', () => {
    expect(victims(7)).toEqual(victims(7));
    expect(victims(7)).not.toEqual(victims(8));
  });

  it('array k of a TLB uses seed + k', () => {
    const t = createTlb({
      policy: 'random',
      seed: 5,
      arrays: [
        { entries: 2, pageShift: 12 },
        { entries: 2, pageShift: 21 },
      ],
    });
    const a0 = t.policy(0);
    const a1 = t.policy(1);
    const r0 = new Prng(5);
    const r1 = new Prng(6);
    expect([a0.victim(0), a0.victim(0), a0.victim(0)]).toEqual([
      r0.nextInt(2),
      r0.nextInt(2),
      r0.nextInt(2),
    ]);
    expect([a1.victim(0), a1.victim(0), a1.victim(0)]).toEqual([
      r1.nextInt(2),
      r1.nextInt(2),
      r1.nextInt(2),
    ]);
  });
});

describe('a policy of your own', () => {
  it('plugs in through a factory: most-recently-used replacement', () => {
    class MruPolicy implements ReplacementPolicy {
      readonly name = 'mru';
      private readonly last: Int32Array;
      constructor(sets: number) {
        this.last = new Int32Array(sets);
      }
      touch(set: number, way: number): void {
        this.last[set] = way;
      }
      fill(set: number, way: number): void {
        this.last[set] = way;
      }
      victim(set: number): number {
        return this.last[set]!;
      }
      reset(): void {
        this.last.fill(0);
      }
    }
    const mru = definePolicy((sets) => new MruPolicy(sets));
    const t = createTlb({ entries: 4, policy: mru });
    expect(t.policy().name).toBe('mru');
    expect(run(t, [0, 1, 2, 3, 1, 4, 5, 0])).toEqual([
      'miss',
      'miss',
      'miss',
      'miss',
      'hit',
      'miss, evict 1',
      'miss, evict 4',
      'hit',
    ]);
  });

  it('rejects an unknown policy name and a factory that returns no policy', () => {
    expect(() => createTlb({ policy: 'clock' as PolicyName })).toThrow(
      "unknown TLB replacement policy 'clock' (expected one of lru, plru, fifo, nru, random or a factory)",
    );
    expect(() => createTlb({ policy: () => ({}) as ReplacementPolicy })).toThrow(TypeError);
  });

  it('a direct-mapped TLB behaves the same under every policy', () => {
    const pages = [0, 8, 0, 8, 1, 9, 1, 2, 3, 2, 17, 1];
    const results = (['lru', 'plru', 'fifo', 'nru', 'random'] as const).map((policy) => {
      const t = createTlb({ entries: 8, ways: 1, policy });
      return [run(t, pages), t.stats];
    });
    for (const r of results) expect(r).toEqual(results[0]);
    expect(results[0]![1]).toEqual({ hits: 1, misses: 11, evictions: 7, flushes: 0 });
  });
});
