/**
 * Small text renderers the CLI needs before @mmsim/procfs exists: /proc/buddyinfo's line
 * format (mm/vmstat.c frag_show_print) and a zone table. They read only the allocator's
 * public numbers.
 */
import { NR_PAGE_ORDERS, ZONE_NAMES } from '@mmsim/core';
import type { Machine } from '@mmsim/numa';
import type { BuddyAllocator } from '@mmsim/page-alloc';

/** /proc/buddyinfo: "Node %d, zone %8s " then "%6lu " per order. */
export function buddyinfo(machine: Machine, alloc: BuddyAllocator): string[] {
  const lines: string[] = [];
  for (const z of machine.zones) {
    if (z.presentPages === 0) continue;
    let line = `Node ${z.nid}, zone ${z.name.padStart(8)} `;
    for (let o = 0; o < NR_PAGE_ORDERS; o++) {
      line += `${String(alloc.nrFreeBlocks(z.nid, z.type, o)).padStart(6)} `;
    }
    lines.push(line);
  }
  return lines;
}

/** One row per populated zone: span, present, managed, free and the watermarks. */
export function zoneTable(machine: Machine, alloc: BuddyAllocator): string[] {
  const head = [
    'zone',
    'start_pfn',
    'spanned',
    'present',
    'managed',
    'free',
    'min',
    'low',
    'high',
    'protection',
  ];
  const rows: string[][] = [head];
  for (const z of machine.zones) {
    if (z.presentPages === 0) continue;
    const s = alloc.zoneSnapshot(z.nid, z.type);
    rows.push([
      `Node ${z.nid} ${ZONE_NAMES[z.type]}`,
      String(s.startPfn),
      String(s.spanned),
      String(s.present),
      String(s.managed),
      String(s.free),
      String(s.min),
      String(s.low),
      String(s.high),
      `(${s.lowmemReserve.join(', ')})`,
    ]);
  }
  const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '),
  );
}
