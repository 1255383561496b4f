import { GFP_KERNEL, MIGRATE_TYPES, NR_PAGE_ORDERS, ZONE_DMA, ZONE_DMA32 } from '@mmsim/core';
import { boot } from '@mmsim/kapi';
import { describe, expect, it } from 'vitest';
import { buddyinfo, pagetypeinfo, populatedZones, zoneinfo } from '../src/index.js';
import { bootLive, lines, reference, shape } from './helpers.js';

const k = bootLive();
for (let i = 0; i < 50; i++) k.alloc_pages(GFP_KERNEL, i % 4);

describe('/proc/buddyinfo', () => {
  const out = buddyinfo(k);
  it('has the reference layout: zone names right-aligned in 8, counts in "%6lu "', () => {
    const ref = lines(reference('buddyinfo.txt'));
    const got = lines(out);
    expect(got.map((l) => l.slice(0, 21))).toEqual(ref.map((l) => l.slice(0, 21)));
    expect(got.map((l) => l.length)).toEqual(ref.map((l) => l.length));
    expect(shape(out)).toBe(shape(reference('buddyinfo.txt')));
  });
  it('prints the free blocks per order the allocator holds', () => {
    for (const line of lines(out)) {
      const m = /^Node (\d+), zone +(\w+) ((?: +\d+){11}) $/.exec(line);
      expect(m).not.toBeNull();
      const z = populatedZones(k).find((s) => s.name === m![2] && s.nid === Number(m![1]))!;
      expect(m![3]!.trim().split(/ +/).map(Number)).toEqual(z.nrFree);
    }
  });
});

describe('/proc/pagetypeinfo', () => {
  const out = pagetypeinfo(k);
  it('has the reference header lines and layout', () => {
    const ref = reference('pagetypeinfo.txt');
    expect(lines(out).slice(0, 4)).toEqual(lines(ref).slice(0, 4));
    expect(shape(out)).toBe(shape(ref));
    expect(lines(out).map((l) => l.length)).toEqual(lines(ref).map((l) => l.length));
  });
  it('sums per migrate type to the buddyinfo counts, and counts every pageblock', () => {
    for (const z of populatedZones(k)) {
      for (let o = 0; o < NR_PAGE_ORDERS; o++) {
        let n = 0;
        for (let mt = 0; mt < MIGRATE_TYPES; mt++) n += z.nrFreeByType[mt]![o]!;
        expect(n).toBe(z.nrFree[o]);
      }
      const row = lines(out).find((l) => l.startsWith(`Node 0, zone ${z.name.padStart(8)} `))!;
      expect(row.trim().split(/ +/).slice(4).map(Number)).toEqual(z.pageblocksByType);
    }
  });
});

describe('/proc/zoneinfo', () => {
  const out = zoneinfo(k);
  const ref = reference('zoneinfo.txt');
  it('has the reference structure: every field, indentation and zone, numbers aside', () => {
    expect(out.replace(/\d+/g, 'N')).toBe(ref.replace(/\d+/g, 'N'));
  });
  /** The block of one zone. */
  const block = (text: string, name: string): string => {
    const start = text.indexOf(`Node 0, zone ${name.padStart(8)}`);
    const end = text.indexOf('\nNode ', start + 1);
    return text.slice(start, end < 0 ? undefined : end);
  };
  const field = (b: string, name: string): string =>
    new RegExp(`\\n +${name}:? +([^\\n]+)`).exec(b)![1]!;
  it('reproduces the live machine’s watermarks, spans and protection for DMA and DMA32', () => {
    for (const zone of ['DMA', 'DMA32']) {
      for (const f of [
        'min',
        'low',
        'high',
        'promo',
        'spanned',
        'present',
        'managed',
        'protection',
      ]) {
        expect(field(block(out, zone), f), `${zone} ${f}`).toBe(field(block(ref, zone), f));
      }
      expect(field(block(out, zone), 'start_pfn')).toBe(field(block(ref, zone), 'start_pfn'));
    }
  });
  it('prints the allocator’s free pages, pcp sizes and NUMA counters', () => {
    for (const z of populatedZones(k)) {
      const b = block(out, z.name);
      expect(Number(field(b, 'pages free'))).toBe(z.free);
      expect(Number(field(b, 'nr_free_pages'))).toBe(z.free);
      expect(Number(field(b, 'nr_free_pages_blocks'))).toBe(z.nrFreePagesBlocks);
      const numa = k.env.numaStat.zoneCounters(z.nid * 5 + z.zoneType);
      expect(Number(field(b, 'numa_hit'))).toBe(numa.numa_hit);
      const cpus = [...b.matchAll(/count: +(\d+)\n +high: +(\d+)\n +batch: +(\d+)/g)];
      expect(cpus).toHaveLength(2);
      const pcp = (
        k.pages as unknown as {
          pageset(n: number, z: number, c: number): { count: number; batch: number };
        }
      ).pageset(0, z.zoneType, 1);
      expect(Number(cpus[1]![1])).toBe(pcp.count);
      expect(Number(cpus[1]![3])).toBe(pcp.batch);
    }
    expect(populatedZones(k).some((z) => z.free < z.managed)).toBe(true);
  });
  it('reproduces the live pcp batch/high_min/high_max of DMA and DMA32', () => {
    for (const zone of ['DMA', 'DMA32']) {
      for (const f of ['batch', 'high_min', 'high_max', 'vm stats threshold'])
        expect(field(block(out, zone), f)).toBe(field(block(ref, zone), f));
    }
    expect(ZONE_DMA + ZONE_DMA32).toBe(1);
  });
  it('prints the per-node stats once, with the first populated zone', () => {
    expect(out.match(/per-node stats/g)).toHaveLength(1);
    expect(Number(field(out, 'nr_page_table_pages'))).toBe(k.pageTablePages);
  });
});

describe('other machines and allocators', () => {
  it('prints the node stats once per node on a NUMA machine, zones in node order', () => {
    const s = boot({ machine: 'server' });
    const out = zoneinfo(s);
    expect(out.match(/per-node stats/g)).toHaveLength(2);
    expect(out.match(/^Node \d, zone +\w+$/gm)).toEqual([
      'Node 0, zone      DMA',
      'Node 0, zone    DMA32',
      'Node 0, zone   Normal',
      'Node 0, zone  Movable',
      'Node 0, zone   Device',
      'Node 1, zone      DMA',
      'Node 1, zone    DMA32',
      'Node 1, zone   Normal',
      'Node 1, zone  Movable',
      'Node 1, zone   Device',
    ]);
    expect(lines(buddyinfo(s)).map((l) => l.slice(0, 21))).toEqual(
      populatedZones(s).map((z) => `Node ${z.nid}, zone ${z.name.padStart(8)}`),
    );
  });
  it('renders the zone files from the bitmap allocator’s snapshots too', () => {
    const b = boot({ machine: 'tiny', pageAllocator: 'bitmap' });
    const free = populatedZones(b).reduce((n, z) => n + z.free, 0);
    expect(free).toBeGreaterThan(0);
    expect(zoneinfo(b)).toContain(`pages free     ${populatedZones(b)[0]!.free}`);
    expect(pagetypeinfo(b)).toMatch(/^Page block order: 9\n/);
    expect(buddyinfo(b).split('\n')[0]).toMatch(/^Node 0, zone +\w+(?: +\d+){11} $/);
  });
});
