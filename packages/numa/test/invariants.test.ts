import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMachine, type MachineSpec } from '../src/index.js';

const PAGE = 4096;

const specs = fc
  .record({
    pages: fc.array(fc.integer({ min: 1024, max: 3 * 1024 * 1024 }), {
      minLength: 1,
      maxLength: 4,
    }),
    pciHoleMiB: fc.constantFrom(0, 256, 512, 1024, 2048, 3072),
    firmwareHoles: fc.boolean(),
    movable: fc.integer({ min: 0, max: 100 }),
  })
  .map(
    ({ pages, pciHoleMiB, firmwareHoles, movable }): MachineSpec => ({
      nodes: pages.map((p, i) => ({
        memory: p * PAGE,
        cpus: 1,
        // A small ZONE_MOVABLE on the last node, a percentage of a MAX_ORDER block's worth.
        ...(i === pages.length - 1 && movable > 0 ? { movable: movable * PAGE } : {}),
      })),
      pciHole: pciHoleMiB * 1024 * 1024,
      firmwareHoles,
    }),
  );

describe('layout invariants', () => {
  it('gives every node exactly its RAM and partitions each node span into zones', () => {
    fc.assert(
      fc.property(specs, (spec) => {
        const m = createMachine(spec);
        let total = 0;
        for (const node of m.nodes) {
          const zones = m.zones.filter((z) => z.nid === node.nid && z.spannedPages > 0);
          const present = zones.reduce((s, z) => s + z.presentPages, 0);
          expect(present * PAGE).toBe(node.memoryBytes);
          const spanned = zones.reduce((s, z) => s + z.spannedPages, 0);
          expect(spanned).toBe(node.endPfn - node.startPfn);
          for (const z of zones) {
            for (const r of z.ranges) {
              expect(m.isPfnRam(r.startPfn) && m.isPfnRam(r.endPfn - 1)).toBe(true);
              expect(m.pfnToZoneType(r.startPfn)).toBe(z.type);
              expect(m.pfnToNid(r.endPfn - 1)).toBe(node.nid);
            }
          }
          total += present;
        }
        expect(total).toBe(m.totalPages);
        expect(m.describe().length).toBeGreaterThan(8);
      }),
      { numRuns: 200 },
    );
  });
});
