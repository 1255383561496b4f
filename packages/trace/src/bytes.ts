/**
 * The kmem event parser of ftrace.ts over bytes: the same reading, field for field, of a line
 * held in a Uint8Array (a chunk of a trace file before it is decoded). Bytes are read as
 * array elements, much faster than charCodeAt, and strings are made only for the task names,
 * flags, call sites, gfp texts and cache names a trace repeats: each distinct one once, found
 * again by a hash of its bytes (intern()). Only ASCII matters to the syntax, so UTF-8 in a
 * task name is decoded as it is.
 *
 * ftrace.ts's tests hold for both parsers: test/ftrace.test.ts checks the real trace's 192,132
 * events come out of this one equal to the string parser's.
 *
 * Byte chunks go first through fastEvent(), a one-pass reader of the layout Linux 6.x prints
 * that reads keys, hashes and compares 4 bytes at a time; it fills an event exactly as
 * parseInto() does or leaves the line to it (test/fast-path.test.ts holds it to that).
 */
import { parseGfp } from '@mmsim/core';
import type { KmemEvent, KmemEventKind } from './api.js';

const utf8 = new TextDecoder();

/** line[s, e) as a string (no interning: for error texts). */
function text(line: Uint8Array, s: number, e: number): string {
  return utf8.decode(line.subarray(s, Math.max(s, e)));
}

// ---- interned strings ----------------------------------------------------------------------

const INTERN_SIZE = 1 << 15;
/** Per slot: the key's bytes (at keyAt in `arena`, keyLen long; -1 for an empty slot), hash, string. */
let arena = new Uint8Array(1 << 16);
let arenaView = new DataView(arena.buffer);
let arenaUsed = 0;
const keyAt = new Int32Array(INTERN_SIZE);
const keyLen = new Int32Array(INTERN_SIZE).fill(-1);
const internHashes = new Int32Array(INTERN_SIZE);
const internValues: string[] = new Array(INTERN_SIZE).fill('');
let internCount = 0;

const HASH_SEED = 0x811c9dc5 | 0;

/** One step of the hash: a 32-bit word of the bytes mixed into h. */
function mix(h: number, w: number): number {
  h = Math.imul(h ^ w, 0x9e3779b1);
  return h ^ (h >>> 16);
}

/**
 * The hash of line[s, e), 4 bytes at a time (little-endian words read through `dv`, which
 * views `line`; the last word filled with zeros): the one intern() and the fast path
 * (fastEvent) compute.
 */
function hashOf(line: Uint8Array, dv: DataView, s: number, e: number): number {
  let h = HASH_SEED;
  let i = s;
  for (; i + 4 <= e; i += 4) h = mix(h, dv.getInt32(i, true));
  if (i < e) {
    let w = 0;
    for (let k = e - 1; k >= i; k--) w = (w << 8) | line[k]!;
    h = mix(h, w);
  }
  return h;
}

/**
 * The slot of the string for line[s, e), whose hash is `h`: found, or made (its string
 * decoded once) — or -1 when the table holds no more (the caller decodes the bytes).
 */
function internSlot(line: Uint8Array, s: number, e: number, h: number): number {
  const len = e - s;
  let slot = h & (INTERN_SIZE - 1);
  for (let probe = 0; probe < 8; probe++) {
    const kl = keyLen[slot]!;
    if (kl < 0) {
      // Keep at most half the table: a trace with more distinct strings decodes the rest.
      if (internCount >= INTERN_SIZE / 2) return -1;
      if (arenaUsed + len > arena.length) {
        const grown = new Uint8Array(Math.max(arena.length * 2, arenaUsed + len));
        grown.set(arena);
        arena = grown;
        arenaView = new DataView(arena.buffer);
      }
      arena.set(line.subarray(s, e), arenaUsed);
      keyAt[slot] = arenaUsed;
      keyLen[slot] = len;
      arenaUsed += len;
      internHashes[slot] = h;
      internValues[slot] = text(line, s, e);
      internCount++;
      return slot;
    }
    if (internHashes[slot] === h && kl === len) {
      const a = arena;
      const d = keyAt[slot]! - s;
      let i = s;
      while (i < e && a[i + d] === line[i]) i++;
      if (i === e) return slot;
    }
    slot = (slot + 1) & (INTERN_SIZE - 1);
  }
  return -1;
}

/** internSlot() for the fast path: `dv` views `line`, and the bytes are compared 4 at a time. */
function internSlotDv(line: Uint8Array, dv: DataView, s: number, e: number, h: number): number {
  const len = e - s;
  if (len < 4) return internSlot(line, s, e, h);
  let slot = h & (INTERN_SIZE - 1);
  for (let probe = 0; probe < 8; probe++) {
    const kl = keyLen[slot]!;
    if (kl < 0) return internSlot(line, s, e, h);
    if (internHashes[slot] === h && kl === len) {
      const a = arenaView;
      const d = keyAt[slot]! - s;
      let i = s;
      while (i < e - 4 && a.getInt32(i + d, true) === dv.getInt32(i, true)) i += 4;
      if (i >= e - 4 && a.getInt32(e - 4 + d, true) === dv.getInt32(e - 4, true)) return slot;
    }
    slot = (slot + 1) & (INTERN_SIZE - 1);
  }
  return -1;
}

/** The buffer intern() was last called on, and a view of it. */
let viewed: Uint8Array | null = null;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/** line[s, e) as a string: the one string kept for these bytes when there is one. */
function intern(line: Uint8Array, s: number, e: number): string {
  if (line !== viewed) {
    view = new DataView(line.buffer, line.byteOffset, line.byteLength);
    viewed = line;
  }
  const slot = internSlotDv(line, view, s, e, hashOf(line, view, s, e));
  return slot >= 0 ? internValues[slot]! : text(line, s, e);
}

/** Whether `key` is at `at`: its first two characters and its last (as in ftrace.ts). */
function has(line: Uint8Array, at: number, key: string, end: number): boolean {
  const n = key.length - 1;
  return (
    at + n < end &&
    line[at] === key.charCodeAt(0) &&
    line[at + 1] === key.charCodeAt(1) &&
    line[at + n] === key.charCodeAt(n)
  );
}

/** Whether the bytes at `at` spell `word`. */
function matches(line: Uint8Array, at: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if (line[at + i] !== word.charCodeAt(i)) return false;
  return true;
}

function depth(c: string): number {
  if (c === '.' || c === '') return 0;
  return Math.max(hexDigit(c.charCodeAt(0)), 0);
}

/** Where `next` (a space, or ` ptr=`) is at or after `s`, or -1. Values are short: a loop. */
function find(line: Uint8Array, s: number, next: string): number {
  const len = line.length;
  let n = s;
  for (;;) {
    while (n < len && line[n] !== 32) n++;
    if (n >= len) return -1;
    if (next === SP || matches(line, n, next)) return n;
    n++;
  }
}

/** Where ` [` next starts at or after `from`, or -1. */
function nextBracket(line: Uint8Array, from: number): number {
  const len = line.length;
  for (let j = from; j + 1 < len; j++) if (line[j + 1] === 91 && line[j] === 32) return j;
  return -1;
}

let lastGfpText = '';
let lastGfp = Number.NaN;
function readGfp(ev: KmemEvent, line: Uint8Array, s: number, e: number): void {
  const t = intern(line, s, e);
  if (t !== lastGfpText) {
    lastGfpText = t;
    lastGfp = gfpValue(t);
  }
  ev.gfpText = t;
  ev.gfp = lastGfp;
}

function dec(line: Uint8Array, s: number, e: number): number {
  let neg = false;
  if (s < e && line[s]! === 45 /* - */) {
    neg = true;
    s++;
  }
  if (s >= e) return Number.NaN;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = line[i]! - 48;
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
function hex(line: Uint8Array, s: number, e: number): number {
  if (e - s > 2 && line[s]! === 48 && (line[s + 1]! | 32) === 120) s += 2;
  if (s >= e) return Number.NaN;
  const low = Math.max(s, e - 12);
  for (let i = s; i < low; i++) if (hexDigit(line[i]!) < 0) return Number.NaN;
  let v = 0;
  for (let i = low; i < e; i++) {
    const d = hexDigit(line[i]!);
    if (d < 0) return Number.NaN;
    v = v * 16 + d;
  }
  return v;
}

/** A pfn: `0x…` in hex as 6.x prints it, decimal as kernels before 4.x did. */
function pfnValue(line: Uint8Array, s: number, e: number): number {
  if (e - s > 2 && line[s]! === 48 && line[s + 1]! === 120) return hex(line, s, e);
  return dec(line, s, e);
}

/**
 * Whether `key` (`ptr=`, `bytes_req=`, an event name) is at `at`: its first two characters
 * and its last. The fields come in a fixed order, so that tells them apart; a line mangled
 * elsewhere in a key still fails on its value. (This is the parser's inner loop.)
 */

/** line.startsWith(word, at), all characters compared, without the builtin call. */

/** Whether line[s, e) is the string `str`. */

/** Read gfp_flags= in line[s, e) into ev (gfp NaN when it does not parse). */

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
function value(
  line: Uint8Array,
  end: number,
  at: number,
  key: string,
  next: string | null,
): number {
  if (at < 0 || !has(line, at, key, end)) return -1;
  const s = at + key.length;
  if (next === null) {
    vEnd = end;
    nextAt = -1;
    return s;
  }
  const n = find(line, s, next);
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
function callSiteAndPtr(ev: KmemEvent, line: Uint8Array, end: number, at: number): string | null {
  let s = value(line, end, at, K_CALL_SITE, S_PTR);
  if (s < 0) return 'no call_site=';
  ev.callSite = intern(line, s, vEnd);
  s = value(line, end, nextAt, K_PTR, SP);
  if (s < 0) return 'no ptr=';
  ev.ptr = hex(line, s, vEnd);
  if (Number.isNaN(ev.ptr)) return `bad ptr=${text(line, s, vEnd)}`;
  return null;
}

/** bytes_req= bytes_alloc= gfp_flags= [node= [accounted=]] from nextAt. */
function sizesAndGfp(ev: KmemEvent, line: Uint8Array, end: number): string | null {
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
  if (vEnd - s === 4 && matches(line, s, 'true')) ev.accounted = true;
  else if (!(vEnd - s === 5 && matches(line, s, 'false')))
    return `bad accounted=${text(line, s, vEnd)}`;
  return null;
}

function pageAndPfn(ev: KmemEvent, line: Uint8Array, end: number, at: number): string | null {
  let s = value(line, end, at, K_PAGE, SP);
  if (s < 0) return 'no page=';
  ev.page = vEnd - s === 6 && matches(line, s, '(null)') ? 0 : hex(line, s, vEnd);
  if (Number.isNaN(ev.page)) return `bad page=${text(line, s, vEnd)}`;
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
function fields(ev: KmemEvent, line: Uint8Array, end: number, at: number): string | null {
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
      if (nextAt >= 0 && has(line, nextAt, K_NAME, end)) {
        s = value(line, end, nextAt, K_NAME, SP);
        ev.name = intern(line, s, vEnd);
      }
      if (nextAt < 0) return 'no bytes_req=';
      return sizesAndGfp(ev, line, end);
    case 'kfree':
      r = callSiteAndPtr(ev, line, end, at);
      if (r === null && nextAt >= 0) r = `unexpected ${text(line, nextAt, end)}`;
      return r;
    case 'kmem_cache_free':
      r = callSiteAndPtr(ev, line, end, at);
      if (r !== null) return r;
      if (nextAt < 0) return null; // kernels before 5.12: no name=
      s = value(line, end, nextAt, K_NAME, null);
      if (s < 0) return `unexpected ${text(line, nextAt, end)}`;
      ev.name = intern(line, s, vEnd);
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
      if (r === null && nextAt >= 0) r = `unexpected ${text(line, nextAt, end)}`;
      return r;
  }
}

/** The kmem event named at `p` (followed by `:` before `end`), or null. */
function kindAt(line: Uint8Array, p: number, end: number): KmemEventKind | null {
  // One or two characters pick the candidate; then its whole name is checked once.
  let kind: KmemEventKind;
  const c = line[p]!;
  if (c === 107 /* k */) {
    const c2 = line[p + 2]!;
    if (c2 === 97 /* kmalloc */) kind = 'kmalloc';
    else if (c2 === 114 /* kfree */) kind = 'kfree';
    else kind = line[p + 11]! === 97 ? 'kmem_cache_alloc' : 'kmem_cache_free';
  } else if (c === 109 /* m */) {
    kind = line[p + 8]! === 97 ? 'mm_page_alloc' : 'mm_page_free';
  } else return null;
  const e = p + kind.length;
  // The name and its colon lie inside the line: bytes past `end` belong to another line.
  if (e >= end || !matches(line, p, kind)) return null;
  if (line[e]! === 58 /* : */) return kind;
  // The pre-6.1 node-aware events.
  if (e + 6 > end) return null;
  if (kind === 'kmalloc' && matches(line, e, '_node:')) return 'kmalloc_node';
  if (kind === 'kmem_cache_alloc' && matches(line, e, '_node:')) return 'kmem_cache_alloc_node';
  return null;
}

/** A timestamp `5417.812064` in line[s, e) as seconds, or NaN. */
function seconds(line: Uint8Array, s: number, e: number): number {
  let v = 0;
  let scale = 1;
  let dot = false;
  if (s >= e) return Number.NaN;
  for (let i = s; i < e; i++) {
    const c = line[i]!;
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

/** The fields an event line may leave out, at their "absent" values, before its fields are read. */
function clearFields(ev: KmemEvent): void {
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
}

/** Reset `ev` and read `line` into it. */
function parseInto(ev: KmemEvent, line: Uint8Array, start: number, lineEnd: number): number {
  let end = lineEnd;
  while (end > start) {
    const c = line[end - 1]!;
    if (c !== 13 && c !== 32 && c !== 10) break;
    end--;
  }
  let i = start;
  while (i < end && line[i]! === 32) i++;
  if (i === end || line[i]! === 35 /* # */) return COMMENT;

  // The CPU column: ` [ddd]`. A task name may hold ` [`, so look for digits and `]`.
  let b = nextBracket(line, i);
  let close = -1;
  while (b >= 0 && b < end) {
    let j = b + 2;
    while (j < end) {
      const c = line[j]!;
      if (c < 48 || c > 57) break;
      j++;
    }
    if (j > b + 2 && j < end && line[j]! === 93 /* ] */) {
      close = j;
      break;
    }
    b = nextBracket(line, b + 1);
  }
  if (close < 0) return malformed('no [cpu] column');
  const cpu = dec(line, b + 2, close);

  // task-pid, with an optional `(tgid)` column after it (the record-tgid option).
  let te = b;
  while (te > i && line[te - 1]! === 32) te--;
  if (te > i && line[te - 1]! === 41 /* ) */) {
    const open = line.lastIndexOf(40, te);
    if (open > i) {
      te = open;
      while (te > i && line[te - 1]! === 32) te--;
    }
  }
  const dash = line.lastIndexOf(45, te - 1);
  if (dash < i) return malformed('no task-pid');
  const pid = dec(line, dash + 1, te);
  if (Number.isNaN(pid)) return malformed('bad pid');

  // flags (optional) and the timestamp `12.345678:`.
  let p = close + 1;
  while (p < end && line[p]! === 32) p++;
  let tok = find(line, p, SP);
  if (tok < 0 || tok >= end) return malformed('no timestamp');
  let flags = '';
  if (line[tok - 1]! !== 58 /* : */) {
    flags = intern(line, p, tok);
    p = tok;
    while (p < end && line[p]! === 32) p++;
    tok = find(line, p, SP);
    if (tok < 0 || tok >= end || line[tok - 1]! !== 58) return malformed('no timestamp');
  }
  const timestamp = seconds(line, p, tok - 1);
  if (Number.isNaN(timestamp)) return malformed('bad timestamp');

  // event: fields
  p = tok + 1;
  const kind = kindAt(line, p, end);
  if (kind === null) {
    const colon = line.indexOf(58, p);
    return colon < 0 || colon >= end || colon === p ? malformed('no event name') : OTHER;
  }
  const nameEnd = p + kind.length;

  ev.kind = kind;
  ev.task = intern(line, i, dash);
  ev.pid = pid;
  ev.cpu = cpu;
  ev.flags = flags;
  ev.irqsOff = flags.length > 0 ? flags[0]! : '.';
  ev.needResched = flags.length > 1 ? flags[1]! : '.';
  ev.hardSoft = flags.length > 2 ? flags[2]! : '.';
  ev.preemptDepth = flags.length > 3 ? depth(flags[3]!) : 0;
  ev.migrateDisable = flags.length > 4 ? depth(flags[4]!) : 0;
  ev.timestamp = timestamp;
  clearFields(ev);
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
/** parseInto() of ftrace.ts over bytes: 0 an event, 1 a comment, 2 another event, 3 malformed. */
export function parseBytesInto(ev: KmemEvent, buf: Uint8Array, start: number, end: number): number {
  return parseInto(ev, buf, start, end);
}

/** Why the last malformed line was malformed. */
export function bytesReason(): string {
  return reason;
}

// ---- the fast path --------------------------------------------------------------------------

/** Per intern slot, what a flags column means (flagsReady 1 once computed). */
const flagsReady = new Uint8Array(INTERN_SIZE);
const slotIrqsOff: string[] = new Array(INTERN_SIZE).fill('.');
const slotNeedResched: string[] = new Array(INTERN_SIZE).fill('.');
const slotHardSoft: string[] = new Array(INTERN_SIZE).fill('.');
const slotPreempt = new Int32Array(INTERN_SIZE);
const slotMigrate = new Int32Array(INTERN_SIZE);
/** Per intern slot, gfpValue() of a gfp text (gfpReady 1 once computed). */
const gfpReady = new Uint8Array(INTERN_SIZE);
const slotGfp = new Float64Array(INTERN_SIZE);

function flagsOf(slot: number): void {
  const flags = internValues[slot]!;
  slotIrqsOff[slot] = flags.length > 0 ? flags[0]! : '.';
  slotNeedResched[slot] = flags.length > 1 ? flags[1]! : '.';
  slotHardSoft[slot] = flags.length > 2 ? flags[2]! : '.';
  slotPreempt[slot] = flags.length > 3 ? depth(flags[3]!) : 0;
  slotMigrate[slot] = flags.length > 4 ? depth(flags[4]!) : 0;
  flagsReady[slot] = 1;
}

function gfpOf(slot: number): number {
  if (gfpReady[slot] === 0) {
    slotGfp[slot] = gfpValue(internValues[slot]!);
    gfpReady[slot] = 1;
  }
  return slotGfp[slot]!;
}

/** Hex digit values for every byte; -1 for anything else. */
const HEX256 = new Int8Array(256).fill(-1);
HEX256.set(HEX);

/**
 * A word to look for, as little-endian 32-bit words: at 0, 4, … and last the one that ends
 * where the word ends (overlapping the one before when the length is not a multiple of 4), so
 * that each read starts within what the reads before it matched.
 */
function words(text: string): Int32Array {
  const bytes = new TextEncoder().encode(text);
  const dv = new DataView(bytes.buffer);
  const n = bytes.length;
  const w = new Int32Array(Math.ceil(n / 4));
  for (let i = 0; i < w.length - 1; i++) w[i] = dv.getInt32(i * 4, true);
  w[w.length - 1] = dv.getInt32(n - 4, true);
  return w;
}
const F_CALL_SITE = words('call_site=');
const F_PTR = words(' ptr=');
const F_NAME = words(' name=');
const F_BYTES_REQ = words(' bytes_req=');
const F_BYTES_ALLOC = words(' bytes_alloc=');
const F_GFP = words(' gfp_flags=');
const F_NODE = words(' node=');
const F_ACCOUNTED = words(' accounted=');
const F_PAGE = words('page=');
const F_PFN = words(' pfn=0x');
const F_ORDER = words(' order=');
const F_MIGRATETYPE = words(' migratetype=');
const E_KMALLOC = words('kmalloc: ');
const E_KFREE = words('kfree: ');
const E_CACHE_ALLOC = words('kmem_cache_alloc: ');
const E_CACHE_FREE = words('kmem_cache_free: ');
const E_PAGE_ALLOC = words('mm_page_alloc: ');
const E_PAGE_FREE = words('mm_page_free: ');
const W_TRUE = words('true');
const W_FALSE = words('false');

/**
 * Whether `w` (of words(), `n` bytes) is at p: the index after it, or -1. A read starts no
 * further than the bytes matched so far, so never more than one byte past a newline.
 */
function is(dv: DataView, p: number, w: Int32Array, n: number): number {
  const last = w.length - 1;
  for (let i = 0; i < last; i++) if (dv.getInt32(p + 4 * i, true) !== w[i]) return -1;
  return dv.getInt32(p + n - 4, true) === w[last] ? p + n : -1;
}

/** Where the number read last ends. */
let fEnd = 0;

/** A decimal number (with an optional `-`) at p, as dec() reads it, or NaN; it ends at fEnd. */
function decAt(line: Uint8Array, p: number): number {
  let neg = false;
  let c = line[p]!;
  if (c === 45) {
    neg = true;
    c = line[++p]!;
  }
  const s = p;
  let v = 0;
  for (;;) {
    const d = c - 48;
    if (!(d >= 0 && d <= 9)) break;
    v = v * 10 + d;
    c = line[++p]!;
  }
  fEnd = p;
  if (p === s) return Number.NaN;
  return neg ? -v : v;
}

/** A hex number at p (no 0x): its low 48 bits, as hex() reads them, or NaN; it ends at fEnd. */
function hexAt(line: Uint8Array, dv: DataView, p: number): number {
  const s = p;
  // Hashed pointers are printed in 16 digits, the first 8 of them zeros.
  while (dv.getInt32(p, true) === 0x30303030) p += 4;
  let hi = 0;
  let lo = 0;
  for (;;) {
    const d = HEX256[line[p]!]!;
    if (!(d >= 0)) break;
    hi = ((hi << 4) | (lo >>> 20)) & 0xffffff;
    lo = ((lo << 4) | d) & 0xffffff;
    p++;
  }
  fEnd = p;
  return p === s ? Number.NaN : hi * 16777216 + lo;
}

/**
 * The hash of the bytes from p up to the first byte ≤ 32 (a space, the newline), as hashOf()
 * computes it; they end at fEnd. Read 4 at a time: the first byte below 33 of a word is the
 * lowest byte flagged by (w - 0x21212121) & ~w & 0x80808080 (a borrow only runs upward from
 * such a byte), and no read starts past it.
 */
function tokenAt(dv: DataView, p: number): number {
  let h = HASH_SEED;
  for (;;) {
    const w = dv.getInt32(p, true);
    const t = (w - 0x21212121) & ~w & 0x80808080;
    if (t !== 0) {
      const k = (31 - Math.clz32(t & -t)) >>> 3;
      if (k > 0) h = mix(h, w & ((1 << (8 * k)) - 1));
      fEnd = p + k;
      return h;
    }
    h = mix(h, w);
    p += 4;
  }
}

/** hashOf() of line[s, e), its last word read whole: `dv` must hold 3 bytes past e. */
function hashAt(dv: DataView, s: number, e: number): number {
  let h = HASH_SEED;
  let i = s;
  for (; i + 4 <= e; i += 4) h = mix(h, dv.getInt32(i, true));
  if (i < e) h = mix(h, dv.getInt32(i, true) & ((1 << (8 * (e - i))) - 1));
  return h;
}

/** Where the line ends when it ends at p (`\n` or `\r\n`): the newline's index, or -1. */
function eol(line: Uint8Array, p: number): number {
  const c = line[p];
  if (c === 10) return p;
  if (c === 13 && line[p + 1] === 10) return p + 1;
  return -1;
}

/** The kind of event fastEvent() read last, as an index into KMEM_EVENT_KINDS. */
export let fastKind = 0;

/**
 * The kmem event of the line starting at `s` in the layout Linux 6.x prints, read in one pass
 * with no string made but for a new distinct task, flags, call site, cache name or gfp text:
 * returns the index of the newline that ends the line, with `ev` filled exactly as parseInto()
 * fills it; or -1 when the line is anything else — a comment, another event, an older layout,
 * a module call site, a malformed line, the table of strings full — for parseInto() to read
 * (`ev` may then be half written). `dv` views the bytes of `line`; the caller guarantees a
 * newline after `s`, and 16 bytes after it: no read goes more than 4 bytes past the newline.
 */
export function fastEvent(ev: KmemEvent, line: Uint8Array, dv: DataView, s: number): number {
  let p = s;
  let c = line[p]!;
  while (c === 32) c = line[++p]!;
  if (c <= 32 || c === 35 /* # */) return -1;
  // task-pid up to the first ` [`: the task is what comes before its last `-`.
  const taskStart = p;
  let dash = -1;
  for (;;) {
    if (c === 45) dash = p;
    else if (c <= 32) {
      if (c !== 32) return -1;
      if (line[p + 1] === 91) break;
    }
    c = line[++p]!;
  }
  const bracket = p;
  if (dash <= taskStart) return -1;
  const pid = decAt(line, dash + 1);
  if (!(pid >= 0)) return -1;
  for (p = fEnd; p < bracket; p++) if (line[p] !== 32) return -1; // a (tgid) column, …
  if (line[bracket + 2] === 45) return -1;
  const cpu = decAt(line, bracket + 2);
  if (Number.isNaN(cpu) || line[fEnd] !== 93 /* ] */) return -1;
  // flags, then the timestamp `5417.812022: `.
  p = fEnd + 1;
  while (line[p] === 32) p++;
  const flagsStart = p;
  const h = tokenAt(dv, p);
  p = fEnd;
  if (p === flagsStart || line[p] !== 32 || line[p - 1] === 58 /* : no flags column */) return -1;
  const flagsSlot = internSlotDv(line, dv, flagsStart, p, h);
  if (flagsSlot < 0) return -1;
  if (flagsReady[flagsSlot] === 0) flagsOf(flagsSlot);
  while (line[p] === 32) p++;
  let v = 0;
  let scale = 1;
  let dot = false;
  const tsStart = p;
  for (;;) {
    c = line[p]!;
    if (c === 46 && !dot) dot = true;
    else {
      const d = c - 48;
      if (!(d >= 0 && d <= 9)) break;
      v = v * 10 + d;
      if (dot) scale *= 10;
    }
    p++;
  }
  if (c !== 58 || p === tsStart || line[p + 1] !== 32) return -1;
  const timestamp = v / scale;
  p += 2;

  const taskSlot = internSlotDv(line, dv, taskStart, dash, hashAt(dv, taskStart, dash));
  if (taskSlot < 0) return -1;
  ev.task = internValues[taskSlot]!;
  ev.pid = pid;
  ev.cpu = cpu;
  ev.flags = internValues[flagsSlot]!;
  ev.irqsOff = slotIrqsOff[flagsSlot]!;
  ev.needResched = slotNeedResched[flagsSlot]!;
  ev.hardSoft = slotHardSoft[flagsSlot]!;
  ev.preemptDepth = slotPreempt[flagsSlot]!;
  ev.migrateDisable = slotMigrate[flagsSlot]!;
  ev.timestamp = timestamp;
  clearFields(ev);

  c = line[p]!;
  if (c === 107 /* k */) {
    const c2 = line[p + 2];
    if (c2 === 97 /* kmalloc */) {
      p = is(dv, p, E_KMALLOC, 9);
      if (p < 0) return -1;
      ev.kind = 'kmalloc';
      fastKind = 0;
      p = callSiteAndPtrAt(ev, line, dv, p);
      return p < 0 ? -1 : sizesAt(ev, line, dv, p);
    }
    if (c2 === 114 /* kfree */) {
      p = is(dv, p, E_KFREE, 7);
      if (p < 0) return -1;
      ev.kind = 'kfree';
      fastKind = 2;
      p = callSiteAndPtrAt(ev, line, dv, p);
      return p < 0 ? -1 : eol(line, p);
    }
    if (line[p + 11] === 97 /* kmem_cache_alloc */) {
      p = is(dv, p, E_CACHE_ALLOC, 18);
      if (p < 0) return -1;
      ev.kind = 'kmem_cache_alloc';
      fastKind = 3;
      p = callSiteAndPtrAt(ev, line, dv, p);
      if (p < 0) return -1;
      p = nameAt(ev, line, dv, is(dv, p, F_NAME, 6));
      return p < 0 ? -1 : sizesAt(ev, line, dv, p);
    }
    p = is(dv, p, E_CACHE_FREE, 17);
    if (p < 0) return -1;
    ev.kind = 'kmem_cache_free';
    fastKind = 5;
    p = callSiteAndPtrAt(ev, line, dv, p);
    if (p < 0) return -1;
    p = nameAt(ev, line, dv, is(dv, p, F_NAME, 6));
    return p < 0 ? -1 : eol(line, p);
  }
  if (c !== 109 /* m */) return -1;
  if (line[p + 8] === 97 /* mm_page_alloc */) {
    p = is(dv, p, E_PAGE_ALLOC, 15);
    if (p < 0) return -1;
    ev.kind = 'mm_page_alloc';
    fastKind = 6;
    p = pageAt(ev, line, dv, p);
    if (p < 0) return -1;
    p = is(dv, p, F_MIGRATETYPE, 13);
    if (p < 0) return -1;
    const migratetype = decAt(line, p);
    if (Number.isNaN(migratetype)) return -1;
    ev.migratetype = migratetype;
    p = gfpAt(ev, line, dv, is(dv, fEnd, F_GFP, 11));
    return p < 0 ? -1 : eol(line, p);
  }
  p = is(dv, p, E_PAGE_FREE, 14);
  if (p < 0) return -1;
  ev.kind = 'mm_page_free';
  fastKind = 7;
  p = pageAt(ev, line, dv, p);
  return p < 0 ? -1 : eol(line, p);
}

/** call_site=… ptr=… at p: where the ptr value ends, or -1. */
function callSiteAndPtrAt(ev: KmemEvent, line: Uint8Array, dv: DataView, p: number): number {
  p = is(dv, p, F_CALL_SITE, 10);
  if (p < 0) return -1;
  const h = tokenAt(dv, p);
  const e = fEnd;
  if (e === p || line[e] !== 32) return -1;
  const q = is(dv, e, F_PTR, 5);
  if (q < 0) return -1;
  const slot = internSlotDv(line, dv, p, e, h);
  if (slot < 0) return -1;
  ev.callSite = internValues[slot]!;
  const ptr = hexAt(line, dv, q);
  if (Number.isNaN(ptr)) return -1;
  ev.ptr = ptr;
  return fEnd;
}

/**
 * The interned token at p (up to the next space or newline): its slot, with fEnd at its end;
 * -1 when p is -1, the token is empty or cannot be interned.
 */
function tokenSlotAt(line: Uint8Array, dv: DataView, p: number): number {
  if (p < 0) return -1;
  const h = tokenAt(dv, p);
  const e = fEnd;
  if (e === p) return -1;
  const slot = internSlotDv(line, dv, p, e, h);
  fEnd = e;
  return slot;
}

/** The cache name at p (after `name=`) into ev: where it ends, or -1. */
function nameAt(ev: KmemEvent, line: Uint8Array, dv: DataView, p: number): number {
  const slot = tokenSlotAt(line, dv, p);
  if (slot < 0) return -1;
  ev.name = internValues[slot]!;
  return fEnd;
}

/** The gfp_flags value at p into ev: where it ends, or -1 (also when it does not parse). */
function gfpAt(ev: KmemEvent, line: Uint8Array, dv: DataView, p: number): number {
  const slot = tokenSlotAt(line, dv, p);
  if (slot < 0) return -1;
  const e = fEnd;
  const gfp = gfpOf(slot);
  if (Number.isNaN(gfp)) return -1;
  ev.gfpText = internValues[slot]!;
  ev.gfp = gfp;
  return e;
}

/** ` bytes_req= bytes_alloc= gfp_flags= node= accounted=` from p: the newline, or -1. */
function sizesAt(ev: KmemEvent, line: Uint8Array, dv: DataView, p: number): number {
  p = is(dv, p, F_BYTES_REQ, 11);
  if (p < 0) return -1;
  const req = decAt(line, p);
  if (!(req >= 0)) return -1;
  ev.bytesReq = req;
  p = is(dv, fEnd, F_BYTES_ALLOC, 13);
  if (p < 0) return -1;
  const alloc = decAt(line, p);
  if (!(alloc >= 0)) return -1;
  ev.bytesAlloc = alloc;
  p = gfpAt(ev, line, dv, is(dv, fEnd, F_GFP, 11));
  if (p < 0) return -1;
  p = is(dv, p, F_NODE, 6);
  if (p < 0) return -1;
  const node = decAt(line, p);
  if (Number.isNaN(node)) return -1;
  ev.node = node;
  p = is(dv, fEnd, F_ACCOUNTED, 11);
  if (p < 0) return -1;
  const t = is(dv, p, W_TRUE, 4);
  if (t >= 0) {
    ev.accounted = true;
    return eol(line, t);
  }
  p = is(dv, p, W_FALSE, 5);
  return p < 0 ? -1 : eol(line, p);
}

/** `page=… pfn=0x… order=…` at p: where the order ends, or -1. */
function pageAt(ev: KmemEvent, line: Uint8Array, dv: DataView, p: number): number {
  p = is(dv, p, F_PAGE, 5);
  if (p < 0) return -1;
  const page = hexAt(line, dv, p);
  if (Number.isNaN(page)) return -1;
  ev.page = page;
  p = is(dv, fEnd, F_PFN, 7);
  if (p < 0) return -1;
  const pfn = hexAt(line, dv, p);
  if (Number.isNaN(pfn)) return -1;
  ev.pfn = pfn;
  p = is(dv, fEnd, F_ORDER, 7);
  if (p < 0) return -1;
  const order = decAt(line, p);
  if (!(order >= 0 && order <= 30)) return -1;
  ev.order = order;
  return fEnd;
}
