/**
 * Types shared by the page allocators of this package.
 */
import type { ExecContext, Klog, MemMap, PageAllocator, PhysicalMemory } from '@mmsim/core';
import type { Machine, NumaStat } from '@mmsim/numa';

/** Everything a page allocator is built from. `createPageAllocatorEnv()` makes one. */
export interface PageAllocatorEnv {
  /** Topology: nodes, CPUs, zones, RAM ranges and memblock reservations. */
  readonly machine: Machine;
  /** The machine's RAM (zeroed on __GFP_ZERO). */
  readonly memory: PhysicalMemory;
  /** struct page for every frame up to machine.maxPfn. */
  readonly memMap: MemMap;
  /** The kernel log that receives warn_alloc and bad-page reports. */
  readonly klog: Klog;
  /** The current CPU and context (which pcp list, which node is local, may we sleep). */
  readonly ctx: ExecContext;
  /** numa_hit/numa_miss/… counters per zone; the allocator updates them. */
  readonly numaStat: NumaStat;
  /**
   * What the layers above hold on each node (index = node id), for the Mem-Info block of the allocation-failure and
   * OOM reports (mm/show_mem.c). A kernel sets it; without one those fields print 0.
   */
  nodeMemStats?: (() => NodeMemStats[]) | undefined;
}

/** Pages a node's memory holds for the layers above the page allocator. */
export interface NodeMemStats {
  /** Anonymous pages of processes, on the inactive LRU (NR_INACTIVE_ANON). */
  inactiveAnon: number;
  slabReclaimable: number;
  slabUnreclaimable: number;
  /** Page-table pages (NR_PAGETABLE). */
  pageTables: number;
}

/** A factory that builds an allocator on an environment; kapi's boot() takes one. */
export type PageAllocatorFactory = (env: PageAllocatorEnv) => CheckablePageAllocator;

/** A page allocator that can check its own data structures (used by the property tests). */
export interface CheckablePageAllocator extends PageAllocator {
  /**
   * Walk every internal structure and return a description of each inconsistency found
   * (an empty array when all is well). Slow; for tests and debugging.
   */
  verify(): string[];
}

/** Options of the buddy allocator. Defaults are Linux 6.18's on x86-64. */
export interface BuddyOptions {
  /**
   * vm.min_free_kbytes. Computed as mm/page_alloc.c calculate_min_free_kbytes() does when
   * omitted (then raised for THP as mm/khugepaged.c does, if `thp` is on).
   */
  minFreeKbytes?: number;
  /**
   * vm.watermark_scale_factor, in 1/10000 of the zone.
   * @defaultValue 10
   */
  watermarkScaleFactor?: number;
  /**
   * vm.lowmem_reserve_ratio per zone type (DMA, DMA32, Normal, Movable, Device).
   * @defaultValue [256, 256, 32, 0, 0]
   */
  lowmemReserveRatio?: readonly number[];
  /**
   * Transparent hugepages configured: khugepaged raises min_free_kbytes
   * (set_recommended_min_free_kbytes()), as on the reference 6.18 machine.
   * @defaultValue true
   */
  thp?: boolean;
  /**
   * Per-CPU page lists for orders 0..3. Off: every allocation goes to the zone free lists.
   * @defaultValue true
   */
  pcp?: boolean;
  /**
   * vm.percpu_pagelist_high_fraction (0 = automatic high_min/high_max).
   * @defaultValue 0
   */
  percpuPagelistHighFraction?: number;
  /**
   * Page mobility grouping (off when memory is too small: page_group_by_mobility_disabled).
   * @defaultValue true
   */
  mobilityGrouping?: boolean;
}

/** The per-zone numbers show_mem(), /proc/zoneinfo and /proc/buddyinfo print. */
export interface ZoneSnapshot {
  nid: number;
  zoneType: number;
  name: string;
  startPfn: number;
  spanned: number;
  present: number;
  managed: number;
  /** NR_FREE_PAGES: pages on the zone's free lists (pcp pages are not counted, as Linux). */
  free: number;
  boost: number;
  min: number;
  low: number;
  high: number;
  promo: number;
  nrReservedHighatomic: number;
  /** Pages cached on the per-CPU lists of all CPUs. */
  freePcp: number;
  /** Pages cached on the current CPU's list. */
  localPcp: number;
  /** lowmem_reserve[] indexed by the requesting zone type ("protection"). */
  lowmemReserve: number[];
  /** free_area[order].nr_free — free blocks per order, all migrate types. */
  nrFree: number[];
  /** free blocks per [migratetype][order] (/proc/pagetypeinfo). */
  nrFreeByType: number[][];
  /** Pageblocks per migrate type (/proc/pagetypeinfo "Number of blocks type"). */
  pageblocksByType: number[];
  /** Free pages in blocks of pageblock_order or larger (zoneinfo nr_free_pages_blocks). */
  nrFreePagesBlocks: number;
  /** The per-cpu vmstat fold threshold (zoneinfo "vm stats threshold"). */
  statThreshold: number;
}

/** An allocator that can describe its zones (both allocators of this package can). */
export interface ZoneReporting {
  zoneSnapshot(nid: number, zoneType: number): ZoneSnapshot;
}
