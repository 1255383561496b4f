/**
 * @mmsim/tlb must run in browsers as well as Node: bundle it (with core) for the browser
 * platform and run a TLB, the Skylake-like hierarchy and the cache simulator in a bare JS
 * realm that has none of Node's globals.
 */
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const src = (pkg: string) => fileURLToPath(new URL(`../../${pkg}/src/index.ts`, import.meta.url));

describe('isomorphic package', () => {
  it('bundles for the browser and runs where Node globals do not exist', async () => {
    const result = await build({
      stdin: {
        contents: `
          import { createTlb, createTlbHierarchy, simulateCacheTrace, simulatePagingPolicy } from '@mmsim/tlb';
          const t = createTlb({ entries: 16, ways: 4, policy: 'random', seed: 3 });
          for (let p = 0; p < 40; p++) if (t.lookup(p * 4096, 1) < 0) t.insert(p * 4096, 1, 0, 12, 0, false);
          const h = createTlbHierarchy();
          h.insert(0x7f0000000000, 1, 0x1000, 12, 0, false);
          globalThis.result = {
            tlb: { ...t.stats },
            hierarchyHit: h.lookup(0x7f0000000010, 1) >= 0,
            csim: simulateCacheTrace(' L 10,1\\n M 20,1\\n L 110,1\\n', { s: 4, E: 1, b: 4 }),
            opt: simulatePagingPolicy([0, 1, 2, 0, 1, 3, 0, 3, 1, 2, 1], { policy: 'OPT', cacheSize: 3 }).hits,
          };
        `,
        resolveDir: fileURLToPath(new URL('.', import.meta.url)),
        loader: 'ts',
      },
      alias: { '@mmsim/core': src('core'), '@mmsim/tlb': src('tlb') },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/\brequire\(|\bprocess\.|\bBuffer\b|from "node:/);
    const realm: { result?: unknown } = {};
    runInNewContext(code, realm);
    expect(realm.result).toEqual({
      tlb: { hits: 0, misses: 40, evictions: 24, flushes: 0 },
      hierarchyHit: true,
      csim: { hits: 1, misses: 3, evictions: 1 },
      opt: 6,
    });
  });
});
