import {
  __GFP_NOWARN,
  GFP_DMA,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL,
  MIGRATE_MOVABLE,
  NO_PAGE,
  NR_PAGE_ORDERS,
  ZONE_DMA,
  ZONE_DMA32,
} from '@mmsim/core';
import type { MachineSpec } from '@mmsim/numa';
import { describe, expect, it } from 'vitest';
import {
  type BitmapAllocator,
  createBitmapAllocator,
  createBuddyAllocator,
  createPageAllocatorEnv,
} from '../src/index.js';

// 'tiny': RAM is [1, 159) and [256, 16384) (x86 firmware holes at pfn 0 and 0x9f-0xff);
// ZONE_DMA spans [1, 4096), ZONE_DMA32 [4096, 16384); nothing is memblock-reserved.
function tiny(): BitmapAllocator {
  return createBitmapAllocator(createPageAllocatorEnv('tiny'));
}

const blocks = (a: BitmapAllocator, nid: number, zone: number): number[] =>
  Array.from({ length: NR_PAGE_ORDERS }, (_, o) => a.nrFreeBlocks(nid, zone, o));

describe('first-fit placement', () => {
  it('hands out the lowest naturally aligned free run of the preferred zone', () => {
    const a = tiny();
    expect(a.allocPages(GFP_KERNEL, 0)).toBe(4096);
    expect(a.allocPages(GFP_KERNEL, 0)).toBe(4097);
    expect(a.allocPages(GFP_KERNEL, 3)).toBe(4104);
    expect(a.allocPages(GFP_KERNEL, 1)).toBe(4098);
    expect(a.allocPages(GFP_KERNEL, 0)).toBe(4100);
    expect(a.allocPages(GFP_KERNEL, 2)).toBe(4112);
    expect(a.allocPages(GFP_KERNEL, 10)).toBe(5120);
    expect(a.allocPages(GFP_KERNEL, 5)).toBe(4128);
    expect(a.allocPages(GFP_KERNEL, 0)).toBe(4101);
    expect(a.verify()).toEqual([]);
  });

  it('reuses a freed block at once: the hint moves back to the lowest free word', () => {
    const a = tiny();
    const first = [0, 0, 3, 0].map((o) => a.allocPages(GFP_KERNEL, o));
    expect(first).toEqual([4096, 4097, 4104, 4098]);
    a.freePages(4097, 0);
    expect(a.allocPages(GFP_KERNEL, 0)).toBe(4097);
    a.freePages(4104, 3);
    expect(a.allocPages(GFP_KERNEL, 3)).toBe(4104);
    a.freePages(4096, 0);
    a.freePages(4097, 0);
    // 4096-4097 are free again and aligned for order 1; 4098 is still in use.
    expect(a.allocPages(GFP_KERNEL, 1)).toBe(4096);
    expect(a.verify()).toEqual([]);
  });

  it('skips the firmware hole of ZONE_DMA and finds aligned runs inside words', () => {
    const a = tiny();
    expect(a.allocPages(GFP_DMA, 0)).toBe(1);
    expect(a.allocPages(GFP_DMA, 1)).toBe(2);
    expect(a.allocPages(GFP_DMA, 0)).toBe(4);
    expect(a.allocPages(GFP_DMA, 3)).toBe(8);
    // 128..255 holds the hole 159..255; the first free 128-aligned run is 256.
    expect(a.allocPages(GFP_DMA, 7)).toBe(256);
    expect(a.allocPages(GFP_DMA, 4)).toBe(16);
    expect(a.allocPages(GFP_DMA, 10)).toBe(1024);
    expect(a.allocPages(GFP_DMA, 9)).toBe(512);
    expect(a.verify()).toEqual([]);
  });

  it('fills ZONE_DMA frame by frame in address order, then fails without falling back', () => {
    const a = tiny();
    const got: number[] = [];
    for (;;) {
      const pfn = a.allocPages(GFP_DMA | __GFP_NOWARN, 0);
      if (pfn === NO_PAGE) break;
      got.push(pfn);
    }
    const expected: number[] = [];
    for (let p = 1; p < 159; p++) expected.push(p);
    for (let p = 256; p < 4096; p++) expected.push(p);
    expect(got).toEqual(expected);
    expect(a.nrFreePages(0, ZONE_DMA)).toBe(0);
    expect(a.nrFreePages(0, ZONE_DMA32)).toBe(12288);
    a.freePages(3000, 0);
    a.freePages(100, 0);
    expect(a.allocPages(GFP_DMA, 0)).toBe(100);
    expect(a.allocPages(GFP_DMA, 0)).toBe(3000);
    for (let p = 512; p < 1024; p++) a.freePages(p, 0);
    expect(a.allocPages(GFP_DMA, 8)).toBe(512);
    expect(a.allocPages(GFP_DMA, 8)).toBe(768);
    expect(a.allocPages(GFP_DMA | __GFP_NOWARN, 0)).toBe(NO_PAGE);
    expect(a.verify()).toEqual([]);
  });

  it('has no watermarks: GFP_KERNEL empties the whole machine, falling back to ZONE_DMA', () => {
    const a = tiny();
    let pages = 0;
    for (let order = 10; order >= 0; order--) {
      while (a.allocPages(GFP_KERNEL | __GFP_NOWARN, order) !== NO_PAGE) pages += 2 ** order;
    }
    expect(pages).toBe(3998 + 12288);
    expect(a.nrFreePages()).toBe(0);
    expect(a.verify()).toEqual([]);
  });

  it('aligns to the pfn, not to the zone start (node 1 starts at pfn 8448)', () => {
    const spec: MachineSpec = {
      nodes: [
        { memory: '33M', cpus: 1 },
        { memory: '32M', cpus: 1 },
      ],
    };
    const a = createBitmapAllocator(createPageAllocatorEnv(spec));
    expect(a.env.machine.zone(1, ZONE_DMA32).startPfn).toBe(8448);
    expect(a.allocPages(GFP_KERNEL, 0, 1)).toBe(8448);
    expect(a.allocPages(GFP_KERNEL, 1, 1)).toBe(8450);
    expect(a.allocPages(GFP_KERNEL, 0, 1)).toBe(8449);
    expect(a.allocPages(GFP_KERNEL, 5, 1)).toBe(8480);
    expect(a.allocPages(GFP_KERNEL, 10, 1)).toBe(9216);
    expect(a.allocPages(GFP_HIGHUSER_MOVABLE, 10, 0)).toBe(4096);
    expect(a.verify()).toEqual([]);
  });
});

describe('nrFreeBlocks: free runs cut into the largest aligned blocks', () => {
  it('decomposes the free memory of a fresh tiny machine exactly', () => {
    const a = tiny();
    // [1,159): 1 2 4 8 16 32 64 then 128+16 144+8 152+4 156+2 158+1; [256,4096): 256 512 3*1024.
    expect(blocks(a, 0, ZONE_DMA)).toEqual([2, 2, 2, 2, 2, 1, 1, 0, 1, 1, 3]);
    // [4096,16384): 12*1024.
    expect(blocks(a, 0, ZONE_DMA32)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12]);
  });

  it('counts what a buddy allocator would show after boot, on every test machine', () => {
    const machines = [
      'tiny' as const,
      {
        nodes: [
          { memory: '48M', cpus: 1, movable: '16M' },
          { memory: '16M', cpus: 1 },
        ],
        reserved: [
          { start: '1M', size: '512K', name: 'kernel' },
          { start: 0x1801000, size: 0x3000, name: 'initrd' },
        ],
      },
    ];
    for (const m of machines) {
      const bitmap = createBitmapAllocator(createPageAllocatorEnv(m));
      const buddy = createBuddyAllocator(createPageAllocatorEnv(m));
      for (const z of bitmap.env.machine.zones) {
        expect(blocks(bitmap, z.nid, z.type), `node ${z.nid} ${z.name}`).toEqual(
          Array.from({ length: NR_PAGE_ORDERS }, (_, o) => buddy.nrFreeBlocks(z.nid, z.type, o)),
        );
      }
    }
  });

  it('splits a run at the allocated frames and merges it back when they are freed', () => {
    const a = tiny();
    expect(a.allocPages(GFP_KERNEL, 0)).toBe(4096);
    // [4097,16384): 4097 4098+2 4100+4 … 4608+512, then 11*1024.
    expect(blocks(a, 0, ZONE_DMA32)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 11]);
    const mid = a.allocPages(GFP_KERNEL, 10);
    expect(mid).toBe(5120);
    expect(blocks(a, 0, ZONE_DMA32)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 10]);
    a.freePages(4096, 0);
    expect(blocks(a, 0, ZONE_DMA32)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11]);
    a.freePages(mid, 10);
    expect(blocks(a, 0, ZONE_DMA32)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12]);
  });
});

describe('reports', () => {
  it('describes every zone with zero watermarks and all free blocks Movable', () => {
    const a = tiny();
    const s = a.zoneSnapshot(0, ZONE_DMA);
    expect(s).toMatchObject({
      nid: 0,
      zoneType: ZONE_DMA,
      name: 'DMA',
      startPfn: 1,
      spanned: 4095,
      present: 3998,
      managed: 3998,
      free: 3998,
      boost: 0,
      min: 0,
      low: 0,
      high: 0,
      promo: 0,
      nrReservedHighatomic: 0,
      freePcp: 0,
      localPcp: 0,
      lowmemReserve: [0, 0, 0, 0, 0],
      nrFree: [2, 2, 2, 2, 2, 1, 1, 0, 1, 1, 3],
      pageblocksByType: [0, 8, 0, 0, 0],
    });
    expect(s.nrFreeByType[MIGRATE_MOVABLE]).toEqual(s.nrFree);
    expect(
      s.nrFreeByType
        .filter((_, mt) => mt !== MIGRATE_MOVABLE)
        .flat()
        .every((n) => n === 0),
    ).toBe(true);
    expect(a.zoneSnapshot(0, ZONE_DMA32).pageblocksByType).toEqual([0, 24, 0, 0, 0]);
  });

  it('prints the buddyinfo-style line of show_mem() on allocation failure', () => {
    const a = tiny();
    const seq = a.env.klog.nextSeq;
    expect(a.allocPages(GFP_KERNEL, 10, 0)).toBe(4096);
    for (let i = 0; i < 11; i++) a.allocPages(GFP_KERNEL, 10);
    // DMA32 is empty now; DMA has 3 order-10 blocks.
    for (let i = 0; i < 3; i++) expect(a.allocPages(GFP_KERNEL, 10)).toBe(1024 * (i + 1));
    expect(a.allocPages(GFP_KERNEL, 10)).toBe(NO_PAGE);
    const lines = a.env.klog.lines(seq);
    expect(lines[0]).toBe(
      'swapper/0: page allocation failure: order:10, mode:0xcc0(GFP_KERNEL), nodemask=(null),cpuset=/,mems_allowed=0',
    );
    expect(lines).toContain(
      'Node 0 DMA: 2*4kB (M) 2*8kB (M) 2*16kB (M) 2*32kB (M) 2*64kB (M) 1*128kB (M) 1*256kB (M) ' +
        '0*512kB 1*1024kB (M) 1*2048kB (M) 0*4096kB = 3704kB',
    );
    expect(lines).toContain(
      'Node 0 DMA32: 0*4kB 0*8kB 0*16kB 0*32kB 0*64kB 0*128kB 0*256kB 0*512kB 0*1024kB 0*2048kB ' +
        '0*4096kB = 0kB',
    );
    expect(lines).toContain(
      'Node 0 DMA free:3704kB boost:0kB min:0kB low:0kB high:0kB reserved_highatomic:0KB active_anon:0kB inactive_anon:0kB active_file:0kB inactive_file:0kB unevictable:0kB writepending:0kB present:15992kB managed:15992kB mlocked:0kB bounce:0kB free_pcp:0kB local_pcp:0kB free_cma:0kB',
    );
  });

  it('drain() is a no-op and verify() finds a corrupted bitmap', () => {
    const a = tiny();
    const pfn = a.allocPages(GFP_KERNEL, 2);
    a.drain();
    expect(a.nrFreePages()).toBe(3998 + 12288 - 4);
    expect(a.verify()).toEqual([]);
    // A page the allocator still counts as allocated loses its reference behind its back.
    a.env.memMap.refcount[pfn] = 0;
    expect(a.verify().length).toBeGreaterThan(0);
    a.env.memMap.refcount[pfn] = 1;
    expect(a.verify()).toEqual([]);
  });
});
