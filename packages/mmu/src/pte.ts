/**
 * Page-table entries of any format: the level geometry of a format, and encoding and
 * decoding entries as two 32-bit words (lo = bits 0..31, hi = bits 32..63; hi is 0 for
 * entries of 1, 2 or 4 bytes). Numbers only — an 8-byte x86 entry with XD (bit 63) and a
 * frame up to bit 51 never becomes a BigInt.
 *
 * The walker (mmu.ts) inlines the same arithmetic; this file is its readable twin used by the
 * page-table code and explain().
 */
import {
  type PagingFormat,
  type PhysAddr,
  type PhysicalMemory,
  PROT_EXEC,
  PROT_GLOBAL,
  PROT_NOCACHE,
  PROT_READ,
  PROT_USER,
  PROT_WRITE,
  PROT_WRITETHROUGH,
  type PteBits,
  pteBitMask,
  type VirtAddr,
} from '@mmsim/core';
import type { DecodedPte } from './api.js';

const TWO_32 = 4294967296;

/** The numbers a format's walk needs, computed once. */
export interface Geometry {
  readonly format: PagingFormat;
  readonly levels: number;
  /** shift[l]: the VA bit where level l's index starts (= log2 of a leaf's size there). */
  readonly shift: readonly number[];
  /** Entries per table at each level. */
  readonly entries: readonly number[];
  /** Bytes per table at each level. */
  readonly tableBytes: readonly number[];
  /** What allocTable() is asked for: max(pageSize, largest table). */
  readonly tableAllocBytes: number;
  /** leafAllowed[l]: a leaf may sit at level l. */
  readonly leafAllowed: readonly boolean[];
  /** Frame field as word masks and the factors that turn them into an address. */
  readonly frameLoMask: number;
  readonly frameHiMask: number;
  readonly frameLoScale: number;
  readonly frameHiScale: number;
  /**
   * Precomputed powers of two (a `2 ** x` with a variable x is a call to the C library's pow()
   * in V8, ~50 ns: map/unmap made one per level): span[l] = 2^shift[l], the bytes one entry of
   * level l covers; pageSize = 2^pageShift; frameUnit = 2^frame.shift; frameLimit =
   * 2^frame.width; frameScale = 2^frame.lo; vaSize = 2^vaBits.
   */
  readonly span: readonly number[];
  readonly pageSize: number;
  readonly vaSize: number;
  readonly frameUnit: number;
  readonly frameLimit: number;
  readonly frameScale: number;
}

const geometries = new WeakMap<PagingFormat, Geometry>();

/** The geometry of a format (cached per format object). */
export function geometry(format: PagingFormat): Geometry {
  const cached = geometries.get(format);
  if (cached) return cached;
  const levels = format.levelBits.length;
  const shift: number[] = [];
  let s = format.pageShift;
  for (let l = levels - 1; l >= 0; l--) {
    shift[l] = s;
    s += format.levelBits[l]!;
  }
  if (s !== format.vaBits) {
    throw new RangeError(
      `${format.name}: pageShift ${format.pageShift} + level bits ${format.levelBits.join('+')} != vaBits ${format.vaBits}`,
    );
  }
  const entries = format.levelBits.map((b) => 2 ** b);
  const tableBytes = entries.map((n) => n * format.pteSize);
  const { lo, width, shift: fshift } = format.frame;
  let frameLoMask = 0;
  let frameHiMask = 0;
  for (let b = lo; b < lo + width; b++) {
    const [ml, mh] = pteBitMask(b);
    frameLoMask |= ml;
    frameHiMask |= mh;
  }
  const g: Geometry = {
    format,
    levels,
    shift,
    entries,
    tableBytes,
    tableAllocBytes: Math.max(2 ** format.pageShift, ...tableBytes),
    leafAllowed: format.levelBits.map((_, l) => l === levels - 1 || format.hugeLevels.includes(l)),
    frameLoMask,
    frameHiMask,
    frameLoScale: 2 ** (fshift - lo),
    frameHiScale: 2 ** (32 + fshift - lo),
    span: shift.map((x) => 2 ** x),
    pageSize: 2 ** format.pageShift,
    vaSize: 2 ** format.vaBits,
    frameUnit: 2 ** fshift,
    frameLimit: 2 ** width,
    frameScale: 2 ** lo,
  };
  geometries.set(format, g);
  return g;
}

/** Level l's index of a virtual address. */
export const levelIndex = (g: Geometry, va: VirtAddr, l: number): number =>
  Math.floor(va / g.span[l]!) % g.entries[l]!;

/** The address the frame field of an entry names. */
export const pteFrame = (g: Geometry, lo: number, hi: number): PhysAddr =>
  ((lo & g.frameLoMask) >>> 0) * g.frameLoScale + ((hi & g.frameHiMask) >>> 0) * g.frameHiScale;

const has = (bit: number, lo: number, hi: number): boolean =>
  bit >= 0 && (bit < 32 ? (lo >>> bit) & 1 : (hi >>> (bit - 32)) & 1) === 1;

/** The entry (as [lo, hi]) with `bit` set or cleared; absent bits (-1) change nothing. */
export function withBit(lo: number, hi: number, bit: number, on: boolean): [number, number] {
  if (bit < 0) return [lo, hi];
  const [ml, mh] = pteBitMask(bit);
  return on ? [lo | ml, hi | mh] : [lo & ~ml, hi & ~mh];
}

/** The frame field of `pa` as PTE words. @internal */
export function frameWords(g: Geometry, pa: PhysAddr): [number, number] {
  const field = pa / g.frameUnit;
  if (!Number.isInteger(field) || field >= g.frameLimit) {
    throw new RangeError(`${g.format.name}: physical address ${pa} cannot go in the frame field`);
  }
  const v = field * g.frameScale;
  const hi = Math.floor(v / TWO_32);
  return [(v - hi * TWO_32) | 0, hi | 0];
}

/** A table entry pointing at the table at `pa`. */
export function encodeTable(g: Geometry, pa: PhysAddr): [number, number] {
  const f = g.format;
  let [lo, hi] = frameWords(g, pa);
  lo |= f.tableExtra[0];
  hi |= f.tableExtra[1];
  [lo, hi] = withBit(lo, hi, f.bits.valid, true);
  return withBit(lo, hi, f.bits.table, true);
}

/**
 * A leaf at `level` mapping the page at `pa` with PROT_* bits `prot`. Accessed and Dirty
 * start clear (the walk sets them), as on a fresh Linux PTE from mk_pte() before the
 * first touch.
 */
export function encodeLeaf(
  g: Geometry,
  pa: PhysAddr,
  level: number,
  prot: number,
  accessed = false,
  dirty = false,
): [number, number] {
  // The attribute bits depend only on (level, prot, accessed, dirty): they are worked out
  // once (leafAttrs) and or-ed onto the frame, unless a format puts them inside it.
  const key = level | ((prot & 0xff) << 4) | (accessed ? 1 << 12 : 0) | (dirty ? 1 << 13 : 0);
  let attrs = leafAttrCache.get(g);
  if (attrs === undefined) {
    attrs = new Map();
    leafAttrCache.set(g, attrs);
  }
  let a = attrs.get(key);
  if (a === undefined) {
    a = leafAttrs(g, level, prot, accessed, dirty);
    attrs.set(key, a);
  }
  const [lo, hi] = frameWords(g, pa);
  if (a[2]) return encodeLeafBits(g, lo, hi, level, prot, accessed, dirty);
  return [lo | a[0], hi | a[1]];
}

const leafAttrCache = new WeakMap<Geometry, Map<number, readonly [number, number, boolean]>>();

/**
 * The attribute words of a leaf at frame 0, and whether some attribute bit lies in the frame
 * field (then or-ing cannot stand for setting and clearing bits: encodeLeafBits() is used).
 */
function leafAttrs(
  g: Geometry,
  level: number,
  prot: number,
  accessed: boolean,
  dirty: boolean,
): readonly [number, number, boolean] {
  const [lo, hi] = encodeLeafBits(g, 0, 0, level, prot, accessed, dirty);
  let touchedLo = g.format.leafExtra[0];
  let touchedHi = g.format.leafExtra[1];
  for (const bit of Object.values(g.format.bits)) {
    if (typeof bit !== 'number' || bit < 0) continue;
    const [ml, mh] = pteBitMask(bit);
    touchedLo |= ml;
    touchedHi |= mh;
  }
  const overlaps = (touchedLo & g.frameLoMask) !== 0 || (touchedHi & g.frameHiMask) !== 0;
  return [lo, hi, overlaps];
}

/**
 * encodeLeaf() bit by bit, on the frame words `frameLo`, `frameHi`: the definition, which
 * encodeLeaf() caches per (level, prot, accessed, dirty). @internal (tests compare the two)
 */
export function encodeLeafBits(
  g: Geometry,
  frameLo: number,
  frameHi: number,
  level: number,
  prot: number,
  accessed: boolean,
  dirty: boolean,
): [number, number] {
  const f = g.format;
  const b = f.bits;
  let lo = frameLo;
  let hi = frameHi;
  lo |= f.leafExtra[0];
  hi |= f.leafExtra[1];
  const set = (bit: number, on: boolean) => {
    [lo, hi] = withBit(lo, hi, bit, on);
  };
  const last = level === g.levels - 1;
  set(b.valid, true);
  if (f.leafEncoding === 'huge-bit' && !last) set(b.huge, true);
  if (f.leafEncoding === 'table-bit') set(b.table, last);
  const w = (prot & PROT_WRITE) !== 0;
  const u = (prot & PROT_USER) !== 0;
  const x = (prot & PROT_EXEC) !== 0;
  set(b.read, true);
  set(b.write, w);
  set(b.readOnly, !w);
  set(b.user, u);
  set(b.exec, x);
  if (b.privNoExec >= 0) {
    // AArch64: UXN for EL0, PXN for EL1 (Linux: user exec pages are PXN, kernel ones UXN).
    set(b.noExec, !(x && u));
    set(b.privNoExec, !(x && !u));
  } else set(b.noExec, !x);
  set(b.global, (prot & PROT_GLOBAL) !== 0);
  set(b.notGlobal, (prot & PROT_GLOBAL) === 0);
  set(b.cacheDisable, (prot & PROT_NOCACHE) !== 0);
  set(b.writeThrough, (prot & PROT_WRITETHROUGH) !== 0);
  set(b.accessed, accessed);
  set(b.dirty, dirty);
  return [lo, hi];
}

/** Is this valid entry at `level` a leaf? (Reserved encodings are decided by the walker.) */
export function isLeaf(g: Geometry, lo: number, hi: number, level: number): boolean {
  if (level === g.levels - 1) return true;
  const b = g.format.bits;
  switch (g.format.leafEncoding) {
    case 'huge-bit':
      return has(b.huge, lo, hi);
    case 'rwx':
      return has(b.read, lo, hi) || has(b.write, lo, hi) || has(b.exec, lo, hi);
    case 'table-bit':
      return !has(b.table, lo, hi);
    default:
      return false;
  }
}

/** PROT_* of a leaf entry (PROT_READ always). */
export function leafProt(g: Geometry, lo: number, hi: number): number {
  const b = g.format.bits;
  let prot = PROT_READ;
  const u = b.user < 0 || has(b.user, lo, hi);
  const w = b.write >= 0 ? has(b.write, lo, hi) : b.readOnly >= 0 ? !has(b.readOnly, lo, hi) : true;
  let x: boolean;
  if (b.privNoExec >= 0) x = u ? !has(b.noExec, lo, hi) : !has(b.privNoExec, lo, hi);
  else if (b.noExec >= 0) x = !has(b.noExec, lo, hi);
  else x = b.exec >= 0 ? has(b.exec, lo, hi) : true;
  const gl = b.global >= 0 ? has(b.global, lo, hi) : b.notGlobal >= 0 && !has(b.notGlobal, lo, hi);
  if (w) prot |= PROT_WRITE;
  if (x) prot |= PROT_EXEC;
  if (u && b.user >= 0) prot |= PROT_USER;
  if (gl) prot |= PROT_GLOBAL;
  if (has(b.cacheDisable, lo, hi)) prot |= PROT_NOCACHE;
  if (has(b.writeThrough, lo, hi)) prot |= PROT_WRITETHROUGH;
  return prot;
}

/** The architectural names of the format's bits, for decoded output. */
export function bitNames(format: PagingFormat): [string, number][] {
  const b = format.bits;
  let pairs: [string, number][];
  switch (format.arch) {
    case 'x86-64':
      pairs = [
        ['P', b.valid],
        ['RW', b.write],
        ['US', b.user],
        ['PWT', b.writeThrough],
        ['PCD', b.cacheDisable],
        ['A', b.accessed],
        ['D', b.dirty],
        ['PS', b.huge],
        ['G', b.global],
        ['NX', b.noExec],
      ];
      break;
    case 'riscv':
      pairs = [
        ['V', b.valid],
        ['R', b.read],
        ['W', b.write],
        ['X', b.exec],
        ['U', b.user],
        ['G', b.global],
        ['A', b.accessed],
        ['D', b.dirty],
      ];
      break;
    case 'aarch64':
      pairs = [
        ['VALID', b.valid],
        ['TABLE', b.table],
        ['AP1', b.user],
        ['AP2', b.readOnly],
        ['AF', b.accessed],
        ['nG', b.notGlobal],
        ['PXN', b.privNoExec],
        ['UXN', b.noExec],
      ];
      break;
    default:
      pairs = (Object.keys(b) as (keyof PteBits)[]).map((k) => [k, b[k]]);
  }
  return pairs.filter(([, bit]) => bit >= 0);
}

/** Decode an entry found at `level`. */
export function decodePte(g: Geometry, lo: number, hi: number, level: number): DecodedPte {
  const b = g.format.bits;
  const valid = has(b.valid, lo, hi);
  const leaf = valid && isLeaf(g, lo, hi, level);
  const bits: Record<string, 0 | 1> = {};
  for (const [name, bit] of bitNames(g.format)) bits[name] = has(bit, lo, hi) ? 1 : 0;
  return {
    valid,
    leaf,
    pa: pteFrame(g, lo, hi),
    prot: leaf ? leafProt(g, lo, hi) : 0,
    accessed: has(b.accessed, lo, hi),
    dirty: has(b.dirty, lo, hi),
    bits,
  };
}

/** The entry as 2*pteSize lowercase hex digits. */
export function formatPte(g: Geometry, lo: number, hi: number): string {
  const n = g.format.pteSize * 2;
  if (n <= 8)
    return (lo >>> 0)
      .toString(16)
      .padStart(8, '0')
      .slice(8 - n);
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

/** Read the entry at `pa` as [lo, hi] (cold path; the walker reads words directly). */
export function readPte(mem: PhysicalMemory, size: number, pa: PhysAddr): [number, number] {
  switch (size) {
    case 1:
      return [mem.read8(pa), 0];
    case 2:
      return [mem.read16(pa), 0];
    case 4:
      return [mem.read32(pa) | 0, 0];
    default:
      return [mem.read64Lo(pa) | 0, mem.read64Hi(pa) | 0];
  }
}

export function writePte(
  mem: PhysicalMemory,
  size: number,
  pa: PhysAddr,
  lo: number,
  hi: number,
): void {
  switch (size) {
    case 1:
      mem.write8(pa, lo & 0xff);
      break;
    case 2:
      mem.write16(pa, lo & 0xffff);
      break;
    case 4:
      mem.write32(pa, lo >>> 0);
      break;
    default:
      mem.write64Parts(pa, lo >>> 0, hi >>> 0);
  }
}

export const isValid = (g: Geometry, lo: number, hi: number): boolean =>
  has(g.format.bits.valid, lo, hi);

export { has as hasBit };
