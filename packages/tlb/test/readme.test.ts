import { expect, it } from 'vitest';
import { createTlb, createTlbHierarchy, simulateCacheTrace } from '../src/index.js';

it('the README example runs and prints what it says', () => {
  const tlb = createTlb({ entries: 64, ways: 4, policy: 'plru' });
  tlb.insert(0x7f0000001000, 1, 0x2a000, 12, 0, false);
  const slot = tlb.lookup(0x7f0000001abc, 1);
  expect(tlb.entryPa(slot)).toBe(0x2a000);
  expect(tlb.lookup(0x7f0000001abc, 2)).toBe(-1);
  tlb.flushPage(0x7f0000001000, 1);
  expect(tlb.stats).toEqual({ hits: 1, misses: 1, evictions: 0, flushes: 1 });

  const skylake = createTlbHierarchy();
  expect(skylake.tlbs.map((t) => t.size)).toEqual([100, 136, 1552]);
  expect(simulateCacheTrace(' L 10,1\n M 20,1\n', { s: 4, E: 1, b: 4 })).toEqual({
    hits: 1,
    misses: 2,
    evictions: 0,
  });
});
