import { expect, it } from 'vitest';
import {
  __GFP_ZERO,
  formatGfp,
  GFP_KERNEL,
  gfpZone,
  Klog,
  PhysicalMemory,
  parseGfp,
} from '../src/index.js';

it('the README example runs and gives what its comments say', () => {
  const mem = new PhysicalMemory(64 * 1024 ** 3);
  expect(mem.touchedBytes).toBe(0); // sparse: costs nothing until written
  mem.write32(0x1000, 0xdeadbeef);
  expect(mem.read64(0x1000)).toBe(3735928559n);
  expect(mem.touchedBytes).toBe(64 * 1024); // one 64 KiB chunk
  expect(formatGfp(GFP_KERNEL | __GFP_ZERO)).toBe('GFP_KERNEL|__GFP_ZERO');
  expect(parseGfp('GFP_NOFS|__GFP_HIGHMEM|__GFP_MOVABLE')).toBe(0xc4a);
  expect(gfpZone(GFP_KERNEL)).toBe(2);
  const log = new Klog();
  log.warn('hello');
  expect(log.dmesg()).toBe('[    0.000000] hello');
});
