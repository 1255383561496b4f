/**
 * The conformance suite of the `Tlb` interface (packages/core/src/api.ts): what every TLB must
 * do for the MMU (@mmsim/mmu) that drives it, checked with exact values, so that a
 * set-associative TLB of any geometry and policy, a hierarchy (both of its paths) and a
 * user's own implementation can be swapped under the MMU.
 *
 *   import { runTlbConformance } from '@mmsim/tlb/conformance';
 *   runTlbConformance(() => createMyTlb(), { describe, it }, { entries: 64, pageShifts: [12, 21] });
 *
 * The suite is framework-agnostic: `tlbConformance()` returns named cases whose `run()` throws
 * a plain `Error` describing the first violation; `runTlbConformance()` registers them with
 * any describe/it pair (vitest, jest, mocha, node:test). Each case calls `factory()` for a
 * fresh TLB (several times where a step needs an empty one).
 *
 * What is required, for every TLB:
 *   - lookup()/translate() answer -1 on a miss and count it; an insert() is answered by the
 *     slot it returned, with the physical address, flags and page size it was given, for
 *     every byte of the page; translate() adds the offset, answers -2 with `lastSlot` when a
 *     needed flag is missing, and counts exactly as lookup() does; setEntryFlags() changes
 *     the flags in place;
 *   - an entry is seen from its own ASID only, a global entry from every ASID;
 *   - the flushes drop exactly what the interface says (flushPage and flushRange drop global
 *     entries too: INVLPG, and kapi flushes kernel ranges with ASID 0), each call counts one
 *     flush, resetStats() zeroes the counters;
 *   - a translation is never cached twice: an insert() replaces the entry that already
 *     answers the same page in the same address space (a global one answers them all), and a
 *     hit never returns a flushed, replaced or foreign translation (a seeded random run
 *     against a model of the latest translation of each page).
 *
 * What a TLB must state (options), so that only what applies is checked:
 *   - `pageShifts`: the page sizes it caches as such. Other sizes may be splintered (cached as
 *     a fragment of a smaller size, as SDM vol. 3A §4.10.2.3 allows) or refused with a
 *     RangeError — the interface does not say which, so either passes, but never a wrong
 *     translation;
 *   - `entries`: its capacity in pages of the smallest size; then at most that many pages
 *     hit after more were inserted;
 *   - `fullyAssociative`: any `entries` pages are held together and a fill with room evicts
 *     nothing; then the counts are exact, and the flush cases require every page they
 *     inserted to be held before the flush;
 *   - `lru`: exact LRU replacement; then the victim must be the least recently used entry.
 *
 * Without `fullyAssociative` the suite does not know which pages the TLB keeps (a
 * direct-mapped TLB keeps one page of two that share a set): a flush case then checks the
 * pages it inserted that still hit before the flush, and requires that the page inserted
 * last is among them.
 *
 * Addresses are numbers as everywhere in mmsim: user pages at 0x7f0000000000, kernel ones in
 * the direct map (0xffff888000000000 stored as its low 48 bits, 0x888000000000), ASIDs
 * 0..65535 as the MMU allows. Flags stay below 2^16: the interface calls them opaque and
 * gives no width; the MMU's (TLBF_* of @mmsim/mmu) use bits 0..14.
 */
import {
  type ConformanceCase,
  ConformanceChecks,
  Prng,
  registerConformance,
  type TestRegistrar,
  type Tlb,
  type TlbStats,
  type VirtAddr,
} from '@mmsim/core';

export type { ConformanceCase, TestRegistrar };

/** Options of tlbConformance(): what the TLB under test models. */
export interface TlbConformanceOptions {
  /** A label put in front of every failure message. @defaultValue the TLB's `name` */
  name?: string;
  /**
   * The page shifts (log2 of the page size, 0..30) the TLB caches as entries of that size:
   * 12 = 4 KiB, 21 = 2 MiB, 30 = 1 GiB. For a hierarchy, those of the L1 of the path tested.
   * @defaultValue [12]
   */
  pageShifts?: readonly number[];
  /**
   * The most translations of the smallest page size the TLB holds at once (for a hierarchy
   * whose levels replace on their own, the sum of the levels). The capacity cases run only
   * when it is given.
   * @defaultValue undefined (capacity not checked)
   */
  entries?: number;
  /**
   * One fully associative array: any `entries` pages are held together, and a fill into a
   * TLB with room replaces nothing. Requires `entries`.
   * @defaultValue false
   */
  fullyAssociative?: boolean;
  /**
   * Exact LRU replacement within a set, the set chosen from the virtual address alone (the
   * same page in several ASIDs shares a set): the eviction order is then checked.
   * @defaultValue false
   */
  lru?: boolean;
}

type Factory = () => Tlb;

/** The options after validation. */
interface Geometry {
  shifts: readonly number[];
  /** The smallest page shift: the pages most cases use. */
  base: number;
  entries: number | undefined;
  fullyAssociative: boolean;
  lru: boolean;
}

function resolveOptions(options: TlbConformanceOptions): Geometry {
  const shifts = [...new Set(options.pageShifts ?? [12])].sort((a, b) => a - b);
  if (shifts.length === 0) throw new RangeError('tlbConformance: pageShifts is empty');
  for (const s of shifts) {
    if (!Number.isInteger(s) || s < 0 || s > 30) {
      throw new RangeError(`tlbConformance: page shift ${String(s)}, expected an integer 0..30`);
    }
  }
  const entries = options.entries;
  if (entries !== undefined && (!Number.isInteger(entries) || entries < 1)) {
    throw new RangeError(`tlbConformance: entries ${String(entries)}, expected a positive integer`);
  }
  const fullyAssociative = options.fullyAssociative ?? false;
  if (fullyAssociative && entries === undefined) {
    throw new TypeError('tlbConformance: fullyAssociative needs entries');
  }
  return { shifts, base: shifts[0]!, entries, fullyAssociative, lru: options.lru ?? false };
}

// ---------------------------------------------------------------- addresses

/** A user-space address, 1 GiB-aligned (x86-64 4-level: the lower half of 48 bits). */
const USER = 0x7f00_0000_0000;
/** The direct map: PAGE_OFFSET 0xffff888000000000 stored as its low 48 bits. */
const KERNEL = 0x8880_0000_0000;
/** Physical bases are this plus multiples of 1 GiB, so aligned for every page size. */
const PA = 0x1_0000_0000;
const GiB = 2 ** 30;

/** Addresses in hex; -1 (a miss) and -2 (a missing flag) as they are. */
const hex = (n: number): string => (n < 0 ? String(n) : `0x${n.toString(16)}`);
const size = (shift: number): number => 2 ** shift;
const sizeName = (shift: number): string =>
  shift >= 30
    ? `${2 ** (shift - 30)} GiB`
    : shift >= 20
      ? `${2 ** (shift - 20)} MiB`
      : shift >= 10
        ? `${2 ** (shift - 10)} KiB`
        : `${2 ** shift} B`;
/** An offset inside a page of 2^shift bytes that is not aligned to anything smaller. */
const oddOffset = (shift: number): number =>
  shift >= 12 ? size(shift) - size(shift - 2) + 0x123 : size(shift) - 1;

/** A translation a flush case inserts, and whether the flush must drop it. */
interface Probe {
  label: string;
  /** The page's virtual base address. */
  page: number;
  shift: number;
  asid: number;
  pa: number;
  global: boolean;
  /** The address looked up (inside the page, not aligned). */
  va: number;
  dropped: boolean;
}

// ---------------------------------------------------------------- assertions

/** The state a case works on: a factory, the TLB of the current step, the geometry. */
class Harness extends ConformanceChecks {
  t: Tlb;

  constructor(
    label: string,
    private readonly factory: Factory,
    readonly g: Geometry,
  ) {
    super(label);
    this.t = this.make();
  }

  protected override format(v: unknown): string {
    // Addresses in hex, slots and counts in decimal; strings (flags in hex) as they are.
    return typeof v === 'number' && Number.isInteger(v) && v >= 0x10000 ? hex(v) : String(v);
  }

  private make(): Tlb {
    const t = this.factory();
    if (t === null || typeof t !== 'object' || typeof t.lookup !== 'function') {
      this.fail(`factory() returned ${String(t)}, not a Tlb`);
    }
    return t;
  }

  /** A fresh, empty TLB for the next step of a case. */
  renew(): Tlb {
    this.t = this.make();
    return this.t;
  }

  /** A user page of the smallest size, by index. */
  page(i: number, shift = this.g.base): number {
    return USER + i * size(shift);
  }

  insert(
    va: VirtAddr,
    asid: number,
    pa: number,
    shift: number,
    flags: number,
    global: boolean,
  ): number {
    const slot = this.t.insert(va, asid, pa, shift, flags, global);
    if (!Number.isInteger(slot) || slot < 0) {
      this.fail(
        `insert(${hex(va)}, ${asid}, ${hex(pa)}, ${shift}, ${flags}, ${global}) returned ${slot}, expected a slot (an integer >= 0)`,
      );
    }
    return slot;
  }

  /** lookup() that must hit; returns the slot. */
  hit(va: VirtAddr, asid: number, what: string): number {
    const slot = this.t.lookup(va, asid);
    if (!Number.isInteger(slot) || slot < 0) {
      this.fail(`${what}: lookup(${hex(va)}, ${asid}) = ${slot}, expected a hit`);
    }
    return slot;
  }

  /** lookup() that must miss. */
  miss(va: VirtAddr, asid: number, what: string): void {
    const slot = this.t.lookup(va, asid);
    if (slot !== -1) {
      const pa =
        Number.isInteger(slot) && slot >= 0 ? `, an entry for ${hex(this.t.entryPa(slot))}` : '';
      this.fail(`${what}: lookup(${hex(va)}, ${asid}) = ${slot}${pa}, expected -1 (a miss)`);
    }
  }

  /** translate(va, asid, 0) must give `pa` (-1: must miss). */
  translates(va: VirtAddr, asid: number, pa: number, what: string): void {
    const r = this.t.translate(va, asid, 0);
    if (r !== pa) {
      this.fail(
        `${what}: translate(${hex(va)}, ${asid}, 0) = ${hex(r)}, expected ${pa === -1 ? '-1 (a miss)' : hex(pa)}`,
      );
    }
  }

  /** The entry in `slot` must be (pa, flags, shift). */
  entry(slot: number, pa: number, flags: number, shift: number, what: string): void {
    this.eq(this.t.entryPa(slot), pa, `${what}: entryPa(${slot})`);
    const f = this.t.entryFlags(slot);
    this.eq(typeof f === 'number' ? hex(f) : f, hex(flags), `${what}: entryFlags(${slot})`);
    this.eq(this.t.entryPageShift(slot), shift, `${what}: entryPageShift(${slot})`);
  }

  /** The counters must be exactly these. */
  stats(expected: TlbStats, what: string): void {
    const st = this.t.stats;
    const wrong: string[] = [];
    for (const k of ['hits', 'misses', 'evictions', 'flushes'] as const) {
      if (st[k] !== expected[k]) wrong.push(`${k} ${String(st[k])} (expected ${expected[k]})`);
    }
    if (wrong.length > 0) this.fail(`stats ${what}: ${wrong.join(', ')}`);
  }

  snapshotStats(): TlbStats {
    const { hits, misses, evictions, flushes } = this.t.stats;
    return { hits, misses, evictions, flushes };
  }

  // ---- flush cases

  probe(
    label: string,
    page: number,
    asid: number,
    opts: { shift?: number; global?: boolean; dropped: boolean; pa?: number },
  ): Probe {
    const shift = opts.shift ?? this.g.base;
    return {
      label,
      page,
      shift,
      asid,
      pa: opts.pa ?? PA + ((page / size(shift)) % 4096) * size(shift),
      global: opts.global ?? false,
      va: page + oddOffset(shift),
      dropped: opts.dropped,
    };
  }

  /**
   * On a fresh TLB: insert the probes in order, run `flush`, and check that exactly the
   * probes marked `dropped` are gone. A probe is checked when it hit before the flush; with
   * `fullyAssociative` every probe must, and always the one inserted last and at least one
   * probe of each kind (dropped, kept) when there are both.
   */
  flushCheck(probes: readonly Probe[], flush: () => void, what: string): void {
    this.renew();
    probes.forEach((p, i) => {
      this.insert(p.page, p.asid, p.pa, p.shift, 0x10 + i, p.global);
    });
    const strict = this.g.fullyAssociative && probes.length <= (this.g.entries ?? 0);
    const held: Probe[] = [];
    probes.forEach((p, i) => {
      const r = this.t.translate(p.va, p.asid, 0);
      const want = p.pa + (p.va - p.page);
      if (r === want) held.push(p);
      else if (r !== -1) {
        this.fail(
          `before ${what}: ${p.label} translates ${hex(p.va)} to ${hex(r)}, expected ${hex(want)}`,
        );
      } else if (strict || i === probes.length - 1) {
        this.fail(
          `before ${what}: ${p.label} (${hex(p.va)}, ASID ${p.asid}) misses right after it was inserted${strict ? ` into a fully associative TLB of ${this.g.entries} entries` : ''}`,
        );
      }
    });
    for (const kind of [true, false]) {
      if (probes.some((p) => p.dropped === kind) && !held.some((p) => p.dropped === kind)) {
        this.fail(
          `before ${what}: none of the pages the flush must ${kind ? 'drop' : 'keep'} is cached, so the case checks nothing; pages: ${probes
            .filter((p) => p.dropped === kind)
            .map((p) => p.label)
            .join(', ')}`,
        );
      }
    }
    const before = this.snapshotStats();
    flush();
    this.stats({ ...before, flushes: before.flushes + 1 }, `after one ${what}`);
    for (const p of held) {
      const r = this.t.translate(p.va, p.asid, 0);
      const want = p.pa + (p.va - p.page);
      if (p.dropped && r !== -1) {
        this.fail(
          `${what} left ${p.label}: translate(${hex(p.va)}, ${p.asid}, 0) = ${hex(r)}, expected -1`,
        );
      }
      if (!p.dropped && r !== want) {
        this.fail(
          `${what} dropped ${p.label}, which it must keep: translate(${hex(p.va)}, ${p.asid}, 0) = ${hex(r)}, expected ${hex(want)}`,
        );
      }
      // A dropped global entry is gone for every address space.
      if (p.dropped && p.global) {
        for (const other of [0, 3, 0xffff]) {
          const ro = this.t.translate(p.va, other, 0);
          if (ro !== -1) {
            this.fail(
              `${what} left ${p.label} for ASID ${other}: translate(${hex(p.va)}, ${other}, 0) = ${hex(ro)}, expected -1`,
            );
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------- the cases

/**
 * The cases of the suite for TLBs built by `factory` (each call a fresh, empty TLB). Each
 * case is independent.
 */
export function tlbConformance(
  factory: () => Tlb,
  options: TlbConformanceOptions = {},
): ConformanceCase[] {
  const g = resolveOptions(options);
  let label = options.name;
  const cases: ConformanceCase[] = [];
  const add = (name: string, run: (h: Harness) => void): void => {
    cases.push({
      name,
      run: () => {
        if (label === undefined) label = factory().name;
        run(new Harness(label, factory, g));
      },
    });
  };
  const { base, shifts } = g;
  const B = size(base);
  const huge = shifts.filter((s) => s > base);

  add('a new TLB has a name, the Tlb methods and zeroed counters', (h) => {
    const t = h.t;
    h.ok(
      typeof t.name === 'string' && t.name.length > 0,
      `name ${String(t.name)}: expected a non-empty string`,
    );
    for (const m of [
      'lookup',
      'insert',
      'translate',
      'entryPa',
      'entryFlags',
      'setEntryFlags',
      'entryPageShift',
      'flushAll',
      'flushNonGlobal',
      'flushAsid',
      'flushPage',
      'flushRange',
      'resetStats',
    ] as const) {
      h.ok(typeof t[m] === 'function', `${m} is ${typeof t[m]}, expected a function`);
    }
    h.ok(typeof t.lastSlot === 'number', `lastSlot is ${typeof t.lastSlot}, expected a number`);
    h.ok(
      t.flushDomain === undefined || (typeof t.flushDomain === 'object' && t.flushDomain !== null),
      `flushDomain is ${String(t.flushDomain)}, expected an object or undefined`,
    );
    h.stats({ hits: 0, misses: 0, evictions: 0, flushes: 0 }, 'of a new TLB');
  });

  add('a miss returns -1 and counts a miss; insert then lookup hits the same slot', (h) => {
    const va = h.page(5) + 0x123;
    h.miss(va, 1, 'an empty TLB');
    h.stats({ hits: 0, misses: 1, evictions: 0, flushes: 0 }, 'after one miss');
    const slot = h.insert(va, 1, PA + 7 * B, base, 0x5a5, false);
    h.stats({ hits: 0, misses: 1, evictions: 0, flushes: 0 }, 'after an insert into an empty TLB');
    h.eq(h.t.lookup(va, 1), slot, `lookup(${hex(va)}, 1) after insert() returned slot ${slot}`);
    h.stats({ hits: 1, misses: 1, evictions: 0, flushes: 0 }, 'after one miss and one hit');
    h.entry(slot, PA + 7 * B, 0x5a5, base, 'the inserted entry');
    h.miss(h.page(6), 1, 'the next page, never inserted');
    h.miss(h.page(5) - 1, 1, 'the last byte of the page before');
    // Flags are opaque: every bit pattern the MMU can store comes back (0 included).
    const va2 = h.page(9);
    const s2 = h.insert(va2, 1, PA + 9 * B, base, 0, false);
    h.eq(h.t.lookup(va2, 1), s2, `lookup(${hex(va2)}, 1) after insert() returned slot ${s2}`);
    h.entry(s2, PA + 9 * B, 0, base, 'an entry with flags 0');
    const s3 = h.insert(h.page(11), 1, PA, base, 0xffff, false);
    h.entry(s3, PA, 0xffff, base, 'an entry with flags 0xffff');
    h.stats({ hits: 2, misses: 3, evictions: 0, flushes: 0 }, 'after 3 inserts, 2 hits, 3 misses');
  });

  add(
    `a hit translates every offset of a page of each cached size (${shifts.map(sizeName).join(', ')})`,
    (h) => {
      for (const s of shifts) {
        h.renew();
        const page = USER + 3 * GiB + 5 * size(s);
        const pa = PA + 2 * GiB + (s < 30 ? 9 * size(s) : 0);
        // insert() takes any address in the page (the MMU passes the faulting one).
        const slot = h.insert(page + oddOffset(s), 1, pa, s, 0x31, false);
        h.entry(slot, pa, 0x31, s, `a ${sizeName(s)} entry`);
        const offsets = [...new Set([0, 1, oddOffset(s), size(s) >> 1, size(s) - 1])];
        for (const off of offsets) {
          h.eq(
            h.t.lookup(page + off, 1),
            slot,
            `lookup(${hex(page + off)}, 1) in the ${sizeName(s)} page of slot ${slot}`,
          );
          h.translates(page + off, 1, pa + off, `offset ${hex(off)} of a ${sizeName(s)} page`);
        }
        h.miss(page - 1, 1, `the byte before a ${sizeName(s)} page`);
        h.miss(page + size(s), 1, `the byte after a ${sizeName(s)} page`);
      }
    },
  );

  add(
    'translate() returns pa + offset, -1 on a miss, -2 with lastSlot when a needed flag is missing, counting like lookup()',
    (h) => {
      const page = h.page(12);
      const pa = PA + 40 * B;
      const slot = h.insert(page, 4, pa, base, 0b0101, false);
      h.eq(
        h.t.translate(page + 0x21, 4, 0b0001),
        pa + 0x21,
        `translate(${hex(page + 0x21)}, 4, 0b0001)`,
      );
      h.eq(
        h.t.translate(page + B - 1, 4, 0b0101),
        pa + B - 1,
        `translate(${hex(page + B - 1)}, 4, 0b0101)`,
      );
      h.eq(
        h.t.translate(page, 5, 0b0001),
        -1,
        `translate(${hex(page)}, 5, 0b0001) from ASID 5 of a page of ASID 4`,
      );
      h.eq(h.t.translate(page + B, 4, 0), -1, `translate(${hex(page + B)}), a page never inserted`);
      h.eq(
        h.t.translate(page + 7, 4, 0b0110),
        -2,
        `translate(${hex(page + 7)}, 4, 0b0110) of an entry with flags 0b0101`,
      );
      h.eq(h.t.lastSlot, slot, 'lastSlot after translate() answered -2');
      h.entry(h.t.lastSlot, pa, 0b0101, base, 'the entry in lastSlot');
      h.stats(
        { hits: 3, misses: 2, evictions: 0, flushes: 0 },
        'after 3 hits (one of them -2) and 2 misses by translate()',
      );
      // The MMU's path after a -2: walk, then set the flags of lastSlot in place.
      h.t.setEntryFlags(h.t.lastSlot, 0b0111);
      h.eq(
        h.t.translate(page + 7, 4, 0b0110),
        pa + 7,
        'translate() after setEntryFlags(lastSlot) added the flag',
      );
      h.eq(h.t.lookup(page, 4), slot, 'lookup() after setEntryFlags(lastSlot)');
    },
  );

  add('setEntryFlags changes the flags in place, and a later hit on the page reports them', (h) => {
    const page = h.page(20);
    const slot = h.insert(page, 1, PA + 3 * B, base, 0x11, false);
    h.t.setEntryFlags(slot, 0x111);
    h.entry(slot, PA + 3 * B, 0x111, base, 'the entry after setEntryFlags(slot, 0x111)');
    h.eq(h.t.lookup(page + 5, 1), slot, 'lookup() after setEntryFlags()');
    h.eq(h.t.entryFlags(slot), 0x111, 'entryFlags() after a lookup');
    // The entry's flags are the translation's: wherever else the TLB keeps a copy (a
    // hierarchy's L2), a later hit must not bring back 0x11, or the MMU's Dirty bit would
    // be lost and every write after a refill would walk again.
    for (let i = 0; i < 32; i++) h.insert(h.page(21 + i), 1, PA + (21 + i) * B, base, 0, false);
    const again = h.t.lookup(page + 5, 1);
    if (again >= 0) h.entry(again, PA + 3 * B, 0x111, base, 'the page after 32 other fills');
  });

  add(
    'an entry of one ASID is not seen from another; a global entry is seen from every ASID',
    (h) => {
      const page = h.page(30);
      h.insert(page, 1, PA + B, base, 1, false);
      for (const other of [0, 2, 0xffff]) {
        h.miss(page + 9, other, `a page of ASID 1 looked up from ASID ${other}`);
        h.translates(page + 9, other, -1, `a page of ASID 1 translated from ASID ${other}`);
      }
      h.translates(page + 9, 1, PA + B + 9, 'the page from its own ASID');
      // The same page in a second address space, mapped elsewhere: each sees its own, never
      // the other's (one may have evicted the other where they share a set of one way).
      h.insert(page, 2, PA + 2 * B, base, 2, false);
      h.translates(page + 9, 2, PA + 2 * B + 9, 'the page inserted for ASID 2');
      const r1 = h.t.translate(page + 9, 1, 0);
      if (r1 !== PA + B + 9 && !(r1 === -1 && !g.fullyAssociative)) {
        h.fail(
          `ASID 1's translation of ${hex(page + 9)} after ASID 2 mapped the same page elsewhere: ${hex(r1)}, expected ${hex(PA + B + 9)}`,
        );
      }
      // A global kernel page answers every ASID, with one entry.
      const k = KERNEL + 7 * B;
      const gs = h.insert(k + 0x10, 1, PA + 5 * B, base, 0x21, true);
      for (const asid of [0, 1, 2, 77, 0xffff]) {
        h.eq(
          h.t.lookup(k + 0x44, asid),
          gs,
          `lookup(${hex(k + 0x44)}, ${asid}) of a global entry inserted as slot ${gs}`,
        );
        h.translates(k + 0x44, asid, PA + 5 * B + 0x44, `a global page from ASID ${asid}`);
      }
    },
  );

  const uncached = [12, 21, 30].filter((s) => !shifts.includes(s));
  if (uncached.length > 0)
    add(
      `a page size the TLB does not cache (${uncached.map(sizeName).join(', ')}) is splintered into a cached size or refused with a RangeError`,
      (h) => {
        // The interface does not say. SetAssocTlb caches a page larger than its sizes as the
        // fragment of the largest size that fits (SDM §4.10.2.3) and throws a RangeError for one
        // smaller than all of them. The MMU needs either a correct translation or a loud error,
        // never a wrong one: a fragment must answer its addresses exactly, and any other address
        // of the page must translate correctly or miss.
        for (const s of uncached) {
          h.renew();
          const page = USER + 5 * GiB + (s < 30 ? 3 * size(s) : 0);
          const pa = PA + 3 * GiB;
          const off = oddOffset(s);
          let slot: number;
          try {
            slot = h.t.insert(page + off, 1, pa, s, 0x9, false);
          } catch (e) {
            if (!(e instanceof RangeError)) {
              h.fail(
                `insert() of a ${sizeName(s)} page threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}, expected a RangeError or a splintered entry`,
              );
            }
            h.miss(page + off, 1, `a refused ${sizeName(s)} page`);
            continue;
          }
          if (s < base)
            h.fail(
              `insert() of a ${sizeName(s)} page, smaller than every cached size, returned ${slot}; expected a RangeError`,
            );
          h.ok(
            Number.isInteger(slot) && slot >= 0,
            `insert() of a ${sizeName(s)} page returned ${slot}`,
          );
          const fs = h.t.entryPageShift(slot);
          h.ok(
            shifts.includes(fs) && fs < s,
            `a splintered ${sizeName(s)} page: entryPageShift ${fs}, expected a cached size below ${s} (${shifts.join(', ')})`,
          );
          const fragment = Math.floor(off / size(fs)) * size(fs);
          h.entry(
            slot,
            pa + fragment,
            0x9,
            fs,
            `the ${sizeName(fs)} fragment of a ${sizeName(s)} page`,
          );
          h.eq(
            h.t.lookup(page + off, 1),
            slot,
            `lookup(${hex(page + off)}, 1) of the splintered page`,
          );
          h.translates(
            page + off,
            1,
            pa + off,
            `the address the ${sizeName(s)} page was inserted with`,
          );
          for (const o of [0, fragment - 1, fragment + size(fs), size(s) - 1]) {
            if (o < 0 || o >= size(s)) continue;
            const r = h.t.translate(page + o, 1, 0);
            if (r !== -1 && r !== pa + o) {
              h.fail(
                `offset ${hex(o)} of a splintered ${sizeName(s)} page translates to ${hex(r)}, expected ${hex(pa + o)} or a miss`,
              );
            }
          }
          h.translates(page + size(s), 1, -1, `the byte after a splintered ${sizeName(s)} page`);
          h.t.flushPage(page + off, 1);
          h.miss(page + off, 1, `a splintered ${sizeName(s)} page after flushPage()`);
        }
      },
    );

  // ---- flushes

  add('flushPage drops the page for its ASID and global entries (INVLPG), nothing else', (h) => {
    const p = h.page(40);
    h.flushCheck(
      [
        h.probe('the same page in ASID 2', p, 2, { dropped: false, pa: PA + 77 * B }),
        h.probe('the page before', p - B, 1, { dropped: false }),
        h.probe('the page after', p + B, 1, { dropped: false }),
        h.probe('a global page elsewhere', KERNEL + 3 * B, 1, { global: true, dropped: false }),
        h.probe("the page's ASID 1 entry", p, 1, { dropped: true }),
      ],
      () => h.t.flushPage(p + 0x7, 1),
      `flushPage(${hex(p + 7)}, 1)`,
    );
    const k = KERNEL + 5 * B;
    h.flushCheck(
      [
        h.probe('the next kernel page, global', k + B, 1, { global: true, dropped: false }),
        h.probe('a user page of ASID 2', p, 2, { dropped: false }),
        h.probe('a global kernel page, inserted from ASID 1', k, 1, {
          global: true,
          dropped: true,
        }),
      ],
      () => h.t.flushPage(k + B - 1, 2),
      `flushPage(${hex(k + B - 1)}, 2) of a global page from another ASID`,
    );
    // A page that is not cached: nothing changes but the counter.
    h.flushCheck(
      [h.probe('a page of ASID 1', p, 1, { dropped: false })],
      () => h.t.flushPage(p + 2 * B, 1),
      `flushPage(${hex(p + 2 * B)}, 1) of a page not cached`,
    );
  });

  add(
    'flushRange drops every page overlapping [start, end) for its ASID and global ones, nothing else',
    (h) => {
      const p = (i: number): number => h.page(100 + i);
      /** Pages 0..9 of ASID 1, page 3 and 6 of ASID 2 (kept), a global page 8 (dropped if in range). */
      const check = (
        start: number,
        end: number,
        first: number,
        last: number,
        what: string,
      ): void => {
        const inRange = (i: number): boolean => i >= first && i <= last;
        // ASID 1's pages to keep first, those to drop next, then the global page and ASID 2's
        // (kept): where two share a set of one way, a page of each kind is still held.
        const probes: Probe[] = [0, 1, 2, 3, 4, 5, 6, 7, 9]
          .sort((a, b) => Number(inRange(a)) - Number(inRange(b)))
          .map((i) => h.probe(`page ${i} of ASID 1`, p(i), 1, { dropped: inRange(i) }));
        probes.push(
          h.probe('global page 8', p(8), 1, {
            global: true,
            dropped: inRange(8),
            pa: PA + 300 * B,
          }),
        );
        for (const i of [3, 6])
          probes.push(
            h.probe(`page ${i} of ASID 2`, p(i), 2, { dropped: false, pa: PA + (200 + i) * B }),
          );
        h.flushCheck(
          probes,
          () => h.t.flushRange(start, end, 1),
          `flushRange(${hex(start)}, ${hex(end)}, 1) ${what}`,
        );
      };
      check(p(2) + (B >> 1), p(5) + 1, 2, 5, '(both ends inside pages)');
      check(p(2), p(5), 2, 4, '(page-aligned: the end page is outside)');
      check(p(2) - 1, p(2) + 1, 1, 2, '(two bytes across a page boundary)');
      check(p(4) + 5, p(4) + 6, 4, 4, '(one byte)');
      check(p(0), p(10), 0, 9, '(every page)');
      // An empty range is flushPage() for no page: nothing is dropped, one flush is counted.
      check(p(3), p(3), 1, 0, '(empty)');
    },
  );

  add(
    'flushRange over more pages than the TLB has sets drops the inside pages and keeps both neighbours',
    (h) => {
      // 1 GiB + one page of the smallest size, both ends in the middle of a page: 2^18 + 1
      // pages of 4 KiB, more than any TLB has sets (an implementation may probe each page's set
      // or scan its arrays; the result must be the same).
      const first = h.page(0) + 4 * GiB;
      const start = first + (B >> 1);
      const end = start + GiB;
      const n = GiB / B; // the last page overlapped is first + n * B
      // Spread so that a 4-way TLB indexed by the low VPN bits keeps them all.
      const inside = [0, 1, 2, (n >> 2) + 3, (n >> 1) + 5, n - 2, n - 1, n].filter(
        (i, k, a) => i >= 0 && i <= n && a.indexOf(i) === k,
      );
      // The pages to drop first, those to keep last: a small TLB then holds some of each.
      h.flushCheck(
        [
          h.probe('a global page inside', first + Math.min(n, (n >> 2) + 4) * B, 1, {
            global: true,
            dropped: true,
            pa: PA + 997 * B,
          }),
          ...inside.map((i) =>
            h.probe(`page ${i} of the range`, first + i * B, 1, { dropped: true }),
          ),
          h.probe('a page inside, of ASID 2', first + Math.min(n, (n >> 1) + 6) * B, 2, {
            dropped: false,
            pa: PA + 999 * B,
          }),
          h.probe('a page just inside, of ASID 3', first + Math.min(n, 1) * B, 3, {
            dropped: false,
            pa: PA + 998 * B,
          }),
          h.probe('the page before the range', first - B, 1, { dropped: false }),
          h.probe('the page after the range', first + (n + 1) * B, 1, { dropped: false }),
        ],
        () => h.t.flushRange(start, end, 1),
        `flushRange(${hex(start)}, ${hex(end)}, 1) over ${n + 1} pages`,
      );
    },
  );

  if (huge.length > 0) {
    add(
      'flushRange drops a huge page it overlaps by one byte, and keeps one that ends at its start',
      (h) => {
        for (const s of huge) {
          const hp = USER + 8 * GiB + (s < 30 ? 4 * size(s) : 0);
          h.flushCheck(
            [
              h.probe(`the ${sizeName(base)} page after the ${sizeName(s)} page`, hp + size(s), 1, {
                dropped: false,
              }),
              h.probe(`a ${sizeName(s)} page`, hp, 1, { shift: s, dropped: true }),
            ],
            () => h.t.flushRange(hp + size(s) - 1, hp + size(s), 1),
            `flushRange over the last byte of a ${sizeName(s)} page`,
          );
          h.flushCheck(
            [
              h.probe(`the ${sizeName(base)} page before the ${sizeName(s)} page`, hp - B, 1, {
                dropped: true,
              }),
              h.probe(`a ${sizeName(s)} page`, hp, 1, { shift: s, dropped: false }),
            ],
            () => h.t.flushRange(hp - B, hp, 1),
            `flushRange ending where a ${sizeName(s)} page starts`,
          );
        }
      },
    );
  }

  add("flushAsid drops that ASID's non-global entries only", (h) => {
    const p = h.page(60);
    const probes = [
      h.probe('a page of ASID 2', p, 2, { dropped: false, pa: PA + 61 * B }),
      h.probe('another page of ASID 2', p + 3 * B, 2, { dropped: false, pa: PA + 62 * B }),
      h.probe('a global page inserted from ASID 1', KERNEL + B, 1, {
        global: true,
        dropped: false,
      }),
      h.probe('a page of ASID 0', p + 4 * B, 0, { dropped: false }),
      ...huge.map((s, k) =>
        h.probe(`a ${sizeName(s)} page of ASID 1`, USER + (20 + k) * GiB, 1, {
          shift: s,
          dropped: true,
        }),
      ),
      h.probe('a page of ASID 1', p, 1, { dropped: true }),
      h.probe('another page of ASID 1', p + 3 * B, 1, { dropped: true }),
    ];
    h.flushCheck(probes, () => h.t.flushAsid(1), 'flushAsid(1)');
    h.flushCheck(
      probes.map((q) => ({ ...q, dropped: false })),
      () => h.t.flushAsid(9),
      'flushAsid(9) of an ASID with no entries',
    );
  });

  add('flushNonGlobal drops every non-global entry and keeps the global ones', (h) => {
    const p = h.page(70);
    h.flushCheck(
      [
        h.probe('a global page inserted from ASID 1', KERNEL + 2 * B, 1, {
          global: true,
          dropped: false,
        }),
        h.probe('a global page inserted from ASID 2', KERNEL + 3 * B, 2, {
          global: true,
          dropped: false,
        }),
        ...huge.map((s, k) =>
          h.probe(`a global ${sizeName(s)} page`, KERNEL + (1 + k) * GiB, 3, {
            shift: s,
            global: true,
            dropped: false,
          }),
        ),
        h.probe('a page of ASID 2', p + B, 2, { dropped: true }),
        h.probe('a page of ASID 0', p + 2 * B, 0, { dropped: true }),
        h.probe('a page of ASID 1', p, 1, { dropped: true }),
      ],
      () => h.t.flushNonGlobal(),
      'flushNonGlobal()',
    );
  });

  add('flushAll drops every entry, global ones included', (h) => {
    const p = h.page(80);
    h.flushCheck(
      [
        h.probe('a page of ASID 2', p + B, 2, { dropped: true }),
        ...huge.map((s, k) =>
          h.probe(`a ${sizeName(s)} page`, USER + (20 + k) * GiB, 1, { shift: s, dropped: true }),
        ),
        h.probe('a page of ASID 1', p, 1, { dropped: true }),
        h.probe('a global page', KERNEL + 4 * B, 1, { global: true, dropped: true }),
      ],
      () => h.t.flushAll(),
      'flushAll()',
    );
    // The TLB works on after a flushAll().
    const slot = h.insert(p, 1, PA + 5 * B, base, 3, false);
    h.eq(h.t.lookup(p, 1), slot, 'lookup() of a page inserted after flushAll()');
  });

  add('each flush call counts one flush and nothing else; resetStats zeroes every counter', (h) => {
    const p = h.page(90);
    h.miss(p, 1, 'an empty TLB');
    h.insert(p, 1, PA, base, 0, false);
    h.hit(p, 1, 'the inserted page');
    h.stats({ hits: 1, misses: 1, evictions: 0, flushes: 0 }, 'after a miss, an insert and a hit');
    const flushes: [string, () => void][] = [
      ['flushPage', () => h.t.flushPage(p, 1)],
      ['flushRange', () => h.t.flushRange(p, p + 4 * B, 1)],
      ['flushRange (empty)', () => h.t.flushRange(p, p, 1)],
      ['flushAsid', () => h.t.flushAsid(1)],
      ['flushNonGlobal', () => h.t.flushNonGlobal()],
      ['flushAll', () => h.t.flushAll()],
    ];
    let n = 0;
    for (const [name, flush] of flushes) {
      flush();
      n++;
      h.stats({ hits: 1, misses: 1, evictions: 0, flushes: n }, `after ${name} (flush call ${n})`);
    }
    h.t.resetStats();
    h.stats({ hits: 0, misses: 0, evictions: 0, flushes: 0 }, 'after resetStats()');
    h.miss(p, 1, 'a flushed page');
    h.t.flushAll();
    h.stats(
      { hits: 0, misses: 1, evictions: 0, flushes: 1 },
      'after resetStats(), a miss and a flushAll()',
    );
  });

  // ---- duplicates and capacity

  add(
    're-inserting a cached page replaces it in place: no eviction, the new translation answers',
    (h) => {
      const p = h.page(50);
      h.insert(p, 1, PA, base, 1, false);
      // Enough re-inserts to fill any TLB of `entries` (or 64) entries with copies: a TLB that
      // keeps each would have to evict.
      const n = 2 * (g.entries ?? 64) + 1;
      let last = -1;
      for (let i = 1; i <= n; i++)
        last = h.insert(p + (i % B), 1, PA + i * B, base, i & 0xffff, false);
      h.eq(h.t.stats.evictions, 0, `evictions after inserting one page ${n + 1} times`);
      h.eq(h.t.lookup(p, 1), last, 'lookup() after the re-inserts: the slot of the last insert()');
      h.entry(last, PA + n * B, n & 0xffff, base, 'the entry after the re-inserts');
      h.t.flushPage(p, 1);
      h.miss(p, 1, 'the page after one flushPage()');

      // A global insert replaces the entries it would duplicate in every ASID: afterwards one
      // entry answers the page, and one flushPage() drops it for all.
      h.renew();
      h.insert(p, 1, PA + B, base, 1, false);
      h.insert(p, 2, PA + 2 * B, base, 2, false);
      h.insert(p, 3, PA + 3 * B, base, 3, true);
      for (const asid of [1, 2, 4])
        h.translates(p, asid, PA + 3 * B, `ASID ${asid} after a global insert over ASIDs 1 and 2`);
      h.t.flushPage(p, 1);
      for (const asid of [1, 2, 4])
        h.translates(
          p,
          asid,
          -1,
          `ASID ${asid} after flushPage() of the global entry: an older entry survived the global insert`,
        );

      // A non-global insert replaces the global entry that answered its ASID: two entries
      // would answer it otherwise. Other ASIDs then miss, as no entry of theirs is left.
      h.renew();
      h.insert(p, 1, PA + 4 * B, base, 4, true);
      h.insert(p, 1, PA + 5 * B, base, 5, false);
      h.translates(p, 1, PA + 5 * B, 'ASID 1 after a non-global insert over a global entry');
      h.translates(p, 2, -1, 'ASID 2 after ASID 1 replaced the global entry');
      h.eq(h.t.stats.evictions, 0, 'evictions after replacing entries in place');
    },
  );

  if (huge.length > 0) {
    add('a huge page answers every address inside it; flushPage of any of them drops it', (h) => {
      for (const s of huge) {
        const hp = USER + 12 * GiB + (s < 30 ? 6 * size(s) : 0);
        const pa = PA + GiB;
        const inside = [0, B, oddOffset(s), size(s) >> 1, size(s) - B, size(s) - 1];
        for (const asid of [1, 6]) {
          h.renew();
          const global = asid === 6;
          const slot = h.insert(hp + 0x42, asid, pa, s, 0x7, global);
          for (const off of inside) {
            h.eq(
              h.t.lookup(hp + off, global ? 99 : asid),
              slot,
              `lookup(${hex(hp + off)}) in a ${global ? 'global ' : ''}${sizeName(s)} page in slot ${slot}`,
            );
            h.translates(hp + off, asid, pa + off, `offset ${hex(off)} of a ${sizeName(s)} page`);
          }
          h.translates(hp + size(s), asid, -1, `the byte after a ${sizeName(s)} page`);
          h.t.flushPage(hp + size(s), global ? 5 : asid);
          h.translates(hp, asid, pa, `a ${sizeName(s)} page after flushPage() of the next page`);
        }
        for (const off of inside) {
          for (const global of [false, true]) {
            h.renew();
            h.insert(hp, 1, pa, s, 0x7, global);
            h.t.flushPage(hp + off, global ? 2 : 1);
            h.miss(
              hp,
              1,
              `a ${global ? 'global ' : ''}${sizeName(s)} page after flushPage(${hex(hp + off)}${global ? ', 2' : ', 1'})`,
            );
            h.miss(
              hp + size(s) - 1,
              1,
              `the last byte of a ${sizeName(s)} page after flushPage(${hex(hp + off)})`,
            );
          }
        }
      }
    });

    add(
      'entries of two sizes covering one address: a hit answers with one of them, flushPage drops both',
      (h) => {
        // Software that changes a page's size without invalidating leaves both in a real TLB,
        // and the SDM (§4.10.2.3) lets either answer; @mmsim/tlb keeps both. Required here is
        // what the MMU needs: a correct translation from one, and INVLPG dropping both.
        for (const s of huge) {
          h.renew();
          const hp = USER + 13 * GiB + (s < 30 ? 2 * size(s) : 0);
          const small = hp + 3 * B;
          h.insert(small, 1, PA + 50 * B, base, 1, false);
          h.insert(hp, 1, PA + GiB, s, 2, false);
          const r = h.t.translate(small + 5, 1, 0);
          if (r !== PA + 50 * B + 5 && r !== PA + GiB + 3 * B + 5) {
            h.fail(
              `a ${sizeName(base)} page inside a ${sizeName(s)} page translates to ${hex(r)}: neither entry's address`,
            );
          }
          h.t.flushPage(small + 1, 1);
          h.miss(
            small,
            1,
            `a ${sizeName(base)} and a ${sizeName(s)} entry after flushPage() of an address both cover`,
          );
          h.miss(hp, 1, `the ${sizeName(s)} page after flushPage(${hex(small + 1)})`);
        }
      },
    );
  }

  add(
    'random inserts, lookups and flushes: a hit always answers the latest translation of (va, ASID)',
    (h) => {
      // A model of what must be true whatever the TLB evicts: the latest translation inserted
      // for each page and ASID (a global one for every ASID) and not flushed since. A hit must
      // answer exactly that, and the counters must match the hits and misses seen.
      const rng = new Prng(0x71b);
      const PAGES = 16;
      const ASIDS = 3;
      const own = new Map<number, { pa: number; flags: number }>(); // page * 8 + asid
      const glob = new Map<number, { pa: number; flags: number }>();
      const va = (i: number): number => (i < 12 ? h.page(200 + i) : KERNEL + (i - 12) * B);
      let serial = 0;
      let hits = 0;
      let misses = 0;
      let flushes = 0;
      const latest = (i: number, a: number) => glob.get(i) ?? own.get(i * 8 + a);
      const drop = (i: number, a: number): void => {
        own.delete(i * 8 + a);
        glob.delete(i);
      };
      for (let step = 0; step < 6000; step++) {
        const i = rng.nextInt(PAGES);
        const a = 1 + rng.nextInt(ASIDS);
        const op = rng.nextInt(100);
        const at = `step ${step}`;
        if (op < 35) {
          const global = i >= 12 && rng.nextBool(0.5);
          const pa = PA + (++serial % 100000) * B;
          const flags = rng.nextInt(0x10000);
          h.insert(va(i) + rng.nextInt(B), a, pa, base, flags, global);
          if (global) {
            for (let b = 0; b <= ASIDS; b++) own.delete(i * 8 + b);
            glob.set(i, { pa, flags });
          } else {
            glob.delete(i);
            own.set(i * 8 + a, { pa, flags });
          }
        } else if (op < 80) {
          const off = rng.nextInt(B);
          const want = latest(i, a);
          const slot = h.t.lookup(va(i) + off, a);
          if (slot < 0) misses++;
          else {
            hits++;
            if (want === undefined) {
              return h.fail(
                `${at}: lookup(${hex(va(i) + off)}, ${a}) hit slot ${slot} (${hex(h.t.entryPa(slot))}), but that page was flushed or never inserted for ASID ${a}`,
              );
            }
            h.entry(
              slot,
              want.pa,
              want.flags,
              base,
              `${at}: the hit of lookup(${hex(va(i) + off)}, ${a})`,
            );
            if (rng.nextBool(0.3)) {
              want.flags = rng.nextInt(0x10000);
              h.t.setEntryFlags(slot, want.flags);
            }
          }
        } else if (op < 88) {
          const off = rng.nextInt(B);
          const want = latest(i, a);
          const r = h.t.translate(va(i) + off, a, 0);
          if (r === -1) misses++;
          else {
            hits++;
            if (r !== (want === undefined ? Number.NaN : want.pa + off)) {
              h.fail(
                `${at}: translate(${hex(va(i) + off)}, ${a}, 0) = ${hex(r)}, expected ${want === undefined ? '-1 (flushed or never inserted)' : `${hex(want.pa + off)} or a miss`}`,
              );
            }
          }
        } else {
          flushes++;
          if (op < 93) {
            h.t.flushPage(va(i) + rng.nextInt(B), a);
            drop(i, a);
          } else if (op < 96) {
            // A range stays within the user pages or within the kernel ones (between them lie
            // 2^31 pages).
            const j = Math.min(i < 12 ? 11 : PAGES - 1, i + rng.nextInt(4));
            const start = va(i) + rng.nextInt(B);
            h.t.flushRange(start, Math.max(start + 1, va(j) + 1 + rng.nextInt(B)), a);
            for (let k = i; k <= j; k++) drop(k, a);
          } else if (op < 98) {
            h.t.flushAsid(a);
            for (let k = 0; k < PAGES; k++) own.delete(k * 8 + a);
          } else if (op < 99) {
            h.t.flushNonGlobal();
            own.clear();
          } else {
            h.t.flushAll();
            own.clear();
            glob.clear();
          }
        }
        if (step % 500 === 499) {
          const st = h.t.stats;
          h.eq(st.hits, hits, `${at}: stats.hits against the hits seen`);
          h.eq(st.misses, misses, `${at}: stats.misses against the misses seen`);
          h.eq(st.flushes, flushes, `${at}: stats.flushes against the flush calls made`);
        }
      }
    },
  );

  if (g.entries !== undefined) {
    const n = g.entries;
    add(`at most ${n} pages hit after ${2 * n + 3} distinct pages were inserted`, (h) => {
      const total = 2 * n + 3;
      for (let i = 0; i < total; i++) h.insert(h.page(1000 + i), 1, PA + i * B, base, 0, false);
      let hitCount = 0;
      const held: number[] = [];
      for (let i = 0; i < total; i++) {
        const r = h.t.translate(h.page(1000 + i) + 1, 1, 0);
        if (r === -1) continue;
        h.eq(r, PA + i * B + 1, `translate() of page ${i}`);
        hitCount++;
        held.push(i);
      }
      h.ok(hitCount <= n, `${hitCount} of ${total} pages hit in a TLB of ${n} entries`);
      if (g.fullyAssociative) {
        h.eq(hitCount, n, `pages that hit in a full, fully associative TLB of ${n} entries`);
        h.eq(
          h.t.stats.evictions,
          total - n,
          `evictions after ${total} fills of a fully associative TLB of ${n} entries`,
        );
      }
      if (g.lru && g.fullyAssociative) {
        // LRU without hits between fills keeps the pages filled last.
        const lost = held.filter((i) => i < total - hitCount);
        h.ok(
          lost.length === 0,
          `LRU kept page(s) ${lost.slice(0, 5).join(', ')} over pages filled after them`,
        );
      }
    });

    if (g.fullyAssociative) {
      add(
        `any ${n} pages fit: all hit, nothing is evicted, re-inserting them adds nothing`,
        (h) => {
          // Pages spread over the address space (user and kernel halves) and two ASIDs.
          const stride = Math.max(1, Math.min(97, Math.floor(2 ** 44 / (n * B))));
          const pages = Array.from({ length: n }, (_, i) => ({
            va: (i % 2 === 0 ? USER : KERNEL) + i * stride * B,
            asid: 1 + (i % 2),
          }));
          pages.forEach((p, i) => {
            h.insert(p.va, p.asid, PA + i * B, base, i, false);
          });
          h.eq(
            h.t.stats.evictions,
            0,
            `evictions after ${n} fills of a fully associative TLB of ${n} entries`,
          );
          pages.forEach((p, i) => {
            h.translates(
              p.va + 3,
              p.asid,
              PA + i * B + 3,
              `page ${i} of ${n} in a TLB of ${n} entries`,
            );
          });
          pages.forEach((p, i) => {
            h.insert(p.va, p.asid, PA + (n + i) * B, base, i, false);
          });
          h.eq(h.t.stats.evictions, 0, `evictions after re-inserting ${n} cached pages`);
          pages.forEach((p, i) => {
            h.translates(
              p.va + 3,
              p.asid,
              PA + (n + i) * B + 3,
              `page ${i} re-inserted with a new address`,
            );
          });
        },
      );
    }

    if (g.lru && g.fullyAssociative) {
      add(
        'LRU: a full TLB evicts the least recently used page, lookup() and translate() counting as uses',
        (h) => {
          for (let i = 0; i < n; i++) h.insert(h.page(3000 + i), 1, PA + i * B, base, 1, false);
          // Uses: page 0 by lookup(), page 1 by a translate() that answers -2.
          const victim = Math.min(2, n - 1);
          if (victim >= 1) h.hit(h.page(3000), 1, 'page 0');
          if (victim >= 2)
            h.eq(h.t.translate(h.page(3001), 1, 2), -2, 'translate() of page 1 lacking flag 2');
          h.insert(h.page(3000 + n), 1, PA + n * B, base, 1, false);
          h.eq(h.t.stats.evictions, 1, 'evictions after one fill of a full TLB');
          h.miss(h.page(3000 + victim), 1, `page ${victim}, the least recently used`);
          for (let i = 0; i <= n; i++) {
            if (i !== victim)
              h.hit(h.page(3000 + i), 1, `page ${i} (page ${victim} was the least recently used)`);
          }
        },
      );
    }
  }

  if (g.lru) {
    add('LRU: a full set evicts its least recently used entry (one page in several ASIDs)', (h) => {
      // The set's ways are found by filling it: one page in ASIDs 1, 2, … until a fill evicts.
      const p = h.page(4000);
      const limit = Math.min((g.entries ?? 4096) + 1, 0xffff);
      const fillSet = (): number => {
        for (let a = 1; a <= limit; a++) {
          h.insert(p, a, PA + a * B, base, 1, false);
          if (h.t.stats.evictions > 0) return a - 1;
        }
        return h.fail(`${limit} entries for one page in ${limit} ASIDs evicted nothing`);
      };
      const ways = fillSet();
      h.miss(p, 1, `ASID 1, the oldest of ${ways + 1} fills of a set of ${ways} ways`);
      for (let a = 2; a <= ways + 1; a++)
        h.translates(p, a, PA + a * B, `ASID ${a} after ASID 1 was evicted`);
      // Again, with uses: ASID 1 by lookup(), ASID 2 by a translate() that answers -2.
      h.renew();
      for (let a = 1; a <= ways; a++) h.insert(p, a, PA + a * B, base, 1, false);
      const used = Math.min(2, ways - 1);
      if (used >= 1) h.hit(p, 1, 'ASID 1');
      if (used >= 2) h.eq(h.t.translate(p, 2, 2), -2, 'translate() of ASID 2 lacking flag 2');
      h.insert(p, ways + 1, PA, base, 1, false);
      h.eq(h.t.stats.evictions, 1, `evictions after ${ways + 1} fills of a set of ${ways} ways`);
      h.miss(p, used + 1, `ASID ${used + 1}, the least recently used of the set`);
      for (let a = 1; a <= ways + 1; a++) {
        if (a !== used + 1) h.hit(p, a, `ASID ${a} (ASID ${used + 1} was the least recently used)`);
      }
    });
  }

  return cases;
}

/**
 * Register the suite with a test framework:
 * `runTlbConformance(() => createTlb(), { describe, it }, { entries: 64, fullyAssociative: true, lru: true })`.
 */
export function runTlbConformance(
  factory: () => Tlb,
  registrar: TestRegistrar,
  options: TlbConformanceOptions = {},
): void {
  const name = options.name ?? factory().name;
  const cases = tlbConformance(factory, { ...options, name });
  registerConformance(`Tlb conformance: ${name}`, cases, registrar);
}
