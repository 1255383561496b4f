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
 * stays in it. No regular expressions. Numbers are read digit by digit in place; only names
 * and flag texts become substrings, and a gfp text is parsed once per distinct text. A chunk
 * of a trace is parsed in place, line by line, without a string per line.
 *
 * parseLine() never throws: a line that is not a comment and not a well-formed event is
 * counted in the ParseStats with its line number and the reason.
 *
 * Chunks that arrive as bytes are read by the same parser written over a Uint8Array
 * (bytes.ts), which skips decoding and reads bytes faster than V8 reads string characters.
 */
import { parseGfp } from '@mmsim/core';
import { KMEM_EVENT_KINDS, type KmemEvent, type KmemEventKind, type ParseStats } from './api.js';
import { bytesReason, parseBytesInto } from './bytes.js';

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

// ---- digits ------------------------------------------------------------------------------

/** A decimal integer in line[s, e), or NaN. */
function dec(line: string, s: number, e: number): number {
  let neg = false;
  if (s < e && line.charCodeAt(s) === 45 /* - */) {
    neg = true;
    s++;
  }
  if (s >= e) return Number.NaN;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

/** Hex digit values by character code; -1 for anything else. */
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[97 + i] = 10 + i;
  HEX[65 + i] = 10 + i;
}

function hexDigit(c: number): number {
  return c < 128 ? HEX[c]! : -1;
}

/**
 * A hex number in line[s, e) (with or without 0x), or NaN: its low 48 bits, the part of an
 * address the simulator keeps, exact as a number.
 */
function hex(line: string, s: number, e: number): number {
  if (e - s > 2 && line.charCodeAt(s) === 48 && (line.charCodeAt(s + 1) | 32) === 120) s += 2;
  if (s >= e) return Number.NaN;
  const low = Math.max(s, e - 12);
  for (let i = s; i < low; i++) if (hexDigit(line.charCodeAt(i)) < 0) return Number.NaN;
  let v = 0;
  for (let i = low; i < e; i++) {
    const d = hexDigit(line.charCodeAt(i));
    if (d < 0) return Number.NaN;
    v = v * 16 + d;
  }
  return v;
}

/** A pfn: `0x…` in hex as 6.x prints it, decimal as kernels before 4.x did. */
function pfnValue(line: string, s: number, e: number): number {
  if (e - s > 2 && line.charCodeAt(s) === 48 && line.charCodeAt(s + 1) === 120)
    return hex(line, s, e);
  return dec(line, s, e);
}

function depth(c: string): number {
  if (c === '.' || c === '') return 0;
  const d = hexDigit(c.charCodeAt(0));
  return Math.max(d, 0);
}

/**
 * Whether `key` (`ptr=`, `bytes_req=`, an event name) is at `at`: its first two characters
 * and its last. The fields come in a fixed order, so that tells them apart; a line mangled
 * elsewhere in a key still fails on its value. (This is the parser's inner loop.)
 */
function has(line: string, at: number, key: string): boolean {
  const n = key.length - 1;
  return (
    line.charCodeAt(at) === key.charCodeAt(0) &&
    line.charCodeAt(at + 1) === key.charCodeAt(1) &&
    line.charCodeAt(at + n) === key.charCodeAt(n)
  );
}

/** line.startsWith(word, at), all characters compared, without the builtin call. */
function matches(line: string, at: number, word: string): boolean {
  for (let i = 0; i < word.length; i++)
    if (line.charCodeAt(at + i) !== word.charCodeAt(i)) return false;
  return true;
}

/** Whether line[s, e) is the string `str`. */
function same(line: string, s: number, e: number, str: string): boolean {
  if (e - s !== str.length) return false;
  for (let i = 0; i < str.length; i++)
    if (line.charCodeAt(s + i) !== str.charCodeAt(i)) return false;
  return true;
}

/**
 * The last string read for each repeated field: neighbouring lines mostly share their task,
 * flags, gfp text and cache name, so line[s, e) is compared with it before a substring is made.
 */
let lastTask = '';
let lastFlags = '.....';
let lastName = '';
let lastGfpText = 'GFP_KERNEL';
let lastGfp = Number.NaN;

function taskText(line: string, s: number, e: number): string {
  if (!same(line, s, e, lastTask)) lastTask = line.slice(s, e);
  return lastTask;
}
function flagsText(line: string, s: number, e: number): string {
  if (!same(line, s, e, lastFlags)) lastFlags = line.slice(s, e);
  return lastFlags;
}
function nameText(line: string, s: number, e: number): string {
  if (!same(line, s, e, lastName)) lastName = line.slice(s, e);
  return lastName;
}
/** Read gfp_flags= in line[s, e) into ev (gfp NaN when it does not parse). */
function readGfp(ev: KmemEvent, line: string, s: number, e: number): void {
  if (Number.isNaN(lastGfp) || !same(line, s, e, lastGfpText)) {
    lastGfpText = line.slice(s, e);
    lastGfp = gfpValue(lastGfpText);
  }
  ev.gfpText = lastGfpText;
  ev.gfp = lastGfp;
}

const gfpCache = new Map<string, number>();
/** parseGfp of a gfp text, remembered; NaN when it does not parse. */
function gfpValue(text: string): number {
  let v = gfpCache.get(text);
  if (v === undefined) {
    try {
      v = text === 'none' ? 0 : parseGfp(text);
    } catch {
      v = Number.NaN;
    }
    gfpCache.set(text, v);
  }
  return v;
}

// ---- fields ------------------------------------------------------------------------------

/** Where the value being read ends; set by value(). */
let vEnd = 0;
/** Where the next key's `key=` begins, or -1 when there is no next key. */
let nextAt = 0;

/**
 * The value of `key` starting at `at` (which must begin `key=`): returns where the value
 * starts (or -1 when the key is not there) and sets vEnd to where it ends: at `next` (a
 * space, or ` ptr=` after a call site) when it comes before the end of the line, otherwise at
 * the end of the line; nextAt is then where the next key begins (-1 at the end).
 */
function value(line: string, end: number, at: number, key: string, next: string | null): number {
  if (at < 0 || !has(line, at, key)) return -1;
  const s = at + key.length;
  if (next === null) {
    vEnd = end;
    nextAt = -1;
    return s;
  }
  const n = line.indexOf(next, s);
  if (n < 0 || n >= end) {
    vEnd = end;
    nextAt = -1;
  } else {
    vEnd = n;
    nextAt = n + 1;
  }
  return s;
}

const K_CALL_SITE = 'call_site=';
const K_PTR = 'ptr=';
const K_BYTES_REQ = 'bytes_req=';
const K_BYTES_ALLOC = 'bytes_alloc=';
const K_GFP = 'gfp_flags=';
const K_NODE = 'node=';
const K_ACCOUNTED = 'accounted=';
const K_NAME = 'name=';
const K_PAGE = 'page=';
const K_PFN = 'pfn=';
const K_ORDER = 'order=';
const K_MIGRATETYPE = 'migratetype=';
const S_PTR = ' ptr=';
/** Every value but call_site's ends at a space: the next key starts after it. */
const SP = ' ';

/** Read call_site= and ptr= (the first two fields of the slab events); a reason or null. */
function callSiteAndPtr(ev: KmemEvent, line: string, end: number, at: number): string | null {
  let s = value(line, end, at, K_CALL_SITE, S_PTR);
  if (s < 0) return 'no call_site=';
  ev.callSite = line.slice(s, vEnd);
  s = value(line, end, nextAt, K_PTR, SP);
  if (s < 0) return 'no ptr=';
  ev.ptr = hex(line, s, vEnd);
  if (Number.isNaN(ev.ptr)) return `bad ptr=${line.slice(s, vEnd)}`;
  return null;
}

/** bytes_req= bytes_alloc= gfp_flags= [node= [accounted=]] from nextAt. */
function sizesAndGfp(ev: KmemEvent, line: string, end: number): string | null {
  let s = value(line, end, nextAt, K_BYTES_REQ, SP);
  if (s < 0) return 'no bytes_req=';
  ev.bytesReq = dec(line, s, vEnd);
  if (!(ev.bytesReq >= 0)) return 'bad bytes_req=';
  s = value(line, end, nextAt, K_BYTES_ALLOC, SP);
  if (s < 0) return 'no bytes_alloc=';
  ev.bytesAlloc = dec(line, s, vEnd);
  if (!(ev.bytesAlloc >= 0)) return 'bad bytes_alloc=';
  s = value(line, end, nextAt, K_GFP, SP);
  if (s < 0) return 'no gfp_flags=';
  readGfp(ev, line, s, vEnd);
  if (Number.isNaN(ev.gfp)) return `bad gfp_flags=${ev.gfpText}`;
  if (nextAt < 0) return null; // kernels before 4.x: no node=
  s = value(line, end, nextAt, K_NODE, SP);
  if (s < 0) return 'no node=';
  ev.node = dec(line, s, vEnd);
  if (Number.isNaN(ev.node)) return 'bad node=';
  if (nextAt < 0) return null; // kernels before 5.19: no accounted=
  s = value(line, end, nextAt, K_ACCOUNTED, null);
  if (s < 0) return 'no accounted=';
  const a = line.slice(s, vEnd);
  if (a === 'true') ev.accounted = true;
  else if (a !== 'false') return `bad accounted=${a}`;
  return null;
}

function pageAndPfn(ev: KmemEvent, line: string, end: number, at: number): string | null {
  let s = value(line, end, at, K_PAGE, SP);
  if (s < 0) return 'no page=';
  const pageText = line.slice(s, vEnd);
  ev.page = pageText === '(null)' ? 0 : hex(line, s, vEnd);
  if (Number.isNaN(ev.page)) return `bad page=${pageText}`;
  s = value(line, end, nextAt, K_PFN, SP);
  if (s < 0) return 'no pfn=';
  ev.pfn = pfnValue(line, s, vEnd);
  if (Number.isNaN(ev.pfn)) return 'bad pfn=';
  s = value(line, end, nextAt, K_ORDER, SP);
  if (s < 0) return 'no order=';
  ev.order = dec(line, s, vEnd);
  if (!(ev.order >= 0 && ev.order <= 30)) return 'bad order=';
  return null;
}

/** The fields of event `kind` from `at`: null when well formed, otherwise the reason. */
function fields(ev: KmemEvent, line: string, end: number, at: number): string | null {
  let r: string | null;
  let s: number;
  switch (ev.kind) {
    case 'kmalloc':
    case 'kmalloc_node':
      r = callSiteAndPtr(ev, line, end, at);
      if (r === null && nextAt < 0) r = 'no bytes_req=';
      return r ?? sizesAndGfp(ev, line, end);
    case 'kmem_cache_alloc':
    case 'kmem_cache_alloc_node':
      r = callSiteAndPtr(ev, line, end, at);
      if (r !== null) return r;
      // 6.x prints name= after ptr=; kernels before 6.1 have no name= here.
      if (nextAt >= 0 && has(line, nextAt, K_NAME)) {
        s = value(line, end, nextAt, K_NAME, SP);
        ev.name = nameText(line, s, vEnd);
      }
      if (nextAt < 0) return 'no bytes_req=';
      return sizesAndGfp(ev, line, end);
    case 'kfree':
      r = callSiteAndPtr(ev, line, end, at);
      if (r === null && nextAt >= 0) r = `unexpected ${line.slice(nextAt, end)}`;
      return r;
    case 'kmem_cache_free':
      r = callSiteAndPtr(ev, line, end, at);
      if (r !== null) return r;
      if (nextAt < 0) return null; // kernels before 5.12: no name=
      s = value(line, end, nextAt, K_NAME, null);
      if (s < 0) return `unexpected ${line.slice(nextAt, end)}`;
      ev.name = nameText(line, s, vEnd);
      return null;
    case 'mm_page_alloc':
      r = pageAndPfn(ev, line, end, at);
      if (r !== null) return r;
      s = value(line, end, nextAt, K_MIGRATETYPE, SP);
      if (s < 0) return 'no migratetype=';
      ev.migratetype = dec(line, s, vEnd);
      if (Number.isNaN(ev.migratetype)) return 'bad migratetype=';
      s = value(line, end, nextAt, K_GFP, null);
      if (s < 0) return 'no gfp_flags=';
      readGfp(ev, line, s, vEnd);
      if (Number.isNaN(ev.gfp)) return `bad gfp_flags=${ev.gfpText}`;
      return null;
    case 'mm_page_free':
      r = pageAndPfn(ev, line, end, at);
      if (r === null && nextAt >= 0) r = `unexpected ${line.slice(nextAt, end)}`;
      return r;
  }
}

/** The kmem event named at `p` (followed by `:`), or null. */
function kindAt(line: string, p: number): KmemEventKind | null {
  // One or two characters pick the candidate; then its whole name is checked once.
  let kind: KmemEventKind;
  const c = line.charCodeAt(p);
  if (c === 107 /* k */) {
    const c2 = line.charCodeAt(p + 2);
    if (c2 === 97 /* kmalloc */) kind = 'kmalloc';
    else if (c2 === 114 /* kfree */) kind = 'kfree';
    else kind = line.charCodeAt(p + 11) === 97 ? 'kmem_cache_alloc' : 'kmem_cache_free';
  } else if (c === 109 /* m */) {
    kind = line.charCodeAt(p + 8) === 97 ? 'mm_page_alloc' : 'mm_page_free';
  } else return null;
  if (!matches(line, p, kind)) return null;
  const e = p + kind.length;
  if (line.charCodeAt(e) === 58 /* : */) return kind;
  // The pre-6.1 node-aware events.
  if (kind === 'kmalloc' && matches(line, e, '_node:')) return 'kmalloc_node';
  if (kind === 'kmem_cache_alloc' && matches(line, e, '_node:')) return 'kmem_cache_alloc_node';
  return null;
}

/** A timestamp `5417.812064` in line[s, e) as seconds, or NaN. */
function seconds(line: string, s: number, e: number): number {
  let v = 0;
  let scale = 1;
  let dot = false;
  if (s >= e) return Number.NaN;
  for (let i = s; i < e; i++) {
    const c = line.charCodeAt(i);
    if (c === 46 /* . */ && !dot) {
      dot = true;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9) return Number.NaN;
    v = v * 10 + d;
    if (dot) scale *= 10;
  }
  // Two exact integers divided: the correctly rounded value, as Number('5417.812064') gives.
  return v / scale;
}

/** What parseInto() found: an event, a comment, another event, or a malformed line. */
const EVENT = 0;
const COMMENT = 1;
const OTHER = 2;
let reason = '';

function malformed(why: string): number {
  reason = why;
  return 3;
}

/** Reset `ev` and read `line` into it. */
function parseInto(ev: KmemEvent, line: string, start: number, lineEnd: number): number {
  let end = lineEnd;
  while (end > start) {
    const c = line.charCodeAt(end - 1);
    if (c !== 13 && c !== 32 && c !== 10) break;
    end--;
  }
  let i = start;
  while (i < end && line.charCodeAt(i) === 32) i++;
  if (i === end || line.charCodeAt(i) === 35 /* # */) return COMMENT;

  // The CPU column: ` [ddd]`. A task name may hold ` [`, so look for digits and `]`.
  let b = line.indexOf(' [', i);
  let close = -1;
  while (b >= 0 && b < end) {
    let j = b + 2;
    while (j < end) {
      const c = line.charCodeAt(j);
      if (c < 48 || c > 57) break;
      j++;
    }
    if (j > b + 2 && j < end && line.charCodeAt(j) === 93 /* ] */) {
      close = j;
      break;
    }
    b = line.indexOf(' [', b + 1);
  }
  if (close < 0) return malformed('no [cpu] column');
  const cpu = dec(line, b + 2, close);

  // task-pid, with an optional `(tgid)` column after it (the record-tgid option).
  let te = b;
  while (te > i && line.charCodeAt(te - 1) === 32) te--;
  if (te > i && line.charCodeAt(te - 1) === 41 /* ) */) {
    const open = line.lastIndexOf('(', te);
    if (open > i) {
      te = open;
      while (te > i && line.charCodeAt(te - 1) === 32) te--;
    }
  }
  const dash = line.lastIndexOf('-', te - 1);
  if (dash < i) return malformed('no task-pid');
  const pid = dec(line, dash + 1, te);
  if (Number.isNaN(pid)) return malformed('bad pid');

  // flags (optional) and the timestamp `12.345678:`.
  let p = close + 1;
  while (p < end && line.charCodeAt(p) === 32) p++;
  let tok = line.indexOf(' ', p);
  if (tok < 0 || tok >= end) return malformed('no timestamp');
  let flags = '';
  if (line.charCodeAt(tok - 1) !== 58 /* : */) {
    flags = flagsText(line, p, tok);
    p = tok;
    while (p < end && line.charCodeAt(p) === 32) p++;
    tok = line.indexOf(' ', p);
    if (tok < 0 || tok >= end || line.charCodeAt(tok - 1) !== 58) return malformed('no timestamp');
  }
  const timestamp = seconds(line, p, tok - 1);
  if (Number.isNaN(timestamp)) return malformed('bad timestamp');

  // event: fields
  p = tok + 1;
  const kind = kindAt(line, p);
  if (kind === null) {
    const colon = line.indexOf(':', p);
    return colon < 0 || colon >= end || colon === p ? malformed('no event name') : OTHER;
  }
  const nameEnd = p + kind.length;

  ev.kind = kind;
  ev.task = taskText(line, i, dash);
  ev.pid = pid;
  ev.cpu = cpu;
  ev.flags = flags;
  ev.irqsOff = flags.length > 0 ? flags[0]! : '.';
  ev.needResched = flags.length > 1 ? flags[1]! : '.';
  ev.hardSoft = flags.length > 2 ? flags[2]! : '.';
  ev.preemptDepth = flags.length > 3 ? depth(flags[3]!) : 0;
  ev.migrateDisable = flags.length > 4 ? depth(flags[4]!) : 0;
  ev.timestamp = timestamp;
  ev.callSite = '';
  ev.ptr = 0;
  ev.bytesReq = 0;
  ev.bytesAlloc = 0;
  ev.gfp = 0;
  ev.gfpText = '';
  ev.node = -1;
  ev.accounted = false;
  ev.name = '';
  ev.page = 0;
  ev.pfn = -1;
  ev.order = 0;
  ev.migratetype = 0;
  const r = fields(ev, line, end, nameEnd + 2);
  if (r !== null) return malformed(`${kind}: ${r}`);
  return EVENT;
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

/**
 * parseLine() of the line text[start, end), read in place: a chunk of a trace is parsed
 * without making a string per line (V8 reads a flat string faster than a slice of one).
 */
function parseRange(
  text: string,
  start: number,
  end: number,
  stats: ParseStats | undefined,
  ev: KmemEvent,
): KmemEvent | null {
  let what: number;
  try {
    what = parseInto(ev, text, start, end);
  } catch (e) {
    what = malformed(`internal error: ${(e as Error).message}`);
  }
  if (stats) count(stats, ev, text, start, end, what);
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
    for (;;) {
      const n = chunk.indexOf(10, s);
      if (n < 0) break;
      const ev = parseByteLine(chunk, s, n, stats, next());
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
