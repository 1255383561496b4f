import {
  ACCESS_EXEC,
  ACCESS_READ,
  ACCESS_USER,
  ACCESS_WRITE,
  describeErrorCode,
  PROT_EXEC,
  PROT_GLOBAL,
  PROT_READ,
  PROT_USER,
  PROT_WRITE,
} from '@mmsim/core';
import { describe, expect, it } from 'vitest';
import {
  createSoftwareRefill,
  encodeLeaf,
  explain,
  FAULT_NOT_PRESENT,
  FAULT_PROTECTION,
  FAULT_RESERVED,
  FAULT_TLB_REFILL,
  formatExplanation,
  geometry,
  x86_64,
} from '../src/index.js';
import { GiB, MiB, machine } from './machine.js';
import type { SimpleTlb } from './simple-tlb.js';

const U = ACCESS_USER;
const W = ACCESS_WRITE;
const X = ACCESS_EXEC;
const RW_USER = PROT_READ | PROT_WRITE | PROT_USER;

describe('x86-64 4-level: PTE bits at their real positions', () => {
  const g = geometry(x86_64);
  it('encodes P RW US PWT PCD A D PS G NX as bits 0-8 and 63', () => {
    // A user RW page at 0x123000: P|RW|US = 0x7, NX (bit 63) since not executable.
    expect(encodeLeaf(g, 0x123000, 3, RW_USER)).toEqual([0x123007, 0x80000000 | 0]);
    // A global kernel exec page, accessed and dirty: P|RW|A|D|G = 0x163.
    expect(encodeLeaf(g, 0x5000, 3, PROT_WRITE | PROT_EXEC | PROT_GLOBAL, true, true)).toEqual([
      0x5163, 0,
    ]);
    // A 2 MiB page has PS (bit 7); the frame reaches into the hi word (bits 32..51).
    expect(encodeLeaf(g, 0xabc_0020_0000, 2, PROT_EXEC)).toEqual([0x200081, 0xabc]);
  });
});

describe('x86-64 map, translate, unmap', () => {
  it('maps a page, walks four levels, fills the TLB, then hits', () => {
    const { pt, mmu, memory, tlb } = machine(x86_64);
    expect(pt.map(0x400000, 0x123000, 4096, RW_USER)).toBe(0);
    expect(pt.tablePages).toBe(4); // PML4, PDPT, PD, PT
    expect(mmu.translate(0x400abc, U | W)).toBe(0x123abc);
    expect(mmu.stats.walks).toBe(1);
    expect(mmu.stats.walkRefs).toBe(4);
    expect(mmu.translate(0x400fff, U)).toBe(0x123fff);
    expect(mmu.stats.walks).toBe(1);
    expect(tlb.stats).toMatchObject({ hits: 1, misses: 1 });
    // A and D set by the walk: leaf 0x123000|P|RW|US|A|D = 0x123067, NX in the hi word.
    const q = pt.query(0x400000)!;
    expect(memory.read64(q.entryAddr)).toBe(0x8000000000123067n);
    // Every table entry on the way got A: P|RW|US|A = 0x27.
    const e = explain(mmu, 0x400000);
    expect(e.steps.map((s) => Number(s.lo & 0xfff).toString(16))).toEqual(['27', '27', '27', '67']);
  });

  it('faults after unmap and a flush, with the level that was not present', () => {
    const { pt, mmu, tables } = machine(x86_64);
    const free = tables.free;
    pt.map(0x7f0000001000, 0x2000, 4096, RW_USER);
    expect(mmu.translate(0x7f0000001010, U)).toBe(0x2010);
    expect(pt.unmap(0x7f0000001000, 4096)).toBe(1);
    // The stale TLB entry still translates until the flush (flush_tlb_range()).
    expect(mmu.translate(0x7f0000001010, U)).toBe(0x2010);
    mmu.flushRange(0x7f0000001000, 0x7f0000002000);
    expect(mmu.translate(0x7f0000001010, U)).toBe(-1);
    expect(mmu.faultKind).toBe(FAULT_NOT_PRESENT);
    // The empty PT, PD and PDPT were freed, so the PML4 entry is the one not present.
    expect(mmu.faultLevel).toBe(0);
    expect(mmu.errorCode).toBe(0x4); // user read of a not-present page
    expect(pt.tablePages).toBe(1);
    expect(tables.free).toBe(free);
  });

  it('frees only the tables that became empty', () => {
    const { pt } = machine(x86_64);
    pt.map(0x400000, 0x1000, 4096, RW_USER);
    pt.map(0x600000, 0x2000, 4096, RW_USER); // another PT under the same PD
    expect(pt.tablePages).toBe(5);
    pt.unmap(0x400000, 4096);
    expect(pt.tablePages).toBe(4);
    expect(pt.query(0x600000)?.pa).toBe(0x2000);
  });

  it('maps 2 MiB and 1 GiB pages with PS and fills the TLB with their size', () => {
    const { pt, mmu, tlb } = machine(x86_64, { memBytes: 4 * GiB });
    pt.map(0x200000, 0x40000000, 2 * MiB, RW_USER, 21);
    pt.map(0x40000000, 0x80000000, GiB, RW_USER, 30);
    expect(mmu.translate(0x2abcde, U)).toBe(0x400abcde);
    expect(tlb.entryPageShift(tlb.lookup(0x200000, 0))).toBe(21);
    expect(mmu.translate(0x7fffffff, U | W)).toBe(0xbfffffff);
    expect(mmu.stats.walkRefs).toBe(3 + 2);
    const e = explain(mmu, 0x40000000);
    expect(e.steps.length).toBe(2);
    expect(e.steps[1]!.decoded.bits.PS).toBe(1);
    expect(e.pageSize).toBe(GiB);
  });

  it('splits a 2 MiB page when part of it is unmapped', () => {
    const { pt, mmu } = machine(x86_64);
    pt.map(0x200000, 0x400000, 2 * MiB, RW_USER, 21);
    expect(pt.unmap(0x201000, 4096)).toBe(1);
    expect(pt.query(0x200000)).toMatchObject({ pa: 0x400000, level: 3 });
    expect(pt.query(0x201000)).toBeNull();
    expect(pt.query(0x3ff000)).toMatchObject({ pa: 0x5ff000, level: 3 });
    expect(mmu.translate(0x202000, U)).toBe(0x402000);
  });

  it('rejects PS in a PML4 entry as a reserved bit (P|RSVD)', () => {
    const { pt, mmu, memory } = machine(x86_64);
    pt.map(0x400000, 0x1000, 4096, RW_USER);
    memory.write8(pt.root, memory.read8(pt.root) | 0x80);
    expect(mmu.translate(0x400000, U | W)).toBe(-1);
    expect(mmu.faultKind).toBe(FAULT_RESERVED);
    expect(mmu.faultLevel).toBe(0);
    expect(mmu.errorCode).toBe(0xf); // P | W | U | RSVD
  });

  it('treats NX as reserved without EFER.NXE', () => {
    const { pt, mmu } = machine(x86_64, { nx: false });
    pt.map(0x400000, 0x1000, 4096, RW_USER);
    expect(mmu.translate(0x400000, U)).toBe(-1);
    expect(mmu.errorCode).toBe(0xd); // P | U | RSVD
    expect(mmu.faultLevel).toBe(3);
  });
});

describe('x86-64 permission faults and their error codes (SDM §4.7)', () => {
  const setup = (opts = {}) => {
    const m = machine(x86_64, opts);
    m.pt.map(0x1000, 0x10000, 4096, PROT_READ | PROT_USER); // user read-only, NX
    m.pt.map(0x2000, 0x20000, 4096, PROT_WRITE); // kernel RW
    m.pt.map(0x3000, 0x30000, 4096, PROT_USER | PROT_EXEC); // user text
    return m;
  };
  const cases: [string, number, number, number, object?][] = [
    ['user write to a read-only page', 0x1000, U | W, 0x7],
    ['user read of a kernel page', 0x2000, U, 0x5],
    ['user write of a kernel page', 0x2000, U | W, 0x7],
    ['user fetch from an NX page', 0x1000, U | X, 0x15],
    ['kernel fetch from an NX page', 0x2000, X, 0x11],
    ['kernel write to a read-only page (CR0.WP)', 0x1000, W, 0x3],
    ['kernel fetch from a user page with SMEP', 0x3000, X, 0x11, { smep: true }],
    ['kernel read of a user page with SMAP', 0x1000, ACCESS_READ, 0x1, { smap: true }],
    ['user read of an unmapped page', 0x5000, U, 0x4],
    ['kernel write to an unmapped page', 0x5000, W, 0x2],
    ['user fetch from an unmapped page', 0x5000, U | X, 0x14],
  ];
  for (const [what, va, access, code, opts] of cases) {
    it(`${what}: error code 0x${code.toString(16)}`, () => {
      const { mmu } = setup(opts);
      expect(mmu.translate(va, access)).toBe(-1);
      expect(mmu.errorCode).toBe(code);
      expect(mmu.faultKind).toBe(code & 1 ? FAULT_PROTECTION : FAULT_NOT_PRESENT);
      expect(mmu.faultLevel).toBe(code & 1 ? 3 : 3);
    });
  }

  it('allows what the bits allow', () => {
    const { mmu } = setup({ wp: false });
    expect(mmu.translate(0x1000, U)).toBe(0x10000);
    expect(mmu.translate(0x3000, U | X)).toBe(0x30000);
    expect(mmu.translate(0x3000, X)).toBe(0x30000); // no SMEP
    expect(mmu.translate(0x1000, ACCESS_READ)).toBe(0x10000); // no SMAP
    expect(mmu.translate(0x1004, W)).toBe(0x10004); // CR0.WP=0: supervisor writes anything
  });

  it('ANDs R/W and U/S over the levels', () => {
    const { pt, mmu, memory } = machine(x86_64);
    pt.map(0x400000, 0x1000, 4096, RW_USER);
    const pde = explain(mmu, 0x400000).steps[2]!.entryAddr;
    memory.write8(pde, memory.read8(pde) & ~0x2); // clear R/W in the PDE
    expect(mmu.translate(0x400000, U | W)).toBe(-1);
    expect(mmu.errorCode).toBe(0x7);
    expect(mmu.translate(0x400000, U)).toBe(0x1000);
  });

  it('describes an error code as show_fault_oops() does', () => {
    expect(describeErrorCode(0x2, false)).toBe(
      '#PF: supervisor write access in kernel mode\n#PF: error_code(0x0002) - not-present page',
    );
    expect(describeErrorCode(0x15)).toBe(
      '#PF: user instruction fetch in user mode\n#PF: error_code(0x0015) - permissions violation',
    );
  });
});

describe('x86-64 Accessed and Dirty', () => {
  it('sets D on the first write even after a read filled the TLB', () => {
    const { pt, mmu, memory } = machine(x86_64);
    pt.map(0x400000, 0x1000, 4096, RW_USER);
    mmu.translate(0x400000, U);
    const q = pt.query(0x400000)!;
    expect(q.accessed).toBe(true);
    expect(q.dirty).toBe(false);
    mmu.translate(0x400000, U | W);
    expect(mmu.stats.walks).toBe(2); // the write re-walked to set D
    expect(pt.query(0x400000)!.dirty).toBe(true);
    expect(Number(memory.read64(q.entryAddr) & 0x60n)).toBe(0x60);
    mmu.translate(0x400008, U | W);
    expect(mmu.stats.walks).toBe(2);
  });

  it('keeps A and D across protect()', () => {
    const { pt, mmu } = machine(x86_64);
    pt.map(0x400000, 0x1000, 4096, RW_USER);
    mmu.translate(0x400000, U | W);
    expect(pt.protect(0x400000, 4096, PROT_READ | PROT_USER)).toBe(1);
    expect(pt.query(0x400000)).toMatchObject({
      accessed: true,
      dirty: true,
      prot: PROT_READ | PROT_USER,
    });
    // The TLB still allows the write until the flush.
    expect(mmu.translate(0x400000, U | W)).toBe(0x1000);
    mmu.flushPage(0x400000);
    expect(mmu.translate(0x400000, U | W)).toBe(-1);
    expect(mmu.errorCode).toBe(0x7);
  });
});

describe('x86-64 address spaces and flushes', () => {
  it('switches ASIDs without a flush: both spaces stay cached', () => {
    const { pt, mmu, memory, tables, tlb } = machine(x86_64);
    const pt2 = new (pt.constructor as typeof import('../src/index.js').PageTable)(
      x86_64,
      memory,
      tables,
    );
    pt.map(0x400000, 0x1000, 4096, RW_USER);
    pt2.map(0x400000, 0x9000, 4096, RW_USER);
    mmu.setRoot(pt.root, 1);
    expect(mmu.translate(0x400000, U)).toBe(0x1000);
    mmu.setRoot(pt2.root, 2);
    expect(mmu.translate(0x400000, U)).toBe(0x9000);
    mmu.setRoot(pt.root, 1);
    expect(mmu.translate(0x400000, U)).toBe(0x1000);
    expect(mmu.stats.walks).toBe(2);
    expect(tlb.stats.hits).toBe(1);
    mmu.flushAsid(1);
    expect(mmu.translate(0x400000, U)).toBe(0x1000);
    expect(mmu.stats.walks).toBe(3);
  });

  it('keeps global entries across a non-global flush, and drops them on INVLPG and flushAll', () => {
    const { pt, mmu } = machine(x86_64);
    pt.map(0x8880_0000_0000, 0x1000, 4096, PROT_WRITE | PROT_GLOBAL); // direct map: global
    pt.map(0x400000, 0x2000, 4096, RW_USER);
    mmu.translate(0x8880_0000_0000);
    mmu.translate(0x400000, U);
    expect(mmu.stats.walks).toBe(2);
    mmu.flushNonGlobal(); // a CR3 write without PCID
    expect(mmu.translate(0x8880_0000_0010)).toBe(0x1010);
    expect(mmu.stats.walks).toBe(2);
    expect(mmu.translate(0x400000, U)).toBe(0x2000);
    expect(mmu.stats.walks).toBe(3);
    // A global entry matches in every address space.
    mmu.setRoot(mmu.root, 7);
    expect(mmu.translate(0x8880_0000_0020)).toBe(0x1020);
    expect(mmu.stats.walks).toBe(3);
    mmu.flushPage(0x8880_0000_0000);
    mmu.translate(0x8880_0000_0000);
    expect(mmu.stats.walks).toBe(4);
    mmu.flushAll();
    mmu.translate(0x8880_0000_0000);
    expect(mmu.stats.walks).toBe(5);
  });
});

describe('paging-structure caches', () => {
  it('start the walk below the deepest cached level', () => {
    const { pt, mmu } = machine(x86_64, { pagingStructureCaches: true });
    pt.map(0x400000, 0x1000, 8192, RW_USER);
    pt.map(0x8000000, 0x3000, 4096, RW_USER); // another PD entry, same PDPT entry
    mmu.translate(0x400000, U);
    expect(mmu.stats.walkRefs).toBe(4);
    mmu.translate(0x401000, U); // PDE cache hit: only the PTE is read
    expect(mmu.stats.walkRefs).toBe(5);
    expect(mmu.stats.pscHits[2]).toBe(1);
    mmu.translate(0x8000000, U); // PDPTE cache hit: PDE and PTE read
    expect(mmu.stats.walkRefs).toBe(7);
    expect(mmu.stats.pscHits[1]).toBe(1);
    expect(mmu.refsPerWalk).toBeCloseTo(7 / 3);
  });

  it('are flushed with the TLB', () => {
    const { pt, mmu } = machine(x86_64, { pagingStructureCaches: true });
    pt.map(0x400000, 0x1000, 8192, RW_USER);
    mmu.translate(0x400000, U);
    mmu.flushNonGlobal();
    mmu.translate(0x401000, U);
    expect(mmu.stats.walkRefs).toBe(8);
  });
});

describe('software-managed TLB (MIPS-style refill)', () => {
  it('traps every miss to the handler, which walks in software and inserts', () => {
    const m = machine(x86_64, { softwareTlb: true });
    m.mmu.refill = createSoftwareRefill(m.pt);
    m.pt.map(0x400000, 0x1000, 4096, RW_USER);
    expect(m.mmu.translate(0x400123, U)).toBe(0x1123);
    expect(m.mmu.stats).toMatchObject({ refills: 1, walks: 0 });
    expect(m.pt.query(0x400000)).toMatchObject({ accessed: true, dirty: false });
    expect(m.mmu.translate(0x400456, U)).toBe(0x1456);
    expect(m.mmu.stats.refills).toBe(1);
    // A write to the clean entry traps again; the handler marks the PTE dirty.
    expect(m.mmu.translate(0x400000, U | W)).toBe(0x1000);
    expect(m.mmu.stats.refills).toBe(2);
    expect(m.pt.query(0x400000)!.dirty).toBe(true);
    expect((m.tlb as SimpleTlb).used).toBe(1);
  });

  it('reports what the handler raises, or a refill fault without one', () => {
    const m = machine(x86_64, { softwareTlb: true });
    m.mmu.refill = createSoftwareRefill(m.pt);
    expect(m.mmu.translate(0x400000, U | W)).toBe(-1);
    expect(m.mmu.lastFault()).toMatchObject({ kindName: 'not-present', level: 0, errorCode: 0x6 });
    m.pt.map(0x400000, 0x1000, 4096, PROT_READ | PROT_USER);
    expect(m.mmu.translate(0x400000, U | W)).toBe(-1);
    expect(m.mmu.lastFault()).toMatchObject({ kindName: 'protection', errorCode: 0x7 });
    m.mmu.refill = null;
    expect(m.mmu.translate(0x500000, U)).toBe(-1);
    expect(m.mmu.faultKind).toBe(FAULT_TLB_REFILL);
  });
});

describe('explain()', () => {
  it('lists each level with index, table, entry and decoded bits', () => {
    const { pt, mmu } = machine(x86_64);
    pt.map(0x7fffdead0000, 0x345000, 4096, RW_USER);
    mmu.translate(0x7fffdead0123, U | W);
    const e = explain(mmu, 0x7fffdead0123);
    expect(e.vaText).toBe('00007fffdead0123');
    expect(e.steps.map((s) => [s.name, s.index])).toEqual([
      ['PML4', 0xff],
      ['PDPT', 0x1ff],
      ['PD', 0xf5],
      ['PT', 0xd0],
    ]);
    expect(e.steps[3]!.entry).toBe('8000000000345067');
    expect(e.steps[3]!.decoded.bits).toEqual({
      P: 1,
      RW: 1,
      US: 1,
      PWT: 0,
      PCD: 0,
      A: 1,
      D: 1,
      PS: 0,
      G: 0,
      NX: 1,
    });
    expect(e.pa).toBe(0x345123);
    expect(formatExplanation(e).split('\n').at(-1)).toBe(
      '          --> Translates to Physical Address 0x345123 (4096-byte page)',
    );
    expect(explain(mmu, 0xffff_8000_0000).fault).toMatchObject({
      level: 0,
      kindName: 'not-present',
    });
    expect(explain(mmu, 0xffff_8000_0000).vaText).toBe('ffffffff80000000');
  });
});
