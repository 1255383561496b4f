/**
 * What the three slab allocators share: mm/slab_common.c.
 *
 * `SlabAllocatorBase` is the common front: kmem_cache_create() with both of its signatures,
 * the sanity checks and the failure paths (SLAB_PANIC), cache merging hooks, the list of
 * caches, the kmalloc size classes and caches (create_kmalloc_caches(), kmalloc_slab()),
 * large kmalloc straight from the page allocator, kfree() and ksize() dispatch, and the
 * JavaScript-level argument checks. An implementation (slub.ts, slab.ts, slob.ts) supplies
 * the object management through a handful of protected hooks.
 *
 * Objects are direct-map virtual addresses (PAGE_OFFSET + physical address); a slab's pages
 * carry page type PGTY_slab on the head and `owner` = the cache id, as page->slab_cache.
 */
import {
  __GFP_ACCOUNT,
  __GFP_BITS_MASK,
  __GFP_COMP,
  __GFP_DMA,
  __GFP_RECLAIMABLE,
  __GFP_ZERO,
  assertSlabFlags,
  type CallSite,
  type ExecContext,
  formatPtr,
  type Gfp,
  getOrder,
  isZeroOrNullPtr,
  type Kallsyms,
  KERN_ERR,
  KERN_WARNING,
  type Klog,
  type KmemCache,
  type KmemCacheArgs,
  MAX_PAGE_ORDER,
  type MemMap,
  NO_PAGE,
  NUMA_NO_NODE,
  PAGE_OFFSET,
  PAGE_SIZE,
  type PageAllocator,
  type PhysicalMemory,
  pfnToVirt,
  SLAB_ACCOUNT,
  SLAB_CACHE_DMA,
  SLAB_HWCACHE_ALIGN,
  SLAB_KMALLOC,
  SLAB_MUST_HWCACHE_ALIGN,
  SLAB_NO_MERGE,
  SLAB_NO_REAP,
  SLAB_PANIC,
  SLAB_RECLAIM_ACCOUNT,
  type SlabAllocator,
  type SlabCtor,
  type SlabEnv,
  type SlabInfo,
  ZERO_SIZE_PTR,
} from '@mmsim/core';
import type { SlabOptions } from './api.js';

// ---- kmalloc constants (include/linux/slab.h, 4 KiB pages, x86-64) ---------------------------

/** KMALLOC_SHIFT_HIGH = PAGE_SHIFT + 1: kmalloc caches go up to 8 KiB. */
export const KMALLOC_SHIFT_HIGH = 13;
export const KMALLOC_MAX_CACHE_SIZE = 1 << KMALLOC_SHIFT_HIGH;
/** KMALLOC_SHIFT_MAX = MAX_PAGE_ORDER + PAGE_SHIFT: the largest kmalloc is 4 MiB. */
export const KMALLOC_SHIFT_MAX = MAX_PAGE_ORDER + 12;
export const KMALLOC_MAX_SIZE = 2 ** KMALLOC_SHIFT_MAX;
/** ARCH_KMALLOC_MINALIGN = __alignof__(unsigned long long). */
export const ARCH_KMALLOC_MINALIGN = 8;
/** sizeof(void *). */
export const WORD = 8;

// include/linux/poison.h: the bytes all three allocators poison with.
/** Padding and fresh slabs: "for use-uninitialised poisoning". */
export const POISON_INUSE = 0x5a;
/** Free objects: "for use-after-free poisoning". */
export const POISON_FREE = 0x6b;
/** The last byte of a poisoned object. */
export const POISON_END = 0xa5;

/** enum kmalloc_cache_type, in creation order (NO_OBJ_EXT aliases NORMAL when not needed). */
export const KMALLOC_NORMAL = 0;
export const KMALLOC_RECLAIM = 1;
export const KMALLOC_DMA = 2;
export const KMALLOC_CGROUP = 3;
export const NR_KMALLOC_TYPES = 4;

/** mm/slab_common.c kmalloc_info[]: size and the name per type, index 0..13. */
const KMALLOC_SIZES = [0, 96, 192, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192];
const KMALLOC_SHORT = [
  '',
  '96',
  '192',
  '8',
  '16',
  '32',
  '64',
  '128',
  '256',
  '512',
  '1k',
  '2k',
  '4k',
  '8k',
];
const KMALLOC_PREFIX = ['kmalloc-', 'kmalloc-rcl-', 'dma-kmalloc-', 'kmalloc-cg-'];
const KMALLOC_TYPE_FLAGS = [SLAB_NO_MERGE, SLAB_RECLAIM_ACCOUNT, SLAB_CACHE_DMA, SLAB_ACCOUNT];

/** The name of kmalloc cache `index` of `type`, e.g. ('kmalloc-1k'). */
export function kmallocName(type: number, index: number): string {
  return KMALLOC_PREFIX[type]! + KMALLOC_SHORT[index]!;
}
/** The size of kmalloc cache `index` (kmalloc_info[index].size). */
export const kmallocSize = (index: number): number => KMALLOC_SIZES[index]!;

/** fls(): the 1-based index of the highest set bit (0 for 0). */
export const fls = (x: number): number => (x === 0 ? 0 : 32 - Math.clz32(x));
/** ALIGN(x, a) for a power-of-two a. */
export const alignUp = (x: number, a: number): number => Math.ceil(x / a) * a;

/**
 * mm/slab_common.c calculate_alignment(): the cache line (halved while the object fits in
 * half of it) for SLAB_HWCACHE_ALIGN, never below the caller's alignment or a word. The
 * legacy SLAB_MUST_HWCACHE_ALIGN forces the full line.
 */
export function calculateAlignment(
  flags: number,
  align: number,
  size: number,
  cacheLineSize = 64,
): number {
  if (flags & SLAB_MUST_HWCACHE_ALIGN) {
    align = Math.max(align, cacheLineSize);
  } else if (flags & SLAB_HWCACHE_ALIGN) {
    let ralign = cacheLineSize;
    while (size <= ralign / 2) ralign /= 2;
    align = Math.max(align, ralign);
  }
  align = Math.max(align, ARCH_KMALLOC_MINALIGN);
  return alignUp(align, WORD);
}

// ---- the cache handle -------------------------------------------------------------------------

/** The creation arguments after both kmem_cache_create() forms are folded into one. */
export interface CacheArgs {
  align: number;
  useroffset: number;
  usersize: number;
  freeptrOffset: number;
  useFreeptrOffset: boolean;
  ctor: SlabCtor | null;
}

/** struct kmem_cache's common part; implementations extend it with their own fields. */
export class SlabCacheBase implements KmemCache {
  /** The id stored in MemMap.owner of this cache's slab pages (>= 1). */
  readonly id: number;
  name: string;
  object_size: number;
  size: number;
  align: number;
  flags: number;
  readonly ctor: SlabCtor | null;
  refcount = 1;
  useroffset: number;
  usersize: number;
  /** On slab_caches (false once destroyed, or unlinked by a failed destroy). */
  listed = true;
  /** Destroyed for good: the handle is dead. */
  dead = false;
  /** Names merged into this cache (sysfs aliases), for tools. */
  readonly aliases: string[] = [];

  constructor(id: number, name: string, objectSize: number, flags: number, args: CacheArgs) {
    this.id = id;
    this.name = name;
    this.object_size = objectSize;
    this.size = objectSize;
    this.align = args.align;
    this.flags = flags;
    this.ctor = args.ctor;
    this.useroffset = args.useroffset;
    this.usersize = args.usersize;
  }
}

/** The number a CallSite stands for (a kallsyms address). */
export function callSiteAddr(
  kallsyms: Kallsyms,
  caller: CallSite | undefined,
  dflt: string,
): number {
  if (caller === undefined) return kallsyms.intern(dflt);
  if (typeof caller === 'string') return kallsyms.intern(caller);
  if (!Number.isSafeInteger(caller) || caller < 0) {
    throw new TypeError(`call site ${String(caller)}: expected a text address or a function name`);
  }
  return caller;
}

/** print_hex_dump(level, prefix, DUMP_PREFIX_ADDRESS, 16, 1, …, true): one line per 16 bytes. */
export function hexDumpLines(prefix: string, addr: number, bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, Math.min(off + 16, bytes.length));
    let hex = '';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      if (i < row.length) {
        const b = row[i]!;
        hex += `${b.toString(16).padStart(2, '0')} `;
        ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      } else hex += '   ';
    }
    // hex_dump_to_buffer(): the ASCII column starts after groups + one space.
    lines.push(`${prefix}${formatPtr(addr + off)}: ${hex} ${ascii}`.replace(/ +$/, ''));
  }
  return lines;
}

// ---- the allocator base -----------------------------------------------------------------------

/**
 * The parts of every slab allocator that mm/slab_common.c holds. `C` is the
 * implementation's cache type.
 */
export abstract class SlabAllocatorBase<C extends SlabCacheBase> implements SlabAllocator {
  abstract readonly name: string;
  readonly env: SlabEnv;
  protected readonly pages: PageAllocator;
  protected readonly mem: PhysicalMemory;
  protected readonly mm: MemMap;
  protected readonly klog: Klog;
  protected readonly ctx: ExecContext;
  protected readonly kallsyms: Kallsyms;
  protected readonly cacheLineSize: number;
  protected readonly slabNomerge: boolean;
  /** slab_caches: every live cache, in creation order. */
  protected readonly slabCaches: C[] = [];
  /** owner id → cache; id 0 is "not a slab". */
  protected readonly cacheById: (C | undefined)[] = [undefined];
  /** kmalloc_caches[type][index]. */
  protected readonly kmallocCaches: (C | undefined)[][] = [[], [], [], []];
  /** kmalloc_size_index[]: (size - 1) / 8 → index, for sizes up to 192. */
  private readonly sizeIndex = new Uint8Array(24);
  /** KMALLOC_SHIFT_LOW: 3 for SLUB (kmalloc-8), 5 for SLAB (kmalloc-32). */
  protected readonly kmallocShiftLow: number;
  /**
   * The call sites recorded when a caller names none (JavaScript has no _RET_IP_): the API
   * entry point itself, so SLAB_STORE_USER tracks read `Allocated in kmalloc+0x0/0x100`.
   */
  protected readonly siteKmemCacheAlloc: number;
  protected readonly siteKmemCacheFree: number;
  protected readonly siteKmalloc: number;
  protected readonly siteKfree: number;

  constructor(env: SlabEnv, options: SlabOptions, kmallocShiftLow: number) {
    if (!env?.pageAllocator || !env.memory || !env.memMap || !env.ctx || !env.kallsyms) {
      throw new TypeError(
        'slab allocator: env needs pageAllocator, memory, memMap, klog, ctx, cpuToNode, nrNodes and kallsyms',
      );
    }
    this.env = env;
    this.pages = env.pageAllocator;
    this.mem = env.memory;
    this.mm = env.memMap;
    this.klog = env.klog;
    this.ctx = env.ctx;
    this.kallsyms = env.kallsyms;
    this.cacheLineSize = options.cacheLineSize ?? 64;
    if (
      !Number.isInteger(this.cacheLineSize) ||
      this.cacheLineSize < 8 ||
      (this.cacheLineSize & (this.cacheLineSize - 1)) !== 0
    ) {
      throw new RangeError(
        `cacheLineSize ${String(options.cacheLineSize)}: expected a power of two >= 8`,
      );
    }
    this.slabNomerge = options.slabNomerge ?? false;
    this.kmallocShiftLow = kmallocShiftLow;
    this.siteKmemCacheAlloc = this.kallsyms.intern('kmem_cache_alloc');
    this.siteKmemCacheFree = this.kallsyms.intern('kmem_cache_free');
    this.siteKmalloc = this.kallsyms.intern('kmalloc');
    this.siteKfree = this.kallsyms.intern('kfree');
    // mm/slab.h kmalloc_size_index, patched by setup_kmalloc_cache_index_table() when
    // KMALLOC_MIN_SIZE > 8.
    const table = [3, 4, 5, 5, 6, 6, 6, 6, 1, 1, 1, 1, 7, 7, 7, 7, 2, 2, 2, 2, 2, 2, 2, 2];
    const minSize = 1 << kmallocShiftLow;
    for (let i = 0; i < 24; i++) {
      let idx = table[i]!;
      if ((i + 1) * 8 <= minSize) idx = kmallocShiftLow;
      this.sizeIndex[i] = idx;
    }
  }

  // ---- hooks an implementation supplies ------------------------------------------------------

  /**
   * create_cache() → __kmem_cache_create(): lay out a new cache with id `id`. Return null
   * when it cannot be created (the caller reports the failure as Linux does).
   */
  protected abstract createCache(
    id: number,
    name: string,
    size: number,
    flags: number,
    args: CacheArgs,
  ): C | null;
  /** __kmem_cache_alias(): an existing cache to merge into, or null. */
  protected findMergeable(_size: number, _flags: number, _args: CacheArgs): C | null {
    return null;
  }
  /** slab_alloc_node(): an object of `s` or 0. `origSize` is the kmalloc request size. */
  protected abstract slabAlloc(
    s: C,
    gfp: Gfp,
    nid: number,
    caller: number,
    origSize: number,
  ): number;
  /** kmem_cache_free() after the JS checks: cache_from_obj() and slab_free(). */
  protected abstract cacheFree(s: C, object: number, caller: number): void;
  /** kfree() of an object in the slab (head pfn `slab`) of cache `s`. */
  protected abstract kfreeSlabObject(s: C, object: number, caller: number, slab: number): void;
  /** __kmem_cache_shutdown(): free everything; report live objects and return false. */
  protected abstract shutdownCache(s: C, caller: number): boolean;
  /** __kmem_cache_shrink(): give empty slabs back; returns the pages freed. */
  protected abstract shrinkCache(s: C): number;
  /** __ksize() of an object in a slab page of `s`. */
  protected abstract slabKsize(s: C, object: number): number;
  abstract cacheInfo(s: KmemCache): SlabInfo;
  abstract verify(): string[];

  // ---- kmem_cache_create ---------------------------------------------------------------------

  kmem_cache_create(
    name: string,
    size: number,
    alignOrArgs?: number | KmemCacheArgs | null,
    flags?: number,
    ctor?: SlabCtor | null,
  ): KmemCache | null {
    let args: CacheArgs;
    if (alignOrArgs === null || typeof alignOrArgs === 'object') {
      const a = alignOrArgs ?? {};
      if (ctor !== undefined) {
        throw new TypeError('kmem_cache_create(name, size, args, flags): the ctor goes in args');
      }
      args = {
        align: a.align ?? 0,
        useroffset: a.useroffset ?? 0,
        usersize: a.usersize ?? 0,
        freeptrOffset: a.freeptr_offset ?? 0,
        useFreeptrOffset: a.use_freeptr_offset ?? false,
        ctor: a.ctor ?? null,
      };
    } else {
      args = {
        align: alignOrArgs ?? 0,
        useroffset: 0,
        usersize: 0,
        freeptrOffset: 0,
        useFreeptrOffset: false,
        ctor: ctor ?? null,
      };
    }
    flags ??= 0;
    if (typeof name !== 'string') {
      throw new TypeError(`kmem_cache_create: name ${String(name)} is not a string`);
    }
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RangeError(
        `kmem_cache_create(${name}): size ${String(size)} is not an unsigned int`,
      );
    }
    assertSlabFlags(flags);
    for (const [k, v] of [
      ['align', args.align],
      ['useroffset', args.useroffset],
      ['usersize', args.usersize],
      ['freeptr_offset', args.freeptrOffset],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 0) {
        throw new RangeError(
          `kmem_cache_create(${name}): ${k} ${String(v)} is not an unsigned int`,
        );
      }
    }
    if (args.align & (args.align - 1)) {
      throw new RangeError(`kmem_cache_create(${name}): align ${args.align} is not a power of two`);
    }
    if (args.ctor !== null && typeof args.ctor !== 'function') {
      throw new TypeError(`kmem_cache_create(${name}): ctor is not a function`);
    }

    const err = this.sanityCheck(name, size);
    if (err === 0) {
      // Fail closed on bad usersize/useroffset (HARDENED_USERCOPY).
      if (args.usersize === 0 && args.useroffset !== 0) {
        this.ctx.warn('mm/slab_common.c:343 __kmem_cache_create_args+0x0/0x0');
        args.usersize = args.useroffset = 0;
      } else if (size < args.usersize || size - args.usersize < args.useroffset) {
        this.ctx.warn('mm/slab_common.c:344 __kmem_cache_create_args+0x0/0x0');
        args.usersize = args.useroffset = 0;
      }
      const alias = this.findMergeable(size, flags, args);
      if (alias) {
        alias.refcount++;
        alias.aliases.push(name);
        return alias;
      }
      args.align = calculateAlignment(flags, args.align, size, this.cacheLineSize);
      const s = this.createCache(this.cacheById.length, name, size, flags, args);
      if (s) {
        this.cacheById.push(s);
        this.slabCaches.push(s);
        return s;
      }
    }
    const code = err || -12; // -ENOMEM when the implementation could not lay it out
    if (flags & SLAB_PANIC) {
      throw this.ctx.panic(
        `__kmem_cache_create_args: Failed to create slab '${name}'. Error ${code}`,
      );
    }
    this.klog.printk(KERN_WARNING, `__kmem_cache_create_args(${name}) failed with error ${code}`);
    this.ctx.dumpStack(['dump_stack_lvl+0x0/0x0', '__kmem_cache_create_args+0x0/0x0']);
    return null;
  }

  /** mm/slab_common.c kmem_cache_sanity_check(): 0 or -EINVAL. */
  private sanityCheck(name: string, size: number): number {
    if (this.ctx.inInterrupt() || size > KMALLOC_MAX_SIZE || name === '') {
      this.klog.printk(KERN_ERR, `kmem_cache_create(${name}) integrity check failed`);
      return -22;
    }
    if (this.slabCaches.some((c) => c.name === name)) {
      this.ctx.warn(
        'mm/slab_common.c:108 kmem_cache_sanity_check+0x0/0x0',
        `kmem_cache of name '${name}' already exists`,
      );
    }
    if (name.includes(' ')) this.ctx.warn('mm/slab_common.c:110 kmem_cache_sanity_check+0x0/0x0');
    return 0;
  }

  /**
   * find_mergeable()'s common test (mm/slab_common.c): may a request of `size`/`flags` go
   * into `s`? `neverMerge` are the flags that forbid merging on this implementation.
   */
  protected mergeableInto(
    s: C,
    size: number,
    align: number,
    flags: number,
    neverMerge: number,
    mergeSame: number,
  ): boolean {
    if (this.slabNomerge || s.flags & neverMerge || s.ctor || s.usersize || s.refcount < 0) {
      return false;
    }
    if (size > s.size) return false;
    if ((flags & mergeSame) !== (s.flags & mergeSame)) return false;
    if ((s.size & ~(align - 1)) !== s.size) return false;
    if (s.size - size >= WORD) return false;
    return true;
  }

  // ---- cache operations ----------------------------------------------------------------------

  /** The cache behind a handle, or a TypeError for a handle this allocator did not make. */
  protected cacheOf(s: KmemCache, fn: string): C {
    const c = s as C;
    if (c === null || typeof c !== 'object' || this.cacheById[c.id] !== c) {
      throw new TypeError(
        `${fn}: ${s && typeof s === 'object' ? `cache '${String((s as KmemCache).name)}'` : String(s)} is not a cache of this ${this.name} allocator`,
      );
    }
    if (c.dead) throw new TypeError(`${fn}: cache '${c.name}' was destroyed`);
    return c;
  }

  protected checkGfp(gfp: Gfp, fn: string): void {
    if (gfp >>> 0 !== gfp || gfp > __GFP_BITS_MASK) {
      throw new RangeError(`${fn}: gfp 0x${Number(gfp).toString(16)} has unknown bits`);
    }
  }

  kmem_cache_alloc(s: KmemCache, gfp: Gfp, caller?: CallSite): number {
    const c = this.cacheOf(s, 'kmem_cache_alloc');
    this.checkGfp(gfp, 'kmem_cache_alloc');
    const site =
      caller === undefined ? this.siteKmemCacheAlloc : callSiteAddr(this.kallsyms, caller, '');
    return this.slabAlloc(c, gfp, NUMA_NO_NODE, site, c.object_size);
  }

  kmem_cache_zalloc(s: KmemCache, gfp: Gfp, caller?: CallSite): number {
    return this.kmem_cache_alloc(s, gfp | __GFP_ZERO, caller);
  }

  kmem_cache_alloc_node(s: KmemCache, gfp: Gfp, nid: number, caller?: CallSite): number {
    const c = this.cacheOf(s, 'kmem_cache_alloc_node');
    this.checkGfp(gfp, 'kmem_cache_alloc_node');
    this.checkNid(nid, 'kmem_cache_alloc_node');
    const site =
      caller === undefined ? this.siteKmemCacheAlloc : callSiteAddr(this.kallsyms, caller, '');
    return this.slabAlloc(c, gfp, nid, site, c.object_size);
  }

  protected checkNid(nid: number, fn: string): void {
    if (nid !== NUMA_NO_NODE && !(Number.isInteger(nid) && nid >= 0 && nid < this.env.nrNodes)) {
      throw new RangeError(
        `${fn}: node ${String(nid)} does not exist (0..${this.env.nrNodes - 1} or NUMA_NO_NODE)`,
      );
    }
  }

  protected checkObject(object: number, fn: string): void {
    if (!Number.isSafeInteger(object) || object < 0) {
      throw new TypeError(`${fn}: ${String(object)} is not an address`);
    }
  }

  kmem_cache_free(s: KmemCache, object: number, caller?: CallSite): void {
    const c = this.cacheOf(s, 'kmem_cache_free');
    this.checkObject(object, 'kmem_cache_free');
    const site =
      caller === undefined ? this.siteKmemCacheFree : callSiteAddr(this.kallsyms, caller, '');
    this.cacheFree(c, object, site);
  }

  kmem_cache_shrink(s: KmemCache): number {
    const c = this.cacheOf(s, 'kmem_cache_shrink');
    this.shrinkCache(c);
    return this.cacheInfo(c).num_slabs === 0 ? 0 : 1;
  }

  kmem_cache_destroy(s: KmemCache | null, caller?: CallSite): void {
    if (s === null || s === undefined) return;
    const c = this.cacheOf(s, 'kmem_cache_destroy');
    const site = callSiteAddr(this.kallsyms, caller, 'kmem_cache_destroy_caller');
    if (c.refcount > 1) {
      c.refcount--;
      return;
    }
    if (c.flags & SLAB_KMALLOC && this.isKmallocCache(c)) {
      throw new TypeError(`kmem_cache_destroy: '${c.name}' is a kmalloc cache and lives forever`);
    }
    const empty = this.shutdownCache(c, site);
    if (!empty) {
      this.ctx.warn(
        'mm/slab_common.c:548 kmem_cache_destroy+0x0/0x0',
        `kmem_cache_destroy ${c.name}: Slab cache still has objects when called from ${this.kallsyms.formatSymbol(site)}`,
      );
    }
    // list_del(&s->list): gone from slab_caches (and /proc/slabinfo) either way. A cache
    // with objects is leaked as Linux leaks it; its objects stay valid and may be freed, and
    // a later destroy of the (then empty) handle finishes the job.
    if (c.listed) {
      c.listed = false;
      this.slabCaches.splice(this.slabCaches.indexOf(c), 1);
    }
    if (empty) c.dead = true;
  }

  private isKmallocCache(c: C): boolean {
    return this.kmallocCaches.some((row) => row.includes(c));
  }

  kmem_cache_size(s: KmemCache): number {
    return this.cacheOf(s, 'kmem_cache_size').object_size;
  }

  caches(): readonly KmemCache[] {
    return this.slabCaches.slice();
  }

  /**
   * The shrinker hook: shrink every cache. Caches created with the legacy SLAB_NO_REAP are
   * left alone, as the 2.6 reaper and kmem_cache_reap() skipped them.
   */
  shrinkAll(): number {
    let pages = 0;
    for (const c of this.slabCaches) if (!(c.flags & SLAB_NO_REAP)) pages += this.shrinkCache(c);
    return pages;
  }

  // ---- kmalloc -------------------------------------------------------------------------------

  /** create_kmalloc_caches(); implementations call it at the end of their constructor. */
  protected createKmallocCaches(): void {
    for (let type = 0; type < NR_KMALLOC_TYPES; type++) {
      const indices: number[] = [];
      if (1 << this.kmallocShiftLow <= 32) indices.push(1);
      if (1 << this.kmallocShiftLow <= 64) indices.push(2);
      for (let i = this.kmallocShiftLow; i <= KMALLOC_SHIFT_HIGH; i++) indices.push(i);
      for (const i of indices) {
        const size = KMALLOC_SIZES[i]!;
        const args: CacheArgs = {
          align: calculateAlignment(0, ARCH_KMALLOC_MINALIGN, size, this.cacheLineSize),
          useroffset: 0,
          usersize: size,
          freeptrOffset: 0,
          useFreeptrOffset: false,
          ctor: null,
        };
        // Power-of-two kmalloc sizes are naturally aligned (create_boot_cache()).
        if ((size & (size - 1)) === 0) args.align = Math.max(args.align, Math.min(size, PAGE_SIZE));
        const flags = KMALLOC_TYPE_FLAGS[type]! | SLAB_KMALLOC;
        const s = this.createCache(this.cacheById.length, kmallocName(type, i), size, flags, args);
        if (!s) throw new Error(`create_kmalloc_caches: cannot create ${kmallocName(type, i)}`);
        this.cacheById.push(s);
        this.slabCaches.push(s);
        this.kmallocCaches[type]![i] = s;
      }
    }
  }

  /** kmalloc_type(): which family a gfp mask allocates from. */
  protected kmallocType(gfp: Gfp): number {
    if ((gfp & (__GFP_RECLAIMABLE | __GFP_DMA | __GFP_ACCOUNT)) === 0) return KMALLOC_NORMAL;
    if (gfp & __GFP_DMA) return KMALLOC_DMA;
    if (gfp & __GFP_RECLAIMABLE) return KMALLOC_RECLAIM;
    return KMALLOC_CGROUP;
  }

  /** __kmalloc_index() / kmalloc_slab(): the cache index for 1..KMALLOC_MAX_CACHE_SIZE. */
  kmallocIndex(size: number): number {
    if (size <= 192) return this.sizeIndex[(size - 1) >> 3]!;
    return fls(size - 1);
  }

  /** The kmalloc cache serving `size` bytes with `gfp`, or null (sizes above 8 KiB). */
  kmallocCache(size: number, gfp: Gfp = 0): KmemCache | null {
    if (size < 1 || size > KMALLOC_MAX_CACHE_SIZE) return null;
    return this.kmallocCaches[this.kmallocType(gfp)]![this.kmallocIndex(size)] ?? null;
  }

  kmalloc(size: number, gfp: Gfp, nid: number = NUMA_NO_NODE, caller?: CallSite): number {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RangeError(`kmalloc: size ${String(size)} is not a size_t`);
    }
    this.checkGfp(gfp, 'kmalloc');
    this.checkNid(nid, 'kmalloc');
    if (size > KMALLOC_MAX_CACHE_SIZE) return this.kmallocLarge(size, gfp, nid);
    if (size === 0) return ZERO_SIZE_PTR;
    const s = this.kmallocCaches[this.kmallocType(gfp)]![this.kmallocIndex(size)];
    if (!s) return this.kmallocLarge(size, gfp, nid);
    const site = caller === undefined ? this.siteKmalloc : callSiteAddr(this.kallsyms, caller, '');
    return this.slabAlloc(s, gfp, nid, site, size);
  }

  /**
   * mm/slub.c __kmalloc_large_node(): "we pass through large allocation requests directly to
   * the page allocator", as a compound page so kfree() knows the order.
   */
  protected kmallocLarge(size: number, gfp: Gfp, nid: number): number {
    const order = getOrder(size);
    const pfn = this.pages.allocPages(gfp | __GFP_COMP, order, nid);
    return pfn === NO_PAGE ? 0 : pfnToVirt(pfn);
  }

  /** The pfn of a direct-map address, or an Oops for an address with no struct page. */
  protected objectPfn(object: number, fn: string): number {
    const pfn = Math.floor((object - PAGE_OFFSET) / PAGE_SIZE);
    if (pfn >= 0 && pfn < this.mm.nrPages) return pfn;
    // virt_to_folio() of an address outside the direct map reads a struct page that does not
    // exist: a page fault in kernel mode (arch/x86/mm/fault.c show_fault_oops()).
    const vmemmap = 0xea00_0000_0000 + pfn * 64;
    const where = vmemmap >= 0 && vmemmap < 2 ** 48 ? vmemmap : 0;
    throw this.ctx.oops(
      [
        `BUG: unable to handle page fault for address: ${formatPtr(where)}`,
        '#PF: supervisor read access in kernel mode',
        '#PF: error_code(0x0000) - not-present page',
      ],
      'Oops',
      0,
      [`${fn}+0x0/0x0`],
    );
  }

  kfree(object: number, caller?: CallSite): void {
    this.checkObject(object, 'kfree');
    if (isZeroOrNullPtr(object)) return;
    const pfn = this.objectPfn(object, 'kfree');
    const head = this.mm.compoundHead(pfn);
    const site = caller === undefined ? this.siteKfree : callSiteAddr(this.kallsyms, caller, '');
    if (!this.mm.isSlab(head)) {
      this.freeLargeKmalloc(head, object);
      return;
    }
    const s = this.cacheById[this.mm.owner[head]!];
    if (!s) {
      // A slab page without a cache: only a corrupted struct page gets here.
      throw this.ctx.bug('mm/slub.c:4733', ['kfree+0x0/0x0']);
    }
    this.kfreeSlabObject(s, object, site, head);
  }

  /** mm/slub.c free_large_kmalloc(). */
  protected freeLargeKmalloc(head: number, object: number): void {
    const order = this.mm.isHead(head) ? this.mm.order[head]! : 0;
    if (order === 0) {
      const warned = this.ctx.warnOnce(
        'free_large_kmalloc',
        'mm/slub.c:4799 free_large_kmalloc+0x0/0x0',
        undefined,
        ['kfree+0x0/0x0'],
      );
      if (warned) this.klog.printk(KERN_WARNING, `object pointer: 0x${formatPtr(object)}`);
    }
    this.pages.freePages(head, order);
  }

  ksize(object: number): number {
    this.checkObject(object, 'ksize');
    if (isZeroOrNullPtr(object)) return 0;
    const pfn = this.objectPfn(object, 'ksize');
    const head = this.mm.compoundHead(pfn);
    if (!this.mm.isSlab(head)) {
      const order = this.mm.isHead(head) ? this.mm.order[head]! : 0;
      const size = PAGE_SIZE << order;
      if (size <= KMALLOC_MAX_CACHE_SIZE) {
        this.ctx.warn('mm/slab_common.c:1046 __ksize+0x0/0x0');
        return 0;
      }
      if (object !== pfnToVirt(head)) {
        this.ctx.warn('mm/slab_common.c:1048 __ksize+0x0/0x0');
        return 0;
      }
      return size;
    }
    const s = this.cacheById[this.mm.owner[head]!];
    return s ? this.slabKsize(s, object) : 0;
  }

  virt_to_cache(object: number): KmemCache | null {
    this.checkObject(object, 'virt_to_cache');
    const pfn = Math.floor((object - PAGE_OFFSET) / PAGE_SIZE);
    if (!(pfn >= 0 && pfn < this.mm.nrPages)) return null;
    const head = this.mm.compoundHead(pfn);
    if (!this.mm.isSlab(head)) return null;
    return this.cacheById[this.mm.owner[head]!] ?? null;
  }
}
