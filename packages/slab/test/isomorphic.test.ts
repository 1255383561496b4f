/**
 * @mmsim/slab must run in browsers as well as Node: bundle it (with core, numa and
 * page-alloc) for the browser platform and run all three allocators, SLUB with its debug
 * report, in a bare JS realm that has none of Node's globals.
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
          import { GFP_KERNEL, virtToPhys } from '@mmsim/core';
          import { createBuddyAllocator, createPageAllocatorEnv } from '@mmsim/page-alloc';
          import { createSlab, createSlabEnv, createSlob, createSlub } from '@mmsim/slab';
          const out = {};
          for (const [name, create] of [['slub', createSlub], ['slab', createSlab], ['slob', createSlob]]) {
            const e = createPageAllocatorEnv('tiny');
            const a = create(createSlabEnv(e, createBuddyAllocator(e)), name === 'slub' ? { slabDebug: 'FZPU' } : {});
            const p = a.kmalloc(60, GFP_KERNEL);
            if (name === 'slub') e.memory.write8(virtToPhys(p) + 64, 0x41);
            a.kfree(p);
            out[name] = { ok: p > 0, problems: a.verify().length, corrupt: e.klog.dmesg().includes('Object corrupt') };
          }
          globalThis.result = out;
        `,
        resolveDir: fileURLToPath(new URL('.', import.meta.url)),
        loader: 'ts',
      },
      alias: {
        '@mmsim/core': src('core'),
        '@mmsim/numa': src('numa'),
        '@mmsim/page-alloc': src('page-alloc'),
        '@mmsim/slab': src('slab'),
      },
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
      slub: { ok: true, problems: 0, corrupt: true },
      slab: { ok: true, problems: 0, corrupt: false },
      slob: { ok: true, problems: 0, corrupt: false },
    });
  });
});
