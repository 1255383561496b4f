/**
 * A booted machine for the slab tests: buddy page allocator on a numa preset, and the
 * SlabEnv every implementation is built on.
 */
import type { SlabEnv } from '@mmsim/core';
import type { MachineSpec, PresetName } from '@mmsim/numa';
import { BuddyAllocator, createPageAllocatorEnv, type PageAllocatorEnv } from '@mmsim/page-alloc';
import { createSlabEnv } from '../src/env.js';

export interface TestMachine {
  pageEnv: PageAllocatorEnv;
  buddy: BuddyAllocator;
  env: SlabEnv;
}

export function makeSlabEnv(machine: PresetName | MachineSpec = 'tiny'): TestMachine {
  const pageEnv = createPageAllocatorEnv(machine);
  const buddy = new BuddyAllocator(pageEnv);
  const env: SlabEnv = createSlabEnv(pageEnv, buddy);
  return { pageEnv, buddy, env };
}

/** Free pages in the whole machine, pcp lists drained first (so counts compare exactly). */
export function freePages(t: TestMachine): number {
  t.buddy.drain();
  return t.buddy.nrFreePages();
}
