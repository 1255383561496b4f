/**
 * The interfaces that packages meet at. Implementations live in their own packages
 * (@mmsim/page-alloc, @mmsim/slab, …); a user's own implementation plugs in the same way and
 * is checked by the conformance suite its package exports.
 */
import type { Pfn } from './addr.js';
import type { Gfp } from './gfp.js';

/**
 * A page allocator: hands out naturally aligned blocks of 2^order frames (mm/page_alloc.c).
 *
 * Contract (checked by `@mmsim/page-alloc/conformance`):
 * - `allocPages` returns the first pfn of a block aligned to its order, inside a zone that
 *   `gfpZone(gfp)` allows (that zone or a lower one), or NO_PAGE (-1) on failure — with the
 *   warn_alloc report in the kernel log unless `__GFP_NOWARN`. The head page gets refcount 1;
 *   with `__GFP_ZERO` the block's bytes are zero; with `__GFP_COMP` it is a compound page
 *   (PG_head on the head, `order` recorded). `__GFP_THISNODE` never leaves the node.
 * - `freePages` takes back exactly what `allocPages` gave (same pfn, same order). Misuse —
 *   a double free, a pfn never allocated, the wrong order — gets the Linux report and leaves
 *   every list and counter as it was.
 * - Counters are exact at every step: free pages + allocated pages + reserved pages = present.
 */
export interface PageAllocator {
  /** The implementation's name ('buddy', 'bitmap'). */
  readonly name: string;
  /**
   * __alloc_pages(gfp, order, preferred_nid): 2^order contiguous frames. `nid` is the
   * preferred node; NUMA_NO_NODE (-1, the default) means the current CPU's node.
   */
  allocPages(gfp: Gfp, order: number, nid?: number): Pfn;
  /** __free_pages(page, order). */
  freePages(pfn: Pfn, order: number): void;
  /** Free pages in one zone, one node (zoneType omitted) or the machine (both omitted). */
  nrFreePages(nid?: number, zoneType?: number): number;
  /** Free blocks of exactly `order` in a zone, as /proc/buddyinfo counts them. */
  nrFreeBlocks(nid: number, zoneType: number, order: number): number;
  /** Pages the allocator manages in a zone (zone->managed_pages). */
  managedPages(nid: number, zoneType: number): number;
  /** drain_all_pages(): return per-CPU cached pages to the free lists (no-op if none). */
  drain(): void;
}

/** The type a `defineX` helper checks, unjs-style: `definePageAllocator((env) => ({ … }))`. */
export function definePageAllocator<E, A extends PageAllocator>(
  factory: (env: E) => A,
): (env: E) => A {
  return factory;
}
