/**
 * OSTEP ch. 22 homework: vm-beyondphys-policy/paging-policy.py -c, generated outputs with the
 * answers (see shared/data/ostep/README.md). Two checks:
 *
 * 1. The TLB itself: a fully associative TLB of C entries (C = the file's `cachesize`), used
 *    as the page cache — page n is the 4 KiB page at n * 4096, one ASID — must reproduce every
 *    access of the LRU and FIFO files with the built-in 'lru' and 'fifo' policies: HIT or MISS,
 *    the replaced page (an eviction counted in `stats.evictions`, the page gone from the TLB,
 *    and it was resident before), the resident pages in the printed order (least recently
 *    used / first in, first, read from the policy's stamps), the running Hits/Misses and the
 *    FINALSTATS line.
 * 2. simulatePagingPolicy() + formatPagingPolicy(): for every LRU, FIFO, OPT and UNOPT file,
 *    the printed text from the first `Access:` line to the end of the file, byte for byte.
 *    OPT and UNOPT look into the future reference string, which no `ReplacementPolicy` sees;
 *    simulatePagingPolicy() gives its TLB a policy that is told each entry's next use. Their
 *    ties (only possible between pages never used again) are checked to occur: OPT evicts the
 *    last filled of them, UNOPT the first filled, as the script's `>=` / `<` scans do.
 *    parsePagingPolicyOutput() must read all 25 files as this file's own parser does.
 *
 * Not compared, anywhere:
 * - RAND draws the victim with Python's `random.random()` (Mersenne Twister, seeded by -s,
 *   after the draws that generated the addresses); the `random` policy uses @mmsim/core's
 *   sfc32, another generator, so its victims cannot be the same, and simulatePagingPolicy()
 *   refuses RAND with a RangeError.
 * - CLOCK is not a sweeping hand: paging-policy.py keeps a counter per page (+1 on every
 *   access, hit or miss, capped at -b clockbits, default 2) and, to replace, looks at pages
 *   drawn at random (`memory[int(random.random() * count)]`), decrementing a nonzero counter
 *   and evicting the first page found at 0. The `nru` policy is a different algorithm (one
 *   reference bit per way, all cleared when the last is set, victim = the lowest way with a
 *   clear bit, no randomness), and the draws again come from Python's generator;
 *   simulatePagingPolicy() refuses CLOCK too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  createTlb,
  FifoPolicy,
  formatPagingPolicy,
  LruPolicy,
  type PagingPolicyName,
  type PolicyName,
  parsePagingPolicyOutput,
  simulatePagingPolicy,
} from '../src/index.js';

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
  text: string;
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
      text,
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

  it('replays LRU and FIFO (4 files each) on the built-in policies; OPT, UNOPT, RAND and CLOCK (17 files) have none', () => {
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

/** The policies simulatePagingPolicy() reproduces, and their files' expected counts. */
const SIMULATED: readonly PagingPolicyName[] = ['FIFO', 'LRU', 'OPT', 'UNOPT'];

function simulate(run: Run): string {
  const policy = run.policy as PagingPolicyName;
  const result = simulatePagingPolicy(
    run.accesses.map((a) => a.page),
    { policy, cacheSize: run.cacheSize },
  );
  return formatPagingPolicy(result, policy);
}

/**
 * The evictions that paging-policy.py's tie-break decides, read from a file's answers: a full
 * cache misses and at least two resident pages are never used again. For OPT those pages tie
 * as the furthest; for UNOPT they tie only when no resident page is used again.
 */
function ties(run: Run): { count: number; lastFilled: number; firstFilled: number } {
  const pages = run.accesses.map((a) => a.page);
  let count = 0;
  let lastFilled = 0;
  let firstFilled = 0;
  run.accesses.forEach((a, i) => {
    if (a.replaced < 0) return;
    const before = run.accesses[i - 1]!.memory;
    const future = pages.slice(i + 1);
    const never = before.filter((p) => !future.includes(p));
    const tie = run.policy === 'OPT' ? never.length >= 2 : never.length === before.length;
    if (!tie) return;
    count++;
    if (a.replaced === never.at(-1)) lastFilled++;
    if (a.replaced === never[0]) firstFilled++;
  });
  return { count, lastFilled, firstFilled };
}

describe('simulatePagingPolicy() prints what paging-policy.py -c prints, byte for byte', () => {
  const runs = load();
  const simulated = runs.filter((r) => (SIMULATED as readonly string[]).includes(r.policy));

  it('compares 16 files (LRU, FIFO, OPT, UNOPT: 3 seeds + the README example each), 284 accesses', () => {
    expect(simulated).toHaveLength(16);
    for (const p of SIMULATED) expect(simulated.filter((r) => r.policy === p)).toHaveLength(4);
    expect(simulated.reduce((n, r) => n + r.accesses.length, 0)).toBe(284);
  });

  for (const policy of SIMULATED) {
    it(`${policy}: every Access line and the FINALSTATS line of its 4 files`, () => {
      let files = 0;
      let accesses = 0;
      for (const r of simulated.filter((x) => x.policy === policy)) {
        const printed = simulate(r);
        // The whole tail of the file, from the first Access line: blank lines included.
        expect(printed, r.file).toBe(r.text.slice(r.text.indexOf('Access:')));
        // And line by line, so a failure names the access.
        const want = r.text.split('\n').filter((l) => /^(Access:|FINALSTATS)/.test(l));
        expect(
          printed.split('\n').filter((l) => l !== ''),
          r.file,
        ).toEqual(want);
        expect(want).toHaveLength(r.accesses.length + 1);
        files++;
        accesses += r.accesses.length;
      }
      expect({ files, accesses }).toEqual({ files: 4, accesses: 71 });
    });
  }

  it('OPT breaks its ties (pages never used again) towards the last filled: 10 evictions', () => {
    const opt = simulated.filter((r) => r.policy === 'OPT').map(ties);
    const sum = opt.reduce((s, t) => s + t.count, 0);
    expect(sum).toBe(10);
    // Only evictions where the other rule would pick another page prove the rule.
    expect(opt.reduce((s, t) => s + t.lastFilled, 0)).toBe(10);
    expect(opt.reduce((s, t) => s + t.firstFilled, 0)).toBe(0);
  });

  it('UNOPT breaks its ties (no resident page used again) towards the first filled: 15 evictions', () => {
    const unopt = simulated.filter((r) => r.policy === 'UNOPT').map(ties);
    expect(unopt.reduce((s, t) => s + t.count, 0)).toBe(15);
    expect(unopt.reduce((s, t) => s + t.firstFilled, 0)).toBe(15);
    expect(unopt.reduce((s, t) => s + t.lastFilled, 0)).toBe(0);
  });

  it('parsePagingPolicyOutput() reads all 25 files as this test reads them', () => {
    let accesses = 0;
    for (const r of runs) {
      const o = parsePagingPolicyOutput(r.text);
      expect(o.policy, r.file).toBe(r.policy);
      expect(o.cacheSize, r.file).toBe(r.cacheSize);
      expect(o.clockBits, r.file).toBe(Number(arg(r.text, r.file, 'clockbits')));
      expect(o.accesses, r.file).toEqual(r.accesses.map((a) => a.page));
      expect(
        o.expected.map((a) => ({ ...a, memory: a.resident, replaced: a.victim })),
        r.file,
      ).toEqual(r.accesses.map((a) => ({ ...a, resident: a.memory, victim: a.replaced })));
      expect(o.final, r.file).toEqual({
        hits: r.final.hits,
        misses: r.final.misses,
        hitRatePercent: Number(r.final.hitrate),
      });
      expect(o.solution, r.file).toBe(r.text.slice(r.text.indexOf('Access:')));
      accesses += o.accesses.length;
    }
    expect(accesses).toBe(446);
  });

  it('replays a parsed file: the README example of the chapter, LRU', () => {
    const o = parsePagingPolicyOutput(
      runs.find((r) => r.file === 'LRU-C3-readme-example.txt')!.text,
    );
    const policy = o.policy as PagingPolicyName;
    const result = simulatePagingPolicy(o.accesses, { policy, cacheSize: o.cacheSize });
    expect(formatPagingPolicy(result, policy)).toBe(o.solution);
    expect(result.accesses).toEqual(o.expected);
    expect({ hits: result.hits, misses: result.misses, hitRate: result.hitRate }).toEqual({
      hits: 6,
      misses: 5,
      hitRate: 6 / 11,
    });
    expect(result.accesses[5]).toEqual({
      page: 3,
      hit: false,
      victim: 2,
      resident: [0, 1, 3],
      hits: 2,
      misses: 4,
    });
  });

  it('parses the problem without -c: the pages, no answers', () => {
    const o = parsePagingPolicyOutput(
      'ARG policy OPT\nARG clockbits 2\nARG cachesize 3\n\nAccess: 8  Hit/Miss?  State of Memory?\nAccess: 7  Hit/Miss?  State of Memory?\n',
    );
    expect(o).toEqual({
      policy: 'OPT',
      cacheSize: 3,
      clockBits: 2,
      accesses: [8, 7],
      expected: [],
      final: null,
      solution: '',
    });
  });
});

describe('formatPagingPolicy() formats as Python does', () => {
  it('right-aligns the resident list in 12 characters and lets a longer one push the line', () => {
    const r = simulatePagingPolicy([10, 200, 3000, 7], { policy: 'FIFO', cacheSize: 4 });
    expect(formatPagingPolicy(r, 'FIFO').split('\n').slice(0, 4)).toEqual([
      'Access: 10  MISS FirstIn ->         [10] <- Lastin  Replaced:- [Hits:0 Misses:1]',
      'Access: 200  MISS FirstIn ->    [10, 200] <- Lastin  Replaced:- [Hits:0 Misses:2]',
      'Access: 3000  MISS FirstIn -> [10, 200, 3000] <- Lastin  Replaced:- [Hits:0 Misses:3]',
      'Access: 7  MISS FirstIn -> [10, 200, 3000, 7] <- Lastin  Replaced:- [Hits:0 Misses:4]',
    ]);
  });

  it("prints the hit rate as '%.2f' does: exact halves round to even (0.125 -> 0.12, 0.375 -> 0.38)", () => {
    // 800 accesses, one page cached: each repeat of page 0 right after itself is a hit.
    const rate = (hits: number): string => {
      const pages = [0];
      for (let i = 0; i < hits; i++) pages.push(0);
      for (let p = 1; pages.length < 800; p++) pages.push(p);
      const text = formatPagingPolicy(
        simulatePagingPolicy(pages, { policy: 'LRU', cacheSize: 1 }),
        'LRU',
      );
      return /hitrate (\S+)/.exec(text)![1]!;
    };
    // Python 3: '%.2f' % 0.125 == '0.12', '%.2f' % 0.375 == '0.38', '%.2f' % 0.625 == '0.62'.
    expect([rate(1), rate(3), rate(5), rate(7), rate(2)]).toEqual([
      '0.12',
      '0.38',
      '0.62',
      '0.88',
      '0.25',
    ]);
  });
});

describe('paging policy misuse', () => {
  const ok = [0, 1, 2, 0];

  it('refuses RAND and CLOCK, saying why, and any other policy name', () => {
    for (const policy of ['RAND', 'CLOCK', 'MRU', 'lru', '', undefined]) {
      const run = () =>
        simulatePagingPolicy(ok, { policy: policy as PagingPolicyName, cacheSize: 3 });
      expect(run, String(policy)).toThrow(RangeError);
      expect(run, String(policy)).toThrow(/expected one of FIFO, LRU, OPT, UNOPT/);
      expect(run, String(policy)).toThrow(
        /RAND and CLOCK are not supported: .*random\.random\(\).*Mersenne Twister/,
      );
    }
    expect(() =>
      simulatePagingPolicy(ok, { policy: 'RAND' as PagingPolicyName, cacheSize: 3 }),
    ).toThrow(/paging policy "RAND"/);
    const r = simulatePagingPolicy(ok, { policy: 'LRU', cacheSize: 3 });
    expect(() => formatPagingPolicy(r, 'CLOCK' as PagingPolicyName)).toThrow(RangeError);
  });

  it('refuses a cacheSize that is not a positive integer', () => {
    for (const cacheSize of [0, -1, 2.5, Number.NaN, Number.POSITIVE_INFINITY, '3']) {
      expect(
        () => simulatePagingPolicy(ok, { policy: 'LRU', cacheSize: cacheSize as number }),
        String(cacheSize),
      ).toThrow(
        new RangeError(
          `paging policy: cacheSize ${String(cacheSize)}, expected a positive integer (pages)`,
        ),
      );
    }
  });

  it('refuses a page that is negative, not an integer or too large, naming the access', () => {
    for (const page of [-1, 1.5, Number.NaN, 2 ** 41, '4']) {
      expect(
        () => simulatePagingPolicy([0, 1, page as number], { policy: 'OPT', cacheSize: 2 }),
        String(page),
      ).toThrow(
        new RangeError(
          `paging policy: access #2 is page ${String(page)}, expected an integer 0..2^41-1`,
        ),
      );
    }
    expect(() =>
      simulatePagingPolicy('0,1' as unknown as number[], { policy: 'LRU', cacheSize: 2 }),
    ).toThrow(TypeError);
  });

  it('refuses a clockBits that is not an integer, and formatting no accesses (Python divides by zero)', () => {
    expect(() =>
      simulatePagingPolicy(ok, { policy: 'FIFO', cacheSize: 2, clockBits: 1.5 }),
    ).toThrow(RangeError);
    const empty = simulatePagingPolicy([], { policy: 'FIFO', cacheSize: 2 });
    expect(empty).toEqual({ accesses: [], hits: 0, misses: 0, hitRate: 0 });
    expect(() => formatPagingPolicy(empty, 'FIFO')).toThrow(/ZeroDivisionError/);
  });

  it('refuses output it cannot read, with the line number', () => {
    expect(() => parsePagingPolicyOutput('ARG policy LRU\nARG clockbits 2\n')).toThrow(
      new SyntaxError("paging-policy output: no 'ARG cachesize' line"),
    );
    expect(() =>
      parsePagingPolicyOutput('ARG policy LRU\nARG cachesize 3\nAccess: 8 MISS LRU [8]\n'),
    ).toThrow(/line 3: cannot parse 'Access: 8 MISS LRU \[8\]'/);
  });
});
