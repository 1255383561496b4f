/**
 * The interfaces that packages meet at. Implementations live in their own packages
 * (@mmsim/page-alloc, @mmsim/slab, …); a user's own implementation plugs in the same way and
 * is checked by the conformance suite its package exports.
 */
import type { Pfn, VirtAddr } from './addr.js';
import type { ExecContext } from './context.js';
import type { Gfp } from './gfp.js';
import type { Kallsyms } from './kallsyms.js';
import type { Klog } from './klog.js';
import type { MemMap } from './memmap.js';
import type { PhysicalMemory } from './physmem.js';

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

// ---- the slab layer ---------------------------------------------------------------------------

/** A slab constructor: called with each object's address when a new slab is set up. */
export type SlabCtor = (object: VirtAddr) => void;

/** A call site for SLAB_STORE_USER tracking: a text address, or a function name to intern. */
export type CallSite = VirtAddr | string;

/**
 * struct kmem_cache_args (include/linux/slab.h, 6.12+): the optional part of
 * kmem_cache_create()'s 4-argument form.
 */
export interface KmemCacheArgs {
  /** Required object alignment; 0 = none beyond the word. @defaultValue 0 */
  align?: number;
  /** Start of the region that may be copied to user space. @defaultValue 0 */
  useroffset?: number;
  /** Size of that region; 0 = none (then the cache may merge). @defaultValue 0 */
  usersize?: number;
  /** Where the free pointer lives; SLAB_TYPESAFE_BY_RCU caches only. */
  freeptr_offset?: number;
  /** Use freeptr_offset. @defaultValue false */
  use_freeptr_offset?: boolean;
  /** Called for each object when a new slab is allocated. @defaultValue null */
  ctor?: SlabCtor | null;
}

/**
 * A cache handle (struct kmem_cache *). The fields are what Linux keeps and /sys/kernel/slab
 * shows; the implementation owns the handle and rejects handles of another allocator.
 */
export interface KmemCache {
  readonly name: string;
  /** The size asked for (s->object_size; grows when a bigger cache merges into it). */
  readonly object_size: number;
  /** The size of one object slot with its metadata (s->size; slabinfo's objsize). */
  readonly size: number;
  readonly align: number;
  /** SLAB_* flags in effect, debug flags from slab_debug= included. */
  readonly flags: number;
  readonly ctor: SlabCtor | null;
  /** Caches merged into this one plus itself (s->refcount). */
  readonly refcount: number;
}

/**
 * struct slabinfo (mm/slab.h): one cache's line of /proc/slabinfo, plus what slabtop shows.
 */
export interface SlabInfo {
  name: string;
  active_objs: number;
  num_objs: number;
  /** s->size: the object slot size slabinfo prints as <objsize>. */
  objsize: number;
  objects_per_slab: number;
  /** log2 of pages per slab (slabinfo prints 1 << cache_order). */
  cache_order: number;
  active_slabs: number;
  num_slabs: number;
  /** SLAB's per-CPU array size, 0 under SLUB and SLOB. */
  limit: number;
  batchcount: number;
  /** SLAB's shared array factor. */
  shared: number;
  /** Objects in SLAB's shared arrays. */
  shared_avail: number;
}

/** What every slab implementation is built on: it gets pages only through `pageAllocator`. */
export interface SlabEnv {
  readonly pageAllocator: PageAllocator;
  readonly memory: PhysicalMemory;
  /** Slab pages are marked here: page type PGTY_slab, `owner` = the cache id. */
  readonly memMap: MemMap;
  readonly klog: Klog;
  readonly ctx: ExecContext;
  /** cpu_to_node() for each CPU. */
  readonly cpuToNode: ArrayLike<number>;
  readonly nrNodes: number;
  /** Call-site symbols for tracking and reports (shared with the rest of the kernel). */
  readonly kallsyms: Kallsyms;
}

/**
 * A slab allocator: caches of fixed-size objects on top of a PageAllocator (mm/slub.c,
 * mm/slab.c, mm/slob.c). Objects are direct-map virtual addresses (0 = NULL).
 *
 * The Linux-facing methods keep Linux's names and arguments. Contract (checked by
 * `@mmsim/slab/conformance`):
 * - Live objects never overlap, each lies inside pages the allocator got from the page
 *   allocator for that cache, aligned to the cache's alignment.
 * - Misuse (double free, wrong cache, a pointer that is no object) gets the implementation's
 *   Linux report and loses nothing; JS misuse (a foreign handle, a bad size) throws.
 * - After kmem_cache_destroy() of an empty cache every page it held is back in the page
 *   allocator.
 */
export interface SlabAllocator {
  /** 'slub', 'slab', 'slob' or a user's own. */
  readonly name: string;
  /**
   * kmem_cache_create(): the legacy 5-argument form (name, size, align, flags, ctor) or the
   * 6.12 form (name, size, args, flags). Returns the new cache, a compatible existing cache
   * it merged with, or null on failure (a KernelPanic is thrown instead with SLAB_PANIC).
   * SLAB_CACHE_DMA / SLAB_CACHE_DMA32 caches take their slabs from those zones (SLOB, as in
   * Linux 6.1, keeps one heap for every cache and ignores them).
   */
  kmem_cache_create(
    name: string,
    size: number,
    align?: number,
    flags?: number,
    ctor?: SlabCtor | null,
  ): KmemCache | null;
  kmem_cache_create(
    name: string,
    size: number,
    args: KmemCacheArgs | null,
    flags?: number,
  ): KmemCache | null;
  /** kmem_cache_alloc(): an object, or 0. */
  kmem_cache_alloc(s: KmemCache, gfp: Gfp, caller?: CallSite): VirtAddr;
  /** kmem_cache_zalloc(): kmem_cache_alloc(s, gfp | __GFP_ZERO). */
  kmem_cache_zalloc(s: KmemCache, gfp: Gfp, caller?: CallSite): VirtAddr;
  /** kmem_cache_alloc_node(): an object from node `nid` (NUMA_NO_NODE: any). */
  kmem_cache_alloc_node(s: KmemCache, gfp: Gfp, nid: number, caller?: CallSite): VirtAddr;
  kmem_cache_free(s: KmemCache, object: VirtAddr, caller?: CallSite): void;
  /**
   * kmem_cache_shrink(): give empty slabs back to the page allocator; returns 0 when the
   * cache holds no slab afterwards, 1 when some remain (SLUB's __kmem_cache_shrink()).
   */
  kmem_cache_shrink(s: KmemCache): number;
  /**
   * kmem_cache_destroy(). A cache with live objects is reported (where the implementation
   * can know) and unlinked but kept, as Linux leaks it: its objects stay valid and can be
   * freed, and destroying the handle again once it is empty finishes the job.
   */
  kmem_cache_destroy(s: KmemCache | null, caller?: CallSite): void;
  /** kmem_cache_size(): the object size. */
  kmem_cache_size(s: KmemCache): number;
  /** __kmalloc_node(): a buffer of at least `size` bytes, ZERO_SIZE_PTR for 0, or 0. */
  kmalloc(size: number, gfp: Gfp, nid?: number, caller?: CallSite): VirtAddr;
  /**
   * kfree(): of kmalloc memory (and, on SLUB and SLAB, of any slab object, as Linux allows);
   * NULL and ZERO_SIZE_PTR are ignored.
   */
  kfree(object: VirtAddr, caller?: CallSite): void;
  /**
   * ksize(): the usable size of a kmalloc'd buffer (0 for NULL and ZERO_SIZE_PTR); SLUB and
   * SLAB answer for any slab object, SLOB only for kmalloc blocks (it reads their header).
   */
  ksize(object: VirtAddr): number;
  /** The cache a slab object belongs to (virt_to_cache()), or null. */
  virt_to_cache(object: VirtAddr): KmemCache | null;
  /** The live caches in creation order (slab_caches), merged names excluded. */
  caches(): readonly KmemCache[];
  /** The cache's /proc/slabinfo numbers. */
  cacheInfo(s: KmemCache): SlabInfo;
  /** The shrinker hook: shrink every cache; returns the pages given back. */
  shrinkAll(): number;
  /** Check every internal structure; an empty array when all is well (slow). */
  verify(): string[];
}

/** The type a factory must have: `defineSlabAllocator((env) => ({ … }))`. */
export function defineSlabAllocator<A extends SlabAllocator>(
  factory: (env: SlabEnv) => A,
): (env: SlabEnv) => A {
  return factory;
}

// ---- address translation ----------------------------------------------------------------------

/** A TLB's counters (per level for a hierarchy). */
export interface TlbStats {
  hits: number;
  misses: number;
  /** Valid entries replaced by an insert. */
  evictions: number;
  /** Flush operations (each flushAll/flushNonGlobal/flushAsid/flushPage/flushRange call). */
  flushes: number;
}

/**
 * A translation lookaside buffer: a cache of page translations, tagged by address space.
 * Implementations (set-associative arrays with a replacement policy, hierarchies of them)
 * live in @mmsim/tlb; the MMU (@mmsim/mmu) drives one through this interface only.
 *
 * Hot path: numbers in and out, nothing allocated. A lookup returns a slot number that the
 * entry accessors read; a slot stays valid until the next lookup, insert or flush (a
 * hierarchy refills its L1 from its L2 inside a lookup).
 *
 * `flags` are opaque to the TLB — the MMU stores the permission and dirty bits of its paging
 * format there, below 2^16 — except that a `global` entry matches every ASID and survives
 * flushNonGlobal() and flushAsid() (x86 CR4.PGE + PTE.G, RISC-V/ARM global mappings).
 *
 * A page is never cached twice at one size: inserting a page already cached for the same ASID,
 * or globally, replaces that entry in place (no eviction counted), and a global insert
 * replaces every ASID's entry for the page. Entries of two sizes may both cover an address
 * (the Intel SDM allows it, §4.10.2.3): a lookup answers with either, a flush drops both.
 * `@mmsim/tlb/conformance` checks an implementation against all of this.
 */
export interface Tlb {
  readonly name: string;
  /**
   * The slot caching the page that contains `va` in address space `asid` (or a global
   * entry for it), or -1 on a miss. Counts a hit or a miss and updates replacement state.
   */
  lookup(va: VirtAddr, asid: number): number;
  /**
   * Cache a translation: the 2^pageShift-byte page holding `va` maps to the page at physical
   * address `pa` (aligned to the page). Returns the slot used; replacing a valid entry
   * counts an eviction. A page larger than the TLB caches may be cached as the fragment of
   * a size it does cache that holds `va` (splintering); a page size it cannot hold at all is a
   * RangeError. Never a wrong translation.
   */
  insert(
    va: VirtAddr,
    asid: number,
    pa: number,
    pageShift: number,
    flags: number,
    global: boolean,
  ): number;
  /**
   * The hit path in one call, for an MMU: the physical address of `va` when an entry maps it
   * in `asid` and its flags include every bit of `need`; -1 on a miss; -2 when an entry maps
   * it but lacks one of those flags (its slot is then in `lastSlot`). Counts and updates the
   * replacement state exactly as lookup() does.
   */
  translate(va: VirtAddr, asid: number, need: number): number;
  /** The slot of the entry behind translate()'s last -2. */
  readonly lastSlot: number;
  /** The physical base address of the page an entry maps. */
  entryPa(slot: number): number;
  entryFlags(slot: number): number;
  /**
   * Update an entry's flags (e.g. the MMU setting Dirty after a write), and those of any copy
   * of it the TLB keeps elsewhere (a hierarchy's L2), so the next hit sees them.
   */
  setEntryFlags(slot: number, flags: number): void;
  entryPageShift(slot: number): number;
  /** Drop every entry. */
  flushAll(): void;
  /** Drop every entry but the global ones (a CR3 write without PCID). */
  flushNonGlobal(): void;
  /** Drop the non-global entries of one address space (INVPCID single-context, sfence.vma 0, asid). */
  flushAsid(asid: number): void;
  /** Drop the entries that map `va` in `asid`, global ones included (INVLPG). */
  flushPage(va: VirtAddr, asid: number): void;
  /** flushPage() for every page overlapping [start, end); start === end drops nothing. */
  flushRange(start: VirtAddr, end: VirtAddr, asid: number): void;
  /**
   * TLBs that give the same object here are flushed together: a flush of one drops the
   * entries of all (a hierarchy's data and instruction paths flush every level they share),
   * so an MMU with both flushes one. Absent: flushed on its own.
   */
  readonly flushDomain?: object;
  readonly stats: TlbStats;
  resetStats(): void;
}

/** The type a `defineX` helper checks: `defineTlb(() => ({ … }))`. */
export function defineTlb<A extends Tlb, O>(factory: (options: O) => A): (options: O) => A {
  return factory;
}
