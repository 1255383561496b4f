/**
 * The kmalloc size classes against a real kernel: every `kmalloc` event of a Linux 6.18
 * kernel-build trace (ftrace kmem events, ../shared/traces) records the size asked for
 * (bytes_req) and the size the kernel handed out (bytes_alloc = s->size, or the compound
 * page's size above KMALLOC_MAX_CACHE_SIZE). SLUB's kmalloc + ksize must give the same.
 */
import { readFileSync } from 'node:fs';
import { GFP_KERNEL, parseGfp } from '@mmsim/core';
import { describe, expect, it } from 'vitest';
import xz from 'xz-decompress';
import { createSlub } from '../src/index.js';
import { makeSlabEnv } from './env.js';

const TRACE = new URL('../../../../shared/traces/linux-6.18-build.kmem.trace.xz', import.meta.url);

async function readTrace(): Promise<string> {
  const stream = new xz.XzReadableStream(new Blob([readFileSync(TRACE)]).stream());
  return new Response(stream).text();
}

describe('kmalloc against the live 6.18 trace', () => {
  it('ksize(kmalloc(bytes_req, gfp)) equals bytes_alloc for every kmalloc event', async () => {
    const text = await readTrace();
    const slub = createSlub(makeSlabEnv({ nodes: [{ memory: '256M', cpus: 2 }] }).env);
    const re = /kmalloc: call_site=\S+ ptr=\w+ bytes_req=(\d+) bytes_alloc=(\d+) gfp_flags=(\S+)/;
    let events = 0;
    const mismatches: string[] = [];
    for (const line of text.split('\n')) {
      const m = re.exec(line);
      if (!m) continue;
      events++;
      const req = Number(m[1]);
      const want = Number(m[2]);
      const gfp = parseGfp(m[3]!);
      const p = slub.kmalloc(req, gfp);
      const got = slub.ksize(p);
      if (got !== want)
        mismatches.push(`kmalloc(${req}, ${m[3]}): ksize ${got}, the kernel gave ${want}`);
      slub.kfree(p);
    }
    expect(events).toBe(4380);
    expect(mismatches.slice(0, 10)).toEqual([]);
    expect(slub.verify()).toEqual([]);
    expect(slub.ksize(slub.kmalloc(1, GFP_KERNEL))).toBe(8);
  }, 30_000);
});
