/**
 * A streaming parser for ftrace's kmem events, as /sys/kernel/tracing/trace prints them
 * (kernel/trace/trace_output.c, include/trace/events/kmem.h):
 *
 *   run.sh-3691    [000] .....  5417.812064: kmalloc: call_site=alloc_bprm+0x45/0x220 ...
 *   <task>-<pid>   [cpu] flags   timestamp:  event:   field=value field=value ...
 *
 * The flags column is irqs-off/BH-disabled, need-resched, hardirq/softirq, preempt-depth and
 * migrate-disable (trace_print_lat_fmt()); older kernels print four characters, some setups
 * none. The fields of each event are printed in a fixed order (the event's print fmt) and
 * are read in that order, each checked for its `key=`: a value runs to the next space, except
 * the call site's, which runs to ` ptr=` so that a module suffix (`ext4_foo+0x1/0x2 [ext4]`)
 * stays in it. No regular expressions.
 *
 * parseLine() never throws: a line that is not a comment and not a well-formed event is
 * counted in the ParseStats with its line number and the reason.
 *
 * The grammar is written once, over bytes (bytes.ts): byte chunks are read in place, and
 * text (parseLine, string chunks) is encoded into a reused buffer and read the same way.
 */
import { KMEM_EVENT_KINDS, type KmemEvent, type KmemEventKind, type ParseStats } from './api.js';
import { bytesReason, fastEvent, fastKind, parseBytesInto } from './bytes.js';

/** A fresh ParseStats. */
export function createParseStats(maxReported = 100): ParseStats {
  const byKind = {} as Record<KmemEventKind, number>;
  for (const k of KMEM_EVENT_KINDS) byKind[k] = 0;
  return {
    lines: 0,
    comments: 0,
    events: 0,
    byKind,
    otherEvents: 0,
    malformed: 0,
    malformedLines: [],
    maxReported,
  };
}

/** A KmemEvent with every field at its default: the shape every parsed event has. */
export function createEvent(): KmemEvent {
  return {
    kind: 'kmalloc',
    line: 0,
    task: '',
    pid: 0,
    cpu: 0,
    flags: '',
    irqsOff: '.',
    needResched: '.',
    hardSoft: '.',
    preemptDepth: 0,
    migrateDisable: 0,
    timestamp: 0,
    callSite: '',
    ptr: 0,
    bytesReq: 0,
    bytesAlloc: 0,
    gfp: 0,
    gfpText: '',
    node: -1,
    accounted: false,
    name: '',
    page: 0,
    pfn: -1,
    order: 0,
    migratetype: 0,
  };
}

/** What the parser found: an event, a comment, another event, or a malformed line (3). */
const EVENT = 0;
const COMMENT = 1;
const OTHER = 2;
let reason = '';

function malformed(why: string): number {
  reason = why;
  return 3;
}

/**
 * Parse one line of an ftrace text trace: the kmem event it holds, or null for a comment, a
 * blank line, an event of another kind, or a malformed line. Never throws.
 *
 * With `stats`, the line is counted (its line number is `stats.lines` after the call) and a
 * malformed line is recorded with its number and the reason. With `into`, that object is
 * reset and filled (and returned) instead of a new one: a loop that keeps no events can parse
 * without allocating an object per line.
 */
export function parseLine(line: string, stats?: ParseStats, into?: KmemEvent): KmemEvent | null {
  if (typeof line !== 'string') {
    if (stats) count(stats, createEvent(), String(line), 0, 0, malformed('not a string'));
    return null;
  }
  return parseRange(line, 0, line.length, stats, into ?? createEvent());
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(4096);

/**
 * parseLine() of the line text[start, end): its UTF-8 bytes go through the byte parser
 * (bytes.ts), the one grammar of the package, via a reused scratch buffer.
 */
function parseRange(
  text: string,
  start: number,
  end: number,
  stats: ParseStats | undefined,
  ev: KmemEvent,
): KmemEvent | null {
  const line = start === 0 && end === text.length ? text : text.slice(start, end);
  if (scratch.length < line.length * 3) scratch = new Uint8Array(line.length * 3);
  let what: number;
  try {
    const { written } = encoder.encodeInto(line, scratch);
    what = parseBytesInto(ev, scratch, 0, written);
    if (what === 3) reason = bytesReason();
  } catch (e) {
    what = malformed(`internal error: ${(e as Error).message}`);
  }
  if (stats) count(stats, ev, line, 0, line.length, what);
  return what === EVENT ? ev : null;
}

function count(
  stats: ParseStats,
  ev: KmemEvent,
  text: string,
  start: number,
  end: number,
  what: number,
): void {
  stats.lines++;
  ev.line = stats.lines;
  if (what === EVENT) {
    stats.events++;
    stats.byKind[ev.kind]++;
  } else if (what === COMMENT) stats.comments++;
  else if (what === OTHER) stats.otherEvents++;
  else {
    stats.malformed++;
    if (stats.malformedLines.length < stats.maxReported)
      stats.malformedLines.push({
        line: stats.lines,
        text: end > start ? text.slice(start, end) : text,
        reason,
      });
  }
}

/** count() of an event the fast path read (its kind is fastKind). */
function countFast(stats: ParseStats, ev: KmemEvent): void {
  ev.line = ++stats.lines;
  stats.events++;
  const byKind = stats.byKind;
  switch (fastKind) {
    case 0:
      byKind.kmalloc++;
      break;
    case 2:
      byKind.kfree++;
      break;
    case 3:
      byKind.kmem_cache_alloc++;
      break;
    case 5:
      byKind.kmem_cache_free++;
      break;
    case 6:
      byKind.mm_page_alloc++;
      break;
    default:
      byKind.mm_page_free++;
  }
}

/** Chunks of text or UTF-8 bytes, sync or async. */
export type TraceChunks =
  | AsyncIterable<string | Uint8Array>
  | Iterable<string | Uint8Array>
  | ReadableStream<Uint8Array>;

export interface ParseTraceOptions {
  /** Counts go here (a fresh ParseStats if not given; read it after the loop). */
  stats?: ParseStats;
}

async function* chunksOf(
  chunks: TraceChunks,
): AsyncGenerator<string | Uint8Array, void, undefined> {
  if (typeof (chunks as ReadableStream<Uint8Array>).getReader === 'function') {
    const reader = (chunks as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  yield* chunks as AsyncIterable<string | Uint8Array>;
}

/** One line of bytes through the byte parser, counted like parseRange(). */
function parseByteLine(
  buf: Uint8Array,
  start: number,
  end: number,
  stats: ParseStats,
  ev: KmemEvent,
): KmemEvent | null {
  let what: number;
  try {
    what = parseBytesInto(ev, buf, start, end);
    if (what === 3) reason = bytesReason();
  } catch (e) {
    what = malformed(`internal error: ${(e as Error).message}`);
  }
  if (what === 3) {
    // Only a malformed line becomes a string.
    const line = new TextDecoder().decode(buf.subarray(start, end));
    count(stats, ev, line, 0, line.length, what);
  } else count(stats, ev, '', 0, 0, what);
  return what === EVENT ? ev : null;
}

/**
 * The chunk reader behind parseTrace, parseTraceBatches and forEachEvent: each complete line
 * of a chunk is parsed in place — byte chunks by the byte parser (bytes.ts), string chunks by
 * parseRange() — into `next()`'s event and handed to `fn`. A line split across chunks is
 * kept until the chunk that ends it.
 */
class ChunkReader {
  private restBytes: Uint8Array | null = null;
  private restText = '';
  constructor(
    private readonly stats: ParseStats,
    private readonly next: () => KmemEvent,
  ) {}

  feed(chunk: string | Uint8Array, fn: (ev: KmemEvent) => void): void {
    if (typeof chunk === 'string') this.feedText(chunk, fn);
    else this.feedBytes(chunk, fn);
  }

  private feedText(chunk: string, fn: (ev: KmemEvent) => void): void {
    const { stats, next } = this;
    if (this.restBytes !== null) {
      this.restText = new TextDecoder().decode(this.restBytes);
      this.restBytes = null;
    }
    let s = 0;
    if (this.restText !== '') {
      const n = chunk.indexOf('\n');
      if (n < 0) {
        this.restText += chunk;
        return;
      }
      const line = this.restText + chunk.slice(0, n);
      const ev = parseRange(line, 0, line.length, stats, next());
      if (ev !== null) fn(ev);
      this.restText = '';
      s = n + 1;
    }
    for (;;) {
      const n = chunk.indexOf('\n', s);
      if (n < 0) break;
      const ev = parseRange(chunk, s, n, stats, next());
      if (ev !== null) fn(ev);
      s = n + 1;
    }
    this.restText = chunk.slice(s);
  }

  private feedBytes(chunk: Uint8Array, fn: (ev: KmemEvent) => void): void {
    const { stats, next } = this;
    if (this.restText !== '') {
      this.restBytes = new TextEncoder().encode(this.restText);
      this.restText = '';
    }
    let s = 0;
    const rest = this.restBytes;
    if (rest !== null) {
      const n = chunk.indexOf(10);
      const upTo = n < 0 ? chunk.length : n;
      const joined: Uint8Array = new Uint8Array(rest.length + upTo);
      joined.set(rest);
      joined.set(chunk.subarray(0, upTo), rest.length);
      if (n < 0) {
        this.restBytes = joined;
        return;
      }
      const ev = parseByteLine(joined, 0, joined.length, stats, next());
      if (ev !== null) fn(ev);
      this.restBytes = null;
      s = n + 1;
    }
    // The lines that end at or before `fast` are tried on the fast path first (bytes.ts), which
    // may read a few bytes past a line's newline: 16 are left after it.
    const fast = chunk.length > 16 ? chunk.lastIndexOf(10, chunk.length - 17) : -1;
    const dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (;;) {
      const into = next();
      if (s <= fast) {
        const n = fastEvent(into, chunk, dv, s);
        if (n >= 0) {
          countFast(stats, into);
          fn(into);
          s = n + 1;
          continue;
        }
      }
      const n = chunk.indexOf(10, s);
      if (n < 0) break;
      const ev = parseByteLine(chunk, s, n, stats, into);
      if (ev !== null) fn(ev);
      s = n + 1;
    }
    // Copy the unfinished line: the chunk's buffer may be reused by its producer.
    if (s < chunk.length) this.restBytes = chunk.slice(s);
  }

  /** The last line, if the trace does not end with a newline. */
  end(fn: (ev: KmemEvent) => void): void {
    const { stats, next } = this;
    if (this.restBytes !== null && this.restBytes.length > 0) {
      const ev = parseByteLine(this.restBytes, 0, this.restBytes.length, stats, next());
      if (ev !== null) fn(ev);
    } else if (this.restText.length > 0) {
      const ev = parseRange(this.restText, 0, this.restText.length, stats, next());
      if (ev !== null) fn(ev);
    }
    this.restBytes = null;
    this.restText = '';
  }
}

/**
 * Parse a trace arriving in chunks (split anywhere, even inside a UTF-8 character), one
 * array of events per chunk: the fast way to stream, one `await` per chunk rather than per
 * event. Each event is a new object.
 */
export async function* parseTraceBatches(
  chunks: TraceChunks,
  options: ParseTraceOptions = {},
): AsyncGenerator<KmemEvent[], ParseStats, undefined> {
  const stats = options.stats ?? createParseStats();
  const reader = new ChunkReader(stats, createEvent);
  let out: KmemEvent[] = [];
  const push = (ev: KmemEvent) => {
    out.push(ev);
  };
  for await (const chunk of chunksOf(chunks)) {
    reader.feed(chunk, push);
    if (out.length > 0) {
      yield out;
      out = [];
    }
  }
  reader.end(push);
  if (out.length > 0) yield out;
  return stats;
}

/**
 * Parse a trace arriving in chunks and call `fn` with each kmem event: the fastest way to
 * consume a trace, as one event object is reused for every line — `fn` must copy what it
 * keeps. Resolves to the ParseStats.
 */
export async function forEachEvent(
  chunks: TraceChunks,
  fn: (ev: KmemEvent) => void,
  options: ParseTraceOptions = {},
): Promise<ParseStats> {
  const stats = options.stats ?? createParseStats();
  const ev = createEvent();
  const reader = new ChunkReader(stats, () => ev);
  for await (const chunk of chunksOf(chunks)) reader.feed(chunk, fn);
  reader.end(fn);
  return stats;
}

/** Parse a trace arriving in chunks: each kmem event, as a new object, in order. */
export async function* parseTrace(
  chunks: TraceChunks,
  options: ParseTraceOptions = {},
): AsyncGenerator<KmemEvent, ParseStats, undefined> {
  const stats = options.stats ?? createParseStats();
  for await (const batch of parseTraceBatches(chunks, { stats })) yield* batch;
  return stats;
}

/** Parse a whole trace held in a string, synchronously: each kmem event, as a new object. */
export function* parseTraceText(
  text: string,
  options: ParseTraceOptions = {},
): Generator<KmemEvent, ParseStats, undefined> {
  const stats = options.stats ?? createParseStats();
  let s = 0;
  while (s < text.length) {
    let n = text.indexOf('\n', s);
    if (n < 0) n = text.length;
    const ev = parseRange(text, s, n, stats, createEvent());
    if (ev !== null) yield ev;
    s = n + 1;
  }
  return stats;
}
