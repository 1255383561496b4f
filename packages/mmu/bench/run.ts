/**
 * pnpm bench — translate(), in ns per translation.
 *
 *   tlb hit            32-page working set, every access hits a 64-entry 4-way TLB
 *   4-level walk       4096-page working set through a 64-entry TLB: every access misses and
 *                      walks PML4 → PDPT → PD → PT in simulated memory, then fills the TLB
 *   walk + PSCs        the same with paging-structure caches (the PDE cache hits: 1 read)
 *   Sv39 walk          the 4096-page miss run on RISC-V Sv39 (3 levels)
 *   software refill    the 4096-page miss run on a software-managed TLB: each miss traps to
 *                      createSoftwareRefill(), which walks in software and does a tlbWrite
 *
 * x86-64 4-level unless named; @mmsim/tlb's createTlb() as the TLB. Each configuration runs in
 * a process of its own (as in @mmsim/slab's bench) so that the JIT's type feedback of one run
 * does not slow another. Each sample is a batch of translations; the median is reported.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  ACCESS_USER,
  type PagingFormat,
  PhysicalMemory,
  PROT_USER,
  PROT_WRITE,
  Prng,
} from '@mmsim/core';
import { createTlb } from '@mmsim/tlb';
import { Bench } from 'tinybench';
import {
  createMmu,
  createSoftwareRefill,
  createTableAllocator,
  geometry,
  PageTable,
  sv39,
  x86_64,
} from '../src/index.js';

interface Config {
  name: string;
  format: PagingFormat;
  pages: number;
  psc?: boolean;
  software?: boolean;
}
const configs: Config[] = [
  { name: 'tlb hit, 32-page working set', format: x86_64, pages: 32 },
  { name: '4-level walk, 4096-page working set', format: x86_64, pages: 4096 },
  { name: '4-level walk + PSCs, 4096 pages', format: x86_64, pages: 4096, psc: true },
  { name: 'Sv39 walk, 4096-page working set', format: sv39, pages: 4096 },
  { name: 'software refill, 4096 pages', format: x86_64, pages: 4096, software: true },
];

const BATCH = 1000;
const only = process.argv[2];
if (only === undefined) {
  const rows: { task: string; time: string; 'M/s': string; 'walks/op': string }[] = [];
  for (let i = 0; i < configs.length; i++) {
    const out = execFileSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), String(i)],
      {
        encoding: 'utf8',
      },
    );
    rows.push(JSON.parse(out.trim().split('\n').at(-1)!));
  }
  console.log(
    `@mmsim/mmu bench — node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  );
  console.table(rows);
  process.exit(0);
}

const c = configs[Number(only)]!;
const memory = new PhysicalMemory(256 * 1024 * 1024);
const tableBytes = geometry(c.format).tableAllocBytes;
const tables = createTableAllocator(128 * 1024 * 1024, 256 * 1024 * 1024, tableBytes);
const pt = new PageTable(c.format, memory, tables);
const tlb = createTlb({ entries: 64, ways: 4 });
const mmu = createMmu({
  format: c.format,
  memory,
  tlb,
  root: pt.root,
  pagingStructureCaches: c.psc ?? false,
  softwareTlb: c.software ?? false,
});
if (c.software) mmu.refill = createSoftwareRefill(pt);
// User pages at 0x7f0000000000, 4 KiB each, frames scattered over the lower 128 MiB.
const base = c.format.vaBits === 48 ? 0x7f00_0000_0000 : 0x3f_0000_0000;
const prng = new Prng(1);
for (let i = 0; i < c.pages; i++) {
  pt.map(base + i * 4096, (prng.nextInt(32768) >>> 0) * 4096, 4096, PROT_WRITE | PROT_USER);
}
// The access stream: a random page of the working set and a random offset, precomputed.
const N = 1 << 16;
const vas = new Float64Array(N);
for (let i = 0; i < N; i++) vas[i] = base + prng.nextInt(c.pages) * 4096 + prng.nextInt(4096);
// Warm: set every A bit and fill what fits.
for (let i = 0; i < N; i++) if (mmu.translate(vas[i]!, ACCESS_USER) < 0) throw new Error('fault');

let cursor = 0;
let sink = 0;
const bench = new Bench({ time: 800, warmupTime: 200 });
bench.add(c.name, () => {
  // Locals only in the loop: the harness's own cost stays out of the figure.
  let s = 0;
  let c = cursor;
  for (let i = 0; i < BATCH; i++) s += mmu.translate(vas[c++ & (N - 1)]!, ACCESS_USER);
  cursor = c;
  sink += s;
});
mmu.resetStats();
tlb.resetStats();
await bench.run();
if (sink < 0) throw new Error('a translation faulted');
const r = bench.tasks[0]!.result as { latency?: { p50?: number; mean: number } } | undefined;
const ns = ((r?.latency?.p50 ?? r?.latency?.mean ?? Number.NaN) * 1e6) / BATCH;
// Per translate: a software refill retries its lookup, which counts as a second hit.
const total = tlb.stats.hits + tlb.stats.misses - mmu.stats.refills;
console.log(
  JSON.stringify({
    task: c.name,
    time: `${ns.toFixed(1)} ns/op`,
    'M/s': (1000 / ns).toFixed(1),
    'walks/op': `${((100 * (c.software ? mmu.stats.refills : mmu.stats.walks)) / Math.max(1, total)).toFixed(0)}% (${mmu.refsPerWalk.toFixed(2)} refs)`,
  }),
);
