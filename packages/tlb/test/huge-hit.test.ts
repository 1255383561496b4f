/**
 * A lookup checks the last huge-page slot it found (arrays after the first) before searching:
 * it must answer what the full search answers. Random inserts, lookups and flushes over 4 KiB,
 * 2 MiB and 1 GiB pages (each address mapped at one size, as consistent page tables map it),
 * with probe() — the search without the shortcut — asked first each time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTlb, createTlbHierarchy, SKYLAKE_TLB } from '../src/index.js';

const G = 2 ** 30;
const M2 = 2 ** 21;
const BASE = 0x7f00_0000_0000;

// Each 1 GiB region has one page size: region r uses size r % 3 (4K, 2M, 1G).
const SHIFTS = [12, 21, 30] as const;
const addr = (region: number, page: number, offset: number) => {
  const s = SHIFTS[region % 3]!;
  const pages = G / 2 ** s;
  return BASE + region * G + (page % pages) * 2 ** s + (offset % 2 ** s);
};

type Op =
  | { op: 'insert' | 'lookup'; region: number; page: number; offset: number; asid: number }
  | { op: 'flushPage'; region: number; page: number; asid: number }
  | { op: 'flushAll' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constantFrom('insert' as const, 'lookup' as const, 'lookup' as const),
    region: fc.integer({ min: 0, max: 8 }),
    page: fc.integer({ min: 0, max: 40 }),
    offset: fc.integer({ min: 0, max: G - 1 }),
    asid: fc.integer({ min: 0, max: 2 }),
  }),
  fc.record({
    op: fc.constant('flushPage' as const),
    region: fc.integer({ min: 0, max: 8 }),
    page: fc.integer({ min: 0, max: 40 }),
    asid: fc.integer({ min: 0, max: 2 }),
  }),
  fc.constant({ op: 'flushAll' as const }),
);

describe('the last huge-page slot, checked first', () => {
  it('a lookup returns the slot the full search finds, in a Skylake L1 dTLB layout', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 50, maxLength: 300, size: 'max' }), (ops) => {
        const tlb = createTlb({
          name: 'dtlb',
          arrays: [
            { entries: 16, ways: 4, pageShift: 12 },
            { entries: 8, ways: 4, pageShift: 21 },
            { entries: 4, ways: 4, pageShift: 30 },
          ],
        });
        for (const o of ops) {
          if (o.op === 'flushAll') tlb.flushAll();
          else if (o.op === 'flushPage') tlb.flushPage(addr(o.region, o.page, 0), o.asid);
          else {
            const va = addr(o.region, o.page, o.offset);
            if (o.op === 'insert') {
              tlb.insert(va, o.asid, 0x1000_0000, SHIFTS[o.region % 3]!, 3, false);
            } else {
              const want = tlb.probe(va, o.asid);
              const hits = tlb.stats.hits;
              expect(tlb.lookup(va, o.asid)).toBe(want);
              expect(tlb.stats.hits).toBe(hits + (want >= 0 ? 1 : 0));
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('the hierarchy translates a run of direct-map-like 1 GiB accesses and sees a flush', () => {
    const h = createTlbHierarchy(SKYLAKE_TLB);
    h.insert(BASE, 0, 0x4000_0000, 30, 3, true);
    for (let i = 0; i < 100; i++)
      expect(h.translate(BASE + i * M2 + 8, 0, 1)).toBe(0x4000_0000 + i * M2 + 8);
    h.flushPage(BASE, 0);
    expect(h.translate(BASE + 8, 0, 1)).toBe(-1);
  });
});
