/**
 * The conformance suite of the `PageAllocator` interface (packages/core/src/api.ts): what
 * every page allocator must do, checked with exact values, so that the buddy allocator, the
 * bitmap allocator and a user's own implementation can be swapped under kapi's boot().
 *
 *   import { pageAllocatorConformance, runPageAllocatorConformance } from '@mmsim/page-alloc/conformance';
 *   runPageAllocatorConformance((env) => createMyAllocator(env), { describe, it });
 *
 * The suite is framework-agnostic: `pageAllocatorConformance()` returns named cases whose
 * `run()` throws a plain `Error` describing the first violation; `runPageAllocatorConformance`
 * registers them with any describe/it pair (vitest, jest, mocha, node:test).
 *
 * Each case builds its own environment with createPageAllocatorEnv() on a small machine and
 * its own allocator, and ends by requiring `verify()` to find nothing. The machines:
 *   - 'tiny': 64 MiB, one node, one CPU (ZONE_DMA and ZONE_DMA32 only);
 *   - two nodes of 32 MiB with one CPU each (node 1's frames are all DMA32);
 *   - one node with a PCI hole, so that 24 MiB sit above 4 GiB (ZONE_NORMAL), a ZONE_MOVABLE
 *     at the top, and two memblock reservations (a "kernel" in DMA, an "initrd" in DMA32).
 *
 * What is and is not required: blocks naturally aligned, inside a zone gfp_zone() allows,
 * the preferred node's zones first; exact free-page counters (nrFreePages() after drain()
 * equals what boot gave minus what is allocated); the struct page state of prep_new_page()
 * and __free_pages(); the kernel-log reports of mm/page_alloc.c for failure and misuse. No
 * placement policy beyond that: an allocator may keep watermarks (the buddy does) or not
 * (the bitmap allocator empties a zone to the last frame).
 */
import {
  __GFP_COMP,
  __GFP_HIGHMEM,
  __GFP_MOVABLE,
  __GFP_NOWARN,
  __GFP_RECLAIMABLE,
  __GFP_THISNODE,
  __GFP_ZERO,
  type ConformanceCase,
  ConformanceChecks,
  CUT_HERE,
  GFP_ATOMIC,
  GFP_DMA,
  GFP_DMA32,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL,
  GFP_USER,
  GFP_ZONE_BUG_LOCATION,
  type Gfp,
  gfpZone,
  KernelOops,
  MAX_PAGE_ORDER,
  NO_PAGE,
  NR_PAGE_ORDERS,
  NSEC_PER_SEC,
  PAGE_SIZE,
  type Pfn,
  PG_head,
  PG_reserved,
  Prng,
  registerConformance,
  type TestRegistrar,
  TICK_NSEC,
  ZONE_DMA,
  ZONE_DMA32,
  ZONE_NAMES,
} from '@mmsim/core';
import type { MachineSpec, PresetName } from '@mmsim/numa';
import type { CheckablePageAllocator, PageAllocatorEnv } from './api.js';
import { createPageAllocatorEnv } from './env.js';

/** Options of pageAllocatorConformance(). */
export interface ConformanceOptions {
  /** A label put in front of every failure message. @defaultValue the allocator's `name` */
  name?: string;
}

export type { ConformanceCase, TestRegistrar };

type Factory = (env: PageAllocatorEnv) => CheckablePageAllocator;
type MachineChoice = MachineSpec | PresetName;

const MiB = 1024 * 1024;

/** Two nodes of 32 MiB with one CPU each; every frame of node 1 is in ZONE_DMA32. */
const TWO_NODES: MachineSpec = {
  name: 'conformance-2node',
  nodes: [
    { memory: '32M', cpus: 1 },
    { memory: '32M', cpus: 1 },
  ],
};

/**
 * One node of 64 MiB: 32 MiB below a PCI hole that ends at 4 GiB, the rest above it in
 * ZONE_NORMAL, the top MAX_ORDER-aligned 8 MiB or so in ZONE_MOVABLE; two reservations.
 */
const RESERVED: MachineSpec = {
  name: 'conformance-reserved',
  nodes: [{ memory: '64M', cpus: 1, movable: '8M' }],
  pciHole: 4096 * MiB - 32 * MiB,
  reserved: [
    { start: '1M', size: '1M', name: 'kernel' },
    { start: 0x1234000, size: 0x3000, name: 'initrd' },
  ],
};

const MACHINES: readonly MachineChoice[] = ['tiny', TWO_NODES, RESERVED];

// ---------------------------------------------------------------- assertions

function fmt(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function hex5(pfn: Pfn): string {
  return pfn.toString(16).padStart(5, '0');
}

/** The state a case works on: the environment, the allocator and a failure label. */
class Harness extends ConformanceChecks {
  readonly env: PageAllocatorEnv;
  readonly a: CheckablePageAllocator;
  /** Allocation ids per frame (0 = not allocated by this case). */
  private readonly owner: Int32Array;
  private nextId = 1;
  /** Live blocks: pfn → order. */
  readonly live = new Map<Pfn, number>();

  constructor(label: string, factory: Factory, machine: MachineChoice) {
    super(label);
    this.env = createPageAllocatorEnv(machine);
    this.a = factory(this.env);
    this.owner = new Int32Array(this.env.machine.maxPfn);
  }

  /** verify() must find nothing. */
  clean(when: string): void {
    const problems = this.a.verify();
    if (problems.length > 0) {
      this.fail(
        `verify() ${when} reports ${problems.length} problem(s): ${problems.slice(0, 5).join('; ')}`,
      );
    }
  }

  /** The populated zones as [nid, type]. */
  zones(): { nid: number; type: number; start: number; end: number; name: string }[] {
    return this.env.machine.zones
      .filter((z) => z.presentPages > 0)
      .map((z) => ({
        nid: z.nid,
        type: z.type,
        start: z.startPfn,
        end: z.startPfn + z.spannedPages,
        name: z.name,
      }));
  }

  /** nrFreePages() of every populated zone and of the machine, after drain(). */
  counters(): number[] {
    this.a.drain();
    const out = this.zones().map((z) => this.a.nrFreePages(z.nid, z.type));
    out.push(this.a.nrFreePages());
    return out;
  }

  /** free blocks per (zone, order) after drain(). */
  blocks(): number[] {
    this.a.drain();
    const out: number[] = [];
    for (const z of this.zones()) {
      for (let o = 0; o < NR_PAGE_ORDERS; o++) out.push(this.a.nrFreeBlocks(z.nid, z.type, o));
    }
    return out;
  }

  sameCounters(before: number[], when: string): void {
    const after = this.counters();
    const zones = this.zones();
    for (let i = 0; i < before.length; i++) {
      if (after[i] !== before[i]) {
        const where = i < zones.length ? `node ${zones[i]!.nid} ${zones[i]!.name}` : 'the machine';
        this.fail(`nrFreePages of ${where} ${when}: expected ${before[i]}, got ${after[i]}`);
      }
    }
  }

  /** The node a request with `nid` prefers (NUMA_NO_NODE: the current CPU's). */
  preferredNode(nid: number): number {
    return nid < 0 ? this.env.machine.cpuToNode(this.env.ctx.cpu) : nid;
  }

  /**
   * allocPages() that must succeed and return a block the contract allows; the block is
   * remembered as live (overlap with another live block fails the case).
   */
  alloc(gfp: Gfp, order: number, nid = -1): Pfn {
    const pfn = this.a.allocPages(gfp, order, nid);
    if (pfn === NO_PAGE)
      this.fail(
        `allocPages(0x${gfp.toString(16)}, ${order}, ${nid}) failed on a machine with room`,
      );
    this.checkBlock(pfn, gfp, order, nid);
    return pfn;
  }

  /** allocPages() that may fail (NO_PAGE); a block it returns is checked and remembered. */
  tryAlloc(gfp: Gfp, order: number, nid = -1): Pfn {
    const pfn = this.a.allocPages(gfp, order, nid);
    if (pfn !== NO_PAGE) this.checkBlock(pfn, gfp, order, nid);
    return pfn;
  }

  /** Allocate blocks of descending orders until even order 0 fails; returns the count. */
  exhaust(gfp: Gfp, nid = -1): number {
    const { maxPfn } = this.env.machine;
    let n = 0;
    for (let order = MAX_PAGE_ORDER; order >= 0; order--) {
      while (this.tryAlloc(gfp, order, nid) !== NO_PAGE) {
        if (++n > maxPfn)
          this.fail(`allocPages handed out more blocks than the machine has frames`);
      }
    }
    return n;
  }

  checkBlock(pfn: Pfn, gfp: Gfp, order: number, nid: number): void {
    const { machine, memMap } = this.env;
    const what = `allocPages(0x${gfp.toString(16)}, ${order}, ${nid}) = ${pfn}`;
    const n = 2 ** order;
    if (!Number.isInteger(pfn) || pfn < 0 || pfn + n > machine.maxPfn)
      this.fail(`${what}: not a block of the machine`);
    if (pfn % n !== 0) this.fail(`${what}: not aligned to order ${order}`);
    const node = memMap.node[pfn]!;
    const zone = memMap.zone[pfn]!;
    const highest = gfpZone(gfp);
    if (zone > highest)
      this.fail(
        `${what}: in ZONE_${ZONE_NAMES[zone]} but gfp_zone() allows up to ${ZONE_NAMES[highest]}`,
      );
    if (gfp & __GFP_THISNODE && node !== this.preferredNode(nid)) {
      this.fail(
        `${what}: on node ${node} despite __GFP_THISNODE for node ${this.preferredNode(nid)}`,
      );
    }
    const z = machine.zone(node, zone as 0);
    if (pfn < z.startPfn || pfn + n > z.startPfn + z.spannedPages)
      this.fail(`${what}: crosses the edge of its zone`);
    for (let p = pfn; p < pfn + n; p++) {
      if (!machine.isPfnRam(p)) this.fail(`${what}: frame ${p} is not RAM`);
      if (memMap.flags[p]! & (1 << PG_reserved)) this.fail(`${what}: frame ${p} is reserved`);
      if (memMap.node[p] !== node || memMap.zone[p] !== zone)
        this.fail(`${what}: frame ${p} is in another zone`);
      if (this.owner[p] !== 0) {
        this.fail(`${what}: frame ${p} is already part of the live block ${this.findHead(p)}`);
      }
      if (p > pfn && memMap.refcount[p] !== 0)
        this.fail(`${what}: tail frame ${p} has refcount ${memMap.refcount[p]}`);
    }
    this.eq(memMap.refcount[pfn], 1, `${what}: refcount of the head page`);
    this.eq(memMap.order[pfn], order, `${what}: order recorded in the head page`);
    const id = this.nextId++;
    this.owner.fill(id, pfn, pfn + n);
    this.live.set(pfn, order);
  }

  private findHead(p: Pfn): Pfn {
    for (const [pfn, order] of this.live) if (p >= pfn && p < pfn + 2 ** order) return pfn;
    return -1;
  }

  /** freePages() of a live block; afterwards its head has refcount 0. */
  free(pfn: Pfn): void {
    const order = this.live.get(pfn);
    if (order === undefined) this.fail(`free(${pfn}): not a live block of this case`);
    this.a.freePages(pfn, order);
    this.live.delete(pfn);
    this.owner.fill(0, pfn, pfn + 2 ** order);
    this.eq(
      this.env.memMap.refcount[pfn],
      0,
      `refcount of ${pfn} after freePages(${pfn}, ${order})`,
    );
  }

  /** Stop tracking a block freed by other means than free(). */
  forget(pfn: Pfn): void {
    const order = this.live.get(pfn);
    if (order === undefined) return;
    this.live.delete(pfn);
    this.owner.fill(0, pfn, pfn + 2 ** order);
  }

  freeAll(): void {
    for (const pfn of [...this.live.keys()]) this.free(pfn);
  }

  /** Klog lines printed from `seq` on. */
  logSince(seq: number): string[] {
    return this.env.klog.lines(seq);
  }
}

// ---------------------------------------------------------------- the cases

/**
 * The cases of the suite for allocators built by `factory`. Each case is independent: it
 * makes its own machine, environment and allocator.
 */
export function pageAllocatorConformance(
  factory: (env: PageAllocatorEnv) => CheckablePageAllocator,
  options: ConformanceOptions = {},
): ConformanceCase[] {
  let label = options.name;
  const harness = (machine: MachineChoice): Harness => {
    if (label === undefined) label = factory(createPageAllocatorEnv('tiny')).name;
    return new Harness(label, factory, machine);
  };
  const cases: ConformanceCase[] = [];
  const add = (name: string, run: () => void): void => {
    cases.push({ name, run });
  };

  add('boots with free pages == managed pages == present - reserved in every zone', () => {
    for (const machine of MACHINES) {
      const h = harness(machine);
      const { machine: m } = h.env;
      let total = 0;
      h.a.drain();
      for (const z of m.zones) {
        const where = `${m.name} node ${z.nid} ${z.name}`;
        const expected = z.presentPages - z.reservedPages;
        h.eq(h.a.managedPages(z.nid, z.type), expected, `managedPages of ${where}`);
        h.eq(h.a.nrFreePages(z.nid, z.type), expected, `nrFreePages of ${where} after boot`);
        let inBlocks = 0;
        for (let o = 0; o < NR_PAGE_ORDERS; o++)
          inBlocks += h.a.nrFreeBlocks(z.nid, z.type, o) * 2 ** o;
        h.eq(
          inBlocks,
          expected,
          `pages in the free blocks of ${where} (sum of nrFreeBlocks * 2^order)`,
        );
        total += expected;
      }
      for (let nid = 0; nid < m.nrNodes; nid++) {
        const node = m.zones
          .filter((z) => z.nid === nid)
          .reduce((s, z) => s + z.presentPages - z.reservedPages, 0);
        h.eq(h.a.nrFreePages(nid), node, `nrFreePages(${nid}) of ${m.name}`);
      }
      h.eq(h.a.nrFreePages(), total, `nrFreePages() of ${m.name}`);
      h.clean(`after booting ${m.name}`);
    }
  });

  add(
    'allocPages returns order-aligned blocks inside the zones gfp_zone() allows, preferred zone first',
    () => {
      for (const machine of ['tiny', RESERVED] as const) {
        const h = harness(machine);
        const local = h.zones().filter((z) => z.nid === 0);
        const gfps = [
          GFP_DMA,
          GFP_DMA32,
          GFP_KERNEL | GFP_DMA32,
          GFP_KERNEL,
          GFP_ATOMIC,
          GFP_USER,
          GFP_HIGHUSER_MOVABLE,
        ];
        for (const gfp of gfps) {
          // The first zone of the zonelist: the highest populated zone gfp_zone() allows.
          const highest = gfpZone(gfp);
          const preferred = local
            .filter((z) => z.type <= highest)
            .reduce((a, z) => Math.max(z.type, a), -1);
          for (const order of [0, 1, 3, 5, 9, MAX_PAGE_ORDER]) {
            const pfn = h.alloc(gfp, order);
            h.eq(
              ZONE_NAMES[h.env.memMap.zone[pfn]!],
              ZONE_NAMES[preferred],
              `zone of allocPages(0x${gfp.toString(16)}, ${order}) on a fresh ${h.env.machine.name}`,
            );
            h.free(pfn);
          }
        }
        h.clean(`after allocating from every zone of ${h.env.machine.name}`);
      }
      // On the machine with every zone type: exact zones for the usual requests.
      const h = harness(RESERVED);
      h.eq(
        ZONE_NAMES[h.env.memMap.zone[h.alloc(GFP_KERNEL, 0)]!],
        'Normal',
        'GFP_KERNEL zone when ZONE_NORMAL exists',
      );
      h.eq(
        ZONE_NAMES[h.env.memMap.zone[h.alloc(GFP_HIGHUSER_MOVABLE, 0)]!],
        'Movable',
        'GFP_HIGHUSER_MOVABLE zone',
      );
      h.eq(
        ZONE_NAMES[h.env.memMap.zone[h.alloc(GFP_KERNEL | GFP_DMA32, 0)]!],
        'DMA32',
        'GFP_KERNEL|GFP_DMA32 zone',
      );
      h.eq(ZONE_NAMES[h.env.memMap.zone[h.alloc(GFP_DMA, 0)]!], 'DMA', 'GFP_DMA zone');
      h.freeAll();
      h.clean('after the per-zone allocations');
    },
  );

  add('GFP_DMA only ever returns ZONE_DMA frames and GFP_DMA32 nothing above ZONE_DMA32', () => {
    const h = harness(RESERVED);
    const before = h.counters();
    // Exhaust: every block is checked against gfp_zone() as it comes.
    const nDma = h.exhaust(GFP_DMA | __GFP_NOWARN);
    h.ok(nDma > 0, 'GFP_DMA allocations succeed on a machine with ZONE_DMA');
    for (const pfn of h.live.keys())
      h.eq(h.env.memMap.zone[pfn], ZONE_DMA, `zone of GFP_DMA block ${pfn}`);
    h.freeAll();
    h.sameCounters(before, 'after freeing every GFP_DMA block');
    h.exhaust(GFP_KERNEL | GFP_DMA32 | __GFP_NOWARN);
    for (const pfn of h.live.keys())
      h.ok(h.env.memMap.zone[pfn]! <= ZONE_DMA32, `GFP_DMA32 block ${pfn} is at most DMA32`);
    h.ok(
      [...h.live.keys()].some((pfn) => h.env.memMap.zone[pfn] === ZONE_DMA32),
      'GFP_KERNEL|GFP_DMA32 allocations use ZONE_DMA32',
    );
    h.freeAll();
    h.sameCounters(before, 'after freeing every GFP_DMA32 block');
    h.clean('after exhausting ZONE_DMA and ZONE_DMA32');
  });

  add(
    'an alloc/free round trip restores nrFreePages (and the free blocks) exactly after drain()',
    () => {
      const h = harness(TWO_NODES);
      const before = h.counters();
      const blocksBefore = h.blocks();
      const gfps = [
        GFP_KERNEL,
        GFP_ATOMIC,
        GFP_HIGHUSER_MOVABLE,
        GFP_KERNEL | __GFP_RECLAIMABLE,
        GFP_DMA,
        GFP_KERNEL | __GFP_THISNODE,
      ];
      let pages = 0;
      for (let order = 0; order <= MAX_PAGE_ORDER; order++) {
        for (let i = 0; i < gfps.length; i++) {
          if (order >= 9 && i > 2) continue;
          h.alloc(gfps[i]!, order, i % 2 === 0 ? -1 : 1);
          pages += 2 ** order;
        }
      }
      h.a.drain();
      h.eq(
        h.a.nrFreePages(),
        before[before.length - 1]! - pages,
        'nrFreePages() with the blocks allocated, after drain()',
      );
      const prng = new Prng('round-trip');
      const order = [...h.live.keys()];
      for (let i = order.length - 1; i > 0; i--) {
        const j = prng.nextInt(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (const pfn of order) h.free(pfn);
      h.sameCounters(before, 'after freeing every block and drain()');
      const blocksAfter = h.blocks();
      for (let i = 0; i < blocksBefore.length; i++) {
        const z = h.zones()[Math.floor(i / NR_PAGE_ORDERS)]!;
        h.eq(
          blocksAfter[i],
          blocksBefore[i],
          `nrFreeBlocks(${z.nid}, ${z.name}, ${i % NR_PAGE_ORDERS}) after the round trip`,
        );
      }
      h.clean('after the round trip');
    },
  );

  add(
    'the head page has refcount 1 and its order after allocPages, refcount 0 after freePages',
    () => {
      const h = harness('tiny');
      const mm = h.env.memMap;
      for (let order = 0; order <= MAX_PAGE_ORDER; order++) {
        const pfn = h.alloc(GFP_KERNEL, order);
        h.eq(mm.refcount[pfn], 1, `refcount of the head of an order-${order} block`);
        h.eq(mm.order[pfn], order, `order of the head of an order-${order} block`);
        for (let p = pfn + 1; p < pfn + 2 ** order; p++)
          h.eq(mm.refcount[p], 0, `refcount of tail page ${p}`);
        h.free(pfn);
        h.eq(mm.refcount[pfn], 0, `refcount after freeing the order-${order} block`);
        h.eq(mm.flags[pfn]! & (1 << PG_head), 0, 'PG_head after free');
      }
      h.clean('after alloc/free of every order');
    },
  );

  add('__GFP_ZERO returns zeroed memory even after the frames were dirtied and freed', () => {
    const h = harness('tiny');
    const mem = h.env.memory;
    const dirty = new Set<Pfn>();
    for (const order of [0, 0, 0, 0, 3, 3, MAX_PAGE_ORDER]) {
      const pfn = h.alloc(GFP_KERNEL, order);
      mem.fill(pfn * PAGE_SIZE, PAGE_SIZE << order, 0xa5);
      for (let p = pfn; p < pfn + 2 ** order; p++) dirty.add(p);
    }
    h.freeAll();
    let reused = 0;
    for (const order of [0, 0, 0, 0, 3, 3, MAX_PAGE_ORDER]) {
      const pfn = h.alloc(GFP_KERNEL | __GFP_ZERO, order);
      const at = mem.findNot(pfn * PAGE_SIZE, PAGE_SIZE << order, 0);
      if (at >= 0)
        h.fail(`__GFP_ZERO block ${pfn} of order ${order} has a non-zero byte at offset ${at}`);
      for (let p = pfn; p < pfn + 2 ** order; p++) if (dirty.has(p)) reused++;
    }
    h.ok(
      reused > 0,
      '__GFP_ZERO allocations never reused a dirtied frame: the check proved nothing',
    );
    h.freeAll();
    h.clean('after the __GFP_ZERO allocations');
  });

  add('__GFP_COMP makes a compound page: PG_head on the head of a block of order > 0', () => {
    const h = harness('tiny');
    const mm = h.env.memMap;
    for (const order of [1, 2, 9, MAX_PAGE_ORDER]) {
      const pfn = h.alloc(GFP_KERNEL | __GFP_COMP, order);
      h.ok(mm.isHead(pfn), `PG_head is set on an order-${order} __GFP_COMP block`);
      h.eq(mm.order[pfn], order, `compound order of the order-${order} block`);
      const plain = h.alloc(GFP_KERNEL, order);
      h.ok(!mm.isHead(plain), `PG_head is not set on an order-${order} block without __GFP_COMP`);
      h.free(pfn);
      h.ok(!mm.isHead(pfn), 'PG_head is cleared by freePages');
      h.free(plain);
    }
    const single = h.alloc(GFP_KERNEL | __GFP_COMP, 0);
    h.ok(!mm.isHead(single), 'an order-0 page is never compound (prep_new_page)');
    h.free(single);
    h.clean('after the compound allocations');
  });

  add('no two live blocks overlap over hundreds of mixed-order allocations and frees', () => {
    const h = harness(TWO_NODES);
    const before = h.counters();
    const prng = new Prng('overlap');
    const gfps = [
      GFP_KERNEL,
      GFP_ATOMIC,
      GFP_HIGHUSER_MOVABLE,
      GFP_DMA,
      GFP_KERNEL | GFP_DMA32,
      GFP_KERNEL | __GFP_THISNODE,
    ];
    const orders = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 8, MAX_PAGE_ORDER];
    for (let step = 0; step < 600; step++) {
      if (h.live.size > 0 && prng.nextInt(100) < 40) {
        const keys = [...h.live.keys()];
        h.free(keys[prng.nextInt(keys.length)]!);
      } else {
        const gfp = gfps[prng.nextInt(gfps.length)]! | __GFP_NOWARN;
        h.tryAlloc(gfp, orders[prng.nextInt(orders.length)]!, prng.nextInt(3) - 1);
      }
      if (step % 100 === 99) h.clean(`after step ${step}`);
    }
    h.ok(h.live.size > 0, 'some blocks are live at the end');
    h.freeAll();
    h.sameCounters(before, 'after freeing every block');
    h.clean('after the mixed run');
  });

  add(
    'exhausting memory returns NO_PAGE with the warn_alloc report, and nothing with __GFP_NOWARN',
    () => {
      const h = harness('tiny');
      const before = h.counters();
      h.exhaust(GFP_KERNEL | __GFP_NOWARN);
      const full = h.counters();
      let seq = h.env.klog.nextSeq;
      h.eq(
        h.a.allocPages(GFP_KERNEL | __GFP_NOWARN, 0),
        NO_PAGE,
        'allocPages(GFP_KERNEL|__GFP_NOWARN, 0) on a full machine',
      );
      h.eq(h.logSince(seq).length, 0, 'log lines printed by a failing __GFP_NOWARN allocation');
      seq = h.env.klog.nextSeq;
      h.eq(h.a.allocPages(GFP_KERNEL, 0), NO_PAGE, 'allocPages(GFP_KERNEL, 0) on a full machine');
      const lines = h.logSince(seq);
      h.eq(
        lines[0],
        'swapper/0: page allocation failure: order:0, mode:0xcc0(GFP_KERNEL), nodemask=(null),cpuset=/,mems_allowed=0',
        'first line of the warn_alloc report',
      );
      h.ok(lines.includes('Mem-Info:'), 'warn_alloc prints show_mem()');
      h.sameCounters(full, 'after the failed allocations');
      // More than ten seconds later the ratelimit lets the next report through.
      h.env.klog.clock.advance(11 * NSEC_PER_SEC);
      seq = h.env.klog.nextSeq;
      h.eq(
        h.a.allocPages(GFP_KERNEL | __GFP_COMP, 3),
        NO_PAGE,
        'allocPages(GFP_KERNEL|__GFP_COMP, 3) on a full machine',
      );
      h.eq(
        h.logSince(seq)[0],
        'swapper/0: page allocation failure: order:3, mode:0x40cc0(GFP_KERNEL|__GFP_COMP), nodemask=(null),cpuset=/,mems_allowed=0',
        'first line of the second warn_alloc report',
      );
      h.freeAll();
      h.sameCounters(before, 'after freeing everything');
      h.clean('after exhausting the machine');
    },
  );

  add(
    'warn_alloc is ratelimited to one report per 10 s, then says how many were suppressed',
    () => {
      // mm/page_alloc.c: DEFINE_RATELIMIT_STATE(nopage_rs, 10*HZ, 1); lib/ratelimit.c opens a
      // new window only when jiffies is *after* begin + interval, and then prints
      // "<func>: <n> callbacks suppressed" (func = warn_alloc) before the message.
      const h = harness('tiny');
      h.exhaust(GFP_KERNEL | __GFP_NOWARN);
      const first =
        'swapper/0: page allocation failure: order:0, mode:0xcc0(GFP_KERNEL), nodemask=(null),cpuset=/,mems_allowed=0';
      let seq = h.env.klog.nextSeq;
      h.eq(h.a.allocPages(GFP_KERNEL, 0), NO_PAGE, 'allocPages(GFP_KERNEL, 0) on a full machine');
      h.eq(h.logSince(seq)[0], first, 'the first warn_alloc report');
      seq = h.env.klog.nextSeq;
      h.eq(h.a.allocPages(GFP_KERNEL, 0), NO_PAGE, 'a second failure at once');
      h.eq(h.logSince(seq).length, 0, 'log lines of a second failure within 10 s (ratelimited)');
      h.env.klog.clock.advance(10 * NSEC_PER_SEC);
      seq = h.env.klog.nextSeq;
      h.eq(h.a.allocPages(GFP_KERNEL, 0), NO_PAGE, 'a failure exactly 10 s after the first');
      h.eq(
        h.logSince(seq).length,
        0,
        'log lines exactly 10 s later (jiffies must be after begin + 10*HZ)',
      );
      h.env.klog.clock.advance(TICK_NSEC);
      seq = h.env.klog.nextSeq;
      h.eq(h.a.allocPages(GFP_KERNEL, 0), NO_PAGE, 'a failure one jiffy later');
      const lines = h.logSince(seq);
      h.eq(lines[0], 'warn_alloc: 2 callbacks suppressed', 'the line before the next report');
      h.eq(lines[1], first, 'the next warn_alloc report');
      h.freeAll();
      h.clean('after the ratelimited failures');
    },
  );

  add(
    '__GFP_THISNODE never leaves the node; without it the request falls back and counts numa_miss/numa_foreign',
    () => {
      const h = harness(TWO_NODES);
      const stat = h.env.numaStat;
      h.eq(h.env.machine.cpuToNode(h.env.ctx.cpu), 0, 'node of the current CPU');
      const n = h.exhaust(GFP_KERNEL | __GFP_THISNODE | __GFP_NOWARN, 1);
      h.ok(n > 0, '__GFP_THISNODE allocations on node 1 succeed');
      for (const pfn of h.live.keys())
        h.eq(h.env.memMap.node[pfn], 1, `node of __GFP_THISNODE block ${pfn}`);
      // zone_statistics(preferred, zone, 1): one event per allocation, whatever its order.
      const n1 = stat.nodeCounters(1);
      h.eq(n1.numa_hit, n, 'numa_hit of node 1 after its __GFP_THISNODE allocations');
      h.eq(n1.other_node, n, 'other_node of node 1 (the CPU is on node 0)');
      h.eq(
        n1.numa_miss + n1.numa_foreign + n1.local_node,
        0,
        'numa_miss + numa_foreign + local_node of node 1',
      );
      h.eq(
        h.a.allocPages(GFP_KERNEL | __GFP_THISNODE | __GFP_NOWARN, 0, 1),
        NO_PAGE,
        '__GFP_THISNODE on the exhausted node 1',
      );
      const pfn = h.alloc(GFP_KERNEL, 0, 1);
      h.eq(h.env.memMap.node[pfn], 0, 'node of a GFP_KERNEL page preferring the exhausted node 1');
      const n0 = stat.nodeCounters(0);
      const n1After = stat.nodeCounters(1);
      h.eq(n0.numa_miss, 1, 'numa_miss of node 0 (gave a page node 1 wanted)');
      h.eq(n1After.numa_foreign, 1, 'numa_foreign of node 1 (wanted a page, got node 0)');
      h.eq(n0.local_node, 1, 'local_node of node 0');
      h.eq(n0.numa_hit, 0, 'numa_hit of node 0');
      h.eq(n1After.numa_hit, n, 'numa_hit of node 1 after the fallback');
      h.freeAll();
      h.clean('after the __GFP_THISNODE run');
    },
  );

  add('order > MAX_PAGE_ORDER returns NO_PAGE with one WARNING (none with __GFP_NOWARN)', () => {
    const h = harness('tiny');
    const before = h.counters();
    let seq = h.env.klog.nextSeq;
    h.eq(
      h.a.allocPages(GFP_KERNEL | __GFP_NOWARN, MAX_PAGE_ORDER + 1),
      NO_PAGE,
      'order 11 with __GFP_NOWARN',
    );
    h.eq(h.logSince(seq).length, 0, 'log lines of an order-11 __GFP_NOWARN request');
    seq = h.env.klog.nextSeq;
    h.eq(h.a.allocPages(GFP_KERNEL, MAX_PAGE_ORDER + 1), NO_PAGE, 'allocPages(GFP_KERNEL, 11)');
    const warning = h.logSince(seq).filter((l) => l.startsWith('WARNING: '));
    h.eq(warning.length, 1, 'WARNING lines after an order-11 request');
    h.ok(
      /^WARNING: CPU: 0 PID: 0 at mm\/page_alloc\.c:\d+ __alloc_pages_noprof/.test(warning[0]!),
      `the WARNING names __alloc_pages_noprof in mm/page_alloc.c: ${fmt(warning[0])}`,
    );
    seq = h.env.klog.nextSeq;
    h.eq(h.a.allocPages(GFP_KERNEL, 20), NO_PAGE, 'allocPages(GFP_KERNEL, 20)');
    h.eq(
      h.logSince(seq).filter((l) => l.startsWith('WARNING: ')).length,
      0,
      'WARNING lines the second time (WARN_ON_ONCE)',
    );
    h.sameCounters(before, 'after the order > MAX_PAGE_ORDER requests');
    h.clean('after the order > MAX_PAGE_ORDER requests');
  });

  add('JS misuse throws RangeError/TypeError and changes nothing', () => {
    const h = harness('tiny');
    const before = h.counters();
    const pfn = h.alloc(GFP_KERNEL, 1);
    const seq = h.env.klog.nextSeq;
    for (const order of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      h.throws(
        () => h.a.allocPages(GFP_KERNEL, order),
        RangeError,
        `allocPages(GFP_KERNEL, ${order})`,
      );
    }
    h.throws(() => h.a.allocPages(1.5, 0), TypeError, 'allocPages(1.5, 0)');
    h.throws(() => h.a.allocPages(-1, 0), RangeError, 'allocPages(-1, 0)');
    h.throws(
      () => h.a.allocPages(2 ** 30, 0),
      RangeError,
      'allocPages(2^30, 0): bits above __GFP_BITS_MASK',
    );
    h.throws(
      () => h.a.allocPages(GFP_KERNEL, 0, 1),
      RangeError,
      'allocPages(GFP_KERNEL, 0, 1) on a one-node machine',
    );
    h.throws(
      () => h.a.allocPages(GFP_KERNEL, 0, 0.5),
      RangeError,
      'allocPages(GFP_KERNEL, 0, 0.5)',
    );
    for (const order of [-1, 0.5, MAX_PAGE_ORDER + 1]) {
      h.throws(() => h.a.freePages(pfn, order), RangeError, `freePages(${pfn}, ${order})`);
    }
    for (const bad of [-1, 1.5, h.env.machine.maxPfn, Number.NaN]) {
      h.throws(() => h.a.freePages(bad, 0), RangeError, `freePages(${bad}, 0)`);
    }
    h.eq(h.logSince(seq).length, 0, 'log lines printed for JS misuse');
    h.eq(h.env.memMap.refcount[pfn], 1, 'refcount of the live block after the misuse');
    h.free(pfn);
    h.sameCounters(before, 'after the misuse');
    h.clean('after the misuse');
  });

  add('a node that is neither NUMA_NO_NODE (-1) nor an existing node is a RangeError', () => {
    const h = harness(TWO_NODES);
    const before = h.counters();
    const seq = h.env.klog.nextSeq;
    for (const nid of [-2, -0.5, Number.NEGATIVE_INFINITY, 2, 1.5, Number.NaN]) {
      h.throws(
        () => h.a.allocPages(GFP_KERNEL, 0, nid),
        RangeError,
        `allocPages(GFP_KERNEL, 0, ${nid})`,
      );
    }
    h.eq(h.logSince(seq).length, 0, 'log lines printed for a bad node');
    h.sameCounters(before, 'after the bad nodes');
    h.clean('after the bad nodes');
  });

  add(
    'two zone modifiers at once (gfp_zone() GFP_ZONE_BAD) are a logged kernel BUG and change nothing',
    () => {
      const h = harness('tiny');
      const before = h.counters();
      for (const gfp of [
        GFP_DMA | GFP_DMA32,
        GFP_KERNEL | GFP_DMA | __GFP_HIGHMEM,
        GFP_DMA32 | __GFP_HIGHMEM,
        GFP_KERNEL | GFP_DMA32 | __GFP_MOVABLE | __GFP_HIGHMEM,
      ]) {
        const seq = h.env.klog.nextSeq;
        h.throws(() => h.a.allocPages(gfp, 0), KernelOops, `allocPages(0x${gfp.toString(16)}, 0)`);
        h.ok(
          h.logSince(seq).includes(`kernel BUG at ${GFP_ZONE_BUG_LOCATION}!`),
          `the log has "kernel BUG at ${GFP_ZONE_BUG_LOCATION}!" after allocPages(0x${gfp.toString(16)}, 0)`,
        );
        h.sameCounters(before, `after allocPages(0x${gfp.toString(16)}, 0)`);
      }
      h.clean('after the bad zone modifiers');
    },
  );

  add(
    'a double free throws KernelOops with VM_BUG_ON_PAGE(page_ref_count(page) == 0) and changes nothing',
    () => {
      const h = harness('tiny');
      const mm = h.env.memMap;
      for (const order of [0, 3, MAX_PAGE_ORDER]) {
        const pfn = h.alloc(GFP_KERNEL, order);
        h.free(pfn);
        const before = h.counters();
        const seq = h.env.klog.nextSeq;
        h.throws(() => h.a.freePages(pfn, order), KernelOops, `second freePages(${pfn}, ${order})`);
        h.ok(
          h.logSince(seq).some((l) => l.includes('VM_BUG_ON_PAGE(page_ref_count(page) == 0)')),
          `the log says VM_BUG_ON_PAGE(page_ref_count(page) == 0) after the double free of ${pfn}`,
        );
        h.eq(mm.refcount[pfn], 0, `refcount of ${pfn} after the double free`);
        h.sameCounters(before, `after the double free of an order-${order} block`);
        h.clean(`after the double free of an order-${order} block`);
      }
      // A tail page of a live block, and a frame never allocated, are caught the same way.
      const live = h.alloc(GFP_KERNEL, 2);
      const before = h.counters();
      h.throws(() => h.a.freePages(live + 1, 0), KernelOops, `freePages of tail page ${live + 1}`);
      let never = -1;
      for (let p = 0; p < h.env.machine.maxPfn && never < 0; p++) {
        if (
          mm.refcount[p] === 0 &&
          !mm.isReserved(p) &&
          h.env.machine.isPfnRam(p) &&
          !h.live.has(p)
        )
          never = p;
      }
      if (never >= 0 && (never < live || never >= live + 4)) {
        h.throws(
          () => h.a.freePages(never, 0),
          KernelOops,
          `freePages of never-allocated pfn ${never}`,
        );
      }
      h.sameCounters(before, 'after freeing a tail page and a free frame');
      h.eq(mm.refcount[live], 1, 'refcount of the live block after the bad frees');
      h.free(live);
      h.clean('after the bad frees');
    },
  );

  add(
    'VM_BUG_ON_PAGE is dump_page() then a full BUG(): cut here, kernel BUG at, Oops #n, taint D',
    () => {
      // include/linux/mmdebug.h VM_BUG_ON_PAGE(): dump_page(page, "VM_BUG_ON_PAGE(cond)"); BUG();
      // lib/bug.c report_bug() prints the cut-here marker before "kernel BUG at"; the die
      // counter of arch/x86/kernel/dumpstack.c numbers the Oopses of the machine.
      const h = harness('tiny');
      for (const n of [1, 2]) {
        const pfn = h.alloc(GFP_KERNEL, 0);
        h.free(pfn);
        const seq = h.env.klog.nextSeq;
        const oops = h.throws(() => h.a.freePages(pfn, 0), KernelOops, `double free #${n}`);
        h.eq(oops.kind, 'BUG', 'KernelOops kind');
        const lines = h.logSince(seq);
        const dumped = lines.indexOf(
          'page dumped because: VM_BUG_ON_PAGE(page_ref_count(page) == 0)',
        );
        h.ok(dumped >= 0, 'dump_page() names the failed condition');
        h.eq(lines[dumped + 1], CUT_HERE, 'the line after dump_page()');
        h.ok(
          /^kernel BUG at \S+:\d+!$/.test(lines[dumped + 2] ?? ''),
          `"kernel BUG at file:line!" follows, got ${fmt(lines[dumped + 2])}`,
        );
        h.eq(
          lines[dumped + 3],
          `Oops: invalid opcode: 0000 [#${n}] PREEMPT SMP NOPTI`,
          `the Oops line of BUG #${n}`,
        );
        h.ok(h.env.ctx.isTainted('D'), 'the kernel is tainted D (died) after a BUG');
      }
      h.clean('after two BUGs');
    },
  );

  add('freeing a reserved page reports "BUG: Bad page state" and changes nothing', () => {
    const h = harness(RESERVED);
    const mm = h.env.memMap;
    const kernel = h.env.machine.reserved.find((r) => r.name === 'kernel')!;
    for (const pfn of [kernel.startPfn, kernel.startPfn + 7, 0]) {
      const before = h.counters();
      const flags = mm.flags[pfn];
      const ref = mm.refcount[pfn];
      h.ok(mm.isReserved(pfn), `pfn ${pfn} is PG_reserved after boot`);
      const seq = h.env.klog.nextSeq;
      h.a.freePages(pfn, 0);
      h.eq(
        h.logSince(seq)[0],
        `BUG: Bad page state in process swapper/0  pfn:${hex5(pfn)}`,
        `first report line for pfn ${pfn}`,
      );
      h.eq(mm.flags[pfn], flags, `flags of reserved pfn ${pfn} after the bad free`);
      h.eq(mm.refcount[pfn], ref, `refcount of reserved pfn ${pfn} after the bad free`);
      h.sameCounters(before, `after freeing reserved pfn ${pfn}`);
      h.clean(`after freeing reserved pfn ${pfn}`);
    }
    h.ok(h.env.ctx.isTainted('B'), 'the kernel is tainted B (bad page)');
  });

  add('freeing with the wrong order throws KernelOops and changes nothing', () => {
    const h = harness('tiny');
    const mm = h.env.memMap;
    for (const gfp of [GFP_KERNEL, GFP_KERNEL | __GFP_COMP]) {
      const pfn = h.alloc(gfp, 2);
      const before = h.counters();
      const flags = mm.flags[pfn];
      for (const wrong of [0, 1, 3]) {
        h.throws(
          () => h.a.freePages(pfn, wrong),
          KernelOops,
          `freePages(${pfn}, ${wrong}) of an order-2 block`,
        );
        h.eq(mm.refcount[pfn], 1, `refcount after freePages with order ${wrong}`);
        h.eq(mm.order[pfn], 2, `order after freePages with order ${wrong}`);
        h.eq(mm.flags[pfn], flags, `flags after freePages with order ${wrong}`);
        h.sameCounters(before, `after freePages(${pfn}, ${wrong})`);
        h.clean(`after freePages(${pfn}, ${wrong})`);
      }
      h.free(pfn);
    }
    h.clean('after the wrong-order frees');
  });

  add('a block with an extra reference is freed by the last freePages only', () => {
    const h = harness('tiny');
    const mm = h.env.memMap;
    const before = h.counters();
    // Compound: the whole block stays until the last reference goes.
    const comp = h.alloc(GFP_KERNEL | __GFP_COMP, 2);
    const withBlocks = h.counters();
    mm.refcount[comp]!++; // get_page()
    h.a.freePages(comp, 2);
    h.eq(mm.refcount[comp], 1, 'refcount of a compound block after one of two frees');
    h.sameCounters(withBlocks, 'after dropping one of two references to a compound block');
    h.free(comp);
    h.sameCounters(before, 'after dropping the last reference to a compound block');
    // Not compound: __free_pages() frees all but the first page at once.
    const plain = h.alloc(GFP_KERNEL, 2);
    const all = h.counters();
    mm.refcount[plain]!++;
    h.a.freePages(plain, 2);
    h.eq(mm.refcount[plain], 1, 'refcount of the first page after one of two frees');
    h.eq(mm.order[plain], 0, 'the first page of a split non-compound block is order 0');
    h.eq(
      h.counters()[all.length - 1],
      all[all.length - 1]! + 3,
      'nrFreePages() after one free of a shared non-compound block',
    );
    h.clean('with only the first page of the block held');
    h.a.freePages(plain, 0);
    h.forget(plain);
    h.sameCounters(before, 'after the holder drops the first page');
    h.clean('after the extra-reference frees');
  });

  add('dropping one of several references of a mapped page is silent (put_page())', () => {
    const h = harness('tiny');
    const mm = h.env.memMap;
    const before = h.counters();
    // A page two processes map after fork(): each unmap drops one mapping and one reference.
    const pfn = h.alloc(GFP_KERNEL, 0);
    mm.refcount[pfn]!++;
    mm.mapcount[pfn] = 2;
    const seq = h.env.klog.nextSeq;
    mm.mapcount[pfn]!--;
    h.a.freePages(pfn, 0);
    h.eq(h.env.klog.nextSeq, seq, 'log records after put_page() of a still-mapped shared page');
    h.eq(mm.refcount[pfn], 1, 'refcount after one of two references went');
    mm.mapcount[pfn]!--;
    h.free(pfn);
    h.sameCounters(before, 'after the last reference went');
    h.clean('after the shared-page frees');
  });

  return cases;
}

/**
 * Register the suite with a test framework:
 * `runPageAllocatorConformance(createBuddyAllocator, { describe, it })`.
 */
export function runPageAllocatorConformance(
  factory: (env: PageAllocatorEnv) => CheckablePageAllocator,
  registrar: TestRegistrar & ConformanceOptions,
): void {
  const name = registrar.name ?? factory(createPageAllocatorEnv('tiny')).name;
  const cases = pageAllocatorConformance(factory, { name });
  registerConformance(`PageAllocator conformance: ${name}`, cases, registrar);
}
