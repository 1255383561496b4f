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
  encodeLeaf,
  encodeTable,
  explain,
  FAULT_ACCESS_FLAG,
  FAULT_NOT_PRESENT,
  FAULT_RESERVED,
  geometry,
  PAGING_FORMATS,
  sv39,
  sv48,
  x86_64,
} from '../src/index.js';
import { encodeLeafBits, frameWords } from '../src/pte.js';
import { i386, toy16 } from './custom-formats.js';
import { GiB, machine } from './machine.js';

const U = ACCESS_USER;
const W = ACCESS_WRITE;
const X = ACCESS_EXEC;

const ALL: PagingFormat[] = [...PAGING_FORMATS, toy16, i386];

// Per format, encode/decode round trips, map → translate → unmap → fault, huge pages and
// their splitting, A/D and permission faults are the conformance suite's cases
// (test/conformance.test.ts runs it on ALL); here, the encodeLeaf() cache on random frames.
describe.each(ALL.map((f) => [f.name, f] as const))('%s', (_, f) => {
  const g = geometry(f);

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
