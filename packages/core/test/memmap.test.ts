import { describe, expect, it } from 'vitest';
import { MemMap, PG_head, PG_reserved, PGTY_buddy, PGTY_slab } from '../src/memmap.js';
import { MIGRATE_MOVABLE, MIGRATE_UNMOVABLE, ZONE_DMA32 } from '../src/zone.js';

describe('MemMap: struct page as typed arrays', () => {
  it('uses the bit numbers of include/linux/page-flags.h', () => {
    expect(PG_head).toBe(6);
    expect(PG_reserved).toBe(13);
    expect(PGTY_buddy).toBe(0xf0);
    expect(PGTY_slab).toBe(0xf5);
  });

  it('keeps zone, node and flags per pfn and migrate type per pageblock', () => {
    const mm = new MemMap(4096);
    mm.initRange(1024, 2048, 1, ZONE_DMA32);
    expect(mm.zone[1500]).toBe(ZONE_DMA32);
    expect(mm.node[1500]).toBe(1);
    expect(mm.node[1000]).toBe(0);
    mm.setFlag(7, PG_reserved);
    expect(mm.isReserved(7)).toBe(true);
    mm.clearFlag(7, PG_reserved);
    expect(mm.isReserved(7)).toBe(false);
    mm.setPageblockMigratetype(600, MIGRATE_MOVABLE);
    expect(mm.migratetype(512)).toBe(MIGRATE_MOVABLE);
    expect(mm.migratetype(1023)).toBe(MIGRATE_MOVABLE);
    expect(mm.migratetype(1024)).toBe(MIGRATE_UNMOVABLE);
  });

  it('dumps a page as mm/debug.c dump_page() does', () => {
    const mm = new MemMap(0x2000);
    mm.initRange(0, 0x2000, 0, ZONE_DMA32);
    mm.pageType[0x1234] = PGTY_buddy;
    mm.order[0x1234] = 2;
    expect(mm.dumpPage(0x1234, 'nonzero mapcount')).toEqual([
      'page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x1234',
      'flags: 0x0(node=0|zone=1)',
      'page_type: f0(buddy)',
      'page dumped because: nonzero mapcount',
    ]);
    mm.refcount[0x1000] = 1;
    mm.setFlag(0x1000, PG_head);
    mm.setFlag(0x1000, PG_reserved);
    mm.order[0x1000] = 3;
    expect(mm.dumpPage(0x1000)).toEqual([
      'page: refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x1000',
      'head: order:3 mapcount:0 entire_mapcount:0 nr_pages_mapped:0 pincount:0',
      'flags: 0x2040(reserved|head|node=0|zone=1)',
    ]);
  });

  it('rejects pfns outside the map', () => {
    const mm = new MemMap(16);
    expect(() => mm.checkPfn(16)).toThrow(/pfn 16 is outside the memmap \[0, 16\)/);
    expect(() => mm.checkPfn(-1)).toThrow(RangeError);
    expect(() => new MemMap(0)).toThrow(RangeError);
  });
});
