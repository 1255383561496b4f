/**
 * The buddy allocator's in-line paths against its general code: allocPages() (the pcp pop in
 * line, the gfp table, the preferred-zone table, fastMark) against allocPagesGeneral(), and
 * freePages() (the in-line isOrdinaryFree()) against freePagesGeneral(), on two allocators
 * fed the same random requests — every return value, every typed array of the allocator and
 * of the MemMap, the vmstat and numastat counters and the kernel log must stay identical.
 * Then free_unref_page_commit()'s pcp tuning (nr_pcp_high(), free_count, alloc_factor, the
 * flags) against a plain transcription of mm/page_alloc.c.
 */
import {
  __GFP_COMP,
  __GFP_DMA,
  __GFP_HIGHMEM,
  __GFP_NOWARN,
  __GFP_RECLAIMABLE,
  __GFP_THISNODE,
  __GFP_ZERO,
  GFP_ATOMIC,
  GFP_DMA32,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL,
  GFP_NOWAIT,
  GFP_USER,
  gfpMigratetype,
  gfpZone,
  MAX_NR_ZONES,
  PAGE_ALLOC_COSTLY_ORDER,
} from '@mmsim/core';
import type { MachineSpec, PresetName } from '@mmsim/numa';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BuddyAllocator, createBuddyAllocator, createPageAllocatorEnv } from '../src/index.js';

const TWO_NODES: MachineSpec = {
  name: 'two-node',
  nodes: [
    { memory: '32M', cpus: 2 },
    { memory: '32M', cpus: 1 },
  ],
};
/** Node 1 is all ZONE_MOVABLE: its kernel requests prefer a zone of node 0 (numa_other). */
const MOVABLE_NODE: MachineSpec = {
  name: 'movable-node',
  nodes: [
    { memory: '48M', cpus: 1 },
    { memory: '16M', cpus: 1, movable: '16M' },
  ],
};

const GFPS = [
  GFP_KERNEL,
  GFP_ATOMIC,
  GFP_NOWAIT,
  GFP_USER,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL | __GFP_DMA,
  GFP_KERNEL | GFP_DMA32,
  GFP_KERNEL | __GFP_RECLAIMABLE,
  GFP_KERNEL | __GFP_ZERO,
  GFP_KERNEL | __GFP_COMP,
  GFP_KERNEL | __GFP_THISNODE,
  GFP_HIGHUSER_MOVABLE | __GFP_THISNODE,
  // Refused: two zone modifiers, a bit above __GFP_BITS_MASK.
  GFP_KERNEL | __GFP_DMA | __GFP_HIGHMEM,
  GFP_KERNEL | 0x4000000,
];

type Op =
  | { kind: 'alloc'; gfp: number; order: number; nid: number; cpu: number }
  | { kind: 'free'; pick: number; wrongOrder: boolean; cpu: number }
  | { kind: 'atomic'; gfp: number; order: number }
  | { kind: 'drain' };

const opArb = (nrNodes: number, nrCpus: number): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 10,
      arbitrary: fc.record({
        kind: fc.constant('alloc' as const),
        gfp: fc
          .tuple(fc.constantFrom(...GFPS), fc.boolean())
          .map(([g, quiet]) => (quiet ? g | __GFP_NOWARN : g)),
        order: fc.oneof(
          { weight: 10, arbitrary: fc.integer({ min: 0, max: PAGE_ALLOC_COSTLY_ORDER }) },
          { weight: 2, arbitrary: fc.integer({ min: 4, max: 11 }) },
          { weight: 1, arbitrary: fc.constantFrom(-1, 1.5) },
        ),
        nid: fc.oneof(
          { weight: 6, arbitrary: fc.constant(-1) },
          { weight: 3, arbitrary: fc.integer({ min: 0, max: nrNodes - 1 }) },
          { weight: 1, arbitrary: fc.constantFrom(nrNodes, -2) },
        ),
        cpu: fc.integer({ min: 0, max: nrCpus - 1 }),
      }),
    },
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('free' as const),
        pick: fc.nat(),
        wrongOrder: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
        cpu: fc.integer({ min: 0, max: nrCpus - 1 }),
      }),
    },
    {
      weight: 1,
      // A sleeping allocation with preemption disabled: mightSleep() reports.
      arbitrary: fc.record({
        kind: fc.constant('atomic' as const),
        gfp: fc.constantFrom(GFP_KERNEL, GFP_ATOMIC),
        order: fc.integer({ min: 0, max: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'drain' as const }) },
  );

/** Everything a user could observe, and the allocator's private arrays. */
function state(buddy: BuddyAllocator): unknown {
  const env = buddy.env;
  const arrays: Record<string, number[]> = {};
  for (const [key, value] of Object.entries(buddy)) {
    if (ArrayBuffer.isView(value)) arrays[key] = Array.from(value as Int32Array);
  }
  const mm = env.memMap;
  return {
    arrays,
    stats: { ...buddy.stats, pgalloc: Array.from(buddy.stats.pgalloc) },
    memMap: [
      mm.flags,
      mm.pageType,
      mm.order,
      mm.refcount,
      mm.owner,
      mm.lruNext,
      mm.lruPrev,
      mm.tailOf,
      mm.pageblockMigratetype,
    ].map((a) => Array.from(a)),
    numa: [0, 1].slice(0, env.machine.nrNodes).map((n) => env.numaStat.nodeCounters(n)),
    zoneNuma: env.machine.zones.map((z) => env.numaStat.zoneCounters(z.slot)),
    klog: env.klog.lines(),
  };
}

/** The value, or what was thrown (refused requests throw RangeErrors, bad frees oops). */
function attempt(f: () => unknown): unknown {
  try {
    return f();
  } catch (e) {
    return `threw ${String(e)}`;
  }
}

function run(spec: MachineSpec | PresetName, ops: readonly Op[]): void {
  const fast = createBuddyAllocator(createPageAllocatorEnv(spec));
  const general = createBuddyAllocator(createPageAllocatorEnv(spec));
  const live: { pfn: number; order: number }[] = [];
  for (const op of ops) {
    if (op.kind === 'alloc') {
      fast.env.ctx.setCpu(op.cpu);
      general.env.ctx.setCpu(op.cpu);
      const a = attempt(() => fast.allocPages(op.gfp, op.order, op.nid));
      const b = attempt(() => general.allocPagesGeneral(op.gfp, op.order, op.nid));
      expect(a).toBe(b);
      if (typeof a === 'number' && a >= 0) live.push({ pfn: a, order: op.order });
    } else if (op.kind === 'free') {
      if (live.length === 0) continue;
      const [blk] = live.splice(op.pick % live.length, 1);
      const order = op.wrongOrder ? blk!.order + 1 : blk!.order;
      fast.env.ctx.setCpu(op.cpu);
      general.env.ctx.setCpu(op.cpu);
      expect(attempt(() => fast.freePages(blk!.pfn, order))).toBe(
        attempt(() => general.freePagesGeneral(blk!.pfn, order)),
      );
      // A refused free leaves the block allocated; free it for real later.
      if (fast.env.memMap.refcount[blk!.pfn]! > 0 && op.wrongOrder) live.push(blk!);
    } else if (op.kind === 'atomic') {
      for (const b of [fast, general]) b.env.ctx.preemptDisable();
      const a = fast.allocPages(op.gfp | __GFP_NOWARN, op.order);
      const b = general.allocPagesGeneral(op.gfp | __GFP_NOWARN, op.order);
      for (const x of [fast, general]) x.env.ctx.preemptEnable();
      expect(a).toBe(b);
      if (a >= 0) live.push({ pfn: a, order: op.order });
    } else {
      fast.drain();
      general.drain();
    }
  }
  expect(state(fast)).toEqual(state(general));
  expect(fast.verify()).toEqual([]);
}

describe('buddy: in-line alloc/free paths leave the state the general code leaves', () => {
  for (const spec of ['tiny', TWO_NODES, MOVABLE_NODE] as const) {
    const name = typeof spec === 'string' ? spec : spec.name;
    it(`on ${name}`, () => {
      const env = createPageAllocatorEnv(spec);
      fc.assert(
        fc.property(
          fc.array(opArb(env.machine.nrNodes, env.machine.nrCpus), { maxLength: 400 }),
          (ops) => run(spec, ops),
        ),
        // Each run compares every array of two allocators: ~80 ms alone, several times that
        // while the other packages' suites run beside it.
        { numRuns: 15 },
      );
    }, 60_000);
  }

  it('gfpIndex is gfp_zone() and gfp_migratetype() for every zone/mobility bit mix', () => {
    for (const mobility of [true, false]) {
      const buddy = createBuddyAllocator(createPageAllocatorEnv('tiny'), {
        mobilityGrouping: mobility,
      });
      const table = (buddy as unknown as { gfpIndex: Int8Array }).gfpIndex;
      for (let bits = 0; bits < 32; bits++) {
        let expected = -1;
        try {
          expected = gfpZone(bits) | ((mobility ? gfpMigratetype(bits) : 0) << 3);
        } catch {
          // a bad zone-modifier mix
        }
        expect(table[bits]).toBe(expected);
      }
    }
  });

  it('fastMark is high + boost + lowmem_reserve of every zone and highest zone', () => {
    const buddy = createBuddyAllocator(createPageAllocatorEnv('laptop'));
    const fastMark = (buddy as unknown as { fastMark: Int32Array }).fastMark;
    for (const z of buddy.env.machine.zones) {
      const snap = buddy.zoneSnapshot(z.nid, z.type);
      for (let hz = 0; hz < MAX_NR_ZONES; hz++)
        expect(fastMark[z.slot * MAX_NR_ZONES + hz]).toBe(
          snap.high + (snap.lowmemReserve[hz] ?? 0),
        );
    }
  });
});

/** include/linux/mmzone.h struct per_cpu_pages, as numbers. */
interface Pcp {
  count: number;
  high: number;
  highMin: number;
  highMax: number;
  batch: number;
  freeCount: number;
  allocFactor: number;
  flags: number;
}
const PCP_FIELDS = [
  'count',
  'high',
  'highMin',
  'highMax',
  'batch',
  'freeCount',
  'allocFactor',
  'flags',
] as const;

/**
 * mm/page_alloc.c free_unref_page_commit() up to the drain, with nr_pcp_high(): the new
 * scalars, and whether the list is drained (count >= high).
 */
function referenceCommit(pcp: Pcp, order: number, belowHigh: boolean): boolean {
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  pcp.allocFactor >>= 1;
  pcp.count += 1 << order;
  const batch = pcp.batch;
  let freeHigh = false;
  if (order && order <= PAGE_ALLOC_COSTLY_ORDER) {
    freeHigh =
      pcp.freeCount >= batch && (pcp.flags & 1) !== 0 && (!(pcp.flags & 2) || pcp.count >= batch);
    pcp.flags |= 1;
  } else if (pcp.flags & 1) {
    pcp.flags &= ~1;
  }
  if (pcp.freeCount < batch << 5) pcp.freeCount += 1 << order;
  // nr_pcp_high()
  let high = clamp(pcp.high, pcp.highMin, pcp.highMax);
  pcp.high = high;
  if (!high) return pcp.count >= 0;
  if (freeHigh) {
    pcp.high = Math.max(high - (batch << 5), pcp.highMin);
    return pcp.count >= 0;
  }
  if (pcp.highMin !== pcp.highMax) {
    if (belowHigh) {
      pcp.high = Math.max(high - Math.max(pcp.freeCount, batch), pcp.highMin);
      high = Math.max(pcp.count, pcp.highMin);
    } else if (pcp.count >= high) {
      const needHigh = pcp.freeCount + batch;
      if (pcp.high < needHigh) pcp.high = clamp(needHigh, pcp.highMin, pcp.highMax);
    }
  }
  return pcp.count >= high;
}

describe('buddy: free_unref_page_commit() tuning of the pcp', () => {
  it('matches a transcription of mm/page_alloc.c on every free', () => {
    fc.assert(
      fc.property(
        // Small per-CPU bounds (set as percpu_pagelist_high_fraction would), so that the
        // lists pass `high` and every branch of nr_pcp_high() runs.
        fc.record({
          batch: fc.integer({ min: 1, max: 8 }),
          highMin: fc.integer({ min: 0, max: 48 }),
          extra: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 64 })),
        }),
        fc.array(
          fc.record({
            alloc: fc.integer({ min: 0, max: 9 }),
            order: fc.oneof(
              { weight: 3, arbitrary: fc.constant(0) },
              { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) },
            ),
            pick: fc.nat(),
            highShift: fc.integer({ min: -2, max: 2 }),
            belowHigh: fc.integer({ min: 0, max: 3 }),
          }),
          { maxLength: 600 },
        ),
        (cfg, ops) => {
          const buddy = createBuddyAllocator(createPageAllocatorEnv('tiny'));
          const priv = buddy as unknown as { pcp: Int32Array; belowHigh: Uint8Array };
          for (const slot of [0, 1]) {
            priv.pcp[(slot << 3) + 2] = cfg.highMin;
            // high_max 0 would turn the pcp off: frees go straight to the zone.
            priv.pcp[(slot << 3) + 3] = Math.max(1, cfg.highMin + cfg.extra);
            priv.pcp[(slot << 3) + 4] = cfg.batch;
          }
          const live: { pfn: number; order: number }[] = [];
          for (const op of ops) {
            if (op.alloc < 5 || live.length === 0) {
              // A burst of allocations, or one.
              for (let i = op.alloc < 1 ? 40 : 1; i > 0; i--) {
                const pfn = buddy.allocPages(GFP_KERNEL | __GFP_NOWARN, op.order);
                if (pfn >= 0) live.push({ pfn, order: op.order });
              }
              continue;
            }
            const [blk] = live.splice(op.pick % live.length, 1);
            const slot =
              buddy.env.memMap.node[blk!.pfn]! * MAX_NR_ZONES + buddy.env.memMap.zone[blk!.pfn]!;
            const base = slot << 3; // cpu 0
            // Nudge high, so clamping runs both ways; ZONE_BELOW_HIGH now and then.
            priv.pcp[base + 1] = Math.max(0, priv.pcp[base + 1]! + op.highShift * cfg.batch);
            if (op.belowHigh === 0) priv.belowHigh[slot] = 1;
            const before = Object.fromEntries(
              PCP_FIELDS.map((f, i) => [f, priv.pcp[base + i]!]),
            ) as unknown as Pcp;
            const drains = referenceCommit(before, blk!.order, priv.belowHigh[slot] !== 0);
            buddy.freePages(blk!.pfn, blk!.order);
            const after = Object.fromEntries(PCP_FIELDS.map((f, i) => [f, priv.pcp[base + i]!]));
            if (drains) {
              // free_pcppages_bulk() gave nr_pcp_free() pages back (maybe 0): its business.
              expect(after.count).toBeLessThanOrEqual(before.count);
              after.count = before.count;
            }
            expect(after).toEqual(before);
          }
          expect(buddy.verify()).toEqual([]);
        },
      ),
      { numRuns: 60 },
    );
  });
});
