/**
 * @mmsim/mmu — types and options.
 */
import type { PagingFormat, PhysAddr, PhysicalMemory, Tlb, VirtAddr } from '@mmsim/core';
import type { Mmu } from './mmu.js';

/** What kind of fault a translation raised (`Mmu.faultKind`). */
export const FAULT_NONE = -1;
/** A valid bit was clear (x86 P=0, RISC-V V=0, AArch64 translation fault). */
export const FAULT_NOT_PRESENT = 0;
/** The entry was present but forbids the access (write, user, NX, SMEP, SMAP). */
export const FAULT_PROTECTION = 1;
/**
 * A reserved encoding: x86 PS in a PML4E, NX without EFER.NXE, a misaligned huge page,
 * a table outside physical memory; RISC-V W without R, a misaligned superpage; an AArch64
 * block at a level that cannot hold one.
 */
export const FAULT_RESERVED = 2;
/**
 * The Accessed or Dirty bit needed setting and the hardware does not set it (RISC-V
 * without Svadu, AArch64 without FEAT_HAFDBS: an Access flag fault).
 */
export const FAULT_ACCESS_FLAG = 3;
/** Software-managed TLB: a miss the refill handler did not resolve. */
export const FAULT_TLB_REFILL = 4;
export const FAULT_KINDS = 5;
export const FAULT_NAMES: readonly string[] = [
  'not-present',
  'protection',
  'reserved',
  'access-flag',
  'tlb-refill',
];

/**
 * The kernel's TLB-refill handler in software-managed mode (MIPS UTLB refill): called on
 * every miss with the faulting address and access; it walks the tables in software and
 * inserts an entry with `mmu.tlbWrite()`, or calls `mmu.raiseFault()`. After it returns the
 * access is retried once.
 */
export type RefillHandler = (va: VirtAddr, access: number, mmu: Mmu) => void;

/** Options of `createMmu()`. */
export interface MmuOptions {
  format: PagingFormat;
  memory: PhysicalMemory;
  /** The TLB (or hierarchy of TLBs) the MMU owns. */
  tlb: Tlb;
  /**
   * A separate TLB for instruction fetches (an iTLB, e.g. `hierarchy.instruction` of
   * @mmsim/tlb); flushes go to both. @defaultValue the data `tlb`
   */
  itlb?: Tlb;
  /** Physical address of the top-level table (CR3, satp.PPN << 12, TTBR0). @defaultValue 0 */
  root?: PhysAddr;
  /** Address-space id (PCID, satp.ASID, TTBR.ASID). @defaultValue 0 */
  asid?: number;
  /** x86 CR4.SMEP (RISC-V: always on — S-mode can never execute U pages). @defaultValue false */
  smep?: boolean;
  /** x86 CR4.SMAP; RISC-V !sstatus.SUM; AArch64 PSTATE.PAN. @defaultValue false */
  smap?: boolean;
  /** x86 CR0.WP: supervisor writes to read-only pages fault (Linux always sets it). @defaultValue true */
  wp?: boolean;
  /** x86 EFER.NXE: the NX bit is honoured (else reserved). @defaultValue true */
  nx?: boolean;
  /**
   * The hardware sets Accessed/Dirty bits in memory. x86 always does (forced on); RISC-V
   * with Svadu does (the default chosen here), without it an access with A=0 or a write
   * with D=0 faults; AArch64 FEAT_HAFDBS sets AF (the "hardware AF" option).
   * @defaultValue true
   */
  hardwareAD?: boolean;
  /**
   * Paging-structure caches: cache the table address found at each non-leaf level (x86
   * PML4E/PDPTE/PDE caches, Intel SDM §4.10.3) so a walk starts below the deepest hit.
   * `true` = 32 entries per level. @defaultValue false
   */
  pagingStructureCaches?: boolean | { entries: number };
  /**
   * Software-managed TLB (MIPS): a miss calls `refill` instead of walking in hardware.
   * @defaultValue false
   */
  softwareTlb?: boolean;
  /** The refill handler for `softwareTlb`. @defaultValue null */
  refill?: RefillHandler | null;
}

/** The counters an MMU keeps (the TLB keeps its own hit/miss counts). */
export interface MmuStats {
  /** Hardware walks started (TLB misses, and hits that needed the Dirty bit set). */
  walks: number;
  /** Page-table entries read by walks (memory references). */
  walkRefs: number;
  /** Faults by kind (index FAULT_NOT_PRESENT …). */
  faults: Float64Array;
  /** Paging-structure cache hits by level (index = the level whose entry was cached). */
  pscHits: Float64Array;
  /** Software-TLB refill traps taken. */
  refills: number;
}

/** A fault's details, as a readable object (cold path). */
export interface FaultInfo {
  va: VirtAddr;
  access: number;
  kind: number;
  kindName: string;
  /** The level whose entry faulted (0 = top), -1 when no level is to blame. */
  level: number;
  /** x86 page-fault error code (P, W, U, RSVD, I/D). */
  errorCode: number;
}

/** One decoded page-table entry. */
export interface DecodedPte {
  valid: boolean;
  /** A leaf (page, huge page, block) rather than a pointer to a table. */
  leaf: boolean;
  /** The physical address the frame field names (page or next table). */
  pa: PhysAddr;
  /** PROT_* bits of a leaf (PROT_READ always set). */
  prot: number;
  accessed: boolean;
  dirty: boolean;
  /** Each of the format's bits by its architectural name ('P', 'RW', 'NX', 'V', 'AF', …). */
  bits: Record<string, 0 | 1>;
}

/** One level of an explained walk. */
export interface WalkStep {
  level: number;
  /** 'PML4', 'PDPT', 'PD', 'PT' / 'L0'… / 'PGD' … */
  name: string;
  index: number;
  tableAddr: PhysAddr;
  entryAddr: PhysAddr;
  /** The entry as 2*pteSize hex digits. */
  entry: string;
  lo: number;
  hi: number;
  decoded: DecodedPte;
}

/** What explain(va) returns. */
export interface WalkExplanation {
  format: string;
  va: VirtAddr;
  /** The canonical form, formatPtr(va, vaBits). */
  vaText: string;
  root: PhysAddr;
  asid: number;
  steps: WalkStep[];
  /** The physical address, or -1 on a fault. */
  pa: number;
  /** The leaf's page size in bytes (0 on a fault). */
  pageSize: number;
  fault: FaultInfo | null;
}
