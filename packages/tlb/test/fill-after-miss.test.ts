/**
 * The fill after a miss (insert() of the address a lookup()/translate() just missed, which
 * skips the search of the set) leaves a TLB exactly as the general insert() does: two TLBs
 * run the same random operations, one inserting at the missed address (the shortcut), the
 * other one byte further into the same page (the general path), and must agree on every
 * answer, counter, victim record, entry and policy state — for every policy and layout.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createTlb,
  LruPolicy,
  type PolicyName,
  type SetAssocTlb,
  type TlbOptions,
} from '../src/index.js';

const K4 = 4096;
const POLICIES: PolicyName[] = ['lru', 'plru', 'fifo', 'nru', 'random'];
const LAYOUTS: TlbOptions[] = [
  { entries: 16, ways: 4 },
  { entries: 8 },
  { entries: 8, ways: 1 },
  { entries: 24, ways: 12 },
  {
    arrays: [
      { entries: 16, ways: 4, pageShift: 12 },
      { entries: 4, ways: 2, pageShift: 21 },
    ],
  },
];

type Op =
  | { op: 'lookup' | 'translate' | 'insert' | 'fill'; vpn: number; asid: number; global: boolean }
  | { op: 'flushPage' | 'flushAsid'; vpn: number; asid: number }
  | { op: 'flushAll' | 'flushNonGlobal' }
  | {
      op: 'between';
      vpn: number;
      asid: number;
      global: boolean;
      between: (typeof BETWEEN)[number];
      other: number;
      otherAsid: number;
    };

/** What can happen between a miss and its fill: each must make the fill search the set. */
const BETWEEN = [
  'flushPage',
  'flushAsid',
  'flushAll',
  'flushNonGlobal',
  'flushRange',
  'insertOther',
  'lookupOther',
] as const;

const vpnArb = fc.integer({ min: 0, max: 47 }).map((v) => (v < 40 ? v : 2 ** 35 + v));
const asidArb = fc.integer({ min: 0, max: 2 });
const globalArb = fc.integer({ min: 0, max: 7 }).map((x) => x === 0);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      op: fc.constantFrom('lookup' as const, 'translate' as const, 'insert' as const),
      vpn: vpnArb,
      asid: asidArb,
      global: globalArb,
    }),
  },
  {
    weight: 12,
    arbitrary: fc.record({
      op: fc.constant('fill' as const),
      vpn: vpnArb,
      asid: asidArb,
      global: globalArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constantFrom('flushPage' as const, 'flushAsid' as const),
      vpn: vpnArb,
      asid: asidArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom({ op: 'flushAll' as const }, { op: 'flushNonGlobal' as const }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('between' as const),
      vpn: vpnArb,
      asid: asidArb,
      global: globalArb,
      between: fc.constantFrom(...BETWEEN),
      other: vpnArb,
      otherAsid: asidArb,
    }),
  },
);

/** Everything observable about a TLB. */
function state(t: SetAssocTlb) {
  const p = t.policy() as unknown as Record<string, unknown>;
  const policyState = ['stamp', 'bits', 'ref'].map((k) =>
    ArrayBuffer.isView(p[k]) ? Array.from(p[k] as Float64Array) : null,
  );
  return {
    stats: { ...t.stats },
    entries: t.entries(),
    evicted: [
      t.lastEvictedValid,
      t.lastEvictedVpn,
      t.lastEvictedShift,
      t.lastEvictedAsid,
      t.lastEvictedGlobal,
    ],
    policyState,
  };
}

describe('insert() right after a miss', () => {
  for (const layout of LAYOUTS) {
    for (const policy of POLICIES) {
      it(`equals the general insert: ${policy}, ${JSON.stringify(layout)}`, () => {
        fc.assert(
          fc.property(
            fc.array(fc.tuple(opArb, fc.boolean()), { maxLength: 160 }),
            fc.integer({ min: 0, max: 4094 }),
            (ops, off) => {
              const fast = createTlb({ ...layout, policy, seed: 3 });
              const slow = createTlb({ ...layout, policy, seed: 3 });
              let n = 0;
              let last = { vpn: 0, asid: 0 };
              for (const [op, same] of ops) {
                n++;
                // Half the operations reuse the previous page and address space, so that a miss
                // is often followed by its fill, or by a flush or a fill of another page first.
                const o: Op = 'vpn' in op && same ? { ...op, vpn: last.vpn, asid: last.asid } : op;
                if ('vpn' in o) last = o;
                const va = 'vpn' in o ? o.vpn * K4 + off : 0;
                const pa = (n % 1000) * K4;
                const run = (t: SetAssocTlb, insertVa: number): number[] => {
                  switch (o.op) {
                    case 'lookup':
                      return [t.lookup(va, o.asid)];
                    case 'translate':
                      return [t.translate(va, o.asid, 1), t.lastSlot];
                    case 'insert':
                      return [t.insert(insertVa, o.asid, pa, 12, n & 3, o.global)];
                    case 'fill': {
                      const r = t.translate(va, o.asid, 0);
                      if (r >= 0) return [r];
                      return [r, t.insert(insertVa, o.asid, pa, 12, n & 3, o.global)];
                    }
                    case 'flushPage':
                      t.flushPage(va, o.asid);
                      return [];
                    case 'flushAsid':
                      t.flushAsid(o.asid);
                      return [];
                    case 'flushAll':
                      t.flushAll();
                      return [];
                    case 'flushNonGlobal':
                      t.flushNonGlobal();
                      return [];
                    case 'between': {
                      const r = [t.translate(va, o.asid, 0)];
                      const other = o.other * K4;
                      switch (o.between) {
                        case 'flushPage':
                          t.flushPage(other, o.otherAsid);
                          break;
                        case 'flushAsid':
                          t.flushAsid(o.otherAsid);
                          break;
                        case 'flushAll':
                          t.flushAll();
                          break;
                        case 'flushNonGlobal':
                          t.flushNonGlobal();
                          break;
                        case 'flushRange':
                          t.flushRange(other, other + 3 * K4, o.otherAsid);
                          break;
                        case 'insertOther':
                          r.push(t.insert(other, o.otherAsid, pa + K4, 12, 0, false));
                          break;
                        case 'lookupOther':
                          r.push(t.lookup(other, o.otherAsid));
                          break;
                      }
                      r.push(t.insert(insertVa, o.asid, pa, 12, n & 3, o.global));
                      return r;
                    }
                  }
                };
                // The shortcut is taken only for the very address that missed: va + 1 (same
                // page) takes the general path.
                expect(run(fast, va)).toEqual(run(slow, va + 1));
                expect(state(fast)).toEqual(state(slow));
              }
            },
          ),
          { numRuns: 100 },
        );
      });
    }
  }
});

describe('LRU/FIFO victim without branches', () => {
  it('is the first way with the smallest stamp, ties included', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 13 })
          .chain((ways) =>
            fc.array(fc.integer({ min: 0, max: 6 }), { minLength: ways * 2, maxLength: ways * 2 }),
          ),
        (stamps) => {
          const ways = stamps.length / 2;
          const p = new LruPolicy(2, ways);
          p.stamp.set(stamps.map((s) => s * 2 ** 40 + 1));
          for (let set = 0; set < 2; set++) {
            const mine = stamps.slice(set * ways, (set + 1) * ways);
            expect(p.victim(set)).toBe(mine.indexOf(Math.min(...mine)));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
