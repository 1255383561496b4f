/**
 * Page tables in simulated physical memory — the software side of paging, as xv6's vm.c
 * (walk, mappages, uvmunmap) and Linux's mm/memory.c (__pte_alloc, zap_pte_range,
 * free_pgtables) and mm/mprotect.c (change_protection) do it.
 *
 * Every entry is a real entry in a real table page: a map() walks from the root, allocating
 * missing tables through the `TableAllocator` callback (the MMU never imports a page
 * allocator), and writes the leaf. unmap() clears leaves and gives back every table page
 * left empty (all bytes zero) — never the root. A map, unmap or protect that covers part of
 * a huge page first splits it into a table of smaller leaves (split_huge_pmd()).
 *
 * Nothing here flushes a TLB: as in Linux, the caller does (flush_tlb_range()) — through
 * `Mmu.flushRange()` — and a stale entry really translates until it does.
 */
import type { PagingFormat, PhysAddr, PhysicalMemory, TableAllocator, VirtAddr } from '@mmsim/core';
import {
  encodeLeaf,
  encodeTable,
  type Geometry,
  geometry,
  hasBit,
  isLeaf,
  isValid,
  leafProt,
  levelIndex,
  pteFrame,
  readPte,
  withBit,
  writePte,
} from './pte.js';

/** include/uapi/asm-generic/errno-base.h: ENOMEM. map() returns -ENOMEM. */
export const ENOMEM = 12;

/** What query() finds for an address. */
export interface PteQuery {
  /** The translated physical address of `va`. */
  pa: PhysAddr;
  /** The level of the leaf. */
  level: number;
  pageShift: number;
  prot: number;
  accessed: boolean;
  dirty: boolean;
  /** Where the leaf entry is. */
  entryAddr: PhysAddr;
}

export class PageTable {
  readonly format: PagingFormat;
  readonly memory: PhysicalMemory;
  readonly geometry: Geometry;
  /** Physical address of the top-level table (what CR3/satp/TTBR hold). */
  readonly root: PhysAddr;
  private readonly tables: TableAllocator;
  /** Table pages held, the root included. */
  tablePages = 0;

  /** Tables for `format`; a root is allocated unless given (then it must be zeroed). */
  constructor(
    format: PagingFormat,
    memory: PhysicalMemory,
    tables: TableAllocator,
    root: PhysAddr = -1,
  ) {
    this.format = format;
    this.memory = memory;
    this.geometry = geometry(format);
    this.tables = tables;
    if (root < 0) {
      const pa = this.allocTable();
      if (pa < 0) throw new RangeError(`${format.name}: no memory for the root table`);
      root = pa;
    } else this.tablePages = 1;
    this.root = root;
  }

  private allocTable(): PhysAddr | -1 {
    const size = this.geometry.tableAllocBytes;
    const pa = this.tables.allocTable(size);
    if (pa < 0) return -1;
    if (pa % this.geometry.pageSize !== 0 || pa + size > this.memory.sizeBytes) {
      throw new RangeError(`allocTable(${size}) returned ${pa}: not an aligned page in memory`);
    }
    this.memory.fill(pa, size, 0);
    this.tablePages++;
    return pa;
  }

  private freeTable(pa: PhysAddr): void {
    this.tables.freeTable(pa, this.geometry.tableAllocBytes);
    this.tablePages--;
  }

  private entryAddr(table: PhysAddr, va: VirtAddr, level: number): PhysAddr {
    return table + levelIndex(this.geometry, va, level) * this.format.pteSize;
  }

  /** The level whose leaves are 2^pageShift bytes, or a RangeError. */
  private leafLevel(pageShift: number): number {
    const g = this.geometry;
    for (let l = 0; l < g.levels; l++) {
      if (g.shift[l] === pageShift && g.leafAllowed[l]) return l;
    }
    throw new RangeError(
      `${this.format.name}: no leaf of 2^${pageShift} bytes (sizes: ${g.shift
        .filter((_, l) => g.leafAllowed[l])
        .map((s) => `2^${s}`)
        .join(', ')})`,
    );
  }

  private checkRange(fn: string, va: VirtAddr, sizeBytes: number, align: number): void {
    const top = this.geometry.vaSize;
    if (
      !Number.isSafeInteger(va) ||
      !Number.isSafeInteger(sizeBytes) ||
      va < 0 ||
      sizeBytes < 0 ||
      va + sizeBytes > top ||
      va % align !== 0 ||
      sizeBytes % align !== 0
    ) {
      throw new RangeError(
        `${fn}(0x${va.toString(16)}, ${sizeBytes}): not ${align}-byte aligned inside the ${this.format.vaBits}-bit address space`,
      );
    }
  }

  /**
   * Map [va, va + sizeBytes) to [pa, …) with PROT_* `prot`, in leaves of 2^pageShift bytes
   * (a huge page or block where the format allows one at that size). An existing leaf is
   * replaced. Returns 0, or -ENOMEM when a table page could not be had (what was mapped
   * before stays mapped, as in Linux).
   */
  map(
    va: VirtAddr,
    pa: PhysAddr,
    sizeBytes: number,
    prot: number,
    pageShift = this.format.pageShift,
  ): number {
    const target = this.leafLevel(pageShift);
    const step = this.geometry.span[target]!;
    this.checkRange('map', va, sizeBytes, step);
    if (!Number.isSafeInteger(pa) || pa < 0 || pa % step !== 0) {
      throw new RangeError(`map: physical address ${pa} is not ${step}-byte aligned`);
    }
    const g = this.geometry;
    const size = this.format.pteSize;
    for (let off = 0; off < sizeBytes; off += step) {
      const a = va + off;
      let table = this.root;
      for (let l = 0; l < target; l++) {
        const e = this.entryAddr(table, a, l);
        const [lo, hi] = readPte(this.memory, size, e);
        if (!isValid(g, lo, hi)) {
          const t = this.allocTable();
          if (t < 0) return -ENOMEM;
          const [tl, th] = encodeTable(g, t);
          writePte(this.memory, size, e, tl, th);
          table = t;
        } else if (isLeaf(g, lo, hi, l)) {
          const t = this.split(e, l, lo, hi);
          if (t < 0) return -ENOMEM;
          table = t;
        } else table = pteFrame(g, lo, hi);
      }
      const e = this.entryAddr(table, a, target);
      const [lo, hi] = readPte(this.memory, size, e);
      if (target < g.levels - 1 && isValid(g, lo, hi) && !isLeaf(g, lo, hi, target)) {
        // A huge leaf over a table: give the table (and what hangs below it) back first.
        this.freeSubtree(pteFrame(g, lo, hi), target + 1);
      }
      const [nl, nh] = encodeLeaf(g, pa + off, target, prot);
      writePte(this.memory, size, e, nl, nh);
    }
    return 0;
  }

  /**
   * Split the huge leaf at `entry` (level `level`) into a table of leaves one level down
   * with the same attributes. Returns the new table, or -1.
   */
  private split(entry: PhysAddr, level: number, lo: number, hi: number): PhysAddr | -1 {
    const g = this.geometry;
    const t = this.allocTable();
    if (t < 0) return -1;
    const base = pteFrame(g, lo, hi);
    const prot = leafProt(g, lo, hi);
    const b = this.format.bits;
    const accessed = hasBit(b.accessed, lo, hi);
    const dirty = hasBit(b.dirty, lo, hi);
    const child = level + 1;
    const step = g.span[child]!;
    for (let i = 0; i < g.entries[child]!; i++) {
      const [cl, ch] = encodeLeaf(g, base + i * step, child, prot, accessed, dirty);
      writePte(this.memory, this.format.pteSize, t + i * this.format.pteSize, cl, ch);
    }
    const [tl, th] = encodeTable(g, t);
    writePte(this.memory, this.format.pteSize, entry, tl, th);
    return t;
  }

  private freeSubtree(table: PhysAddr, level: number): void {
    const g = this.geometry;
    if (level < g.levels - 1) {
      for (let i = 0; i < g.entries[level]!; i++) {
        const [lo, hi] = readPte(this.memory, this.format.pteSize, table + i * this.format.pteSize);
        if (isValid(g, lo, hi) && !isLeaf(g, lo, hi, level)) {
          this.freeSubtree(pteFrame(g, lo, hi), level + 1);
        }
      }
    }
    this.freeTable(table);
  }

  /**
   * Visit every leaf in [va, va + sizeBytes): `fn(entryAddr, level, lo, hi)` may rewrite it.
   * Huge leaves that stick out of the range are split first. `path` holds the tables walked
   * (index = level) so unmap can free what became empty. Returns the leaves visited.
   */
  private forEachLeaf(
    fn: string,
    va: VirtAddr,
    sizeBytes: number,
    visit: (
      entry: PhysAddr,
      level: number,
      lo: number,
      hi: number,
      path: PhysAddr[],
      va: VirtAddr,
    ) => void,
    /** The visitor frees no table: the walk may go on along a table instead of from the root. */
    keepsPath = false,
  ): number {
    this.checkRange(fn, va, sizeBytes, this.geometry.pageSize);
    const g = this.geometry;
    const size = this.format.pteSize;
    const end = va + sizeBytes;
    const path: PhysAddr[] = [];
    let a = va;
    let count = 0;
    outer: while (a < end) {
      let table = this.root;
      path.length = 0;
      for (let l = 0; l < g.levels; l++) {
        path.push(table);
        const e = this.entryAddr(table, a, l);
        const [lo, hi] = readPte(this.memory, size, e);
        const span = g.span[l]!;
        const next = Math.floor(a / span) * span + span;
        if (!isValid(g, lo, hi)) {
          a = next; // nothing mapped under this entry
          continue outer;
        }
        if (isLeaf(g, lo, hi, l)) {
          if (a % span !== 0 || next > end) {
            if (this.split(e, l, lo, hi) < 0) return -ENOMEM;
            l--; // walk into the new table
            path.pop();
            continue;
          }
          visit(e, l, lo, hi, path, a);
          count++;
          a = next;
          if (keepsPath && l > 0) {
            // The next entries of the same table, while they are leaves of the range.
            const tableEnd = Math.floor((a - 1) / g.span[l - 1]!) * g.span[l - 1]! + g.span[l - 1]!;
            while (a < end && a < tableEnd && a + span <= end) {
              const e2 = this.entryAddr(table, a, l);
              const [lo2, hi2] = readPte(this.memory, size, e2);
              if (!isValid(g, lo2, hi2)) {
                a += span;
                continue;
              }
              if (!isLeaf(g, lo2, hi2, l)) break; // a table below: from the root again
              visit(e2, l, lo2, hi2, path, a);
              count++;
              a += span;
            }
          }
          continue outer;
        }
        table = pteFrame(g, lo, hi);
      }
    }
    return count;
  }

  /**
   * Unmap [va, va + sizeBytes): clear the leaves and free each table page that becomes
   * empty (free_pgtables()). Returns the number of leaves cleared. With `freeTables: false`
   * the tables stay, as the kernel's do when vmalloc space is unmapped
   * (vunmap_range_noflush() clears PTEs only).
   */
  unmap(va: VirtAddr, sizeBytes: number, options: { freeTables?: boolean } = {}): number {
    const g = this.geometry;
    const size = this.format.pteSize;
    const freeTables = options.freeTables ?? true;
    return this.forEachLeaf(
      'unmap',
      va,
      sizeBytes,
      (entry, level, _lo, _hi, path, a) => {
        writePte(this.memory, size, entry, 0, 0);
        if (!freeTables) return;
        // Free the tables on the path that are now empty, bottom up; never the root.
        for (let l = level; l > 0; l--) {
          const table = path[l]!;
          if (this.memory.findNot(table, g.tableBytes[l]!, 0) !== -1) break;
          const parent = path[l - 1]!;
          writePte(this.memory, size, this.entryAddr(parent, a, l - 1), 0, 0);
          this.freeTable(table);
        }
      },
      !freeTables,
    );
  }

  /**
   * Change the protection of every leaf in [va, va + sizeBytes) to PROT_* `prot`, keeping
   * its frame and Accessed/Dirty bits (change_pte_range()). Returns the leaves changed.
   */
  protect(va: VirtAddr, sizeBytes: number, prot: number): number {
    const g = this.geometry;
    const b = this.format.bits;
    return this.forEachLeaf(
      'protect',
      va,
      sizeBytes,
      (entry, level, lo, hi) => {
        const [nl, nh] = encodeLeaf(
          g,
          pteFrame(g, lo, hi),
          level,
          prot,
          hasBit(b.accessed, lo, hi),
          hasBit(b.dirty, lo, hi),
        );
        writePte(this.memory, this.format.pteSize, entry, nl, nh);
      },
      true,
    );
  }

  /** The level at which the last query() found no valid entry. */
  missLevel = -1;

  /**
   * Software walk: the leaf that maps `va`, or null with `missLevel` set (reads memory,
   * changes nothing).
   */
  query(va: VirtAddr): PteQuery | null {
    const g = this.geometry;
    let table = this.root;
    for (let l = 0; l < g.levels; l++) {
      const e = this.entryAddr(table, va, l);
      const [lo, hi] = readPte(this.memory, this.format.pteSize, e);
      if (!isValid(g, lo, hi)) {
        this.missLevel = l;
        return null;
      }
      if (isLeaf(g, lo, hi, l)) {
        const span = g.span[l]!;
        return {
          pa: pteFrame(g, lo, hi) + (va % span),
          level: l,
          pageShift: g.shift[l]!,
          prot: leafProt(g, lo, hi),
          accessed: hasBit(this.format.bits.accessed, lo, hi),
          dirty: hasBit(this.format.bits.dirty, lo, hi),
          entryAddr: e,
        };
      }
      table = pteFrame(g, lo, hi);
    }
    return null;
  }

  /** Set Accessed (and Dirty) in the leaf mapping `va`, as a fault handler does in software. */
  markAccessed(va: VirtAddr, dirty: boolean): boolean {
    const q = this.query(va);
    if (!q) return false;
    const b = this.format.bits;
    let [lo, hi] = readPte(this.memory, this.format.pteSize, q.entryAddr);
    [lo, hi] = withBit(lo, hi, b.accessed, true);
    if (dirty) [lo, hi] = withBit(lo, hi, b.dirty, true);
    writePte(this.memory, this.format.pteSize, q.entryAddr, lo, hi);
    return true;
  }

  /** Unmap everything and free every table, the root included. The object is dead after. */
  destroy(): void {
    this.freeSubtree(this.root, 0);
  }
}

/**
 * A table allocator over a region of physical memory [start, end): a stack of free table
 * pages, for tests, examples and any user without a page allocator. With @mmsim/page-alloc,
 * wrap alloc_pages()/free_pages() instead.
 */
export function createTableAllocator(
  start: PhysAddr,
  end: PhysAddr,
  sizeBytes: number,
): TableAllocator & { readonly free: number } {
  if (start % sizeBytes !== 0) throw new RangeError(`table region start ${start} is not aligned`);
  const free: PhysAddr[] = [];
  for (let pa = end - sizeBytes; pa >= start; pa -= sizeBytes) free.push(pa);
  const isFree = new Uint8Array(free.length).fill(1);
  return {
    get free() {
      return free.length;
    },
    allocTable(size: number): PhysAddr | -1 {
      if (size > sizeBytes) throw new RangeError(`allocTable(${size}): tables are ${sizeBytes}`);
      const pa = free.pop();
      if (pa === undefined) return -1;
      isFree[(pa - start) / sizeBytes] = 0;
      return pa;
    },
    freeTable(pa: PhysAddr): void {
      if (
        pa < start ||
        pa >= end ||
        (pa - start) % sizeBytes !== 0 ||
        isFree[(pa - start) / sizeBytes]
      ) {
        throw new RangeError(`freeTable(${pa}): not an allocated table page`);
      }
      isFree[(pa - start) / sizeBytes] = 1;
      free.push(pa);
    },
  };
}
