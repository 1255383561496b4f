/**
 * Misuse of the memory API through the Kernel, each case checked twice: the report Linux
 * 6.12 prints for it (LINUX-FACTS.md §2.10, §5.3, §6.1–6.4, §6.6) and that no page was lost
 * once the test has cleaned up (shrink the slab caches, free what is left, and the free
 * page count is the one taken right after boot).
 */
import { describe, expect, it } from 'vitest';
import {
  boot,
  formatPtr,
  GFP_ATOMIC,
  GFP_DMA,
  GFP_KERNEL,
  GFP_NOWAIT,
  type Kernel,
  KernelOops,
  NO_PAGE,
  PAGE_OFFSET,
  PAGE_SIZE,
  virtToPfn,
  ZONE_DMA,
  ZONE_DMA32,
} from '../src/index.js';

/** The log lines `fn` prints. */
function logOf(k: Kernel, fn: () => void): string[] {
  const seq = k.klog.nextSeq;
  fn();
  return k.klog.records(seq).map((r) => r.text);
}

/** The log lines `fn` prints, and what it threw (undefined if nothing). */
function logAndThrow(k: Kernel, fn: () => void): { log: string[]; err: unknown } {
  let err: unknown;
  const log = logOf(k, () => {
    try {
      fn();
    } catch (e) {
      err = e;
    }
  });
  return { log, err };
}

/** Free pages after draining the per-CPU lists. */
/**
 * Free pages plus page-table pages: what must come back. The kernel keeps the page tables it
 * built for vmalloc space after vfree() (vunmap clears PTEs only), as Linux does.
 */
const free = (k: Kernel) => k.stats().freePages + k.pageTablePages;

/** Cached slab pages and free pages are back where they were after boot. */
function expectPagesBack(k: Kernel, before: number): void {
  k.slab.shrinkAll();
  expect(free(k)).toBe(before);
  expect(k.slab.verify()).toEqual([]);
}

/** A zone as the buddy allocator reports it (free pages and the min watermark). */
function zone(k: Kernel, type: number): { free: number; min: number } {
  return (
    k.pages as unknown as { zoneSnapshot(nid: number, t: number): { free: number; min: number } }
  ).zoneSnapshot(0, type);
}

/** The first line of warn_alloc()'s report for a failed page allocation. */
const allocFailure = (order: number, mode: string) =>
  `swapper/0: page allocation failure: order:${order}, mode:${mode}, nodemask=(null),cpuset=/,mems_allowed=0`;

describe('double kfree', () => {
  it('slub_debug=FZPU: "Object already free" while the slab has other objects, else the count check', () => {
    const k = boot({ slubDebug: 'FZPU' });
    const before = free(k);
    const a = k.kmalloc(64, GFP_KERNEL);
    const b = k.kmalloc(64, GFP_KERNEL); // keeps the slab's inuse count at 1 after a's free
    k.kfree(a);
    const log = logOf(k, () => k.kfree(a));
    expect(log.slice(0, 3)).toEqual([
      '=============================================================================',
      'BUG kmalloc-64 (Not tainted): Object already free',
      '-----------------------------------------------------------------------------',
    ]);
    expect(log).toContain('WARNING: CPU: 0 PID: 0 at mm/slub.c:1127 object_err+0x0/0x0');
    expect(log.at(-1)).toBe(`FIX kmalloc-64: Object at 0x${formatPtr(a)} not freed`);
    // b is still a good object; a was not freed a second time.
    k.mem.write32(b, 0x12345678);
    expect(k.mem.read32(b)).toBe(0x12345678);
    k.kfree(b);
    // Now b is the last object: a second free of it fails the inuse check first.
    const last = logOf(k, () => k.kfree(b));
    // object_err()'s WARN_ON(1) added TAINT_WARN to TAINT_BAD_PAGE.
    expect(last[1]).toMatch(
      /^BUG kmalloc-64 \(Tainted: G {4}B {3}W +\): Slab has 0 allocated objects but 1 are to be freed$/,
    );
    expect(last.at(-1)).toBe(`FIX kmalloc-64: Object at 0x${formatPtr(b)} not freed`);
    expectPagesBack(k, before);
  });

  it('without debugging an immediate double kfree is the hardened BUG_ON(object == fp); the kernel carries on', () => {
    const k = boot();
    const before = free(k);
    const c = k.kmalloc(64, GFP_KERNEL);
    k.kfree(c);
    const { log, err } = logAndThrow(k, () => k.kfree(c));
    expect(err).toBeInstanceOf(KernelOops);
    expect(log.slice(0, 3)).toEqual([
      '------------[ cut here ]------------',
      'kernel BUG at mm/slub.c:550!',
      'Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI',
    ]);
    expect(log).toContain(' set_freepointer+0x0/0x0');
    // Still a working allocator: the object comes back, once, and is usable.
    const d = k.kmalloc(64, GFP_KERNEL);
    expect(d).toBe(c);
    const e = k.kmalloc(64, GFP_KERNEL);
    expect(e).not.toBe(d);
    k.mem.memset(d, 0x5a, 64);
    expect(k.mem.read8(d + 63)).toBe(0x5a);
    k.kfree(d);
    k.kfree(e);
    expectPagesBack(k, before);
  });
});

describe('kfree of an interior pointer', () => {
  it.each([
    ['slub_debug=FZPU', 'FZPU'],
    ['no debugging (the simulator refuses to corrupt the freelist)', undefined],
  ])('%s: "Invalid object pointer", and the object stays allocated', (_, slubDebug) => {
    const k = slubDebug ? boot({ slubDebug }) : boot();
    const before = free(k);
    const p = k.kmalloc(64, GFP_KERNEL);
    const q = k.kmalloc(64, GFP_KERNEL);
    k.mem.write32(p, 0xcafef00d);
    const log = logOf(k, () => k.kfree(p + 8));
    expect(log.slice(0, 3)).toEqual([
      '=============================================================================',
      `BUG kmalloc-64 (Not tainted): Invalid object pointer 0x${formatPtr(p + 8)}`,
      '-----------------------------------------------------------------------------',
    ]);
    expect(log).toContain('WARNING: CPU: 0 PID: 0 at mm/slub.c:1152 __slab_err+0x0/0x0');
    expect(log.at(-1)).toBe(`FIX kmalloc-64: Object at 0x${formatPtr(p + 8)} not freed`);
    expect(k.mem.read32(p)).toBe(0xcafef00d);
    expect(k.ksize(p)).toBe(64);
    k.kfree(p);
    k.kfree(q);
    expectPagesBack(k, before);
  });
});

describe('crossing kmalloc and vmalloc', () => {
  it('__free_pages() of a page-table page: Bad page state for a typed page, the tables intact', () => {
    const k = boot();
    const v = k.vmalloc(PAGE_SIZE);
    k.mem.write8(v, 9);
    const pfn = k.pgd.root / PAGE_SIZE; // init_mm's PML4
    expect(k.env.memMap.dumpPage(pfn)).toContain('page_type: f2(table)');
    const log = logOf(k, () => k.__free_pages(pfn, 0));
    expect(log[0]).toBe(
      `BUG: Bad page state in process swapper/0  pfn:${pfn.toString(16).padStart(5, '0')}`,
    );
    expect(log).toContain('page_type: f2(table)');
    expect(log).toContain('page dumped because: nonzero mapcount');
    expect(k.mem.read8(v)).toBe(9); // the walk still works: nothing was freed
    k.vfree(v);
  });

  it("free_pages() of a kmalloc address: Bad page state for the slab page, which stays the slab's", () => {
    const k = boot();
    const before = free(k);
    const p = k.kmalloc(64, GFP_KERNEL);
    const pfn = virtToPfn(p);
    const log = logOf(k, () => k.free_pages(p, 0));
    expect(log[0]).toBe(
      `BUG: Bad page state in process swapper/0  pfn:${pfn.toString(16).padStart(5, '0')}`,
    );
    // As Linux prints it: put_page_testzero() has dropped the reference before the check.
    expect(log[1]).toBe(
      `page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x${pfn.toString(16)}`,
    );
    expect(log).toContain('page_type: f5(slab)');
    expect(log).toContain('page dumped because: nonzero mapcount');
    // Nothing was freed or lost: the object is still usable and goes back to its cache.
    k.mem.write32(p, 0x1234);
    expect(k.mem.read32(p)).toBe(0x1234);
    k.kfree(p);
    expectPagesBack(k, before);
  });

  it('kfree of a vmalloc address: the Oops reading its (nonexistent) struct page', () => {
    const k = boot();
    const before = free(k);
    const v = k.vmalloc(PAGE_SIZE);
    // virt_to_folio(): vmemmap + (v - PAGE_OFFSET) / PAGE_SIZE * sizeof(struct page)
    const page = 0xea00_0000_0000 + Math.floor((v - PAGE_OFFSET) / PAGE_SIZE) * 64;
    const { log, err } = logAndThrow(k, () => k.kfree(v));
    expect(err).toBeInstanceOf(KernelOops);
    expect(log.slice(0, 3)).toEqual([
      `BUG: unable to handle page fault for address: ${formatPtr(page)}`,
      '#PF: supervisor read access in kernel mode',
      '#PF: error_code(0x0000) - not-present page',
    ]);
    // Nothing changed: the area is still there and usable.
    k.mem.write8(v + PAGE_SIZE - 1, 7);
    expect(k.mem.read8(v + PAGE_SIZE - 1)).toBe(7);
    expect(k.stats().vmallocinfo).toHaveLength(1);
    k.vfree(v);
    expect(k.stats().vmallocUsedKb).toBe(0);
    expectPagesBack(k, before);
  });

  it('vfree of a kmalloc address and a double vfree: the nonexistent vm area WARNING, nothing changed', () => {
    const k = boot();
    const before = free(k);
    const p = k.kmalloc(PAGE_SIZE, GFP_KERNEL); // page aligned: no "bad address" WARNING
    k.mem.write32(p, 0xabcd);
    const warnOf = (addr: number) => [
      '------------[ cut here ]------------',
      `Trying to vfree() nonexistent vm area (${formatPtr(addr)})`,
      'WARNING: CPU: 0 PID: 0 at mm/vmalloc.c:3426 vfree+0x0/0x100',
    ];
    const log = logOf(k, () => k.vfree(p));
    expect(log.slice(0, 3)).toEqual(warnOf(p));
    expect(k.ksize(p)).toBe(PAGE_SIZE);
    expect(k.mem.read32(p)).toBe(0xabcd);

    const v = k.vmalloc(3 * PAGE_SIZE);
    const used = k.stats().vmallocUsedKb;
    k.vfree(v);
    expect(k.stats().vmallocUsedKb).toBe(used - 12);
    const twice = logOf(k, () => k.vfree(v));
    expect(twice.slice(0, 3)).toEqual(warnOf(v));
    expect(k.stats().vmallocUsedKb).toBe(used - 12);
    expect(k.stats().vmallocinfo).toEqual([]);
    k.kfree(p);
    expectPagesBack(k, before);
  });
});

describe('running out of memory', () => {
  it('GFP_KERNEL on the 64 MiB machine: 1 MiB kmallocs (order 8, __GFP_COMP) until NULL', () => {
    const k = boot({ machine: 'tiny' });
    const before = free(k);
    const got: number[] = [];
    const log = logOf(k, () => {
      for (;;) {
        const p = k.kmalloc(1 << 20, GFP_KERNEL);
        if (p === 0) break;
        got.push(p);
      }
    });
    expect(got.length).toBeGreaterThan(40);
    expect(got.every((p) => k.ksize(p) === 1 << 20)).toBe(true);
    // __kmalloc_large_node() adds __GFP_COMP; warn_alloc() prints the mask it was given.
    expect(log[0]).toBe(allocFailure(8, '0x40cc0(GFP_KERNEL|__GFP_COMP)'));
    expect(log.filter((l) => l.includes('page allocation failure'))).toHaveLength(1);
    expect(log).toContain('Mem-Info:');
    for (const p of got) k.kfree(p);
    expectPagesBack(k, before);
  });

  /** 64 KiB kmallocs (order 4 from the page allocator) until NULL. */
  function exhaust(gfp: number, inIrq: boolean) {
    const k = boot();
    const before = free(k);
    const got: number[] = [];
    let lowest = Number.POSITIVE_INFINITY;
    const run = () => {
      for (;;) {
        const p = k.kmalloc(64 << 10, gfp);
        if (p === 0) break;
        got.push(p);
        lowest = Math.min(lowest, zone(k, ZONE_DMA32).free);
      }
    };
    const log = logOf(k, () => (inIrq ? k.inIrq(run) : run()));
    const dma32 = zone(k, ZONE_DMA32);
    for (const p of got) k.kfree(p);
    expectPagesBack(k, before);
    return { count: got.length, log, lowest, min: dma32.min };
  }

  it('GFP_ATOMIC in an interrupt dips below the min watermark and gets more than GFP_NOWAIT', () => {
    const atomic = exhaust(GFP_ATOMIC, true);
    const nowait = exhaust(GFP_NOWAIT, true);
    expect(atomic.count).toBeGreaterThan(nowait.count);
    // ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK: down to 37.5% of min; GFP_NOWAIT stops at min.
    expect(atomic.lowest).toBeLessThan(atomic.min);
    expect(atomic.lowest).toBeGreaterThan(Math.floor((atomic.min * 3) / 8) - 16);
    expect(nowait.lowest).toBeGreaterThanOrEqual(nowait.min);
    expect(atomic.log[0]).toBe(allocFailure(4, '0x40820(GFP_ATOMIC|__GFP_COMP)'));
    // GFP_NOWAIT carries __GFP_NOWARN: it fails quietly, and never might_sleep()s.
    expect(nowait.log).toEqual([]);
    expect(atomic.log.some((l) => l.startsWith('BUG: sleeping function'))).toBe(false);
  });

  it('GFP_KERNEL reclaims first: cached empty slabs are shrunk before the allocation fails', () => {
    const fill = (k: Kernel) => {
      const objs: number[] = [];
      for (const size of [64, 256, 1024, 4096, 8192])
        for (let i = 0; i < 200; i++) objs.push(k.kmalloc(size, GFP_KERNEL));
      for (const p of objs) k.kfree(p);
    };
    const cachedPages = (k: Kernel) =>
      k.slab
        .caches()
        .map((c) => k.slab.cacheInfo(c))
        .reduce((n, s) => n + s.num_slabs * (1 << s.cache_order), 0);
    const exhaustPages = (gfp: number) => {
      const k = boot();
      const before = free(k);
      fill(k);
      const cached = cachedPages(k);
      const pages: number[] = [];
      let shrunkAt = -1;
      const log = logOf(k, () => {
        for (;;) {
          const pg = k.alloc_page(gfp);
          if (pg === NO_PAGE) break;
          pages.push(pg);
          if (shrunkAt < 0 && pages.length % 64 === 0 && cachedPages(k) < cached)
            shrunkAt = pages.length;
        }
      });
      const left = cachedPages(k);
      for (const pg of pages) k.__free_page(pg);
      expectPagesBack(k, before);
      return { count: pages.length, cached, left, shrunkAt, log };
    };
    const kernel = exhaustPages(GFP_KERNEL);
    const nowait = exhaustPages(GFP_NOWAIT);
    expect(kernel.cached).toBeGreaterThan(100);
    // GFP_NOWAIT cannot reclaim: the cached slabs stay.
    expect(nowait.left).toBe(nowait.cached);
    // GFP_KERNEL shrank them, went on allocating, and only then failed.
    expect(kernel.left).toBe(0);
    expect(kernel.shrunkAt).toBeGreaterThan(0);
    expect(kernel.shrunkAt).toBeLessThan(kernel.count);
    expect(kernel.count).toBeGreaterThanOrEqual(nowait.count + kernel.cached);
    expect(kernel.log[0]).toBe(allocFailure(0, '0xcc0(GFP_KERNEL)'));
    expect(kernel.log.filter((l) => l.includes('page allocation failure'))).toHaveLength(1);
  });

  it('GFP_DMA exhausts ZONE_DMA alone: every object there, the failure names GFP_KERNEL|GFP_DMA', () => {
    const k = boot();
    const before = free(k);
    const got: number[] = [];
    const log = logOf(k, () => {
      for (;;) {
        const p = k.kmalloc(4096, GFP_KERNEL | GFP_DMA);
        if (p === 0) break;
        got.push(p);
      }
    });
    expect(got.length).toBeGreaterThan(3000);
    expect(got.every((p) => k.env.memMap.zone[virtToPfn(p)] === ZONE_DMA)).toBe(true);
    expect(got.every((p) => k.slab.virt_to_cache(p)?.name === 'dma-kmalloc-4k')).toBe(true);
    // ZONE_DMA32 was never touched by these allocations: still plenty free.
    expect(zone(k, ZONE_DMA32).free).toBeGreaterThan(10_000);
    // allocate_slab(): the min-order retry with s->allocflags (__GFP_COMP | GFP_DMA) fails
    // loudly; then slab_out_of_memory() names the caller's flags.
    expect(log[0]).toBe(allocFailure(0, '0x40cc1(GFP_KERNEL|GFP_DMA|__GFP_COMP)'));
    expect(log).toContain(
      'SLUB: Unable to allocate memory on CPU 0 (of node 0) on node -1, gfp=0xcc1(GFP_KERNEL|GFP_DMA)',
    );
    expect(log).toContain(
      '  cache: dma-kmalloc-4k, object size: 4096, buffer size: 4096, default order: 3, min order: 0',
    );
    for (const p of got) k.kfree(p);
    expectPagesBack(k, before);
  });
});

describe('sleeping in atomic context', () => {
  it('vmalloc under a spinlock: the might_sleep BUG of its first GFP_KERNEL allocation', () => {
    const k = boot();
    const before = free(k);
    let v = 0;
    const log = logOf(k, () => {
      k.withSpinLock(() => {
        v = k.vmalloc(2 * PAGE_SIZE);
      });
    });
    // __vmalloc_node_range() → __get_vm_area_node() → kzalloc_node(vm_struct, GFP_KERNEL) →
    // slab_pre_alloc_hook() → might_alloc(): the first might_sleep() on the way, and
    // __might_resched() prints once per second, so it is the only report.
    expect(log.slice(0, 4)).toEqual([
      'BUG: sleeping function called from invalid context at include/linux/sched/mm.h:321',
      'in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 0, name: swapper/0',
      'preempt_count: 1, expected: 0',
      'RCU nest depth: 0, expected: 0',
    ]);
    expect(log.filter((l) => l.startsWith('BUG: sleeping function'))).toHaveLength(1);
    // might_sleep() only reports: the allocation went through.
    expect(v).not.toBe(0);
    k.vfree(v);
    expectPagesBack(k, before);
  });
});

describe('kmem_cache_destroy with live objects', () => {
  it('WARNs, leaves the objects usable, and a second destroy after freeing them returns every page', () => {
    const k = boot();
    const before = free(k);
    const c = k.kmem_cache_create('leaky', 100, 0, 0, null)!;
    const o1 = k.kmem_cache_alloc(c, GFP_KERNEL);
    const o2 = k.kmem_cache_alloc(c, GFP_KERNEL);
    const log = logOf(k, () => k.kmem_cache_destroy(c));
    expect(log.slice(0, 3)).toEqual([
      '=============================================================================',
      'BUG leaky (Not tainted): Objects remaining on __kmem_cache_shutdown()',
      '-----------------------------------------------------------------------------',
    ]);
    const base = o1 - ((o1 - PAGE_OFFSET) % PAGE_SIZE);
    expect(log).toContain(`Object 0x${formatPtr(o1)} @offset=${o1 - base}`);
    expect(log).toContain(`Object 0x${formatPtr(o2)} @offset=${o2 - base}`);
    const i = log.indexOf(
      'kmem_cache_destroy leaky: Slab cache still has objects when called from kmem_cache_destroy_caller+0x0/0x100',
    );
    expect(i).toBeGreaterThan(0);
    expect(log[i - 1]).toBe('------------[ cut here ]------------');
    expect(log[i + 1]).toMatch(
      /^WARNING: CPU: 0 PID: 0 at mm\/slab_common\.c:\d+ kmem_cache_destroy\+0x0\/0x0$/,
    );
    // Gone from /proc/slabinfo, but its objects are still good memory.
    expect(k.slab.caches().some((x) => x.name === 'leaky')).toBe(false);
    k.mem.write64(o1, 0x0123456789abcdefn);
    expect(k.mem.read64(o1)).toBe(0x0123456789abcdefn);
    expect(k.slab.virt_to_cache(o2)).toBe(c);
    expect(free(k)).toBeLessThan(before);
    k.kmem_cache_free(c, o1);
    k.kmem_cache_free(c, o2);
    expect(logOf(k, () => k.kmem_cache_destroy(c))).toEqual([]);
    expectPagesBack(k, before);
  });
});
