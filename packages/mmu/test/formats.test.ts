import {
  ACCESS_EXEC,
  ACCESS_READ,
  ACCESS_USER,
  ACCESS_WRITE,
  type PagingFormat,
  PROT_EXEC,
  PROT_GLOBAL,
  PROT_READ,
  PROT_USER,
  PROT_WRITE,
} from '@mmsim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aarch64_4k,
  aarch64_16k,
  aarch64_64k,
  customFormat,
  decodePte,
  encodeLeaf,
  encodeTable,
  explain,
  FAULT_ACCESS_FLAG,
  FAULT_NOT_PRESENT,
  FAULT_PROTECTION,
  FAULT_RESERVED,
  geometry,
  PAGING_FORMATS,
  sv39,
  sv48,
  x86_64,
} from '../src/index.js';
import { encodeLeafBits, frameWords } from '../src/pte.js';
import { GiB, machine } from './machine.js';

const U = ACCESS_USER;
const W = ACCESS_WRITE;
const X = ACCESS_EXEC;

/** A 16-bit textbook format with permission and A/D bits, and 2 KiB huge pages. */
const toy16 = customFormat({
  name: 'toy16',
  pageSize: 64,
  levelBits: [5, 5, 5],
  pteSize: 2,
  validBit: 0,
  writeBit: 1,
  userBit: 2,
  noExecBit: 3,
  accessedBit: 4,
  dirtyBit: 5,
  globalBit: 6,
  hugeBit: 7,
  hugeLevels: [1],
  frameBit: 8,
  frameBits: 8,
});

/** A 4-byte-PTE, 2-level, 4 KiB-page format (i386 without PAE, as data). */
const i386 = customFormat({
  name: 'i386',
  pageSize: 4096,
  levelBits: [10, 10],
  pteSize: 4,
  validBit: 0,
  writeBit: 1,
  userBit: 2,
  accessedBit: 5,
  dirtyBit: 6,
  hugeBit: 7,
  hugeLevels: [0],
  globalBit: 8,
  frameBit: 12,
  frameBits: 20,
});

const ALL: PagingFormat[] = [...PAGING_FORMATS, toy16, i386];
const PROTS = [
  PROT_READ,
  PROT_READ | PROT_WRITE,
  PROT_READ | PROT_EXEC,
  PROT_READ | PROT_USER,
  PROT_READ | PROT_WRITE | PROT_USER,
  PROT_READ | PROT_EXEC | PROT_USER,
  PROT_READ | PROT_WRITE | PROT_GLOBAL,
];

/** The PROT_* bits a format can express. */
function expressible(f: PagingFormat, prot: number): number {
  const b = f.bits;
  let p = PROT_READ;
  if (b.write >= 0 || b.readOnly >= 0) p |= prot & PROT_WRITE;
  else p |= PROT_WRITE;
  if (b.exec >= 0 || b.noExec >= 0) p |= prot & PROT_EXEC;
  else p |= PROT_EXEC;
  if (b.user >= 0) p |= prot & PROT_USER;
  if (b.global >= 0 || b.notGlobal >= 0) p |= prot & PROT_GLOBAL;
  return p;
}

describe.each(ALL.map((f) => [f.name, f] as const))('%s', (_, f) => {
  const g = geometry(f);
  const page = 2 ** f.pageShift;
  const memBytes = Math.max(64 * 1024 * 1024, 2 ** (f.pageShift + 8));

  it('round-trips leaves and tables through encode and decode', () => {
    const frames = [0, page, 37 * page, 2 ** (f.frame.width + f.pageShift) - page];
    for (let level = 0; level < g.levels; level++) {
      if (!g.leafAllowed[level]) continue;
      const align = 2 ** g.shift[level]!;
      for (const pa of frames.map((x) => Math.floor(x / align) * align)) {
        for (const prot of PROTS) {
          const [lo, hi] = encodeLeaf(g, pa, level, prot, true, false);
          const d = decodePte(g, lo, hi, level);
          expect(d).toMatchObject({ valid: true, leaf: true, pa, prot: expressible(f, prot) });
          expect(d.accessed).toBe(f.bits.accessed >= 0);
          expect(d.dirty).toBe(false);
        }
      }
    }
    for (let level = 0; level < g.levels - 1; level++) {
      const [lo, hi] = encodeTable(g, 5 * page);
      expect(decodePte(g, lo, hi, level)).toMatchObject({ valid: true, leaf: false, pa: 5 * page });
    }
    expect(decodePte(g, 0, 0, 0).valid).toBe(false);
  });

  it('encodeLeaf() (cached attribute words) equals the bit-by-bit definition', () => {
    const frames = 2 ** f.frame.width;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: g.levels - 1 }),
        fc.integer({ min: 0, max: frames - 1 }),
        fc.integer({ min: 0, max: 0x7f }),
        fc.boolean(),
        fc.boolean(),
        (level, frame, prot, accessed, dirty) => {
          if (!g.leafAllowed[level]) return;
          const align = 2 ** g.shift[level]!;
          const pa = Math.floor((frame * 2 ** f.frame.shift) / align) * align;
          const [lo, hi] = frameWords(g, pa);
          expect(encodeLeaf(g, pa, level, prot, accessed, dirty)).toEqual(
            encodeLeafBits(g, lo, hi, level, prot, accessed, dirty),
          );
        },
      ),
    );
  });

  it('maps, translates, unmaps and then faults', () => {
    const { pt, mmu, tables } = machine(f, { memBytes });
    const free = tables.free;
    const va = 3 * page + 2 ** (f.vaBits - 1); // in the upper (kernel) half
    expect(pt.map(va, 9 * page, 2 * page, PROT_WRITE | PROT_USER)).toBe(0);
    expect(mmu.translate(va + 5, U | W)).toBe(9 * page + 5);
    expect(mmu.translate(va + page + 1, U)).toBe(10 * page + 1);
    expect(mmu.stats.walks).toBe(2);
    expect(mmu.stats.walkRefs).toBe(2 * g.levels);
    expect(pt.query(va)).toMatchObject({ pa: 9 * page, level: g.levels - 1 });
    expect(pt.unmap(va, 2 * page)).toBe(2);
    mmu.flushRange(va, va + 2 * page);
    expect(mmu.translate(va + 5, U)).toBe(-1);
    expect(mmu.faultKind).toBe(FAULT_NOT_PRESENT);
    expect(mmu.faultLevel).toBe(0);
    expect(mmu.errorCode).toBe(0x4);
    expect(pt.tablePages).toBe(1);
    expect(tables.free).toBe(free);
  });

  it('unmap with freeTables: false clears the leaves and keeps every table (vunmap)', () => {
    const { pt, mmu, tables } = machine(f, { memBytes });
    const va = 3 * page + 2 ** (f.vaBits - 1);
    expect(pt.map(va, 9 * page, 2 * page, PROT_WRITE)).toBe(0);
    const tablesMapped = pt.tablePages;
    const free = tables.free;
    expect(pt.unmap(va, 2 * page, { freeTables: false })).toBe(2);
    expect(pt.tablePages).toBe(tablesMapped);
    expect(tables.free).toBe(free);
    expect(pt.query(va)).toBeNull();
    expect(pt.missLevel).toBe(g.levels - 1); // the walk now stops at the last level
    mmu.flushRange(va, va + 2 * page);
    expect(mmu.translate(va, 0)).toBe(-1);
    expect(mmu.faultLevel).toBe(g.levels - 1);
    // Mapping there again needs no new table.
    expect(pt.map(va, 9 * page, page, PROT_WRITE)).toBe(0);
    expect(pt.tablePages).toBe(tablesMapped);
  });

  it('maps a huge page at every level that allows one', () => {
    for (let level = 0; level < g.levels - 1; level++) {
      if (!g.leafAllowed[level]) continue;
      const size = 2 ** g.shift[level]!;
      const { pt, mmu } = machine(f, { memBytes });
      const va = size; // the second huge page of the address space
      const pa = 2 * size;
      expect(pt.map(va, pa, size, PROT_READ | PROT_USER, g.shift[level]!)).toBe(0);
      const off = size - 8;
      expect(mmu.translate(va + off, U)).toBe(pa + off);
      expect(mmu.stats.walkRefs).toBe(level + 1);
      expect(explain(mmu, va + off).pageSize).toBe(size);
      // Half of it unmapped: split into the next level's leaves.
      expect(pt.unmap(va, size / 2)).toBeGreaterThan(0);
      expect(pt.query(va)).toBeNull();
      expect(pt.query(va + size / 2)?.pa).toBe(pa + size / 2);
    }
  });

  it('sets Accessed and Dirty in memory when the format has them', () => {
    const { pt, mmu } = machine(f, { memBytes });
    pt.map(page, 4 * page, page, PROT_WRITE | PROT_USER);
    mmu.translate(page, U);
    expect(pt.query(page)).toMatchObject({
      accessed: f.bits.accessed >= 0,
      dirty: false,
    });
    mmu.translate(page, U | W);
    expect(pt.query(page)!.dirty).toBe(f.bits.dirty >= 0);
  });

  it('faults a user write to a read-only page and a user read of a kernel page', () => {
    const { pt, mmu } = machine(f, { memBytes });
    pt.map(page, 4 * page, page, PROT_READ | PROT_USER);
    pt.map(2 * page, 5 * page, page, PROT_READ | PROT_WRITE);
    if (f.bits.write >= 0 || f.bits.readOnly >= 0) {
      expect(mmu.translate(page, U | W)).toBe(-1);
      expect(mmu).toMatchObject({
        faultKind: FAULT_PROTECTION,
        errorCode: 0x7,
        faultLevel: g.levels - 1,
      });
    }
    if (f.bits.user >= 0) {
      expect(mmu.translate(2 * page, U)).toBe(-1);
      expect(mmu).toMatchObject({ faultKind: FAULT_PROTECTION, errorCode: 0x5 });
    }
    expect(mmu.translate(2 * page + 3, W)).toBe(5 * page + 3);
  });
});

describe('RISC-V Sv39 / Sv48', () => {
  it('puts V R W X U G A D at bits 0-7 and the PPN at bit 10', () => {
    const g = geometry(sv39);
    // 0x8020_0000 >> 12 = 0x80200, << 10 = 0x20080000; V|R|W|U = 0x17.
    expect(encodeLeaf(g, 0x80200000, 2, PROT_WRITE | PROT_USER)).toEqual([0x20080017, 0]);
    // A table entry is V alone (R=W=X=0 marks a pointer).
    expect(encodeTable(g, 0x80201000)).toEqual([0x20080401, 0]);
    // A gigapage at level 0: R|X|G|V.
    expect(encodeLeaf(g, 0x40000000, 0, PROT_EXEC | PROT_GLOBAL)).toEqual([0x1000002b, 0]);
  });

  it('faults on W without R (reserved) and on a misaligned superpage', () => {
    const { pt, mmu, memory } = machine(sv39);
    pt.map(0x200000, 0x400000, 0x200000, PROT_READ, 21);
    const e = explain(mmu, 0x200000).steps[1]!.entryAddr;
    memory.write32(e, (memory.read32(e) & ~0x2) | 0x4); // R=0, W=1
    expect(mmu.translate(0x200000)).toBe(-1);
    expect(mmu).toMatchObject({ faultKind: FAULT_RESERVED, faultLevel: 1, errorCode: 0x9 });
    memory.write32(e, 0x20080000 | 0x400 | 0x3); // PPN 0x80201: not 2 MiB aligned
    expect(mmu.translate(0x200000)).toBe(-1);
    expect(mmu).toMatchObject({ faultKind: FAULT_RESERVED, faultLevel: 1 });
  });

  it('never executes a U page in S-mode; SUM (smap: false) allows loads', () => {
    const { pt, mmu } = machine(sv48);
    pt.map(0x1000, 0x2000, 4096, PROT_EXEC | PROT_USER);
    expect(mmu.translate(0x1000, X)).toBe(-1);
    expect(mmu.errorCode).toBe(0x11);
    expect(mmu.translate(0x1000, ACCESS_READ)).toBe(0x2000);
    mmu.configure({ smap: true }); // SUM = 0
    expect(mmu.translate(0x1000, ACCESS_READ)).toBe(-1);
    expect(mmu.translate(0x1000, U | X)).toBe(0x2000);
  });

  it('faults with A=0 or a write with D=0 when hardware A/D updating is off (no Svadu)', () => {
    const { pt, mmu } = machine(sv39, { hardwareAD: false });
    pt.map(0x1000, 0x2000, 4096, PROT_WRITE);
    expect(mmu.translate(0x1000)).toBe(-1);
    expect(mmu).toMatchObject({ faultKind: FAULT_ACCESS_FLAG, errorCode: 0x1, faultLevel: 2 });
    pt.markAccessed(0x1000, false); // the kernel's fault handler sets A
    expect(mmu.translate(0x1000)).toBe(0x2000);
    expect(mmu.translate(0x1000, W)).toBe(-1);
    expect(mmu.errorCode).toBe(0x3);
    pt.markAccessed(0x1000, true);
    expect(mmu.translate(0x1000, W)).toBe(0x2000);
  });

  it('maps a 512 GiB terapage in Sv48', () => {
    const { pt, mmu } = machine(sv48, { memBytes: GiB });
    pt.map(2 ** 39, 0, 2 ** 39, PROT_READ, 39);
    expect(mmu.translate(2 ** 39 + 0x12345678)).toBe(0x12345678);
    expect(mmu.stats.walkRefs).toBe(1);
  });
});

describe('AArch64 VMSAv8-64', () => {
  it('encodes pages (0b11), blocks (0b01), tables (0b11), AP, AF, nG, PXN/UXN', () => {
    const g = geometry(aarch64_4k);
    // User RW page: valid|page|AP[1]|SH=11|nG = 0x3 | 0x40 | 0x300 | 0x800, PXN (bit 53) + UXN (54).
    expect(encodeLeaf(g, 0x40001000, 3, PROT_WRITE | PROT_USER)).toEqual([
      0x40001b43,
      (1 << 21) | (1 << 22),
    ]);
    // Kernel read-only exec block at L2: AP[2] (0x80), global, UXN only.
    expect(encodeLeaf(g, 0x40000000, 2, PROT_EXEC | PROT_GLOBAL)).toEqual([0x40000381, 1 << 22]);
    expect(encodeTable(g, 0x5000)).toEqual([0x5003, 0]);
  });

  it('sets AF in hardware, or raises an Access flag fault without FEAT_HAFDBS', () => {
    const a = machine(aarch64_4k);
    a.pt.map(0x1000, 0x2000, 4096, PROT_WRITE);
    expect(a.mmu.translate(0x1000, W)).toBe(0x2000);
    expect(explain(a.mmu, 0x1000).steps[3]!.decoded.bits.AF).toBe(1);
    const b = machine(aarch64_16k, { hardwareAD: false });
    b.pt.map(0x4000, 0x8000, 0x4000, PROT_WRITE);
    expect(b.mmu.translate(0x4000)).toBe(-1);
    expect(b.mmu.faultKind).toBe(FAULT_ACCESS_FLAG);
    b.pt.markAccessed(0x4000, false);
    expect(b.mmu.translate(0x4000)).toBe(0x8000);
  });

  it('uses UXN for EL0 fetches and PXN for EL1 fetches', () => {
    const { pt, mmu } = machine(aarch64_64k, { memBytes: GiB });
    pt.map(0x10000, 0x20000, 0x10000, PROT_EXEC | PROT_USER);
    pt.map(0x20000, 0x30000, 0x10000, PROT_EXEC);
    expect(mmu.translate(0x10000, U | X)).toBe(0x20000);
    expect(mmu.translate(0x10000, X)).toBe(-1); // PXN on a user page
    expect(mmu.translate(0x20000, X)).toBe(0x30000);
    expect(mmu.translate(0x20000, U | X)).toBe(-1);
  });

  it('treats 0b01 at the last level as invalid', () => {
    const { pt, mmu, memory } = machine(aarch64_4k);
    pt.map(0x1000, 0x2000, 4096, PROT_READ);
    const e = pt.query(0x1000)!.entryAddr;
    memory.write8(e, memory.read8(e) & ~0x2);
    expect(mmu.translate(0x1000)).toBe(-1);
    expect(mmu).toMatchObject({ faultKind: FAULT_NOT_PRESENT, faultLevel: 3 });
  });
});

describe('customFormat()', () => {
  it('expresses formats with pages down to 16 bytes and any PTE size', () => {
    const tiny = customFormat({
      name: 'tiny',
      pageSize: 16,
      levelBits: [4, 4],
      pteSize: 1,
      validBit: 7,
      frameBit: 0,
      frameBits: 7,
    });
    expect(tiny.vaBits).toBe(12);
    const { pt, mmu } = machine(tiny, { memBytes: 4096 });
    pt.map(0x120, 0x50, 16, PROT_READ);
    expect(mmu.translate(0x12f)).toBe(0x5f);
    expect(toy16.vaBits).toBe(21);
    expect(i386.tableExtra).toEqual([0x6, 0]);
  });

  it('rejects specs that cannot work', () => {
    const base = {
      name: 'x',
      pageSize: 32,
      levelBits: [5, 5],
      pteSize: 1 as const,
      validBit: 7,
      frameBit: 0,
      frameBits: 7,
    };
    expect(() => customFormat({ ...base, pageSize: 24 })).toThrow(RangeError);
    expect(() => customFormat({ ...base, pageSize: 8 })).toThrow(/power of two >= 16/);
    expect(() => customFormat({ ...base, validBit: 3 })).toThrow(/overlaps the frame field/);
    expect(() => customFormat({ ...base, validBit: 8 })).toThrow(/outside a 8-bit entry/);
    expect(() => customFormat({ ...base, pteSize: 3 as 1 })).toThrow(/PTE size 3/);
    expect(() => customFormat({ ...base, frameBits: 6, frameBit: 0, writeBit: 7 })).toThrow(
      /also the valid bit/,
    );
  });
});

describe('x86-64 and the formats list', () => {
  it('lists every built-in format', () => {
    expect(PAGING_FORMATS.map((f) => f.name)).toEqual([
      'x86-64 4-level',
      'Sv39',
      'Sv48',
      'AArch64 4K',
      'AArch64 16K',
      'AArch64 64K',
      'ostep-multilevel',
    ]);
    expect(geometry(x86_64).shift).toEqual([39, 30, 21, 12]);
    expect(geometry(aarch64_16k).shift).toEqual([47, 36, 25, 14]);
    expect(geometry(aarch64_64k).shift).toEqual([42, 29, 16]);
  });
});
