/**
 * The zone views: /proc/buddyinfo, /proc/pagetypeinfo and /proc/zoneinfo, printed by the
 * seq_printf() formats of mm/vmstat.c (frag_show_print(), pagetypeinfo_showfree_print(),
 * pagetypeinfo_showblockcount_print(), zoneinfo_show_print()) in their Linux 6.18 layout.
 *
 * The numbers come from the page allocator's zone snapshots (`zoneSnapshot(nid, zone)`,
 * `pageset(nid, zone, cpu)`); an allocator without them still gets a buddyinfo from
 * nrFreeBlocks() and a zoneinfo whose watermarks read 0. Counters the simulator does not keep
 * (LRU lists, dirty pages, workingset, …) print 0; the README lists them.
 */
import {
  MAX_NR_ZONES,
  MIGRATE_TYPES,
  MIGRATETYPE_NAMES,
  NR_PAGE_ORDERS,
  PAGEBLOCK_NR_PAGES,
  PAGEBLOCK_ORDER,
  ZONE_NAMES,
} from '@mmsim/core';
import type { Kernel } from '@mmsim/kapi';
import type { ZoneSpan } from '@mmsim/numa';
import { type ZoneSnapshot, zoneSnapshotWithoutWatermarks } from '@mmsim/page-alloc';
import { padLeft, padNum, padRight } from './format.js';
import { nodeStats } from './stats.js';

interface ZoneReporter {
  zoneSnapshot(nid: number, zoneType: number): ZoneSnapshot;
}
interface PagesetReporter {
  pageset(
    nid: number,
    zoneType: number,
    cpu: number,
  ): { count: number; high: number; batch: number; highMin: number; highMax: number };
}

/** populated_zone(): the zone has present pages (include/linux/mmzone.h). */
export const isPopulated = (z: ZoneSpan): boolean => z.presentPages > 0;

/**
 * The zone as /proc sees it: the allocator's snapshot when it can give one, else what the
 * PageAllocator interface tells (managed, free, free blocks per order).
 */
export function zoneView(k: Kernel, z: ZoneSpan): ZoneSnapshot {
  const p = k.pages as Partial<ZoneReporter>;
  if (typeof p.zoneSnapshot === 'function') return (p as ZoneReporter).zoneSnapshot(z.nid, z.type);
  const populated = z.presentPages > 0;
  const nrFree = Array.from({ length: NR_PAGE_ORDERS }, (_, o) =>
    populated ? k.pages.nrFreeBlocks(z.nid, z.type, o) : 0,
  );
  return zoneSnapshotWithoutWatermarks(k.env, z.nid, z.type, {
    managed: populated ? k.pages.managedPages(z.nid, z.type) : 0,
    free: populated ? k.pages.nrFreePages(z.nid, z.type) : 0,
    nrFree,
    nrFreeByType: Array.from({ length: MIGRATE_TYPES }, () =>
      new Array<number>(NR_PAGE_ORDERS).fill(0),
    ),
  });
}

/** Every populated zone's view, node order then zone order (walk_zones_in_node()). */
export function populatedZones(k: Kernel): ZoneSnapshot[] {
  return k.machine.zones.filter(isPopulated).map((z) => zoneView(k, z));
}

/** /proc/buddyinfo (frag_show_print()): free blocks per order of every populated zone. */
export function buddyinfo(k: Kernel): string {
  let out = '';
  for (const z of populatedZones(k)) {
    out += `Node ${z.nid}, zone ${padRight(z.name, 8)} `;
    for (let o = 0; o < NR_PAGE_ORDERS; o++) out += `${padNum(z.nrFree[o] ?? 0, 6)} `;
    out += '\n';
  }
  return out;
}

/**
 * /proc/pagetypeinfo (pagetypeinfo_show()): the pageblock size, free blocks per migrate
 * type and order, and pageblocks per migrate type. The kernel caps each list walk at 100000
 * and prints ">100000"; the counts here are kept, not walked, so the cap is applied to the
 * number as Linux would show it.
 */
export function pagetypeinfo(k: Kernel): string {
  const zones = populatedZones(k);
  let out = `Page block order: ${PAGEBLOCK_ORDER}\n`;
  out += `Pages per block:  ${PAGEBLOCK_NR_PAGES}\n\n`;
  out += `${padLeft('Free pages count per migrate type at order', 43)} `;
  for (let o = 0; o < NR_PAGE_ORDERS; o++) out += `${padNum(o, 6)} `;
  out += '\n';
  for (const z of zones) {
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
      out += `Node ${padNum(z.nid, 4)}, zone ${padRight(z.name, 8)}, type ${padRight(MIGRATETYPE_NAMES[mt]!, 12)} `;
      for (let o = 0; o < NR_PAGE_ORDERS; o++) {
        const n = z.nrFreeByType[mt]?.[o] ?? 0;
        // pagetypeinfo_showfree_print(): the walk stops at 100000 entries ("%s%6lu ").
        out += n >= 100000 ? `>${padNum(100000, 6)} ` : `${padNum(n, 6)} `;
      }
      out += '\n';
    }
  }
  out += `\n${padLeft('Number of blocks type ', 23)}`;
  for (let mt = 0; mt < MIGRATE_TYPES; mt++) out += `${padRight(MIGRATETYPE_NAMES[mt]!, 12)} `;
  out += '\n';
  for (const z of zones) {
    out += `Node ${z.nid}, zone ${padRight(z.name, 8)} `;
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) out += `${padNum(z.pageblocksByType[mt] ?? 0, 12)} `;
    out += '\n';
  }
  return out;
}

/** The per-zone counters /proc/zoneinfo prints after protection (enum zone_stat_item). */
export const ZONE_STAT_NAMES: readonly string[] = [
  'nr_free_pages',
  'nr_free_pages_blocks',
  'nr_zone_inactive_anon',
  'nr_zone_active_anon',
  'nr_zone_inactive_file',
  'nr_zone_active_file',
  'nr_zone_unevictable',
  'nr_zone_write_pending',
  'nr_mlock',
  'nr_zspages',
  'nr_free_cma',
];

/** enum numa_stat_item, under their /proc/zoneinfo and /proc/vmstat names. */
export const NUMA_STAT_NAMES = [
  'numa_hit',
  'numa_miss',
  'numa_foreign',
  'numa_interleave',
  'numa_local',
  'numa_other',
] as const;

/** The zone counters of one zone, by name (0 for the ones the simulator does not keep). */
export function zoneCounters(k: Kernel, z: ZoneSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of ZONE_STAT_NAMES) out[n] = 0;
  out.nr_free_pages = z.free;
  out.nr_free_pages_blocks = z.nrFreePagesBlocks;
  const numa = k.env.numaStat.zoneCounters(z.nid * MAX_NR_ZONES + z.zoneType);
  for (const n of NUMA_STAT_NAMES) out[n] = numa[n];
  return out;
}

/** "\n      %-12s %lu" */
const statLine = (name: string, v: number): string => `\n      ${padLeft(name, 12)} ${v}`;

/**
 * /proc/zoneinfo (zoneinfo_show_print()): every zone of every node, populated or not; the
 * node's stats with its first populated zone; pagesets for every online CPU.
 */
export function zoneinfo(k: Kernel): string {
  const pageset = (k.pages as Partial<PagesetReporter>).pageset;
  let out = '';
  for (const node of k.machine.nodes) {
    const spans = k.machine.zones.filter((z) => z.nid === node.nid);
    const first = spans.find(isPopulated);
    for (const span of spans) {
      const z = zoneView(k, span);
      out += `Node ${z.nid}, zone ${padRight(ZONE_NAMES[z.zoneType] ?? z.name, 8)}`;
      if (span === first) {
        out += '\n  per-node stats';
        const ns = nodeStats(k, node.nid);
        for (const [name, v] of ns) out += statLine(name, v);
      }
      out += `\n  pages free     ${z.free}`;
      out += `\n        boost    ${z.boost}`;
      out += `\n        min      ${z.min}`;
      out += `\n        low      ${z.low}`;
      out += `\n        high     ${z.high}`;
      out += `\n        promo    ${z.promo}`;
      out += `\n        spanned  ${z.spanned}`;
      out += `\n        present  ${z.present}`;
      out += `\n        managed  ${z.managed}`;
      out += `\n        cma      0`;
      out += `\n        protection: (${z.lowmemReserve.join(', ')})`;
      if (!isPopulated(span)) {
        out += '\n';
        continue;
      }
      for (const [name, v] of Object.entries(zoneCounters(k, z))) out += statLine(name, v);
      out += '\n  pagesets';
      for (let cpu = 0; cpu < k.machine.nrCpus; cpu++) {
        const p =
          typeof pageset === 'function'
            ? pageset.call(k.pages, z.nid, z.zoneType, cpu)
            : { count: 0, high: 0, batch: 0, highMin: 0, highMax: 0 };
        out += `\n    cpu: ${cpu}`;
        out += `\n              count:    ${p.count}`;
        out += `\n              high:     ${p.high}`;
        out += `\n              batch:    ${p.batch}`;
        out += `\n              high_min: ${p.highMin}`;
        out += `\n              high_max: ${p.highMax}`;
        out += `\n  vm stats threshold: ${z.statThreshold}`;
      }
      out += '\n  node_unreclaimable:  0';
      out += `\n  start_pfn:           ${z.startPfn}`;
      out += '\n';
    }
  }
  return out;
}
