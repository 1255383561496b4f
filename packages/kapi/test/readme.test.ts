import { expect, it } from 'vitest';
import {
  boot,
  GFP_KERNEL,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  Segfault,
  SLAB_HWCACHE_ALIGN,
} from '../src/index.js';

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

it('the README process example runs and does what its comments say', () => {
  const k = boot();
  const p = k.createProcess('demo');
  expect(p.pid).toBe(1000);
  const a = p.mmap(0, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  expect(a).toBe(0x7ffff7fef000);
  p.mem.read8(a);
  expect(p.mm!.rss).toBe(0);
  p.mem.write32(a, 42);
  expect(p.mm!.rss).toBe(1);
  const c = k.fork(p);
  c.mem.write32(a, 1);
  expect(p.mem.read32(a)).toBe(42);
  expect(() => p.mem.read8(0)).toThrow(Segfault);
  expect(k.dmesg()).toMatch(/demo\[1000\]: segfault at 0 ip \w+ sp \w+ error 4 /);
});
