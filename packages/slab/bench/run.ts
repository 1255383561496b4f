/**
 * pnpm bench — the slab allocators' hot paths, in ns per operation.
 *
 *   64-byte pair        kmem_cache_alloc + kmem_cache_free of one 64-byte object
 *   mixed 8-2048 B      10k live kmalloc buffers of random sizes 8..2048; each step frees a
 *                       random one and allocates a new random size in its place
 *
 * Each is run for every implementation, with debugging off and on. SLUB debug is
 * slab_debug=FZPU (every cache, kmalloc included); SLAB debug is SLAB_RED_ZONE|SLAB_POISON on
 * the 64-byte cache (SLAB had no boot switch for its kmalloc caches, so its mixed pattern
 * runs without debugging only); SLOB has no debugging. Each sample is a batch of
 * operations so that timer overhead does not count; the median sample is reported.
 *
 * Every configuration runs in a process of its own, as a user's program would have one
 * allocator: sharing the JIT's type feedback between a debug and a plain SLUB made the
 * fast path's figure swing by 2x from run to run.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  GFP_KERNEL,
  Prng,
  SLAB_CONSISTENCY_CHECKS,
  SLAB_POISON,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
  type SlabAllocator,
  type SlabEnv,
} from '@mmsim/core';
import { Bench } from 'tinybench';
import type { SlabOptions } from '../src/index.js';
import * as slab from '../src/index.js';
import { makeSlabEnv } from '../test/env.js';

type Factory = (env: SlabEnv, options?: SlabOptions) => SlabAllocator;
const factories: [string, Factory | undefined][] = [
  ['slub', slab.createSlub],
  ['slab', (slab as Record<string, unknown>).createSlab as Factory | undefined],
  ['slob', (slab as Record<string, unknown>).createSlob as Factory | undefined],
];

const configs = factories.flatMap(([name, f]) =>
  f ? [false, true].filter((d) => !(d && name === 'slob')).map((debug) => ({ name, debug })) : [],
);
const only = process.argv[2];
if (only === undefined) {
  // The parent: one child per configuration, then one table.
  const rows: { task: string; time: string; samples: number }[] = [];
  for (let i = 0; i < configs.length; i++) {
    const out = execFileSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), String(i)],
      {
        encoding: 'utf8',
      },
    );
    rows.push(...(JSON.parse(out.trim().split('\n').at(-1)!) as typeof rows));
  }
  console.log(
    `@mmsim/slab bench — node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  );
  console.table(rows);
  process.exit(0);
}

const BATCH = 1000;
const LIVE = 10_000;
const bench = new Bench({ time: 700, warmupTime: 150 });
const checks: (() => string[])[] = [];

{
  const { name, debug } = configs[Number(only)]!;
  const factory = factories.find(([n]) => n === name)![1]!;
  {
    const opts: SlabOptions = debug && name === 'slub' ? { slabDebug: 'FZPU' } : {};
    const cacheFlags = debug
      ? name === 'slub'
        ? SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER
        : SLAB_RED_ZONE | SLAB_POISON
      : 0;
    const label = `${name}${debug ? ' debug' : ''}`;

    const a = factory(makeSlabEnv('laptop').env, opts);
    const cache = a.kmem_cache_create('bench-64', 64, 0, cacheFlags, null);
    if (!cache) throw new Error(`${label}: cannot create the cache`);
    bench.add(`${label}: 64-byte alloc+free pair x${BATCH}`, () => {
      for (let i = 0; i < BATCH; i++)
        a.kmem_cache_free(cache, a.kmem_cache_alloc(cache, GFP_KERNEL));
    });

    checks.push(() => a.verify().map((e) => `${label}: ${e}`));
    // SLAB had no boot switch for its kmalloc caches: no debug run of the mixed pattern.
    const mixed = !(debug && name === 'slab');
    if (mixed) {
      const b = factory(makeSlabEnv('laptop').env, opts);
      const prng = new Prng(7);
      const live = new Float64Array(LIVE);
      for (let i = 0; i < LIVE; i++) live[i] = b.kmalloc(8 + prng.nextInt(2041), GFP_KERNEL);
      const RAND = 1 << 16;
      const slot = new Int32Array(RAND);
      const size = new Int32Array(RAND);
      for (let i = 0; i < RAND; i++) {
        slot[i] = prng.nextInt(LIVE);
        size[i] = 8 + prng.nextInt(2041);
      }
      let cursor = 0;
      bench.add(`${label}: mixed 8-2048 B, ${LIVE} live, free+kmalloc x${BATCH}`, () => {
        for (let i = 0; i < BATCH; i++) {
          const k = cursor++ & (RAND - 1);
          const s = slot[k]!;
          b.kfree(live[s]!);
          live[s] = b.kmalloc(size[k]!, GFP_KERNEL);
        }
      });
      checks.push(() => b.verify().map((e) => `${label}: ${e}`));
    }
  }
}

await bench.run();
const results = bench.tasks.map((t) => {
  const r = t.result as
    | { latency?: { p50?: number; mean: number; samplesCount?: number } }
    | undefined;
  const p50Ms = r?.latency?.p50 ?? r?.latency?.mean ?? Number.NaN;
  return {
    task: t.name,
    time: `${((p50Ms * 1e6) / BATCH).toFixed(1)} ns/op`,
    samples: r?.latency?.samplesCount ?? 0,
  };
});
const errs = checks.flatMap((c) => c());
if (errs.length)
  throw new Error(`allocator inconsistent after bench:\n${errs.slice(0, 10).join('\n')}`);
console.log(JSON.stringify(results));
