/**
 * OSTEP ch. 22 homework: vm-beyondphys-policy/paging-policy.py -c, generated outputs with the
 * answers (see shared/data/ostep/README.md). A fully associative TLB of C entries (C = the
 * file's `cachesize`), used as the page cache — page n is the 4 KiB page at n * 4096, one
 * ASID — must reproduce every access of the LRU and FIFO files: HIT or MISS, the replaced page
 * (an eviction counted in `stats.evictions`, the page gone from the TLB, and it was resident
 * before), the resident pages in the printed order (least recently used / first in, first,
 * read from the policy's stamps), the running Hits/Misses and the FINALSTATS line.
 *
 * Not tested, because no policy of this package implements the same algorithm:
 * - OPT and UNOPT choose the resident page whose next use is furthest (nearest) in the future
 *   reference string; a `ReplacementPolicy` sees only sets and ways, never the addresses to
 *   come, and none of the built-in ones looks ahead.
 * - RAND draws the victim with Python's `random.random()` (Mersenne Twister, seeded by -s,
 *   after the draws that generated the addresses); the `random` policy uses @mmsim/core's
 *   sfc32, another generator, so its victims cannot be the same.
 * - CLOCK is not a sweeping hand: paging-policy.py keeps a counter per page (+1 on every
 *   access, hit or miss, capped at -b clockbits, default 2) and, to replace, looks at pages
 *   drawn at random (`memory[int(random.random() * count)]`), decrementing a nonzero counter
 *   and evicting the first page found at 0. The `nru` policy is a different algorithm (one
 *   reference bit per way, all cleared when the last is set, victim = the lowest way with a
 *   clear bit, no randomness), and the draws again come from Python's generator.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createTlb, FifoPolicy, LruPolicy, type PolicyName } from '../src/index.js';

const DIR = new URL('../../../../shared/data/ostep/paging-policy/', import.meta.url);
const PAGE = 4096;
const ASID = 0;

interface Access {
  page: number;
  hit: boolean;
  /** The printed state of memory after the access, left (LRU / first in) to right. */
  memory: number[];
  /** The replaced page, or -1 for `Replaced:-`. */
  replaced: number;
  hits: number;
  misses: number;
}

interface Run {
  file: string;
  policy: string;
  cacheSize: number;
  accesses: Access[];
  final: { hits: number; misses: number; hitrate: string };
}

function arg(text: string, file: string, name: string): string {
  const m = new RegExp(`^ARG ${name} ?(.*)$`, 'm').exec(text);
  if (!m) throw new Error(`${file}: no 'ARG ${name}' line`);
  return m[1]!;
}

function load(): Run[] {
  const files = readdirSync(DIR)
    .filter((f) => f.endsWith('.txt'))
    .sort();
  if (files.length !== 25)
    throw new Error(`expected 25 problem files in ${DIR.pathname}, found ${files.length}`);
  return files.map((file) => {
    const text = readFileSync(new URL(file, DIR), 'utf8');
    const accesses: Access[] = [];
    for (const line of text.split('\n').filter((l) => l.startsWith('Access:'))) {
      const m =
        /^Access: (\d+) {2}(MISS|HIT ) \S+ *-> +\[([\d, ]*)\] <- \S+ +Replaced:(-|\d+) \[Hits:(\d+) Misses:(\d+)\]$/.exec(
          line,
        );
      if (!m) throw new Error(`${file}: unparsed line '${line}'`);
      accesses.push({
        page: Number(m[1]),
        hit: m[2] === 'HIT ',
        memory: m[3] === '' ? [] : m[3]!.split(', ').map(Number),
        replaced: m[4] === '-' ? -1 : Number(m[4]),
        hits: Number(m[5]),
        misses: Number(m[6]),
      });
    }
    const f = /^FINALSTATS hits (\d+) {3}misses (\d+) {3}hitrate (\d+\.\d\d)$/m.exec(text);
    if (!f) throw new Error(`${file}: no FINALSTATS line`);
    return {
      file,
      policy: arg(text, file, 'policy'),
      cacheSize: Number(arg(text, file, 'cachesize')),
      accesses,
      final: { hits: Number(f[1]), misses: Number(f[2]), hitrate: f[3]! },
    };
  });
}

/** The OSTEP policies a built-in policy of this package implements exactly. */
const SAME_ALGORITHM: Record<string, PolicyName> = { LRU: 'lru', FIFO: 'fifo' };

/** Replay one file on a TLB; every check of one access names the file and the step. */
function replay(run: Run, policy: PolicyName): void {
  const C = run.cacheSize;
  const tlb = createTlb({ entries: C, ways: C, pageShift: 12, policy });
  const state = tlb.policy(0);
  if (!(state instanceof LruPolicy || state instanceof FifoPolicy))
    throw new Error(`${policy}: not an LRU or FIFO policy object`);
  const resident = (): number[] => tlb.entries().map((e) => e.va / PAGE);
  run.accesses.forEach((a, i) => {
    const what = `${run.file} access #${i} (page ${a.page})`;
    const before = resident();
    const evictionsBefore = tlb.stats.evictions;
    const slot = tlb.lookup(a.page * PAGE, ASID);
    expect(slot >= 0 ? 'HIT' : 'MISS', what).toBe(a.hit ? 'HIT' : 'MISS');
    if (slot < 0) tlb.insert(a.page * PAGE, ASID, a.page * PAGE, 12, 0, false);
    // The replaced page: one eviction, the page gone, and it was resident before.
    expect(tlb.stats.evictions - evictionsBefore, what).toBe(a.replaced >= 0 ? 1 : 0);
    if (a.replaced >= 0) {
      expect(before, what).toContain(a.replaced);
      expect(tlb.probe(a.replaced * PAGE, ASID), what).toBe(-1);
    }
    expect(tlb.probe(a.page * PAGE, ASID), what).toBeGreaterThanOrEqual(0);
    // The resident pages in the printed order: oldest stamp (LRU access / first fill) first.
    const byAge = tlb
      .entries()
      .sort((x, y) => state.stamp[x.slot]! - state.stamp[y.slot]!)
      .map((e) => e.va / PAGE);
    expect(byAge, what).toEqual(a.memory);
    expect(tlb.stats.hits, what).toBe(a.hits);
    expect(tlb.stats.misses, what).toBe(a.misses);
  });
  const { hits, misses } = tlb.stats;
  expect({ hits, misses, hitrate: ((100 * hits) / (hits + misses)).toFixed(2) }, run.file).toEqual(
    run.final,
  );
}

describe('OSTEP paging-policy (ch. 22) on a fully associative TLB used as a page cache', () => {
  const runs = load();

  it('parses 25 files: 446 accesses, every file ending with its FINALSTATS', () => {
    expect(runs.reduce((n, r) => n + r.accesses.length, 0)).toBe(446);
    for (const r of runs) {
      const last = r.accesses.at(-1)!;
      expect({ hits: last.hits, misses: last.misses }, r.file).toEqual({
        hits: r.final.hits,
        misses: r.final.misses,
      });
    }
  });

  it('tests LRU and FIFO (4 files each) and leaves OPT, UNOPT, RAND and CLOCK (17 files) out', () => {
    const tested = runs.filter((r) => r.policy in SAME_ALGORITHM);
    const untested = runs.filter((r) => !(r.policy in SAME_ALGORITHM));
    expect(tested.map((r) => r.file)).toEqual([
      'FIFO-C3-readme-example.txt',
      'FIFO-C4-m10-n20-seed0.txt',
      'FIFO-C4-m10-n20-seed1.txt',
      'FIFO-C4-m10-n20-seed2.txt',
      'LRU-C3-readme-example.txt',
      'LRU-C4-m10-n20-seed0.txt',
      'LRU-C4-m10-n20-seed1.txt',
      'LRU-C4-m10-n20-seed2.txt',
    ]);
    expect(new Set(untested.map((r) => r.policy))).toEqual(
      new Set(['OPT', 'UNOPT', 'RAND', 'CLOCK']),
    );
    expect(untested).toHaveLength(17);
  });

  for (const [ostep, policy] of Object.entries(SAME_ALGORITHM)) {
    it(`${ostep} = the '${policy}' policy: every access's hit/miss, victim, order and counts`, () => {
      const mine = runs.filter((r) => r.policy === ostep);
      expect(mine).toHaveLength(4);
      let accesses = 0;
      let replaced = 0;
      let hits = 0;
      for (const r of mine) {
        replay(r, policy);
        accesses += r.accesses.length;
        replaced += r.accesses.filter((a) => a.replaced >= 0).length;
        hits += r.final.hits;
      }
      // 3 seeds x 20 accesses + the README example's 11.
      expect(accesses).toBe(71);
      expect(replaced).toBeGreaterThan(0);
      expect(hits).toBeGreaterThan(0);
    });
  }
});
