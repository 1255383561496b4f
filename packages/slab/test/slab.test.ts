/**
 * SLAB (mm/slab.c, Linux 6.1): exact geometry, tunables, colouring, array caches, the reaper,
 * shrinking, constructors, DEBUG checks and misuse reports. The numbers are derived by hand
 * from 6.1's cache_estimate() / calculate_slab_order() / enable_cpucache(); each test says how.
 */
import {
  formatPtr,
  GFP_ATOMIC,
  GFP_KERNEL,
  KernelOops,
  type KmemCache,
  NUMA_NO_NODE,
  PAGE_OFFSET,
  PAGE_SIZE,
  pfnToVirt,
  SLAB_HWCACHE_ALIGN,
  SLAB_NO_REAP,
  SLAB_POISON,
  SLAB_RECLAIM_ACCOUNT,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
} from '@mmsim/core';
import { describe, expect, it } from 'vitest';
import { POISON_END, POISON_FREE, POISON_INUSE } from '../src/common.js';
import {
  createSlab,
  hexDumpRow,
  RED_ACTIVE,
  RED_INACTIVE,
  type SlabAllocatorSLAB,
} from '../src/slab.js';
import { freePages, makeSlabEnv, type TestMachine } from './env.js';

const SEC = 1_000_000_000;

function boot(
  machine: Parameters<typeof makeSlabEnv>[0] = 'tiny',
  options = {},
): { t: TestMachine; a: SlabAllocatorSLAB } {
  const t = makeSlabEnv(machine);
  return { t, a: createSlab(t.env, options) };
}

const cacheNamed = (a: SlabAllocatorSLAB, name: string): KmemCache => {
  const c = a.caches().find((x) => x.name === name);
  if (!c) throw new Error(`no cache ${name}`);
  return c;
};

/** The head pfn of the slab holding `obj`. */
const slabPfn = (t: TestMachine, obj: number): number =>
  t.env.memMap.compoundHead(Math.floor((obj - PAGE_OFFSET) / PAGE_SIZE));

const lines = (t: TestMachine): string[] => t.pageEnv.klog.lines();

const DUO = { name: 'duo', nodes: [{ memory: '64M', cpus: 2 }] } as const;
const TWO_NODES = {
  name: 'two',
  nodes: [
    { memory: '64M', cpus: 1 },
    { memory: '64M', cpus: 1 },
  ],
} as const;

describe('geometry as 6.1 computes it (slab_max_order 1 above 32 MiB, 64-byte lines)', () => {
  const { a } = boot();
  const row = (name: string) => {
    const c = cacheNamed(a, name);
    const i = a.cacheInfo(c);
    const g = a.geometry(c);
    return [
      i.objsize,
      i.objects_per_slab,
      i.cache_order,
      g.colour,
      g.objFreelist ? 'objfreelist' : g.offSlab ? 'off' : 'on',
    ];
  };

  it('kmalloc-32: 128 u8 indices do not fit in a 32-byte object, off-slab does not pay: 4096/33 = 124 on-slab, 4 bytes left', () => {
    expect(row('kmalloc-32')).toEqual([32, 124, 0, 0, 'on']);
    expect(a.geometry(cacheNamed(a, 'kmalloc-32')).leftOver).toBe(4);
  });
  it('kmalloc-64 and kmalloc-128: the freelist lives in a free object (64 and 32 per page)', () => {
    expect(row('kmalloc-64')).toEqual([64, 64, 0, 0, 'objfreelist']);
    expect(row('kmalloc-128')).toEqual([128, 32, 0, 0, 'objfreelist']);
  });
  it('kmalloc-96 is SLAB_HWCACHE_ALIGN (ARCH_KMALLOC_FLAGS): 128-byte slots, 32 per slab', () => {
    expect(row('kmalloc-96')).toEqual([128, 32, 0, 0, 'objfreelist']);
    expect(cacheNamed(a, 'kmalloc-96').object_size).toBe(96);
  });
  it('kmalloc-192: 21 objects, 64 bytes left = one colour', () => {
    expect(row('kmalloc-192')).toEqual([192, 21, 0, 1, 'objfreelist']);
  });
  it('kmalloc-1k 4/slab, kmalloc-4k 1/slab at order 0, kmalloc-8k 1/slab at order 1', () => {
    expect(row('kmalloc-1k')).toEqual([1024, 4, 0, 0, 'objfreelist']);
    expect(row('kmalloc-2k')).toEqual([2048, 2, 0, 0, 'objfreelist']);
    expect(row('kmalloc-4k')).toEqual([4096, 1, 0, 0, 'objfreelist']);
    expect(row('kmalloc-8k')).toEqual([8192, 1, 1, 0, 'objfreelist']);
  });
  it('a 200-byte cache: 20 objects, 96 bytes left (colour 1); with SLAB_HWCACHE_ALIGN 256-byte slots, 16', () => {
    const s = a.kmem_cache_create('t200', 200, 0, 0)!;
    expect(a.geometry(s)).toMatchObject({
      num: 20,
      gfporder: 0,
      leftOver: 96,
      colour: 1,
      size: 200,
      objFreelist: true,
    });
    const h = a.kmem_cache_create('t200h', 200, 0, SLAB_HWCACHE_ALIGN)!;
    expect(a.geometry(h)).toMatchObject({
      num: 16,
      gfporder: 0,
      leftOver: 0,
      colour: 0,
      size: 256,
    });
  });
  it('a 1100-byte cache: order 0 wastes 784 bytes (> 1/8), order 1 gives 7 objects and 7 colours', () => {
    const s = a.kmem_cache_create('t1100', 1100, 0, 0)!;
    expect(a.geometry(s)).toMatchObject({
      num: 7,
      gfporder: 1,
      leftOver: 464,
      colour: 7,
      size: 1104,
    });
    // SLAB_RECLAIM_ACCOUNT stops at the first order that fits.
    const r = a.kmem_cache_create('t1100r', 1100, 0, SLAB_RECLAIM_ACCOUNT)!;
    expect(a.geometry(r)).toMatchObject({ num: 3, gfporder: 0, leftOver: 784, colour: 12 });
  });
  it('slab_max_order=0 keeps the 1100-byte cache at order 0', () => {
    const b = boot('tiny', { slabMaxOrder: 0 }).a;
    expect(b.slabMaxOrder).toBe(0);
    expect(b.geometry(b.kmem_cache_create('t1100', 1100, 0, 0)!)).toMatchObject({
      num: 3,
      gfporder: 0,
    });
  });
  it('a 512-byte cache with a constructor keeps its freelist off-slab (kmalloc-32 is < 512/2)', () => {
    const s = a.kmem_cache_create('ctor512', 512, 0, 0, () => {})!;
    expect(a.geometry(s)).toMatchObject({
      num: 8,
      gfporder: 0,
      offSlab: true,
      objFreelist: false,
      freelistSize: 8,
    });
  });
  it('a 200-byte cache with a constructor moves the freelist back on-slab (96 left >= 20): 4096/201 = 20', () => {
    const s = a.kmem_cache_create('ctor200', 200, 0, 0, () => {})!;
    expect(a.geometry(s)).toMatchObject({
      num: 20,
      offSlab: false,
      objFreelist: false,
      leftOver: 76,
      colour: 1,
    });
  });
});

describe('the freelist array lives in simulated memory', () => {
  it('OBJFREELIST: inside the last object; on-slab: the last num bytes of the slab; the bytes decide what is handed out', () => {
    const { t, a } = boot();
    const mem = t.env.memory;
    const s = a.kmem_cache_create('t200', 200, 0, 0)!;
    const x = a.kmem_cache_alloc(s, GFP_KERNEL);
    const slab = slabPfn(t, x);
    const info = a.slabInfo(slab)!;
    expect(info.freelist).toBe(info.sMem + 19 * 200);
    // freelist[active..num) = the free indices 16..19, one byte each.
    expect(Array.from(mem.readBytes(info.freelist - PAGE_OFFSET, 20))).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );

    const c = a.kmem_cache_create('c32', 32, 0, 0)!;
    expect(a.geometry(c)).toMatchObject({ num: 124, objFreelist: false, offSlab: false });
    const y = a.kmem_cache_alloc(c, GFP_KERNEL);
    const cs = slabPfn(t, y);
    const ci = a.slabInfo(cs)!;
    expect(ci.freelist).toBe(pfnToVirt(cs) + PAGE_SIZE - 124);
    // Rewrite freelist[16] (the next object the refill takes) to say object 100.
    mem.write8(ci.freelist - PAGE_OFFSET + 16, 100);
    mem.write8(ci.freelist - PAGE_OFFSET + 100, 16);
    for (let i = 0; i < 15; i++) a.kmem_cache_alloc(c, GFP_KERNEL);
    a.kmem_cache_alloc(c, GFP_KERNEL); // refill: 60 objects from freelist[16..76)
    const ac = a.arrayCache(c).entries;
    expect(ac[0]).toBe(ci.sMem + 100 * 32);
    expect(a.verify()).toEqual([]);
  });
});

describe('tunables (enable_cpucache) and slabinfo', () => {
  it('limit 120/54/24/8 by size, batchcount (limit+1)/2, no shared array on one CPU', () => {
    const { a } = boot();
    const tun = (n: string) => {
      const i = a.cacheInfo(cacheNamed(a, n));
      return [i.limit, i.batchcount, i.shared];
    };
    expect(tun('kmalloc-256')).toEqual([120, 60, 0]);
    expect(tun('kmalloc-512')).toEqual([54, 27, 0]);
    expect(tun('kmalloc-2k')).toEqual([24, 12, 0]);
    expect(tun('kmalloc-8k')).toEqual([8, 4, 0]);
    const big = a.kmem_cache_create('big', 140000, 0, 0)!;
    expect([a.cacheInfo(big).limit, a.cacheInfo(big).batchcount]).toEqual([1, 1]);
  });
  it('shared 8 with two CPUs; the shared array holds shared * batchcount; free_limit = (1 + cpus) * batchcount + num', () => {
    const { a } = boot(DUO);
    const s = a.kmem_cache_create('t200', 200, 0, 0)!;
    expect(a.cacheInfo(s)).toMatchObject({
      limit: 120,
      batchcount: 60,
      shared: 8,
      shared_avail: 0,
    });
    expect(a.nodeInfo(s, 0)).toMatchObject({ sharedLimit: 480, freeLimit: 3 * 60 + 20 });
    expect(a.cacheInfo(cacheNamed(a, 'kmalloc-8k')).shared).toBe(0);
  });
  it('DEBUG caches cap the limit at 32', () => {
    const { a } = boot();
    const s = a.kmem_cache_create('dbg', 100, 0, SLAB_POISON)!;
    expect(a.cacheInfo(s)).toMatchObject({ limit: 32, batchcount: 16 });
  });
  it('objects in array caches count as active (num_objs - free objects in slabs)', () => {
    const { a } = boot();
    const s = a.kmem_cache_create('t200', 200, 0, 0)!;
    const p = a.kmem_cache_alloc(s, GFP_KERNEL);
    // One slab of 20; 16 moved to the array (BATCHREFILL_LIMIT), one handed out.
    expect(a.cacheInfo(s)).toMatchObject({
      num_objs: 20,
      active_objs: 16,
      num_slabs: 1,
      active_slabs: 1,
    });
    a.kmem_cache_free(s, p);
    expect(a.cacheInfo(s).active_objs).toBe(16);
  });
  it('writing "name limit batchcount shared" re-tunes (slabinfo_write), bad values are ignored', () => {
    const { a } = boot();
    const s = a.kmem_cache_create('t200', 200, 0, 0)!;
    const objs = Array.from({ length: 10 }, () => a.kmem_cache_alloc(s, GFP_KERNEL));
    for (const o of objs) a.kmem_cache_free(s, o);
    expect(a.slabinfoWrite('t200 30 10 0')).toBe(0);
    expect(a.cacheInfo(s)).toMatchObject({ limit: 30, batchcount: 10, active_objs: 0 });
    expect(a.slabinfoWrite('t200 5 10 0')).toBe(0);
    expect(a.cacheInfo(s).limit).toBe(30);
    expect(a.slabinfoWrite('nosuch 5 1 0')).toBe(-22);
    expect(a.verify()).toEqual([]);
  });
});

describe('slab colouring', () => {
  it('successive slabs of a node start at colour_next * 64, colour_next incremented first, wrapping at colour', () => {
    const { t, a } = boot();
    const s = a.kmem_cache_create('t1100', 1100, 0, 0)!;
    const offsets: number[] = [];
    const seen = new Set<number>();
    for (let i = 0; i < 7 * 9; i++) {
      const pfn = slabPfn(t, a.kmem_cache_alloc(s, GFP_KERNEL));
      if (!seen.has(pfn)) {
        seen.add(pfn);
        offsets.push(a.slabInfo(pfn)!.sMem - pfnToVirt(pfn));
      }
    }
    expect(offsets).toEqual([64, 128, 192, 256, 320, 384, 0, 64, 128]);
    expect(a.verify()).toEqual([]);
  });
});

describe('per-CPU array caches', () => {
  it('hands out the object freed last first (LIFO)', () => {
    const { a } = boot();
    const s = a.kmem_cache_create('t200', 200, 0, 0)!;
    const x = a.kmem_cache_alloc(s, GFP_KERNEL);
    const y = a.kmem_cache_alloc(s, GFP_KERNEL);
    a.kmem_cache_free(s, x);
    a.kmem_cache_free(s, y);
    expect(a.kmem_cache_alloc(s, GFP_KERNEL)).toBe(y);
    expect(a.kmem_cache_alloc(s, GFP_KERNEL)).toBe(x);
  });

  it('refills 16 (BATCHREFILL_LIMIT) while untouched, then the rest of the partial slab without growing', () => {
    const { t, a } = boot();
    const s = a.kmem_cache_create('t200', 200, 0, 0)!;
    const first = a.kmem_cache_alloc(s, GFP_KERNEL);
    expect(a.arrayCache(s)).toMatchObject({ avail: 15, limit: 120, batchcount: 60, touched: 1 });
    const slab = slabPfn(t, first);
    expect(a.slabInfo(slab)!.active).toBe(16);
    expect(a.nodeInfo(s)).toMatchObject({ freeObjects: 4, totalSlabs: 1, partial: [slab] });
    // The objects come in index order from s_mem, popped from the top.
    expect(first).toBe(a.slabInfo(slab)!.sMem + 15 * 200);
    for (let i = 0; i < 15; i++) a.kmem_cache_alloc(s, GFP_KERNEL);
    // Touched now: batchcount 60, but the node has 4 free objects and takes only those.
    a.kmem_cache_alloc(s, GFP_KERNEL);
    expect(a.arrayCache(s).avail).toBe(3);
    expect(a.nodeInfo(s)).toMatchObject({ freeObjects: 0, totalSlabs: 1, full: [slab] });
    // The full OBJFREELIST slab has no freelist left.
    expect(a.slabInfo(slab)!.freelist).toBe(0);
    expect(a.verify()).toEqual([]);
  });

  it('a full array gives its oldest batchcount objects back to the slabs (cache_flusharray)', () => {
    const { a } = boot();
    const s = a.kmem_cache_create('t200', 200, 0, 0)!;
    const objs = Array.from({ length: 200 }, () => a.kmem_cache_alloc(s, GFP_KERNEL));
    const before = a.arrayCache(s).avail;
    let i = 0;
    while (a.arrayCache(s).avail < 120) a.kmem_cache_free(s, objs[i++]!);
    const full = a.arrayCache(s).entries;
    const freeObjs = a.nodeInfo(s).freeObjects;
    a.kmem_cache_free(s, objs[i]!);
    const after = a.arrayCache(s);
    expect(after.avail).toBe(120 - 60 + 1);
    expect(after.entries.slice(0, 60)).toEqual(full.slice(60));
    expect(after.entries[60]).toBe(objs[i]);
    expect(a.nodeInfo(s).freeObjects).toBe(freeObjs + 60);
    expect(before).toBeLessThan(120);
    expect(a.verify()).toEqual([]);
  });

  it('with two CPUs a flush fills the shared array, and the other CPU refills from it', () => {
    const { t, a } = boot(DUO);
    const ctx = t.env.ctx;
    const s = a.kmem_cache_create('t200', 200, 0, 0)!;
    const objs = Array.from({ length: 121 }, () => a.kmem_cache_alloc(s, GFP_KERNEL));
    for (const o of objs) a.kmem_cache_free(s, o);
    // The 121st free found the array full: 60 entries went to the shared array.
    expect(a.cacheInfo(s).shared_avail).toBe(60);
    const cpu0 = a.arrayCache(s, 0);
    ctx.setCpu(1);
    const o = a.kmem_cache_alloc(s, GFP_KERNEL);
    // CPU 1's first refill takes 16 from the shared array (its newest), hands out the top.
    expect(a.arrayCache(s, 1).avail).toBe(15);
    expect(a.cacheInfo(s).shared_avail).toBe(44);
    expect(a.arrayCache(s, 0)).toEqual(cpu0);
    expect(cpu0.entries.includes(o)).toBe(false);
    ctx.setCpu(0);
    expect(a.verify()).toEqual([]);
  });
});

describe('cache_reap', () => {
  it('an array touched since the last run is only marked; an untouched one loses (limit + 4) / 5 oldest objects', () => {
    const { a } = boot();
    const s = a.kmem_cache_create('t200', 200, 0, 0)!;
    const objs = Array.from({ length: 40 }, () => a.kmem_cache_alloc(s, GFP_KERNEL));
    for (const o of objs) a.kmem_cache_free(s, o);
    const avail = a.arrayCache(s).avail;
    const entries = a.arrayCache(s).entries;
    a.cacheReap();
    expect(a.arrayCache(s)).toMatchObject({ avail, touched: 0 });
    a.cacheReap();
    expect(a.arrayCache(s).avail).toBe(avail - 24);
    expect(a.arrayCache(s).entries).toEqual(entries.slice(24));
    expect(a.verify()).toEqual([]);
  });

  it('every REAPTIMEOUT_NODE it frees (free_limit + 5 * num - 1) / (5 * num) free slabs, unless the free list was touched', () => {
    const { t, a } = boot();
    const s = a.kmem_cache_create('t200', 200, 0, 0)!;
    // free_limit = (1 + 1) * 60 + 20 = 140: up to 140 free objects (7 slabs) stay on the node.
    const objs = Array.from({ length: 200 }, () => a.kmem_cache_alloc(s, GFP_KERNEL));
    for (const o of objs) a.kmem_cache_free(s, o);
    a.drainCpuCaches(s);
    expect(a.nodeInfo(s)).toMatchObject({ freeLimit: 140, freeSlabs: 7, freeObjects: 140 });
    expect(a.cacheInfo(s).num_slabs).toBe(7);
    // Not due yet (next_reap = creation + 4 s).
    expect(a.cacheReap()).toBe(0);
    t.env.ctx.clock.advance(4 * SEC);
    // get_first_slab() set free_touched when a refill found no partial slab: the first due
    // run only clears it.
    expect(a.nodeInfo(s).freeTouched).toBe(1);
    expect(a.cacheReap()).toBe(0);
    expect(a.nodeInfo(s)).toMatchObject({ freeTouched: 0, freeSlabs: 7 });
    // Not due again before another 4 s.
    expect(a.cacheReap()).toBe(0);
    t.env.ctx.clock.advance(4 * SEC);
    // (140 + 100 - 1) / 100 = 2 slabs per run, the oldest (tail of slabs_free) first.
    expect(a.cacheReap()).toBe(2);
    expect(a.nodeInfo(s)).toMatchObject({ freeSlabs: 5, freeObjects: 100 });
    expect(a.verify()).toEqual([]);
  });

  it('skips SLAB_NO_REAP caches entirely', () => {
    const { t, a } = boot();
    const s = a.kmem_cache_create('noreap', 200, 0, SLAB_NO_REAP)!;
    const objs = Array.from({ length: 200 }, () => a.kmem_cache_alloc(s, GFP_KERNEL));
    for (const o of objs) a.kmem_cache_free(s, o);
    const ac = a.arrayCache(s);
    const node = a.nodeInfo(s);
    for (let i = 0; i < 4; i++) {
      t.env.ctx.clock.advance(4 * SEC);
      a.cacheReap();
    }
    expect(a.arrayCache(s)).toEqual(ac);
    expect(a.nodeInfo(s)).toEqual(node);
    // The shrinker leaves it alone too; an explicit kmem_cache_shrink() does not.
    a.shrinkAll();
    expect(a.cacheInfo(s).num_slabs).toBe(node.totalSlabs);
    expect(a.kmem_cache_shrink(s)).toBe(0);
    expect(a.cacheInfo(s).num_slabs).toBe(0);
  });
});

describe('shrink and destroy give every page back', () => {
  it('kmem_cache_shrink drains the arrays and frees all free slabs; destroy leaves the page count as before', () => {
    const { t, a } = boot();
    a.shrinkAll();
    const before = freePages(t);
    const s = a.kmem_cache_create('t1100', 1100, 0, 0)!;
    const objs = Array.from({ length: 500 }, () => a.kmem_cache_alloc(s, GFP_KERNEL));
    expect(freePages(t)).toBeLessThan(before);
    for (const o of objs) a.kmem_cache_free(s, o);
    expect(a.kmem_cache_shrink(s)).toBe(0);
    expect(a.cacheInfo(s)).toMatchObject({ num_slabs: 0, active_objs: 0 });
    expect(freePages(t)).toBe(before);
    a.kmem_cache_destroy(s);
    expect(freePages(t)).toBe(before);
    expect(a.verify()).toEqual([]);
  });

  it('an off-slab cache takes its freelists from kmalloc-32 and returns them', () => {
    const { t, a } = boot();
    a.shrinkAll();
    const before = freePages(t);
    const k32 = cacheNamed(a, 'kmalloc-32');
    const s = a.kmem_cache_create('ctor512', 512, 0, 0, () => {})!;
    const objs = Array.from({ length: 80 }, () => a.kmem_cache_alloc(s, GFP_KERNEL));
    // 80 objects need 10 slabs, each with an 8-byte freelist object in kmalloc-32.
    expect(a.cacheInfo(s).num_slabs).toBe(10);
    expect(a.cacheInfo(k32).active_objs).toBe(
      a.cacheInfo(k32).num_objs - a.nodeInfo(k32).freeObjects,
    );
    for (const o of objs) a.kmem_cache_free(s, o);
    a.kmem_cache_destroy(s);
    a.shrinkAll();
    expect(freePages(t)).toBe(before);
    expect(a.verify()).toEqual([]);
  });

  it('destroying a cache with live objects warns, frees what it can, and a later destroy finishes', () => {
    const { t, a } = boot();
    a.shrinkAll();
    const before = freePages(t);
    const s = a.kmem_cache_create('leaky', 200, 0, 0)!;
    const objs = Array.from({ length: 50 }, () => a.kmem_cache_alloc(s, GFP_KERNEL));
    for (const o of objs.slice(1)) a.kmem_cache_free(s, o);
    a.kmem_cache_destroy(s);
    expect(
      lines(t).some((l) => l.startsWith('kmem_cache_destroy leaky: Slab cache still has objects')),
    ).toBe(true);
    // Everything but the slab of the live object is back.
    expect(a.cacheInfo(s)).toMatchObject({ num_slabs: 1, active_objs: 1 });
    expect(a.caches().includes(s)).toBe(false);
    a.kmem_cache_free(s, objs[0]!);
    a.kmem_cache_destroy(s);
    expect(freePages(t)).toBe(before);
  });
});

describe('constructors and __GFP_ZERO', () => {
  it('runs the constructor for every object of a new slab, not on allocation', () => {
    const { t, a } = boot();
    const mem = t.env.memory;
    let calls = 0;
    const s = a.kmem_cache_create('ctor', 64, 0, 0, (obj) => {
      calls++;
      mem.write32(obj - PAGE_OFFSET, 0xc0ffee);
    })!;
    const g = a.geometry(s);
    const x = a.kmem_cache_alloc(s, GFP_KERNEL);
    expect(calls).toBe(g.num);
    expect(mem.read32(x - PAGE_OFFSET)).toBe(0xc0ffee);
    mem.write32(x - PAGE_OFFSET, 1);
    a.kmem_cache_free(s, x);
    expect(a.kmem_cache_alloc(s, GFP_KERNEL)).toBe(x);
    // Not constructed again: the caller must free objects in their constructed state.
    expect(mem.read32(x - PAGE_OFFSET)).toBe(1);
    expect(calls).toBe(g.num);
  });

  it('kmem_cache_zalloc clears object_size bytes', () => {
    const { t, a } = boot();
    const mem = t.env.memory;
    const s = a.kmem_cache_create('z', 200, 0, 0)!;
    const x = a.kmem_cache_alloc(s, GFP_KERNEL);
    mem.fill(x - PAGE_OFFSET, 200, 0xee);
    a.kmem_cache_free(s, x);
    const y = a.kmem_cache_zalloc(s, GFP_KERNEL);
    expect(y).toBe(x);
    expect(mem.findNot(y - PAGE_OFFSET, 200, 0)).toBe(-1);
  });

  it('warns once for __GFP_ZERO on a cache with a constructor (cache_grow_begin)', () => {
    const { t, a } = boot();
    const s = a.kmem_cache_create('cz', 64, 0, 0, () => {})!;
    a.kmem_cache_zalloc(s, GFP_KERNEL);
    expect(lines(t).filter((l) => l.includes('at mm/slab.c:2559 cache_grow_begin'))).toHaveLength(
      1,
    );
  });

  it('a blocking allocation in atomic context reports might_sleep; GFP_ATOMIC does not', () => {
    const { t, a } = boot();
    const s = a.kmem_cache_create('ms', 64, 0, 0)!;
    t.env.ctx.preemptDisable();
    a.kmem_cache_alloc(s, GFP_ATOMIC);
    expect(lines(t).some((l) => l.startsWith('BUG: sleeping function'))).toBe(false);
    a.kmem_cache_alloc(s, GFP_KERNEL);
    expect(lines(t)).toContain(
      'BUG: sleeping function called from invalid context at include/linux/sched/mm.h:274',
    );
    t.env.ctx.preemptEnable();
  });
});

describe('kmalloc and ksize', () => {
  it('kmalloc(100) comes from kmalloc-128; ksize is the cache object_size (96 for kmalloc-96 despite 128-byte slots)', () => {
    const { a } = boot();
    const p = a.kmalloc(100, GFP_KERNEL);
    expect(a.virt_to_cache(p)?.name).toBe('kmalloc-128');
    expect(a.ksize(p)).toBe(128);
    const q = a.kmalloc(90, GFP_KERNEL);
    expect(a.virt_to_cache(q)?.name).toBe('kmalloc-96');
    expect(a.ksize(q)).toBe(96);
    expect(q % 64).toBe(0);
    a.kfree(p);
    a.kfree(q);
    expect(a.verify()).toEqual([]);
  });

  it('kmalloc_node on another node takes an object straight from that node', () => {
    const { t, a } = boot(TWO_NODES);
    const p = a.kmalloc(64, GFP_KERNEL, 1);
    expect(t.env.memMap.node[slabPfn(t, p)]).toBe(1);
    const q = a.kmalloc(64, GFP_KERNEL, NUMA_NO_NODE);
    expect(t.env.memMap.node[slabPfn(t, q)]).toBe(0);
    // Freed on CPU 0 (node 0), the node-1 object goes straight back to its slab.
    a.kfree(p);
    expect(a.nodeInfo(cacheNamed(a, 'kmalloc-64'), 1).freeObjects).toBe(64);
    a.kfree(q);
    expect(a.verify()).toEqual([]);
  });
});

describe('misuse', () => {
  it('kmem_cache_free into the wrong cache: the cache_from_obj() WARN, then the object goes to its own cache', () => {
    const { t, a } = boot();
    const s1 = a.kmem_cache_create('one', 200, 0, 0)!;
    const s2 = a.kmem_cache_create('two', 300, 0, 0)!;
    const x = a.kmem_cache_alloc(s1, GFP_KERNEL);
    const avail = a.arrayCache(s1).avail;
    a.kmem_cache_free(s2, x);
    expect(lines(t)).toContain('cache_from_obj: Wrong slab cache. two but object is from one');
    expect(lines(t).some((l) => l.includes('at mm/slab.h:665 kmem_cache_free'))).toBe(true);
    expect(a.arrayCache(s1).avail).toBe(avail + 1);
    expect(a.kmem_cache_alloc(s1, GFP_KERNEL)).toBe(x);
    expect(a.verify()).toEqual([]);
  });

  it('kmem_cache_free of a page that is no slab: WARN_ONCE "Object is not a Slab page!"', () => {
    const { t, a } = boot();
    const s = a.kmem_cache_create('one', 200, 0, 0)!;
    const pfn = t.buddy.allocPages(GFP_KERNEL, 0);
    a.kmem_cache_free(s, pfnToVirt(pfn));
    a.kmem_cache_free(s, pfnToVirt(pfn));
    expect(lines(t).filter((l) => l === 'virt_to_cache: Object is not a Slab page!')).toHaveLength(
      1,
    );
    t.buddy.freePages(pfn, 0);
  });

  it('a pointer inside an object is the BUG_ON of cache_free_debugcheck(); nothing is queued', () => {
    const { t, a } = boot();
    const s = a.kmem_cache_create('one', 200, 0, 0)!;
    const x = a.kmem_cache_alloc(s, GFP_KERNEL);
    const avail = a.arrayCache(s).avail;
    expect(() => a.kmem_cache_free(s, x + 8)).toThrow(KernelOops);
    expect(lines(t)).toContain('kernel BUG at mm/slab.c:2708!');
    // Beyond the last object (the colour area / end of slab): BUG_ON(objnr >= cachep->num).
    const slab = slabPfn(t, x);
    expect(() => a.kfree(pfnToVirt(slab) + 20 * 200 + 8)).toThrow(KernelOops);
    expect(lines(t)).toContain('kernel BUG at mm/slab.c:2707!');
    expect(a.arrayCache(s).avail).toBe(avail);
    a.kmem_cache_free(s, x);
    expect(a.verify()).toEqual([]);
  });

  it('an immediate double free is 6.1 FREELIST_HARDENED __free_one(): WARN_ON_ONCE and ignored', () => {
    const { t, a } = boot();
    const s = a.kmem_cache_create('one', 200, 0, 0)!;
    const x = a.kmem_cache_alloc(s, GFP_KERNEL);
    a.kmem_cache_free(s, x);
    const avail = a.arrayCache(s).avail;
    a.kmem_cache_free(s, x);
    a.kmem_cache_free(s, x);
    expect(lines(t).filter((l) => l.includes('at mm/slab.c:597 ___cache_free'))).toHaveLength(1);
    expect(a.arrayCache(s).avail).toBe(avail);
    expect(a.kmem_cache_alloc(s, GFP_KERNEL)).toBe(x);
    expect(a.kmem_cache_alloc(s, GFP_KERNEL)).not.toBe(x);
    expect(a.verify()).toEqual([]);
  });

  it('a later double free gets slab_put_obj()s DEBUG report and BUG(); the object is never handed out twice', () => {
    const { t, a } = boot();
    const s = a.kmem_cache_create('one', 200, 0, 0)!;
    const x = a.kmem_cache_alloc(s, GFP_KERNEL);
    const y = a.kmem_cache_alloc(s, GFP_KERNEL);
    a.kmem_cache_free(s, x);
    a.kmem_cache_free(s, y);
    expect(() => a.kmem_cache_free(s, x)).toThrow(KernelOops);
    expect(lines(t)).toContain(`slab: double free detected in cache 'one', objp ${formatPtr(x)}`);
    expect(lines(t)).toContain('kernel BUG at mm/slab.c:2527!');
    const got = new Set(Array.from({ length: 40 }, () => a.kmem_cache_alloc(s, GFP_KERNEL)));
    expect(got.size).toBe(40);
    expect(a.verify()).toEqual([]);
  });
});

describe('DEBUG caches (SLAB_RED_ZONE, SLAB_POISON, SLAB_STORE_USER)', () => {
  const FLAGS = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER;
  const rd64 = (t: TestMachine, virt: number) => t.env.memory.read64(virt - PAGE_OFFSET);

  it('lays out red zone, object, red zone, last user: 100 bytes become 128-byte slots at offset 8', () => {
    const { a } = boot();
    const s = a.kmem_cache_create('dbg', 100, 0, FLAGS)!;
    // ALIGN(100, 8) = 104, + 2 red zone words = 120, + the user word = 128.
    expect(a.geometry(s)).toMatchObject({ size: 128, objOffset: 8, num: 32, objFreelist: true });
  });

  it('marks objects RED_ACTIVE and POISON_INUSE on allocation, RED_INACTIVE and POISON_FREE on free, and stores the caller', () => {
    const { t, a } = boot();
    const s = a.kmem_cache_create('dbg', 100, 0, FLAGS)!;
    const x = a.kmem_cache_alloc(s, GFP_KERNEL, 'my_alloc_site');
    const slot = x - 8;
    expect(rd64(t, slot)).toBe(RED_ACTIVE);
    expect(rd64(t, slot + 112)).toBe(RED_ACTIVE);
    expect(t.env.memory.read8(x - PAGE_OFFSET)).toBe(POISON_INUSE);
    expect(t.env.memory.read8(x - PAGE_OFFSET + 99)).toBe(POISON_END);
    expect(rd64(t, slot + 120)).toBe(BigInt(t.env.kallsyms.intern('my_alloc_site')));
    a.kmem_cache_free(s, x, 'my_free_site');
    expect(rd64(t, slot)).toBe(RED_INACTIVE);
    expect(rd64(t, slot + 112)).toBe(RED_INACTIVE);
    expect(t.env.memory.findNot(x - PAGE_OFFSET, 99, POISON_FREE)).toBe(-1);
    expect(rd64(t, slot + 120)).toBe(BigInt(t.env.kallsyms.intern('my_free_site')));
    expect(lines(t).some((l) => l.startsWith('slab error'))).toBe(false);
  });

  it('a double free: "slab error in verify_redzone_free(): ... double free detected" and the red zone words', () => {
    const { t, a } = boot();
    const s = a.kmem_cache_create('dbg', 100, 0, FLAGS)!;
    const x = a.kmem_cache_alloc(s, GFP_KERNEL);
    const y = a.kmem_cache_alloc(s, GFP_KERNEL);
    a.kmem_cache_free(s, x);
    a.kmem_cache_free(s, y);
    a.kmem_cache_free(s, x);
    const l = lines(t);
    expect(l).toContain("slab error in verify_redzone_free(): cache `dbg': double free detected");
    const slot = (x - 8).toString(16);
    expect(l).toContain(`ffff${slot}: redzone 1:0x9f911029d74e35b, redzone 2:0x9f911029d74e35b`);
    expect(t.env.ctx.isTainted('B')).toBe(true);
    expect(a.verify()).toEqual([]);
  });

  it('an overrun into red zone 2 is reported on free ("memory outside object was overwritten"), the free goes on', () => {
    const { t, a } = boot();
    const s = a.kmem_cache_create('dbg', 100, 0, FLAGS)!;
    const x = a.kmem_cache_alloc(s, GFP_KERNEL);
    t.env.memory.fill(x - PAGE_OFFSET + 100, 12, 0x41); // past the 100 bytes, over red zone 2
    const avail = a.arrayCache(s).avail;
    a.kmem_cache_free(s, x);
    expect(lines(t)).toContain(
      "slab error in verify_redzone_free(): cache `dbg': memory outside object was overwritten",
    );
    expect(a.arrayCache(s).avail).toBe(avail + 1);
    expect(a.verify()).toEqual([]);
  });

  it('a write after free is found by the poison check when the object is allocated again', () => {
    const { t, a } = boot();
    const s = a.kmem_cache_create('dbg', 100, 0, FLAGS)!;
    const x = a.kmem_cache_alloc(s, GFP_KERNEL);
    a.kmem_cache_free(s, x);
    t.env.memory.write8(x - PAGE_OFFSET + 20, 0x6a); // one bit flipped in 0x6b
    expect(a.kmem_cache_alloc(s, GFP_KERNEL)).toBe(x);
    const l = lines(t);
    const at = l.findIndex((m) => m.startsWith('Slab corruption ('));
    expect(l[at]).toMatch(
      new RegExp(
        `^Slab corruption \\((Not tainted|Tainted: [^)]*)\\): dbg start=ffff${x.toString(16)}, len=100$`,
      ),
    );
    expect(l[at + 1]).toBe(
      `Redzone: 0x${RED_INACTIVE.toString(16)}/0x${RED_INACTIVE.toString(16)}`,
    );
    expect(l[at + 2]).toMatch(/^Last user: \(/);
    expect(l[at + 3]).toBe(
      `010: ${hexDumpRow(new Uint8Array([0x6b, 0x6b, 0x6b, 0x6b, 0x6a, ...Array(11).fill(0x6b)]))}`,
    );
    expect(l[at + 4]).toBe('Single bit error detected. Probably bad RAM.');
    expect(l[at + 5]).toBe('Run memtest86+ or a similar memory test tool.');
    expect(l.some((m) => m.startsWith('Next obj: start='))).toBe(true);
    // The object was re-poisoned for use; the cache carries on.
    expect(t.env.memory.read8(x - PAGE_OFFSET + 20)).toBe(POISON_INUSE);
    expect(a.verify()).toEqual([]);
  });

  it('slab_destroy_debugcheck() checks the red zones of every object when a slab is given back', () => {
    const { t, a } = boot();
    const s = a.kmem_cache_create('rz', 100, 0, SLAB_RED_ZONE)!;
    const x = a.kmem_cache_alloc(s, GFP_KERNEL);
    a.kmem_cache_free(s, x);
    t.env.memory.write8(x - 8 - PAGE_OFFSET, 0); // red zone 1 of a free object
    expect(a.kmem_cache_shrink(s)).toBe(0);
    expect(lines(t)).toContain(
      "slab error in slab_destroy_debugcheck(): cache `rz': start of a freed object was overwritten",
    );
    expect(a.cacheInfo(s).num_slabs).toBe(0);
  });

  it('poisoned caches run the constructor at allocation time', () => {
    const { t, a } = boot();
    let calls = 0;
    const s = a.kmem_cache_create('pc', 64, 0, SLAB_POISON, (o) => {
      calls++;
      t.env.memory.write8(o - PAGE_OFFSET, 7);
    })!;
    const x = a.kmem_cache_alloc(s, GFP_KERNEL);
    expect(calls).toBe(1);
    expect(t.env.memory.read8(x - PAGE_OFFSET)).toBe(7);
  });
});

describe('hex dump rows as print_hex_dump() formats them', () => {
  it('pads the hex part to column 49', () => {
    expect(hexDumpRow(new Uint8Array([0x6b, 0x6b, 0xa5]))).toBe(`6b 6b a5${' '.repeat(41)}kk.`);
    expect(hexDumpRow(new Uint8Array(16).fill(0x41))).toBe(
      `${'41 '.repeat(15)}41  ${'A'.repeat(16)}`,
    );
  });
});

describe('invariants under a mixed workload', () => {
  it('keeps every list, counter, freelist and array consistent (verify) across CPUs and nodes', () => {
    for (const m of ['tiny', DUO, TWO_NODES] as const) {
      const { t, a } = boot(m);
      const caches = [
        a.kmem_cache_create('w1', 200, 0, 0)!,
        a.kmem_cache_create('w2', 512, 0, 0, () => {})!,
        a.kmem_cache_create('w3', 40, 0, FLAGS_DBG)!,
      ];
      const live: [KmemCache, number][] = [];
      let seed = 12345;
      const rnd = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      for (let i = 0; i < 4000; i++) {
        t.env.ctx.setCpu(rnd(t.env.cpuToNode.length));
        if (live.length && rnd(3) === 0) {
          const [c, o] = live.splice(rnd(live.length), 1)[0]!;
          a.kmem_cache_free(c, o);
        } else if (rnd(50) === 0) {
          a.cacheReap();
        } else {
          const c = caches[rnd(3)]!;
          const o = a.kmem_cache_alloc_node(
            c,
            GFP_KERNEL,
            rnd(4) === 0 ? rnd(t.env.nrNodes) : NUMA_NO_NODE,
          );
          live.push([c, o]);
        }
      }
      t.env.ctx.setCpu(0);
      expect(a.verify()).toEqual([]);
      expect(new Set(live.map((x) => x[1])).size).toBe(live.length);
      for (const [c, o] of live) a.kmem_cache_free(c, o);
      for (const c of caches) a.kmem_cache_destroy(c);
      expect(a.verify()).toEqual([]);
    }
  });
});

const FLAGS_DBG = SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER;
