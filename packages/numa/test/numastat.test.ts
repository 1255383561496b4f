import { describe, expect, it } from 'vitest';
import { createMachine, NumaStat } from '../src/index.js';

// Slots on a two-node machine: nid * MAX_NR_ZONES (5) + zone type.
const N0_DMA32 = 1;
const N0_NORMAL = 2;
const N1_NORMAL = 7;

describe('zone_statistics', () => {
  it('counts a local allocation on the preferred node as numa_hit and numa_local', () => {
    const s = new NumaStat(2);
    s.zoneStatistics(N0_NORMAL, N0_NORMAL, 0, 1);
    s.zoneStatistics(N0_NORMAL, N0_DMA32, 0, 8); // another zone of the preferred node: still a hit
    expect(s.zoneCounters(N0_NORMAL)).toEqual({
      numa_hit: 1,
      numa_miss: 0,
      numa_foreign: 0,
      numa_interleave: 0,
      numa_local: 1,
      numa_other: 0,
    });
    expect(s.zoneCounters(N0_DMA32)).toMatchObject({ numa_hit: 8, numa_local: 8 });
  });

  it('counts a fallback to another node as numa_miss there and numa_foreign on the preferred zone', () => {
    const s = new NumaStat(2);
    s.zoneStatistics(N0_NORMAL, N1_NORMAL, 0, 4);
    expect(Array.from(s.numa_miss)).toEqual([0, 0, 0, 0, 0, 0, 0, 4, 0, 0]);
    expect(Array.from(s.numa_foreign)).toEqual([0, 0, 4, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(s.numa_other)).toEqual([0, 0, 0, 0, 0, 0, 0, 4, 0, 0]);
    expect(s.numa_hit.every((v) => v === 0)).toBe(true);
    expect(s.numa_local.every((v) => v === 0)).toBe(true);
  });

  it('counts local_node/other_node by the CPU, hit/miss by the preferred node', () => {
    const s = new NumaStat(2);
    s.zoneStatistics(N1_NORMAL, N1_NORMAL, 0, 2); // node 1 wanted and got, asked from a node-0 CPU
    s.zoneStatistics(N0_NORMAL, N1_NORMAL, 1, 16); // node 0 wanted, node 1 gave, to a node-1 CPU
    expect(s.nodeCounters(1)).toEqual({
      numa_hit: 2,
      numa_miss: 16,
      numa_foreign: 0,
      interleave_hit: 0,
      local_node: 16,
      other_node: 2,
    });
    expect(s.nodeCounters(0)).toEqual({
      numa_hit: 0,
      numa_miss: 0,
      numa_foreign: 16,
      interleave_hit: 0,
      local_node: 0,
      other_node: 0,
    });
  });
});

describe('node views', () => {
  it('sums a node over its zones and prints the sysfs numastat file', () => {
    const m = createMachine('server');
    const s = new NumaStat(m.nrNodes);
    const cpu = 3;
    const nid = m.cpuToNode(cpu);
    for (let i = 0; i < 1000; i++) s.zoneStatistics(m.zone(0, 2).slot, m.zone(0, 2).slot, nid, 1);
    s.zoneStatistics(m.zone(0, 1).slot, m.zone(0, 1).slot, nid, 1 << 10);
    s.zoneStatistics(m.zone(0, 2).slot, m.zone(1, 2).slot, nid, 3);
    s.interleaveHit(m.zone(0, 2).slot, 5);
    expect(s.renderNodeNumastat(0)).toBe(
      'numa_hit 2024\nnuma_miss 0\nnuma_foreign 3\ninterleave_hit 5\nlocal_node 2024\nother_node 0\n',
    );
    expect(s.renderNodeNumastat(1)).toBe(
      'numa_hit 0\nnuma_miss 3\nnuma_foreign 0\ninterleave_hit 0\nlocal_node 0\nother_node 3\n',
    );
  });

  it('resets every counter', () => {
    const s = new NumaStat(1);
    s.zoneStatistics(2, 2, 0, 7);
    s.interleaveHit(2, 1);
    s.reset();
    expect(s.renderNodeNumastat(0)).toBe(
      'numa_hit 0\nnuma_miss 0\nnuma_foreign 0\ninterleave_hit 0\nlocal_node 0\nother_node 0\n',
    );
  });

  it('checks nodes and slots', () => {
    const s = new NumaStat(2);
    expect(s.nrSlots).toBe(10);
    expect(() => s.nodeCounters(2)).toThrow('node 2 does not exist (nodes 0..1)');
    expect(() => s.zoneCounters(10)).toThrow('zone slot 10 does not exist (0..9)');
    expect(() => new NumaStat(0)).toThrow(RangeError);
    expect(() => new NumaStat(65)).toThrow(RangeError);
  });
});
