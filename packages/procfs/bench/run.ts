/**
 * pnpm bench — rendering each /proc file of a booted kernel, in µs per read.
 *
 *   machine: the reference 24 GiB, 2-CPU box (6.3 M struct pages), with 20 000 kmalloc'd
 *   objects in a few caches, so slab accounting walks a full memory map.
 */
import { GFP_KERNEL, PAGE_SIZE } from '@mmsim/core';
import { boot } from '@mmsim/kapi';
import { Bench } from 'tinybench';
import { readProc, slabtop } from '../src/index.js';

const k = boot({
  machine: {
    name: 'live-6.18',
    nodes: [{ memory: '24G', cpus: 2 }],
    pciHole: '1G',
    reserved: [{ start: 0x1000, size: 158 * PAGE_SIZE, name: 'first 1M' }],
  },
});
for (let i = 0; i < 20000; i++) k.kmalloc(8 << (i % 8), GFP_KERNEL);

const bench = new Bench({ time: 500 });
for (const path of [
  '/proc/buddyinfo',
  '/proc/pagetypeinfo',
  '/proc/zoneinfo',
  '/proc/slabinfo',
  '/proc/meminfo',
  '/proc/vmstat',
  'numastat',
]) {
  bench.add(`read ${path}`, () => {
    readProc(k, path);
  });
}
bench.add('slabtop -o', () => {
  slabtop(k);
});
await bench.run();
const results = bench.tasks.map((t) => {
  const r = t.result as { latency?: { p50?: number; mean: number; samplesCount?: number } };
  const ms = r?.latency?.p50 ?? r?.latency?.mean ?? Number.NaN;
  return {
    task: t.name,
    time: `${(ms * 1000).toFixed(1)} µs/read`,
    samples: r?.latency?.samplesCount ?? 0,
  };
});
console.log(
  `@mmsim/procfs bench — node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
);
console.table(results);
