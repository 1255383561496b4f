/**
 * Building an allocator's environment, and the boot steps every page allocator shares:
 * initialising struct pages (mm/mm_init.c memmap_init) and handing free memory over the way
 * memblock does (mm/memblock.c memblock_free_all → __free_pages_memory).
 */
import {
  __GFP_BITS_MASK,
  __GFP_COMP,
  __GFP_ZERO,
  ExecContext,
  GFP_ZONEMASK,
  type Gfp,
  Klog,
  MAX_NR_ZONES,
  MAX_PAGE_ORDER,
  MemMap,
  MIGRATE_TYPES,
  NUMA_NO_NODE,
  PAGE_SHIFT,
  PAGE_SIZE,
  PAGEBLOCK_NR_PAGES,
  PAGEBLOCK_ORDER,
  type Pfn,
  PG_reserved,
  PGTY_NONE,
  PhysicalMemory,
  SimClock,
  ZONE_NAMES,
  type ZoneType,
} from '@mmsim/core';
import {
  createMachine,
  type Machine,
  type MachineSpec,
  NumaStat,
  type PresetName,
} from '@mmsim/numa';
import type { PageAllocatorEnv, ZoneSnapshot } from './api.js';

export interface EnvOptions {
  klog?: Klog;
  clock?: SimClock;
  ctx?: ExecContext;
  /** Use this memory instead of a new sparse one (it must cover machine.maxPfn pages). */
  memory?: PhysicalMemory;
}

/** A machine with fresh memory, memmap, log, context and numastat, ready for an allocator. */
export function createPageAllocatorEnv(
  machine: Machine | MachineSpec | PresetName,
  options: EnvOptions = {},
): PageAllocatorEnv {
  const m = typeof machine === 'object' && 'zones' in machine ? machine : createMachine(machine);
  const clock = options.clock ?? new SimClock();
  const klog = options.klog ?? new Klog({ clock });
  const ctx = options.ctx ?? new ExecContext({ nrCpus: m.nrCpus, klog, clock });
  const memory = options.memory ?? new PhysicalMemory(m.maxPfn * PAGE_SIZE);
  if (memory.nrPages < m.maxPfn) {
    throw new RangeError(
      `memory has ${memory.nrPages} pages but the machine needs ${m.maxPfn} (maxPfn)`,
    );
  }
  return {
    machine: m,
    memory,
    memMap: new MemMap(m.maxPfn),
    klog,
    ctx,
    numaStat: new NumaStat(m.nrNodes),
  };
}

/** A range of frames [startPfn, endPfn) in one zone of one node. */
export interface ZoneRange {
  startPfn: Pfn;
  endPfn: Pfn;
  nid: number;
  zoneType: number;
}

/**
 * memmap_init(): give every frame its zone and node; mark frames that are not RAM (holes,
 * "unavailable ranges") and memblock-reserved frames PG_reserved with one reference, as
 * reserve_bootmem_region() leaves them. Free frames keep flags 0 / refcount 0.
 */
export function memmapInit(env: PageAllocatorEnv): void {
  const { machine, memMap } = env;
  for (const z of machine.zones) {
    if (z.spannedPages === 0) continue;
    memMap.initRange(z.startPfn, z.startPfn + z.spannedPages, z.nid, z.type);
  }
  // Everything that is not RAM below maxPfn is a hole: reserved, as init_unavailable_range().
  let next = 0;
  const ram = [...machine.memoryRanges].sort((a, b) => a.startPfn - b.startPfn);
  for (const r of ram) {
    if (r.startPfn > next) markReserved(memMap, next, r.startPfn);
    next = Math.max(next, r.endPfn);
  }
  if (next < machine.maxPfn) markReserved(memMap, next, machine.maxPfn);
  for (const r of machine.reserved) markReserved(memMap, r.startPfn, r.endPfn);
}

function markReserved(memMap: MemMap, start: Pfn, end: Pfn): void {
  const bit = 1 << PG_reserved;
  for (let pfn = start; pfn < end; pfn++) {
    memMap.flags[pfn]! |= bit;
    memMap.refcount[pfn] = 1;
  }
}

/**
 * for_each_free_mem_range(): RAM minus memblock reservations, split at zone boundaries so
 * that no block handed to a zone crosses into another.
 */
export function freeRanges(machine: Machine): ZoneRange[] {
  const reserved = [...machine.reserved].sort((a, b) => a.startPfn - b.startPfn);
  const out: ZoneRange[] = [];
  for (const z of machine.zones) {
    for (const r of z.ranges) {
      let start = r.startPfn;
      const end = r.endPfn;
      for (const res of reserved) {
        if (res.endPfn <= start || res.startPfn >= end) continue;
        if (res.startPfn > start)
          out.push({ startPfn: start, endPfn: res.startPfn, nid: z.nid, zoneType: z.type });
        start = Math.max(start, res.endPfn);
        if (start >= end) break;
      }
      if (start < end) out.push({ startPfn: start, endPfn: end, nid: z.nid, zoneType: z.type });
    }
  }
  return out;
}

/**
 * mm/memblock.c __free_pages_memory(): cut [start, end) into the largest naturally aligned
 * blocks, at most MAX_PAGE_ORDER, and call `free(pfn, order)` for each, lowest first.
 */
export function forEachBootBlock(
  start: Pfn,
  end: Pfn,
  free: (pfn: Pfn, order: number) => void,
): void {
  while (start < end) {
    let order = MAX_PAGE_ORDER;
    if (start !== 0) {
      // __ffs(start): the lowest set bit bounds the alignment.
      let ffs = 0;
      while (ffs < MAX_PAGE_ORDER && (start / 2 ** ffs) % 2 === 0) ffs++;
      order = Math.min(MAX_PAGE_ORDER, ffs);
    }
    while (start + 2 ** order > end) order--;
    free(start, order);
    start += 2 ** order;
  }
}

/**
 * pagetypeinfo_showblockcount_print(): the pageblocks of a zone's RAM per migrate type,
 * walking from the zone start aligned down to a pageblock.
 */
export function countPageblocks(env: PageAllocatorEnv, startPfn: Pfn, endPfn: Pfn): number[] {
  const counts = new Array<number>(MIGRATE_TYPES).fill(0);
  for (
    let pfn = startPfn - (startPfn % PAGEBLOCK_NR_PAGES);
    pfn < endPfn;
    pfn += PAGEBLOCK_NR_PAGES
  ) {
    const p = Math.max(pfn, startPfn);
    if (!env.machine.isPfnRam(p)) continue;
    counts[env.memMap.migratetype(p)]!++;
  }
  return counts;
}

/** Free pages in blocks of pageblock_order or more (6.18 zoneinfo: nr_free_pages_blocks). */
export function freePagesInBlocks(nrFree: readonly number[]): number {
  let pages = 0;
  for (let o = PAGEBLOCK_ORDER; o < nrFree.length; o++) pages += (nrFree[o] ?? 0) * 2 ** o;
  return pages;
}

/** mm/vmstat.c calculate_normal_threshold(): the per-cpu counter fold threshold of a zone. */
export function vmStatThreshold(managedPages: number, nrCpus: number): number {
  const fls = (x: number): number => (x === 0 ? 0 : Math.floor(Math.log2(x)) + 1);
  const mem = Math.floor(managedPages / 2 ** (27 - PAGE_SHIFT));
  return Math.min(125, 2 * fls(nrCpus) * (1 + fls(mem)));
}

/**
 * build_zonelists(): for each node and highest usable zone, the zone slots to try in order —
 * the node's zones from the highest down, then each node of fallbackOrder() the same way
 * (ZONELIST_FALLBACK); and the node's own zones only (ZONELIST_NOFALLBACK, __GFP_THISNODE).
 * Indexed by nid * MAX_NR_ZONES + highest zone type.
 */
export function buildZonelists(machine: Machine): {
  fallback: Int32Array[];
  thisNode: Int32Array[];
} {
  const populated = (nid: number, type: number): boolean =>
    (machine.zones[nid * MAX_NR_ZONES + type]?.presentPages ?? 0) > 0;
  const fallback: Int32Array[] = [];
  const thisNode: Int32Array[] = [];
  for (let nid = 0; nid < machine.nrNodes; nid++) {
    for (let highest = 0; highest < MAX_NR_ZONES; highest++) {
      const zonesOf = (n: number): number[] => {
        const slots: number[] = [];
        for (let t = highest; t >= 0; t--) if (populated(n, t)) slots.push(n * MAX_NR_ZONES + t);
        return slots;
      };
      fallback[nid * MAX_NR_ZONES + highest] = Int32Array.from(
        machine.fallbackOrder(nid).flatMap(zonesOf),
      );
      thisNode[nid * MAX_NR_ZONES + highest] = Int32Array.from(zonesOf(nid));
    }
  }
  return { fallback, thisNode };
}

/**
 * The constants of prepNewPage(), isOrdinaryRequest() and isOrdinaryFree(), which run on
 * every allocation and free: enum members are written in as literals by esbuild, where a
 * module-level or imported `const` is loaded and checked on every use. Checked against
 * @mmsim/core below.
 */
enum E {
  NUMA_NO_NODE = -1,
  PGTY_NONE = 0,
  MAX_PAGE_ORDER = 10,
  GFP_ZONEMASK = 0xf,
  __GFP_ZERO = 0x100,
  PAGE_SIZE = 0x1000,
  PG_RESERVED_BIT = 0x2000,
  /** include/linux/gfp.h GFP_ZONE_BAD: the zone-modifier combinations that are a BUG. */
  GFP_ZONE_BAD_BITS = 0xe8e8,
  __GFP_COMP = 0x40000,
  __GFP_BITS_MASK = 0x1ffffff,
}
if (
  E.NUMA_NO_NODE !== NUMA_NO_NODE ||
  E.PGTY_NONE !== PGTY_NONE ||
  E.MAX_PAGE_ORDER !== MAX_PAGE_ORDER ||
  E.GFP_ZONEMASK !== GFP_ZONEMASK ||
  E.__GFP_ZERO !== __GFP_ZERO ||
  E.PAGE_SIZE !== PAGE_SIZE ||
  E.PG_RESERVED_BIT !== 1 << PG_reserved ||
  E.__GFP_COMP !== __GFP_COMP ||
  E.__GFP_BITS_MASK !== __GFP_BITS_MASK
) {
  throw new Error('page-alloc: a constant of @mmsim/core changed; update enum E of env.ts');
}

/** prep_new_page(): refcount 1, the allocation order recorded, __GFP_ZERO, __GFP_COMP. */
export function prepNewPage(env: PageAllocatorEnv, pfn: Pfn, order: number, gfp: Gfp): void {
  const mm = env.memMap;
  mm.refcount[pfn] = 1;
  mm.order[pfn] = order;
  mm.owner[pfn] = 0;
  if (gfp & E.__GFP_ZERO) env.memory.fill(pfn * E.PAGE_SIZE, E.PAGE_SIZE << order, 0);
  if (gfp & E.__GFP_COMP && order > 0) mm.prepCompoundPage(pfn, order);
}

/**
 * Is this an ordinary allocation request: a valid order up to MAX_PAGE_ORDER, valid GFP
 * bits with at most one zone modifier, an existing node or NUMA_NO_NODE? Anything else goes
 * to AllocReports.rejectAlloc(), which reports it as Linux does.
 */
export function isOrdinaryRequest(gfp: Gfp, order: number, nid: number, nrNodes: number): boolean {
  return (
    order >>> 0 === order &&
    order <= E.MAX_PAGE_ORDER &&
    gfp >>> 0 === gfp &&
    gfp <= E.__GFP_BITS_MASK &&
    (nid === E.NUMA_NO_NODE || (nid >= 0 && nid < nrNodes && (nid | 0) === nid)) &&
    ((E.GFP_ZONE_BAD_BITS >>> (gfp & E.GFP_ZONEMASK)) & 1) === 0
  );
}

/**
 * Is this an ordinary free: a valid order, an allocated head with one reference, not
 * reserved, untyped, unmapped, freed with the order it was allocated with? Anything else
 * goes to AllocReports.checkFree().
 */
export function isOrdinaryFree(mm: MemMap, pfn: Pfn, order: number): boolean {
  return (
    order >>> 0 === order &&
    pfn >>> 0 === pfn &&
    pfn < mm.nrPages &&
    mm.refcount[pfn] === 1 &&
    mm.order[pfn] === order &&
    (mm.flags[pfn]! & E.PG_RESERVED_BIT) === 0 &&
    mm.pageType[pfn] === E.PGTY_NONE &&
    mm.mapcount[pfn] === 0
  );
}

/** The fields of a ZoneSnapshot that come from the machine and the free lists alone. */
export function zoneSnapshotBase(
  env: PageAllocatorEnv,
  nid: number,
  zoneType: number,
  counts: { managed: number; free: number; nrFree: number[]; nrFreeByType: number[][] },
): Omit<
  ZoneSnapshot,
  | 'boost'
  | 'min'
  | 'low'
  | 'high'
  | 'promo'
  | 'nrReservedHighatomic'
  | 'freePcp'
  | 'localPcp'
  | 'lowmemReserve'
> {
  const z = env.machine.zone(nid, zoneType as ZoneType);
  return {
    nid,
    zoneType,
    name: ZONE_NAMES[zoneType]!,
    startPfn: z.startPfn,
    spanned: z.spannedPages,
    present: z.presentPages,
    managed: counts.managed,
    free: counts.free,
    nrFree: counts.nrFree,
    nrFreeByType: counts.nrFreeByType,
    pageblocksByType: countPageblocks(env, z.startPfn, z.startPfn + z.spannedPages),
    nrFreePagesBlocks: freePagesInBlocks(counts.nrFree),
    statThreshold: vmStatThreshold(counts.managed, env.machine.nrCpus),
  };
}

/**
 * A whole ZoneSnapshot for an allocator (or a view) that keeps no watermarks, boost, pcp
 * lists or lowmem_reserve: zoneSnapshotBase() with those fields 0.
 */
export function zoneSnapshotWithoutWatermarks(
  env: PageAllocatorEnv,
  nid: number,
  zoneType: number,
  counts: { managed: number; free: number; nrFree: number[]; nrFreeByType: number[][] },
): ZoneSnapshot {
  return {
    ...zoneSnapshotBase(env, nid, zoneType, counts),
    boost: 0,
    min: 0,
    low: 0,
    high: 0,
    promo: 0,
    nrReservedHighatomic: 0,
    freePcp: 0,
    localPcp: 0,
    lowmemReserve: new Array<number>(MAX_NR_ZONES).fill(0),
  };
}
