import { GFP_KERNEL, PAGE_SIZE, SLAB_RECLAIM_ACCOUNT } from '@mmsim/core';
import { boot } from '@mmsim/kapi';
import { describe, expect, it } from 'vitest';
import {
  MEMINFO_NAMES,
  meminfo,
  nodePages,
  populatedZones,
  totalreservePages,
  VMSTAT_NAMES,
  vmallocinfo,
  vmstat,
  zoneinfo,
} from '../src/index.js';
import { bootLive, lines, reference } from './helpers.js';

/** Parse /proc/meminfo as free(1) and procps do: "Name: value [kB]". */
const parseMeminfo = (text: string): Map<string, number> =>
  new Map(
    lines(text).map((l) => {
      const m = /^([^:]+): +(\d+)( kB)?$/.exec(l)!;
      return [m[1]!, Number(m[2])];
    }),
  );

describe('/proc/meminfo', () => {
  const k = bootLive();
  const c = k.kmem_cache_create('ext4_inode_cache', 1000, 0, SLAB_RECLAIM_ACCOUNT)!;
  for (let i = 0; i < 100; i++) k.kmem_cache_alloc(c, GFP_KERNEL);
  for (let i = 0; i < 500; i++) k.kmalloc(200, GFP_KERNEL);
  k.vmalloc(5 * PAGE_SIZE);
  const out = meminfo(k);
  const v = parseMeminfo(out);

  it('prints every line of the reference, in its order, in its columns', () => {
    const ref = lines(reference('meminfo.txt'));
    expect([...v.keys()]).toEqual(ref.map((l) => l.slice(0, l.indexOf(':'))));
    expect([...v.keys()]).toEqual(MEMINFO_NAMES);
    const got = lines(out);
    got.forEach((l, i) => {
      // Every line ends at the same column as the reference's (values of up to 8 digits).
      expect(l.length, l).toBe(ref[i]!.length);
    });
  });
  it('computes MemTotal, MemFree and MemAvailable from the zones', () => {
    const zones = populatedZones(k);
    expect(v.get('MemTotal')).toBe(zones.reduce((n, z) => n + z.managed, 0) * 4);
    expect(v.get('MemTotal')).toBe(5073108); // the live node's MemTotal before deferred init
    const free = zones.reduce((n, z) => n + z.free, 0);
    expect(v.get('MemFree')).toBe(free * 4);
    const low = zones.reduce((n, z) => n + z.low, 0);
    const recl = v.get('SReclaimable')! / 4;
    const avail = free - totalreservePages(zones) + recl - Math.min(Math.floor(recl / 2), low);
    expect(v.get('MemAvailable')).toBe(avail * 4);
    expect(v.get('CommitLimit')).toBe(Math.floor(v.get('MemTotal')! / 4 / 2) * 4);
  });
  it('splits slab pages by SLAB_RECLAIM_ACCOUNT', () => {
    let recl = 0;
    let unrecl = 0;
    for (const cache of k.slab.caches()) {
      const s = k.slab.cacheInfo(cache);
      const kb = s.num_slabs * (1 << s.cache_order) * 4;
      if (cache.flags & SLAB_RECLAIM_ACCOUNT) recl += kb;
      else unrecl += kb;
    }
    expect(recl).toBeGreaterThan(0);
    expect(v.get('SReclaimable')).toBe(recl);
    expect(v.get('KReclaimable')).toBe(recl);
    expect(v.get('SUnreclaim')).toBe(unrecl);
    expect(v.get('Slab')).toBe(recl + unrecl);
  });
  it('reports page tables, vmalloc and the direct map', () => {
    expect(v.get('PageTables')).toBe(k.pageTablePages * 4);
    expect(v.get('VmallocTotal')).toBe(34359738367);
    expect(v.get('VmallocUsed')).toBe(5 * 4);
    expect(v.get('VmallocChunk')).toBe(0);
    const dm = v.get('DirectMap4k')! + v.get('DirectMap2M')! + v.get('DirectMap1G')!;
    expect(dm).toBe(k.machine.totalPages * 4);
    expect(v.get('Hugepagesize')).toBe(2048);
    expect(out).toMatch(/\nHugePages_Total: {7}0\n/);
  });
});

describe('/proc/vmallocinfo', () => {
  it('prints one line per area as mm/vmalloc.c does', () => {
    const k = boot({ machine: 'tiny' });
    k.vmalloc(4 * PAGE_SIZE, 'kernel_clone');
    expect(vmallocinfo(k)).toMatch(
      /^0xffffc9000\w{7}-0xffffc9000\w{7} {3}20480 kernel_clone\+0x0\/0x100 pages=4 vmalloc N0=4\n$/,
    );
  });
});

describe('/proc/vmstat', () => {
  const k = bootLive();
  for (let i = 0; i < 64; i++) k.alloc_pages(GFP_KERNEL, 0);
  const out = vmstat(k);
  const v = new Map(lines(out).map((l) => l.split(' ') as [string, string]));

  it('prints the reference counters in the reference order, "name value"', () => {
    const ref = lines(reference('vmstat.txt')).map((l) => l.split(' ')[0]);
    expect([...v.keys()]).toEqual(ref);
    expect([...v.keys()]).toEqual(VMSTAT_NAMES);
    for (const x of v.values()) expect(x).toMatch(/^\d+$/);
  });
  it('takes the free pages, NUMA, page-allocator and slab counters from the simulator', () => {
    const zones = populatedZones(k);
    expect(Number(v.get('nr_free_pages'))).toBe(zones.reduce((n, z) => n + z.free, 0));
    const nc = k.env.numaStat.nodeCounters(0);
    expect(Number(v.get('numa_hit'))).toBe(nc.numa_hit);
    expect(Number(v.get('numa_local'))).toBe(nc.local_node);
    const st = (k.pages as unknown as { stats: { pgalloc: Float64Array; pgfree: number } }).stats;
    expect(Number(v.get('pgalloc_normal'))).toBe(st.pgalloc[2]);
    expect(Number(v.get('pgalloc_normal'))).toBeGreaterThanOrEqual(64);
    expect(Number(v.get('pgfree'))).toBe(st.pgfree);
    expect(Number(v.get('nr_page_table_pages'))).toBe(k.pageTablePages);
    const slabPages = k.slab
      .caches()
      .map((c) => k.slab.cacheInfo(c))
      .reduce((n, s) => n + s.num_slabs * (1 << s.cache_order), 0);
    expect(Number(v.get('nr_slab_unreclaimable')) + Number(v.get('nr_slab_reclaimable'))).toBe(
      slabPages,
    );
  });
  it('sizes the boot memmap as the reference (192 sections of 128 MiB: 98304 pages)', () => {
    const ref = new Map(
      lines(reference('vmstat.txt')).map((l) => l.split(' ') as [string, string]),
    );
    expect(v.get('nr_memmap_boot_pages')).toBe(ref.get('nr_memmap_boot_pages'));
  });
});

describe('slab pages per node', () => {
  it('walks struct page on a NUMA machine and agrees with the caches’ counts', () => {
    const s = boot({ machine: 'server' });
    for (let i = 0; i < 200; i++) s.kmalloc_node(512, GFP_KERNEL, 1);
    for (let i = 0; i < 200; i++) s.kmalloc_node(64, GFP_KERNEL, 0);
    const pages = nodePages(s);
    const total = s.slab
      .caches()
      .map((c) => s.slab.cacheInfo(c))
      .reduce((n, x) => n + (x.num_slabs << x.cache_order), 0);
    expect(pages.slabUnreclaimable[0]! + pages.slabUnreclaimable[1]!).toBe(total);
    expect(pages.slabUnreclaimable[1]).toBeGreaterThanOrEqual(200 / 16);
    const zi = zoneinfo(s);
    const perNode = [...zi.matchAll(/nr_slab_unreclaimable (\d+)/g)].map((m) => Number(m[1]));
    expect(perNode).toEqual(pages.slabUnreclaimable);
  });
});
