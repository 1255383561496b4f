/**
 * Benchmarks of @mmsim/numa: building the 64 GiB boot machine (cold path, once per boot) and
 * zone_statistics() (hot path, once per allocation). Run: pnpm bench (tsx bench/run.ts).
 */
import { Bench } from 'tinybench';
import { createMachine, NumaStat } from '../src/index.js';

const bench = new Bench({ time: 500 });

bench.add('createMachine(big64): layout, zones, zonelists, boot log', () => {
  createMachine('big64');
});

const server = createMachine('server');
const stat = new NumaStat(server.nrNodes);
const local = server.zone(0, 2).slot;
const remote = server.zone(1, 2).slot;
// Hot paths run BATCH operations per sample so that the harness's own cost does not dominate.
const BATCH = 1000;
const perOp: Record<string, number> = {};

const ZS = 'zoneStatistics: 1 page, alternating local hit / remote miss';
perOp[ZS] = BATCH;
bench.add(ZS, () => {
  for (let i = 0; i < BATCH; i++) stat.zoneStatistics(local, (i & 1) === 0 ? local : remote, 0, 1);
});

const PZ = 'pfnToZoneType on server (binary search over zone spans)';
perOp[PZ] = BATCH;
let pfn = 0;
let sink = 0;
bench.add(PZ, () => {
  for (let i = 0; i < BATCH; i++) {
    pfn = (pfn + 40961) % server.maxPfn;
    sink += server.pfnToZoneType(pfn);
  }
});

await bench.run();

console.table(
  bench.tasks.map((task) => {
    const r = task.result;
    const ops = perOp[task.name] ?? 1;
    const nsPerOp = r.state === 'completed' ? (r.latency.mean * 1e6) / ops : Number.NaN;
    return { task: task.name, 'ns/op': Number(nsPerOp.toFixed(1)) };
  }),
);
if (sink < 0) console.log(sink);
