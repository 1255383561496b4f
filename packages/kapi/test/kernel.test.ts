import { describe, expect, it } from 'vitest';
import {
  __GFP_NOWARN,
  boot,
  GFP_ATOMIC,
  GFP_DMA,
  GFP_KERNEL,
  type Kernel,
  KernelOops,
  PAGE_OFFSET,
  PAGE_SIZE,
  SLAB_HWCACHE_ALIGN,
  SLAB_POISON,
  SLAB_RED_ZONE,
  VMALLOC_START,
  virtToPfn,
  ZERO_SIZE_PTR,
  ZONE_DMA,
} from '../src/index.js';

/** The log lines `fn` prints. */
function logOf(k: Kernel, fn: () => void): string[] {
  const seq = k.klog.nextSeq;
  fn();
  return k.klog.records(seq).map((r) => r.text);
}

/** Free pages after draining the per-CPU lists. */
/**
 * Free pages plus page-table pages: what must come back. The kernel keeps the page tables it
 * built for vmalloc space after vfree() (vunmap clears PTEs only), as Linux does.
 */
const free = (k: Kernel) => k.stats().freePages + k.pageTablePages;

describe('boot', () => {
  it('boots the defaults: tiny machine, buddy, SLUB, x86-64 page tables, one MMU per CPU', () => {
    const k = boot();
    expect(k.machine.name).toBe('tiny');
    expect(k.slab.name).toBe('slub');
    expect(k.pages.name).toBe('buddy');
    expect(k.mmus).toHaveLength(1);
    expect(k.slab.caches().some((c) => c.name === 'kmalloc-64')).toBe(true);
  });

  it('names the bad field of a config', () => {
    expect(() => boot({ slab: 'slib' as never })).toThrow(
      "boot: config.slab must be 'slub', 'slab', 'slob' or a factory (env, options) => SlabAllocator, got \"slib\"",
    );
    expect(() => boot({ pageAllocator: 3 as never })).toThrow(
      /^boot: config\.pageAllocator must be/,
    );
    expect(() => boot({ machine: 'huge' as never })).toThrow(/^boot: config\.machine: /);
    expect(() => boot({ cpus: 0 })).toThrow('boot: config.cpus must be a positive integer, got 0');
    expect(() => boot({ arch: 'riscv' as never })).toThrow(/^boot: config\.arch must be 'x86-64'/);
    expect(() => boot({ slubDebug: 7 as never })).toThrow(/^boot: config\.slubDebug must be/);
    expect(() => boot({ colour: 'red' } as never)).toThrow("boot: unknown config field 'colour'");
  });

  it('builds the direct map with the largest pages that fit, from page-allocator pages', () => {
    const k = boot({ machine: 'laptop' });
    const at = (pa: number) => k.pgd.query(PAGE_OFFSET + pa);
    expect(at(0x1000)?.pageShift).toBe(12); // the first MiB has firmware holes
    expect(at(0x200000)?.pageShift).toBe(21);
    expect(at(0x4000_0000)?.pageShift).toBe(30);
    expect(at(0)).toBeNull(); // page 0 is not RAM
    expect(k.stats().pageTablesKb).toBe(k.pgd.tablePages * 4);
    expect(k.pgd.tablePages).toBeGreaterThan(2);
  });

  it('takes slub_debug=, SLAB and SLOB, and the bitmap page allocator', () => {
    const d = boot({ slubDebug: 'FZPU' });
    expect(d.slab.caches()[5]!.flags & SLAB_RED_ZONE).toBe(SLAB_RED_ZONE);
    expect(boot({ slab: 'slab' }).slab.name).toBe('slab');
    expect(boot({ slab: 'slob' }).slab.name).toBe('slob');
    expect(boot({ pageAllocator: 'bitmap' }).pages.name).toBe('bitmap');
  });
});

describe('kmalloc and friends', () => {
  it('kmalloc/ksize/kfree with Linux size classes; kmalloc(0) is ZERO_SIZE_PTR', () => {
    const k = boot();
    const before = free(k);
    const p = k.kmalloc(100, GFP_KERNEL);
    expect(k.ksize(p)).toBe(128);
    expect(k.kmalloc(0, GFP_KERNEL)).toBe(ZERO_SIZE_PTR);
    k.kfree(p);
    k.kfree(0);
    k.kfree(ZERO_SIZE_PTR);
    k.slab.shrinkAll();
    expect(free(k)).toBe(before);
  });

  it('kzalloc/kcalloc zero; kmalloc_array returns NULL on overflow', () => {
    const k = boot();
    const p = k.kmalloc(64, GFP_KERNEL);
    k.mem.memset(p, 0xab, 64);
    k.kfree(p);
    const z = k.kzalloc(64, GFP_KERNEL);
    expect(k.mem.readBytes(z, 64).every((b) => b === 0)).toBe(true);
    const c = k.kcalloc(10, 12, GFP_KERNEL);
    expect(k.ksize(c)).toBe(128);
    expect(k.kmalloc_array(2 ** 40, 2 ** 40, GFP_KERNEL)).toBe(0);
  });

  it('a too-large kmalloc returns NULL with the WARNING, or quietly with __GFP_NOWARN', () => {
    const k = boot();
    const log = logOf(k, () => expect(k.kmalloc(8 << 20, GFP_KERNEL)).toBe(0));
    expect(log.some((l) => l.startsWith('WARNING: CPU: 0 PID: 0 at mm/page_alloc.c'))).toBe(true);
    expect(logOf(k, () => k.kmalloc(8 << 20, GFP_KERNEL | __GFP_NOWARN))).toEqual([]);
  });

  it('krealloc keeps the buffer while it fits and moves the contents when it grows', () => {
    const k = boot();
    const p = k.kmalloc(40, GFP_KERNEL);
    k.mem.writeBytes(p, [1, 2, 3, 4]);
    expect(k.krealloc(p, 60, GFP_KERNEL)).toBe(p); // kmalloc-64 still fits
    const q = k.krealloc(p, 200, GFP_KERNEL);
    expect(q).not.toBe(p);
    expect([...k.mem.readBytes(q, 4)]).toEqual([1, 2, 3, 4]);
    expect(k.krealloc(q, 0, GFP_KERNEL)).toBe(ZERO_SIZE_PTR);
  });

  it('kstrdup, kmemdup and kfree_sensitive', () => {
    const k = boot();
    const s = k.kstrdup('mmsim', GFP_KERNEL);
    expect(k.mem.readString(s)).toBe('mmsim');
    const t = k.kstrdup(s, GFP_KERNEL);
    expect(t).not.toBe(s);
    expect(k.mem.readString(t)).toBe('mmsim');
    const d = k.kmemdup(s, 6, GFP_KERNEL);
    expect([...k.mem.readBytes(d, 6)]).toEqual([...new TextEncoder().encode('mmsim'), 0]);
    const secret = k.kmalloc(64, GFP_KERNEL);
    k.mem.memset(secret, 0xab, 64);
    k.kfree_sensitive(secret);
    // Zeroed before it went back: all but the free pointer SLUB then stores at offset 32.
    const bytes = k.mem.readBytes(secret, 64);
    expect([...bytes.subarray(0, 32), ...bytes.subarray(40)].every((b) => b === 0)).toBe(true);
  });

  it('runs the seed text example: a cache of struct example objects', () => {
    const k = boot();
    const before = free(k);
    // struct example { int a; char b[60]; } — 64 bytes
    const p = k.kmalloc(64, GFP_KERNEL);
    expect(p).not.toBe(0);
    k.kfree(p);
    const v = k.vmalloc(16 * PAGE_SIZE);
    expect(v).toBeGreaterThanOrEqual(VMALLOC_START);
    k.vfree(v);
    // "Example cache" has a space: kmem_cache_sanity_check() warns, as 6.x does, and goes on.
    let cache = null;
    const log = logOf(k, () => {
      cache = k.kmem_cache_create('Example cache', 64, 0, SLAB_HWCACHE_ALIGN, null);
    });
    expect(log).toContain(
      'WARNING: CPU: 0 PID: 0 at mm/slab_common.c:110 kmem_cache_sanity_check+0x0/0x0',
    );
    const c = cache!;
    const obj = k.kmem_cache_alloc(c, GFP_KERNEL);
    expect(k.ksize(obj)).toBe(64);
    k.kmem_cache_free(c, obj);
    k.kmem_cache_destroy(c);
    k.slab.shrinkAll();
    expect(free(k)).toBe(before);
  });
});

describe('GFP flags in their contexts (the seed text table, row by row)', () => {
  it('process context that can sleep: GFP_KERNEL, no report', () => {
    const k = boot();
    expect(logOf(k, () => expect(k.kmalloc(128, GFP_KERNEL)).not.toBe(0))).toEqual([]);
  });

  it.each([
    ['an interrupt handler', (k: Kernel, fn: () => void) => k.inIrq(fn)],
    ['a softirq', (k: Kernel, fn: () => void) => k.inSoftirq(fn)],
    ['a tasklet', (k: Kernel, fn: () => void) => k.inTasklet(fn)],
    [
      'process context that cannot sleep (spinlock)',
      (k: Kernel, fn: () => void) => k.withSpinLock(fn),
    ],
  ])('%s: GFP_ATOMIC works silently; GFP_KERNEL is the might_sleep BUG', (_, ctx) => {
    const k = boot();
    expect(logOf(k, () => ctx(k, () => expect(k.kmalloc(128, GFP_ATOMIC)).not.toBe(0)))).toEqual(
      [],
    );
    const log = logOf(k, () => ctx(k, () => k.kmalloc(128, GFP_KERNEL)));
    expect(log[0]).toBe(
      'BUG: sleeping function called from invalid context at include/linux/sched/mm.h:321',
    );
    expect(log[1]).toMatch(
      /^in_atomic\(\): 1, irqs_disabled\(\): [01], non_block: 0, pid: 0, name: swapper\/0$/,
    );
  });

  it('DMA-able memory: GFP_DMA | GFP_KERNEL (may sleep) and GFP_DMA | GFP_ATOMIC come from ZONE_DMA', () => {
    const k = boot();
    for (const gfp of [GFP_DMA | GFP_KERNEL, GFP_DMA | GFP_ATOMIC]) {
      const p = k.kmalloc(256, gfp);
      expect(k.env.memMap.zone[virtToPfn(p)]).toBe(ZONE_DMA);
      expect(k.slab.virt_to_cache(p)?.name).toBe('dma-kmalloc-256');
      const pg = k.alloc_pages(gfp, 1);
      expect(k.env.memMap.zone[pg]).toBe(ZONE_DMA);
      k.__free_pages(pg, 1);
    }
  });
});

describe('pages', () => {
  it('alloc_pages, __get_free_pages, get_zeroed_page and the address conversions', () => {
    const k = boot();
    const before = free(k);
    const pg = k.alloc_pages(GFP_KERNEL, 2);
    expect(k.page_address(pg)).toBe(PAGE_OFFSET + pg * PAGE_SIZE);
    expect(k.virt_to_page(k.page_address(pg))).toBe(pg);
    expect(k.phys_to_virt(k.virt_to_phys(k.page_address(pg)))).toBe(k.page_address(pg));
    const z = k.get_zeroed_page(GFP_KERNEL);
    expect(k.mem.readBytes(z, PAGE_SIZE).every((b) => b === 0)).toBe(true);
    k.__free_pages(pg, 2);
    k.free_page(z);
    k.free_pages(0, 3);
    expect(free(k)).toBe(before);
    expect(() => k.virt_to_phys(VMALLOC_START)).toThrow(RangeError);
  });
});

describe('memory through the MMU', () => {
  it('reads and writes kernel addresses through the TLB and the page tables', () => {
    const k = boot();
    const p = k.kmalloc(64, GFP_KERNEL);
    k.mem.write32(p, 0xdeadbeef);
    expect(k.mem.read32(p)).toBe(0xdeadbeef);
    k.mem.write64(p + 8, 0x1122334455667788n);
    expect(k.mem.read64(p + 8)).toBe(0x1122334455667788n);
    expect(k.memory.read32(k.virt_to_phys(p))).toBe(0xdeadbeef);
    expect(k.mmu.stats.walks).toBeGreaterThan(0);
  });

  it('a NULL dereference is the Oops Linux prints, thrown as KernelOops', () => {
    const k = boot();
    let err: unknown;
    const log = logOf(k, () => {
      try {
        k.mem.read8(0);
      } catch (e) {
        err = e;
      }
    });
    expect(err).toBeInstanceOf(KernelOops);
    expect(log.slice(0, 4)).toEqual([
      'BUG: kernel NULL pointer dereference, address: 0000000000000000',
      '#PF: supervisor read access in kernel mode',
      '#PF: error_code(0x0000) - not-present page',
      'Oops: Oops: 0000 [#1] PREEMPT SMP NOPTI',
    ]);
  });

  it('the guard page after a vmalloc area and a freed area fault; the machine carries on', () => {
    const k = boot();
    const v = k.vmalloc(2 * PAGE_SIZE);
    k.mem.write8(v + 2 * PAGE_SIZE - 1, 7);
    expect(() => k.mem.write8(v + 2 * PAGE_SIZE, 7)).toThrow(KernelOops);
    expect(k.klog.grep('BUG: unable to handle page fault').map((r) => r.text)).toEqual([
      `BUG: unable to handle page fault for address: ffff${(v + 2 * PAGE_SIZE).toString(16)}`,
    ]);
    expect(k.klog.grep('#PF: supervisor write access').length).toBe(1);
    k.vfree(v);
    expect(() => k.mem.read8(v)).toThrow(KernelOops);
    expect(k.kmalloc(32, GFP_KERNEL)).not.toBe(0);
  });
});

describe('misuse across the allocators', () => {
  it('kfree of a vmalloc address is an Oops and loses nothing', () => {
    const k = boot();
    const v = k.vmalloc(PAGE_SIZE);
    expect(() => k.kfree(v)).toThrow(KernelOops);
    k.vfree(v);
    expect(k.stats().vmallocUsedKb).toBe(0);
  });

  it('vfree of a kmalloc address is the nonexistent vm area WARNING', () => {
    const k = boot();
    const p = k.kmalloc(PAGE_SIZE, GFP_KERNEL);
    const log = logOf(k, () => k.vfree(p));
    expect(
      log.some(
        (l) =>
          l.startsWith('Trying to vfree() nonexistent vm area') ||
          l.startsWith('Trying to vfree() bad address'),
      ),
    ).toBe(true);
    expect(k.ksize(p)).toBe(PAGE_SIZE);
  });

  it('a poisoned, red-zoned cache catches an overrun written through the MMU', () => {
    const k = boot();
    const c = k.kmem_cache_create('guarded', 40, 0, SLAB_POISON | SLAB_RED_ZONE | 0x1, null)!;
    const o = k.kmem_cache_alloc(c, GFP_KERNEL);
    k.mem.write8(o + 40, 0x41);
    const log = logOf(k, () => k.kmem_cache_free(c, o));
    expect(log[0]).toMatch(/^\[Right Redzone overwritten\] /);
    expect(log[2]).toBe('BUG guarded (Not tainted): Object corrupt');
  });
});

describe('stats', () => {
  it('adds up: free + slab + page tables + vmalloc + the rest = managed', () => {
    const k = boot();
    const v = k.vmalloc(5 * PAGE_SIZE);
    const s = k.stats();
    expect(s.vmallocUsedKb).toBe(20);
    expect(s.vmallocinfo).toHaveLength(1);
    expect(s.slabinfo.find((x) => x.name === 'kmalloc-64')).toBeDefined();
    expect(s.memFreeKb).toBe(s.freePages * 4);
    expect(s.buddyinfo.length).toBeGreaterThan(0);
    k.vfree(v);
  });
});

describe('stats: zoneinfo and vmstat', () => {
  it('reports each populated zone and the page counters', () => {
    const k = boot();
    const before = k.stats().vmstat;
    const pg = k.alloc_pages(GFP_KERNEL, 3);
    const s = k.stats();
    expect(s.zoneinfo.map((z) => z.name)).toEqual(['DMA', 'DMA32']);
    expect(s.vmstat.pgalloc_dma32! - before.pgalloc_dma32!).toBe(8);
    expect(s.vmstat.nr_page_table_pages).toBe(k.pgd.tablePages);
    k.__free_pages(pg, 3);
    expect(k.stats().vmstat.pgfree! - before.pgfree!).toBe(8);
  });
});
