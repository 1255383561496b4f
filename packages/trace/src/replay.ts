/**
 * Replay a kernel's kmem events on a booted simulated Kernel.
 *
 * Each allocation event is made again through the Kernel's API under Linux's names:
 * kmalloc → k.kmalloc(bytes_req, gfp), kmem_cache_alloc → k.kmem_cache_alloc() on a cache
 * created on first use with the trace's object size (kmem_cache_create(name, bytes_req, 0, 0,
 * null)), mm_page_alloc → k.alloc_pages(gfp, order); in hardirq or softirq context when the
 * trace's flags column says the kernel was there. Each free frees what the matching
 * allocation made here: the trace's pointers (hashed, but stable within one boot) and pfns
 * are mapped to ours. A free of something allocated before the trace began is counted, not
 * an error. A pointer handed out again while still live here had a free the trace did not
 * see (kfree_rcu()'s bulk path frees without a kfree event): the old object is freed first.
 *
 * Live objects are kept in typed arrays indexed by a slot number (a PtrMap, itself in typed
 * arrays, from the traced pointer to the slot), so the replay allocates no object per event.
 */
import { NO_PAGE } from '@mmsim/core';
import type { Kernel, KmemCache } from '@mmsim/kapi';
import type {
  CacheReport,
  KindCounts,
  KmemEvent,
  KmemEventKind,
  OrderReport,
  ParseStats,
  ReplayOptions,
  ReplayReport,
  ReplaySample,
  SizeMismatch,
} from './api.js';
import { KMEM_EVENT_KINDS } from './api.js';
import { forEachEvent, type TraceChunks } from './ftrace.js';
import { PtrMap } from './ptrmap.js';

interface CacheStat extends CacheReport {
  /** The kmem_cache a traced cache became here (null for a kmalloc size class). */
  handle: KmemCache | null;
}

const MAX_ERROR_TEXTS = 10;

export class Replay {
  readonly k: Kernel;
  private readonly opt: Required<ReplayOptions>;
  private readonly report: ReplayReport;

  // Live slab objects: traced ptr → slot; per slot our pointer, bytes asked, bytes given, cache.
  private readonly objects = new PtrMap();
  private ours = new Float64Array(1024);
  private req = new Float64Array(1024);
  private given = new Float64Array(1024);
  private owner = new Int32Array(1024);
  private freeSlots: number[] = [];
  private nextSlot = 0;

  // Live pages: traced pfn → our pfn * 64 + order.
  private readonly pagesLive = new PtrMap();

  private readonly caches: CacheStat[] = [];
  private readonly kmallocClass = new Map<number, number>();
  private readonly namedCache = new Map<string, number>();
  private readonly orders: OrderReport[] = [];

  private requested = 0;
  private allocated = 0;
  private pages = 0;
  private slabPagesAtStart: number;
  private lastTimestamp = 0;
  private finished = false;

  constructor(k: Kernel, options: ReplayOptions = {}) {
    this.k = k;
    this.opt = {
      freeRemaining: options.freeRemaining ?? false,
      sampleEvery: options.sampleEvery ?? 1000,
      maxMismatches: options.maxMismatches ?? 10,
      contexts: options.contexts ?? true,
      kmalloc: options.kmalloc ?? true,
      caches: options.caches ?? true,
      pages: options.pages ?? true,
    };
    if (!Number.isInteger(this.opt.sampleEvery) || this.opt.sampleEvery < 0)
      throw new RangeError(`replay: sampleEvery must be a non-negative integer`);
    const byKind = {} as Record<KmemEventKind, KindCounts>;
    for (const kind of KMEM_EVENT_KINDS) byKind[kind] = { seen: 0, replayed: 0 };
    const zero = () => ({ requestedBytes: 0, allocatedBytes: 0, pages: 0, slabPages: 0 });
    this.report = {
      events: 0,
      byKind,
      nullFrees: 0,
      unknownFrees: 0,
      implicitFrees: 0,
      implicitPageFrees: 0,
      failures: 0,
      errors: 0,
      errorTexts: [],
      kmallocAgreement: { checked: 0, agree: 0, mismatches: [] },
      peak: zero(),
      final: zero(),
      overhead: { finalBytes: 0, atPeakBytes: 0 },
      liveAtEnd: { objects: 0, pages: 0 },
      caches: [],
      orders: [],
      samples: [],
    };
    this.slabPagesAtStart = this.slabPagesNow();
  }

  /** Pages held by every slab cache of the kernel. */
  private slabPagesNow(): number {
    const slab = this.k.slab;
    let n = 0;
    for (const c of slab.caches()) {
      const info = slab.cacheInfo(c);
      n += info.num_slabs * 2 ** info.cache_order;
    }
    return n;
  }

  private error(e: unknown, ev: KmemEvent | null): void {
    this.report.errors++;
    if (this.report.errorTexts.length < MAX_ERROR_TEXTS) {
      const where = ev ? `line ${ev.line} ${ev.kind}: ` : '';
      this.report.errorTexts.push(where + String((e as Error)?.message ?? e));
    }
  }

  /** Run `fn` in the context the event was traced in. */
  private inContext<T>(ev: KmemEvent, fn: () => T): T {
    if (!this.opt.contexts) return fn();
    const c = ev.hardSoft;
    if (c === 'h' || c === 'H' || c === 'z') return this.k.inIrq(fn);
    if (c === 's') return this.k.inSoftirq(fn);
    return fn();
  }

  private needsContext(ev: KmemEvent): boolean {
    return this.opt.contexts && ev.hardSoft !== '.' && ev.hardSoft !== '';
  }

  // ---- slots ------------------------------------------------------------------------------

  private newSlot(): number {
    const s = this.freeSlots.pop();
    if (s !== undefined) return s;
    const n = this.nextSlot++;
    if (n >= this.ours.length) {
      const grow = <T extends Float64Array | Int32Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.ours = grow(this.ours);
      this.req = grow(this.req);
      this.given = grow(this.given);
      this.owner = grow(this.owner);
    }
    return n;
  }

  private cacheStat(name: string, objectSize: number, handle: KmemCache | null): number {
    this.caches.push({
      name,
      handle,
      objectSize,
      traceObjectSize: -1,
      allocs: 0,
      frees: 0,
      live: 0,
      peakLive: 0,
      requestedBytes: 0,
      allocatedBytes: 0,
    });
    return this.caches.length - 1;
  }

  private kmallocStat(size: number): number {
    let id = this.kmallocClass.get(size);
    if (id === undefined) {
      id = this.cacheStat(size > 8192 ? `kmalloc-large-${size}` : `kmalloc-${size}`, size, null);
      this.kmallocClass.set(size, id);
    }
    return id;
  }

  /** Record a new live object under the traced pointer. */
  private track(ev: KmemEvent, ours: number, given: number, id: number): void {
    const old = this.objects.get(ev.ptr);
    if (old >= 0) {
      // The traced kernel handed this pointer out again: its free was not traced.
      this.release(old, ev);
      this.objects.delete(ev.ptr);
      this.report.implicitFrees++;
    }
    const slot = this.newSlot();
    this.ours[slot] = ours;
    this.req[slot] = ev.bytesReq;
    this.given[slot] = given;
    this.owner[slot] = id;
    this.objects.set(ev.ptr, slot);
    const c = this.caches[id]!;
    c.allocs++;
    c.live++;
    if (c.live > c.peakLive) c.peakLive = c.live;
    if (c.traceObjectSize === -1) c.traceObjectSize = ev.bytesAlloc;
    else if (c.traceObjectSize !== ev.bytesAlloc) c.traceObjectSize = 0;
    c.requestedBytes += ev.bytesReq;
    c.allocatedBytes += given;
    this.requested += ev.bytesReq;
    this.allocated += given;
    const peak = this.report.peak;
    if (this.requested > peak.requestedBytes) peak.requestedBytes = this.requested;
    if (this.allocated > peak.allocatedBytes) {
      peak.allocatedBytes = this.allocated;
      this.report.overhead.atPeakBytes = this.allocated - this.requested;
    }
  }

  /** Free the object in `slot` here; true when freed. */
  private release(slot: number, ev: KmemEvent | null): boolean {
    const c = this.caches[this.owner[slot]!]!;
    const p = this.ours[slot]!;
    let ok = true;
    try {
      if (c.handle !== null) {
        const h = c.handle;
        if (ev !== null && this.needsContext(ev))
          this.inContext(ev, () => this.k.kmem_cache_free(h, p));
        else this.k.kmem_cache_free(h, p);
      } else if (ev !== null && this.needsContext(ev)) this.inContext(ev, () => this.k.kfree(p));
      else this.k.kfree(p);
    } catch (e) {
      this.error(e, ev);
      ok = false;
    }
    c.frees++;
    c.live--;
    c.requestedBytes -= this.req[slot]!;
    c.allocatedBytes -= this.given[slot]!;
    this.requested -= this.req[slot]!;
    this.allocated -= this.given[slot]!;
    this.freeSlots.push(slot);
    return ok;
  }

  // ---- events -----------------------------------------------------------------------------

  private kmalloc(ev: KmemEvent): boolean {
    if (ev.ptr === 0) return false; // the traced kmalloc failed
    const k = this.k;
    let p: number;
    try {
      p = this.needsContext(ev)
        ? this.inContext(ev, () => k.kmalloc(ev.bytesReq, ev.gfp))
        : k.kmalloc(ev.bytesReq, ev.gfp);
    } catch (e) {
      this.error(e, ev);
      return false;
    }
    if (p === 0) {
      this.report.failures++;
      return false;
    }
    const size = k.ksize(p);
    const agreement = this.report.kmallocAgreement;
    agreement.checked++;
    if (size === ev.bytesAlloc) agreement.agree++;
    else if (agreement.mismatches.length < this.opt.maxMismatches) {
      const m: SizeMismatch = {
        line: ev.line,
        bytesReq: ev.bytesReq,
        gfpText: ev.gfpText,
        expected: ev.bytesAlloc,
        got: size,
      };
      agreement.mismatches.push(m);
    }
    this.track(ev, p, size, this.kmallocStat(size));
    return true;
  }

  private kmemCacheAlloc(ev: KmemEvent): boolean {
    if (ev.ptr === 0) return false;
    const k = this.k;
    const name = ev.name === '' ? `cache-${ev.bytesReq}` : ev.name;
    let id = this.namedCache.get(name);
    if (id === undefined) {
      let handle: KmemCache | null = null;
      try {
        handle = k.kmem_cache_create(name, ev.bytesReq, 0, 0, null);
      } catch (e) {
        this.error(e, ev);
      }
      if (handle === null) {
        this.report.failures++;
        return false;
      }
      id = this.cacheStat(name, k.kmem_cache_size(handle), handle);
      this.namedCache.set(name, id);
    }
    const c = this.caches[id]!;
    const h = c.handle!;
    let p: number;
    try {
      p = this.needsContext(ev)
        ? this.inContext(ev, () => k.kmem_cache_alloc(h, ev.gfp))
        : k.kmem_cache_alloc(h, ev.gfp);
    } catch (e) {
      this.error(e, ev);
      return false;
    }
    if (p === 0) {
      this.report.failures++;
      return false;
    }
    this.track(ev, p, c.objectSize, id);
    return true;
  }

  private free(ev: KmemEvent): boolean {
    if (ev.ptr === 0) {
      this.report.nullFrees++;
      return false;
    }
    const slot = this.objects.get(ev.ptr);
    if (slot < 0) {
      this.report.unknownFrees++;
      return false;
    }
    this.objects.delete(ev.ptr);
    return this.release(slot, ev);
  }

  private orderStat(order: number): OrderReport {
    let o = this.orders[order];
    if (o === undefined) {
      o = { order, allocs: 0, frees: 0, live: 0, peakLive: 0 };
      this.orders[order] = o;
    }
    return o;
  }

  private pageAlloc(ev: KmemEvent): boolean {
    if (ev.pfn < 0 || ev.page === 0) return false; // the traced allocation failed
    const k = this.k;
    const old = this.pagesLive.get(ev.pfn);
    if (old >= 0) {
      this.releasePages(ev.pfn, old, ev);
      this.report.implicitPageFrees++;
    }
    let pfn: number;
    try {
      pfn = this.needsContext(ev)
        ? this.inContext(ev, () => k.alloc_pages(ev.gfp, ev.order))
        : k.alloc_pages(ev.gfp, ev.order);
    } catch (e) {
      this.error(e, ev);
      return false;
    }
    if (pfn === NO_PAGE) {
      this.report.failures++;
      return false;
    }
    this.pagesLive.set(ev.pfn, pfn * 64 + ev.order);
    const o = this.orderStat(ev.order);
    o.allocs++;
    o.live++;
    if (o.live > o.peakLive) o.peakLive = o.live;
    this.pages += 2 ** ev.order;
    if (this.pages > this.report.peak.pages) this.report.peak.pages = this.pages;
    return true;
  }

  private releasePages(tracedPfn: number, packed: number, ev: KmemEvent | null): boolean {
    this.pagesLive.delete(tracedPfn);
    const order = packed % 64;
    const pfn = (packed - order) / 64;
    let ok = true;
    try {
      if (ev !== null && this.needsContext(ev))
        this.inContext(ev, () => this.k.__free_pages(pfn, order));
      else this.k.__free_pages(pfn, order);
    } catch (e) {
      this.error(e, ev);
      ok = false;
    }
    const o = this.orderStat(order);
    o.frees++;
    o.live--;
    this.pages -= 2 ** order;
    return ok;
  }

  private pageFree(ev: KmemEvent): boolean {
    const packed = this.pagesLive.get(ev.pfn);
    if (packed < 0) {
      this.report.unknownFrees++;
      return false;
    }
    return this.releasePages(ev.pfn, packed, ev);
  }

  private sample(): void {
    const slabPages = this.slabPagesNow() - this.slabPagesAtStart;
    if (slabPages > this.report.peak.slabPages) this.report.peak.slabPages = slabPages;
    const s: ReplaySample = {
      events: this.report.events,
      timestamp: this.lastTimestamp,
      requestedBytes: this.requested,
      allocatedBytes: this.allocated,
      pages: this.pages,
      slabPages,
      freePages: this.k.pages.nrFreePages(),
    };
    this.report.samples.push(s);
  }

  /** Replay one event. */
  feed(ev: KmemEvent): void {
    if (this.finished) throw new Error('replay: feed() after finish()');
    const r = this.report;
    r.events++;
    this.lastTimestamp = ev.timestamp;
    const counts = r.byKind[ev.kind];
    counts.seen++;
    let done = false;
    switch (ev.kind) {
      case 'kmalloc':
      case 'kmalloc_node':
        if (this.opt.kmalloc) done = this.kmalloc(ev);
        break;
      case 'kmem_cache_alloc':
      case 'kmem_cache_alloc_node':
        if (this.opt.caches) done = this.kmemCacheAlloc(ev);
        break;
      case 'kfree':
        if (this.opt.kmalloc || this.opt.caches) done = this.free(ev);
        break;
      case 'kmem_cache_free':
        if (this.opt.caches || this.opt.kmalloc) done = this.free(ev);
        break;
      case 'mm_page_alloc':
        if (this.opt.pages) done = this.pageAlloc(ev);
        break;
      case 'mm_page_free':
        if (this.opt.pages) done = this.pageFree(ev);
        break;
    }
    if (done) counts.replayed++;
    if (this.opt.sampleEvery > 0 && r.events % this.opt.sampleEvery === 0) this.sample();
  }

  /** Replay every event of a (sync) iterable. */
  feedAll(events: Iterable<KmemEvent>): this {
    for (const ev of events) this.feed(ev);
    return this;
  }

  /** Replay every event of an async iterable of events or of batches of events. */
  async feedAsync(events: AsyncIterable<KmemEvent | KmemEvent[]>): Promise<this> {
    for await (const e of events) {
      if (Array.isArray(e)) for (const ev of e) this.feed(ev);
      else this.feed(e);
    }
    return this;
  }

  /**
   * End the replay and report. With `freeRemaining`, every live object and page is freed,
   * the caches the replay created are destroyed and the slab caches shrunk.
   */
  finish(): ReplayReport {
    if (this.finished) return this.report;
    const r = this.report;
    if (this.opt.sampleEvery > 0 && r.events % this.opt.sampleEvery !== 0) this.sample();
    const slabPages = this.slabPagesNow() - this.slabPagesAtStart;
    if (slabPages > r.peak.slabPages) r.peak.slabPages = slabPages;
    r.final = {
      requestedBytes: this.requested,
      allocatedBytes: this.allocated,
      pages: this.pages,
      slabPages,
    };
    r.overhead.finalBytes = this.allocated - this.requested;
    r.liveAtEnd = { objects: this.objects.size, pages: this.pagesLive.size };
    r.caches = this.caches.map(
      (c): CacheReport => ({
        name: c.name,
        objectSize: c.objectSize,
        traceObjectSize: Math.max(0, c.traceObjectSize),
        allocs: c.allocs,
        frees: c.frees,
        live: c.live,
        peakLive: c.peakLive,
        requestedBytes: c.requestedBytes,
        allocatedBytes: c.allocatedBytes,
      }),
    );
    r.orders = this.orders.filter((o) => o !== undefined).map((o) => ({ ...o }));
    if (this.opt.freeRemaining) {
      const slots: number[] = [];
      this.objects.forEach((_, slot) => {
        slots.push(slot);
      });
      for (const slot of slots) this.release(slot, null);
      this.objects.clear();
      const pages: number[] = [];
      this.pagesLive.forEach((traced, packed) => {
        pages.push(traced, packed);
      });
      for (let i = 0; i < pages.length; i += 2) this.releasePages(pages[i]!, pages[i + 1]!, null);
      for (const c of this.caches) {
        if (c.handle === null) continue;
        try {
          this.k.kmem_cache_destroy(c.handle);
        } catch (e) {
          this.error(e, null);
        }
      }
      this.k.slab.shrinkAll();
    }
    this.finished = true;
    return r;
  }
}

/**
 * Replay `events` (a sync iterable, e.g. an array or parseTraceText()) on `k` and return the
 * Replay: call .finish() for the report. Without events, feed them with .feed() / .feedAsync().
 */
export function replay(k: Kernel, events?: Iterable<KmemEvent>, options?: ReplayOptions): Replay {
  const r = new Replay(k, options);
  if (events !== undefined) r.feedAll(events);
  return r;
}

/** Parse a trace as it streams in (see openTraceStream) and replay it; finish and report. */
export async function replayTrace(
  k: Kernel,
  chunks: TraceChunks,
  options?: ReplayOptions,
): Promise<{ report: ReplayReport; stats: ParseStats }> {
  const r = new Replay(k, options);
  // One reused event: the replay keeps nothing of an event once fed.
  const stats = await forEachEvent(chunks, (ev) => r.feed(ev));
  return { report: r.finish(), stats };
}

/** The time series of a report as CSV, one sample a line. */
export function samplesToCsv(samples: readonly ReplaySample[]): string {
  const cols = [
    'events',
    'timestamp',
    'requestedBytes',
    'allocatedBytes',
    'pages',
    'slabPages',
    'freePages',
  ] as const;
  const lines: string[] = [cols.join(',')];
  for (const s of samples) lines.push(cols.map((c) => String(s[c])).join(','));
  return `${lines.join('\n')}\n`;
}
