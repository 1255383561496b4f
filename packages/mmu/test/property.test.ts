import {
  ACCESS_USER,
  ACCESS_WRITE,
  type PagingFormat,
  PROT_EXEC,
  PROT_READ,
  PROT_USER,
  PROT_WRITE,
} from '@mmsim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { geometry, PAGING_FORMATS } from '../src/index.js';
import { machine } from './machine.js';

type Cmd =
  | { op: 'map'; at: number; n: number; frame: number; prot: number }
  | { op: 'unmap'; at: number; n: number; keepTables: boolean }
  | { op: 'protect'; at: number; n: number; prot: number };

const protArb = fc.constantFrom(
  PROT_READ,
  PROT_READ | PROT_WRITE,
  PROT_READ | PROT_USER,
  PROT_READ | PROT_WRITE | PROT_USER,
  PROT_READ | PROT_EXEC | PROT_USER,
);

describe.each(PAGING_FORMATS.map((f) => [f.name, f] as const))(
  '%s: random map/unmap/protect against a reference map',
  (_, f: PagingFormat) => {
    const g = geometry(f);
    const page = 2 ** f.pageShift;
    const E = g.entries[g.levels - 1]!;
    const top = 2 ** (f.vaBits - f.pageShift);
    // Page numbers around table boundaries at every level, the last page of the space too.
    const slots = [
      ...new Set([0, 1, 2, E - 1, E, E + 1, E * 3, E * E, E * E + 1, top - 2, top - 1]),
    ]
      .filter((p) => p >= 0 && p < top)
      .sort((a, b) => a - b);
    const frames = Math.min(64, 2 ** f.frame.width / 4);
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      fc.record({
        op: fc.constant('map' as const),
        at: fc.constantFrom(...slots),
        n: fc.integer({ min: 1, max: 3 }),
        frame: fc.integer({ min: 0, max: frames - 4 }),
        prot: protArb,
      }),
      fc.record({
        op: fc.constant('unmap' as const),
        at: fc.constantFrom(...slots),
        n: fc.integer({ min: 1, max: 3 }),
        keepTables: fc.boolean(),
      }),
      fc.record({
        op: fc.constant('protect' as const),
        at: fc.constantFrom(...slots),
        n: fc.integer({ min: 1, max: 3 }),
        prot: protArb,
      }),
    );
    const canWrite = (prot: number) =>
      f.bits.write >= 0 || f.bits.readOnly >= 0 ? (prot & PROT_WRITE) !== 0 : true;
    const canUser = (prot: number) => (f.bits.user >= 0 ? (prot & PROT_USER) !== 0 : true);

    it('translates every page as the reference says and frees every table at the end', () => {
      fc.assert(
        fc.property(fc.array(cmd, { minLength: 1, maxLength: 12 }), (cmds) => {
          const { pt, mmu, tables } = machine(f);
          const free = tables.free;
          const ref = new Map<number, { frame: number; prot: number }>();
          for (const c of cmds) {
            const n = Math.min(c.n, top - c.at);
            if (c.op === 'map') {
              expect(pt.map(c.at * page, c.frame * page, n * page, c.prot)).toBe(0);
              for (let i = 0; i < n; i++) ref.set(c.at + i, { frame: c.frame + i, prot: c.prot });
            } else if (c.op === 'unmap') {
              let mapped = 0;
              for (let i = 0; i < n; i++) if (ref.delete(c.at + i)) mapped++;
              expect(pt.unmap(c.at * page, n * page, { freeTables: !c.keepTables })).toBe(mapped);
            } else {
              let mapped = 0;
              for (let i = 0; i < n; i++) {
                const e = ref.get(c.at + i);
                if (e) {
                  e.prot = c.prot;
                  mapped++;
                }
              }
              expect(pt.protect(c.at * page, n * page, c.prot)).toBe(mapped);
            }
            mmu.flushRange(c.at * page, (c.at + n) * page);
            for (const p of slots) {
              const e = ref.get(p);
              const va = p * page + (page >> 1);
              const read = mmu.translate(va, 0);
              if (!e) {
                expect(read).toBe(-1);
                expect(mmu.errorCode & 1).toBe(0);
                continue;
              }
              const pa = e.frame * page + (page >> 1);
              expect(read).toBe(pa);
              expect(mmu.translate(va, ACCESS_WRITE)).toBe(canWrite(e.prot) ? pa : -1);
              expect(mmu.translate(va, ACCESS_USER)).toBe(canUser(e.prot) ? pa : -1);
              expect(mmu.translate(va, ACCESS_USER | ACCESS_WRITE)).toBe(
                canUser(e.prot) && canWrite(e.prot) ? pa : -1,
              );
            }
          }
          pt.unmap(0, top * page);
          if (!cmds.some((c) => c.op === 'unmap' && c.keepTables)) {
            expect(pt.tablePages).toBe(1);
            expect(tables.free).toBe(free);
          }
          // Tables kept by vunmap-style unmaps are still accounted for, and destroy() frees all.
          expect(tables.free + pt.tablePages - 1).toBe(free);
          pt.destroy();
          expect(tables.free).toBe(free + 1);
        }),
        { numRuns: 150, seed: 42 },
      );
    });
  },
);
