/**
 * The packages must run in browsers as well as Node: no `node:` modules, no `process`, no
 * `Buffer`. Bundle core + numa + page-alloc for the browser platform and run a boot, an
 * allocation and a free inside a bare JS realm that has none of Node's globals.
 */

import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const src = (pkg: string) => fileURLToPath(new URL(`../../${pkg}/src/index.ts`, import.meta.url));

describe('isomorphic packages', () => {
  it('bundle for the browser and run where Node globals do not exist', async () => {
    const result = await build({
      stdin: {
        contents: `
          import { GFP_KERNEL, __GFP_ZERO } from '@mmsim/core';
          import { createBuddyAllocator, createPageAllocatorEnv } from '@mmsim/page-alloc';
          const env = createPageAllocatorEnv('tiny');
          const buddy = createBuddyAllocator(env);
          const pfn = buddy.allocPages(GFP_KERNEL | __GFP_ZERO, 2);
          buddy.freePages(pfn, 2);
          globalThis.result = { pfn, free: buddy.nrFreePages(), problems: buddy.verify().length };
        `,
        resolveDir: fileURLToPath(new URL('.', import.meta.url)),
        loader: 'ts',
      },
      alias: {
        '@mmsim/core': src('core'),
        '@mmsim/numa': src('numa'),
        '@mmsim/page-alloc': src('page-alloc'),
      },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/\brequire\(|\bprocess\.|\bBuffer\b|from "node:/);
    const realm: { result?: { pfn: number; free: number; problems: number } } = {};
    runInNewContext(code, realm);
    expect(realm.result).toEqual({ pfn: realm.result!.pfn, free: 3998 + 12288, problems: 0 });
    expect(realm.result!.pfn).toBeGreaterThan(0);
  });
});
