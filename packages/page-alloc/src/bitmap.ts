/**
 * The bitmap allocator — the simplest page allocator that honours the `PageAllocator`
 * contract, here to prove that the interface is swappable (kapi's boot() takes either).
 *
 * Each zone has one bit per frame in a Uint32Array: 1 = in use (allocated or reserved),
 * 0 = free. An allocation of 2^order frames takes the first naturally aligned run of
 * 2^order clear bits (first fit, lowest pfn first). The scan skips a whole 32-bit word
 * when it is full, tests aligned runs inside a word with shifted masks, and compares
 * whole words for blocks of 32 frames or more. A per-zone hint — the first word that may
 * hold a clear bit — makes the common case start where the free memory starts. Freeing
 * clears the bits and moves the hint back if needed. Each zone's bitmap starts at a pfn
 * aligned to MAX_ORDER_NR_PAGES, so a bit index has the same alignment as its pfn; the
 * bits outside the zone (and its holes) stay set for good.
 *
 * What it shares with the buddy allocator (mm/page_alloc.c), so the two can be compared:
 * - the zonelist rule of build_zonelists(): the zones of the preferred node (NUMA_NO_NODE:
 *   the current CPU's node) from gfp_zone(gfp) down to ZONE_DMA, then the other nodes in
 *   node fallback order; only the preferred node with __GFP_THISNODE;
 * - the struct page bookkeeping of prep_new_page() and __free_pages() (refcount, order,
 *   PG_head for __GFP_COMP, __GFP_ZERO), boot through memmap_init() and the memblock free
 *   ranges, numa_hit/numa_miss accounting (zone_statistics()), and the same reports for
 *   misuse: warn_alloc() on failure, WARN for order > MAX_PAGE_ORDER, bad_page() for a
 *   reserved page, VM_BUG_ON_PAGE() for a double free or a wrong order, the BUG of
 *   gfp_zone() for two zone modifiers at once; a node that is neither NUMA_NO_NODE (-1)
 *   nor an existing node is a RangeError.
 *
 * What it does not have, on purpose: watermarks and lowmem_reserve (a zone can be emptied to
 * the last frame), per-CPU lists (drain() does nothing), migrate types (every free block
 * counts as MIGRATE_MOVABLE in the reports; pageblocks are set Movable at boot, as
 * memmap_init() does, and never change), highatomic reserves, reclaim and free-page merging
 * (there are no free lists: a free run is just clear bits). Free frames are not PageBuddy.
 *
 * nrFreeBlocks() reports what /proc/buddyinfo would show were the free memory kept by a
 * buddy allocator: every maximal free run cut into the largest naturally aligned blocks of
 * at most MAX_PAGE_ORDER (as mm/memblock.c __free_pages_memory() cuts a range).
 */
import {
  __GFP_DIRECT_RECLAIM,
  __GFP_NOWARN,
  __GFP_THISNODE,
  type Gfp,
  gfpZone,
  MAX_NR_ZONES,
  MAX_ORDER_NR_PAGES,
  MAX_PAGE_ORDER,
  MIGRATE_MOVABLE,
  MIGRATE_TYPES,
  NO_PAGE,
  NR_PAGE_ORDERS,
  NUMA_NO_NODE,
  type Pfn,
  PG_head,
  PG_reserved,
  PGTY_NONE,
} from '@mmsim/core';
import type {
  CheckablePageAllocator,
  PageAllocatorEnv,
  ZoneReporting,
  ZoneSnapshot,
} from './api.js';
import {
  buildZonelists,
  freeRanges,
  isOrdinaryFree,
  isOrdinaryRequest,
  memmapInit,
  prepNewPage,
  zoneSnapshotWithoutWatermarks,
} from './env.js';
import { AllocReports } from './report.js';

const FULL = 0xffffffff;
/** Bits of a word where an aligned run of 2^order free frames may start (orders 0..4). */
const RUN_START_MASK = [0xffffffff, 0x55555555, 0x11111111, 0x01010101, 0x00010001] as const;

/** The index of the lowest set bit of a non-zero 32-bit value (__ffs). */
function lowestBit(x: number): number {
  return 31 - Math.clz32(x & -x);
}

export class BitmapAllocator implements CheckablePageAllocator, ZoneReporting {
  readonly name = 'bitmap';
  readonly env: PageAllocatorEnv;

  private readonly nrSlots: number;
  private readonly reports: AllocReports;
  private readonly mm: PageAllocatorEnv['memMap'];

  // Per zone slot (nid * MAX_NR_ZONES + type).
  private readonly zoneStart: Int32Array;
  private readonly zoneEnd: Int32Array;
  /** The pfn of bit 0 of the slot's bitmap: zoneStart aligned down to MAX_ORDER_NR_PAGES. */
  private readonly basePfn: Int32Array;
  /** Where the slot's words start in `bits`. */
  private readonly wordOffset: Int32Array;
  private readonly nrWords: Int32Array;
  /** Every word of the slot below this index is full: the first word that may have a 0. */
  private readonly hint: Int32Array;
  private readonly managed: Int32Array;
  private readonly nrFree: Int32Array;
  private readonly populated: Uint8Array;
  /** The bitmaps of all zones, one after another. */
  private readonly bits: Uint32Array;
  /** nrFreeBlocks() per (slot, order), recomputed when `blocksStale` says so. */
  private readonly blocks: Int32Array;
  private readonly blocksStale: Uint8Array;

  /** Zonelists: [nid * MAX_NR_ZONES + highestZone] → slots, fallback and THISNODE variants. */
  private readonly zonelistFallback: Int32Array[];
  private readonly zonelistThisNode: Int32Array[];
  private readonly cpuNode: Int32Array;

  constructor(env: PageAllocatorEnv) {
    this.env = env;
    this.mm = env.memMap;
    const { machine } = env;
    const S = machine.nrNodes * MAX_NR_ZONES;
    this.nrSlots = S;
    this.zoneStart = new Int32Array(S);
    this.zoneEnd = new Int32Array(S);
    this.basePfn = new Int32Array(S);
    this.wordOffset = new Int32Array(S);
    this.nrWords = new Int32Array(S);
    this.hint = new Int32Array(S);
    this.managed = new Int32Array(S);
    this.nrFree = new Int32Array(S);
    this.populated = new Uint8Array(S);
    this.blocks = new Int32Array(S * NR_PAGE_ORDERS);
    this.blocksStale = new Uint8Array(S).fill(1);
    this.cpuNode = new Int32Array(machine.nrCpus);
    for (let cpu = 0; cpu < machine.nrCpus; cpu++) this.cpuNode[cpu] = machine.cpuToNode(cpu);
    let words = 0;
    for (const z of machine.zones) {
      const slot = z.slot;
      this.zoneStart[slot] = z.startPfn;
      this.zoneEnd[slot] = z.startPfn + z.spannedPages;
      this.populated[slot] = z.presentPages > 0 ? 1 : 0;
      if (z.spannedPages === 0) continue;
      const base = z.startPfn - (z.startPfn % MAX_ORDER_NR_PAGES);
      const end =
        Math.ceil((z.startPfn + z.spannedPages) / MAX_ORDER_NR_PAGES) * MAX_ORDER_NR_PAGES;
      this.basePfn[slot] = base;
      this.wordOffset[slot] = words;
      this.nrWords[slot] = (end - base) / 32;
      words += this.nrWords[slot]!;
    }
    // Everything starts in use; boot clears the free ranges.
    this.bits = new Uint32Array(words).fill(FULL);
    this.reports = new AllocReports(env, this);
    const zonelists = buildZonelists(env.machine);
    this.zonelistFallback = zonelists.fallback;
    this.zonelistThisNode = zonelists.thisNode;
    this.boot();
  }

  // ---------------------------------------------------------------- boot

  /** memmap_init(), then every memblock free range handed to its zone. */
  private boot(): void {
    memmapInit(this.env);
    // memmap_init_range() makes every pageblock Movable; this allocator never changes them.
    this.mm.pageblockMigratetype.fill(MIGRATE_MOVABLE);
    for (const r of freeRanges(this.env.machine)) {
      const slot = r.nid * MAX_NR_ZONES + r.zoneType;
      const n = r.endPfn - r.startPfn;
      this.setRange(slot, r.startPfn, n, 0);
      this.managed[slot]! += n;
      this.nrFree[slot]! += n;
    }
  }

  // ---------------------------------------------------------------- bitmap

  /** Set (value 1) or clear (value 0) the bits of frames [pfn, pfn + n) of a slot. */
  private setRange(slot: number, pfn: Pfn, n: number, value: 0 | 1): void {
    const bits = this.bits;
    const off = this.wordOffset[slot]!;
    let i = pfn - this.basePfn[slot]!;
    const end = i + n;
    while (i < end) {
      const bit = i & 31;
      const w = off + (i >>> 5);
      const len = Math.min(32 - bit, end - i);
      if (len === 32) {
        bits[w] = value ? FULL : 0;
      } else {
        const mask = ((2 ** len - 1) << bit) >>> 0;
        bits[w] = value ? (bits[w]! | mask) >>> 0 : (bits[w]! & ~mask) >>> 0;
      }
      i += len;
    }
    this.blocksStale[slot] = 1;
    if (value === 0) {
      const w = (pfn - this.basePfn[slot]!) >>> 5;
      if (w < this.hint[slot]!) this.hint[slot] = w;
    }
  }

  /** Is the bit of `pfn` set? (`pfn` must lie in the slot's bitmap.) */
  private testBit(slot: number, pfn: Pfn): boolean {
    const i = pfn - this.basePfn[slot]!;
    return ((this.bits[this.wordOffset[slot]! + (i >>> 5)]! >>> (i & 31)) & 1) === 1;
  }

  /** First fit: the lowest naturally aligned run of 2^order clear bits, marked in use. */
  private takeFirstFit(slot: number, order: number): Pfn {
    if (this.nrFree[slot]! < 1 << order) return NO_PAGE;
    const bits = this.bits;
    const off = this.wordOffset[slot]!;
    const nw = this.nrWords[slot]!;
    let w = this.hint[slot]!;
    while (w < nw && bits[off + w] === FULL) w++;
    this.hint[slot] = w;
    if (order < 5) {
      const startMask = RUN_START_MASK[order as 0]!;
      for (; w < nw; w++) {
        const x = bits[off + w]!;
        if (x === FULL) continue;
        // m[j] = 1 when frames j .. j+2^order-1 of the word are all free.
        let m = ~x >>> 0;
        for (let s = 0; s < order; s++) m = (m & (m >>> (1 << s))) >>> 0;
        m = (m & startMask) >>> 0;
        if (m === 0) continue;
        const pfn = this.basePfn[slot]! + w * 32 + lowestBit(m);
        this.setRange(slot, pfn, 1 << order, 1);
        return pfn;
      }
      return NO_PAGE;
    }
    // Blocks of 32 frames or more cover whole words: all of them must be 0.
    const span = 1 << (order - 5);
    w -= w % span;
    for (; w + span <= nw; w += span) {
      let k = span - 1;
      while (k >= 0 && bits[off + w + k] === 0) k--;
      if (k >= 0) continue;
      const pfn = this.basePfn[slot]! + w * 32;
      this.setRange(slot, pfn, 1 << order, 1);
      return pfn;
    }
    return NO_PAGE;
  }

  // ---------------------------------------------------------------- allocation

  /**
   * __alloc_pages(): the first zone of the zonelist with a free aligned run wins. No
   * watermark stops it, so a zone can be emptied completely.
   */
  allocPages(gfp: Gfp, order: number, nid: number = NUMA_NO_NODE): Pfn {
    if (!isOrdinaryRequest(gfp, order, nid, this.env.machine.nrNodes)) {
      return this.reports.rejectAlloc(gfp, order, nid);
    }
    const ctx = this.env.ctx;
    if (nid === NUMA_NO_NODE) nid = this.cpuNode[ctx.cpu]!;
    const highestZone = gfpZone(gfp);
    if (gfp & __GFP_DIRECT_RECLAIM) ctx.mightSleep();
    const zl =
      gfp & __GFP_THISNODE
        ? this.zonelistThisNode[nid * MAX_NR_ZONES + highestZone]!
        : this.zonelistFallback[nid * MAX_NR_ZONES + highestZone]!;
    for (let i = 0; i < zl.length; i++) {
      const slot = zl[i]!;
      const pfn = this.takeFirstFit(slot, order);
      if (pfn < 0) continue;
      this.nrFree[slot]! -= 1 << order;
      this.env.numaStat.zoneStatistics(zl[0]!, slot, this.cpuNode[ctx.cpu]!, 1);
      prepNewPage(this.env, pfn, order, gfp);
      return pfn;
    }
    this.reports.warnAlloc(gfp, order, null, (gfp & __GFP_NOWARN) !== 0);
    return NO_PAGE;
  }

  // ---------------------------------------------------------------- free

  /**
   * __free_pages(page, order): drop the reference; at zero, clear the block's bits. Misuse
   * is reported exactly as the buddy allocator reports it, before anything changes.
   */
  freePages(pfn: Pfn, order: number): void {
    const mm = this.mm;
    if (!isOrdinaryFree(mm, pfn, order) && !this.reports.checkFree(pfn, order)) return;
    const ref = mm.refcount[pfn]!;
    const isHead = (mm.flags[pfn]! & (1 << PG_head)) !== 0;
    if (ref > 1) {
      mm.refcount[pfn] = ref - 1;
      if (!isHead && order > 0) {
        // Someone holds the first page only: the rest goes now, as __free_pages() does.
        mm.order[pfn] = 0;
        this.freeRange(pfn + 1, (1 << order) - 1);
      }
      return;
    }
    mm.refcount[pfn] = 0;
    if (mm.flags[pfn]! & (1 << PG_head)) mm.clearCompoundPage(pfn, order);
    mm.flags[pfn] = 0;
    mm.owner[pfn] = 0;
    mm.order[pfn] = 0;
    this.freeRange(pfn, 1 << order);
  }

  /** Clear the bits of n frames of one zone. */
  private freeRange(pfn: Pfn, n: number): void {
    const slot = this.mm.node[pfn]! * MAX_NR_ZONES + this.mm.zone[pfn]!;
    this.setRange(slot, pfn, n, 0);
    this.nrFree[slot]! += n;
  }

  /** No per-CPU lists: nothing to drain. */
  drain(): void {}

  // ---------------------------------------------------------------- statistics

  nrFreePages(nid?: number, zoneType?: number): number {
    let sum = 0;
    for (let slot = 0; slot < this.nrSlots; slot++) {
      if (nid !== undefined && Math.floor(slot / MAX_NR_ZONES) !== nid) continue;
      if (zoneType !== undefined && slot % MAX_NR_ZONES !== zoneType) continue;
      sum += this.nrFree[slot]!;
    }
    return sum;
  }

  nrFreeBlocks(nid: number, zoneType: number, order: number): number {
    const slot = nid * MAX_NR_ZONES + zoneType;
    if (slot < 0 || slot >= this.nrSlots || order < 0 || order > MAX_PAGE_ORDER) return 0;
    if (this.blocksStale[slot]) this.countFreeBlocks(slot);
    return this.blocks[slot * NR_PAGE_ORDERS + order]!;
  }

  managedPages(nid: number, zoneType: number): number {
    return this.managed[nid * MAX_NR_ZONES + zoneType] ?? 0;
  }

  /** The index of the first bit >= i (and < end) equal to `value`, or `end`. */
  private findBit(slot: number, i: number, end: number, value: 0 | 1): number {
    const bits = this.bits;
    const off = this.wordOffset[slot]!;
    const skip = value ? 0 : FULL;
    while (i < end) {
      const x = bits[off + (i >>> 5)]!;
      if ((i & 31) === 0 && x === skip) {
        i += 32;
        continue;
      }
      if (((x >>> (i & 31)) & 1) === value) return i;
      i++;
    }
    return end;
  }

  /** Cut every maximal free run into the largest aligned blocks, as buddyinfo would count. */
  private countFreeBlocks(slot: number): void {
    const counts = this.blocks.subarray(slot * NR_PAGE_ORDERS, (slot + 1) * NR_PAGE_ORDERS);
    counts.fill(0);
    this.blocksStale[slot] = 0;
    if (this.nrWords[slot] === 0) return;
    const base = this.basePfn[slot]!;
    const end = this.zoneEnd[slot]! - base;
    let i = this.zoneStart[slot]! - base;
    while (i < end) {
      const s = this.findBit(slot, i, end, 0);
      if (s >= end) break;
      const e = this.findBit(slot, s, end, 1);
      let pfn = base + s;
      const last = base + e;
      while (pfn < last) {
        let order = pfn === 0 ? MAX_PAGE_ORDER : Math.min(MAX_PAGE_ORDER, lowestBit(pfn));
        while (pfn + (1 << order) > last) order--;
        counts[order]!++;
        pfn += 1 << order;
      }
      i = e;
    }
  }

  zoneSnapshot(nid: number, zoneType: number): ZoneSnapshot {
    const slot = nid * MAX_NR_ZONES + zoneType;
    const nrFree: number[] = [];
    for (let o = 0; o < NR_PAGE_ORDERS; o++) nrFree.push(this.nrFreeBlocks(nid, zoneType, o));
    const nrFreeByType: number[][] = [];
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
      nrFreeByType.push(
        mt === MIGRATE_MOVABLE ? [...nrFree] : new Array<number>(NR_PAGE_ORDERS).fill(0),
      );
    }
    return zoneSnapshotWithoutWatermarks(this.env, nid, zoneType, {
      managed: this.managed[slot]!,
      free: this.nrFree[slot]!,
      nrFree,
      nrFreeByType,
    });
  }

  /** The Mem-Info block warn_alloc() prints, on demand (show_mem()). */
  showMem(): void {
    this.reports.showMem(MAX_NR_ZONES - 1);
  }

  // ---------------------------------------------------------------- verification

  /**
   * Check the bitmaps against struct pages and the counters: a set bit is a reserved frame
   * or a frame of an allocated block (head with refcount > 0 and its order, tails with
   * refcount 0); a clear bit is a frame with refcount 0, no type and not reserved; bits
   * outside the zone stay set; nrFree and managed add up; no word below the hint has a 0.
   */
  verify(): string[] {
    const problems: string[] = [];
    const mm = this.mm;
    const add = (p: string): boolean => {
      problems.push(p);
      return problems.length >= 50;
    };
    for (let slot = 0; slot < this.nrSlots; slot++) {
      const nw = this.nrWords[slot]!;
      if (nw === 0) {
        if (this.nrFree[slot] !== 0 || this.managed[slot] !== 0) {
          if (
            add(
              `slot ${slot} spans no frames but counts ${this.nrFree[slot]} free, ${this.managed[slot]} managed`,
            )
          )
            return problems;
        }
        continue;
      }
      const off = this.wordOffset[slot]!;
      const base = this.basePfn[slot]!;
      const start = this.zoneStart[slot]!;
      const end = this.zoneEnd[slot]!;
      for (let w = 0; w < this.hint[slot]!; w++) {
        if (
          this.bits[off + w] !== FULL &&
          add(`slot ${slot}: word ${w} below the hint ${this.hint[slot]} has a free bit`)
        )
          return problems;
      }
      for (let pfn = base; pfn < base + nw * 32; pfn++) {
        if ((pfn < start || pfn >= end) && !this.testBit(slot, pfn)) {
          if (add(`slot ${slot}: pfn ${pfn} outside the zone [${start}, ${end}) is marked free`))
            return problems;
        }
      }
      let free = 0;
      let allocated = 0;
      let tailEnd = start;
      let head = -1;
      for (let pfn = start; pfn < end; pfn++) {
        const used = this.testBit(slot, pfn);
        const reserved = (mm.flags[pfn]! & (1 << PG_reserved)) !== 0;
        if (pfn < tailEnd) {
          // A tail frame of the allocated block at `head`.
          if (!used && add(`pfn ${pfn} in the block allocated at ${head} is marked free`))
            return problems;
          if (reserved && add(`pfn ${pfn} in the block allocated at ${head} is reserved`))
            return problems;
          if (
            mm.refcount[pfn] !== 0 &&
            add(`tail pfn ${pfn} of the block at ${head} has refcount ${mm.refcount[pfn]}`)
          )
            return problems;
          allocated++;
          continue;
        }
        if (reserved) {
          if (!used && add(`reserved pfn ${pfn} is marked free`)) return problems;
          continue;
        }
        if (mm.node[pfn]! * MAX_NR_ZONES + mm.zone[pfn]! !== slot) {
          if (add(`pfn ${pfn} of slot ${slot} has node ${mm.node[pfn]} zone ${mm.zone[pfn]}`))
            return problems;
        }
        if (!used) {
          free++;
          if (mm.refcount[pfn] !== 0 && add(`free pfn ${pfn} has refcount ${mm.refcount[pfn]}`))
            return problems;
          if (
            mm.pageType[pfn] !== PGTY_NONE &&
            add(`free pfn ${pfn} has page type ${mm.pageType[pfn]}`)
          )
            return problems;
          continue;
        }
        if (mm.refcount[pfn]! <= 0) {
          if (add(`pfn ${pfn} is in use in the bitmap but neither reserved nor allocated (lost)`))
            return problems;
          continue;
        }
        const order = mm.order[pfn]!;
        if (order > MAX_PAGE_ORDER || pfn % (1 << order) !== 0 || pfn + (1 << order) > end) {
          if (add(`allocated block ${pfn} has a bad order ${order} for its place in the zone`))
            return problems;
          allocated++;
          continue;
        }
        head = pfn;
        tailEnd = pfn + (1 << order);
        allocated++;
      }
      if (free !== this.nrFree[slot]) {
        if (
          add(`slot ${slot}: nrFree is ${this.nrFree[slot]} but the bitmap has ${free} free frames`)
        )
          return problems;
      }
      if (free + allocated !== this.managed[slot]) {
        if (
          add(
            `slot ${slot}: managed is ${this.managed[slot]} but ${free} free + ${allocated} allocated frames`,
          )
        )
          return problems;
      }
    }
    return problems;
  }
}

/** Build a bitmap allocator (boots it: every free range of the machine becomes free). */
export function createBitmapAllocator(env: PageAllocatorEnv): BitmapAllocator {
  return new BitmapAllocator(env);
}
