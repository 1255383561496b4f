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

/** Pages of [start, end) inside [holeStart, holeEnd). */
const overlap = (start: number, end: number, holeStart: number, holeEnd: number): number =>
  Math.max(0, Math.min(end, holeEnd) - Math.max(start, holeStart));

describe('layout invariants', () => {
  it('spans every node over its memory outside the PCI hole, gives it that less the firmware holes as RAM, and partitions the span into zones', () => {
    fc.assert(
      fc.property(specs, (spec) => {
        let m: ReturnType<typeof createMachine>;
        try {
          m = createMachine(spec);
        } catch (e) {
          // A last node whose highest zone is smaller than the requested ZONE_MOVABLE is a
          // spec createMachine() rightly refuses (tested in machine.test.ts); skip it here.
          fc.pre(!(e instanceof RangeError && /highest zone only/.test(e.message)));
          throw e;
        }
        const pciPages = (spec.pciHole as number) / PAGE;
        const pciStart = 0x100000 - pciPages; // [4 GiB - pciHole, 4 GiB)
        const firmware = spec.firmwareHoles
          ? [
              [0, 1],
              [0x9f, 0x100],
            ]
          : [];
        let total = 0;
        let from = 0; // where this node's memory begins: 0, then where the previous one ended
        let memorySoFar = 0;
        for (const node of m.nodes) {
          const memoryPages = node.memoryBytes / PAGE;
          expect(memoryPages).toBe((spec.nodes[node.nid]!.memory as number) / PAGE);
          // Nodes follow each other: node n ends where the memory of nodes 0..n ends, plus the
          // PCI hole once that lies behind it.
          memorySoFar += memoryPages;
          const end = memorySoFar <= pciStart ? memorySoFar : memorySoFar + pciPages;
          expect(node.endPfn).toBe(end);
          // It spans exactly its memory of address space outside the PCI hole...
          const pciInside = pciPages ? overlap(from, end, pciStart, 0x100000) : 0;
          expect(end - from - pciInside).toBe(memoryPages);
          // ...and its RAM is that less the firmware holes it contains.
          const firmwareInside = firmware.reduce((s, [a, b]) => s + overlap(from, end, a!, b!), 0);
          const ram = node.ranges.reduce((s, r) => s + r.endPfn - r.startPfn, 0);
          expect(ram).toBe(memoryPages - firmwareInside);
          // The span starts at the first RAM pfn: only holes lie between `from` and it.
          const skipped =
            firmware.reduce((s, [a, b]) => s + overlap(from, node.startPfn, a!, b!), 0) +
            (pciPages ? overlap(from, node.startPfn, pciStart, 0x100000) : 0);
          expect(node.startPfn - from).toBe(skipped);
          expect(node.startPfn).toBe(node.ranges[0]!.startPfn);

          const zones = m.zones.filter((z) => z.nid === node.nid && z.spannedPages > 0);
          const present = zones.reduce((s, z) => s + z.presentPages, 0);
          expect(present).toBe(ram);
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
          from = end;
        }
        expect(total).toBe(m.totalPages);
        expect(m.maxPfn).toBe(from);
        expect(m.describe().length).toBeGreaterThan(8);
      }),
      { numRuns: 200 },
    );
  });
});
