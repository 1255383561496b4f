/**
 * pnpm bench — @mmsim/core hot paths in ns per operation: physical memory access (the MMU
 * and the slab layer read and write through it) and GFP helpers (every allocation).
 */
import { Bench } from 'tinybench';
import {
  __GFP_ZERO,
  formatGfp,
  GFP_KERNEL,
  gfpMigratetype,
  gfpZone,
  parseGfp,
} from '../src/index.js';
import { PhysicalMemory } from '../src/physmem.js';

const BATCH = 1000;
const mem = new PhysicalMemory(64 * 1024 ** 3);
mem.fill(0x10000000, 1 << 20, 0x5a); // a touched MiB
let sink = 0;

const bench = new Bench({ time: 500, warmupTime: 100 });
bench
  .add(`read32, touched memory x${BATCH}`, () => {
    for (let i = 0; i < BATCH; i++) sink += mem.read32(0x10000000 + ((i * 4) & 0xffffc));
  })
  .add(`write32, touched memory x${BATCH}`, () => {
    for (let i = 0; i < BATCH; i++) mem.write32(0x10000000 + ((i * 4) & 0xffffc), i);
  })
  .add(`read64Lo+Hi (a PTE), touched x${BATCH}`, () => {
    for (let i = 0; i < BATCH; i++)
      sink += mem.read64Lo(0x10000000 + i * 8) + mem.read64Hi(0x10000000 + i * 8);
  })
  .add(`read32, untouched memory x${BATCH}`, () => {
    for (let i = 0; i < BATCH; i++) sink += mem.read32(0x400000000 + i * 4096);
  })
  .add(`gfpZone + gfpMigratetype x${BATCH}`, () => {
    for (let i = 0; i < BATCH; i++)
      sink += gfpZone(GFP_KERNEL) + gfpMigratetype(GFP_KERNEL | (i & 8));
  })
  .add('formatGfp + parseGfp (cold path)', () => {
    sink += parseGfp(formatGfp(GFP_KERNEL | __GFP_ZERO));
  });

await bench.run();
console.log(
  `@mmsim/core bench — node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
);
console.table(
  bench.tasks.map((t) => {
    const r = t.result as { latency?: { mean: number } } | undefined;
    const per = t.name.includes(`x${BATCH}`) ? BATCH : 1;
    return { task: t.name, 'ns/op': (((r?.latency?.mean ?? Number.NaN) * 1e6) / per).toFixed(1) };
  }),
);
if (sink === 0.5) console.log(sink);
