/**
 * /proc/meminfo (fs/proc/meminfo.c meminfo_proc_show()) and /proc/vmallocinfo
 * (mm/vmalloc.c vmalloc_info_show()).
 *
 * meminfo prints every line of the reference 6.18 kernel in its order, `show_val_kb()`
 * style: the name padded to 16 columns, the value right-aligned in 8, then " kB". Modelled:
 * MemTotal (Σ managed pages), MemFree (NR_FREE_PAGES), MemAvailable (si_mem_available()),
 * KReclaimable/Slab/SReclaimable/SUnreclaim (slab pages), PageTables, CommitLimit
 * (overcommit_ratio 50, no swap), VmallocTotal/Used/Chunk, Hugepagesize and DirectMap4k/2M/1G
 * (the direct map kapi builds). Everything else — page cache, LRU lists, swap, anonymous
 * memory, kernel stacks, percpu — the simulator does not keep, and prints 0.
 */
import { MAX_NR_ZONES, PAGE_SIZE } from '@mmsim/core';
import type { Kernel } from '@mmsim/kapi';
import type { ZoneSnapshot } from '@mmsim/page-alloc';
import { nodePages } from './stats.js';
import { populatedZones, zoneView } from './zones.js';

/** The lines of Linux 6.18's /proc/meminfo on the reference machine, in order. */
export const MEMINFO_NAMES: readonly string[] = [
  'MemTotal',
  'MemFree',
  'MemAvailable',
  'Buffers',
  'Cached',
  'SwapCached',
  'Active',
  'Inactive',
  'Active(anon)',
  'Inactive(anon)',
  'Active(file)',
  'Inactive(file)',
  'Unevictable',
  'Mlocked',
  'SwapTotal',
  'SwapFree',
  'Zswap',
  'Zswapped',
  'Dirty',
  'Writeback',
  'AnonPages',
  'Mapped',
  'Shmem',
  'KReclaimable',
  'Slab',
  'SReclaimable',
  'SUnreclaim',
  'KernelStack',
  'PageTables',
  'SecPageTables',
  'NFS_Unstable',
  'Bounce',
  'WritebackTmp',
  'CommitLimit',
  'Committed_AS',
  'VmallocTotal',
  'VmallocUsed',
  'VmallocChunk',
  'Percpu',
  'AnonHugePages',
  'ShmemHugePages',
  'ShmemPmdMapped',
  'FileHugePages',
  'FilePmdMapped',
  'Balloon',
  'HugePages_Total',
  'HugePages_Free',
  'HugePages_Rsvd',
  'HugePages_Surp',
  'Hugepagesize',
  'Hugetlb',
  'DirectMap4k',
  'DirectMap2M',
  'DirectMap1G',
];

/** The lines hugetlb_report_meminfo() prints as counts, without " kB". */
const COUNT_LINES = new Set([
  'HugePages_Total',
  'HugePages_Free',
  'HugePages_Rsvd',
  'HugePages_Surp',
]);

/** The meminfo lines the simulator computes (the others are 0). */
export const MEMINFO_MODELLED: readonly string[] = [
  'MemTotal',
  'MemFree',
  'MemAvailable',
  'KReclaimable',
  'Slab',
  'SReclaimable',
  'SUnreclaim',
  'PageTables',
  'CommitLimit',
  'VmallocTotal',
  'VmallocUsed',
  'VmallocChunk',
  'Hugepagesize',
  'DirectMap4k',
  'DirectMap2M',
  'DirectMap1G',
];

const KB_PER_PAGE = PAGE_SIZE / 1024;

/**
 * mm/page_alloc.c calculate_totalreserve_pages(): per zone, its largest lowmem_reserve[]
 * toward higher zones plus its high watermark, capped at its managed pages.
 */
export function totalreservePages(zones: readonly ZoneSnapshot[]): number {
  let total = 0;
  for (const z of zones) {
    let max = 0;
    for (let j = z.zoneType; j < MAX_NR_ZONES; j++) max = Math.max(max, z.lowmemReserve[j] ?? 0);
    max += z.high;
    total += Math.min(max, z.managed);
  }
  return total;
}

/**
 * mm/show_mem.c si_mem_available(): free pages above the reserves, plus the part of the page
 * cache and of reclaimable slab that can be freed without dipping under the low watermarks.
 */
export function siMemAvailable(k: Kernel, slabReclaimable: number): number {
  const all = k.machine.zones.map((z) => zoneView(k, z));
  let wmarkLow = 0;
  for (const z of all) wmarkLow += z.low;
  let available =
    all.reduce((n, z) => n + (z.present > 0 ? z.free : 0), 0) - totalreservePages(all);
  const pagecache = 0; // NR_ACTIVE_FILE + NR_INACTIVE_FILE: no page cache
  available += pagecache - Math.min(Math.floor(pagecache / 2), wmarkLow);
  const reclaimable = slabReclaimable; // + NR_KERNEL_MISC_RECLAIMABLE (0)
  available += reclaimable - Math.min(Math.floor(reclaimable / 2), wmarkLow);
  return Math.max(0, available);
}

/** kB of the direct map in 4 KiB, 2 MiB and 1 GiB pages, as kapi's boot maps RAM. */
export function directMapKb(k: Kernel): { '4k': number; '2M': number; '1G': number } {
  const GiB = 2 ** 30;
  const MiB2 = 2 ** 21;
  const out = { '4k': 0, '2M': 0, '1G': 0 };
  for (const r of k.machine.memoryRanges) {
    let pa = r.startPfn * PAGE_SIZE;
    const end = r.endPfn * PAGE_SIZE;
    while (pa < end) {
      if (pa % GiB === 0 && end - pa >= GiB) {
        out['1G'] += GiB / 1024;
        pa += GiB;
      } else if (pa % MiB2 === 0 && end - pa >= MiB2) {
        out['2M'] += MiB2 / 1024;
        pa += MiB2;
      } else {
        out['4k'] += PAGE_SIZE / 1024;
        pa += PAGE_SIZE;
      }
    }
  }
  return out;
}

/** The /proc/meminfo values, in kB (the HugePages_* counts in pages), by line name. */
export function meminfoValues(k: Kernel): Record<string, number> {
  const v: Record<string, number> = {};
  for (const n of MEMINFO_NAMES) v[n] = 0;
  const zones = populatedZones(k);
  const totalram = zones.reduce((n, z) => n + z.managed, 0);
  const free = zones.reduce((n, z) => n + z.free, 0);
  const pages = nodePages(k);
  const sRecl = pages.slabReclaimable.reduce((a, b) => a + b, 0);
  const sUnrecl = pages.slabUnreclaimable.reduce((a, b) => a + b, 0);
  v.MemTotal = totalram * KB_PER_PAGE;
  v.MemFree = free * KB_PER_PAGE;
  v.MemAvailable = siMemAvailable(k, sRecl) * KB_PER_PAGE;
  v.KReclaimable = sRecl * KB_PER_PAGE;
  v.Slab = (sRecl + sUnrecl) * KB_PER_PAGE;
  v.SReclaimable = sRecl * KB_PER_PAGE;
  v.SUnreclaim = sUnrecl * KB_PER_PAGE;
  v.PageTables = k.pageTablePages * KB_PER_PAGE;
  // NR_ANON_MAPPED: the processes' anonymous pages. A new anonymous folio starts on the
  // inactive anon LRU (folio_add_lru_vma()); nothing here ages or promotes it, and there is
  // no file cache, so they are all of Inactive.
  v.AnonPages = k.userspace.anonPages * KB_PER_PAGE;
  v['Inactive(anon)'] = v.AnonPages;
  v.Inactive = v['Inactive(anon)']! + v['Inactive(file)']!;
  // mm/util.c vm_commit_limit(): totalram * sysctl_overcommit_ratio (50) / 100 + swap (none).
  v.CommitLimit = Math.floor((totalram * 50) / 100) * KB_PER_PAGE;
  const vm = k.vmallocArea.meminfo();
  v.VmallocTotal = vm.VmallocTotal;
  v.VmallocUsed = vm.VmallocUsed;
  v.VmallocChunk = vm.VmallocChunk;
  v.Hugepagesize = 2048;
  const dm = directMapKb(k);
  v.DirectMap4k = dm['4k'];
  v.DirectMap2M = dm['2M'];
  v.DirectMap1G = dm['1G'];
  return v;
}

/** /proc/meminfo. */
export function meminfo(k: Kernel): string {
  const v = meminfoValues(k);
  let out = '';
  for (const n of MEMINFO_NAMES) {
    out += `${`${n}:`.padEnd(16)}${String(v[n]).padStart(8)}${COUNT_LINES.has(n) ? '' : ' kB'}\n`;
  }
  return out;
}

/** /proc/vmallocinfo: one line per vmalloc area in address order, then unpurged ranges. */
export function vmallocinfo(k: Kernel): string {
  return k.vmallocArea
    .vmallocinfo()
    .map((l) => `${l}\n`)
    .join('');
}
