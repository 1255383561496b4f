/**
 * walkAt() has a loop of its own for x86-64 4-level paging, with the format's constants
 * written in. Differential test: two identical machines, one forced onto the general loop,
 * run the same random mappings (4K, 2M and 1G pages), the same random bit flips in the page
 * tables (present, PS, A, reserved, frame bits…) and the same accesses, and must agree on
 * every result, fault, counter and on the tables' final contents (the A/D bits set).
 */
import {
  ACCESS_EXEC,
  ACCESS_USER,
  ACCESS_WRITE,
  PROT_EXEC,
  PROT_GLOBAL,
  PROT_USER,
  PROT_WRITE,
} from '@mmsim/core';
import { createTlb } from '@mmsim/tlb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { x86_64 } from '../src/index.js';
import { MiB, machine } from './machine.js';

const K4 = 4096;
const M2 = 2 * MiB;
const G1 = 1024 * MiB;
/** Page-table pages come from the top 16 MiB of machine()'s 64 MiB, the root first. */
const TABLES = 64 * MiB - 16 * MiB;

const mapArb = fc.record({
  slot: fc.integer({ min: 0, max: 15 }),
  size: fc.constantFrom(K4, K4, K4, M2, G1),
  frame: fc.integer({ min: 0, max: 15 }),
  prot: fc.constantFrom(0, PROT_WRITE, PROT_USER, PROT_WRITE | PROT_USER, PROT_EXEC | PROT_USER),
  global: fc.boolean(),
});
const flipArb = fc.record({
  table: fc.integer({ min: 0, max: 7 }),
  index: fc.constantFrom(0, 1, 2, 3, 255, 256, 511),
  word: fc.integer({ min: 0, max: 1 }),
  bit: fc.constantFrom(0, 1, 2, 5, 6, 7, 8, 12, 13, 16, 19, 20, 26, 31),
});
const accessArb = fc.record({
  slot: fc.integer({ min: 0, max: 15 }),
  page: fc.integer({ min: 0, max: 3 }),
  offset: fc.integer({ min: 0, max: K4 - 1 }),
  access: fc.constantFrom(0, ACCESS_WRITE, ACCESS_USER, ACCESS_USER | ACCESS_WRITE, ACCESS_EXEC),
});

/** A VA for slot s: spread over PML4, PDPT and PD entries (and the top half's user space). */
const slotVa = (s: number) => (s & 3) * 2 ** 39 + ((s >> 2) & 1) * G1 + (s >> 3) * 5 * M2;

describe('x86-64: the dedicated walk loop', () => {
  it('matches the general loop on random tables, bit flips and accesses', () => {
    fc.assert(
      fc.property(
        fc.array(mapArb, { maxLength: 10 }),
        fc.array(flipArb, { maxLength: 6 }),
        fc.array(accessArb, { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        fc.boolean(),
        (maps, flips, accesses, nx, psc) => {
          const make = () => {
            const tlb = createTlb({ entries: 16, ways: 4 });
            const m = machine(x86_64, { tlb, pagingStructureCaches: psc });
            m.mmu.configure({ nx });
            return { ...m, tlb };
          };
          const a = make();
          const b = make();
          (b.mmu as unknown as { x86: boolean }).x86 = false;
          expect((a.mmu as unknown as { x86: boolean }).x86).toBe(true);
          for (const m of maps) {
            const va = Math.floor(slotVa(m.slot) / m.size) * m.size;
            const pa = m.frame * m.size;
            const prot = m.prot | (m.global ? PROT_GLOBAL : 0);
            const shift = m.size === K4 ? 12 : m.size === M2 ? 21 : 30;
            const ra = a.pt.map(va, pa, m.size, prot, shift);
            expect(b.pt.map(va, pa, m.size, prot, shift)).toBe(ra);
          }
          for (const f of flips) {
            const addr = TABLES + f.table * K4 + f.index * 8 + f.word * 4;
            for (const { memory } of [a, b])
              memory.write32(addr, memory.read32(addr) ^ (1 << f.bit));
          }
          for (const x of accesses) {
            const va = slotVa(x.slot) + x.page * K4 + x.offset;
            const ra = a.mmu.translate(va, x.access);
            expect(b.mmu.translate(va, x.access)).toBe(ra);
            const fault = (m: typeof a) => [
              m.mmu.faultKind,
              m.mmu.faultLevel,
              m.mmu.errorCode,
              m.mmu.stats.walks,
              m.mmu.stats.walkRefs,
              [...m.mmu.stats.pscHits],
              { ...m.tlb.stats },
            ];
            expect(fault(b)).toEqual(fault(a));
          }
          for (let t = 0; t < 8; t++) {
            for (let w = 0; w < 1024; w += 1) {
              const addr = TABLES + t * K4 + w * 4;
              if (a.memory.read32(addr) !== b.memory.read32(addr)) {
                expect([t, w, b.memory.read32(addr)]).toEqual([t, w, a.memory.read32(addr)]);
              }
            }
          }
          expect(b.tlb.entries()).toEqual(a.tlb.entries());
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('x86-64: a table at the end of memory', () => {
  // 64 MiB, and 64 MiB + 8 KiB (the limit inside a 64 KiB chunk of memory).
  for (const memBytes of [64 * MiB, 64 * MiB + 2 * K4]) {
    for (const loop of ['x86', 'general'] as const) {
      it(`is walked when it fits, else a reserved-bit fault (${memBytes} bytes, ${loop} loop)`, () => {
        const { pt, mmu, memory } = machine(x86_64, { memBytes });
        if (loop === 'general') (mmu as unknown as { x86: boolean }).x86 = false;
        pt.map(0x400000, 0x100000, K4, PROT_USER);
        expect(mmu.translate(0x400000, ACCESS_USER)).toBe(0x100000);
        // The PD (the third table allocated, from the top 16 MiB) entry 2 points at the PT.
        const pde = memBytes - 16 * MiB + 2 * K4 + 2 * 8;
        for (const [table, kind, level] of [
          [memBytes - K4, 'not-present', 3], // the last page: fits, and reads as zeros
          [memBytes, 'reserved', 2], // one page further: outside memory
          [memBytes + 2 ** 36, 'reserved', 2],
          [2 ** 46 + memBytes - K4, 'reserved', 2], // beyond any memory: the high word alone
        ] as const) {
          memory.write32(pde, (table % 2 ** 32) | 0x27);
          memory.write32(pde + 4, Math.floor(table / 2 ** 32));
          mmu.flushAll();
          expect(mmu.translate(0x400000, ACCESS_USER)).toBe(-1);
          expect([mmu.lastFault()?.kindName, mmu.faultLevel]).toEqual([kind, level]);
        }
      });
    }
  }
});
