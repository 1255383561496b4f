import {
  ACCESS_EXEC,
  ACCESS_USER,
  ACCESS_WRITE,
  PROT_EXEC,
  PROT_USER,
  PROT_WRITE,
  Prng,
} from '@mmsim/core';
import { createTlb, createTlbHierarchy } from '@mmsim/tlb';
import { describe, expect, it } from 'vitest';
import { createSoftwareRefill, sv48, x86_64 } from '../src/index.js';
import { MiB, machine } from './machine.js';

const U = ACCESS_USER;

describe('with @mmsim/tlb', () => {
  it('translates through a 4-way set-associative TLB and counts hits and misses', () => {
    const tlb = createTlb({ entries: 64, ways: 4 });
    const { pt, mmu } = machine(x86_64, { tlb });
    pt.map(0x400000, 0x100000, 256 * 4096, PROT_WRITE | PROT_USER);
    for (let i = 0; i < 32; i++)
      expect(mmu.translate(0x400000 + i * 4096 + 8, U)).toBe(0x100008 + i * 4096);
    for (let i = 0; i < 32; i++) mmu.translate(0x400000 + i * 4096, U | ACCESS_WRITE);
    // Reads missed once per page; the first write to each page re-walked to set D.
    expect(tlb.stats).toMatchObject({ misses: 32, hits: 32 });
    expect(mmu.stats.walks).toBe(64);
    for (let i = 0; i < 32; i++) mmu.translate(0x400000 + i * 4096, U | ACCESS_WRITE);
    expect(mmu.stats.walks).toBe(64);
    expect(tlb.stats.hits).toBe(64);
  });

  it('agrees with the page tables on random accesses through a Skylake-like hierarchy', () => {
    const h = createTlbHierarchy();
    const { pt, mmu } = machine(x86_64, { tlb: h, itlb: h.instruction, memBytes: 256 * MiB });
    pt.map(0x400000, 0x1000000, 2 * MiB, PROT_WRITE | PROT_USER, 21);
    pt.map(0x800000, 0x2000000, 4 * MiB, PROT_EXEC | PROT_USER);
    const rng = new Prng(7);
    for (let i = 0; i < 20000; i++) {
      const exec = rng.next() < 0.3;
      const va = exec
        ? 0x800000 + Math.floor(rng.next() * 4 * MiB)
        : 0x400000 + Math.floor(rng.next() * 2 * MiB);
      const pa = mmu.translate(va, exec ? U | ACCESS_EXEC : U);
      expect(pa).toBe(pt.query(va)!.pa);
    }
    expect(h.instruction.stats.hits + h.instruction.stats.misses).toBeGreaterThan(5000);
    expect(h.stats.hits).toBeGreaterThan(0);
  });

  it('flushes a hierarchy once for both paths, and the instruction side is flushed too', () => {
    const h = createTlbHierarchy();
    const { pt, mmu } = machine(x86_64, { tlb: h, itlb: h.instruction, memBytes: 256 * MiB });
    expect(h.flushDomain).toBe(h.instruction.flushDomain);
    pt.map(0x800000, 0x2000000, 4 * 4096, PROT_EXEC | PROT_USER);
    const fetch = () => mmu.translate(0x800010, U | ACCESS_EXEC);
    expect(fetch()).toBe(0x2000010);
    const walks = mmu.stats.walks;
    expect(fetch()).toBe(0x2000010); // an iTLB hit
    expect(mmu.stats.walks).toBe(walks);
    const flushes = h.stats.flushes + h.instruction.stats.flushes;
    mmu.flushRange(0x800000, 0x804000);
    expect(h.stats.flushes + h.instruction.stats.flushes).toBe(flushes + 1); // one pass
    pt.unmap(0x800000, 4 * 4096);
    expect(fetch()).toBe(-1); // the fetch walks again: the iTLB entry went with the flush
    expect(mmu.stats.walks).toBe(walks + 1);
  });

  it('translates a 512 GiB Sv48 page through a TLB that splinters it', () => {
    const tlb = createTlb({ entries: 16, pageShifts: [12, 21, 30] });
    const { pt, mmu } = machine(sv48, { tlb });
    pt.map(2 ** 39, 0, 2 ** 39, 1, 39);
    expect(mmu.translate(2 ** 39 + 0x7654_3210)).toBe(0x7654_3210);
    expect(mmu.translate(2 ** 39 + 0x7654_3218)).toBe(0x7654_3218);
    expect(mmu.translate(2 ** 39 + 2 ** 38 + 5)).toBe(2 ** 38 + 5);
    expect(tlb.stats.hits).toBe(1);
  });

  it('runs a software-refilled TLB', () => {
    const tlb = createTlb({ entries: 32, ways: 2 });
    const m = machine(x86_64, { tlb, softwareTlb: true });
    m.mmu.refill = createSoftwareRefill(m.pt);
    m.pt.map(0, 0x200000, 64 * 4096, PROT_WRITE | PROT_USER);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 64; i++)
        expect(m.mmu.translate(i * 4096 + 1, U)).toBe(0x200001 + i * 4096);
    }
    // 64 pages do not fit in 32 entries: every access misses, traps and is retried (a hit).
    expect(m.mmu.stats.refills).toBe(128);
    expect(tlb.stats).toMatchObject({ misses: 128, hits: 128 });
    expect(m.mmu.stats.walks).toBe(0);
  });
});
