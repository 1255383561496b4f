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
import { ACCESS_READ, ACCESS_WRITE, formatPtr, PAGE_SIZE } from '@mmsim/core';
import type { Kernel } from './kernel.js';
import { pageFaultOopsLines } from './kernel.js';
import { TASK_SIZE } from './mm.js';

export class KernelMemory {
  constructor(private readonly k: Kernel) {}

  /** The physical address of `va` for an access, or the Oops. */
  private pa(va: number, access: number): number {
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

  /** Bytes of `len` at `va`, page by page. */
  private each(
    va: number,
    len: number,
    access: number,
    fn: (pa: number, n: number, done: number) => void,
  ): void {
    if (!Number.isSafeInteger(len) || len < 0)
      throw new RangeError(`length ${String(len)} is not a size_t`);
    let done = 0;
    while (done < len) {
      const a = va + done;
      const n = Math.min(len - done, PAGE_SIZE - (a % PAGE_SIZE));
      fn(this.pa(a, access), n, done);
      done += n;
    }
  }

  read8(va: number): number {
    return this.k.memory.read8(this.pa(va, ACCESS_READ));
  }
  read16(va: number): number {
    if (va % PAGE_SIZE <= PAGE_SIZE - 2) return this.k.memory.read16(this.pa(va, ACCESS_READ));
    const b = this.readBytes(va, 2);
    return b[0]! | (b[1]! << 8);
  }
  read32(va: number): number {
    if (va % PAGE_SIZE <= PAGE_SIZE - 4) return this.k.memory.read32(this.pa(va, ACCESS_READ));
    const b = this.readBytes(va, 4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }
  /** A 64-bit value, as a bigint (the API edge; hot code uses read32 twice). */
  read64(va: number): bigint {
    const lo = this.read32(va);
    const hi = this.read32(va + 4);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  write8(va: number, value: number): void {
    this.k.memory.write8(this.pa(va, ACCESS_WRITE), value);
  }
  write16(va: number, value: number): void {
    this.writeBytes(va, [value & 0xff, (value >>> 8) & 0xff]);
  }
  write32(va: number, value: number): void {
    if (va % PAGE_SIZE <= PAGE_SIZE - 4) this.k.memory.write32(this.pa(va, ACCESS_WRITE), value);
    else
      this.writeBytes(va, [
        value & 0xff,
        (value >>> 8) & 0xff,
        (value >>> 16) & 0xff,
        (value >>> 24) & 0xff,
      ]);
  }
  write64(va: number, value: bigint | number): void {
    const v = BigInt.asUintN(64, BigInt(value));
    this.write32(va, Number(v & 0xffffffffn));
    this.write32(va + 4, Number(v >> 32n));
  }
  readBytes(va: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.each(va, len, ACCESS_READ, (pa, n, done) => out.set(this.k.memory.readBytes(pa, n), done));
    return out;
  }
  writeBytes(va: number, bytes: ArrayLike<number>): void {
    const src = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes as ArrayLike<number>);
    this.each(va, src.length, ACCESS_WRITE, (pa, n, done) =>
      this.k.memory.writeBytes(pa, src.subarray(done, done + n)),
    );
  }
  /** memset(va, byte, len). */
  memset(va: number, byte: number, len: number): void {
    this.each(va, len, ACCESS_WRITE, (pa, n) => this.k.memory.fill(pa, n, byte));
  }
  /** memcpy(dst, src, len) (the ranges must not overlap, as memcpy's contract says). */
  memcpy(dst: number, src: number, len: number): void {
    this.writeBytes(dst, this.readBytes(src, len));
  }
  /** The bytes of a NUL-terminated string at `va` (without the NUL), at most `max`. */
  readCString(va: number, max = PAGE_SIZE * 4): Uint8Array {
    const bytes: number[] = [];
    for (let i = 0; i < max; i++) {
      const b = this.read8(va + i);
      if (b === 0) return Uint8Array.from(bytes);
      bytes.push(b);
    }
    throw new RangeError(`no NUL within ${max} bytes of 0x${formatPtr(va)}`);
  }
  /** A NUL-terminated string at `va`, decoded as UTF-8. */
  readString(va: number, max?: number): string {
    return new TextDecoder().decode(this.readCString(va, max));
  }
}
