import { GFP_KERNEL, SLAB_RECLAIM_ACCOUNT } from '@mmsim/core';
import { describe, expect, it } from 'vitest';
import { fixed, ProcFsError, readProc, slabinfo, slabtop } from '../src/index.js';
import { bootLive, lines, reference } from './helpers.js';

const ROW =
  /^(\S+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) : tunables +(\d+) +(\d+) +(\d+) : slabdata +(\d+) +(\d+) +(\d+)$/;

describe('/proc/slabinfo', () => {
  const k = bootLive();
  const objs = Array.from({ length: 300 }, () => k.kmalloc(100, GFP_KERNEL));
  for (const p of objs.slice(0, 100)) k.kfree(p);
  const mine = k.kmem_cache_create('dentry', 192, 0, SLAB_RECLAIM_ACCOUNT)!;
  for (let i = 0; i < 30; i++) k.kmem_cache_alloc(mine, GFP_KERNEL);
  const out = slabinfo(k);

  it('prints the version 2.1 header of the reference', () => {
    expect(lines(out).slice(0, 2)).toEqual(lines(reference('slabinfo.txt')).slice(0, 2));
  });
  it('lists caches newest first, every row in the cache_show() columns', () => {
    const rows = lines(out).slice(2);
    const names = k.slab.caches().map((c) => c.name);
    expect(rows.map((r) => ROW.exec(r)![1])).toEqual([...names].reverse());
    expect(rows[0]!.startsWith('dentry ')).toBe(true);
  });
  it('aligns like the reference file (same column ends for a short name)', () => {
    const refRow = lines(reference('slabinfo.txt')).find((l) => l.startsWith('dentry '))!;
    const row = lines(out).find((l) => l.startsWith('dentry '))!;
    const colons = (s: string) => [...s].flatMap((c, i) => (c === ':' ? [i] : []));
    expect(colons(row)).toEqual(colons(refRow));
    expect(row.length).toBe(refRow.length);
  });
  it('prints the numbers of cacheInfo()', () => {
    for (const c of k.slab.caches()) {
      const s = k.slab.cacheInfo(c);
      const row = lines(out).find((l) => l.startsWith(`${c.name} `))!;
      const m = ROW.exec(row)!.slice(2).map(Number);
      expect(m).toEqual([
        s.active_objs,
        s.num_objs,
        s.objsize,
        s.objects_per_slab,
        1 << s.cache_order,
        0,
        0,
        0,
        s.active_slabs,
        s.num_slabs,
        0,
      ]);
    }
    const k128 = ROW.exec(lines(out).find((l) => l.startsWith('kmalloc-128 '))!)!;
    // 300 objects live, 100 freed: SLUB counts the cpu slab's free objects as active (§5.10).
    expect(Number(k128[3])).toBeGreaterThanOrEqual(300);
  });
  it('prints SLAB’s tunables (enable_cpucache(): 120/60/8 up to 256 bytes, 8/4/0 above a page)', () => {
    const s = bootLive('slab');
    s.kmalloc(64, GFP_KERNEL);
    const rows = lines(slabinfo(s));
    expect(rows.find((l) => l.startsWith('kmalloc-64 '))).toMatch(
      / : tunables {2}120 {3}60 {4}8 : slabdata /,
    );
    expect(rows.find((l) => l.startsWith('kmalloc-1k '))).toMatch(/ : tunables {3}54 {3}27 {4}8 /);
    expect(rows.find((l) => l.startsWith('kmalloc-4k '))).toMatch(/ : tunables {3}24 {3}12 {4}8 /);
    expect(rows.find((l) => l.startsWith('kmalloc-8k '))).toMatch(/ : tunables {4}8 {4}4 {4}0 /);
    for (const c of s.slab.caches()) {
      const info = s.slab.cacheInfo(c);
      const m = ROW.exec(rows.find((l) => l.startsWith(`${c.name} `))!)!;
      expect([m[7], m[8], m[9], m[12]].map(Number)).toEqual([
        info.limit,
        info.batchcount,
        info.shared,
        info.shared_avail,
      ]);
    }
  });
  it('does not exist under SLOB: ENOENT, as Linux has no /proc/slabinfo then', () => {
    const s = bootLive('slob');
    expect(() => readProc(s, '/proc/slabinfo')).toThrow(ProcFsError);
    expect(() => readProc(s, '/proc/slabinfo')).toThrow(
      "ENOENT: no such file or directory, open '/proc/slabinfo'",
    );
    expect(() => slabtop(s)).toThrow(/ENOENT/);
  });
});

describe('slabtop', () => {
  const k = bootLive();
  for (let i = 0; i < 300; i++) k.kmalloc(100, GFP_KERNEL);
  for (let i = 0; i < 100; i++) k.kmalloc(8, GFP_KERNEL);
  const ptrs = Array.from({ length: 40 }, () => k.kmalloc(1000, GFP_KERNEL));
  for (const p of ptrs.slice(0, 5)) k.kfree(p);
  const out = slabtop(k);
  const ref = lines(reference('slabtop_o.txt'));

  it('prints the summary labels and the heading of procps 4.0.2', () => {
    const got = lines(out);
    for (let i = 0; i < 5; i++) expect(got[i]!.slice(0, 38)).toBe(ref[i]!.slice(0, 38));
    expect(got[5]).toBe('');
    expect(got[6]).toBe(ref[6]);
    expect(got.slice(7)).toHaveLength(k.slab.caches().length);
  });
  it('shapes its rows like slabtop -o (same widths)', () => {
    const refRow = ref.find((l) => l.endsWith('kmalloc-128            '))!;
    const row = lines(out).find((l) => /kmalloc-128 +$/.test(l))!;
    expect(row.length).toBe(refRow.length);
    expect(row.indexOf('%')).toBe(refRow.indexOf('%'));
    expect(row.indexOf('K ')).toBe(refRow.indexOf('K '));
    expect(row).toMatch(/^ {3}320 {4}320 100% {4}0\.12K {5}10 {7}32 {8}40K kmalloc-128 {12}$/);
  });
  it('computes the totals as library/slabinfo.c does', () => {
    const infos = k.slab.caches().map((c) => k.slab.cacheInfo(c));
    const objs = infos.reduce((n, s) => n + s.num_objs, 0);
    const active = infos.reduce((n, s) => n + s.active_objs, 0);
    const size = infos.reduce((n, s) => n + s.num_objs * s.objsize, 0);
    const m = /Active \/ Total Objects \(% used\) {4}: (\d+) \/ (\d+) \((\d+\.\d)%\)/.exec(out)!;
    expect([Number(m[1]), Number(m[2])]).toEqual([active, objs]);
    expect(m[3]).toBe(fixed((100 * active) / objs, 1));
    const caches = /Active \/ Total Caches \(% used\) +: (\d+) \/ (\d+)/.exec(out)!;
    expect(Number(caches[1])).toBe(infos.filter((s) => s.num_objs > 0).length);
    expect(Number(caches[2])).toBe(infos.length);
    const sz = /Active \/ Total Size \(% used\) +: ([\d.]+)K \/ ([\d.]+)K/.exec(out)!;
    expect(Number(sz[2])).toBeCloseTo(size / 1024, 2);
    expect(out).toMatch(/Minimum \/ Average \/ Maximum Object : 0\.01K \/ \d\.\d\dK \/ 8\.00K\n\n/);
  });
  it('sorts by number of objects by default, and by each procps key', () => {
    const rows = (text: string) =>
      lines(text)
        .slice(7)
        .map((l) => l.trim().split(/ +/));
    const byObjs = rows(out).map((r) => Number(r[0]));
    expect(byObjs).toEqual([...byObjs].sort((a, b) => b - a));
    const byName = rows(slabtop(k, { sort: 'n' })).map((r) => r[7]!);
    expect(byName).toEqual([...byName].sort());
    const bySize = rows(slabtop(k, { sort: 's' })).map((r) => Number.parseFloat(r[3]!));
    expect(bySize).toEqual([...bySize].sort((a, b) => b - a));
    const byCache = rows(slabtop(k, { sort: 'c' })).map((r) => Number.parseInt(r[6]!, 10));
    expect(byCache).toEqual([...byCache].sort((a, b) => b - a));
    const byUse = rows(slabtop(k, { sort: 'u' })).map((r) => Number.parseInt(r[2]!, 10));
    expect(byUse).toEqual([...byUse].sort((a, b) => b - a));
    expect(rows(slabtop(k, { sort: 'a', rows: 3 }))).toHaveLength(3);
    expect(() => slabtop(k, { sort: 'x' as never })).toThrow(TypeError);
    expect(() => slabtop(k, { rows: -1 })).toThrow(RangeError);
  });
});

describe('fixed(): glibc %.Nf', () => {
  it('rounds exact ties to even, like glibc (0.125 → 0.12) and others to nearest', () => {
    expect(fixed(128 / 1024, 2)).toBe('0.12');
    expect(fixed(0.375, 2)).toBe('0.38');
    expect(fixed(8 / 1024, 2)).toBe('0.01');
    expect(fixed(97.45, 1)).toBe((97.45).toFixed(1));
    expect(fixed(2.5, 0)).toBe('2');
    expect(fixed(100, 1)).toBe('100.0');
  });
});
