/** A small machine for the tests: memory, a table region, page tables, an MMU. */
import { type PagingFormat, PhysicalMemory, type Tlb } from '@mmsim/core';
import {
  createMmu,
  createTableAllocator,
  geometry,
  type MmuOptions,
  PageTable,
} from '../src/index.js';
import { SimpleTlb } from './simple-tlb.js';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export function machine(
  format: PagingFormat,
  options: Partial<MmuOptions> & { memBytes?: number; tlb?: Tlb } = {},
) {
  // No more memory than the format can address (OSTEP's 7-bit PFNs reach 4 KiB).
  const reach = 2 ** format.paBits;
  const memBytes = Math.max(4096, Math.min(options.memBytes ?? 64 * MiB, reach));
  const memory = new PhysicalMemory(memBytes);
  const tableBytes = geometry(format).tableAllocBytes;
  // Tables come from the top 16 MiB of what is addressable (or its top quarter).
  const top = Math.min(memBytes, reach);
  const region = Math.min(16 * MiB, top / 4);
  const tables = createTableAllocator(top - region, top, tableBytes);
  const pt = new PageTable(format, memory, tables);
  const tlb = options.tlb ?? new SimpleTlb(64);
  const mmu = createMmu({ ...options, format, memory, tlb, root: pt.root });
  return { memory, tables, pt, tlb, mmu };
}
