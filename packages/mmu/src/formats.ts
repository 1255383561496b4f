/**
 * The paging formats, declared as data (`PagingFormat` from @mmsim/core).
 *
 * - x86-64 4-level paging: Intel SDM vol. 3 ch. 4.5 (tables 4-15..4-20), arch/x86/include/asm/
 *   pgtable_types.h. P 0, R/W 1, U/S 2, PWT 3, PCD 4, A 5, D 6, PS 7, G 8, frame 12..51, XD 63.
 *   1 GiB pages in the PDPT, 2 MiB pages in the PD; PS in a PML4E is reserved.
 * - RISC-V Sv39 / Sv48: the privileged spec, "Sv39: Page-Based 39-bit Virtual-Memory System"
 *   and "Virtual Address Translation Process". V 0, R 1, W 2, X 3, U 4, G 5, A 6, D 7,
 *   PPN 10..53; a leaf is any entry with R, W or X set, at any level (mega/giga/terapages).
 * - AArch64 VMSAv8-64 stage 1 (Arm ARM D8.3 "Translation table descriptor formats"), 48-bit
 *   VA with the 4K, 16K and 64K granules: bit 0 valid, bit 1 table/page (clear = block),
 *   AP[1] 6 (EL0 access), AP[2] 7 (read-only), SH 8..9, AF 10, nG 11, OA, PXN 53, UXN 54.
 *   Blocks: 4K at L1 (1 GiB) and L2 (2 MiB); 16K at L2 (32 MiB); 64K at L2 (512 MiB).
 *   Hierarchical table attributes (APTable, XNTable) are not modelled.
 * - `customFormat()`: any textbook format — OSTEP ch. 20's multi-level example
 *   (`ostepMultilevel`: 32-byte pages, two levels of 5 bits, 1-byte entries, valid bit 7,
 *   7-bit PFN) among them.
 */
import { definePagingFormat, type PagingFormat, type PteBits } from '@mmsim/core';

const NONE: PteBits = {
  valid: -1,
  read: -1,
  write: -1,
  readOnly: -1,
  user: -1,
  exec: -1,
  noExec: -1,
  privNoExec: -1,
  accessed: -1,
  dirty: -1,
  global: -1,
  notGlobal: -1,
  huge: -1,
  table: -1,
  writeThrough: -1,
  cacheDisable: -1,
};

/** x86-64 4-level paging (48-bit VA, 4 KiB pages, 2 MiB and 1 GiB pages). */
export const x86_64 = definePagingFormat({
  name: 'x86-64 4-level',
  arch: 'x86-64',
  vaBits: 48,
  paBits: 52,
  pageShift: 12,
  levelBits: [9, 9, 9, 9],
  pteSize: 8,
  frame: { lo: 12, width: 40, shift: 12 },
  bits: {
    ...NONE,
    valid: 0,
    write: 1,
    user: 2,
    writeThrough: 3,
    cacheDisable: 4,
    accessed: 5,
    dirty: 6,
    huge: 7,
    global: 8,
    noExec: 63,
  },
  leafEncoding: 'huge-bit',
  hugeLevels: [1, 2],
  hierarchicalPerms: true,
  // _PAGE_TABLE without _PAGE_ACCESSED/_PAGE_DIRTY, so that the walk visibly sets A.
  tableExtra: [0x6, 0],
  leafExtra: [0, 0],
  levelNames: ['PML4', 'PDPT', 'PD', 'PT'],
});

const RISCV_BITS: PteBits = {
  ...NONE,
  valid: 0,
  read: 1,
  write: 2,
  exec: 3,
  user: 4,
  global: 5,
  accessed: 6,
  dirty: 7,
};

/** RISC-V Sv39: 3 levels, 39-bit VA, 4 KiB pages, 2 MiB megapages, 1 GiB gigapages. */
export const sv39 = definePagingFormat({
  name: 'Sv39',
  arch: 'riscv',
  vaBits: 39,
  paBits: 56,
  pageShift: 12,
  levelBits: [9, 9, 9],
  pteSize: 8,
  frame: { lo: 10, width: 44, shift: 12 },
  bits: RISCV_BITS,
  leafEncoding: 'rwx',
  hugeLevels: [0, 1],
  hierarchicalPerms: false,
  tableExtra: [0, 0],
  leafExtra: [0, 0],
  levelNames: ['L2', 'L1', 'L0'],
});

/** RISC-V Sv48: 4 levels, 48-bit VA, adds 512 GiB terapages. */
export const sv48 = definePagingFormat({
  ...sv39,
  name: 'Sv48',
  vaBits: 48,
  levelBits: [9, 9, 9, 9],
  hugeLevels: [0, 1, 2],
  levelNames: ['L3', 'L2', 'L1', 'L0'],
});

const ARM_BITS: PteBits = {
  ...NONE,
  valid: 0,
  table: 1,
  user: 6,
  readOnly: 7,
  accessed: 10,
  notGlobal: 11,
  privNoExec: 53,
  noExec: 54,
};

function aarch64(
  granuleShift: number,
  levelBits: number[],
  hugeLevels: number[],
  names: string[],
): PagingFormat {
  return definePagingFormat({
    name: `AArch64 ${1 << (granuleShift - 10)}K`,
    arch: 'aarch64',
    vaBits: 48,
    paBits: 48,
    pageShift: granuleShift,
    levelBits,
    pteSize: 8,
    frame: { lo: granuleShift, width: 48 - granuleShift, shift: granuleShift },
    bits: ARM_BITS,
    leafEncoding: 'table-bit',
    hugeLevels,
    hierarchicalPerms: false,
    tableExtra: [0, 0],
    // SH[1:0] = 0b11, inner shareable (Linux PTE_SHARED); AttrIndx 0 (MT_NORMAL).
    leafExtra: [0x300, 0],
    levelNames: names,
  });
}

/** AArch64, 4K granule, 48-bit VA: L0..L3 of 9 bits; 1 GiB and 2 MiB blocks. */
export const aarch64_4k = aarch64(12, [9, 9, 9, 9], [1, 2], ['L0', 'L1', 'L2', 'L3']);
/** AArch64, 16K granule, 48-bit VA: L0 of 1 bit, L1..L3 of 11 bits; 32 MiB blocks at L2. */
export const aarch64_16k = aarch64(14, [1, 11, 11, 11], [2], ['L0', 'L1', 'L2', 'L3']);
/** AArch64, 64K granule, 48-bit VA: L1 of 6 bits, L2 and L3 of 13 bits; 512 MiB blocks at L2. */
export const aarch64_64k = aarch64(16, [6, 13, 13], [1], ['L1', 'L2', 'L3']);

/** A textbook format's declaration. Bit positions are within the entry; omitted = absent. */
export interface CustomFormatSpec {
  name: string;
  /** Page size in bytes: a power of two, at least 16. */
  pageSize: number;
  /** Index bits per level, top first. */
  levelBits: readonly number[];
  /** Bytes per entry. */
  pteSize: 1 | 2 | 4 | 8;
  validBit: number;
  /** The frame number field: its lowest bit and width. The address is frame * pageSize. */
  frameBit: number;
  frameBits: number;
  writeBit?: number;
  /** A read-only bit (inverse sense of writeBit). */
  readOnlyBit?: number;
  userBit?: number;
  execBit?: number;
  noExecBit?: number;
  accessedBit?: number;
  dirtyBit?: number;
  globalBit?: number;
  /** A page-size bit marking leaves above the last level (needs `hugeLevels`). */
  hugeBit?: number;
  /** Levels above the last where a leaf may sit (with `hugeBit`). @defaultValue [] */
  hugeLevels?: readonly number[];
  levelNames?: readonly string[];
}

/**
 * A format declared by data. Throws a RangeError for a spec that cannot work (bits outside
 * the entry or overlapping the frame field, a page size that is not a power of two ≥ 16, …).
 */
export function customFormat(spec: CustomFormatSpec): PagingFormat {
  const { pageSize, levelBits, pteSize } = spec;
  const fail = (what: string): never => {
    throw new RangeError(`customFormat(${spec.name}): ${what}`);
  };
  if (!Number.isSafeInteger(pageSize) || pageSize < 16 || (pageSize & (pageSize - 1)) !== 0) {
    fail(`page size ${pageSize} is not a power of two >= 16`);
  }
  if (pageSize > 2 ** 30) fail(`page size ${pageSize} is above 1 GiB`);
  if (![1, 2, 4, 8].includes(pteSize)) fail(`PTE size ${pteSize} is not 1, 2, 4 or 8`);
  if (levelBits.length < 1 || levelBits.some((b) => !Number.isInteger(b) || b < 1 || b > 20)) {
    fail(`level bits ${levelBits.join(',')}: each level needs 1..20 index bits`);
  }
  const pageShift = Math.log2(pageSize);
  const vaBits = pageShift + levelBits.reduce((a, b) => a + b, 0);
  if (vaBits > 48) fail(`${vaBits}-bit virtual addresses: at most 48 are supported`);
  const entryBits = pteSize * 8;
  if (spec.frameBits < 1 || spec.frameBit < 0 || spec.frameBit + spec.frameBits > entryBits) {
    fail(`frame field [${spec.frameBit}, ${spec.frameBit + spec.frameBits}) is outside the entry`);
  }
  if (spec.frameBits + pageShift > 46) fail('physical addresses above 2^46 are not supported');
  const bits: PteBits = { ...NONE };
  const set = (key: keyof PteBits, bit: number | undefined) => {
    if (bit === undefined) return;
    if (!Number.isInteger(bit) || bit < 0 || bit >= entryBits) {
      fail(`${key} bit ${bit} is outside a ${entryBits}-bit entry`);
    }
    if (bit >= spec.frameBit && bit < spec.frameBit + spec.frameBits) {
      fail(`${key} bit ${bit} overlaps the frame field`);
    }
    for (const [k, v] of Object.entries(bits)) {
      if (v === bit) fail(`${key} bit ${bit} is also the ${k} bit`);
    }
    bits[key] = bit;
  };
  set('valid', spec.validBit);
  set('write', spec.writeBit);
  set('readOnly', spec.readOnlyBit);
  set('user', spec.userBit);
  set('exec', spec.execBit);
  set('noExec', spec.noExecBit);
  set('accessed', spec.accessedBit);
  set('dirty', spec.dirtyBit);
  set('global', spec.globalBit);
  set('huge', spec.hugeBit);
  const hugeLevels = spec.hugeLevels ?? [];
  if (hugeLevels.length > 0 && spec.hugeBit === undefined) fail('hugeLevels need a hugeBit');
  for (const l of hugeLevels) {
    if (!Number.isInteger(l) || l < 0 || l >= levelBits.length - 1) {
      fail(`huge level ${l} is not above the last level`);
    }
  }
  const names = spec.levelNames ?? levelBits.map((_, i) => `L${i}`);
  if (names.length !== levelBits.length) fail('one level name per level');
  // Tables write `valid` and, as permissions are hierarchical, the permissive bits (W, U, X).
  const permissive = [bits.write, bits.user, bits.exec];
  const tableLo = permissive.filter((b) => b >= 0 && b < 32);
  const tableHi = permissive.filter((b) => b >= 32);
  return definePagingFormat({
    name: spec.name,
    arch: 'custom',
    vaBits,
    paBits: spec.frameBits + pageShift,
    pageShift,
    levelBits: [...levelBits],
    pteSize,
    frame: { lo: spec.frameBit, width: spec.frameBits, shift: pageShift },
    bits,
    leafEncoding: hugeLevels.length > 0 ? 'huge-bit' : 'last',
    hugeLevels: [...hugeLevels],
    hierarchicalPerms: true,
    tableExtra: [
      tableLo.reduce((m, b) => m | (1 << b), 0),
      tableHi.reduce((m, b) => m | (1 << (b - 32)), 0),
    ],
    leafExtra: [0, 0],
    levelNames: [...names],
  });
}

/**
 * OSTEP ch. 20's multi-level example (vm-smalltables/paging-multilevel-translate.py):
 * 32-byte pages, 15-bit VA = PDE index [14:10], PTE index [9:5], offset [4:0]; 1-byte entries
 * with the valid bit at bit 7 and a 7-bit PFN (128 pages, 4 KiB of physical memory).
 */
export const ostepMultilevel = customFormat({
  name: 'ostep-multilevel',
  pageSize: 32,
  levelBits: [5, 5],
  pteSize: 1,
  validBit: 7,
  frameBit: 0,
  frameBits: 7,
  levelNames: ['PD', 'PT'],
});

/** Every built-in format, by name. */
export const PAGING_FORMATS: readonly PagingFormat[] = [
  x86_64,
  sv39,
  sv48,
  aarch64_4k,
  aarch64_16k,
  aarch64_64k,
  ostepMultilevel,
];
