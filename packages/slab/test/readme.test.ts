import { GFP_KERNEL, virtToPhys } from '@mmsim/core';
import { createBuddyAllocator, createPageAllocatorEnv } from '@mmsim/page-alloc';
import { expect, it } from 'vitest';
import { createSlabEnv, createSlub } from '../src/index.js';

it('the README example runs and prints what it says', () => {
  const e = createPageAllocatorEnv('laptop');
  const slub = createSlub(createSlabEnv(e, createBuddyAllocator(e)), { slabDebug: 'FZPU' });
  const p = slub.kmalloc(60, GFP_KERNEL, -1, 'my_init');
  expect(p.toString(16)).toMatch(/^888/);
  expect(slub.virt_to_cache(p)?.name).toBe('kmalloc-64');
  e.memory.write8(virtToPhys(p) + 64, 0x41);
  slub.kfree(p, 'my_exit');
  const log = e.klog.dmesg();
  expect(log).toContain('BUG kmalloc-64 (Not tainted): Object corrupt');
  expect(log).toContain('[Right Redzone overwritten]');
  expect(log).toContain('FIX kmalloc-64: Restoring Right Redzone');
  expect(slub.cacheInfo(slub.caches()[5]!)).toMatchObject({
    name: 'kmalloc-64',
    active_objs: 1,
    num_objs: 16,
  });
});
