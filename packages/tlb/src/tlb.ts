/**
 * SetAssocTlb — a set-associative translation lookaside buffer, the one model every TLB (and
 * the cache model of cachesim.ts) in this package is built from.
 *
 * The model, after Intel SDM vol. 3A §4.10 "Caching translation information":
 *
 * - An entry caches one page translation: the virtual page number (VPN = va >> pageShift),
 *   the page's physical base address, the page size, opaque permission flags (the MMU's),
 *   the address-space tag (x86 PCID, §4.10.1; RISC-V/ARM ASID) and the global bit (x86 PTE.G
 *   with CR4.PGE, §4.10.2.4; RISC-V PTE.G): a global entry matches every ASID.
 * - A TLB is one or more arrays. Each array has `sets` x `ways` entries (sets a power of two)
 *   and caches one or several page sizes. An address's set in an array is `vpn mod sets` for
 *   the array's page size; a lookup probes that set in each array, and for each size of a
 *   unified array (hardware probes them in parallel; the model goes in order: arrays as
 *   configured, sizes ascending). Real parts have both layouts: split arrays per page size
 *   (Skylake's L1 dTLB: 4K, 2M and 1G arrays) and unified ones (its STLB: 4K and 2M together).
 * - A fill takes the lowest invalid way of its set, otherwise the way the replacement policy
 *   chooses (an eviction). A translation is never cached twice: a fill replaces in place an
 *   entry a lookup of the same page and address space would also hit.
 * - A page larger than every array's sizes is cached as a fragment of the largest size that
 *   fits (page splintering: SDM §4.10.2.3 allows a TLB to cache a 1G page as smaller entries).
 * - Invalidation as x86 and RISC-V define it: everything (a CR3 write with CR4.PGE=0, or
 *   CR4.PGE toggled; sfence.vma x0, x0), everything but global entries (a CR3 write without
 *   PCID, §4.10.4.1), one address space's non-global entries (INVPCID single-context;
 *   sfence.vma x0, asid), one page in one address space, global entries included (INVLPG,
 *   §4.10.4.1: "regardless of page size"; sfence.vma va, asid), and a range of pages.
 *
 * State is typed arrays indexed by slot (array base + set * ways + way): tag (the VPN, a
 * double: exact up to 2^53, -1 when invalid), page shift, ASID, global bit, physical address
 * and flags. A lookup is a multiply, a floor, a mask and a short loop; nothing is allocated.
 * When the first array holds a single page size (the common case, and every cache), lookup
 * probes it on a straight path, starting with a way predictor (the slot that last answered
 * for the same VPN bits, verified like any way) before searching the set.
 */
import type { Tlb, TlbStats, VirtAddr } from '@mmsim/core';
import type {
  PolicyFactory,
  ReplacementPolicy,
  TlbArrayOptions,
  TlbEntry,
  TlbOptions,
} from './api.js';
import { resolvePolicy } from './policy.js';

/** Page shifts this package models: 0 (byte-granular caches) to 30 (1 GiB pages). */
export const MAX_PAGE_SHIFT = 30;

const INVALID = -1;

/** 2^-shift for each shift, exact: multiplying by it and flooring is va >> shift for doubles. */
const INV_POW2 = Float64Array.from({ length: MAX_PAGE_SHIFT + 1 }, (_, s) => 2 ** -s);
const POW2 = Float64Array.from({ length: MAX_PAGE_SHIFT + 1 }, (_, s) => 2 ** s);

/**
 * `vpn mod (mask + 1)` for a VPN of up to 53 bits. `vpn & mask` alone would be right too, but
 * V8 converts a double beyond 2^31 to int32 on a slow path (about 4 ns here); reducing it
 * below 2^31 first keeps the conversion in line.
 */
function setIndex(vpn: number, mask: number): number {
  return low31(vpn) & mask;
}

/** The low 31 bits of a VPN (see setIndex()). */
function low31(vpn: number): number {
  return (vpn - Math.floor(vpn * TWO_M31) * TWO_31) | 0;
}

const TWO_31 = 2 ** 31;
const TWO_M31 = 2 ** -31;

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function checkShift(shift: unknown, what: string): number {
  if (!Number.isInteger(shift) || (shift as number) < 0 || (shift as number) > MAX_PAGE_SHIFT) {
    throw new RangeError(`${what}: page shift ${String(shift)}, expected an integer 0..30`);
  }
  return shift as number;
}

/** The geometry of one array after validation. */
interface ArrayGeometry {
  entries: number;
  ways: number;
  sets: number;
  shifts: number[];
}

function arrayGeometry(o: TlbArrayOptions, what: string): ArrayGeometry {
  const entries = o.entries ?? 64;
  if (!Number.isInteger(entries) || entries < 1) {
    throw new RangeError(`${what}: entries ${String(entries)}, expected a positive integer`);
  }
  const ways = o.ways ?? entries;
  if (!Number.isInteger(ways) || ways < 1 || entries % ways !== 0) {
    throw new RangeError(
      `${what}: ways ${String(ways)}, expected a positive integer dividing entries (${entries})`,
    );
  }
  const sets = entries / ways;
  if (!isPowerOfTwo(sets)) {
    throw new RangeError(
      `${what}: ${entries} entries / ${ways} ways = ${sets} sets, expected a power of two`,
    );
  }
  const list = o.pageShifts ?? [o.pageShift ?? 12];
  if (list.length === 0) throw new RangeError(`${what}: pageShifts is empty`);
  const shifts = [...new Set(list.map((s) => checkShift(s, what)))].sort((a, b) => a - b);
  return { entries, ways, sets, shifts };
}

/**
 * A set-associative TLB of one or more arrays (see the header). Implements the core `Tlb`
 * interface; `createTlb()` makes one.
 */
export class SetAssocTlb implements Tlb {
  readonly name: string;
  readonly stats: TlbStats = { hits: 0, misses: 0, evictions: 0, flushes: 0 };
  /** Total entries over all arrays. */
  readonly size: number;

  // ---- per slot ----
  /** The VPN (va >> pageShift) of each entry, -1 if invalid. */
  private readonly tag: Float64Array;
  private readonly shift: Uint8Array;
  private readonly asid: Int32Array;
  private readonly global: Uint8Array;
  private readonly pa: Float64Array;
  private readonly flags: Float64Array;

  // ---- per array ----
  private readonly nArrays: number;
  private readonly arrayBase: Int32Array;
  private readonly arraySets: Int32Array;
  private readonly arrayWays: Int32Array;
  /** The page shifts of array a are shiftList[shiftStart[a] .. shiftStart[a+1]). */
  private readonly shiftStart: Int32Array;
  private readonly shiftList: Uint8Array;
  private readonly policies: ReplacementPolicy[];
  /** Array holding each page shift, -1 if none. */
  private readonly arrayOfShift: Int8Array;
  /** The shift a page of each size is cached as: itself, a smaller one (splinter), or -1. */
  private readonly fitShift: Int8Array;

  // ---- the straight path: one array, one page size ----
  private readonly simple: boolean;
  /** Array 0 holds a single page size (then the first probe skips the size compare). */
  private readonly single0: boolean;
  private readonly ways0: number;
  private readonly setMask0: number;
  private readonly inv0: number;
  /** The page size of array 0's single size (when single0). */
  private readonly pow0: number;
  private readonly policy0: ReplacementPolicy;
  /**
   * Way predictors, one table per (array, page size) k at hint[hintBase[k] ..]: the slot that
   * last hit or was filled for each value of the VPN's low bits. Only a speed-up — a guess is
   * verified like any way, so results are exactly those of the plain set search — sparing a
   * lookup the unpredictable branch of finding its way in the set (about 10 ns for random
   * pages on the machine of the README).
   */
  private readonly hint: Int32Array;
  private readonly hintBase: Int32Array;
  private readonly hintMasks: Int32Array;
  /** k (index into shiftList) of each page shift. */
  private readonly kOfShift: Int8Array;
  /** hintMasks[0], for the straight path. */
  private readonly hintMask: number;

  /** Array 0's page shift (when single0). */
  private readonly shift0: number;

  // ---- the last miss in array 0 (lookup() or translate() searched its set in vain) ----
  /**
   * The address of that miss, NaN when none is pending: any change of the tags (a fill, a
   * flush) forgets it. An insert() of the same address, address space and page size that
   * is not global then needs no search of the set: nothing in it duplicates the page, and
   * its lowest invalid slot is known.
   */
  private missVa = Number.NaN;
  private missAsid = 0;
  private missVpn = 0;
  private missSet = 0;
  /** The set's lowest invalid slot, -1 if it is full. */
  private missFree = -1;
  /** The way-predictor index of the missed VPN. */
  private missHint = 0;

  // ---- the last fill's victim (read by an inclusive hierarchy) ----
  /** Whether the last insert() replaced a valid entry; its fields follow. */
  lastEvictedValid = false;
  lastEvictedVpn = 0;
  lastEvictedShift = 0;
  lastEvictedAsid = 0;
  lastEvictedGlobal = false;

  constructor(options: TlbOptions = {}) {
    const name = options.name ?? 'tlb';
    this.name = name;
    const arrayOptions = options.arrays ?? [options];
    if (arrayOptions.length === 0) throw new RangeError(`TLB ${name}: arrays is empty`);
    const geo = arrayOptions.map((o, i) =>
      arrayGeometry(o, arrayOptions.length > 1 ? `TLB ${name} array ${i}` : `TLB ${name}`),
    );
    const n = geo.length;
    this.nArrays = n;
    this.arrayBase = new Int32Array(n);
    this.arraySets = new Int32Array(n);
    this.arrayWays = new Int32Array(n);
    this.shiftStart = new Int32Array(n + 1);
    this.arrayOfShift = new Int8Array(MAX_PAGE_SHIFT + 1).fill(-1);
    const shiftList: number[] = [];
    let size = 0;
    for (let a = 0; a < n; a++) {
      const g = geo[a]!;
      this.arrayBase[a] = size;
      this.arraySets[a] = g.sets;
      this.arrayWays[a] = g.ways;
      this.shiftStart[a] = shiftList.length;
      for (const s of g.shifts) {
        if (this.arrayOfShift[s] !== -1) {
          throw new RangeError(`TLB ${name}: page shift ${s} is in two arrays`);
        }
        this.arrayOfShift[s] = a;
        shiftList.push(s);
      }
      size += g.entries;
    }
    this.shiftStart[n] = shiftList.length;
    this.shiftList = Uint8Array.from(shiftList);
    this.fitShift = new Int8Array(MAX_PAGE_SHIFT + 1).fill(-1);
    for (let s = 0, fit = -1; s <= MAX_PAGE_SHIFT; s++) {
      if (this.arrayOfShift[s] !== -1) fit = s;
      this.fitShift[s] = fit;
    }
    this.size = size;
    this.tag = new Float64Array(size).fill(INVALID);
    this.shift = new Uint8Array(size);
    this.asid = new Int32Array(size);
    this.global = new Uint8Array(size);
    this.pa = new Float64Array(size);
    this.flags = new Float64Array(size);

    const factory: PolicyFactory = resolvePolicy(options.policy);
    const seed = options.seed ?? 0;
    this.policies = geo.map((g, a) => factory(g.sets, g.ways, seed + a));
    if (this.policies.some((p) => typeof p?.victim !== 'function')) {
      throw new TypeError(`TLB ${name}: the policy factory did not return a ReplacementPolicy`);
    }

    const g0 = geo[0]!;
    this.single0 = g0.shifts.length === 1;
    this.simple = n === 1 && this.single0;
    this.ways0 = g0.ways;
    this.setMask0 = g0.sets - 1;
    this.inv0 = INV_POW2[g0.shifts[0]!]!;
    this.pow0 = POW2[g0.shifts[0]!]!;
    this.shift0 = this.single0 ? g0.shifts[0]! : -1;
    this.policy0 = this.policies[0]!;
    const nk = shiftList.length;
    this.hintBase = new Int32Array(nk);
    this.hintMasks = new Int32Array(nk);
    this.kOfShift = new Int8Array(MAX_PAGE_SHIFT + 1).fill(-1);
    let hintTotal = 0;
    for (let a = 0; a < n; a++) {
      for (let k = this.shiftStart[a]!; k < this.shiftStart[a + 1]!; k++) {
        let hintSize = 64;
        while (hintSize < 2 * geo[a]!.entries && hintSize < 1 << 16) hintSize <<= 1;
        this.hintBase[k] = hintTotal;
        this.hintMasks[k] = hintSize - 1;
        this.kOfShift[shiftList[k]!] = k;
        hintTotal += hintSize;
      }
    }
    this.hint = new Int32Array(hintTotal);
    this.hintMask = this.hintMasks[0]!;
  }

  // ---- the hot path -------------------------------------------------------------------------

  lookup(va: VirtAddr, asid: number): number {
    if (this.single0 !== true) return this.lookupArrays(va, asid, 0);
    // Array 0 holds one page size: probe it without comparing sizes.
    const vpn = Math.floor(va * this.inv0);
    const low = low31(vpn);
    // The way predictor first: the slot that last answered for these VPN bits. It is only a
    // guess, checked like any way; a stale one falls through to the set.
    const h = low & this.hintMask;
    const guess = this.hint[h]!;
    const set = low & this.setMask0;
    if (this.tag[guess] === vpn && (this.asid[guess] === asid || this.global[guess] !== 0)) {
      this.stats.hits++;
      this.policy0.touch(set, guess - set * this.ways0);
      return guess;
    }
    this.scanVa = va;
    this.scanVpn = vpn;
    return this.scan0(asid, set, h);
  }

  /**
   * The address and VPN of a lookup that scan0() continues. They go through fields, not
   * arguments: a double argument of a call that V8 does not inline is boxed, an allocation.
   */
  private scanVa = Number.NaN;
  private scanVpn = Number.NaN;

  /**
   * The rest of a lookup of scanVa after a wrong guess: search array 0's set, then the other
   * arrays. When array 0's set misses, the miss is remembered (see fillMiss()).
   */
  private scan0(asid: number, set: number, h: number): number {
    const tag = this.tag;
    const vpn = this.scanVpn;
    const ways = this.ways0;
    const first = set * ways;
    let free = -1;
    for (let way = 0; way < ways; way++) {
      const i = first + way;
      const t = tag[i]!;
      if (t === vpn) {
        if (this.asid[i] === asid || this.global[i] !== 0) {
          this.stats.hits++;
          this.policy0.touch(set, way);
          this.hint[h] = i;
          return i;
        }
      } else if (t === INVALID && free < 0) free = i;
    }
    // No entry of array 0 holds this page for this address space, and `free` is the set's
    // lowest invalid slot: what insert() would find again by scanning the set.
    this.missVa = vpn === INVALID ? Number.NaN : this.scanVa;
    this.missAsid = asid;
    this.missVpn = vpn;
    this.missSet = set;
    this.missFree = free;
    this.missHint = h;
    if (this.simple === true) {
      this.stats.misses++;
      return -1;
    }
    return this.lookupArrays(this.scanVa, asid, 1);
  }

  /** translate()'s slot of an entry that lacked a needed flag. */
  lastSlot = -1;

  /**
   * lookup() + the flag test + the address, in one call (the MMU's TLB-hit path). The
   * one-size array 0 is probed in line, way predictor first, as lookup() does; the rest is
   * in translateScan(), so that this stays small enough for V8 to inline into the MMU.
   */
  translate(va: VirtAddr, asid: number, need: number): number {
    if (this.single0 === true) {
      const vpn = Math.floor(va * this.inv0);
      const low = low31(vpn);
      const h = low & this.hintMask;
      const guess = this.hint[h]!;
      const set = low & this.setMask0;
      if (this.tag[guess] === vpn && (this.asid[guess] === asid || this.global[guess] !== 0)) {
        this.stats.hits++;
        this.policy0.touch(set, guess - set * this.ways0);
        // The predicted hit: the page size is array 0's, the page base vpn * size.
        if ((this.flags[guess]! & need) !== need) {
          this.lastSlot = guess;
          return -2;
        }
        return this.pa[guess]! + (va - vpn * this.pow0);
      }
      this.scanVa = va;
      this.scanVpn = vpn;
      return this.translateScan(asid, need, set, h);
    }
    this.scanVa = va;
    return this.translateScan(asid, need, -1, 0);
  }

  /** translate() of scanVa after a wrong guess (set < 0: the general search). */
  private translateScan(asid: number, need: number, set: number, h: number): number {
    const i = set >= 0 ? this.scan0(asid, set, h) : this.lookupArrays(this.scanVa, asid, 0);
    if (i < 0) return -1;
    if ((this.flags[i]! & need) !== need) {
      this.lastSlot = i;
      return -2;
    }
    const s = this.shift[i]!;
    return this.pa[i]! + (this.scanVa - this.tag[i]! * POW2[s]!);
  }

  /**
   * The last slot outside array 0 that a lookup found, with its array, set and way: a run of
   * accesses to one huge page (the kernel's direct map is 1 GiB pages) checks it first. A
   * refill or flush of the slot changes its tag, which the check compares. Where entries of
   * two sizes overlap (software changed a page size without invalidating), this one answers
   * rather than a smaller page's in an earlier array — the SDM (4.10.2.3) lets either.
   */
  private lastBig = -1;
  private lastBigArray = 0;
  private lastBigSet = 0;
  private lastBigWay = 0;

  /** lookup() in the arrays from `from` on. */
  private lookupArrays(va: number, asid: number, from: number): number {
    const j = this.lastBig;
    if (from === 1 && j >= 0) {
      if (
        this.tag[j] === Math.floor(va * INV_POW2[this.shift[j]!]!) &&
        (this.asid[j] === asid || this.global[j] !== 0)
      ) {
        this.policies[this.lastBigArray]!.touch(this.lastBigSet, this.lastBigWay);
        this.stats.hits++;
        return j;
      }
    }
    const i = this.find(va, asid, true, from);
    if (i < 0) this.stats.misses++;
    else this.stats.hits++;
    return i;
  }

  /** A lookup found slot `i` (array `a`, `set`, `way`): the policy hears of it. */
  private touchFound(a: number, set: number, way: number, i: number): void {
    this.policies[a]!.touch(set, way);
    if (a > 0) {
      this.lastBig = i;
      this.lastBigArray = a;
      this.lastBigSet = set;
      this.lastBigWay = way;
    }
  }

  /**
   * The slot a lookup would return, without counting it or touching the policy (for the
   * hierarchy, for tests, for a debugger's "is it cached?").
   */
  probe(va: VirtAddr, asid: number): number {
    return this.find(va, asid, false, 0);
  }

  /**
   * Search the arrays from `from` on, every size of each; `touch` updates the policy of the
   * array that hits.
   */
  private find(va: number, asid: number, touch: boolean, from: number): number {
    const tag = this.tag;
    for (let a = from; a < this.nArrays; a++) {
      const ways = this.arrayWays[a]!;
      const mask = this.arraySets[a]! - 1;
      const base = this.arrayBase[a]!;
      for (let k = this.shiftStart[a]!; k < this.shiftStart[a + 1]!; k++) {
        const s = this.shiftList[k]!;
        const vpn = Math.floor(va * INV_POW2[s]!);
        const low = low31(vpn);
        const set = low & mask;
        const first = base + set * ways;
        const h = this.hintBase[k]! + (low & this.hintMasks[k]!);
        const guess = this.hint[h]!;
        if (
          tag[guess] === vpn &&
          this.shift[guess] === s &&
          (this.asid[guess] === asid || this.global[guess] !== 0)
        ) {
          if (touch) this.touchFound(a, set, guess - first, guess);
          return guess;
        }
        for (let way = 0; way < ways; way++) {
          const i = first + way;
          if (
            tag[i] === vpn &&
            this.shift[i] === s &&
            (this.asid[i] === asid || this.global[i] !== 0)
          ) {
            if (touch) this.touchFound(a, set, way, i);
            this.hint[h] = i;
            return i;
          }
        }
      }
    }
    return -1;
  }

  insert(
    va: VirtAddr,
    asid: number,
    pa: number,
    pageShift: number,
    flags: number,
    global: boolean,
  ): number {
    if (va === this.missVa && asid === this.missAsid && pageShift === this.shift0 && !global) {
      return this.fillMiss(asid, pa, flags);
    }
    // Kept apart so that insert() stays small enough for V8 to inline into its caller (the
    // MMU's walk): a double argument of a call that is not inlined is boxed, an allocation.
    return this.insertAny(va, asid, pa, pageShift, flags, global);
  }

  /** insert() with a search of the set for duplicates and the lowest invalid way. */
  private insertAny(
    va: number,
    asid: number,
    pa: number,
    pageShift: number,
    flags: number,
    global: boolean,
  ): number {
    this.missVa = Number.NaN;
    const s = this.fitShift[pageShift];
    if (s === undefined || s < 0 || !Number.isInteger(pageShift)) {
      throw new RangeError(
        `TLB ${this.name}: cannot cache a page of shift ${String(pageShift)} (sizes: ${this.pageShifts().join(', ')})`,
      );
    }
    if (s !== pageShift) {
      // Splinter: cache the fragment of the page that holds va.
      const fragment = Math.floor(va * INV_POW2[s]!) * POW2[s]!;
      const page = Math.floor(va * INV_POW2[pageShift]!) * POW2[pageShift]!;
      pa += fragment - page;
    }
    const a = this.arrayOfShift[s]!;
    const ways = this.arrayWays[a]!;
    const vpn = Math.floor(va * INV_POW2[s]!);
    const set = setIndex(vpn, this.arraySets[a]! - 1);
    const first = this.arrayBase[a]! + set * ways;
    const g = global ? 1 : 0;
    const tag = this.tag;
    // One pass: the lowest invalid way, and entries this translation would duplicate (the
    // same page, seen from the same address space; a global one is seen from all).
    let free = -1;
    let same = -1;
    for (let way = 0; way < ways; way++) {
      const i = first + way;
      if (tag[i] === INVALID) {
        if (free < 0) free = way;
      } else if (
        tag[i] === vpn &&
        this.shift[i] === s &&
        (g !== 0 || this.global[i] !== 0 || this.asid[i] === asid)
      ) {
        if (same < 0) same = way;
        else tag[i] = INVALID; // a second duplicate (a global fill over several ASIDs' entries)
      }
    }
    let way: number;
    this.lastEvictedValid = false;
    if (same >= 0) way = same;
    else if (free >= 0) way = free;
    else {
      const policy = this.policies[a]!;
      way = policy.victim(set);
      const v = first + way;
      this.lastEvictedValid = true;
      this.lastEvictedVpn = tag[v]!;
      this.lastEvictedShift = this.shift[v]!;
      this.lastEvictedAsid = this.asid[v]!;
      this.lastEvictedGlobal = this.global[v] !== 0;
      this.stats.evictions++;
    }
    const i = first + way;
    tag[i] = vpn;
    this.shift[i] = s;
    this.asid[i] = asid;
    this.global[i] = g;
    this.pa[i] = pa;
    this.flags[i] = flags;
    this.policies[a]!.fill(set, way);
    const k = this.kOfShift[s]!;
    this.hint[this.hintBase[k]! + (low31(vpn) & this.hintMasks[k]!)] = i;
    return i;
  }

  /**
   * insert() right after a miss of the same page in array 0: the fill without searching the
   * set again. It leaves the TLB exactly as the general path would (the property tests
   * compare the two, policy by policy).
   */
  private fillMiss(asid: number, pa: number, flags: number): number {
    this.missVa = Number.NaN;
    const tag = this.tag;
    const set = this.missSet;
    const first = set * this.ways0;
    let i = this.missFree;
    let way: number;
    if (i >= 0) {
      way = i - first;
      this.lastEvictedValid = false;
    } else {
      way = this.policy0.victim(set);
      i = first + way;
      this.lastEvictedValid = true;
      this.lastEvictedVpn = tag[i]!;
      this.lastEvictedShift = this.shift0;
      this.lastEvictedAsid = this.asid[i]!;
      this.lastEvictedGlobal = this.global[i] !== 0;
      this.stats.evictions++;
    }
    tag[i] = this.missVpn;
    this.shift[i] = this.shift0;
    this.asid[i] = asid;
    this.global[i] = 0;
    this.pa[i] = pa;
    this.flags[i] = flags;
    this.policy0.fill(set, way);
    this.hint[this.missHint] = i;
    return i;
  }

  entryPa(slot: number): number {
    return this.pa[slot]!;
  }

  entryFlags(slot: number): number {
    return this.flags[slot]!;
  }

  setEntryFlags(slot: number, flags: number): void {
    this.flags[slot] = flags;
  }

  entryPageShift(slot: number): number {
    return this.shift[slot]!;
  }

  /** The virtual base address of the page an entry maps. */
  entryVa(slot: number): number {
    return this.tag[slot]! * POW2[this.shift[slot]!]!;
  }

  entryAsid(slot: number): number {
    return this.asid[slot]!;
  }

  entryGlobal(slot: number): boolean {
    return this.global[slot] !== 0;
  }

  isValid(slot: number): boolean {
    return this.tag[slot] !== INVALID;
  }

  // ---- flushes ------------------------------------------------------------------------------

  flushAll(): void {
    this.stats.flushes++;
    this.missVa = Number.NaN;
    this.tag.fill(INVALID);
    for (const p of this.policies) p.reset();
  }

  flushNonGlobal(): void {
    this.stats.flushes++;
    this.missVa = Number.NaN;
    const tag = this.tag;
    for (let i = 0; i < this.size; i++) if (this.global[i] === 0) tag[i] = INVALID;
  }

  flushAsid(asid: number): void {
    this.stats.flushes++;
    this.missVa = Number.NaN;
    const tag = this.tag;
    for (let i = 0; i < this.size; i++) {
      if (this.global[i] === 0 && this.asid[i] === asid) tag[i] = INVALID;
    }
  }

  flushPage(va: VirtAddr, asid: number): void {
    this.stats.flushes++;
    this.invalidate(va, va + 1, asid, false);
  }

  flushRange(start: VirtAddr, end: VirtAddr, asid: number): void {
    this.stats.flushes++;
    if (end > start) this.invalidate(start, end, asid, false);
  }

  /**
   * Drop the entries whose page overlaps [start, end) and that `asid` sees (its own and global
   * ones; with `anyAsid`, every one). Probes the set of each page when that is fewer than the
   * array's entries, otherwise scans the array. Not counted as a flush.
   */
  invalidate(start: number, end: number, asid: number, anyAsid: boolean): void {
    this.missVa = Number.NaN;
    const tag = this.tag;
    for (let a = 0; a < this.nArrays; a++) {
      const ways = this.arrayWays[a]!;
      const sets = this.arraySets[a]!;
      const base = this.arrayBase[a]!;
      for (let k = this.shiftStart[a]!; k < this.shiftStart[a + 1]!; k++) {
        const s = this.shiftList[k]!;
        const lo = Math.floor(start * INV_POW2[s]!);
        const hi = Math.floor((end - 1) * INV_POW2[s]!);
        if (hi - lo + 1 < sets) {
          for (let vpn = lo; vpn <= hi; vpn++) {
            const first = base + setIndex(vpn, sets - 1) * ways;
            for (let i = first; i < first + ways; i++) {
              if (tag[i] === vpn && this.shift[i] === s && this.sees(i, asid, anyAsid)) {
                tag[i] = INVALID;
              }
            }
          }
        } else {
          for (let i = base; i < base + sets * ways; i++) {
            const t = tag[i]!;
            if (t >= lo && t <= hi && this.shift[i] === s && this.sees(i, asid, anyAsid)) {
              tag[i] = INVALID;
            }
          }
        }
      }
    }
  }

  private sees(i: number, asid: number, anyAsid: boolean): boolean {
    return anyAsid || this.global[i] !== 0 || this.asid[i] === asid;
  }

  resetStats(): void {
    const st = this.stats;
    st.hits = 0;
    st.misses = 0;
    st.evictions = 0;
    st.flushes = 0;
  }

  // ---- cold: description and inspection ----------------------------------------------------

  /** Whether insert() accepts pages of this shift (directly or splintered). */
  canCache(pageShift: number): boolean {
    return (this.fitShift[pageShift] ?? -1) >= 0;
  }

  /** The page shifts this TLB caches, ascending. */
  pageShifts(): number[] {
    return Array.from(this.shiftList).sort((a, b) => a - b);
  }

  /** Each array's geometry, in probe order. */
  arrays(): { entries: number; sets: number; ways: number; pageShifts: number[] }[] {
    const out = [];
    for (let a = 0; a < this.nArrays; a++) {
      const sets = this.arraySets[a]!;
      const ways = this.arrayWays[a]!;
      out.push({
        entries: sets * ways,
        sets,
        ways,
        pageShifts: Array.from(
          this.shiftList.subarray(this.shiftStart[a]!, this.shiftStart[a + 1]!),
        ),
      });
    }
    return out;
  }

  /** The policy instance of array `a` (to inspect its state). */
  policy(a = 0): ReplacementPolicy {
    const p = this.policies[a];
    if (!p) throw new RangeError(`TLB ${this.name}: no array ${a}`);
    return p;
  }

  /** The valid entries, in slot order. */
  entries(): TlbEntry[] {
    const out: TlbEntry[] = [];
    for (let i = 0; i < this.size; i++) {
      if (this.tag[i] === INVALID) continue;
      out.push({
        slot: i,
        va: this.entryVa(i),
        pa: this.pa[i]!,
        pageShift: this.shift[i]!,
        asid: this.asid[i]!,
        global: this.global[i] !== 0,
        flags: this.flags[i]!,
      });
    }
    return out;
  }

  /** The number of valid entries. */
  occupancy(): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) if (this.tag[i] !== INVALID) n++;
    return n;
  }
}

/**
 * A TLB: one array (`entries`, `ways`, `pageShift` or `pageShifts`) or several split `arrays`,
 * with a replacement policy. Defaults: 64 entries, fully associative, 4 KiB pages, LRU.
 */
export function createTlb(options: TlbOptions = {}): SetAssocTlb {
  return new SetAssocTlb(options);
}
