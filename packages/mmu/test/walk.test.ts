/**
 * The walker computes in 32-bit integers (VA words, chunk and offset of each table, the frame
 * field moved into place). These formats put the frame field everywhere it can be — below the
 * page shift, above it, more than 32 bits above it — with entries of 1, 2, 4 and 8 bytes, and
 * the walk must agree with the page-table code's readable twin (PageTable.query()) on every
 * page, through a SimpleTlb and through @mmsim/tlb's set-associative TLB.
 */
import { ACCESS_USER, type PagingFormat, PROT_USER, PROT_WRITE, Prng } from '@mmsim/core';
import { createTlb } from '@mmsim/tlb';
import { describe, expect, it } from 'vitest';
import { customFormat, geometry, x86_64 } from '../src/index.js';
import { machine } from './machine.js';

const FORMATS: PagingFormat[] = [
  // The frame field two bits below the page shift (as RISC-V's PPN): frameShift +2.
  customFormat({
    name: 'shl2',
    pageSize: 4096,
    levelBits: [9, 9, 9],
    pteSize: 8,
    validBit: 0,
    writeBit: 1,
    userBit: 2,
    accessedBit: 3,
    dirtyBit: 4,
    frameBit: 10,
    frameBits: 22,
  }),
  // The frame field in the high word, 8 bits above the page shift: frameShift -8.
  customFormat({
    name: 'shr8',
    pageSize: 4096,
    levelBits: [9, 9],
    pteSize: 8,
    validBit: 0,
    userBit: 2,
    frameBit: 20,
    frameBits: 18,
  }),
  // The frame field 34 bits above the page shift: frameShift -34, from the high word alone.
  customFormat({
    name: 'shr34',
    pageSize: 64,
    levelBits: [6, 6, 6],
    pteSize: 8,
    validBit: 0,
    writeBit: 1,
    userBit: 2,
    accessedBit: 5,
    frameBit: 40,
    frameBits: 16,
  }),
  // 2-byte entries, frame below the page shift.
  customFormat({
    name: 'pte16',
    pageSize: 256,
    levelBits: [4, 4],
    pteSize: 2,
    validBit: 0,
    userBit: 1,
    writeBit: 2,
    frameBit: 4,
    frameBits: 12,
  }),
  // 1-byte entries (OSTEP-like), 4-byte entries with big tables.
  customFormat({
    name: 'pte8',
    pageSize: 32,
    levelBits: [5, 5],
    pteSize: 1,
    validBit: 7,
    frameBit: 0,
    frameBits: 7,
  }),
  customFormat({
    name: 'pte32',
    pageSize: 1024,
    levelBits: [12, 8],
    pteSize: 4,
    validBit: 0,
    userBit: 1,
    frameBit: 10,
    frameBits: 16,
  }),
  x86_64,
];

describe.each(FORMATS.map((f) => [f.name, f] as const))('%s: the walk', (_, f) => {
  for (const kind of ['simple', 'set-associative'] as const) {
    it(`agrees with PageTable.query() on every page (${kind} TLB)`, () => {
      const tlb =
        kind === 'simple' ? undefined : createTlb({ entries: 16, ways: 4, pageShift: f.pageShift });
      // 16 GiB (sparse): frames above 4 GiB need the frame's high word.
      const { pt, mmu, memory } = machine(f, { tlb, memBytes: 2 ** 34 });
      const g = geometry(f);
      const page = 2 ** f.pageShift;
      const pages = 2 ** (f.vaBits - f.pageShift);
      const frames = Math.min(2 ** f.frame.width, memory.sizeBytes / page / 2);
      const rng = new Prng(11);
      // Random pages (and, for the big formats, some near the top of the space).
      const vpns = new Set<number>();
      for (let i = 0; i < 200; i++) vpns.add(rng.nextInt(Math.min(pages, 2 ** 30)));
      for (let i = 1; i <= 8; i++) vpns.add(pages - i * (g.entries[g.levels - 1]! + 1));
      for (const v of vpns) {
        if (v < 0 || rng.next() < 0.3) continue;
        const prot = rng.next() < 0.5 ? PROT_USER : PROT_USER | PROT_WRITE;
        expect(pt.map(v * page, rng.nextInt(frames) * page, page, prot)).toBe(0);
      }
      for (let round = 0; round < 3; round++) {
        for (const v of vpns) {
          if (v < 0) continue;
          const va = v * page + rng.nextInt(page);
          const q = pt.query(va);
          expect(mmu.translate(va, f.bits.user >= 0 ? ACCESS_USER : 0)).toBe(q ? q.pa : -1);
        }
      }
      expect(mmu.stats.walks).toBeGreaterThan(0);
    });
  }
});

describe('the walk', () => {
  it('rejects a virtual address that is not a finite number', () => {
    const { mmu } = machine(x86_64);
    expect(() => mmu.translate(Number.NaN)).toThrow(RangeError);
    expect(() => mmu.walk(Number.POSITIVE_INFINITY, 0)).toThrow(RangeError);
  });

  it('counts one reference per level read, faults included', () => {
    const { pt, mmu } = machine(x86_64);
    pt.map(0x400000, 0x100000, 4096, PROT_USER);
    expect(mmu.translate(0x400000, ACCESS_USER)).toBe(0x100000);
    expect(mmu.stats.walkRefs).toBe(4);
    expect(mmu.translate(0x401000, ACCESS_USER)).toBe(-1); // not present in the PT: 4 reads
    expect(mmu.stats.walkRefs).toBe(8);
    expect(mmu.translate(0x7f00_0000_0000, ACCESS_USER)).toBe(-1); // PML4E not present: 1
    expect(mmu.stats.walkRefs).toBe(9);
  });
});
