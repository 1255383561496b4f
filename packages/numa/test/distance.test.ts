import { describe, expect, it } from 'vitest';
import {
  accessCostNs,
  createMachine,
  formatNodeDistance,
  formatNumactlHardware,
  LOCAL_DISTANCE,
  type MachineSpec,
  RECLAIM_DISTANCE,
  REMOTE_DISTANCE,
  validateDistances,
} from '../src/index.js';

const nodes = (n: number, cpus: number[] = []): MachineSpec['nodes'] =>
  Array.from({ length: n }, (_, i) => ({ memory: '1G', cpus: cpus[i] ?? 1 }));

describe('distance constants', () => {
  it('are include/linux/topology.h values', () => {
    expect([LOCAL_DISTANCE, REMOTE_DISTANCE, RECLAIM_DISTANCE]).toEqual([10, 20, 30]);
  });
});

describe('validateDistances', () => {
  it('accepts a valid, asymmetric SLIT', () => {
    expect(() =>
      validateDistances(
        [
          [10, 20, 254],
          [21, 10, 11],
          [30, 40, 10],
        ],
        3,
      ),
    ).not.toThrow();
  });

  it('wants an n×n table', () => {
    expect(() => validateDistances('10', 1)).toThrow(TypeError);
    expect(() => validateDistances([[10, 21]], 2)).toThrow(
      'distances: 1 rows for 2 node(s); the table must be 2×2',
    );
    expect(() => validateDistances([[10, 21], [21]], 2)).toThrow(
      'distances[1]: 1 columns for 2 node(s); the table must be 2×2',
    );
    expect(() => validateDistances([[10, 21], 21], 2)).toThrow(
      'distances[1]: expected an array of 2 numbers, got 21',
    );
  });

  it('names the row and column of a bad entry', () => {
    expect(() =>
      validateDistances(
        [
          [10, '21'],
          [21, 10],
        ],
        2,
      ),
    ).toThrow("distances[0][1]: expected a number, got '21'");
    expect(() =>
      validateDistances(
        [
          [10, 21],
          [21.5, 10],
        ],
        2,
      ),
    ).toThrow(
      /^distances\[1\]\[0\]: 21\.5 is not a valid distance: SLIT entries are integers 10\.\.254/,
    );
    expect(() =>
      validateDistances(
        [
          [10, 255],
          [21, 10],
        ],
        2,
      ),
    ).toThrow(/^distances\[0\]\[1\]: 255 is not a valid distance.*255 means unreachable/);
    expect(() =>
      validateDistances(
        [
          [10, 21],
          [21, 9],
        ],
        2,
      ),
    ).toThrow(/^distances\[1\]\[1\]: 9 is not a valid distance/);
  });

  it('wants LOCAL_DISTANCE on the diagonal and more elsewhere', () => {
    expect(() =>
      validateDistances(
        [
          [10, 21],
          [21, 11],
        ],
        2,
      ),
    ).toThrow(
      "distances[1][1]: 11 on the diagonal; a node's distance to itself must be LOCAL_DISTANCE (10)",
    );
    expect(() =>
      validateDistances(
        [
          [10, 10],
          [21, 10],
        ],
        2,
      ),
    ).toThrow(
      'distances[0][1]: 10 must be greater than LOCAL_DISTANCE (10): the local node is the closest',
    );
  });

  it('is what createMachine uses', () => {
    expect(() => createMachine({ nodes: nodes(2), distances: [[10]] })).toThrow(
      /^distances: 1 rows for 2/,
    );
  });
});

describe('default distances', () => {
  it('are 10 local and 21 remote', () => {
    expect(createMachine({ nodes: nodes(1) }).distances).toEqual([[10]]);
    expect(createMachine({ nodes: nodes(3) }).distances).toEqual([
      [10, 21, 21],
      [21, 10, 21],
      [21, 21, 10],
    ]);
    expect(createMachine('server').distance(1, 0)).toBe(21);
    expect(() => createMachine('server').distance(0, 2)).toThrow(
      'node 2 does not exist (nodes 0..1)',
    );
  });
});

describe('fallback order (build_zonelists / find_next_best_node)', () => {
  it('numa4 ring: neighbours before the far node, the next node first on ties', () => {
    const m = createMachine('numa4');
    expect([0, 1, 2, 3].map((n) => m.fallbackOrder(n))).toEqual([
      [0, 1, 3, 2],
      [1, 2, 0, 3],
      [2, 3, 1, 0],
      [3, 0, 2, 1],
    ]);
    expect(m.describe()).toContain('Fallback order for Node 2: 2 3 1 0 ');
  });

  it('asymmetric 3 nodes: a memory-only node wins a tie, the far direction comes last', () => {
    // Node 2 has no CPUs. 0 -> 2 is 20 but 2 -> 0 is 30.
    // node 0: 1 scores (20+0+1)*64+0 = 1344, 2 scores (20+0+0)*64+0 = 1280 -> 2, node_load[2]=1; then 1.
    // node 1: 0 scores (20+1+1)*64+0 = 1408, 2 scores 20*64+1 = 1281 -> 2, node_load[2]=2; then 0.
    // node 2: 0 scores (30+1+1)*64 = 2048, 1 scores (20+1+1)*64 = 1408 -> 1; then 0.
    const m = createMachine({
      nodes: nodes(3, [2, 2, 0]),
      distances: [
        [10, 20, 20],
        [20, 10, 20],
        [30, 20, 10],
      ],
    });
    expect([0, 1, 2].map((n) => m.fallbackOrder(n))).toEqual([
      [0, 2, 1],
      [1, 2, 0],
      [2, 1, 0],
    ]);
  });

  it('spreads equidistant nodes with node_load', () => {
    // All at 20, all with CPUs; scores are (20 + (n < local) + 1) * 64 + node_load[n].
    // node 0: 1, 2, 3 all 1344 -> 1 (node_load[1] = 1), 2, 3.
    // node 1: 2 and 3 score 1344, 0 scores 1408 -> 2 (node_load[2] = 1), 3, 0.
    // node 2: 3 scores 1344 -> 3 (node_load[3] = 1); then 0 (1408) beats 1 (1408 + 1).
    // node 3: 0 scores 1408, 1 and 2 score 1409 -> 0, then 1, 2.
    const m = createMachine({
      nodes: nodes(4),
      distances: [
        [10, 20, 20, 20],
        [20, 10, 20, 20],
        [20, 20, 10, 20],
        [20, 20, 20, 10],
      ],
    });
    expect([0, 1, 2, 3].map((n) => m.fallbackOrder(n))).toEqual([
      [0, 1, 2, 3],
      [1, 2, 3, 0],
      [2, 3, 0, 1],
      [3, 0, 1, 2],
    ]);
  });
});

describe('sysfs and numactl text', () => {
  it('prints /sys/devices/system/node/nodeN/distance', () => {
    expect(formatNodeDistance(createMachine('tiny'), 0)).toBe('10\n');
    expect(formatNodeDistance(createMachine('server'), 0)).toBe('10 21\n');
    expect(formatNodeDistance(createMachine('numa4'), 2)).toBe('30 20 10 20\n');
    expect(() => formatNodeDistance(createMachine('server'), 2)).toThrow(RangeError);
  });

  it('prints numactl --hardware like the live machine', () => {
    const live = createMachine({ nodes: [{ memory: '24G', cpus: 2 }], pciHole: '1G' });
    expect(
      formatNumactlHardware(live, {
        sizeBytes: [5073108 * 1024],
        freeBytes: [4423 * 2 ** 20 + 5000],
      }),
    ).toBe(
      [
        'available: 1 nodes (0)',
        'node 0 cpus: 0 1',
        'node 0 size: 4954 MB',
        'node 0 free: 4423 MB',
        'node distances:',
        'node   0 ',
        '  0:  10 ',
        '',
      ].join('\n'),
    );
  });

  it('prints a two-node table and memory-only nodes', () => {
    const m = createMachine({
      nodes: [
        { memory: '1G', cpus: 2 },
        { memory: '2G', cpus: 0 },
      ],
      distances: [
        [10, 50],
        [50, 10],
      ],
    });
    expect(formatNumactlHardware(m)).toBe(
      [
        'available: 2 nodes (0-1)',
        'node 0 cpus: 0 1',
        'node 0 size: 1024 MB',
        'node 0 free: <not available>',
        'node 1 cpus:',
        'node 1 size: 2048 MB',
        'node 1 free: <not available>',
        'node distances:',
        'node   0   1 ',
        '  0:  10  50 ',
        '  1:  50  10 ',
        '',
      ].join('\n'),
    );
  });
});

describe('accessCostNs', () => {
  const m = createMachine('server');

  it('scales the local latency by distance / 10', () => {
    expect(accessCostNs(m, 0, { pfn: 0x1000 })).toBe(80);
    expect(accessCostNs(m, 0, { pfn: 0x3fffff })).toBe(80);
    expect(accessCostNs(m, 0, { pfn: 0x400000 })).toBe(168); // node 1 starts at 16 GiB
    expect(accessCostNs(m, 8, { nid: 0 }, { localNs: 100 })).toBe(210);
  });

  it('rejects a pfn on no node and a bad latency', () => {
    expect(() => accessCostNs(m, 0, { pfn: 0x800000 })).toThrow(
      'pfn 8388608 (0x800000) is on no node',
    );
    expect(() => accessCostNs(m, 0, { nid: 0 }, { localNs: -1 })).toThrow(RangeError);
    expect(() => accessCostNs(m, 16, { nid: 0 })).toThrow('cpu 16 does not exist');
  });
});
