/**
 * Invariants of both page allocators under random sequences of allocPages / freePages /
 * drain(), checked after every step against a model of the live blocks kept here.
 */
import {
  __GFP_COMP,
  __GFP_NOWARN,
  __GFP_RECLAIMABLE,
  __GFP_THISNODE,
  __GFP_ZERO,
  GFP_ATOMIC,
  GFP_DMA,
  GFP_DMA32,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL,
  GFP_USER,
  gfpZone,
  MAX_PAGE_ORDER,
  MIGRATE_PCPTYPES,
  NO_PAGE,
  PAGEBLOCK_ORDER,
  PG_reserved,
  PGTY_buddy,
} from '@mmsim/core';
import type { MachineSpec } from '@mmsim/numa';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CheckablePageAllocator,
  createBitmapAllocator,
  createBuddyAllocator,
  createPageAllocatorEnv,
  type PageAllocatorEnv,
} from '../src/index.js';

const TWO_NODES: MachineSpec = {
  name: 'two-node',
  nodes: [
    { memory: '32M', cpus: 1 },
    { memory: '32M', cpus: 1 },
  ],
};

/** Node 0 has a ZONE_MOVABLE at its top; two memblock reservations. */
const MOVABLE_RESERVED: MachineSpec = {
  name: 'movable-reserved',
  nodes: [
    { memory: '48M', cpus: 1, movable: '16M' },
    { memory: '16M', cpus: 1 },
  ],
  reserved: [
    { start: '1M', size: '512K', name: 'kernel' },
    { start: 0x1801000, size: 0x3000, name: 'initrd' },
  ],
};

/** Valid request flags: zone modifiers alone or with the usual composites. */
const GFPS = [
  GFP_KERNEL,
  GFP_ATOMIC,
  GFP_DMA,
  GFP_KERNEL | GFP_DMA,
  GFP_DMA32,
  GFP_KERNEL | GFP_DMA32,
  GFP_HIGHUSER_MOVABLE,
  GFP_USER,
  GFP_KERNEL | __GFP_RECLAIMABLE,
  GFP_KERNEL | __GFP_ZERO | __GFP_COMP,
  GFP_KERNEL | __GFP_THISNODE,
  GFP_ATOMIC | __GFP_THISNODE,
  GFP_HIGHUSER_MOVABLE | __GFP_THISNODE,
  GFP_KERNEL | GFP_DMA32 | __GFP_THISNODE,
];

type Op =
  | { kind: 'alloc'; order: number; gfp: number; nid: number; cpu: number }
  | { kind: 'free'; pick: number }
  | { kind: 'drain' };

const orderArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 3 }) },
  { weight: 4, arbitrary: fc.integer({ min: 4, max: 8 }) },
  { weight: 1, arbitrary: fc.integer({ min: 9, max: MAX_PAGE_ORDER }) },
);

const opArb = (nrNodes: number, nrCpus: number): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 11,
      arbitrary: fc.record({
        kind: fc.constant('alloc' as const),
        order: orderArb,
        gfp: fc
          .tuple(fc.constantFrom(...GFPS), fc.boolean())
          .map(([g, quiet]) => (quiet ? g | __GFP_NOWARN : g)),
        nid: fc.integer({ min: -1, max: nrNodes - 1 }),
        cpu: fc.integer({ min: 0, max: nrCpus - 1 }),
      }),
    },
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'drain' as const }) },
  );

/** The independent free-buddy check for the buddy allocator, from struct pages alone. */
function unmergedBuddies(env: PageAllocatorEnv): string[] {
  const mm = env.memMap;
  const out: string[] = [];
  for (const z of env.machine.zones) {
    const end = z.startPfn + z.spannedPages;
    for (let pfn = z.startPfn; pfn < end; pfn++) {
      if (mm.pageType[pfn] !== PGTY_buddy) continue;
      const o = mm.order[pfn]!;
      if (o >= MAX_PAGE_ORDER) continue;
      const buddy = pfn ^ (1 << o);
      if (buddy < z.startPfn || buddy >= end) continue;
      if (mm.pageType[buddy] !== PGTY_buddy || mm.order[buddy] !== o) continue;
      const mt = mm.migratetype(pfn);
      const bmt = mm.migratetype(buddy);
      // __free_one_page() refuses to merge pageblocks of a non-mergeable type (highatomic,
      // isolate) with another type; nothing else may stay apart.
      if (o >= PAGEBLOCK_ORDER && mt !== bmt && (mt >= MIGRATE_PCPTYPES || bmt >= MIGRATE_PCPTYPES))
        continue;
      out.push(`free buddies ${pfn} and ${buddy} of order ${o} are not merged`);
    }
  }
  return out;
}

interface Block {
  order: number;
  gfp: number;
  node: number;
}

function runSequence(
  factory: (env: PageAllocatorEnv) => CheckablePageAllocator,
  spec: MachineSpec,
  ops: readonly Op[],
): void {
  const env = createPageAllocatorEnv(spec);
  const a = factory(env);
  const { machine, memMap: mm, ctx } = env;
  const isBuddy = a.name === 'buddy';
  const live = new Map<number, Block>();
  const owner = new Uint8Array(machine.maxPfn);
  let ramFrames = 0;
  let reservedRam = 0;
  for (let pfn = 0; pfn < machine.maxPfn; pfn++) {
    if (!machine.isPfnRam(pfn)) continue;
    ramFrames++;
    if (mm.flags[pfn]! & (1 << PG_reserved)) reservedRam++;
  }
  a.drain();
  const bootFree = machine.zones.map((z) => a.nrFreePages(z.nid, z.type));
  const fail = (step: number, msg: string): never => {
    throw new Error(
      `${a.name} on ${machine.name}, step ${step} (${JSON.stringify(ops[step])}): ${msg}`,
    );
  };

  const check = (step: number): void => {
    const problems = a.verify();
    if (problems.length) fail(step, `verify(): ${problems.slice(0, 5).join('; ')}`);
    if (isBuddy) {
      const unmerged = unmergedBuddies(env);
      if (unmerged.length) fail(step, unmerged.slice(0, 5).join('; '));
    }
    // Every frame is exactly one of allocated (the model), reserved or free.
    let allocated = 0;
    let reserved = 0;
    for (let pfn = 0; pfn < machine.maxPfn; pfn++) {
      const isReserved = (mm.flags[pfn]! & (1 << PG_reserved)) !== 0;
      if (owner[pfn]) {
        allocated++;
        if (isReserved) fail(step, `allocated frame ${pfn} is reserved`);
        const head = live.get(pfn);
        if (head && mm.refcount[pfn] !== 1)
          fail(step, `head ${pfn} has refcount ${mm.refcount[pfn]}`);
        if (!head && mm.refcount[pfn] !== 0)
          fail(step, `tail ${pfn} has refcount ${mm.refcount[pfn]}`);
      } else if (isReserved) {
        if (machine.isPfnRam(pfn)) reserved++;
      } else if (mm.refcount[pfn] !== 0) {
        fail(step, `free frame ${pfn} has refcount ${mm.refcount[pfn]}`);
      }
    }
    if (reserved !== reservedRam)
      fail(step, `reserved RAM frames went from ${reservedRam} to ${reserved}`);
    const free = a.nrFreePages();
    if (free !== ramFrames - allocated - reserved) {
      fail(
        step,
        `nrFreePages() ${free} != RAM ${ramFrames} - allocated ${allocated} - reserved ${reserved}`,
      );
    }
  };

  for (let step = 0; step < ops.length; step++) {
    const op = ops[step]!;
    if (op.kind === 'alloc') {
      ctx.setCpu(op.cpu);
      const pfn = a.allocPages(op.gfp, op.order, op.nid);
      if (pfn !== NO_PAGE) {
        const n = 2 ** op.order;
        if (pfn % n !== 0) fail(step, `pfn ${pfn} is not aligned to order ${op.order}`);
        const zone = mm.zone[pfn]!;
        const node = mm.node[pfn]!;
        if (zone > gfpZone(op.gfp))
          fail(step, `pfn ${pfn} is in zone ${zone} > gfp_zone ${gfpZone(op.gfp)}`);
        const preferred = op.nid < 0 ? machine.cpuToNode(op.cpu) : op.nid;
        if (op.gfp & __GFP_THISNODE && node !== preferred)
          fail(step, `pfn ${pfn} on node ${node}, __GFP_THISNODE for ${preferred}`);
        const z = machine.zone(node, zone as 0);
        if (pfn < z.startPfn || pfn + n > z.startPfn + z.spannedPages)
          fail(step, `block ${pfn} leaves its zone`);
        for (let p = pfn; p < pfn + n; p++) {
          if (owner[p]) fail(step, `block ${pfn}/${op.order} overlaps a live block at frame ${p}`);
          if (mm.zone[p] !== zone || mm.node[p] !== node)
            fail(step, `block ${pfn} spans two zones`);
          owner[p] = 1;
        }
        if (op.gfp & __GFP_ZERO && env.memory.findNot(pfn * 4096, n * 4096, 0) >= 0)
          fail(step, `block ${pfn} is not zeroed`);
        // Dirty every block so that a later __GFP_ZERO has something to clear.
        env.memory.fill(pfn * 4096, 64, 0x5a);
        live.set(pfn, { order: op.order, gfp: op.gfp, node });
      }
    } else if (op.kind === 'free') {
      if (live.size > 0) {
        const keys = [...live.keys()];
        const pfn = keys[op.pick % keys.length]!;
        const { order } = live.get(pfn)!;
        a.freePages(pfn, order);
        live.delete(pfn);
        owner.fill(0, pfn, pfn + 2 ** order);
      }
    } else {
      a.drain();
    }
    check(step);
  }
  for (const [pfn, { order }] of live) a.freePages(pfn, order);
  a.drain();
  expect(machine.zones.map((z) => a.nrFreePages(z.nid, z.type))).toEqual(bootFree);
  expect(a.verify()).toEqual([]);
}

const ALLOCATORS = [
  ['buddy', (env: PageAllocatorEnv) => createBuddyAllocator(env)],
  ['bitmap', createBitmapAllocator],
] as const;

describe.each(ALLOCATORS)('%s under random alloc/free/drain sequences', (_name, factory) => {
  for (const spec of [TWO_NODES, MOVABLE_RESERVED]) {
    it(`keeps every invariant after every step on ${spec.name}`, () => {
      const nrNodes = spec.nodes.length;
      const nrCpus = spec.nodes.reduce((s, n) => s + n.cpus, 0);
      fc.assert(
        fc.property(fc.array(opArb(nrNodes, nrCpus), { minLength: 1, maxLength: 100 }), (ops) => {
          runSequence(factory, spec, ops);
        }),
        { numRuns: 25, seed: 0x6d6d73 },
      );
    });
  }
});
