import { ACCESS_USER, ACCESS_WRITE, PhysicalMemory, PROT_USER, PROT_WRITE } from '@mmsim/core';
import { createTlb } from '@mmsim/tlb';
import { expect, it } from 'vitest';
import {
  createMmu,
  createTableAllocator,
  explain,
  formatExplanation,
  PageTable,
  x86_64,
} from '../src/index.js';

it('runs the README example with the values it shows', () => {
  const memory = new PhysicalMemory(64 << 20);
  const pt = new PageTable(x86_64, memory, createTableAllocator(48 << 20, 64 << 20, 4096));
  pt.map(0x7fff_dead_0000, 0x345000, 4096, PROT_WRITE | PROT_USER);
  expect(memory.read64(pt.query(0x7fff_dead_0000)!.entryAddr)).toBe(0x8000000000345007n);
  const mmu = createMmu({ format: x86_64, memory, tlb: createTlb(), root: pt.root });
  expect(mmu.translate(0x7fff_dead_0123, ACCESS_USER | ACCESS_WRITE)).toBe(0x345123);
  expect(mmu.translate(0x1000, ACCESS_USER)).toBe(-1);
  expect([mmu.errorCode, mmu.faultLevel]).toEqual([0x4, 0]);
  const text = formatExplanation(explain(mmu, 0x7fff_dead_0123)).split('\n');
  expect(text[0]).toBe(
    'Virtual Address 0x00007fffdead0123 (x86-64 4-level, root 0x3000000, asid 0):',
  );
  expect(text[1]).toBe(
    '  --> PML4 index:0xff [decimal 255] entry @0x30007f8: 0x0000000003001027 (P RW US A; table 0x3001000)',
  );
  expect(text.at(-1)).toBe(
    '          --> Translates to Physical Address 0x345123 (4096-byte page)',
  );
});
