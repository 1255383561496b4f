/**
 * Invariants of every slab allocator under random sequences of kmem_cache_create / alloc /
 * zalloc / kmalloc / free / shrink / destroy, checked after every step against a model of
 * the live objects kept here: no two live objects overlap, each lies in a slab page (or a
 * large kmalloc's pages), the 8-byte tag written into each object on allocation is intact
 * when it is freed, verify() finds nothing, cacheInfo() counts cover the live objects, and
 * at the end every page is back in the page allocator.
 */
import {
  __GFP_ZERO,
  GFP_KERNEL,
  type KmemCache,
  PAGE_SIZE,
  PGTY_buddy,
  PGTY_slab,
  pfnToVirt,
  SLAB_HWCACHE_ALIGN,
  SLAB_RECLAIM_ACCOUNT,
  type SlabAllocator,
  type SlabEnv,
  virtToPfn,
  virtToPhys,
} from '@mmsim/core';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import * as slab from '../src/index.js';
import { freePages, makeSlabEnv, type TestMachine } from './env.js';

type Factory = (env: SlabEnv) => SlabAllocator;

// SLAB and SLOB are looked up by name: index.ts exports them only once they are done.
const exported = slab as unknown as Record<string, unknown>;
const IMPLEMENTATIONS: [string, Factory][] = [
  ['slub', (env) => slab.createSlub(env)],
  ["slub with slab_debug='FZPU'", (env) => slab.createSlub(env, { slabDebug: 'FZPU' })],
  ['slub with a random freelist', (env) => slab.createSlub(env, { freelistRandom: true, seed: 3 })],
];
for (const [name, fn] of [
  ['slab', 'createSlab'],
  ['slob', 'createSlob'],
] as const) {
  const f = exported[fn];
  if (typeof f === 'function') IMPLEMENTATIONS.push([name, (env) => (f as Factory)(env)]);
}
console.log(`slab properties: running ${IMPLEMENTATIONS.map(([n]) => n).join(', ')}`);

type Cmd =
  | { kind: 'create'; size: number; align: number; flags: number }
  | { kind: 'alloc'; pick: number; zero: boolean }
  | { kind: 'kmalloc'; size: number; zero: boolean }
  | { kind: 'free'; pick: number }
  | { kind: 'shrink'; pick: number }
  | { kind: 'destroy'; pick: number }
  | { kind: 'cpu'; cpu: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('create' as const),
      size: fc.oneof(fc.integer({ min: 1, max: 256 }), fc.integer({ min: 1, max: 3000 })),
      align: fc.constantFrom(0, 8, 64),
      flags: fc.constantFrom(0, SLAB_HWCACHE_ALIGN, SLAB_RECLAIM_ACCOUNT),
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('alloc' as const),
      pick: fc.nat(),
      zero: fc.boolean(),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('kmalloc' as const),
      size: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 1, max: 512 }) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 10000 }) },
      ),
      zero: fc.boolean(),
    }),
  },
  { weight: 9, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('shrink' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('destroy' as const), pick: fc.nat() }) },
  // Move to the other CPU (on the other node): frees become remote frees into another CPU's
  // slab, allocations come from the other node's lists.
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cpu' as const), cpu: fc.nat(1) }) },
);

/** Two nodes with one CPU each, so that CPU switches are also node switches. */
const MACHINE = {
  nodes: [
    { memory: '32M', cpus: 1 },
    { memory: '32M', cpus: 1 },
  ],
};

/** A cache this run created (two entries may share a handle when the allocator merged them). */
interface Created {
  s: KmemCache;
  name: string;
  destroyed: boolean;
  /** The alignment asked for (0: none). */
  align: number;
}
/** A live object: usable = object_size (cache) or the request size (kmalloc). */
interface Live {
  addr: number;
  usable: number;
  /** The entry it came from, or null for kmalloc. */
  from: Created | null;
}

/** The model and the machine of one run. */
class Run {
  readonly t: TestMachine;
  readonly a: SlabAllocator;
  readonly baseline: number;
  readonly created: Created[] = [];
  readonly live: Live[] = [];
  private step = 0;

  constructor(factory: Factory) {
    this.t = makeSlabEnv(MACHINE);
    this.a = factory(this.t.env);
    this.baseline = freePages(this.t);
  }

  fail(msg: string): never {
    throw new Error(`step ${this.step}: ${msg}`);
  }

  /** Write the object's address (little endian) into its first min(8, usable) bytes. */
  tag(o: Live): void {
    const mem = this.t.env.memory;
    const p = virtToPhys(o.addr);
    const n = Math.min(8, o.usable);
    for (let i = 0; i < n; i++) mem.write8(p + i, Math.floor(o.addr / 2 ** (8 * i)) & 0xff);
  }
  checkTag(o: Live, when: string): void {
    const mem = this.t.env.memory;
    const p = virtToPhys(o.addr);
    const n = Math.min(8, o.usable);
    for (let i = 0; i < n; i++) {
      const want = Math.floor(o.addr / 2 ** (8 * i)) & 0xff;
      const got = mem.read8(p + i);
      if (got !== want) {
        this.fail(
          `${when}: byte ${i} of the tag of 0x${o.addr.toString(16)} is 0x${got.toString(16)}, expected 0x${want.toString(16)}`,
        );
      }
    }
  }

  /** Entries that may be used: created and not destroyed. */
  usable(): Created[] {
    return this.created.filter((c) => !c.destroyed);
  }

  apply(cmd: Cmd): void {
    this.step++;
    const a = this.a;
    switch (cmd.kind) {
      case 'cpu':
        this.t.env.ctx.setCpu(cmd.cpu);
        break;
      case 'create': {
        const name = `prop_${this.created.length}`;
        const s = a.kmem_cache_create(name, cmd.size, cmd.align, cmd.flags, null);
        if (s === null)
          this.fail(`kmem_cache_create(${name}, ${cmd.size}, ${cmd.align}) returned null`);
        if (s.object_size < cmd.size)
          this.fail(`${name}: object_size ${s.object_size} < ${cmd.size}`);
        // A merged cache keeps its own align: Linux merges when the existing object size is
        // a multiple of the alignment asked for (mm/slab_common.c find_mergeable()), which
        // keeps every object aligned.
        if (cmd.align && s.align % cmd.align !== 0 && s.size % cmd.align !== 0)
          this.fail(`${name}: align ${s.align}, size ${s.size} vs ${cmd.align}`);
        this.created.push({ s, name, destroyed: false, align: cmd.align });
        break;
      }
      case 'alloc': {
        const list = this.usable();
        if (list.length === 0) return;
        const c = list[cmd.pick % list.length]!;
        const addr = cmd.zero
          ? a.kmem_cache_zalloc(c.s, GFP_KERNEL)
          : a.kmem_cache_alloc(c.s, GFP_KERNEL);
        if (addr === 0) this.fail(`kmem_cache_alloc(${c.name}) returned NULL`);
        const align = Math.max(c.s.align, c.align);
        if (addr % align !== 0) {
          this.fail(`${c.name} object 0x${addr.toString(16)} is not aligned to ${align}`);
        }
        if (cmd.zero) {
          const off = this.t.env.memory.findNot(virtToPhys(addr), c.s.object_size, 0);
          if (off >= 0) this.fail(`kmem_cache_zalloc(${c.name}) byte ${off} is not zero`);
        }
        const o: Live = { addr, usable: c.s.object_size, from: c };
        this.tag(o);
        this.live.push(o);
        break;
      }
      case 'kmalloc': {
        const addr = a.kmalloc(cmd.size, cmd.zero ? GFP_KERNEL | __GFP_ZERO : GFP_KERNEL);
        if (addr === 0) this.fail(`kmalloc(${cmd.size}) returned NULL`);
        if (a.ksize(addr) < cmd.size)
          this.fail(`ksize of kmalloc(${cmd.size}) is ${a.ksize(addr)}`);
        if (cmd.zero) {
          const off = this.t.env.memory.findNot(virtToPhys(addr), cmd.size, 0);
          if (off >= 0) this.fail(`kzalloc(${cmd.size}) byte ${off} is not zero`);
        }
        const o: Live = { addr, usable: cmd.size, from: null };
        this.tag(o);
        this.live.push(o);
        break;
      }
      case 'free': {
        if (this.live.length === 0) return;
        const i = cmd.pick % this.live.length;
        this.freeLive(i);
        break;
      }
      case 'shrink': {
        const list = this.usable();
        if (list.length === 0 || cmd.pick % (list.length + 1) === list.length) {
          const pages = a.shrinkAll();
          if (!Number.isSafeInteger(pages) || pages < 0) this.fail(`shrinkAll() returned ${pages}`);
          return;
        }
        const before = freePages(this.t);
        const r = a.kmem_cache_shrink(list[cmd.pick % list.length]!.s);
        if (typeof r !== 'number') this.fail(`kmem_cache_shrink returned ${String(r)}`);
        if (freePages(this.t) < before) this.fail('kmem_cache_shrink took pages');
        break;
      }
      case 'destroy': {
        // Only a cache whose handle holds no live object of ours (merged entries share one).
        const list = this.usable().filter((c) => !this.live.some((o) => o.from?.s === c.s));
        if (list.length === 0) return;
        const c = list[cmd.pick % list.length]!;
        const seq = this.t.env.klog.nextSeq;
        a.kmem_cache_destroy(c.s);
        c.destroyed = true;
        const warned = this.t.env.klog.lines(seq).filter((l) => l.includes('still has objects'));
        if (warned.length) this.fail(`destroying the empty ${c.name} reported: ${warned[0]}`);
        break;
      }
    }
  }

  freeLive(i: number): void {
    const o = this.live[i]!;
    this.checkTag(o, 'before free');
    this.live[i] = this.live[this.live.length - 1]!;
    this.live.pop();
    if (o.from) this.a.kmem_cache_free(o.from.s, o.addr);
    else this.a.kfree(o.addr);
  }

  /**
   * Every invariant of the model against the allocator and the machine. verify() walks the
   * whole machine (SLUB's: every pfn per cache, ~25 ms on 'tiny'), so `full` = false leaves
   * it out; the runs ask for it every few steps, after every shrink and destroy, and at the end.
   */
  check(full: boolean): void {
    const mm = this.t.env.memMap;
    const sorted = [...this.live].sort((x, y) => x.addr - y.addr);
    for (let i = 1; i < sorted.length; i++) {
      const p = sorted[i - 1]!;
      const q = sorted[i]!;
      if (p.addr + Math.max(p.usable, 1) > q.addr) {
        this.fail(
          `live objects overlap: [0x${p.addr.toString(16)}, +${p.usable}) and [0x${q.addr.toString(16)}, +${q.usable})`,
        );
      }
    }
    for (const o of this.live) {
      const head = mm.compoundHead(virtToPfn(o.addr));
      const type = mm.pageType[head]!;
      const order = mm.isHead(head) ? mm.order[head]! : 0;
      const end = pfnToVirt(head + 2 ** order);
      if (o.addr + o.usable > end)
        this.fail(`0x${o.addr.toString(16)} +${o.usable} runs past its page block`);
      if (type === PGTY_slab) {
        if (o.from) {
          const c = this.a.virt_to_cache(o.addr);
          if (c !== null && c !== o.from.s) {
            this.fail(
              `virt_to_cache(0x${o.addr.toString(16)}) is ${c.name}, expected ${o.from.s.name}`,
            );
          }
        }
        continue;
      }
      // Not a slab: only a large kmalloc, the first byte of its own allocated pages.
      if (o.from || o.addr !== pfnToVirt(head) || type === PGTY_buddy || mm.refcount[head]! < 1) {
        this.fail(
          `0x${o.addr.toString(16)} (${o.from ? o.from.name : `kmalloc(${o.usable})`}) lies in pfn ${head} of page type 0x${type.toString(16)}, refcount ${mm.refcount[head]}: neither a slab nor a large kmalloc`,
        );
      }
      if (o.usable < PAGE_SIZE / 2) this.fail(`kmalloc(${o.usable}) was served by whole pages`);
    }
    if (full) {
      const problems = this.a.verify();
      if (problems.length) this.fail(`verify(): ${problems.slice(0, 5).join('; ')}`);
    }
    const handles = new Set(this.usable().map((c) => c.s));
    for (const s of handles) {
      const held = this.live.filter((o) => o.from?.s === s).length;
      const info = this.a.cacheInfo(s);
      if (!(info.num_objs >= info.active_objs && info.active_objs >= held)) {
        this.fail(
          `cacheInfo(${s.name}): num_objs ${info.num_objs}, active_objs ${info.active_objs}, ${held} live objects held`,
        );
      }
      if (!(info.num_slabs >= info.active_slabs)) {
        this.fail(
          `cacheInfo(${s.name}): num_slabs ${info.num_slabs} < active_slabs ${info.active_slabs}`,
        );
      }
    }
  }

  /** Free everything, destroy every cache, shrink: every page must be back. */
  finish(): void {
    while (this.live.length) this.freeLive(this.live.length - 1);
    for (const c of this.usable()) {
      this.a.kmem_cache_destroy(c.s);
      c.destroyed = true;
    }
    this.a.shrinkAll();
    const problems = this.a.verify();
    if (problems.length) this.fail(`verify() at the end: ${problems.slice(0, 5).join('; ')}`);
    const warned = this.t.env.klog.grep('still has objects');
    if (warned.length) this.fail(`a destroy reported objects: ${warned[0]!.text}`);
    const now = freePages(this.t);
    if (now !== this.baseline) {
      this.fail(
        `free pages at the end: expected ${this.baseline}, got ${now} (${this.baseline - now} not back)`,
      );
    }
  }
}

for (const [name, factory] of IMPLEMENTATIONS) {
  describe(`SlabAllocator properties: ${name}`, () => {
    it('random create/alloc/kmalloc/free/shrink/destroy keeps objects apart, in slab pages, and gives every page back', () => {
      fc.assert(
        fc.property(fc.array(cmdArb, { minLength: 1, maxLength: 60 }), (cmds) => {
          const run = new Run(factory);
          cmds.forEach((cmd, i) => {
            run.apply(cmd);
            run.check(i % 8 === 7 || cmd.kind === 'shrink' || cmd.kind === 'destroy');
          });
          run.check(true);
          run.finish();
        }),
        {
          numRuns: 40,
          // Found by a random run: SLUB merges a 64-aligned request into an 8-aligned cache
          // whose size is a multiple of 64 (find_mergeable()); the objects must still be 64-aligned.
          examples: [
            [
              [
                { kind: 'create', size: 2937, align: 0, flags: 0 },
                { kind: 'create', size: 2881, align: 64, flags: 0 },
                { kind: 'alloc', pick: 1, zero: false },
                { kind: 'alloc', pick: 1, zero: true },
              ],
            ],
          ],
        },
      );
    }, 60_000);

    it('a long run of small objects in a few caches gives every page back', () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.oneof(
              {
                weight: 8,
                arbitrary: fc.record({
                  kind: fc.constant('alloc' as const),
                  pick: fc.nat(),
                  zero: fc.boolean(),
                }),
              },
              {
                weight: 6,
                arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }),
              },
              {
                weight: 1,
                arbitrary: fc.record({ kind: fc.constant('shrink' as const), pick: fc.nat() }),
              },
            ),
            { minLength: 200, maxLength: 600 },
          ),
          (cmds) => {
            const run = new Run(factory);
            for (const size of [8, 40, 200])
              run.apply({ kind: 'create', size, align: 0, flags: 0 });
            cmds.forEach((cmd, i) => {
              run.apply(cmd);
              run.check(i % 100 === 99);
            });
            run.check(true);
            run.finish();
          },
        ),
        { numRuns: 8 },
      );
    }, 60_000);
  });
}
