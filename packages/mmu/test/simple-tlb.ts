/**
 * A small fully associative TLB with round-robin replacement — the `Tlb` interface at its
 * simplest, for the MMU's tests (independent of @mmsim/tlb, so that the walker is tested
 * alone).
 */
import type { Tlb, TlbStats, VirtAddr } from '@mmsim/core';

export class SimpleTlb implements Tlb {
  readonly name = 'simple';
  readonly stats: TlbStats = { hits: 0, misses: 0, evictions: 0, flushes: 0 };
  private readonly valid: Uint8Array;
  private readonly tag: Float64Array;
  private readonly asid: Int32Array;
  private readonly pa: Float64Array;
  private readonly shift: Uint8Array;
  private readonly flags: Int32Array;
  private readonly global: Uint8Array;
  private next = 0;

  constructor(readonly entries = 64) {
    this.valid = new Uint8Array(entries);
    this.tag = new Float64Array(entries);
    this.asid = new Int32Array(entries);
    this.pa = new Float64Array(entries);
    this.shift = new Uint8Array(entries);
    this.flags = new Int32Array(entries);
    this.global = new Uint8Array(entries);
  }

  private matches(i: number, va: VirtAddr, asid: number): boolean {
    return (
      this.valid[i] === 1 &&
      this.tag[i] === Math.floor(va / 2 ** this.shift[i]!) &&
      (this.global[i] === 1 || this.asid[i] === asid)
    );
  }

  lastSlot = -1;

  translate(va: VirtAddr, asid: number, need: number): number {
    const i = this.lookup(va, asid);
    if (i < 0) return -1;
    if ((this.flags[i]! & need) !== need) {
      this.lastSlot = i;
      return -2;
    }
    return this.pa[i]! + (va - this.tag[i]! * 2 ** this.shift[i]!);
  }

  lookup(va: VirtAddr, asid: number): number {
    for (let i = 0; i < this.entries; i++) {
      if (this.matches(i, va, asid)) {
        this.stats.hits++;
        return i;
      }
    }
    this.stats.misses++;
    return -1;
  }

  insert(
    va: VirtAddr,
    asid: number,
    pa: number,
    pageShift: number,
    flags: number,
    global: boolean,
  ) {
    const i = this.next;
    this.next = (this.next + 1) % this.entries;
    if (this.valid[i]) this.stats.evictions++;
    this.valid[i] = 1;
    this.tag[i] = Math.floor(va / 2 ** pageShift);
    this.asid[i] = asid;
    this.pa[i] = pa;
    this.shift[i] = pageShift;
    this.flags[i] = flags;
    this.global[i] = global ? 1 : 0;
    return i;
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
  entryPageShift(slot: number): number {
    return this.shift[slot]!;
  }
  flushAll(): void {
    this.stats.flushes++;
    this.valid.fill(0);
  }
  flushNonGlobal(): void {
    this.stats.flushes++;
    for (let i = 0; i < this.entries; i++) if (!this.global[i]) this.valid[i] = 0;
  }
  flushAsid(asid: number): void {
    this.stats.flushes++;
    for (let i = 0; i < this.entries; i++) {
      if (!this.global[i] && this.asid[i] === asid) this.valid[i] = 0;
    }
  }
  flushPage(va: VirtAddr, asid: number): void {
    this.stats.flushes++;
    for (let i = 0; i < this.entries; i++) if (this.matches(i, va, asid)) this.valid[i] = 0;
  }
  flushRange(start: VirtAddr, end: VirtAddr, asid: number): void {
    this.stats.flushes++;
    for (let i = 0; i < this.entries; i++) {
      if (!this.valid[i] || !(this.global[i] || this.asid[i] === asid)) continue;
      const size = 2 ** this.shift[i]!;
      const base = this.tag[i]! * size;
      if (base < end && base + size > start) this.valid[i] = 0;
    }
  }
  /** Valid entries (for tests). */
  get used(): number {
    return this.valid.reduce((a, b) => a + b, 0);
  }
  resetStats(): void {
    this.stats.hits = this.stats.misses = this.stats.evictions = this.stats.flushes = 0;
  }
}
