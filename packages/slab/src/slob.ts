/**
 * SLOB Allocator: Simple List Of Blocks — Linux 6.1 mm/slob.c (removed in 6.4).
 *
 * How SLOB works (adapted from the header comment of mm/slob.c, Matt Mackall 2003):
 *
 * The core of SLOB is a traditional K&R style heap allocator, with support for returning
 * aligned objects. The granularity of this allocator is SLOB_UNIT = 2 bytes (slobidx_t is an
 * s16 with 4 KiB pages).
 *
 * The slob heap is a set of linked lists of pages from alloc_pages(), and within each page
 * there is a singly-linked list of free blocks (slob_t). The heap is grown on demand. To
 * reduce fragmentation, heap pages are segregated into three lists: free_slob_small for
 * requests below SLOB_BREAK1 (256 bytes), free_slob_medium below SLOB_BREAK2 (1024) and
 * free_slob_large for the rest. Only partially free pages are on a list (PageSlobFree); a
 * full page is on none, and a page whose last block is freed goes straight back to the page
 * allocator.
 *
 * Allocation first searches a list for a page with enough free units (next-fit-like: after a
 * success the list is rotated so that the next search starts at that page, Knuth vol 1, sec
 * 2.5) and then does a first-fit scan of that page's free blocks. Deallocation inserts a block
 * back into its page's free list in address order and coalesces it with its neighbours, so
 * this is effectively an address-ordered first fit.
 *
 * The free-block encoding lives IN SIMULATED MEMORY, exactly as slob.c keeps it: a free block
 * of more than one unit holds [units, next] as two s16 at its start, a one-unit block holds
 * only -next, where `next` is the offset of the next free block from the page start, in units
 * (SLOB_UNITS(PAGE_SIZE) = 2048 for "end of page"). struct slab's SLOB fields (freelist,
 * units, the slab_list link) live in typed arrays indexed by pfn and in MemMap.lruNext/lruPrev;
 * PageSlobFree is PG_private, as include/linux/page-flags.h aliases PG_slob_free.
 *
 * Above this is kmalloc/kfree: blocks returned from kmalloc are prepended with a minalign
 * (max(ARCH_KMALLOC_MINALIGN, arch_slab_minalign()) = 8 bytes on x86-64) header holding the
 * requested size. Requests of PAGE_SIZE - minalign or more go straight to alloc_pages(), as
 * compound pages when the order is above 0; kfree() tells them apart because they are not
 * PageSlab. SLOB has no kmalloc caches at all.
 *
 * SLAB is emulated on top of SLOB by simply calling constructors for every allocation:
 * kmem_cache_alloc() runs the ctor on EVERY object it returns (there are no "slabs" of
 * constructed objects to keep). Objects are aligned to s->align (calculate_alignment(): the
 * cache line for SLAB_HWCACHE_ALIGN, otherwise ARCH_SLAB_MINALIGN = 8); caches of PAGE_SIZE
 * or more take pages straight from alloc_pages(). SLOB keeps no per-cache state in Linux —
 * pages are shared by every cache and by kmalloc, and struct slab has no slab_cache — so
 * virt_to_cache() returns null here.
 *
 * NUMA: a node-specific request only takes blocks from pages of that node (slab_nid(sp)), and
 * asks the page allocator for a page of that node when none fits. Note that, as in Linux, the
 * zone of an existing page is never checked: a GFP_DMA kmalloc may be served from a Normal
 * page that already sits on a list (only fresh pages are allocated with the caller's gfp).
 *
 * What the simulator adds (Linux 6.1 SLOB has almost no checks):
 * - a free of a block that overlaps a free block of its page (a double free) or a kfree() whose
 *   size header is impossible is reported with a WARNING whose message line starts with
 *   `slob:` and ends with "(mmsim check)", and the free is ignored. Linux would silently
 *   corrupt its free list (and later hand out overlapping memory) instead. The WARNING line
 *   names the Linux function where the check sits (`mm/slob.c:384 slob_free`, its first line):
 *   no such WARN exists in 6.1. The check costs nothing extra: slob_free() walks to the
 *   insertion point anyway, and only the two free neighbours found there can overlap.
 * - a free list whose encoding was overwritten (a write to freed memory) is reported once and
 *   the rest of that page is treated as full, where Linux would follow the garbage.
 * - live objects are counted per cache, so cacheInfo() has numbers and kmem_cache_destroy()
 *   of a cache with objects gets slab_common's "Slab cache still has objects" warning (6.1
 *   SLOB's __kmem_cache_shutdown() returns 0: it cannot know) and the handle stays usable to
 *   free them — nothing is leaked.
 * - SLAB_TYPESAFE_BY_RCU: the struct slob_rcu footer is reserved and written on free as 6.1
 *   does, but the free happens at once (the simulator has no RCU grace periods).
 */
import {
  __GFP_COMP,
  __GFP_ZERO,
  type CallSite,
  formatPtr,
  type Gfp,
  getOrder,
  gfpAllowsBlocking,
  isZeroOrNullPtr,
  type KmemCache,
  NO_PAGE,
  NUMA_NO_NODE,
  PAGE_OFFSET,
  PAGE_SIZE,
  PG_private,
  PGTY_NONE,
  PGTY_slab,
  pfnToVirt,
  SLAB_CACHE_DMA,
  SLAB_CACHE_DMA32,
  SLAB_DEBUG_OBJECTS,
  SLAB_HWCACHE_ALIGN,
  SLAB_MUST_HWCACHE_ALIGN,
  SLAB_NOLEAKTRACE,
  SLAB_PANIC,
  SLAB_TYPESAFE_BY_RCU,
  type SlabEnv,
  type SlabInfo,
  ZERO_SIZE_PTR,
} from '@mmsim/core';
import type { SlabOptions } from './api.js';
import {
  ARCH_KMALLOC_MINALIGN,
  type CacheArgs,
  callSiteAddr,
  SlabAllocatorBase,
  SlabCacheBase,
} from './common.js';

// ---- constants (mm/slob.c, include/linux/slab.h; 4 KiB pages, x86-64) -------------------------

/** SLOB_UNIT = sizeof(slob_t): slobidx_t is an s16 while PAGE_SIZE <= 32767 * 2. */
export const SLOB_UNIT = 2;
/** SLOB_UNITS(PAGE_SIZE): units in a page, and the "next" offset that ends a page's list. */
export const SLOB_PAGE_UNITS = PAGE_SIZE / SLOB_UNIT;
/** Requests below this many bytes use free_slob_small. */
export const SLOB_BREAK1 = 256;
/** Requests below this many bytes (and >= SLOB_BREAK1) use free_slob_medium. */
export const SLOB_BREAK2 = 1024;
/** max(ARCH_KMALLOC_MINALIGN, arch_slab_minalign()): the kmalloc size header. */
export const SLOB_MINALIGN = Math.max(ARCH_KMALLOC_MINALIGN, 8);
/** sizeof(struct slob_rcu): struct rcu_head (16) + int size, padded to 8. */
export const SLOB_RCU_SIZE = 24;
/** The three lists, by index. */
export const SLOB_LIST_NAMES = ['free_slob_small', 'free_slob_medium', 'free_slob_large'] as const;

/**
 * mm/slab.h CACHE_CREATE_MASK under CONFIG_SLOB: SLAB_CORE_FLAGS | SLAB_NOLEAKTRACE (no debug
 * flags, no accounting flags); kmem_cache_create() silently drops everything else. The
 * simulator-only legacy SLAB_MUST_HWCACHE_ALIGN is kept since it shaped the alignment.
 */
const SLOB_CREATE_MASK =
  SLAB_HWCACHE_ALIGN |
  SLAB_CACHE_DMA |
  SLAB_CACHE_DMA32 |
  SLAB_PANIC |
  SLAB_TYPESAFE_BY_RCU |
  SLAB_DEBUG_OBJECTS |
  SLAB_NOLEAKTRACE |
  SLAB_MUST_HWCACHE_ALIGN;

/** SLOB_UNITS(size) = DIV_ROUND_UP(size, SLOB_UNIT). */
const slobUnits = (size: number): number => Math.ceil(size / SLOB_UNIT);
/** Read an s16. */
const s16 = (v: number): number => (v << 16) >> 16;

/** The tag in the message of every check Linux does not have. */
const MMSIM = '(mmsim check)';

// ---- the cache ----------------------------------------------------------------------------------

/** struct kmem_cache under SLOB: the common fields only, plus a live-object count. */
export class SlobCache extends SlabCacheBase {
  /** Objects allocated and not yet freed (simulator bookkeeping; Linux keeps none). */
  live = 0;
}

/** One list's share of the heap, for heapStats(). */
export interface SlobListStats {
  /** 'free_slob_small' | 'free_slob_medium' | 'free_slob_large'. */
  name: string;
  /** The pages on the list, in list order (the next search starts at the first). */
  pfns: number[];
  /** Free units (SLOB_UNIT bytes) on those pages: the sum of sp->units. */
  freeUnits: number;
  /** Free blocks on those pages. */
  freeBlocks: number;
  /** The largest free block on the list, in units. */
  largestFreeUnits: number;
}

/** The SLOB heap at a glance: how full and how fragmented it is. */
export interface SlobHeapStats {
  small: SlobListStats;
  medium: SlobListStats;
  large: SlobListStats;
  /** Every page the slob heap holds (PageSlab), full ones (on no list) included. */
  pages: number;
  /** Pages with no free unit, on no list. */
  fullPages: number;
  /** Free bytes inside heap pages: 2 * the sum of all free units. */
  freeBytes: number;
}

// ---- the allocator -------------------------------------------------------------------------

export class SlabAllocatorSLOB extends SlabAllocatorBase<SlobCache> {
  readonly name = 'slob';
  /** sp->units: free units in a slob page. */
  private readonly spUnits: Int16Array;
  /** sp->freelist: offset (units) of the page's first free block. */
  private readonly spFreelist: Int16Array;
  /** Which of the three lists a PageSlobFree page is on. */
  private readonly spList: Int8Array;
  /** The first page of each list (-1 when empty); the lists are circular through lruNext/Prev. */
  private readonly listFirst = new Int32Array([-1, -1, -1]);
  /** Pages held by the slob heap. */
  private nrHeapPages = 0;
  /** slob_page_alloc()'s page_removed_from_list out-parameter. */
  private pageRemoved = false;
  /** The free block an overlap check found (offset, units), for the report. */
  private overlapOff = 0;
  private overlapUnits = 0;
  /** kallsyms address of kmem_rcu_free, the rcu callback written into slob_rcu footers. */
  private readonly rcuFreeFn: number;

  constructor(env: SlabEnv, options: SlabOptions = {}) {
    // KMALLOC_SHIFT_LOW is 3 under SLOB; no kmalloc caches are created (none exist in SLOB).
    super(env, options, 3);
    const n = this.mm.nrPages;
    this.spUnits = new Int16Array(n);
    this.spFreelist = new Int16Array(n);
    this.spList = new Int8Array(n);
    this.rcuFreeFn = this.kallsyms.intern('kmem_rcu_free');
  }

  // ---- the slob_t encoding (mm/slob.c: set_slob(), slob_units(), slob_next(), slob_last()) ----

  /** set_slob(): encode size and next (both in units, next relative to the page) at `off`. */
  private setSlob(pb: number, off: number, size: number, next: number): void {
    const a = pb + off * SLOB_UNIT;
    if (size > 1) {
      this.mem.write16(a, size & 0xffff);
      this.mem.write16(a + 2, next & 0xffff);
    } else {
      this.mem.write16(a, -next & 0xffff);
    }
  }

  /** slob_units(): the size of the free block at `off`. */
  private slobUnitsAt(pb: number, off: number): number {
    const u = s16(this.mem.read16(pb + off * SLOB_UNIT));
    return u > 0 ? u : 1;
  }

  /** slob_next(): the offset of the free block after the one at `off`. */
  private slobNext(pb: number, off: number): number {
    const a = pb + off * SLOB_UNIT;
    const u = s16(this.mem.read16(a));
    return u < 0 ? -u : s16(this.mem.read16(a + 2));
  }

  // ---- the three page lists (list_add / list_del / list_rotate_to_front) --------------------

  /** set_slob_page_free(): list_add() at the front of list `li` and __SetPageSlobFree(). */
  private setSlobPageFree(pfn: number, li: number): void {
    const mm = this.mm;
    const first = this.listFirst[li]!;
    if (first < 0) {
      mm.lruNext[pfn] = pfn;
      mm.lruPrev[pfn] = pfn;
    } else {
      const last = mm.lruPrev[first]!;
      mm.lruNext[pfn] = first;
      mm.lruPrev[pfn] = last;
      mm.lruNext[last] = pfn;
      mm.lruPrev[first] = pfn;
    }
    this.listFirst[li] = pfn;
    this.spList[pfn] = li;
    mm.flags[pfn]! |= 1 << PG_private;
  }

  /** clear_slob_page_free(): list_del() and __ClearPageSlobFree(). */
  private clearSlobPageFree(pfn: number): void {
    const mm = this.mm;
    const li = this.spList[pfn]!;
    const next = mm.lruNext[pfn]!;
    if (next === pfn) {
      this.listFirst[li] = -1;
    } else {
      const prev = mm.lruPrev[pfn]!;
      mm.lruNext[prev] = next;
      mm.lruPrev[next] = prev;
      if (this.listFirst[li] === pfn) this.listFirst[li] = next;
    }
    mm.lruNext[pfn] = -1;
    mm.lruPrev[pfn] = -1;
    mm.flags[pfn]! &= ~(1 << PG_private);
  }

  /** slob_page_free(): PageSlobFree. */
  private isSlobPageFree(pfn: number): boolean {
    return (this.mm.flags[pfn]! & (1 << PG_private)) !== 0;
  }

  // ---- the slob allocator proper ------------------------------------------------------------

  /**
   * mm/slob.c: slob_page_alloc() — first fit in page `pfn` for `size` bytes such that the
   * block's address + alignOffset is aligned to `align`. Returns the block's offset in units,
   * or -1. Sets pageRemoved when the page became full and left its list.
   */
  private slobPageAlloc(pfn: number, size: number, align: number, alignOffset: number): number {
    const pb = pfn * PAGE_SIZE;
    const units = slobUnits(size);
    let delta = 0;
    let aligned = 0;
    let prev = -1;
    let cur = this.spFreelist[pfn]!;
    this.pageRemoved = false;
    for (;;) {
      let avail = this.slobUnitsAt(pb, cur);
      let next = this.slobNext(pb, cur);
      // Not in Linux: a block that runs past its successor or the page end means a write to
      // freed memory overwrote the encoding; stop here instead of following it.
      if (next > SLOB_PAGE_UNITS || cur + avail > next)
        return this.corruptList(pfn, cur, 'mm/slob.c:237 slob_page_alloc+0x0/0x0');
      if (align) {
        // 'aligned' is where the block must start so that aligned + align_offset is aligned
        // (kmalloc() passes its header size so that the object after it is aligned).
        const curAddr = pb + cur * SLOB_UNIT;
        aligned =
          (Math.ceil((curAddr + alignOffset) / align) * align - alignOffset - pb) / SLOB_UNIT;
        delta = aligned - cur;
      }
      if (avail >= units + delta) {
        // Room enough.
        if (delta) {
          // Fragment the head of the block to align the rest.
          this.setSlob(pb, aligned, avail - delta, next);
          this.setSlob(pb, cur, delta, aligned);
          prev = cur;
          cur = aligned;
          avail = this.slobUnitsAt(pb, cur);
        }
        next = this.slobNext(pb, cur);
        if (avail === units) {
          // Exact fit: unlink.
          if (prev >= 0) this.setSlob(pb, prev, this.slobUnitsAt(pb, prev), next);
          else this.spFreelist[pfn] = next;
        } else {
          // Fragment: the tail stays free.
          if (prev >= 0) this.setSlob(pb, prev, this.slobUnitsAt(pb, prev), cur + units);
          else this.spFreelist[pfn] = cur + units;
          this.setSlob(pb, cur + units, avail - units, next);
        }
        this.spUnits[pfn] = this.spUnits[pfn]! - units;
        if (this.spUnits[pfn] === 0) {
          this.clearSlobPageFree(pfn);
          this.pageRemoved = true;
        }
        return cur;
      }
      if (next === SLOB_PAGE_UNITS) return -1; // slob_last()
      prev = cur;
      cur = next;
    }
  }

  /**
   * mm/slob.c: slob_alloc() — the entry point: `size` bytes from the list for that size, on
   * node `node` (NUMA_NO_NODE: any), aligned as slob_page_alloc() describes. Returns a
   * direct-map address or 0.
   */
  private slobAlloc(
    size: number,
    gfp: Gfp,
    align: number,
    node: number,
    alignOffset: number,
  ): number {
    const li = size < SLOB_BREAK1 ? 0 : size < SLOB_BREAK2 ? 1 : 2;
    const units = slobUnits(size);
    const mm = this.mm;
    let pfn = -1;
    let off = -1;
    // Iterate through each partially free page, try to find room (list_for_each_entry). A
    // page only leaves the list on success, right before the loop ends.
    const first = this.listFirst[li]!;
    if (first >= 0) {
      let sp = first;
      do {
        // If there's a node specification, search for a partial page with a matching node id.
        if ((node === NUMA_NO_NODE || mm.node[sp] === node) && this.spUnits[sp]! >= units) {
          off = this.slobPageAlloc(sp, size, align, alignOffset);
          if (off >= 0) {
            pfn = sp;
            // Improve fragment distribution and reduce our average search time by starting
            // our next search here (Knuth vol 1, sec 2.5, pg 449): list_rotate_to_front().
            if (!this.pageRemoved) this.listFirst[li] = sp;
            break;
          }
        }
        sp = mm.lruNext[sp]!;
      } while (sp !== first);
    }

    if (off < 0) {
      // Not enough space: must allocate a new page (slob_new_pages(gfp & ~__GFP_ZERO, 0, node)).
      pfn = this.pages.allocPages(gfp & ~__GFP_ZERO, 0, node);
      if (pfn === NO_PAGE) return 0;
      mm.pageType[pfn] = PGTY_slab; // __folio_set_slab()
      this.nrHeapPages++;
      this.spUnits[pfn] = SLOB_PAGE_UNITS;
      this.spFreelist[pfn] = 0;
      this.setSlob(pfn * PAGE_SIZE, 0, SLOB_PAGE_UNITS, SLOB_PAGE_UNITS);
      this.setSlobPageFree(pfn, li);
      off = this.slobPageAlloc(pfn, size, align, alignOffset);
      if (off < 0) {
        // BUG_ON(!b): an alignment no fresh page can meet (align > PAGE_SIZE). The page goes
        // back first so the machine stays consistent after the Oops.
        this.freeHeapPage(pfn);
        throw this.ctx.bug('mm/slob.c:373', ['slob_alloc+0x0/0x0']);
      }
    }
    const addr = pfn * PAGE_SIZE + off * SLOB_UNIT;
    if (gfp & __GFP_ZERO) this.mem.fill(addr, size, 0);
    return PAGE_OFFSET + addr;
  }

  /**
   * mm/slob.c: slob_free() — give `size` bytes at direct-map address `block` back to its page,
   * in address order, coalescing with the free neighbours; a page that becomes entirely free
   * goes back to the page allocator.
   *
   * Not in Linux: before anything changes, the block is checked against the page (unit
   * boundary, page end) and against its free neighbours, found by slob_free()'s own address-
   * ordered walk — the list is sorted and disjoint, so only they can overlap it. An overlap is
   * a double free (or a bogus pointer): reported, and false is returned with nothing changed.
   * `object` and `fn` name the caller's pointer and function for that report.
   */
  private slobFree(block: number, size: number, object: number, fn: string): boolean {
    if (isZeroOrNullPtr(block)) return false;
    if (!size) throw this.ctx.bug('mm/slob.c:394', ['slob_free+0x0/0x0', `${fn}+0x0/0x0`]);
    const pfn = Math.floor((block - PAGE_OFFSET) / PAGE_SIZE);
    const pb = pfn * PAGE_SIZE;
    const byteOff = block - PAGE_OFFSET - pb;
    let units = slobUnits(size);
    if (byteOff & (SLOB_UNIT - 1) || byteOff + units * SLOB_UNIT > PAGE_SIZE) {
      this.badFree(fn, object, `${size} bytes at page offset ${byteOff} are not a SLOB block`);
      return false;
    }
    const b = byteOff / SLOB_UNIT;

    // Where b goes in the address-ordered free list (prev = -1: before the head).
    const listed = this.isSlobPageFree(pfn);
    let prev = -1;
    let next = SLOB_PAGE_UNITS;
    if (listed) {
      next = this.spFreelist[pfn]!;
      if (b >= next) {
        prev = next;
        next = this.slobNext(pb, prev);
        while (b > next) {
          prev = next;
          next = this.slobNext(pb, prev);
          // A list that does not go forward was overwritten: do not loop forever.
          if (next <= prev) {
            this.corruptList(pfn, prev, 'mm/slob.c:384 slob_free+0x0/0x0');
            return false;
          }
        }
      }
      if (prev >= 0 && b < prev + this.slobUnitsAt(pb, prev)) {
        this.overlapReport(fn, object, pfn, b, prev);
        return false;
      }
      if (next !== SLOB_PAGE_UNITS && b + units > next) {
        this.overlapReport(fn, object, pfn, b, next);
        return false;
      }
    }

    if (this.spUnits[pfn]! + units === SLOB_PAGE_UNITS) {
      // Go directly to page allocator. Do not pass slob allocator.
      this.freeHeapPage(pfn);
      return true;
    }

    if (!listed) {
      // This slob page is about to become partially free. Easy!
      this.spUnits[pfn] = units;
      this.spFreelist[pfn] = b;
      this.setSlob(pb, b, units, SLOB_PAGE_UNITS);
      this.setSlobPageFree(pfn, size < SLOB_BREAK1 ? 0 : size < SLOB_BREAK2 ? 1 : 2);
      return true;
    }

    // Otherwise the page is already partially free, so reinsert at the point found above.
    this.spUnits[pfn] = this.spUnits[pfn]! + units;
    if (prev < 0) {
      // b < sp->freelist
      if (b + units === next) {
        units += this.slobUnitsAt(pb, next);
        next = this.slobNext(pb, next);
      }
      this.setSlob(pb, b, units, next);
      this.spFreelist[pfn] = b;
    } else {
      if (next !== SLOB_PAGE_UNITS && b + units === next) {
        units += this.slobUnitsAt(pb, next);
        this.setSlob(pb, b, units, this.slobNext(pb, next));
      } else {
        this.setSlob(pb, b, units, next);
      }
      const prevUnits = this.slobUnitsAt(pb, prev);
      if (prev + prevUnits === b) {
        this.setSlob(pb, prev, this.slobUnitsAt(pb, b) + prevUnits, this.slobNext(pb, b));
      } else {
        this.setSlob(pb, prev, prevUnits, b);
      }
    }
    return true;
  }

  /** slob_free()'s page release: off the list, __folio_clear_slab(), slob_free_pages(b, 0). */
  private freeHeapPage(pfn: number): void {
    if (this.isSlobPageFree(pfn)) this.clearSlobPageFree(pfn);
    this.mm.pageType[pfn] = PGTY_NONE;
    this.mm.owner[pfn] = 0;
    this.spUnits[pfn] = 0;
    this.nrHeapPages--;
    this.pages.freePages(pfn, 0);
  }

  // ---- checks Linux does not make ------------------------------------------------------------

  /**
   * Does [off, off + units) of page `pfn` overlap a free block? Sets overlapOff/overlapUnits.
   * A page on no list has no free block.
   */
  private overlapsFree(pfn: number, off: number, units: number): boolean {
    if (!this.isSlobPageFree(pfn)) return false;
    const pb = pfn * PAGE_SIZE;
    let cur = this.spFreelist[pfn]!;
    for (;;) {
      const cu = this.slobUnitsAt(pb, cur);
      const next = this.slobNext(pb, cur);
      if (next > SLOB_PAGE_UNITS || cur + cu > next) return false; // reported on allocation
      if (cur >= off + units) return false;
      if (off < cur + cu) {
        this.overlapOff = cur;
        this.overlapUnits = cu;
        return true;
      }
      if (next === SLOB_PAGE_UNITS) return false;
      cur = next;
    }
  }

  /** Report a free of block `b` (units) that overlaps the free block at `freeOff`. */
  private overlapReport(fn: string, object: number, pfn: number, b: number, freeOff: number): void {
    const fu = this.slobUnitsAt(pfn * PAGE_SIZE, freeOff);
    if (b >= freeOff && b < freeOff + fu) {
      this.doubleFree(fn, object, pfn, freeOff, fu);
    } else {
      const from = pfnToVirt(pfn) + freeOff * SLOB_UNIT;
      this.badFree(fn, object, `it overlaps the free block 0x${formatPtr(from)}+${fu * SLOB_UNIT}`);
    }
  }

  /**
   * slobFree()'s checks alone, for callers that must write into the block before freeing it
   * (the slob_rcu footer): true when a free of `size` bytes at `block` would be accepted.
   */
  private checkSlobFree(block: number, size: number, object: number, fn: string): boolean {
    const pfn = Math.floor((block - PAGE_OFFSET) / PAGE_SIZE);
    const byteOff = block - PAGE_OFFSET - pfn * PAGE_SIZE;
    const units = slobUnits(size);
    if (byteOff & (SLOB_UNIT - 1) || byteOff + units * SLOB_UNIT > PAGE_SIZE) {
      this.badFree(fn, object, `${size} bytes at page offset ${byteOff} are not a SLOB block`);
      return false;
    }
    if (units > 0 && this.overlapsFree(pfn, byteOff / SLOB_UNIT, units)) {
      this.overlapReport(fn, object, pfn, byteOff / SLOB_UNIT, this.overlapOff);
      return false;
    }
    return true;
  }

  /** The double-free report (mmsim only: Linux 6.1 SLOB corrupts its free list silently). */
  private doubleFree(fn: string, object: number, pfn: number, off: number, units: number): void {
    const from = pfnToVirt(pfn) + off * SLOB_UNIT;
    this.ctx.warn(
      'mm/slob.c:384 slob_free+0x0/0x0',
      `slob: double free of 0x${formatPtr(object)} in ${fn}(): it lies in the free block ` +
        `0x${formatPtr(from)}-0x${formatPtr(from + units * SLOB_UNIT - 1)}, free ignored ${MMSIM}`,
      ['slob_free+0x0/0x0', `${fn}+0x0/0x0`],
    );
  }

  /** An invalid free (mmsim only: Linux 6.1 SLOB would free whatever the pointer implies). */
  private badFree(fn: string, object: number, why: string): void {
    this.ctx.warn(
      'mm/slob.c:384 slob_free+0x0/0x0',
      `slob: invalid free of 0x${formatPtr(object)} in ${fn}(): ${why}, free ignored ${MMSIM}`,
      ['slob_free+0x0/0x0', `${fn}+0x0/0x0`],
    );
  }

  /** A free list whose encoding was overwritten: report once per spot; the caller gives up. */
  private corruptList(pfn: number, off: number, location: string): number {
    this.ctx.warnOnce(
      `slob-corrupt-${pfn}-${off}`,
      location,
      `slob: free list of page pfn 0x${pfn.toString(16)} is corrupt at offset ${off * SLOB_UNIT} ` +
        `(freed memory overwritten?), rest of the page skipped ${MMSIM}`,
      [location.slice(location.indexOf(' ') + 1)],
    );
    return -1;
  }

  /** might_alloc(gfp): might_sleep_if(gfpflags_allow_blocking(gfp)). */
  private mightAlloc(gfp: Gfp): void {
    if (gfpAllowsBlocking(gfp)) this.ctx.mightSleep();
  }

  // ---- kmalloc front end ---------------------------------------------------------------------

  /**
   * mm/slob.c: __do_kmalloc_node() — below PAGE_SIZE - minalign a slob block with a minalign
   * header holding the size (power-of-two sizes naturally aligned); above, whole pages.
   */
  override kmalloc(size: number, gfp: Gfp, nid: number = NUMA_NO_NODE, caller?: CallSite): number {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RangeError(`kmalloc: size ${String(size)} is not a size_t`);
    }
    this.checkGfp(gfp, 'kmalloc');
    this.checkNid(nid, 'kmalloc');
    if (caller !== undefined) callSiteAddr(this.kallsyms, caller, ''); // validates only
    this.mightAlloc(gfp);
    if (size < PAGE_SIZE - SLOB_MINALIGN) {
      // For power of two sizes, guarantee natural alignment for kmalloc()'d objects.
      const align = (size & (size - 1)) === 0 ? Math.max(SLOB_MINALIGN, size) : SLOB_MINALIGN;
      if (!size) return ZERO_SIZE_PTR;
      const m = this.slobAlloc(size + SLOB_MINALIGN, gfp, align, nid, SLOB_MINALIGN);
      if (!m) return 0;
      this.mem.write32(m - PAGE_OFFSET, size); // *m = size
      return m + SLOB_MINALIGN;
    }
    const order = getOrder(size);
    const pfn = this.pages.allocPages(order ? gfp | __GFP_COMP : gfp, order, nid);
    return pfn === NO_PAGE ? 0 : pfnToVirt(pfn);
  }

  /**
   * The kmalloc header of a slob block: the size stored before `object`, or -1 when no
   * kmalloc() could have written it (misaligned, no room for a header in the page, or a size
   * that is not below PAGE_SIZE - minalign or would run past the page).
   */
  private kmallocHeader(object: number, pfn: number): number {
    const byteOff = object - pfnToVirt(pfn);
    if (byteOff % SLOB_MINALIGN !== 0 || byteOff < SLOB_MINALIGN) return -1;
    const size = this.mem.read32(object - SLOB_MINALIGN - PAGE_OFFSET);
    if (size === 0 || size >= PAGE_SIZE - SLOB_MINALIGN) return -1;
    if (byteOff - SLOB_MINALIGN + slobUnits(size + SLOB_MINALIGN) * SLOB_UNIT > PAGE_SIZE)
      return -1;
    return size;
  }

  /**
   * mm/slob.c: kfree() — a slob page: slob_free() of the header block; otherwise free the
   * (compound) pages with their folio order.
   */
  override kfree(object: number, caller?: CallSite): void {
    this.checkObject(object, 'kfree');
    if (isZeroOrNullPtr(object)) return;
    if (caller !== undefined) callSiteAddr(this.kallsyms, caller, '');
    const pfn = this.objectPfn(object, 'kfree');
    const head = this.mm.compoundHead(pfn);
    if (!this.mm.isSlab(head)) {
      this.pages.freePages(head, this.mm.isHead(head) ? this.mm.order[head]! : 0);
      return;
    }
    this.kfreeSlob(object, pfn);
  }

  /** kfree() of a slob block: slob_free(m, *m + align), the header checked first. */
  private kfreeSlob(object: number, pfn: number): void {
    const m = object - SLOB_MINALIGN;
    const size = this.kmallocHeader(object, pfn);
    if (size >= 0) {
      // A stale header of a block that was freed and coalesced is caught by slobFree().
      this.slobFree(m, size + SLOB_MINALIGN, object, 'kfree');
      return;
    }
    // No header: either freed before (the header bytes now hold a slob_t) or a bogus pointer.
    const byteOff = m - pfnToVirt(pfn);
    if (
      byteOff >= 0 &&
      byteOff % SLOB_UNIT === 0 &&
      this.overlapsFree(pfn, byteOff / SLOB_UNIT, 1)
    ) {
      this.doubleFree('kfree', object, pfn, this.overlapOff, this.overlapUnits);
    } else {
      this.badFree('kfree', object, 'no kmalloc size header before it');
    }
  }

  /**
   * mm/slob.c: __ksize() — a slob block: SLOB_UNITS(*m) * SLOB_UNIT; a page allocation:
   * folio_size(). "Can't use ksize for kmem_cache_alloc memory, only kmalloc": Linux reads
   * whatever lies before such an object; we return that too when it looks like a header, and
   * WARN and return 0 (like slab_common's __ksize() checks) when it cannot be one.
   */
  override ksize(object: number): number {
    this.checkObject(object, 'ksize');
    if (isZeroOrNullPtr(object)) return 0;
    const pfn = this.objectPfn(object, 'ksize');
    const head = this.mm.compoundHead(pfn);
    if (!this.mm.isSlab(head)) {
      return PAGE_SIZE << (this.mm.isHead(head) ? this.mm.order[head]! : 0);
    }
    const size = this.kmallocHeader(object, pfn);
    if (size < 0) {
      this.ctx.warn(
        'mm/slob.c:582 __ksize+0x0/0x0',
        `slob: ksize(0x${formatPtr(object)}): no kmalloc size header before it ${MMSIM}`,
        ['__ksize+0x0/0x0', 'ksize+0x0/0x0'],
      );
      return 0;
    }
    return slobUnits(size) * SLOB_UNIT;
  }

  /** SLOB's struct slab has no slab_cache: pages are shared by every cache and kmalloc. */
  override virt_to_cache(object: number): KmemCache | null {
    this.checkObject(object, 'virt_to_cache');
    return null;
  }

  // ---- kmem_cache hooks ----------------------------------------------------------------------

  /** mm/slob.c: __kmem_cache_create() — room for the rcu footer, size rounded to units. */
  protected createCache(
    id: number,
    name: string,
    size: number,
    flags: number,
    args: CacheArgs,
  ): SlobCache {
    flags &= SLOB_CREATE_MASK;
    const c = new SlobCache(id, name, size, flags, args);
    let total = size;
    // Leave room for the rcu footer at the end of the object.
    if (flags & SLAB_TYPESAFE_BY_RCU) total += SLOB_RCU_SIZE;
    c.size = slobUnits(total) * SLOB_UNIT;
    return c;
  }

  /**
   * mm/slob.c: slob_alloc_node(). The ctor runs on EVERY allocation: SLOB keeps no constructed
   * free objects, so "SLAB is emulated on top of SLOB by simply calling constructors". With
   * __GFP_ZERO the block is zeroed first, then the ctor runs (after a WARN_ON_ONCE).
   */
  protected slabAlloc(c: SlobCache, gfp: Gfp, nid: number, _caller: number, _orig: number): number {
    this.mightAlloc(gfp);
    let b: number;
    if (c.size < PAGE_SIZE) {
      b = this.slobAlloc(c.size, gfp, c.align, nid, 0);
    } else {
      const pfn = this.pages.allocPages(gfp, getOrder(c.size), nid);
      b = pfn === NO_PAGE ? 0 : pfnToVirt(pfn);
    }
    if (!b) return 0;
    c.live++;
    if (c.ctor) {
      if (gfp & __GFP_ZERO) {
        this.ctx.warnOnce(
          'slob_alloc_node_gfp_zero',
          'mm/slob.c:632 slob_alloc_node+0x0/0x0',
          undefined,
          ['slob_alloc_node+0x0/0x0', 'kmem_cache_alloc+0x0/0x0'],
        );
      }
      c.ctor(b);
    }
    return b;
  }

  /**
   * mm/slob.c: kmem_cache_free(). SLAB_TYPESAFE_BY_RCU writes the struct slob_rcu footer
   * ({rcu_head next, func}, size) and hands it to call_rcu(); we have no grace periods, so
   * kmem_rcu_free() runs at once and finds the block again from the footer in memory.
   */
  protected cacheFree(c: SlobCache, object: number, _caller: number): void {
    if (isZeroOrNullPtr(object)) return;
    const pfn = this.objectPfn(object, 'kmem_cache_free');
    const rcu = (c.flags & SLAB_TYPESAFE_BY_RCU) !== 0;
    if (c.size < PAGE_SIZE) {
      if (!this.mm.isSlab(this.mm.compoundHead(pfn))) {
        this.badFree('kmem_cache_free', object, 'not in a slob page');
        return;
      }
      if (!rcu) {
        // __kmem_cache_free() -> slob_free()
        if (this.slobFree(object, c.size, object, 'kmem_cache_free')) c.live--;
        return;
      }
      // The footer is written into the object: check the free before writing anything.
      if (!this.checkSlobFree(object, c.size, object, 'kmem_cache_free')) return;
    } else if (object !== pfnToVirt(pfn) || this.mm.isSlab(this.mm.compoundHead(pfn))) {
      this.badFree('kmem_cache_free', object, 'not the start of a page allocation');
      return;
    } else if (this.mm.refcount[pfn]! <= 0) {
      // Pages already free: slob_free_pages() as Linux does, and the page allocator reports it.
      this.pages.freePages(pfn, getOrder(c.size));
      return;
    }
    let b = object;
    let size = c.size;
    if (rcu) {
      const footer = object + c.size - SLOB_RCU_SIZE - PAGE_OFFSET;
      this.mem.write64Number(footer, 0); // rcu_head.next
      this.mem.write64Number(footer + 8, this.rcuFreeFn); // rcu_head.func = kmem_rcu_free
      this.mem.write32(footer + 16, c.size); // slob_rcu->size
      // call_rcu() ... kmem_rcu_free(): b = (void *)slob_rcu - (slob_rcu->size - sizeof(*slob_rcu)).
      size = this.mem.read32(footer + 16);
      b = footer + PAGE_OFFSET - (size - SLOB_RCU_SIZE);
    }
    // __kmem_cache_free()
    if (size < PAGE_SIZE) this.slobFree(b, size, object, 'kmem_cache_free');
    else this.pages.freePages(Math.floor((b - PAGE_OFFSET) / PAGE_SIZE), getOrder(size));
    c.live--;
  }

  protected kfreeSlabObject(_s: SlobCache, object: number, caller: number): void {
    this.kfree(object, caller || undefined);
  }

  /**
   * mm/slob.c: __kmem_cache_shutdown() "No way to check for remaining objects" returns 0.
   * We count them, so a cache with live objects is reported by slab_common as SLUB would
   * have it and its handle stays valid for freeing them (nothing leaks).
   */
  protected shutdownCache(c: SlobCache, _caller: number): boolean {
    return c.live === 0;
  }

  /** mm/slob.c: __kmem_cache_shrink() returns 0: empty pages were already given back. */
  protected shrinkCache(_c: SlobCache): number {
    return 0;
  }

  protected slabKsize(_c: SlobCache, object: number): number {
    return this.ksize(object);
  }

  /**
   * SLOB has no /proc/slabinfo (6.1 builds it only with SLAB or SLUB_DEBUG). These numbers
   * are the simulator's: live objects as both active and total, objsize = s->size, and no
   * slabs (SLOB's pages are shared by all caches: see heapStats()).
   */
  cacheInfo(s: KmemCache): SlabInfo {
    const c = this.cacheOf(s, 'cacheInfo');
    return {
      name: c.name,
      active_objs: c.live,
      num_objs: c.live,
      objsize: c.size,
      objects_per_slab: 0,
      cache_order: 0,
      active_slabs: 0,
      num_slabs: 0,
      limit: 0,
      batchcount: 0,
      shared: 0,
      shared_avail: 0,
    };
  }

  // ---- tools ---------------------------------------------------------------------------------

  /** The pages of list `li` in list order. */
  private listPfns(li: number): number[] {
    const out: number[] = [];
    const first = this.listFirst[li]!;
    if (first < 0) return out;
    let p = first;
    do {
      out.push(p);
      p = this.mm.lruNext[p]!;
    } while (p !== first && out.length <= this.mm.nrPages);
    return out;
  }

  /** Free blocks of a slob page as [offset, units] pairs (stops at a corrupt link). */
  private freeBlocks(pfn: number): [number, number][] {
    const out: [number, number][] = [];
    if (!this.isSlobPageFree(pfn)) return out;
    const pb = pfn * PAGE_SIZE;
    let cur = this.spFreelist[pfn]!;
    while (cur >= 0 && cur < SLOB_PAGE_UNITS && out.length < SLOB_PAGE_UNITS) {
      out.push([cur, this.slobUnitsAt(pb, cur)]);
      const next = this.slobNext(pb, cur);
      if (next <= cur) break;
      cur = next;
    }
    return out;
  }

  /** The three lists, page counts and free units: how fragmented the heap is. */
  heapStats(): SlobHeapStats {
    let freeUnits = 0;
    let listed = 0;
    const list = (li: number): SlobListStats => {
      const pfns = this.listPfns(li);
      const st: SlobListStats = {
        name: SLOB_LIST_NAMES[li]!,
        pfns,
        freeUnits: 0,
        freeBlocks: 0,
        largestFreeUnits: 0,
      };
      for (const pfn of pfns) {
        st.freeUnits += this.spUnits[pfn]!;
        for (const [, u] of this.freeBlocks(pfn)) {
          st.freeBlocks++;
          st.largestFreeUnits = Math.max(st.largestFreeUnits, u);
        }
      }
      freeUnits += st.freeUnits;
      listed += pfns.length;
      return st;
    };
    const small = list(0);
    const medium = list(1);
    const large = list(2);
    return {
      small,
      medium,
      large,
      pages: this.nrHeapPages,
      fullPages: this.nrHeapPages - listed,
      freeBytes: freeUnits * SLOB_UNIT,
    };
  }

  /**
   * Walk every slob page: list links and membership, PageSlobFree, and each page's free list
   * (address order, inside the page, non-overlapping, units summing to sp->units).
   */
  verify(): string[] {
    const problems: string[] = [];
    const mm = this.mm;
    let onLists = 0;
    for (let li = 0; li < 3; li++) {
      const name = SLOB_LIST_NAMES[li]!;
      const first = this.listFirst[li]!;
      if (first < 0) continue;
      let p = first;
      let n = 0;
      do {
        if (!mm.isSlab(p)) problems.push(`${name}: pfn 0x${p.toString(16)} is not a slab page`);
        if (!this.isSlobPageFree(p))
          problems.push(`${name}: pfn 0x${p.toString(16)} lacks PageSlobFree`);
        if (this.spList[p] !== li) {
          problems.push(
            `${name}: pfn 0x${p.toString(16)} is marked for ${SLOB_LIST_NAMES[this.spList[p]!] ?? '?'}`,
          );
        }
        const next = mm.lruNext[p]!;
        if (next < 0 || next >= mm.nrPages || mm.lruPrev[next] !== p) {
          problems.push(`${name}: broken link after pfn 0x${p.toString(16)}`);
          break;
        }
        p = next;
        n++;
      } while (p !== first && n <= this.nrHeapPages);
      if (n > this.nrHeapPages) problems.push(`${name}: does not close into a cycle`);
      onLists += n;
    }

    let heapPages = 0;
    let flagged = 0;
    for (let pfn = 0; pfn < mm.nrPages; pfn++) {
      if (!mm.isSlab(pfn)) continue;
      heapPages++;
      const where = `slob page pfn 0x${pfn.toString(16)}`;
      const units = this.spUnits[pfn]!;
      if (!this.isSlobPageFree(pfn)) {
        if (units !== 0) problems.push(`${where}: on no list but sp->units = ${units}`);
        continue;
      }
      flagged++;
      if (units <= 0 || units >= SLOB_PAGE_UNITS) {
        problems.push(`${where}: on a list with sp->units = ${units}`);
      }
      const pb = pfn * PAGE_SIZE;
      let cur = this.spFreelist[pfn]!;
      let sum = 0;
      let end = 0;
      for (let i = 0; ; i++) {
        if (cur < end || cur >= SLOB_PAGE_UNITS || i >= SLOB_PAGE_UNITS) {
          problems.push(`${where}: free block at unit ${cur} is out of order or outside the page`);
          break;
        }
        const u = this.slobUnitsAt(pb, cur);
        const next = this.slobNext(pb, cur);
        if (cur + u > SLOB_PAGE_UNITS)
          problems.push(`${where}: free block at unit ${cur} (${u} units) runs past the page`);
        if (next !== SLOB_PAGE_UNITS && next < cur + u) {
          problems.push(
            `${where}: free block at unit ${cur} (${u} units) overlaps the next at ${next}`,
          );
          break;
        }
        sum += u;
        end = cur + u;
        if (next === SLOB_PAGE_UNITS) break;
        cur = next;
      }
      if (sum !== units)
        problems.push(`${where}: free blocks hold ${sum} units, sp->units = ${units}`);
    }
    if (heapPages !== this.nrHeapPages) {
      problems.push(`slob: ${heapPages} slab pages in the memmap, ${this.nrHeapPages} counted`);
    }
    if (flagged !== onLists)
      problems.push(`slob: ${flagged} pages PageSlobFree, ${onLists} on the lists`);
    for (const c of this.slabCaches) {
      if (c.live < 0) problems.push(`${c.name}: ${c.live} live objects`);
    }
    return problems;
  }
}

/** A SLOB allocator on `env` (options used: cacheLineSize; SLOB never merges caches). */
export const createSlob = (env: SlabEnv, options?: SlabOptions): SlabAllocatorSLOB =>
  new SlabAllocatorSLOB(env, options);
