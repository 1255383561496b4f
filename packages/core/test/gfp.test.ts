import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KernelOops } from '../src/errors.js';
import {
  __GFP_ACCOUNT,
  __GFP_BITS_MASK,
  __GFP_COMP,
  __GFP_DIRECT_RECLAIM,
  __GFP_DMA,
  __GFP_DMA32,
  __GFP_FS,
  __GFP_HIGHMEM,
  __GFP_IO,
  __GFP_MOVABLE,
  __GFP_NO_OBJ_EXT,
  __GFP_NOLOCKDEP,
  __GFP_NOWARN,
  __GFP_RECLAIM,
  __GFP_RECLAIMABLE,
  __GFP_SKIP_KASAN,
  __GFP_SKIP_ZERO,
  __GFP_THISNODE,
  __GFP_ZERO,
  __GFP_ZEROTAGS,
  assertGfp,
  formatGfp,
  formatGfpMode,
  GFP_ATOMIC,
  GFP_DMA,
  GFP_DMA32,
  GFP_FLAG_NAMES,
  GFP_HIGHUSER,
  GFP_HIGHUSER_MOVABLE,
  GFP_KERNEL,
  GFP_KERNEL_ACCOUNT,
  GFP_MOVABLE_MASK,
  GFP_NOFS,
  GFP_NOIO,
  GFP_NOWAIT,
  GFP_SLAB_BUG_MASK,
  GFP_TRANSHUGE,
  GFP_TRANSHUGE_LIGHT,
  GFP_USER,
  GFP_ZONEMASK,
  gfpAllowsBlocking,
  gfpHasFs,
  gfpHasIo,
  gfpMigratetype,
  gfpThisNode,
  gfpZone,
  isGfpZoneBad,
  isValidGfp,
  parseGfp,
} from '../src/gfp.js';
import {
  MIGRATE_MOVABLE,
  MIGRATE_RECLAIMABLE,
  MIGRATE_UNMOVABLE,
  ZONE_DMA,
  ZONE_DMA32,
  ZONE_MOVABLE,
  ZONE_NORMAL,
} from '../src/zone.js';

const SHARED = fileURLToPath(new URL('../../../../shared/', import.meta.url));
const FORMATS = `${SHARED}reference/linux-6.18/ftrace-kmem-event-formats.txt`;
const TRACE = `${SHARED}traces/linux-6.18-build.kmem.trace.xz`;

describe('GFP values (Linux 6.18, x86-64 reference config)', () => {
  it('has the bit values of include/linux/gfp_types.h', () => {
    expect(__GFP_DMA).toBe(0x1);
    expect(__GFP_HIGHMEM).toBe(0x2);
    expect(__GFP_DMA32).toBe(0x4);
    expect(__GFP_MOVABLE).toBe(0x8);
    expect(__GFP_RECLAIMABLE).toBe(0x10);
    expect(__GFP_ZERO).toBe(0x100);
    expect(__GFP_DIRECT_RECLAIM).toBe(0x400);
    expect(__GFP_ACCOUNT).toBe(0x400000);
    expect(__GFP_ZEROTAGS).toBe(0x800000);
    expect(__GFP_NO_OBJ_EXT).toBe(0x1000000);
    expect([__GFP_SKIP_ZERO, __GFP_SKIP_KASAN, __GFP_NOLOCKDEP]).toEqual([0, 0, 0]);
    expect(__GFP_BITS_MASK).toBe(0x1ffffff);
    expect(__GFP_RECLAIM).toBe(0xc00);
    expect(GFP_ZONEMASK).toBe(0xf);
    expect(GFP_MOVABLE_MASK).toBe(0x18);
  });

  it('has the composite values of LINUX-FACTS 1.2', () => {
    expect(GFP_ATOMIC).toBe(0x820);
    expect(GFP_KERNEL).toBe(0xcc0);
    expect(GFP_KERNEL_ACCOUNT).toBe(0x400cc0);
    expect(GFP_NOWAIT).toBe(0x2800);
    expect(GFP_NOIO).toBe(0xc00);
    expect(GFP_NOFS).toBe(0xc40);
    expect(GFP_USER).toBe(0x100cc0);
    expect(GFP_DMA).toBe(0x1);
    expect(GFP_DMA32).toBe(0x4);
    expect(GFP_HIGHUSER).toBe(0x100cc2);
    expect(GFP_HIGHUSER_MOVABLE).toBe(0x100cca);
    expect(GFP_TRANSHUGE_LIGHT).toBe(0x1c20ca);
    expect(GFP_TRANSHUGE).toBe(0x1c24ca);
    expect(GFP_SLAB_BUG_MASK).toBe(0xfe000006);
  });
});

describe('GFP_FLAG_NAMES', () => {
  it('is the table of the 6.18 kmem:kmalloc print fmt, in order and with the same masks', () => {
    const text = readFileSync(FORMATS, 'utf8');
    const fmt = text
      .split('\n')
      .find((l) => l.startsWith('print fmt: "call_site=%pS ptr=%p bytes_req'));
    expect(fmt).toBeDefined();
    const entries = [...fmt!.matchAll(/\{\( unsigned long\)(.*?), "([A-Z0-9_]+)"\}/g)].map((m) => {
      const expr = m[1]!
        .replaceAll('( gfp_t)', '')
        .replaceAll('( unsigned long)', '')
        .replaceAll('1UL', '1');
      expect(expr).toMatch(/^[\d\s()|&~<>]+$/);
      return { mask: new Function(`return ${expr};`)() as number, name: m[2]! };
    });
    expect(entries.length).toBe(38);
    expect(GFP_FLAG_NAMES.map((f) => ({ mask: f.mask, name: f.name }))).toEqual(entries);
  });

  it('starts with the composites and ends with __GFP_ZEROTAGS, __GFP_NO_OBJ_EXT', () => {
    const names = GFP_FLAG_NAMES.map((f) => f.name);
    expect(names.slice(0, 14)).toEqual([
      'GFP_TRANSHUGE',
      'GFP_TRANSHUGE_LIGHT',
      'GFP_HIGHUSER_MOVABLE',
      'GFP_HIGHUSER',
      'GFP_USER',
      'GFP_KERNEL_ACCOUNT',
      'GFP_KERNEL',
      'GFP_NOFS',
      'GFP_ATOMIC',
      'GFP_NOIO',
      'GFP_NOWAIT',
      'GFP_DMA',
      'GFP_DMA32',
      '__GFP_RECLAIM',
    ]);
    expect(names.slice(-2)).toEqual(['__GFP_ZEROTAGS', '__GFP_NO_OBJ_EXT']);
  });
});

describe('formatGfp: the greedy match of __print_flags / %pGg', () => {
  it('prints composites first and the remaining bits after them', () => {
    expect(formatGfp(GFP_KERNEL)).toBe('GFP_KERNEL');
    expect(formatGfp(0xdc0)).toBe('GFP_KERNEL|__GFP_ZERO');
    expect(formatGfp(0xcc1)).toBe('GFP_KERNEL|GFP_DMA');
    expect(formatGfp(0x2820)).toBe('GFP_ATOMIC|__GFP_NOWARN');
    expect(formatGfp(0xc04)).toBe('GFP_NOIO|GFP_DMA32');
    expect(formatGfp(0x100cca)).toBe('GFP_HIGHUSER_MOVABLE');
    // 5.10 printed __GFP_ZERO after __GFP_NORETRY; the 6.18 table lists plain bits in bit order.
    expect(formatGfp(0x194dc2)).toBe(
      'GFP_HIGHUSER|__GFP_ZERO|__GFP_RETRY_MAYFAIL|__GFP_NORETRY|__GFP_NOMEMALLOC',
    );
    expect(formatGfp(GFP_TRANSHUGE)).toBe('GFP_TRANSHUGE');
    expect(formatGfp(__GFP_DIRECT_RECLAIM)).toBe('__GFP_DIRECT_RECLAIM');
    expect(formatGfp(__GFP_RECLAIM)).toBe('GFP_NOIO');
    expect(formatGfp(0x2000 | 0x800)).toBe('GFP_NOWAIT');
    expect(formatGfp(__GFP_NO_OBJ_EXT | __GFP_ZEROTAGS)).toBe('__GFP_ZEROTAGS|__GFP_NO_OBJ_EXT');
  });

  it('prints unknown bits as lowercase 0x hex after the names', () => {
    expect(formatGfp(GFP_KERNEL | 0x200)).toBe('GFP_KERNEL|0x200');
    expect(formatGfp(0x200)).toBe('0x200');
    expect(formatGfp(0xfe000000)).toBe('0xfe000000');
    expect(formatGfp(0x2000000 | __GFP_ZERO)).toBe('__GFP_ZERO|0x2000000');
  });

  it("prints 0 as the tracepoints do: 'none'", () => {
    expect(formatGfp(0)).toBe('none');
  });

  it('formats warn_alloc mode:%#x(%pGg)', () => {
    expect(formatGfpMode(GFP_KERNEL)).toBe('0xcc0(GFP_KERNEL)');
    expect(formatGfpMode(0x820)).toBe('0x820(GFP_ATOMIC)');
    expect(formatGfpMode(0xcc1)).toBe('0xcc1(GFP_KERNEL|GFP_DMA)');
    expect(formatGfpMode(0)).toBe('0()');
  });

  it('rejects what is not a 32-bit value', () => {
    expect(() => formatGfp(1.5)).toThrow(TypeError);
    expect(() => formatGfp(2 ** 32)).toThrow(TypeError);
  });
});

describe('parseGfp', () => {
  it('reads names, numbers, none and whitespace', () => {
    expect(parseGfp('GFP_KERNEL')).toBe(0xcc0);
    expect(parseGfp('GFP_KERNEL|__GFP_ZERO')).toBe(0xdc0);
    expect(parseGfp(' GFP_KERNEL | __GFP_ZERO ')).toBe(0xdc0);
    expect(parseGfp('__GFP_DMA')).toBe(0x1);
    expect(parseGfp('GFP_DMA32')).toBe(0x4);
    expect(parseGfp('__GFP_RECLAIM')).toBe(0xc00);
    expect(parseGfp('__GFP_SKIP_KASAN')).toBe(0);
    expect(parseGfp('0xcc0')).toBe(0xcc0);
    expect(parseGfp('3264')).toBe(0xcc0);
    expect(parseGfp('GFP_KERNEL|0x200')).toBe(0xec0);
    expect(parseGfp('none')).toBe(0);
    expect(parseGfp('')).toBe(0);
    expect(parseGfp('0xcc1(GFP_KERNEL|GFP_DMA)')).toBe(0xcc1);
    expect(parseGfp('0()')).toBe(0);
  });

  it('names the unknown token and the whole text', () => {
    expect(() => parseGfp('GFP_KERNEL|GFP_BOGUS')).toThrow(
      new TypeError("parseGfp: unknown GFP flag 'GFP_BOGUS' in 'GFP_KERNEL|GFP_BOGUS'"),
    );
    expect(() => parseGfp('GFP_KERNEL||__GFP_ZERO')).toThrow(TypeError);
    expect(() => parseGfp('gfp_kernel')).toThrow(/'gfp_kernel'/);
    expect(() => parseGfp('0x820(GFP_KERNEL)')).toThrow(TypeError);
    expect(() => parseGfp('0x100000000')).toThrow(RangeError);
  });

  it('round-trips every value below 2^25 it prints', () => {
    for (let gfp = 0; gfp < 1 << 25; gfp += 4099) {
      expect(parseGfp(formatGfp(gfp))).toBe(gfp);
    }
  });

  it('round-trips every gfp_flags= string of the real 6.18 kernel-build trace', () => {
    const text = execFileSync('xz', ['-dc', TRACE], { maxBuffer: 1 << 30 }).toString('utf8');
    const seen = new Set<string>();
    for (const m of text.matchAll(/gfp_flags=(\S+)/g)) seen.add(m[1]!);
    expect(seen.size).toBeGreaterThan(30);
    for (const s of seen) expect(formatGfp(parseGfp(s))).toBe(s);
    expect(
      seen.has(
        'GFP_NOFS|__GFP_HIGHMEM|__GFP_MOVABLE|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP|__GFP_HARDWALL',
      ),
    ).toBe(true);
  });
});

describe('gfpZone: GFP_ZONE_TABLE for x86-64', () => {
  it('maps each valid zone-modifier combination as gfp_zone() does', () => {
    expect(gfpZone(0)).toBe(ZONE_NORMAL);
    expect(gfpZone(GFP_KERNEL)).toBe(ZONE_NORMAL);
    expect(gfpZone(0x1)).toBe(ZONE_DMA);
    expect(gfpZone(0x2)).toBe(ZONE_NORMAL);
    expect(gfpZone(0x4)).toBe(ZONE_DMA32);
    expect(gfpZone(0x8)).toBe(ZONE_NORMAL);
    expect(gfpZone(0x9)).toBe(ZONE_DMA);
    expect(gfpZone(0xa)).toBe(ZONE_MOVABLE);
    expect(gfpZone(0xc)).toBe(ZONE_DMA32);
    expect(gfpZone(GFP_HIGHUSER_MOVABLE)).toBe(ZONE_MOVABLE);
    expect(gfpZone(GFP_HIGHUSER)).toBe(ZONE_NORMAL);
    expect(gfpZone(GFP_KERNEL | GFP_DMA)).toBe(ZONE_DMA);
  });

  it('rejects the BAD combinations with a kernel BUG', () => {
    const bad = [0x3, 0x5, 0x6, 0x7, 0xb, 0xd, 0xe, 0xf];
    for (let bit = 0; bit < 16; bit++)
      expect(isGfpZoneBad(GFP_KERNEL | bit)).toBe(bad.includes(bit));
    for (const bit of bad) {
      let caught: unknown;
      try {
        gfpZone(GFP_KERNEL | bit);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(KernelOops);
      const oops = caught as KernelOops;
      expect(oops.kind).toBe('BUG');
      expect(oops.message).toBe('kernel BUG at include/linux/gfp.h:159!');
      expect(oops.report.split('\n')).toEqual([
        '------------[ cut here ]------------',
        'kernel BUG at include/linux/gfp.h:159!',
        'Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI',
      ]);
    }
  });
});

describe('GFP helpers', () => {
  it('gfpMigratetype shifts the mobility bits down, clamping both-set to MOVABLE', () => {
    expect(gfpMigratetype(GFP_KERNEL)).toBe(MIGRATE_UNMOVABLE);
    expect(gfpMigratetype(GFP_HIGHUSER_MOVABLE)).toBe(MIGRATE_MOVABLE);
    expect(gfpMigratetype(GFP_KERNEL | __GFP_RECLAIMABLE)).toBe(MIGRATE_RECLAIMABLE);
    expect(gfpMigratetype(__GFP_MOVABLE | __GFP_RECLAIMABLE)).toBe(MIGRATE_MOVABLE);
  });

  it('answers the reclaim, IO, FS and node questions', () => {
    expect(gfpAllowsBlocking(GFP_KERNEL)).toBe(true);
    expect(gfpAllowsBlocking(GFP_ATOMIC)).toBe(false);
    expect(gfpAllowsBlocking(GFP_NOWAIT)).toBe(false);
    expect(gfpHasIo(GFP_NOFS)).toBe(true);
    expect(gfpHasFs(GFP_NOFS)).toBe(false);
    expect(gfpHasFs(GFP_KERNEL)).toBe(true);
    expect(gfpHasIo(GFP_NOIO)).toBe(false);
    expect(gfpThisNode(GFP_KERNEL | __GFP_THISNODE)).toBe(true);
    expect(gfpThisNode(GFP_KERNEL)).toBe(false);
    expect(gfpAllowsBlocking(__GFP_FS | __GFP_IO | __GFP_COMP | __GFP_NOWARN)).toBe(false);
  });

  it('validates masks: TypeError for non-integers, RangeError naming the value in hex', () => {
    expect(isValidGfp(GFP_KERNEL)).toBe(true);
    expect(isValidGfp(0x1ffffff)).toBe(true);
    expect(isValidGfp(0x2000000)).toBe(false);
    expect(isValidGfp(-1)).toBe(false);
    expect(isValidGfp(1.5)).toBe(false);
    expect(() => assertGfp(GFP_KERNEL)).not.toThrow();
    expect(() => assertGfp(1.5)).toThrow(TypeError);
    expect(() => assertGfp('GFP_KERNEL' as unknown as number)).toThrow(TypeError);
    expect(() => assertGfp(-1)).toThrow(RangeError);
    expect(() => assertGfp(0x2000cc0)).toThrow(/0x2000cc0/);
    expect(() => assertGfp(0x2000cc0)).toThrow(RangeError);
  });
});
