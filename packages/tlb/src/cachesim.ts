/**
 * simulateCacheTrace — CS:APP's cache lab `csim`, on the TLB model.
 *
 * A cache of 2^s sets x E lines of 2^b-byte blocks is a TLB of E * 2^s entries, E ways and
 * page shift b: the block number (addr >> b) is the VPN, its low s bits the set, the rest the
 * tag, one ASID. The lab's reference simulator (csim-ref, CS:APP 3e cache lab, Part A) uses
 * LRU and write-allocate, so a load, a store and each half of a modify are all the same
 * access: a lookup, and on a miss a fill (an eviction if the set was full).
 *
 * Trace format (valgrind --tool=lackey --trace-mem=yes): `I addr,size` in column 0 is an
 * instruction fetch and is ignored; ` L addr,size` a load, ` S addr,size` a store, ` M
 * addr,size` a load then a store to the same address. Addresses are hex without 0x; the size
 * is ignored (no access crosses a block). With `verbose`, each data line is echoed as csim -v
 * prints it, followed by ` miss`, ` hit`, ` eviction` for each event, and the summary line is
 * csim's printSummary(): `hits:H misses:M evictions:E`.
 *
 * Isomorphic: it takes the trace's text; reading a file (or gunzipping long.trace) is the
 * caller's business.
 */
import type { PolicyFactory, PolicyName } from './api.js';
import { SetAssocTlb } from './tlb.js';

/** csim's command-line geometry: -s, -E, -b; plus the policy, for experiments. */
export interface CacheSimOptions {
  /** Set index bits: 2^s sets. */
  s: number;
  /** Lines per set (associativity). */
  E: number;
  /** Block bits: 2^b-byte blocks (0..30). */
  b: number;
  /** Echo each access as csim -v does. @defaultValue false */
  verbose?: boolean;
  /** Replacement policy; csim-ref uses LRU. @defaultValue 'lru' */
  policy?: PolicyName | PolicyFactory;
  /** @defaultValue 0 */
  seed?: number;
}

export interface CacheSimResult {
  hits: number;
  misses: number;
  evictions: number;
  /** With `verbose`: one line per data access line, then the summary line. */
  verbose?: string[];
}

/** A csim-style cache on the TLB model: `access(addr)` returns what happened. */
export class CacheSim {
  readonly tlb: SetAssocTlb;
  private readonly b: number;

  constructor(options: CacheSimOptions) {
    const { s, E, b } = options;
    if (!Number.isInteger(s) || s < 0 || s > 24) {
      throw new RangeError(`cache: s = ${String(s)}, expected an integer 0..24`);
    }
    this.b = b;
    this.tlb = new SetAssocTlb({
      name: `cache-s${s}-E${E}-b${b}`,
      entries: E * 2 ** s,
      ways: E,
      pageShift: b,
      policy: options.policy ?? 'lru',
      seed: options.seed ?? 0,
    });
  }

  /** One access: 0 = hit, 1 = miss, 2 = miss with eviction. */
  access(addr: number): 0 | 1 | 2 {
    const tlb = this.tlb;
    if (tlb.lookup(addr, 0) >= 0) return 0;
    tlb.insert(addr, 0, 0, this.b, 0, false);
    return tlb.lastEvictedValid ? 2 : 1;
  }

  get hits(): number {
    return this.tlb.stats.hits;
  }

  get misses(): number {
    return this.tlb.stats.misses;
  }

  get evictions(): number {
    return this.tlb.stats.evictions;
  }
}

const EVENT = [' hit', ' miss', ' miss eviction'] as const;

/**
 * Run a valgrind/lackey trace through a 2^s x E x 2^b LRU cache, as csim does:
 * `simulateCacheTrace(text, { s: 4, E: 1, b: 4 })` → `{ hits, misses, evictions }`.
 */
export function simulateCacheTrace(text: string, options: CacheSimOptions): CacheSimResult {
  const cache = new CacheSim(options);
  const out: string[] | undefined = options.verbose ? [] : undefined;
  let start = 0;
  let lineNo = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    lineNo++;
    if (line.length === 0 || line[0] === 'I') continue;
    const body = line.trim();
    if (body.length === 0) continue;
    const op = body[0];
    const comma = body.indexOf(',');
    const addr = Number.parseInt(body.slice(2, comma < 0 ? undefined : comma), 16);
    if ((op !== 'L' && op !== 'S' && op !== 'M') || body[1] !== ' ' || Number.isNaN(addr)) {
      throw new SyntaxError(`trace line ${lineNo}: cannot parse '${line}'`);
    }
    const first = cache.access(addr);
    const second: number = op === 'M' ? cache.access(addr) : -1;
    if (out) {
      const size = comma < 0 ? '' : `,${Number.parseInt(body.slice(comma + 1), 10)}`;
      let echo = `${op} ${addr.toString(16)}${size}${EVENT[first]}`;
      if (second >= 0) echo += EVENT[second]!;
      out.push(echo);
    }
  }
  const result: CacheSimResult = {
    hits: cache.hits,
    misses: cache.misses,
    evictions: cache.evictions,
  };
  if (out) {
    out.push(`hits:${result.hits} misses:${result.misses} evictions:${result.evictions}`);
    result.verbose = out;
  }
  return result;
}
