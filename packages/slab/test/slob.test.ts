/**
 * SLOB (Linux 6.1 mm/slob.c): exact placement and byte encoding, the three lists and their
 * rotation, kmalloc headers and ksize, kmem_cache emulation, NUMA, and the misuse checks.
 */
import {
  __GFP_ZERO,
  formatPtr,
  GFP_KERNEL,
  type KmemCache,
  NUMA_NO_NODE,
  PAGE_OFFSET,
  PAGE_SIZE,
  PGTY_slab,
  pfnToVirt,
  SLAB_HWCACHE_ALIGN,
  SLAB_POISON,
  SLAB_TYPESAFE_BY_RCU,
} from '@mmsim/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { createSlob, SLOB_BREAK1, SLOB_BREAK2, type SlabAllocatorSLOB } from '../src/slob.js';
import { freePages, makeSlabEnv, type TestMachine } from './env.js';

let t: TestMachine;
let slob: SlabAllocatorSLOB;
let free0: number;

const pfnOf = (v: number): number => Math.floor((v - PAGE_OFFSET) / PAGE_SIZE);
const baseOf = (v: number): number => pfnToVirt(pfnOf(v));
const u16 = (v: number): number => t.env.memory.read16(v - PAGE_OFFSET);
const u32 = (v: number): number => t.env.memory.read32(v - PAGE_OFFSET);
const cache = (
  name: string,
  size: number,
  flags = 0,
  ctor: ((o: number) => void) | null = null,
): KmemCache => {
  const c = slob.kmem_cache_create(name, size, 0, flags, ctor);
  if (!c) throw new Error(`no cache ${name}`);
  return c;
};
const warnings = (re: RegExp) => t.env.klog.grep(re).length;

beforeEach(() => {
  t = makeSlabEnv('tiny');
  slob = createSlob(t.env);
  free0 = freePages(t);
});

describe('free blocks are encoded in the page as slob.c does', () => {
  it('a kmalloc(100) on a fresh page: header 100, then one free block [1994 units, next = end]', () => {
    const p = slob.kmalloc(100, GFP_KERNEL);
    const base = baseOf(p);
    expect(p).toBe(base + 8);
    expect(u32(base)).toBe(100); // *m = size
    // 108 bytes = 54 units taken; the rest is [units, next offset] at byte 108.
    expect(u16(base + 108)).toBe(1994);
    expect(u16(base + 110)).toBe(2048);
    expect(slob.heapStats().small.freeUnits).toBe(1994);
  });

  it('an alignment gap becomes its own free block in front of the allocation', () => {
    const p = slob.kmalloc(100, GFP_KERNEL);
    const base = baseOf(p);
    const q = slob.kmalloc(20, GFP_KERNEL);
    // The header must sit 8 bytes before an 8-aligned object: 108 -> 112, leaving 2 units.
    expect(q).toBe(base + 120);
    expect(u32(base + 112)).toBe(20);
    expect([u16(base + 108), u16(base + 110)]).toEqual([2, 70]); // 2 units, next at unit 70
    expect([u16(base + 140), u16(base + 142)]).toEqual([1978, 2048]);
    const st = slob.heapStats().small;
    expect(st.freeUnits).toBe(1980);
    expect(st.freeBlocks).toBe(2);
    expect(slob.verify()).toEqual([]);
  });

  it('a one-unit free block stores only -next', () => {
    const c = cache('six', 6);
    const a = slob.kmem_cache_alloc(c, GFP_KERNEL);
    const b = slob.kmem_cache_alloc(c, GFP_KERNEL);
    const base = baseOf(a);
    expect(a).toBe(base);
    expect(b).toBe(base + 8); // 8-byte alignment skips the unit at byte 6
    expect(u16(base + 6)).toBe(0x10000 - 7); // -7: next free block at unit 7
    expect([u16(base + 14), u16(base + 16)]).toEqual([2041, 2048]);
    expect(slob.verify()).toEqual([]);
  });
});

describe('placement: address-ordered first fit', () => {
  it('reuses the lowest free block first', () => {
    const c = cache('c64', 64);
    const [a, b, d] = [0, 1, 2].map(() => slob.kmem_cache_alloc(c, GFP_KERNEL)) as [
      number,
      number,
      number,
    ];
    expect([b - a, d - a]).toEqual([64, 128]);
    slob.kmem_cache_free(c, d);
    slob.kmem_cache_free(c, a);
    expect(slob.kmem_cache_alloc(c, GFP_KERNEL)).toBe(a);
    expect(slob.kmem_cache_alloc(c, GFP_KERNEL)).toBe(d);
    expect(slob.kmem_cache_alloc(c, GFP_KERNEL)).toBe(a + 192);
    expect(slob.verify()).toEqual([]);
  });

  it('coalesces a freed block with both neighbours', () => {
    const c = cache('c64', 64);
    const [a, b, d, e] = [0, 1, 2, 3].map(() => slob.kmem_cache_alloc(c, GFP_KERNEL)) as number[];
    slob.kmem_cache_free(c, a!);
    slob.kmem_cache_free(c, d!);
    expect([u16(a!), u16(a! + 2)]).toEqual([32, 64]); // a -> d
    expect([u16(d!), u16(d! + 2)]).toEqual([32, 128]); // d -> tail
    slob.kmem_cache_free(c, b!);
    expect([u16(a!), u16(a! + 2)]).toEqual([96, 128]); // a+b+d as one block
    expect([u16(a! + 256), u16(a! + 258)]).toEqual([1920, 2048]);
    expect(slob.heapStats().small.freeBlocks).toBe(2);
    expect(slob.verify()).toEqual([]);
    slob.kmem_cache_free(c, e!);
    expect(slob.heapStats().pages).toBe(0);
  });

  it('gives a page back to the page allocator when its last block is freed', () => {
    const ps = [10, 200, 30, 77].map((n) => slob.kmalloc(n, GFP_KERNEL));
    const pfn = pfnOf(ps[0]!);
    expect(new Set(ps.map(pfnOf)).size).toBe(1);
    expect(t.env.memMap.pageType[pfn]).toBe(PGTY_slab);
    expect(freePages(t)).toBe(free0 - 1);
    for (const p of ps) slob.kfree(p);
    expect(freePages(t)).toBe(free0);
    expect(t.env.memMap.isSlab(pfn)).toBe(false);
    expect(slob.heapStats()).toMatchObject({ pages: 0, fullPages: 0, freeBytes: 0 });
    expect(slob.verify()).toEqual([]);
  });

  it('a full page leaves its list and comes back on the first free', () => {
    const c = cache('c128', 128);
    const objs = Array.from({ length: 32 }, () => slob.kmem_cache_alloc(c, GFP_KERNEL));
    expect(new Set(objs.map(pfnOf)).size).toBe(1); // 32 * 64 units = 2048: exactly one page
    expect(slob.heapStats()).toMatchObject({ pages: 1, fullPages: 1, small: { pfns: [] } });
    slob.kmem_cache_free(c, objs[5]!);
    const st = slob.heapStats();
    expect(st.small.pfns).toEqual([pfnOf(objs[0]!)]);
    expect([u16(objs[5]!), u16(objs[5]! + 2)]).toEqual([64, 2048]);
    expect(slob.kmem_cache_alloc(c, GFP_KERNEL)).toBe(objs[5]);
  });
});

describe('the three lists', () => {
  it('splits requests at SLOB_BREAK1 and SLOB_BREAK2, counting the kmalloc header', () => {
    expect([SLOB_BREAK1, SLOB_BREAK2]).toEqual([256, 1024]);
    const small = slob.kmalloc(247, GFP_KERNEL); // 255 bytes with the header
    const med = slob.kmalloc(248, GFP_KERNEL); // 256
    const med2 = slob.kmalloc(1015, GFP_KERNEL); // 1023
    const large = slob.kmalloc(1016, GFP_KERNEL); // 1024
    const st = slob.heapStats();
    expect(st.small.pfns).toEqual([pfnOf(small)]);
    expect(st.medium.pfns).toEqual([pfnOf(med)]);
    expect(pfnOf(med2)).toBe(pfnOf(med));
    expect(st.large.pfns).toEqual([pfnOf(large)]);
    expect(st.pages).toBe(3);
  });

  it('rotates the list so the next search starts at the page that served the last one', () => {
    const c = cache('c200', 200); // 100 units: 20 per page, 48 units left over
    const objs = Array.from({ length: 60 }, () => slob.kmem_cache_alloc(c, GFP_KERNEL));
    const [p1, p2, p3] = [objs[0]!, objs[20]!, objs[40]!].map(pfnOf) as [number, number, number];
    expect(new Set([p1, p2, p3]).size).toBe(3);
    expect(slob.heapStats().small.pfns).toEqual([p3, p2, p1]); // list_add() at the front
    slob.kmem_cache_free(c, objs[0]!);
    // p3 and p2 have 48 units, too few; p1 serves and becomes the head of the list.
    expect(slob.kmem_cache_alloc(c, GFP_KERNEL)).toBe(objs[0]);
    expect(slob.heapStats().small.pfns).toEqual([p1, p3, p2]);

    // Enough free units but no block big enough: slob_page_alloc() fails, the search goes on.
    slob.kmem_cache_free(c, objs[40]!);
    slob.kmem_cache_free(c, objs[42]!);
    const c250 = cache('c250', 250); // 125 units; p3 has 248 in blocks of 100, 100, 48
    const x = slob.kmem_cache_alloc(c250, GFP_KERNEL);
    const p4 = pfnOf(x);
    expect([p1, p2, p3]).not.toContain(p4);
    expect(slob.heapStats().small.pfns).toEqual([p4, p1, p3, p2]);
    expect(slob.verify()).toEqual([]);
  });
});

describe('kmalloc', () => {
  it('stores the requested size in an 8-byte header; ksize is the unit-rounded size', () => {
    const sizes = [1, 2, 7, 100, 101, 255, 4087];
    const ps = sizes.map((n) => slob.kmalloc(n, GFP_KERNEL));
    expect(ps.map((p) => u32(p - 8))).toEqual(sizes);
    expect(ps.map((p) => slob.ksize(p))).toEqual([2, 2, 8, 100, 102, 256, 4088]);
    expect(t.env.memMap.pageType[pfnOf(ps[6]!)]).toBe(PGTY_slab); // 4095 bytes: a whole page
    for (const p of ps) slob.kfree(p);
    expect(freePages(t)).toBe(free0);
  });

  it('aligns power-of-two sizes naturally', () => {
    slob.kmalloc(100, GFP_KERNEL);
    const p64 = slob.kmalloc(64, GFP_KERNEL);
    const p2k = slob.kmalloc(2048, GFP_KERNEL);
    expect((p64 - PAGE_OFFSET) % 64).toBe(0);
    expect((p2k - PAGE_OFFSET) % 2048).toBe(0);
    expect(slob.verify()).toEqual([]);
  });

  it('sends PAGE_SIZE - 8 and more to the page allocator, compound above order 0', () => {
    const mm = t.env.memMap;
    const p0 = slob.kmalloc(4088, GFP_KERNEL);
    const p1 = slob.kmalloc(5000, GFP_KERNEL);
    const p2 = slob.kmalloc(3 * PAGE_SIZE, GFP_KERNEL);
    for (const p of [p0, p1, p2]) expect(p).toBe(baseOf(p));
    expect([mm.isSlab(pfnOf(p0)), mm.isHead(pfnOf(p0))]).toEqual([false, false]);
    expect([mm.isHead(pfnOf(p1)), mm.order[pfnOf(p1)]]).toEqual([true, 1]);
    expect([mm.isHead(pfnOf(p2)), mm.order[pfnOf(p2)]]).toEqual([true, 2]);
    expect([slob.ksize(p0), slob.ksize(p1), slob.ksize(p2)]).toEqual([4096, 8192, 16384]);
    expect(freePages(t)).toBe(free0 - 7);
    expect(slob.heapStats().pages).toBe(0);
    for (const p of [p0, p1, p2]) slob.kfree(p);
    expect(freePages(t)).toBe(free0);
  });

  it('returns ZERO_SIZE_PTR for 0 bytes; kfree and ksize accept it', () => {
    expect(slob.kmalloc(0, GFP_KERNEL)).toBe(16);
    slob.kfree(16);
    slob.kfree(0);
    expect(slob.ksize(16)).toBe(0);
    expect(freePages(t)).toBe(free0);
  });

  it('zeroes with __GFP_ZERO and keeps the header', () => {
    const keep = slob.kmalloc(10, GFP_KERNEL);
    const p = slob.kmalloc(100, GFP_KERNEL);
    t.env.memory.fill(p - PAGE_OFFSET, 100, 0xaa);
    slob.kfree(p);
    const q = slob.kmalloc(100, GFP_KERNEL | __GFP_ZERO);
    expect(q).toBe(p);
    expect(u32(q - 8)).toBe(100);
    expect(t.env.memory.findNot(q - PAGE_OFFSET, 100, 0)).toBe(-1);
    slob.kfree(keep);
  });

  it('has no kmalloc caches and no cache behind any object', () => {
    expect(slob.caches()).toEqual([]);
    expect(slob.kmallocCache(64)).toBeNull();
    expect(slob.virt_to_cache(slob.kmalloc(64, GFP_KERNEL))).toBeNull();
  });
});

describe('kmem_cache on SLOB', () => {
  it('runs the ctor on every allocation, not once per slab', () => {
    const seen: number[] = [];
    const c = cache('ctor', 40, 0, (o) => {
      seen.push(o);
      t.env.memory.write32(o - PAGE_OFFSET, 0xc0ffee);
    });
    const a = slob.kmem_cache_alloc(c, GFP_KERNEL);
    const b = slob.kmem_cache_alloc(c, GFP_KERNEL);
    slob.kmem_cache_free(c, a);
    const a2 = slob.kmem_cache_alloc(c, GFP_KERNEL);
    expect(a2).toBe(a);
    expect(seen).toEqual([a, b, a]); // SLUB/SLAB would not call it again for a reused object
    expect(u32(a2)).toBe(0xc0ffee);
  });

  it('kmem_cache_zalloc zeroes; with a ctor it WARNs once and the ctor still runs', () => {
    const plain = cache('plain', 40);
    const a = slob.kmem_cache_alloc(plain, GFP_KERNEL);
    t.env.memory.fill(a - PAGE_OFFSET, 40, 0x5a);
    slob.kmem_cache_free(plain, a);
    const z = slob.kmem_cache_zalloc(plain, GFP_KERNEL);
    expect(z).toBe(a);
    expect(t.env.memory.findNot(z - PAGE_OFFSET, 40, 0)).toBe(-1);
    expect(warnings(/slob_alloc_node/)).toBe(0);

    const withCtor = cache('withctor', 40, 0, (o) => t.env.memory.write32(o - PAGE_OFFSET, 7));
    const y = slob.kmem_cache_zalloc(withCtor, GFP_KERNEL);
    slob.kmem_cache_zalloc(withCtor, GFP_KERNEL);
    expect(u32(y)).toBe(7);
    expect(warnings(/WARNING: CPU: \d+ PID: \d+ at mm\/slob\.c:632 slob_alloc_node/)).toBe(1);
  });

  it('sizes objects in units, adds the slob_rcu footer, and drops flags SLOB does not know', () => {
    expect(cache('odd', 13).size).toBe(14);
    expect(cache('rcu', 13, SLAB_TYPESAFE_BY_RCU).size).toBe(38); // 13 + 24, rounded
    const p = cache('poison', 64, SLAB_POISON | SLAB_HWCACHE_ALIGN);
    expect(p.flags).toBe(SLAB_HWCACHE_ALIGN);
    expect(p.align).toBe(64);
    expect(cache('plain8', 20).align).toBe(8);
  });

  it('aligns SLAB_HWCACHE_ALIGN objects by fragmenting the free block', () => {
    const c = cache('hw', 100, SLAB_HWCACHE_ALIGN);
    const a = slob.kmem_cache_alloc(c, GFP_KERNEL);
    const b = slob.kmem_cache_alloc(c, GFP_KERNEL);
    expect(a).toBe(baseOf(a));
    expect(b).toBe(a + 128);
    expect([u16(a + 100), u16(a + 102)]).toEqual([14, 114]); // the 28-byte gap is free
    expect(slob.verify()).toEqual([]);
  });

  it('takes objects of PAGE_SIZE or more straight from the page allocator', () => {
    const c = cache('big', 5000);
    const a = slob.kmem_cache_alloc(c, GFP_KERNEL | __GFP_ZERO);
    expect(a).toBe(baseOf(a));
    expect(t.env.memMap.isSlab(pfnOf(a))).toBe(false);
    expect(freePages(t)).toBe(free0 - 2);
    slob.kmem_cache_free(c, a);
    expect(freePages(t)).toBe(free0);
  });

  it('SLAB_TYPESAFE_BY_RCU writes the slob_rcu footer, then frees at once', () => {
    const c = cache('rcu', 40, SLAB_TYPESAFE_BY_RCU); // size 64, footer at 40
    const keep = slob.kmem_cache_alloc(c, GFP_KERNEL);
    const a = slob.kmem_cache_alloc(c, GFP_KERNEL);
    expect(a).toBe(keep + 64);
    slob.kmem_cache_free(c, a);
    expect(u32(a + 40 + 16)).toBe(64); // slob_rcu->size
    expect(t.env.kallsyms.formatSymbol(t.env.memory.read64Number(a + 48 - PAGE_OFFSET))).toMatch(
      /^kmem_rcu_free/,
    );
    expect(slob.kmem_cache_alloc(c, GFP_KERNEL)).toBe(a); // already free: no grace period
    expect(slob.verify()).toEqual([]);
  });

  it('counts live objects per cache; destroy with objects warns and keeps the handle', () => {
    const c = cache('live', 32);
    const objs = [1, 2, 3].map(() => slob.kmem_cache_alloc(c, GFP_KERNEL));
    expect(slob.cacheInfo(c)).toMatchObject({
      name: 'live',
      active_objs: 3,
      num_objs: 3,
      objsize: 32,
      objects_per_slab: 0,
      num_slabs: 0,
    });
    expect(slob.kmem_cache_shrink(c)).toBe(0);
    slob.kmem_cache_destroy(c);
    expect(warnings(/kmem_cache_destroy live: Slab cache still has objects/)).toBe(1);
    for (const o of objs) slob.kmem_cache_free(c, o);
    slob.kmem_cache_destroy(c);
    expect(freePages(t)).toBe(free0);
    expect(() => slob.kmem_cache_alloc(c, GFP_KERNEL)).toThrow(TypeError);
  });
});

describe('NUMA', () => {
  it('a node-specific request only uses pages of that node', () => {
    t = makeSlabEnv({
      nodes: [
        { memory: '64M', cpus: 1 },
        { memory: '64M', cpus: 1 },
      ],
    });
    slob = createSlob(t.env);
    const node = (v: number) => t.env.memMap.node[pfnOf(v)];
    const c = cache('numa', 64);
    const a = slob.kmem_cache_alloc_node(c, GFP_KERNEL, 1);
    const b = slob.kmem_cache_alloc_node(c, GFP_KERNEL, 0);
    expect([node(a), node(b)]).toEqual([1, 0]);
    expect(pfnOf(b)).not.toBe(pfnOf(a));
    // No node: the first page on the list with room, whatever its node.
    expect(pfnOf(slob.kmem_cache_alloc(c, GFP_KERNEL))).toBe(pfnOf(b));
    expect(pfnOf(slob.kmem_cache_alloc_node(c, GFP_KERNEL, 1))).toBe(pfnOf(a));
    // That success rotated a's page to the front: the next search without a node starts there.
    expect(slob.heapStats().small.pfns).toEqual([pfnOf(a), pfnOf(b)]);
    expect(pfnOf(slob.kmalloc(10, GFP_KERNEL, NUMA_NO_NODE))).toBe(pfnOf(a));
    expect(pfnOf(slob.kmalloc(10, GFP_KERNEL, 0))).toBe(pfnOf(b));
    expect(slob.verify()).toEqual([]);
  });
});

describe('misuse (checks Linux 6.1 SLOB does not have)', () => {
  it('reports a double kfree, ignores it and loses nothing', () => {
    const a = slob.kmalloc(100, GFP_KERNEL);
    const b = slob.kmalloc(100, GFP_KERNEL);
    slob.kfree(a);
    const before = slob.heapStats();
    slob.kfree(a);
    const lines = t.env.klog.lines();
    expect(lines).toContain(
      `slob: double free of 0x${formatPtr(a)} in kfree(): it lies in the free block ` +
        `0x${formatPtr(a - 8)}-0x${formatPtr(a + 103)}, free ignored (mmsim check)`, // with b's alignment gap
    );
    expect(lines.some((l) => /^WARNING: CPU: 0 PID: 0 at mm\/slob\.c:384 slob_free/.test(l))).toBe(
      true,
    );
    expect(slob.heapStats()).toEqual(before);
    expect(slob.verify()).toEqual([]);
    // Nothing handed out twice: the next two allocations are distinct and do not overlap b.
    const c = slob.kmalloc(100, GFP_KERNEL);
    const d = slob.kmalloc(100, GFP_KERNEL);
    expect(c).toBe(a);
    expect(d).not.toBe(c);
    expect(d).not.toBe(b);
    for (const p of [b, c, d]) slob.kfree(p);
    expect(freePages(t)).toBe(free0);
  });

  it('reports a double kmem_cache_free of a block that was coalesced', () => {
    const c = cache('c64', 64);
    const [a, b, keep] = [0, 1, 2].map(() => slob.kmem_cache_alloc(c, GFP_KERNEL)) as number[];
    slob.kmem_cache_free(c, a!);
    slob.kmem_cache_free(c, b!); // one free block a..b
    slob.kmem_cache_free(c, b!);
    slob.kmem_cache_free(c, a!);
    expect(warnings(/^slob: double free of .* in kmem_cache_free\(\)/)).toBe(2);
    expect(slob.cacheInfo(c).active_objs).toBe(1);
    expect(slob.verify()).toEqual([]);
    slob.kmem_cache_free(c, keep!);
    expect(freePages(t)).toBe(free0);
  });

  it('reports a kfree of a pointer with no kmalloc header before it', () => {
    const a = slob.kmalloc(100, GFP_KERNEL | __GFP_ZERO);
    slob.kfree(a + 16); // header would be at a + 8: zero bytes of the object
    slob.kfree(a + 1); // not 8-aligned
    expect(
      warnings(/^slob: invalid free of .* in kfree\(\): no kmalloc size header before it/),
    ).toBe(2);
    expect(slob.ksize(a)).toBe(100);
    slob.kfree(a);
    expect(freePages(t)).toBe(free0);
  });

  it('survives a write to freed memory that breaks the free list', () => {
    const a = slob.kmalloc(100, GFP_KERNEL);
    const keep = slob.kmalloc(100, GFP_KERNEL);
    slob.kfree(a);
    t.env.memory.write16(a - 8 - PAGE_OFFSET, 0x7fff); // the free block's size, overwritten
    const b = slob.kmalloc(100, GFP_KERNEL);
    expect(pfnOf(b)).not.toBe(pfnOf(a)); // the broken page is skipped
    expect(warnings(/^slob: free list of page pfn 0x[0-9a-f]+ is corrupt/)).toBe(1);
    expect(slob.verify().length).toBeGreaterThan(0);
    slob.kfree(keep);
    slob.kfree(b);
  });
  it('does not loop on a free list whose link was overwritten to point backwards', () => {
    const a = slob.kmalloc(100, GFP_KERNEL);
    const b = slob.kmalloc(100, GFP_KERNEL);
    const keep = slob.kmalloc(100, GFP_KERNEL);
    slob.kfree(a);
    t.env.memory.write16(a - 8 + 2 - PAGE_OFFSET, 0); // next of the first free block: itself
    slob.kfree(b);
    expect(warnings(/^slob: free list of page pfn 0x[0-9a-f]+ is corrupt/)).toBe(1);
    expect(slob.kmalloc(100, GFP_KERNEL)).not.toBe(keep);
  });
});

describe('invariants under a random workload', () => {
  it('live blocks never overlap, verify() stays clean, and every page comes back', () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const caches = [cache('r24', 24), cache('r100', 100, SLAB_HWCACHE_ALIGN), cache('r700', 700)];
    const live: { p: number; len: number; c: KmemCache | null }[] = [];
    for (let step = 0; step < 4000; step++) {
      if (live.length > 0 && rand(100) < 45) {
        const { p, c } = live.splice(rand(live.length), 1)[0]!;
        if (c) slob.kmem_cache_free(c, p);
        else slob.kfree(p);
      } else if (rand(2) === 0) {
        const n = 1 + rand(rand(10) === 0 ? 6000 : 600);
        const p = slob.kmalloc(n, GFP_KERNEL);
        live.push({ p, len: n, c: null });
        if (n < PAGE_SIZE - 8) expect(u32(p - 8)).toBe(n);
      } else {
        const c = caches[rand(3)]!;
        const p = slob.kmem_cache_alloc(c, GFP_KERNEL);
        expect((p - PAGE_OFFSET) % c.align).toBe(0);
        live.push({ p, len: c.size, c });
      }
      if (step % 500 === 0) {
        expect(slob.verify()).toEqual([]);
        // kmalloc blocks include their header.
        const spans = live
          .map(({ p, len, c }) => (c || len >= PAGE_SIZE - 8 ? [p, p + len] : [p - 8, p + len]))
          .sort((x, y) => x[0]! - y[0]!);
        for (let i = 1; i < spans.length; i++)
          expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]!);
      }
    }
    for (const { p, c } of live) {
      if (c) slob.kmem_cache_free(c, p);
      else slob.kfree(p);
    }
    expect(slob.verify()).toEqual([]);
    expect(slob.heapStats().pages).toBe(0);
    expect(freePages(t)).toBe(free0);
    expect(t.env.klog.grep(/WARNING/).length).toBe(0);
  });
});
