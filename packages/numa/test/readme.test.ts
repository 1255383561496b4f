import { expect, it } from 'vitest';
import { createMachine, formatNodeDistance, NumaStat } from '../src/index.js';

it('the README example runs and gives what its comments say', () => {
  const m = createMachine('server');
  expect(m.describe().slice(0, 2)).toEqual([
    'Zone ranges:',
    '  DMA      [mem 0x0000000000001000-0x0000000000ffffff]',
  ]);
  expect(m.zone(1, 2)).toMatchObject({
    startPfn: 0x400000,
    spannedPages: 4194304,
    presentPages: 4194304,
  });
  expect(m.fallbackOrder(1)).toEqual([1, 0]);
  expect(formatNodeDistance(m, 0)).toBe('10 21\n');
  const stat = new NumaStat(m.nrNodes);
  stat.zoneStatistics(m.zone(0, 2).slot, m.zone(1, 2).slot, m.cpuToNode(0), 1);
  expect(stat.renderNodeNumastat(1)).toBe(
    'numa_hit 0\nnuma_miss 1\nnuma_foreign 0\ninterleave_hit 0\nlocal_node 0\nother_node 1\n',
  );
});
