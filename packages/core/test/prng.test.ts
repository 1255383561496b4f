import { describe, expect, it } from 'vitest';
import { Prng } from '../src/prng.js';

const take = (p: Prng, n: number): number[] => Array.from({ length: n }, () => p.nextU32());

describe('Prng determinism', () => {
  it('gives the same sequence for the same seed, number or string', () => {
    expect(take(new Prng(42), 20)).toEqual(take(new Prng(42), 20));
    expect(take(new Prng('machine-1'), 20)).toEqual(take(new Prng('machine-1'), 20));
  });

  it('gives different sequences for different seeds, including nearby and large ones', () => {
    const seqs = [0, 1, 2, 2 ** 32, 2 ** 32 + 1, 'a', 'b', 0.5].map((s) =>
      take(new Prng(s), 8).join(','),
    );
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('returns 32-bit unsigned integers and floats in [0, 1)', () => {
    const p = new Prng(7);
    let bad = 0;
    for (let i = 0; i < 10000; i++) {
      const u = p.nextU32();
      if (!(Number.isInteger(u) && u >= 0 && u < 2 ** 32)) bad++;
      const f = p.next();
      if (!(f >= 0 && f < 1)) bad++;
    }
    expect(bad).toBe(0);
  });

  it('rejects seeds that are not finite numbers or strings', () => {
    expect(() => new Prng(Number.NaN)).toThrow(TypeError);
    expect(() => new Prng({} as unknown as number)).toThrow(TypeError);
  });
});

describe('Prng integers', () => {
  it('keeps nextInt in range and roughly uniform', () => {
    const p = new Prng(1);
    const counts = new Array<number>(10).fill(0);
    const n = 100000;
    for (let i = 0; i < n; i++) counts[p.nextInt(10)]!++;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(n);
    for (const c of counts) expect(Math.abs(c - n / 10)).toBeLessThan(n / 10 / 10);
    expect(p.nextInt(1)).toBe(0);
  });

  it('is unbiased for a range that does not divide 2^32', () => {
    // With r % 3e9 and no rejection, values below 2^32 - 3e9 would be twice as likely.
    const p = new Prng(3);
    let low = 0;
    const n = 40000;
    const cut = 2 ** 32 - 3e9;
    for (let i = 0; i < n; i++) if (p.nextInt(3e9) < cut) low++;
    expect(Math.abs(low / n - cut / 3e9)).toBeLessThan(0.02);
  });

  it('covers ranges wider than 2^32', () => {
    const p = new Prng(9);
    let above = 0;
    for (let i = 0; i < 1000; i++) {
      const v = p.nextInt(2 ** 40);
      expect(v >= 0 && v < 2 ** 40 && Number.isInteger(v)).toBe(true);
      if (v >= 2 ** 39) above++;
    }
    expect(above).toBeGreaterThan(400);
    expect(above).toBeLessThan(600);
  });

  it('gives inclusive ranges and rejects bad bounds', () => {
    const p = new Prng(5);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(p.nextRange(-2, 2));
    expect([...seen].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2]);
    expect(() => p.nextInt(0)).toThrow(RangeError);
    expect(() => p.nextInt(1.5)).toThrow(RangeError);
    expect(() => p.nextRange(3, 2)).toThrow(RangeError);
  });
});

describe('Prng collections', () => {
  it('picks elements of the array and refuses an empty one', () => {
    const p = new Prng(11);
    const items = ['a', 'b', 'c'];
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) seen.add(p.pick(items));
    expect([...seen].sort()).toEqual(items);
    expect(() => p.pick([])).toThrow(RangeError);
  });

  it('shuffles in place into a permutation, typed arrays too', () => {
    const p = new Prng(12);
    const a = Array.from({ length: 50 }, (_, i) => i);
    const same = p.shuffle(a);
    expect(same).toBe(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    const t = new Uint32Array([1, 2, 3, 4, 5, 6, 7, 8]);
    p.shuffle(t);
    expect([...t].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('Prng streams', () => {
  it('forks deterministic, label-dependent children independent of the parent', () => {
    const a = new Prng(99);
    const b = new Prng(99);
    expect(take(a.fork('cpu0'), 10)).toEqual(take(b.fork('cpu0'), 10));
    expect(take(a, 5)).toEqual(take(b, 5));
    const x = new Prng(99).fork('slab');
    const y = new Prng(99).fork('buddy');
    expect(take(x, 10)).not.toEqual(take(y, 10));
    const parent = new Prng(99);
    const child = parent.fork();
    expect(take(child, 10)).not.toEqual(take(parent, 10));
  });

  it('saves and restores its state', () => {
    const p = new Prng('state');
    take(p, 17);
    const state = p.getState();
    const next = take(p, 20);
    p.setState(state);
    expect(take(p, 20)).toEqual(next);
    const q = new Prng(0);
    q.setState(Array.from(state));
    take(q, 20);
    expect(q.getState()).toEqual(p.getState());
    expect(state).toBeInstanceOf(Uint32Array);
    expect(() => p.setState([1, 2, 3])).toThrow(RangeError);
    expect(() => p.setState([1, 2, 3, -1])).toThrow(RangeError);
  });
});
