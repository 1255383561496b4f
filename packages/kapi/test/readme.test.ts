import { expect, it } from 'vitest';
import { boot, GFP_KERNEL, PAGE_SIZE, SLAB_HWCACHE_ALIGN } from '../src/index.js';

it('the README example runs and prints what it says', () => {
  const k = boot({ machine: 'laptop', slubDebug: 'FZPU' });
  const p = k.kmalloc(100, GFP_KERNEL);
  expect(k.ksize(p)).toBe(128);
  expect(p.toString(16)).toMatch(/^8881/);
  k.mem.write8(p + 128, 0x41);
  k.kfree(p);
  expect(k.dmesg()).toContain('BUG kmalloc-128 (Not tainted): Object corrupt');
  const v = k.vmalloc(16 * PAGE_SIZE);
  expect(v).toBe(0xc900_0000_0000);
  k.inIrq(() => k.kmalloc(64, GFP_KERNEL));
  expect(k.dmesg()).toContain('BUG: sleeping function called from invalid context');
  const c = k.kmem_cache_create('my_cache', 200, 0, SLAB_HWCACHE_ALIGN, null);
  expect(c?.object_size).toBe(200);
  expect(k.stats().slabinfo.length).toBeGreaterThan(50);
});
