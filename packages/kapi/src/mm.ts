/**
 * User address spaces: processes, their mm_struct and VMAs, and the page-fault handler that
 * fills them in — demand paging, the shared zero page, copy-on-write after fork(), stack
 * growth, and SIGSEGV with the line arch/x86/mm/fault.c show_signal_msg() prints:
 *
 *     demo[1]: segfault at 0 ip 0000000000401000 sp 00007fffffffe000 error 4 likely on CPU 0 (core 0, socket 0)
 *     Code: Unable to access opcode bytes at 0x400fd6.
 *
 * Every user page is a real page from the page allocator (GFP_HIGHUSER_MOVABLE), mapped by
 * the process's own x86-64 page tables (whose kernel half is init_mm's), reached through the
 * current CPU's MMU and TLB with the process's PCID. Linux: mm/mmap.c, mm/memory.c
 * (handle_mm_fault(), do_anonymous_page(), do_wp_page(), copy_present_pte()), mm/mprotect.c,
 * kernel/fork.c (dup_mmap()), arch/x86/mm/fault.c (do_user_addr_fault(), access_error()),
 * arch/x86/mm/mmap.c (mmap_base()), fs/proc/task_mmu.c (the maps file).
 *
 * What is not simulated: files (every mapping is anonymous and private — MAP_SHARED needs
 * shmem, and a call asking for it throws), swap, THP, ASLR (the layout is the one
 * `setarch -R` gives), signal handlers (SIGSEGV kills the process, its default action).
 */
import {
  __GFP_COMP,
  __GFP_NOWARN,
  __GFP_ZERO,
  ACCESS_EXEC,
  ACCESS_USER,
  formatGfp,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL,
  type Gfp,
  KERN_EMERG,
  KERN_ERR,
  KERN_INFO,
  KERN_WARNING,
  type MemMap,
  NO_PAGE,
  PAGE_SHIFT,
  PAGE_SIZE,
  type PageAllocator,
  PGTY_NONE,
  PGTY_table,
  PROT_EXEC,
  PROT_READ,
  PROT_USER,
  PROT_WRITE,
  type TableAllocator,
  X86_PF_PROT,
  X86_PF_WRITE,
} from '@mmsim/core';
import { PageTable, x86_64 } from '@mmsim/mmu';
import type { Kernel } from './kernel.js';
import { VirtualMemory } from './vmem.js';

// ---- include/linux/mm.h: vm_flags -------------------------------------------------------------
export const VM_NONE = 0;
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_GROWSDOWN = 0x100;

// ---- include/uapi/asm-generic/mman(-common).h -----------------------------------------------
export const PROT_NONE = 0;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_GROWSDOWN = 0x100;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_FIXED_NOREPLACE = 0x100000;
const MAP_KNOWN =
  MAP_SHARED_VALIDATE |
  MAP_FIXED |
  MAP_ANONYMOUS |
  MAP_GROWSDOWN |
  MAP_NORESERVE |
  MAP_POPULATE |
  MAP_FIXED_NOREPLACE;

// ---- include/uapi/asm-generic/errno-base.h ----------------------------------------------------
export const EPERM = 1;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EEXIST = 17;
export const EINVAL = 22;

// ---- include/uapi/asm-generic/siginfo.h, signal.h --------------------------------------------
export const SIGKILL = 9;
export const SIGSEGV = 11;
export const SEGV_MAPERR = 1;
export const SEGV_ACCERR = 2;

// ---- the x86-64 user address-space layout (arch/x86/include/asm/page_64_types.h, mmap.c) -----
/** TASK_SIZE_MAX with 4-level paging: the top of user space, (1 << 47) - PAGE_SIZE. */
export const TASK_SIZE = 0x7ffffffff000;
/** STACK_TOP: the initial stack ends here (no randomization). */
export const STACK_TOP = TASK_SIZE;
/** mm/util.c mmap_base() without randomization: the 128 MiB minimum stack gap below TASK_SIZE. */
export const MMAP_BASE = TASK_SIZE - 128 * 1024 * 1024;
/** TASK_UNMAPPED_BASE: where the bottom-up fallback search starts (PAGE_ALIGN(TASK_SIZE / 3)). */
export const TASK_UNMAPPED_BASE = Math.ceil(TASK_SIZE / 3 / PAGE_SIZE) * PAGE_SIZE;
/** /proc/sys/vm/mmap_min_addr (CONFIG_DEFAULT_MMAP_MIN_ADDR=65536). */
export const MMAP_MIN_ADDR = 65536;
/** mm/mmap.c stack_guard_gap: 256 pages between a stack and the mapping below it. */
export const STACK_GUARD_GAP = 256 * PAGE_SIZE;
/** RLIMIT_STACK's usual soft limit (_STK_LIM). */
export const RLIMIT_STACK = 8 * 1024 * 1024;
/** /proc/sys/vm/max_map_count (DEFAULT_MAX_MAP_COUNT). */
export const MAX_MAP_COUNT = 65530;
/**
 * Where a small PIE's heap begins when randomization is off (ELF_ET_DYN_BASE 0x555555554aaa
 * page-aligned, after a few pages of program): the default start_brk of a new process.
 */
export const DEFAULT_START_BRK = 0x555555559000;
/** The first pid createProcess() hands out (pid 1 is init: its death panics the kernel). */
export const FIRST_PID = 1000;
/** The initial stack: 128 KiB expanded by setup_arg_pages() plus the page of arguments. */
export const INITIAL_STACK_SIZE = 0x21000;

// ---- x86-64 PTE bits (arch/x86/include/asm/pgtable_types.h) ----------------------------------
const _PAGE_PRESENT = 0x1;
const _PAGE_RW = 0x2;
const _PAGE_ACCESSED = 0x20;
const _PAGE_DIRTY = 0x40;
/** _PAGE_PROTNONE: a PROT_NONE page's entry — not present to the MMU, but still the page's. */
const _PAGE_PROTNONE = 0x100;
/** _PAGE_NX is bit 63: bit 31 of the entry's high word. */
const NX_HI = 0x80000000 | 0;
const PTE_SIZE = 8;
/** The first PML4 slot of the kernel half (pgd_index(PAGE_OFFSET) and everything above). */
const KERNEL_PGD_START = 256;
const PTRS_PER_TABLE = 512;

/**
 * An anonymous folio (vma_alloc_folio() adds __GFP_COMP); zeroed for a first touch
 * (vma_alloc_zeroed_movable_folio()). __GFP_NOWARN here only because the OOM killer below
 * stands where Linux's allocator would invoke it (__alloc_pages_may_oom()) — so, as there,
 * no allocation-failure report precedes it.
 */
const GFP_ANON: Gfp = GFP_HIGHUSER_MOVABLE | __GFP_COMP;
const GFP_ANON_ZERO: Gfp = GFP_ANON | __GFP_ZERO;

const hex16 = (n: number) => n.toString(16).padStart(16, '0');
/** Unsigned 64-bit hex of a possibly negative difference (ip - 42 below 0 wraps). */
const hexU64 = (n: number) => (n >= 0 ? n.toString(16) : (2n ** 64n + BigInt(n)).toString(16));

/** A vm_area_struct: [start, end) with vm_flags, and an anonymous VMA's name (prctl). */
export interface Vma {
  start: number;
  end: number;
  flags: number;
  /** anon_vma_name (PR_SET_VMA_ANON_NAME): shown as [anon:name] in the maps file. */
  name: string | null;
}

/** The process got SIGSEGV: the report is in the log and the process is gone. */
export class Segfault extends Error {
  readonly signal = SIGSEGV;
  constructor(
    message: string,
    /** SEGV_MAPERR (no mapping there) or SEGV_ACCERR (the mapping forbids the access). */
    readonly code: number,
    /** The faulting address (si_addr). */
    readonly addr: number,
    /** The x86 page-fault error code. */
    readonly errorCode: number,
    readonly pid: number,
  ) {
    super(message);
    this.name = 'Segfault';
  }
}

/** The process was killed (by the OOM killer) or had already exited. */
export class TaskExited extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TaskExited';
  }
}

/** The registers a report needs: where the process was executing, and its stack pointer. */
export interface UserRegs {
  ip: number;
  sp: number;
}

export interface CreateProcessOptions {
  /** The pid (must be free). @defaultValue the next free pid from 1 */
  pid?: number;
  /** start_brk: where the heap begins. @defaultValue DEFAULT_START_BRK */
  startBrk?: number;
  /** The instruction pointer reports print. @defaultValue 0 */
  ip?: number;
}

/** A process: a task with its own address space. */
export class Process {
  /** The mm_struct, null once the process has exited. */
  mm: MmStruct | null;
  readonly regs: UserRegs;
  /** Page faults handled for this process (min_flt; there are no major faults without files). */
  minFlt = 0;
  /** The signal that ended the process (SIGSEGV, SIGKILL), 0 for exit(), null while alive. */
  exitSignal: number | null = null;
  /** User-mode memory accesses, as the process's own instructions make them. */
  readonly mem: UserMemory;

  constructor(
    readonly us: UserSpace,
    readonly pid: number,
    public comm: string,
    mm: MmStruct,
    regs: UserRegs,
  ) {
    this.mm = mm;
    mm.owner = this;
    this.regs = regs;
    this.mem = new UserMemory(this);
  }

  get alive(): boolean {
    return this.mm !== null;
  }

  /** The live mm, or a TaskExited error. */
  liveMm(): MmStruct {
    if (this.mm === null)
      throw new TaskExited(
        `process ${this.pid} (${this.comm}) has exited (signal ${this.exitSignal})`,
      );
    return this.mm;
  }

  // The memory-management system calls, made by this process.
  mmap(addr: number, length: number, prot: number, flags: number, name?: string): number {
    return this.liveMm().mmap(addr, length, prot, flags, name);
  }
  munmap(addr: number, length: number): number {
    return this.liveMm().munmap(addr, length);
  }
  mprotect(addr: number, length: number, prot: number): number {
    return this.liveMm().mprotect(addr, length, prot);
  }
  brk(addr: number): number {
    return this.liveMm().brk(addr);
  }
  /** exit(): the address space goes back, every page and page table. */
  exit(): void {
    this.us.exitTask(this, 0);
  }
}

/** Whether `vma` may be merged with a neighbour of flags `flags` and name `name`. */
const mergeable = (a: Vma, flags: number, name: string | null) =>
  a.flags === flags && a.name === name && !(flags & VM_GROWSDOWN);

/** An mm_struct: the VMAs, the page tables, the counters. */
export class MmStruct {
  readonly pgd: PageTable;
  /** The PCID this address space's TLB entries carry. */
  readonly asid: number;
  /** The VMAs, sorted by address, never overlapping. */
  readonly vmas: Vma[] = [];
  startBrk: number;
  brkEnd: number;
  /** mm->start_stack. */
  readonly startStack: number;
  /** MM_ANONPAGES: anonymous pages mapped (resident set). */
  rss = 0;
  /** The kernel-half generation this pgd copied last. */
  kernelGen = -1;
  /** mm->owner: the process this address space belongs to (set when the process is made). */
  owner!: Process;

  constructor(
    readonly us: UserSpace,
    startBrk: number,
    startStack: number,
  ) {
    this.pgd = new PageTable(x86_64, us.memory, us.tableAllocator);
    this.asid = us.allocAsid();
    this.startBrk = startBrk;
    this.brkEnd = startBrk;
    this.startStack = startStack;
    us.syncKernelHalf(this);
  }

  /** total_vm in pages. */
  get totalVm(): number {
    let n = 0;
    for (const v of this.vmas) n += (v.end - v.start) / PAGE_SIZE;
    return n;
  }

  /** find_vma(): the first VMA that ends above `addr`, or null. */
  findVma(addr: number): Vma | null {
    const v = this.vmas;
    let lo = 0;
    let hi = v.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (v[mid]!.end > addr) hi = mid;
      else lo = mid + 1;
    }
    return lo < v.length ? v[lo]! : null;
  }

  /** vma_lookup(): the VMA containing `addr`, or null. */
  vmaLookup(addr: number): Vma | null {
    const v = this.findVma(addr);
    return v && v.start <= addr ? v : null;
  }

  private index(v: Vma): number {
    return this.vmas.indexOf(v);
  }

  /** The maps file's name of a VMA: [heap], [stack], [anon:name] or nothing. */
  vmaName(v: Vma): string | null {
    if (v.start <= this.brkEnd && v.end >= this.startBrk) return '[heap]';
    if (v.start <= this.startStack && v.end >= this.startStack) return '[stack]';
    return v.name === null ? null : `[anon:${v.name}]`;
  }

  // ---- get_unmapped_area (mm/mmap.c, arch/x86/kernel/sys_x86_64.c) ------------------------

  /** vm_start_gap(): a stack's start less its guard gap. */
  private startGap(v: Vma): number {
    return v.flags & VM_GROWSDOWN ? Math.max(0, v.start - STACK_GUARD_GAP) : v.start;
  }

  private fits(addr: number, len: number): boolean {
    if (addr < MMAP_MIN_ADDR || addr + len > TASK_SIZE) return false;
    const next = this.findVma(addr);
    return next === null || addr + len <= this.startGap(next);
  }

  /** Top-down from mmap_base, then bottom-up from TASK_UNMAPPED_BASE; -ENOMEM if full. */
  getUnmappedArea(hint: number, len: number): number {
    if (len > TASK_SIZE - MMAP_MIN_ADDR) return -ENOMEM;
    if (hint) {
      const a = Math.ceil(hint / PAGE_SIZE) * PAGE_SIZE;
      if (this.fits(a, len)) return a;
    }
    // vm_unmapped_area() top-down: the highest gap below mmap_base that holds len.
    let high = MMAP_BASE;
    for (let i = this.vmas.length - 1; i >= -1 && high > MMAP_MIN_ADDR; i--) {
      const v = i >= 0 ? this.vmas[i]! : null;
      const low = v ? v.end : MMAP_MIN_ADDR;
      if (low < high && high - low >= len) return high - len;
      if (v) high = Math.min(high, this.startGap(v));
    }
    // The bottom-up fallback (arch_get_unmapped_area()).
    let low = TASK_UNMAPPED_BASE;
    for (const v of this.vmas) {
      if (v.end <= low) continue;
      if (this.startGap(v) - low >= len) return low;
      low = Math.max(low, v.end);
    }
    return TASK_SIZE - low >= len ? low : -ENOMEM;
  }

  // ---- mmap, munmap, mprotect, brk ---------------------------------------------------------

  /**
   * mmap(addr, length, prot, flags): the start of the new mapping, or -errno as the system
   * call returns it. Only anonymous private mappings exist here (no files, no shmem).
   */
  mmap(addr: number, length: number, prot: number, flags: number, name?: string): number {
    for (const [what, v] of [
      ['addr', addr],
      ['length', length],
      ['prot', prot],
      ['flags', flags],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 0)
        throw new RangeError(`mmap: ${what} ${String(v)} is not an unsigned integer`);
    }
    if (name !== undefined && (typeof name !== 'string' || /[\\`$[\]]|[^\x20-\x7e]/.test(name)))
      throw new TypeError(`mmap: anon name ${JSON.stringify(name)} is not printable`);
    const type = flags & MAP_SHARED_VALIDATE;
    if (type === MAP_SHARED || type === MAP_SHARED_VALIDATE)
      throw new Error(
        'mmap: MAP_SHARED needs shmem (a file behind the pages), which mmsim does not simulate; use MAP_PRIVATE',
      );
    if (type !== MAP_PRIVATE) return -EINVAL;
    if (!(flags & MAP_ANONYMOUS))
      throw new Error(
        'mmap: file mappings need a file system, which mmsim does not simulate; use MAP_ANONYMOUS',
      );
    if (flags & ~MAP_KNOWN) return -EINVAL;
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) return -EINVAL;
    if (length === 0) return -EINVAL;
    const len = Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
    if (len > TASK_SIZE) return -ENOMEM;
    if (this.vmas.length >= MAX_MAP_COUNT) return -ENOMEM;
    let start: number;
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
      if (addr % PAGE_SIZE !== 0) return -EINVAL;
      if (addr + len > TASK_SIZE) return -ENOMEM;
      if (addr < MMAP_MIN_ADDR) return -EPERM; // security_mmap_addr()
      start = addr;
      if (flags & MAP_FIXED_NOREPLACE) {
        const v = this.findVma(start);
        if (v && v.start < start + len) return -EEXIST;
      } else this.unmapRange(start, start + len);
    } else {
      start = this.getUnmappedArea(addr, len);
      if (start < 0) return start;
    }
    let vmFlags = calcVmProtBits(prot) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    if (flags & MAP_GROWSDOWN) vmFlags |= VM_GROWSDOWN;
    this.insert({ start, end: start + len, flags: vmFlags, name: name ?? null });
    if (flags & MAP_POPULATE) this.us.populate(this, start, start + len);
    return start;
  }

  /** Insert a VMA into a free range, merging with equal neighbours (vma_merge_new_range()). */
  private insert(n: Vma): void {
    const v = this.vmas;
    let i = 0;
    while (i < v.length && v[i]!.start < n.start) i++;
    const prev = i > 0 ? v[i - 1]! : null;
    const next = i < v.length ? v[i]! : null;
    const withPrev = prev !== null && prev.end === n.start && mergeable(prev, n.flags, n.name);
    const withNext = next !== null && next.start === n.end && mergeable(next, n.flags, n.name);
    if (withPrev && withNext) {
      prev.end = next.end;
      v.splice(i, 1);
    } else if (withPrev) prev.end = n.end;
    else if (withNext) next.start = n.start;
    else v.splice(i, 0, n);
  }

  /** Split the VMAs so that `addr` is a boundary (split_vma()). */
  private splitAt(addr: number): void {
    const v = this.vmaLookup(addr);
    if (!v || v.start === addr) return;
    const tail: Vma = { start: addr, end: v.end, flags: v.flags, name: v.name };
    v.end = addr;
    this.vmas.splice(this.index(v) + 1, 0, tail);
  }

  /** Merge equal neighbours around [start, end) after a change (vma_modify()'s merges). */
  private mergeAround(start: number, end: number): void {
    const v = this.vmas;
    for (let i = Math.max(1, this.firstFrom(start)); i < v.length; i++) {
      const a = v[i - 1]!;
      const b = v[i]!;
      if (a.start >= end) break;
      if (a.end === b.start && mergeable(a, b.flags, b.name)) {
        a.end = b.end;
        v.splice(i, 1);
        i--;
      }
    }
  }

  private firstFrom(addr: number): number {
    const f = this.findVma(addr);
    return f ? this.index(f) : this.vmas.length;
  }

  /** do_vmi_munmap(): remove [start, end) from the VMAs and give back its pages. */
  private unmapRange(start: number, end: number): void {
    this.splitAt(start);
    this.splitAt(end);
    const i = this.firstFrom(start);
    while (i < this.vmas.length && this.vmas[i]!.start < end) this.vmas.splice(i, 1);
    this.us.zapRange(this, start, end);
  }

  /** munmap(addr, length): 0, or -EINVAL. */
  munmap(addr: number, length: number): number {
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || addr < 0 || length < 0)
      throw new RangeError(
        `munmap: (${String(addr)}, ${String(length)}) are not unsigned integers`,
      );
    if (addr % PAGE_SIZE !== 0 || length === 0) return -EINVAL;
    const len = Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
    if (len > TASK_SIZE || addr > TASK_SIZE - len) return -EINVAL;
    this.unmapRange(addr, addr + len);
    return 0;
  }

  /** mprotect(addr, length, prot): 0, -EINVAL, or -ENOMEM when part of the range is unmapped. */
  mprotect(addr: number, length: number, prot: number): number {
    if (![addr, length, prot].every((x) => Number.isSafeInteger(x) && x >= 0))
      throw new RangeError(`mprotect: (${addr}, ${length}, ${prot}) are not unsigned integers`);
    if (addr % PAGE_SIZE !== 0) return -EINVAL;
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) return -EINVAL;
    if (length === 0) return 0;
    const end = addr + Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
    if (end > TASK_SIZE) return -ENOMEM;
    // Every page of the range must be mapped.
    let at = addr;
    for (let v = this.vmaLookup(at); at < end; v = this.vmaLookup(at)) {
      if (!v) return -ENOMEM;
      at = v.end;
    }
    this.splitAt(addr);
    this.splitAt(end);
    const bits = calcVmProtBits(prot);
    for (let i = this.firstFrom(addr); i < this.vmas.length && this.vmas[i]!.start < end; i++) {
      const v = this.vmas[i]!;
      v.flags = (v.flags & ~(VM_READ | VM_WRITE | VM_EXEC)) | bits;
    }
    this.us.changeProtection(this, addr, end, bits);
    this.mergeAround(addr, end);
    return 0;
  }

  /** brk(addr): the new break, or the old one when it cannot move (sys_brk()). */
  brk(addr: number): number {
    if (!Number.isSafeInteger(addr) || addr < 0)
      throw new RangeError(`brk: ${String(addr)} is not an address`);
    if (addr < this.startBrk) return this.brkEnd;
    const newbrk = Math.ceil(addr / PAGE_SIZE) * PAGE_SIZE;
    const oldbrk = Math.ceil(this.brkEnd / PAGE_SIZE) * PAGE_SIZE;
    if (newbrk === oldbrk) {
      this.brkEnd = addr;
      return addr;
    }
    if (newbrk < oldbrk) {
      this.unmapRange(newbrk, oldbrk);
      this.brkEnd = addr;
      return addr;
    }
    // Growing: nothing may sit in [oldbrk, newbrk + PAGE_SIZE) (the guard page above).
    const next = this.findVma(oldbrk);
    if (newbrk > TASK_SIZE || (next && next.start < newbrk + PAGE_SIZE)) return this.brkEnd;
    this.insert({
      start: oldbrk,
      end: newbrk,
      flags: VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC,
      name: null,
    });
    this.brkEnd = addr;
    return addr;
  }

  /** expand_stack_locked(): grow a VM_GROWSDOWN VMA down to `addr`, or false. */
  expandStack(v: Vma, addr: number): boolean {
    const a = addr - (addr % PAGE_SIZE);
    if (v.end - a > RLIMIT_STACK || a < MMAP_MIN_ADDR) return false;
    const i = this.index(v);
    const prev = i > 0 ? this.vmas[i - 1]! : null;
    if (prev && prev.end > a - STACK_GUARD_GAP) return false;
    v.start = a;
    return true;
  }

  /** The text of /proc/<pid>/maps (fs/proc/task_mmu.c show_map_vma()). */
  maps(): string {
    let out = '';
    for (const v of this.vmas) {
      const hex = (n: number) => n.toString(16).padStart(8, '0');
      let line =
        `${hex(v.start)}-${hex(v.end)} ` +
        `${v.flags & VM_READ ? 'r' : '-'}${v.flags & VM_WRITE ? 'w' : '-'}${v.flags & VM_EXEC ? 'x' : '-'}` +
        `${v.flags & VM_MAYSHARE ? 's' : 'p'} 00000000 00:00 0 `;
      const name = this.vmaName(v);
      // seq_setwidth(25 + sizeof(void *) * 6 - 1) then seq_pad(m, ' ').
      if (name !== null) line = `${line.padEnd(72)} ${name}`;
      out += `${line}\n`;
    }
    return out;
  }
}

/** calc_vm_prot_bits(): PROT_* to VM_*. */
export function calcVmProtBits(prot: number): number {
  return (
    (prot & PROT_READ ? VM_READ : 0) |
    (prot & PROT_WRITE ? VM_WRITE : 0) |
    (prot & PROT_EXEC ? VM_EXEC : 0)
  );
}

/**
 * User-mode loads and stores of one process, through the current CPU's MMU: every access
 * carries ACCESS_USER, and a fault the kernel cannot resolve is SIGSEGV.
 */
export class UserMemory extends VirtualMemory {
  constructor(private readonly task: Process) {
    super(task.us.memory);
  }

  protected pa(va: number, access: number): number {
    return this.task.us.userAccess(this.task, va, access | ACCESS_USER);
  }

  /** An instruction fetch at `va` (the NX bit and VM_EXEC decide); returns the byte. */
  fetch(va: number): number {
    return this.phys.read8(this.pa(va, ACCESS_EXEC));
  }
}

/**
 * Page-table pages from the page allocator, for init_mm and for processes: zeroed, typed
 * PGTY_table by pagetable_*_ctor() (since 6.16 the kernel's own tables too: "Always call
 * constructor for kernel page tables") and untyped by pagetable_dtor(), counted per node in
 * `byNode`. `changed(freed)` runs after each table comes or goes.
 */
export function tablePageAllocator(
  pages: PageAllocator,
  memMap: MemMap,
  byNode: Int32Array,
  changed?: (freed: boolean) => void,
): TableAllocator {
  const order = (size: number) => Math.max(0, Math.log2(size) - PAGE_SHIFT);
  return {
    allocTable: (size: number) => {
      const pfn = pages.allocPages(GFP_KERNEL | __GFP_ZERO, order(size));
      if (pfn === NO_PAGE) return -1;
      memMap.pageType[pfn] = PGTY_table;
      byNode[memMap.node[pfn]!]!++;
      changed?.(false);
      return pfn * PAGE_SIZE;
    },
    freeTable: (pa: number, size: number) => {
      const pfn = pa / PAGE_SIZE;
      byNode[memMap.node[pfn]!]!--;
      memMap.pageType[pfn] = PGTY_NONE;
      pages.freePages(pfn, order(size));
      changed?.(true);
    },
  };
}

/**
 * The kernel's side of user space: the task list, PCIDs, the zero page, the fault handler
 * and the counters /proc/vmstat and /proc/meminfo show.
 */
export class UserSpace {
  readonly memory: Kernel['memory'];
  readonly tableAllocator: TableAllocator;
  readonly tasks = new Map<number, Process>();
  /** The mm each CPU's MMU has loaded (null: init_mm). */
  private readonly cpuMm: (MmStruct | null)[];
  /** Pids below are the boot's: init (1), kthreadd (2) and the kernel threads. */
  private nextPid = FIRST_PID;
  private nextAsid = 1;
  /** The shared zero page's pfn (empty_zero_page), allocated on first use. */
  zeroPfn = NO_PAGE;
  /** Bumped whenever init_mm's page tables gain or lose a table. */
  kernelGen = 0;
  /** vmstat: pgfault, pgreuse; NR_ANON_MAPPED, also per node. */
  pgfault = 0;
  pgreuse = 0;
  anonPages = 0;
  readonly anonByNode: Int32Array;
  /** Processes' page-table pages per node. */
  readonly tablesByNode: Int32Array;

  constructor(private readonly k: Kernel) {
    this.memory = k.memory;
    this.cpuMm = new Array<MmStruct | null>(k.machine.nrCpus).fill(null);
    this.anonByNode = new Int32Array(k.machine.nrNodes);
    this.tablesByNode = new Int32Array(k.machine.nrNodes);
    // GFP_PGTABLE_USER: zeroed kernel pages, accounted to the process.
    this.tableAllocator = tablePageAllocator(k.pages, k.env.memMap, this.tablesByNode);
  }

  /** Page-table pages all processes hold. */
  get tablePages(): number {
    let n = 0;
    for (const x of this.tablesByNode) n += x;
    return n;
  }

  allocAsid(): number {
    // PCIDs 1..4095 (0 is init_mm's). On wrap every CPU starts afresh.
    if (this.nextAsid > 4095) {
      this.nextAsid = 1;
      for (const m of this.k.mmus) m.flushNonGlobal();
    }
    return this.nextAsid++;
  }

  /** Copy init_mm's kernel half (PML4 slots 256..511) into a process's top table. */
  syncKernelHalf(mm: MmStruct): void {
    const off = KERNEL_PGD_START * PTE_SIZE;
    this.memory.copy(
      mm.pgd.root + off,
      this.k.pgd.root + off,
      (PTRS_PER_TABLE - KERNEL_PGD_START) * PTE_SIZE,
    );
    mm.kernelGen = this.kernelGen;
  }

  /** init_mm lost a table: no process may keep pointing at it. */
  kernelTablesChanged(freed: boolean): void {
    this.kernelGen++;
    if (freed) for (const t of this.tasks.values()) if (t.mm) this.syncKernelHalf(t.mm);
  }

  /**
   * A kernel address faulted while a process's tables were loaded: if init_mm has a newer
   * kernel half, copy it and say to retry (the old x86 vmalloc_fault()).
   */
  syncOnKernelFault(): boolean {
    const mm = this.cpuMm[this.k.ctx.cpu];
    if (!mm || mm.kernelGen === this.kernelGen) return false;
    this.syncKernelHalf(mm);
    return true;
  }

  /** The process running on the current CPU, if any. */
  get current(): Process | null {
    const t = this.k.ctx.task;
    return t instanceof Process && t.us === this && t.mm ? t : null;
  }

  createProcess(comm: string, options: CreateProcessOptions = {}): Process {
    if (typeof comm !== 'string' || comm.length === 0)
      throw new TypeError(
        `createProcess: comm must be a non-empty string, got ${JSON.stringify(comm)}`,
      );
    const pid = this.takePid(options.pid);
    const startBrk = options.startBrk ?? DEFAULT_START_BRK;
    if (
      !Number.isSafeInteger(startBrk) ||
      startBrk % PAGE_SIZE !== 0 ||
      startBrk < MMAP_MIN_ADDR ||
      startBrk >= MMAP_BASE
    )
      throw new RangeError(
        `createProcess: startBrk 0x${Number(startBrk).toString(16)} is not a page-aligned user address`,
      );
    const mm = new MmStruct(this, startBrk, STACK_TOP - PAGE_SIZE);
    // The initial stack (setup_arg_pages()): VM_STACK_DEFAULT_FLAGS, growing down.
    mm.vmas.push({
      start: STACK_TOP - INITIAL_STACK_SIZE,
      end: STACK_TOP,
      flags: VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_GROWSDOWN,
      name: null,
    });
    const task = new Process(this, pid, comm.slice(0, 15), mm, {
      ip: options.ip ?? 0,
      sp: mm.startStack,
    });
    this.tasks.set(pid, task);
    return task;
  }

  private takePid(pid?: number): number {
    if (pid !== undefined) {
      if (!Number.isInteger(pid) || pid < 1 || pid > 4194304)
        throw new RangeError(`createProcess: pid ${String(pid)} is outside 1..4194304`);
      if (this.tasks.has(pid)) throw new RangeError(`createProcess: pid ${pid} is in use`);
      return pid;
    }
    while (this.tasks.has(this.nextPid)) this.nextPid++;
    return this.nextPid++;
  }

  /** Make `task` current on this CPU, loading its page tables (switch_mm_irqs_off()). */
  switchTo(task: Process): void {
    const mm = task.liveMm();
    const cpu = this.k.ctx.cpu;
    if (this.cpuMm[cpu] !== mm) {
      if (mm.kernelGen !== this.kernelGen) this.syncKernelHalf(mm);
      this.k.mmus[cpu]!.setRoot(mm.pgd.root, mm.asid);
      this.cpuMm[cpu] = mm;
    }
    if (this.k.ctx.task !== task) this.k.ctx.task = task;
  }

  /**
   * The current CPU runs its idle task, swapper/N (pid 0), as after schedule() with nothing
   * runnable. Like any kernel thread it borrows the last mm (enter_lazy_tlb()): the page
   * tables stay loaded, and the kernel half is the same in all of them.
   */
  switchToIdle(): void {
    this.k.ctx.task = { pid: 0, comm: `swapper/${this.k.ctx.cpu}` };
  }

  // ---- the fault path ----------------------------------------------------------------------

  /** Translate a user access of `task`, handling faults; a bad one is SIGSEGV. */
  userAccess(task: Process, va: number, access: number): number {
    if (!Number.isSafeInteger(va) || va < 0 || va >= 2 ** 48)
      throw new RangeError(`user address ${String(va)} is not a 48-bit virtual address`);
    if (this.k.ctx.task !== task || this.cpuMm[this.k.ctx.cpu] !== task.mm) this.switchTo(task);
    const mmu = this.k.mmu;
    for (let tries = 0; ; tries++) {
      const pa = mmu.translate(va, access);
      if (pa >= 0) return pa;
      const code = mmu.errorCode;
      const si = tries < 4 ? this.doUserAddrFault(task, va, code) : SEGV_ACCERR;
      if (si !== 0) throw this.segfault(task, va, code, si);
    }
  }

  /**
   * A kernel-mode fault on a user address (copy_from_user, or a plain access): handled as the
   * process's fault; false when there is nothing to map (the caller fixes up or Oopses).
   */
  kernelFaultOnUser(va: number, errorCode: number): boolean {
    const task = this.current;
    if (!task || va >= TASK_SIZE) return false;
    return this.doUserAddrFault(task, va, errorCode) === 0;
  }

  /** do_user_addr_fault(): 0 when handled, else the SIGSEGV si_code. */
  doUserAddrFault(task: Process, va: number, errorCode: number): number {
    const mm = task.liveMm();
    if (va >= TASK_SIZE) return SEGV_MAPERR; // a kernel address from user mode
    let vma = mm.findVma(va);
    if (!vma) return SEGV_MAPERR;
    if (va < vma.start) {
      if (!(vma.flags & VM_GROWSDOWN) || !mm.expandStack(vma, va)) return SEGV_MAPERR;
      vma = mm.findVma(va)!;
    }
    if (accessError(errorCode, vma)) return SEGV_ACCERR;
    return this.handleMmFault(task, mm, vma, va, (errorCode & X86_PF_WRITE) !== 0);
  }

  /** The PTE's address for `va`, or -1 when a table on the way is missing. */
  private ptep(mm: MmStruct, va: number): number {
    const m = this.memory;
    let table = mm.pgd.root;
    for (let l = 0; l < 3; l++) {
      const e = table + (Math.floor(va / 2 ** (39 - 9 * l)) % PTRS_PER_TABLE) * PTE_SIZE;
      const lo = m.read32(e);
      if (!(lo & _PAGE_PRESENT)) {
        this.missSpan = 2 ** (39 - 9 * l);
        return -1;
      }
      table = (lo & ~0xfff) >>> 0;
      table += (m.read32(e + 4) & 0xfffff) * 2 ** 32;
    }
    return table + (Math.floor(va / PAGE_SIZE) % PTRS_PER_TABLE) * PTE_SIZE;
  }
  /** The span a missing table covered, for walks that skip it. */
  private missSpan = PAGE_SIZE;

  private ptePfn(e: number): number {
    const m = this.memory;
    return ((m.read32(e) & ~0xfff) >>> 0) / PAGE_SIZE + (m.read32(e + 4) & 0xfffff) * 2 ** 20;
  }

  /** The PROT_* a VMA's pages get, without write when the page must stay read-only. */
  private protOf(flags: number, writable: boolean): number {
    return (
      PROT_USER |
      PROT_READ |
      (writable && flags & VM_WRITE ? PROT_WRITE : 0) |
      (flags & VM_EXEC ? PROT_EXEC : 0)
    );
  }

  private flushPage(mm: MmStruct, va: number): void {
    for (const m of this.k.mmus) m.flushPage(va, mm.asid);
  }

  /** A new anonymous page, or the OOM killer; NO_PAGE when `task` itself was killed. */
  private allocAnon(task: Process, zero: boolean): number {
    for (;;) {
      const gfp = zero ? GFP_ANON_ZERO : GFP_ANON;
      const pfn = this.k.pages.allocPages(gfp | __GFP_NOWARN, 0);
      if (pfn !== NO_PAGE) {
        const mm = this.k.env.memMap;
        mm.mapcount[pfn] = 1;
        this.anonPages++;
        this.anonByNode[mm.node[pfn]!]!++;
        return pfn;
      }
      if (!this.oomKill(task, gfp)) return NO_PAGE;
    }
  }

  /** handle_mm_fault() for an anonymous private VMA: 0, or SEGV when the process was killed. */
  private handleMmFault(task: Process, mm: MmStruct, vma: Vma, va: number, write: boolean): number {
    this.pgfault++;
    task.minFlt++;
    const page = va - (va % PAGE_SIZE);
    const e = this.ptep(mm, page);
    const lo = e >= 0 ? this.memory.read32(e) : 0;
    if (!(lo & (_PAGE_PRESENT | _PAGE_PROTNONE))) {
      // do_anonymous_page(): a read maps the zero page; a write gets a zeroed page of its own.
      if (!write) {
        if (this.zeroPfn === NO_PAGE) {
          this.zeroPfn = this.k.pages.allocPages(GFP_KERNEL | __GFP_ZERO, 0);
          if (this.zeroPfn === NO_PAGE) return this.killed(task);
        }
        return this.setPte(task, mm, page, this.zeroPfn, this.protOf(vma.flags, false));
      }
      const pfn = this.allocAnon(task, true);
      if (pfn === NO_PAGE) return this.killed(task);
      if (!task.mm) return this.killed(task);
      mm.rss++;
      return this.setPte(task, mm, page, pfn, this.protOf(vma.flags, true));
    }
    if (!(lo & _PAGE_PRESENT)) {
      // A PROT_NONE entry in a VMA that allows the access again.
      this.changeProtection(mm, page, page + PAGE_SIZE, vma.flags);
      return 0;
    }
    if (write && !(lo & _PAGE_RW)) return this.doWpPage(task, mm, vma, page, e);
    // Spurious: the TLB held an older entry (flush_tlb_fix_spurious_fault()).
    this.k.mmu.flushPage(va, mm.asid);
    return 0;
  }

  private setPte(task: Process, mm: MmStruct, page: number, pfn: number, prot: number): number {
    if (mm.pgd.map(page, pfn * PAGE_SIZE, PAGE_SIZE, prot) !== 0) {
      // No memory for a page table.
      if (pfn !== this.zeroPfn) this.putAnon(pfn, mm);
      if (!this.oomKill(task, GFP_KERNEL)) return this.killed(task);
      return task.mm ? 0 : this.killed(task);
    }
    this.flushPage(mm, page);
    return 0;
  }

  private killed(task: Process): number {
    if (task.mm) this.exitTask(task, SIGKILL);
    return -1;
  }

  /** do_wp_page(): a write to a read-only PTE of a writable VMA — reuse or copy. */
  private doWpPage(task: Process, mm: MmStruct, vma: Vma, page: number, e: number): number {
    const pfn = this.ptePfn(e);
    const mmap = this.k.env.memMap;
    if (pfn !== this.zeroPfn && mmap.refcount[pfn] === 1) {
      // wp_page_reuse(): the page is ours alone.
      this.memory.write32(e, this.memory.read32(e) | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED);
      this.pgreuse++;
      this.flushPage(mm, page);
      return 0;
    }
    // wp_page_copy(): a page of our own, zeroed for the zero page, else a copy.
    const isZero = pfn === this.zeroPfn;
    const n = this.allocAnon(task, isZero);
    if (n === NO_PAGE || !task.mm) return this.killed(task);
    if (!isZero) {
      this.memory.copy(n * PAGE_SIZE, pfn * PAGE_SIZE, PAGE_SIZE);
      this.putAnon(pfn, null);
    } else mm.rss++;
    return this.setPte(task, mm, page, n, this.protOf(vma.flags, true));
  }

  /** Drop one mapping of an anonymous page (page_remove_rmap() + put_page()). */
  private putAnon(pfn: number, mm: MmStruct | null): void {
    const mmap = this.k.env.memMap;
    if (--mmap.mapcount[pfn]! === 0) {
      this.anonPages--;
      this.anonByNode[mmap.node[pfn]!]!--;
    }
    if (mm) mm.rss--;
    this.k.pages.freePages(pfn, 0);
  }

  /** MAP_POPULATE (populate_vma_page_range()): fault in every page now. */
  populate(mm: MmStruct, start: number, end: number): void {
    const task = mm.owner;
    for (let a = start; a < end; a += PAGE_SIZE) {
      const v = mm.vmaLookup(a);
      if (!v || !(v.flags & (VM_READ | VM_WRITE | VM_EXEC))) continue;
      if (this.handleMmFault(task, mm, v, a, (v.flags & VM_WRITE) !== 0) !== 0) return;
      const e = this.ptep(mm, a);
      if (v.flags & VM_WRITE && e >= 0 && !(this.memory.read32(e) & _PAGE_RW))
        this.handleMmFault(task, mm, v, a, true);
    }
  }

  /** Visit each PTE (present or PROT_NONE) of [start, end): fn(entryAddr, va). */
  private forEachPte(
    mm: MmStruct,
    start: number,
    end: number,
    fn: (e: number, va: number) => void,
  ): void {
    for (let a = start; a < end; ) {
      const e = this.ptep(mm, a);
      if (e < 0) {
        a = Math.floor(a / this.missSpan) * this.missSpan + this.missSpan;
        continue;
      }
      // One page table: up to 512 entries.
      const tableEnd = Math.min(end, Math.floor(a / 2 ** 21) * 2 ** 21 + 2 ** 21);
      for (let pe = e; a < tableEnd; a += PAGE_SIZE, pe += PTE_SIZE) {
        if (this.memory.read32(pe) & (_PAGE_PRESENT | _PAGE_PROTNONE)) fn(pe, a);
      }
    }
  }

  /** zap_page_range(): give back the pages of [start, end) and clear their entries. */
  zapRange(mm: MmStruct, start: number, end: number): void {
    const m = this.memory;
    this.forEachPte(mm, start, end, (e) => {
      const pfn = this.ptePfn(e);
      if (pfn !== this.zeroPfn) this.putAnon(pfn, mm);
      // PROT_NONE entries are not present to pgd.unmap(): clear them here.
      if (!(m.read32(e) & _PAGE_PRESENT)) {
        m.write32(e, 0);
        m.write32(e + 4, 0);
      }
    });
    // Clear the present entries and free the page tables that became empty (free_pgtables()).
    mm.pgd.unmap(start, end - start);
    for (const mmu of this.k.mmus) mmu.flushRange(start, end, mm.asid);
  }

  /** change_protection(): rewrite the PTEs of [start, end) for VM_* `bits`. */
  changeProtection(mm: MmStruct, start: number, end: number, bits: number): void {
    const mmap = this.k.env.memMap;
    const m = this.memory;
    this.forEachPte(mm, start, end, (e) => {
      let lo = m.read32(e);
      let hi = m.read32(e + 4);
      if (!(bits & (VM_READ | VM_WRITE | VM_EXEC))) {
        lo = (lo & ~_PAGE_PRESENT) | _PAGE_PROTNONE;
      } else {
        const pfn = this.ptePfn(e);
        // Writable only where no one else can see the write (an exclusive anon page).
        const w = bits & VM_WRITE && pfn !== this.zeroPfn && mmap.refcount[pfn] === 1;
        lo = ((lo | _PAGE_PRESENT) & ~(_PAGE_PROTNONE | _PAGE_RW)) | (w ? _PAGE_RW : 0);
        hi = bits & VM_EXEC ? hi & ~NX_HI : hi | NX_HI;
      }
      m.write32(e, lo);
      m.write32(e + 4, hi);
    });
    for (const mmu of this.k.mmus) mmu.flushRange(start, end, mm.asid);
  }

  /** fork(): a child sharing every page copy-on-write (dup_mmap(), copy_present_pte()). */
  fork(parent: Process, comm = parent.comm): Process {
    const pm = parent.liveMm();
    const pid = this.takePid();
    const mm = new MmStruct(this, pm.startBrk, pm.startStack);
    mm.brkEnd = pm.brkEnd;
    const mmap = this.k.env.memMap;
    const m = this.memory;
    for (const v of pm.vmas) {
      mm.vmas.push({ ...v });
      this.forEachPte(pm, v.start, v.end, (e, va) => {
        const pfn = this.ptePfn(e);
        let lo = m.read32(e);
        if (pfn !== this.zeroPfn) {
          mmap.refcount[pfn]!++;
          mmap.mapcount[pfn]!++;
          mm.rss++;
          // A private writable page is now shared: read-only in both until written.
          lo &= ~_PAGE_RW;
          m.write32(e, lo);
        }
        const prot = this.protOf(v.flags, false);
        if (mm.pgd.map(va, pfn * PAGE_SIZE, PAGE_SIZE, prot) !== 0)
          throw new Error('fork: out of memory for page tables');
        if (lo & _PAGE_PROTNONE) {
          const ce = this.ptep(mm, va);
          m.write32(ce, (m.read32(ce) & ~_PAGE_PRESENT) | _PAGE_PROTNONE);
        }
      });
    }
    for (const mmu of this.k.mmus) mmu.flushAsid(pm.asid);
    const child = new Process(this, pid, comm.slice(0, 15), mm, { ...parent.regs });
    this.tasks.set(pid, child);
    return child;
  }

  /** do_exit() → exit_mmap(): every page and page table back; the task leaves the list. */
  exitTask(task: Process, signal: number): void {
    const mm = task.mm;
    if (!mm) return;
    for (const v of mm.vmas) this.zapRange(mm, v.start, v.end);
    mm.vmas.length = 0;
    this.freeUserTables(mm);
    for (let cpu = 0; cpu < this.cpuMm.length; cpu++) {
      if (this.cpuMm[cpu] === mm) {
        this.k.mmus[cpu]!.setRoot(this.k.pgd.root, 0);
        this.cpuMm[cpu] = null;
      }
    }
    for (const mmu of this.k.mmus) mmu.flushAsid(mm.asid);
    task.mm = null;
    task.exitSignal = signal;
    this.tasks.delete(task.pid);
    if (this.k.ctx.task === task) this.switchToIdle();
    if (task.pid === 1) {
      // kernel/exit.c do_exit(): is_global_init(tsk).
      throw this.k.ctx.panic(
        `Attempted to kill init! exitcode=0x${(signal || 0).toString(16).padStart(8, '0')}`,
      );
    }
  }

  /** free_pgtables() of the whole user half, then the top table (pgd_free()). */
  private freeUserTables(mm: MmStruct): void {
    const m = this.memory;
    const freeTable = (pa: number, level: number) => {
      if (level < 3) {
        for (let i = 0; i < PTRS_PER_TABLE; i++) {
          const lo = m.read32(pa + i * PTE_SIZE);
          if (lo & _PAGE_PRESENT)
            freeTable(
              ((lo & ~0xfff) >>> 0) + (m.read32(pa + i * PTE_SIZE + 4) & 0xfffff) * 2 ** 32,
              level + 1,
            );
        }
      }
      this.tableAllocator.freeTable(pa, PAGE_SIZE);
      mm.pgd.tablePages--;
    };
    for (let i = 0; i < KERNEL_PGD_START; i++) {
      const e = mm.pgd.root + i * PTE_SIZE;
      const lo = m.read32(e);
      if (lo & _PAGE_PRESENT)
        freeTable(((lo & ~0xfff) >>> 0) + (m.read32(e + 4) & 0xfffff) * 2 ** 32, 1);
    }
    this.tableAllocator.freeTable(mm.pgd.root, PAGE_SIZE);
    mm.pgd.tablePages--;
  }

  /**
   * The OOM killer (mm/oom_kill.c): the process with the most pages (oom_badness(): rss +
   * page tables) is killed. True when memory was freed and the allocation may be retried.
   */
  private oomKill(current: Process, gfp: Gfp): boolean {
    const klog = this.k.klog;
    let victim: Process | null = null;
    let best = -1;
    for (const t of this.tasks.values()) {
      if (!t.mm) continue;
      const points = t.mm.rss + t.mm.pgd.tablePages;
      if (points > best) {
        best = points;
        victim = t;
      }
    }
    // dump_header(): who asked, the stack, show_mem(), the task list.
    klog.printk(
      KERN_WARNING,
      `${current.comm} invoked oom-killer: gfp_mask=0x${gfp.toString(16)}(${formatGfp(gfp)}), order=0, oom_score_adj=0`,
    );
    this.k.ctx.dumpStack([
      'dump_header',
      'oom_kill_process',
      'out_of_memory',
      '__alloc_pages_slowpath.constprop.0',
      '__alloc_pages_noprof',
      'alloc_pages_mpol_noprof',
      'vma_alloc_folio_noprof',
      'do_anonymous_page',
      'handle_mm_fault',
      'do_user_addr_fault',
      'exc_page_fault',
      'asm_exc_page_fault',
    ]);
    (this.k.pages as { showMem?: () => void }).showMem?.();
    klog.printk(KERN_INFO, 'Tasks state (memory values in pages):');
    klog.printk(
      KERN_INFO,
      '[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name',
    );
    const col = (n: number, w: number) => String(n).padStart(w);
    for (const t of this.tasks.values()) {
      const m = t.mm;
      if (!m) continue;
      klog.printk(
        KERN_INFO,
        `[${col(t.pid, 7)}] ${col(0, 5)} ${col(t.pid, 5)} ${col(m.totalVm, 8)} ${col(m.rss, 8)} ${col(m.rss, 8)} ${col(0, 8)} ${col(0, 9)} ${col(m.pgd.tablePages * PAGE_SIZE, 8)} ${col(0, 8)}         ${col(0, 5)} ${t.comm}`,
      );
    }
    if (!victim || best <= 0) {
      // mm/oom_kill.c out_of_memory(): nothing left to kill.
      throw this.k.ctx.panic('System is deadlocked on memory');
    }
    const vm = victim.mm!;
    klog.printk(
      KERN_INFO,
      `oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=${this.allNodes()},global_oom,task_memcg=/,task=${victim.comm},pid=${victim.pid},uid=0`,
    );
    klog.printk(
      KERN_ERR,
      `Out of memory: Killed process ${victim.pid} (${victim.comm}) total-vm:${vm.totalVm * 4}kB, anon-rss:${vm.rss * 4}kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:${vm.pgd.tablePages * 4}kB oom_score_adj:0`,
    );
    this.exitTask(victim, SIGKILL);
    return victim !== current;
  }

  /** mems_allowed of the root cpuset: every node, as %*pbl prints a range. */
  private allNodes(): string {
    const n = this.k.machine.nrNodes;
    return n === 1 ? '0' : `0-${n - 1}`;
  }

  /** The SIGSEGV a bad user access ends in: the report, the process killed, the error. */
  private segfault(task: Process, addr: number, errorCode: number, code: number): Error {
    if (code < 0 || !task.mm) {
      return new TaskExited(`process ${task.pid} (${task.comm}) was killed (out of memory)`);
    }
    const { ip, sp } = task.regs;
    const cpu = this.k.ctx.cpu;
    const level = task.pid > 1 ? KERN_INFO : KERN_EMERG;
    const line =
      `${task.comm}[${task.pid}]: segfault at ${addr.toString(16)} ip ${hex16(ip)} sp ${hex16(sp)} error ${errorCode.toString(16)}` +
      ` likely on CPU ${cpu} (core ${cpu}, socket ${this.k.machine.cpuToNode(cpu)})`;
    const code2 = this.showOpcodes(task.liveMm(), ip);
    this.k.klog.printk(level, line);
    this.k.klog.printk(level, code2);
    this.exitTask(task, SIGSEGV);
    return new Segfault(`${line}\n${code2}`, code, addr, errorCode, task.pid);
  }

  /** arch/x86/kernel/dumpstack.c show_opcodes(): 42 bytes before ip, <ip>, 21 after. */
  private showOpcodes(mm: MmStruct, ip: number): string {
    const prologue = ip - 42;
    const bytes: number[] = [];
    // copy_from_user_nmi(): present user pages only, no faults taken.
    for (let a = prologue; a < prologue + 64; a++) {
      const e = a >= 0 && a < TASK_SIZE ? this.ptep(mm, a) : -1;
      if (e < 0 || !(this.memory.read32(e) & _PAGE_PRESENT)) {
        return `Code: Unable to access opcode bytes at 0x${hexU64(prologue)}.`;
      }
      bytes.push(this.memory.read8(this.ptePfn(e) * PAGE_SIZE + (a % PAGE_SIZE)));
    }
    const h = (b: number) => b.toString(16).padStart(2, '0');
    return `Code: ${bytes.slice(0, 42).map(h).join(' ')} <${h(bytes[42]!)}> ${bytes.slice(43).map(h).join(' ')}`;
  }
}

/** arch/x86/mm/fault.c access_error(): whether the VMA forbids this access. */
function accessError(errorCode: number, vma: Vma): boolean {
  if (errorCode & X86_PF_WRITE) return !(vma.flags & VM_WRITE);
  if (errorCode & X86_PF_PROT) return true; // read (or fetch) of a present page it may not
  return !(vma.flags & (VM_READ | VM_WRITE | VM_EXEC));
}
