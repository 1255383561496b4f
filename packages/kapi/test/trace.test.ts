/**
 * The Kernel against a real kernel's kmalloc traffic: the ftrace kmem events of a Linux 6.18
 * kernel build (../shared/traces). Every `kmalloc` event records the size asked for
 * (bytes_req) and the size handed out (bytes_alloc); `kfree` events name the pointer freed.
 * Pointers are hashed (%p), but the same object hashes the same within one boot, so the
 * trace can be replayed: each kmalloc through k.kmalloc(), each kfree of a pointer the trace
 * allocated through k.kfree().
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import xz from 'xz-decompress';
import { boot, type Kernel, parseGfp, ZERO_SIZE_PTR } from '../src/index.js';

const TRACE = new URL('../../../../shared/traces/linux-6.18-build.kmem.trace.xz', import.meta.url);

async function readTrace(): Promise<string> {
  const stream = new xz.XzReadableStream(new Blob([readFileSync(TRACE)]).stream());
  return new Response(stream).text();
}

interface KmallocEvent {
  kind: 'kmalloc';
  ptr: string;
  req: number;
  alloc: number;
  gfpText: string;
  gfp: number;
}
interface KfreeEvent {
  kind: 'kfree';
  ptr: string;
}
type Event = KmallocEvent | KfreeEvent;

const KMALLOC =
  /\skmalloc: call_site=\S+ ptr=(\w+) bytes_req=(\d+) bytes_alloc=(\d+) gfp_flags=(\S+)/;
const KFREE = /\skfree: call_site=\S+ ptr=(\w+)/;
const NULL_PTR = /^0+$/;

let events: Event[] | undefined;
async function traceEvents(): Promise<Event[]> {
  if (events) return events;
  const out: Event[] = [];
  for (const line of (await readTrace()).split('\n')) {
    let m = KMALLOC.exec(line);
    if (m) {
      out.push({
        kind: 'kmalloc',
        ptr: m[1]!,
        req: Number(m[2]),
        alloc: Number(m[3]),
        gfpText: m[4]!,
        gfp: parseGfp(m[4]!),
      });
      continue;
    }
    m = KFREE.exec(line);
    if (m) out.push({ kind: 'kfree', ptr: m[1]! });
  }
  events = out;
  return out;
}

const machine = { nodes: [{ memory: '256M', cpus: 2 }] };
const free = (k: Kernel) => k.stats().freePages;

describe('kmalloc against the live 6.18 trace, through the Kernel', () => {
  it('ksize(kmalloc(bytes_req, gfp)) equals bytes_alloc for every kmalloc event', async () => {
    const evs = (await traceEvents()).filter((e): e is KmallocEvent => e.kind === 'kmalloc');
    const k = boot({ machine });
    const before = free(k);
    const mismatches: string[] = [];
    for (const e of evs) {
      const p = k.kmalloc(e.req, e.gfp);
      const got = k.ksize(p);
      if (got !== e.alloc)
        mismatches.push(
          `kmalloc(${e.req}, ${e.gfpText}): ksize ${got}, the kernel gave ${e.alloc}`,
        );
      k.kfree(p);
    }
    expect(evs).toHaveLength(4380);
    expect(mismatches.slice(0, 10)).toEqual([]);
    expect(mismatches).toHaveLength(0);
    k.slab.shrinkAll();
    expect(free(k)).toBe(before);
    expect(k.slab.verify()).toEqual([]);
  }, 30_000);

  it('replays the kmalloc/kfree traffic in order and gives every page back', async () => {
    const evs = await traceEvents();
    const k = boot({ machine });
    const before = free(k);
    const live = new Map<string, number>();
    let allocs = 0;
    let frees = 0;
    let nullFrees = 0; // kfree(NULL)
    let unknownFrees = 0; // pointers allocated before the trace began, or by kmem_cache_alloc
    let reused = 0; // a live pointer handed out again: its untraced free (kfree_rcu's bulk free)
    let peak = 0;
    const log = (() => {
      const seq = k.klog.nextSeq;
      for (const e of evs) {
        if (e.kind === 'kmalloc') {
          if (NULL_PTR.test(e.ptr)) continue;
          const old = live.get(e.ptr);
          if (old !== undefined) {
            k.kfree(old);
            reused++;
          }
          const p = k.kmalloc(e.req, e.gfp);
          expect(p).toBeGreaterThan(ZERO_SIZE_PTR);
          expect(k.ksize(p)).toBe(e.alloc);
          k.mem.write8(p + e.req - 1, 0xa5); // the last byte asked for is ours to write
          live.set(e.ptr, p);
          allocs++;
          peak = Math.max(peak, live.size);
        } else {
          if (NULL_PTR.test(e.ptr)) {
            nullFrees++;
            continue;
          }
          const p = live.get(e.ptr);
          if (p === undefined) {
            unknownFrees++;
            continue;
          }
          k.kfree(p);
          live.delete(e.ptr);
          frees++;
        }
      }
      return k.klog.records(seq).map((r) => r.text);
    })();
    const leftOver = live.size;
    for (const p of live.values()) k.kfree(p);
    live.clear();
    console.log(
      `trace replay: ${allocs} kmalloc + ${frees} kfree events replayed (${allocs + frees} in all); ` +
        `${reused} pointers reused without a traced free, ${nullFrees} kfree(NULL) and ` +
        `${unknownFrees} kfree events of pointers ` +
        `not kmalloc'd in the trace ignored, ${leftOver} still live at the end, peak ${peak} live`,
    );
    expect(log).toEqual([]);
    expect(allocs).toBe(4380);
    expect(frees).toBe(4126);
    expect(reused).toBe(66);
    expect(leftOver).toBe(188);
    k.slab.shrinkAll();
    expect(free(k)).toBe(before);
    expect(k.slab.verify()).toEqual([]);
  }, 30_000);
});
