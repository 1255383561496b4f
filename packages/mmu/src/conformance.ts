/**
 * The conformance suite of the `PagingFormat` interface (packages/core/src/paging.ts): what
 * a format must satisfy for this package's page tables and hardware walker to run it, checked
 * with exact values, so that the built-in formats (x86-64, Sv39/Sv48, AArch64 4K/16K/64K,
 * OSTEP's) and a user's own — written by hand or with customFormat() — are held to the same
 * contract.
 *
 *   import { runPagingFormatConformance } from '@mmsim/mmu/conformance';
 *   runPagingFormatConformance(myFormat, { describe, it });
 *
 * The suite is framework-agnostic: `pagingFormatConformance()` returns named cases whose
 * `run()` throws a plain `Error` describing the first violation; `runPagingFormatConformance`
 * registers them with any describe/it pair (vitest, jest, mocha, node:test).
 *
 * A format is data, so the first case reads the declaration alone: the levels add up to the
 * VA width (geometry() accepts it), the frame field and every named bit lie inside the entry,
 * no named bit sits in the frame field or on another named bit, the leaf encoding has the
 * bit it needs, huge levels are levels above the last, table entries carry the permissive
 * bits a hierarchical walk ANDs. The other cases run the format: encode/decode round trips;
 * map → translate → unmap → fault with base pages in both halves and huge pages at every
 * allowed level (split by a partial unmap or protect); permission faults; Accessed/Dirty in
 * memory (or access-flag faults without hardware A/D); and a seeded random property of
 * map/unmap/protect sequences against a reference map. Each case builds its own small
 * machine: sparse PhysicalMemory of 64 MiB (64 tables' worth where tables are bigger than
 * 1 MiB; never more than the format's paBits reach), a table allocator over at most 16 MiB
 * of its top quarter (createTableAllocator()), a PageTable and an MMU with a small fully
 * associative TLB (or the caller's `tlb`).
 *
 * What is required is what the walker documents (src/mmu.ts), per `arch`: the x86 error
 * code for every fault; faults at the level whose entry caused them; A set in the table
 * entries a walk uses on x86-64 and custom formats only (RISC-V and AArch64 table entries
 * have no A to set); hardware A/D forced on for x86-64. Absent bits mean "always": a format
 * without a write (or read-only) bit maps every page writable, without a user bit every page
 * is user-accessible, without exec/noExec bits every page is executable — decode reports it
 * so and the permission checks expect exactly that.
 *
 * The random property runs on @mmsim/core's seeded Prng (the suite has no runtime dependency
 * on fast-check) and shrinks a failing sequence by dropping commands; checkPageTableCommands()
 * and pageTableCommandSpace() are exported so that a fast-check property can drive the same
 * model (test/property.test.ts does).
 */
import {
  ACCESS_EXEC,
  ACCESS_READ,
  ACCESS_USER,
  ACCESS_WRITE,
  accessErrorCode,
  type ConformanceCase,
  ConformanceChecks,
  type PagingFormat,
  PhysicalMemory,
  PROT_EXEC,
  PROT_GLOBAL,
  PROT_NOCACHE,
  PROT_READ,
  PROT_USER,
  PROT_WRITE,
  PROT_WRITETHROUGH,
  Prng,
  type PteBits,
  registerConformance,
  type TestRegistrar,
  type Tlb,
  type VirtAddr,
  X86_PF_PROT,
  X86_PF_RSVD,
} from '@mmsim/core';
import { createTlb } from '@mmsim/tlb';
import {
  FAULT_ACCESS_FLAG,
  FAULT_NAMES,
  FAULT_NOT_PRESENT,
  FAULT_PROTECTION,
  FAULT_RESERVED,
} from './api.js';
import { explain } from './explain.js';
import { createMmu, type Mmu } from './mmu.js';
import { createTableAllocator, PageTable } from './pagetable.js';
import {
  decodePte,
  encodeLeaf,
  encodeLeafBits,
  encodeTable,
  frameWords,
  type Geometry,
  geometry,
} from './pte.js';

export type { ConformanceCase, TestRegistrar };

/** @mmsim/tlb's 64-entry fully associative LRU TLB, caching the format's base pages. */
const defaultTlb = (format: PagingFormat) => (): Tlb =>
  createTlb({ entries: 64, pageShift: format.pageShift });

/** Options of pagingFormatConformance(). */
export interface PagingFormatConformanceOptions {
  /** A label put in front of every failure message. @defaultValue the format's `name` */
  name?: string;
  /** Seed of the random map/unmap/protect sequences. @defaultValue 42 */
  seed?: number;
  /** How many random sequences the property runs. @defaultValue 100 */
  numRuns?: number;
  /**
   * A fresh TLB for each machine a case builds (e.g. `() => createTlbHierarchy()` from
   * @mmsim/tlb). @defaultValue @mmsim/tlb's 64-entry fully associative LRU TLB of the
   * format's base pages (huge pages are splintered into them)
   */
  tlb?: () => Tlb;
  /**
   * Pairs of named bits the format deliberately puts at the same position; the descriptor
   * case accepts them (the other cases still run the format as it is).
   * @defaultValue []
   */
  sharedBits?: readonly (readonly [keyof PteBits, keyof PteBits])[];
}

/** One step of a random sequence: page numbers and frame numbers in base pages. */
export type PageTableCommand =
  | { op: 'map'; at: number; n: number; frame: number; prot: number }
  | { op: 'unmap'; at: number; n: number; keepTables: boolean }
  | { op: 'protect'; at: number; n: number; prot: number };

/** What the random sequences draw from, for a format. */
export interface PageTableCommandSpace {
  /** Base pages in the address space (2^(vaBits - pageShift)). */
  pages: number;
  /** Page numbers the commands start at: around table boundaries of every level, the last pages. */
  slots: number[];
  /** Frames a map may use: 0 .. frames - 1 (a map of n pages starts below frames - 3). */
  frames: number;
  /** The PROT_* values maps and protects use. */
  prots: number[];
  /** Most pages one command covers. */
  maxPages: number;
  /** Most commands in one sequence. */
  maxCommands: number;
}

const MiB = 1024 * 1024;
const BIT_KEYS: readonly (keyof PteBits)[] = [
  'valid',
  'read',
  'write',
  'readOnly',
  'user',
  'exec',
  'noExec',
  'privNoExec',
  'accessed',
  'dirty',
  'global',
  'notGlobal',
  'huge',
  'table',
  'writeThrough',
  'cacheDisable',
];
const ARCHES = ['x86-64', 'riscv', 'aarch64', 'custom'];
const ENCODINGS = ['last', 'huge-bit', 'rwx', 'table-bit'];

// ---------------------------------------------------------------- what a format can express

const hex = (n: number): string => (n < 0 ? String(n) : `0x${n.toString(16)}`);

/** 'R|W|X|U|G|NC|WT' for PROT_* bits. */
function protName(prot: number): string {
  const names: [number, string][] = [
    [PROT_READ, 'R'],
    [PROT_WRITE, 'W'],
    [PROT_EXEC, 'X'],
    [PROT_USER, 'U'],
    [PROT_GLOBAL, 'G'],
    [PROT_NOCACHE, 'NC'],
    [PROT_WRITETHROUGH, 'WT'],
  ];
  const out = names.filter(([bit]) => prot & bit).map(([, n]) => n);
  return out.length > 0 ? out.join('|') : '0';
}

function accessName(access: number): string {
  const kind = access & ACCESS_EXEC ? 'fetch' : access & ACCESS_WRITE ? 'write' : 'read';
  return access & ACCESS_USER ? `user ${kind}` : `supervisor ${kind}`;
}

const canWrite = (f: PagingFormat): boolean => f.bits.write >= 0 || f.bits.readOnly >= 0;
const hasUser = (f: PagingFormat): boolean => f.bits.user >= 0;
/** Whether user-mode fetches depend on the leaf (X, NX, UXN). */
const userExecBit = (f: PagingFormat): boolean => f.bits.exec >= 0 || f.bits.noExec >= 0;
/** Whether supervisor fetches depend on the leaf (X, NX; PXN where the format has it). */
const kernelExecBit = (f: PagingFormat): boolean =>
  f.bits.exec >= 0 || (f.bits.privNoExec >= 0 ? true : f.bits.noExec >= 0);

/**
 * The PROT_* a leaf of `format` keeps of `prot`: PROT_READ always; what the format has no bit
 * for reads back as decode reports it (no write bit: writable; no exec control: executable;
 * no user bit: PROT_USER dropped, every page reachable from user mode).
 */
function expressibleProt(format: PagingFormat, prot: number): number {
  const b = format.bits;
  let p = PROT_READ;
  p |= canWrite(format) ? prot & PROT_WRITE : PROT_WRITE;
  p |= userExecBit(format) || b.privNoExec >= 0 ? prot & PROT_EXEC : PROT_EXEC;
  if (b.user >= 0) p |= prot & PROT_USER;
  if (b.global >= 0 || b.notGlobal >= 0) p |= prot & PROT_GLOBAL;
  if (b.cacheDisable >= 0) p |= prot & PROT_NOCACHE;
  if (b.writeThrough >= 0) p |= prot & PROT_WRITETHROUGH;
  return p;
}

// ---------------------------------------------------------------- the descriptor

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Every inconsistency of a format's declaration, as sentences (empty: consistent). */
function descriptorProblems(
  f: PagingFormat,
  shared: readonly (readonly [keyof PteBits, keyof PteBits])[],
): string[] {
  const out: string[] = [];
  if (typeof f.name !== 'string' || f.name === '') out.push('name is not a non-empty string');
  if (!ARCHES.includes(f.arch))
    out.push(`arch ${JSON.stringify(f.arch)} is not one of ${ARCHES.join(', ')}`);
  const pteOk = [1, 2, 4, 8].includes(f.pteSize);
  if (!pteOk) out.push(`pteSize ${f.pteSize} is not 1, 2, 4 or 8`);
  const entryBits = pteOk ? f.pteSize * 8 : 64;
  const levels = Array.isArray(f.levelBits) ? f.levelBits.length : 0;
  if (levels === 0) out.push('levelBits is empty');
  else if (f.levelBits.some((b) => !isInt(b) || b < 1 || b > 20)) {
    out.push(`levelBits ${f.levelBits.join(',')}: each level needs 1..20 index bits`);
  }
  if (!isInt(f.pageShift) || f.pageShift < 4 || f.pageShift > 30) {
    out.push(`pageShift ${f.pageShift} is not an integer in 4..30 (pages of 16 bytes to 1 GiB)`);
  }
  if (levels > 0) {
    const sum = f.pageShift + f.levelBits.reduce((a, b) => a + b, 0);
    if (sum !== f.vaBits) {
      out.push(
        `pageShift ${f.pageShift} + levelBits ${f.levelBits.join('+')} = ${sum}, not vaBits ${f.vaBits}`,
      );
    }
  }
  if (!isInt(f.vaBits) || f.vaBits > 48)
    out.push(`vaBits ${f.vaBits}: at most 48 (addresses are numbers)`);
  if (!Array.isArray(f.levelNames) || f.levelNames.length !== levels) {
    out.push(`levelNames has ${f.levelNames?.length} names for ${levels} levels`);
  }
  if (typeof f.hierarchicalPerms !== 'boolean') out.push('hierarchicalPerms is not a boolean');

  // The frame field.
  const { lo, width, shift } = f.frame ?? { lo: Number.NaN, width: Number.NaN, shift: Number.NaN };
  const frameOk = isInt(lo) && isInt(width) && lo >= 0 && width >= 1 && lo + width <= entryBits;
  if (!frameOk) {
    out.push(`frame field [${lo}, ${lo + width}) does not fit in a ${entryBits}-bit entry`);
  }
  if (!isInt(shift) || shift < 0 || shift > f.pageShift) {
    out.push(
      `frame.shift ${shift} is not in 0..pageShift (${f.pageShift}): base pages would not all be expressible`,
    );
  }
  if (!isInt(f.paBits) || f.paBits < f.pageShift || f.paBits > width + shift) {
    out.push(
      `paBits ${f.paBits} is not in pageShift..frame.width + frame.shift (${f.pageShift}..${width + shift})`,
    );
  }
  const inFrame = (bit: number) => frameOk && bit >= lo && bit < lo + width;
  const frameText = `the frame field [${lo}, ${lo + width})`;

  // Named bits.
  const b = f.bits ?? ({} as PteBits);
  const at = new Map<number, keyof PteBits>();
  const isShared = (x: keyof PteBits, y: keyof PteBits) =>
    shared.some(([p, q]) => (p === x && q === y) || (p === y && q === x));
  for (const key of BIT_KEYS) {
    const bit = b[key];
    if (!isInt(bit) || bit < -1) {
      out.push(`bits.${key} is ${String(bit)}, not a bit position or -1`);
      continue;
    }
    if (bit < 0) continue;
    if (bit >= entryBits)
      out.push(`bits.${key} (bit ${bit}) lies outside a ${entryBits}-bit entry`);
    if (inFrame(bit)) out.push(`bits.${key} (bit ${bit}) lies in ${frameText}`);
    const other = at.get(bit);
    if (other !== undefined && !isShared(other, key)) {
      out.push(`bits.${key} and bits.${other} are both bit ${bit}`);
    }
    at.set(bit, key);
  }
  if (!(isInt(b.valid) && b.valid >= 0))
    out.push('bits.valid is -1: every format needs a valid bit');

  // How leaves are told from tables, and where they may be.
  if (!ENCODINGS.includes(f.leafEncoding)) {
    out.push(
      `leafEncoding ${JSON.stringify(f.leafEncoding)} is not one of ${ENCODINGS.join(', ')}`,
    );
  }
  const needs: Record<string, keyof PteBits> = {
    'huge-bit': 'huge',
    'table-bit': 'table',
    rwx: 'read',
  };
  const need = needs[f.leafEncoding];
  if (need !== undefined && !(b[need] >= 0)) {
    out.push(`leafEncoding '${f.leafEncoding}' needs bits.${need}`);
  }
  const huge = Array.isArray(f.hugeLevels) ? f.hugeLevels : [];
  if (f.leafEncoding === 'last' && huge.length > 0) {
    out.push(
      `hugeLevels ${huge.join(',')} with leafEncoding 'last', which has no leaf above the last level`,
    );
  }
  huge.forEach((l, i) => {
    if (!isInt(l) || l < 0 || l >= levels - 1)
      out.push(`hugeLevels: ${l} is not a level above the last (0..${levels - 2})`);
    else if (huge.indexOf(l) !== i) out.push(`hugeLevels lists ${l} twice`);
    else if (l + 1 < levels - 1 && !huge.includes(l + 1)) {
      // PageTable splits a huge leaf into leaves one level down (split_huge_pmd()).
      out.push(
        `hugeLevels has ${l} but not ${l + 1}: a level-${l} huge page splits into level-${l + 1} leaves`,
      );
    }
  });

  // Constant bits.
  const extraBits = (what: string, words: readonly [number, number]): number[] => {
    if (!Array.isArray(words) || words.length !== 2 || !words.every(isInt)) {
      out.push(`${what} is not a pair of 32-bit words`);
      return [];
    }
    const bits: number[] = [];
    for (let k = 0; k < 64; k++) {
      const word = k < 32 ? words[0] : words[1];
      if ((word >>> (k & 31)) & 1) bits.push(k);
    }
    for (const k of bits) {
      if (k >= entryBits) out.push(`${what} sets bit ${k}, outside a ${entryBits}-bit entry`);
      else if (inFrame(k)) out.push(`${what} sets bit ${k}, in ${frameText}`);
    }
    return bits;
  };
  for (const k of extraBits('leafExtra', f.leafExtra)) {
    const named = at.get(k);
    if (named !== undefined)
      out.push(`leafExtra sets bit ${k}, which is bits.${named} (the named bit decides it)`);
  }
  const tableBits = new Set(extraBits('tableExtra', f.tableExtra));
  const asLeaf: (keyof PteBits)[] =
    f.leafEncoding === 'huge-bit'
      ? ['huge']
      : f.leafEncoding === 'rwx'
        ? ['read', 'write', 'exec']
        : [];
  for (const key of asLeaf) {
    if (b[key] >= 0 && tableBits.has(b[key])) {
      out.push(
        `tableExtra sets bits.${key}: with leafEncoding '${f.leafEncoding}' every table entry would read as a leaf`,
      );
    }
  }
  if (f.hierarchicalPerms === true) {
    // The walk ANDs write/user/exec and ORs the restricting bits over every level.
    for (const key of ['write', 'user', 'exec'] as const) {
      if (b[key] >= 0 && !tableBits.has(b[key])) {
        out.push(`hierarchicalPerms: tableExtra lacks bits.${key}, so no page could have it`);
      }
    }
    for (const key of ['readOnly', 'noExec', 'privNoExec'] as const) {
      if (b[key] >= 0 && tableBits.has(b[key])) {
        out.push(`hierarchicalPerms: tableExtra sets bits.${key}, so it would hold for every page`);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- the harness

/** A failure of a check (the runner leaves these alone; anything else thrown gets labelled). */
class ConformanceFailure extends Error {}

/** The assertions of a case; a failure is a ConformanceFailure labelled with the format. */
class Checks extends ConformanceChecks {
  override fail(message: string): never {
    throw new ConformanceFailure(`[${this.label}] ${message}`);
  }
}

/** A small machine for one case: memory, a table allocator, page tables, an MMU. */
class Harness extends Checks {
  readonly f: PagingFormat;
  readonly g: Geometry;
  readonly page: number;
  readonly last: number;
  readonly memory: PhysicalMemory;
  readonly tables: ReturnType<typeof createTableAllocator>;
  readonly pt: PageTable;
  readonly mmu: Mmu;
  /** Free table pages once the root is allocated. */
  readonly free0: number;
  /** Base pages the frame field can name. */
  readonly framePages: number;

  constructor(label: string, format: PagingFormat, tlb: () => Tlb, hardwareAD = true) {
    super(label);
    this.f = format;
    this.g = geometry(format);
    this.page = this.g.pageSize;
    this.last = this.g.levels - 1;
    const tableBytes = this.g.tableAllocBytes;
    // No more memory than the format can address (OSTEP's 7-bit PFNs reach 4 KiB); tables
    // come from the top quarter of it, at most 16 MiB (more for formats with big tables).
    const reach = 2 ** format.paBits;
    const memBytes = Math.max(4096, Math.min(Math.max(64 * MiB, 64 * tableBytes), reach));
    this.memory = new PhysicalMemory(memBytes);
    const top = Math.min(memBytes, reach);
    let region = Math.min(Math.max(16 * MiB, 16 * tableBytes), top / 4);
    region = Math.max(tableBytes, Math.floor(region / tableBytes) * tableBytes);
    this.tables = createTableAllocator(top - region, top, tableBytes);
    this.pt = new PageTable(format, this.memory, this.tables);
    this.free0 = this.tables.free;
    this.mmu = createMmu({
      format,
      memory: this.memory,
      tlb: tlb(),
      root: this.pt.root,
      hardwareAD,
    });
    this.framePages = 2 ** (format.frame.width + format.frame.shift - format.pageShift);
  }

  /** The physical address of base frame k (wrapped into what the frame field can name). */
  frame(k: number): number {
    return (k % this.framePages) * this.page;
  }

  private faultText(): string {
    const m = this.mmu;
    return `-1 (${FAULT_NAMES[m.faultKind] ?? m.faultKind} fault at level ${m.faultLevel}, error code ${hex(m.errorCode)})`;
  }

  /** translate(va, access) must give `expected`. */
  translates(va: VirtAddr, access: number, expected: number, what: string): void {
    const pa = this.mmu.translate(va, access);
    if (pa !== expected) {
      this.fail(
        `${what}: ${accessName(access)} of ${hex(va)} gave ${pa < 0 ? this.faultText() : hex(pa)}, expected ${hex(expected)}`,
      );
    }
  }

  /** translate(va, access) must fault with `kind` at `level` and the x86 error code for it. */
  faults(va: VirtAddr, access: number, kind: number, level: number, what: string): void {
    const m = this.mmu;
    const pa = m.translate(va, access);
    const code =
      (kind === FAULT_NOT_PRESENT ? 0 : X86_PF_PROT) |
      (kind === FAULT_RESERVED ? X86_PF_RSVD : 0) |
      accessErrorCode(access);
    if (pa !== -1 || m.faultKind !== kind || m.faultLevel !== level || m.errorCode !== code) {
      this.fail(
        `${what}: ${accessName(access)} of ${hex(va)} gave ${pa < 0 ? this.faultText() : hex(pa)}, expected -1 (${FAULT_NAMES[kind]} fault at level ${level}, error code ${hex(code)})`,
      );
    }
  }

  /** Every table page but the root is back with the allocator. */
  tablesBack(when: string): void {
    this.eq(this.pt.tablePages, 1, `table pages held ${when}`);
    this.eq(this.tables.free, this.free0, `free table pages ${when}`);
  }

  /** pt.query(va), which must find a leaf. */
  query(va: VirtAddr, what: string): NonNullable<ReturnType<PageTable['query']>> {
    const q = this.pt.query(va);
    if (q === null)
      this.fail(`${what}: query(${hex(va)}) finds no leaf (missLevel ${this.pt.missLevel})`);
    return q;
  }

  map(va: VirtAddr, pa: number, size: number, prot: number, pageShift = this.f.pageShift): void {
    const r = this.pt.map(va, pa, size, prot, pageShift);
    this.eq(r, 0, `map(${hex(va)}, ${hex(pa)}, ${hex(size)}, ${protName(prot)}, 2^${pageShift})`);
  }
}

function commandText(c: PageTableCommand): string {
  switch (c.op) {
    case 'map':
      return `map pages ${c.at}+${c.n} to frame ${c.frame} ${protName(c.prot)}`;
    case 'unmap':
      return `unmap pages ${c.at}+${c.n}${c.keepTables ? ' (freeTables: false)' : ''}`;
    default:
      return `protect pages ${c.at}+${c.n} ${protName(c.prot)}`;
  }
}

/** The page numbers, frames and protections the random sequences draw from. */
export function pageTableCommandSpace(format: PagingFormat): PageTableCommandSpace {
  const g = geometry(format);
  const E = g.entries[g.levels - 1]!;
  const pages = 2 ** (format.vaBits - format.pageShift);
  // Page numbers around table boundaries at every level, the last page of the space too.
  const slots = [
    ...new Set([0, 1, 2, E - 1, E, E + 1, E * 3, E * E, E * E + 1, pages - 2, pages - 1]),
  ]
    .filter((p) => p >= 0 && p < pages)
    .sort((a, b) => a - b);
  const framePages = 2 ** (format.frame.width + format.frame.shift - format.pageShift);
  return {
    pages,
    slots,
    frames: Math.max(4, Math.min(64, Math.floor(framePages / 4))),
    prots: [
      PROT_READ,
      PROT_READ | PROT_WRITE,
      PROT_READ | PROT_EXEC,
      PROT_READ | PROT_USER,
      PROT_READ | PROT_WRITE | PROT_USER,
      PROT_READ | PROT_EXEC | PROT_USER,
    ],
    maxPages: 3,
    maxCommands: 12,
  };
}

/** Run a sequence on a fresh machine, checking every slot against the reference after each step. */
function runCommands(h: Harness, commands: readonly PageTableCommand[]): void {
  const { f, pt, mmu, tables, page } = h;
  const space = pageTableCommandSpace(f);
  const ref = new Map<number, { frame: number; prot: number }>();
  const writable = (prot: number) => !canWrite(f) || (prot & PROT_WRITE) !== 0;
  const user = (prot: number) => !hasUser(f) || (prot & PROT_USER) !== 0;
  const userExec = (prot: number) => user(prot) && (!userExecBit(f) || (prot & PROT_EXEC) !== 0);
  commands.forEach((c, i) => {
    const step = `after command ${i + 1} (${commandText(c)})`;
    const n = Math.min(c.n, space.pages - c.at);
    if (c.op === 'map') {
      const r = pt.map(c.at * page, c.frame * page, n * page, c.prot);
      h.eq(r, 0, `map() result of command ${i + 1} (${commandText(c)})`);
      for (let k = 0; k < n; k++) ref.set(c.at + k, { frame: c.frame + k, prot: c.prot });
    } else if (c.op === 'unmap') {
      let mapped = 0;
      for (let k = 0; k < n; k++) if (ref.delete(c.at + k)) mapped++;
      const r = pt.unmap(c.at * page, n * page, { freeTables: !c.keepTables });
      h.eq(r, mapped, `leaves cleared by command ${i + 1} (${commandText(c)})`);
    } else {
      let mapped = 0;
      for (let k = 0; k < n; k++) {
        const e = ref.get(c.at + k);
        if (e) {
          e.prot = c.prot;
          mapped++;
        }
      }
      h.eq(
        pt.protect(c.at * page, n * page, c.prot),
        mapped,
        `leaves changed by command ${i + 1} (${commandText(c)})`,
      );
    }
    mmu.flushRange(c.at * page, (c.at + n) * page);
    for (const p of space.slots) {
      const e = ref.get(p);
      const va = p * page + (page >> 1);
      const what = `${step}, page ${p}`;
      if (!e) {
        const pa = mmu.translate(va, ACCESS_READ);
        if (pa !== -1 || mmu.faultKind !== FAULT_NOT_PRESENT) {
          h.fail(
            `${what} (unmapped): read gave ${pa < 0 ? `a ${FAULT_NAMES[mmu.faultKind]} fault` : hex(pa)}, expected a not-present fault`,
          );
        }
        continue;
      }
      const pa = e.frame * page + (page >> 1);
      const mapping = `${what} (frame ${e.frame}, ${protName(e.prot)})`;
      h.translates(va, ACCESS_READ, pa, mapping);
      h.translates(va, ACCESS_WRITE, writable(e.prot) ? pa : -1, mapping);
      h.translates(va, ACCESS_USER, user(e.prot) ? pa : -1, mapping);
      h.translates(
        va,
        ACCESS_USER | ACCESS_WRITE,
        user(e.prot) && writable(e.prot) ? pa : -1,
        mapping,
      );
      h.translates(va, ACCESS_USER | ACCESS_EXEC, userExec(e.prot) ? pa : -1, mapping);
    }
  });
  const kept = commands.some((c) => c.op === 'unmap' && c.keepTables);
  pt.unmap(0, space.pages * page);
  if (!kept) h.tablesBack('after unmapping everything');
  // Tables kept by vunmap-style unmaps are still accounted for, and destroy() frees all.
  h.eq(
    tables.free + pt.tablePages - 1,
    h.free0,
    'free + held table pages after unmapping everything',
  );
  pt.destroy();
  h.eq(tables.free, h.free0 + 1, 'free table pages after destroy() (the root included)');
}

/** Label anything a run throws that is not a check's failure. */
function labelled(label: string, e: unknown): Error {
  if (e instanceof ConformanceFailure) return e;
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new ConformanceFailure(`[${label}] threw ${text}`);
}

/**
 * Run `commands` on a fresh machine for `format` and check, after each, every slot of
 * pageTableCommandSpace() with reads, writes, user reads/writes and user fetches against a
 * reference map; at the end, unmapping everything gives every table page back. Throws an
 * Error naming the command and page on the first mismatch. For fast-check (or any driver).
 */
export function checkPageTableCommands(
  format: PagingFormat,
  commands: readonly PageTableCommand[],
  options: Pick<PagingFormatConformanceOptions, 'name' | 'tlb'> = {},
): void {
  const label = options.name ?? format.name;
  try {
    runCommands(new Harness(label, format, options.tlb ?? defaultTlb(format)), commands);
  } catch (e) {
    throw labelled(label, e);
  }
}

function randomCommands(rng: Prng, space: PageTableCommandSpace): PageTableCommand[] {
  const out: PageTableCommand[] = [];
  const length = rng.nextRange(1, space.maxCommands);
  for (let i = 0; i < length; i++) {
    const at = rng.pick(space.slots);
    const n = rng.nextRange(1, space.maxPages);
    const op = rng.nextInt(3);
    if (op === 0) {
      const frame = rng.nextRange(0, space.frames - 4);
      out.push({ op: 'map', at, n, frame, prot: rng.pick(space.prots) });
    } else if (op === 1) out.push({ op: 'unmap', at, n, keepTables: rng.nextBool() });
    else out.push({ op: 'protect', at, n, prot: rng.pick(space.prots) });
  }
  return out;
}

// ---------------------------------------------------------------- the cases

/** The PROT_* combinations the round trip encodes: every subset of the bits, PROT_READ set. */
const ALL_PROTS = Array.from({ length: 64 }, (_, i) => PROT_READ | (i << 1));

/**
 * The cases of the suite for `format`. Each case is independent: it builds its own memory,
 * table allocator, page tables and MMU.
 */
export function pagingFormatConformance(
  format: PagingFormat,
  options: PagingFormatConformanceOptions = {},
): ConformanceCase[] {
  const label = options.name ?? format.name;
  const tlb = options.tlb ?? defaultTlb(format);
  const seed = options.seed ?? 42;
  const numRuns = options.numRuns ?? 100;
  const cases: ConformanceCase[] = [];
  const add = (name: string, run: () => void): void => {
    cases.push({
      name,
      run: () => {
        try {
          run();
        } catch (e) {
          throw labelled(label, e);
        }
      },
    });
  };
  const harness = (hardwareAD = true) => new Harness(label, format, tlb, hardwareAD);

  add(
    'the descriptor is consistent: levels, frame field, named bits, leaf encoding, huge levels',
    () => {
      const checks = new Checks(label);
      const problems = descriptorProblems(format, options.sharedBits ?? []);
      if (problems.length > 0) {
        checks.fail(`the descriptor is inconsistent: ${problems.join('; ')}`);
      }
      try {
        geometry(format);
      } catch (e) {
        checks.fail(`geometry() rejects the format: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
  );

  add(
    'encode/decode round-trip table entries and leaves at every leaf level, for every PROT combination',
    () => {
      const h = new Checks(label);
      const g = geometry(format);
      const b = format.bits;
      const page = g.pageSize;
      const top = (2 ** format.frame.width - 1) * 2 ** format.frame.shift;
      const frames = [0, page, 37 * page, top];
      const empty = decodePte(g, 0, 0, 0);
      h.eq(empty.valid, false, 'valid of an all-zero entry');
      for (let level = 0; level < g.levels - 1; level++) {
        for (const raw of [page, 5 * page, top]) {
          const pa = Math.floor(raw / page) * page;
          const [lo, hi] = encodeTable(g, pa);
          const d = decodePte(g, lo, hi, level);
          const what = `table entry at level ${level} for ${hex(pa)} (${hex(hi >>> 0)}:${hex(lo >>> 0)})`;
          h.eq(d.valid, true, `valid of the ${what}`);
          h.eq(d.leaf, false, `leaf of the ${what}`);
          h.eq(d.pa, pa, `address in the ${what}`);
        }
      }
      for (let level = 0; level < g.levels; level++) {
        if (!g.leafAllowed[level]) continue;
        const span = g.span[level]!;
        for (const raw of frames) {
          const pa = Math.floor(raw / span) * span;
          const [flo, fhi] = frameWords(g, pa);
          for (const prot of ALL_PROTS) {
            for (let ad = 0; ad < 4; ad++) {
              const accessed = (ad & 1) !== 0;
              const dirty = (ad & 2) !== 0;
              const [lo, hi] = encodeLeaf(g, pa, level, prot, accessed, dirty);
              const what = `leaf at level ${level} for ${hex(pa)} ${protName(prot)}${accessed ? ' A' : ''}${dirty ? ' D' : ''} (${hex(hi >>> 0)}:${hex(lo >>> 0)})`;
              const [dl, dh] = encodeLeafBits(g, flo, fhi, level, prot, accessed, dirty);
              if (dl !== lo || dh !== hi) {
                h.fail(
                  `${what}: encodeLeaf() differs from its bit-by-bit definition ${hex(dh >>> 0)}:${hex(dl >>> 0)}`,
                );
              }
              const d = decodePte(g, lo, hi, level);
              h.eq(d.valid, true, `valid of the ${what}`);
              h.eq(d.leaf, true, `leaf of the ${what}`);
              h.eq(d.pa, pa, `address in the ${what}`);
              if (d.prot !== expressibleProt(format, prot)) {
                h.fail(
                  `${what}: decodes as ${protName(d.prot)}, expected ${protName(expressibleProt(format, prot))}`,
                );
              }
              h.eq(d.accessed, accessed && b.accessed >= 0, `accessed of the ${what}`);
              h.eq(d.dirty, dirty && b.dirty >= 0, `dirty of the ${what}`);
            }
          }
        }
      }
    },
  );

  add(
    'base pages in the lower and upper halves map, translate, unmap and fault not-present',
    () => {
      const h = harness();
      const { pt, mmu, page, last } = h;
      const g = h.g;
      const U = ACCESS_USER;
      const W = ACCESS_WRITE;
      const low = 3 * page;
      const high = 3 * page + g.vaSize / 2; // the upper (kernel) half: the top VA bit set
      h.faults(low, ACCESS_READ, FAULT_NOT_PRESENT, 0, 'before anything is mapped');
      h.faults(high, U | W, FAULT_NOT_PRESENT, 0, 'before anything is mapped');
      h.map(low, h.frame(9), 2 * page, PROT_WRITE | PROT_USER);
      h.eq(pt.tablePages, g.levels, 'table pages held with two pages mapped in the lower half');
      h.map(high, h.frame(11), 2 * page, PROT_WRITE | PROT_USER);
      h.eq(pt.tablePages, 2 * g.levels - 1, 'table pages held with two pages mapped in each half');
      mmu.resetStats();
      h.translates(low + 5, U | W, h.frame(9) + 5, 'the first lower page');
      h.translates(low + page + 1, U, h.frame(10) + 1, 'the second lower page');
      h.translates(high + 7, ACCESS_READ, h.frame(11) + 7, 'the first upper page');
      h.translates(
        high + 2 * page - 1,
        U | W,
        h.frame(12) + page - 1,
        'the last byte of the second upper page',
      );
      h.eq(mmu.stats.walks, 4, 'walks for four pages');
      h.eq(mmu.stats.walkRefs, 4 * g.levels, `entries read by four walks of ${g.levels} levels`);
      const q = h.query(low + 5, 'the first lower page');
      h.eq(q.pa, h.frame(9) + 5, `query(${hex(low + 5)}).pa`);
      h.eq(q.level, last, `query(${hex(low + 5)}).level`);
      h.eq(q.pageShift, format.pageShift, `query(${hex(low + 5)}).pageShift`);
      h.eq(pt.unmap(low, 2 * page), 2, 'leaves unmap() cleared in the lower half');
      mmu.flushRange(low, low + 2 * page);
      h.faults(low + 5, U, FAULT_NOT_PRESENT, 0, 'the lower half after unmap (its tables freed)');
      h.faults(
        low + page,
        W,
        FAULT_NOT_PRESENT,
        0,
        'the lower half after unmap (its tables freed)',
      );
      h.translates(high + 7, U, h.frame(11) + 7, 'the upper half after the lower unmap');
      h.eq(pt.tablePages, g.levels, 'table pages held after the lower unmap');
      h.eq(pt.unmap(high, 2 * page), 2, 'leaves unmap() cleared in the upper half');
      mmu.flushRange(high, high + 2 * page);
      h.faults(high + 7, U, FAULT_NOT_PRESENT, 0, 'the upper half after unmap');
      h.tablesBack('after unmapping both halves');

      // vunmap-style: the leaves go, every table stays, and the walk now stops at the last level.
      h.map(high, h.frame(9), 2 * page, PROT_WRITE);
      const held = pt.tablePages;
      const free = h.tables.free;
      h.eq(
        pt.unmap(high, 2 * page, { freeTables: false }),
        2,
        'leaves unmap(freeTables: false) cleared',
      );
      h.eq(pt.tablePages, held, 'table pages held after unmap(freeTables: false)');
      h.eq(h.tables.free, free, 'free table pages after unmap(freeTables: false)');
      h.ok(pt.query(high) === null, `query(${hex(high)}) after unmap(freeTables: false) is null`);
      h.eq(pt.missLevel, last, 'the level query() misses at after unmap(freeTables: false)');
      mmu.flushRange(high, high + 2 * page);
      h.faults(high, ACCESS_READ, FAULT_NOT_PRESENT, last, 'after unmap(freeTables: false)');
      h.map(high, h.frame(9), page, PROT_WRITE);
      h.eq(pt.tablePages, held, 'table pages held after mapping into the kept tables again');
      h.eq(pt.unmap(0, g.vaSize), 1, 'leaves cleared by unmapping the whole address space');
      h.tablesBack('after unmapping the whole address space');
    },
  );

  add(
    'a huge page at every allowed level translates every offset; a partial unmap or protect splits it',
    () => {
      const g = geometry(format);
      for (let level = 0; level < g.levels - 1; level++) {
        if (!g.leafAllowed[level]) continue;
        const h = harness();
        const { pt, mmu } = h;
        const size = g.span[level]!;
        const child = g.span[level + 1]!;
        const half = size / 2;
        const va = size; // the second huge page of the address space
        const reach = 2 ** (format.frame.width + format.frame.shift);
        const pa = 3 * size <= reach ? 2 * size : 0;
        const prot = PROT_READ | PROT_WRITE | PROT_USER;
        const at = `the 2^${g.shift[level]} page at level ${level}`;
        h.map(va, pa, size, prot, g.shift[level]!);
        mmu.resetStats();
        h.translates(va + size - 8, ACCESS_USER, pa + size - 8, at);
        h.eq(mmu.stats.walkRefs, level + 1, `entries read by the walk of ${at}`);
        h.eq(explain(mmu, va).pageSize, size, `explain().pageSize of ${at}`);
        const q = h.query(va + 3, at);
        h.eq(q.level, level, `query().level of ${at}`);
        h.eq(q.pa, pa + 3, `query().pa of ${at}`);
        h.eq(q.prot, expressibleProt(format, prot), `query().prot of ${at}`);
        const offsets = new Set<number>([0, 1, half - 1, half, half + 3, size - 1]);
        for (let l = level + 1; l < g.levels; l++) {
          for (const d of [-1, 0, 1]) offsets.add(g.span[l]! + d);
        }
        if (size <= 4096) for (let o = 0; o < size; o++) offsets.add(o);
        for (const off of offsets) {
          if (size > 4096) mmu.flushAll(); // each of these offsets through a walk of its own
          h.translates(va + off, ACCESS_USER | ACCESS_WRITE, pa + off, `${at}, offset ${hex(off)}`);
        }
        // A protect of its first child-sized piece splits it: that piece changes, the rest not.
        h.eq(
          pt.protect(va, child, PROT_READ | PROT_USER),
          1,
          `leaves protect() changed in the first 2^${g.shift[level + 1]} bytes of ${at}`,
        );
        mmu.flushRange(va, va + size);
        h.eq(
          h.query(va, `the protected piece of ${at}`).level,
          level + 1,
          `query().level of the protected piece of ${at}`,
        );
        h.eq(
          h.query(va, `the protected piece of ${at}`).prot,
          expressibleProt(format, PROT_READ | PROT_USER),
          `query().prot of the protected piece of ${at}`,
        );
        h.eq(
          h.query(va + child, `the rest of ${at}`).prot,
          expressibleProt(format, prot),
          `query().prot of the rest of ${at}`,
        );
        if (canWrite(format))
          h.faults(
            va + 1,
            ACCESS_USER | ACCESS_WRITE,
            FAULT_PROTECTION,
            level + 1,
            `the protected piece of ${at}`,
          );
        h.translates(
          va + child,
          ACCESS_USER | ACCESS_WRITE,
          pa + child,
          `the rest of ${at} after the protect`,
        );
        // Half of it unmapped: the other half stays mapped, in the next level's leaves.
        const n = g.entries[level + 1]! / 2;
        h.eq(pt.unmap(va, half), n, `leaves unmap() cleared in the first half of ${at}`);
        mmu.flushRange(va, va + size);
        h.ok(
          pt.query(va) === null,
          `query(${hex(va)}) after unmapping the first half of ${at} is null`,
        );
        h.eq(
          h.query(va + half, `the second half of ${at}`).pa,
          pa + half,
          `query().pa of the second half of ${at}`,
        );
        h.eq(
          h.query(va + half, `the second half of ${at}`).level,
          level + 1,
          `query().level of the second half of ${at}`,
        );
        h.faults(
          va + 1,
          ACCESS_USER,
          FAULT_NOT_PRESENT,
          level + 1,
          `the unmapped first half of ${at}`,
        );
        h.translates(va + half + 3, ACCESS_USER, pa + half + 3, `the second half of ${at}`);
        h.translates(
          va + size - 1,
          ACCESS_USER | ACCESS_WRITE,
          pa + size - 1,
          `the last byte of ${at}`,
        );
        h.eq(pt.unmap(va, size), n, `leaves unmap() cleared in the second half of ${at}`);
        h.tablesBack(`after unmapping ${at}`);
      }
    },
  );

  add(
    'permissions: read-only, supervisor and non-executable leaves fault exactly when the format has the bit',
    () => {
      const h = harness();
      const { page, last } = h;
      const U = ACCESS_USER;
      const W = ACCESS_WRITE;
      const X = ACCESS_EXEC;
      const pages: [string, number][] = [
        ['a user read-only page', PROT_READ | PROT_USER],
        ['a supervisor read/write page', PROT_READ | PROT_WRITE],
        ['a user read/write non-executable page', PROT_READ | PROT_WRITE | PROT_USER],
        ['a user executable page', PROT_READ | PROT_EXEC | PROT_USER],
        ['a supervisor executable page', PROT_READ | PROT_EXEC],
      ];
      pages.forEach(([, prot], i) => {
        h.map((i + 1) * page, h.frame(4 + i), page, prot);
      });
      const va = (i: number) => (i + 1) * page + 3;
      const pa = (i: number) => h.frame(4 + i) + 3;
      const expect = (i: number, access: number, faults: boolean, why: string) => {
        const what = `${pages[i]![0]} (${protName(pages[i]![1])}): ${why}`;
        if (faults) h.faults(va(i), access, FAULT_PROTECTION, last, what);
        else h.translates(va(i), access, pa(i), what);
      };
      const w = canWrite(format);
      const u = hasUser(format);
      const ux = userExecBit(format);
      const kx = kernelExecBit(format);
      for (let i = 0; i < pages.length; i++)
        expect(i, ACCESS_READ, false, 'every leaf is readable by the supervisor');
      expect(0, U, false, 'a user page is readable from user mode');
      expect(
        0,
        U | W,
        w,
        w ? 'the format has a write bit' : 'the format has no write bit: every page is writable',
      );
      expect(0, W, w, w ? 'CR0.WP: supervisor writes honour read-only too' : 'no write bit');
      expect(1, W, false, 'a writable page takes a supervisor write');
      expect(
        1,
        U,
        u,
        u ? 'the format has a user bit' : 'the format has no user bit: every page is a user page',
      );
      expect(1, U | W, u, u ? 'the format has a user bit' : 'no user bit');
      expect(2, U | W, false, 'a user writable page takes a user write');
      expect(
        2,
        U | X,
        ux,
        ux ? 'the format has an exec/no-exec bit' : 'the format has no exec control for user mode',
      );
      expect(
        1,
        X,
        kx,
        kx
          ? 'the format has an exec/no-exec bit'
          : 'the format has no exec control for the supervisor',
      );
      expect(3, U | X, false, 'a user executable page takes a user fetch');
      expect(4, X, false, 'a supervisor executable page takes a supervisor fetch');
      expect(4, U | X, u, u ? 'the format has a user bit' : 'no user bit');
    },
  );

  add(
    'Accessed/Dirty are set in memory by the walk (or fault as access-flag faults without hardware A/D)',
    () => {
      const b = format.bits;
      const hasA = b.accessed >= 0;
      const hasD = b.dirty >= 0;
      {
        const h = harness();
        const { mmu, page, last } = h;
        const va = 5 * page;
        h.map(va, h.frame(6), page, PROT_WRITE | PROT_USER);
        let q = h.query(va, 'a freshly mapped page');
        h.eq(q.accessed, false, 'Accessed of a freshly mapped leaf');
        h.eq(q.dirty, false, 'Dirty of a freshly mapped leaf');
        mmu.resetStats();
        h.translates(va + 1, ACCESS_USER, h.frame(6) + 1, 'the first read');
        q = h.query(va, 'after a read');
        h.eq(
          q.accessed,
          hasA,
          `Accessed in memory after a read (the format ${hasA ? 'has' : 'has no'} A bit)`,
        );
        h.eq(q.dirty, false, 'Dirty in memory after a read');
        const steps = explain(mmu, va).steps;
        const tableA = hasA && (format.arch === 'x86-64' || format.arch === 'custom');
        for (let l = 0; l < last; l++) {
          h.eq(
            steps[l]!.decoded.accessed,
            tableA,
            `Accessed of the level-${l} table entry after a walk (set on x86-64 and custom formats only)`,
          );
        }
        h.translates(va + 2, ACCESS_USER | ACCESS_WRITE, h.frame(6) + 2, 'a write after the read');
        q = h.query(va, 'after a write');
        h.eq(
          q.dirty,
          hasD,
          `Dirty in memory after a write (the format ${hasD ? 'has' : 'has no'} D bit)`,
        );
        // The read's TLB entry lacks Dirty: the write walks again to set D, then nothing more.
        h.eq(mmu.stats.walks, hasD ? 2 : 1, 'walks for a read and then a write of one page');
        h.translates(va + 3, ACCESS_USER | ACCESS_WRITE, h.frame(6) + 3, 'a second write');
        h.eq(mmu.stats.walks, hasD ? 2 : 1, 'walks after a second write');
      }
      {
        // Without hardware A/D (RISC-V without Svadu, AArch64 without FEAT_HAFDBS, custom
        // formats): the kernel sets the bits; x86 always updates them in hardware.
        const h = harness(false);
        const { pt, page, last } = h;
        const va = 5 * page;
        const pa = h.frame(6);
        h.map(va, pa, page, PROT_WRITE);
        const hw = format.arch === 'x86-64';
        if (hasA && !hw) {
          h.faults(
            va,
            ACCESS_READ,
            FAULT_ACCESS_FLAG,
            last,
            'a read with A clear and hardwareAD: false',
          );
          h.ok(pt.markAccessed(va, false), 'markAccessed() finds the leaf');
        }
        h.translates(va, ACCESS_READ, pa, hasA && !hw ? 'a read once A is set' : 'a read');
        if (hasD && !hw) {
          h.faults(
            va,
            ACCESS_WRITE,
            FAULT_ACCESS_FLAG,
            last,
            'a write with D clear and hardwareAD: false',
          );
          h.ok(pt.markAccessed(va, true), 'markAccessed() finds the leaf');
        }
        h.translates(va, ACCESS_WRITE, pa, hasD && !hw ? 'a write once D is set' : 'a write');
        h.eq(h.query(va, 'at the end').accessed, hasA, 'Accessed in memory at the end');
        h.eq(h.query(va, 'at the end').dirty, hasD, 'Dirty in memory at the end');
      }
    },
  );

  add(
    `random map/unmap/protect sequences translate as a reference map says and give every table page back (seed ${seed}, ${numRuns} runs)`,
    () => {
      const space = pageTableCommandSpace(format);
      const rng = new Prng(seed);
      const failure = (cmds: readonly PageTableCommand[]): string | null => {
        try {
          runCommands(harness(), cmds);
          return null;
        } catch (e) {
          return labelled(label, e).message;
        }
      };
      for (let run = 0; run < numRuns; run++) {
        let cmds = randomCommands(rng, space);
        let message = failure(cmds);
        if (message === null) continue;
        // Shrink: drop commands while the sequence still fails.
        const length = cmds.length;
        for (let i = 0; i < cmds.length && cmds.length > 1; ) {
          const fewer = cmds.filter((_, j) => j !== i);
          const m = failure(fewer);
          if (m === null) i++;
          else {
            cmds = fewer;
            message = m;
          }
        }
        throw new ConformanceFailure(
          `${message}\n  run ${run + 1} of seed ${seed}, shrunk from ${length} to ${cmds.length} command(s): ${cmds.map(commandText).join('; ')}\n  replay: checkPageTableCommands(format, ${JSON.stringify(cmds)})`,
        );
      }
    },
  );

  return cases;
}

/**
 * Register the suite with a test framework:
 * `runPagingFormatConformance(myFormat, { describe, it })`.
 */
export function runPagingFormatConformance(
  format: PagingFormat,
  registrar: TestRegistrar,
  options: PagingFormatConformanceOptions = {},
): void {
  const name = options.name ?? format.name;
  const cases = pagingFormatConformance(format, { ...options, name });
  registerConformance(`PagingFormat conformance: ${name}`, cases, registrar);
}
