/**
 * The Tlb conformance suite (src/conformance.ts) run for every TLB this package builds —
 * createTlb() in several geometries and with each replacement policy, a hierarchy and its
 * instruction path — and for a small TLB written here the way a user would write one. Then
 * the same small TLB with one bug at a time: the suite must fail it, in the case that covers
 * the bug, with a message that names what went wrong.
 */
import type { Tlb, TlbStats, VirtAddr } from '@mmsim/core';
import { describe, expect, it } from 'vitest';
import {
  runTlbConformance,
  type TlbConformanceOptions,
  tlbConformance,
} from '../src/conformance.js';
import {
  createTlb,
  createTlbHierarchy,
  POLICIES,
  type PolicyName,
  type TlbHierarchyOptions,
  type TlbOptions,
} from '../src/index.js';

const registrar = { describe, it };

// ---- createTlb(): geometries and policies

const policies = Object.keys(POLICIES) as PolicyName[];

for (const policy of policies) {
  const lru = policy === 'lru';
  runTlbConformance(
    () => createTlb({ name: `fully associative 16, ${policy}`, entries: 16, policy }),
    registrar,
    {
      entries: 16,
      fullyAssociative: true,
      lru,
    },
  );
  runTlbConformance(
    () => createTlb({ name: `64 entries 4-way, ${policy}`, entries: 64, ways: 4, policy }),
    registrar,
    {
      entries: 64,
      lru,
    },
  );
}

const geometries: [TlbOptions, TlbConformanceOptions][] = [
  [{}, { entries: 64, fullyAssociative: true, lru: true }], // the default: 64 entries, LRU
  [
    { name: 'direct-mapped 16', entries: 16, ways: 1 },
    { entries: 16, lru: true },
  ],
  [
    {
      name: 'split 4K/2M/1G (Skylake L1 dTLB), plru',
      policy: 'plru',
      arrays: [
        { entries: 64, ways: 4, pageShift: 12 },
        { entries: 32, ways: 4, pageShift: 21 },
        { entries: 4, ways: 4, pageShift: 30 },
      ],
    },
    { pageShifts: [12, 21, 30], entries: 64 },
  ],
  [
    {
      name: 'split 4K/2M/1G, lru',
      arrays: [
        { entries: 16, ways: 4, pageShift: 12 },
        { entries: 8, pageShift: 21 },
        { entries: 4, pageShift: 30 },
      ],
    },
    { pageShifts: [12, 21, 30], entries: 16, lru: true },
  ],
  [
    { name: 'unified 4K+2M 32 entries 4-way', entries: 32, ways: 4, pageShifts: [12, 21] },
    { pageShifts: [12, 21], entries: 32, lru: true },
  ],
  [
    { name: '2M only, fifo', entries: 8, pageShift: 21, policy: 'fifo' },
    { pageShifts: [21], entries: 8, fullyAssociative: true },
  ],
];
for (const [tlbOptions, options] of geometries)
  runTlbConformance(() => createTlb(tlbOptions), registrar, options);

// ---- hierarchies: the data path (the hierarchy itself) and the instruction path

const SMALL: TlbHierarchyOptions = {
  name: 'L1 16 4-way + L2 64 8-way',
  l1d: { entries: 16, ways: 4 },
  l1i: { entries: 16, ways: 4 },
  l2: { entries: 64, ways: 8 },
};
// Non-inclusive levels replace on their own: up to 16 + 64 distinct pages; inclusive: 64.
runTlbConformance(() => createTlbHierarchy(SMALL), registrar, { entries: 80 });
runTlbConformance(() => createTlbHierarchy(SMALL).instruction, registrar, { entries: 80 });
const INCLUSIVE = { ...SMALL, name: 'inclusive L1 16 + L2 64', inclusive: true };
runTlbConformance(() => createTlbHierarchy(INCLUSIVE), registrar, { entries: 64 });
runTlbConformance(() => createTlbHierarchy(INCLUSIVE).instruction, registrar, { entries: 64 });
// Skylake-like: dTLB 4K/2M/1G, iTLB 4K/2M (a 1 GiB page is splintered), STLB 1536 4K+2M.
runTlbConformance(() => createTlbHierarchy(), registrar, {
  pageShifts: [12, 21, 30],
  entries: 64 + 1536,
});
runTlbConformance(() => createTlbHierarchy().instruction, registrar, {
  pageShifts: [12, 21],
  entries: 128 + 1536,
});

// ---- a TLB of one's own, and the same with bugs

type Bug =
  | 'flushPage ignores global entries'
  | 'lookup ignores the ASID'
  | 'flushRange drops the page at end'
  | 'insert keeps duplicates'
  | 'flushRange is not counted'
  | 'FIFO replacement'
  | 'translate drops the offset';

/**
 * A fully associative LRU TLB of `n` 4 KiB entries, as short as a user might write one:
 * a linear search per lookup, a timestamp per entry. Larger pages are cached as their 4 KiB
 * fragment; smaller ones are refused.
 */
class ListTlb implements Tlb {
  readonly name: string;
  readonly stats: TlbStats = { hits: 0, misses: 0, evictions: 0, flushes: 0 };
  lastSlot = -1;
  private readonly vpn: Float64Array;
  private readonly asid: Int32Array;
  private readonly global: Uint8Array;
  private readonly pa: Float64Array;
  private readonly flags: Float64Array;
  private readonly stamp: Float64Array;
  private clock = 0;

  constructor(
    readonly n: number,
    readonly bug: Bug | null = null,
  ) {
    this.name = bug ? `list TLB, bug: ${bug}` : 'list TLB';
    this.vpn = new Float64Array(n).fill(-1);
    this.asid = new Int32Array(n);
    this.global = new Uint8Array(n);
    this.pa = new Float64Array(n);
    this.flags = new Float64Array(n);
    this.stamp = new Float64Array(n);
  }

  private sees(i: number, asid: number): boolean {
    return this.bug === 'lookup ignores the ASID' || this.global[i] === 1 || this.asid[i] === asid;
  }

  lookup(va: VirtAddr, asid: number): number {
    const vpn = Math.floor(va / 4096);
    for (let i = 0; i < this.n; i++) {
      if (this.vpn[i] === vpn && this.sees(i, asid)) {
        this.stats.hits++;
        if (this.bug !== 'FIFO replacement') this.stamp[i] = ++this.clock;
        return i;
      }
    }
    this.stats.misses++;
    return -1;
  }

  translate(va: VirtAddr, asid: number, need: number): number {
    const i = this.lookup(va, asid);
    if (i < 0) return -1;
    if ((this.flags[i]! & need) !== need) {
      this.lastSlot = i;
      return -2;
    }
    return this.pa[i]! + (this.bug === 'translate drops the offset' ? 0 : va % 4096);
  }

  insert(
    va: VirtAddr,
    asid: number,
    pa: number,
    pageShift: number,
    flags: number,
    global: boolean,
  ): number {
    if (pageShift < 12) throw new RangeError(`list TLB: cannot cache a page of shift ${pageShift}`);
    if (pageShift > 12) pa += Math.floor((va % 2 ** pageShift) / 4096) * 4096; // splinter
    const vpn = Math.floor(va / 4096);
    let slot = -1;
    for (let i = 0; i < this.n && this.bug !== 'insert keeps duplicates'; i++) {
      if (this.vpn[i] === vpn && (global || this.global[i] === 1 || this.asid[i] === asid)) {
        if (slot < 0) slot = i;
        else this.vpn[i] = -1;
      }
    }
    if (slot < 0) slot = this.vpn.indexOf(-1);
    if (slot < 0) {
      slot = 0;
      for (let i = 1; i < this.n; i++) if (this.stamp[i]! < this.stamp[slot]!) slot = i;
      this.stats.evictions++;
    }
    this.vpn[slot] = vpn;
    this.asid[slot] = asid;
    this.global[slot] = global ? 1 : 0;
    this.pa[slot] = pa;
    this.flags[slot] = flags;
    this.stamp[slot] = ++this.clock;
    return slot;
  }

  entryPa(slot: number): number {
    return this.pa[slot]!;
  }
  entryFlags(slot: number): number {
    return this.flags[slot]!;
  }
  setEntryFlags(slot: number, flags: number): void {
    this.flags[slot] = flags;
  }
  entryPageShift(): number {
    return 12;
  }

  private drop(keep: (i: number) => boolean): void {
    for (let i = 0; i < this.n; i++) if (!keep(i)) this.vpn[i] = -1;
  }
  flushAll(): void {
    this.stats.flushes++;
    this.drop(() => false);
  }
  flushNonGlobal(): void {
    this.stats.flushes++;
    this.drop((i) => this.global[i] === 1);
  }
  flushAsid(asid: number): void {
    this.stats.flushes++;
    this.drop((i) => this.global[i] === 1 || this.asid[i] !== asid);
  }
  flushPage(va: VirtAddr, asid: number): void {
    this.stats.flushes++;
    const vpn = Math.floor(va / 4096);
    const global = this.bug !== 'flushPage ignores global entries';
    this.drop(
      (i) => this.vpn[i] !== vpn || !((global && this.global[i] === 1) || this.asid[i] === asid),
    );
  }
  flushRange(start: VirtAddr, end: VirtAddr, asid: number): void {
    if (this.bug !== 'flushRange is not counted') this.stats.flushes++;
    if (end <= start) return;
    const lo = Math.floor(start / 4096);
    const hi =
      this.bug === 'flushRange drops the page at end'
        ? Math.floor(end / 4096)
        : Math.floor((end - 1) / 4096);
    this.drop(
      (i) =>
        this.vpn[i]! < lo || this.vpn[i]! > hi || !(this.global[i] === 1 || this.asid[i] === asid),
    );
  }
  resetStats(): void {
    this.stats.hits = this.stats.misses = this.stats.evictions = this.stats.flushes = 0;
  }
}

const LIST: TlbConformanceOptions = { entries: 16, fullyAssociative: true, lru: true };
runTlbConformance(() => new ListTlb(16), registrar, LIST);

/** The cases that fail for a TLB, with their messages. */
function failures(factory: () => Tlb, options: TlbConformanceOptions): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of tlbConformance(factory, options)) {
    try {
      c.run();
    } catch (e) {
      out.set(c.name, e instanceof Error ? e.message : String(e));
    }
  }
  return out;
}

describe('the suite fails a broken TLB, in the case that covers the bug', () => {
  const caught: [Bug, string, RegExp][] = [
    [
      'flushPage ignores global entries',
      'flushPage drops the page for its ASID and global entries (INVLPG), nothing else',
      /^\[list TLB, bug: flushPage ignores global entries\] flushPage\(0x888000005fff, 2\) of a global page from another ASID left a global kernel page, inserted from ASID 1: translate\(0x888000005d23, 1, 0\) = 0x[0-9a-f]+, expected -1$/,
    ],
    [
      'lookup ignores the ASID',
      'an entry of one ASID is not seen from another; a global entry is seen from every ASID',
      /a page of ASID 1 looked up from ASID 0: lookup\(0x7f000001e009, 0\) = 0, an entry for 0x100001000, expected -1 \(a miss\)$/,
    ],
    [
      'flushRange drops the page at end',
      'flushRange drops every page overlapping [start, end) for its ASID and global ones, nothing else',
      /flushRange\(0x7f0000066000, 0x7f0000069000, 1\) \(page-aligned: the end page is outside\) dropped page 5 of ASID 1, which it must keep: translate\(0x7f0000069d23, 1, 0\) = -1, expected 0x100069d23$/,
    ],
    [
      'insert keeps duplicates',
      're-inserting a cached page replaces it in place: no eviction, the new translation answers',
      /evictions after inserting one page 34 times: expected 0, got 18$/,
    ],
    [
      'flushRange is not counted',
      'each flush call counts one flush and nothing else; resetStats zeroes every counter',
      /stats after flushRange \(flush call 2\): flushes 1 \(expected 2\)$/,
    ],
    [
      'FIFO replacement',
      'LRU: a full TLB evicts the least recently used page, lookup() and translate() counting as uses',
      /page 2, the least recently used: lookup\(0x7f0000bba000, 1\) = \d+, an entry for 0x100002000, expected -1 \(a miss\)$/,
    ],
    [
      'translate drops the offset',
      'translate() returns pa + offset, -1 on a miss, -2 with lastSlot when a needed flag is missing, counting like lookup()',
      /translate\(0x7f000000c021, 4, 0b0001\): expected 0x100028021, got 0x100028000$/,
    ],
  ];
  for (const [bug, caseName, message] of caught) {
    it(`catches a TLB whose ${bug}`, () => {
      const failed = failures(() => new ListTlb(16, bug), LIST);
      expect([...failed.keys()]).toContain(caseName);
      expect(failed.get(caseName)).toMatch(message);
    });
  }

  it('passes the same TLB without its bugs, and fails one that breaks it in every case it covers', () => {
    expect(failures(() => new ListTlb(16), LIST)).toEqual(new Map());
    // Ignoring the ASID breaks more than the ASID case: every case that keeps two address
    // spaces apart reports it.
    const failed = failures(() => new ListTlb(16, 'lookup ignores the ASID'), LIST);
    expect(failed.size).toBeGreaterThanOrEqual(4);
    expect([...failed.keys()]).toContain(
      'random inserts, lookups and flushes: a hit always answers the latest translation of (va, ASID)',
    );
  });

  it("catches a hierarchy whose setEntryFlags leaves the L2's copy stale", () => {
    const stale = () => {
      const h = createTlbHierarchy(SMALL);
      (h.levels as unknown as { propagateFlags(): void }).propagateFlags = () => {};
      return h;
    };
    const failed = failures(stale, { entries: 80 });
    expect([...failed.keys()]).toEqual([
      'setEntryFlags changes the flags in place, and a later hit on the page reports them',
      'random inserts, lookups and flushes: a hit always answers the latest translation of (va, ASID)',
    ]);
    expect(failed.get([...failed.keys()][0]!)).toBe(
      '[L1 16 4-way + L2 64 8-way] the page after 32 other fills: entryFlags(1): expected 0x111, got 0x11',
    );
  });

  it('rejects options it cannot honour', () => {
    const f = () => new ListTlb(16);
    expect(() => tlbConformance(f, { fullyAssociative: true })).toThrow(
      new TypeError('tlbConformance: fullyAssociative needs entries'),
    );
    expect(() => tlbConformance(f, { entries: 0 })).toThrow(
      new RangeError('tlbConformance: entries 0, expected a positive integer'),
    );
    expect(() => tlbConformance(f, { pageShifts: [12, 31] })).toThrow(
      new RangeError('tlbConformance: page shift 31, expected an integer 0..30'),
    );
  });
});
