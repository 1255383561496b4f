/**
 * vmalloc — virtually contiguous kernel memory built from scattered pages, as mm/vmalloc.c
 * (Linux 6.12, whose line numbers the reports cite) does it on x86-64 with 4-level paging.
 *
 * The design, as mm/vmalloc.c runs it:
 *
 * - The address space. [VMALLOC_START, VMALLOC_END] (32 TiB at 0xffffc90000000000, the
 *   non-KASLR base) is handed out in `vmap_area`s. alloc_vmap_area() takes the free block
 *   with the lowest address that fits (find_vmap_lowest_match() over the augmented rb-tree
 *   of free space); here the free space is a sorted list of [start, end) extents and the
 *   busy areas a sorted array, searched the same way. Freed space is merged back with its
 *   neighbours (merge_or_add_vmap_area()).
 * - The guard page. __get_vm_area_node() adds PAGE_SIZE to every area unless VM_NO_GUARD:
 *   the page after the area is reserved but never mapped, so running off the end faults
 *   instead of scribbling on the next area. vm_struct.size, and the size /proc/vmallocinfo
 *   prints, include it: vmalloc(3 pages) shows as 16384 bytes.
 * - The pages. __vmalloc_area_node() allocates order-0 pages one by one
 *   (vm_area_alloc_pages(); Linux uses the bulk allocator, which hands out the same pages
 *   from the per-CPU lists), with GFP | __GFP_HIGHMEM | __GFP_NOWARN from the requested node,
 *   keeps them in vm->pages and maps each at 4 KiB with PAGE_KERNEL (present, RW, global,
 *   NX: PROT_READ|PROT_WRITE|PROT_GLOBAL). The pages array itself is kmalloc'd when it fits
 *   a page and vmalloc'd otherwise (more than 512 pages): that nested area is a real
 *   allocation here too — its own line in vmallocinfo, the data area marked " vpages", the
 *   struct page pointers (vmemmap addresses) written into its pages. A kmalloc'd array, the
 *   vm_struct and the vmap_area are kept as JS objects (this class has no slab allocator).
 * - Failures follow __vmalloc_node_range_noprof(): size 0 → WARN_ON_ONCE and NULL; more pages
 *   than RAM → warn_alloc "exceeds total pages"; no address space (even after a purge) →
 *   "vmalloc_node_range for size … failed" and warn_alloc "vm_struct allocation failed";
 *   a page that cannot be had → warn_alloc "failed to allocate pages" (the size printed is
 *   what was allocated before the failure, as Linux prints area->nr_pages * PAGE_SIZE); a
 *   page table that cannot be had → "failed to map pages". Every failure path vfree()s what
 *   it got, so nothing stays allocated. warn_alloc() has its own ratelimit here (10 s, burst
 *   1, like the page allocator's nopage_rs, which in Linux is one static shared by both) and
 *   prints show_mem() through `deps.showMem` when given.
 * - vfree(): from interrupt context it defers to vfree_atomic(), which links the address into
 *   a per-CPU llist — the link is written into the first 8 bytes of the memory being freed,
 *   as Linux does — and the work runs later: at the next vmalloc/vfree/vunmap/vmap call from
 *   preemptible process context, or when the kernel calls delayed_vfree_work(). In NMI it is
 *   BUG_ON(in_nmi()). Otherwise remove_vm_area() (WARN on an address not page aligned),
 *   "Trying to vfree() nonexistent vm area" when no area contains the address (an address
 *   inside an area frees the whole area: find_unlink_vmap_area() looks up the containing
 *   area), then each page goes back with __free_page().
 * - TLB. remove_vm_area() clears the PTEs at once (vunmap_range_noflush()). Linux then frees
 *   the *address range* lazily: free_vmap_area_noflush() puts it on a purge list, and only
 *   when more than lazy_max_pages() (32 MiB × fls(num_online_cpus()) in pages, guard pages
 *   counted) are waiting does __purge_vmap_area_lazy() flush the TLB once over the whole
 *   span and return the ranges to the free space. Until then a CPU may still hold a TLB
 *   entry for a freed page and translate through it — harmless in Linux because nobody
 *   touches freed vmalloc memory, and the range is not reused before the flush.
 *   This class flushes eagerly by default: flush_tlb_kernel_range() over each area as it is
 *   freed and its range reusable at once, so an access after vfree() faults in the
 *   simulator, which is what a reader expects. `{ lazy: true }` models Linux's purge list
 *   (the purge runs synchronously when the threshold is crossed, where Linux schedules
 *   drain_vmap_work) and shows "unpurged vm_area" lines in vmallocinfo, as Linux does.
 * - Page tables. As in Linux, vunmap clears the PTEs and never frees a kernel page-table
 *   page (vunmap_range_noflush()): the tables built for vmalloc space stay, counted in
 *   PageTables, and serve the next area there. A walk of a freed address stops at the PTE.
 *
 * Pointers in reports print unhashed (as with no_hash_pointers); /proc/vmallocinfo prints
 * real addresses, as root sees it with kptr_restrict=0.
 */
import {
  __GFP_HIGHMEM,
  __GFP_NOWARN,
  __GFP_ZERO,
  type CallSite,
  type ExecContext,
  formatGfpMode,
  formatPtr,
  GFP_DMA,
  GFP_DMA32,
  GFP_KERNEL,
  GFP_RECLAIM_MASK,
  type Gfp,
  gfpAllowsBlocking,
  HZ,
  type Kallsyms,
  KERN_WARNING,
  type Klog,
  MAX_NR_ZONES,
  type MemMap,
  NO_PAGE,
  NUMA_NO_NODE,
  PAGE_OFFSET,
  PAGE_SHIFT,
  PAGE_SIZE,
  type PageAllocator,
  type PhysicalMemory,
  PROT_EXEC,
  PROT_GLOBAL,
  PROT_READ,
  PROT_WRITE,
  type VirtAddr,
} from '@mmsim/core';
import type { PageTable } from '@mmsim/mmu';
import { Ratelimit } from '@mmsim/page-alloc';

// ---- arch/x86/include/asm/pgtable_64_types.h (4-level, no KASLR) ------------------------------

/** 0xffffc90000000000: __VMALLOC_BASE_L4, kept as its low 48 bits. */
export const VMALLOC_START: VirtAddr = 0xc900_0000_0000;
/**
 * One past the last vmalloc byte: Linux's VMALLOC_END is the inclusive 0xffffe8ffffffffff
 * (VMALLOC_START + (32 TiB) - 1), so an area ends at most at VMALLOC_END - 1 here too.
 */
export const VMALLOC_END: VirtAddr = 0xe900_0000_0000;
/** /proc/meminfo VmallocTotal: (VMALLOC_END - VMALLOC_START) >> 10 with Linux's inclusive end. */
export const VMALLOC_TOTAL_KB = Math.floor((VMALLOC_END - 1 - VMALLOC_START) / 1024);

// ---- include/linux/vmalloc.h ------------------------------------------------------------------

export const VM_IOREMAP = 0x1;
export const VM_ALLOC = 0x2;
export const VM_MAP = 0x4;
export const VM_USERMAP = 0x8;
export const VM_DMA_COHERENT = 0x10;
export const VM_UNINITIALIZED = 0x20;
export const VM_NO_GUARD = 0x40;

/** PAGE_KERNEL as PROT_* bits: present, writable, global (and NX: no PROT_EXEC). */
export const PAGE_KERNEL = PROT_READ | PROT_WRITE | PROT_GLOBAL;

/** arch/x86: VMEMMAP_START (0xffffea0000000000) and sizeof(struct page). */
const VMEMMAP_START = 0xea00_0000_0000;
const STRUCT_PAGE_SIZE = 64;
/** sizeof(struct page *). */
const PTR_SIZE = 8;

/** The narrow machine a Vmalloc works on. */
export interface VmallocDeps {
  pageAllocator: PageAllocator;
  memory: PhysicalMemory;
  memMap: MemMap;
  /** The kernel's page tables (init_mm): vmalloc areas are mapped here. */
  pageTable: PageTable;
  /** flush_tlb_kernel_range(start, end) on every CPU (end exclusive). */
  flushTlbKernelRange(start: VirtAddr, end: VirtAddr): void;
  klog: Klog;
  ctx: ExecContext;
  kallsyms: Kallsyms;
  nrNodes: number;
  /** show_mem() for warn_alloc's Mem-Info block (the buddy allocator's showMem()). */
  showMem?(): void;
}

export interface VmallocOptions {
  /**
   * Model Linux's lazy purge: freed ranges wait, unflushed, until more than lazyMaxPages
   * pages are waiting. @defaultValue false (flush and reuse each range as it is freed)
   */
  lazy?: boolean;
  /**
   * lazy_max_pages(). @defaultValue fls(num_online_cpus()) * (32 MiB / PAGE_SIZE)
   */
  lazyMaxPages?: number;
  /** The range areas are taken from (tests use a small one). @defaultValue VMALLOC_START */
  start?: VirtAddr;
  /** @defaultValue VMALLOC_END */
  end?: VirtAddr;
}

/** struct vm_struct, as find_vm_area() returns it (a snapshot). */
export interface VmStruct {
  /** First byte of the area. */
  addr: VirtAddr;
  /** Bytes reserved, the guard page included. */
  size: number;
  /** VM_ALLOC, VM_MAP, … */
  flags: number;
  /** Pages owned by the area (0 for vmap(), which does not own its pages). */
  nr_pages: number;
  /** Their frame numbers, in address order. */
  pages: number[];
  /** The call site (a kallsyms address), 0 for none. */
  caller: VirtAddr;
  /** Where vm->pages lives when it was vmalloc'd (" vpages"), else 0. */
  pagesArray: VirtAddr;
}

/** A live area: struct vmap_area with its struct vm_struct. */
interface Area {
  addr: number;
  /** va_end - va_start: guard included. */
  size: number;
  flags: number;
  caller: number;
  pages: Int32Array;
  nrPages: number;
  /** The vmalloc'd pages array, or 0 when Linux would have kmalloc'd it. */
  pagesArray: number;
}

/** A freed range waiting on the purge list (lazy mode). */
interface LazyRange {
  start: number;
  end: number;
}

const fls = (x: number): number => (x === 0 ? 0 : 32 - Math.clz32(x));

export class Vmalloc {
  private readonly d: VmallocDeps;
  readonly lazy: boolean;
  readonly lazyMaxPages: number;
  readonly start: number;
  /** Linux's inclusive VMALLOC_END: va_end <= vend. */
  private readonly vend: number;

  /** Busy areas in address order. */
  private readonly busy: Area[] = [];
  /** Free space: disjoint [start, end) extents in address order. */
  private readonly freeStart: number[] = [];
  private readonly freeEnd: number[] = [];
  /** The purge list (free_vmap_area_noflush()), in address order. */
  private readonly purgeList: LazyRange[] = [];
  /** vmap_lazy_nr: pages (guards included) on the purge list. */
  private vmapLazyNr = 0;
  /** nr_vmalloc_pages: pages held by vmalloc areas (VmallocUsed). */
  private nrVmallocPages = 0;
  /** Per CPU: addresses vfree_atomic() deferred, newest last (an llist is LIFO). */
  private readonly deferred: number[][];
  /** warn_alloc()'s nopage_rs and printk_ratelimit()'s state. */
  private readonly nopageRs = new Ratelimit(10 * HZ, 1);
  private readonly printkRs = new Ratelimit(5 * HZ, 10);

  /** Times __purge_vmap_area_lazy() flushed (lazy mode). */
  purges = 0;

  constructor(deps: VmallocDeps, options: VmallocOptions = {}) {
    if (!deps?.pageAllocator || !deps.memory || !deps.memMap || !deps.pageTable || !deps.ctx) {
      throw new TypeError(
        'Vmalloc: deps need pageAllocator, memory, memMap, pageTable, flushTlbKernelRange, klog, ctx, kallsyms and nrNodes',
      );
    }
    if (typeof deps.flushTlbKernelRange !== 'function') {
      throw new TypeError('Vmalloc: deps.flushTlbKernelRange must be a function');
    }
    this.d = deps;
    this.lazy = options.lazy ?? false;
    this.lazyMaxPages = options.lazyMaxPages ?? fls(deps.ctx.nrCpus) * ((32 << 20) / PAGE_SIZE);
    if (!Number.isSafeInteger(this.lazyMaxPages) || this.lazyMaxPages < 0) {
      throw new RangeError(
        `Vmalloc lazyMaxPages ${String(this.lazyMaxPages)}: expected an integer >= 0`,
      );
    }
    const start = options.start ?? VMALLOC_START;
    const end = options.end ?? VMALLOC_END;
    if (
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(end) ||
      start % PAGE_SIZE !== 0 ||
      end % PAGE_SIZE !== 0 ||
      start >= end ||
      end > 2 ** 48
    ) {
      throw new RangeError(
        `Vmalloc range 0x${String(start.toString(16))}-0x${String(end.toString(16))}: expected page-aligned start < end`,
      );
    }
    this.start = start;
    this.vend = end - 1;
    this.freeStart.push(start);
    this.freeEnd.push(end - 1);
    this.deferred = Array.from({ length: deps.ctx.nrCpus }, () => []);
  }

  // ---- the API ------------------------------------------------------------------------------

  /** vmalloc(size): GFP_KERNEL pages from any node. Returns the address or 0 (NULL). */
  vmalloc(size: number, caller?: CallSite): VirtAddr {
    return this.vmallocNodeRange(
      size,
      GFP_KERNEL,
      NUMA_NO_NODE,
      this.site(caller, 'vmalloc'),
      'vmalloc_noprof',
    );
  }

  /** vzalloc(size): vmalloc() with zeroed pages. */
  vzalloc(size: number, caller?: CallSite): VirtAddr {
    return this.vmallocNodeRange(
      size,
      GFP_KERNEL | __GFP_ZERO,
      NUMA_NO_NODE,
      this.site(caller, 'vzalloc'),
      'vzalloc_noprof',
    );
  }

  /** vmalloc_node(size, nid): pages preferably from node `nid`. */
  vmalloc_node(size: number, nid: number, caller?: CallSite): VirtAddr {
    this.checkNid(nid);
    return this.vmallocNodeRange(
      size,
      GFP_KERNEL,
      nid,
      this.site(caller, 'vmalloc_node'),
      'vmalloc_node_noprof',
    );
  }

  /** __vmalloc(size, gfp): the page allocations use `gfp` (__GFP_ZERO, __GFP_NOWARN, …). */
  __vmalloc(size: number, gfp: Gfp, caller?: CallSite): VirtAddr {
    if (!Number.isInteger(gfp) || gfp < 0 || gfp > 0xffffffff) {
      throw new TypeError(`__vmalloc gfp ${String(gfp)}: expected a GFP mask`);
    }
    return this.vmallocNodeRange(
      size,
      gfp,
      NUMA_NO_NODE,
      this.site(caller, '__vmalloc'),
      '__vmalloc_noprof',
    );
  }

  /**
   * vfree(addr): unmap the area, flush (or queue for the lazy purge) its range and free its
   * pages. NULL is a no-op; misuse is WARNed and changes nothing.
   */
  vfree(addr: VirtAddr, caller?: CallSite): void {
    this.checkAddr('vfree', addr);
    const ctx = this.d.ctx;
    const site = this.site(caller, 'vfree');
    if (ctx.inInterrupt()) {
      this.vfreeAtomic(addr, site);
      return;
    }
    this.runDeferred();
    this.vfreeNow(addr, site);
  }

  /** vfree_atomic(addr): free later, from a worker; callable in any context but NMI. */
  vfree_atomic(addr: VirtAddr, caller?: CallSite): void {
    this.checkAddr('vfree_atomic', addr);
    this.vfreeAtomic(addr, this.site(caller, 'vfree_atomic'));
  }

  /**
   * delayed_vfree_work(): run the vfree()s deferred from interrupt context (the work
   * vfree_atomic() schedules). Returns how many it ran.
   */
  delayed_vfree_work(): number {
    let n = 0;
    for (const list of this.deferred) {
      // llist_del_all() then walk: newest first.
      const items = list.splice(0, list.length);
      for (let i = items.length - 1; i >= 0; i--) {
        this.vfreeNow(items[i]!, this.d.kallsyms.intern('delayed_vfree_work'));
        n++;
      }
    }
    return n;
  }

  /**
   * vmap(pages, count, VM_MAP, prot): map `count` frames (which stay the caller's) into one
   * virtually contiguous area. `prot` defaults to PAGE_KERNEL; the mapping is never
   * executable (pgprot_nx()). Returns the address or 0.
   */
  vmap(
    pfns: ArrayLike<number>,
    count: number,
    prot: number = PAGE_KERNEL,
    caller?: CallSite,
  ): VirtAddr {
    if (!pfns || typeof pfns.length !== 'number')
      throw new TypeError('vmap: pages must be an array of pfns');
    if (!Number.isSafeInteger(count) || count < 0 || count > pfns.length) {
      throw new RangeError(
        `vmap count ${String(count)}: expected 0..${pfns.length} (the pages given)`,
      );
    }
    if (!Number.isInteger(prot) || prot < 0)
      throw new TypeError(`vmap prot ${String(prot)}: expected PROT_* bits`);
    for (let i = 0; i < count; i++) this.checkPfn(pfns[i]!);
    const site = this.site(caller, 'vmap');
    const ctx = this.d.ctx;
    if (!ctx.inInterrupt()) this.runDeferred();
    ctx.mightSleep('mm/vmalloc.c', 3503, this.frames('vmap', site));
    if (count > this.totalramPages()) return 0;
    const size = count * PAGE_SIZE;
    // get_vm_area_caller() → __get_vm_area_node()
    if (ctx.inInterrupt())
      throw ctx.bug('mm/vmalloc.c:3177', this.frames('__get_vm_area_node', site));
    if (size === 0) return 0;
    const area = this.getVmArea(size, VM_MAP, GFP_KERNEL, site);
    if (!area) return 0;
    const pages = Int32Array.from({ length: count }, (_, i) => pfns[i]!);
    if (this.mapPages(area.addr, pages, count, prot & ~PROT_EXEC) < 0) {
      this.removeVmArea(area.addr, site);
      return 0;
    }
    return area.addr;
  }

  /** vunmap(addr): remove a vmap() mapping; the pages stay the caller's. */
  vunmap(addr: VirtAddr): void {
    this.checkAddr('vunmap', addr);
    const ctx = this.d.ctx;
    const site = this.d.kallsyms.intern('vunmap');
    if (ctx.inInterrupt()) throw ctx.bug('mm/vmalloc.c:3466', this.frames('vunmap', site));
    this.runDeferred();
    ctx.mightSleep('mm/vmalloc.c', 3467, this.frames('vunmap', site));
    if (addr === 0) return;
    // A vmalloc area given to vunmap() loses its vm_struct but its pages are never freed:
    // Linux leaks them (and they stay in VmallocUsed), and so does this.
    if (!this.removeVmArea(addr, site)) {
      ctx.warn(
        `mm/vmalloc.c:3473 ${this.sym('vunmap')}`,
        `Trying to vunmap() nonexistent vm area (${formatPtr(addr)})`,
        [this.sym('vunmap')],
      );
    }
  }

  /** find_vm_area(addr): the area containing `addr`, or null. */
  find_vm_area(addr: VirtAddr): VmStruct | null {
    const i = this.findBusy(addr);
    return i < 0 ? null : this.snapshot(this.busy[i]!);
  }

  /** is_vmalloc_addr(addr): inside [VMALLOC_START, VMALLOC_END). */
  is_vmalloc_addr(addr: VirtAddr): boolean {
    return addr >= VMALLOC_START && addr < VMALLOC_END;
  }

  /** vmalloc_to_pfn(addr): the frame mapped at `addr` (page tables walked), or -1. */
  vmalloc_to_pfn(addr: VirtAddr): number {
    if (!this.is_vmalloc_addr(addr)) return NO_PAGE;
    const q = this.d.pageTable.query(addr - (addr % PAGE_SIZE));
    return q ? Math.floor(q.pa / PAGE_SIZE) : NO_PAGE;
  }

  /**
   * vm_unmap_aliases(): purge the lazily freed ranges now (one TLB flush over them), as
   * Linux does before changing page permissions. A no-op in eager mode.
   */
  vm_unmap_aliases(): void {
    this.purgeVmapAreaLazy();
  }

  /** The live areas in address order. */
  areas(): VmStruct[] {
    return this.busy.map((a) => this.snapshot(a));
  }

  /** vmalloc_nr_pages(): pages held by vmalloc areas. */
  get nr_vmalloc_pages(): number {
    return this.nrVmallocPages;
  }

  /** The same: pages held by vmalloc areas (VmallocUsed in kB = nrPages * 4). */
  get nrPages(): number {
    return this.nrVmallocPages;
  }

  /** vmap_lazy_nr: pages (guards included) waiting on the purge list. */
  get vmap_lazy_nr(): number {
    return this.vmapLazyNr;
  }

  /** The /proc/meminfo lines' values, in kB. */
  meminfo(): { VmallocTotal: number; VmallocUsed: number; VmallocChunk: number } {
    return {
      VmallocTotal: VMALLOC_TOTAL_KB,
      VmallocUsed: this.nrVmallocPages << (PAGE_SHIFT - 10),
      VmallocChunk: 0, // always 0 since Linux 5.3
    };
  }

  /**
   * /proc/vmallocinfo (mm/vmalloc.c vmalloc_info_show()): one line per area in address
   * order, then the unpurged ranges.
   */
  vmallocinfo(): string[] {
    const out: string[] = [];
    const counters = new Int32Array(this.d.nrNodes);
    for (const v of this.busy) {
      let line = `0x${formatPtr(v.addr)}-0x${formatPtr(v.addr + v.size)} ${String(v.size).padStart(7)}`;
      if (v.caller) line += ` ${this.d.kallsyms.formatSymbol(v.caller)}`;
      if (v.nrPages) line += ` pages=${v.nrPages}`;
      if (v.flags & VM_IOREMAP) line += ' ioremap';
      if (v.flags & VM_ALLOC) line += ' vmalloc';
      if (v.flags & VM_MAP) line += ' vmap';
      if (v.flags & VM_USERMAP) line += ' user';
      if (v.flags & VM_DMA_COHERENT) line += ' dma-coherent';
      if (v.pagesArray) line += ' vpages';
      // show_numa_info() (CONFIG_NUMA, as in the reference config).
      counters.fill(0);
      for (let i = 0; i < v.nrPages; i++) counters[this.d.memMap.node[v.pages[i]!]!]!++;
      for (let nid = 0; nid < counters.length; nid++)
        if (counters[nid]) line += ` N${nid}=${counters[nid]}`;
      out.push(line);
    }
    // show_purge_info()
    for (const r of this.purgeList) {
      out.push(
        `0x${formatPtr(r.start)}-0x${formatPtr(r.end)} ${String(r.end - r.start).padStart(7)} unpurged vm_area`,
      );
    }
    return out;
  }

  // ---- allocation ---------------------------------------------------------------------------

  /** __vmalloc_node_range_noprof(size, 1, VMALLOC_START, VMALLOC_END, gfp, PAGE_KERNEL, 0, node, caller). */
  private vmallocNodeRange(
    size: number,
    gfp: Gfp,
    nid: number,
    caller: number,
    entry: string,
  ): VirtAddr {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RangeError(`vmalloc size ${String(size)}: expected a non-negative integer`);
    }
    const ctx = this.d.ctx;
    if (!ctx.inInterrupt()) this.runDeferred();
    const frames = [
      this.sym('__vmalloc_node_range_noprof'),
      this.sym(entry),
      this.d.kallsyms.formatSymbol(caller),
    ];
    if (size === 0) {
      ctx.warnOnce(
        'vmalloc-size-0',
        `mm/vmalloc.c:3838 ${this.sym('__vmalloc_node_range_noprof')}`,
        undefined,
        frames,
      );
      return 0;
    }
    if (Math.floor(size / PAGE_SIZE) > this.totalramPages()) {
      this.warnAlloc(gfp, `vmalloc error: size ${size}, exceeds total pages`, frames);
      return 0;
    }
    // __get_vm_area_node(): BUG_ON(in_interrupt()), then alloc_vmap_area()'s might_sleep().
    if (ctx.inInterrupt())
      throw ctx.bug('mm/vmalloc.c:3177', [this.sym('__get_vm_area_node'), ...frames]);
    const area = this.getVmArea(size, VM_ALLOC, gfp, caller);
    if (!area) {
      this.warnAlloc(gfp, `vmalloc error: size ${size}, vm_struct allocation failed`, frames);
      return 0;
    }
    return this.vmallocAreaNode(area, gfp, nid, frames) ? area.addr : 0;
  }

  /**
   * __get_vm_area_node(): reserve PAGE_ALIGN(size) plus the guard page. Returns the area
   * (on the busy list, no pages yet) or null.
   */
  private getVmArea(size: number, flags: number, gfp: Gfp, caller: number): Area | null {
    // The struct vm_struct is kzalloc_node()ed first (mm/vmalloc.c:3184): the slab's
    // might_alloc() is the first check a blocking request meets.
    if (gfpAllowsBlocking(gfp)) {
      this.d.ctx.mightSleep(undefined, undefined, [
        this.sym('__kmalloc_cache_node_noprof'),
        this.sym('__get_vm_area_node'),
        this.d.kallsyms.formatSymbol(caller),
      ]);
    }
    const bytes = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE + (flags & VM_NO_GUARD ? 0 : PAGE_SIZE);
    const addr = this.allocVmapArea(bytes, gfp, caller);
    if (addr < 0) return null;
    const area: Area = {
      addr,
      size: bytes,
      flags,
      caller,
      pages: new Int32Array(0),
      nrPages: 0,
      pagesArray: 0,
    };
    this.busy.splice(this.busyInsertionPoint(addr), 0, area);
    return area;
  }

  /** alloc_vmap_area(): the lowest free range that fits, purging lazy ranges once if none. */
  private allocVmapArea(bytes: number, gfp: Gfp, caller: number): number {
    this.d.ctx.mightSleep('mm/vmalloc.c', 2030, [
      this.sym('alloc_vmap_area'),
      this.sym('__get_vm_area_node'),
      this.d.kallsyms.formatSymbol(caller),
    ]);
    let addr = this.findLowestMatch(bytes);
    if (addr < 0 && this.purgeList.length > 0) {
      this.purgeVmapAreaLazy(); // reclaim_and_purge_vmap_areas(), then retry
      addr = this.findLowestMatch(bytes);
    }
    if (addr >= 0) return addr;
    if (!(gfp & __GFP_NOWARN) && this.ratelimited(this.printkRs, 'alloc_vmap_area')) {
      this.d.klog.printk(
        KERN_WARNING,
        `vmalloc_node_range for size ${bytes} failed: Address range restricted to 0x${formatPtr(this.start)} - 0x${formatPtr(this.vend)}`,
      );
    }
    return -1;
  }

  /** __alloc_vmap_area() with align 1: the first free extent, by address, that holds `bytes`. */
  private findLowestMatch(bytes: number): number {
    const fs = this.freeStart;
    const fe = this.freeEnd;
    for (let i = 0; i < fs.length; i++) {
      const s = fs[i]!;
      if (fe[i]! - s < bytes) continue;
      if (fe[i]! - s === bytes) {
        fs.splice(i, 1);
        fe.splice(i, 1);
      } else fs[i] = s + bytes;
      return s;
    }
    return -1;
  }

  /** merge_or_add_vmap_area(): give [start, end) back to the free space. */
  private freeRange(start: number, end: number): void {
    const fs = this.freeStart;
    const fe = this.freeEnd;
    let i = 0;
    while (i < fs.length && fs[i]! < start) i++;
    const mergePrev = i > 0 && fe[i - 1] === start;
    const mergeNext = i < fs.length && fs[i] === end;
    if (mergePrev && mergeNext) {
      fe[i - 1] = fe[i]!;
      fs.splice(i, 1);
      fe.splice(i, 1);
    } else if (mergePrev) fe[i - 1] = end;
    else if (mergeNext) fs[i] = start;
    else {
      fs.splice(i, 0, start);
      fe.splice(i, 0, end);
    }
  }

  /**
   * __vmalloc_area_node(): the pages array, the pages, the mapping. On failure everything is
   * given back (vfree(area->addr)) and false returned.
   */
  private vmallocAreaNode(area: Area, gfp: Gfp, nid: number, frames: readonly string[]): boolean {
    const nrSmall = (area.size - (area.flags & VM_NO_GUARD ? 0 : PAGE_SIZE)) / PAGE_SIZE;
    const arraySize = nrSmall * PTR_SIZE;
    const nestedGfp = (gfp & GFP_RECLAIM_MASK) | __GFP_ZERO;
    let pageGfp = gfp;
    if (!(gfp & (GFP_DMA | GFP_DMA32))) pageGfp |= __GFP_HIGHMEM;
    const areaFrames = [this.sym('__vmalloc_area_node'), ...frames];

    area.pages = new Int32Array(nrSmall);
    if (arraySize > PAGE_SIZE) {
      // "Please note that the recursion is strictly bounded."
      const array = this.vmallocNodeRange(
        arraySize,
        nestedGfp,
        nid,
        area.caller,
        '__vmalloc_node_noprof',
      );
      if (!array) {
        this.warnAlloc(
          pageGfp,
          `vmalloc error: size ${nrSmall * PAGE_SIZE}, failed to allocated page array size ${arraySize}`,
          areaFrames,
        );
        this.freeVmArea(area);
        return false;
      }
      area.pagesArray = array;
    }

    // vm_area_alloc_pages(): order 0, __GFP_NOWARN (vmalloc reports the failure itself).
    const pa = this.d.pageAllocator;
    const allocGfp = pageGfp | __GFP_NOWARN;
    let n = 0;
    for (; n < nrSmall; n++) {
      const pfn =
        nid === NUMA_NO_NODE ? pa.allocPages(allocGfp, 0) : pa.allocPages(allocGfp, 0, nid);
      if (pfn === NO_PAGE) break;
      area.pages[n] = pfn;
    }
    area.nrPages = n;
    this.nrVmallocPages += n;
    if (area.pagesArray) this.writePagesArray(area);

    if (n !== nrSmall) {
      this.warnAlloc(
        pageGfp,
        `vmalloc error: size ${n * PAGE_SIZE}, failed to allocate pages`,
        areaFrames,
      );
      this.vfreeNow(area.addr, area.caller);
      return false;
    }
    if (this.mapPages(area.addr, area.pages, n, PAGE_KERNEL) < 0) {
      this.warnAlloc(
        pageGfp,
        `vmalloc error: size ${n * PAGE_SIZE}, failed to map pages`,
        areaFrames,
      );
      this.vfreeNow(area.addr, area.caller);
      return false;
    }
    return true;
  }

  /** vmap_pages_range(): map each page at 4 KiB, runs of contiguous frames in one call. */
  private mapPages(addr: number, pages: Int32Array, count: number, prot: number): number {
    const pt = this.d.pageTable;
    let i = 0;
    while (i < count) {
      let j = i + 1;
      while (j < count && pages[j] === pages[j - 1]! + 1) j++;
      const ret = pt.map(
        addr + i * PAGE_SIZE,
        pages[i]! * PAGE_SIZE,
        (j - i) * PAGE_SIZE,
        prot,
        PAGE_SHIFT,
      );
      if (ret < 0) return ret;
      i = j;
    }
    return 0;
  }

  /** Fill a vmalloc'd vm->pages with the struct page pointers (vmemmap addresses). */
  private writePagesArray(area: Area): void {
    const holder = this.busy[this.findBusy(area.pagesArray)];
    if (!holder) return;
    const mem = this.d.memory;
    for (let i = 0; i < area.nrPages; i++) {
      const off = i * PTR_SIZE;
      const pa = holder.pages[Math.floor(off / PAGE_SIZE)]! * PAGE_SIZE + (off % PAGE_SIZE);
      const page = VMEMMAP_START + area.pages[i]! * STRUCT_PAGE_SIZE;
      mem.write64Parts(pa, page % 2 ** 32, (Math.floor(page / 2 ** 32) | 0xffff0000) >>> 0);
    }
  }

  // ---- freeing ------------------------------------------------------------------------------

  /** vfree() in process context. */
  private vfreeNow(addr: number, site: number): void {
    const ctx = this.d.ctx;
    ctx.mightSleep('mm/vmalloc.c', 3419, this.frames('vfree', site));
    if (addr === 0) return;
    const area = this.removeVmArea(addr, site);
    if (!area) {
      ctx.warn(
        `mm/vmalloc.c:3426 ${this.sym('vfree')}`,
        `Trying to vfree() nonexistent vm area (${formatPtr(addr)})`,
        this.frames('vfree', site),
      );
      return;
    }
    const pa = this.d.pageAllocator;
    for (let i = 0; i < area.nrPages; i++) pa.freePages(area.pages[i]!, 0);
    // vmap() areas own no pages (not VM_MAP_PUT_PAGES) and never counted.
    this.nrVmallocPages -= area.nrPages;
    // kvfree(vm->pages)
    if (area.pagesArray) this.vfreeNow(area.pagesArray, area.caller);
  }

  /** vfree_atomic(): BUG_ON(in_nmi()), then llist_add() onto this CPU's deferred list. */
  private vfreeAtomic(addr: number, site: number): void {
    const ctx = this.d.ctx;
    if (ctx.inNmi()) throw ctx.bug('mm/vmalloc.c:3377', this.frames('vfree_atomic', site));
    if (addr === 0) return;
    const list = this.deferred[ctx.cpu]!;
    // The llist_node is the freed memory itself: its first word now links to the previous head.
    const prev = list.length > 0 ? list[list.length - 1]! : 0;
    const pa = this.kernelVirtToPhys(addr);
    if (pa >= 0) {
      this.d.memory.write64Parts(
        pa,
        prev % 2 ** 32,
        prev === 0 ? 0 : (Math.floor(prev / 2 ** 32) | 0xffff0000) >>> 0,
      );
    }
    list.push(addr);
  }

  /** The deferred work runs once the caller is back in preemptible process context. */
  private runDeferred(): void {
    const ctx = this.d.ctx;
    if (ctx.inAtomic() || ctx.irqsDisabled()) return;
    for (const list of this.deferred) {
      if (list.length > 0) {
        this.delayed_vfree_work();
        return;
      }
    }
  }

  /**
   * remove_vm_area(): WARN on an unaligned address; take the containing area off the busy
   * list, clear its PTEs and free (or queue) its range. Returns the area or null.
   */
  private removeVmArea(addr: number, site: number): Area | null {
    const ctx = this.d.ctx;
    ctx.mightSleep('mm/vmalloc.c', 3289, this.frames('remove_vm_area', site));
    if (addr % PAGE_SIZE !== 0) {
      ctx.warn(
        `mm/vmalloc.c:3291 ${this.sym('remove_vm_area')}`,
        `Trying to vfree() bad address (${formatPtr(addr)})`,
        this.frames('remove_vm_area', site),
      );
      return null;
    }
    const i = this.findBusy(addr);
    if (i < 0) return null;
    const area = this.busy[i]!;
    this.busy.splice(i, 1);
    // free_unmap_vmap_area(): vunmap_range_noflush() over the whole range, then the range.
    this.d.pageTable.unmap(area.addr, area.size, { freeTables: false });
    this.freeVmapArea(area.addr, area.addr + area.size);
    return area;
  }

  /** A reserved area that never got pages or PTEs (free_vm_area()). */
  private freeVmArea(area: Area): void {
    const i = this.findBusy(area.addr);
    if (i >= 0) this.busy.splice(i, 1);
    this.freeVmapArea(area.addr, area.addr + area.size);
  }

  /** free_vmap_area_noflush(), or in eager mode flush and free at once. */
  private freeVmapArea(start: number, end: number): void {
    if (!this.lazy) {
      this.d.flushTlbKernelRange(start, end);
      this.freeRange(start, end);
      return;
    }
    this.vmapLazyNr += (end - start) / PAGE_SIZE;
    let i = this.purgeList.length;
    while (i > 0 && this.purgeList[i - 1]!.start > start) i--;
    this.purgeList.splice(i, 0, { start, end });
    // Linux schedules drain_vmap_work; it runs here and now.
    if (this.vmapLazyNr > this.lazyMaxPages) this.purgeVmapAreaLazy();
  }

  /** __purge_vmap_area_lazy(ULONG_MAX, 0): one flush over every queued range, then reuse them. */
  private purgeVmapAreaLazy(): void {
    const list = this.purgeList;
    if (list.length === 0) return;
    let start = list[0]!.start;
    let end = list[0]!.end;
    for (const r of list) {
      start = Math.min(start, r.start);
      end = Math.max(end, r.end);
    }
    this.d.flushTlbKernelRange(start, end);
    for (const r of list) this.freeRange(r.start, r.end);
    list.length = 0;
    this.vmapLazyNr = 0;
    this.purges++;
  }

  // ---- helpers ------------------------------------------------------------------------------

  /** Index of the busy area containing addr (va_start <= addr < va_end), or -1. */
  private findBusy(addr: number): number {
    const b = this.busy;
    let lo = 0;
    let hi = b.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const a = b[mid]!;
      if (addr < a.addr) hi = mid - 1;
      else if (addr >= a.addr + a.size) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  private busyInsertionPoint(addr: number): number {
    const b = this.busy;
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (b[mid]!.addr < addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private snapshot(a: Area): VmStruct {
    return {
      addr: a.addr,
      size: a.size,
      flags: a.flags,
      nr_pages: a.nrPages,
      pages: Array.from(a.pages.subarray(0, a.nrPages)),
      caller: a.caller,
      pagesArray: a.pagesArray,
    };
  }

  /** totalram_pages(): pages the page allocator manages. */
  private totalramPages(): number {
    let n = 0;
    for (let nid = 0; nid < this.d.nrNodes; nid++) {
      for (let z = 0; z < MAX_NR_ZONES; z++) n += this.d.pageAllocator.managedPages(nid, z);
    }
    return n;
  }

  /** The physical address behind a kernel virtual address (vmalloc or direct map), or -1. */
  private kernelVirtToPhys(addr: number): number {
    if (this.is_vmalloc_addr(addr)) {
      const q = this.d.pageTable.query(addr);
      return q && addr % PAGE_SIZE <= PAGE_SIZE - PTR_SIZE ? q.pa : -1;
    }
    const pa = addr - PAGE_OFFSET;
    return pa >= 0 && pa + PTR_SIZE <= this.d.memory.sizeBytes ? pa : -1;
  }

  /**
   * warn_alloc(gfp, NULL, fmt): `comm: message, mode:…, nodemask=(null),cpuset=/,mems_allowed=…`,
   * a stack dump and show_mem(), ratelimited; nothing with __GFP_NOWARN.
   */
  private warnAlloc(gfp: Gfp, message: string, frames: readonly string[]): void {
    if (gfp & __GFP_NOWARN) return;
    if (!this.ratelimited(this.nopageRs, 'warn_alloc')) return;
    const { ctx, klog, nrNodes } = this.d;
    const mems = nrNodes === 1 ? '0' : `0-${nrNodes - 1}`;
    klog.printk(
      KERN_WARNING,
      `${ctx.task.comm}: ${message}, mode:${formatGfpMode(gfp)}, nodemask=(null),cpuset=/,mems_allowed=${mems}`,
    );
    ctx.dumpStack([this.sym('dump_stack_lvl'), this.sym('warn_alloc'), ...frames]);
    this.d.showMem?.();
  }

  /** ___ratelimit(): may `func` print now? Prints "func: N callbacks suppressed" first if so. */
  private ratelimited(rs: Ratelimit, func: string): boolean {
    const suppressed = rs.allow(this.d.klog.clock.jiffies());
    if (suppressed < 0) return false;
    if (suppressed > 0)
      this.d.klog.printk(KERN_WARNING, `${func}: ${suppressed} callbacks suppressed`);
    return true;
  }

  private sym(name: string): string {
    return this.d.kallsyms.formatSymbol(this.d.kallsyms.intern(name));
  }

  /** A call trace: the function, then its caller unless that is the API entry itself. */
  private frames(fn: string, site: number): string[] {
    const top = this.sym(fn);
    const below = this.d.kallsyms.formatSymbol(site);
    return below === top ? [top] : [top, below];
  }

  private site(caller: CallSite | undefined, dflt: string): number {
    if (caller === undefined) return this.d.kallsyms.intern(dflt);
    if (typeof caller === 'string') return this.d.kallsyms.intern(caller);
    if (!Number.isSafeInteger(caller) || caller < 0) {
      throw new TypeError(
        `call site ${String(caller)}: expected a text address or a function name`,
      );
    }
    return caller;
  }

  private checkAddr(fn: string, addr: number): void {
    if (!Number.isSafeInteger(addr) || addr < 0 || addr >= 2 ** 48) {
      throw new TypeError(`${fn}: address ${String(addr)} is not a 48-bit virtual address`);
    }
  }

  private checkNid(nid: number): void {
    if (nid !== NUMA_NO_NODE && (!Number.isInteger(nid) || nid < 0 || nid >= this.d.nrNodes)) {
      throw new RangeError(`node ${String(nid)} does not exist (nrNodes ${this.d.nrNodes})`);
    }
  }

  private checkPfn(pfn: number): void {
    if (!Number.isInteger(pfn) || pfn < 0 || pfn >= this.d.memMap.nrPages) {
      throw new RangeError(`vmap: pfn ${String(pfn)} is not a frame of this machine`);
    }
  }
}
