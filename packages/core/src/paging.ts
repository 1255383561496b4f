/**
 * Paging formats — the `PagingFormat` interface that an MMU walks, and the small shared
 * vocabulary around it (access types, the x86 page-fault error code bits, PROT_* bits).
 *
 * A format is data, not code: where the index bits of each level sit in a virtual address,
 * how big an entry is, and at which bit of an entry each flag and the frame number live.
 * The walker in @mmsim/mmu precomputes masks from it, so x86-64 4-level paging (Intel SDM
 * vol. 3 ch. 4), RISC-V Sv39/Sv48 (privileged spec, "Virtual Address Translation Process"),
 * AArch64 VMSAv8-64 (Arm ARM D8) and a textbook format (OSTEP ch. 20: 32-byte pages, two
 * levels of 5 index bits, 1-byte entries) all run through the same walk. Implementations
 * live in @mmsim/mmu (`x86_64`, `sv39`, `sv48`, `aarch64_4k`, …, `customFormat()`).
 */
import type { PhysAddr } from './addr.js';

/**
 * Bit positions (0..63, -1 when the format has no such bit) in a page-table entry. Every
 * bit means "set = …" as named; inverted architectural bits get their own name
 * (AArch64 AP[2] is `readOnly`, nG is `notGlobal`, x86 NX is `noExec`).
 */
export interface PteBits {
  /** Present / valid (x86 P, RISC-V V, AArch64 descriptor bit 0, OSTEP bit 7). */
  valid: number;
  /** Readable (RISC-V R). Formats without it treat every valid page as readable. */
  read: number;
  /** Writable when set (x86 R/W, RISC-V W). */
  write: number;
  /** Read-only when set (AArch64 AP[2]). */
  readOnly: number;
  /** User-accessible when set (x86 U/S, RISC-V U, AArch64 AP[1]). */
  user: number;
  /** Executable when set (RISC-V X). */
  exec: number;
  /** Not executable (x86 XD/NX bit 63, AArch64 UXN; for AArch64 this is the user-mode XN). */
  noExec: number;
  /** Not executable at the privileged level (AArch64 PXN). */
  privNoExec: number;
  /** Accessed (x86 A, RISC-V A, AArch64 AF). */
  accessed: number;
  /** Dirty (x86 D, RISC-V D). */
  dirty: number;
  /** Global (x86 G, RISC-V G). */
  global: number;
  /** Not global (AArch64 nG). */
  notGlobal: number;
  /** Page size: a leaf above the last level (x86 PS). */
  huge: number;
  /** Table descriptor at a non-last level, page descriptor at the last (AArch64 bit 1). */
  table: number;
  /** Page-level write-through (x86 PWT). */
  writeThrough: number;
  /** Page-level cache disable (x86 PCD). */
  cacheDisable: number;
}

/**
 * How the walker tells a leaf from a pointer to the next table above the last level:
 * - `'last'`: only the last level holds leaves (textbook formats).
 * - `'huge-bit'`: the `huge` bit marks a leaf (x86 PS).
 * - `'rwx'`: an entry with any of R/W/X set is a leaf (RISC-V).
 * - `'table-bit'`: the `table` bit clear is a block (leaf), set a table (AArch64).
 */
export type LeafEncoding = 'last' | 'huge-bit' | 'rwx' | 'table-bit';

/** Which architecture's rules (permission details, A/D update) the walker applies. */
export type PagingArch = 'x86-64' | 'riscv' | 'aarch64' | 'custom';

/**
 * A paging format: how virtual addresses split into table indices, how entries look.
 *
 * What a format must also satisfy (checked by `@mmsim/mmu/conformance`, as is everything the
 * fields below say): the named bits lie inside the entry, outside the frame field and apart
 * from each other; `frame.shift` is at most `pageShift`, and `paBits` lies between
 * `pageShift` and `frame.width + frame.shift`; `leafExtra` sets no named bit (the leaf's own
 * bits would override it); `tableExtra` sets neither the huge bit nor, for `'rwx'` formats,
 * R/W/X (the walker would take the table for a leaf), and with `hierarchicalPerms` it grants
 * what the levels below may keep (write, user, exec) and restricts nothing; a huge level's
 * next level allows leaves too, since a huge page is split one level down.
 */
export interface PagingFormat {
  /** 'x86-64 4-level', 'Sv39', 'AArch64 4K', 'ostep-multilevel', … */
  readonly name: string;
  readonly arch: PagingArch;
  /** Bits of a virtual address that translate (48, 39, …); a VirtAddr holds these low bits. */
  readonly vaBits: number;
  /** Bits of a physical address the format can hold. */
  readonly paBits: number;
  /** log2 of the base page size (12 for 4 KiB; 5 for OSTEP's 32-byte pages). */
  readonly pageShift: number;
  /** Index bits per level, top level first; their sum plus pageShift is vaBits. */
  readonly levelBits: readonly number[];
  /** Bytes per entry: 1, 2, 4 or 8 (little-endian in memory). */
  readonly pteSize: 1 | 2 | 4 | 8;
  /**
   * The frame field: entry bits [lo, lo + width) hold a number that, shifted left by
   * `shift`, is the physical address of the page or next table (x86: lo 12, width 40,
   * shift 12; RISC-V: lo 10, width 44, shift 12; OSTEP: lo 0, width 7, shift 5).
   */
  readonly frame: { readonly lo: number; readonly width: number; readonly shift: number };
  readonly bits: PteBits;
  readonly leafEncoding: LeafEncoding;
  /** Levels (0 = top) above the last where a leaf (huge page, block) is allowed. */
  readonly hugeLevels: readonly number[];
  /**
   * Permissions accumulate over every level of the walk (x86: writable only if R/W is set
   * in every entry, user only if U/S is, no-exec if any NX is) rather than come from the
   * leaf alone (RISC-V, AArch64 without hierarchical table attributes).
   */
  readonly hierarchicalPerms: boolean;
  /**
   * Bits set in every table (non-leaf) entry the MMU writes besides `valid`, `table` and the
   * frame, as [lo, hi] words (x86 Linux _PAGE_TABLE: R/W | U/S).
   */
  readonly tableExtra: readonly [number, number];
  /** Constant bits in every leaf, as [lo, hi] words (AArch64 SH = inner shareable). */
  readonly leafExtra: readonly [number, number];
  /** Display names of the levels, top first ('PML4', 'PDPT', 'PD', 'PT'). */
  readonly levelNames: readonly string[];
}

/** The type a format declaration has: `definePagingFormat({ … })`. */
export function definePagingFormat<F extends PagingFormat>(format: F): F {
  return format;
}

/** Bit k of a 64-bit entry as the [lo, hi] word masks a walker tests. */
export function pteBitMask(bit: number): [number, number] {
  if (bit < 0) return [0, 0];
  return bit < 32 ? [(1 << bit) | 0, 0] : [0, (1 << (bit - 32)) | 0];
}

// ---- access types -------------------------------------------------------------------------------

/** A data read in supervisor mode. Combine: ACCESS_WRITE | ACCESS_USER, ACCESS_EXEC | ACCESS_USER. */
export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
/** The access is made from user mode (CPL 3, U-mode, EL0). */
export const ACCESS_USER = 2;
/** An instruction fetch. */
export const ACCESS_EXEC = 4;

// ---- the page-fault error code (Intel SDM vol. 3 §4.7; arch/x86/include/asm/trap_pf.h) ---------

/** 0: the fault was caused by a non-present page; 1: by a protection violation. */
export const X86_PF_PROT = 1 << 0;
/** The access causing the fault was a write. */
export const X86_PF_WRITE = 1 << 1;
/** The access was made in user mode. */
export const X86_PF_USER = 1 << 2;
/** A reserved bit was set in some paging-structure entry. */
export const X86_PF_RSVD = 1 << 3;
/** The access was an instruction fetch. */
export const X86_PF_INSTR = 1 << 4;

/** The error code's access bits for an access type (W, U, I/D). */
export const accessErrorCode = (access: number): number =>
  ((access & ACCESS_WRITE) << 1) | ((access & ACCESS_USER) << 1) | ((access & ACCESS_EXEC) << 2);

/**
 * The two lines arch/x86/mm/fault.c: show_fault_oops() prints for an error code, e.g.
 * "#PF: supervisor write access in kernel mode\n#PF: error_code(0x0002) - not-present page".
 * `userMode` is user_mode(regs) (defaults to the error code's U/S bit).
 */
export function describeErrorCode(code: number, userMode = (code & X86_PF_USER) !== 0): string {
  const who = code & X86_PF_USER ? 'user' : 'supervisor';
  const what =
    code & X86_PF_INSTR
      ? 'instruction fetch'
      : code & X86_PF_WRITE
        ? 'write access'
        : 'read access';
  const why = !(code & X86_PF_PROT)
    ? 'not-present page'
    : code & X86_PF_RSVD
      ? 'reserved bit violation'
      : 'permissions violation';
  return (
    `#PF: ${who} ${what} in ${userMode ? 'user' : 'kernel'} mode\n` +
    `#PF: error_code(0x${code.toString(16).padStart(4, '0')}) - ${why}`
  );
}

// ---- mapping protections ------------------------------------------------------------------------

/** include/uapi/asm-generic/mman-common.h: PROT_READ. Every mapping is readable. */
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
/** The mapping is reachable from user mode (_PAGE_USER, PTE_U, AP[1]). */
export const PROT_USER = 0x8;
/** A global mapping: survives non-global TLB flushes, matches every ASID. */
export const PROT_GLOBAL = 0x10;
/** Uncached (x86 PCD). */
export const PROT_NOCACHE = 0x20;
/** Write-through (x86 PWT). */
export const PROT_WRITETHROUGH = 0x40;

/** The callback through which page tables get and give back their table pages. */
export interface TableAllocator {
  /** A table page of `sizeBytes`, aligned to it, or -1 when memory is exhausted. */
  allocTable(sizeBytes: number): PhysAddr | -1;
  freeTable(pa: PhysAddr, sizeBytes: number): void;
}
