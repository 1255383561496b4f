/**
 * TlbHierarchy — L1 instruction and data TLBs in front of a shared second-level TLB, composed
 * from the same SetAssocTlb model.
 *
 * Behaviour (Intel SDM vol. 3A §4.10.3 and the Optimization Reference Manual's description of
 * the STLB):
 *
 * - A lookup tries the L1 of its kind (the hierarchy itself for data accesses,
 *   `hierarchy.instruction` for fetches). On an L1 miss it tries the L2; an L2 hit refills the
 *   L1 (the entry is copied, splintered if the L1 has no array for its size) and the lookup
 *   returns the L1 slot, so the entry accessors always read an L1 entry. A miss in both is a
 *   miss of the hierarchy: the MMU walks the page tables and calls insert().
 * - insert() fills the L2 (when it can hold that page size) and the L1: the fill goes into
 *   both levels.
 * - Inclusion: by default the levels are non-inclusive and non-exclusive ("NINE"): each level
 *   replaces on its own, an L2 eviction leaves the L1 copy alone. This is what the SDM
 *   permits (each TLB caches translations independently) and how Intel's STLB is usually
 *   described. With `inclusive: true` an L2 eviction also removes the page from both L1s
 *   (back-invalidation), so every L1 entry is also in the L2.
 * - Flushes (INVLPG, CR3 writes, INVPCID, sfence.vma) invalidate every level and both L1s, as
 *   on hardware: the instructions act on all of the processor's TLBs.
 * - setEntryFlags() (the MMU setting Accessed/Dirty) also updates the copies the other levels
 *   hold, so an L2 refill later does not bring back stale flags.
 *
 * Statistics: each level counts its own lookups, fills, evictions and flushes (`levels`,
 * `levelStats()`); the hierarchy's `stats` (and `instruction.stats`) count what its user saw:
 * a hit when any level had the translation, a miss when a walk is needed, the evictions its
 * fills caused in any level, and its flush calls.
 *
 * The Skylake-like default (`SKYLAKE_TLB`) follows the "TLB Parameters of the Skylake
 * Microarchitecture" table of the Intel 64 and IA-32 Architectures Optimization Reference
 * Manual (also listed on WikiChip's Skylake (client) page): iTLB 4K 128 entries 8-way, 2M 8
 * entries fully associative (per thread); L1 dTLB 4K 64 entries 4-way, 2M 32 entries 4-way,
 * 1G 4 entries fully associative; STLB 4K+2M 1536 entries 12-way, 1G 16 entries 4-way.
 */
import type { Tlb, TlbStats, VirtAddr } from '@mmsim/core';
import type { TlbHierarchyOptions, TlbOptions } from './api.js';
import { SetAssocTlb } from './tlb.js';

/** Skylake-like TLBs (see the header for the source of the numbers). */
export const SKYLAKE_TLB: Readonly<TlbHierarchyOptions> = {
  name: 'skylake',
  l1i: {
    name: 'iTLB',
    arrays: [
      { entries: 128, ways: 8, pageShift: 12 },
      { entries: 8, ways: 8, pageShift: 21 },
    ],
  },
  l1d: {
    name: 'dTLB',
    arrays: [
      { entries: 64, ways: 4, pageShift: 12 },
      { entries: 32, ways: 4, pageShift: 21 },
      { entries: 4, ways: 4, pageShift: 30 },
    ],
  },
  l2: {
    name: 'STLB',
    arrays: [
      { entries: 1536, ways: 12, pageShifts: [12, 21] },
      { entries: 16, ways: 4, pageShift: 30 },
    ],
  },
  inclusive: false,
};

/** Per-level counters, as `levelStats()` returns them. */
export interface TlbLevelStats {
  l1d: TlbStats;
  l1i: TlbStats | null;
  l2: TlbStats | null;
}

/**
 * The levels of a hierarchy and what both paths share: flushing every level, inclusive
 * back-invalidation, flag propagation.
 */
export class TlbLevels {
  /** Every level, L1s first. */
  readonly tlbs: readonly SetAssocTlb[];

  constructor(
    readonly l1d: SetAssocTlb,
    readonly l1i: SetAssocTlb | null,
    readonly l2: SetAssocTlb | null,
    readonly inclusive: boolean,
  ) {
    this.tlbs = [l1d, ...(l1i ? [l1i] : []), ...(l2 ? [l2] : [])];
  }

  /** Inclusive mode: drop from the L1s the page the L2's last fill evicted. */
  backInvalidate(l2: SetAssocTlb): void {
    const shift = l2.lastEvictedShift;
    const start = l2.lastEvictedVpn * 2 ** shift;
    const end = start + 2 ** shift;
    for (const t of this.tlbs) {
      if (t !== l2) t.invalidate(start, end, l2.lastEvictedAsid, l2.lastEvictedGlobal);
    }
  }

  /** Copy an entry's new flags to the other levels' entries for the same page. */
  propagateFlags(from: SetAssocTlb, slot: number, flags: number): void {
    const va = from.entryVa(slot);
    const asid = from.entryAsid(slot);
    for (const t of this.tlbs) {
      if (t === from) continue;
      const s = t.probe(va, asid);
      if (s >= 0) t.setEntryFlags(s, flags);
    }
  }
}

/**
 * One side (data or instruction) of a hierarchy: its L1, the shared L2, and its own counters.
 * Implements the core `Tlb` interface.
 */
export class TlbPath implements Tlb {
  readonly stats: TlbStats = { hits: 0, misses: 0, evictions: 0, flushes: 0 };

  constructor(
    readonly name: string,
    /** This path's L1. */
    readonly l1: SetAssocTlb,
    /** The levels (shared L2 included) this path belongs to. */
    readonly levels: TlbLevels,
  ) {}

  /** Both paths flush every level: a flush through either is a flush of both. */
  get flushDomain(): object {
    return this.levels;
  }

  lookup(va: VirtAddr, asid: number): number {
    const slot = this.l1.lookup(va, asid);
    if (slot >= 0) {
      this.stats.hits++;
      return slot;
    }
    return this.lookupL2(va, asid);
  }

  /** translate()'s slot of an entry that lacked a needed flag. */
  lastSlot = -1;

  /** lookup() + flag test + address (see Tlb.translate()): the L1 first, then the L2. */
  translate(va: VirtAddr, asid: number, need: number): number {
    let slot = this.l1.lookup(va, asid);
    if (slot >= 0) this.stats.hits++;
    else {
      slot = this.lookupL2(va, asid);
      if (slot < 0) return -1;
    }
    if ((this.l1.entryFlags(slot) & need) !== need) {
      this.lastSlot = slot;
      return -2;
    }
    return this.l1.entryPa(slot) + (va - this.l1.entryVa(slot));
  }

  /** The L1 missed: try the L2 and refill the L1 from it. */
  private lookupL2(va: number, asid: number): number {
    const l2 = this.levels.l2;
    const s2 = l2 === null ? -1 : l2.lookup(va, asid);
    if (s2 < 0) {
      this.stats.misses++;
      return -1;
    }
    this.stats.hits++;
    const l2t = l2!;
    const e0 = this.l1.stats.evictions;
    const slot = this.l1.insert(
      va,
      l2t.entryAsid(s2),
      l2t.entryPa(s2),
      l2t.entryPageShift(s2),
      l2t.entryFlags(s2),
      l2t.entryGlobal(s2),
    );
    this.stats.evictions += this.l1.stats.evictions - e0;
    return slot;
  }

  insert(
    va: VirtAddr,
    asid: number,
    pa: number,
    pageShift: number,
    flags: number,
    global: boolean,
  ): number {
    const l2 = this.levels.l2;
    if (l2?.canCache(pageShift)) {
      l2.insert(va, asid, pa, pageShift, flags, global);
      if (l2.lastEvictedValid) {
        this.stats.evictions++;
        if (this.levels.inclusive) this.levels.backInvalidate(l2);
      }
    }
    const e1 = this.l1.stats.evictions;
    const slot = this.l1.insert(va, asid, pa, pageShift, flags, global);
    this.stats.evictions += this.l1.stats.evictions - e1;
    return slot;
  }

  entryPa(slot: number): number {
    return this.l1.entryPa(slot);
  }

  entryFlags(slot: number): number {
    return this.l1.entryFlags(slot);
  }

  setEntryFlags(slot: number, flags: number): void {
    this.l1.setEntryFlags(slot, flags);
    this.levels.propagateFlags(this.l1, slot, flags);
  }

  entryPageShift(slot: number): number {
    return this.l1.entryPageShift(slot);
  }

  flushAll(): void {
    this.stats.flushes++;
    for (const t of this.levels.tlbs) t.flushAll();
  }

  flushNonGlobal(): void {
    this.stats.flushes++;
    for (const t of this.levels.tlbs) t.flushNonGlobal();
  }

  flushAsid(asid: number): void {
    this.stats.flushes++;
    for (const t of this.levels.tlbs) t.flushAsid(asid);
  }

  flushPage(va: VirtAddr, asid: number): void {
    this.stats.flushes++;
    for (const t of this.levels.tlbs) t.flushPage(va, asid);
  }

  flushRange(start: VirtAddr, end: VirtAddr, asid: number): void {
    this.stats.flushes++;
    for (const t of this.levels.tlbs) t.flushRange(start, end, asid);
  }

  resetStats(): void {
    const st = this.stats;
    st.hits = 0;
    st.misses = 0;
    st.evictions = 0;
    st.flushes = 0;
  }
}

/**
 * A TLB hierarchy. It is itself the data path (a `Tlb`: hand it to the MMU);
 * `instruction` is the fetch path. Both share the L2 and flush every level.
 */
export class TlbHierarchy extends TlbPath {
  readonly l1d: SetAssocTlb;
  readonly l1i: SetAssocTlb | null;
  readonly l2: SetAssocTlb | null;
  readonly inclusive: boolean;
  /** The fetch path (through the iTLB, or the dTLB when there is no iTLB). */
  readonly instruction: TlbPath;

  constructor(options: TlbHierarchyOptions = SKYLAKE_TLB) {
    if (!options || typeof options.l1d !== 'object' || options.l1d === null) {
      throw new TypeError('createTlbHierarchy: options.l1d (the L1 data TLB) is required');
    }
    const level = (o: TlbOptions, name: string): SetAssocTlb =>
      new SetAssocTlb({
        ...o,
        name: o.name ?? name,
        policy: o.policy ?? options.policy ?? 'lru',
        seed: o.seed ?? options.seed ?? 0,
      });
    const levels = new TlbLevels(
      level(options.l1d, 'dTLB'),
      options.l1i ? level(options.l1i, 'iTLB') : null,
      options.l2 ? level(options.l2, 'STLB') : null,
      options.inclusive ?? false,
    );
    const name = options.name ?? 'tlb-hierarchy';
    // An L2 hit is copied into the L1: each L1 must hold (or splinter) every size the L2 holds.
    for (const l1 of [levels.l1d, levels.l1i]) {
      for (const shift of levels.l2?.pageShifts() ?? []) {
        if (l1 && !l1.canCache(shift)) {
          throw new RangeError(
            `TLB hierarchy ${name}: ${l1.name} cannot hold page shift ${shift}, which ${levels.l2!.name} caches`,
          );
        }
      }
    }
    super(name, levels.l1d, levels);
    this.l1d = levels.l1d;
    this.l1i = levels.l1i;
    this.l2 = levels.l2;
    this.inclusive = levels.inclusive;
    this.instruction = levels.l1i ? new TlbPath(`${name}/instruction`, levels.l1i, levels) : this;
  }

  /** The data path (the hierarchy itself). */
  get data(): TlbPath {
    return this;
  }

  /** Every level, L1s first. */
  get tlbs(): readonly SetAssocTlb[] {
    return this.levels.tlbs;
  }

  /** Each level's own counters (copies). */
  levelStats(): TlbLevelStats {
    return {
      l1d: { ...this.l1d.stats },
      l1i: this.l1i ? { ...this.l1i.stats } : null,
      l2: this.l2 ? { ...this.l2.stats } : null,
    };
  }

  /** Reset the counters of both paths and of every level. */
  override resetStats(): void {
    super.resetStats();
    if (this.instruction !== this) this.instruction.resetStats();
    for (const t of this.levels.tlbs) t.resetStats();
  }
}

/**
 * A TLB hierarchy: L1 dTLB (+ optional iTLB) and optional shared L2. With no options, the
 * Skylake-like `SKYLAKE_TLB`.
 */
export function createTlbHierarchy(options: TlbHierarchyOptions = SKYLAKE_TLB): TlbHierarchy {
  return new TlbHierarchy(options);
}
