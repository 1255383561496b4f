import { readFileSync } from 'node:fs';
import {
  __GFP_HIGHMEM,
  __GFP_THISNODE,
  GFP_ATOMIC,
  GFP_KERNEL,
  KernelOops,
  KernelPanic,
  PAGE_OFFSET,
  SLAB_CACHE_DMA,
  SLAB_CONSISTENCY_CHECKS,
  SLAB_HWCACHE_ALIGN,
  SLAB_MUST_HWCACHE_ALIGN,
  SLAB_NO_MERGE,
  SLAB_NO_REAP,
  SLAB_PANIC,
  SLAB_POISON,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
  SLAB_TRACE,
  SLAB_TYPESAFE_BY_RCU,
  virtToPfn,
  virtToPhys,
  ZONE_DMA,
} from '@mmsim/core';
import { describe, expect, it } from 'vitest';
import { calculateOrder, createSlub, parseSlabDebug, type SlubAllocator } from '../src/index.js';
import { freePages, makeSlabEnv, type TestMachine } from './env.js';

const SLABINFO = new URL('../../../../shared/reference/linux-6.18/slabinfo.txt', import.meta.url);

/** The reference machine's shape for geometry: 2 CPUs, one node. */
const TWO_CPUS = { nodes: [{ memory: '256M', cpus: 2 }] };

function boot(
  options: Parameters<typeof createSlub>[1] = {},
  machine: Parameters<typeof makeSlabEnv>[0] = 'tiny',
) {
  const t = makeSlabEnv(machine);
  const slub = createSlub(t.env, options);
  return { t, slub, mem: t.env.memory };
}

/** The log lines printed by `fn`. */
function logOf(t: TestMachine, fn: () => void): string[] {
  const seq = t.env.klog.nextSeq;
  fn();
  return t.env.klog.records(seq).map((r) => r.text);
}

function cacheNamed(slub: SlubAllocator, name: string) {
  const c = slub.caches().find((x) => x.name === name);
  if (!c) throw new Error(`no cache ${name}`);
  return c;
}

describe('geometry (mm/slub.c calculate_sizes/calculate_order) matches the live 6.18 kernel', () => {
  const lines = readFileSync(SLABINFO, 'utf8').split('\n').slice(2).filter(Boolean);

  it('every cache of /proc/slabinfo: objects per slab and pages per slab from its slab size', () => {
    expect(lines.length).toBeGreaterThan(200);
    for (const line of lines) {
      const [name, , , objsize, objperslab, pagesperslab] = line.trim().split(/\s+/);
      const order = calculateOrder(Number(objsize), { nrCpus: 2 });
      expect({
        name,
        pages: 1 << order,
        objs: Math.floor((4096 << order) / Number(objsize)),
      }).toEqual({
        name,
        pages: Number(pagesperslab),
        objs: Number(objperslab),
      });
    }
  });

  it('the kmalloc caches a 2-CPU SLUB creates have the live objsize/objperslab/pagesperslab', () => {
    const { slub } = boot({}, TWO_CPUS);
    let checked = 0;
    for (const line of lines) {
      const [name, , , objsize, objperslab, pagesperslab] = line.trim().split(/\s+/);
      if (!/^(kmalloc-|kmalloc-rcl-|dma-kmalloc-|kmalloc-cg-)\d+k?$/.test(name!)) continue;
      const info = slub.cacheInfo(cacheNamed(slub, name!));
      expect([name, info.objsize, info.objects_per_slab, 1 << info.cache_order]).toEqual([
        name,
        Number(objsize),
        Number(objperslab),
        Number(pagesperslab),
      ]);
      checked++;
    }
    expect(checked).toBe(52);
  });

  it('creates the 13 kmalloc sizes of each of the four types, in create_kmalloc_caches() order', () => {
    const { slub } = boot();
    const names = slub.caches().map((c) => c.name);
    expect(names.slice(0, 13)).toEqual([
      'kmalloc-96',
      'kmalloc-192',
      'kmalloc-8',
      'kmalloc-16',
      'kmalloc-32',
      'kmalloc-64',
      'kmalloc-128',
      'kmalloc-256',
      'kmalloc-512',
      'kmalloc-1k',
      'kmalloc-2k',
      'kmalloc-4k',
      'kmalloc-8k',
    ]);
    expect(names.filter((n) => n.startsWith('kmalloc-rcl-'))).toHaveLength(13);
    expect(names.filter((n) => n.startsWith('dma-kmalloc-'))).toHaveLength(13);
    expect(names.filter((n) => n.startsWith('kmalloc-cg-'))).toHaveLength(13);
  });

  it('lays out objects as calculate_sizes(): free pointer in the middle, or after the object', () => {
    const { slub } = boot();
    const k64 = slub.sysfs(cacheNamed(slub, 'kmalloc-64'));
    expect(k64).toMatchObject({
      object_size: 64,
      slab_size: 64,
      objs_per_slab: 64,
      order: 0,
      offset: 32,
      min_partial: 5,
      cpu_partial: 120,
      align: 64,
    });
    const c200 = slub.kmem_cache_create('c200', 200, 0, 0, null)!;
    expect(slub.sysfs(c200)).toMatchObject({
      slab_size: 200,
      objs_per_slab: 20,
      offset: 96,
      align: 8,
    });
    const ctor = slub.kmem_cache_create('with_ctor', 100, 0, 0, () => {})!;
    expect(slub.sysfs(ctor)).toMatchObject({ inuse: 104, offset: 104, slab_size: 112 });
    const hw = slub.kmem_cache_create('hw200', 200, 0, SLAB_HWCACHE_ALIGN, null)!;
    expect(slub.sysfs(hw)).toMatchObject({ slab_size: 256, align: 64 });
    // Small objects get half a line, then a quarter (calculate_alignment()).
    const hw20 = slub.kmem_cache_create('hw20', 20, 0, SLAB_HWCACHE_ALIGN, null)!;
    expect(slub.sysfs(hw20)).toMatchObject({ slab_size: 32, align: 32 });
    // The 2.6 flag forces the whole line.
    const must = slub.kmem_cache_create(
      'must20',
      20,
      0,
      SLAB_MUST_HWCACHE_ALIGN | SLAB_NO_MERGE,
      null,
    )!;
    expect(slub.sysfs(must)).toMatchObject({ slab_size: 64, align: 64 });
  });

  it('red zoning and user tracking grow the object as the layout comment in mm/slub.c says', () => {
    const { slub } = boot({ slabDebug: 'FZPU' });
    // kmalloc-64: 64 object + 8 right red zone + 8 free pointer + 2*32 tracks + 8 orig_size
    // + 8 trailing pad, + 64 left red zone (aligned to 64) = 224, aligned to 256.
    expect(slub.sysfs(cacheNamed(slub, 'kmalloc-64'))).toMatchObject({
      object_size: 64,
      inuse: 72,
      offset: 72,
      red_left_pad: 64,
      slab_size: 256,
      objs_per_slab: 16,
      red_zone: 1,
      poison: 1,
      store_user: 1,
      sanity_checks: 1,
    });
  });

  it('prints the SLUB boot line of the reference machine', () => {
    const { slub } = boot({}, TWO_CPUS);
    expect(slub.bootMessage()).toBe('SLUB: HWalign=64, Order=0-3, MinObjects=0, CPUs=2, Nodes=1');
  });
});

describe('slab_debug= boot strings', () => {
  it('parses letters and per-cache blocks', () => {
    expect(parseSlabDebug('FZPU')).toEqual({
      blocks: [{ flags: 0x87, slabs: null }],
      disableHigherOrder: false,
    });
    expect(parseSlabDebug('FZ,kmalloc-64').blocks).toEqual([{ flags: 0x3, slabs: ['kmalloc-64'] }]);
    expect(parseSlabDebug('').blocks).toEqual([{ flags: 0x87, slabs: null }]);
    expect(parseSlabDebug('P;U,dentry,kmalloc-*').blocks).toEqual([
      { flags: 0x4, slabs: null },
      { flags: 0x80, slabs: ['dentry', 'kmalloc-*'] },
    ]);
    expect(() => parseSlabDebug('FX')).toThrow(RangeError);
  });

  it('applies a per-cache block to that cache only, and globs with *', () => {
    const { slub } = boot({ slabDebug: 'FZ,kmalloc-64' });
    expect(cacheNamed(slub, 'kmalloc-64').flags & 0xff).toBe(
      SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | 0x8,
    );
    expect(cacheNamed(slub, 'kmalloc-128').flags & (SLAB_RED_ZONE | SLAB_CONSISTENCY_CHECKS)).toBe(
      0,
    );
    const g = boot({ slabDebug: 'P,kmalloc-1*' }).slub;
    expect(cacheNamed(g, 'kmalloc-128').flags & SLAB_POISON).toBe(SLAB_POISON);
    expect(cacheNamed(g, 'kmalloc-1k').flags & SLAB_POISON).toBe(SLAB_POISON);
    expect(cacheNamed(g, 'kmalloc-64').flags & SLAB_POISON).toBe(0);
  });
});

describe('allocation and free', () => {
  it('hands out a new slab in address order and reuses the last freed object first (LIFO)', () => {
    const { slub } = boot();
    const c = slub.kmem_cache_create('lifo', 64, 0, 0, null)!;
    const a = slub.kmem_cache_alloc(c, GFP_KERNEL);
    const b = slub.kmem_cache_alloc(c, GFP_KERNEL);
    expect(b - a).toBe(64);
    expect(a % 4096).toBe(0);
    slub.kmem_cache_free(c, a);
    expect(slub.kmem_cache_alloc(c, GFP_KERNEL)).toBe(a);
  });

  it('CONFIG_SLAB_FREELIST_RANDOM: a new slab hands out every slot once, in a seeded random order', () => {
    const order = (seed: number) => {
      const { slub } = boot({ freelistRandom: true, seed });
      const c = slub.kmem_cache_create('shuffled', 256, 0, 0, null)!;
      const per = slub.sysfs(c).objs_per_slab;
      const objs = Array.from({ length: per }, () => slub.kmem_cache_alloc(c, GFP_KERNEL));
      const base = Math.min(...objs);
      return objs.map((o) => (o - base) / 256);
    };
    const a = order(1);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(order(1)).toEqual(a); // the same seed, the same order
    expect(order(2)).not.toEqual(a);
  });

  it('keeps free pointers inside free objects as real bytes (hardening off: plain pointers)', () => {
    const { slub, mem } = boot({ freelistHardened: false });
    const c = slub.kmem_cache_create('fp', 64, 0, 0, null)!;
    const a = slub.kmem_cache_alloc(c, GFP_KERNEL);
    // a's neighbour is the head of the CPU freelist; its free pointer (at offset 32) holds
    // the address of the object after it, as a canonical 64-bit kernel pointer.
    expect(mem.read64(virtToPhys(a + 64) + 32)).toBe(BigInt(`0xffff${(a + 128).toString(16)}`));
  });

  it('stores free pointers XOR-encoded with FREELIST_HARDENED, and faults on a corrupted one', () => {
    const { slub, mem } = boot();
    const c = slub.kmem_cache_create('hard', 64, 0, 0, null)!;
    const a = slub.kmem_cache_alloc(c, GFP_KERNEL);
    const raw = mem.read64(virtToPhys(a + 64) + 32);
    expect(raw).not.toBe(BigInt(`0xffff${(a + 128).toString(16)}`));
    // A use-after-free write over the free pointer of the next free object:
    mem.write64(virtToPhys(a + 64) + 32, 0x4141414141414141n);
    expect(slub.kmem_cache_alloc(c, GFP_KERNEL)).toBe(a + 64);
    expect(() => slub.kmem_cache_alloc(c, GFP_KERNEL)).toThrow(KernelOops);
    // The corrupted chain was dropped; the cache still works.
    const next = slub.kmem_cache_alloc(c, GFP_KERNEL);
    expect(next).toBeGreaterThan(0);
  });

  it('kmem_cache_alloc_node takes the slab from the requested node', () => {
    const { slub, t } = boot(
      {},
      {
        nodes: [
          { memory: '64M', cpus: 1 },
          { memory: '64M', cpus: 1 },
        ],
      },
    );
    const c = slub.kmem_cache_create('numa', 128, 0, 0, null)!;
    const on1 = slub.kmem_cache_alloc_node(c, GFP_KERNEL | __GFP_THISNODE, 1);
    const on0 = slub.kmem_cache_alloc_node(c, GFP_KERNEL, 0);
    expect(t.env.memMap.node[virtToPfn(on1)]).toBe(1);
    expect(t.env.memMap.node[virtToPfn(on0)]).toBe(0);
    expect(slub.verify()).toEqual([]);
  });

  it('SLAB_CACHE_DMA caches live in ZONE_DMA', () => {
    const { slub, t } = boot();
    const c = slub.kmem_cache_create('dma', 512, 0, SLAB_CACHE_DMA, null)!;
    const p = slub.kmem_cache_alloc(c, GFP_KERNEL);
    expect(t.env.memMap.zone[virtToPfn(p)]).toBe(ZONE_DMA);
    expect(cacheNamed(slub, 'dma-kmalloc-64')).toBeDefined();
  });

  it('large kmalloc goes to the page allocator as a compound page; ksize is its size', () => {
    const { slub, t } = boot();
    const before = freePages(t);
    const p = slub.kmalloc(10000, GFP_KERNEL);
    expect(slub.ksize(p)).toBe(16384);
    expect(t.env.memMap.isHead(virtToPfn(p))).toBe(true);
    expect(slub.virt_to_cache(p)).toBeNull();
    slub.kfree(p);
    expect(freePages(t)).toBe(before);
  });

  it('ksize follows slab_ksize(): s->size, or object_size with red zones or poison', () => {
    const plain = boot().slub;
    expect(plain.ksize(plain.kmalloc(100, GFP_KERNEL))).toBe(128);
    const { slub } = boot({ slabDebug: 'FZPU' });
    expect(slub.ksize(slub.kmalloc(100, GFP_KERNEL))).toBe(128);
    const u = boot({ slabDebug: 'U' }).slub;
    const c = u.kmem_cache_create('u100', 100, 0, 0, null)!;
    expect(u.ksize(u.kmem_cache_alloc(c, GFP_KERNEL))).toBe(104);
    expect(boot().slub.ksize(0)).toBe(0);
  });

  it('returns every page to the page allocator after free + shrink + destroy', () => {
    const { slub, t } = boot();
    const before = freePages(t);
    const c = slub.kmem_cache_create('many', 700, 0, 0, null)!;
    const objs = Array.from({ length: 500 }, () => slub.kmem_cache_alloc(c, GFP_KERNEL));
    const info = slub.cacheInfo(c);
    expect(info.num_objs).toBeGreaterThanOrEqual(500);
    expect(info.num_slabs).toBe(Math.ceil(info.num_objs / info.objects_per_slab));
    for (const o of objs) slub.kmem_cache_free(c, o);
    expect(slub.verify()).toEqual([]);
    // min_partial empty slabs stay cached on the node; shrink gives them back.
    expect(slub.cacheInfo(c).num_slabs).toBeGreaterThan(0);
    expect(slub.kmem_cache_shrink(c)).toBe(0);
    expect(slub.cacheInfo(c).num_slabs).toBe(0);
    slub.kmem_cache_destroy(c);
    expect(freePages(t)).toBe(before);
    expect(() => slub.kmem_cache_alloc(c, GFP_KERNEL)).toThrow(TypeError);
  });

  it('counts /proc/slabinfo active objects as SLUB does: CPU-slab objects count as active', () => {
    const { slub } = boot();
    const c = slub.kmem_cache_create('count', 256, 0, 0, null)!;
    slub.kmem_cache_alloc(c, GFP_KERNEL);
    expect(slub.cacheInfo(c)).toMatchObject({
      active_objs: 16,
      num_objs: 16,
      active_slabs: 1,
      num_slabs: 1,
      objects_per_slab: 16,
    });
    expect(slub.liveObjects(c)).toBe(1);
  });

  it('moves a full slab that gets a free onto the CPU partial list, and reuses it', () => {
    const { slub } = boot();
    const c = slub.kmem_cache_create('partial', 1024, 0, 0, null)!;
    const per = slub.sysfs(c).objs_per_slab; // 8 in an order-1 slab with one CPU
    expect(per).toBe(8);
    const first = Array.from({ length: per }, () => slub.kmem_cache_alloc(c, GFP_KERNEL));
    const second = slub.kmem_cache_alloc(c, GFP_KERNEL); // a new CPU slab
    expect(virtToPfn(second)).not.toBe(virtToPfn(first[0]!));
    slub.kmem_cache_free(c, first[3]!); // full slab → CPU partial list
    for (let i = 0; i < per - 1; i++) slub.kmem_cache_alloc(c, GFP_KERNEL); // drain the CPU slab
    expect(slub.kmem_cache_alloc(c, GFP_KERNEL)).toBe(first[3]);
    expect(slub.verify()).toEqual([]);
  });

  it('runs the constructor when a slab is set up, not on every allocation', () => {
    const { slub, mem, t } = boot();
    let calls = 0;
    const c = slub.kmem_cache_create('ctor', 64, 0, 0, (obj) => {
      calls++;
      mem.write32(virtToPhys(obj), 0xc0ffee);
    })!;
    const a = slub.kmem_cache_alloc(c, GFP_KERNEL);
    expect(calls).toBe(slub.sysfs(c).objs_per_slab); // every object of the new slab
    expect(mem.read32(virtToPhys(a))).toBe(0xc0ffee);
    mem.write32(virtToPhys(a), 1);
    slub.kmem_cache_free(c, a);
    const again = slub.kmem_cache_alloc(c, GFP_KERNEL);
    expect(again).toBe(a);
    expect(calls).toBe(slub.sysfs(c).objs_per_slab); // not called again…
    expect(mem.read32(virtToPhys(again))).toBe(1); // …so the object keeps what it had
    // kmem_cache_zalloc zeroes instead; on a ctor cache new_slab() warns once.
    const z = slub.kmem_cache_zalloc(c, GFP_KERNEL);
    expect(mem.read32(virtToPhys(z))).toBe(0);
    const log = logOf(t, () => {
      for (let i = 0; i < 80; i++) slub.kmem_cache_zalloc(c, GFP_KERNEL);
    });
    expect(log).toContain('WARNING: CPU: 0 PID: 0 at mm/slub.c:2700 new_slab+0x0/0x0');
  });

  it('fixes a gfp with __GFP_HIGHMEM as kmalloc_fix_flags() does', () => {
    const { slub, t } = boot();
    const log = logOf(t, () => slub.kmalloc(64, GFP_KERNEL | __GFP_HIGHMEM));
    expect(log[0]).toBe(
      'Unexpected gfp: 0x2 (__GFP_HIGHMEM). Fixing up to gfp: 0xcc0 (GFP_KERNEL). Fix your code!',
    );
  });

  it('might_sleep: a GFP_KERNEL allocation under a spinlock is reported, GFP_ATOMIC is not', () => {
    const { slub, t } = boot();
    const log = logOf(t, () => t.env.ctx.runWithSpinLock(() => slub.kmalloc(32, GFP_KERNEL)));
    expect(log[0]).toBe(
      'BUG: sleeping function called from invalid context at include/linux/sched/mm.h:321',
    );
    expect(logOf(t, () => t.env.ctx.runWithSpinLock(() => slub.kmalloc(32, GFP_ATOMIC)))).toEqual(
      [],
    );
  });
});

describe('shrinking', () => {
  it('the shrinker hook gives empty slabs back, except from legacy SLAB_NO_REAP caches', () => {
    const { slub, t } = boot();
    const keep = slub.kmem_cache_create('no_reap', 512, 0, SLAB_NO_REAP, null)!;
    const reap = slub.kmem_cache_create('reap', 512, 0, SLAB_NO_MERGE, null)!;
    for (const c of [keep, reap]) {
      const objs = Array.from({ length: 40 }, () => slub.kmem_cache_alloc(c, GFP_KERNEL));
      for (const o of objs) slub.kmem_cache_free(c, o);
    }
    const before = freePages(t);
    const given = slub.shrinkAll();
    expect(given).toBeGreaterThan(0);
    expect(freePages(t)).toBe(before + given);
    expect(slub.cacheInfo(reap).num_slabs).toBe(0);
    expect(slub.cacheInfo(keep).num_slabs).toBeGreaterThan(0);
    // An explicit kmem_cache_shrink() still works on it.
    expect(slub.kmem_cache_shrink(keep)).toBe(0);
    expect(slub.cacheInfo(keep).num_slabs).toBe(0);
  });
});

describe('the 6.12 kmem_cache_args form', () => {
  it('places the free pointer at freeptr_offset for SLAB_TYPESAFE_BY_RCU caches', () => {
    const { slub } = boot();
    const rcu = slub.kmem_cache_create('rcu_plain', 96, { align: 0 }, SLAB_TYPESAFE_BY_RCU)!;
    expect(slub.sysfs(rcu)).toMatchObject({ offset: 96, inuse: 96, slab_size: 104 });
    const custom = slub.kmem_cache_create(
      'rcu_custom',
      96,
      { freeptr_offset: 16, use_freeptr_offset: true },
      SLAB_TYPESAFE_BY_RCU,
    )!;
    expect(slub.sysfs(custom)).toMatchObject({ offset: 16, slab_size: 96 });
    expect(slub.ksize(slub.kmem_cache_alloc(custom, GFP_KERNEL))).toBe(96);
  });

  it('takes the constructor and usercopy region from args; usersize keeps the cache unmerged', () => {
    const { slub, mem } = boot();
    const plain = slub.kmem_cache_create('uc_plain', 128, null, 0)!;
    const uc = slub.kmem_cache_create('uc', 128, { useroffset: 8, usersize: 64 }, 0)!;
    expect(uc).not.toBe(plain);
    const withCtor = slub.kmem_cache_create(
      'args_ctor',
      40,
      { ctor: (o) => mem.write8(virtToPhys(o), 0x77) },
      0,
    )!;
    expect(mem.read8(virtToPhys(slub.kmem_cache_alloc(withCtor, GFP_KERNEL)))).toBe(0x77);
    expect(() => slub.kmem_cache_create('bad', 40, { ctor: null }, 0, () => {})).toThrow(TypeError);
  });
});

describe('cache merging (__kmem_cache_alias)', () => {
  it('merges a compatible cache into an existing one and keeps it alive until both are destroyed', () => {
    const { slub } = boot();
    const a = slub.kmem_cache_create('merge_a', 60, 0, 0, null)!;
    const b = slub.kmem_cache_create('merge_b', 64, 0, 0, null)!;
    expect(b).toBe(a);
    expect(a.refcount).toBe(2);
    expect(
      slub
        .caches()
        .filter((c) => c.name.startsWith('merge_'))
        .map((c) => c.name),
    ).toEqual(['merge_a']);
    const p = slub.kmem_cache_alloc(b, GFP_KERNEL);
    slub.kmem_cache_destroy(b);
    slub.kmem_cache_free(a, p);
    slub.kmem_cache_destroy(a);
    expect(slub.caches().some((c) => c.name === 'merge_a')).toBe(false);
  });

  it('does not merge with SLAB_NO_MERGE, a constructor, debug flags, slab_nomerge or a big size gap', () => {
    const { slub } = boot();
    const a = slub.kmem_cache_create('m1', 64, 0, 0, null)!;
    expect(slub.kmem_cache_create('m2', 64, 0, SLAB_NO_MERGE, null)).not.toBe(a);
    expect(slub.kmem_cache_create('m3', 64, 0, 0, () => {})).not.toBe(a);
    expect(slub.kmem_cache_create('m4', 64, 0, SLAB_RED_ZONE, null)).not.toBe(a);
    expect(slub.kmem_cache_create('m5', 48, 0, 0, null)).not.toBe(a); // wastes 16 >= 8 bytes
    const n = boot({ slabNomerge: true }).slub;
    const x = n.kmem_cache_create('x', 64, 0, 0, null);
    expect(n.kmem_cache_create('y', 64, 0, 0, null)).not.toBe(x);
  });
});

describe('SLUB debug reports (slab_debug=FZPU)', () => {
  function debugBoot() {
    const r = boot({ slabDebug: 'FZPU' });
    return { ...r, c: cacheNamed(r.slub, 'kmalloc-64') };
  }
  const ptr = (a: number) => `0x${(0xffff000000000000n + BigInt(a)).toString(16)}`;

  it('poisons free objects and red-zones live ones with the poison.h bytes', () => {
    const { slub, mem } = debugBoot();
    const p = slub.kmalloc(60, GFP_KERNEL);
    const phys = virtToPhys(p);
    expect(mem.read8(phys - 1)).toBe(0xcc); // left red zone
    expect(mem.read8(phys + 60)).toBe(0xcc); // kmalloc red zone past the 60 asked for
    expect(mem.read8(phys + 64)).toBe(0xcc); // right red zone
    expect(mem.read8(phys + 10)).toBe(0x6b); // content is not re-poisoned on allocation
    slub.kfree(p);
    expect(mem.read8(phys)).toBe(0x6b);
    expect(mem.read8(phys + 63)).toBe(0xa5);
    expect(mem.read8(phys - 1)).toBe(0xbb);
    expect(mem.read8(phys + 64)).toBe(0xbb);
  });

  it('catches a write past the end of an object at free, restores the red zone, keeps the object', () => {
    const { slub, mem, t } = debugBoot();
    const p = slub.kmalloc(64, GFP_KERNEL, -1, 'my_driver_init');
    mem.write8(virtToPhys(p) + 64, 0x41);
    t.env.ctx.clock.advance(40_000_000); // 10 jiffies
    const log = logOf(t, () => slub.kfree(p, 'my_driver_exit'));
    const slabAddr = `0x${(0xffffea0000000000n + BigInt(virtToPfn(p)) * 64n).toString(16)}`;
    const off = p - (PAGE_OFFSET + virtToPfn(p) * 4096);
    expect(log.slice(0, 12)).toEqual([
      `[Right Redzone overwritten] ${ptr(p + 64)}-${ptr(p + 64)} @offset=${off + 64}. First byte 0x41 instead of 0xcc`,
      '=============================================================================',
      'BUG kmalloc-64 (Not tainted): Object corrupt',
      '-----------------------------------------------------------------------------',
      '',
      'Allocated in my_driver_init+0x0/0x100 age=10 cpu=0 pid=0',
      ' __slab_alloc+0x0/0x100',
      ' my_driver_init+0x0/0x100',
      `Slab ${slabAddr} objects=16 used=1 fp=${ptr(p + 256)} flags=0x0(node=0|zone=1)`,
      `Object ${ptr(p)} @offset=${off} fp=${ptr(p + 256)}`,
      '',
      `Redzone  ${ptr(p - 64).slice(2)}: cc cc cc cc cc cc cc cc cc cc cc cc cc cc cc cc  ................`,
    ]);
    expect(log).toContain(
      `Redzone  ${ptr(p + 64).slice(2)}: 41 cc cc cc cc cc cc cc                          A.......`,
    );
    expect(log).toContain('WARNING: CPU: 0 PID: 0 at mm/slub.c:1127 object_err+0x0/0x0');
    expect(log.slice(-2)).toEqual([
      `FIX kmalloc-64: Restoring Right Redzone ${ptr(p + 64)}-${ptr(p + 64)}=0xcc`,
      `FIX kmalloc-64: Object at ${ptr(p)} not freed`,
    ]);
    expect(t.env.ctx.taint).toBe('BW');
    expect(mem.read8(virtToPhys(p) + 64)).toBe(0xcc);
    // Nothing lost: the object is still allocated and frees cleanly now.
    expect(logOf(t, () => slub.kfree(p))).toEqual([]);
    expect(slub.verify()).toEqual([]);
  });

  it('catches a write into the kmalloc red zone between the request and the object size', () => {
    const { slub, mem, t } = debugBoot();
    const p = slub.kmalloc(60, GFP_KERNEL);
    mem.write8(virtToPhys(p) + 61, 0);
    const log = logOf(t, () => slub.kfree(p));
    expect(log[0]).toMatch(
      /^\[kmalloc Redzone overwritten\] 0x\w+-0x\w+ @offset=\d+\. First byte 0x0 instead of 0xcc$/,
    );
  });

  it('catches a write after free when the object is handed out again, and marks the slab used', () => {
    const { slub, mem, t } = debugBoot();
    const p = slub.kmalloc(64, GFP_KERNEL);
    slub.kfree(p);
    mem.write8(virtToPhys(p) + 5, 0x00);
    let q = 0;
    const log = logOf(t, () => {
      q = slub.kmalloc(64, GFP_KERNEL);
    });
    expect(log[0]).toBe(
      `[Poison overwritten] ${ptr(p + 5)}-${ptr(p + 5)} @offset=${(p % 4096) + 5}. First byte 0x0 instead of 0x6b`,
    );
    expect(log[2]).toBe('BUG kmalloc-64 (Not tainted): Object corrupt');
    expect(log).toContain(`FIX kmalloc-64: Restoring Poison ${ptr(p + 5)}-${ptr(p + 5)}=0x6b`);
    expect(log.at(-1)).toBe('FIX kmalloc-64: Marking all objects used');
    // The caller still gets an object, from another slab.
    expect(q).toBeGreaterThan(0);
    expect(virtToPfn(q)).not.toBe(virtToPfn(p));
  });

  it('reports a double free with the tracks of both, and does not free twice', () => {
    const { slub, t } = debugBoot();
    const p = slub.kmalloc(64, GFP_KERNEL, -1, 'alloc_site');
    const other = slub.kmalloc(64, GFP_KERNEL, -1, 'alloc_site');
    slub.kfree(p, 'first_free');
    const log = logOf(t, () => slub.kfree(p, 'second_free'));
    expect(log.slice(1, 8)).toEqual([
      'BUG kmalloc-64 (Not tainted): Object already free',
      '-----------------------------------------------------------------------------',
      '',
      'Allocated in alloc_site+0x0/0x100 age=0 cpu=0 pid=0',
      ' __slab_alloc+0x0/0x100',
      ' alloc_site+0x0/0x100',
      'Freed in first_free+0x0/0x100 age=0 cpu=0 pid=0',
    ]);
    expect(log.at(-1)).toBe(`FIX kmalloc-64: Object at ${ptr(p)} not freed`);
    expect(slub.verify()).toEqual([]);
    expect(slub.kmalloc(64, GFP_KERNEL)).toBe(p);
    // The last object of a slab: free_debug_processing() sees the count first.
    slub.kfree(p);
    slub.kfree(other);
    const last = logOf(t, () => slub.kfree(other));
    expect(last[1]).toMatch(
      /^BUG kmalloc-64 \(Tainted: G {4}B {3}W {10}\): Slab has 0 allocated objects but 1 are to be freed$/,
    );
  });

  it('reports a free of a pointer into the middle of an object', () => {
    const { slub, t } = debugBoot();
    const p = slub.kmalloc(64, GFP_KERNEL);
    const log = logOf(t, () => slub.kfree(p + 8));
    expect(log[1]).toBe(`BUG kmalloc-64 (Not tainted): Invalid object pointer ${ptr(p + 8)}`);
    expect(log).toContain('WARNING: CPU: 0 PID: 0 at mm/slub.c:1152 __slab_err+0x0/0x0');
    expect(log.at(-1)).toBe(`FIX kmalloc-64: Object at ${ptr(p + 8)} not freed`);
    slub.kfree(p);
    expect(slub.verify()).toEqual([]);
  });

  it('warns about a free into the wrong cache and frees into the right one (cache_from_obj)', () => {
    const { slub, t } = boot();
    const a = slub.kmem_cache_create('cache_a', 64, 0, SLAB_NO_MERGE, null)!;
    const b = slub.kmem_cache_create('cache_b', 64, 0, SLAB_NO_MERGE, null)!;
    const p = slub.kmem_cache_alloc(a, GFP_KERNEL);
    const log = logOf(t, () => slub.kmem_cache_free(b, p));
    expect(log).toContain('cache_from_obj: Wrong slab cache. cache_b but object is from cache_a');
    expect(slub.liveObjects(a)).toBe(0);
    expect(slub.kmem_cache_alloc(a, GFP_KERNEL)).toBe(p);
  });

  it('warns once about kmem_cache_free of an address that is not in a slab page', () => {
    const { slub, t } = boot();
    const c = slub.kmem_cache_create('nslab', 64, 0, 0, null)!;
    const pfn = t.buddy.allocPages(GFP_KERNEL, 0);
    const log = logOf(t, () => slub.kmem_cache_free(c, PAGE_OFFSET + pfn * 4096));
    expect(log).toContain('virt_to_cache: Object is not a Slab page!');
    expect(t.env.memMap.refcount[pfn]).toBe(1); // the page was left alone
  });

  it('kfree of an order-0 page that is no slab warns (free_large_kmalloc) and frees the page', () => {
    const { slub, t } = boot();
    const before = freePages(t);
    const pfn = t.buddy.allocPages(GFP_KERNEL, 0);
    const addr = PAGE_OFFSET + pfn * 4096;
    const log = logOf(t, () => slub.kfree(addr));
    expect(log).toContain('WARNING: CPU: 0 PID: 0 at mm/slub.c:4799 free_large_kmalloc+0x0/0x0');
    expect(log.at(-1)).toBe(`object pointer: ${ptr(addr)}`);
    expect(freePages(t)).toBe(before);
  });

  it('kfree into a page that was a slab and is now an ordinary page is no slab free', () => {
    // kfree()'s one-load lookup (SLUB's word per page) must forget a slab when it is discarded.
    const { slub, t } = boot();
    const before = freePages(t);
    const c = slub.kmem_cache_create('gone', 64, 0, SLAB_NO_MERGE, null)!;
    const p = slub.kmem_cache_alloc(c, GFP_KERNEL);
    const slabPfn = Math.floor((p - PAGE_OFFSET) / 4096);
    slub.kmem_cache_free(c, p);
    slub.kmem_cache_destroy(c);
    expect(freePages(t)).toBe(before);
    const pfn = t.buddy.allocPages(GFP_KERNEL, 0);
    expect(pfn).toBe(slabPfn); // the pcp list hands the same page back
    const log = logOf(t, () => slub.kfree(p));
    expect(log).toContain('WARNING: CPU: 0 PID: 0 at mm/slub.c:4799 free_large_kmalloc+0x0/0x0');
    expect(freePages(t)).toBe(before);
  });

  it('without debugging, an immediate double free is the hardened BUG_ON in set_freepointer()', () => {
    const { slub, t } = boot();
    const c = slub.kmem_cache_create('naive', 64, 0, 0, null)!;
    const p = slub.kmem_cache_alloc(c, GFP_KERNEL);
    slub.kmem_cache_free(c, p);
    let err: unknown;
    const log = logOf(t, () => {
      try {
        slub.kmem_cache_free(c, p);
      } catch (e) {
        err = e;
      }
    });
    expect(err).toBeInstanceOf(KernelOops);
    expect(log.slice(0, 3)).toEqual([
      '------------[ cut here ]------------',
      'kernel BUG at mm/slub.c:550!',
      'Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI',
    ]);
    expect(slub.verify()).toEqual([]);
    expect(slub.kmem_cache_alloc(c, GFP_KERNEL)).toBe(p);
    expect(slub.kmem_cache_alloc(c, GFP_KERNEL)).not.toBe(p);
  });

  it('lists the remaining objects when a cache with objects is destroyed, and keeps them', () => {
    const { slub, t, mem } = boot();
    const before = freePages(t);
    const c = slub.kmem_cache_create('leaky', 128, 0, SLAB_STORE_USER, null)!;
    const p = slub.kmem_cache_alloc(c, GFP_KERNEL, 'leaky_init');
    slub.kmem_cache_alloc(c, GFP_KERNEL, 'leaky_init');
    slub.kmem_cache_free(c, p);
    const live = p + slub.sysfs(c).slab_size;
    const log = logOf(t, () => slub.kmem_cache_destroy(c, 'leaky_exit'));
    expect(log.slice(1, 5)).toEqual([
      'BUG leaky (Not tainted): Objects remaining on __kmem_cache_shutdown()',
      '-----------------------------------------------------------------------------',
      '',
      `Object ${ptr(live)} @offset=${live % 4096}`,
    ]);
    expect(log[5]).toBe('Allocated in leaky_init+0x0/0x100 age=0 cpu=0 pid=0');
    expect(log).toContain(
      'kmem_cache_destroy leaky: Slab cache still has objects when called from leaky_exit+0x0/0x100',
    );
    expect(slub.caches().some((x) => x.name === 'leaky')).toBe(false);
    // The object is still there and usable; freeing it and destroying again returns all.
    mem.write32(virtToPhys(live), 7);
    slub.kmem_cache_free(c, live);
    slub.kmem_cache_destroy(c);
    expect(freePages(t)).toBe(before);
  });

  it('SLAB_PANIC: failing to create the cache panics', () => {
    const { slub, t } = boot();
    expect(() => slub.kmem_cache_create('huge', 5 << 20, 0, SLAB_PANIC, null)).toThrow(KernelPanic);
    expect(t.env.klog.grep('Kernel panic').map((r) => r.text)[0]).toBe(
      "Kernel panic - not syncing: __kmem_cache_create_args: Failed to create slab 'huge'. Error -22",
    );
    const log = logOf(t, () =>
      expect(slub.kmem_cache_create('huge2', 5 << 20, 0, 0, null)).toBeNull(),
    );
    expect(log.slice(0, 2)).toEqual([
      'kmem_cache_create(huge2) integrity check failed',
      '__kmem_cache_create_args(huge2) failed with error -22',
    ]);
  });

  it('SLAB_TRACE prints every alloc and free', () => {
    const { slub, t } = boot();
    const c = slub.kmem_cache_create('traced', 32, 0, SLAB_TRACE, null)!;
    const log = logOf(t, () => slub.kmem_cache_alloc(c, GFP_KERNEL));
    expect(log[0]).toMatch(/^TRACE traced alloc 0xffff8880\w+ inuse=1 fp=0xffff8880\w+$/);
  });

  it('per-cache flags enable the checks without a boot string', () => {
    const { slub, mem, t } = boot();
    const c = slub.kmem_cache_create(
      'rz',
      24,
      0,
      SLAB_RED_ZONE | SLAB_POISON | SLAB_CONSISTENCY_CHECKS,
      null,
    )!;
    const p = slub.kmem_cache_alloc(c, GFP_KERNEL);
    mem.write8(virtToPhys(p) - 1, 0); // underrun into the left red zone
    const log = logOf(t, () => slub.kmem_cache_free(c, p));
    expect(log[0]).toMatch(/^\[Left Redzone overwritten\] /);
    expect(log[2]).toBe('BUG rz (Not tainted): Object corrupt');
  });
});
