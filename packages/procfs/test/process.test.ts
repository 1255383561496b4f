import { boot, MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '@mmsim/kapi';
import { describe, expect, it } from 'vitest';
import { meminfo, readProc, vmstat, zoneinfo } from '../src/index.js';
import { lines } from './helpers.js';

const field = (text: string, name: string) =>
  Number(
    lines(text)
      .find((l) => l.startsWith(`${name}:`) || l.startsWith(`${name} `))!
      .match(/(\d+)( kB)?$/)![1],
  );

describe('a process in /proc', () => {
  it('/proc/<pid>/maps and /proc/self/maps: the columns of fs/proc/task_mmu.c', () => {
    const k = boot();
    const p = k.createProcess('cat');
    p.brk(p.brk(0) + 3 * PAGE_SIZE);
    p.mmap(0, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    const maps = readProc(k, `/proc/${p.pid}/maps`);
    expect(maps).toBe(
      [
        '555555559000-55555555c000 rw-p 00000000 00:00 0                          [heap]',
        '7ffff7ffd000-7ffff7fff000 rw-p 00000000 00:00 0 ',
        '7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]',
        '',
      ].join('\n'),
    );
    // Parsed as procps pmap reads it: start-end perms offset dev inode [name].
    for (const l of lines(maps)) {
      expect(l).toMatch(/^[0-9a-f]{8,}-[0-9a-f]{8,} [r-][w-][x-][ps] [0-9a-f]{8} \d\d:\d\d \d+ /);
    }
    expect(() => readProc(k, '/proc/self/maps')).toThrow(
      "ENOENT: no process is current (kernel context), open '/proc/self/maps'",
    );
    p.mem.write8(p.brk(0) - 1, 1); // the process runs: now it is current
    expect(readProc(k, '/proc/self/maps')).toBe(maps);
    expect(() => readProc(k, '/proc/4242/maps')).toThrow(
      "ENOENT: no such process, open '/proc/4242/maps'",
    );
  });

  it('AnonPages, PageTables, pgfault and nr_anon_pages follow the process', () => {
    const k = boot();
    const idle = { m: meminfo(k), v: vmstat(k), free: k.pages.nrFreePages() };
    const p = k.createProcess('touch');
    const a = p.mmap(0, 10 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    for (let i = 0; i < 10; i++) p.mem.write8(a + i * PAGE_SIZE, i);
    const m = meminfo(k);
    const v = vmstat(k);
    expect(field(m, 'AnonPages')).toBe(40);
    expect(field(m, 'Inactive(anon)')).toBe(40);
    expect(field(m, 'Inactive')).toBe(field(idle.m, 'Inactive') + 40);
    expect(field(v, 'nr_inactive_anon')).toBe(10);
    // /proc/zoneinfo's per-node block (the first zone of node 0 prints it).
    const z = zoneinfo(k);
    expect(z).toMatch(/\n {6}nr_inactive_anon 10\n/);
    expect(z).toMatch(/\n {6}nr_anon_pages 10\n/);
    expect(z).toContain(`\n      nr_page_table_pages ${k.pageTablePages}\n`);
    // The process's own tables: its top table and one table per level under the mapping.
    expect(field(m, 'PageTables')).toBe(field(idle.m, 'PageTables') + 4 * 4);
    // 10 pages, 4 table pages (the top table and one per level under the mapping).
    expect(k.pages.nrFreePages()).toBe(idle.free - 14);
    expect(field(v, 'nr_anon_pages')).toBe(10);
    expect(field(v, 'pgfault')).toBe(field(idle.v, 'pgfault') + 10);
    p.exit();
    expect(field(meminfo(k), 'AnonPages')).toBe(0);
    expect(k.pages.nrFreePages()).toBe(idle.free); // MemFree leaves out the per-CPU lists
  });
});
