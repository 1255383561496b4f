/**
 * NUMA views: the `numastat` table (numactl 2.0.16 numastat.c, in its default mode that
 * stays compatible with the original perl script: a 16-column label, then one 16-column
 * field per node), `numactl --hardware`, and the sysfs files
 * /sys/devices/system/node/nodeN/{distance,numastat} (drivers/base/node.c).
 */
import { PAGE_SIZE } from '@mmsim/core';
import type { Kernel } from '@mmsim/kapi';
import { formatNodeDistance, formatNumactlHardware } from '@mmsim/numa';
import { populatedZones } from './zones.js';

const NUMASTAT_ROWS = [
  'numa_hit',
  'numa_miss',
  'numa_foreign',
  'interleave_hit',
  'local_node',
  'other_node',
] as const;

/** `numastat` with no arguments: each node's counters from its sysfs numastat file. */
export function numastat(k: Kernel): string {
  const counters = k.machine.nodes.map((n) => k.env.numaStat.nodeCounters(n.nid));
  let out = ''.padEnd(16);
  for (const n of k.machine.nodes) out += `node${n.nid}`.padStart(16);
  out += '\n';
  for (const row of NUMASTAT_ROWS) {
    out += row.padEnd(16);
    for (const c of counters) out += String(c[row]).padStart(16);
    out += '\n';
  }
  return out;
}

/** `numactl --hardware`: node sizes and free memory from the nodes' MemTotal and MemFree. */
export function numactlHardware(k: Kernel): string {
  const zones = populatedZones(k);
  const sizeBytes = k.machine.nodes.map(
    (n) => zones.filter((z) => z.nid === n.nid).reduce((s, z) => s + z.managed, 0) * PAGE_SIZE,
  );
  const freeBytes = k.machine.nodes.map(
    (n) => zones.filter((z) => z.nid === n.nid).reduce((s, z) => s + z.free, 0) * PAGE_SIZE,
  );
  return formatNumactlHardware(k.machine, { sizeBytes, freeBytes });
}

/** /sys/devices/system/node/nodeN/distance. */
export function nodeDistance(k: Kernel, nid: number): string {
  return formatNodeDistance(k.machine, nid);
}

/** /sys/devices/system/node/nodeN/numastat. */
export function nodeNumastat(k: Kernel, nid: number): string {
  return k.env.numaStat.renderNodeNumastat(nid);
}
