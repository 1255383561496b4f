import { __GFP_ZERO, GFP_DMA, GFP_KERNEL } from '@mmsim/core';
import { expect, it } from 'vitest';
import { createBuddyAllocator, createPageAllocatorEnv } from '../src/index.js';

it('the README example runs and gives what its comments say', () => {
  const env = createPageAllocatorEnv('server');
  const buddy = createBuddyAllocator(env);
  const pfn = buddy.allocPages(GFP_KERNEL | __GFP_ZERO, 3);
  expect(pfn % 8).toBe(0); // order-aligned
  expect([...buddy.zoneSnapshot(0, 2).nrFree]).toEqual([0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 3071]);
  buddy.freePages(pfn, 3);
  expect([...buddy.zoneSnapshot(0, 2).nrFree]).toEqual([0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 3071]);
  buddy.drain();
  expect([...buddy.zoneSnapshot(0, 2).nrFree]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3072]);
  expect(buddy.allocPages(GFP_DMA, 11)).toBe(-1);
  expect(env.klog.dmesg()).toContain(
    'WARNING: CPU: 0 PID: 0 at mm/page_alloc.c:4832 __alloc_pages_noprof',
  );
});
