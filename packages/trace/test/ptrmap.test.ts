import { describe, expect, it } from 'vitest';
import { PtrMap } from '../src/ptrmap.js';

describe('PtrMap', () => {
  it('agrees with a Map through inserts, deletes and growth, for keys up to 2^48', () => {
    const m = new PtrMap(4);
    const ref = new Map<number, number>();
    let x = 12345;
    const rnd = () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x;
    };
    for (let i = 0; i < 50_000; i++) {
      const key = (rnd() % 3000) * 0x1_0000_0001 + (i % 7); // collide in the low bits
      if (rnd() % 3 === 0) expect(m.delete(key)).toBe(ref.delete(key));
      else {
        m.set(key, i);
        ref.set(key, i);
      }
    }
    expect(m.size).toBe(ref.size);
    for (const [k, v] of ref) expect(m.get(k)).toBe(v);
    expect(m.get(2 ** 48 - 1)).toBe(-1);
    const seen = new Map<number, number>();
    m.forEach((k, v) => {
      seen.set(k, v);
    });
    expect(seen).toEqual(ref);
    m.clear();
    expect(m.size).toBe(0);
    expect(m.has([...ref.keys()][0]!)).toBe(false);
  });
});
