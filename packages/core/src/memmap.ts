/**
 * MemMap — `struct page` for every frame, as typed arrays indexed by pfn.
 *
 * Linux keeps a 64-byte `struct page` per frame (the memmap / vmemmap array,
 * include/linux/mm_types.h). Here each field is its own typed array so that the allocators'
 * hot paths touch plain numbers and allocate nothing. Fields and names follow Linux:
 *
 *   flags        page->flags, the PG_* bits of include/linux/page-flags.h (enum pageflags)
 *   pageType     the top byte of page->page_type (PGTY_buddy, PGTY_slab, PGTY_table…) — since
 *                6.10 "buddy" and "slab" are page *types*, not flags; 0 means no type
 *   order        page_private for a free buddy block (buddy_order) and the compound order on
 *                a head page (folio_order); our allocators also record the allocation order
 *   refcount     page->_refcount
 *   mapcount     page_mapcount(): the number of page-table mappings (Linux stores this minus
 *                one in _mapcount; we store the count itself, 0 = unmapped)
 *   zone, node   page_zonenum() / page_to_nid(); Linux packs them into the top of page->flags
 *   owner        who owns the page beyond the page allocator: a slab cache id (>= 1) for slab
 *                pages (page->slab_cache), 0 for none
 *   lruNext/Prev page->lru / buddy_list / pcp_list: the intrusive list links, as pfns (-1 ends
 *                a list); meaningful only while the page is on a list
 *   tailOf       page->compound_head of a tail page: head pfn + 1 (0 = not a tail page); set
 *                for the tails of a __GFP_COMP block (prep_compound_page) and cleared on free
 *
 * The migrate type is per pageblock (pageblock_order = 9), as Linux keeps it in the pageblock
 * bitmap (include/linux/pageblock-flags.h), not per page.
 *
 * Host cost: 28 bytes per frame plus one per pageblock — 448 MiB of address space for a
 * 64 GiB machine, of which only what boot and allocation touch becomes resident.
 */
import { PAGEBLOCK_ORDER, type Pfn } from './addr.js';
import { MIGRATETYPE_NAMES, ZONE_NAMES } from './zone.js';

// include/linux/page-flags.h: enum pageflags (x86-64, CONFIG_MMU; MEMORY_FAILURE/PAGE_IDLE off).
export const PG_locked = 0;
export const PG_writeback = 1;
export const PG_referenced = 2;
export const PG_uptodate = 3;
export const PG_dirty = 4;
export const PG_lru = 5;
export const PG_head = 6;
export const PG_waiters = 7;
export const PG_active = 8;
export const PG_workingset = 9;
export const PG_owner_priv_1 = 10;
export const PG_owner_2 = 11;
export const PG_arch_1 = 12;
export const PG_reserved = 13;
export const PG_private = 14;
export const PG_private_2 = 15;
export const PG_reclaim = 16;
export const PG_swapbacked = 17;
export const PG_unevictable = 18;
export const PG_mlocked = 19;
export const __NR_PAGEFLAGS = 20;

/** include/trace/events/mmflags.h: __def_pageflag_names, in print order. */
export const PAGEFLAG_NAMES: readonly { readonly bit: number; readonly name: string }[] = [
  { bit: PG_locked, name: 'locked' },
  { bit: PG_waiters, name: 'waiters' },
  { bit: PG_referenced, name: 'referenced' },
  { bit: PG_uptodate, name: 'uptodate' },
  { bit: PG_dirty, name: 'dirty' },
  { bit: PG_lru, name: 'lru' },
  { bit: PG_active, name: 'active' },
  { bit: PG_workingset, name: 'workingset' },
  { bit: PG_owner_priv_1, name: 'owner_priv_1' },
  { bit: PG_owner_2, name: 'owner_2' },
  { bit: PG_arch_1, name: 'arch_1' },
  { bit: PG_reserved, name: 'reserved' },
  { bit: PG_private, name: 'private' },
  { bit: PG_private_2, name: 'private_2' },
  { bit: PG_writeback, name: 'writeback' },
  { bit: PG_head, name: 'head' },
  { bit: PG_reclaim, name: 'reclaim' },
  { bit: PG_swapbacked, name: 'swapbacked' },
  { bit: PG_unevictable, name: 'unevictable' },
  { bit: PG_mlocked, name: 'mlocked' },
];

// include/linux/page-flags.h: enum pagetype (the value is page_type >> 24).
export const PGTY_NONE = 0;
export const PGTY_buddy = 0xf0;
export const PGTY_offline = 0xf1;
export const PGTY_table = 0xf2;
export const PGTY_guard = 0xf3;
export const PGTY_hugetlb = 0xf4;
export const PGTY_slab = 0xf5;
export const PGTY_zsmalloc = 0xf6;
export const PGTY_unaccepted = 0xf7;

/** mm/debug.c: page_type_name(). */
export const PAGE_TYPE_NAMES: Readonly<Record<number, string>> = {
  [PGTY_buddy]: 'buddy',
  [PGTY_offline]: 'offline',
  [PGTY_table]: 'table',
  [PGTY_guard]: 'guard',
  [PGTY_hugetlb]: 'hugetlb',
  [PGTY_slab]: 'slab',
  [PGTY_zsmalloc]: 'zsmalloc',
  [PGTY_unaccepted]: 'unaccepted',
};

/** A list link value meaning "none". */
export const NO_PFN = -1;

export class MemMap {
  readonly nrPages: number;
  readonly flags: Uint32Array;
  readonly pageType: Uint8Array;
  readonly order: Uint8Array;
  readonly refcount: Int32Array;
  readonly mapcount: Int32Array;
  readonly zone: Uint8Array;
  readonly node: Uint8Array;
  readonly owner: Int32Array;
  readonly lruNext: Int32Array;
  readonly lruPrev: Int32Array;
  /** compound_head of tail pages: head pfn + 1, 0 for pages that are not tails. */
  readonly tailOf: Int32Array;
  /** Migrate type per pageblock (index pfn >> PAGEBLOCK_ORDER). */
  readonly pageblockMigratetype: Uint8Array;

  constructor(nrPages: number) {
    if (!Number.isSafeInteger(nrPages) || nrPages <= 0 || nrPages > 0x7fffffff) {
      throw new RangeError(`MemMap of ${nrPages} pages: expected 1..2^31-1 frames`);
    }
    this.nrPages = nrPages;
    this.flags = new Uint32Array(nrPages);
    this.pageType = new Uint8Array(nrPages);
    this.order = new Uint8Array(nrPages);
    this.refcount = new Int32Array(nrPages);
    this.mapcount = new Int32Array(nrPages);
    this.zone = new Uint8Array(nrPages);
    this.node = new Uint8Array(nrPages);
    // Fresh typed arrays are zero and untouched: only what boot and allocation write becomes
    // resident host memory, which is what lets a 64 GiB machine boot in a few hundred MiB.
    this.owner = new Int32Array(nrPages);
    this.lruNext = new Int32Array(nrPages);
    this.lruPrev = new Int32Array(nrPages);
    this.tailOf = new Int32Array(nrPages);
    this.pageblockMigratetype = new Uint8Array(Math.ceil(nrPages / (1 << PAGEBLOCK_ORDER)));
  }

  /** Throw a RangeError unless pfn is a frame of this map. */
  checkPfn(pfn: Pfn): void {
    if (!(pfn >= 0 && pfn < this.nrPages && Math.floor(pfn) === pfn)) {
      throw new RangeError(`pfn ${pfn} is outside the memmap [0, ${this.nrPages})`);
    }
  }

  /** memmap_init_range(): set zone and node for a range of frames (struct page init). */
  initRange(startPfn: Pfn, endPfn: Pfn, nid: number, zone: number): void {
    this.zone.fill(zone, startPfn, endPfn);
    this.node.fill(nid, startPfn, endPfn);
  }

  testFlag(pfn: Pfn, bit: number): boolean {
    return (this.flags[pfn]! & (1 << bit)) !== 0;
  }
  setFlag(pfn: Pfn, bit: number): void {
    this.flags[pfn]! |= 1 << bit;
  }
  clearFlag(pfn: Pfn, bit: number): void {
    this.flags[pfn]! &= ~(1 << bit);
  }

  /** PageBuddy() */
  isBuddy(pfn: Pfn): boolean {
    return this.pageType[pfn] === PGTY_buddy;
  }
  /** PageSlab() */
  isSlab(pfn: Pfn): boolean {
    return this.pageType[pfn] === PGTY_slab;
  }
  /** PageReserved() */
  isReserved(pfn: Pfn): boolean {
    return (this.flags[pfn]! & (1 << PG_reserved)) !== 0;
  }
  /** PageHead() */
  isHead(pfn: Pfn): boolean {
    return (this.flags[pfn]! & (1 << PG_head)) !== 0;
  }

  /** PageTail() */
  isTail(pfn: Pfn): boolean {
    return this.tailOf[pfn] !== 0;
  }
  /** compound_head(): the head of the compound page `pfn` belongs to (itself if not a tail). */
  compoundHead(pfn: Pfn): Pfn {
    const t = this.tailOf[pfn]!;
    return t === 0 ? pfn : t - 1;
  }
  /** mm/page_alloc.c prep_compound_page(): PG_head, the order, and every tail's head link. */
  prepCompoundPage(head: Pfn, order: number): void {
    this.flags[head]! |= 1 << PG_head;
    this.order[head] = order;
    this.tailOf.fill(head + 1, head + 1, head + (1 << order));
  }
  /** Undo prepCompoundPage() when the block is freed (free_tail_page_prepare()). */
  clearCompoundPage(head: Pfn, order: number): void {
    this.flags[head]! &= ~(1 << PG_head);
    this.tailOf.fill(0, head + 1, head + (1 << order));
  }

  /** get_pageblock_migratetype() */
  migratetype(pfn: Pfn): number {
    return this.pageblockMigratetype[pfn >>> PAGEBLOCK_ORDER]!;
  }
  /** set_pageblock_migratetype() */
  setPageblockMigratetype(pfn: Pfn, mt: number): void {
    this.pageblockMigratetype[pfn >>> PAGEBLOCK_ORDER] = mt;
  }

  /** The names of the set PG_* flags, as %pGp prints them ('reserved|head'). */
  flagNames(pfn: Pfn): string[] {
    const f = this.flags[pfn]!;
    const out: string[] = [];
    for (const { bit, name } of PAGEFLAG_NAMES) if (f & (1 << bit)) out.push(name);
    return out;
  }

  /**
   * mm/debug.c: dump_page() — the lines Linux prints for a page, without the raw hex words
   * (our struct page has no single memory image). `reason` adds "page dumped because: …".
   */
  dumpPage(pfn: Pfn, reason?: string, refcount?: number): string[] {
    this.checkPfn(pfn);
    const lines: string[] = [];
    const pt = this.pageType[pfn]!;
    // A typed page prints mapcount 0 (page_mapcount_is_type()).
    const mapcount = pt ? 0 : this.mapcount[pfn]!;
    lines.push(
      `page: refcount:${refcount ?? this.refcount[pfn]} mapcount:${mapcount} mapping:0000000000000000 index:0x0 pfn:0x${pfn.toString(16)}`,
    );
    if (this.isHead(pfn)) {
      lines.push(
        `head: order:${this.order[pfn]} mapcount:${mapcount} entire_mapcount:0 nr_pages_mapped:0 pincount:0`,
      );
    }
    const names = this.flagNames(pfn);
    names.push(`node=${this.node[pfn]}`, `zone=${this.zone[pfn]}`);
    lines.push(`flags: 0x${this.flags[pfn]!.toString(16)}(${names.join('|')})`);
    if (pt) lines.push(`page_type: ${pt.toString(16)}(${PAGE_TYPE_NAMES[pt] ?? 'unknown'})`);
    if (reason) lines.push(`page dumped because: ${reason}`);
    return lines;
  }

  /** A readable one-page summary for tools and tests (not a Linux format). */
  describe(pfn: Pfn): {
    pfn: number;
    flags: string[];
    pageType: string | null;
    order: number;
    refcount: number;
    mapcount: number;
    zone: string;
    node: number;
    migratetype: string;
    owner: number;
  } {
    this.checkPfn(pfn);
    const pt = this.pageType[pfn]!;
    return {
      pfn,
      flags: this.flagNames(pfn),
      pageType: pt ? (PAGE_TYPE_NAMES[pt] ?? 'unknown') : null,
      order: this.order[pfn]!,
      refcount: this.refcount[pfn]!,
      mapcount: this.mapcount[pfn]!,
      zone: ZONE_NAMES[this.zone[pfn]!] ?? '?',
      node: this.node[pfn]!,
      migratetype: MIGRATETYPE_NAMES[this.migratetype(pfn)] ?? '?',
      owner: this.owner[pfn]!,
    };
  }
}
