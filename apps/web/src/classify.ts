/**
 * What each physical page is, for the memory map: one pass over `struct page` (MemMap) and
 * the structures that own pages without marking them there.
 *
 * Linux marks a free buddy block's first page PageBuddy, a slab's pages PageSlab and a
 * page-table page PageTable (page types since 6.10). Vmalloc pages and a process's anonymous
 * pages carry no mark of their own, so they are found the way tools/mm/page-types.c cannot
 * but a kernel can: by reading each vmalloc area's page array (vm_struct->pages) and by
 * walking every process's page tables to their leaves.
 *
 * Cold path: run after each action, it skips a free buddy block 2^order pages at a time, so
 * a 64 GiB machine that is mostly free costs a few thousand steps, not 16 M.
 */
import {
  type Kernel,
  PAGE_SIZE,
  PG_reserved,
  PGTY_buddy,
  PGTY_slab,
  PGTY_table,
} from '@mmsim/kapi';
import { decodePte, geometry, readPte } from '@mmsim/mmu';

/** Page kinds, in the order the legend lists them. */
export const KIND_HOLE = 0;
export const KIND_BUDDY = 1;
export const KIND_PCP = 2;
export const KIND_SLAB = 3;
export const KIND_PAGETABLE = 4;
export const KIND_VMALLOC = 5;
export const KIND_ANON = 6;
export const KIND_RESERVED = 7;
export const KIND_KERNEL = 8;

export interface KindInfo {
  name: string;
  /** What the kind means, in Linux's words. */
  description: string;
  color: string;
  /** When a map cell covers several pages, the kind with the highest rank colours it. */
  rank: number;
}

export const KINDS: readonly KindInfo[] = [
  {
    name: 'hole',
    description: 'not RAM (firmware hole, no struct page in use)',
    color: '#d9d9d9',
    rank: 0,
  },
  {
    name: 'free (buddy)',
    description: 'free, on a zone free_area list (PageBuddy)',
    color: '#7bc96f',
    rank: 1,
  },
  {
    name: 'free (pcp)',
    description: 'free, cached on a per-CPU page list (pcp)',
    color: '#b7e4a8',
    rank: 2,
  },
  {
    name: 'slab',
    description: 'a slab (PG_slab / PGTY_slab): objects of one kmem_cache',
    color: '#e8743b',
    rank: 8,
  },
  {
    name: 'page table',
    description: 'a page-table page (PGD/PUD/PMD/PTE table)',
    color: '#9b59b6',
    rank: 7,
  },
  {
    name: 'vmalloc',
    description: 'mapped into the vmalloc area (vm_struct->pages)',
    color: '#3b8ee8',
    rank: 6,
  },
  {
    name: 'anon (user)',
    description: 'anonymous memory of a process (mapped in user space)',
    color: '#e8c53b',
    rank: 5,
  },
  {
    name: 'reserved',
    description: 'PG_reserved: memblock-reserved at boot, never freed',
    color: '#6b6b6b',
    rank: 3,
  },
  {
    name: 'kernel (other)',
    description: 'allocated: alloc_pages(), a large kmalloc, …',
    color: '#c0392b',
    rank: 4,
  },
];

/** Shade of a free buddy block by its order: small blocks (fragmentation) are pale. */
export function buddyColor(order: number): string {
  const t = Math.min(order, 10) / 10;
  const light = 82 - t * 42;
  return `hsl(110, 45%, ${light}%)`;
}

export interface PageClasses {
  /** KIND_* per pfn. */
  kind: Uint8Array;
  /** The order of the free buddy block a free page is in (0 for other pages). */
  buddyOrder: Uint8Array;
  /** The first pfn of the block or allocation a page belongs to (itself if alone). */
  head: Int32Array;
}

/** Every page mapped under the first `topEntries` entries of a root table. */
function walkLeaves(
  k: Kernel,
  root: number,
  topEntries: number,
  onLeaf: (pfn: number) => void,
): void {
  const g = geometry(k.pgd.format);
  const pteSize = k.pgd.format.pteSize;
  const visit = (table: number, level: number, limit: number) => {
    for (let i = 0; i < limit; i++) {
      const [lo, hi] = readPte(k.memory, pteSize, table + i * pteSize);
      const d = decodePte(g, lo, hi, level);
      if (!d.valid) continue;
      if (d.leaf) onLeaf(d.pa / PAGE_SIZE);
      else visit(d.pa, level + 1, g.entries[level + 1]!);
    }
  };
  visit(root, 0, topEntries);
}

export function classifyPages(k: Kernel): PageClasses {
  const mm = k.env.memMap;
  const n = mm.nrPages;
  const kind = new Uint8Array(n);
  const buddyOrder = new Uint8Array(n);
  const head = new Int32Array(n);
  const machine = k.machine;
  for (let pfn = 0; pfn < n; ) {
    head[pfn] = pfn;
    if (!machine.isPfnRam(pfn)) {
      kind[pfn] = KIND_HOLE;
      pfn++;
      continue;
    }
    const type = mm.pageType[pfn];
    if (type === PGTY_buddy) {
      const order = mm.order[pfn]!;
      const end = Math.min(n, pfn + (1 << order));
      kind.fill(KIND_BUDDY, pfn, end);
      buddyOrder.fill(order, pfn, end);
      head.fill(pfn, pfn, end);
      pfn = end;
      continue;
    }
    let k0: number;
    if (type === PGTY_slab) k0 = KIND_SLAB;
    else if (type === PGTY_table) k0 = KIND_PAGETABLE;
    else if (mm.flags[pfn]! & (1 << PG_reserved)) k0 = KIND_RESERVED;
    else if (mm.refcount[pfn]! > 0) k0 = KIND_KERNEL;
    else if (mm.tailOf[pfn]! !== 0) {
      // A compound tail: what its head is.
      const h = mm.tailOf[pfn]! - 1;
      kind[pfn] = kind[h]!;
      head[pfn] = h;
      pfn++;
      continue;
    } else k0 = KIND_PCP;
    kind[pfn] = k0;
    // An allocation of order > 0 without __GFP_COMP: its tail pages have refcount 0 and no
    // mark; the head records the order.
    const order = k0 === KIND_PCP || k0 === KIND_RESERVED ? 0 : mm.order[pfn]!;
    let next = pfn + 1;
    for (const end = Math.min(n, pfn + (1 << order)); next < end; next++) {
      if (mm.refcount[next] !== 0 || mm.pageType[next] !== 0) break;
      kind[next] = k0;
      head[next] = pfn;
    }
    pfn = next;
  }

  // Each process's user half (its kernel half points at init_mm's tables): the pages mapped
  // there, but the shared zero page, are its anonymous memory.
  const zeroPfn = k.userspace.zeroPfn;
  for (const task of k.tasks.values()) {
    if (!task.mm) continue;
    walkLeaves(k, task.mm.pgd.root, geometry(k.pgd.format).entries[0]! / 2, (pfn) => {
      if (pfn !== zeroPfn && pfn < n) kind[pfn] = KIND_ANON;
    });
  }
  for (const area of k.vmallocArea.areas()) {
    for (const pfn of area.pages) kind[pfn] = KIND_VMALLOC;
  }
  return { kind, buddyOrder, head };
}
