/**
 * A software TLB-refill handler, as a kernel on a software-managed TLB installs one (MIPS:
 * arch/mips/mm/tlbex.c builds the refill handler; it walks the page tables and writes a TLB
 * entry with tlbwr). The handler here walks a `PageTable` in software, keeps Accessed and
 * Dirty up to date in memory itself (the hardware never writes a PTE on such machines), and
 * inserts the entry; a write to a writable page marks it dirty at once so the entry can
 * carry the dirty bit.
 */
import { ACCESS_WRITE, PROT_WRITE, type VirtAddr } from '@mmsim/core';
import { FAULT_NOT_PRESENT, type RefillHandler } from './api.js';
import type { Mmu } from './mmu.js';
import type { PageTable } from './pagetable.js';

/** A refill handler over `pageTable` (install with `mmu.refill = createSoftwareRefill(pt)`). */
export function createSoftwareRefill(pageTable: PageTable): RefillHandler {
  return (va: VirtAddr, access: number, mmu: Mmu) => {
    const q = pageTable.query(va);
    if (!q) {
      mmu.raiseFault(FAULT_NOT_PRESENT, pageTable.missLevel);
      return;
    }
    const dirty = q.dirty || ((access & ACCESS_WRITE) !== 0 && (q.prot & PROT_WRITE) !== 0);
    pageTable.markAccessed(va, dirty);
    const size = 2 ** q.pageShift;
    mmu.tlbWrite(va, q.pa - (q.pa % size), q.pageShift, q.prot, dirty);
  };
}
