/**
 * TlbHierarchy: L1 misses served by the L2 refill the L1, per-level and per-path counters,
 * inclusive vs non-inclusive L2, the instruction path, flushes reaching every level, flag
 * propagation, and the Skylake-like default.
 */
import type { Tlb } from '@mmsim/core';
import { describe, expect, it } from 'vitest';
import { createTlbHierarchy, SKYLAKE_TLB, type TlbHierarchyOptions } from '../src/index.js';

const K4 = 0x1000;
const M2 = 0x200000;
const G1 = 0x40000000;

/** L1: 2 entries, fully associative; L2: 8 entries, fully associative. */
const SMALL: TlbHierarchyOptions = {
  l1d: { entries: 2 },
  l1i: { entries: 2 },
  l2: { entries: 8 },
};

function fill(t: Tlb, page: number, asid = 1): number {
  return t.insert(page * K4, asid, 0x10000000 + page * K4, 12, 0, false);
}

const held = (t: { entries(): { va: number }[] }) =>
  t
    .entries()
    .map((e) => e.va / K4)
    .sort((a, b) => a - b);

describe('refills and counters', () => {
  it('a fill goes to both levels; an L1 miss that hits the L2 refills the L1', () => {
    const h = createTlbHierarchy(SMALL);
    fill(h, 1);
    fill(h, 2);
    fill(h, 3); // the L1 keeps 2 and 3
    expect(held(h.l1d)).toEqual([2, 3]);
    expect(held(h.l2!)).toEqual([1, 2, 3]);
    const slot = h.lookup(K4 + 5, 1); // L1 miss, L2 hit: page 1 comes back into the L1
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(h.entryPa(slot)).toBe(0x10001000);
    expect(held(h.l1d)).toEqual([1, 3]);
    expect(h.lookup(K4, 1)).toBe(slot); // now an L1 hit
    expect(h.lookup(9 * K4, 1)).toBe(-1); // a miss everywhere: the MMU walks
    expect(h.stats).toEqual({ hits: 2, misses: 1, evictions: 2, flushes: 0 });
    expect(h.levelStats()).toEqual({
      l1d: { hits: 1, misses: 2, evictions: 2, flushes: 0 },
      l1i: { hits: 0, misses: 0, evictions: 0, flushes: 0 },
      l2: { hits: 1, misses: 1, evictions: 0, flushes: 0 },
    });
    h.resetStats();
    expect(h.levelStats().l1d).toEqual({ hits: 0, misses: 0, evictions: 0, flushes: 0 });
    expect(h.stats.hits).toBe(0);
  });

  it('the instruction path has its own L1 and shares the L2 with the data path', () => {
    const h = createTlbHierarchy(SMALL);
    fill(h, 7); // a data access
    const i = h.instruction;
    expect(i.lookup(7 * K4, 1)).toBeGreaterThanOrEqual(0); // iTLB miss, STLB hit
    expect(held(h.l1i!)).toEqual([7]);
    fill(i, 8); // a fetch walk fills the iTLB and the STLB, not the dTLB
    expect(held(h.l1d)).toEqual([7]);
    expect(h.lookup(8 * K4, 1)).toBeGreaterThanOrEqual(0); // dTLB miss, STLB hit
    expect(i.stats).toEqual({ hits: 1, misses: 0, evictions: 0, flushes: 0 });
    expect(h.stats).toEqual({ hits: 1, misses: 0, evictions: 0, flushes: 0 });
    expect(h.levelStats().l2).toEqual({ hits: 2, misses: 0, evictions: 0, flushes: 0 });
  });

  it('without an iTLB, fetches use the dTLB; without an L2, an L1 miss is a miss', () => {
    const h = createTlbHierarchy({ l1d: { entries: 4 } });
    expect(h.instruction).toBe(h);
    expect(h.data).toBe(h);
    expect(h.l2).toBeNull();
    expect(h.lookup(0, 0)).toBe(-1);
    expect(h.stats.misses).toBe(1);
  });
});

describe('inclusion', () => {
  const opts = (inclusive: boolean): TlbHierarchyOptions => ({
    l1d: { entries: 4 },
    l2: { entries: 2 },
    inclusive,
  });

  it('non-inclusive (default): an L2 eviction leaves the L1 copy', () => {
    const h = createTlbHierarchy(opts(false));
    for (const p of [1, 2, 3]) fill(h, p);
    expect(held(h.l2!)).toEqual([2, 3]);
    expect(held(h.l1d)).toEqual([1, 2, 3]);
    expect(h.lookup(K4, 1)).toBeGreaterThanOrEqual(0);
  });

  it('inclusive: an L2 eviction back-invalidates the L1', () => {
    const h = createTlbHierarchy(opts(true));
    for (const p of [1, 2, 3]) fill(h, p);
    expect(held(h.l2!)).toEqual([2, 3]);
    expect(held(h.l1d)).toEqual([2, 3]);
    expect(h.lookup(K4, 1)).toBe(-1);
    expect(h.stats.evictions).toBe(1);
  });
});

describe('flushes and flags', () => {
  it('every flush reaches both L1s and the L2', () => {
    const h = createTlbHierarchy(SMALL);
    fill(h, 1, 1);
    fill(h.instruction, 2, 1);
    fill(h, 3, 2);
    h.flushAsid(1);
    expect([held(h.l1d), held(h.l1i!), held(h.l2!)]).toEqual([[3], [], [3]]);
    h.flushPage(3 * K4, 2);
    expect(h.l2!.occupancy()).toBe(0);
    fill(h, 4, 2);
    h.instruction.flushAll();
    expect(h.l1d.occupancy() + h.l2!.occupancy()).toBe(0);
    expect(h.stats.flushes).toBe(2);
    expect(h.instruction.stats.flushes).toBe(1);
    expect(h.levelStats().l2!.flushes).toBe(3);
  });

  it('setEntryFlags (the MMU setting Dirty) reaches the L2 copy, so a refill keeps it', () => {
    const h = createTlbHierarchy(SMALL);
    const slot = h.insert(5 * K4, 1, 0x5000, 12, 0x1, false);
    h.setEntryFlags(slot, 0x41);
    fill(h, 6);
    fill(h, 7); // page 5 leaves the L1
    const again = h.lookup(5 * K4, 1); // refilled from the L2
    expect(h.entryFlags(again)).toBe(0x41);
    expect(h.entryPageShift(again)).toBe(12);
  });
});

describe('the Skylake-like default', () => {
  it('has the geometry of the Optimization Reference Manual table', () => {
    const h = createTlbHierarchy();
    expect(h.name).toBe('skylake');
    expect(h.inclusive).toBe(false);
    expect(h.l1i!.arrays()).toEqual([
      { entries: 128, sets: 16, ways: 8, pageShifts: [12] },
      { entries: 8, sets: 1, ways: 8, pageShifts: [21] },
    ]);
    expect(h.l1d.arrays()).toEqual([
      { entries: 64, sets: 16, ways: 4, pageShifts: [12] },
      { entries: 32, sets: 8, ways: 4, pageShifts: [21] },
      { entries: 4, sets: 1, ways: 4, pageShifts: [30] },
    ]);
    expect(h.l2!.arrays()).toEqual([
      { entries: 1536, sets: 128, ways: 12, pageShifts: [12, 21] },
      { entries: 16, sets: 4, ways: 4, pageShifts: [30] },
    ]);
    expect(h.tlbs.map((t) => t.name)).toEqual(['dTLB', 'iTLB', 'STLB']);
  });

  it('a 1G page: the dTLB and STLB cache it whole, the iTLB as a 2M fragment', () => {
    const h = createTlbHierarchy();
    h.insert(G1 + 0x1234, 0, 4 * G1, 30, 0, true);
    const d = h.lookup(G1 + 0x3fffffff, 7);
    expect(h.entryPageShift(d)).toBe(30);
    const i = h.instruction.lookup(G1 + 3 * M2 + 0x40, 7);
    expect(h.instruction.entryPageShift(i)).toBe(21);
    expect(h.instruction.entryPa(i)).toBe(4 * G1 + 3 * M2);
  });

  it('a 64-page 4K sweep stays in the dTLB; a 1536-page sweep needs the STLB', () => {
    const h = createTlbHierarchy();
    for (let p = 0; p < 64; p++) fill(h, p);
    for (let p = 0; p < 64; p++) h.lookup(p * K4, 1);
    expect(h.levelStats().l1d).toEqual({ hits: 64, misses: 0, evictions: 0, flushes: 0 });
    h.flushAll();
    h.resetStats();
    for (let p = 0; p < 1536; p++) fill(h, 1000 + p);
    for (let p = 0; p < 1536; p++) h.lookup((1000 + p) * K4, 1);
    const s = h.levelStats();
    expect(s.l2).toEqual({ hits: 1536, misses: 0, evictions: 0, flushes: 0 });
    expect(s.l1d!.misses).toBe(1536);
    expect(h.stats).toEqual({ hits: 1536, misses: 0, evictions: 1472 + 1536, flushes: 0 });
  });

  it('SKYLAKE_TLB can be varied: another policy for every level', () => {
    const h = createTlbHierarchy({ ...SKYLAKE_TLB, policy: 'plru' });
    expect(h.tlbs.map((t) => t.policy().name)).toEqual(['plru', 'plru', 'plru']);
    expect(() => createTlbHierarchy({} as TlbHierarchyOptions)).toThrow(TypeError);
    expect(() =>
      createTlbHierarchy({ l1d: { entries: 4, pageShift: 21 }, l2: { entries: 8, pageShift: 12 } }),
    ).toThrow('TLB hierarchy tlb-hierarchy: dTLB cannot hold page shift 12, which STLB caches');
  });
});
