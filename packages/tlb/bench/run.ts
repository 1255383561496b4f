/**
 * pnpm bench — the TLB's hot paths, in ns per operation.
 *
 *   lookup hit, 32 pages       a 64-entry 4-way TLB (Skylake's L1 dTLB for 4K) warmed with 32
 *                              pages; lookups at random offsets in them: every one hits
 *   lookup+insert miss         the same TLB, a 65,536-page working set in random order: every
 *                              lookup misses and is followed by the fill (an eviction)
 *   STLB 1536x12, 4096 pages   a 1536-entry 12-way TLB, random pages of a 4096-page set:
 *                              about 37 % hits; a miss is followed by the fill
 *   hierarchy …                the Skylake-like hierarchy (LRU): dTLB hits, and dTLB misses
 *                              served by the STLB (refilling the dTLB)
 *   csim long.trace            simulateCacheTrace on the cache lab's long.trace, per access
 *
 * Addresses are user-space ones (0x7f…, VPNs beyond 2^32), as the MMU sees them. Every policy
 * runs in a process of its own, as a program would have one policy per TLB call site; each
 * sample is a batch of operations so that timer overhead does not count; the median sample is
 * reported.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Prng } from '@mmsim/core';
import { Bench } from 'tinybench';
import {
  createTlb,
  createTlbHierarchy,
  type PolicyName,
  simulateCacheTrace,
} from '../src/index.js';

type Row = { task: string; time: string; samples: number };
const POLICIES: PolicyName[] = ['lru', 'plru', 'fifo', 'nru', 'random'];
const CONFIGS = [...POLICIES, 'hierarchy'] as const;

const only = process.argv[2];
if (only === undefined) {
  const rows: Row[] = [];
  for (let i = 0; i < CONFIGS.length; i++) {
    const out = execFileSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), String(i)],
      { encoding: 'utf8' },
    );
    rows.push(...(JSON.parse(out.trim().split('\n').at(-1)!) as Row[]));
  }
  console.log(
    `@mmsim/tlb bench — node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  );
  console.table(rows);
  process.exit(0);
}

const BATCH = 1000;
const BASE = 0x7f12_3400_0000; // a user-space address: VPNs beyond 2^32
const K4 = 4096;
const prng = new Prng(42);
const bench = new Bench({ time: 700, warmupTime: 200 });
const config = CONFIGS[Number(only)]!;
let sink = 0;

/** `n` addresses: random pages of a `pages`-page set at random offsets. */
function addresses(n: number, pages: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = BASE + prng.nextInt(pages) * K4 + prng.nextInt(K4);
  return a;
}

const RING = 1 << 16;
if (config !== 'hierarchy') {
  const policy = config;
  // Hits: 32 pages in a 64-entry 4-way TLB.
  const hitTlb = createTlb({ entries: 64, ways: 4, policy });
  const hitAddr = addresses(RING, 32);
  for (let p = 0; p < 32; p++) hitTlb.insert(BASE + p * K4, 1, p * K4, 12, 0, false);
  let h = 0;
  // Misses: 65,536 pages through the same geometry.
  const missTlb = createTlb({ entries: 64, ways: 4, policy });
  const missAddr = addresses(RING, 65536);
  let m = 0;
  // STLB-sized: 4096 pages through 1536 entries, 12 ways.
  const stlb = createTlb({ entries: 1536, ways: 12, policy });
  const stlbAddr = addresses(RING, 4096);
  let s = 0;
  bench
    .add(`${policy}: lookup hit, 32 pages, 64x4-way x${BATCH}`, () => {
      let k = h;
      let acc = 0;
      for (let i = 0; i < BATCH; i++) acc += hitTlb.lookup(hitAddr[k++ & (RING - 1)]!, 1);
      h = k;
      sink += acc;
    })
    .add(`${policy}: lookup+insert miss, 65536 pages, 64x4-way x${BATCH}`, () => {
      let k = m;
      let acc = 0;
      for (let i = 0; i < BATCH; i++) {
        const va = missAddr[k++ & (RING - 1)]!;
        if (missTlb.lookup(va, 1) < 0) acc += missTlb.insert(va, 1, va, 12, 0, false);
      }
      m = k;
      sink += acc;
    })
    .add(`${policy}: STLB 1536x12-way, 4096 pages, lookup(+insert) x${BATCH}`, () => {
      let k = s;
      let acc = 0;
      for (let i = 0; i < BATCH; i++) {
        const va = stlbAddr[k++ & (RING - 1)]!;
        if (stlb.lookup(va, 1) < 0) acc += stlb.insert(va, 1, va, 12, 0, false);
      }
      s = k;
      sink += acc;
    });
  await bench.run();
  if (hitTlb.stats.misses !== 0) throw new Error('hit benchmark missed');
} else {
  // The Skylake-like hierarchy: dTLB hits (32 pages); STLB hits (1024 pages > 64 dTLB entries).
  const hier = createTlbHierarchy();
  const hitAddr = addresses(RING, 32);
  for (let p = 0; p < 1024; p++) hier.insert(BASE + p * K4, 1, p * K4, 12, 0, false);
  for (let p = 0; p < 32; p++) hier.insert(BASE + p * K4, 1, p * K4, 12, 0, false);
  const l2Addr = addresses(RING, 1024);
  let h = 0;
  let l = 0;
  const longTrace = gunzipSync(
    readFileSync(new URL('../../../../shared/data/cachelab/long.trace.gz', import.meta.url)),
  ).toString('utf8');
  let accesses = 0;
  for (const line of longTrace.split('\n')) {
    if (line[0] === ' ') accesses += line[1] === 'M' ? 2 : 1;
  }
  bench
    .add(`hierarchy (skylake, lru): dTLB hit, 32 pages x${BATCH}`, () => {
      let k = h;
      let acc = 0;
      for (let i = 0; i < BATCH; i++) acc += hier.lookup(hitAddr[k++ & (RING - 1)]!, 1);
      h = k;
      sink += acc;
    })
    .add(`hierarchy (skylake, lru): 1024 pages, dTLB miss -> STLB hit x${BATCH}`, () => {
      let k = l;
      let acc = 0;
      for (let i = 0; i < BATCH; i++) acc += hier.lookup(l2Addr[k++ & (RING - 1)]!, 1);
      l = k;
      sink += acc;
    })
    .add(`csim long.trace -s 5 -E 1 -b 5 (${accesses} accesses)`, () => {
      sink += simulateCacheTrace(longTrace, { s: 5, E: 1, b: 5 }).hits;
    });
  await bench.run();
  if (hier.stats.misses !== 0) throw new Error('hierarchy benchmark missed');
  (globalThis as { accesses?: number }).accesses = accesses;
}

const rows: Row[] = [];
for (const t of bench.tasks) {
  const r = t.result as
    | { latency?: { p50?: number; mean: number; samplesCount?: number } }
    | undefined;
  const p50Ms = r?.latency?.p50 ?? r?.latency?.mean ?? Number.NaN;
  const per = t.name.startsWith('csim')
    ? ((globalThis as { accesses?: number }).accesses ?? 1)
    : BATCH;
  rows.push({
    task: t.name,
    time: `${((p50Ms * 1e6) / per).toFixed(1)} ns/op`,
    samples: r?.latency?.samplesCount ?? 0,
  });
}
if (Number.isNaN(sink)) console.log(sink);
console.log(JSON.stringify(rows));
