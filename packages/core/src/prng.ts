/**
 * Prng — the machine's seeded pseudo-random number generator.
 *
 * The simulator is deterministic: one seed per machine gives the same allocations, the same
 * log and the same statistics on every run and in every JavaScript engine, so runs can be
 * replayed and diffed. Math.random() is never used. This is sfc32 (Chris Doty-Humphrey's
 * Small Fast Counting generator, 128-bit state, period at least 2^32 thanks to its counter,
 * passes PractRand): a few 32-bit adds, shifts and xors per number, no allocation. The
 * state is a Uint32Array(4) that can be saved and restored.
 *
 * Seeds: a number is expanded with splitmix32; a string is hashed with cyrb128. Either way
 * the first 12 outputs are discarded so that similar seeds give unrelated streams.
 * `fork(label)` derives an independent child stream (for one subsystem, one CPU, …)
 * deterministically from the parent.
 *
 * Linux has no counterpart here (its prandom is not what we simulate); the point is
 * reproducibility of the simulated workloads.
 */

const TWO_32 = 4294967296;

/** splitmix32 step: returns the next output for `state` (caller advances by 0x9e3779b9). */
function splitmix32(state: number): number {
  let z = state >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** cyrb128: a fast 128-bit string hash (public domain, bryc). */
function cyrb128(text: string, out: Uint32Array): void {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  out[0] = h1;
  out[1] = h2;
  out[2] = h3;
  out[3] = h4;
}

export type PrngSeed = number | string;

export class Prng {
  private readonly s = new Uint32Array(4);

  /** A generator seeded from a number (any finite value) or a string. */
  constructor(seed: PrngSeed = 0) {
    if (typeof seed === 'string') {
      cyrb128(seed, this.s);
    } else if (typeof seed === 'number' && Number.isFinite(seed)) {
      // Both 32-bit halves of an integer seed matter; other numbers go through their text.
      if (Number.isSafeInteger(seed)) {
        const lo = seed >>> 0;
        const hi = Math.floor(seed / TWO_32) >>> 0;
        let x = (lo ^ Math.imul(hi, 0x85ebca6b)) >>> 0;
        for (let i = 0; i < 4; i++) {
          x = (x + 0x9e3779b9) >>> 0;
          this.s[i] = splitmix32(x);
        }
      } else {
        cyrb128(String(seed), this.s);
      }
    } else {
      throw new TypeError(`Prng seed ${String(seed)}: expected a finite number or a string`);
    }
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** The next 32-bit unsigned integer (sfc32). */
  nextU32(): number {
    const s = this.s;
    const a = s[0]!;
    const b = s[1]!;
    const c = s[2]!;
    const d = s[3]!;
    const t = (((a + b) | 0) + d) | 0;
    s[3] = d + 1;
    s[0] = b ^ (b >>> 9);
    s[1] = c + (c << 3);
    s[2] = ((c << 21) | (c >>> 11)) + t;
    return t >>> 0;
  }

  /** A float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextU32() / TWO_32;
  }

  /** An unbiased integer in [0, maxExclusive), maxExclusive a positive integer up to 2^53. */
  nextInt(maxExclusive: number): number {
    if (!Number.isSafeInteger(maxExclusive) || maxExclusive < 1) {
      if (maxExclusive !== 2 ** 53) {
        throw new RangeError(`Prng.nextInt(${String(maxExclusive)}): expected an integer 1..2^53`);
      }
    }
    if (maxExclusive <= TWO_32) {
      // Rejection sampling: discard the top partial bucket so every residue is equally likely.
      const limit = TWO_32 - (TWO_32 % maxExclusive);
      let r = this.nextU32();
      while (r >= limit) r = this.nextU32();
      return r % maxExclusive;
    }
    // Wider ranges: 53 random bits, rejecting the partial top bucket.
    const TWO_53 = 2 ** 53;
    const limit = TWO_53 - (TWO_53 % maxExclusive);
    for (;;) {
      const r = (this.nextU32() >>> 11) * TWO_32 + this.nextU32();
      if (r < limit) return r % maxExclusive;
    }
  }

  /** An integer in [min, maxInclusive]. */
  nextRange(min: number, maxInclusive: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(maxInclusive) || maxInclusive < min) {
      throw new RangeError(
        `Prng.nextRange(${min}, ${maxInclusive}): expected integers with min <= max`,
      );
    }
    return min + this.nextInt(maxInclusive - min + 1);
  }

  /** true with probability `p` (default 1/2). */
  nextBool(p = 0.5): boolean {
    return this.next() < p;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(array: ArrayLike<T>): T {
    if (array.length === 0) throw new RangeError('Prng.pick: the array is empty');
    return array[this.nextInt(array.length)]!;
  }

  /** Shuffle in place (Fisher–Yates) and return the same array. */
  shuffle<A extends { length: number; [index: number]: unknown }>(array: A): A {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = array[i];
      array[i] = array[j];
      array[j] = t;
    }
    return array;
  }

  /**
   * An independent child generator. It is seeded from four outputs of this one (so this
   * stream advances by four) mixed with the hash of `label`: the same parent state and
   * label always give the same child, and different labels give unrelated children.
   */
  fork(label = ''): Prng {
    const h = new Uint32Array(4);
    cyrb128(label, h);
    const child = new Prng(0);
    const cs = new Uint32Array(4);
    for (let i = 0; i < 4; i++) cs[i] = this.nextU32() ^ h[i]!;
    child.setState(cs);
    for (let i = 0; i < 12; i++) child.nextU32();
    return child;
  }

  /** A copy of the 128-bit state. */
  getState(): Uint32Array {
    return this.s.slice();
  }

  /** Restore a state from getState() (four 32-bit words). */
  setState(state: Uint32Array | readonly number[]): void {
    if (state.length !== 4) {
      throw new RangeError(`Prng.setState: expected 4 words, got ${state.length}`);
    }
    for (let i = 0; i < 4; i++) {
      const w = state[i]!;
      if (!Number.isInteger(w) || w < 0 || w >= TWO_32) {
        throw new RangeError(`Prng.setState: word ${i} (${w}) is not a 32-bit unsigned integer`);
      }
      this.s[i] = w;
    }
  }
}
