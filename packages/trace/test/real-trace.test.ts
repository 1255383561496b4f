/**
 * The real trace: the ftrace kmem events of a Linux 6.18 kernel build
 * (../shared/traces/linux-6.18-build.kmem.trace.xz), parsed as it streams out of xz and
 * replayed on a booted Kernel under SLUB, SLAB and SLOB.
 *
 * The counts were pinned with grep: `xzcat … | grep -c ' kmalloc:'` gives 4380, and so on.
 */
import { readFileSync } from 'node:fs';
import { boot, type Kernel, PAGE_SIZE } from '@mmsim/kapi';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseTraceBatches } from '../src/ftrace.js';
import {
  createParseStats,
  type KmemEvent,
  openTraceStream,
  type ParseStats,
  parseTraceText,
  readTraceText,
  replay,
  replayTrace,
  samplesToCsv,
} from '../src/index.js';

const TRACE = new URL('../../../../shared/traces/linux-6.18-build.kmem.trace.xz', import.meta.url);
const machine = { nodes: [{ memory: '256M', cpus: 2 }] };
const bytes = () => new Uint8Array(readFileSync(TRACE));

const events: KmemEvent[] = [];
let stats: ParseStats;
beforeAll(async () => {
  stats = createParseStats();
  for await (const batch of parseTraceBatches(openTraceStream(bytes()), { stats }))
    for (const ev of batch) events.push(ev);
}, 60_000);

const freePages = (k: Kernel) => k.stats().freePages;

describe('the Linux 6.18 kernel-build trace', () => {
  it('parses every line: 192132 events, 12 header lines, nothing malformed', () => {
    expect(stats.byKind).toEqual({
      kmalloc: 4380,
      kmalloc_node: 0,
      kfree: 13905,
      kmem_cache_alloc: 53369,
      kmem_cache_alloc_node: 0,
      kmem_cache_free: 42433,
      mm_page_alloc: 46606,
      mm_page_free: 31439,
    });
    // `# entries-in-buffer/entries-written: 192132/192132` says the header.
    expect(stats).toMatchObject({ lines: 192_144, comments: 12, events: 192_132, malformed: 0 });
    expect(events).toHaveLength(192_132);
    // The flags column: 908 + 174 + 168 + 31 + 57 + 38 events in softirq, none in hardirq.
    expect(events.filter((e) => e.hardSoft === 's')).toHaveLength(1376);
    expect(events.filter((e) => e.hardSoft === 'h' || e.hardSoft === 'H')).toHaveLength(0);
    expect(events.filter((e) => e.irqsOff === 'd')).toHaveLength(500);
    expect(events.filter((e) => e.kind === 'kfree' && e.ptr === 0)).toHaveLength(9600);
  });

  it('gives the same events from bytes (bytes.ts) as from text (parseLine)', async () => {
    const fromText = [...parseTraceText(await readTraceText(bytes()))];
    expect(fromText).toHaveLength(events.length);
    const keys = Object.keys(fromText[0]!) as (keyof KmemEvent)[];
    let differ = 0;
    for (let i = 0; i < events.length; i++) {
      const a = events[i]!;
      const b = fromText[i]!;
      for (const key of keys) if (a[key] !== b[key]) differ++;
    }
    expect(differ).toBe(0);
  }, 60_000);

  it('replays on SLUB: ksize() equals bytes_alloc for every kmalloc, and all pages come back', () => {
    const k = boot({ machine });
    const before = freePages(k);
    const seq = k.klog.nextSeq;
    const r = replay(k, events, { freeRemaining: true, sampleEvery: 10_000 }).finish();
    expect(k.klog.records(seq).map((x) => x.text)).toEqual([]);
    expect(r.errors).toBe(0);
    expect(r.failures).toBe(0);
    expect(r.kmallocAgreement).toEqual({ checked: 4380, agree: 4380, mismatches: [] });
    expect(r.byKind.kmalloc).toEqual({ seen: 4380, replayed: 4380 });
    expect(r.byKind.kmem_cache_alloc).toEqual({ seen: 53369, replayed: 53369 });
    expect(r.byKind.mm_page_alloc).toEqual({ seen: 46606, replayed: 46606 });
    expect(r.byKind.kfree).toEqual({ seen: 13905, replayed: 4297 });
    expect(r.byKind.kmem_cache_free).toEqual({ seen: 42433, replayed: 42321 });
    expect(r.byKind.mm_page_free).toEqual({ seen: 31439, replayed: 31370 });
    expect(r.nullFrees).toBe(9600);
    expect(r.unknownFrees).toBe(189);
    expect({ objects: r.implicitFrees, pages: r.implicitPageFrees }).toEqual(IMPLICIT);
    expect(r.liveAtEnd).toEqual(LIVE_AT_END);
    expect(r.final.requestedBytes).toBe(1_483_496);
    expect(r.peak.requestedBytes).toBe(1_812_730);
    // SLUB's kmalloc classes are the traced kernel's, so our allocated bytes for kmalloc
    // objects are the trace's; cache objects differ where Linux's cache has flags (filp is
    // SLAB_HWCACHE_ALIGN: 184 → 192 there, 184 here).
    const filp = r.caches.find((c) => c.name === 'filp')!;
    expect(filp).toMatchObject({ objectSize: 184, traceObjectSize: 192 });
    expect(r.samples).toHaveLength(20);
    expect(samplesToCsv(r.samples).split('\n')[0]).toBe(
      'events,timestamp,requestedBytes,allocatedBytes,pages,slabPages,freePages',
    );
    k.slab.shrinkAll();
    expect(freePages(k)).toBe(before);
    expect(k.slab.verify()).toEqual([]);
  }, 60_000);

  it('replays on SLAB: kmalloc agrees except below 32 bytes (KMALLOC_SHIFT_LOW is 5)', () => {
    // SLAB (removed in 6.8) had no kmalloc-8 or kmalloc-16: include/linux/slab.h set
    // KMALLOC_SHIFT_LOW to 5 for it, so every request of 16 bytes or less gets 32.
    const k = boot({ machine, slab: 'slab' });
    const before = freePages(k);
    const r = replay(k, events, { freeRemaining: true, maxMismatches: 10_000 }).finish();
    expect(r.errors).toBe(0);
    expect(r.kmallocAgreement.checked).toBe(4380);
    expect(r.kmallocAgreement.agree).toBe(4179);
    expect(r.kmallocAgreement.mismatches).toHaveLength(201);
    for (const m of r.kmallocAgreement.mismatches) {
      expect(m.expected).toBeLessThan(32);
      expect(m.got).toBe(32);
    }
    k.slab.shrinkAll();
    expect(freePages(k)).toBe(before);
    expect(k.slab.verify()).toEqual([]);
  }, 60_000);

  it('replays on SLOB: ksize is the request rounded to SLOB_UNIT (2 bytes), or whole pages', () => {
    // SLOB has no size classes: a kmalloc below PAGE_SIZE - 8 is a block of SLOB_UNITs
    // (2 bytes) after an 8-byte size header, and ksize() is the block's size; bigger ones
    // are alloc_pages() of get_order(size). Only requests that are already a SLUB class size
    // (or round to one) agree with the trace.
    const k = boot({ machine, slab: 'slob' });
    const before = freePages(k);
    const r = replay(k, events, { freeRemaining: true, maxMismatches: 10_000 }).finish();
    expect(r.errors).toBe(0);
    expect(r.kmallocAgreement.checked).toBe(4380);
    expect(r.kmallocAgreement.agree).toBe(833);
    const slob = (n: number) =>
      n < PAGE_SIZE - 8
        ? Math.ceil(n / 2) * 2
        : PAGE_SIZE * 2 ** Math.ceil(Math.log2(n / PAGE_SIZE));
    for (const m of r.kmallocAgreement.mismatches) expect(m.got).toBe(slob(m.bytesReq));
    expect(r.final.allocatedBytes - r.final.requestedBytes).toBe(r.overhead.finalBytes);
    k.slab.shrinkAll();
    expect(freePages(k)).toBe(before);
  }, 60_000);

  it('the README example: replayTrace() of the .xz file on a 256 MiB SLUB kernel', async () => {
    const k = boot({ machine: { nodes: [{ memory: '256M', cpus: 2 }] }, slab: 'slub' });
    const { report, stats: s } = await replayTrace(k, openTraceStream(bytes()), {
      freeRemaining: true,
    });
    expect([s.events, s.malformed]).toEqual([192_132, 0]);
    expect(report.kmallocAgreement).toEqual({ checked: 4380, agree: 4380, mismatches: [] });
    expect(report.caches.length).toBeGreaterThan(0);
    expect(samplesToCsv(report.samples).split('\n')[0]).toMatch(
      /^events,timestamp,requestedBytes,/,
    );
  }, 60_000);

  it('replays straight from the compressed file, streaming', async () => {
    const k = boot({ machine });
    const before = freePages(k);
    const { report, stats: s } = await replayTrace(k, openTraceStream(bytes()), {
      freeRemaining: true,
      sampleEvery: 0,
    });
    expect(s.events).toBe(192_132);
    expect(report.events).toBe(192_132);
    expect(report.kmallocAgreement.agree).toBe(4380);
    expect(report.samples).toEqual([]);
    k.slab.shrinkAll();
    expect(freePages(k)).toBe(before);
  }, 60_000);
});

const IMPLICIT = { objects: 6566, pages: 1158 };
const LIVE_AT_END = { objects: 4565, pages: 14078 };
