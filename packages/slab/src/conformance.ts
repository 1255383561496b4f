/**
 * The conformance suite of the `SlabAllocator` interface (packages/core/src/api.ts): what
 * every slab allocator must do, so that SLUB, SLAB, SLOB and a user's own implementation can
 * be swapped under kapi's boot().
 *
 *   import { runSlabAllocatorConformance } from '@mmsim/slab/conformance';
 *   runSlabAllocatorConformance((env) => createMySlab(env), { describe, it }, { makeEnv });
 *
 * The suite is framework-agnostic: `slabAllocatorConformance()` returns named cases whose
 * `run()` throws a plain `Error` describing the first violation; `runSlabAllocatorConformance`
 * registers them with any describe/it pair (vitest, jest, mocha, node:test).
 *
 * The slab layer depends on @mmsim/core only, so the suite cannot boot a machine itself: the
 * caller passes `makeEnv(machine?)`, which builds a fresh SlabEnv on a page allocator of its
 * choice. `machine` is undefined for the default machine (one node, 64 MiB or so, with a
 * ZONE_DMA) or CONFORMANCE_TWO_NODES, a spec @mmsim/numa's MachineSpec accepts as it is.
 * Each case builds its own environment and its own allocator, and ends by requiring
 * `verify()` to find nothing.
 *
 * What is required is the interface's contract, which SLUB, SLAB and SLOB all meet: live
 * objects never overlap, are aligned to the cache's alignment and lie in slab pages of that
 * cache; the memory is real (bytes written are read back, zalloc zeroes, a ctor's bytes are
 * there); kmalloc's size classes cover the request (ksize) and keep power-of-two sizes
 * naturally aligned; every page comes back (kfree + shrink, destroy of an empty cache); misuse
 * at the JS boundary throws at once, kernel misuse gets the Linux report and loses nothing.
 * No layout is required beyond that: slab orders, object counts per slab, per-CPU caching,
 * merging and how often a ctor runs are the implementation's choice. SLOB keeps no
 * per-cache pages (virt_to_cache() may be null) and Linux's SLOB could not tell whether a
 * cache still had objects at destroy time, so those two checks are relaxed for it.
 */
import {
  __GFP_BITS_MASK,
  __GFP_NOWARN,
  __GFP_ZERO,
  type ConformanceCase,
  ConformanceChecks,
  GFP_KERNEL,
  KernelPanic,
  type KmemCache,
  MAX_PAGE_ORDER,
  PAGE_OFFSET,
  PAGE_SIZE,
  PANIC_PREFIX,
  type Pfn,
  PGTY_buddy,
  PGTY_slab,
  pfnToVirt,
  registerConformance,
  SLAB_CACHE_DMA,
  SLAB_CACHE_DMA32,
  SLAB_FLAGS_MASK,
  SLAB_HWCACHE_ALIGN,
  SLAB_NO_MERGE,
  SLAB_PANIC,
  SLAB_RECLAIM_ACCOUNT,
  type SlabAllocator,
  type SlabEnv,
  type TestRegistrar,
  type VirtAddr,
  virtToPfn,
  virtToPhys,
  ZERO_SIZE_PTR,
  ZONE_DMA,
  ZONE_DMA32,
  ZONE_NAMES,
} from '@mmsim/core';

export type { ConformanceCase, TestRegistrar };

/** A machine the suite asks `makeEnv` for; structurally a @mmsim/numa MachineSpec. */
export interface ConformanceMachine {
  readonly name: string;
  readonly nodes: readonly { readonly memory: string; readonly cpus: number }[];
}

/** Two nodes of 64 MiB with one CPU each (node 0 has ZONE_DMA, node 1 is all DMA32). */
export const CONFORMANCE_TWO_NODES: ConformanceMachine = {
  name: 'slab-conformance-2node',
  nodes: [
    { memory: '64M', cpus: 1 },
    { memory: '64M', cpus: 1 },
  ],
};

/** Options of slabAllocatorConformance(). */
export interface SlabConformanceOptions {
  /**
   * A fresh SlabEnv per call: undefined asks for a small one-node machine with a ZONE_DMA
   * (numa's 'tiny' preset is fine), a ConformanceMachine for that machine.
   */
  makeEnv: (machine?: ConformanceMachine) => SlabEnv;
  /** A label put in front of every failure message. @defaultValue the allocator's `name` */
  name?: string;
}

type Factory = (env: SlabEnv) => SlabAllocator;

/** KMALLOC_MAX_SIZE on x86-64 with 4 KiB pages: 2^(MAX_PAGE_ORDER + PAGE_SHIFT) = 4 MiB. */
const KMALLOC_MAX_SIZE = PAGE_SIZE << MAX_PAGE_ORDER;

// ---------------------------------------------------------------- assertions

function fmt(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v && typeof v === 'object' && 'name' in v)
    return `cache ${JSON.stringify(String((v as KmemCache).name))}`;
  return String(v);
}

const hex = (addr: number): string => `0x${addr.toString(16)}`;

/** A live object the case holds: [addr, addr + size) belongs to it. */
interface Held {
  addr: VirtAddr;
  size: number;
  what: string;
}

/** The state a case works on: the environment, the allocator and a failure label. */
class Harness extends ConformanceChecks {
  readonly env: SlabEnv;
  readonly a: SlabAllocator;
  /** Free pages right after the allocator was built (pcp lists drained). */
  readonly baseline: number;
  /** Live objects, kept sorted by address for the overlap check. */
  private readonly held: Held[] = [];

  constructor(
    label: string,
    factory: Factory,
    makeEnv: (machine?: ConformanceMachine) => SlabEnv,
    machine?: ConformanceMachine,
  ) {
    super(label);
    this.env = makeEnv(machine);
    this.a = factory(this.env);
    this.baseline = this.freePages();
  }

  get isSlob(): boolean {
    return this.a.name === 'slob';
  }

  protected override format(v: unknown): string {
    return fmt(v);
  }

  /** verify() must find nothing. */
  clean(when: string): void {
    const problems = this.a.verify();
    if (!Array.isArray(problems))
      this.fail(`verify() ${when} returned ${fmt(problems)}, not an array`);
    if (problems.length > 0) {
      this.fail(
        `verify() ${when} reports ${problems.length} problem(s): ${problems.slice(0, 5).join('; ')}`,
      );
    }
  }

  /** Free pages of the machine after drain(). */
  freePages(): number {
    this.env.pageAllocator.drain();
    return this.env.pageAllocator.nrFreePages();
  }

  /** Free pages must be back at `expected` (the baseline unless given). */
  allPagesBack(when: string, expected = this.baseline): void {
    const now = this.freePages();
    if (now !== expected) {
      this.fail(
        `free pages ${when}: expected ${expected} (${now < expected ? `${expected - now} page(s) not given back` : `${now - expected} page(s) too many`}), got ${now}`,
      );
    }
  }

  /** The log lines since `seq`. */
  logSince(seq: number): string[] {
    return this.env.klog.lines(seq);
  }

  /** kmem_cache_create() that must succeed. */
  create(
    name: string,
    size: number,
    align = 0,
    flags = 0,
    ctor: ((o: VirtAddr) => void) | null = null,
  ): KmemCache {
    const s = this.a.kmem_cache_create(name, size, align, flags, ctor);
    if (s === null)
      this.fail(
        `kmem_cache_create(${fmt(name)}, ${size}, ${align}, 0x${flags.toString(16)}) returned null`,
      );
    return s;
  }

  // ---- bytes

  /** The byte offset in PhysicalMemory of a direct-map address. */
  phys(addr: VirtAddr): number {
    return virtToPhys(addr);
  }
  fill(addr: VirtAddr, len: number, byte: number): void {
    this.env.memory.fill(this.phys(addr), len, byte);
  }
  /** All `len` bytes at addr equal `byte`, or the failure names the first that does not. */
  expectBytes(addr: VirtAddr, len: number, byte: number, what: string): void {
    const off = this.env.memory.findNot(this.phys(addr), len, byte);
    if (off >= 0) {
      const at = this.env.memory.read8(this.phys(addr) + off);
      this.fail(
        `${what}: byte ${off} of [${hex(addr)}, +${len}) is 0x${at.toString(16)}, expected 0x${byte.toString(16)}`,
      );
    }
  }
  /** Write the object's own address into its first 8 bytes. */
  tag(addr: VirtAddr): void {
    this.env.memory.write64Number(this.phys(addr), addr);
  }
  expectTag(addr: VirtAddr, what: string): void {
    const v = this.env.memory.read64Number(this.phys(addr));
    if (v !== addr)
      this.fail(`${what}: the tag at ${hex(addr)} reads ${hex(v)} (overwritten by someone else)`);
  }

  // ---- pages

  /** The compound head of the page holding addr (the page itself when not compound). */
  head(addr: VirtAddr): Pfn {
    return this.env.memMap.compoundHead(virtToPfn(addr));
  }
  /** The first address past the (compound) page with head `head`. */
  pageEnd(head: Pfn): VirtAddr {
    const mm = this.env.memMap;
    const order = mm.isHead(head) ? mm.order[head]! : 0;
    return pfnToVirt(head + 2 ** order);
  }

  // ---- live objects

  /**
   * Check an address an allocation returned and remember it as live: non-zero, inside the
   * direct map, `align`-aligned, not overlapping any live object, inside one page block.
   * `slab` = true requires the page block to be a slab (PGTY_slab on its head); otherwise
   * an allocated (not free) page block is enough (large kmalloc, SLOB's big objects).
   */
  hold(addr: VirtAddr, size: number, align: number, slab: boolean, what: string): void {
    const mm = this.env.memMap;
    if (addr === 0) this.fail(`${what} returned NULL on a machine with room`);
    if (!Number.isSafeInteger(addr) || addr < PAGE_OFFSET || virtToPfn(addr) >= mm.nrPages) {
      this.fail(`${what} = ${hex(addr)}: not a direct-map address of this machine`);
    }
    if (align > 1 && addr % align !== 0) {
      this.fail(
        `${what} = ${hex(addr)}: not aligned to ${align} (addr % ${align} = ${addr % align})`,
      );
    }
    const head = this.head(addr);
    const type = mm.pageType[head]!;
    if (slab) {
      if (type !== PGTY_slab) {
        this.fail(
          `${what} = ${hex(addr)}: its page (head pfn ${head}) has page type 0x${type.toString(16)}, expected PGTY_slab`,
        );
      }
    } else if (type === PGTY_buddy || mm.refcount[head]! <= 0) {
      this.fail(
        `${what} = ${hex(addr)}: its page (head pfn ${head}) is free (type 0x${type.toString(16)}, refcount ${mm.refcount[head]})`,
      );
    }
    if (size > 0 && addr + size > this.pageEnd(head)) {
      this.fail(
        `${what} = ${hex(addr)}: [addr, +${size}) runs past the end of its page block at ${hex(this.pageEnd(head))}`,
      );
    }
    // Binary search for the insertion point; compare with both neighbours.
    const held = this.held;
    let lo = 0;
    let hi = held.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (held[mid]!.addr < addr) lo = mid + 1;
      else hi = mid;
    }
    const prev = held[lo - 1];
    const next = held[lo];
    const end = addr + Math.max(size, 1);
    if (prev && prev.addr + Math.max(prev.size, 1) > addr) {
      this.fail(
        `${what} = [${hex(addr)}, +${size}) overlaps live ${prev.what} = [${hex(prev.addr)}, +${prev.size})`,
      );
    }
    if (next && next.addr < end) {
      this.fail(
        `${what} = [${hex(addr)}, +${size}) overlaps live ${next.what} = [${hex(next.addr)}, +${next.size})`,
      );
    }
    held.splice(lo, 0, { addr, size, what });
  }
  /** Forget a live object (before freeing it). */
  drop(addr: VirtAddr): void {
    const held = this.held;
    let lo = 0;
    let hi = held.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (held[mid]!.addr < addr) lo = mid + 1;
      else hi = mid;
    }
    if (held[lo]?.addr !== addr) this.fail(`internal: ${hex(addr)} is not held`);
    held.splice(lo, 1);
  }

  /** A cache object must belong to `s` wherever virt_to_cache() knows (SLOB: null is fine). */
  belongs(s: KmemCache, addr: VirtAddr, what: string): void {
    const c = this.a.virt_to_cache(addr);
    if (c === null && !this.isSlob) {
      this.fail(`virt_to_cache(${what} = ${hex(addr)}) is null, expected ${fmt(s)}`);
    }
    if (c !== null && c !== s) {
      this.fail(`virt_to_cache(${what} = ${hex(addr)}) is ${fmt(c)}, expected ${fmt(s)}`);
    }
    if (c === null) return;
    // page->slab_cache: the owner id on the slab's head page is one per cache.
    const owner = this.env.memMap.owner[this.head(addr)]!;
    const known = this.ownerOf.get(s);
    if (known === undefined) {
      const other = this.cacheOfOwner.get(owner);
      if (owner === 0 || (other !== undefined && other !== s && this.a.caches().includes(other))) {
        this.fail(
          `${what} = ${hex(addr)}: its slab page has owner ${owner}${other ? `, already the owner of ${fmt(other)}` : ''}; expected an id of ${fmt(s)} alone`,
        );
      }
      this.ownerOf.set(s, owner);
      this.cacheOfOwner.set(owner, s);
    } else if (owner !== known) {
      this.fail(
        `${what} = ${hex(addr)}: its slab page has owner ${owner}, other slabs of ${fmt(s)} have ${known}`,
      );
    }
  }
  /** The memMap.owner value seen on each cache's slab pages, and back. */
  private readonly ownerOf = new Map<KmemCache, number>();
  private readonly cacheOfOwner = new Map<number, KmemCache>();

  /** kmem_cache_alloc() (or zalloc/alloc_node via `how`) that must succeed; checked and held. */
  alloc(s: KmemCache, what = `kmem_cache_alloc(${s.name})`, how?: () => VirtAddr): VirtAddr {
    const addr = how ? how() : this.a.kmem_cache_alloc(s, GFP_KERNEL);
    this.hold(addr, s.object_size, s.align, s.object_size < PAGE_SIZE || !this.isSlob, what);
    this.belongs(s, addr, what);
    return addr;
  }
  free(s: KmemCache, addr: VirtAddr): void {
    this.drop(addr);
    this.a.kmem_cache_free(s, addr);
  }

  /** kmalloc() that must succeed; checked (size-class alignment, ksize) and held. */
  kmalloc(size: number, gfp = GFP_KERNEL, nid?: number): VirtAddr {
    const what = `kmalloc(${size}${nid === undefined ? '' : `, nid ${nid}`})`;
    const addr = nid === undefined ? this.a.kmalloc(size, gfp) : this.a.kmalloc(size, gfp, nid);
    // Documentation/core-api/memory-allocation.rst: kmalloc() memory is aligned to at least
    // ARCH_KMALLOC_MINALIGN, power-of-two sizes to the size.
    const pow2 = (size & (size - 1)) === 0;
    const align = pow2 ? Math.min(size, PAGE_SIZE) : 8;
    if (addr === 0) this.fail(`${what} returned NULL on a machine with room`);
    const usable = this.a.ksize(addr);
    if (!(usable >= size))
      this.fail(`ksize(${what} = ${hex(addr)}) = ${usable}, smaller than the request`);
    this.hold(addr, usable, Math.max(align, 8), false, what);
    return addr;
  }
  kfree(addr: VirtAddr): void {
    this.drop(addr);
    this.a.kfree(addr);
  }

  /** cacheInfo(s) against the objects this case holds in it. */
  info(s: KmemCache, live: number, when: string): void {
    const i = this.a.cacheInfo(s);
    const where = `cacheInfo(${s.name}) ${when}`;
    this.eq(i.name, s.name, `${where}: name`);
    for (const k of [
      'active_objs',
      'num_objs',
      'active_slabs',
      'num_slabs',
      'objsize',
      'objects_per_slab',
    ] as const) {
      if (!Number.isSafeInteger(i[k]) || i[k] < 0)
        this.fail(`${where}: ${k} = ${fmt(i[k])}, not a count`);
    }
    this.ok(
      i.num_objs >= i.active_objs,
      `${where}: num_objs ${i.num_objs} < active_objs ${i.active_objs}`,
    );
    this.ok(
      i.active_objs >= live,
      `${where}: active_objs ${i.active_objs} < the ${live} object(s) held`,
    );
    this.ok(
      i.num_slabs >= i.active_slabs,
      `${where}: num_slabs ${i.num_slabs} < active_slabs ${i.active_slabs}`,
    );
    this.ok(
      i.objsize >= s.object_size,
      `${where}: objsize ${i.objsize} < object_size ${s.object_size}`,
    );
  }
}

/** A small deterministic PRNG (mulberry32) for the order of frees. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function shuffle<T>(xs: T[], seed: number): T[] {
  const r = rng(seed);
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** Enough objects of `size` to need several slabs (at least 3 pages' worth, at least 12). */
const manyFor = (size: number): number => Math.max(12, Math.ceil((3 * PAGE_SIZE) / size) + 1);

// ---------------------------------------------------------------- the cases

/**
 * The cases of the suite for `factory`. Each `run()` builds a fresh environment with
 * `options.makeEnv` and a fresh allocator.
 */
export function slabAllocatorConformance(
  factory: Factory,
  options: SlabConformanceOptions,
): ConformanceCase[] {
  const { makeEnv } = options;
  const label = options.name ?? factory(makeEnv()).name;
  const cases: ConformanceCase[] = [];
  const add = (name: string, run: (h: Harness) => void, machine?: ConformanceMachine): void => {
    cases.push({
      name,
      run: () => {
        const h = new Harness(label, factory, makeEnv, machine);
        run(h);
        h.clean(`at the end of "${name}"`);
      },
    });
  };

  add('kmem_cache_create (5-argument form) returns a listed cache with its name and size', (h) => {
    const before = h.a.caches().length;
    const ctor = (_o: VirtAddr): void => {};
    const s = h.create('conf_five', 200, 64, SLAB_NO_MERGE, ctor);
    h.eq(s.name, 'conf_five', 'name of the new cache');
    h.eq(s.object_size, 200, 'object_size of the new cache');
    h.eq(h.a.kmem_cache_size(s), 200, 'kmem_cache_size()');
    h.ok(s.size >= s.object_size, `size ${s.size} < object_size ${s.object_size}`);
    h.ok(
      s.align >= 64 && s.align % 64 === 0,
      `align ${s.align}: expected a multiple of the 64 asked for`,
    );
    h.ok((s.align & (s.align - 1)) === 0, `align ${s.align} is not a power of two`);
    h.eq(s.ctor, ctor, 'ctor of the new cache');
    h.ok(s.refcount >= 1, `refcount ${s.refcount} < 1`);
    const list = h.a.caches();
    h.eq(list.length, before + 1, 'caches().length after one kmem_cache_create');
    h.eq(list[list.length - 1], s, 'the last entry of caches() (creation order)');
    const t = h.create('conf_five_b', 24, 0, SLAB_NO_MERGE);
    h.eq(
      h.a.caches()[h.a.caches().length - 1],
      t,
      'the last entry of caches() after a second create',
    );
    h.ok(
      t.align >= 8,
      `align ${t.align} of a cache made with align 0: expected at least a word (8)`,
    );
    h.a.kmem_cache_destroy(t);
    h.a.kmem_cache_destroy(s);
    h.eq(h.a.caches().length, before, 'caches().length after destroying both');
    h.ok(!h.a.caches().includes(s), 'a destroyed cache is still in caches()');
    h.allPagesBack('after destroying two unused caches');
  });

  add('kmem_cache_create (args form) takes align and ctor from kmem_cache_args', (h) => {
    let calls = 0;
    const ctor = (o: VirtAddr): void => {
      calls++;
      h.fill(o, 16, 0x3c);
    };
    const s = h.a.kmem_cache_create('conf_args', 96, { align: 128, ctor }, SLAB_NO_MERGE);
    if (s === null)
      return h.fail(
        'kmem_cache_create(name, 96, { align: 128, ctor }, SLAB_NO_MERGE) returned null',
      );
    h.eq(s.name, 'conf_args', 'name');
    h.eq(s.object_size, 96, 'object_size');
    h.eq(s.ctor, ctor, 'ctor');
    h.ok(s.align % 128 === 0, `align ${s.align}: expected a multiple of 128`);
    const objs: VirtAddr[] = [];
    for (let i = 0; i < 10; i++) {
      const o = h.alloc(s);
      h.expectBytes(o, 16, 0x3c, `the ctor's bytes in a new object of conf_args`);
      objs.push(o);
    }
    h.ok(calls >= objs.length, `the ctor ran ${calls} time(s) for ${objs.length} objects`);
    const n = h.a.kmem_cache_create('conf_args_null', 40, null);
    if (n === null) return h.fail('kmem_cache_create(name, 40, null) returned null');
    h.ok(n.object_size >= 40, `object_size ${n.object_size} of a cache asked for 40`);
    h.ok(n.align >= 8, `align ${n.align} with args null: expected at least 8`);
    const o = h.alloc(n);
    h.free(n, o);
    for (const x of objs) h.free(s, x);
    h.a.kmem_cache_destroy(n);
    h.a.kmem_cache_destroy(s);
    h.a.shrinkAll();
    h.allPagesBack('after destroying both caches');
  });

  add(
    'objects are aligned, distinct, non-overlapping and inside slab pages of their cache',
    (h) => {
      const sizes = [8, 24, 64, 100, 192, 500, 1024, 3000];
      for (const align of [0, 64, 128]) {
        for (const size of sizes) {
          const name = `conf_layout_${size}_${align}`;
          const s = h.create(name, size, align, SLAB_NO_MERGE);
          if (align)
            h.ok(s.align % align === 0, `${name}: align ${s.align} is not a multiple of ${align}`);
          const objs: VirtAddr[] = [];
          for (let i = 0; i < manyFor(size); i++) {
            const o = h.alloc(s, `object ${i} of ${name}`);
            h.ok(
              o % s.align === 0,
              `object ${i} of ${name} = ${hex(o)} is not aligned to cache.align ${s.align}`,
            );
            objs.push(o);
          }
          h.info(s, objs.length, `with ${objs.length} objects held`);
          h.clean(`with ${objs.length} objects of ${name}`);
          for (const o of shuffle(objs, size + align)) h.free(s, o);
          h.a.kmem_cache_destroy(s);
          h.allPagesBack(`after freeing every object of ${name} and destroying it`);
        }
      }
    },
  );

  add('object memory is real: each object keeps its own bytes', (h) => {
    for (const size of [16, 56, 200, 1500]) {
      const s = h.create(`conf_bytes_${size}`, size, 0, SLAB_NO_MERGE);
      const objs: VirtAddr[] = [];
      for (let i = 0; i < manyFor(size); i++) {
        const o = h.alloc(s);
        h.fill(o, size, (i * 37 + 1) & 0xff);
        objs.push(o);
      }
      objs.forEach((o, i) => {
        h.expectBytes(
          o,
          size,
          (i * 37 + 1) & 0xff,
          `object ${i} of conf_bytes_${size} after every object was written`,
        );
      });
      // Free every other object; the rest must be untouched by the frees (freelist pointers
      // live in free objects only).
      objs.forEach((o, i) => {
        if (i % 2) h.free(s, o);
      });
      objs.forEach((o, i) => {
        if (i % 2 === 0)
          h.expectBytes(
            o,
            size,
            (i * 37 + 1) & 0xff,
            `live object ${i} after its neighbours were freed`,
          );
      });
      objs.forEach((o, i) => {
        if (i % 2 === 0) h.free(s, o);
      });
      h.a.kmem_cache_destroy(s);
    }
    h.allPagesBack('after destroying the caches');
  });

  add(
    'kmem_cache_zalloc and kmalloc(__GFP_ZERO) give zeroed memory even over dirtied freed objects',
    (h) => {
      for (const size of [32, 136, 1000]) {
        const s = h.create(`conf_zero_${size}`, size, 0, SLAB_NO_MERGE);
        const n = manyFor(size);
        const dirty: VirtAddr[] = [];
        for (let i = 0; i < n; i++) {
          const o = h.alloc(s);
          h.fill(o, size, 0xa7);
          dirty.push(o);
        }
        for (const o of dirty) h.free(s, o);
        const zeroed: VirtAddr[] = [];
        for (let i = 0; i < n; i++) {
          const o = h.alloc(s, `kmem_cache_zalloc(conf_zero_${size})`, () =>
            h.a.kmem_cache_zalloc(s, GFP_KERNEL),
          );
          h.expectBytes(o, size, 0, `kmem_cache_zalloc(conf_zero_${size}) object ${i}`);
          zeroed.push(o);
        }
        for (const o of zeroed) h.free(s, o);
        h.a.kmem_cache_destroy(s);
      }
      for (const size of [24, 100, 700, 5000, 20000]) {
        const ps: VirtAddr[] = [];
        for (let i = 0; i < 8; i++) {
          const p = h.kmalloc(size);
          h.fill(p, size, 0xe5);
          ps.push(p);
        }
        for (const p of ps) h.kfree(p);
        for (let i = 0; i < 8; i++) {
          const p = h.kmalloc(size, GFP_KERNEL | __GFP_ZERO);
          h.expectBytes(p, size, 0, `kzalloc(${size}) buffer ${i}`);
          ps[i] = p;
        }
        for (const p of ps) h.kfree(p);
      }
      h.a.shrinkAll();
      h.allPagesBack('after freeing everything and shrinkAll()');
    },
  );

  add('a constructor has run on every object before it is first handed out', (h) => {
    const seen = new Set<VirtAddr>();
    let calls = 0;
    let outside = 0;
    for (const size of [48, 320]) {
      const ctor = (o: VirtAddr): void => {
        calls++;
        if (!Number.isSafeInteger(o) || o < PAGE_OFFSET) outside++;
        else h.env.memory.write64Number(h.phys(o), o ^ 0x5a5a5a);
      };
      const s = h.create(`conf_ctor_${size}`, size, 0, 0, ctor);
      h.eq(s.ctor, ctor, 'ctor of the cache');
      const objs: VirtAddr[] = [];
      for (let i = 0; i < manyFor(size); i++) {
        const o = h.alloc(s);
        const v = h.env.memory.read64Number(h.phys(o));
        if (!seen.has(o) && v !== (o ^ 0x5a5a5a)) {
          h.fail(
            `object ${i} of conf_ctor_${size} = ${hex(o)} handed out for the first time without the ctor's bytes (reads ${hex(v)})`,
          );
        }
        seen.add(o);
        objs.push(o);
      }
      h.ok(
        outside === 0,
        `the ctor was called ${outside} time(s) with something that is no address`,
      );
      h.ok(
        calls >= seen.size,
        `the ctor ran ${calls} time(s) for ${seen.size} distinct objects handed out`,
      );
      for (const o of objs) h.free(s, o);
      h.a.kmem_cache_destroy(s);
    }
    h.allPagesBack('after destroying the ctor caches');
  });

  add(
    'kmalloc(0) is ZERO_SIZE_PTR; kfree() and ksize() of NULL and ZERO_SIZE_PTR do nothing',
    (h) => {
      const before = h.freePages();
      h.eq(h.a.kmalloc(0, GFP_KERNEL), ZERO_SIZE_PTR, 'kmalloc(0, GFP_KERNEL)');
      h.eq(h.a.kmalloc(0, GFP_KERNEL | __GFP_ZERO), ZERO_SIZE_PTR, 'kzalloc(0, GFP_KERNEL)');
      h.eq(h.a.ksize(0), 0, 'ksize(NULL)');
      h.eq(h.a.ksize(ZERO_SIZE_PTR), 0, 'ksize(ZERO_SIZE_PTR)');
      const seq = h.env.klog.nextSeq;
      h.a.kfree(0);
      h.a.kfree(ZERO_SIZE_PTR);
      h.eq(
        h.logSince(seq).length,
        0,
        'kernel log lines printed by kfree(NULL) and kfree(ZERO_SIZE_PTR)',
      );
      h.a.kmem_cache_destroy(null);
      h.allPagesBack('after kmalloc(0), kfree(NULL), kfree(ZERO_SIZE_PTR)', before);
    },
  );

  add(
    'kmalloc of 1..8192 bytes: aligned, ksize covers the request, a full-ksize write spares the neighbours',
    (h) => {
      const sizes: number[] = [];
      for (let s = 1; s <= 8192; s++) {
        if (s <= 264 || s % 64 === 0 || s % 64 === 1 || s % 64 === 63 || s % 1000 === 0)
          sizes.push(s);
      }
      for (const size of sizes) {
        const ps = [h.kmalloc(size), h.kmalloc(size), h.kmalloc(size)];
        const ks = ps.map((p) => h.a.ksize(p));
        ps.forEach((p, i) => {
          h.fill(p, ks[i]!, 0x11 * (i + 1));
        });
        ps.forEach((p, i) => {
          h.expectBytes(
            p,
            ks[i]!,
            0x11 * (i + 1),
            `kmalloc(${size}) buffer ${i} (ksize ${ks[i]}) after all three were written`,
          );
        });
        for (const p of ps) h.kfree(p);
      }
      h.clean('after the kmalloc size sweep');
      h.a.shrinkAll();
      h.allPagesBack('after the kmalloc size sweep and shrinkAll()');
    },
  );

  add(
    'large kmalloc (10000, 100000, 1 MiB, 4 MiB) is page-backed, ksize covers it, kfree gives every page back',
    (h) => {
      for (const size of [8193, 10000, 100000, 1 << 20, KMALLOC_MAX_SIZE]) {
        const before = h.freePages();
        const p = h.kmalloc(size);
        const k = h.a.ksize(p);
        h.ok(p % PAGE_SIZE === 0, `kmalloc(${size}) = ${hex(p)} is not page aligned`);
        const taken = before - h.freePages();
        h.ok(
          taken >= Math.ceil(size / PAGE_SIZE),
          `kmalloc(${size}) took ${taken} page(s) from the page allocator`,
        );
        h.fill(p, k, 0x77);
        const q = h.kmalloc(64);
        h.fill(q, 64, 0x88);
        h.expectBytes(p, k, 0x77, `kmalloc(${size}) after a kmalloc(64) was written`);
        h.kfree(q);
        h.kfree(p);
        h.a.shrinkAll();
        h.allPagesBack(`after kfree of kmalloc(${size})`, before);
      }
      h.allPagesBack('after the large kmallocs');
    },
  );

  add('kmalloc above KMALLOC_MAX_SIZE returns NULL, with a WARNING unless __GFP_NOWARN', (h) => {
    const before = h.freePages();
    let seq = h.env.klog.nextSeq;
    h.eq(
      h.a.kmalloc(KMALLOC_MAX_SIZE + 1, GFP_KERNEL | __GFP_NOWARN),
      0,
      'kmalloc(4 MiB + 1, GFP_KERNEL | __GFP_NOWARN)',
    );
    const quiet = h.logSince(seq).filter((l) => l.includes('WARNING'));
    h.eq(quiet.length, 0, 'WARNING lines after the __GFP_NOWARN kmalloc');
    seq = h.env.klog.nextSeq;
    h.eq(h.a.kmalloc(KMALLOC_MAX_SIZE + 1, GFP_KERNEL), 0, 'kmalloc(4 MiB + 1, GFP_KERNEL)');
    h.ok(
      h.logSince(seq).some((l) => l.includes('WARNING')),
      `kmalloc(4 MiB + 1, GFP_KERNEL) failed without a WARNING in the log; it printed: ${JSON.stringify(h.logSince(seq).slice(0, 4))}`,
    );
    h.eq(
      h.a.kmalloc(64 * 1024 * 1024, GFP_KERNEL | __GFP_NOWARN),
      0,
      'kmalloc(64 MiB, __GFP_NOWARN)',
    );
    h.allPagesBack('after the failed kmallocs', before);
    const p = h.kmalloc(100);
    h.kfree(p);
  });

  add('kfree gives memory back: free pages return to the baseline after shrinkAll()', (h) => {
    const r = rng(7);
    const ps: VirtAddr[] = [];
    for (let i = 0; i < 600; i++) {
      const size = r() < 0.9 ? 1 + Math.floor(r() * 2048) : 2048 + Math.floor(r() * 30000);
      ps.push(h.kmalloc(size));
      if (r() < 0.3 && ps.length > 0) {
        const j = Math.floor(r() * ps.length);
        h.kfree(ps[j]!);
        ps[j] = ps[ps.length - 1]!;
        ps.pop();
      }
    }
    h.clean(`with ${ps.length} kmalloc buffers live`);
    for (const p of shuffle(ps, 11)) h.kfree(p);
    const given = h.a.shrinkAll();
    h.ok(
      Number.isSafeInteger(given) && given >= 0,
      `shrinkAll() returned ${fmt(given)}, not a page count`,
    );
    h.allPagesBack('after kfree of every buffer and shrinkAll()');
  });

  add(
    'kmem_cache_alloc_node and kmalloc with a node put objects on that node',
    (h) => {
      h.eq(h.env.nrNodes, 2, 'nrNodes of the two-node machine makeEnv built');
      const s = h.create('conf_node', 256, 0, SLAB_NO_MERGE);
      const held: [VirtAddr, boolean][] = [];
      for (const nid of [1, 0, 1]) {
        for (let i = 0; i < manyFor(256); i++) {
          const o = h.alloc(s, `kmem_cache_alloc_node(conf_node, ${nid})`, () =>
            h.a.kmem_cache_alloc_node(s, GFP_KERNEL, nid),
          );
          h.eq(
            h.env.memMap.node[virtToPfn(o)],
            nid,
            `node of the page of kmem_cache_alloc_node(conf_node, ${nid}) object ${i} = ${hex(o)}`,
          );
          held.push([o, true]);
        }
        for (const size of [64, 700, 20000]) {
          const p = h.kmalloc(size, GFP_KERNEL, nid);
          h.eq(
            h.env.memMap.node[virtToPfn(p)],
            nid,
            `node of the page of kmalloc(${size}, nid ${nid}) = ${hex(p)}`,
          );
          held.push([p, false]);
        }
      }
      const any = h.alloc(s, 'kmem_cache_alloc_node(conf_node, NUMA_NO_NODE)', () =>
        h.a.kmem_cache_alloc_node(s, GFP_KERNEL, -1),
      );
      held.push([any, true]);
      h.clean('with objects on both nodes');
      for (const [o, cached] of held) {
        if (cached) h.free(s, o);
        else h.kfree(o);
      }
      h.a.kmem_cache_destroy(s);
      h.a.shrinkAll();
      h.allPagesBack('after freeing the objects of both nodes and destroying the cache');
    },
    CONFORMANCE_TWO_NODES,
  );

  add('kmem_cache_destroy of an empty cache gives back every page and kills the handle', (h) => {
    const s = h.create('conf_destroy', 512, 0, SLAB_NO_MERGE);
    const objs: VirtAddr[] = [];
    for (let i = 0; i < 40; i++) objs.push(h.alloc(s));
    h.ok(h.freePages() < h.baseline, 'forty 512-byte objects took no page from the page allocator');
    for (const o of objs) h.free(s, o);
    const seq = h.env.klog.nextSeq;
    h.a.kmem_cache_destroy(s);
    const warned = h.logSince(seq).filter((l) => l.includes('still has objects'));
    h.eq(warned.length, 0, '"still has objects" lines after destroying an empty cache');
    h.allPagesBack('after kmem_cache_destroy of the empty cache (no shrink)');
    h.ok(!h.a.caches().includes(s), 'the destroyed cache is still in caches()');
    h.throws(
      () => h.a.kmem_cache_alloc(s, GFP_KERNEL),
      TypeError,
      'kmem_cache_alloc of a destroyed cache',
    );
    h.throws(
      () => h.a.kmem_cache_zalloc(s, GFP_KERNEL),
      TypeError,
      'kmem_cache_zalloc of a destroyed cache',
    );
    h.throws(
      () => h.a.kmem_cache_alloc_node(s, GFP_KERNEL, 0),
      TypeError,
      'kmem_cache_alloc_node of a destroyed cache',
    );
    h.throws(
      () => h.a.kmem_cache_free(s, objs[0]!),
      TypeError,
      'kmem_cache_free into a destroyed cache',
    );
    h.throws(() => h.a.kmem_cache_size(s), TypeError, 'kmem_cache_size of a destroyed cache');
    h.throws(() => h.a.kmem_cache_shrink(s), TypeError, 'kmem_cache_shrink of a destroyed cache');
    h.throws(
      () => h.a.kmem_cache_destroy(s),
      TypeError,
      'a second kmem_cache_destroy of the same cache',
    );
    h.throws(() => h.a.cacheInfo(s), TypeError, 'cacheInfo of a destroyed cache');
    h.allPagesBack('after the rejected calls on the dead handle');
  });

  add('kmem_cache_destroy of a cache with live objects reports it and loses nothing', (h) => {
    const s = h.create('conf_leaky', 128, 0, SLAB_NO_MERGE);
    const objs: VirtAddr[] = [];
    for (let i = 0; i < 50; i++) {
      const o = h.alloc(s);
      h.fill(o, 128, i + 1);
      objs.push(o);
    }
    for (const o of objs.splice(0, 30)) h.free(s, o);
    const seq = h.env.klog.nextSeq;
    h.a.kmem_cache_destroy(s);
    const log = h.logSince(seq);
    if (!h.isSlob) {
      h.ok(
        log.some((l) => l.includes('Slab cache still has objects')),
        `destroying a cache with ${objs.length} live objects printed no "Slab cache still has objects"; the log: ${JSON.stringify(log.slice(0, 6))}`,
      );
    }
    h.clean('after destroying a cache with live objects');
    objs.forEach((o, i) => {
      h.expectBytes(o, 128, i + 31, `live object ${i + 30} after the failed destroy`);
    });
    // The memory is still the objects': writable, and no new object lands on it.
    for (const o of objs) h.fill(o, 128, 0xd1);
    const others: VirtAddr[] = [];
    for (let i = 0; i < 40; i++) others.push(h.kmalloc(128));
    for (const o of objs)
      h.expectBytes(o, 128, 0xd1, 'a live object of the destroyed cache after 40 kmalloc(128)');
    for (const p of others) h.kfree(p);
    for (const o of objs) h.free(s, o);
    h.clean('after freeing the objects of the destroyed cache');
    // Now empty, a second destroy finishes the job.
    h.a.kmem_cache_destroy(s);
    h.a.shrinkAll();
    h.allPagesBack('after freeing the leftover objects and destroying the cache again');
  });

  add('kmem_cache_shrink returns a number and gives back empty slabs only', (h) => {
    const s = h.create('conf_shrink', 256, 0, SLAB_NO_MERGE);
    const objs: VirtAddr[] = [];
    for (let i = 0; i < 200; i++) {
      const o = h.alloc(s);
      h.tag(o);
      objs.push(o);
    }
    const keep = objs.filter((_, i) => i % 16 === 0);
    for (const o of objs) if (!keep.includes(o)) h.free(s, o);
    let before = h.freePages();
    const r = h.a.kmem_cache_shrink(s);
    h.ok(
      typeof r === 'number' && Number.isFinite(r),
      `kmem_cache_shrink() returned ${fmt(r)}, not a number`,
    );
    let after = h.freePages();
    h.ok(
      after >= before,
      `kmem_cache_shrink took ${before - after} page(s) instead of giving some back`,
    );
    for (const o of keep) h.expectTag(o, 'a live object after kmem_cache_shrink');
    h.info(s, keep.length, 'after the shrink');
    h.clean('after kmem_cache_shrink with live objects');
    for (const o of keep) h.free(s, o);
    before = h.freePages();
    h.a.kmem_cache_shrink(s);
    after = h.freePages();
    h.ok(after >= before, `kmem_cache_shrink of an empty cache took ${before - after} page(s)`);
    h.allPagesBack('after kmem_cache_shrink of a cache with no live object');
    const o = h.alloc(s, 'kmem_cache_alloc after the shrink');
    h.free(s, o);
    h.a.kmem_cache_destroy(s);
    h.allPagesBack('after destroying the shrunk cache');
  });

  add(
    'compatible caches may merge; both handles work and destroying both frees everything',
    (h) => {
      const a = h.create('conf_merge_a', 200);
      const b = h.create('conf_merge_b', 200);
      h.ok(
        a.object_size >= 200 && b.object_size >= 200,
        'object_size of the possibly merged caches',
      );
      if (a === b)
        h.ok(a.refcount >= 2, `merged caches share a handle with refcount ${a.refcount}`);
      const xs = [h.alloc(a), h.alloc(b), h.alloc(a), h.alloc(b)];
      h.free(a, xs[0]!);
      h.free(b, xs[1]!);
      h.a.kmem_cache_destroy(b);
      h.free(a, xs[2]!);
      h.free(b, xs[3]!);
      h.a.kmem_cache_destroy(a);
      h.a.shrinkAll();
      h.allPagesBack('after destroying both caches');
    },
  );

  add('JS misuse throws: foreign handles, bad sizes, unknown gfp and slab flag bits', (h) => {
    const otherEnv = makeEnv();
    const other = factory(otherEnv);
    const foreign = other.kmem_cache_create('conf_foreign', 64, 0, SLAB_NO_MERGE);
    if (foreign === null) return h.fail('kmem_cache_create on a second allocator returned null');
    const fo = other.kmem_cache_alloc(foreign, GFP_KERNEL);
    const s = h.create('conf_misuse', 64, 0, SLAB_NO_MERGE);
    const before = h.freePages();
    h.throws(
      () => h.a.kmem_cache_alloc(foreign, GFP_KERNEL),
      TypeError,
      'kmem_cache_alloc of a foreign cache',
    );
    h.throws(
      () => h.a.kmem_cache_zalloc(foreign, GFP_KERNEL),
      TypeError,
      'kmem_cache_zalloc of a foreign cache',
    );
    h.throws(
      () => h.a.kmem_cache_alloc_node(foreign, GFP_KERNEL, 0),
      TypeError,
      'kmem_cache_alloc_node of a foreign cache',
    );
    h.throws(
      () => h.a.kmem_cache_free(foreign, fo),
      TypeError,
      'kmem_cache_free into a foreign cache',
    );
    h.throws(() => h.a.kmem_cache_size(foreign), TypeError, 'kmem_cache_size of a foreign cache');
    h.throws(
      () => h.a.kmem_cache_shrink(foreign),
      TypeError,
      'kmem_cache_shrink of a foreign cache',
    );
    h.throws(
      () => h.a.kmem_cache_destroy(foreign),
      TypeError,
      'kmem_cache_destroy of a foreign cache',
    );
    h.throws(() => h.a.cacheInfo(foreign), TypeError, 'cacheInfo of a foreign cache');
    const fake = { ...s } as KmemCache;
    h.throws(
      () => h.a.kmem_cache_alloc(fake, GFP_KERNEL),
      TypeError,
      'kmem_cache_alloc of a copy of a handle',
    );
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      h.throws(() => h.a.kmalloc(bad, GFP_KERNEL), RangeError, `kmalloc(${bad})`);
      h.throws(
        () => h.a.kmem_cache_create('conf_bad', bad),
        RangeError,
        `kmem_cache_create(name, ${bad})`,
      );
    }
    const badGfp = __GFP_BITS_MASK + 1;
    h.throws(() => h.a.kmalloc(64, badGfp), RangeError, `kmalloc(64, 0x${badGfp.toString(16)})`);
    h.throws(() => h.a.kmalloc(64, -1), RangeError, 'kmalloc(64, -1)');
    h.throws(
      () => h.a.kmem_cache_alloc(s, badGfp),
      RangeError,
      `kmem_cache_alloc(s, 0x${badGfp.toString(16)})`,
    );
    h.throws(
      () => h.a.kmem_cache_zalloc(s, badGfp),
      RangeError,
      `kmem_cache_zalloc(s, 0x${badGfp.toString(16)})`,
    );
    let unknownFlag = 1;
    while (unknownFlag & SLAB_FLAGS_MASK) unknownFlag *= 2;
    h.throws(
      () => h.a.kmem_cache_create('conf_badflag', 64, 0, unknownFlag),
      RangeError,
      `kmem_cache_create with the unknown slab flag bit 0x${unknownFlag.toString(16)}`,
    );
    h.throws(
      () => h.a.kmem_cache_create('conf_badflag', 64, 0, -1),
      RangeError,
      'kmem_cache_create with flags -1',
    );
    h.throws(
      () => h.a.kmem_cache_create('conf_badalign', 64, 3),
      RangeError,
      'kmem_cache_create with align 3',
    );
    h.allPagesBack('after the rejected calls', before);
    h.ok(
      !h.a.caches().some((c) => c.name.startsWith('conf_bad')),
      'a rejected kmem_cache_create left a cache in caches()',
    );
    const o = h.alloc(s, 'kmem_cache_alloc after the rejected calls');
    h.free(s, o);
    other.kmem_cache_free(foreign, fo);
    h.a.kmem_cache_destroy(s);
  });

  add(
    'SLAB_PANIC on an impossible cache panics with "Failed to create slab"; without it, NULL and a report',
    (h) => {
      const panic = h.throws(
        () => h.a.kmem_cache_create('conf_panic', KMALLOC_MAX_SIZE + 1, 0, SLAB_PANIC),
        KernelPanic,
        'kmem_cache_create(4 MiB + 1, SLAB_PANIC)',
      );
      h.ok(
        panic.message.startsWith(PANIC_PREFIX),
        `the panic message ${fmt(panic.message)} does not start with ${fmt(PANIC_PREFIX)}`,
      );
      h.ok(
        panic.message.includes('Failed to create slab'),
        `the panic message ${fmt(panic.message)} lacks "Failed to create slab"`,
      );
      const seq = h.env.klog.nextSeq;
      const s = h.a.kmem_cache_create('conf_toobig', KMALLOC_MAX_SIZE + 1, 0, 0);
      h.eq(s, null, 'kmem_cache_create(4 MiB + 1) without SLAB_PANIC');
      const log = h.logSince(seq);
      h.ok(
        log.includes('kmem_cache_create(conf_toobig) integrity check failed'),
        `no "kmem_cache_create(conf_toobig) integrity check failed" line; the log: ${JSON.stringify(log.slice(0, 4))}`,
      );
      h.ok(
        !h.a.caches().some((c) => c.name === 'conf_toobig' || c.name === 'conf_panic'),
        'a failed cache is listed',
      );
      h.allPagesBack('after the failed creates');
    },
  );

  add('SLAB_CACHE_DMA caches allocate from ZONE_DMA, SLAB_CACHE_DMA32 from DMA32 or below', (h) => {
    // mm/slob.c (6.1) never looks at SLAB_CACHE_DMA/DMA32: its pages are one heap shared by
    // every cache, taken with the caller's gfp. SLOB is exempt, as Linux had it.
    if (h.a.name === 'slob') return;
    const mm = h.env.memMap;
    // A normal cache of the same size first, so that a shared page pool would show.
    const n = h.create('conf_normal', 300, 0, 0);
    const normal = Array.from({ length: 20 }, () => h.alloc(n));
    for (const [flag, maxZone, name] of [
      [SLAB_CACHE_DMA, ZONE_DMA, 'conf_dma'],
      [SLAB_CACHE_DMA32, ZONE_DMA32, 'conf_dma32'],
    ] as const) {
      const s = h.create(name, 300, 0, flag);
      h.ok((s.flags & flag) !== 0, `${name}: flags 0x${s.flags.toString(16)} lack the zone flag`);
      const objs: VirtAddr[] = [];
      for (let i = 0; i < manyFor(300); i++) {
        const o = h.alloc(s, `kmem_cache_alloc(${name}) object ${i}`);
        const z = mm.zone[virtToPfn(o)]!;
        if (z > maxZone)
          h.fail(
            `${name} object ${i} = ${hex(o)} is in ${ZONE_NAMES[z]}, expected ${ZONE_NAMES[maxZone]} or below`,
          );
        objs.push(o);
      }
      for (const o of objs) h.free(s, o);
      h.a.kmem_cache_destroy(s);
    }
    for (const o of normal) h.free(n, o);
    h.a.kmem_cache_destroy(n);
    h.allPagesBack('after destroying the DMA caches');
  });

  add('cacheInfo stays consistent with the objects held as they come and go', (h) => {
    const s = h.create('conf_info', 72, 0, SLAB_HWCACHE_ALIGN | SLAB_RECLAIM_ACCOUNT);
    h.info(s, 0, 'of a new cache');
    const objs: VirtAddr[] = [];
    for (let i = 0; i < 300; i++) {
      objs.push(h.alloc(s));
      if (i % 25 === 0) h.info(s, objs.length, `with ${objs.length} objects`);
    }
    h.info(s, objs.length, `with ${objs.length} objects`);
    const i1 = h.a.cacheInfo(s);
    h.ok(i1.num_objs >= 300, `num_objs ${i1.num_objs} with 300 objects held`);
    shuffle(objs, 3);
    while (objs.length) {
      h.free(s, objs.pop()!);
      if (objs.length % 30 === 0) h.info(s, objs.length, `with ${objs.length} objects left`);
    }
    h.a.kmem_cache_shrink(s);
    h.info(s, 0, 'after freeing all and kmem_cache_shrink');
    const i2 = h.a.cacheInfo(s);
    h.eq(i2.active_slabs, 0, 'active_slabs after freeing all and kmem_cache_shrink');
    h.a.kmem_cache_destroy(s);
  });

  return cases;
}

/**
 * Register the suite with a test framework:
 * `runSlabAllocatorConformance(createSlub, { describe, it }, { makeEnv })`.
 */
export function runSlabAllocatorConformance(
  factory: (env: SlabEnv) => SlabAllocator,
  registrar: TestRegistrar,
  options: SlabConformanceOptions,
): void {
  const name = options.name ?? factory(options.makeEnv()).name;
  const cases = slabAllocatorConformance(factory, { ...options, name });
  registerConformance(`SlabAllocator conformance: ${name}`, cases, registrar);
}
