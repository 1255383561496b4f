/**
 * A hash map from a traced pointer or pfn (an integer below 2^53) to a number, in typed
 * arrays: open addressing with linear probing and tombstones. A JS Map keyed by such numbers
 * (mostly above 2^30, so heap numbers, not small integers) costs the replay a quarter of its
 * time; this costs no allocation per entry.
 */
const EMPTY = 0;
const FULL = 1;
const DELETED = 2;

export class PtrMap {
  private keys: Float64Array;
  private vals: Float64Array;
  private state: Uint8Array;
  private mask: number;
  /** Live entries. */
  size = 0;
  private deleted = 0;

  constructor(capacity = 1024) {
    let n = 16;
    while (n < capacity * 2) n *= 2;
    this.keys = new Float64Array(n);
    this.vals = new Float64Array(n);
    this.state = new Uint8Array(n);
    this.mask = n - 1;
  }

  private slotOf(key: number): number {
    const lo = key >>> 0;
    const hi = (key / 4294967296) >>> 0;
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    return h & this.mask;
  }

  /** The slot holding `key`, or -1. */
  private find(key: number): number {
    let i = this.slotOf(key);
    for (;;) {
      const s = this.state[i]!;
      if (s === EMPTY) return -1;
      if (s === FULL && this.keys[i] === key) return i;
      i = (i + 1) & this.mask;
    }
  }

  has(key: number): boolean {
    return this.find(key) >= 0;
  }

  /** The value for `key`, or -1 when there is none (values stored are never negative). */
  get(key: number): number {
    const i = this.find(key);
    return i < 0 ? -1 : this.vals[i]!;
  }

  set(key: number, value: number): void {
    let i = this.slotOf(key);
    let free = -1;
    for (;;) {
      const s = this.state[i]!;
      if (s === EMPTY) break;
      if (s === FULL && this.keys[i] === key) {
        this.vals[i] = value;
        return;
      }
      if (s === DELETED && free < 0) free = i;
      i = (i + 1) & this.mask;
    }
    if (free >= 0) {
      i = free;
      this.deleted--;
    }
    this.keys[i] = key;
    this.vals[i] = value;
    this.state[i] = FULL;
    this.size++;
    if ((this.size + this.deleted) * 2 > this.mask + 1) this.rehash();
  }

  delete(key: number): boolean {
    const i = this.find(key);
    if (i < 0) return false;
    this.state[i] = DELETED;
    this.size--;
    this.deleted++;
    return true;
  }

  clear(): void {
    this.state.fill(EMPTY);
    this.size = 0;
    this.deleted = 0;
  }

  /** Call fn(key, value) for each entry (the map must not change meanwhile). */
  forEach(fn: (key: number, value: number) => void): void {
    for (let i = 0; i <= this.mask; i++)
      if (this.state[i] === FULL) fn(this.keys[i]!, this.vals[i]!);
  }

  private rehash(): void {
    const { keys, vals, state } = this;
    let n = this.mask + 1;
    if (this.size * 4 > n) n *= 2;
    this.keys = new Float64Array(n);
    this.vals = new Float64Array(n);
    this.state = new Uint8Array(n);
    this.mask = n - 1;
    this.size = 0;
    this.deleted = 0;
    for (let i = 0; i < state.length; i++) if (state[i] === FULL) this.set(keys[i]!, vals[i]!);
  }
}
