/**
 * Kernel virtual memory as the CPU sees it: every access is translated by the current CPU's
 * MMU (its TLBs, then a page walk of init_mm's tables), so an address that is not mapped —
 * NULL, a vmalloc guard page, a freed vmalloc area — faults, and a kernel-mode fault is the
 * Oops of arch/x86/mm/fault.c (page_fault_oops() → show_fault_oops()):
 *
 *     BUG: unable to handle page fault for address: ffffc90000004000
 *     #PF: supervisor read access in kernel mode
 *     #PF: error_code(0x0000) - not-present page
 *     Oops: Oops: 0000 [#1] PREEMPT SMP NOPTI
 *
 * thrown as a KernelOops after the report is in the log. Accesses that cross a page are
 * split at the page boundary and translated page by page, as the hardware does.
 */
import { ACCESS_READ, ACCESS_WRITE } from '@mmsim/core';
import type { Kernel } from './kernel.js';
import { pageFaultOopsLines } from './kernel.js';
import { TASK_SIZE } from './mm.js';
import { VirtualMemory } from './vmem.js';

/** Kernel virtual memory, through the current CPU's MMU in supervisor mode. */
export class KernelMemory extends VirtualMemory {
  constructor(private readonly k: Kernel) {
    super(k.memory);
  }

  /** The physical address of `va` for an access, or the Oops. */
  protected pa(va: number, access: number): number {
    if (!Number.isSafeInteger(va) || va < 0 || va >= 2 ** 48) {
      throw new RangeError(`kernel address ${String(va)} is not a 48-bit virtual address`);
    }
    const mmu = this.k.mmu;
    let pa = mmu.translate(va, access);
    if (pa >= 0) return pa;
    // A fault the kernel can resolve: a process's page not yet there, or (with a process's
    // tables loaded) a kernel-half entry newer than its copy.
    for (let tries = 0; tries < 4 && this.resolve(va, mmu.errorCode); tries++) {
      pa = mmu.translate(va, access);
      if (pa >= 0) return pa;
    }
    const code = mmu.errorCode;
    throw this.k.ctx.oops(pageFaultOopsLines(va, code), 'Oops', code, [
      `${access & ACCESS_WRITE ? 'memset' : 'memcpy'}_orig+0x0/0x0`,
    ]);
  }

  private resolve(va: number, errorCode: number): boolean {
    const us = this.k.userspace;
    return va >= TASK_SIZE ? us.syncOnKernelFault() : us.kernelFaultOnUser(va, errorCode);
  }

  /**
   * The physical address of user address `va` for a uaccess (copy_to_user/copy_from_user):
   * faults are handled for the current process; -1 where nothing can be mapped (the
   * exception-table fixup, not an Oops).
   */
  userPa(va: number, write: boolean): number {
    const mmu = this.k.mmu;
    const access = write ? ACCESS_WRITE : ACCESS_READ;
    for (let tries = 0; tries < 4; tries++) {
      const pa = mmu.translate(va, access);
      if (pa >= 0) return pa;
      if (!this.k.userspace.kernelFaultOnUser(va, mmu.errorCode)) return -1;
    }
    return -1;
  }
}
