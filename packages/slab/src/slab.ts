/**
 * SLAB: the classic Linux slab allocator (mm/slab.c as in Linux 6.1, the last design before
 * its removal in 6.8), after Jeff Bonwick's "The Slab Allocator" (USENIX 1994).
 *
 * The memory of a cache is a set of slabs: 2^gfporder contiguous pages holding `num` objects
 * of `size` bytes. Each slab has a freelist, an array of `num` freelist_idx_t (one byte each on
 * x86-64 with 4 KiB pages: FREELIST_BYTE_INDEX, so at most SLAB_OBJ_MAX_NUM = 255 objects).
 * Entries freelist[active..num) are the indices of the free objects; slab_get_obj() takes
 * freelist[active++], slab_put_obj() stores at freelist[--active]. The array lives in the
 * simulated memory where Linux keeps it (mm/slab.c: __kmem_cache_create()):
 *   - OBJFREELIST_SLAB: inside a free object of the slab itself (caches without ctor whose
 *     array fits in one object); when the slab becomes full there is no free object and no
 *     freelist (slab->freelist = NULL) until an object comes back and hosts it;
 *   - OFF_SLAB: in a kmalloc object (kmalloc_node(freelist_size), the kmalloc-N counts show it);
 *   - on-slab: in the last bytes of the slab.
 * The first object sits at s_mem = slab address + colour offset: successive slabs of a node
 * start at colour_next * colour_off (colour_off = cache line), so objects of different slabs
 * fall into different cache sets ("slab colouring", cache_grow_begin()).
 *
 * Per node (struct kmem_cache_node) slabs sit on three lists, slabs_full, slabs_partial and
 * slabs_free, linked through struct page's lru (MemMap.lruNext/lruPrev of the head page, as
 * slab->slab_list overlays page->lru), with sentinel list heads kept here. Counters
 * total_slabs, free_slabs, free_objects (objects free in slabs, not those in arrays) and
 * free_limit = (1 + nr_cpus_node) * batchcount + num bound how much free memory a node keeps.
 *
 * In front of the lists every CPU has an array cache (struct array_cache: avail, limit,
 * batchcount, touched, entry[]): a LIFO stack of free objects, so the object freed last is
 * handed out first while it is still cache-hot. An alloc pops entry[--avail]; when empty,
 * cache_alloc_refill() moves up to batchcount objects from the node's shared array or from its
 * partial, then free slabs, and grows the cache when there are none. A free pushes; a full
 * array first gives its oldest batchcount entries to the shared array or back to the slabs
 * (cache_flusharray() → free_block()). Every node also has a shared array (limit
 * shared * batchcount) that lets objects move between CPUs without touching the slab lists.
 * limit/batchcount/shared come from enable_cpucache() and are /proc/slabinfo's tunables.
 *
 * The reaper (cache_reap(), every REAPTIMEOUT_AC = 2 s on each CPU) drains about a fifth of
 * each untouched per-CPU array, and every REAPTIMEOUT_NODE = 4 s the shared array and a part
 * of the free slabs of its node, unless the free list was used since the last run.
 * `cacheReap()` runs one such pass now; caches with the legacy SLAB_NO_REAP are skipped.
 *
 * Deliberate differences from 6.1, each explained where it happens:
 *   - alien caches are not modelled: a free on the wrong node goes straight to the slab's node
 *     (Linux booted with `noaliencache`);
 *   - CONFIG_DEBUG_SLAB is per cache: a cache created with SLAB_RED_ZONE, SLAB_POISON or
 *     SLAB_STORE_USER gets the DEBUG layout, checks and reports of 6.1, other caches do not;
 *   - misuse never corrupts the simulator: a double free or a pointer that is no object is
 *     reported and then dropped, where 6.1 without DEBUG would corrupt its lists silently;
 *   - CONFIG_SLAB_FREELIST_RANDOM is off (freelists are in index order), SLAB_TYPESAFE_BY_RCU
 *     slabs are freed at once (no RCU grace period), the kmem_cache_node and array_cache
 *     structures are not themselves allocated from the kmalloc caches.
 *
 * Linux: mm/slab.c, mm/slab.h, mm/slab_common.c, include/linux/slab.h, slab_def.h (6.1).
 */
import {
  __GFP_COMP,
  __GFP_NOFAIL,
  __GFP_NOWARN,
  __GFP_RECLAIM,
  __GFP_RECLAIMABLE,
  __GFP_THISNODE,
  __GFP_DIRECT_RECLAIM as CORE___GFP_DIRECT_RECLAIM,
  __GFP_ZERO as CORE___GFP_ZERO,
  NUMA_NO_NODE as CORE_NUMA_NO_NODE,
  PAGE_OFFSET as CORE_PAGE_OFFSET,
  PAGE_SIZE as CORE_PAGE_SIZE,
  PGTY_slab as CORE_PGTY_slab,
  SLAB_POISON as CORE_SLAB_POISON,
  SLAB_RED_ZONE as CORE_SLAB_RED_ZONE,
  formatGfp,
  formatPtr,
  GFP_CONSTRAINT_MASK,
  GFP_DMA,
  GFP_DMA32,
  GFP_RECLAIM_MASK,
  GFP_SLAB_BUG_MASK,
  type Gfp,
  HZ,
  KERN_ERR,
  KERN_WARNING,
  type KmemCache,
  NO_PAGE,
  PGTY_NONE,
  pfnToVirt,
  SLAB_CACHE_DMA,
  SLAB_CACHE_DMA32,
  SLAB_HWCACHE_ALIGN,
  SLAB_MERGE_SAME,
  SLAB_NEVER_MERGE,
  SLAB_NO_MERGE,
  SLAB_NO_REAP,
  SLAB_NOLEAKTRACE,
  SLAB_RECLAIM_ACCOUNT,
  SLAB_STORE_USER,
  SLAB_TYPESAFE_BY_RCU,
  type SlabEnv,
  type SlabInfo,
} from '@mmsim/core';
import type { SlabOptions } from './api.js';
import {
  type CacheArgs,
  calculateAlignment,
  KMALLOC_MAX_CACHE_SIZE,
  KMALLOC_NORMAL,
  POISON_END,
  POISON_FREE,
  POISON_INUSE,
  SlabAllocatorBase,
  SlabCacheBase,
} from './common.js';

// Module-local copies of hot constants: plain bindings instead of live imports (module
// runners such as vitest's turn each imported binding into a property read).
const __GFP_DIRECT_RECLAIM = CORE___GFP_DIRECT_RECLAIM;
const __GFP_ZERO = CORE___GFP_ZERO;
const NUMA_NO_NODE = CORE_NUMA_NO_NODE;
const PAGE_OFFSET = CORE_PAGE_OFFSET;
const PAGE_SIZE = CORE_PAGE_SIZE;
const PGTY_slab = CORE_PGTY_slab;
const SLAB_POISON = CORE_SLAB_POISON;
const SLAB_RED_ZONE = CORE_SLAB_RED_ZONE;

// ---- constants of mm/slab.c (6.1, x86-64, 4 KiB pages) -----------------------------------------

/** sizeof(void *) and REDZONE_ALIGN = max(BYTES_PER_WORD, __alignof__(unsigned long long)). */
const BYTES_PER_WORD = 8;
const REDZONE_ALIGN = 8;
/** SLAB_OBJ_MIN_SIZE = min(KMALLOC_MIN_SIZE, 16) (include/linux/slab.h). */
const SLAB_OBJ_MIN_SIZE = 16;
/**
 * FREELIST_BYTE_INDEX: (PAGE_SIZE >> BITS_PER_BYTE) <= SLAB_OBJ_MIN_SIZE, true for 4 KiB pages,
 * so freelist_idx_t is an unsigned char and a slab holds at most 255 objects.
 */
const FREELIST_IDX_SIZE = PAGE_SIZE >> 8 <= SLAB_OBJ_MIN_SIZE ? 1 : 2;
/** SLAB_OBJ_MAX_NUM = (1 << sizeof(freelist_idx_t) * BITS_PER_BYTE) - 1. */
export const SLAB_OBJ_MAX_NUM = (1 << (FREELIST_IDX_SIZE * 8)) - 1;
/** KMALLOC_MAX_ORDER = KMALLOC_SHIFT_MAX - PAGE_SHIFT with 6.1's MAX_ORDER 11. */
const KMALLOC_MAX_ORDER = 10;
/** slab_max_order: SLAB_MAX_ORDER_HI above 32 MiB of RAM (kmem_cache_init()), else _LO. */
const SLAB_MAX_ORDER_HI = 1;
const SLAB_MAX_ORDER_LO = 0;
/** Refill at most this many objects while the array cache was not touched recently. */
export const BATCHREFILL_LIMIT = 16;
export const REAPTIMEOUT_AC = 2 * HZ;
export const REAPTIMEOUT_NODE = 4 * HZ;
/** include/linux/poison.h (64-bit): red zone words and poison bytes. */
export const RED_INACTIVE = 0x09f911029d74e35bn;
export const RED_ACTIVE = 0xd84156c5635688c0n;
const RED_INACTIVE_LO = 0x9d74e35b;
const RED_INACTIVE_HI = 0x09f91102;
const RED_ACTIVE_LO = 0x635688c0;
const RED_ACTIVE_HI = 0xd84156c5;

/** The flags that make a cache a DEBUG cache here (CONFIG_DEBUG_SLAB per cache). */
const SLAB_DEBUG_MASK = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER;
/** mm/slab_common.c SLAB_NEVER_MERGE (6.1), plus SLAB_NO_MERGE and the reaper's opt-out. */
const NEVER_MERGE = SLAB_NEVER_MERGE | SLAB_NO_REAP;

/** Slab lists of a node, in the order of their sentinels. */
const LIST_FULL = 0;
const LIST_PARTIAL = 1;
const LIST_FREE = 2;
const LISTS_PER_NODE = 3;

/** Per-slab data the simulator keeps beside struct page (see SlabAllocatorSLAB.meta). */
const META_SHIFT = 12;
const META_MASK = (1 << META_SHIFT) - 1;
const META_STRIDE = 3; // s_mem, freelist, active
const INUSE_WORDS = 8; // 256 bits: one per object, set while a caller owns it

// ---- the cache ---------------------------------------------------------------------------------

/** struct kmem_cache of SLAB (include/linux/slab_def.h) with its per-CPU and per-node parts. */
export class SlabCacheSLAB extends SlabCacheBase {
  /** Objects per slab and the slab's page order. */
  num = 0;
  gfporder = 0;
  /** Colours per node and the colour step (cache_line_size(), at least align). */
  colour = 0;
  colourOff = 0;
  /** Bytes of the freelist array: num * sizeof(freelist_idx_t). */
  freelistSize = 0;
  /** CFLGS_OBJFREELIST_SLAB / CFLGS_OFF_SLAB (kept apart from `flags` so tools print them not). */
  objFreelist = false;
  offSlab = false;
  /** DEBUG: the object starts this far into its slot (after red zone 1). */
  objOffset = 0;
  /** A DEBUG cache (SLAB_RED_ZONE, SLAB_POISON or SLAB_STORE_USER after layout). */
  debug = false;
  /** GFP bits every slab allocation adds: __GFP_COMP and the zone/reclaimable bits. */
  allocflags = __GFP_COMP;
  /** The tunables (enable_cpucache(), /proc/slabinfo). */
  limit = 0;
  batchcount = 0;
  shared = 0;

  // Per CPU: struct array_cache, entries at cpu * limit.
  acAvail: Int32Array;
  acTouched: Uint8Array;
  acEntry: Float64Array = new Float64Array(0);

  // Per node: the shared array (limit shared * batchcount, 0 = none).
  shLimit = 0;
  shAvail: Int32Array;
  shTouched: Uint8Array;
  shEntry: Float64Array = new Float64Array(0);

  // Per node: struct kmem_cache_node.
  totalSlabs: Int32Array;
  freeSlabs: Int32Array;
  freeObjects: Int32Array;
  freeLimit: Int32Array;
  colourNext: Int32Array;
  freeTouched: Uint8Array;
  nextReap: Float64Array;
  /** First sentinel of this cache: 3 per node (full, partial, free), then the destroy list. */
  listBase = 0;

  constructor(
    id: number,
    name: string,
    size: number,
    flags: number,
    args: CacheArgs,
    nrCpus: number,
    nrNodes: number,
  ) {
    super(id, name, size, flags, args);
    this.acAvail = new Int32Array(nrCpus);
    this.acTouched = new Uint8Array(nrCpus);
    this.shAvail = new Int32Array(nrNodes);
    this.shTouched = new Uint8Array(nrNodes);
    this.totalSlabs = new Int32Array(nrNodes);
    this.freeSlabs = new Int32Array(nrNodes);
    this.freeObjects = new Int32Array(nrNodes);
    this.freeLimit = new Int32Array(nrNodes);
    this.colourNext = new Int32Array(nrNodes);
    this.freeTouched = new Uint8Array(nrNodes);
    this.nextReap = new Float64Array(nrNodes);
  }
}

/** The geometry calculate_slab_order() and friends settle on. */
export interface SlabGeometry {
  num: number;
  gfporder: number;
  leftOver: number;
  colour: number;
  objFreelist: boolean;
  offSlab: boolean;
  size: number;
}

// ---- the allocator -----------------------------------------------------------------------------

export class SlabAllocatorSLAB extends SlabAllocatorBase<SlabCacheSLAB> {
  readonly name = 'slab';
  private readonly nrCpus: number;
  private readonly nrNodes: number;
  private readonly cpuToNode: Int32Array;
  /** nr_cpus_node() per node. */
  private readonly cpusOfNode: Int32Array;
  /** slab_max_order. */
  readonly slabMaxOrder: number;
  /** Sentinel list heads: link value -2 - k stands for sentinel k. */
  private sentNext = new Int32Array(64);
  private sentPrev = new Int32Array(64);
  private nrSentinels = 0;
  /**
   * struct slab's s_mem, freelist and active for each slab head pfn, in chunks of 4096 pfns
   * made on first use. Linux keeps them in struct page; MemMap has no such fields.
   */
  private readonly meta: (Float64Array | undefined)[] = [];
  /**
   * One bit per object: set while a caller owns it. Linux has no such map; it is the
   * simulator's guard that turns a double free into a report instead of a corrupted freelist.
   */
  private readonly inuse: (Uint32Array | undefined)[] = [];
  /** Set while create_kmalloc_caches() runs: kmalloc caches get ARCH_KMALLOC_FLAGS. */
  private bootingKmalloc = false;

  constructor(env: SlabEnv, options: SlabOptions = {}) {
    super(env, options, 5);
    this.nrCpus = env.cpuToNode.length;
    this.nrNodes = env.nrNodes;
    this.cpuToNode = Int32Array.from(env.cpuToNode);
    this.cpusOfNode = new Int32Array(this.nrNodes);
    for (let cpu = 0; cpu < this.nrCpus; cpu++) this.cpusOfNode[this.cpuToNode[cpu]!]!++;
    // mm/slab.c slab_max_order_setup() and kmem_cache_init(): "only use bigger page orders on
    // machines with more than 32MB of memory if not overridden on the command line".
    if (options.slabMaxOrder !== undefined) {
      const o = options.slabMaxOrder;
      if (!Number.isInteger(o))
        throw new RangeError(`slabMaxOrder ${String(o)}: expected an integer`);
      this.slabMaxOrder = o < 0 ? 0 : Math.min(o, KMALLOC_MAX_ORDER);
    } else {
      this.slabMaxOrder =
        this.mm.nrPages > (32 << 20) / PAGE_SIZE ? SLAB_MAX_ORDER_HI : SLAB_MAX_ORDER_LO;
    }
    if (options.kmallocCaches ?? true) {
      this.bootingKmalloc = true;
      try {
        this.createKmallocCaches();
      } finally {
        this.bootingKmalloc = false;
      }
    }
  }

  // ---- list_head over struct page lru ----------------------------------------------------------

  private next(x: number): number {
    return x >= 0 ? this.mm.lruNext[x]! : this.sentNext[-2 - x]!;
  }
  private prev(x: number): number {
    return x >= 0 ? this.mm.lruPrev[x]! : this.sentPrev[-2 - x]!;
  }
  private setNext(x: number, v: number): void {
    if (x >= 0) this.mm.lruNext[x] = v;
    else this.sentNext[-2 - x] = v;
  }
  private setPrev(x: number, v: number): void {
    if (x >= 0) this.mm.lruPrev[x] = v;
    else this.sentPrev[-2 - x] = v;
  }
  /** The sentinel of `list` on `node`. */
  private head(c: SlabCacheSLAB, node: number, list: number): number {
    return -2 - (c.listBase + node * LISTS_PER_NODE + list);
  }
  private destroyHead(c: SlabCacheSLAB): number {
    return -2 - (c.listBase + this.nrNodes * LISTS_PER_NODE);
  }
  private listAdd(x: number, h: number): void {
    const n = this.next(h);
    this.setPrev(n, x);
    this.setNext(x, n);
    this.setPrev(x, h);
    this.setNext(h, x);
  }
  private listAddTail(x: number, h: number): void {
    const p = this.prev(h);
    this.setNext(p, x);
    this.setPrev(x, p);
    this.setNext(x, h);
    this.setPrev(h, x);
  }
  private listDel(x: number): void {
    const p = this.prev(x);
    const n = this.next(x);
    this.setNext(p, n);
    this.setPrev(n, p);
    this.setNext(x, x);
    this.setPrev(x, x);
  }
  /** list_first_entry_or_null(): a pfn or -1. */
  private first(h: number): number {
    const n = this.next(h);
    return n === h ? -1 : n;
  }
  private last(h: number): number {
    const p = this.prev(h);
    return p === h ? -1 : p;
  }

  private allocSentinels(count: number): number {
    const base = this.nrSentinels;
    if (base + count > this.sentNext.length) {
      let len = this.sentNext.length;
      while (base + count > len) len *= 2;
      const n = new Int32Array(len);
      n.set(this.sentNext);
      const p = new Int32Array(len);
      p.set(this.sentPrev);
      this.sentNext = n;
      this.sentPrev = p;
    }
    for (let k = base; k < base + count; k++) {
      this.sentNext[k] = -2 - k;
      this.sentPrev[k] = -2 - k;
    }
    this.nrSentinels += count;
    return base;
  }

  // ---- struct slab fields ----------------------------------------------------------------------

  private metaOf(pfn: number): Float64Array {
    let m = this.meta[pfn >>> META_SHIFT];
    if (m === undefined) {
      m = new Float64Array((META_MASK + 1) * META_STRIDE);
      this.meta[pfn >>> META_SHIFT] = m;
      this.inuse[pfn >>> META_SHIFT] = new Uint32Array((META_MASK + 1) * INUSE_WORDS);
    }
    return m;
  }
  private sMem(pfn: number): number {
    return this.meta[pfn >>> META_SHIFT]![(pfn & META_MASK) * META_STRIDE]!;
  }
  private freelist(pfn: number): number {
    return this.meta[pfn >>> META_SHIFT]![(pfn & META_MASK) * META_STRIDE + 1]!;
  }
  private setFreelist(pfn: number, v: number): void {
    this.meta[pfn >>> META_SHIFT]![(pfn & META_MASK) * META_STRIDE + 1] = v;
  }
  private active(pfn: number): number {
    return this.meta[pfn >>> META_SHIFT]![(pfn & META_MASK) * META_STRIDE + 2]!;
  }
  private setActive(pfn: number, v: number): void {
    this.meta[pfn >>> META_SHIFT]![(pfn & META_MASK) * META_STRIDE + 2] = v;
  }
  private isInuse(pfn: number, objnr: number): boolean {
    const w = this.inuse[pfn >>> META_SHIFT]![(pfn & META_MASK) * INUSE_WORDS + (objnr >>> 5)]!;
    return (w & (1 << (objnr & 31))) !== 0;
  }
  private setInuse(pfn: number, objnr: number, on: boolean): void {
    const words = this.inuse[pfn >>> META_SHIFT]!;
    const i = (pfn & META_MASK) * INUSE_WORDS + (objnr >>> 5);
    if (on) words[i] = words[i]! | (1 << (objnr & 31));
    else words[i] = words[i]! & ~(1 << (objnr & 31));
  }

  /** get_free_obj() / set_free_obj(): the freelist array in simulated memory. */
  private getFreeObj(pfn: number, idx: number): number {
    const a = this.freelist(pfn) - PAGE_OFFSET + idx * FREELIST_IDX_SIZE;
    return FREELIST_IDX_SIZE === 1 ? this.mem.read8(a) : this.mem.read16(a);
  }
  private setFreeObj(pfn: number, idx: number, val: number): void {
    const a = this.freelist(pfn) - PAGE_OFFSET + idx * FREELIST_IDX_SIZE;
    if (FREELIST_IDX_SIZE === 1) this.mem.write8(a, val);
    else this.mem.write16(a, val);
  }

  /** The slab head pfn of a direct-map address (virt_to_slab()), or -1 for no slab page. */
  private slabOf(objp: number): number {
    const pfn = Math.floor((objp - PAGE_OFFSET) / PAGE_SIZE);
    if (pfn < 0 || pfn >= this.mm.nrPages) return -1;
    const head = this.mm.compoundHead(pfn);
    return this.mm.pageType[head] === PGTY_slab ? head : -1;
  }

  // ---- cache creation: __kmem_cache_create() ---------------------------------------------------

  /**
   * mm/slab.c cache_estimate(): objects and left-over bytes in a slab of `gfporder` whose
   * management is on-slab (one freelist_idx_t per object at the end) or not.
   */
  static cacheEstimate(gfporder: number, bufferSize: number, onSlab: boolean): [number, number] {
    const slabSize = PAGE_SIZE * 2 ** gfporder;
    const per = onSlab ? bufferSize + FREELIST_IDX_SIZE : bufferSize;
    return [Math.floor(slabSize / per), slabSize % per];
  }

  /**
   * mm/slab.c calculate_slab_order(): the smallest order with acceptable internal
   * fragmentation (left_over * 8 <= slab size), at most slab_max_order unless no object fits.
   * Sets c.num and c.gfporder; returns left_over.
   */
  private calculateSlabOrder(
    c: SlabCacheSLAB,
    size: number,
    flags: number,
    mode: 'objfreelist' | 'offslab' | 'onslab',
  ): number {
    let leftOver = 0;
    for (let gfporder = 0; gfporder <= KMALLOC_MAX_ORDER; gfporder++) {
      const [num, remainder] = SlabAllocatorSLAB.cacheEstimate(gfporder, size, mode === 'onslab');
      if (!num) continue;
      // Can't handle number of objects more than SLAB_OBJ_MAX_NUM.
      if (num > SLAB_OBJ_MAX_NUM) break;
      if (mode === 'offslab') {
        const freelistSize = num * FREELIST_IDX_SIZE;
        let freelistCacheSize: number;
        if (freelistSize > KMALLOC_MAX_CACHE_SIZE) {
          freelistCacheSize =
            PAGE_SIZE * 2 ** Math.max(0, Math.ceil(Math.log2(freelistSize / PAGE_SIZE)));
        } else {
          const fc = this.kmallocCaches[KMALLOC_NORMAL]![this.kmallocIndex(freelistSize)];
          if (!fc) continue;
          freelistCacheSize = fc.size;
          // Needed to avoid a possible looping condition in cache_grow_begin().
          if (fc.offSlab) continue;
        }
        // Check if off slab has enough benefit (cachep->size is still the object size here).
        if (freelistCacheSize > Math.floor(c.size / 2)) continue;
      }
      c.num = num;
      c.gfporder = gfporder;
      leftOver = remainder;
      // A VFS-reclaimable slab mostly allocates with GFP_NOFS: keep the order low.
      if (flags & SLAB_RECLAIM_ACCOUNT) break;
      // Large number of objects is good, but very large slabs are currently bad for the gfp()s.
      if (gfporder >= this.slabMaxOrder) break;
      // Acceptable internal fragmentation?
      if (leftOver * 8 <= PAGE_SIZE * 2 ** gfporder) break;
    }
    return leftOver;
  }

  /** Lay a cache out as __kmem_cache_create() does; false for -E2BIG. */
  private layout(c: SlabCacheSLAB, flags: number): boolean {
    let size = c.size;
    let ralign = BYTES_PER_WORD;
    // Check that size is in terms of words (and on-slab bufctls stay aligned).
    size = alignTo(size, BYTES_PER_WORD);
    if (flags & SLAB_RED_ZONE) {
      ralign = REDZONE_ALIGN;
      size = alignTo(size, REDZONE_ALIGN);
    }
    // 3) caller mandated alignment
    if (ralign < c.align) ralign = c.align;
    // Disable debug if necessary: red zones need no more than word alignment.
    if (ralign > 8) flags &= ~(SLAB_RED_ZONE | SLAB_STORE_USER);
    c.align = ralign;
    c.colourOff = Math.max(this.cacheLineSize, c.align);
    c.objOffset = 0;
    if (flags & SLAB_RED_ZONE) {
      // Red zone words before and after the object.
      c.objOffset += 8;
      size += 16;
    }
    if (flags & SLAB_STORE_USER) size += flags & SLAB_RED_ZONE ? REDZONE_ALIGN : BYTES_PER_WORD;
    size = alignTo(size, c.align);
    // Restrict the objects per slab so that a byte index is enough (SLAB_OBJ_MIN_SIZE).
    if (FREELIST_IDX_SIZE === 1 && size < SLAB_OBJ_MIN_SIZE)
      size = alignTo(SLAB_OBJ_MIN_SIZE, c.align);

    let ok = false;
    // set_objfreelist_slab_cache(): the freelist inside a free object (no ctor, no RCU).
    c.num = 0;
    if (!c.ctor && !(flags & SLAB_TYPESAFE_BY_RCU)) {
      const left = this.calculateSlabOrder(c, size, flags, 'objfreelist');
      if (c.num && c.num * FREELIST_IDX_SIZE <= c.object_size) {
        c.colour = Math.floor(left / c.colourOff);
        c.objFreelist = true;
        ok = true;
      }
    }
    // set_off_slab_cache(): "Size is large, assume best to place the slab management obj
    // off-slab"; back on-slab when the left-over bytes can hold it anyway.
    if (!ok) {
      c.num = 0;
      if (!(flags & SLAB_NOLEAKTRACE)) {
        const left = this.calculateSlabOrder(c, size, flags, 'offslab');
        if (c.num && left < c.num * FREELIST_IDX_SIZE) {
          c.colour = Math.floor(left / c.colourOff);
          c.offSlab = true;
          ok = true;
        }
      }
    }
    // set_on_slab_cache()
    if (!ok) {
      c.num = 0;
      const left = this.calculateSlabOrder(c, size, flags, 'onslab');
      if (!c.num) return false;
      c.colour = Math.floor(left / c.colourOff);
    }
    c.freelistSize = c.num * FREELIST_IDX_SIZE;
    c.flags = flags;
    c.allocflags = __GFP_COMP;
    if (flags & SLAB_CACHE_DMA) c.allocflags |= GFP_DMA;
    if (flags & SLAB_CACHE_DMA32) c.allocflags |= GFP_DMA32;
    if (flags & SLAB_RECLAIM_ACCOUNT) c.allocflags |= __GFP_RECLAIMABLE;
    c.size = size;
    c.debug = (flags & SLAB_DEBUG_MASK) !== 0;
    return true;
  }

  protected createCache(
    id: number,
    name: string,
    size: number,
    flags: number,
    args: CacheArgs,
  ): SlabCacheSLAB | null {
    if (this.bootingKmalloc) {
      // create_kmalloc_caches(ARCH_KMALLOC_FLAGS): SLAB's kmalloc caches are SLAB_HWCACHE_ALIGN
      // (so kmalloc-96 has 128-byte objects), power-of-two sizes naturally aligned
      // (create_boot_cache()). 6.1 had no SLAB_NO_MERGE; kmalloc caches never merge anyway
      // (their usersize is set).
      flags = (flags | SLAB_HWCACHE_ALIGN) & ~SLAB_NO_MERGE;
      const natural = (size & (size - 1)) === 0 ? Math.max(8, size) : 8;
      args.align = calculateAlignment(flags, natural, size, this.cacheLineSize);
    }
    const c = new SlabCacheSLAB(id, name, size, flags, args, this.nrCpus, this.nrNodes);
    if (!this.layout(c, flags)) return null;
    c.listBase = this.allocSentinels(this.nrNodes * LISTS_PER_NODE + 1);
    this.enableCpucache(c);
    return c;
  }

  /** mm/slab.c enable_cpucache(): the tunables by object size ("the numbers are guessed"). */
  private enableCpucache(c: SlabCacheSLAB): void {
    let limit: number;
    if (c.size > 131072) limit = 1;
    else if (c.size > PAGE_SIZE) limit = 8;
    else if (c.size > 1024) limit = 24;
    else if (c.size > 256) limit = 54;
    else limit = 120;
    // A shared array passes objects between CPUs; on a uniprocessor it is only a bigger limit.
    const shared = c.size <= PAGE_SIZE && this.nrCpus > 1 ? 8 : 0;
    // DEBUG: large batchcounts mean long irq-off periods.
    if (c.debug && limit > 32) limit = 32;
    this.doTuneCpucache(c, limit, (limit + 1) >> 1, shared);
  }

  /**
   * mm/slab.c do_tune_cpucache() and setup_kmem_cache_node(..., force_change = true): new
   * per-CPU arrays and shared arrays; objects in the old ones go back to their slabs.
   */
  private doTuneCpucache(
    c: SlabCacheSLAB,
    limit: number,
    batchcount: number,
    shared: number,
  ): void {
    const hadArrays = c.limit > 0;
    const oldLimit = c.limit;
    const oldEntries = c.acEntry;
    const oldAvail = Int32Array.from(c.acAvail);
    c.acEntry = new Float64Array(this.nrCpus * limit);
    c.acAvail.fill(0);
    c.acTouched.fill(0);
    c.batchcount = batchcount;
    c.limit = limit;
    c.shared = shared;
    if (hadArrays) {
      for (let cpu = 0; cpu < this.nrCpus; cpu++) {
        const node = this.cpuToNode[cpu]!;
        this.freeBlock(c, oldEntries, cpu * oldLimit, oldAvail[cpu]!, node);
        this.slabsDestroy(c);
      }
    }
    const now = this.ctx.clock.jiffies();
    const oldShLimit = c.shLimit;
    const oldShared = c.shEntry;
    c.shLimit = shared * batchcount;
    c.shEntry = new Float64Array(this.nrNodes * c.shLimit);
    for (let node = 0; node < this.nrNodes; node++) {
      // init_cache_node() sets free_limit before the old shared array is freed.
      c.freeLimit[node] = (1 + this.cpusOfNode[node]!) * batchcount + c.num;
      if (hadArrays && c.shAvail[node]! > 0) {
        this.freeBlock(c, oldShared, node * oldShLimit, c.shAvail[node]!, node);
        this.slabsDestroy(c);
      } else if (!hadArrays) {
        // init_cache_node(): the first reap of this node's lists is REAPTIMEOUT_NODE away
        // (Linux adds the cache's address modulo REAPTIMEOUT_NODE to spread caches).
        c.nextReap[node] = now + REAPTIMEOUT_NODE;
      }
      c.shAvail[node] = 0;
      c.shTouched[node] = 0;
    }
  }

  /**
   * Writing `name limit batchcount shared` to /proc/slabinfo (mm/slab.c slabinfo_write()):
   * re-tune a cache. Returns 0 (ignored values, as Linux), or -EINVAL for an unknown name or
   * a malformed line.
   */
  slabinfoWrite(line: string): number {
    const m = /^(\S+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)/.exec(String(line).trim());
    if (!m) return -22;
    const c = this.slabCaches.find((x) => x.name === m[1]);
    if (!c) return -22;
    const limit = Number(m[2]);
    const batchcount = Number(m[3]);
    const shared = Number(m[4]);
    if (limit < 1 || batchcount < 1 || batchcount > limit || shared < 0) return 0;
    this.doTuneCpucache(c, limit, batchcount, shared);
    return 0;
  }

  /** __kmem_cache_alias() → find_mergeable() of 6.1, with SLAB's extra alignment test. */
  protected override findMergeable(
    size: number,
    flags: number,
    args: CacheArgs,
  ): SlabCacheSLAB | null {
    if (this.slabNomerge || args.ctor || args.usersize || flags & NEVER_MERGE) return null;
    size = alignTo(size, BYTES_PER_WORD);
    const align = calculateAlignment(flags, args.align, size, this.cacheLineSize);
    size = alignTo(size, align);
    for (let i = this.slabCaches.length - 1; i >= 0; i--) {
      const s = this.slabCaches[i]!;
      if (!this.mergeableInto(s, size, align, flags, NEVER_MERGE, SLAB_MERGE_SAME)) continue;
      if (align && (align > s.align || s.align % align)) continue;
      // Adjust the object sizes so that we clear the complete object on kzalloc.
      s.object_size = Math.max(s.object_size, size);
      return s;
    }
    return null;
  }

  /** The geometry of a cache, for tools and tests. */
  geometry(
    s: KmemCache,
  ): SlabGeometry & { colourOff: number; objOffset: number; freelistSize: number } {
    const c = this.cacheOf(s, 'geometry');
    const slabBytes = PAGE_SIZE * 2 ** c.gfporder;
    const used = c.num * c.size + (c.objFreelist || c.offSlab ? 0 : c.freelistSize);
    return {
      num: c.num,
      gfporder: c.gfporder,
      leftOver: slabBytes - used,
      colour: c.colour,
      colourOff: c.colourOff,
      objFreelist: c.objFreelist,
      offSlab: c.offSlab,
      size: c.size,
      objOffset: c.objOffset,
      freelistSize: c.freelistSize,
    };
  }

  // ---- growing and shrinking: cache_grow_begin(), slab_destroy() -------------------------------

  /** mm/slab.c cache_grow_begin(): a new slab, its objects constructed; -1 on failure. */
  private cacheGrowBegin(c: SlabCacheSLAB, flags: Gfp, nodeid: number): number {
    if (flags & GFP_SLAB_BUG_MASK) flags = this.kmallocFixFlags(flags);
    if (c.ctor && flags & __GFP_ZERO) {
      this.ctx.warnOnce('slab.c:2559', 'mm/slab.c:2559 cache_grow_begin+0x0/0x0');
    }
    const localFlags = flags & (GFP_CONSTRAINT_MASK | GFP_RECLAIM_MASK);
    // kmem_getpages()
    const pfn = this.pages.allocPages(localFlags | c.allocflags, c.gfporder, nodeid);
    if (pfn === NO_PAGE) {
      this.slabOutOfMemory(c, localFlags | c.allocflags, nodeid);
      return -1;
    }
    this.mm.pageType[pfn] = PGTY_slab;
    this.mm.owner[pfn] = c.id;
    const node = this.mm.node[pfn]!;
    // Get colour for the slab, and calculate the next value.
    let colourNext = c.colourNext[node]! + 1;
    if (colourNext >= c.colour) colourNext = 0;
    c.colourNext[node] = colourNext;
    const offset = (colourNext >= c.colour ? 0 : colourNext) * c.colourOff;
    // alloc_slabmgmt()
    const addr = pfnToVirt(pfn);
    const m = this.metaOf(pfn);
    const i = (pfn & META_MASK) * META_STRIDE;
    m[i] = addr + offset;
    m[i + 2] = 0;
    let freelist = 0;
    if (c.objFreelist) freelist = 0;
    else if (c.offSlab) {
      // The slab management obj is off-slab: it comes from the kmalloc caches, which are
      // never off-slab themselves.
      const fc = this.kmallocCaches[KMALLOC_NORMAL]![this.kmallocIndex(c.freelistSize)];
      freelist = fc
        ? this.slabAlloc(fc, localFlags & ~GFP_CONSTRAINT_MASK, node, 0, c.freelistSize)
        : 0;
      if (!freelist) {
        this.kmemFreepages(c, pfn);
        return -1;
      }
    } else {
      // Use the last bytes of the slab for the freelist.
      freelist = addr + PAGE_SIZE * 2 ** c.gfporder - c.freelistSize;
    }
    m[i + 1] = freelist;
    this.inuse[pfn >>> META_SHIFT]!.fill(
      0,
      (pfn & META_MASK) * INUSE_WORDS,
      (pfn & META_MASK) * INUSE_WORDS + INUSE_WORDS,
    );
    this.mm.lruNext[pfn] = pfn;
    this.mm.lruPrev[pfn] = pfn;
    this.cacheInitObjs(c, pfn);
    return pfn;
  }

  /** mm/slab.c cache_init_objs(): constructors run here, once per object per new slab. */
  private cacheInitObjs(c: SlabCacheSLAB, pfn: number): void {
    const sMem = this.sMem(pfn);
    if (c.debug) this.cacheInitObjsDebug(c, sMem);
    if (c.objFreelist) this.setFreelist(pfn, sMem + (c.num - 1) * c.size + c.objOffset);
    for (let i = 0; i < c.num; i++) {
      // The constructor could break poison info: DEBUG caches run it in the debug pass.
      if (!c.debug && c.ctor) c.ctor(sMem + i * c.size);
      this.setFreeObj(pfn, i, i);
    }
  }

  /** mm/slab.c cache_grow_end(): put the slab on its node's lists and count it. */
  private cacheGrowEnd(c: SlabCacheSLAB, pfn: number): void {
    if (pfn < 0) return;
    const node = this.mm.node[pfn]!;
    c.totalSlabs[node]!++;
    const active = this.active(pfn);
    if (!active) {
      this.listAddTail(pfn, this.head(c, node, LIST_FREE));
      c.freeSlabs[node]!++;
    } else this.fixupSlabList(c, node, pfn);
    c.freeObjects[node]! += c.num - active;
  }

  /** mm/slab.c fixup_slab_list(): move a slab to the list its active count asks for. */
  private fixupSlabList(c: SlabCacheSLAB, node: number, pfn: number): void {
    this.listDel(pfn);
    if (this.active(pfn) === c.num) {
      this.listAdd(pfn, this.head(c, node, LIST_FULL));
      if (c.objFreelist) {
        // The object that held the freelist is handed out now: poison it again (DEBUG)
        // — fixup_objfreelist_debug() — and forget the freelist.
        if (c.flags & SLAB_POISON) this.poisonObj(c, this.freelist(pfn) - c.objOffset, POISON_FREE);
        this.setFreelist(pfn, 0);
      }
    } else this.listAdd(pfn, this.head(c, node, LIST_PARTIAL));
  }

  /** mm/slab.c kmem_freepages(): the pages go back to the page allocator. */
  private kmemFreepages(c: SlabCacheSLAB, pfn: number): void {
    this.mm.pageType[pfn] = PGTY_NONE;
    this.mm.owner[pfn] = 0;
    this.pages.freePages(pfn, c.gfporder);
  }

  /** mm/slab.c slab_destroy(): debug checks, free the pages, then an off-slab freelist. */
  private slabDestroy(c: SlabCacheSLAB, pfn: number): void {
    const freelist = this.freelist(pfn);
    if (c.debug) this.slabDestroyDebugcheck(c, pfn);
    this.kmemFreepages(c, pfn);
    if (c.offSlab) {
      const fp = this.slabOf(freelist);
      const fc = fp >= 0 ? this.cacheById[this.mm.owner[fp]!] : undefined;
      if (fc) this.freeObject(fc, freelist, 0);
    }
  }

  /** mm/slab.c slabs_destroy(): destroy the slabs free_block() set aside. Returns pages. */
  private slabsDestroy(c: SlabCacheSLAB): number {
    const h = this.destroyHead(c);
    let pages = 0;
    for (let pfn = this.first(h); pfn >= 0; pfn = this.first(h)) {
      this.listDel(pfn);
      this.slabDestroy(c, pfn);
      pages += 2 ** c.gfporder;
    }
    return pages;
  }

  /** mm/slab.c drain_freelist(): destroy up to `tofree` free slabs of a node, oldest first. */
  private drainFreelist(c: SlabCacheSLAB, node: number, tofree: number): number {
    const h = this.head(c, node, LIST_FREE);
    let nrFreed = 0;
    while (nrFreed < tofree) {
      const pfn = this.last(h);
      if (pfn < 0) break;
      this.listDel(pfn);
      c.freeSlabs[node]!--;
      c.totalSlabs[node]!--;
      c.freeObjects[node]! -= c.num;
      this.slabDestroy(c, pfn);
      nrFreed++;
    }
    return nrFreed;
  }

  /** mm/slab_common.c kmalloc_fix_flags(). */
  private kmallocFixFlags(flags: Gfp): Gfp {
    const invalid = (flags & GFP_SLAB_BUG_MASK) >>> 0;
    const fixed = (flags & ~GFP_SLAB_BUG_MASK) >>> 0;
    this.klog.printk(
      KERN_WARNING,
      `Unexpected gfp: 0x${invalid.toString(16)} (${formatGfp(invalid)}). Fixing up to gfp: 0x${fixed.toString(16)} (${formatGfp(fixed)}). Fix your code!`,
    );
    this.ctx.dumpStack(['kmalloc_fix_flags+0x0/0x0', 'cache_grow_begin+0x0/0x0']);
    return fixed;
  }

  /** mm/slab.c slab_out_of_memory(): DEBUG only in 6.1, so for DEBUG caches here. */
  private slabOutOfMemory(c: SlabCacheSLAB, gfp: Gfp, nodeid: number): void {
    if (!c.debug || gfp & __GFP_NOWARN) return;
    this.klog.printk(
      KERN_WARNING,
      `SLAB: Unable to allocate memory on node ${nodeid}, gfp=0x${gfp.toString(16)}(${formatGfp(gfp)})`,
    );
    this.klog.printk(
      KERN_WARNING,
      `  cache: ${c.name}, object size: ${c.size}, order: ${c.gfporder}`,
    );
    for (let node = 0; node < this.nrNodes; node++) {
      const total = c.totalSlabs[node]!;
      const free = c.freeSlabs[node]!;
      this.klog.printk(
        KERN_WARNING,
        `  node ${node}: slabs: ${total - free}/${total}, objs: ${total * c.num - c.freeObjects[node]!}/${total * c.num}`,
      );
    }
  }

  // ---- allocation ------------------------------------------------------------------------------

  /** slab_get_obj(): the next free object of a slab. */
  private slabGetObj(c: SlabCacheSLAB, pfn: number): number {
    const active = this.active(pfn);
    const objp = this.sMem(pfn) + c.size * this.getFreeObj(pfn, active);
    this.setActive(pfn, active + 1);
    return objp;
  }

  /** slab_put_obj(): an object back into its slab's freelist. */
  private slabPutObj(c: SlabCacheSLAB, pfn: number, objp: number): void {
    const objnr = ((objp - this.sMem(pfn)) / c.size) | 0;
    const active = this.active(pfn) - 1;
    this.setActive(pfn, active);
    // OBJFREELIST: a full slab had no freelist; the returning object hosts it.
    if (!this.freelist(pfn)) this.setFreelist(pfn, objp + c.objOffset);
    this.setFreeObj(pfn, active, objnr);
  }

  /** get_first_slab(): partial slabs first, then free ones (which touches the free list). */
  private getFirstSlab(c: SlabCacheSLAB, node: number): number {
    let pfn = this.first(this.head(c, node, LIST_PARTIAL));
    if (pfn < 0) {
      c.freeTouched[node] = 1;
      pfn = this.first(this.head(c, node, LIST_FREE));
      if (pfn >= 0) c.freeSlabs[node]!--;
    }
    return pfn;
  }

  /** alloc_block(): up to `batchcount` objects of a slab into a CPU's array. */
  private allocBlock(c: SlabCacheSLAB, cpu: number, pfn: number, batchcount: number): number {
    const base = cpu * c.limit;
    // while (slab->active < cachep->num && batchcount--): C's post-decrement, kept.
    while (this.active(pfn) < c.num && batchcount-- !== 0) {
      c.acEntry[base + c.acAvail[cpu]!++] = this.slabGetObj(c, pfn);
    }
    return batchcount;
  }

  /** transfer_objects(): move the newest entries of one array to another. */
  private transferToCpu(c: SlabCacheSLAB, cpu: number, node: number, max: number): number {
    const from = c.shAvail[node]!;
    const nr = Math.min(from, max, c.limit - c.acAvail[cpu]!);
    if (!nr) return 0;
    const dst = cpu * c.limit + c.acAvail[cpu]!;
    const src = node * c.shLimit + from - nr;
    c.acEntry.set(c.shEntry.subarray(src, src + nr), dst);
    c.shAvail[node] = from - nr;
    c.acAvail[cpu]! += nr;
    return nr;
  }

  /** mm/slab.c cache_alloc_refill(): the array of `cpu` is empty. */
  private cacheAllocRefill(c: SlabCacheSLAB, flags: Gfp, cpu: number): number {
    const node = this.cpuToNode[cpu]!;
    let batchcount = c.batchcount;
    // Little recent activity on this cache: only a partial refill, to avoid refill bouncing.
    if (!c.acTouched[cpu] && batchcount > BATCHREFILL_LIMIT) batchcount = BATCHREFILL_LIMIT;
    const hasShared = c.shLimit > 0;
    if (c.freeObjects[node]! || (hasShared && c.shAvail[node]!)) {
      // See if we can refill from the shared array.
      if (hasShared && this.transferToCpu(c, cpu, node, batchcount)) {
        c.shTouched[node] = 1;
      } else {
        while (batchcount > 0) {
          const pfn = this.getFirstSlab(c, node);
          if (pfn < 0) break;
          batchcount = this.allocBlock(c, cpu, pfn, batchcount);
          this.fixupSlabList(c, node, pfn);
        }
        c.freeObjects[node]! -= c.acAvail[cpu]!;
      }
    }
    if (!c.acAvail[cpu]) {
      const pfn = this.cacheGrowBegin(c, gfpExactNode(flags), node);
      if (!c.acAvail[cpu] && pfn >= 0) this.allocBlock(c, cpu, pfn, batchcount);
      this.cacheGrowEnd(c, pfn);
      if (!c.acAvail[cpu]) return 0;
    }
    c.acTouched[cpu] = 1;
    return c.acEntry[cpu * c.limit + --c.acAvail[cpu]!]!;
  }

  /** ____cache_alloc(): the per-CPU array, LIFO. */
  private cacheAllocCpu(c: SlabCacheSLAB, flags: Gfp, cpu: number): number {
    const avail = c.acAvail[cpu]!;
    if (avail) {
      c.acTouched[cpu] = 1;
      c.acAvail[cpu] = avail - 1;
      return c.acEntry[cpu * c.limit + avail - 1]!;
    }
    return this.cacheAllocRefill(c, flags, cpu);
  }

  /** ____cache_alloc_node(): one object straight from a node's slabs. */
  private cacheAllocNode(c: SlabCacheSLAB, flags: Gfp, nodeid: number): number {
    const pfn = this.getFirstSlab(c, nodeid);
    if (pfn >= 0) {
      const obj = this.slabGetObj(c, pfn);
      c.freeObjects[nodeid]!--;
      this.fixupSlabList(c, nodeid, pfn);
      return obj;
    }
    const grown = this.cacheGrowBegin(c, gfpExactNode(flags), nodeid);
    // This slab isn't counted yet so don't update free_objects.
    const obj = grown >= 0 ? this.slabGetObj(c, grown) : 0;
    this.cacheGrowEnd(c, grown);
    return obj || this.fallbackAlloc(c, flags);
  }

  /**
   * fallback_alloc(): objects of any node, then a new slab wherever the page allocator finds
   * pages. The zonelist order is approximated by node order starting at the local node.
   */
  private fallbackAlloc(c: SlabCacheSLAB, flags: Gfp): number {
    if (flags & __GFP_THISNODE) return 0;
    const local = this.cpuToNode[this.ctx.cpu]!;
    for (;;) {
      for (let k = 0; k < this.nrNodes; k++) {
        const nid = (local + k) % this.nrNodes;
        if (c.freeObjects[nid]!) {
          const obj = this.cacheAllocNode(c, gfpExactNode(flags), nid);
          if (obj) return obj;
        }
      }
      const pfn = this.cacheGrowBegin(c, flags, local);
      this.cacheGrowEnd(c, pfn);
      if (pfn < 0) return 0;
      const obj = this.cacheAllocNode(c, gfpExactNode(flags), this.mm.node[pfn]!);
      if (obj) return obj;
    }
  }

  /** __do_cache_alloc() (CONFIG_NUMA). */
  private doCacheAlloc(c: SlabCacheSLAB, flags: Gfp, nodeid: number): number {
    const cpu = this.ctx.cpu;
    const slabNode = this.cpuToNode[cpu]!;
    let objp = 0;
    if (nodeid === NUMA_NO_NODE) {
      // Use the locally cached objects if possible.
      objp = this.cacheAllocCpu(c, flags, cpu);
      nodeid = slabNode;
    } else if (nodeid === slabNode) {
      objp = this.cacheAllocCpu(c, flags, cpu);
    }
    // We may just have run out of memory on the local node.
    if (!objp) objp = this.cacheAllocNode(c, flags, nodeid);
    return objp;
  }

  /** slab_alloc_node(). */
  protected slabAlloc(
    c: SlabCacheSLAB,
    gfp: Gfp,
    nid: number,
    caller: number,
    _origSize: number,
  ): number {
    // slab_pre_alloc_hook() → might_alloc(): might_sleep_if(gfpflags_allow_blocking()).
    if (gfp & __GFP_DIRECT_RECLAIM) this.ctx.mightSleep('include/linux/sched/mm.h', 274);
    let objp = this.doCacheAlloc(c, gfp, nid);
    if (!objp) return 0;
    const pfn = this.mm.compoundHead(Math.floor((objp - PAGE_OFFSET) / PAGE_SIZE));
    this.setInuse(pfn, ((objp - this.sMem(pfn)) / c.size) | 0, true);
    if (c.debug) objp = this.cacheAllocDebugcheckAfter(c, gfp, objp, caller);
    // slab_post_alloc_hook(): init on __GFP_ZERO clears object_size bytes.
    if (gfp & __GFP_ZERO) this.mem.fill(objp - PAGE_OFFSET, c.object_size, 0);
    return objp;
  }

  // ---- freeing ---------------------------------------------------------------------------------

  /**
   * mm/slab.c free_block(): `nr` objects from `entries[start..]` back to their slabs of
   * `node`; free slabs beyond free_limit go to the destroy list (slabs_destroy() frees them).
   */
  private freeBlock(
    c: SlabCacheSLAB,
    entries: Float64Array,
    start: number,
    nr: number,
    node: number,
  ): void {
    c.freeObjects[node]! += nr;
    const free = this.head(c, node, LIST_FREE);
    for (let i = 0; i < nr; i++) {
      const objp = entries[start + i]!;
      const pfn = this.mm.compoundHead(Math.floor((objp - PAGE_OFFSET) / PAGE_SIZE));
      this.listDel(pfn);
      this.slabPutObj(c, pfn, objp);
      if (this.active(pfn) === 0) {
        this.listAdd(pfn, free);
        c.freeSlabs[node]!++;
      } else {
        // Move to the end of the partial list: maximum time for the others to be freed too.
        this.listAddTail(pfn, this.head(c, node, LIST_PARTIAL));
      }
    }
    while (c.freeObjects[node]! > c.freeLimit[node]! && this.last(free) >= 0) {
      c.freeObjects[node]! -= c.num;
      const pfn = this.last(free);
      this.listDel(pfn);
      this.listAdd(pfn, this.destroyHead(c));
      c.freeSlabs[node]!--;
      c.totalSlabs[node]!--;
    }
  }

  /** mm/slab.c cache_flusharray(): the array of `cpu` is full. */
  private cacheFlusharray(c: SlabCacheSLAB, cpu: number): void {
    let batchcount = c.batchcount;
    const node = this.cpuToNode[cpu]!;
    const base = cpu * c.limit;
    let done = false;
    if (c.shLimit > 0) {
      const max = c.shLimit - c.shAvail[node]!;
      if (max) {
        if (batchcount > max) batchcount = max;
        c.shEntry.set(
          c.acEntry.subarray(base, base + batchcount),
          node * c.shLimit + c.shAvail[node]!,
        );
        c.shAvail[node]! += batchcount;
        done = true;
      }
    }
    if (!done) this.freeBlock(c, c.acEntry, base, batchcount, node);
    const avail = c.acAvail[cpu]! - batchcount;
    c.acAvail[cpu] = avail;
    c.acEntry.copyWithin(base, base + batchcount, base + batchcount + avail);
    this.slabsDestroy(c);
  }

  /**
   * ___cache_free() after the checks: the object (its slot address) goes to this CPU's array,
   * or straight to its slab when it belongs to another node (no alien caches here).
   */
  private cacheFreeSlot(c: SlabCacheSLAB, slot: number, pfn: number): void {
    const cpu = this.ctx.cpu;
    const node = this.cpuToNode[cpu]!;
    if (this.nrNodes > 1) {
      const slabNode = this.mm.node[pfn]!;
      if (slabNode !== node) {
        // __cache_free_alien() without an alien cache (use_alien_caches = 0).
        this.scratch[0] = slot;
        this.freeBlock(c, this.scratch, 0, 1, slabNode);
        this.slabsDestroy(c);
        return;
      }
    }
    if (c.acAvail[cpu]! >= c.limit) this.cacheFlusharray(c, cpu);
    c.acEntry[cpu * c.limit + c.acAvail[cpu]!++] = slot;
  }
  private readonly scratch = new Float64Array(1);

  /**
   * __cache_free() of `objp` into `c`: the object's checks, then the array. Misuse is
   * reported and the free dropped, so the simulated lists stay sound.
   */
  private freeObject(c: SlabCacheSLAB, objp: number, caller: number): void {
    const pfn = this.slabOf(objp);
    if (pfn < 0) return;
    const slot = objp - c.objOffset;
    const sMem = this.sMem(pfn);
    const objnr = Math.floor((slot - sMem) / c.size);
    const valid = slot >= sMem && objnr < c.num && slot === sMem + objnr * c.size;
    if (!valid) {
      this.reportBadPointer(c, slot, pfn, objnr);
      return;
    }
    if (!this.isInuse(pfn, objnr)) {
      this.reportDoubleFree(c, slot);
      return;
    }
    this.setInuse(pfn, objnr, false);
    if (c.debug) this.cacheFreeDebugcheck(c, slot, caller);
    this.cacheFreeSlot(c, slot, pfn);
  }

  protected cacheFree(s: SlabCacheSLAB, object: number, caller: number): void {
    // cache_from_obj() (mm/slab.h; CONFIG_SLAB_FREELIST_HARDENED): the cache the object's page
    // says. kmem_cache_free() then frees into *that* cache: cache_from_obj() returns it.
    const pfn = this.objectPfn(object, 'kmem_cache_free');
    const head = this.mm.compoundHead(pfn);
    const real =
      this.mm.pageType[head] === PGTY_slab ? this.cacheById[this.mm.owner[head]!] : undefined;
    if (!real) {
      this.ctx.warnOnce(
        'virt_to_cache',
        'mm/slab.h:630 kmem_cache_free+0x0/0x0',
        'virt_to_cache: Object is not a Slab page!',
        ['kmem_cache_free+0x0/0x0'],
      );
      return;
    }
    if (real !== s) {
      this.ctx.warn(
        'mm/slab.h:665 kmem_cache_free+0x0/0x0',
        `cache_from_obj: Wrong slab cache. ${s.name} but object is from ${real.name}`,
        ['kmem_cache_free+0x0/0x0'],
      );
    }
    this.freeObject(real, object, caller);
  }

  protected kfreeSlabObject(s: SlabCacheSLAB, object: number, caller: number): void {
    // kfree() → __kmem_cache_free(slab->slab_cache, ...): no cache_from_obj() on this path.
    this.freeObject(s, object, caller);
  }

  /**
   * A pointer into a slab that is no object start. 6.1 with DEBUG: cache_free_debugcheck()
   * checks the red zones around the pointer, then BUG_ON(objnr >= cachep->num) or
   * BUG_ON(objp != index_to_obj()). Without DEBUG Linux would queue the pointer and hand it
   * out later; the simulator reports as DEBUG does instead, before touching anything.
   */
  private reportBadPointer(c: SlabCacheSLAB, slot: number, pfn: number, objnr: number): never {
    if (c.flags & SLAB_RED_ZONE) {
      const end = pfnToVirt(pfn) + PAGE_SIZE * 2 ** c.gfporder;
      if (slot >= pfnToVirt(pfn) && slot + c.size <= end) this.verifyRedzoneFree(c, slot);
    }
    const line = slot < this.sMem(pfn) || objnr >= c.num ? 2707 : 2708;
    throw this.ctx.bug(`mm/slab.c:${line}`, [
      'cache_free_debugcheck+0x0/0x0',
      '___cache_free+0x0/0x0',
      'kmem_cache_free+0x0/0x0',
    ]);
  }

  /**
   * A free of an object that is free already. The immediate repeat (the object is on top of
   * this CPU's array) is 6.1's CONFIG_SLAB_FREELIST_HARDENED check in __free_one(): a
   * WARN_ON_ONCE and nothing else. With SLAB_RED_ZONE, verify_redzone_free() sees both words
   * RED_INACTIVE and says "double free detected". Any other double free would corrupt 6.1's
   * lists silently without DEBUG; here it gets DEBUG's slab_put_obj() report and BUG().
   */
  private reportDoubleFree(c: SlabCacheSLAB, slot: number): void {
    const cpu = this.ctx.cpu;
    const avail = c.acAvail[cpu]!;
    const onTop = avail > 0 && c.acEntry[cpu * c.limit + avail - 1] === slot;
    if (c.flags & SLAB_RED_ZONE) {
      this.verifyRedzoneFree(c, slot);
      if (onTop) this.warnTrivialDoubleFree();
      return;
    }
    if (onTop) {
      this.warnTrivialDoubleFree();
      return;
    }
    this.klog.printk(
      KERN_ERR,
      `slab: double free detected in cache '${c.name}', objp ${formatPtr(slot)}`,
    );
    throw this.ctx.bug('mm/slab.c:2527', [
      'free_block+0x0/0x0',
      'cache_flusharray+0x0/0x0',
      '___cache_free+0x0/0x0',
    ]);
  }

  private warnTrivialDoubleFree(): void {
    this.ctx.warnOnce('slab.c:597', 'mm/slab.c:597 ___cache_free+0x0/0x0', undefined, [
      '___cache_free+0x0/0x0',
    ]);
  }

  // ---- DEBUG (CONFIG_DEBUG_SLAB, per cache) ----------------------------------------------------

  /** dbg_redzone1() / dbg_redzone2() / dbg_userword(): physical addresses in the slot. */
  private redzone1(c: SlabCacheSLAB, slot: number): number {
    return slot - PAGE_OFFSET + c.objOffset - 8;
  }
  private redzone2(c: SlabCacheSLAB, slot: number): number {
    return slot - PAGE_OFFSET + c.size - 8 - (c.flags & SLAB_STORE_USER ? REDZONE_ALIGN : 0);
  }
  private userword(c: SlabCacheSLAB, slot: number): number {
    return slot - PAGE_OFFSET + c.size - BYTES_PER_WORD;
  }
  private readRedzone(addr: number): bigint {
    return (BigInt(this.mem.read64Hi(addr) >>> 0) << 32n) | BigInt(this.mem.read64Lo(addr) >>> 0);
  }
  private isRedzone(addr: number, lo: number, hi: number): boolean {
    return this.mem.read64Lo(addr) >>> 0 === lo && this.mem.read64Hi(addr) >>> 0 === hi;
  }

  /** __slab_error(): `slab error in <function>(): cache `<name>': <msg>`, a stack, taint B. */
  private slabError(fn: string, c: SlabCacheSLAB, msg: string): void {
    this.klog.printk(KERN_ERR, `slab error in ${fn}(): cache \`${c.name}': ${msg}`);
    this.ctx.dumpStack([`${fn}+0x0/0x0`]);
    this.ctx.addTaint('B');
  }

  /** poison_obj(): object_size bytes of `val`, the last one POISON_END. */
  private poisonObj(c: SlabCacheSLAB, slot: number, val: number): void {
    const addr = slot - PAGE_OFFSET + c.objOffset;
    this.mem.fill(addr, c.object_size, val);
    this.mem.write8(addr + c.object_size - 1, POISON_END);
  }

  private cacheInitObjsDebug(c: SlabCacheSLAB, sMem: number): void {
    for (let i = 0; i < c.num; i++) {
      const slot = sMem + i * c.size;
      if (c.flags & SLAB_STORE_USER) this.mem.write64Parts(this.userword(c, slot), 0, 0);
      if (c.flags & SLAB_RED_ZONE) {
        this.mem.write64Parts(this.redzone1(c, slot), RED_INACTIVE_LO, RED_INACTIVE_HI);
        this.mem.write64Parts(this.redzone2(c, slot), RED_INACTIVE_LO, RED_INACTIVE_HI);
      }
      // Constructors of poisoned caches run at allocation (the poison would erase them).
      if (c.ctor && !(c.flags & SLAB_POISON)) c.ctor(slot + c.objOffset);
      if (c.flags & SLAB_RED_ZONE) {
        if (!this.isRedzone(this.redzone2(c, slot), RED_INACTIVE_LO, RED_INACTIVE_HI)) {
          this.slabError('cache_init_objs_debug', c, 'constructor overwrote the end of an object');
        }
        if (!this.isRedzone(this.redzone1(c, slot), RED_INACTIVE_LO, RED_INACTIVE_HI)) {
          this.slabError(
            'cache_init_objs_debug',
            c,
            'constructor overwrote the start of an object',
          );
        }
      }
      if (c.flags & SLAB_POISON) this.poisonObj(c, slot, POISON_FREE);
    }
  }

  /** mm/slab.c cache_alloc_debugcheck_after(): returns the object address (slot + obj_offset). */
  private cacheAllocDebugcheckAfter(
    c: SlabCacheSLAB,
    flags: Gfp,
    slot: number,
    caller: number,
  ): number {
    if (c.ctor && flags & __GFP_ZERO) {
      this.ctx.warnOnce('slab.c:2966', 'mm/slab.c:2966 cache_alloc_debugcheck_after+0x0/0x0');
    }
    if (c.flags & SLAB_POISON) {
      this.checkPoisonObj(c, slot);
      this.poisonObj(c, slot, POISON_INUSE);
    }
    if (c.flags & SLAB_STORE_USER) this.mem.write64Number(this.userword(c, slot), caller);
    if (c.flags & SLAB_RED_ZONE) {
      const rz1 = this.redzone1(c, slot);
      const rz2 = this.redzone2(c, slot);
      if (
        !this.isRedzone(rz1, RED_INACTIVE_LO, RED_INACTIVE_HI) ||
        !this.isRedzone(rz2, RED_INACTIVE_LO, RED_INACTIVE_HI)
      ) {
        this.slabError(
          'cache_alloc_debugcheck_after',
          c,
          'double free, or memory outside object was overwritten',
        );
        this.klog.printk(
          KERN_ERR,
          `${formatPtr(slot)}: redzone 1:0x${this.readRedzone(rz1).toString(16)}, redzone 2:0x${this.readRedzone(rz2).toString(16)}`,
        );
      }
      this.mem.write64Parts(rz1, RED_ACTIVE_LO, RED_ACTIVE_HI);
      this.mem.write64Parts(rz2, RED_ACTIVE_LO, RED_ACTIVE_HI);
    }
    const objp = slot + c.objOffset;
    if (c.ctor && c.flags & SLAB_POISON) c.ctor(objp);
    return objp;
  }

  /** mm/slab.c verify_redzone_free(). */
  private verifyRedzoneFree(c: SlabCacheSLAB, slot: number): void {
    const rz1 = this.redzone1(c, slot);
    const rz2 = this.redzone2(c, slot);
    if (
      this.isRedzone(rz1, RED_ACTIVE_LO, RED_ACTIVE_HI) &&
      this.isRedzone(rz2, RED_ACTIVE_LO, RED_ACTIVE_HI)
    )
      return;
    if (
      this.isRedzone(rz1, RED_INACTIVE_LO, RED_INACTIVE_HI) &&
      this.isRedzone(rz2, RED_INACTIVE_LO, RED_INACTIVE_HI)
    ) {
      this.slabError('verify_redzone_free', c, 'double free detected');
    } else {
      this.slabError('verify_redzone_free', c, 'memory outside object was overwritten');
    }
    this.klog.printk(
      KERN_ERR,
      `${formatPtr(slot)}: redzone 1:0x${this.readRedzone(rz1).toString(16)}, redzone 2:0x${this.readRedzone(rz2).toString(16)}`,
    );
  }

  /** mm/slab.c cache_free_debugcheck() for a valid, allocated object. */
  private cacheFreeDebugcheck(c: SlabCacheSLAB, slot: number, caller: number): void {
    if (c.flags & SLAB_RED_ZONE) {
      this.verifyRedzoneFree(c, slot);
      this.mem.write64Parts(this.redzone1(c, slot), RED_INACTIVE_LO, RED_INACTIVE_HI);
      this.mem.write64Parts(this.redzone2(c, slot), RED_INACTIVE_LO, RED_INACTIVE_HI);
    }
    if (c.flags & SLAB_STORE_USER) this.mem.write64Number(this.userword(c, slot), caller);
    if (c.flags & SLAB_POISON) this.poisonObj(c, slot, POISON_FREE);
  }

  /** mm/slab.c dump_line(): `%03x: ` and a print_hex_dump() row, plus the bad-RAM hint. */
  private dumpLine(data: Uint8Array, offset: number, limit: number): void {
    let error = 0;
    let badCount = 0;
    for (let i = 0; i < limit; i++) {
      if (data[offset + i] !== POISON_FREE) {
        error = data[offset + i]!;
        badCount++;
      }
    }
    this.klog.printk(
      KERN_ERR,
      `${offset.toString(16).padStart(3, '0')}: ${hexDumpRow(data.subarray(offset, offset + limit))}`,
    );
    if (badCount === 1) {
      error ^= POISON_FREE;
      if (!(error & (error - 1))) {
        this.klog.printk(KERN_ERR, 'Single bit error detected. Probably bad RAM.');
        this.klog.printk(KERN_ERR, 'Run memtest86+ or a similar memory test tool.');
      }
    }
  }

  /** mm/slab.c print_objinfo(). */
  private printObjinfo(c: SlabCacheSLAB, slot: number, lines: number): void {
    if (c.flags & SLAB_RED_ZONE) {
      this.klog.printk(
        KERN_ERR,
        `Redzone: 0x${this.readRedzone(this.redzone1(c, slot)).toString(16)}/0x${this.readRedzone(this.redzone2(c, slot)).toString(16)}`,
      );
    }
    if (c.flags & SLAB_STORE_USER) {
      const user = this.mem.read64(this.userword(c, slot));
      const sym =
        user < 2n ** 53n ? this.kallsyms.formatSymbol(Number(user)) : `0x${user.toString(16)}`;
      this.klog.printk(KERN_ERR, `Last user: (${sym})`);
    }
    const data = this.mem.readBytes(slot - PAGE_OFFSET + c.objOffset, c.object_size);
    for (let i = 0; i < c.object_size && lines; i += 16, lines--) {
      this.dumpLine(data, i, Math.min(16, c.object_size - i));
    }
  }

  /** mm/slab.c check_poison_obj(): a free object must still be all POISON_FREE … POISON_END. */
  private checkPoisonObj(c: SlabCacheSLAB, slot: number): void {
    const size = c.object_size;
    const realobj = slot + c.objOffset;
    const data = this.mem.readBytes(realobj - PAGE_OFFSET, size);
    let lines = 0;
    for (let i = 0; i < size; i++) {
      const exp = i === size - 1 ? POISON_END : POISON_FREE;
      if (data[i] !== exp) {
        if (lines === 0) {
          this.klog.printk(
            KERN_ERR,
            `Slab corruption (${this.ctx.printTainted()}): ${c.name} start=${formatPtr(realobj)}, len=${size}`,
          );
          this.printObjinfo(c, slot, 0);
        }
        i = Math.floor(i / 16) * 16;
        this.dumpLine(data, i, Math.min(16, size - i));
        // As in 6.1, the loop's own i++ then skips the first byte of the next row.
        i += 16;
        lines++;
        if (lines > 5) break;
      }
    }
    if (lines === 0) return;
    // Print some data about the neighbouring objects, if they exist.
    const pfn = this.slabOf(slot);
    const sMem = this.sMem(pfn);
    const objnr = Math.floor((slot - sMem) / c.size);
    if (objnr) {
      const prev = sMem + (objnr - 1) * c.size;
      this.klog.printk(KERN_ERR, `Prev obj: start=${formatPtr(prev + c.objOffset)}, len=${size}`);
      this.printObjinfo(c, prev, 2);
    }
    if (objnr + 1 < c.num) {
      const next = sMem + (objnr + 1) * c.size;
      this.klog.printk(KERN_ERR, `Next obj: start=${formatPtr(next + c.objOffset)}, len=${size}`);
      this.printObjinfo(c, next, 2);
    }
  }

  /** mm/slab.c slab_destroy_debugcheck(). */
  private slabDestroyDebugcheck(c: SlabCacheSLAB, pfn: number): void {
    const freelist = this.freelist(pfn);
    if (c.objFreelist && c.flags & SLAB_POISON && freelist)
      this.poisonObj(c, freelist - c.objOffset, POISON_FREE);
    const sMem = this.sMem(pfn);
    for (let i = 0; i < c.num; i++) {
      const slot = sMem + i * c.size;
      if (c.flags & SLAB_POISON) this.checkPoisonObj(c, slot);
      if (c.flags & SLAB_RED_ZONE) {
        if (!this.isRedzone(this.redzone1(c, slot), RED_INACTIVE_LO, RED_INACTIVE_HI)) {
          this.slabError('slab_destroy_debugcheck', c, 'start of a freed object was overwritten');
        }
        if (!this.isRedzone(this.redzone2(c, slot), RED_INACTIVE_LO, RED_INACTIVE_HI)) {
          this.slabError('slab_destroy_debugcheck', c, 'end of a freed object was overwritten');
        }
      }
    }
  }

  // ---- draining, shrinking, reaping ------------------------------------------------------------

  /** drain_array_locked(): `free_all` or about a fifth of the limit, oldest entries first. */
  private drainArrayLocked(
    c: SlabCacheSLAB,
    entries: Float64Array,
    base: number,
    avail: number,
    limit: number,
    node: number,
    freeAll: boolean,
  ): number {
    if (!avail) return 0;
    let tofree = freeAll ? avail : Math.floor((limit + 4) / 5);
    if (tofree > avail) tofree = (avail + 1) >> 1;
    this.freeBlock(c, entries, base, tofree, node);
    entries.copyWithin(base, base + tofree, base + avail);
    return avail - tofree;
  }

  /**
   * drain_cpu_caches(): every CPU's array and every shared array back to the slabs (free
   * slabs beyond free_limit are destroyed on the way). Returns the pages freed.
   */
  drainCpuCaches(s: KmemCache): number {
    const c = this.cacheOf(s, 'drainCpuCaches');
    let pages = 0;
    for (let cpu = 0; cpu < this.nrCpus; cpu++) {
      // do_drain() on each CPU.
      this.freeBlock(c, c.acEntry, cpu * c.limit, c.acAvail[cpu]!, this.cpuToNode[cpu]!);
      c.acAvail[cpu] = 0;
      pages += this.slabsDestroy(c);
    }
    for (let node = 0; node < this.nrNodes; node++) {
      if (c.shLimit) {
        c.shAvail[node] = this.drainArrayLocked(
          c,
          c.shEntry,
          node * c.shLimit,
          c.shAvail[node]!,
          c.shLimit,
          node,
          true,
        );
        pages += this.slabsDestroy(c);
      }
    }
    return pages;
  }

  /** __kmem_cache_shrink(): drain the arrays, then destroy every free slab. */
  protected shrinkCache(c: SlabCacheSLAB): number {
    let pages = this.drainCpuCaches(c);
    for (let node = 0; node < this.nrNodes; node++) {
      pages += this.drainFreelist(c, node, 0x7fffffff) * 2 ** c.gfporder;
    }
    return pages;
  }

  /** The shrinker: kmem_cache_shrink() of every cache but those marked SLAB_NO_REAP. */
  override shrinkAll(): number {
    let pages = 0;
    for (const c of this.slabCaches) if (!(c.flags & SLAB_NO_REAP)) pages += this.shrinkCache(c);
    return pages;
  }

  /** __kmem_cache_shutdown() = __kmem_cache_shrink(): empty when no slab is full or partial. */
  protected shutdownCache(c: SlabCacheSLAB, _caller: number): boolean {
    this.shrinkCache(c);
    for (let node = 0; node < this.nrNodes; node++) {
      if (
        this.first(this.head(c, node, LIST_FULL)) >= 0 ||
        this.first(this.head(c, node, LIST_PARTIAL)) >= 0
      )
        return false;
    }
    return true;
  }

  /** drain_array(): a recently used array is only marked untouched; else drain a fifth. */
  private drainArray(c: SlabCacheSLAB, shared: boolean, idx: number, node: number): number {
    const avail = shared ? c.shAvail[idx]! : c.acAvail[idx]!;
    if (!avail) return 0;
    const touched = shared ? c.shTouched : c.acTouched;
    if (touched[idx]) {
      touched[idx] = 0;
      return 0;
    }
    if (shared)
      c.shAvail[idx] = this.drainArrayLocked(
        c,
        c.shEntry,
        idx * c.shLimit,
        avail,
        c.shLimit,
        node,
        false,
      );
    else
      c.acAvail[idx] = this.drainArrayLocked(
        c,
        c.acEntry,
        idx * c.limit,
        avail,
        c.limit,
        node,
        false,
      );
    return this.slabsDestroy(c);
  }

  /**
   * One run of cache_reap() on `cpu` (default: the current CPU) at the current jiffies:
   * for each cache on slab_caches except SLAB_NO_REAP ones, drain part of the CPU's array;
   * when the node's next_reap is due, also the shared array and, unless the free list was
   * touched since the last run, (free_limit + 5 * num - 1) / (5 * num) free slabs.
   * In Linux it reschedules itself every REAPTIMEOUT_AC; here the caller decides when.
   * Returns the pages given back to the page allocator.
   */
  cacheReap(cpu: number = this.ctx.cpu): number {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.nrCpus) {
      throw new RangeError(`cacheReap: CPU ${String(cpu)} does not exist (0..${this.nrCpus - 1})`);
    }
    const node = this.cpuToNode[cpu]!;
    const now = this.ctx.clock.jiffies();
    let pages = 0;
    for (const c of this.slabCaches) {
      // Legacy SLAB_NO_REAP: "never reap from the cache".
      if (c.flags & SLAB_NO_REAP) continue;
      pages += this.drainArray(c, false, cpu, node);
      if (c.nextReap[node]! > now) continue;
      c.nextReap[node] = now + REAPTIMEOUT_NODE;
      if (c.shLimit) pages += this.drainArray(c, true, node, node);
      if (c.freeTouched[node]) c.freeTouched[node] = 0;
      else {
        const tofree = Math.floor((c.freeLimit[node]! + 5 * c.num - 1) / (5 * c.num));
        pages += this.drainFreelist(c, node, tofree) * 2 ** c.gfporder;
      }
    }
    return pages;
  }

  // ---- reporting -------------------------------------------------------------------------------

  protected slabKsize(s: SlabCacheSLAB, _object: number): number {
    // mm/slab.h slab_ksize() without SLUB: s->object_size.
    return s.object_size;
  }

  /** get_slabinfo(): objects in arrays count as active (num_objs - free objects in slabs). */
  cacheInfo(s: KmemCache): SlabInfo {
    const c = this.cacheOf(s, 'cacheInfo');
    let totalSlabs = 0;
    let freeSlabs = 0;
    let freeObjs = 0;
    let sharedAvail = 0;
    for (let node = 0; node < this.nrNodes; node++) {
      totalSlabs += c.totalSlabs[node]!;
      freeSlabs += c.freeSlabs[node]!;
      freeObjs += c.freeObjects[node]!;
      if (c.shLimit) sharedAvail += c.shAvail[node]!;
    }
    const numObjs = totalSlabs * c.num;
    return {
      name: c.name,
      active_objs: numObjs - freeObjs,
      num_objs: numObjs,
      objsize: c.size,
      objects_per_slab: c.num,
      cache_order: c.gfporder,
      active_slabs: totalSlabs - freeSlabs,
      num_slabs: totalSlabs,
      limit: c.limit,
      batchcount: c.batchcount,
      shared: c.shared,
      shared_avail: sharedAvail,
    };
  }

  /** A CPU's array cache (avail, limit, batchcount, touched and its entries, oldest first). */
  arrayCache(
    s: KmemCache,
    cpu: number = this.ctx.cpu,
  ): { avail: number; limit: number; batchcount: number; touched: number; entries: number[] } {
    const c = this.cacheOf(s, 'arrayCache');
    const avail = c.acAvail[cpu]!;
    const entries = Array.from(
      c.acEntry.subarray(cpu * c.limit, cpu * c.limit + avail),
      (x) => x + c.objOffset,
    );
    return { avail, limit: c.limit, batchcount: c.batchcount, touched: c.acTouched[cpu]!, entries };
  }

  /** A node's shared array and list counters (struct kmem_cache_node). */
  nodeInfo(
    s: KmemCache,
    node = 0,
  ): {
    sharedAvail: number;
    sharedLimit: number;
    totalSlabs: number;
    freeSlabs: number;
    freeObjects: number;
    freeLimit: number;
    colourNext: number;
    freeTouched: number;
    nextReap: number;
    full: number[];
    partial: number[];
    free: number[];
  } {
    const c = this.cacheOf(s, 'nodeInfo');
    const walk = (list: number): number[] => {
      const out: number[] = [];
      const h = this.head(c, node, list);
      for (let p = this.next(h); p !== h; p = this.next(p)) out.push(p);
      return out;
    };
    return {
      sharedAvail: c.shAvail[node]!,
      sharedLimit: c.shLimit,
      totalSlabs: c.totalSlabs[node]!,
      freeSlabs: c.freeSlabs[node]!,
      freeObjects: c.freeObjects[node]!,
      freeLimit: c.freeLimit[node]!,
      colourNext: c.colourNext[node]!,
      freeTouched: c.freeTouched[node]!,
      nextReap: c.nextReap[node]!,
      full: walk(LIST_FULL),
      partial: walk(LIST_PARTIAL),
      free: walk(LIST_FREE),
    };
  }

  /** A slab's s_mem, active count and freelist address (0 = none). */
  slabInfo(pfn: number): { sMem: number; active: number; freelist: number } | null {
    if (this.mm.pageType[pfn] !== PGTY_slab || this.meta[pfn >>> META_SHIFT] === undefined)
      return null;
    return { sMem: this.sMem(pfn), active: this.active(pfn), freelist: this.freelist(pfn) };
  }

  verify(): string[] {
    const errs: string[] = [];
    for (let id = 1; id < this.cacheById.length; id++) {
      const c = this.cacheById[id];
      if (!c || c.dead) continue;
      this.verifyCache(c, errs);
    }
    return errs;
  }

  private verifyCache(c: SlabCacheSLAB, errs: string[]): void {
    const where = (pfn: number) => `${c.name}: slab pfn ${pfn}`;
    const slabs = new Map<number, Set<number>>(); // pfn → free indices in the slab
    for (let node = 0; node < this.nrNodes; node++) {
      let total = 0;
      let free = 0;
      let freeObjs = 0;
      for (const list of [LIST_FULL, LIST_PARTIAL, LIST_FREE]) {
        const h = this.head(c, node, list);
        let guard = 0;
        for (let pfn = this.next(h); pfn !== h; pfn = this.next(pfn)) {
          if (pfn < 0 || ++guard > this.mm.nrPages) {
            errs.push(`${c.name}: node ${node} list ${list} is broken`);
            break;
          }
          if (this.prev(this.next(pfn)) !== pfn) errs.push(`${where(pfn)}: lru links disagree`);
          if (slabs.has(pfn)) errs.push(`${where(pfn)}: on two lists`);
          if (this.mm.pageType[pfn] !== PGTY_slab)
            errs.push(`${where(pfn)}: page is not PGTY_slab`);
          if (this.mm.owner[pfn] !== c.id)
            errs.push(`${where(pfn)}: owner ${this.mm.owner[pfn]} is not cache ${c.id}`);
          if (this.mm.node[pfn] !== node)
            errs.push(
              `${where(pfn)}: on node ${node}'s list but page is on node ${this.mm.node[pfn]}`,
            );
          const active = this.active(pfn);
          total++;
          freeObjs += c.num - active;
          if (list === LIST_FULL && active !== c.num)
            errs.push(`${where(pfn)}: on slabs_full with active ${active}`);
          if (list === LIST_PARTIAL && (active === 0 || active === c.num))
            errs.push(`${where(pfn)}: on slabs_partial with active ${active}`);
          if (list === LIST_FREE) {
            free++;
            if (active !== 0) errs.push(`${where(pfn)}: on slabs_free with active ${active}`);
          }
          const freeIdx = new Set<number>();
          if (active < c.num) {
            if (!this.freelist(pfn)) errs.push(`${where(pfn)}: free objects but no freelist`);
            else {
              for (let i = active; i < c.num; i++) {
                const idx = this.getFreeObj(pfn, i);
                if (idx >= c.num)
                  errs.push(`${where(pfn)}: freelist[${i}] = ${idx} >= num ${c.num}`);
                else if (freeIdx.has(idx))
                  errs.push(`${where(pfn)}: object ${idx} twice on the freelist`);
                freeIdx.add(idx);
                if (this.isInuse(pfn, idx))
                  errs.push(`${where(pfn)}: object ${idx} free in the slab and in use`);
              }
            }
          } else if (c.objFreelist && this.freelist(pfn))
            errs.push(`${where(pfn)}: full OBJFREELIST slab keeps a freelist`);
          slabs.set(pfn, freeIdx);
        }
      }
      if (total !== c.totalSlabs[node])
        errs.push(
          `${c.name}: node ${node} total_slabs ${c.totalSlabs[node]} but ${total} slabs on lists`,
        );
      if (free !== c.freeSlabs[node])
        errs.push(
          `${c.name}: node ${node} free_slabs ${c.freeSlabs[node]} but ${free} on slabs_free`,
        );
      if (freeObjs !== c.freeObjects[node])
        errs.push(
          `${c.name}: node ${node} free_objects ${c.freeObjects[node]} but ${freeObjs} free in slabs`,
        );
    }
    const seen = new Set<number>();
    const checkEntry = (what: string, objp: number, node: number) => {
      const pfn = this.slabOf(objp);
      const freeIdx = slabs.get(pfn);
      if (pfn < 0 || freeIdx === undefined) {
        errs.push(
          `${c.name}: ${what} holds ${formatPtr(objp)}, not an object of a slab of this cache`,
        );
        return;
      }
      const rel = objp - this.sMem(pfn);
      const idx = Math.floor(rel / c.size);
      if (rel < 0 || idx >= c.num || rel !== idx * c.size)
        errs.push(`${c.name}: ${what} holds ${formatPtr(objp)}, not an object boundary`);
      if (freeIdx.has(idx))
        errs.push(`${c.name}: ${what} holds object ${formatPtr(objp)} that is free in its slab`);
      if (this.isInuse(pfn, idx))
        errs.push(`${c.name}: ${what} holds object ${formatPtr(objp)} that is in use`);
      if (seen.has(objp)) errs.push(`${c.name}: object ${formatPtr(objp)} twice in the arrays`);
      if (this.mm.node[pfn] !== node)
        errs.push(
          `${c.name}: ${what} holds object ${formatPtr(objp)} of node ${this.mm.node[pfn]}`,
        );
      seen.add(objp);
    };
    for (let cpu = 0; cpu < this.nrCpus; cpu++) {
      const avail = c.acAvail[cpu]!;
      if (avail < 0 || avail > c.limit)
        errs.push(`${c.name}: cpu ${cpu} avail ${avail} outside 0..${c.limit}`);
      for (let i = 0; i < avail; i++)
        checkEntry(`cpu ${cpu} array`, c.acEntry[cpu * c.limit + i]!, this.cpuToNode[cpu]!);
    }
    for (let node = 0; node < this.nrNodes; node++) {
      const avail = c.shAvail[node]!;
      if (avail < 0 || avail > c.shLimit)
        errs.push(`${c.name}: node ${node} shared avail ${avail} outside 0..${c.shLimit}`);
      for (let i = 0; i < avail; i++)
        checkEntry(`node ${node} shared array`, c.shEntry[node * c.shLimit + i]!, node);
    }
    // Every object is exactly one of: in use, in an array, free in its slab.
    for (const [pfn, freeIdx] of slabs) {
      const active = this.active(pfn);
      let inArrays = 0;
      let inUse = 0;
      const sMem = this.sMem(pfn);
      for (let i = 0; i < c.num; i++) {
        if (seen.has(sMem + i * c.size)) inArrays++;
        if (this.isInuse(pfn, i)) inUse++;
      }
      if (inArrays + inUse !== active) {
        errs.push(`${where(pfn)}: active ${active} but ${inUse} in use and ${inArrays} in arrays`);
      }
      void freeIdx;
    }
  }
}

/** gfp_exact_node() (CONFIG_NUMA): this node only, no reclaim, no warning. */
function gfpExactNode(flags: Gfp): Gfp {
  return ((flags | __GFP_THISNODE | __GFP_NOWARN) & ~(__GFP_RECLAIM | __GFP_NOFAIL)) >>> 0;
}

/** ALIGN(x, a). */
function alignTo(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/**
 * lib/hexdump.c hex_dump_to_buffer(rowsize 16, groupsize 1, ascii): the bytes in hex
 * separated by spaces, padded to column 49, then the printable ASCII.
 */
export function hexDumpRow(bytes: Uint8Array): string {
  let hex = '';
  let ascii = '';
  for (let j = 0; j < bytes.length; j++) {
    const b = bytes[j]!;
    hex += (j ? ' ' : '') + b.toString(16).padStart(2, '0');
    ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
  }
  return hex.padEnd(49, ' ') + ascii;
}

/** A SLAB allocator on `env` (the factory kapi's boot() takes). */
export const createSlab = (env: SlabEnv, options?: SlabOptions): SlabAllocatorSLAB =>
  new SlabAllocatorSLAB(env, options);
