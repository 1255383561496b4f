/** replay() on hand-written events: contexts, frees, options, the report, finish(). */
import { boot, GFP_ATOMIC, GFP_KERNEL, type Kernel } from '@mmsim/kapi';
import { describe, expect, it } from 'vitest';
import { createEvent, type KmemEvent, replay, replayTrace, samplesToCsv } from '../src/index.js';

const ev = (fields: Partial<KmemEvent>): KmemEvent => ({ ...createEvent(), ...fields });
const machine = { nodes: [{ memory: '64M', cpus: 2 }] };
const freePages = (k: Kernel) => k.stats().freePages;

describe('replay', () => {
  it('allocates in the traced context: GFP_KERNEL in hardirq is the might_sleep BUG', () => {
    const events = [
      ev({
        kind: 'kmalloc',
        ptr: 1,
        bytesReq: 100,
        bytesAlloc: 128,
        gfp: GFP_ATOMIC,
        hardSoft: 'h',
      }),
      ev({ kind: 'kmalloc', ptr: 2, bytesReq: 64, bytesAlloc: 64, gfp: GFP_KERNEL, hardSoft: 'h' }),
      ev({ kind: 'kfree', ptr: 1, hardSoft: 's' }),
    ];
    const k = boot({ machine });
    let seq = k.klog.nextSeq;
    let r = replay(k, events).finish();
    expect(k.klog.records(seq)[0]?.text).toBe(
      'BUG: sleeping function called from invalid context at include/linux/sched/mm.h:321',
    );
    expect(r.kmallocAgreement).toEqual({ checked: 2, agree: 2, mismatches: [] });
    expect(r.byKind.kfree).toEqual({ seen: 1, replayed: 1 });
    // contexts: false runs everything in process context.
    const k2 = boot({ machine });
    seq = k2.klog.nextSeq;
    r = replay(k2, events, { contexts: false }).finish();
    expect(k2.klog.records(seq)).toEqual([]);
  });

  it('maps traced pointers and pfns to ours; counts NULL, unknown and implicit frees', () => {
    const k = boot({ machine });
    const before = freePages(k);
    const events = [
      ev({ kind: 'kmalloc', ptr: 0xa, bytesReq: 100, bytesAlloc: 128, gfp: GFP_KERNEL }),
      ev({ kind: 'kmalloc', ptr: 0xb, bytesReq: 10, bytesAlloc: 16, gfp: GFP_KERNEL }),
      ev({ kind: 'kmalloc', ptr: 0xa, bytesReq: 200, bytesAlloc: 256, gfp: GFP_KERNEL }), // reuse
      ev({ kind: 'kmem_cache_alloc', ptr: 0xc, name: 'filp', bytesReq: 184, bytesAlloc: 192 }),
      ev({ kind: 'kmem_cache_alloc', ptr: 0xd, name: 'filp', bytesReq: 184, bytesAlloc: 192 }),
      ev({ kind: 'kfree', ptr: 0xc }), // kfree() of a cache object, as Linux allows
      ev({ kind: 'kmem_cache_free', ptr: 0xb, name: 'kmalloc-16' }),
      ev({ kind: 'kfree', ptr: 0 }),
      ev({ kind: 'kfree', ptr: 0xeeee }), // allocated before the trace began
      ev({ kind: 'mm_page_alloc', page: 1, pfn: 0x1000, order: 2, gfp: GFP_KERNEL }),
      ev({ kind: 'mm_page_alloc', page: 2, pfn: 0x2000, order: 0, gfp: GFP_KERNEL }),
      ev({ kind: 'mm_page_alloc', page: 3, pfn: 0x2000, order: 0, gfp: GFP_KERNEL }), // reuse
      ev({ kind: 'mm_page_free', page: 1, pfn: 0x1000, order: 2 }),
      ev({ kind: 'mm_page_free', page: 9, pfn: 0x9999, order: 0 }), // not ours
      ev({ kind: 'mm_page_alloc', page: 0, pfn: -1, order: 0, gfp: GFP_KERNEL }), // failed there
    ];
    const rp = replay(k, events, { freeRemaining: true, sampleEvery: 5 });
    const r = rp.finish();
    expect(r.events).toBe(15);
    expect(r.errors).toBe(0);
    expect(r.kmallocAgreement).toEqual({ checked: 3, agree: 3, mismatches: [] });
    expect(r.byKind.kmalloc).toEqual({ seen: 3, replayed: 3 });
    expect(r.byKind.kfree).toEqual({ seen: 3, replayed: 1 });
    expect(r.byKind.kmem_cache_free).toEqual({ seen: 1, replayed: 1 });
    expect(r.byKind.mm_page_alloc).toEqual({ seen: 4, replayed: 3 });
    expect(r.byKind.mm_page_free).toEqual({ seen: 2, replayed: 1 });
    expect(r).toMatchObject({
      nullFrees: 1,
      unknownFrees: 2,
      implicitFrees: 1,
      implicitPageFrees: 1,
    });
    expect(r.peak).toEqual({
      // The reused pointer freed its first object (100 → 128) before the second was made.
      requestedBytes: 10 + 200 + 184 + 184,
      allocatedBytes: 16 + 256 + 184 + 184,
      pages: 5,
      slabPages: r.peak.slabPages,
    });
    expect(r.final).toMatchObject({
      requestedBytes: 200 + 184,
      allocatedBytes: 256 + 184,
      pages: 1,
    });
    expect(r.overhead).toEqual({ finalBytes: 56, atPeakBytes: 62 });
    expect(r.liveAtEnd).toEqual({ objects: 2, pages: 1 });
    expect(
      r.caches.map((c) => [
        c.name,
        c.objectSize,
        c.traceObjectSize,
        c.allocs,
        c.frees,
        c.live,
        c.peakLive,
      ]),
    ).toEqual([
      ['kmalloc-128', 128, 128, 1, 1, 0, 1],
      ['kmalloc-16', 16, 16, 1, 1, 0, 1],
      ['kmalloc-256', 256, 256, 1, 0, 1, 1],
      ['filp', 184, 192, 2, 1, 1, 2],
    ]);
    expect(r.orders).toEqual([
      { order: 0, allocs: 2, frees: 1, live: 1, peakLive: 1 },
      { order: 2, allocs: 1, frees: 1, live: 0, peakLive: 1 },
    ]);
    expect(r.samples.map((s) => s.events)).toEqual([5, 10, 15]);
    expect(samplesToCsv(r.samples).trim().split('\n')).toHaveLength(4);
    expect(rp.finish()).toBe(r);
    expect(() => rp.feed(events[0]!)).toThrow('feed() after finish()');
    k.slab.shrinkAll();
    expect(freePages(k)).toBe(before);
    expect(k.slab.verify()).toEqual([]);
  });

  it('replays only the kinds asked for', () => {
    const k = boot({ machine });
    const r = replay(
      k,
      [
        ev({ kind: 'kmalloc', ptr: 1, bytesReq: 8, bytesAlloc: 8, gfp: GFP_KERNEL }),
        ev({ kind: 'mm_page_alloc', page: 1, pfn: 5, order: 0, gfp: GFP_KERNEL }),
      ],
      { pages: false, freeRemaining: true },
    ).finish();
    expect(r.byKind.kmalloc.replayed).toBe(1);
    expect(r.byKind.mm_page_alloc).toEqual({ seen: 1, replayed: 0 });
    expect(() => replay(k, [], { sampleEvery: -1 })).toThrow(RangeError);
  });

  it('replays a trace streaming in as text', async () => {
    const k = boot({ machine });
    const before = freePages(k);
    const text = [
      '# tracer: nop',
      '  a-1 [000] ..... 1.000001: kmalloc: call_site=f+0x1/0x2 ptr=00000000000000aa bytes_req=408 bytes_alloc=512 gfp_flags=GFP_KERNEL|__GFP_ZERO node=-1 accounted=false',
      '  a-1 [000] ..... 1.000002: mm_page_alloc: page=0000000000000001 pfn=0x108182 order=1 migratetype=1 gfp_flags=GFP_KERNEL',
      '  a-1 [000] ..... 1.000003: kfree: call_site=g+0x1/0x2 ptr=00000000000000aa',
      'a broken line',
    ].join('\n');
    const { report, stats } = await replayTrace(k, [text.slice(0, 77), text.slice(77)], {
      freeRemaining: true,
    });
    expect(stats).toMatchObject({ lines: 5, events: 3, malformed: 1 });
    expect(report.kmallocAgreement.agree).toBe(1);
    expect(report.byKind.kfree.replayed).toBe(1);
    expect(report.liveAtEnd).toEqual({ objects: 0, pages: 1 });
    k.slab.shrinkAll();
    expect(freePages(k)).toBe(before);
  });
});
