import { boot } from '@mmsim/kapi';
import { describe, expect, it } from 'vitest';
import { formatRep, parseRep, replayRep } from '../src/index.js';

const REP = `20000
3
6
1
a 0 512
a 1 128
r 0 640
f 1
a 2 16
f 0
`;

describe('parseRep (CS:APP malloc lab traces)', () => {
  it('reads the four header lines and the a/f/r operations', () => {
    const t = parseRep(REP);
    expect(t).toMatchObject({ heapSize: 20000, numIds: 3, numOps: 6, weight: 1 });
    expect(t.ops).toEqual([
      { type: 'a', id: 0, size: 512, line: 5 },
      { type: 'a', id: 1, size: 128, line: 6 },
      { type: 'r', id: 0, size: 640, line: 7 },
      { type: 'f', id: 1, size: 0, line: 8 },
      { type: 'a', id: 2, size: 16, line: 9 },
      { type: 'f', id: 0, size: 0, line: 10 },
    ]);
    expect(parseRep(formatRep(t))).toEqual(t);
  });

  it('names the line of what is wrong', () => {
    expect(() => parseRep('1\n1\n1\n')).toThrow('the header needs 4 numbers, found 3');
    expect(() => parseRep('1\n1\n2\n1\na 0 8\n')).toThrow('announces 2 operations, found 1');
    expect(() => parseRep('1\n1\n1\n1\nx 0 8\n')).toThrow(".rep line 5: unknown operation 'x'");
    expect(() => parseRep('1\n1\n1\n1\na 1 8\n')).toThrow('line 5: id 1 is not below');
    expect(() => parseRep('1\n2\n1\n1\nf 1\n')).toThrow('line 5: block 1 was never allocated');
    expect(() => parseRep('1\n1\n1\n1\na 0\n')).toThrow("line 5: 'a' takes 2 numbers");
    expect(() => parseRep('1\n1\n1\n1\na 0 -8\n')).toThrow('size is not an unsigned integer');
  });
});

describe('replayRep (a malloc-lab trace on kmalloc)', () => {
  it('makes each block with kmalloc/krealloc/kfree and reports the utilizations', () => {
    const k = boot({ machine: { nodes: [{ memory: '64M', cpus: 1 }] } });
    const before = k.stats().freePages;
    const r = replayRep(k, parseRep(REP));
    // a0 512 (kmalloc-512), a1 128, r0 640 (kmalloc-1k): 768 bytes asked, 1152 given.
    expect(r).toMatchObject({
      ops: 6,
      peakPayloadBytes: 768,
      peakAllocatedBytes: 1152,
      failures: 0,
      corrupted: 0,
    });
    expect(r.classUtilization).toBeCloseTo(768 / 1152, 10);
    expect(r.peakPages).toBeGreaterThan(0);
    k.slab.shrinkAll();
    expect(k.stats().freePages).toBe(before);
  });

  it('a binary-bal.rep-like pattern: 64 and 448 bytes, the 448s freed, then 512s', () => {
    // CS:APP's binary-bal trace: the 448-byte blocks land in kmalloc-512 (87.5% used).
    const n = 500;
    const lines = [String(0), String(3 * n), String(4 * n), '1'];
    for (let i = 0; i < n; i++) lines.push(`a ${2 * i} 64`, `a ${2 * i + 1} 448`);
    for (let i = 0; i < n; i++) lines.push(`f ${2 * i + 1}`);
    for (let i = 0; i < n; i++) lines.push(`a ${2 * n + i} 512`);
    const k = boot({ machine: { nodes: [{ memory: '64M', cpus: 1 }] } });
    const before = k.stats().freePages;
    const r = replayRep(k, parseRep(lines.join('\n')));
    expect(r).toMatchObject({
      ops: 4 * n,
      peakPayloadBytes: n * (64 + 512), // after the 512s
      failures: 0,
      corrupted: 0,
    });
    // The 448s sat in 512-byte slots, so the allocated peak is the same n × (64 + 512).
    expect(r.peakAllocatedBytes).toBe(n * (64 + 512));
    expect(r.classUtilization).toBe(1);
    expect(r.pageUtilization).toBeLessThanOrEqual(1);
    k.slab.shrinkAll();
    expect(k.stats().freePages).toBe(before);
  });
});
