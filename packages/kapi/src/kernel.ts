/**
 * The Kernel: a booted machine and the memory API a kernel programmer reads about, under
 * Linux's names (include/linux/slab.h, gfp.h, vmalloc.h, mm.h).
 *
 * boot() wires the parts the config names — a machine (@mmsim/numa), a page allocator
 * (@mmsim/page-alloc), a slab allocator (@mmsim/slab), the kernel's page tables and one MMU
 * with its TLBs per CPU (@mmsim/mmu, @mmsim/tlb), vmalloc — and builds what Linux builds at
 * boot: the direct map of all RAM at PAGE_OFFSET in 1 GiB / 2 MiB / 4 KiB pages
 * (arch/x86/mm/init_64.c kernel_physical_mapping_init(); the page-table pages come from the
 * page allocator and show up as PageTables), the kmalloc caches, and the shrinker that direct
 * reclaim calls (shrink_slab()).
 *
 * Memory is reached as the CPU reaches it: `k.mem` translates every kernel virtual address
 * through the current CPU's MMU and TLB, and an unmapped address — NULL, a vmalloc guard
 * page, a freed vmalloc area — is the Oops arch/x86/mm/fault.c prints
 * (`BUG: unable to handle page fault for address: …`), thrown as a KernelOops.
 */
import {
  __GFP_COMP,
  __GFP_NOFAIL,
  __GFP_NORETRY,
  __GFP_NOWARN,
  __GFP_RETRY_MAYFAIL,
  __GFP_ZERO,
  type CallSite,
  describeErrorCode,
  type ExecContext,
  formatPtr,
  type Gfp,
  gfpAllowsBlocking,
  Kallsyms,
  type Klog,
  type KmemCache,
  type KmemCacheArgs,
  MAX_NR_ZONES,
  NO_PAGE,
  NUMA_NO_NODE,
  PAGE_OFFSET,
  PAGE_SIZE,
  PGTY_slab,
  type PhysicalMemory,
  PROT_GLOBAL,
  PROT_READ,
  PROT_WRITE,
  SLAB_RECLAIM_ACCOUNT,
  type SlabAllocator,
  type SlabCtor,
  type SlabInfo,
  ZERO_SIZE_PTR,
} from '@mmsim/core';
import { createMmu, type Mmu, PageTable, x86_64 } from '@mmsim/mmu';
import { createMachine, type Machine } from '@mmsim/numa';
import {
  type CheckablePageAllocator,
  createBitmapAllocator,
  createBuddyAllocator,
  createPageAllocatorEnv,
  type PageAllocatorEnv,
  type ZoneSnapshot,
} from '@mmsim/page-alloc';
import { createSlab, createSlabEnv, createSlob, createSlub, KMALLOC_MAX_SIZE } from '@mmsim/slab';
import { createTlbHierarchy, SKYLAKE_TLB } from '@mmsim/tlb';
import type { BootConfig, KernelPageAllocatorFactory, KernelSlabFactory } from './api.js';
import { KernelMemory } from './mem.js';
import {
  type CreateProcessOptions,
  type Process,
  TASK_SIZE,
  tablePageAllocator,
  UserSpace,
} from './mm.js';
import { VMALLOC_END, VMALLOC_START, Vmalloc } from './vmalloc.js';

const GiB = 1 << 30;
const MiB2 = 1 << 21;

function configError(field: string, value: unknown, expected: string): TypeError {
  let shown: string;
  try {
    shown = typeof value === 'function' ? 'a function' : JSON.stringify(value);
  } catch {
    shown = String(value);
  }
  return new TypeError(`boot: config.${field} must be ${expected}, got ${shown}`);
}

export class Kernel {
  readonly machine: Machine;
  readonly env: PageAllocatorEnv;
  /** The page allocator (buddy by default). */
  readonly pages: CheckablePageAllocator;
  /** The slab allocator (SLUB by default). */
  readonly slab: SlabAllocator;
  readonly kallsyms: Kallsyms;
  /** init_mm's page tables: the direct map and the vmalloc area. */
  readonly pgd: PageTable;
  /** One MMU (with its TLB hierarchy) per CPU, all on init_mm's page tables. */
  readonly mmus: readonly Mmu[];
  readonly vmallocArea: Vmalloc;
  /** Kernel virtual memory, through the current CPU's MMU. */
  readonly mem: KernelMemory;
  readonly klog: Klog;
  readonly ctx: ExecContext;
  readonly memory: PhysicalMemory;
  /** init_mm's page-table pages on each node. */
  private readonly kernelTablesByNode: Int32Array;
  /** Processes: their address spaces, the fault handler, the counters. */
  readonly userspace: UserSpace;
  /** Page-table pages: init_mm's and every process's (the PageTables line of /proc/meminfo). */
  get pageTablePages(): number {
    return this.pgd.tablePages + this.userspace.tablePages;
  }

  constructor(config: BootConfig = {}) {
    if (config === null || typeof config !== 'object') throw configError('', config, 'an object');
    const known = [
      'machine',
      'cpus',
      'memory',
      'pageAllocator',
      'slab',
      'arch',
      'slubDebug',
      'seed',
      'tlb',
    ];
    for (const k of Object.keys(config)) {
      if (!known.includes(k))
        throw new TypeError(`boot: unknown config field '${k}' (fields: ${known.join(', ')})`);
    }
    // The machine.
    const overrides: { cpus?: number; memory?: string | number } = {};
    if (config.cpus !== undefined) {
      if (!Number.isInteger(config.cpus) || config.cpus < 1)
        throw configError('cpus', config.cpus, 'a positive integer');
      overrides.cpus = config.cpus;
    }
    if (config.memory !== undefined) overrides.memory = config.memory;
    const spec = config.machine ?? 'tiny';
    let machine: Machine;
    if (typeof spec === 'object' && spec !== null && 'zones' in spec) {
      if (config.cpus !== undefined || config.memory !== undefined) {
        throw new TypeError(
          'boot: config.cpus/config.memory override a preset or spec, not a built Machine',
        );
      }
      machine = spec as Machine;
    } else {
      try {
        machine = createMachine(spec as never, overrides as never);
      } catch (e) {
        throw new TypeError(`boot: config.machine: ${(e as Error).message}`);
      }
    }
    if (config.arch !== undefined && config.arch !== 'x86-64') {
      throw configError(
        'arch',
        config.arch,
        "'x86-64' (the kernel's address-space layout is x86-64's)",
      );
    }
    if (config.seed !== undefined && !Number.isSafeInteger(config.seed)) {
      throw configError('seed', config.seed, 'an integer');
    }
    if (config.slubDebug !== undefined && typeof config.slubDebug !== 'string') {
      throw configError('slubDebug', config.slubDebug, "a slub_debug= string such as 'FZPU'");
    }
    this.machine = machine;
    this.env = createPageAllocatorEnv(machine);
    this.klog = this.env.klog;
    this.ctx = this.env.ctx;
    this.memory = this.env.memory;

    // The page allocator.
    const pa = config.pageAllocator ?? 'buddy';
    let pageFactory: KernelPageAllocatorFactory;
    if (pa === 'buddy') pageFactory = (env) => createBuddyAllocator(env);
    else if (pa === 'bitmap') pageFactory = (env) => createBitmapAllocator(env);
    else if (typeof pa === 'function') pageFactory = pa;
    else
      throw configError(
        'pageAllocator',
        pa,
        "'buddy', 'bitmap' or a factory (env) => PageAllocator",
      );
    this.pages = pageFactory(this.env);
    this.kernelTablesByNode = new Int32Array(machine.nrNodes);

    const pages = this.pages;
    // The kernel's page tables: table pages from the page allocator. Processes copy the
    // kernel half, so they hear of every table init_mm gains or gives back.
    const tableAllocator = tablePageAllocator(
      pages,
      this.env.memMap,
      this.kernelTablesByNode,
      (freed) => this.userspace?.kernelTablesChanged(freed),
    );
    this.pgd = new PageTable(x86_64, this.memory, tableAllocator);
    this.mapDirect();

    // One MMU per CPU.
    const tlbOptions = config.tlb ?? SKYLAKE_TLB;
    const mmus: Mmu[] = [];
    for (let cpu = 0; cpu < machine.nrCpus; cpu++) {
      const h = createTlbHierarchy(tlbOptions);
      mmus.push(
        createMmu({
          format: x86_64,
          memory: this.memory,
          tlb: h,
          itlb: h.instruction,
          root: this.pgd.root,
        }),
      );
    }
    this.mmus = mmus;

    // The slab allocator, and direct reclaim shrinking it (mm/vmscan.c shrink_slab()).
    this.kallsyms = new Kallsyms();
    const sl = config.slab ?? 'slub';
    let slabFactory: KernelSlabFactory;
    if (sl === 'slub') slabFactory = (env, o) => createSlub(env, o);
    else if (sl === 'slab') slabFactory = (env, o) => createSlab(env, o);
    else if (sl === 'slob') slabFactory = (env, o) => createSlob(env, o);
    else if (typeof sl === 'function') slabFactory = sl;
    else
      throw configError(
        'slab',
        sl,
        "'slub', 'slab', 'slob' or a factory (env, options) => SlabAllocator",
      );
    const slabOptions: { slabDebug?: string; seed?: number } = {};
    if (config.slubDebug !== undefined) slabOptions.slabDebug = config.slubDebug;
    if (config.seed !== undefined) slabOptions.seed = config.seed;
    this.slab = slabFactory(createSlabEnv(this.env, pages, this.kallsyms), slabOptions);
    const buddy = pages as { reclaimHook?: unknown };
    if ('reclaimHook' in buddy) {
      (buddy as { reclaimHook: (gfp: number, order: number) => number }).reclaimHook = () =>
        this.slab.shrinkAll();
    }

    this.vmallocArea = new Vmalloc({
      pageAllocator: pages,
      memory: this.memory,
      memMap: this.env.memMap,
      pageTable: this.pgd,
      flushTlbKernelRange: (start, end) => {
        for (const m of this.mmus) m.flushRange(start, end, 0);
      },
      klog: this.klog,
      ctx: this.ctx,
      kallsyms: this.kallsyms,
      nrNodes: machine.nrNodes,
      showMem: () => {
        const b = pages as { showMem?: () => unknown };
        if (typeof b.showMem === 'function') b.showMem();
      },
    });
    this.mem = new KernelMemory(this);
    this.userspace = new UserSpace(this);
    // show_mem() in allocation-failure and OOM reports prints what each node holds.
    this.env.nodeMemStats = () => {
      const p = this.nodePages();
      return p.anon.map((anon, nid) => ({
        inactiveAnon: anon,
        slabReclaimable: p.slabReclaimable[nid]!,
        slabUnreclaimable: p.slabUnreclaimable[nid]!,
        pageTables: p.pageTables[nid]!,
      }));
    };
  }

  /**
   * Pages each node holds for the kernel and its processes: slab pages split by
   * SLAB_RECLAIM_ACCOUNT (from the caches' counts on one node; else, and under SLOB, whose
   * pages serve every size, from one walk of struct page), page tables, anonymous pages.
   */
  nodePages(): NodePages {
    const n = this.machine.nrNodes;
    const out: NodePages = {
      slabReclaimable: new Array<number>(n).fill(0),
      slabUnreclaimable: new Array<number>(n).fill(0),
      pageTables: Array.from(
        { length: n },
        (_, nid) => this.kernelTablesByNode[nid]! + this.userspace.tablesByNode[nid]!,
      ),
      anon: Array.from(this.userspace.anonByNode),
    };
    if (n === 1 && this.slab.name !== 'slob') {
      for (const c of this.slab.caches()) {
        const s = this.slab.cacheInfo(c);
        const pages = s.num_slabs << s.cache_order;
        if (c.flags & SLAB_RECLAIM_ACCOUNT) out.slabReclaimable[0]! += pages;
        else out.slabUnreclaimable[0]! += pages;
      }
      return out;
    }
    const mm = this.env.memMap;
    const info = new Map<object, { pages: number; reclaimable: boolean }>();
    for (let pfn = 0; pfn < mm.nrPages; pfn++) {
      if (mm.pageType[pfn] !== PGTY_slab) continue;
      const nid = mm.node[pfn]!;
      const c = this.slab.virt_to_cache(this.page_address(pfn));
      let pages = 1;
      let reclaimable = false;
      if (c) {
        let i = info.get(c);
        if (!i) {
          i = {
            pages: 1 << this.slab.cacheInfo(c).cache_order,
            reclaimable: (c.flags & SLAB_RECLAIM_ACCOUNT) !== 0,
          };
          info.set(c, i);
        }
        pages = i.pages;
        reclaimable = i.reclaimable;
      }
      if (reclaimable) out.slabReclaimable[nid]! += pages;
      else out.slabUnreclaimable[nid]! += pages;
    }
    return out;
  }

  /** kernel_physical_mapping_init(): every RAM range at PAGE_OFFSET, in the largest pages. */
  private mapDirect(): void {
    const prot = PROT_READ | PROT_WRITE | PROT_GLOBAL;
    for (const r of [...this.machine.memoryRanges].sort((a, b) => a.startPfn - b.startPfn)) {
      let pa = r.startPfn * PAGE_SIZE;
      const end = r.endPfn * PAGE_SIZE;
      while (pa < end) {
        let step = PAGE_SIZE;
        if (pa % GiB === 0 && end - pa >= GiB) step = GiB;
        else if (pa % MiB2 === 0 && end - pa >= MiB2) step = MiB2;
        if (this.pgd.map(PAGE_OFFSET + pa, pa, step, prot, Math.log2(step)) !== 0) {
          throw new Error('boot: out of memory building the direct map');
        }
        pa += step;
      }
    }
  }

  // ---- contexts ------------------------------------------------------------------------------

  /** Run `fn` in hardirq context (an interrupt handler). */
  inIrq<T>(fn: () => T): T {
    return this.ctx.runInHardirq(fn);
  }
  /** Run `fn` in softirq context. */
  inSoftirq<T>(fn: () => T): T {
    return this.ctx.runInSoftirq(fn);
  }
  /** Run `fn` as a tasklet (tasklets run from the TASKLET softirq). */
  inTasklet<T>(fn: () => T): T {
    return this.ctx.runInSoftirq(fn);
  }
  /** Run `fn` holding a spinlock (preemption disabled: atomic). */
  withSpinLock<T>(fn: () => T): T {
    return this.ctx.runWithSpinLock(fn);
  }
  /** Run `fn` on another CPU (its MMU and TLB, its per-CPU caches). */
  onCpu<T>(cpu: number, fn: () => T): T {
    return this.ctx.runOnCpu(cpu, fn);
  }
  /** The current CPU's MMU. */
  get mmu(): Mmu {
    return this.mmus[this.ctx.cpu]!;
  }

  // ---- processes (kernel/fork.c, kernel/exit.c, mm/memory.c) --------------------------------

  /**
   * A new process with an empty address space but for its stack, ready to mmap(), brk() and
   * touch memory (a fork() + exec() of a program that maps nothing).
   */
  createProcess(comm: string, options?: CreateProcessOptions): Process {
    return this.userspace.createProcess(comm, options);
  }
  /** fork(): a copy of `parent` whose pages are shared copy-on-write. */
  fork(parent: Process, comm?: string): Process {
    return this.userspace.fork(parent, comm);
  }
  /**
   * schedule() to the idle task: the current CPU leaves its process and runs swapper/N, so
   * kernel reports say `Comm: swapper/N` again. The process's page tables stay loaded (lazy
   * TLB), as Linux leaves them for a kernel thread.
   */
  scheduleIdle(): void {
    this.userspace.switchToIdle();
  }
  /** The live processes by pid. */
  get tasks(): ReadonlyMap<number, Process> {
    return this.userspace.tasks;
  }
  /** The process running on the current CPU, or null (kernel threads, swapper). */
  get current(): Process | null {
    return this.userspace.current;
  }
  /**
   * copy_to_user(): `n` bytes from kernel address `from` to the current process's `to`.
   * Returns the bytes NOT copied (0 on success), faulting pages in as needed — a bad user
   * address is not a signal but a short copy (the caller returns -EFAULT).
   */
  copy_to_user(to: number, from: number, n: number): number {
    return this.uaccess(to, from, n, true);
  }
  /** copy_from_user(): `n` bytes from the current process's `from` to kernel address `to`. */
  copy_from_user(to: number, from: number, n: number): number {
    return this.uaccess(from, to, n, false);
  }
  private uaccess(user: number, kern: number, n: number, toUser: boolean): number {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new RangeError(`copy_${toUser ? 'to' : 'from'}_user: n ${String(n)} is not a size_t`);
    if (this.current === null)
      throw new Error(
        `copy_${toUser ? 'to' : 'from'}_user: no process is current on CPU ${this.ctx.cpu}`,
      );
    // access_ok(): the whole range must lie in user space.
    if (!Number.isSafeInteger(user) || user < 0 || user + n > TASK_SIZE) return n;
    let done = 0;
    while (done < n) {
      const u = user + done;
      const len = Math.min(n - done, PAGE_SIZE - (u % PAGE_SIZE));
      const pa = this.mem.userPa(u, toUser);
      if (pa < 0) return n - done; // the exception-table fixup: a short copy
      if (toUser) this.memory.writeBytes(pa, this.mem.readBytes(kern + done, len));
      else this.mem.writeBytes(kern + done, this.memory.readBytes(pa, len));
      done += len;
    }
    return 0;
  }

  // ---- kmalloc and friends (include/linux/slab.h, mm/slab_common.c, mm/util.c) ------------

  kmalloc(size: number, gfp: Gfp, caller?: CallSite): number {
    return this.slab.kmalloc(size, gfp, NUMA_NO_NODE, caller);
  }
  kzalloc(size: number, gfp: Gfp, caller?: CallSite): number {
    return this.slab.kmalloc(size, gfp | __GFP_ZERO, NUMA_NO_NODE, caller);
  }
  kmalloc_node(size: number, gfp: Gfp, nid: number, caller?: CallSite): number {
    return this.slab.kmalloc(size, gfp, nid, caller);
  }
  kzalloc_node(size: number, gfp: Gfp, nid: number, caller?: CallSite): number {
    return this.slab.kmalloc(size, gfp | __GFP_ZERO, nid, caller);
  }
  /** kmalloc_array(): NULL when n * size overflows size_t (check_mul_overflow()). */
  kmalloc_array(n: number, size: number, gfp: Gfp, caller?: CallSite): number {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new RangeError(`kmalloc_array: n ${String(n)} is not a size_t`);
    if (!Number.isSafeInteger(size) || size < 0)
      throw new RangeError(`kmalloc_array: size ${String(size)} is not a size_t`);
    const bytes = n * size;
    if (!Number.isSafeInteger(bytes) || bytes >= 2 ** 64) return 0;
    return this.slab.kmalloc(bytes, gfp, NUMA_NO_NODE, caller);
  }
  kcalloc(n: number, size: number, gfp: Gfp, caller?: CallSite): number {
    return this.kmalloc_array(n, size, gfp | __GFP_ZERO, caller);
  }
  kfree(p: number, caller?: CallSite): void {
    this.slab.kfree(p, caller);
  }
  /** kfree_sensitive(): zero the whole allocation (ksize bytes) before freeing it. */
  kfree_sensitive(p: number, caller?: CallSite): void {
    if (p > ZERO_SIZE_PTR) {
      const n = this.slab.ksize(p);
      if (n > 0) this.mem.memset(p, 0, n);
    }
    this.slab.kfree(p, caller);
  }
  ksize(p: number): number {
    return this.slab.ksize(p);
  }
  /**
   * krealloc() (mm/slab_common.c __do_krealloc()): the same buffer when it is already big
   * enough, else a new one with the old contents; krealloc(p, 0) frees and returns
   * ZERO_SIZE_PTR.
   */
  krealloc(p: number, newSize: number, gfp: Gfp, caller?: CallSite): number {
    if (!Number.isSafeInteger(newSize) || newSize < 0) {
      throw new RangeError(`krealloc: size ${String(newSize)} is not a size_t`);
    }
    if (newSize === 0) {
      this.kfree(p, caller);
      return ZERO_SIZE_PTR;
    }
    const ks = p > ZERO_SIZE_PTR ? this.slab.ksize(p) : 0;
    if (ks >= newSize) {
      // Zero what the caller gives up, if it asked for zeroed memory (__GFP_ZERO contract).
      if (gfp & __GFP_ZERO && ks > newSize) this.mem.memset(p + newSize, 0, ks - newSize);
      return p;
    }
    const q = this.slab.kmalloc(newSize, gfp, NUMA_NO_NODE, caller);
    if (q === 0) return 0;
    if (ks > 0) {
      this.mem.memcpy(q, p, ks);
      this.kfree(p, caller);
    }
    return q;
  }
  /** kmemdup(): a kmalloc'd copy of `len` bytes at `src`. */
  kmemdup(src: number, len: number, gfp: Gfp, caller?: CallSite): number {
    const p = this.slab.kmalloc(len, gfp, NUMA_NO_NODE, caller);
    if (p > ZERO_SIZE_PTR) this.mem.memcpy(p, src, len);
    return p;
  }
  /** kstrdup(): a kmalloc'd, NUL-terminated copy of a JS string (UTF-8) or of a C string at an address. */
  kstrdup(s: string | number, gfp: Gfp, caller?: CallSite): number {
    let bytes: Uint8Array;
    if (typeof s === 'string') bytes = new TextEncoder().encode(s);
    else {
      if (s === 0) return 0;
      bytes = this.mem.readCString(s);
    }
    const p = this.slab.kmalloc(bytes.length + 1, gfp, NUMA_NO_NODE, caller);
    if (p === 0) return 0;
    this.mem.writeBytes(p, bytes);
    this.mem.write8(p + bytes.length, 0);
    return p;
  }

  // ---- kmem_cache (the slab allocator's own API) -------------------------------------------

  kmem_cache_create(
    name: string,
    size: number,
    align?: number,
    flags?: number,
    ctor?: SlabCtor | null,
  ): KmemCache | null;
  kmem_cache_create(
    name: string,
    size: number,
    args: KmemCacheArgs | null,
    flags?: number,
  ): KmemCache | null;
  kmem_cache_create(
    name: string,
    size: number,
    alignOrArgs?: number | KmemCacheArgs | null,
    flags?: number,
    ctor?: SlabCtor | null,
  ): KmemCache | null {
    return (this.slab.kmem_cache_create as (...a: unknown[]) => KmemCache | null)(
      name,
      size,
      alignOrArgs,
      flags,
      ctor,
    );
  }
  kmem_cache_alloc(s: KmemCache, gfp: Gfp, caller?: CallSite): number {
    return this.slab.kmem_cache_alloc(s, gfp, caller);
  }
  kmem_cache_zalloc(s: KmemCache, gfp: Gfp, caller?: CallSite): number {
    return this.slab.kmem_cache_zalloc(s, gfp, caller);
  }
  kmem_cache_alloc_node(s: KmemCache, gfp: Gfp, nid: number, caller?: CallSite): number {
    return this.slab.kmem_cache_alloc_node(s, gfp, nid, caller);
  }
  kmem_cache_free(s: KmemCache, p: number, caller?: CallSite): void {
    this.slab.kmem_cache_free(s, p, caller);
  }
  kmem_cache_shrink(s: KmemCache): number {
    return this.slab.kmem_cache_shrink(s);
  }
  kmem_cache_destroy(s: KmemCache | null, caller?: CallSite): void {
    this.slab.kmem_cache_destroy(s, caller);
  }
  kmem_cache_size(s: KmemCache): number {
    return this.slab.kmem_cache_size(s);
  }

  // ---- vmalloc (mm/vmalloc.c) ----------------------------------------------------------------

  vmalloc(size: number, caller?: CallSite): number {
    return this.vmallocArea.vmalloc(size, caller);
  }
  vzalloc(size: number, caller?: CallSite): number {
    return this.vmallocArea.vzalloc(size, caller);
  }
  vmalloc_node(size: number, nid: number, caller?: CallSite): number {
    return this.vmallocArea.vmalloc_node(size, nid, caller);
  }
  vfree(addr: number, caller?: CallSite): void {
    this.vmallocArea.vfree(addr, caller);
  }
  vmap(pfns: ArrayLike<number>, count: number, prot?: number, caller?: CallSite): number {
    return this.vmallocArea.vmap(pfns, count, prot, caller);
  }
  vunmap(addr: number): void {
    this.vmallocArea.vunmap(addr);
  }
  is_vmalloc_addr(addr: number): boolean {
    return addr >= VMALLOC_START && addr < VMALLOC_END;
  }
  /**
   * kvmalloc() (mm/util.c kvmalloc_node_noprof()): kmalloc first — quietly and without
   * retrying hard for more than a page — then vmalloc if the caller may sleep.
   */
  kvmalloc(size: number, gfp: Gfp, caller?: CallSite): number {
    let kflags = gfp;
    if (size > PAGE_SIZE) {
      kflags |= __GFP_NOWARN;
      if (!(kflags & __GFP_RETRY_MAYFAIL)) kflags |= __GFP_NORETRY;
      kflags &= ~__GFP_NOFAIL;
    }
    const p = size <= KMALLOC_MAX_SIZE ? this.slab.kmalloc(size, kflags, NUMA_NO_NODE, caller) : 0;
    if (p !== 0 || !gfpAllowsBlocking(gfp)) return p;
    return this.vmallocArea.__vmalloc(size, gfp, caller);
  }
  kvzalloc(size: number, gfp: Gfp, caller?: CallSite): number {
    return this.kvmalloc(size, gfp | __GFP_ZERO, caller);
  }
  /** kvfree(): vfree() for a vmalloc address, kfree() otherwise. */
  kvfree(addr: number, caller?: CallSite): void {
    if (this.is_vmalloc_addr(addr)) this.vmallocArea.vfree(addr, caller);
    else this.slab.kfree(addr, caller);
  }

  // ---- pages (include/linux/gfp.h, mm.h) -----------------------------------------------------
  // A `struct page *` is its pfn here; NULL is NO_PAGE (-1).

  alloc_pages(gfp: Gfp, order: number): number {
    return this.pages.allocPages(gfp, order);
  }
  alloc_page(gfp: Gfp): number {
    return this.pages.allocPages(gfp, 0);
  }
  alloc_pages_node(nid: number, gfp: Gfp, order: number): number {
    return this.pages.allocPages(gfp, order, nid);
  }
  __free_pages(page: number, order: number): void {
    this.pages.freePages(page, order);
  }
  __free_page(page: number): void {
    this.pages.freePages(page, 0);
  }
  /** __get_free_pages(): the direct-map address of 2^order new pages, or 0. */
  __get_free_pages(gfp: Gfp, order: number): number {
    const pfn = this.pages.allocPages(gfp, order);
    return pfn === NO_PAGE ? 0 : this.page_address(pfn);
  }
  __get_free_page(gfp: Gfp): number {
    return this.__get_free_pages(gfp, 0);
  }
  get_zeroed_page(gfp: Gfp): number {
    return this.__get_free_pages(gfp | __GFP_ZERO, 0);
  }
  /** free_pages(addr, order): addr 0 is ignored, as in Linux. */
  free_pages(addr: number, order: number): void {
    if (addr === 0) return;
    this.pages.freePages(this.virt_to_page(addr), order);
  }
  free_page(addr: number): void {
    this.free_pages(addr, 0);
  }
  /** alloc_pages with __GFP_COMP for order > 0, as folio_alloc() does. */
  folio_alloc(gfp: Gfp, order: number): number {
    return this.pages.allocPages(order > 0 ? gfp | __GFP_COMP : gfp, order);
  }

  // ---- address conversions (arch/x86/include/asm/page.h) -----------------------------------

  /** __pa() of a direct-map address (a RangeError for any other: CONFIG_DEBUG_VIRTUAL). */
  virt_to_phys(addr: number): number {
    const pa = addr - PAGE_OFFSET;
    if (!(pa >= 0 && pa < this.memory.sizeBytes)) {
      throw new RangeError(
        `virt_to_phys: 0x${formatPtr(Math.max(0, addr))} is not a direct-map address`,
      );
    }
    return pa;
  }
  phys_to_virt(pa: number): number {
    if (!(pa >= 0 && pa < this.memory.sizeBytes))
      throw new RangeError(`phys_to_virt: ${pa} is outside memory`);
    return PAGE_OFFSET + pa;
  }
  virt_to_page(addr: number): number {
    return Math.floor(this.virt_to_phys(addr) / PAGE_SIZE);
  }
  page_address(page: number): number {
    return PAGE_OFFSET + page * PAGE_SIZE;
  }
  page_to_pfn(page: number): number {
    return page;
  }
  pfn_to_page(pfn: number): number {
    return pfn;
  }

  // ---- the log and the numbers ---------------------------------------------------------------

  /** The kernel log as `dmesg` prints it. */
  dmesg(): string {
    return this.klog.dmesg();
  }

  private zoneinfo(): ZoneSnapshot[] {
    const p = this.pages as Partial<ZoneReporter>;
    if (typeof p.zoneSnapshot !== 'function') return [];
    return this.machine.zones
      .filter((z) => this.pages.managedPages(z.nid, z.type) > 0)
      .map((z) => (p as ZoneReporter).zoneSnapshot(z.nid, z.type));
  }

  private vmstat(): Record<string, number> {
    const out: Record<string, number> = {};
    const st = (
      this.pages as {
        stats?: {
          pgalloc?: ArrayLike<number>;
          pgfree?: number;
          allocstall?: number;
          kswapdWakeups?: number;
        };
      }
    ).stats;
    if (st?.pgalloc) {
      // pgalloc_<zone>: summed over nodes, indexed by zone slot nid * MAX_NR_ZONES + type.
      for (const z of this.machine.zones) {
        const key = `pgalloc_${z.name.toLowerCase()}`;
        out[key] = (out[key] ?? 0) + (st.pgalloc[z.nid * MAX_NR_ZONES + z.type] ?? 0);
      }
    }
    if (st?.pgfree !== undefined) out.pgfree = st.pgfree;
    if (st?.allocstall !== undefined) out.allocstall = st.allocstall;
    if (st?.kswapdWakeups !== undefined) out.kswapd_wakeups = st.kswapdWakeups;
    const slabs = this.slab.caches().map((c) => this.slab.cacheInfo(c));
    out.nr_slab_unreclaimable = slabs.reduce((n, x) => n + x.num_slabs * (1 << x.cache_order), 0);
    out.nr_page_table_pages = this.pageTablePages;
    out.nr_anon_pages = this.userspace.anonPages;
    out.pgfault = this.userspace.pgfault;
    out.pgreuse = this.userspace.pgreuse;
    out.nr_free_pages = this.pages.nrFreePages();
    return out;
  }

  /** The numbers behind /proc/meminfo, buddyinfo, zoneinfo, slabinfo, vmallocinfo, numastat. */
  stats(): KernelStats {
    const p = this.pages;
    this.pages.drain();
    const total = this.machine.zones.reduce((n, z) => n + p.managedPages(z.nid, z.type), 0);
    const slabs: SlabInfo[] = this.slab.caches().map((c) => this.slab.cacheInfo(c));
    const slabPages = slabs.reduce((n, s) => n + s.num_slabs * (1 << s.cache_order), 0);
    return {
      memTotalKb: total * (PAGE_SIZE / 1024),
      memFreeKb: p.nrFreePages() * (PAGE_SIZE / 1024),
      slabKb: slabPages * (PAGE_SIZE / 1024),
      pageTablesKb: this.pageTablePages * (PAGE_SIZE / 1024),
      anonPagesKb: this.userspace.anonPages * (PAGE_SIZE / 1024),
      vmallocUsedKb: this.vmallocArea.nrPages * (PAGE_SIZE / 1024),
      freePages: p.nrFreePages(),
      managedPages: total,
      slabinfo: slabs,
      vmallocinfo: this.vmallocArea.vmallocinfo(),
      buddyinfo: this.machine.zones
        .filter((z) => p.managedPages(z.nid, z.type) > 0)
        .map((z) => ({
          nid: z.nid,
          zone: z.name,
          nrFree: Array.from({ length: 11 }, (_, o) => p.nrFreeBlocks(z.nid, z.type, o)),
        })),
      numastat: Array.from({ length: this.machine.nrNodes }, (_, n) =>
        this.env.numaStat.nodeCounters(n),
      ),
      zoneinfo: this.zoneinfo(),
      vmstat: this.vmstat(),
      tlb: this.mmus.map((m) => ({ ...m.stats })),
      processes: this.userspace.tasks.size,
    };
  }
}

/** Pages per node (index = node id) that the kernel and its processes hold. */
export interface NodePages {
  slabReclaimable: number[];
  slabUnreclaimable: number[];
  /** init_mm's page tables and every process's. */
  pageTables: number[];
  /** Processes' anonymous pages. */
  anon: number[];
}

/** A page allocator that can describe its zones (the buddy and bitmap allocators can). */
interface ZoneReporter {
  zoneSnapshot(nid: number, zoneType: number): ZoneSnapshot;
}

export interface KernelStats {
  memTotalKb: number;
  memFreeKb: number;
  slabKb: number;
  pageTablesKb: number;
  /** Anonymous pages mapped by processes (AnonPages). */
  anonPagesKb: number;
  /** Live processes. */
  processes: number;
  vmallocUsedKb: number;
  freePages: number;
  managedPages: number;
  slabinfo: SlabInfo[];
  vmallocinfo: string[];
  buddyinfo: { nid: number; zone: string; nrFree: number[] }[];
  numastat: ReturnType<PageAllocatorEnv['numaStat']['nodeCounters']>[];
  tlb: Record<string, unknown>[];
  /** Each populated zone as /proc/zoneinfo sees it (when the page allocator can tell). */
  zoneinfo: ZoneSnapshot[];
  /** /proc/vmstat counters the simulator keeps. */
  vmstat: Record<string, number>;
}

/** Boot a kernel: `const k = boot({ machine: 'laptop', slubDebug: 'FZPU' })`. */
export function boot(config: BootConfig = {}): Kernel {
  return new Kernel(config);
}

/** The Oops a kernel-mode page fault prints (arch/x86/mm/fault.c page_fault_oops()). */
export function pageFaultOopsLines(addr: number, errorCode: number): string[] {
  const first =
    addr < PAGE_SIZE
      ? `BUG: kernel NULL pointer dereference, address: ${formatPtr(addr)}`
      : `BUG: unable to handle page fault for address: ${formatPtr(addr)}`;
  return [first, ...describeErrorCode(errorCode, false).split('\n')];
}
