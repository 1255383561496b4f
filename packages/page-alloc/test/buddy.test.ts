import {
  __GFP_COMP,
  __GFP_HIGH,
  __GFP_NOFAIL,
  __GFP_NORETRY,
  __GFP_NOWARN,
  __GFP_ZERO,
  GFP_ATOMIC,
  GFP_DMA,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL,
  GFP_NOWAIT,
  KernelOops,
  KernelPanic,
  MIGRATE_MOVABLE,
  MIGRATE_UNMOVABLE,
  NO_PAGE,
  PAGE_SIZE,
  ZONE_DMA,
  ZONE_DMA32,
  ZONE_NORMAL,
} from '@mmsim/core';
import type { MachineSpec } from '@mmsim/numa';
import { describe, expect, it } from 'vitest';
import { createBuddyAllocator, createPageAllocatorEnv, zoneBatchsize } from '../src/index.js';

/**
 * The reference machine of ../shared/reference/linux-6.18: 2 CPUs, one node, e820 RAM at
 * 0x1000-0x9efff, 0x100000-0xbfffffff and 0x100000000-0x63fffffff (a 1 GiB PCI hole).
 * Memblock reservations are chosen so that `managed` equals the live zoneinfo: the first
 * MiB (x86 always reserves it), 9419 pages of kernel in DMA32, and the Normal pages that
 * deferred_init=lazy had not handed over yet.
 */
const LIVE: MachineSpec = {
  name: 'live-6.18',
  nodes: [{ memory: '24G', cpus: 2 }],
  pciHole: '1G',
  reserved: [
    { start: 0x1000, size: 158 * PAGE_SIZE, name: 'first 1M' },
    { start: 0x1000000, size: 9419 * PAGE_SIZE, name: 'kernel' },
    { start: 0x100000000, size: (5505024 - 491520) * PAGE_SIZE, name: 'deferred init' },
  ],
};

describe('watermarks, lowmem_reserve and pcp sizes match the live 6.18 zoneinfo', () => {
  const env = createPageAllocatorEnv(LIVE);
  const buddy = createBuddyAllocator(env);
  const dma = buddy.zoneSnapshot(0, ZONE_DMA);
  const dma32 = buddy.zoneSnapshot(0, ZONE_DMA32);
  const normal = buddy.zoneSnapshot(0, ZONE_NORMAL);

  it('managed pages equal present minus memblock reservations', () => {
    expect([dma.present, dma.managed]).toEqual([3998, 3840]);
    expect([dma32.present, dma32.managed]).toEqual([782336, 772917]);
    expect([normal.present, normal.managed]).toEqual([5505024, 491520]);
  });

  it('raises min_free_kbytes for THP to 67584 kB, as /proc/sys/vm/min_free_kbytes shows', () => {
    expect(buddy.minFreeKbytes).toBe(67584);
  });

  it('computes min/low/high/promo per zone exactly', () => {
    expect([dma.min, dma.low, dma.high, dma.promo]).toEqual([51, 63, 75, 87]);
    expect([dma32.min, dma32.low, dma32.high, dma32.promo]).toEqual([10296, 12870, 15444, 18018]);
    expect([normal.min, normal.low, normal.high, normal.promo]).toEqual([6548, 8185, 9822, 11459]);
    const movable = buddy.zoneSnapshot(0, 3);
    expect([movable.min, movable.low, movable.high, movable.promo]).toEqual([32, 32, 32, 32]);
  });

  it('computes protection (lowmem_reserve) exactly', () => {
    expect(dma.lowmemReserve).toEqual([0, 3019, 4939, 4939, 4939]);
    expect(dma32.lowmemReserve).toEqual([0, 0, 1920, 1920, 1920]);
    expect(normal.lowmemReserve).toEqual([0, 0, 0, 0, 0]);
  });

  it('sizes the per-CPU lists as zone_batchsize()/zone_highsize() do', () => {
    expect(buddy.pageset(0, ZONE_DMA, 0)).toMatchObject({
      batch: 1,
      highMin: 31,
      highMax: 240,
      high: 0,
    });
    expect(buddy.pageset(0, ZONE_DMA32, 1)).toMatchObject({
      batch: 63,
      highMin: 6435,
      highMax: 48307,
    });
    expect(buddy.pageset(0, ZONE_NORMAL, 0)).toMatchObject({
      batch: 63,
      highMin: 4092,
      highMax: 30720,
    });
  });

  it('counts pageblocks of RAM per zone as /proc/pagetypeinfo does, all Movable after boot', () => {
    expect(dma.pageblocksByType.reduce((a, b) => a + b)).toBe(8);
    expect(dma32.pageblocksByType[MIGRATE_MOVABLE]).toBe(1528);
  });

  it('boots every free page into the lists, in the largest aligned blocks', () => {
    expect(dma32.free).toBe(772917);
    expect(buddy.verify()).toEqual([]);
  });
});

describe('zone_batchsize()', () => {
  it('rounds to 2^n - 1 and caps at 1 MiB worth of pages', () => {
    expect(zoneBatchsize(3840)).toBe(0); // max(1, …) is applied by the caller, as Linux
    expect(zoneBatchsize(772917)).toBe(63);
    expect(zoneBatchsize(12288)).toBe(3);
    expect(zoneBatchsize(100_000_000)).toBe(63);
  });
});

/** tiny: 64 MiB, one CPU. DMA is pfn 1..4095 (holes at 0 and 0x9f..0xff), DMA32 4096..16383. */
function tiny(options: { pcp?: boolean } = {}) {
  const env = createPageAllocatorEnv('tiny');
  return { env, buddy: createBuddyAllocator(env, options) };
}

describe('boot hands memory over as memblock does', () => {
  it('cuts each free range into the largest naturally aligned blocks', () => {
    const { buddy } = tiny();
    // DMA: 1, 2-3, 4-7, … 64-127, then 128-143, 144-151, 152-155, 156-157, 158; 256-511,
    // 512-1023, and three order-10 blocks.
    expect(buddy.zoneSnapshot(0, ZONE_DMA).nrFree).toEqual([2, 2, 2, 2, 2, 1, 1, 0, 1, 1, 3]);
    // DMA32: 4096..16383 in twelve order-10 blocks.
    expect(buddy.zoneSnapshot(0, ZONE_DMA32).nrFree).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12]);
    expect(buddy.nrFreePages()).toBe(3998 + 12288);
  });
});

describe('allocation splits the smallest fitting block (expand())', () => {
  it('keeps the lower half and lists the upper halves, claiming a Movable pageblock', () => {
    const { env, buddy } = tiny({ pcp: false });
    const pfn = buddy.allocPages(GFP_KERNEL, 0);
    // GFP_KERNEL is Unmovable; its lists are empty, so __rmqueue_claim() takes the largest
    // Movable block (the head of the order-10 list, pfn 4096) and converts its pageblocks.
    expect(pfn).toBe(4096);
    expect(env.memMap.migratetype(4096)).toBe(MIGRATE_UNMOVABLE);
    expect(env.memMap.migratetype(4096 + 512)).toBe(MIGRATE_UNMOVABLE);
    expect(env.memMap.migratetype(4096 + 1024)).toBe(MIGRATE_MOVABLE);
    const z = buddy.zoneSnapshot(0, ZONE_DMA32);
    expect(z.nrFree).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 11]);
    expect(z.nrFreeByType[MIGRATE_UNMOVABLE]).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    // The halves: 4097 (o0), 4098 (o1), 4100 (o2) … 4608 (o9).
    for (let o = 0; o < 10; o++) {
      expect(env.memMap.describe(4096 + (1 << o))).toMatchObject({ pageType: 'buddy', order: o });
    }
    expect(buddy.stats.pageblockClaims).toBe(1);
    expect(buddy.verify()).toEqual([]);
  });

  it('the next allocations of the same type take the small halves first', () => {
    const { buddy } = tiny({ pcp: false });
    expect(buddy.allocPages(GFP_KERNEL, 0)).toBe(4096);
    expect(buddy.allocPages(GFP_KERNEL, 0)).toBe(4097);
    expect(buddy.allocPages(GFP_KERNEL, 1)).toBe(4098);
    expect(buddy.allocPages(GFP_KERNEL, 0)).toBe(4100); // splits 4100 (o2): keeps 4100, lists 4102 (o1), 4101 (o0)
    expect(buddy.allocPages(GFP_KERNEL, 0)).toBe(4101);
  });
});

describe('free merges with the buddy at pfn ^ (1 << order) (__free_one_page())', () => {
  it('merges back up to MAX_PAGE_ORDER', () => {
    const { buddy } = tiny({ pcp: false });
    const before = buddy.zoneSnapshot(0, ZONE_DMA32).nrFree;
    const a = buddy.allocPages(GFP_KERNEL, 0);
    const b = buddy.allocPages(GFP_KERNEL, 0);
    expect([a, b]).toEqual([4096, 4097]);
    buddy.freePages(a, 0);
    // 4096's buddy 4097 is in use: 4096 stays an order-0 block.
    expect(buddy.zoneSnapshot(0, ZONE_DMA32).nrFree[0]).toBe(1);
    buddy.freePages(b, 0);
    expect(buddy.zoneSnapshot(0, ZONE_DMA32).nrFree).toEqual(before);
    expect(buddy.verify()).toEqual([]);
  });

  it('restores exactly the boot free lists after any set of allocations is freed', () => {
    const { buddy } = tiny();
    const boot = [buddy.zoneSnapshot(0, ZONE_DMA).nrFree, buddy.zoneSnapshot(0, ZONE_DMA32).nrFree];
    const held: [number, number][] = [];
    for (let i = 0; i < 200; i++) {
      const order = i % 5;
      const pfn = buddy.allocPages(i % 3 ? GFP_KERNEL : GFP_HIGHUSER_MOVABLE, order);
      expect(pfn).toBeGreaterThanOrEqual(0);
      expect(pfn % (1 << order)).toBe(0);
      held.push([pfn, order]);
    }
    for (const [pfn, order] of held.reverse()) buddy.freePages(pfn, order);
    buddy.drain();
    expect([
      buddy.zoneSnapshot(0, ZONE_DMA).nrFree,
      buddy.zoneSnapshot(0, ZONE_DMA32).nrFree,
    ]).toEqual(boot);
    expect(buddy.verify()).toEqual([]);
  });
});

describe('per-CPU page lists', () => {
  it('fills an empty list with a batch (nr_pcp_alloc) and serves the next request from it', () => {
    const { buddy } = tiny();
    expect(buddy.pageset(0, ZONE_DMA32, 0)).toMatchObject({
      count: 0,
      batch: 3,
      high: 0,
      highMin: 748,
      highMax: 1536,
    });
    const a = buddy.allocPages(GFP_KERNEL, 0);
    // batch 3 << alloc_factor 0 = 3 blocks pulled in physical order; one handed out.
    expect(a).toBe(4096);
    expect(buddy.pageset(0, ZONE_DMA32, 0)).toMatchObject({ count: 2, high: 751 });
    expect(buddy.zoneSnapshot(0, ZONE_DMA32).free).toBe(12288 - 3);
    expect(buddy.allocPages(GFP_KERNEL, 0)).toBe(4097);
    expect(buddy.pageset(0, ZONE_DMA32, 0).count).toBe(1);
    expect(buddy.nrFreePages(0, ZONE_DMA32)).toBe(12288 - 2);
  });

  it('frees to the list and drains it back into the zone', () => {
    const { buddy } = tiny();
    const a = buddy.allocPages(GFP_KERNEL, 0);
    buddy.freePages(a, 0);
    expect(buddy.pageset(0, ZONE_DMA32, 0).count).toBe(3);
    expect(buddy.zoneSnapshot(0, ZONE_DMA32).free).toBe(12288 - 3);
    buddy.drain();
    expect(buddy.pageset(0, ZONE_DMA32, 0).count).toBe(0);
    expect(buddy.zoneSnapshot(0, ZONE_DMA32).free).toBe(12288);
    expect(buddy.verify()).toEqual([]);
  });

  it('uses each CPU’s own list', () => {
    const env = createPageAllocatorEnv('laptop');
    const buddy = createBuddyAllocator(env);
    const a = env.ctx.runOnCpu(2, () => buddy.allocPages(GFP_KERNEL, 0));
    expect(buddy.pcpPages(0, ZONE_NORMAL, 2)).toBeGreaterThan(0);
    expect(buddy.pcpPages(0, ZONE_NORMAL, 0)).toBe(0);
    buddy.freePages(a, 0);
    expect(buddy.pcpPages(0, ZONE_NORMAL, 0)).toBe(1);
  });
});

describe('watermarks and reserves', () => {
  it('GFP_KERNEL stops at min; GFP_ATOMIC may take the zone down to 37.5% of min', () => {
    const { env, buddy } = tiny({ pcp: false });
    const z0 = buddy.zoneSnapshot(0, ZONE_DMA32);
    // min_free_kbytes: THP asks for 11264 pages but is capped at 5% of lowmem: 795 pages.
    expect(buddy.minFreeKbytes).toBe(3180);
    expect(z0.min).toBe(599);
    const fromDma32 = (gfp: number): number => {
      let n = 0;
      for (;;) {
        const pfn = buddy.allocPages(gfp | __GFP_NOWARN, 0);
        if (pfn < 0) return n;
        if (env.memMap.zone[pfn] === ZONE_DMA32) n++;
      }
    };
    // The fast path stops each zone at low and moves on to DMA; the slow path then takes
    // DMA32 on while free > min + lowmem_reserve (0 for the highest zone).
    expect(fromDma32(GFP_KERNEL)).toBe(12288 - 599);
    expect(buddy.zoneSnapshot(0, ZONE_DMA32).free).toBe(599);
    // min − min/2 = 300, then − 300/4 = 225: ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK.
    expect(fromDma32(GFP_ATOMIC)).toBe(599 - 225);
    expect(buddy.zoneSnapshot(0, ZONE_DMA32).free).toBe(225);
  });

  it('lowmem_reserve keeps DMA from requests that could have used DMA32', () => {
    const { env, buddy } = tiny({ pcp: false });
    const dma = buddy.zoneSnapshot(0, ZONE_DMA);
    expect(dma.lowmemReserve[ZONE_DMA32]).toBe(48); // 12288 / 256
    while (buddy.allocPages(GFP_KERNEL | __GFP_NOWARN, 0) >= 0) {}
    // GFP_KERNEL (highest zone Normal → index 2 row) left min + reserve[2] in DMA.
    expect(buddy.zoneSnapshot(0, ZONE_DMA).free).toBe(dma.min + dma.lowmemReserve[ZONE_NORMAL]!);
    // A GFP_DMA request has no higher zone to protect: it may go down to min.
    let got = 0;
    while (buddy.allocPages(GFP_KERNEL | GFP_DMA | __GFP_NOWARN, 0) >= 0) got++;
    expect(got).toBe(dma.lowmemReserve[ZONE_NORMAL]);
    expect(buddy.zoneSnapshot(0, ZONE_DMA).free).toBe(dma.min);
    expect(env.klog.records().length).toBe(0);
  });
});

describe('allocation failure: warn_alloc()', () => {
  it('logs Linux’s report, with the Mem-Info block, and returns NO_PAGE', () => {
    const { env, buddy } = tiny();
    const held: number[] = [];
    for (;;) {
      const p = buddy.allocPages(GFP_KERNEL | GFP_DMA, 10);
      if (p < 0) break;
      held.push(p);
    }
    expect(held).toEqual([1024, 2048, 3072]);
    const lines = env.klog.records().map((r) => r.text);
    expect(lines[0]).toBe(
      'swapper/0: page allocation failure: order:10, mode:0xcc1(GFP_KERNEL|GFP_DMA), nodemask=(null),cpuset=/,mems_allowed=0',
    );
    expect(lines).toContain('Mem-Info:');
    expect(lines).toContain('lowmem_reserve[]: 0 48 48 48 48');
    expect(lines).toContain(
      'Node 0 DMA: 2*4kB (M) 2*8kB (M) 2*16kB (M) 2*32kB (M) 2*64kB (M) 1*128kB (M) 1*256kB (M) 0*512kB 1*1024kB (M) 1*2048kB (M) 0*4096kB = 3704kB',
    );
    expect(lines).toContain('16286 pages RAM');
    expect(buddy.stats.allocFail).toBe(1);
  });

  it('is rate limited to one report per 10 seconds and silent with __GFP_NOWARN', () => {
    const { env, buddy } = tiny();
    expect(buddy.allocPages(GFP_KERNEL | __GFP_NOWARN, 10, 0) >= 0).toBe(true);
    const fail = () => buddy.allocPages(GFP_KERNEL | GFP_DMA, 10);
    while (fail() >= 0) {}
    const n = env.klog.grep('page allocation failure').length;
    expect(n).toBe(1);
    fail();
    expect(env.klog.grep('page allocation failure').length).toBe(1);
    // lib/ratelimit.c: a new interval opens only once jiffies is after begin + 10*HZ.
    env.klog.clock.advance(10_000_000_000 + 4_000_000);
    fail();
    expect(env.klog.grep('page allocation failure').length).toBe(2);
    expect(env.klog.grep('warn_alloc: 1 callbacks suppressed').length).toBe(1);
    env.klog.clock.advance(10_000_000_000);
    expect(buddy.allocPages(GFP_KERNEL | GFP_DMA | __GFP_NOWARN, 10)).toBe(NO_PAGE);
    expect(env.klog.grep('page allocation failure').length).toBe(2);
  });
});

describe('misuse gets the Linux report and corrupts nothing', () => {
  it('order > MAX_PAGE_ORDER: WARN once, NO_PAGE', () => {
    const { env, buddy } = tiny();
    expect(buddy.allocPages(GFP_KERNEL, 11)).toBe(NO_PAGE);
    expect(
      env.klog.grep('WARNING: CPU: 0 PID: 0 at mm/page_alloc.c:4832 __alloc_pages_noprof').length,
    ).toBe(1);
    expect(buddy.allocPages(GFP_KERNEL, 11)).toBe(NO_PAGE);
    expect(env.klog.grep('WARNING:').length).toBe(1);
  });

  it('double free: VM_BUG_ON_PAGE(page_ref_count(page) == 0) as a KernelOops', () => {
    const { env, buddy } = tiny();
    const p = buddy.allocPages(GFP_KERNEL, 2);
    buddy.freePages(p, 2);
    const free = buddy.nrFreePages();
    expect(() => buddy.freePages(p, 2)).toThrow(KernelOops);
    expect(
      env.klog.grep('page dumped because: VM_BUG_ON_PAGE(page_ref_count(page) == 0)').length,
    ).toBe(1);
    expect(env.klog.grep('kernel BUG at include/linux/mm.h:1140!').length).toBe(1);
    expect(buddy.nrFreePages()).toBe(free);
    expect(buddy.verify()).toEqual([]);
  });

  it('a free of a reserved page: BUG: Bad page state, nothing freed', () => {
    const { env, buddy } = tiny();
    const free = buddy.nrFreePages();
    buddy.freePages(0, 0); // pfn 0 is the firmware page
    expect(env.klog.records()[0]!.text).toBe('BUG: Bad page state in process swapper/0  pfn:00000');
    // Linux dumps the page after put_page_testzero() dropped the reference.
    expect(env.klog.records()[1]!.text).toMatch(/^page: refcount:0 mapcount:0 /);
    expect(env.klog.grep('page dumped because: PAGE_FLAGS_CHECK_AT_FREE flag(s) set').length).toBe(
      1,
    );
    expect(buddy.nrFreePages()).toBe(free);
    expect(buddy.verify()).toEqual([]);
  });

  it('the wrong order on free: a KernelOops, nothing freed', () => {
    const { buddy } = tiny();
    const p = buddy.allocPages(GFP_KERNEL | __GFP_COMP, 3);
    const free = buddy.nrFreePages();
    expect(() => buddy.freePages(p, 2)).toThrow(/kernel BUG at mm\/page_alloc.c:1132!/);
    expect(buddy.nrFreePages()).toBe(free);
    buddy.freePages(p, 3);
    expect(buddy.verify()).toEqual([]);
  });

  it('a pfn outside memory or a bad order is a RangeError', () => {
    const { buddy } = tiny();
    expect(() => buddy.freePages(1 << 30, 0)).toThrow(RangeError);
    expect(() => buddy.allocPages(GFP_KERNEL, -1)).toThrow(RangeError);
    expect(() => buddy.allocPages(GFP_KERNEL, 1.5)).toThrow(RangeError);
    expect(() => buddy.allocPages(GFP_KERNEL, 0, 7)).toThrow(/node 7 does not exist/);
  });
});

describe('__GFP_ZERO and __GFP_COMP', () => {
  it('zeroes the bytes of the whole block', () => {
    const { env, buddy } = tiny({ pcp: false });
    const p = buddy.allocPages(GFP_KERNEL, 1);
    env.memory.fill(p * PAGE_SIZE, 2 * PAGE_SIZE, 0x5a);
    buddy.freePages(p, 1);
    const q = buddy.allocPages(GFP_KERNEL | __GFP_ZERO, 1);
    expect(q).toBe(p);
    expect(env.memory.findNot(q * PAGE_SIZE, 2 * PAGE_SIZE, 0)).toBe(-1);
  });

  it('marks the head of a compound page', () => {
    const { env, buddy } = tiny();
    const p = buddy.allocPages(GFP_KERNEL | __GFP_COMP, 2);
    expect(env.memMap.describe(p)).toMatchObject({ flags: ['head'], order: 2, refcount: 1 });
    buddy.freePages(p, 2);
    expect(env.memMap.describe(p).flags).toEqual([]);
  });
});

describe('NUMA placement', () => {
  it('falls back to the other node when the local one is full, counting numa_miss/foreign', () => {
    const env = createPageAllocatorEnv({
      nodes: [
        { memory: '32M', cpus: 1 },
        { memory: '32M', cpus: 1 },
      ],
    });
    const buddy = createBuddyAllocator(env);
    const got: number[] = [];
    for (;;) {
      const p = buddy.allocPages(GFP_KERNEL | __GFP_NOWARN, 0);
      if (p < 0) break;
      got.push(env.memMap.node[p]!);
    }
    expect(got[0]).toBe(0);
    // node 1 served part of it (the pcp pages drained in direct reclaim come last, from 0)
    expect(got.filter((n) => n === 1).length).toBeGreaterThan(7000);
    const n0 = env.numaStat.nodeCounters(0);
    const n1 = env.numaStat.nodeCounters(1);
    expect(n1.numa_miss).toBe(got.filter((n) => n === 1).length);
    expect(n0.numa_foreign).toBe(n1.numa_miss);
    expect(n0.numa_hit).toBe(got.filter((n) => n === 0).length);
  });
});

describe('zoneinfo numbers beyond the watermarks', () => {
  it('vm stats threshold and nr_free_pages_blocks as the live zoneinfo computes them', () => {
    const buddy = createBuddyAllocator(createPageAllocatorEnv(LIVE));
    expect(buddy.zoneSnapshot(0, ZONE_DMA).statThreshold).toBe(4);
    expect(buddy.zoneSnapshot(0, ZONE_DMA32).statThreshold).toBe(24);
    expect(buddy.zoneSnapshot(0, ZONE_NORMAL).statThreshold).toBe(20);
    const { buddy: t } = tiny();
    // DMA of tiny: one order-9 and three order-10 blocks = 3584 pages, as the live DMA zone.
    expect(t.zoneSnapshot(0, ZONE_DMA).nrFreePagesBlocks).toBe(3584);
  });
});

describe('the slow path: reclaim, __GFP_HIGH, __GFP_NORETRY, __GFP_NOFAIL', () => {
  /** Exhaust tiny with GFP_KERNEL: DMA32 ends at min (599), DMA at min + reserve (195 + 48). */
  function exhausted() {
    const t = tiny({ pcp: false });
    const held: number[] = [];
    for (;;) {
      const p = t.buddy.allocPages(GFP_KERNEL | __GFP_NOWARN, 0);
      if (p < 0) break;
      held.push(p);
    }
    expect(t.buddy.zoneSnapshot(0, ZONE_DMA32).free).toBe(599);
    expect(t.buddy.zoneSnapshot(0, ZONE_DMA).free).toBe(243);
    return { ...t, held };
  }

  it('__GFP_HIGH (blocking) may use half of min', () => {
    const { buddy } = exhausted();
    let n = 0;
    while (buddy.allocPages(GFP_KERNEL | __GFP_HIGH | __GFP_NOWARN, 0) >= 0) n++;
    // DMA32 down to min − min/2 = 300, DMA to 98 + 48.
    expect(buddy.zoneSnapshot(0, ZONE_DMA32).free).toBe(300);
    expect(buddy.zoneSnapshot(0, ZONE_DMA).free).toBe(146);
    expect(n).toBe(299 + 97);
  });

  it('direct reclaim calls the kernel’s hook, then retries; __GFP_NORETRY gives up after one round', () => {
    const { buddy, held } = exhausted();
    let calls = 0;
    // A shrinker that claims progress but frees nothing: reclaim goes on at most
    // MAX_RECLAIM_RETRIES (16) rounds, then the request fails.
    buddy.reclaimHook = () => {
      calls++;
      return 1;
    };
    expect(buddy.allocPages(GFP_KERNEL | __GFP_NOWARN, 0)).toBe(NO_PAGE);
    expect(calls).toBe(16);
    calls = 0;
    expect(buddy.allocPages(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN, 0)).toBe(NO_PAGE);
    expect(calls).toBe(1);
    // A non-blocking request never reclaims (and without __GFP_HIGH gets no reserve).
    calls = 0;
    expect(buddy.allocPages(GFP_NOWAIT, 0)).toBe(NO_PAGE);
    expect(calls).toBe(0);
    // A shrinker that gives a page back lets the retry succeed.
    buddy.reclaimHook = () => {
      calls++;
      buddy.freePages(held.pop()!, 0);
      return 1;
    };
    expect(buddy.allocPages(GFP_KERNEL, 0)).toBeGreaterThanOrEqual(0);
    expect(calls).toBe(1);
    // 1 (the failure that ended exhausted()) + 16 + 1 (NORETRY) + 1 (the successful retry)
    expect(buddy.stats.allocstall).toBe(19);
    expect(buddy.verify()).toEqual([]);
  });

  it('__GFP_NOFAIL falls back to the min reserve, then the deadlocked machine panics', () => {
    const { env, buddy } = exhausted();
    let n = 0;
    expect(() => {
      for (;;) {
        buddy.allocPages(GFP_KERNEL | __GFP_NOFAIL, 0);
        n++;
      }
    }).toThrow(KernelPanic);
    expect(n).toBe(299 + 97);
    expect(env.klog.grep('Out of memory and no killable processes...').length).toBe(1);
    expect(
      env.klog
        .records()
        .filter((r) => r.text === 'Kernel panic - not syncing: System is deadlocked on memory'),
    ).toHaveLength(1);
  });
});

describe('migrate-type fallback', () => {
  it('steals a single block, leaving the pageblock’s type, when it may not claim (__rmqueue_steal)', () => {
    // min_free_kbytes 0 lets GFP_KERNEL take every page.
    const env = createPageAllocatorEnv('tiny');
    const buddy = createBuddyAllocator(env, { pcp: false, minFreeKbytes: 0 });
    // Fill DMA32 with Unmovable pages (claiming its pageblocks), then free every other one:
    // only order-0 Unmovable blocks are left free there.
    const held: number[] = [];
    for (;;) {
      const p = buddy.allocPages(GFP_KERNEL | __GFP_NOWARN, 0);
      if (p < 0) break;
      held.push(p);
    }
    for (const p of held)
      if (env.memMap.zone[p] === ZONE_DMA32 && p % 2 === 0) buddy.freePages(p, 0);
    const dma32 = buddy.zoneSnapshot(0, ZONE_DMA32);
    expect(dma32.nrFreeByType[MIGRATE_MOVABLE]!.every((n) => n === 0)).toBe(true);
    expect(dma32.nrFree.slice(1).every((n) => n === 0)).toBe(true);
    const steals = buddy.stats.fallbackSteals;
    const claims = buddy.stats.pageblockClaims;
    // A small Movable request may not claim an Unmovable pageblock (can_steal_fallback()).
    const p = buddy.allocPages(GFP_HIGHUSER_MOVABLE, 0);
    expect(env.memMap.zone[p]).toBe(ZONE_DMA32);
    expect(env.memMap.migratetype(p)).toBe(MIGRATE_UNMOVABLE);
    expect(buddy.stats.fallbackSteals).toBe(steals + 1);
    expect(buddy.stats.pageblockClaims).toBe(claims);
    expect(buddy.verify()).toEqual([]);
  });

  it('claims a whole pageblock when half of it is free (try_to_steal_block)', () => {
    const { env, buddy } = tiny({ pcp: false });
    // GFP_KERNEL is Unmovable; every pageblock starts Movable; the first request claims.
    const p = buddy.allocPages(GFP_KERNEL, 3);
    expect(env.memMap.migratetype(p)).toBe(MIGRATE_UNMOVABLE);
    expect(buddy.stats.pageblockClaims).toBe(1);
    expect(buddy.stats.fallbackSteals).toBe(0);
  });
});

describe('per-CPU lists stay bounded', () => {
  it('drains a batch to the zone whenever a list reaches high (free_pcppages_bulk)', () => {
    const { buddy } = tiny();
    const held: number[] = [];
    for (let i = 0; i < 3000; i++) held.push(buddy.allocPages(GFP_KERNEL, 0));
    let maxCount = 0;
    for (const p of held) {
      buddy.freePages(p, 0);
      const ps = buddy.pageset(0, ZONE_DMA32, 0);
      maxCount = Math.max(maxCount, ps.count);
      expect(ps.count).toBeLessThanOrEqual(ps.highMax);
    }
    const ps = buddy.pageset(0, ZONE_DMA32, 0);
    expect(maxCount).toBeGreaterThan(ps.batch);
    expect(ps.count).toBeLessThan(ps.high);
    expect(buddy.zoneSnapshot(0, ZONE_DMA32).free + ps.count + buddy.pcpPages(0, ZONE_DMA)).toBe(
      buddy.nrFreePages(0, ZONE_DMA32) + buddy.pcpPages(0, ZONE_DMA),
    );
    expect(buddy.nrFreePages()).toBe(3998 + 12288);
    expect(buddy.verify()).toEqual([]);
  });
});

describe('show_mem() with what the layers above hold', () => {
  it('prints the anon, slab and page-table pages a kernel reports per node', () => {
    const env = createPageAllocatorEnv('tiny');
    const buddy = createBuddyAllocator(env);
    env.nodeMemStats = () => [
      { inactiveAnon: 3, slabReclaimable: 1, slabUnreclaimable: 2, pageTables: 5 },
    ];
    const seq = env.klog.nextSeq;
    buddy.showMem();
    const lines = env.klog.lines(seq);
    expect(lines.slice(0, 6)).toEqual([
      'Mem-Info:',
      'active_anon:0 inactive_anon:3 isolated_anon:0',
      ' active_file:0 inactive_file:0 isolated_file:0',
      ' unevictable:0 dirty:0 writeback:0',
      ' slab_reclaimable:1 slab_unreclaimable:2',
      ' mapped:0 shmem:0 pagetables:5',
    ]);
    expect(lines[9]).toMatch(
      /^Node 0 active_anon:0kB inactive_anon:12kB .* kernel_stack:0kB pagetables:20kB sec_pagetables:0kB all_unreclaimable\? no$/,
    );
  });
});
