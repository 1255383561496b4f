/**
 * The MMU: translate(va, access) through a TLB and, on a miss, a hardware page walk over
 * page tables in simulated physical memory.
 *
 * The walk follows Intel SDM vol. 3 ch. 4.5 (4-level paging) for x86-64, the RISC-V
 * privileged spec §"Virtual Address Translation Process" (Sv39/Sv48) and the Arm ARM
 * (VMSAv8-64 stage 1 translation) — one loop for all of them, driven by the masks of a
 * `PagingFormat`:
 *
 *   table = root
 *   for level = 0..: entry = table[index(va, level)]         (read as 32-bit words)
 *     not valid                → fault, not present
 *     a table pointer          → set A (x86), table = entry.frame, next level
 *     a leaf (page/huge/block) → check permissions, set A/D, fill the TLB, pa = frame + offset
 *
 * Permissions: x86 ANDs R/W and U/S over every level and ORs XD (SDM §4.6); RISC-V and
 * AArch64 take them from the leaf. User/supervisor, write (with CR0.WP), execute (NX, X,
 * UXN/PXN), SMEP and SMAP (RISC-V: S-mode never executes U pages; SUM is `!smap`; AArch64
 * PAN is `smap`).
 *
 * Accessed/Dirty: x86 sets them in hardware (A in every entry used, D in the leaf on a
 * write). For RISC-V the spec allows either a page fault or a hardware update (Svadu); this
 * MMU takes the hardware-update option by default (`hardwareAD: true`), and faults with
 * FAULT_ACCESS_FLAG when it is off. AArch64 sets AF with FEAT_HAFDBS (`hardwareAD`), else
 * raises an Access flag fault; DBM dirty tracking is not modelled. Upper-level A bits are set
 * as the walk uses the entries, even when the access then faults; the leaf's only when the
 * access is allowed.
 *
 * A fault is a value: translate() returns -1 and leaves the details in `faultKind`,
 * `faultLevel`, `errorCode` (x86 error code bits P, W, U, RSVD, I/D, SDM §4.7) and `faultVa`.
 * Nothing is allocated per translate: the TLB entry's flags hold a byte of "allowed access
 * kinds" (bit `access`), so a hit is a lookup, one AND and an add.
 *
 * Software-managed TLB (MIPS): a miss calls the kernel's refill handler, which walks in
 * software and writes an entry with tlbWrite(); then the access is retried once.
 */
import {
  ACCESS_EXEC,
  ACCESS_USER,
  ACCESS_WRITE,
  accessErrorCode,
  type PagingFormat,
  type PhysAddr,
  type PhysicalMemory,
  PROT_EXEC,
  PROT_GLOBAL,
  PROT_USER,
  PROT_WRITE,
  pteBitMask,
  type Tlb,
  type VirtAddr,
  X86_PF_PROT,
  X86_PF_RSVD,
} from '@mmsim/core';
import {
  FAULT_ACCESS_FLAG,
  FAULT_KINDS,
  FAULT_NAMES,
  FAULT_NONE,
  FAULT_NOT_PRESENT,
  FAULT_PROTECTION,
  FAULT_RESERVED,
  FAULT_TLB_REFILL,
  type FaultInfo,
  type MmuOptions,
  type MmuStats,
  type RefillHandler,
} from './api.js';
import { type Geometry, geometry } from './pte.js';

// Raw permission bits of an entry (the walker's own, also kept in TLB flags bits 9..14).
const P_W = 1;
const P_U = 2;
/** Executable in user mode. */
const P_X = 4;
/** Executable in supervisor mode. */
const P_XK = 8;
const P_R = 16;
const P_G = 32;

/**
 * TLB entry flags: bit `access` (0..7, ACCESS_* combined) is set when that access is
 * allowed; TLBF_DIRTY when a write needs no Dirty update; the raw permissions from bit 9.
 */
export const TLBF_DIRTY = 1 << 8;
export const TLBF_PERM_SHIFT = 9;
export const TLBF_WRITE = P_W << TLBF_PERM_SHIFT;
export const TLBF_USER = P_U << TLBF_PERM_SHIFT;
export const TLBF_EXEC = P_X << TLBF_PERM_SHIFT;
export const TLBF_EXEC_PRIV = P_XK << TLBF_PERM_SHIFT;
export const TLBF_READ = P_R << TLBF_PERM_SHIFT;
export const TLBF_GLOBAL = P_G << TLBF_PERM_SHIFT;

// leafEnc 0 = 'last': only the last level holds leaves.
/**
 * 2^s and 2^-s. Offsets and indices are computed in floating point (x - floor(x * 2^-s) * 2^s,
 * exact for doubles): `va & mask` on an address above 2^31 takes V8's slow double-to-int32
 * path, several ns per use.
 */
const POW2 = Float64Array.from({ length: 64 }, (_, s) => 2 ** s);
const INV_POW2 = Float64Array.from({ length: 64 }, (_, s) => 2 ** -s);
const TWO_M31 = 2 ** -31;
const TWO_31 = 2 ** 31;
const TWO_M32 = 2 ** -32;
const TWO_32 = 2 ** 32;
const TWO_M16 = 2 ** -16;

/** The largest page a TLB entry is asked to hold (1 GiB); bigger pages are splintered. */
export const MAX_TLB_SHIFT = 30;

const LEAF_HUGE_BIT = 1;
const LEAF_RWX = 2;
const LEAF_TABLE_BIT = 3;

/** Whether a format has the x86-64 4-level layout whose constants walkAt()'s x86 path writes in. */
function isX86Layout(f: PagingFormat): boolean {
  const b = f.bits;
  return (
    f.arch === 'x86-64' &&
    f.pageShift === 12 &&
    f.pteSize === 8 &&
    f.levelBits.length === 4 &&
    f.levelBits.every((n) => n === 9) &&
    f.frame.lo === 12 &&
    f.frame.width === 40 &&
    f.frame.shift === 12 &&
    f.leafEncoding === 'huge-bit' &&
    f.hugeLevels.length === 2 &&
    f.hugeLevels.includes(1) &&
    f.hugeLevels.includes(2) &&
    f.hierarchicalPerms &&
    b.valid === 0 &&
    b.write === 1 &&
    b.user === 2 &&
    b.accessed === 5 &&
    b.dirty === 6 &&
    b.huge === 7 &&
    b.global === 8 &&
    b.noExec === 63 &&
    b.read < 0 &&
    b.readOnly < 0 &&
    b.exec < 0 &&
    b.privNoExec < 0 &&
    b.notGlobal < 0
  );
}

export class Mmu {
  readonly format: PagingFormat;
  readonly memory: PhysicalMemory;
  readonly tlb: Tlb;
  /** The TLB instruction fetches use (the data TLB unless `itlb` was given). */
  readonly itlb: Tlb;
  /** The instruction TLB needs flushes of its own (it is not the data TLB's flush domain). */
  private readonly itlbFlushedApart: boolean;
  readonly geometry: Geometry;
  /** Top-level table (CR3 / satp / TTBR0). */
  root: PhysAddr = 0;
  /** Current address space (PCID / ASID). */
  asid = 0;

  /** The last fault: its address, access, kind (FAULT_*), level and x86 error code. */
  faultVa: VirtAddr = 0;
  faultAccess = 0;
  faultKind = FAULT_NONE;
  faultLevel = -1;
  errorCode = 0;

  readonly stats: MmuStats = {
    walks: 0,
    walkRefs: 0,
    faults: new Float64Array(FAULT_KINDS),
    pscHits: new Float64Array(8),
    refills: 0,
  };

  smep = false;
  smap = false;
  wp = true;
  nx = true;
  hardwareAD = true;
  readonly softwareTlb: boolean;
  refill: RefillHandler | null;
  private raised = false;
  /**
   * The last chunk of memory the walk read a table in, and its words (chunks are never
   * replaced once materialised). Page tables sit close together, so most levels of most
   * walks read this chunk again; and as the test is predicted, the entry's load need not
   * wait for the chunk lookup's chain of dependent loads.
   */
  private lastChunk = -1;
  private lastWords: Int32Array = new Int32Array(0);
  /** The address translate() hands to walkAt(). */
  private walkVa = Number.NaN;
  private pendingVa = 0;
  private pendingAccess = 0;

  // ---- the format, precomputed ----
  private readonly last: number;
  private readonly pteSize: number;
  private readonly pteByteMask: number;
  private readonly div: Float64Array;
  private readonly inv: Float64Array;
  private readonly leafOk: Uint8Array;
  private readonly leafEnc: number;
  private readonly hier: boolean;
  private readonly setTableA: boolean;
  private readonly vLo: number;
  private readonly vHi: number;
  private readonly rLo: number;
  private readonly rHi: number;
  private readonly wLo: number;
  private readonly wHi: number;
  private readonly roLo: number;
  private readonly roHi: number;
  private readonly uLo: number;
  private readonly uHi: number;
  private readonly xLo: number;
  private readonly xHi: number;
  private readonly nxLo: number;
  private readonly nxHi: number;
  private readonly pnxLo: number;
  private readonly pnxHi: number;
  private readonly aLo: number;
  private readonly aHi: number;
  private readonly dLo: number;
  private readonly dHi: number;
  private readonly gLo: number;
  private readonly gHi: number;
  private readonly ngLo: number;
  private readonly ngHi: number;
  /** Every bit perms() reads: the key of the walk's one-entry permission memo. */
  private readonly permLo: number;
  private readonly permHi: number;
  private memoLo = Number.NaN;
  private memoHi = Number.NaN;
  private memoP = 0;
  private memoAllowed = 0;
  private readonly hugeLo: number;
  private readonly hugeHi: number;
  private readonly tblLo: number;
  private readonly tblHi: number;
  /** Per level: the VA bit where its index starts, and the index mask (entries - 1). */
  private readonly idxShift: Int32Array;
  private readonly idxMask: Int32Array;
  /** Per level: the highest address a next-level table may start at (and end in memory). */
  private readonly tableLimit: Float64Array;
  /** The format is x86-64 4-level paging exactly (walkAt() has a loop of its own for it). */
  private readonly x86: boolean;
  /** tableLimit as a chunk and an offset in it (x86: the same at every level). */
  private readonly x86LimitChunk: number;
  private readonly x86LimitOff: number;
  /** How far the frame field moves to become an address (left; negative: right). */
  private readonly frameShift: number;
  private readonly fLoMask: number;
  private readonly fHiMask: number;
  private readonly hasUserBit: boolean;
  private readonly isRiscv: boolean;
  private readonly isX86: boolean;
  /** Bits whose "set" restricts (NX, PXN, read-only): ORed over the levels, not ANDed. */
  private readonly orMaskLo: number;
  private readonly orMaskHi: number;
  private rsvdLo = 0;
  private rsvdHi = 0;

  // ---- paging-structure caches: per non-leaf level, direct-mapped ----
  private readonly pscOn: boolean;
  private readonly pscSize: number;
  private readonly pscTag: Float64Array;
  private readonly pscAsid: Int32Array;
  private readonly pscTable: Float64Array;
  private readonly pscPerm: Int32Array;

  constructor(options: MmuOptions) {
    const { format, memory, tlb } = options;
    this.format = format;
    this.memory = memory;
    this.tlb = tlb;
    this.itlb = options.itlb ?? tlb;
    this.itlbFlushedApart =
      this.itlb !== tlb &&
      !(this.itlb.flushDomain !== undefined && this.itlb.flushDomain === tlb.flushDomain);
    const g = geometry(format);
    this.geometry = g;
    const L = g.levels;
    this.last = L - 1;
    this.pteSize = format.pteSize;
    this.pteByteMask = format.pteSize >= 4 ? -1 : 2 ** (format.pteSize * 8) - 1;
    this.div = Float64Array.from(g.shift, (s) => 2 ** s);
    this.inv = Float64Array.from(g.shift, (s) => 2 ** -s);
    this.leafOk = Uint8Array.from(g.leafAllowed, (b) => (b ? 1 : 0));
    this.idxShift = Int32Array.from(g.shift);
    this.idxMask = Int32Array.from(g.entries, (n) => n - 1);
    this.tableLimit = Float64Array.from(
      g.tableBytes,
      (_, l) => memory.sizeBytes - (g.tableBytes[l + 1] ?? 0),
    );
    this.frameShift = format.frame.shift - format.frame.lo;
    this.x86 = isX86Layout(format);
    const limit = memory.sizeBytes - 4096;
    this.x86LimitChunk = Math.floor(limit / 65536);
    this.x86LimitOff = limit - this.x86LimitChunk * 65536;
    this.leafEnc = ['last', 'huge-bit', 'rwx', 'table-bit'].indexOf(format.leafEncoding);
    this.hier = format.hierarchicalPerms;
    this.isX86 = format.arch === 'x86-64';
    this.isRiscv = format.arch === 'riscv';
    this.setTableA = (this.isX86 || format.arch === 'custom') && format.bits.accessed >= 0;
    const b = format.bits;
    [this.vLo, this.vHi] = pteBitMask(b.valid);
    [this.rLo, this.rHi] = pteBitMask(b.read);
    [this.wLo, this.wHi] = pteBitMask(b.write);
    [this.roLo, this.roHi] = pteBitMask(b.readOnly);
    [this.uLo, this.uHi] = pteBitMask(b.user);
    [this.xLo, this.xHi] = pteBitMask(b.exec);
    [this.nxLo, this.nxHi] = pteBitMask(b.noExec);
    [this.pnxLo, this.pnxHi] = pteBitMask(b.privNoExec);
    [this.aLo, this.aHi] = pteBitMask(b.accessed);
    [this.dLo, this.dHi] = pteBitMask(b.dirty);
    [this.gLo, this.gHi] = pteBitMask(b.global);
    [this.ngLo, this.ngHi] = pteBitMask(b.notGlobal);
    this.permLo =
      this.rLo |
      this.wLo |
      this.roLo |
      this.uLo |
      this.xLo |
      this.nxLo |
      this.pnxLo |
      this.gLo |
      this.ngLo;
    this.permHi =
      this.rHi |
      this.wHi |
      this.roHi |
      this.uHi |
      this.xHi |
      this.nxHi |
      this.pnxHi |
      this.gHi |
      this.ngHi;
    [this.hugeLo, this.hugeHi] = pteBitMask(b.huge);
    [this.tblLo, this.tblHi] = pteBitMask(b.table);
    this.hasUserBit = b.user >= 0;
    this.orMaskLo = this.nxLo | this.pnxLo | this.roLo;
    this.orMaskHi = this.nxHi | this.pnxHi | this.roHi;
    this.fLoMask = g.frameLoMask;
    this.fHiMask = g.frameHiMask;

    const psc = options.pagingStructureCaches ?? false;
    this.pscOn = psc !== false && L > 1;
    const n = psc === false ? 0 : psc === true ? 32 : psc.entries;
    if (this.pscOn && (n < 1 || (n & (n - 1)) !== 0)) {
      throw new RangeError(`pagingStructureCaches.entries ${n} is not a power of two`);
    }
    this.pscSize = this.pscOn ? n : 0;
    const total = this.pscSize * Math.max(0, L - 1);
    this.pscTag = new Float64Array(total).fill(-1);
    this.pscAsid = new Int32Array(total);
    this.pscTable = new Float64Array(total);
    this.pscPerm = new Int32Array(total * 4);

    this.softwareTlb = options.softwareTlb ?? false;
    this.refill = options.refill ?? null;
    this.configure(options);
    this.setRoot(options.root ?? 0, options.asid ?? 0);
  }

  /**
   * Change the CPU's paging controls (SMEP, SMAP/SUM/PAN, CR0.WP, EFER.NXE, hardware A/D).
   * The TLB entries hold permissions computed under the old controls, so it is flushed.
   */
  configure(c: {
    smep?: boolean;
    smap?: boolean;
    wp?: boolean;
    nx?: boolean;
    hardwareAD?: boolean;
  }): void {
    if (c.smep !== undefined) this.smep = c.smep;
    if (c.smap !== undefined) this.smap = c.smap;
    if (c.wp !== undefined) this.wp = c.wp;
    if (c.nx !== undefined) this.nx = c.nx;
    if (c.hardwareAD !== undefined) this.hardwareAD = c.hardwareAD;
    if (this.isX86) this.hardwareAD = true; // x86 always updates A/D in hardware
    this.memoLo = Number.NaN; // allowed() depends on SMEP, SMAP, WP and NX
    // Without EFER.NXE, bit 63 is reserved (SDM §4.5, table 4-20).
    [this.rsvdLo, this.rsvdHi] = this.isX86 && !this.nx ? [this.nxLo, this.nxHi] : [0, 0];
    this.flushAll();
  }

  /**
   * Load a new root and address space (a CR3 write with PCID and NOFLUSH, a satp or TTBR0
   * write). Nothing is flushed: entries are tagged with their ASID. For a CR3 write without
   * PCID, follow with flushNonGlobal().
   */
  setRoot(root: PhysAddr, asid = 0): void {
    const align = 2 ** this.format.pageShift;
    if (
      !Number.isSafeInteger(root) ||
      root < 0 ||
      root % align !== 0 ||
      root + (this.geometry.tableBytes[0] ?? 0) > this.memory.sizeBytes
    ) {
      throw new RangeError(`setRoot: ${root} is not a ${align}-byte aligned table in memory`);
    }
    if (!Number.isInteger(asid) || asid < 0 || asid > 0xffff) {
      throw new RangeError(`setRoot: ASID ${asid} is outside 0..65535`);
    }
    this.root = root;
    this.asid = asid;
  }

  /**
   * Translate `va` for an access (ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC, each | ACCESS_USER
   * from user mode). Returns the physical address, or -1 on a fault (see faultKind, …).
   */
  translate(va: VirtAddr, access = 0): number {
    const tlb = access & ACCESS_EXEC ? this.itlb : this.tlb;
    // The access kinds an entry allows are bits 0..7 of its flags; a write also needs Dirty.
    const pa = tlb.translate(va, this.asid, (1 << access) | ((access & ACCESS_WRITE) << 8));
    if (pa >= 0) return pa;
    if (this.softwareTlb === true) return this.refillTrap(va, access);
    // The address goes to the walk through a field: a double argument of a call that is not
    // inlined is boxed, a heap allocation per miss.
    this.walkVa = va;
    return this.walkAt(access, pa === -2 ? tlb.lastSlot : -1);
  }

  /** The raw permission bits (P_*) of one entry. */
  private perms(lo: number, hi: number): number {
    let p = 0;
    if ((this.rLo | this.rHi) === 0 || ((lo & this.rLo) | (hi & this.rHi)) !== 0) p |= P_R;
    if ((this.wLo | this.wHi) !== 0) {
      if (((lo & this.wLo) | (hi & this.wHi)) !== 0) p |= P_W;
    } else if (((lo & this.roLo) | (hi & this.roHi)) === 0) p |= P_W;
    if (!this.hasUserBit || ((lo & this.uLo) | (hi & this.uHi)) !== 0) p |= P_U;
    if ((this.xLo | this.xHi) !== 0) {
      if (((lo & this.xLo) | (hi & this.xHi)) !== 0) p |= P_X | P_XK;
    } else if ((this.pnxLo | this.pnxHi) !== 0) {
      if (((lo & this.nxLo) | (hi & this.nxHi)) === 0) p |= P_X;
      if (((lo & this.pnxLo) | (hi & this.pnxHi)) === 0) p |= P_XK;
    } else if (!this.nx || ((lo & this.nxLo) | (hi & this.nxHi)) === 0) p |= P_X | P_XK;
    if (((lo & this.gLo) | (hi & this.gHi)) !== 0) p |= P_G;
    else if ((this.ngLo | this.ngHi) !== 0 && ((lo & this.ngLo) | (hi & this.ngHi)) === 0) p |= P_G;
    return p;
  }

  /** The byte of allowed access kinds for effective permissions `p`. */
  private allowed(p: number): number {
    let f = 0;
    const userPage = this.hasUserBit && (p & P_U) !== 0;
    if (p & P_U) {
      if (p & P_R) f |= 1 << ACCESS_USER;
      if (p & P_W) f |= 1 << (ACCESS_USER | ACCESS_WRITE);
      if (p & P_X) f |= 1 << (ACCESS_USER | 4);
    }
    if (!(userPage && this.smap)) {
      if (p & P_R) f |= 1;
      if (p & P_W || !this.wp) f |= 1 << ACCESS_WRITE;
    }
    if (!(userPage && (this.smep || this.isRiscv)) && p & P_XK) f |= 1 << 4;
    return f;
  }

  private fault(va: VirtAddr, access: number, kind: number, level: number, hitSlot: number) {
    this.faultVa = va;
    this.faultAccess = access;
    this.faultKind = kind;
    this.faultLevel = level;
    this.errorCode =
      (kind === FAULT_NOT_PRESENT || kind === FAULT_TLB_REFILL ? 0 : X86_PF_PROT) |
      (kind === FAULT_RESERVED ? X86_PF_RSVD : 0) |
      accessErrorCode(access);
    this.stats.faults[kind]!++;
    // A page fault invalidates the TLB entries for the faulting address (SDM §4.10.4.1).
    if (hitSlot >= 0) (access & ACCESS_EXEC ? this.itlb : this.tlb).flushPage(va, this.asid);
    return -1;
  }

  /**
   * The hardware page walk for `va` (what a TLB miss runs): fills the TLB and returns the
   * physical address, or -1 with the fault recorded. `hitSlot` is the TLB entry that did not
   * allow the access, if any.
   */
  walk(va: VirtAddr, access: number, hitSlot = -1): number {
    this.walkVa = va;
    return this.walkAt(access, hitSlot);
  }

  /** walk() of the address in `walkVa`. */
  private walkAt(access: number, hitSlot: number): number {
    const va = this.walkVa;
    const st = this.stats;
    st.walks++;
    const mem = this.memory;
    const asid = this.asid;
    // The VA as two 32-bit words: a level's index is a shift and a mask of them (exactly the
    // bits floor(va / 2^shift) mod entries has, for any finite va).
    const vaHiF = Math.floor(va * TWO_M32);
    if (vaHiF - vaHiF !== 0) this.notFinite();
    const vaHi = vaHiF | 0;
    const vaLo = (va - vaHiF * TWO_32) | 0;
    let level = 0;
    let table = this.root;
    // Hierarchical permissions as words: R/W, U/S, X AND over the levels; NX, PXN, read-only
    // OR (combined at the leaf, one perms() call per walk).
    let andLo = -1;
    let andHi = -1;
    let orLo = 0;
    let orHi = 0;
    if (this.pscOn === true) {
      const n = this.pscSize;
      for (let l = this.last - 1; l >= 0; l--) {
        const prefix = Math.floor(va * this.inv[l]!);
        const i = l * n + (((prefix - Math.floor(prefix * TWO_M31) * TWO_31) ^ asid) & (n - 1));
        if (this.pscTag[i] === prefix && this.pscAsid[i] === asid) {
          table = this.pscTable[i]!;
          const k = i * 4;
          andLo = this.pscPerm[k]!;
          andHi = this.pscPerm[k + 1]!;
          orLo = this.pscPerm[k + 2]!;
          orHi = this.pscPerm[k + 3]!;
          level = l + 1;
          st.pscHits[l]!++;
          break;
        }
      }
    }
    const first = level;
    // The current table as a 64 KiB chunk of memory and a byte offset in it: the walk stays
    // in integers (a double-to-int conversion per level cost more than the rest of a level).
    let chunk = Math.floor(table * TWO_M16);
    let off = (table - chunk * 65536) | 0;
    chunk |= 0;
    const size = this.pteSize;
    const frameShift = this.frameShift;
    let words: Int32Array;
    let byte: number;
    let wi: number;
    let lo: number;
    let hi: number;
    let paLo: number;
    let paHi: number;
    if (this.x86 === true) {
      // x86-64 4-level paging (SDM §4.5) with its constants written in: the steps of the
      // general loop below, for the format most simulations use (each field read and test
      // the general loop makes costs about 1 ns a level).
      const rsvdHi = this.rsvdHi;
      // Every x86 table is 4 KiB: one limit for all levels.
      const limChunk = this.x86LimitChunk;
      const limOff = this.x86LimitOff;
      for (;;) {
        const s = 39 - 9 * level;
        const idx = (level === 0 ? vaHi >> 7 : (vaLo >>> s) | (vaHi << (32 - s))) & 511;
        const ea = off + idx * 8;
        const c = chunk + (ea >>> 16);
        if (c === this.lastChunk) words = this.lastWords;
        else {
          words = mem.chunkWords(c);
          this.lastChunk = c;
          this.lastWords = words;
        }
        byte = ea & 0xffff;
        wi = byte >> 2;
        lo = words[wi]!;
        hi = words[wi + 1]!;
        if ((lo & 1) === 0) {
          st.walkRefs += level - first + 1;
          return this.walkFault(access, FAULT_NOT_PRESENT, level, hitSlot);
        }
        if ((hi & rsvdHi) !== 0) {
          st.walkRefs += level - first + 1;
          return this.walkFault(access, FAULT_RESERVED, level, hitSlot);
        }
        // Of the hierarchical permissions x86 needs R/W, U/S (and G) ANDed, XD ORed: andLo
        // and orHi (andHi and orLo keep their start values, which no x86 decode reads).
        andLo &= lo;
        orHi |= hi;
        paLo = lo & -4096; // bits 12..51: the frame
        paHi = hi & 0xfffff;
        if (level === 3 || (lo & 0x80) !== 0) break; // the last level, or PS
        chunk = (paLo >>> 16) | (paHi << 16);
        off = paLo & 0xffff;
        // The next table must lie in memory (tableLimit in chunk and offset; chunk is exact
        // below 2^46, the most memory there can be).
        if (paHi > 0x3fff || chunk > limChunk || (chunk === limChunk && off > limOff)) {
          st.walkRefs += level - first + 1;
          return this.walkFault(access, FAULT_RESERVED, level, hitSlot);
        }
        if ((lo & 0x20) === 0) words[wi] = lo | 0x20; // A
        if (this.pscOn === true) this.pscFill(level, andLo, andHi, orLo, orHi, paLo, paHi);
        level++;
      }
    } else
      for (;;) {
        const s = this.idxShift[level]!;
        const idx =
          (s >= 32 ? vaHi >> (s - 32) : (vaLo >>> s) | (vaHi << (32 - s))) & this.idxMask[level]!;
        const ea = off + idx * size;
        const c = chunk + (ea >>> 16);
        if (c === this.lastChunk) words = this.lastWords;
        else {
          words = mem.chunkWords(c);
          this.lastChunk = c;
          this.lastWords = words;
        }
        byte = ea & 0xffff;
        wi = byte >> 2;
        lo = words[wi]!;
        hi = 0;
        if (size === 8) hi = words[wi + 1]!;
        else if (size < 4) lo = (lo >>> ((byte & 3) << 3)) & this.pteByteMask;
        if (((lo & this.vLo) | (hi & this.vHi)) === 0) {
          st.walkRefs += level - first + 1;
          return this.walkFault(access, FAULT_NOT_PRESENT, level, hitSlot);
        }
        if (((lo & this.rsvdLo) | (hi & this.rsvdHi)) !== 0) {
          st.walkRefs += level - first + 1;
          return this.walkFault(access, FAULT_RESERVED, level, hitSlot);
        }
        let leaf = level === this.last;
        switch (this.leafEnc) {
          case LEAF_HUGE_BIT:
            if (!leaf) leaf = ((lo & this.hugeLo) | (hi & this.hugeHi)) !== 0;
            break;
          case LEAF_RWX:
            if (!leaf) {
              leaf = ((lo & (this.rLo | this.wLo | this.xLo)) | (hi & (this.rHi | this.wHi))) !== 0;
            }
            break;
          case LEAF_TABLE_BIT:
            if (((lo & this.tblLo) | (hi & this.tblHi)) === 0) {
              // Bits[1:0] = 01: a block above the last level, reserved (invalid) at the last.
              if (leaf) {
                st.walkRefs += level - first + 1;
                return this.walkFault(access, FAULT_NOT_PRESENT, level, hitSlot);
              }
              leaf = true;
            }
            break;
          default:
            break;
        }
        if (this.hier) {
          andLo &= lo;
          andHi &= hi;
          orLo |= lo;
          orHi |= hi;
        }
        // The frame address as two words (the frame field moved by frameShift bits).
        const mLo = lo & this.fLoMask;
        const mHi = hi & this.fHiMask;
        if (frameShift === 0) {
          paLo = mLo;
          paHi = mHi;
        } else if (frameShift > 0) {
          paLo = mLo << frameShift;
          paHi = (mHi << frameShift) | (mLo >>> (32 - frameShift));
        } else if (frameShift > -32) {
          paLo = (mLo >>> -frameShift) | (mHi << (32 + frameShift));
          paHi = (mHi >>> -frameShift) | 0;
        } else {
          paLo = (mHi >>> (-32 - frameShift)) | 0;
          paHi = 0;
        }
        if (leaf) break;
        if ((paHi >>> 0) * TWO_32 + (paLo >>> 0) > this.tableLimit[level]!) {
          st.walkRefs += level - first + 1;
          return this.walkFault(access, FAULT_RESERVED, level, hitSlot);
        }
        if (this.setTableA === true && ((lo & this.aLo) | (hi & this.aHi)) === 0) {
          this.setBits(words, wi, byte, this.aLo, this.aHi);
        }
        if (this.pscOn === true) this.pscFill(level, andLo, andHi, orLo, orHi, paLo, paHi);
        chunk = (paLo >>> 16) | (paHi << 16);
        off = paLo & 0xffff;
        level++;
      }
    st.walkRefs += level - first + 1;
    {
      // A leaf: page, huge page or block.
      const x86 = this.x86 === true;
      if (x86 ? level === 0 : !this.leafOk[level]) {
        return this.walkFault(access, FAULT_RESERVED, level, hitSlot);
      }
      const base = (paHi >>> 0) * TWO_32 + (paLo >>> 0);
      const span = this.div[level]!;
      const inv = this.inv[level]!;
      if (
        x86
          ? (paLo & (level === 1 ? 0x3ffff000 : level === 2 ? 0x1ff000 : 0)) !== 0
          : level !== this.last && base - Math.floor(base * inv) * span !== 0
      ) {
        return this.walkFault(access, FAULT_RESERVED, level, hitSlot); // misaligned huge page
      }
      let p: number;
      let allowed: number;
      // perms() and allowed() decode a handful of bits into the same few answers again and
      // again: remember the last (bits → answer) pair, keyed by the bits that decide it.
      let kLo: number;
      let kHi: number;
      if (x86) {
        // The general key below with x86's masks: R/W, U/S and G ANDed, G of the leaf, XD ORed.
        kLo = (andLo & 0x106) | (lo & 0x100);
        kHi = orHi & 0x80000000;
      } else if (this.hier === true) {
        const om = this.orMaskLo;
        const omh = this.orMaskHi;
        kLo = (((andLo & ~om) | (orLo & om)) & this.permLo) | (lo & this.gLo);
        kHi = (((andHi & ~omh) | (orHi & omh)) & this.permHi) | (hi & this.gHi);
      } else {
        kLo = lo & this.permLo;
        kHi = hi & this.permHi;
      }
      if (kLo === this.memoLo && kHi === this.memoHi) {
        p = this.memoP;
        allowed = this.memoAllowed;
      } else {
        if (this.hier === true) {
          const om = this.orMaskLo;
          const omh = this.orMaskHi;
          p = this.perms((andLo & ~om) | (orLo & om), (andHi & ~omh) | (orHi & omh)) & ~P_G;
          if (((lo & this.gLo) | (hi & this.gHi)) !== 0) p |= P_G;
        } else p = this.perms(lo, hi);
        allowed = this.allowed(p);
        this.memoLo = kLo;
        this.memoHi = kHi;
        this.memoP = p;
        this.memoAllowed = allowed;
      }
      if (this.hier === false && this.isRiscv === true && (p & (P_R | P_W)) === P_W) {
        return this.walkFault(access, FAULT_RESERVED, level, hitSlot); // W without R
      }
      if (((allowed >> access) & 1) === 0) {
        return this.walkFault(access, FAULT_PROTECTION, level, hitSlot);
      }
      // Accessed / Dirty.
      const write = access & ACCESS_WRITE;
      let dirty: boolean;
      if (x86) {
        // A is bit 5, D bit 6; x86 always sets them in hardware.
        dirty = (lo & 0x40) !== 0;
        if (write && !dirty) {
          words[wi] = lo | 0x60;
          dirty = true;
        } else if ((lo & 0x20) === 0) words[wi] = lo | 0x20;
      } else {
        const hasD = (this.dLo | this.dHi) !== 0;
        dirty = !hasD || ((lo & this.dLo) | (hi & this.dHi)) !== 0;
        const needA = (this.aLo | this.aHi) !== 0 && ((lo & this.aLo) | (hi & this.aHi)) === 0;
        if (needA || (write && !dirty)) {
          if (!this.hardwareAD) return this.walkFault(access, FAULT_ACCESS_FLAG, level, hitSlot);
          if (write && !dirty) {
            this.setBits(words, wi, byte, this.aLo | this.dLo, this.aHi | this.dHi);
            dirty = true;
          } else this.setBits(words, wi, byte, this.aLo, this.aHi);
        }
      }
      const flags = allowed | (dirty ? TLBF_DIRTY : 0) | (p << TLBF_PERM_SHIFT);
      let s = this.idxShift[level]!;
      const off = va - Math.floor(va * inv) * span;
      let fill = base;
      if (s > MAX_TLB_SHIFT) {
        // Pages above 1 GiB (Sv48 terapages) are cached as their 1 GiB fragment, as the
        // SDM (§4.10.2.3) lets a TLB splinter a page.
        fill = base + (off - (off % 2 ** MAX_TLB_SHIFT));
        s = MAX_TLB_SHIFT;
      }
      const tlb = access & ACCESS_EXEC ? this.itlb : this.tlb;
      if (hitSlot >= 0 && tlb.entryPa(hitSlot) === fill && tlb.entryPageShift(hitSlot) === s) {
        tlb.setEntryFlags(hitSlot, flags);
      } else {
        if (hitSlot >= 0) tlb.flushPage(this.walkVa, asid);
        tlb.insert(va, asid, fill, s, flags, (p & P_G) !== 0);
      }
      return base + off;
    }
  }

  /** Cache in the paging-structure cache of `level` the table the walk of walkVa found there. */
  private pscFill(
    level: number,
    andLo: number,
    andHi: number,
    orLo: number,
    orHi: number,
    paLo: number,
    paHi: number,
  ): void {
    const prefix = Math.floor(this.walkVa * this.inv[level]!);
    const i =
      level * this.pscSize +
      (((prefix - Math.floor(prefix * TWO_M31) * TWO_31) ^ this.asid) & (this.pscSize - 1));
    this.pscTag[i] = prefix;
    this.pscAsid[i] = this.asid;
    this.pscTable[i] = (paHi >>> 0) * TWO_32 + (paLo >>> 0);
    const k = i * 4;
    this.pscPerm[k] = andLo;
    this.pscPerm[k + 1] = andHi;
    this.pscPerm[k + 2] = orLo;
    this.pscPerm[k + 3] = orHi;
  }

  /**
   * fault() for walkAt()'s address. The walk's own `va` is a double in a register; handing
   * it to a call boxes it, and V8 may compute that box where the walk starts (the point
   * that dominates every fault), an allocation per walk. So faults read the field.
   */
  private walkFault(access: number, kind: number, level: number, hitSlot: number): number {
    return this.fault(this.walkVa, access, kind, level, hitSlot);
  }

  private notFinite(): never {
    throw new RangeError(`walk: virtual address ${this.walkVa} is not finite`);
  }

  /** OR bits into the entry whose first word is words[wi] (entries of any size). */
  private setBits(words: Int32Array, wi: number, byte: number, mLo: number, mHi: number): void {
    if (this.pteSize >= 4) {
      words[wi] = words[wi]! | mLo;
      if (this.pteSize === 8) words[wi + 1] = words[wi + 1]! | mHi;
    } else words[wi] = words[wi]! | (mLo << ((byte & 3) << 3));
  }

  // ---- software-managed TLB ------------------------------------------------------------------

  private refillTrap(va: VirtAddr, access: number): number {
    this.stats.refills++;
    this.raised = false;
    this.pendingVa = va;
    this.pendingAccess = access;
    const handler = this.refill;
    if (handler) handler(va, access, this);
    if (this.raised) return -1;
    const tlb = this.tlb;
    const slot = tlb.lookup(va, this.asid);
    if (slot < 0) return this.fault(va, access, FAULT_TLB_REFILL, -1, -1);
    const f = tlb.entryFlags(slot);
    if (((f >> access) & 1) === 0) return this.fault(va, access, FAULT_PROTECTION, -1, -1);
    // A write to an entry without its dirty bit: MIPS's TLB Modified exception.
    if (access & ACCESS_WRITE && !(f & TLBF_DIRTY)) {
      return this.fault(va, access, FAULT_ACCESS_FLAG, -1, -1);
    }
    const s = tlb.entryPageShift(slot);
    return tlb.entryPa(slot) + (va - Math.floor(va * INV_POW2[s]!) * POW2[s]!);
  }

  /**
   * tlbwr for a refill handler: cache `va` → the 2^pageShift-byte page at `pa` with PROT_*
   * `prot`; `dirty` false makes a write trap again (MIPS's D bit). Replaces any entry for
   * the page. Returns the slot.
   */
  tlbWrite(va: VirtAddr, pa: PhysAddr, pageShift: number, prot: number, dirty = true): number {
    let p = P_R;
    if (prot & PROT_WRITE) p |= P_W;
    if (prot & PROT_USER || !this.hasUserBit) p |= P_U;
    if (prot & PROT_EXEC) p |= P_X | P_XK;
    if (prot & PROT_GLOBAL) p |= P_G;
    const flags = this.allowed(p) | (dirty ? TLBF_DIRTY : 0) | (p << TLBF_PERM_SHIFT);
    if (pageShift > MAX_TLB_SHIFT) {
      const size = 2 ** MAX_TLB_SHIFT;
      pa += Math.floor((va % 2 ** pageShift) / size) * size;
      pageShift = MAX_TLB_SHIFT;
    }
    this.tlb.flushPage(va, this.asid);
    return this.tlb.insert(va, this.asid, pa, pageShift, flags, (p & P_G) !== 0);
  }

  /** For a refill handler: fail the access with this fault (e.g. no mapping at `level`). */
  raiseFault(kind: number, level: number): void {
    this.raised = true;
    this.fault(this.pendingVa, this.pendingAccess, kind, level, -1);
  }

  // ---- flushes (TLB and paging-structure caches together) -----------------------------------

  /** Drop every TLB and paging-structure-cache entry. */
  flushAll(): void {
    this.tlb.flushAll();
    if (this.itlbFlushedApart) this.itlb.flushAll();
    this.pscTag.fill(-1);
  }

  /** A CR3 write without PCID: every non-global TLB entry, every PSC entry. */
  flushNonGlobal(): void {
    this.tlb.flushNonGlobal();
    if (this.itlbFlushedApart) this.itlb.flushNonGlobal();
    this.pscTag.fill(-1);
  }

  /** INVPCID single-context / sfence.vma x0, asid / TLBI ASIDE1. */
  flushAsid(asid = this.asid): void {
    this.tlb.flushAsid(asid);
    if (this.itlbFlushedApart) this.itlb.flushAsid(asid);
    this.pscFlushAsid(asid);
  }

  /** INVLPG / sfence.vma va / TLBI VAE1: the page's entries, and the PSCs of the ASID. */
  flushPage(va: VirtAddr, asid = this.asid): void {
    this.tlb.flushPage(va, asid);
    if (this.itlbFlushedApart) this.itlb.flushPage(va, asid);
    this.pscFlushAsid(asid);
  }

  /** flush_tlb_range(): flushPage for every page of [start, end). */
  flushRange(start: VirtAddr, end: VirtAddr, asid = this.asid): void {
    this.tlb.flushRange(start, end, asid);
    if (this.itlbFlushedApart) this.itlb.flushRange(start, end, asid);
    this.pscFlushAsid(asid);
  }

  private pscFlushAsid(asid: number): void {
    for (let i = 0; i < this.pscTag.length; i++) {
      if (this.pscAsid[i] === asid) this.pscTag[i] = -1;
    }
  }

  // ---- reporting -----------------------------------------------------------------------------

  /** The most recent fault as an object, or null (none yet, or after clearFault()). */
  lastFault(): FaultInfo | null {
    if (this.faultKind === FAULT_NONE) return null;
    return {
      va: this.faultVa,
      access: this.faultAccess,
      kind: this.faultKind,
      kindName: FAULT_NAMES[this.faultKind] ?? String(this.faultKind),
      level: this.faultLevel,
      errorCode: this.errorCode,
    };
  }

  /** Forget the last fault. */
  clearFault(): void {
    this.faultKind = FAULT_NONE;
    this.faultLevel = -1;
    this.errorCode = 0;
  }

  /** Memory references per walk so far. */
  get refsPerWalk(): number {
    return this.stats.walks === 0 ? 0 : this.stats.walkRefs / this.stats.walks;
  }

  resetStats(): void {
    const s = this.stats;
    s.walks = 0;
    s.walkRefs = 0;
    s.faults.fill(0);
    s.pscHits.fill(0);
    s.refills = 0;
  }
}

/** An MMU: `createMmu({ format: x86_64, memory, tlb, root })`. */
export function createMmu(options: MmuOptions): Mmu {
  return new Mmu(options);
}
