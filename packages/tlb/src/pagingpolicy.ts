/**
 * simulatePagingPolicy — OSTEP's paging-policy homework (ch. 22, "Beyond Physical Memory:
 * Policies", vm-beyondphys-policy/paging-policy.py), on the TLB model.
 *
 * A page cache of C pages is a fully associative TLB of C entries: page n is the 4 KiB page
 * at n * 4096, one ASID. Each access is a lookup; a miss is a fill, which replaces the
 * policy's victim once the C entries are valid. The resident pages are printed in the order
 * of the replacement policy's stamps, oldest first, which is the order of the script's
 * `memory` list:
 * - LRU and FIFO are the package's own `'lru'` and `'fifo'` policies (a stamp per access, or
 *   per fill): LRU -> MRU, first in -> last in.
 * - OPT and UNOPT look into the future, so they need the whole reference string. They are a
 *   policy of this file plugged into the same TLB: the fill order as stamps (the script never
 *   reorders its list on a hit for these policies) and, per entry, the index of the page's
 *   next access (the reference string's length if there is none). paging-policy.py scans its
 *   list from the first page in with `whenReferenced >= maxReplace` for OPT and
 *   `whenReferenced < minReplace` for UNOPT (read in remzi-arpacidusseau/ostep-homework at
 *   commit 2a299d7; the OSTEP data, generated at 6c6cfc7, agree). Two resident pages can only
 *   tie when neither is used again, so OPT evicts the page used furthest in the future, and of
 *   the pages never used again the one filled last; UNOPT evicts the page used soonest, and,
 *   when no resident page is used again, the one filled first.
 * - RAND and CLOCK are not supported. Both draw from Python's `random.random()` (CPython's
 *   Mersenne Twister seeded by -s, after the draws that generated the addresses): RAND pops
 *   `memory[int(random.random() * count)]`; CLOCK is not a sweeping hand but draws pages at
 *   random, decrementing each page's use counter (capped at -b clockbits) until it draws one at
 *   0. Reproducing their files would mean reimplementing that generator and its seeding, which
 *   this package does not; the `random` and `nru` TLB policies are other algorithms.
 *   (The script also has an undocumented MRU policy, in neither its help nor the OSTEP data.)
 *
 * `formatPagingPolicy()` prints what `paging-policy.py -c` prints from its first `Access:`
 * line to its end, byte for byte: `'Access: %d  %s %s -> %12s <- %s Replaced:%s [Hits:%d
 * Misses:%d]'` (the resident list as Python prints a list, right-aligned in 12 characters and
 * wider when it is longer), a blank line, `'FINALSTATS hits %d   misses %d   hitrate %.2f'`
 * and a blank line. `parsePagingPolicyOutput()` reads the script's output back (ARG and
 * Access lines), to replay it.
 *
 * Isomorphic: it takes and returns text and arrays; reading files is the caller's business.
 */
import type { ReplacementPolicy } from './api.js';
import { definePolicy } from './policy.js';
import { createTlb } from './tlb.js';

/** The policies of paging-policy.py this module reproduces. */
export type PagingPolicyName = 'LRU' | 'FIFO' | 'OPT' | 'UNOPT';

/** The supported policies, in the order paging-policy.py's help lists them. */
export const PAGING_POLICIES: readonly PagingPolicyName[] = ['FIFO', 'LRU', 'OPT', 'UNOPT'];

export interface PagingPolicyOptions {
  /** paging-policy.py -p: 'LRU', 'FIFO', 'OPT' or 'UNOPT' (RAND and CLOCK: RangeError). */
  policy: PagingPolicyName;
  /** paging-policy.py -C: the size of the page cache, in pages (a positive integer). */
  cacheSize: number;
  /**
   * paging-policy.py -b: only CLOCK uses it, and CLOCK is not supported; accepted (an integer)
   * and ignored, as the script ignores it for the other policies.
   * @defaultValue 2
   */
  clockBits?: number;
}

/** One access, as a line of paging-policy.py -c reports it. */
export interface PagingPolicyAccess {
  page: number;
  hit: boolean;
  /** The page replaced by this access, -1 if none (`Replaced:-`). */
  victim: number;
  /** The resident pages after the access, in the printed order (LRU -> MRU, first in -> last in). */
  resident: number[];
  /** Running totals, including this access. */
  hits: number;
  misses: number;
}

export interface PagingPolicyResult {
  accesses: PagingPolicyAccess[];
  hits: number;
  misses: number;
  /** hits / (hits + misses), a fraction (FINALSTATS prints it as a percentage); 0 for no accesses. */
  hitRate: number;
}

/** What `parsePagingPolicyOutput()` reads from paging-policy.py's output. */
export interface PagingPolicyOutput {
  /** ARG policy, as printed (it may be one this module does not support). */
  policy: string;
  /** ARG cachesize. */
  cacheSize: number;
  /** ARG clockbits. */
  clockBits: number;
  /** The pages of the Access lines, in order. */
  accesses: number[];
  /** With -c: the answer of each access; without -c: empty. */
  expected: PagingPolicyAccess[];
  /** With -c: the FINALSTATS line's counts and its printed hit rate (a percentage); else null. */
  final: { hits: number; misses: number; hitRatePercent: number } | null;
  /** With -c: the output from the first Access line to the end, what formatPagingPolicy() prints. */
  solution: string;
}

/** Pages must be exact at 4 KiB granularity: page * 4096 below 2^53. */
const MAX_PAGE = 2 ** 41 - 1;
const PAGE_SHIFT = 12;
const PAGE_SIZE = 2 ** PAGE_SHIFT;

/** OSTEP's labels of the two ends of the resident list (FIFO's right label has a trailing space). */
const LABELS: Record<PagingPolicyName, readonly [string, string]> = {
  FIFO: ['FirstIn', 'Lastin '],
  LRU: ['LRU', 'MRU'],
  OPT: ['Left ', 'Right'],
  UNOPT: ['Left ', 'Right'],
};

function checkPolicy(policy: unknown): PagingPolicyName {
  if (typeof policy === 'string' && (PAGING_POLICIES as readonly string[]).includes(policy)) {
    return policy as PagingPolicyName;
  }
  const why =
    "RAND and CLOCK are not supported: paging-policy.py draws their victims from Python's random.random() (CPython's Mersenne Twister), which this package does not reproduce";
  throw new RangeError(
    `paging policy ${JSON.stringify(policy) ?? String(policy)}: expected one of ${PAGING_POLICIES.join(', ')} (${why})`,
  );
}

function checkCacheSize(cacheSize: unknown): number {
  if (typeof cacheSize !== 'number' || !Number.isInteger(cacheSize) || cacheSize < 1) {
    throw new RangeError(
      `paging policy: cacheSize ${String(cacheSize)}, expected a positive integer (pages)`,
    );
  }
  return cacheSize;
}

function checkPages(accesses: readonly number[]): void {
  if (!Array.isArray(accesses)) {
    throw new TypeError(`paging policy: accesses ${String(accesses)}, expected an array of pages`);
  }
  for (let i = 0; i < accesses.length; i++) {
    const page = accesses[i];
    if (typeof page !== 'number' || !Number.isInteger(page) || page < 0 || page > MAX_PAGE) {
      throw new RangeError(
        `paging policy: access #${i} is page ${String(page)}, expected an integer 0..2^41-1`,
      );
    }
  }
}

/**
 * OPT (Belady's MIN) or its opposite, as a TLB replacement policy of one set. The simulator
 * writes `nextUse[way]` after every access to the entry; the victim is the entry whose next
 * use is furthest (OPT) or nearest (UNOPT), ties broken by fill order as paging-policy.py's
 * scan of its list breaks them: OPT the last filled, UNOPT the first.
 */
class FutureDistancePolicy implements ReplacementPolicy {
  readonly name: string;
  /** Fill order: the printed order of the resident pages. */
  readonly stamp: Float64Array;
  /** The index of each entry's next access in the reference string (its length if none). */
  readonly nextUse: Float64Array;
  private clock = 0;

  constructor(
    ways: number,
    private readonly furthest: boolean,
  ) {
    this.name = furthest ? 'opt' : 'unopt';
    this.stamp = new Float64Array(ways);
    this.nextUse = new Float64Array(ways);
  }

  /** A hit changes nothing here; the simulator updates `nextUse`. */
  touch(_set: number, _way: number): void {}

  fill(_set: number, way: number): void {
    this.stamp[way] = ++this.clock;
  }

  victim(_set: number): number {
    const { stamp, nextUse } = this;
    const sign = this.furthest ? 1 : -1;
    let best = 0;
    for (let w = 1; w < stamp.length; w++) {
      const d = sign * (nextUse[w]! - nextUse[best]!);
      // Further (OPT) / nearer (UNOPT) wins; on a tie, the later (OPT) / earlier (UNOPT) fill.
      if (d > 0 || (d === 0 && sign * (stamp[w]! - stamp[best]!) > 0)) best = w;
    }
    return best;
  }

  reset(): void {
    this.stamp.fill(0);
    this.nextUse.fill(0);
    this.clock = 0;
  }
}

/** For each access, the index of the next access to the same page (the list's length if none). */
function nextUses(accesses: readonly number[]): Float64Array {
  const next = new Float64Array(accesses.length);
  const seen = new Map<number, number>();
  for (let i = accesses.length - 1; i >= 0; i--) {
    const page = accesses[i]!;
    next[i] = seen.get(page) ?? accesses.length;
    seen.set(page, i);
  }
  return next;
}

/**
 * Run a reference string through a page cache of `cacheSize` pages, as `paging-policy.py -c`
 * does: `simulatePagingPolicy([0, 1, 2, 0], { policy: 'LRU', cacheSize: 3 })`. RangeError for
 * RAND and CLOCK (Python's random number generator, not reproduced) and any other policy, a
 * cacheSize that is not a positive integer, or a page that is not an integer 0..2^41-1.
 */
export function simulatePagingPolicy(
  accesses: readonly number[],
  options: PagingPolicyOptions,
): PagingPolicyResult {
  const policy = checkPolicy(options.policy);
  const cacheSize = checkCacheSize(options.cacheSize);
  const { clockBits } = options;
  if (clockBits !== undefined && !Number.isInteger(clockBits)) {
    throw new RangeError(`paging policy: clockBits ${String(clockBits)}, expected an integer`);
  }
  checkPages(accesses);

  const future =
    policy === 'OPT' || policy === 'UNOPT'
      ? new FutureDistancePolicy(cacheSize, policy === 'OPT')
      : undefined;
  const tlb = createTlb({
    name: `paging-policy-${policy}`,
    entries: cacheSize,
    ways: cacheSize,
    pageShift: PAGE_SHIFT,
    policy: future ? definePolicy(() => future) : policy === 'LRU' ? 'lru' : 'fifo',
  });
  // LruPolicy, FifoPolicy and FutureDistancePolicy all stamp their entries: oldest = leftmost.
  const { stamp } = tlb.policy(0) as unknown as { stamp: Float64Array };
  const next = future ? nextUses(accesses) : undefined;
  const slots: number[] = [];

  const out: PagingPolicyAccess[] = [];
  for (let i = 0; i < accesses.length; i++) {
    const page = accesses[i]!;
    const va = page * PAGE_SIZE;
    let slot = tlb.lookup(va, 0);
    const hit = slot >= 0;
    let victim = -1;
    if (!hit) {
      slot = tlb.insert(va, 0, va, PAGE_SHIFT, 0, false);
      if (tlb.lastEvictedValid) victim = tlb.lastEvictedVpn;
    }
    if (future && next) future.nextUse[slot] = next[i]!;
    slots.length = 0;
    for (let s = 0; s < cacheSize; s++) if (tlb.isValid(s)) slots.push(s);
    slots.sort((a, b) => stamp[a]! - stamp[b]!);
    out.push({
      page,
      hit,
      victim,
      resident: slots.map((s) => tlb.entryVa(s) / PAGE_SIZE),
      hits: tlb.stats.hits,
      misses: tlb.stats.misses,
    });
  }
  const { hits, misses } = tlb.stats;
  return { accesses: out, hits, misses, hitRate: hits + misses === 0 ? 0 : hits / (hits + misses) };
}

/**
 * Python's '%.2f' of a double: the exact decimal value rounded half to even. toFixed() rounds
 * exact ties up; a double is exactly halfway between two hundredths only when it is an odd
 * multiple of 1/8 (x.125, x.375, x.625, x.875).
 */
function pythonFixed2(x: number): string {
  const eighths = x * 8;
  if (!(Number.isInteger(eighths) && eighths % 2 === 1)) return x.toFixed(2);
  let cents = Math.floor(x * 100); // exact: x * 100 = 12.5 * eighths
  if (cents % 2 === 1) cents++;
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/**
 * What `paging-policy.py -c -p POLICY` prints from its first `Access:` line to its end: one
 * line per access, a blank line, the FINALSTATS line, a blank line. RangeError for a result
 * without accesses (the script divides by zero there) or an unsupported policy.
 */
export function formatPagingPolicy(result: PagingPolicyResult, policy: PagingPolicyName): string {
  const [left, right] = LABELS[checkPolicy(policy)];
  const { hits, misses } = result;
  if (hits + misses === 0) {
    throw new RangeError(
      'formatPagingPolicy: no accesses (paging-policy.py fails with ZeroDivisionError computing the hit rate)',
    );
  }
  let text = '';
  for (const a of result.accesses) {
    const memory = `[${a.resident.join(', ')}]`.padStart(12);
    const replaced = a.victim < 0 ? '-' : String(a.victim);
    text += `Access: ${a.page}  ${a.hit ? 'HIT ' : 'MISS'} ${left} -> ${memory} <- ${right} Replaced:${replaced} [Hits:${a.hits} Misses:${a.misses}]\n`;
  }
  const rate = pythonFixed2((100 * hits) / (hits + misses));
  return `${text}\nFINALSTATS hits ${hits}   misses ${misses}   hitrate ${rate}\n\n`;
}

const ACCESS_SOLVED =
  /^Access: (\d+) {2}(MISS|HIT ) \S+ +-> +\[([\d, ]*)\] <- \S+ +Replaced:(-|\d+) \[Hits:(\d+) Misses:(\d+)\]$/;
const ACCESS_PROBLEM = /^Access: (\d+) {2}Hit\/Miss\? {2}State of Memory\?$/;
const FINALSTATS = /^FINALSTATS hits (\d+) {3}misses (\d+) {3}hitrate (\d+\.\d+)$/;

/**
 * Read paging-policy.py's output: the ARG lines (policy, cachesize, clockbits), the pages of
 * the Access lines and, from `-c` output, each access's answer and the FINALSTATS counts.
 * SyntaxError (with the line number) for a missing ARG line or an Access line it cannot read.
 * Replay (for a policy this module supports): with `policy = o.policy as PagingPolicyName`,
 * `formatPagingPolicy(simulatePagingPolicy(o.accesses, { policy, cacheSize: o.cacheSize }), policy)`
 * equals `o.solution`.
 */
export function parsePagingPolicyOutput(text: string): PagingPolicyOutput {
  const args = new Map<string, string>();
  const accesses: number[] = [];
  const expected: PagingPolicyAccess[] = [];
  let final: PagingPolicyOutput['final'] = null;
  let solutionStart = -1;
  let start = 0;
  let lineNo = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).replace(/\r$/, '');
    const lineStart = start;
    start = end + 1;
    lineNo++;
    if (line.startsWith('ARG ')) {
      const space = line.indexOf(' ', 4);
      args.set(
        line.slice(4, space < 0 ? undefined : space),
        space < 0 ? '' : line.slice(space + 1),
      );
    } else if (line.startsWith('Access:')) {
      const problem = ACCESS_PROBLEM.exec(line);
      if (problem) {
        accesses.push(Number(problem[1]));
        continue;
      }
      const m = ACCESS_SOLVED.exec(line);
      if (!m) throw new SyntaxError(`paging-policy output line ${lineNo}: cannot parse '${line}'`);
      if (solutionStart < 0) solutionStart = lineStart;
      const page = Number(m[1]);
      accesses.push(page);
      expected.push({
        page,
        hit: m[2] === 'HIT ',
        victim: m[4] === '-' ? -1 : Number(m[4]),
        resident: m[3] === '' ? [] : m[3]!.split(', ').map(Number),
        hits: Number(m[5]),
        misses: Number(m[6]),
      });
    } else if (line.startsWith('FINALSTATS')) {
      const f = FINALSTATS.exec(line);
      if (!f) throw new SyntaxError(`paging-policy output line ${lineNo}: cannot parse '${line}'`);
      final = { hits: Number(f[1]), misses: Number(f[2]), hitRatePercent: Number(f[3]) };
    }
  }
  const arg = (name: string): string => {
    const value = args.get(name);
    if (value === undefined) throw new SyntaxError(`paging-policy output: no 'ARG ${name}' line`);
    return value;
  };
  const cacheSize = Number(arg('cachesize'));
  const clockBits = Number(arg('clockbits'));
  if (!Number.isInteger(cacheSize) || !Number.isInteger(clockBits)) {
    throw new SyntaxError(
      `paging-policy output: ARG cachesize '${arg('cachesize')}' / clockbits '${arg('clockbits')}' are not integers`,
    );
  }
  return {
    policy: arg('policy'),
    cacheSize,
    clockBits,
    accesses,
    expected,
    final,
    solution: solutionStart < 0 ? '' : text.slice(solutionStart),
  };
}
