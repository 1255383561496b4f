/**
 * Building an allocator's environment, and the boot steps every page allocator shares:
 * initialising struct pages (mm/mm_init.c memmap_init) and handing free memory over the way
 * memblock does (mm/memblock.c memblock_free_all → __free_pages_memory).
 */
import {
  ExecContext,
  Klog,
  MAX_PAGE_ORDER,
  MemMap,
  MIGRATE_TYPES,
  PAGE_SHIFT,
  PAGE_SIZE,
  PAGEBLOCK_NR_PAGES,
  PAGEBLOCK_ORDER,
  type Pfn,
  PG_reserved,
  PhysicalMemory,
  SimClock,
} from '@mmsim/core';
import {
  createMachine,
  type Machine,
  type MachineSpec,
  NumaStat,
  type PresetName,
} from '@mmsim/numa';
import type { PageAllocatorEnv } from './api.js';

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
