/**
 * SLUB — the default Linux slab allocator, as mm/slub.c (6.12/6.18) runs it.
 *
 * The design, as mm/slub.c's header describes it:
 *
 * - A slab is one compound page (order from calculate_order()). Its free objects form a
 *   singly linked list whose links — the free pointers — live inside the free objects
 *   themselves, at s->offset: in the middle of the object, or after it when a constructor,
 *   RCU or poisoning needs the object's bytes. With CONFIG_SLAB_FREELIST_HARDENED (on in
 *   the reference config) each stored pointer is `ptr ^ s->random ^ swab(&ptr)`. These are
 *   real bytes in simulated memory: overwrite them and the allocator sees it.
 * - Each CPU has an active slab (kmem_cache_cpu.slab) whose free objects it owns as
 *   c->freelist: the fast path pops and pushes there without touching the slab. A slab
 *   taken as a CPU slab is "frozen" and counts all its objects in use; objects freed into
 *   it by another CPU go onto the slab's own freelist and are picked up when c->freelist
 *   runs dry.
 * - Each CPU also keeps a short list of partial slabs (CONFIG_SLUB_CPU_PARTIAL), fed by
 *   frees into full slabs and by get_partial_node() taking several slabs at once.
 * - Each node has a list of partial slabs (kmem_cache_node.partial). Full slabs are on no
 *   list unless debugging; empty slabs go back to the page allocator once the node already
 *   keeps min_partial partial slabs.
 * - A cache with debug flags (SLAB_CONSISTENCY_CHECKS, RED_ZONE, POISON, STORE_USER, TRACE)
 *   never uses CPU slabs: every allocation and free goes to the node lists under the list
 *   lock, one object at a time, through alloc_debug_processing()/free_debug_processing(),
 *   which write and check the poison and red-zone bytes and report with SLUB's words.
 *
 * Simulator state: struct slab's fields (freelist, inuse, objects, frozen) are typed arrays
 * indexed by the slab's head pfn, and slab lists reuse MemMap.lruNext/lruPrev (slab_list
 * overlays page->lru). Per-CPU and per-node fields are typed arrays per cache. Hot paths
 * allocate nothing.
 */
import {
  __CMPXCHG_DOUBLE,
  __GFP_ACCOUNT,
  __GFP_BITS_MASK,
  __GFP_COMP,
  __GFP_DIRECT_RECLAIM,
  __GFP_DMA,
  __GFP_KSWAPD_RECLAIM,
  __GFP_NOFAIL,
  __GFP_NOMEMALLOC,
  __GFP_NORETRY,
  __GFP_NOWARN,
  __GFP_RECLAIMABLE,
  __GFP_THISNODE,
  __GFP_ZERO,
  __OBJECT_POISON,
  type CallSite,
  DEBUG_DEFAULT_FLAGS,
  formatGfp,
  formatPtr,
  GFP_CONSTRAINT_MASK,
  GFP_DMA,
  GFP_DMA32,
  GFP_RECLAIM_MASK,
  GFP_SLAB_BUG_MASK,
  type Gfp,
  getOrder,
  KERN_ERR,
  KERN_INFO,
  KERN_WARNING,
  type KmemCache,
  MAX_PAGE_ORDER,
  NO_PAGE,
  NUMA_NO_NODE,
  PAGE_ALLOC_COSTLY_ORDER,
  PAGE_OFFSET,
  PAGE_SIZE,
  PGTY_NONE,
  PGTY_slab,
  Prng,
  pfnToVirt,
  SLAB_CACHE_DMA,
  SLAB_CACHE_DMA32,
  SLAB_CONSISTENCY_CHECKS,
  SLAB_DEBUG_FLAGS,
  SLAB_KMALLOC,
  SLAB_MERGE_SAME,
  SLAB_NEVER_MERGE,
  SLAB_NO_USER_FLAGS,
  SLAB_NOLEAKTRACE,
  SLAB_POISON,
  SLAB_RECLAIM_ACCOUNT,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
  SLAB_TRACE,
  SLAB_TYPESAFE_BY_RCU,
  type SlabEnv,
  type SlabInfo,
  ZERO_SIZE_PTR,
} from '@mmsim/core';
import type { SlabOptions } from './api.js';
import {
  alignUp,
  type CacheArgs,
  calculateAlignment,
  fls,
  hexDumpLines,
  KMALLOC_MAX_CACHE_SIZE,
  POISON_END,
  POISON_FREE,
  POISON_INUSE,
  SlabAllocatorBase,
  SlabCacheBase,
  WORD,
} from './common.js';

// include/linux/poison.h
export const SLUB_RED_INACTIVE = 0xbb;
export const SLUB_RED_ACTIVE = 0xcc;

/** mm/slub.c: MAX_OBJS_PER_PAGE, "since slab.objects is u15". */
export const MAX_OBJS_PER_PAGE = 32767;
/** mm/slub.c: MIN_PARTIAL / MAX_PARTIAL, the bounds of s->min_partial. */
export const MIN_PARTIAL = 5;
export const MAX_PARTIAL = 10;
/** sizeof(struct track) with CONFIG_STACKDEPOT (addr, handle, cpu, pid, when). */
export const TRACK_SIZE = 32;
/** mm/slub.c: SLAB_NO_CMPXCHG — caches with these never use cmpxchg_double. */
const SLAB_NO_CMPXCHG = SLAB_CONSISTENCY_CHECKS | SLAB_STORE_USER | SLAB_TRACE;
/** mm/slub.c new_slab(): what it keeps of the caller's gfp. */
const GFP_SLAB_KEEP = GFP_RECLAIM_MASK | GFP_CONSTRAINT_MASK;

/**
 * The constants of the hot paths, as an enum: esbuild (tsup's build, tsx) writes enum members
 * in as literals, whereas a module-level `const` stays a variable that optimised code loads
 * and checks on every use (the bundle makes it a `var`), and an imported one a module cell
 * (measured: ~7% of the mixed kmalloc/kfree pattern, 3–13% of the 64-byte pairs). The values
 * are @mmsim/core's, checked below when the module loads.
 */
enum K {
  TWO_32 = 4294967296,
  /** x86-64's direct map: 0xffff888000000000 without the sign extension. */
  PAGE_OFFSET = 0x8880_0000_0000,
  PAGE_SIZE = 4096,
  PGTY_slab = 0xf5,
  ZERO_SIZE_PTR = 16,
  NUMA_NO_NODE = -1,
  __GFP_DIRECT_RECLAIM = 0x400,
  /** The gfp bits the in-line fast paths handle themselves (everything but __GFP_ZERO). */
  GFP_FAST_OK = 0x1fffeff,
  KMALLOC_MAX_CACHE_SIZE = 8192,
  /** The gfp bits that choose a kmalloc family other than KMALLOC_NORMAL (kmalloc_type()). */
  KMALLOC_TYPE_BITS = 0x400011,
}
/** The slab state bits (struct slab: frozen; where the slab is listed), and no slab. */
enum SL {
  NIL = -1,
  FROZEN = 1,
  NODE_PARTIAL = 2,
  FULL = 4,
  CPU_PARTIAL = 8,
}
/** SlubCache.pcf: struct kmem_cache_cpu's addresses, a record of STRIDE per CPU. */
enum PCF {
  STRIDE = 4,
  FREELIST = 0,
  SLAB_BASE = 1,
  SLAB_END = 2,
  WORD_BASE = 3,
}
/** SlubCache.pci: struct kmem_cache_cpu's integers, a record of STRIDE per CPU. */
enum PCI {
  STRIDE = 8,
  SLAB = 0,
  PARTIAL = 1,
  PARTIAL_SLABS = 2,
  XOR_LO = 3,
  BASE_LOW = 4,
}
if (
  K.PAGE_OFFSET !== PAGE_OFFSET ||
  K.PAGE_SIZE !== PAGE_SIZE ||
  K.PGTY_slab !== PGTY_slab ||
  K.ZERO_SIZE_PTR !== ZERO_SIZE_PTR ||
  K.NUMA_NO_NODE !== NUMA_NO_NODE ||
  K.__GFP_DIRECT_RECLAIM !== __GFP_DIRECT_RECLAIM ||
  K.GFP_FAST_OK !== (__GFP_BITS_MASK & ~__GFP_ZERO) >>> 0 ||
  K.KMALLOC_MAX_CACHE_SIZE !== KMALLOC_MAX_CACHE_SIZE ||
  K.KMALLOC_TYPE_BITS !== (__GFP_RECLAIMABLE | __GFP_DMA | __GFP_ACCOUNT)
) {
  throw new Error('slub: a constant of @mmsim/core changed; update enum K');
}

/** swab32(). */
const bswap32 = (x: number): number =>
  ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);

/** mm/slub.c oo_objects(): objects of `size` in a slab of `order`. */
export const orderObjects = (order: number, size: number): number =>
  Math.floor((PAGE_SIZE << order) / size);

/** mm/slub.c calc_slab_order(). */
function calcSlabOrder(size: number, minOrder: number, maxOrder: number, fract: number): number {
  let order = minOrder;
  for (; order <= maxOrder; order++) {
    const slabSize = PAGE_SIZE << order;
    const rem = slabSize % size;
    if (rem <= slabSize / fract) break;
  }
  return order;
}

export interface SlubOrderParams {
  nrCpus: number;
  minOrder?: number;
  maxOrder?: number;
  minObjects?: number;
}

/**
 * mm/slub.c calculate_order(): the slab order for objects of `size` bytes — the smallest
 * order holding min_objects (4 * (fls(nr_cpus) + 1) by default) that wastes at most 1/16,
 * then 1/8, then 1/4 of the slab. Returns -1 (-ENOSYS) when nothing fits.
 */
export function calculateOrder(size: number, p: SlubOrderParams): number {
  const slubMinOrder = p.minOrder ?? 0;
  const slubMaxOrder = p.maxOrder ?? PAGE_ALLOC_COSTLY_ORDER;
  let minObjects = p.minObjects ?? 0;
  if (!minObjects) minObjects = 4 * (fls(p.nrCpus) + 1);
  const maxObjects = Math.max(orderObjects(slubMaxOrder, size), 1);
  minObjects = Math.min(minObjects, maxObjects);
  const minOrder = Math.max(slubMinOrder, getOrder(minObjects * size));
  if (orderObjects(minOrder, size) > MAX_OBJS_PER_PAGE) {
    return getOrder(size * MAX_OBJS_PER_PAGE) - 1;
  }
  for (let fraction = 16; fraction > 1; fraction /= 2) {
    const order = calcSlabOrder(size, minOrder, slubMaxOrder, fraction);
    if (order <= slubMaxOrder) return order;
  }
  const order = getOrder(size);
  return order <= MAX_PAGE_ORDER ? order : -1;
}

/** One block of a slab_debug= string: its flags and, if any, the cache name patterns. */
interface DebugBlock {
  flags: number;
  slabs: string[] | null;
}

/** mm/slub.c parse_slub_debug_flags() over every `;` block. */
export function parseSlabDebug(str: string): { blocks: DebugBlock[]; disableHigherOrder: boolean } {
  const blocks: DebugBlock[] = [];
  let disableHigherOrder = false;
  for (const raw of str.split(';')) {
    if (raw === '' && blocks.length > 0) continue;
    const comma = raw.indexOf(',');
    const letters = comma < 0 ? raw : raw.slice(0, comma);
    let flags = 0;
    if (letters === '') flags = DEBUG_DEFAULT_FLAGS;
    for (const ch of letters.toLowerCase()) {
      switch (ch) {
        case '-':
          flags = 0;
          break;
        case 'f':
          flags |= SLAB_CONSISTENCY_CHECKS;
          break;
        case 'z':
          flags |= SLAB_RED_ZONE;
          break;
        case 'p':
          flags |= SLAB_POISON;
          break;
        case 'u':
          flags |= SLAB_STORE_USER;
          break;
        case 't':
          flags |= SLAB_TRACE;
          break;
        case 'a':
          break; // SLAB_FAILSLAB: CONFIG_FAILSLAB is off in the reference config
        case 'o':
          disableHigherOrder = true;
          break;
        default:
          throw new RangeError(`slab_debug option '${ch}' unknown (expected F Z P U T A O -)`);
      }
    }
    const slabs =
      comma < 0
        ? null
        : raw
            .slice(comma + 1)
            .split(',')
            .filter((x) => x !== '');
    blocks.push({ flags, slabs });
  }
  return { blocks, disableHigherOrder };
}

/** struct kmem_cache for SLUB. */
export class SlubCache extends SlabCacheBase {
  /** Free pointer offset (s->offset). */
  offset = 0;
  /** Offset to the metadata (s->inuse). */
  inuse = 0;
  /** Left red zone (s->red_left_pad). */
  red_left_pad = 0;
  /** s->oo: order and objects of a normal slab. */
  order = 0;
  objects = 0;
  /** s->min: the smallest slab that holds one object. */
  minOrder = 0;
  minObjects = 0;
  allocflags = 0;
  min_partial = MIN_PARTIAL;
  cpu_partial = 0;
  cpu_partial_slabs = 0;
  /** s->random (FREELIST_HARDENED), as two 32-bit halves. */
  randomLo = 0;
  randomHi = 0;
  /** kmem_cache_debug(s). */
  debug = false;
  /** s->random_seq: object offsets in a random order (CONFIG_SLAB_FREELIST_RANDOM), or null. */
  randomSeq: Int32Array | null = null;
  /** size - 1 when the object slot is a power of two (an AND instead of a division), else 0. */
  sizeMask = 0;

  /**
   * struct kmem_cache_cpu, per CPU, as two typed-array records (rather than nine arrays:
   * fewer objects for the optimised code to load and check, ~3% of the 64-byte pair,
   * measured). `pcf[cpu * PCF.STRIDE + …]` holds the addresses — c->freelist (0 = NULL),
   * the CPU slab's first and end address, the base address of the memory chunk `cpuWords`
   * views — and `pci[cpu * PCI.STRIDE + …]` the integers — c->slab (a head pfn or SL.NIL),
   * the CPU partial list's first slab and length, and the two constants of the hardened
   * encoding that do not change within a chunk.
   */
  readonly pcf: Float64Array;
  readonly pci: Int32Array;
  /**
   * The fast path's view of the CPU slab's bytes: the 64 KiB memory chunk holding it (a
   * slab of order <= 4 never crosses one), or null until the second pop.
   */
  readonly cpuWords: (Int32Array | null)[];
  // struct kmem_cache_node, per node
  readonly partialHead: Int32Array;
  readonly partialTail: Int32Array;
  readonly nrPartial: Int32Array;
  readonly fullHead: Int32Array;
  readonly nrSlabs: Float64Array;
  readonly totalObjects: Float64Array;
  /** ORDER_FALLBACK and friends (CONFIG_SLUB_STATS style counters). */
  readonly stats = { allocSlowpath: 0, allocSlab: 0, freeSlab: 0, orderFallback: 0, freeFrozen: 0 };

  constructor(
    id: number,
    name: string,
    objectSize: number,
    flags: number,
    args: CacheArgs,
    nrCpus: number,
    nrNodes: number,
  ) {
    super(id, name, objectSize, flags, args);
    this.pcf = new Float64Array(nrCpus * PCF.STRIDE);
    this.pci = new Int32Array(nrCpus * PCI.STRIDE);
    for (let cpu = 0; cpu < nrCpus; cpu++) {
      this.pci[cpu * PCI.STRIDE + PCI.SLAB] = SL.NIL;
      this.pci[cpu * PCI.STRIDE + PCI.PARTIAL] = SL.NIL;
    }
    this.cpuWords = new Array<Int32Array | null>(nrCpus).fill(null);
    this.partialHead = new Int32Array(nrNodes).fill(SL.NIL);
    this.partialTail = new Int32Array(nrNodes).fill(SL.NIL);
    this.nrPartial = new Int32Array(nrNodes);
    this.fullHead = new Int32Array(nrNodes).fill(SL.NIL);
    this.nrSlabs = new Float64Array(nrNodes);
    this.totalObjects = new Float64Array(nrNodes);
  }
}

/** The files of /sys/kernel/slab/<cache>/ that describe its geometry and debugging. */
export interface SlubSysfs {
  object_size: number;
  slab_size: number;
  objs_per_slab: number;
  order: number;
  min_partial: number;
  cpu_partial: number;
  align: number;
  red_zone: number;
  poison: number;
  store_user: number;
  sanity_checks: number;
  trace: number;
  aliases: number;
  /** Not sysfs files, but what slabinfo -v shows: the free pointer offset, s->inuse, red_left_pad. */
  offset: number;
  inuse: number;
  red_left_pad: number;
}

/** The SLUB allocator. */
export class SlubAllocator extends SlabAllocatorBase<SlubCache> {
  readonly name = 'slub';
  readonly options: Readonly<Required<Omit<SlabOptions, 'slabDebug'>>> & {
    slabDebug: string | undefined;
  };
  private readonly nrCpus: number;
  private readonly nrNodes: number;
  private readonly hardened: boolean;
  private readonly debugBlocks: DebugBlock[];
  private readonly globalDebug: number;
  private readonly disableHigherOrderDebug: boolean;
  // struct slab, by head pfn
  private readonly slabFreelist: Float64Array;
  private readonly slabInuse: Uint16Array;
  private readonly slabObjects: Uint16Array;
  private readonly slabOrder: Uint8Array;
  private readonly slabState: Uint8Array;
  private readonly lruNext: Int32Array;
  private readonly lruPrev: Int32Array;
  /**
   * Per page of every slab: (cache id << 10) | (pfn - head pfn), 0 for other pages. kfree()'s
   * virt_to_slab() + slab->slab_cache in one load instead of compound_head() and the memmap
   * (a slab is at most order 10, so the distance fits 10 bits).
   */
  private readonly pageSlab: Int32Array;
  private randomState = 0x9e3779b9;
  /** get_random_u32_below() for the freelist shuffle, seeded so runs repeat. */
  private readonly prng: Prng;
  private oomRatelimitJiffy = -1;

  constructor(env: SlabEnv, options: SlabOptions = {}) {
    super(env, options, 3);
    this.nrCpus = env.ctx.nrCpus;
    this.nrNodes = env.nrNodes;
    const maxOrder = Math.min(options.slabMaxOrder ?? PAGE_ALLOC_COSTLY_ORDER, MAX_PAGE_ORDER);
    const minOrder = options.slabMinOrder ?? 0;
    const minObjects = options.slabMinObjects ?? 0;
    for (const [k, v, hi] of [
      ['slabMinOrder', minOrder, MAX_PAGE_ORDER],
      ['slabMaxOrder', maxOrder, MAX_PAGE_ORDER],
      ['slabMinObjects', minObjects, MAX_OBJS_PER_PAGE],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v > hi)
        throw new RangeError(`${k} ${String(v)}: expected 0..${hi}`);
    }
    this.options = {
      slabDebug: options.slabDebug,
      slabNomerge: this.slabNomerge,
      slabMinOrder: minOrder,
      // slub_min_order raises slub_max_order (setup_slub_min_order()).
      slabMaxOrder: Math.max(maxOrder, minOrder),
      slabMinObjects: minObjects,
      freelistHardened: options.freelistHardened ?? true,
      freelistRandom: options.freelistRandom ?? false,
      seed: options.seed ?? 0,
      cacheLineSize: this.cacheLineSize,
      kmallocCaches: options.kmallocCaches ?? true,
    };
    this.hardened = this.options.freelistHardened;
    this.prng = new Prng(options.seed ?? 0);
    if (options.slabDebug !== undefined) {
      const parsed = parseSlabDebug(options.slabDebug);
      this.debugBlocks = parsed.blocks;
      this.disableHigherOrderDebug = parsed.disableHigherOrder;
      let global = 0;
      for (const b of parsed.blocks) if (!b.slabs) global = b.flags;
      this.globalDebug = global;
    } else {
      this.debugBlocks = [];
      this.disableHigherOrderDebug = false;
      this.globalDebug = 0;
    }
    const n = this.mm.nrPages;
    this.slabFreelist = new Float64Array(n);
    this.slabInuse = new Uint16Array(n);
    this.slabObjects = new Uint16Array(n);
    this.slabOrder = new Uint8Array(n);
    this.slabState = new Uint8Array(n);
    this.lruNext = this.mm.lruNext;
    this.lruPrev = this.mm.lruPrev;
    this.pageSlab = new Int32Array(n);
    if (this.options.kmallocCaches) this.createKmallocCaches();
  }

  /** The boot line: `SLUB: HWalign=64, Order=0-3, MinObjects=0, CPUs=2, Nodes=1`. */
  bootMessage(): string {
    const o = this.options;
    return `SLUB: HWalign=${this.cacheLineSize}, Order=${o.slabMinOrder}-${o.slabMaxOrder}, MinObjects=${o.slabMinObjects}, CPUs=${this.nrCpus}, Nodes=${this.nrNodes}`;
  }

  // ---- cache creation ------------------------------------------------------------------------

  /** mm/slub.c kmem_cache_flags(): the flags a cache gets from slab_debug=. */
  kmemCacheFlags(flags: number, name: string): number {
    if (flags & SLAB_NO_USER_FLAGS) return flags;
    let local = this.globalDebug;
    if (flags & SLAB_NOLEAKTRACE) local &= ~SLAB_STORE_USER;
    for (const b of this.debugBlocks) {
      if (!b.slabs) continue;
      for (const pat of b.slabs) {
        const star = pat.indexOf('*');
        const hit = star >= 0 ? name.startsWith(pat.slice(0, star)) : name === pat;
        if (hit) return flags | b.flags;
      }
    }
    return flags | local;
  }

  protected override findMergeable(size: number, flags: number, args: CacheArgs): SlubCache | null {
    if (this.slabNomerge || args.ctor || args.usersize) return null;
    flags = this.kmemCacheFlags(flags, '');
    if (flags & SLAB_NEVER_MERGE) return null;
    size = alignUp(size, WORD);
    const align = calculateAlignment(flags, args.align, size, this.cacheLineSize);
    size = alignUp(size, align);
    for (let i = this.slabCaches.length - 1; i >= 0; i--) {
      const s = this.slabCaches[i]!;
      if (this.mergeableInto(s, size, align, flags, SLAB_NEVER_MERGE, SLAB_MERGE_SAME)) {
        // __kmem_cache_alias(): the merged cache grows to the larger request.
        s.object_size = Math.max(s.object_size, size);
        s.inuse = Math.max(s.inuse, alignUp(size, WORD));
        return s;
      }
    }
    return null;
  }

  protected createCache(
    id: number,
    name: string,
    size: number,
    flags: number,
    args: CacheArgs,
  ): SlubCache | null {
    const s = new SlubCache(
      id,
      name,
      size,
      this.kmemCacheFlags(flags, name),
      args,
      this.nrCpus,
      this.nrNodes,
    );
    if (!(s.flags & SLAB_NO_CMPXCHG)) s.flags |= __CMPXCHG_DOUBLE;
    if (!this.calculateSizes(s, args)) return null;
    if (
      this.disableHigherOrderDebug &&
      s.flags & SLAB_DEBUG_FLAGS &&
      getOrder(s.size) > getOrder(s.object_size)
    ) {
      // slab_debug=O: "Disable debugging flags that store metadata if the min slab order
      // increased" (kmem_cache_open()).
      s.flags &= ~(SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER);
      s.offset = 0;
      if (!this.calculateSizes(s, args)) return null;
    }
    // set_min_partial(s, ilog2(s->size) / 2)
    s.min_partial = Math.min(MAX_PARTIAL, Math.max(MIN_PARTIAL, Math.floor(Math.log2(s.size) / 2)));
    // set_cpu_partial(): CPU partial lists are off for debug caches.
    s.debug = (s.flags & SLAB_DEBUG_FLAGS) !== 0;
    const nrObjects = s.debug
      ? 0
      : s.size >= PAGE_SIZE
        ? 6
        : s.size >= 1024
          ? 24
          : s.size >= 256
            ? 52
            : 120;
    s.cpu_partial = nrObjects;
    s.cpu_partial_slabs = nrObjects === 0 ? 0 : Math.ceil((nrObjects * 2) / s.objects);
    // get_random_long() for s->random, from a per-allocator sequence so runs repeat.
    s.randomLo = this.nextRandom();
    s.randomHi = this.nextRandom();
    if (this.options.freelistRandom) s.randomSeq = this.cacheRandomSeq(s);
    return s;
  }

  /**
   * init_cache_random_seq(): freelist_randomize() — a Fisher-Yates shuffle of the object
   * indices of a full slab — turned into byte offsets.
   */
  private cacheRandomSeq(s: SlubCache): Int32Array {
    const count = s.objects;
    const seq = new Int32Array(count);
    for (let i = 0; i < count; i++) seq[i] = i;
    for (let i = count - 1; i > 0; i--) {
      const r = this.prng.nextInt(i + 1);
      const t = seq[i]!;
      seq[i] = seq[r]!;
      seq[r] = t;
    }
    for (let i = 0; i < count; i++) seq[i] = seq[i]! * s.size;
    return seq;
  }

  private nextRandom(): number {
    // xorshift32: deterministic, seeded per allocator.
    let x = this.randomState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.randomState = x >>> 0;
    return x | 0;
  }

  /** mm/slub.c calculate_sizes(): the object layout (see the comment above it in slub.c). */
  private calculateSizes(s: SlubCache, args: CacheArgs): boolean {
    const flags = s.flags;
    let size = alignUp(s.object_size, WORD);
    if (flags & SLAB_POISON && !(flags & SLAB_TYPESAFE_BY_RCU) && !s.ctor)
      s.flags |= __OBJECT_POISON;
    else s.flags &= ~__OBJECT_POISON;
    if (flags & SLAB_RED_ZONE && size === s.object_size) size += WORD;
    s.inuse = size;
    const origSize = (flags & SLAB_STORE_USER) !== 0 && (flags & SLAB_KMALLOC) !== 0;
    if (
      (flags & SLAB_TYPESAFE_BY_RCU && !args.useFreeptrOffset) ||
      flags & SLAB_POISON ||
      s.ctor ||
      (flags & SLAB_RED_ZONE && (s.object_size < WORD || origSize))
    ) {
      s.offset = size;
      size += WORD;
    } else if (flags & SLAB_TYPESAFE_BY_RCU && args.useFreeptrOffset) {
      s.offset = args.freeptrOffset;
    } else {
      s.offset = Math.floor(s.object_size / 2 / WORD) * WORD;
    }
    if (flags & SLAB_STORE_USER) {
      size += 2 * TRACK_SIZE;
      if (flags & SLAB_KMALLOC) size += WORD;
    }
    s.red_left_pad = 0;
    if (flags & SLAB_RED_ZONE) {
      size += WORD;
      s.red_left_pad = alignUp(WORD, s.align);
      size += s.red_left_pad;
    }
    size = alignUp(size, s.align);
    s.size = size;
    s.sizeMask = (size & (size - 1)) === 0 ? size - 1 : 0;
    const order = calculateOrder(size, {
      nrCpus: this.nrCpus,
      minOrder: this.options.slabMinOrder,
      maxOrder: this.options.slabMaxOrder,
      minObjects: this.options.slabMinObjects,
    });
    if (order < 0) return false;
    s.allocflags = __GFP_COMP;
    if (s.flags & SLAB_CACHE_DMA) s.allocflags |= GFP_DMA;
    if (s.flags & SLAB_CACHE_DMA32) s.allocflags |= GFP_DMA32;
    if (s.flags & SLAB_RECLAIM_ACCOUNT) s.allocflags |= __GFP_RECLAIMABLE;
    s.order = order;
    s.objects = Math.min(orderObjects(order, size), MAX_OBJS_PER_PAGE);
    s.minOrder = getOrder(size);
    s.minObjects = Math.min(orderObjects(s.minOrder, size), MAX_OBJS_PER_PAGE);
    return s.objects > 0;
  }

  // ---- free pointers (real bytes) ------------------------------------------------------------

  /**
   * get_freepointer(): the next free object after `object`, read from its free pointer word
   * (decoded with freelist_ptr_decode() when hardened). -1 for a non-canonical value, which
   * only a corrupted pointer can be.
   */
  private getFreepointer(s: SlubCache, object: number): number {
    const at = object + s.offset;
    const phys = at - PAGE_OFFSET;
    const w = this.mem.chunkWords(Math.floor(phys / 65536));
    const i = (phys & 0xffff) >>> 2;
    let lo = w[i]!;
    let hi = w[i + 1]!;
    if (this.hardened) {
      lo ^= s.randomLo ^ bswap32(0xffff0000 | Math.floor(at / K.TWO_32));
      hi ^= s.randomHi ^ bswap32(at | 0);
    }
    if ((lo | hi) === 0) return 0;
    if (hi >>> 16 !== 0xffff) return -1;
    return (hi & 0xffff) * K.TWO_32 + (lo >>> 0);
  }

  /** set_freepointer(): store `fp` (0 = NULL) in `object`'s free pointer word. */
  private setFreepointer(s: SlubCache, object: number, fp: number): void {
    const at = object + s.offset;
    const phys = at - PAGE_OFFSET;
    const w = this.mem.chunkWords(Math.floor(phys / 65536));
    const i = (phys & 0xffff) >>> 2;
    let lo = fp === 0 ? 0 : fp | 0;
    let hi = fp === 0 ? 0 : 0xffff0000 | Math.floor(fp / K.TWO_32);
    if (this.hardened) {
      lo ^= s.randomLo ^ bswap32(0xffff0000 | Math.floor(at / K.TWO_32));
      hi ^= s.randomHi ^ bswap32(at | 0);
    }
    w[i] = lo;
    w[i + 1] = hi;
  }

  /**
   * get_freepointer() for the object `off` bytes into `slab` when the slab lies in one 64 KiB
   * memory chunk (order <= 4: compound pages are naturally aligned), with integer arithmetic on
   * the pfn. The direct map's PAGE_OFFSET has zero low 32 bits, so the address's low word is
   * the physical one, `(slab << 12) + off` wrapped to 32 bits, and its high word is
   * 0x8880 + (slab >>> 20) (a 64 KiB block never crosses a 4 GiB line).
   */
  private slabGetFp(s: SlubCache, slab: number, off: number): number {
    const w = this.mem.chunkWords(slab >>> 4);
    const at = ((slab & 15) << 12) + off + s.offset;
    let lo = w[at >> 2]!;
    let hi = w[(at >> 2) + 1]!;
    if (this.hardened) {
      lo ^= s.randomLo ^ bswap32(0xffff0000 | (0x8880 + (slab >>> 20)));
      hi ^= s.randomHi ^ bswap32(((slab << 12) + off + s.offset) | 0);
    }
    if ((lo | hi) === 0) return 0;
    if (hi >>> 16 !== 0xffff) return -1;
    return (hi & 0xffff) * K.TWO_32 + (lo >>> 0);
  }

  /** set_freepointer() for the object `off` bytes into `slab` (order <= 4), as slabGetFp(). */
  private slabSetFp(s: SlubCache, slab: number, off: number, fp: number): void {
    const w = this.mem.chunkWords(slab >>> 4);
    const at = ((slab & 15) << 12) + off + s.offset;
    let lo = fp === 0 ? 0 : fp | 0;
    let hi = fp === 0 ? 0 : 0xffff0000 | Math.floor(fp / K.TWO_32);
    if (this.hardened) {
      lo ^= s.randomLo ^ bswap32(0xffff0000 | (0x8880 + (slab >>> 20)));
      hi ^= s.randomHi ^ bswap32(((slab << 12) + off + s.offset) | 0);
    }
    w[at >> 2] = lo;
    w[(at >> 2) + 1] = hi;
  }

  // ---- the fast paths (slab_alloc_node() / do_slab_free() with a CPU slab) --------------------

  /**
   * kmem_cache_alloc(): pop c->freelist in line when the call is ordinary (a handle of this
   * allocator, plain gfp bits, no caller, no __GFP_ZERO), else the checked general path.
   */
  override kmem_cache_alloc(cache: KmemCache, gfp: Gfp, caller?: CallSite): number {
    const s = cache as SlubCache;
    if (
      caller === undefined &&
      gfp >>> 0 === gfp &&
      (gfp & ~K.GFP_FAST_OK) === 0 &&
      s !== null &&
      typeof s === 'object' &&
      this.cacheById[s.id] === s
    ) {
      if (gfp & K.__GFP_DIRECT_RECLAIM) this.ctx.mightSleep();
      const cpu = this.ctx.cpu;
      const object = s.pcf[cpu * PCF.STRIDE + PCF.FREELIST]!;
      const w = s.cpuWords[cpu];
      if (object !== 0 && w) {
        // A freelist pointer outside the slab was written by someone else: touching it faults.
        if (
          !(
            object >= s.pcf[cpu * PCF.STRIDE + PCF.SLAB_BASE]! &&
            object < s.pcf[cpu * PCF.STRIDE + PCF.SLAB_END]!
          )
        ) {
          return this.corruptFreelist(s, cpu, object);
        }
        // cpuNextFree() written out: calling it costs this path ~2.5 ns of its ~40 (measured).
        const at = ((object - s.pcf[cpu * PCF.STRIDE + PCF.WORD_BASE]!) | 0) + s.offset;
        const i = at >> 2;
        let lo = w[i]!;
        let hi = w[i + 1]!;
        if (this.hardened) {
          lo ^= s.pci[cpu * PCI.STRIDE + PCI.XOR_LO]!;
          hi ^= s.randomHi ^ bswap32((s.pci[cpu * PCI.STRIDE + PCI.BASE_LOW]! + at) | 0);
        }
        // get_freepointer_safe(): the next pointer is taken as it is, garbage or not.
        s.pcf[cpu * PCF.STRIDE + PCF.FREELIST] =
          (lo | hi) === 0 ? 0 : hi >>> 16 !== 0xffff ? -1 : (hi & 0xffff) * K.TWO_32 + (lo >>> 0);
        return object;
      }
      if (!s.dead)
        return this.slabAlloc(s, gfp, K.NUMA_NO_NODE, this.siteKmemCacheAlloc, s.object_size);
    }
    return super.kmem_cache_alloc(cache, gfp, caller);
  }

  /**
   * kmem_cache_free(): push onto c->freelist in line when the object lies in this CPU's slab
   * of the cache (then cache_from_obj() has nothing to find), else the checked path.
   */
  override kmem_cache_free(cache: KmemCache, object: number, caller?: CallSite): void {
    const s = cache as SlubCache;
    if (caller === undefined && s !== null && typeof s === 'object' && this.cacheById[s.id] === s) {
      const cpu = this.ctx.cpu;
      const w = s.cpuWords[cpu];
      const off = object - s.pcf[cpu * PCF.STRIDE + PCF.SLAB_BASE]!;
      if (
        w &&
        off >= 0 &&
        object < s.pcf[cpu * PCF.STRIDE + PCF.SLAB_END]! &&
        this.isObjectOffset(s, off | 0)
      ) {
        const fp = s.pcf[cpu * PCF.STRIDE + PCF.FREELIST]!;
        if (object === fp && this.hardened) throw this.naiveDoubleFree(s);
        this.cpuStoreFreepointer(s, cpu, w, object, fp);
        s.pcf[cpu * PCF.STRIDE + PCF.FREELIST] = object;
        return;
      }
    }
    super.kmem_cache_free(cache, object, caller);
  }

  /** kmalloc(): the cache lookup and the CPU freelist pop in line for ordinary requests. */
  override kmalloc(
    size: number,
    gfp: Gfp,
    nid: number = K.NUMA_NO_NODE,
    caller?: CallSite,
  ): number {
    if (
      caller === undefined &&
      nid === K.NUMA_NO_NODE &&
      (size | 0) === size &&
      size > 0 &&
      size <= K.KMALLOC_MAX_CACHE_SIZE &&
      gfp >>> 0 === gfp &&
      (gfp & ~K.GFP_FAST_OK) === 0
    ) {
      const s =
        this.kmallocCaches[(gfp & K.KMALLOC_TYPE_BITS) === 0 ? 0 : this.kmallocType(gfp)]![
          this.kmallocIndex(size)
        ];
      if (s && !s.debug) {
        if (gfp & K.__GFP_DIRECT_RECLAIM) this.ctx.mightSleep();
        const cpu = this.ctx.cpu;
        const object = s.pcf[cpu * PCF.STRIDE + PCF.FREELIST]!;
        if (
          object !== 0 &&
          object >= s.pcf[cpu * PCF.STRIDE + PCF.SLAB_BASE]! &&
          object < s.pcf[cpu * PCF.STRIDE + PCF.SLAB_END]!
        ) {
          s.pcf[cpu * PCF.STRIDE + PCF.FREELIST] = this.cpuNextFree(s, cpu, object);
          return object;
        }
        // ___slab_alloc()'s usual case, in line (as the chain of calls slowAlloc() →
        // installSlab() → loadFreelist() → getFreepointer() it cost ~10% more, measured):
        // the CPU slab is exhausted (nothing on c->freelist nor on slab->freelist), so it
        // leaves the CPU unlisted, and the first slab of the CPU partial list is frozen
        // and loaded. Every check is made before anything changes; anything else takes
        // slowAlloc(), which then does the same from the start.
        const next = s.pci[cpu * PCI.STRIDE + PCI.PARTIAL]!;
        if (object === 0 && next !== SL.NIL && s.order <= 4) {
          const slabFreelist = this.slabFreelist;
          const old = s.pci[cpu * PCI.STRIDE + PCI.SLAB]!;
          const fl = slabFreelist[next]!;
          const objects = this.slabObjects[next]!;
          const base = next * K.PAGE_SIZE + K.PAGE_OFFSET; // pfnToVirt(next)
          const end = base + objects * s.size;
          if ((old === SL.NIL || slabFreelist[old] === 0) && fl >= base && fl < end) {
            s.stats.allocSlowpath++;
            const slabState = this.slabState;
            if (old !== SL.NIL) slabState[old]! &= ~SL.FROZEN;
            s.pci[cpu * PCI.STRIDE + PCI.PARTIAL] = this.lruNext[next]!;
            s.pci[cpu * PCI.STRIDE + PCI.PARTIAL_SLABS]!--;
            // freeze_slab() and load_freelist
            slabFreelist[next] = 0;
            this.slabInuse[next] = objects;
            slabState[next] = SL.FROZEN;
            s.pci[cpu * PCI.STRIDE + PCI.SLAB] = next;
            s.pcf[cpu * PCF.STRIDE + PCF.SLAB_BASE] = base;
            s.pcf[cpu * PCF.STRIDE + PCF.SLAB_END] = end;
            s.cpuWords[cpu] = null;
            // slabGetFp() written out: as a call it would not be inlined here (TurboFan's
            // inlining budget for this function is spent), and the call costs more than it.
            const off = ((fl - base) | 0) + s.offset;
            const w = this.mem.chunkWords(next >>> 4);
            const at = ((next & 15) << 12) + off;
            let lo = w[at >> 2]!;
            let hi = w[(at >> 2) + 1]!;
            if (this.hardened) {
              const x = 0xffff0000 | (0x8880 + (next >>> 20));
              const y = ((next << 12) + off) | 0;
              lo ^=
                s.randomLo ^
                (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24));
              hi ^=
                s.randomHi ^
                (((y & 0xff) << 24) | ((y & 0xff00) << 8) | ((y >>> 8) & 0xff00) | (y >>> 24));
            }
            s.pcf[cpu * PCF.STRIDE + PCF.FREELIST] =
              (lo | hi) === 0
                ? 0
                : hi >>> 16 !== 0xffff
                  ? -1
                  : (hi & 0xffff) * K.TWO_32 + (lo >>> 0);
            return fl;
          }
        }
        return this.slowAlloc(s, gfp, K.NUMA_NO_NODE, this.siteKmalloc, size);
      }
    }
    return super.kmalloc(size, gfp, nid, caller);
  }

  /** kfree(): the slab lookup and the CPU freelist push in line for ordinary frees. */
  override kfree(object: number, caller?: CallSite): void {
    if (caller === undefined && object > K.ZERO_SIZE_PTR && Number.isInteger(object)) {
      const mm = this.mm;
      const pfn = Math.floor((object - K.PAGE_OFFSET) / K.PAGE_SIZE);
      if (pfn >= 0 && pfn < mm.nrPages) {
        const v = this.pageSlab[pfn]!;
        const s = this.cacheById[v >>> 10];
        if (v !== 0 && s && !s.debug) {
          this.slabFree(s, pfn - (v & 1023), object, this.siteKfree);
          return;
        }
      }
    }
    super.kfree(object, caller);
  }

  // ---- allocation ----------------------------------------------------------------------------

  protected slabAlloc(
    s: SlubCache,
    gfp: Gfp,
    nid: number,
    caller: number,
    origSize: number,
  ): number {
    // slab_pre_alloc_hook() → might_alloc()
    if (gfp & K.__GFP_DIRECT_RECLAIM) this.ctx.mightSleep();
    const cpu = this.ctx.cpu;
    let object = s.pcf[cpu * PCF.STRIDE + PCF.FREELIST]!;
    if (object !== 0 && (nid < 0 || this.mm.node[s.pci[cpu * PCI.STRIDE + PCI.SLAB]!] === nid)) {
      // The fast path (slab_alloc_node()): pop c->freelist.
      if (
        !(
          object >= s.pcf[cpu * PCF.STRIDE + PCF.SLAB_BASE]! &&
          object < s.pcf[cpu * PCF.STRIDE + PCF.SLAB_END]!
        )
      ) {
        return this.corruptFreelist(s, cpu, object);
      }
      s.pcf[cpu * PCF.STRIDE + PCF.FREELIST] = this.cpuNextFree(s, cpu, object);
    } else {
      object = this.slowAlloc(s, gfp, nid, caller, origSize);
      if (object === 0) return 0;
    }
    if (gfp & __GFP_ZERO) {
      // slab_post_alloc_hook(): kmalloc redzoning keeps the bytes past the request.
      const zeroSize =
        s.flags & SLAB_KMALLOC && s.flags & (SLAB_STORE_USER | SLAB_RED_ZONE)
          ? origSize
          : s.object_size;
      this.mem.fill(object - PAGE_OFFSET, zeroSize, 0);
    }
    return object;
  }

  /**
   * The CPU freelist holds a pointer outside the slab: someone wrote into a free object.
   * Linux dereferences it and faults — a general protection fault for a non-canonical
   * address, a page fault otherwise. The rest of the chain is dropped (as Linux's
   * "Isolate corrupted freechain" does) so the cache stays usable after the Oops.
   */
  private corruptFreelist(s: SlubCache, cpu: number, bad: number): never {
    s.pcf[cpu * PCF.STRIDE + PCF.FREELIST] = 0;
    const canonical = bad > 0 && bad < 2 ** 48;
    throw this.ctx.oops(
      canonical
        ? [
            `BUG: unable to handle page fault for address: ${formatPtr(bad + s.offset)}`,
            '#PF: supervisor read access in kernel mode',
            '#PF: error_code(0x0000) - not-present page',
          ]
        : [`general protection fault, probably for non-canonical address in ${s.name}'s freelist`],
      canonical ? 'Oops' : 'general protection fault',
      0,
      ['kmem_cache_alloc_noprof+0x0/0x0'],
    );
  }

  /** mm/slub.c ___slab_alloc(): the slow path. */
  private slowAlloc(s: SlubCache, gfp: Gfp, nid: number, caller: number, origSize: number): number {
    s.stats.allocSlowpath++;
    if (s.debug) return this.allocDebug(s, gfp, nid, caller, origSize);
    const cpu = this.ctx.cpu;
    let slab = s.pci[cpu * PCI.STRIDE + PCI.SLAB]!;
    if (slab !== SL.NIL) {
      if (nid >= 0 && this.mm.node[slab] !== nid) {
        this.deactivateCpuSlab(s, cpu);
      } else {
        // get_freelist(): objects freed into our CPU slab from elsewhere.
        const fl = this.slabFreelist[slab]!;
        if (fl !== 0) {
          this.slabFreelist[slab] = 0;
          this.slabInuse[slab] = this.slabObjects[slab]!;
          return this.loadFreelist(s, cpu, fl);
        }
        // The CPU slab is full: it leaves the CPU and sits on no list.
        this.slabState[slab]! &= ~SL.FROZEN;
        s.pci[cpu * PCI.STRIDE + PCI.SLAB] = SL.NIL;
        s.cpuWords[cpu] = null;
      }
    }
    // new_slab: the CPU partial list first.
    while ((slab = s.pci[cpu * PCI.STRIDE + PCI.PARTIAL]!) !== SL.NIL) {
      s.pci[cpu * PCI.STRIDE + PCI.PARTIAL] = this.lruNext[slab]!;
      s.pci[cpu * PCI.STRIDE + PCI.PARTIAL_SLABS]!--;
      this.slabState[slab]! &= ~SL.CPU_PARTIAL;
      if (nid >= 0 && this.mm.node[slab] !== nid) {
        this.putPartial(s, slab);
        continue;
      }
      return this.installSlab(s, cpu, slab);
    }
    slab = this.getPartial(s, nid, gfp);
    if (slab !== SL.NIL) return this.installSlab(s, cpu, slab);
    slab = this.newSlab(s, gfp, nid);
    if (slab === SL.NIL) {
      this.slabOutOfMemory(s, gfp, nid);
      return 0;
    }
    this.incSlabsNode(s, slab);
    return this.installSlab(s, this.ctx.cpu, slab);
  }

  /** freeze_slab() + the retry_load_slab path: make `slab` this CPU's slab and pop one. */
  private installSlab(s: SlubCache, cpu: number, slab: number): number {
    const fl = this.slabFreelist[slab]!;
    this.slabFreelist[slab] = 0;
    this.slabInuse[slab] = this.slabObjects[slab]!;
    this.slabState[slab] = SL.FROZEN;
    if (s.pci[cpu * PCI.STRIDE + PCI.SLAB] !== SL.NIL) this.deactivateCpuSlab(s, cpu);
    s.pci[cpu * PCI.STRIDE + PCI.SLAB] = slab;
    const base = pfnToVirt(slab);
    s.pcf[cpu * PCF.STRIDE + PCF.SLAB_BASE] = base;
    s.pcf[cpu * PCF.STRIDE + PCF.SLAB_END] = base + this.slabObjects[slab]! * s.size;
    // The fast path's chunk view is made on the second pop (cpuNextFree()): a slab taken
    // from a partial list often has one free object, and then it would be wasted work.
    s.cpuWords[cpu] = null;
    if (fl === 0) {
      // A slab without free objects cannot be frozen; only a corrupted list gets here.
      return this.slowAllocAgain(s, cpu);
    }
    return this.loadFreelist(s, cpu, fl);
  }

  private slowAllocAgain(s: SlubCache, cpu: number): number {
    this.deactivateCpuSlab(s, cpu);
    return 0;
  }

  /** set_freepointer() for an object of this CPU's slab, through the cached chunk words. */
  private cpuStoreFreepointer(
    s: SlubCache,
    cpu: number,
    w: Int32Array,
    object: number,
    fp: number,
  ): void {
    const at = ((object - s.pcf[cpu * PCF.STRIDE + PCF.WORD_BASE]!) | 0) + s.offset;
    const i = at >> 2;
    let lo = fp === 0 ? 0 : fp | 0;
    let hi = fp === 0 ? 0 : 0xffff0000 | Math.floor(fp / K.TWO_32);
    if (this.hardened) {
      lo ^= s.pci[cpu * PCI.STRIDE + PCI.XOR_LO]!;
      hi ^= s.randomHi ^ bswap32((s.pci[cpu * PCI.STRIDE + PCI.BASE_LOW]! + at) | 0);
    }
    w[i] = lo;
    w[i + 1] = hi;
  }

  /** Is `off` (bytes from the first object) the start of an object slot? */
  private isObjectOffset(s: SlubCache, off: number): boolean {
    return s.sizeMask !== 0 ? (off & s.sizeMask) === 0 : off % s.size === 0;
  }

  /** get_freepointer() for an object of this CPU's slab, through the cached chunk words. */
  private cpuNextFree(s: SlubCache, cpu: number, object: number): number {
    let w = s.cpuWords[cpu];
    if (!w) {
      if (this.slabOrder[s.pci[cpu * PCI.STRIDE + PCI.SLAB]!]! > 4)
        return this.getFreepointer(s, object);
      w = this.cpuWordsFill(s, cpu);
    }
    const at = ((object - s.pcf[cpu * PCF.STRIDE + PCF.WORD_BASE]!) | 0) + s.offset;
    const i = at >> 2;
    let lo = w[i]!;
    let hi = w[i + 1]!;
    if (this.hardened) {
      lo ^= s.pci[cpu * PCI.STRIDE + PCI.XOR_LO]!;
      hi ^= s.randomHi ^ bswap32((s.pci[cpu * PCI.STRIDE + PCI.BASE_LOW]! + at) | 0);
    }
    return (lo | hi) === 0 ? 0 : hi >>> 16 !== 0xffff ? -1 : (hi & 0xffff) * K.TWO_32 + (lo >>> 0);
  }

  /**
   * The fast path's view of the CPU slab: the 64 KiB memory chunk that holds it (a slab of
   * order <= 4 never crosses one) and the hardened-encoding constants of that chunk.
   */
  private cpuWordsFill(s: SlubCache, cpu: number): Int32Array {
    const base = s.pcf[cpu * PCF.STRIDE + PCF.SLAB_BASE]!;
    const chunk = Math.floor((base - PAGE_OFFSET) / 65536);
    const chunkBase = PAGE_OFFSET + chunk * 65536;
    const w = this.mem.chunkWords(chunk);
    s.cpuWords[cpu] = w;
    s.pcf[cpu * PCF.STRIDE + PCF.WORD_BASE] = chunkBase;
    s.pci[cpu * PCI.STRIDE + PCI.XOR_LO] = this.hardened
      ? s.randomLo ^ bswap32(0xffff0000 | Math.floor(chunkBase / K.TWO_32))
      : 0;
    s.pci[cpu * PCI.STRIDE + PCI.BASE_LOW] =
      (chunkBase - Math.floor(chunkBase / K.TWO_32) * K.TWO_32) | 0;
    return w;
  }

  /** load_freelist: hand out the first object, the rest becomes c->freelist. */
  private loadFreelist(s: SlubCache, cpu: number, fl: number): number {
    if (
      !(
        fl >= s.pcf[cpu * PCF.STRIDE + PCF.SLAB_BASE]! &&
        fl < s.pcf[cpu * PCF.STRIDE + PCF.SLAB_END]!
      )
    )
      return this.corruptFreelist(s, cpu, fl);
    const slab = s.pci[cpu * PCI.STRIDE + PCI.SLAB]!;
    s.pcf[cpu * PCF.STRIDE + PCF.FREELIST] =
      s.order <= 4
        ? this.slabGetFp(s, slab, (fl - (slab * K.PAGE_SIZE + K.PAGE_OFFSET)) | 0)
        : this.getFreepointer(s, fl);
    return fl;
  }

  /** mm/slub.c get_partial(): the local (or requested) node first, then any other node. */
  private getPartial(s: SlubCache, nid: number, gfp: Gfp): number {
    const search = nid < 0 ? (this.env.cpuToNode[this.ctx.cpu] ?? 0) : nid;
    const slab = this.getPartialNode(s, search);
    if (slab !== SL.NIL || (nid >= 0 && gfp & __GFP_THISNODE)) return slab;
    // get_any_partial(): other nodes, only where they keep more than min_partial slabs.
    // Linux also gates this on remote_node_defrag_ratio and get_cycles(); always trying is
    // the deterministic equivalent of the default ratio.
    for (let n = 0; n < this.nrNodes; n++) {
      if (n === search || s.nrPartial[n]! <= s.min_partial) continue;
      const got = this.getPartialNode(s, n);
      if (got !== SL.NIL) return got;
    }
    return SL.NIL;
  }

  /** mm/slub.c get_partial_node(): one slab to use now, and a few more for the CPU list. */
  private getPartialNode(s: SlubCache, node: number): number {
    if (s.nrPartial[node] === 0) return SL.NIL;
    let first = SL.NIL;
    let extra = 0;
    let slab = s.partialHead[node]!;
    while (slab !== SL.NIL) {
      const next = this.lruNext[slab]!;
      this.removePartial(s, node, slab);
      if (first === SL.NIL) {
        first = slab;
        if (s.cpu_partial_slabs === 0) break;
      } else {
        this.putCpuPartial(s, slab, false);
        if (++extra > s.cpu_partial_slabs / 2) break;
      }
      slab = next;
    }
    return first;
  }

  /** mm/slub.c allocate_slab(): pages for a new slab, its objects set up and linked. */
  private newSlab(s: SlubCache, gfp: Gfp, nid: number): number {
    if (gfp & GFP_SLAB_BUG_MASK) gfp = this.kmallocFixFlags(gfp);
    if (s.ctor && gfp & __GFP_ZERO) {
      this.ctx.warnOnce('slub-ctor-zero', 'mm/slub.c:2700 new_slab+0x0/0x0');
    }
    const flags = (gfp & GFP_SLAB_KEEP) | s.allocflags;
    let allocGfp = ((flags | __GFP_NOWARN | __GFP_NORETRY) & ~__GFP_NOFAIL) >>> 0;
    if (allocGfp & __GFP_DIRECT_RECLAIM && s.order > s.minOrder) {
      allocGfp =
        ((allocGfp | __GFP_NOMEMALLOC) & ~(__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM)) >>> 0;
    }
    let order = s.order;
    let objects = s.objects;
    let pfn = this.pages.allocPages(allocGfp, order, nid);
    if (pfn === NO_PAGE) {
      order = s.minOrder;
      objects = s.minObjects;
      pfn = this.pages.allocPages(flags, order, nid);
      if (pfn === NO_PAGE) return SL.NIL;
      s.stats.orderFallback++;
    }
    s.stats.allocSlab++;
    const mm = this.mm;
    mm.pageType[pfn] = PGTY_slab;
    mm.owner[pfn] = s.id;
    // (A cache id past 2^21 leaves the word 0: kfree() then takes the general lookup.)
    if (s.id < 1 << 21) {
      for (let i = 0; i < 1 << order; i++) this.pageSlab[pfn + i] = (s.id << 10) | i;
    }
    this.slabObjects[pfn] = objects;
    this.slabOrder[pfn] = order;
    this.slabInuse[pfn] = 0;
    this.slabState[pfn] = 0;
    const base = pfnToVirt(pfn);
    if (s.flags & SLAB_POISON) this.mem.fill(base - PAGE_OFFSET, PAGE_SIZE << order, POISON_INUSE);
    if (s.randomSeq && objects >= 2) {
      this.shuffleFreelist(s, pfn, base + s.red_left_pad, objects);
      return pfn;
    }
    // Without CONFIG_SLAB_FREELIST_RANDOM the objects are linked in address order.
    let p = base + s.red_left_pad;
    this.setupObject(s, p);
    this.slabFreelist[pfn] = p;
    for (let i = 1; i < objects; i++) {
      const next = p + s.size;
      this.setupObject(s, next);
      this.setFreepointer(s, p, next);
      p = next;
    }
    this.setFreepointer(s, p, 0);
    return pfn;
  }

  /**
   * mm/slub.c shuffle_freelist() (CONFIG_SLAB_FREELIST_RANDOM): link the new slab's objects
   * in the cache's random permutation (s->random_seq), starting at a random position, so the
   * order objects are handed out in cannot be predicted by an attacker.
   */
  private shuffleFreelist(s: SlubCache, pfn: number, start: number, objects: number): void {
    const seq = s.randomSeq!;
    const count = seq.length;
    let pos = this.prng.nextInt(count);
    const limit = objects * s.size;
    // next_freelist_entry(): a smaller (fallback-order) slab skips offsets beyond its end.
    const next = (): number => {
      let off: number;
      do {
        off = seq[pos]!;
        if (++pos >= count) pos = 0;
      } while (off >= limit);
      return start + off;
    };
    let cur = next();
    this.setupObject(s, cur);
    this.slabFreelist[pfn] = cur;
    for (let i = 1; i < objects; i++) {
      const n = next();
      this.setupObject(s, n);
      this.setFreepointer(s, cur, n);
      cur = n;
    }
    this.setFreepointer(s, cur, 0);
  }

  /** setup_object(): debug bytes, then the constructor — once per object per new slab. */
  private setupObject(s: SlubCache, object: number): void {
    if (s.debug) {
      this.initObject(s, object, SLUB_RED_INACTIVE, s.object_size);
      if (s.flags & SLAB_STORE_USER)
        this.mem.fill(object - PAGE_OFFSET + this.infoEnd(s), 2 * TRACK_SIZE, 0);
    }
    if (s.ctor) s.ctor(object);
  }

  /** mm/slab_common.c kmalloc_fix_flags(): strip the bits slab pages cannot use. */
  private kmallocFixFlags(gfp: Gfp): Gfp {
    const invalid = (gfp & GFP_SLAB_BUG_MASK) >>> 0;
    const fixed = (gfp & ~GFP_SLAB_BUG_MASK) >>> 0;
    this.klog.printk(
      KERN_WARNING,
      `Unexpected gfp: 0x${invalid.toString(16)} (${formatGfp(invalid)}). Fixing up to gfp: 0x${fixed.toString(16)} (${formatGfp(fixed)}). Fix your code!`,
    );
    this.ctx.dumpStack(['dump_stack_lvl+0x0/0x0', 'kmalloc_fix_flags+0x0/0x0', 'new_slab+0x0/0x0']);
    return fixed;
  }

  /** mm/slub.c slab_out_of_memory(), ratelimited (DEFAULT_RATELIMIT_INTERVAL 5 s, burst 1). */
  private slabOutOfMemory(s: SlubCache, gfp: Gfp, nid: number): void {
    if (gfp & __GFP_NOWARN) return;
    const j = this.ctx.clock.jiffies();
    if (this.oomRatelimitJiffy >= 0 && j < this.oomRatelimitJiffy + 5 * 250) return;
    this.oomRatelimitJiffy = j;
    const cpu = this.ctx.cpu;
    const lines = [
      `SLUB: Unable to allocate memory on CPU ${cpu} (of node ${this.env.cpuToNode[cpu] ?? 0}) on node ${nid}, gfp=0x${(gfp >>> 0).toString(16)}(${formatGfp(gfp)})`,
      `  cache: ${s.name}, object size: ${s.object_size}, buffer size: ${s.size}, default order: ${s.order}, min order: ${s.minOrder}`,
    ];
    if (getOrder(s.size) > getOrder(s.object_size)) {
      lines.push(`  ${s.name} debugging increased min order, use slab_debug=O to disable.`);
    }
    for (let n = 0; n < this.nrNodes; n++) {
      const free = this.countPartialFree(s, n);
      lines.push(`  node ${n}: slabs: ${s.nrSlabs[n]}, objs: ${s.totalObjects[n]}, free: ${free}`);
    }
    for (const l of lines) this.klog.printk(KERN_WARNING, l);
  }

  private incSlabsNode(s: SlubCache, slab: number): void {
    const n = this.mm.node[slab]!;
    s.nrSlabs[n]!++;
    s.totalObjects[n]! += this.slabObjects[slab]!;
  }

  // ---- lists ---------------------------------------------------------------------------------

  /** add_partial(): on the node's partial list, at the head or the tail. */
  private addPartial(s: SlubCache, slab: number, tail: boolean): void {
    const n = this.mm.node[slab]!;
    this.slabState[slab] = (this.slabState[slab]! & ~SL.FULL) | SL.NODE_PARTIAL;
    s.nrPartial[n]!++;
    const head = s.partialHead[n]!;
    if (head === SL.NIL) {
      this.lruNext[slab] = SL.NIL;
      this.lruPrev[slab] = SL.NIL;
      s.partialHead[n] = slab;
      s.partialTail[n] = slab;
    } else if (tail) {
      const t = s.partialTail[n]!;
      this.lruNext[t] = slab;
      this.lruPrev[slab] = t;
      this.lruNext[slab] = SL.NIL;
      s.partialTail[n] = slab;
    } else {
      this.lruPrev[head] = slab;
      this.lruNext[slab] = head;
      this.lruPrev[slab] = SL.NIL;
      s.partialHead[n] = slab;
    }
  }

  /** remove_partial(). */
  private removePartial(s: SlubCache, n: number, slab: number): void {
    const next = this.lruNext[slab]!;
    const prev = this.lruPrev[slab]!;
    if (prev === SL.NIL) s.partialHead[n] = next;
    else this.lruNext[prev] = next;
    if (next === SL.NIL) s.partialTail[n] = prev;
    else this.lruPrev[next] = prev;
    s.nrPartial[n]!--;
    this.slabState[slab]! &= ~SL.NODE_PARTIAL;
  }

  /** add_full() (debug caches only): full slabs are tracked so validation can find them. */
  private addFull(s: SlubCache, slab: number): void {
    const n = this.mm.node[slab]!;
    this.slabState[slab]! |= SL.FULL;
    const head = s.fullHead[n]!;
    this.lruNext[slab] = head;
    this.lruPrev[slab] = SL.NIL;
    if (head !== SL.NIL) this.lruPrev[head] = slab;
    s.fullHead[n] = slab;
  }

  private removeFull(s: SlubCache, slab: number): void {
    if (!(this.slabState[slab]! & SL.FULL)) return;
    const n = this.mm.node[slab]!;
    const next = this.lruNext[slab]!;
    const prev = this.lruPrev[slab]!;
    if (prev === SL.NIL) s.fullHead[n] = next;
    else this.lruNext[prev] = next;
    if (next !== SL.NIL) this.lruPrev[next] = prev;
    this.slabState[slab]! &= ~SL.FULL;
  }

  /** put_cpu_partial(): push onto this CPU's partial list, draining a full list first. */
  private putCpuPartial(s: SlubCache, slab: number, drain: boolean): void {
    const cpu = this.ctx.cpu;
    if (
      drain &&
      s.pci[cpu * PCI.STRIDE + PCI.PARTIAL] !== SL.NIL &&
      s.pci[cpu * PCI.STRIDE + PCI.PARTIAL_SLABS]! >= s.cpu_partial_slabs
    ) {
      this.putPartials(s, cpu);
    }
    this.lruNext[slab] = s.pci[cpu * PCI.STRIDE + PCI.PARTIAL]!;
    this.slabState[slab] = SL.CPU_PARTIAL;
    s.pci[cpu * PCI.STRIDE + PCI.PARTIAL] = slab;
    s.pci[cpu * PCI.STRIDE + PCI.PARTIAL_SLABS]!++;
  }

  /** __put_partials(): move a CPU's partial slabs to their nodes (or free the empty ones). */
  private putPartials(s: SlubCache, cpu: number): void {
    let slab = s.pci[cpu * PCI.STRIDE + PCI.PARTIAL]!;
    s.pci[cpu * PCI.STRIDE + PCI.PARTIAL] = SL.NIL;
    s.pci[cpu * PCI.STRIDE + PCI.PARTIAL_SLABS] = 0;
    while (slab !== SL.NIL) {
      const next = this.lruNext[slab]!;
      this.slabState[slab] = 0;
      this.putPartial(s, slab);
      slab = next;
    }
  }

  private putPartial(s: SlubCache, slab: number): void {
    this.slabState[slab] = 0;
    const n = this.mm.node[slab]!;
    if (this.slabInuse[slab] === 0 && s.nrPartial[n]! >= s.min_partial) this.discardSlab(s, slab);
    else this.addPartial(s, slab, true);
  }

  /** deactivate_slab(): give the CPU slab and its freelist back to the slab and the node. */
  private deactivateCpuSlab(s: SlubCache, cpu: number): void {
    const slab = s.pci[cpu * PCI.STRIDE + PCI.SLAB]!;
    let fl = s.pcf[cpu * PCF.STRIDE + PCF.FREELIST]!;
    s.pci[cpu * PCI.STRIDE + PCI.SLAB] = SL.NIL;
    s.pcf[cpu * PCF.STRIDE + PCF.FREELIST] = 0;
    s.cpuWords[cpu] = null;
    if (slab === SL.NIL) return;
    const remote = this.slabFreelist[slab] !== 0;
    // Splice c->freelist in front of slab->freelist, counting the objects returned.
    let count = 0;
    let prior = this.slabFreelist[slab]!;
    while (fl !== 0) {
      const next = this.getFreepointer(s, fl);
      this.setFreepointer(s, fl, prior);
      prior = fl;
      count++;
      fl = Math.max(next, 0);
    }
    this.slabFreelist[slab] = prior;
    this.slabInuse[slab]! -= count;
    this.slabState[slab] = 0;
    const n = this.mm.node[slab]!;
    if (this.slabInuse[slab] === 0 && s.nrPartial[n]! >= s.min_partial) this.discardSlab(s, slab);
    else if (this.slabFreelist[slab] !== 0) this.addPartial(s, slab, remote);
  }

  /** flush_cpu_slab() for every CPU: what kmem_cache_shrink() and destroy start with. */
  private flushAll(s: SlubCache): void {
    for (let cpu = 0; cpu < this.nrCpus; cpu++) {
      this.deactivateCpuSlab(s, cpu);
      if (s.pci[cpu * PCI.STRIDE + PCI.PARTIAL] !== SL.NIL) this.putPartials(s, cpu);
    }
  }

  /** discard_slab() → free_slab(): the pages go back to the page allocator. */
  private discardSlab(s: SlubCache, slab: number): void {
    const n = this.mm.node[slab]!;
    s.nrSlabs[n]!--;
    s.totalObjects[n]! -= this.slabObjects[slab]!;
    if (s.flags & SLAB_CONSISTENCY_CHECKS) {
      this.slabPadCheck(s, slab);
      const base = pfnToVirt(slab) + s.red_left_pad;
      for (let i = 0; i < this.slabObjects[slab]!; i++)
        this.checkObjectBytes(s, slab, base + i * s.size, SLUB_RED_INACTIVE);
    }
    s.stats.freeSlab++;
    const order = this.slabOrder[slab]!;
    this.mm.pageType[slab] = PGTY_NONE;
    this.mm.owner[slab] = 0;
    this.pageSlab.fill(0, slab, slab + (1 << order));
    this.slabState[slab] = 0;
    this.slabFreelist[slab] = 0;
    this.pages.freePages(slab, order);
  }

  // ---- free ----------------------------------------------------------------------------------

  /** The slab (head pfn) an object lies in. */
  private slabOf(object: number, fn: string): number {
    return this.mm.compoundHead(this.objectPfn(object, fn));
  }

  protected cacheFree(s: SlubCache, object: number, caller: number): void {
    // cache_from_obj(): with FREELIST_HARDENED or consistency checks, the cache is checked.
    const slab = this.slabOf(object, 'kmem_cache_free');
    if (!this.mm.isSlab(slab)) {
      this.ctx.warnOnce(
        'kmem_cache_free-not-slab',
        'mm/slub.c:4756 kmem_cache_free+0x0/0x0',
        'virt_to_cache: Object is not a Slab page!',
      );
      return;
    }
    let c = s;
    if (this.hardened || s.flags & SLAB_CONSISTENCY_CHECKS) {
      const real = this.cacheById[this.mm.owner[slab]!];
      if (real && real !== s) {
        this.ctx.warn(
          'mm/slub.c:4771 kmem_cache_free+0x0/0x0',
          `cache_from_obj: Wrong slab cache. ${s.name} but object is from ${real.name}`,
        );
        this.printTracking(real, object);
        c = real;
      }
    }
    this.slabFree(c, slab, object, caller);
  }

  protected kfreeSlabObject(s: SlubCache, object: number, caller: number, slab: number): void {
    this.slabFree(s, slab, object, caller);
  }

  /** slab_free() → do_slab_free(): the fast path when the object is in this CPU's slab. */
  private slabFree(s: SlubCache, slab: number, object: number, caller: number): void {
    if (s.debug) {
      this.freeToPartialList(s, slab, object, caller);
      return;
    }
    const cpu = this.ctx.cpu;
    if (slab === s.pci[cpu * PCI.STRIDE + PCI.SLAB]) {
      const fl = s.pcf[cpu * PCF.STRIDE + PCF.FREELIST]!;
      if (object === fl && this.hardened) throw this.naiveDoubleFree(s);
      if (!this.isObjectOffset(s, (object - s.pcf[cpu * PCF.STRIDE + PCF.SLAB_BASE]!) | 0)) {
        this.invalidPointer(s, slab, object);
        return;
      }
      const w = s.cpuWords[cpu];
      if (w) {
        this.cpuStoreFreepointer(s, cpu, w, object, fl);
      } else this.setFreepointer(s, object, fl);
      s.pcf[cpu * PCF.STRIDE + PCF.FREELIST] = object;
      return;
    }
    // The offset into the slab rather than the address: a small integer is passed as it is,
    // an address above 2^31 is boxed (a heap number per call).
    this.slowFree(s, slab, (object - (slab * K.PAGE_SIZE + K.PAGE_OFFSET)) | 0);
  }

  /**
   * A pointer that is not an object start. Without debugging, Linux would link it into the
   * freelist and later hand out overlapping objects; the simulator refuses to corrupt its
   * own state and reports it as SLAB_CONSISTENCY_CHECKS would (free_consistency_checks()).
   */
  private invalidPointer(s: SlubCache, slab: number, object: number): void {
    this.slabErr(s, slab, `Invalid object pointer 0x${formatPtr(object)}`);
    this.slabFix(s, `Object at 0x${formatPtr(object)} not freed`);
  }

  /** set_freepointer()'s BUG_ON(object == fp): "naive detection of double free". */
  private naiveDoubleFree(_s: SlubCache) {
    return this.ctx.bug('mm/slub.c:550', ['set_freepointer+0x0/0x0', 'kmem_cache_free+0x0/0x0']);
  }

  /** mm/slub.c __slab_free(): a free into a slab that is not this CPU's. */
  private slowFree(s: SlubCache, slab: number, off: number): void {
    const object = slab * K.PAGE_SIZE + K.PAGE_OFFSET + off;
    if (s.order <= 4) {
      const cpu = this.ctx.cpu;
      // __slab_free()'s usual cases, with integer arithmetic on the pfn: the object goes
      // back to a slab that is not this CPU's and
      // - was full: it then goes onto the CPU partial list, which has room, or
      // - is on the CPU partial list, or on the node's and keeps an object in use.
      // Everything is checked before anything changes; the other cases (an invalid
      // pointer, a double free, a frozen slab, a list to drain, a slab to discard)
      // are below.
      const pad = s.red_left_pad;
      const slabFreelist = this.slabFreelist;
      const slabState = this.slabState;
      const slabInuse = this.slabInuse;
      const prior = slabFreelist[slab]!;
      const state = slabState[slab]!;
      const partial = s.pci[cpu * PCI.STRIDE + PCI.PARTIAL]!;
      if (
        (prior === 0
          ? state === 0 &&
            s.cpu_partial_slabs > 0 &&
            (partial === SL.NIL ||
              s.pci[cpu * PCI.STRIDE + PCI.PARTIAL_SLABS]! < s.cpu_partial_slabs)
          : object !== prior &&
            (state === SL.CPU_PARTIAL || (state === SL.NODE_PARTIAL && slabInuse[slab]! > 1))) &&
        off >= pad &&
        off < pad + this.slabObjects[slab]! * s.size &&
        (s.sizeMask !== 0 ? ((off - pad) & s.sizeMask) === 0 : ((off - pad) | 0) % s.size === 0)
      ) {
        // set_freepointer(s, object, prior): slabSetFp() written out, as a call it
        // would not be inlined here.
        const at = ((slab & 15) << 12) + (off | 0) + s.offset;
        const w = this.mem.chunkWords(slab >>> 4);
        let lo = prior === 0 ? 0 : prior | 0;
        let hi = prior === 0 ? 0 : 0xffff0000 | Math.floor(prior / K.TWO_32);
        if (this.hardened) {
          const x = 0xffff0000 | (0x8880 + (slab >>> 20));
          const y = ((slab << 12) + (off | 0) + s.offset) | 0;
          lo ^=
            s.randomLo ^
            (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24));
          hi ^=
            s.randomHi ^
            (((y & 0xff) << 24) | ((y & 0xff00) << 8) | ((y >>> 8) & 0xff00) | (y >>> 24));
        }
        w[at >> 2] = lo;
        w[(at >> 2) + 1] = hi;
        slabFreelist[slab] = object;
        slabInuse[slab]!--;
        if (prior === 0) {
          // put_cpu_partial()
          this.lruNext[slab] = partial;
          slabState[slab] = SL.CPU_PARTIAL;
          s.pci[cpu * PCI.STRIDE + PCI.PARTIAL] = slab;
          s.pci[cpu * PCI.STRIDE + PCI.PARTIAL_SLABS]!++;
        }
        return;
      }
    }
    this.slowFreeGeneral(s, slab, object);
  }

  private slowFreeGeneral(s: SlubCache, slab: number, object: number): void {
    // The offset into the slab, in integers from here on (PAGE_OFFSET written out: an
    // imported binding is a load and a check on every use).
    const off = object - (slab * K.PAGE_SIZE + K.PAGE_OFFSET);
    const pad = s.red_left_pad;
    if (
      !(off >= pad && off < pad + this.slabObjects[slab]! * s.size) ||
      !this.isObjectOffset(s, (off - pad) | 0)
    ) {
      this.invalidPointer(s, slab, object);
      return;
    }
    const prior = this.slabFreelist[slab]!;
    if (object === prior && this.hardened) throw this.naiveDoubleFree(s);
    const state = this.slabState[slab]!;
    if (s.order <= 4) this.slabSetFp(s, slab, off | 0, prior);
    else this.setFreepointer(s, object, prior);
    this.slabFreelist[slab] = object;
    const inuse = --this.slabInuse[slab]!;
    if (state & SL.FROZEN) {
      s.stats.freeFrozen++;
      return; // another CPU's slab: it finds the object on slab->freelist
    }
    if (prior === 0) {
      // It was full: onto this CPU's partial list (CONFIG_SLUB_CPU_PARTIAL).
      if (s.cpu_partial_slabs > 0) {
        this.putCpuPartial(s, slab, true);
        return;
      }
      const n = this.mm.node[slab]!;
      if (inuse === 0 && s.nrPartial[n]! >= s.min_partial) {
        this.discardSlab(s, slab);
        return;
      }
      this.addPartial(s, slab, true);
      return;
    }
    // A partial slab on a CPU partial list stays there, even when empty.
    if (!(state & SL.NODE_PARTIAL)) return;
    const n = this.mm.node[slab]!;
    if (inuse === 0 && s.nrPartial[n]! >= s.min_partial) {
      this.removePartial(s, n, slab);
      this.discardSlab(s, slab);
    }
  }

  // ---- debug: allocation and free one object at a time under the list lock ------------------

  /** ___slab_alloc() for kmem_cache_debug(s): alloc_single_from_partial/new_slab(). */
  private allocDebug(
    s: SlubCache,
    gfp: Gfp,
    nid: number,
    caller: number,
    origSize: number,
  ): number {
    const search = nid < 0 ? (this.env.cpuToNode[this.ctx.cpu] ?? 0) : nid;
    const order = [search];
    if (!(nid >= 0 && gfp & __GFP_THISNODE))
      for (let n = 0; n < this.nrNodes; n++) if (n !== search) order.push(n);
    for (const n of order) {
      let slab = s.partialHead[n]!;
      while (slab !== SL.NIL) {
        const next = this.lruNext[slab]!;
        const object = this.allocSingle(s, slab, origSize);
        if (object !== 0) {
          if (s.flags & SLAB_STORE_USER) this.setTrack(s, object, 0, caller);
          return object;
        }
        slab = next;
      }
      if (n === search && nid < 0) break; // get_any_partial() needs more than min_partial
    }
    const slab = this.newSlab(s, gfp, nid);
    if (slab === SL.NIL) {
      this.slabOutOfMemory(s, gfp, nid);
      return 0;
    }
    this.incSlabsNode(s, slab);
    this.addPartial(s, slab, false);
    const object = this.allocSingle(s, slab, origSize);
    if (object !== 0 && s.flags & SLAB_STORE_USER) this.setTrack(s, object, 0, caller);
    return object;
  }

  /** alloc_single_from_partial(): take one object off `slab` (on its node's partial list). */
  private allocSingle(s: SlubCache, slab: number, origSize: number): number {
    const object = this.slabFreelist[slab]!;
    if (object === 0) return 0;
    const next = this.getFreepointer(s, object);
    this.slabFreelist[slab] = Math.max(next, 0);
    this.slabInuse[slab]!++;
    if (!this.allocDebugProcessing(s, slab, object, origSize)) {
      if (this.slabState[slab]! & SL.NODE_PARTIAL) this.removePartial(s, this.mm.node[slab]!, slab);
      this.slabState[slab] = SL.FROZEN;
      return 0;
    }
    if (this.slabInuse[slab] === this.slabObjects[slab]) {
      this.removePartial(s, this.mm.node[slab]!, slab);
      this.addFull(s, slab);
    }
    return object;
  }

  /** alloc_debug_processing(). */
  private allocDebugProcessing(
    s: SlubCache,
    slab: number,
    object: number,
    origSize: number,
  ): boolean {
    if (s.flags & SLAB_CONSISTENCY_CHECKS) {
      let ok = this.checkSlab(s, slab);
      if (ok && !this.checkValidPointer(s, slab, object)) {
        this.objectErr(s, slab, object, 'Freelist Pointer check fails');
        ok = false;
      }
      if (ok && !this.checkObjectBytes(s, slab, object, SLUB_RED_INACTIVE)) ok = false;
      if (!ok) {
        // "Marking all objects used avoids touching the remaining objects."
        this.slabFix(s, 'Marking all objects used');
        this.slabInuse[slab] = this.slabObjects[slab]!;
        this.slabFreelist[slab] = 0;
        return false;
      }
    }
    this.trace(s, slab, object, true);
    if (s.flags & SLAB_STORE_USER && s.flags & SLAB_KMALLOC) {
      this.mem.write32(object - PAGE_OFFSET + this.infoEnd(s) + 2 * TRACK_SIZE, origSize);
    }
    this.initObject(s, object, SLUB_RED_ACTIVE, origSize);
    return true;
  }

  /** free_to_partial_list() with free_debug_processing(). */
  private freeToPartialList(s: SlubCache, slab: number, object: number, caller: number): void {
    if (!this.freeDebugProcessing(s, slab, object, caller)) {
      this.slabFix(s, `Object at 0x${formatPtr(object)} not freed`);
      return;
    }
    const prior = this.slabFreelist[slab]!;
    if (object === prior && this.hardened) throw this.naiveDoubleFree(s);
    this.slabInuse[slab]!--;
    this.setFreepointer(s, object, prior);
    this.slabFreelist[slab] = object;
    const n = this.mm.node[slab]!;
    const empty = this.slabInuse[slab] === 0 && s.nrPartial[n]! >= s.min_partial;
    if (prior === 0) {
      this.removeFull(s, slab);
      if (!empty) this.addPartial(s, slab, true);
    } else if (empty && this.slabState[slab]! & SL.NODE_PARTIAL) {
      this.removePartial(s, n, slab);
    }
    if (empty) this.discardSlab(s, slab);
  }

  /** free_debug_processing() for one object. */
  private freeDebugProcessing(s: SlubCache, slab: number, object: number, caller: number): boolean {
    if (s.flags & SLAB_CONSISTENCY_CHECKS) {
      if (!this.checkSlab(s, slab)) return false;
    }
    if (this.slabInuse[slab]! < 1) {
      this.slabErr(
        s,
        slab,
        `Slab has ${this.slabInuse[slab]} allocated objects but 1 are to be freed`,
      );
      return false;
    }
    if (s.flags & SLAB_CONSISTENCY_CHECKS) {
      if (!this.checkValidPointer(s, slab, object)) {
        this.slabErr(s, slab, `Invalid object pointer 0x${formatPtr(object)}`);
        return false;
      }
      if (this.onFreelist(s, slab, object)) {
        this.objectErr(s, slab, object, 'Object already free');
        return false;
      }
      if (!this.checkObjectBytes(s, slab, object, SLUB_RED_ACTIVE)) return false;
    } else if (!this.checkValidPointer(s, slab, object)) {
      // Without F Linux would corrupt the freelist; we report as F would (see invalidPointer).
      this.slabErr(s, slab, `Invalid object pointer 0x${formatPtr(object)}`);
      return false;
    }
    if (s.flags & SLAB_STORE_USER) this.setTrack(s, object, 1, caller);
    this.trace(s, slab, object, false);
    this.initObject(s, object, SLUB_RED_INACTIVE, s.object_size);
    return true;
  }

  // ---- debug: layout helpers -----------------------------------------------------------------

  /** get_info_end(): where tracking data starts. */
  private infoEnd(s: SlubCache): number {
    return s.offset >= s.inuse ? s.inuse + WORD : s.inuse;
  }

  /** size_from_object(). */
  private sizeFromObject(s: SlubCache): number {
    return s.flags & SLAB_RED_ZONE ? s.size - s.red_left_pad : s.size;
  }

  /** init_object(): red zones to `val`, poison for a free object. */
  private initObject(s: SlubCache, object: number, val: number, origSize: number): void {
    const p = object - PAGE_OFFSET;
    let poisonSize = s.object_size;
    if (s.flags & SLAB_RED_ZONE) {
      this.mem.fill(p - s.red_left_pad, s.red_left_pad, val);
      if (s.flags & SLAB_STORE_USER && s.flags & SLAB_KMALLOC && val === SLUB_RED_ACTIVE)
        poisonSize = origSize;
    }
    if (s.flags & __OBJECT_POISON && val === SLUB_RED_INACTIVE) {
      this.mem.fill(p, poisonSize - 1, POISON_FREE);
      this.mem.fill(p + poisonSize - 1, 1, POISON_END);
    }
    if (s.flags & SLAB_RED_ZONE) this.mem.fill(p + poisonSize, s.inuse - poisonSize, val);
  }

  /** check_valid_pointer(). */
  private checkValidPointer(s: SlubCache, slab: number, object: number): boolean {
    if (object === 0) return true;
    const base = pfnToVirt(slab);
    const o = object - s.red_left_pad;
    return (
      o >= base && o < base + this.slabObjects[slab]! * s.size && ((o - base) | 0) % s.size === 0
    );
  }

  /** set_track_update(): addr, handle, cpu, pid, when — 32 bytes each with STACKDEPOT. */
  private setTrack(s: SlubCache, object: number, which: 0 | 1, caller: number): void {
    const t = object - PAGE_OFFSET + this.infoEnd(s) + which * TRACK_SIZE;
    // addr, as the canonical 64-bit text address.
    this.mem.write32(t, caller % K.TWO_32);
    this.mem.write32(t + 4, caller === 0 ? 0 : (0xffff0000 | Math.floor(caller / K.TWO_32)) >>> 0);
    // The stack depot handle: nonzero means "a stack was saved"; ours holds the entry point.
    this.mem.write32(t + 8, which + 1);
    this.mem.write32(t + 12, this.ctx.cpu);
    this.mem.write32(t + 16, this.ctx.task.pid);
    this.mem.write64Number(t + 24, this.ctx.clock.jiffies());
  }

  /** print_track(). */
  private printTrack(what: string, s: SlubCache, object: number, which: 0 | 1, now: number): void {
    const t = object - PAGE_OFFSET + this.infoEnd(s) + which * TRACK_SIZE;
    const lo = this.mem.read32(t);
    if (lo === 0 && this.mem.read32(t + 4) === 0) return;
    const addr = lo + (this.mem.read32(t + 4) & 0xffff) * K.TWO_32;
    const cpu = this.mem.read32(t + 12);
    const pid = this.mem.read32(t + 16) | 0;
    const when = this.mem.read64Number(t + 24);
    this.klog.printk(
      KERN_ERR,
      `${what} in ${this.kallsyms.formatSymbol(addr)} age=${now - when} cpu=${cpu} pid=${pid}`,
    );
    // stack_depot_print(): the saved stack — the allocator entry, then the caller.
    const handle = this.mem.read32(t + 8);
    if (handle === 0) {
      this.klog.printk(KERN_ERR, 'object allocation/free stack trace missing');
      return;
    }
    const entry = handle === 1 ? '__slab_alloc' : '__slab_free';
    this.klog.printk(KERN_ERR, ` ${this.kallsyms.formatSymbol(this.kallsyms.intern(entry))}`);
    this.klog.printk(KERN_ERR, ` ${this.kallsyms.formatSymbol(addr)}`);
  }

  /** print_tracking(). */
  printTracking(s: SlubCache, object: number): void {
    if (!(s.flags & SLAB_STORE_USER)) return;
    const now = this.ctx.clock.jiffies();
    this.printTrack('Allocated', s, object, 0, now);
    this.printTrack('Freed', s, object, 1, now);
  }

  /** The struct slab address `%p` prints: its struct page in the vmemmap. */
  private slabPtr(slab: number): string {
    return formatPtr(0xea00_0000_0000 + slab * 64);
  }

  /** print_slab_info(). */
  private printSlabInfo(slab: number): void {
    const fl = this.slabFreelist[slab]!;
    const names = this.mm.flagNames(slab);
    names.push(`node=${this.mm.node[slab]}`, `zone=${this.mm.zone[slab]}`);
    this.klog.printk(
      KERN_ERR,
      `Slab 0x${this.slabPtr(slab)} objects=${this.slabObjects[slab]} used=${this.slabInuse[slab]} fp=0x${formatPtr(fl)} flags=0x${this.mm.flags[slab]!.toString(16)}(${names.join('|')})`,
    );
  }

  /** slab_bug(): the banner. */
  private slabBug(s: SlubCache | null, what: string): void {
    this.klog.printk(
      KERN_ERR,
      '=============================================================================',
    );
    this.klog.printk(
      KERN_ERR,
      `BUG ${s ? s.name : '<unknown>'} (${this.ctx.printTainted()}): ${what}`,
    );
    this.klog.printk(
      KERN_ERR,
      '-----------------------------------------------------------------------------',
    );
    this.klog.printk(KERN_ERR, '');
  }

  /** slab_fix(). */
  private slabFix(s: SlubCache, what: string): void {
    this.klog.printk(KERN_ERR, `FIX ${s.name}: ${what}`);
  }

  private printSection(text: string, addr: number, len: number): void {
    if (len <= 0) return;
    const bytes = this.mem.readBytes(addr - PAGE_OFFSET, len);
    for (const l of hexDumpLines(text, addr, bytes)) this.klog.printk(KERN_ERR, l);
  }

  /** print_trailer(). */
  private printTrailer(s: SlubCache, slab: number, p: number): void {
    const addr = pfnToVirt(slab);
    this.printTracking(s, p);
    this.printSlabInfo(slab);
    const fp = this.getFreepointer(s, p);
    this.klog.printk(
      KERN_ERR,
      `Object 0x${formatPtr(p)} @offset=${p - addr} fp=0x${formatPtr(Math.max(fp, 0))}`,
    );
    this.klog.printk(KERN_ERR, '');
    if (s.flags & SLAB_RED_ZONE) this.printSection('Redzone  ', p - s.red_left_pad, s.red_left_pad);
    else if (p > addr + 16) this.printSection('Bytes b4 ', p - 16, 16);
    this.printSection('Object   ', p, Math.min(s.object_size, PAGE_SIZE));
    if (s.flags & SLAB_RED_ZONE)
      this.printSection('Redzone  ', p + s.object_size, s.inuse - s.object_size);
    let off = this.infoEnd(s);
    if (s.flags & SLAB_STORE_USER) off += 2 * TRACK_SIZE;
    if (s.flags & SLAB_STORE_USER && s.flags & SLAB_KMALLOC) off += WORD;
    const end = this.sizeFromObject(s);
    if (off !== end) this.printSection('Padding  ', p + off, end - off);
  }

  /** object_err(): banner, trailer, taint B, WARN_ON(1). */
  private objectErr(s: SlubCache, slab: number, object: number, reason: string): void {
    this.slabBug(s, reason);
    if (!object || !this.checkValidPointer(s, slab, object)) {
      this.printSlabInfo(slab);
      this.klog.printk(KERN_ERR, `Invalid pointer 0x${formatPtr(object)}`);
    } else this.printTrailer(s, slab, object);
    this.ctx.addTaint('B');
    this.ctx.warn('mm/slub.c:1127 object_err+0x0/0x0');
  }

  /** slab_err(): banner, slab info, taint B, WARN_ON(1). */
  private slabErr(s: SlubCache | null, slab: number, what: string): void {
    this.slabBug(s, what);
    this.printSlabInfo(slab);
    this.ctx.addTaint('B');
    this.ctx.warn('mm/slub.c:1152 __slab_err+0x0/0x0');
  }

  /**
   * check_bytes_and_report() in the 6.12.y/6.15+ format: `[<what> overwritten] …` first,
   * the object report only for the first problem in the object, then the FIX line and the
   * bytes restored.
   */
  private checkBytes(
    s: SlubCache,
    slab: number,
    object: number,
    what: string,
    start: number,
    value: number,
    bytes: number,
    printObject: boolean,
  ): boolean {
    if (bytes <= 0) return true;
    const phys = start - PAGE_OFFSET;
    const i = this.mem.findNot(phys, bytes, value);
    if (i < 0) return true;
    const fault = start + i;
    let end = start + bytes;
    while (end > fault && this.mem.read8(end - 1 - PAGE_OFFSET) === value) end--;
    const addr = pfnToVirt(slab);
    this.klog.printk(
      KERN_ERR,
      `[${what} overwritten] 0x${formatPtr(fault)}-0x${formatPtr(end - 1)} @offset=${fault - addr}. First byte 0x${this.mem.read8(fault - PAGE_OFFSET).toString(16)} instead of 0x${value.toString(16)}`,
    );
    if (printObject) this.objectErr(s, slab, object, 'Object corrupt');
    this.slabFix(
      s,
      `Restoring ${what} 0x${formatPtr(fault)}-0x${formatPtr(end - 1)}=0x${value.toString(16)}`,
    );
    this.mem.fill(fault - PAGE_OFFSET, end - fault, value);
    return false;
  }

  /** mm/slub.c check_object(). */
  private checkObjectBytes(s: SlubCache, slab: number, object: number, val: number): boolean {
    let ret = true;
    const endObject = object + s.object_size;
    if (s.flags & SLAB_RED_ZONE) {
      if (
        !this.checkBytes(
          s,
          slab,
          object,
          'Left Redzone',
          object - s.red_left_pad,
          val,
          s.red_left_pad,
          ret,
        )
      )
        ret = false;
      if (
        !this.checkBytes(
          s,
          slab,
          object,
          'Right Redzone',
          endObject,
          val,
          s.inuse - s.object_size,
          ret,
        )
      )
        ret = false;
      if (s.flags & SLAB_STORE_USER && s.flags & SLAB_KMALLOC && val === SLUB_RED_ACTIVE) {
        const orig = this.mem.read32(object - PAGE_OFFSET + this.infoEnd(s) + 2 * TRACK_SIZE);
        if (
          s.object_size > orig &&
          !this.checkBytes(
            s,
            slab,
            object,
            'kmalloc Redzone',
            object + orig,
            val,
            s.object_size - orig,
            ret,
          )
        )
          ret = false;
      }
    } else if (s.flags & SLAB_POISON && s.object_size < s.inuse) {
      if (
        !this.checkBytes(
          s,
          slab,
          object,
          'Alignment padding',
          endObject,
          POISON_INUSE,
          s.inuse - s.object_size,
          ret,
        )
      )
        ret = false;
    }
    if (s.flags & SLAB_POISON) {
      if (val !== SLUB_RED_ACTIVE && s.flags & __OBJECT_POISON) {
        if (
          !this.checkBytes(s, slab, object, 'Poison', object, POISON_FREE, s.object_size - 1, ret)
        )
          ret = false;
        if (
          !this.checkBytes(
            s,
            slab,
            object,
            'End Poison',
            object + s.object_size - 1,
            POISON_END,
            1,
            ret,
          )
        )
          ret = false;
      }
      // check_pad_bytes()
      let off = this.infoEnd(s);
      if (s.flags & SLAB_STORE_USER) {
        off += 2 * TRACK_SIZE;
        if (s.flags & SLAB_KMALLOC) off += WORD;
      }
      const end = this.sizeFromObject(s);
      if (
        end !== off &&
        !this.checkBytes(
          s,
          slab,
          object,
          'Object padding',
          object + off,
          POISON_INUSE,
          end - off,
          true,
        )
      )
        ret = false;
    }
    // "Cannot check freepointer while object is allocated if object and freepointer overlap."
    if (s.offset >= s.inuse || val !== SLUB_RED_ACTIVE) {
      const fp = this.getFreepointer(s, object);
      if (fp < 0 || !this.checkValidPointer(s, slab, fp)) {
        this.objectErr(s, slab, object, 'Freepointer corrupt');
        // "No choice but to zap it and thus lose the remainder of the free objects."
        this.setFreepointer(s, object, 0);
        ret = false;
      }
    }
    return ret;
  }

  /** check_slab(). */
  private checkSlab(s: SlubCache, slab: number): boolean {
    if (!this.mm.isSlab(slab)) {
      this.slabErr(s, slab, 'Not a valid slab page');
      return false;
    }
    const maxobj = orderObjects(this.slabOrder[slab]!, s.size);
    if (this.slabObjects[slab]! > maxobj) {
      this.slabErr(s, slab, `objects ${this.slabObjects[slab]} > max ${maxobj}`);
      return false;
    }
    if (this.slabInuse[slab]! > this.slabObjects[slab]!) {
      this.slabErr(s, slab, `inuse ${this.slabInuse[slab]} > max ${this.slabObjects[slab]}`);
      return false;
    }
    if (this.slabState[slab]! & SL.FROZEN) {
      this.slabErr(s, slab, 'Slab disabled since SLUB metadata consistency check failed');
      return false;
    }
    this.slabPadCheck(s, slab);
    return true;
  }

  /** slab_pad_check(): the bytes after the last object stay POISON_INUSE. */
  private slabPadCheck(s: SlubCache, slab: number): void {
    if (!(s.flags & SLAB_POISON)) return;
    const start = pfnToVirt(slab);
    const length = PAGE_SIZE << this.slabOrder[slab]!;
    const remainder = length % s.size;
    if (!remainder) return;
    const pad = start + length - remainder;
    const i = this.mem.findNot(pad - PAGE_OFFSET, remainder, POISON_INUSE);
    if (i < 0) return;
    const fault = pad + i;
    let end = start + length;
    while (end > fault && this.mem.read8(end - 1 - PAGE_OFFSET) === POISON_INUSE) end--;
    this.slabBug(
      s,
      `Padding overwritten. 0x${formatPtr(fault)}-0x${formatPtr(end - 1)} @offset=${fault - start}`,
    );
    this.printSection('Padding ', pad, remainder);
    this.printSlabInfo(slab);
    this.ctx.addTaint('B');
    this.ctx.warn('mm/slub.c:1152 __slab_err+0x0/0x0');
    this.slabFix(
      s,
      `Restoring slab padding 0x${formatPtr(fault)}-0x${formatPtr(end - 1)}=0x${POISON_INUSE.toString(16)}`,
    );
    this.mem.fill(fault - PAGE_OFFSET, end - fault, POISON_INUSE);
  }

  /** on_freelist(): is `search` on the slab's freelist? Also repairs counts as Linux does. */
  private onFreelist(s: SlubCache, slab: number, search: number): boolean {
    let nr = 0;
    let fp = this.slabFreelist[slab]!;
    let object = 0;
    const objects = this.slabObjects[slab]!;
    while (fp !== 0 && nr <= objects) {
      if (fp === search) return true;
      if (fp < 0 || !this.checkValidPointer(s, slab, fp)) {
        if (object) {
          this.objectErr(s, slab, object, 'Freechain corrupt');
          this.setFreepointer(s, object, 0);
        } else {
          this.slabErr(s, slab, 'Freepointer corrupt');
          this.slabFreelist[slab] = 0;
          this.slabInuse[slab] = objects;
          this.slabFix(s, 'Freelist cleared');
          return false;
        }
        break;
      }
      object = fp;
      fp = this.getFreepointer(s, object);
      nr++;
    }
    if (this.slabInuse[slab] !== objects - nr) {
      this.slabErr(
        s,
        slab,
        `Wrong object count. Counter is ${this.slabInuse[slab]} but counted were ${objects - nr}`,
      );
      this.slabInuse[slab] = objects - nr;
      this.slabFix(s, 'Object count adjusted');
    }
    return search === 0;
  }

  /** trace(): SLAB_TRACE. */
  private trace(s: SlubCache, slab: number, object: number, alloc: boolean): void {
    if (!(s.flags & SLAB_TRACE)) return;
    this.klog.printk(
      KERN_INFO,
      `TRACE ${s.name} ${alloc ? 'alloc' : 'free'} 0x${formatPtr(object)} inuse=${this.slabInuse[slab]} fp=0x${formatPtr(this.slabFreelist[slab]!)}`,
    );
    if (!alloc) {
      const bytes = this.mem.readBytes(object - PAGE_OFFSET, s.object_size);
      for (const l of hexDumpLines('Object ', object, bytes)) this.klog.printk(KERN_INFO, l);
    }
    this.ctx.dumpStack([
      'dump_stack_lvl+0x0/0x0',
      `${alloc ? 'alloc' : 'free'}_debug_processing+0x0/0x0`,
    ]);
  }

  // ---- shutdown, shrink, stats ---------------------------------------------------------------

  protected shutdownCache(s: SlubCache, _caller: number): boolean {
    this.flushAll(s);
    let empty = true;
    for (let n = 0; n < this.nrNodes; n++) {
      // free_partial(): empty slabs go, the others are listed.
      let slab = s.partialHead[n]!;
      while (slab !== SL.NIL) {
        const next = this.lruNext[slab]!;
        if (this.slabInuse[slab] === 0) {
          this.removePartial(s, n, slab);
          this.discardSlab(s, slab);
        } else this.listSlabObjects(s, slab);
        slab = next;
      }
      if (s.nrPartial[n] || s.nrSlabs[n]) empty = false;
    }
    return empty;
  }

  /** list_slab_objects(). */
  private listSlabObjects(s: SlubCache, slab: number): void {
    this.slabBug(s, 'Objects remaining on __kmem_cache_shutdown()');
    const free = new Set<number>();
    let fp = this.slabFreelist[slab]!;
    while (fp > 0 && free.size <= this.slabObjects[slab]!) {
      free.add(fp);
      fp = this.getFreepointer(s, fp);
    }
    const addr = pfnToVirt(slab);
    for (let i = 0; i < this.slabObjects[slab]!; i++) {
      const p = addr + s.red_left_pad + i * s.size;
      if (free.has(p)) continue;
      this.klog.printk(KERN_ERR, `Object 0x${formatPtr(p)} @offset=${p - addr}`);
      this.printTracking(s, p);
    }
    this.printSlabInfo(slab);
    this.ctx.addTaint('B');
    this.ctx.warn('mm/slub.c:1152 __slab_err+0x0/0x0');
  }

  /** __kmem_cache_do_shrink(): flush the CPUs and free every empty partial slab. */
  protected shrinkCache(s: SlubCache): number {
    this.flushAll(s);
    let pages = 0;
    for (let n = 0; n < this.nrNodes; n++) {
      let slab = s.partialHead[n]!;
      while (slab !== SL.NIL) {
        const next = this.lruNext[slab]!;
        if (this.slabInuse[slab] === 0) {
          this.removePartial(s, n, slab);
          pages += 1 << this.slabOrder[slab]!;
          this.discardSlab(s, slab);
        }
        slab = next;
      }
    }
    return pages;
  }

  /** slab_ksize(). */
  protected slabKsize(s: SlubCache, _object: number): number {
    if (s.flags & (SLAB_RED_ZONE | SLAB_POISON)) return s.object_size;
    if (s.flags & (SLAB_TYPESAFE_BY_RCU | SLAB_STORE_USER)) return s.inuse;
    return s.size;
  }

  /** count_partial_free_approx(): free objects on a node's partial slabs. */
  private countPartialFree(s: SlubCache, n: number): number {
    let free = 0;
    for (let slab = s.partialHead[n]!; slab !== SL.NIL; slab = this.lruNext[slab]!) {
      free += this.slabObjects[slab]! - this.slabInuse[slab]!;
    }
    return free;
  }

  /** get_slabinfo(): what /proc/slabinfo prints under SLUB. */
  cacheInfo(cache: KmemCache): SlabInfo {
    const s = this.cacheOf(cache, 'cacheInfo');
    let nrSlabs = 0;
    let nrObjs = 0;
    let nrFree = 0;
    for (let n = 0; n < this.nrNodes; n++) {
      nrSlabs += s.nrSlabs[n]!;
      nrObjs += s.totalObjects[n]!;
      nrFree += this.countPartialFree(s, n);
    }
    return {
      name: s.name,
      active_objs: nrObjs - nrFree,
      num_objs: nrObjs,
      objsize: s.size,
      objects_per_slab: s.objects,
      cache_order: s.order,
      active_slabs: nrSlabs,
      num_slabs: nrSlabs,
      limit: 0,
      batchcount: 0,
      shared: 0,
      shared_avail: 0,
    };
  }

  /** Objects really in use (slabinfo overcounts those free on CPU slabs and CPU partials). */
  liveObjects(cache: KmemCache): number {
    const s = this.cacheOf(cache, 'liveObjects');
    let total = 0;
    for (let n = 0; n < this.nrNodes; n++) total += s.totalObjects[n]!;
    for (const slab of this.slabsOf(s)) {
      total -= this.slabObjects[slab]! - this.slabInuse[slab]!;
    }
    for (let cpu = 0; cpu < this.nrCpus; cpu++) {
      for (
        let fp = s.pcf[cpu * PCF.STRIDE + PCF.FREELIST]!;
        fp > 0;
        fp = this.getFreepointer(s, fp)
      )
        total--;
    }
    return total;
  }

  /** Every slab of a cache (CPU slabs, CPU partials, node partials, and full slabs found by
   * scanning the memmap — full slabs are on no list without debugging). */
  slabsOf(cache: KmemCache): number[] {
    const s = this.cacheOf(cache, 'slabsOf');
    const out: number[] = [];
    const mm = this.mm;
    for (let pfn = 0; pfn < mm.nrPages; pfn++) {
      if (mm.pageType[pfn] === PGTY_slab && mm.owner[pfn] === s.id) out.push(pfn);
    }
    return out;
  }

  /** The geometry /sys/kernel/slab/<cache>/ shows. */
  sysfs(cache: KmemCache): SlubSysfs {
    const s = this.cacheOf(cache, 'sysfs');
    return {
      object_size: s.object_size,
      slab_size: s.size,
      objs_per_slab: s.objects,
      order: s.order,
      min_partial: s.min_partial,
      cpu_partial: s.cpu_partial,
      align: s.align,
      red_zone: s.flags & SLAB_RED_ZONE ? 1 : 0,
      poison: s.flags & SLAB_POISON ? 1 : 0,
      store_user: s.flags & SLAB_STORE_USER ? 1 : 0,
      sanity_checks: s.flags & SLAB_CONSISTENCY_CHECKS ? 1 : 0,
      trace: s.flags & SLAB_TRACE ? 1 : 0,
      aliases: s.refcount - 1,
      offset: s.offset,
      inuse: s.inuse,
      red_left_pad: s.red_left_pad,
    };
  }

  verify(): string[] {
    const errs: string[] = [];
    const mm = this.mm;
    // One pass over the memmap: every slab page, by owning cache.
    const byOwner = new Map<number, Set<number>>();
    for (let pfn = 0; pfn < mm.nrPages; pfn++) {
      if (mm.pageType[pfn] !== PGTY_slab) continue;
      const id = mm.owner[pfn]!;
      let set = byOwner.get(id);
      if (!set) byOwner.set(id, (set = new Set()));
      set.add(pfn);
      if (!this.cacheById[id] || this.cacheById[id]!.dead)
        errs.push(`slab page ${pfn} belongs to no live cache (owner ${id})`);
    }
    for (const s of this.cacheById) {
      if (!s || s.dead) continue;
      const slabs = byOwner.get(s.id) ?? new Set<number>();
      const perNode = new Float64Array(this.nrNodes);
      const objsNode = new Float64Array(this.nrNodes);
      const cpuOwned = new Set<number>();
      for (let cpu = 0; cpu < this.nrCpus; cpu++) {
        const slab = s.pci[cpu * PCI.STRIDE + PCI.SLAB]!;
        if (slab !== SL.NIL) {
          if (!slabs.has(slab))
            errs.push(`${s.name}: cpu ${cpu} slab ${slab} is not a slab of the cache`);
          if (!(this.slabState[slab]! & SL.FROZEN))
            errs.push(`${s.name}: cpu ${cpu} slab ${slab} is not frozen`);
          cpuOwned.add(slab);
          let n = 0;
          for (
            let fp = s.pcf[cpu * PCF.STRIDE + PCF.FREELIST]!;
            fp !== 0;
            fp = this.getFreepointer(s, fp)
          ) {
            if (fp < 0 || !this.checkValidPointer(s, slab, fp)) {
              errs.push(`${s.name}: cpu ${cpu} freelist leaves slab ${slab}`);
              break;
            }
            if (++n > this.slabObjects[slab]!) {
              errs.push(`${s.name}: cpu ${cpu} freelist loops`);
              break;
            }
          }
        } else if (s.pcf[cpu * PCF.STRIDE + PCF.FREELIST] !== 0)
          errs.push(`${s.name}: cpu ${cpu} has a freelist without a slab`);
        let count = 0;
        for (
          let slab2 = s.pci[cpu * PCI.STRIDE + PCI.PARTIAL]!;
          slab2 !== SL.NIL;
          slab2 = this.lruNext[slab2]!
        ) {
          count++;
          if (!slabs.has(slab2))
            errs.push(`${s.name}: cpu ${cpu} partial ${slab2} is not a slab of the cache`);
          if (count > slabs.size) break;
        }
        if (count !== s.pci[cpu * PCI.STRIDE + PCI.PARTIAL_SLABS])
          errs.push(
            `${s.name}: cpu ${cpu} partial count ${s.pci[cpu * PCI.STRIDE + PCI.PARTIAL_SLABS]} != ${count}`,
          );
      }
      for (let n = 0; n < this.nrNodes; n++) {
        let count = 0;
        let prev = SL.NIL;
        for (let slab = s.partialHead[n]!; slab !== SL.NIL; slab = this.lruNext[slab]!) {
          count++;
          if (this.lruPrev[slab] !== prev)
            errs.push(`${s.name}: node ${n} partial list prev link of ${slab} broken`);
          if (!(this.slabState[slab]! & SL.NODE_PARTIAL))
            errs.push(`${s.name}: slab ${slab} on partial list not marked`);
          if (this.slabInuse[slab] === this.slabObjects[slab])
            errs.push(`${s.name}: full slab ${slab} on the partial list`);
          prev = slab;
          if (count > slabs.size) break;
        }
        if (count !== s.nrPartial[n])
          errs.push(`${s.name}: node ${n} nr_partial ${s.nrPartial[n]} != ${count}`);
        if (prev !== s.partialTail[n]) errs.push(`${s.name}: node ${n} partial tail broken`);
      }
      for (const slab of slabs) {
        const n = mm.node[slab]!;
        perNode[n]!++;
        objsNode[n]! += this.slabObjects[slab]!;
        if (cpuOwned.has(slab)) continue;
        if (this.slabState[slab]! & SL.FROZEN && s.debug) continue; // disabled by a failed check
        let free = 0;
        for (let fp = this.slabFreelist[slab]!; fp !== 0; fp = this.getFreepointer(s, fp)) {
          if (fp < 0 || !this.checkValidPointer(s, slab, fp)) {
            errs.push(`${s.name}: slab ${slab} freelist points outside the slab`);
            break;
          }
          if (++free > this.slabObjects[slab]!) {
            errs.push(`${s.name}: slab ${slab} freelist loops`);
            break;
          }
        }
        if (this.slabInuse[slab]! + free !== this.slabObjects[slab]) {
          errs.push(
            `${s.name}: slab ${slab} inuse ${this.slabInuse[slab]} + free ${free} != objects ${this.slabObjects[slab]}`,
          );
        }
      }
      for (let n = 0; n < this.nrNodes; n++) {
        if (perNode[n] !== s.nrSlabs[n])
          errs.push(`${s.name}: node ${n} nr_slabs ${s.nrSlabs[n]} != ${perNode[n]}`);
        if (objsNode[n] !== s.totalObjects[n])
          errs.push(`${s.name}: node ${n} total_objects ${s.totalObjects[n]} != ${objsNode[n]}`);
      }
    }
    return errs;
  }
}

/** The SLUB factory: `createSlub(env, { slabDebug: 'FZPU' })`. */
export const createSlub = (env: SlabEnv, options?: SlabOptions): SlubAllocator =>
  new SlubAllocator(env, options);
