/**
 * The counters behind /proc/zoneinfo's per-node block, /proc/vmstat and /proc/meminfo,
 * computed from the simulator's state the way Linux accounts them:
 *
 * - nr_slab_reclaimable / nr_slab_unreclaimable: the pages of slabs (PageSlab heads in the
 *   memory map, 1 << order pages each), split by the cache's SLAB_RECLAIM_ACCOUNT flag as
 *   mm/slub.c account_slab() does, per node by the page's node.
 * - nr_page_table_pages: the kernel's page-table pages (init_mm's tables).
 * - pgalloc_<zone>, pgfree, allocstall: the buddy allocator's counters.
 * - numa_*: the NumaStat counters.
 * - nr_memmap_boot_pages: the struct page array of every present memory section
 *   (mm/sparse.c: PAGES_PER_SECTION struct pages of 64 bytes per section with RAM).
 *
 * Every other counter of the reference kernel is listed with the value 0: the simulator
 * keeps no LRU lists, page cache, swap, writeback or compaction.
 */
import { MAX_NR_ZONES, PAGE_SIZE } from '@mmsim/core';
import type { Kernel, NodePages } from '@mmsim/kapi';
import { NUMA_STAT_NAMES, populatedZones, ZONE_STAT_NAMES, zoneCounters } from './zones.js';

/** enum node_stat_item as /proc/zoneinfo and /proc/vmstat print it on Linux 6.18. */
export const NODE_STAT_NAMES: readonly string[] = [
  'nr_inactive_anon',
  'nr_active_anon',
  'nr_inactive_file',
  'nr_active_file',
  'nr_unevictable',
  'nr_slab_reclaimable',
  'nr_slab_unreclaimable',
  'nr_isolated_anon',
  'nr_isolated_file',
  'workingset_nodes',
  'workingset_refault_anon',
  'workingset_refault_file',
  'workingset_activate_anon',
  'workingset_activate_file',
  'workingset_restore_anon',
  'workingset_restore_file',
  'workingset_nodereclaim',
  'nr_anon_pages',
  'nr_mapped',
  'nr_file_pages',
  'nr_dirty',
  'nr_writeback',
  'nr_shmem',
  'nr_shmem_hugepages',
  'nr_shmem_pmdmapped',
  'nr_file_hugepages',
  'nr_file_pmdmapped',
  'nr_anon_transparent_hugepages',
  'nr_vmscan_write',
  'nr_vmscan_immediate_reclaim',
  'nr_dirtied',
  'nr_written',
  'nr_throttled_written',
  'nr_kernel_misc_reclaimable',
  'nr_foll_pin_acquired',
  'nr_foll_pin_released',
  'nr_kernel_stack',
  'nr_page_table_pages',
  'nr_sec_page_table_pages',
  'nr_iommu_pages',
  'nr_swapcached',
  'pgpromote_success',
  'pgpromote_candidate',
  'pgpromote_candidate_nrl',
  'pgdemote_kswapd',
  'pgdemote_direct',
  'pgdemote_khugepaged',
  'pgdemote_proactive',
  'nr_hugetlb',
  'nr_balloon_pages',
  'nr_kernel_file_pages',
];

/** Every line of Linux 6.18's /proc/vmstat (the reference machine's config), in order. */
export const VMSTAT_NAMES: readonly string[] = [
  ...ZONE_STAT_NAMES,
  ...NUMA_STAT_NAMES,
  ...NODE_STAT_NAMES,
  'nr_dirty_threshold',
  'nr_dirty_background_threshold',
  'nr_memmap_pages',
  'nr_memmap_boot_pages',
  'pgpgin',
  'pgpgout',
  'pswpin',
  'pswpout',
  'pgalloc_dma',
  'pgalloc_dma32',
  'pgalloc_normal',
  'pgalloc_movable',
  'pgalloc_device',
  'allocstall_dma',
  'allocstall_dma32',
  'allocstall_normal',
  'allocstall_movable',
  'allocstall_device',
  'pgskip_dma',
  'pgskip_dma32',
  'pgskip_normal',
  'pgskip_movable',
  'pgskip_device',
  'pgfree',
  'pgactivate',
  'pgdeactivate',
  'pglazyfree',
  'pgfault',
  'pgmajfault',
  'pglazyfreed',
  'pgrefill',
  'pgreuse',
  'pgsteal_kswapd',
  'pgsteal_direct',
  'pgsteal_khugepaged',
  'pgsteal_proactive',
  'pgscan_kswapd',
  'pgscan_direct',
  'pgscan_khugepaged',
  'pgscan_proactive',
  'pgscan_direct_throttle',
  'pgscan_anon',
  'pgscan_file',
  'pgsteal_anon',
  'pgsteal_file',
  'zone_reclaim_success',
  'zone_reclaim_failed',
  'pginodesteal',
  'slabs_scanned',
  'kswapd_inodesteal',
  'kswapd_low_wmark_hit_quickly',
  'kswapd_high_wmark_hit_quickly',
  'pageoutrun',
  'pgrotated',
  'drop_pagecache',
  'drop_slab',
  'oom_kill',
  'numa_pte_updates',
  'numa_huge_pte_updates',
  'numa_hint_faults',
  'numa_hint_faults_local',
  'numa_pages_migrated',
  'pgmigrate_success',
  'pgmigrate_fail',
  'thp_migration_success',
  'thp_migration_fail',
  'thp_migration_split',
  'compact_migrate_scanned',
  'compact_free_scanned',
  'compact_isolated',
  'compact_stall',
  'compact_fail',
  'compact_success',
  'compact_daemon_wake',
  'compact_daemon_migrate_scanned',
  'compact_daemon_free_scanned',
  'htlb_buddy_alloc_success',
  'htlb_buddy_alloc_fail',
  'unevictable_pgs_culled',
  'unevictable_pgs_scanned',
  'unevictable_pgs_rescued',
  'unevictable_pgs_mlocked',
  'unevictable_pgs_munlocked',
  'unevictable_pgs_cleared',
  'unevictable_pgs_stranded',
  'thp_fault_alloc',
  'thp_fault_fallback',
  'thp_fault_fallback_charge',
  'thp_collapse_alloc',
  'thp_collapse_alloc_failed',
  'thp_file_alloc',
  'thp_file_fallback',
  'thp_file_fallback_charge',
  'thp_file_mapped',
  'thp_split_page',
  'thp_split_page_failed',
  'thp_deferred_split_page',
  'thp_underused_split_page',
  'thp_split_pmd',
  'thp_scan_exceed_none_pte',
  'thp_scan_exceed_swap_pte',
  'thp_scan_exceed_share_pte',
  'thp_split_pud',
  'thp_zero_page_alloc',
  'thp_zero_page_alloc_failed',
  'thp_swpout',
  'thp_swpout_fallback',
  'balloon_inflate',
  'balloon_deflate',
  'balloon_migrate',
  'swap_ra',
  'swap_ra_hit',
  'swpin_zero',
  'swpout_zero',
  'ksm_swpin_copy',
  'cow_ksm',
  'zswpin',
  'zswpout',
  'zswpwb',
  'direct_map_level2_splits',
  'direct_map_level3_splits',
  'direct_map_level2_collapses',
  'direct_map_level3_collapses',
  'nr_unstable',
];

/** Pages per node that the kernel and its processes hold (the kernel's own count). */
export type { NodePages } from '@mmsim/kapi';

/** Slab, page-table and anonymous pages per node: `k.nodePages()`. */
export function nodePages(k: Kernel): NodePages {
  return k.nodePages();
}

/** The per-node stats block of /proc/zoneinfo: [name, value] in enum node_stat_item order. */
export function nodeStats(k: Kernel, nid: number, pages = nodePages(k)): [string, number][] {
  const values: Record<string, number> = {
    nr_inactive_anon: pages.anon[nid] ?? 0,
    nr_slab_reclaimable: pages.slabReclaimable[nid] ?? 0,
    nr_slab_unreclaimable: pages.slabUnreclaimable[nid] ?? 0,
    nr_anon_pages: pages.anon[nid] ?? 0,
    nr_page_table_pages: pages.pageTables[nid] ?? 0,
  };
  return NODE_STAT_NAMES.map((name) => [name, values[name] ?? 0]);
}

const sum = (a: readonly number[]): number => a.reduce((x, y) => x + y, 0);

/** PAGES_PER_SECTION (x86-64 SECTION_SIZE_BITS 27: 128 MiB sections). */
const PAGES_PER_SECTION = 1 << 15;
/** sizeof(struct page) on x86-64. */
const STRUCT_PAGE_BYTES = 64;

/** nr_memmap_boot_pages: struct pages of every memory section that holds RAM. */
export function memmapBootPages(k: Kernel): number {
  const sections = new Set<number>();
  for (const r of k.machine.memoryRanges) {
    for (let s = Math.floor(r.startPfn / PAGES_PER_SECTION); s * PAGES_PER_SECTION < r.endPfn; s++)
      sections.add(s);
  }
  return (sections.size * PAGES_PER_SECTION * STRUCT_PAGE_BYTES) / PAGE_SIZE;
}

/** The counters of /proc/vmstat, by name; the ones the simulator does not keep are 0. */
export function vmstatCounters(k: Kernel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of VMSTAT_NAMES) out[n] = 0;
  for (const z of populatedZones(k)) {
    const c = zoneCounters(k, z);
    for (const n of [...ZONE_STAT_NAMES, ...NUMA_STAT_NAMES]) out[n]! += c[n] ?? 0;
  }
  const pages = nodePages(k);
  out.nr_slab_reclaimable = sum(pages.slabReclaimable);
  out.nr_slab_unreclaimable = sum(pages.slabUnreclaimable);
  out.nr_page_table_pages = sum(pages.pageTables);
  out.nr_memmap_boot_pages = memmapBootPages(k);
  out.nr_anon_pages = k.userspace.anonPages;
  out.nr_inactive_anon = k.userspace.anonPages;
  out.pgfault = k.userspace.pgfault;
  out.pgreuse = k.userspace.pgreuse;
  const st = (
    k.pages as {
      stats?: { pgalloc?: ArrayLike<number>; pgfree?: number; allocstall?: number };
    }
  ).stats;
  if (st?.pgalloc) {
    for (const z of k.machine.zones) {
      const key = `pgalloc_${z.name.toLowerCase()}`;
      out[key] = (out[key] ?? 0) + (st.pgalloc[z.nid * MAX_NR_ZONES + z.type] ?? 0);
    }
  }
  if (st?.pgfree !== undefined) out.pgfree = st.pgfree;
  // Linux counts allocstall on the request's highest zone; the simulator keeps one total,
  // shown on ZONE_NORMAL (GFP_KERNEL's highest zone).
  if (st?.allocstall !== undefined) out.allocstall_normal = st.allocstall;
  return out;
}
