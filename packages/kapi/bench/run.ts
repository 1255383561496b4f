/**
 * pnpm bench — the kernel API's hot paths, in ns per operation, on a booted 'laptop'
 * (SLUB without debugging, buddy, x86-64 page tables).
 *
 *   kmalloc+kfree 64 B        k.kmalloc(64, GFP_KERNEL) then k.kfree()
 *   mixed 8-2048 B, 10k live  free a random live buffer, kmalloc a random size in its place
 *   vmalloc(16 pages)+vfree   area search, 16 page allocations, 16 PTEs, unmap and TLB flush
 *   k.mem.read32              a kernel virtual read through the MMU (a TLB hit)
 *
 * Each configuration runs in a process of its own (as in @mmsim/slab's bench); the median of
 * batches is reported.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { boot, GFP_KERNEL, PAGE_SIZE, Prng } from '../src/index.js';

const tasks = [
  'kmalloc+kfree pair, 64 bytes',
  'mixed 8-2048 B, 10k live, kfree+kmalloc',
  'vmalloc(16 pages)+vfree',
  'k.mem.read32 (TLB hit)',
];
const only = process.argv[2];
if (only === undefined) {
  const rows: { task: string; time: string }[] = [];
  for (let i = 0; i < tasks.length; i++) {
    const out = execFileSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), String(i)],
      {
        encoding: 'utf8',
      },
    );
    rows.push(JSON.parse(out.trim().split('\n').at(-1)!) as { task: string; time: string });
  }
  console.log(
    `@mmsim/kapi bench — node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  );
  console.table(rows);
  process.exit(0);
}

const k = boot({ machine: 'laptop' });
const which = Number(only);
// vmalloc+vfree reaches its steady state only after ~1 s of runs (TurboFan tiers up its
// page-table paths late): a shorter warm-up measured the tier-up, 22–24 µs instead of ~15.
const bench = new Bench({ time: 800, warmupTime: which === 2 ? 2000 : 200 });
let batch = 1000;
let sink = 0;
if (which === 0) {
  bench.add(tasks[0]!, () => {
    for (let i = 0; i < 1000; i++) k.kfree(k.kmalloc(64, GFP_KERNEL));
  });
} else if (which === 1) {
  const LIVE = 10_000;
  const prng = new Prng(7);
  const live = new Float64Array(LIVE);
  for (let i = 0; i < LIVE; i++) live[i] = k.kmalloc(8 + prng.nextInt(2041), GFP_KERNEL);
  const RAND = 1 << 16;
  const slot = new Int32Array(RAND);
  const size = new Int32Array(RAND);
  for (let i = 0; i < RAND; i++) {
    slot[i] = prng.nextInt(LIVE);
    size[i] = 8 + prng.nextInt(2041);
  }
  let cursor = 0;
  bench.add(tasks[1]!, () => {
    for (let i = 0; i < 1000; i++) {
      const c = cursor++ & (RAND - 1);
      const s = slot[c]!;
      k.kfree(live[s]!);
      live[s] = k.kmalloc(size[c]!, GFP_KERNEL);
    }
  });
} else if (which === 2) {
  batch = 10;
  bench.add(tasks[2]!, () => {
    for (let i = 0; i < 10; i++) k.vfree(k.vmalloc(16 * PAGE_SIZE));
  });
} else {
  const p = k.kmalloc(4096, GFP_KERNEL);
  bench.add(tasks[3]!, () => {
    let s = 0;
    for (let i = 0; i < 1000; i++) s += k.mem.read32(p + ((i * 4) & 4095));
    sink += s;
  });
}
await bench.run();
if (sink < 0) throw new Error('unreachable');
const r = bench.tasks[0]!.result as { latency?: { p50?: number; mean: number } } | undefined;
const ns = ((r?.latency?.p50 ?? r?.latency?.mean ?? Number.NaN) * 1e6) / batch;
const problems = [...k.slab.verify(), ...k.pages.verify()];
if (problems.length)
  throw new Error(`inconsistent after the bench: ${problems.slice(0, 5).join('; ')}`);
console.log(
  JSON.stringify({
    task: tasks[which],
    time: ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs/op` : `${ns.toFixed(1)} ns/op`,
  }),
);
