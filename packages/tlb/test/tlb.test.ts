/**
 * SetAssocTlb: organisation (sets, ways, the two extremes), ASID/PCID tags and global
 * entries, the flush operations as the SDM and sfence.vma define them, page sizes in split
 * and unified arrays, splintering, and argument checking.
 */
import { defineTlb, type Tlb } from '@mmsim/core';
import { describe, expect, it } from 'vitest';
import { createTlb, createTlbHierarchy, SetAssocTlb } from '../src/index.js';

const K4 = 0x1000;
const M2 = 0x200000;
const G1 = 0x40000000;

/** Fill a 4K page of `asid` mapped to pa = page * 4K + 0x10000000. */
function fill(t: Tlb, page: number, asid = 1, global = false): number {
  return t.insert(page * K4, asid, 0x10000000 + page * K4, 12, 0, global);
}

/** The pages (4K page numbers) a TLB holds, sorted. */
function pages(t: SetAssocTlb): number[] {
  return t
    .entries()
    .map((e) => e.va / K4)
    .sort((a, b) => a - b);
}

describe('organisation', () => {
  it('defaults to 64 entries, fully associative, 4 KiB pages, LRU', () => {
    const t = createTlb();
    expect(t.name).toBe('tlb');
    expect(t.size).toBe(64);
    expect(t.arrays()).toEqual([{ entries: 64, sets: 1, ways: 64, pageShifts: [12] }]);
    expect(t.policy().name).toBe('lru');
  });

  it('places a page in set vpn mod sets: a 16-set 4-way TLB holds 4 pages per set', () => {
    const t = createTlb({ entries: 64, ways: 4 });
    // Pages 0, 16, 32, 48, 64 share set 0: the fifth evicts the first.
    for (const p of [0, 16, 32, 48]) fill(t, p);
    expect(t.entries().map((e) => e.slot)).toEqual([0, 1, 2, 3]);
    fill(t, 5); // set 5: slots 20..23
    expect(t.lookup(5 * K4, 1)).toBe(20);
    fill(t, 64);
    expect(pages(t)).toEqual([5, 16, 32, 48, 64]);
    expect(t.stats.evictions).toBe(1);
  });

  it('direct-mapped: two pages that share a set evict each other every time', () => {
    const t = createTlb({ entries: 8, ways: 1 });
    for (let i = 0; i < 6; i++) {
      const page = i % 2 ? 8 : 0;
      if (t.lookup(page * K4, 1) < 0) fill(t, page);
    }
    expect(t.stats).toEqual({ hits: 0, misses: 6, evictions: 5, flushes: 0 });
    // …while eight consecutive pages fit exactly.
    const u = createTlb({ entries: 8, ways: 1 });
    for (let p = 0; p < 8; p++) fill(u, p);
    for (let p = 0; p < 8; p++) expect(u.lookup(p * K4, 1)).toBe(p);
  });

  it('fully associative: any 8 pages fit in 8 entries, wherever they are', () => {
    const t = createTlb({ entries: 8 });
    const scattered = [0, 8, 16, 1 << 20, 7, 0x7ffffffff, 3, 12345];
    for (const p of scattered) fill(t, p);
    for (const p of scattered) expect(t.lookup(p * K4, 1)).toBeGreaterThanOrEqual(0);
    expect(t.stats).toEqual({ hits: 8, misses: 0, evictions: 0, flushes: 0 });
  });

  it('tags full 48-bit virtual addresses (VPNs beyond 2^32)', () => {
    const t = createTlb({ entries: 64, ways: 4 });
    const va = 0x7fff_ffff_f000;
    t.insert(va, 1, 0x1234000, 12, 7, false);
    const lowAlias = va % 2 ** 32; // the same low 32 bits
    expect(t.lookup(lowAlias, 1)).toBe(-1);
    const slot = t.lookup(va + 0xabc, 1);
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(t.entryPa(slot)).toBe(0x1234000);
    expect(t.entryFlags(slot)).toBe(7);
    expect(t.entryVa(slot)).toBe(va);
    expect(t.entryPageShift(slot)).toBe(12);
  });

  it('any page shift 0..30: shift 0 caches single bytes, shift 30 gigabytes', () => {
    const bytes = createTlb({ entries: 4, pageShift: 0 });
    bytes.insert(100, 0, 5, 0, 0, false);
    expect(bytes.lookup(100, 0)).toBe(0);
    expect(bytes.lookup(101, 0)).toBe(-1);
    const huge = createTlb({ entries: 4, pageShift: 30 });
    huge.insert(3 * G1 + 5, 0, 7 * G1, 30, 0, false);
    expect(huge.entryPa(huge.lookup(4 * G1 - 1, 0))).toBe(7 * G1);
  });

  it('setEntryFlags updates the cached flags; a refill of the same page replaces in place', () => {
    const t = createTlb({ entries: 4 });
    const slot = t.insert(0x5000, 1, 0x9000, 12, 0x1, false);
    t.setEntryFlags(slot, 0x41);
    expect(t.entryFlags(t.lookup(0x5000, 1))).toBe(0x41);
    expect(t.insert(0x5fff, 1, 0xa000, 12, 0x3, false)).toBe(slot);
    expect(t.occupancy()).toBe(1);
    expect(t.entryPa(slot)).toBe(0xa000);
    expect(t.stats.evictions).toBe(0);
  });
});

describe('ASID / PCID tags and global entries', () => {
  it('the same VA in two address spaces is two entries', () => {
    const t = createTlb({ entries: 8 });
    t.insert(0x400000, 1, 0xa000, 12, 0, false);
    t.insert(0x400000, 2, 0xb000, 12, 0, false);
    expect(t.occupancy()).toBe(2);
    expect(t.entryPa(t.lookup(0x400123, 1))).toBe(0xa000);
    expect(t.entryPa(t.lookup(0x400123, 2))).toBe(0xb000);
    expect(t.lookup(0x400123, 3)).toBe(-1);
    expect(t.stats).toEqual({ hits: 2, misses: 1, evictions: 0, flushes: 0 });
  });

  it('a global entry hits from any ASID', () => {
    const t = createTlb({ entries: 8 });
    const slot = t.insert(0xffff_8880_0000_0000 % 2 ** 48, 1, 0x0, 12, 0, true);
    for (const asid of [0, 1, 2, 4095]) expect(t.lookup(0x8880_0000_0123, asid)).toBe(slot);
    expect(t.entryGlobal(slot)).toBe(true);
  });

  it('a global fill replaces the per-ASID entries of the same page', () => {
    const t = createTlb({ entries: 8 });
    fill(t, 9, 1);
    fill(t, 9, 2);
    fill(t, 9, 3, true);
    expect(t.occupancy()).toBe(1);
    expect(t.entries()[0]).toMatchObject({ va: 9 * K4, global: true });
  });
});

describe('flushes', () => {
  /** asid 1: pages 1..4; asid 2: pages 1, 2; global: pages 100, 101 (inserted from asid 1). */
  function populated(): SetAssocTlb {
    const t = createTlb({ entries: 64, ways: 4 });
    for (const p of [1, 2, 3, 4]) fill(t, p, 1);
    for (const p of [1, 2]) fill(t, p, 2);
    for (const p of [100, 101]) fill(t, p, 1, true);
    return t;
  }
  const held = (t: SetAssocTlb) =>
    t
      .entries()
      .map((e) => `${e.global ? 'g' : e.asid}:${e.va / K4}`)
      .sort();

  it('flushAll drops everything', () => {
    const t = populated();
    t.flushAll();
    expect(t.occupancy()).toBe(0);
    expect(t.stats.flushes).toBe(1);
  });

  it('flushNonGlobal (CR3 write without PCID) keeps only global entries', () => {
    const t = populated();
    t.flushNonGlobal();
    expect(held(t)).toEqual(['g:100', 'g:101']);
  });

  it('flushAsid (INVPCID single-context, sfence.vma x0, asid) keeps other ASIDs and globals', () => {
    const t = populated();
    t.flushAsid(1);
    expect(held(t)).toEqual(['2:1', '2:2', 'g:100', 'g:101']);
  });

  it('flushPage (INVLPG) drops the page in that ASID and a global entry, not other ASIDs', () => {
    const t = populated();
    t.flushPage(0x1fff, 1);
    t.flushPage(100 * K4 + 8, 2);
    expect(held(t)).toEqual(['1:2', '1:3', '1:4', '2:1', '2:2', 'g:101']);
    expect(t.stats.flushes).toBe(2);
  });

  it('flushRange drops every page overlapping [start, end)', () => {
    const t = populated();
    t.flushRange(2 * K4 + 1, 4 * K4, 1); // pages 2 and 3
    expect(held(t)).toEqual(['1:1', '1:4', '2:1', '2:2', 'g:100', 'g:101']);
    t.flushRange(0, 1000 * K4, 2); // more pages than sets: scans the array
    expect(held(t)).toEqual(['1:1', '1:4']);
    t.flushRange(5 * K4, 5 * K4, 1); // empty: nothing, still counted
    expect(t.occupancy()).toBe(2);
    expect(t.stats.flushes).toBe(3);
  });
});

describe('page sizes', () => {
  it('a 2M entry covers its 512 4K pages', () => {
    const t = createTlb({ entries: 16, ways: 4, pageShifts: [12, 21] });
    const slot = t.insert(G1 + 0x1234, 1, 0x80000000, 21, 0, false);
    for (let k = 0; k < 512; k++) expect(t.lookup(G1 + k * K4 + 0x10, 1)).toBe(slot);
    expect(t.entryPageShift(slot)).toBe(21);
    expect(t.entryPa(slot)).toBe(0x80000000);
    expect(t.entryVa(slot)).toBe(G1);
    expect(t.lookup(G1 + M2, 1)).toBe(-1);
    expect(t.lookup(G1 - 1, 1)).toBe(-1);
    expect(t.stats).toEqual({ hits: 512, misses: 2, evictions: 0, flushes: 0 });
  });

  it('split arrays keep the sizes apart; a unified array lets them compete', () => {
    const split = createTlb({
      arrays: [
        { entries: 4, pageShift: 12 },
        { entries: 2, pageShift: 21 },
      ],
    });
    const unified = createTlb({ entries: 6, pageShifts: [12, 21] });
    for (const t of [split, unified]) {
      for (let p = 0; p < 4; p++) fill(t, p);
      for (let h = 1; h <= 4; h++) t.insert(h * M2, 1, h * M2, 21, 0, false);
    }
    // Split: the four 4K pages stay, the 2M array holds the last two huge pages.
    expect(split.entries().map((e) => [e.va, e.pageShift])).toEqual([
      [0, 12],
      [K4, 12],
      [2 * K4, 12],
      [3 * K4, 12],
      [3 * M2, 21],
      [4 * M2, 21],
    ]);
    // Unified: the huge pages pushed out the two least recently used 4K pages.
    expect(unified.entries().map((e) => [e.va, e.pageShift])).toEqual([
      [3 * M2, 21],
      [4 * M2, 21],
      [2 * K4, 12],
      [3 * K4, 12],
      [M2, 21],
      [2 * M2, 21],
    ]);
    expect(split.stats.evictions).toBe(2);
    expect(unified.stats.evictions).toBe(2);
  });

  it('Skylake-like split L1: 4K 64x4-way, 2M 32x4-way, 1G 4 entries', () => {
    const t = createTlb({
      arrays: [
        { entries: 64, ways: 4, pageShift: 12 },
        { entries: 32, ways: 4, pageShift: 21 },
        { entries: 4, ways: 4, pageShift: 30 },
      ],
    });
    t.insert(5 * K4, 1, 0xa000, 12, 0, false);
    t.insert(3 * M2, 1, 0x400000, 21, 0, false);
    t.insert(2 * G1, 1, 0x80000000, 30, 0, false);
    expect(t.lookup(5 * K4, 1)).toBe((5 % 16) * 4);
    expect(t.lookup(3 * M2 + 77, 1)).toBe(64 + (3 % 8) * 4);
    expect(t.lookup(2 * G1 + 12345678, 1)).toBe(96);
    expect(t.pageShifts()).toEqual([12, 21, 30]);
  });

  it('INVLPG of any address in a large page drops it; flushRange across it too', () => {
    const t = createTlb({ entries: 16, pageShifts: [12, 21] });
    t.insert(M2, 1, 0, 21, 0, false);
    t.insert(0x1000, 1, 0, 12, 0, false);
    t.flushPage(M2 + 0x1ff000, 1);
    expect(t.entries().map((e) => e.va)).toEqual([0x1000]);
    t.insert(M2, 1, 0, 21, 0, false);
    t.flushRange(M2 - K4, M2 + K4, 1); // the 4K page at 0x1000 is outside the range
    expect(t.entries().map((e) => e.va)).toEqual([0x1000]);
  });

  it('splinters a page larger than every array into a fragment of the largest size that fits', () => {
    const t = createTlb({
      arrays: [
        { entries: 4, pageShift: 12 },
        { entries: 4, pageShift: 21 },
      ],
    });
    const slot = t.insert(G1 + 0x345678, 1, 0x100000000, 30, 0, false);
    expect(t.entryPageShift(slot)).toBe(21);
    expect(t.entryVa(slot)).toBe(G1 + M2);
    expect(t.entryPa(slot)).toBe(0x100000000 + M2);
    expect(t.lookup(G1 + M2, 1)).toBe(slot);
    expect(t.lookup(G1 + 2 * M2, 1)).toBe(-1);
    expect(t.canCache(30)).toBe(true);
    expect(t.canCache(11)).toBe(false);
  });
});

describe('argument checks', () => {
  it('rejects geometries hardware cannot have', () => {
    expect(() => createTlb({ entries: 0 })).toThrow(
      'TLB tlb: entries 0, expected a positive integer',
    );
    expect(() => createTlb({ entries: 64, ways: 3 })).toThrow(
      'TLB tlb: ways 3, expected a positive integer dividing entries (64)',
    );
    expect(() => createTlb({ entries: 24, ways: 2 })).toThrow(
      'TLB tlb: 24 entries / 2 ways = 12 sets, expected a power of two',
    );
    expect(() => createTlb({ pageShift: 31 })).toThrow(
      'TLB tlb: page shift 31, expected an integer 0..30',
    );
    expect(() =>
      createTlb({
        name: 'x',
        arrays: [
          { entries: 4, pageShift: 12 },
          { entries: 4, pageShifts: [21, 12] },
        ],
      }),
    ).toThrow('TLB x: page shift 12 is in two arrays');
  });

  it('rejects a page smaller than every array', () => {
    const t = createTlb({ entries: 4, pageShift: 21 });
    expect(() => t.insert(0, 0, 0, 12, 0, false)).toThrow(
      'TLB tlb: cannot cache a page of shift 12 (sizes: 21)',
    );
    expect(() => t.insert(0, 0, 0, 40, 0, false)).toThrow(RangeError);
  });
});

describe('the core Tlb interface', () => {
  it('createTlb is a defineTlb factory and its TLBs are Tlbs', () => {
    const factory = defineTlb(createTlb);
    const t: Tlb = factory({ entries: 16, ways: 4, name: 'dtlb' });
    expect(t).toBeInstanceOf(SetAssocTlb);
    expect(t.name).toBe('dtlb');
    t.insert(0x1000, 0, 0x2000, 12, 0, false);
    expect(t.lookup(0x1000, 0)).toBe(4);
    t.resetStats();
    expect(t.stats).toEqual({ hits: 0, misses: 0, evictions: 0, flushes: 0 });
  });

  it('a lookup allocates nothing and a slot stays valid until the next fill or flush', () => {
    const t = createTlb({ entries: 2 });
    const a = fill(t, 1);
    fill(t, 2);
    expect(t.lookup(K4, 1)).toBe(a);
    expect(t.probe(K4, 1)).toBe(a);
    expect(t.stats.hits).toBe(1); // probe() counts nothing
    fill(t, 3); // evicts page 2 (LRU), slot a still holds page 1
    expect(t.entryVa(a)).toBe(K4);
  });
});

describe('translate(): the MMU hit path in one call', () => {
  it('returns pa + offset on a hit, -1 on a miss, -2 with lastSlot when a flag is missing', () => {
    for (const tlb of [
      createTlb({ entries: 16, ways: 4 }),
      createTlb({ entries: 16, pageShifts: [12, 21] }),
      createTlbHierarchy(),
    ] as Tlb[]) {
      const slot = tlb.insert(0x7f00_0000_1000, 3, 0x4000_0000, 12, 0b0101, false);
      expect(tlb.translate(0x7f00_0000_1234, 3, 0b0001)).toBe(0x4000_0234);
      expect(tlb.translate(0x7f00_0000_1234, 3, 0b0101)).toBe(0x4000_0234);
      expect(tlb.translate(0x7f00_0000_1234, 4, 0b0001)).toBe(-1); // another ASID
      expect(tlb.translate(0x7f00_0000_2000, 3, 0b0001)).toBe(-1);
      expect(tlb.translate(0x7f00_0000_1fff, 3, 0b0010)).toBe(-2);
      expect(tlb.entryPa(tlb.lastSlot)).toBe(0x4000_0000);
      if (tlb instanceof SetAssocTlb) expect(tlb.lastSlot).toBe(slot);
      // Counted as lookups: 3 hits (the -2 hit included) and 2 misses.
      expect([tlb.stats.hits, tlb.stats.misses]).toEqual([3, 2]);
      // A global 2 MiB page: the offset is the low 21 bits where 2 MiB entries exist; a
      // 4K-only TLB caches the 4 KiB fragment that holds the address (splintering).
      tlb.insert(0x7f00_005f_f000, 3, 0x8000_0000, 21, 1, true);
      expect(tlb.translate(0x7f00_005f_ffff, 9, 1)).toBe(0x801f_ffff);
      const holds2M = !(tlb instanceof SetAssocTlb) || tlb.pageShifts().includes(21);
      expect(tlb.translate(0x7f00_0040_0123, 9, 1)).toBe(holds2M ? 0x8000_0123 : -1);
    }
  });
});
