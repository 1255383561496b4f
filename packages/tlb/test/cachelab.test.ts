/**
 * The CS:APP cache lab check: used as a cache (page shift = b, 2^s sets, E ways, LRU), the
 * TLB model reproduces the reference simulator's hits, misses and evictions for the eight
 * configurations test-csim runs, and csim-ref's -v listing of yi.trace line for line.
 * The traces and the expected numbers are in /work/shared/data/cachelab (see its README).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CacheSim, simulateCacheTrace } from '../src/index.js';

const DIR = new URL('../../../../shared/data/cachelab/', import.meta.url);

function trace(name: string): string {
  if (name === 'long.trace')
    return gunzipSync(readFileSync(new URL('long.trace.gz', DIR))).toString('utf8');
  return readFileSync(new URL(name, DIR), 'utf8');
}

/** expected.csv's rows: the 8 graded configurations, then the extra -v case. */
const rows = readFileSync(new URL('expected.csv', DIR), 'utf8')
  .split('\n')
  .filter((l) => l && !l.startsWith('#') && !l.startsWith('s,'))
  .map((l) => {
    const [s, E, b, file, hits, misses, evictions] = l.split(',');
    return {
      s: +s!,
      E: +E!,
      b: +b!,
      file: file!,
      hits: +hits!,
      misses: +misses!,
      evictions: +evictions!,
    };
  });

describe('CS:APP cache lab (csim-ref)', () => {
  it('expected.csv has the eight graded configurations and the -v case', () => {
    expect(rows).toHaveLength(9);
  });

  for (const r of rows) {
    it(`-s ${r.s} -E ${r.E} -b ${r.b} -t ${r.file}: hits:${r.hits} misses:${r.misses} evictions:${r.evictions}`, () => {
      expect(simulateCacheTrace(trace(r.file), { s: r.s, E: r.E, b: r.b })).toEqual({
        hits: r.hits,
        misses: r.misses,
        evictions: r.evictions,
      });
    });
  }

  it('reproduces csim-ref -v -s 4 -E 1 -b 4 -t yi.trace exactly', () => {
    const expected = readFileSync(new URL('yi-s4-E1-b4.verbose.txt', DIR), 'utf8');
    const r = simulateCacheTrace(trace('yi.trace'), { s: 4, E: 1, b: 4, verbose: true });
    expect(`${r.verbose!.join('\n')}\n`).toBe(expected);
    expect(r.verbose).toEqual([
      'L 10,1 miss',
      'M 20,1 miss hit',
      'L 22,1 hit',
      'S 18,1 hit',
      'L 110,1 miss eviction',
      'L 210,1 miss eviction',
      'M 12,1 miss eviction hit',
      'hits:4 misses:5 evictions:3',
    ]);
  });

  it("ignores 'I' lines and blank lines, and rejects what it cannot parse", () => {
    const text = 'I 0400d7d4,8\n L 10,4\n\n S 10,4\nI 0400d7d8,8\n M 0421c7f0,4\n';
    expect(simulateCacheTrace(text, { s: 0, E: 1, b: 4, verbose: true }).verbose).toEqual([
      'L 10,4 miss',
      'S 10,4 hit',
      'M 421c7f0,4 miss eviction hit',
      'hits:2 misses:2 evictions:1',
    ]);
    expect(() => simulateCacheTrace(' X 10,4\n', { s: 0, E: 1, b: 4 })).toThrow(
      "trace line 1: cannot parse ' X 10,4'",
    );
  });

  it('CacheSim is the same cache one access at a time; other policies change the counts', () => {
    const c = new CacheSim({ s: 1, E: 2, b: 4 });
    // Blocks 0, 2, 4 share set 0 (2 ways); block 1 is in set 1. 1 = miss, 2 = miss + eviction.
    expect([0x00, 0x20, 0x00, 0x40, 0x20, 0x10].map((a) => c.access(a))).toEqual([
      1, 1, 0, 2, 2, 1,
    ]);
    expect([c.hits, c.misses, c.evictions]).toEqual([1, 5, 2]);
    const lru = simulateCacheTrace(trace('trans.trace'), { s: 2, E: 4, b: 3 });
    const fifo = simulateCacheTrace(trace('trans.trace'), { s: 2, E: 4, b: 3, policy: 'fifo' });
    expect(lru.hits + lru.misses).toBe(fifo.hits + fifo.misses);
    expect(fifo).not.toEqual(lru);
  });
});
