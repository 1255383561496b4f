import { readdirSync, readFileSync } from 'node:fs';
import { ACCESS_READ, PhysicalMemory } from '@mmsim/core';
import { describe, expect, it } from 'vitest';
import {
  createMmu,
  explain,
  FAULT_NOT_PRESENT,
  formatExplanation,
  ostepMultilevel,
} from '../src/index.js';
import { SimpleTlb } from './simple-tlb.js';

// OSTEP ch. 20 homework: vm-smalltables/paging-multilevel-translate.py -s SEED -n 20 -c,
// generated outputs with the answers (see shared/data/ostep/README.md).
const DIR = new URL('../../../../shared/data/ostep/paging-multilevel/', import.meta.url);

interface Problem {
  file: string;
  pages: Uint8Array;
  pdbr: number;
  queries: {
    va: number;
    pa: number;
    value: number;
    faultLevel: number;
    pde: number;
    pte: number;
  }[];
}

function load(): Problem[] {
  const files = readdirSync(DIR)
    .filter((f) => f.endsWith('.txt'))
    .sort();
  if (files.length !== 10)
    throw new Error(`expected 10 problem files in ${DIR.pathname}, found ${files.length}`);
  return files.map((file) => {
    const text = readFileSync(new URL(file, DIR), 'utf8');
    const pages = new Uint8Array(128 * 32);
    for (const m of text.matchAll(/^page\s+(\d+):([0-9a-f]{64})$/gm)) {
      const n = Number(m[1]);
      for (let i = 0; i < 32; i++)
        pages[n * 32 + i] = Number.parseInt(m[2]!.slice(i * 2, i * 2 + 2), 16);
    }
    const pdbr = Number(/^PDBR: (\d+)/m.exec(text)![1]);
    const queries: Problem['queries'] = [];
    const blocks = text.split(/^Virtual Address /m).slice(1);
    for (const b of blocks) {
      const va = Number.parseInt(/^0x([0-9a-f]+):/.exec(b)![1]!, 16);
      const pde = Number.parseInt(/pde contents:0x([0-9a-f]+)/.exec(b)![1]!, 16);
      const pteM = /pte contents:0x([0-9a-f]+)/.exec(b);
      const ok = /Translates to Physical Address 0x([0-9a-f]+) --> Value: 0x([0-9a-f]+)/.exec(b);
      const fault = /Fault \(page (directory|table) entry not valid\)/.exec(b);
      if (!ok && !fault) throw new Error(`${file}: no answer for 0x${va.toString(16)}`);
      queries.push({
        va,
        pa: ok ? Number.parseInt(ok[1]!, 16) : -1,
        value: ok ? Number.parseInt(ok[2]!, 16) : -1,
        faultLevel: fault ? (fault[1] === 'directory' ? 0 : 1) : -1,
        pde,
        pte: pteM ? Number.parseInt(pteM[1]!, 16) : -1,
      });
    }
    return { file, pages, pdbr, queries };
  });
}

describe('OSTEP paging-multilevel (ch. 20), all 10 seeds', () => {
  const problems = load();

  it('parses 200 addresses', () => {
    expect(problems.reduce((n, p) => n + p.queries.length, 0)).toBe(200);
  });

  it('translates every address exactly as the printed answers say (value or faulting level)', () => {
    let checked = 0;
    let faults = 0;
    for (const p of problems) {
      // 128 pages of 32 bytes = 4 KiB of physical memory, the problem's bytes in place.
      const memory = new PhysicalMemory(4096);
      memory.writeBytes(0, p.pages);
      const mmu = createMmu({
        format: ostepMultilevel,
        memory,
        tlb: new SimpleTlb(8),
        root: p.pdbr * 32,
      });
      for (const q of p.queries) {
        const pa = mmu.translate(q.va, ACCESS_READ);
        if (q.faultLevel >= 0) {
          expect(pa, `${p.file} 0x${q.va.toString(16)}`).toBe(-1);
          expect(mmu.faultKind).toBe(FAULT_NOT_PRESENT);
          expect(mmu.faultLevel, `${p.file} 0x${q.va.toString(16)}`).toBe(q.faultLevel);
          expect(mmu.errorCode).toBe(0);
          faults++;
        } else {
          expect(pa, `${p.file} 0x${q.va.toString(16)}`).toBe(q.pa);
          expect(memory.read8(pa)).toBe(q.value);
        }
        checked++;
      }
    }
    expect(checked).toBe(200);
    expect(faults).toBeGreaterThan(0);
  });

  it('explain() shows the same PDE and PTE contents the answers print', () => {
    for (const p of problems) {
      const memory = new PhysicalMemory(4096);
      memory.writeBytes(0, p.pages);
      const mmu = createMmu({
        format: ostepMultilevel,
        memory,
        tlb: new SimpleTlb(8),
        root: p.pdbr * 32,
      });
      for (const q of p.queries) {
        const e = explain(mmu, q.va);
        expect(e.steps[0]!.lo).toBe(q.pde);
        if (q.pte >= 0) expect(e.steps[1]!.lo).toBe(q.pte);
        expect(e.pa).toBe(q.pa);
        expect(e.fault?.level ?? -1).toBe(q.faultLevel);
      }
    }
  });

  it('formats a walk like the homework answer', () => {
    const p = problems[0]!;
    const memory = new PhysicalMemory(4096);
    memory.writeBytes(0, p.pages);
    const mmu = createMmu({
      format: ostepMultilevel,
      memory,
      tlb: new SimpleTlb(8),
      root: p.pdbr * 32,
    });
    // seed 0's first address: pde 0xa1 (pfn 0x21), pte 0xb5 (pfn 0x35) -> 0x6bc.
    expect(formatExplanation(explain(mmu, 0x611c))).toBe(
      [
        'Virtual Address 0x611c (ostep-multilevel, root 0xd80, asid 0):',
        '  --> PD index:0x18 [decimal 24] entry @0xd98: 0xa1 (valid; table 0x420)',
        '    --> PT index:0x8 [decimal 8] entry @0x428: 0xb5 (valid; page 0x6a0)',
        '      --> Translates to Physical Address 0x6bc (32-byte page)',
      ].join('\n'),
    );
  });
});
