import { GFP_KERNEL } from '@mmsim/core';
import { boot } from '@mmsim/kapi';
import { describe, expect, it } from 'vitest';
import { attachProcfs, numactlHardware, numastat, procPaths, readProc } from '../src/index.js';
import { bootLive, lines, reference, shape } from './helpers.js';

describe('numastat and numactl --hardware', () => {
  const k = bootLive();
  for (let i = 0; i < 10; i++) k.alloc_pages(GFP_KERNEL, 0);

  it('prints numastat’s table like the reference, with the node counters', () => {
    const out = numastat(k);
    expect(shape(out)).toBe(shape(reference('numastat.txt')));
    expect(lines(out).map((l) => l.length)).toEqual(
      lines(reference('numastat.txt')).map((l) => l.length),
    );
    const c = k.env.numaStat.nodeCounters(0);
    const got = Object.fromEntries(
      lines(out)
        .slice(1)
        .map((l) => l.split(/ +/))
        .map(([n, x]) => [n!, Number(x)]),
    );
    expect(got).toEqual(c);
  });
  it('prints one 16-column field per node on a NUMA machine', () => {
    const s = boot({ machine: 'server' });
    s.alloc_pages_node(1, GFP_KERNEL, 0);
    const out = numastat(s);
    expect(lines(out)[0]).toBe(`${' '.repeat(27)}node0${' '.repeat(11)}node1`);
    expect(lines(out)[1]).toMatch(/^numa_hit {8}[ \d]{16}[ \d]{16}$/);
  });
  it('prints numactl --hardware with the node’s MemTotal as the live machine shows', () => {
    const out = numactlHardware(k);
    const ref = lines(reference('numactl_hardware.txt'));
    expect(lines(out).filter((l) => !l.startsWith('node 0 free'))).toEqual(
      ref.filter((l) => !l.startsWith('node 0 free')),
    );
    const free = Number(/node 0 free: (\d+) MB/.exec(out)![1]);
    expect(free).toBe(Math.floor((k.pages.nrFreePages(0) - pcpPages(k)) / 256));
  });
});

function pcpPages(k: ReturnType<typeof boot>): number {
  const p = k.pages as unknown as {
    pageset(n: number, z: number, c: number): { count: number };
  };
  let n = 0;
  for (let z = 0; z < 5; z++)
    for (let c = 0; c < k.machine.nrCpus; c++) n += p.pageset(0, z, c).count;
  return n;
}

describe('readProc', () => {
  const k = bootLive();
  it('serves every /proc file and the node sysfs files', () => {
    for (const p of procPaths(k)) expect(readProc(k, p)).toMatch(/^$|\n$/);
    expect(readProc(k, '/proc/vmallocinfo')).toBe(''); // nothing vmalloc'ed yet
    expect(readProc(k, '/sys/devices/system/node/node0/distance')).toBe('10\n');
    expect(readProc(boot({ machine: 'numa4' }), '/sys/devices/system/node/node2/distance')).toBe(
      '30 20 10 20\n',
    );
    expect(readProc(k, '/sys/devices/system/node/node0/numastat')).toMatch(/^numa_hit \d+\n/);
    expect(readProc(k, 'numastat')).toBe(numastat(k));
    expect(readProc(k, 'numactl --hardware')).toBe(numactlHardware(k));
  });
  it('rejects an unknown path with the list of known ones', () => {
    expect(() => readProc(k, '/proc/nope')).toThrow(
      /^readProc: no such file '\/proc\/nope' \(known: \/proc\/buddyinfo, .*\/sys\/devices\/system\/node\/node0\/distance/,
    );
    expect(() => readProc(k, '/sys/devices/system/node/node1/distance')).toThrow(/no such file/);
  });
  it('attaches k.readProc to the kernel instance', () => {
    const a = attachProcfs(k);
    expect(a).toBe(k);
    expect(a.readProc('/proc/buddyinfo')).toBe(readProc(k, '/proc/buddyinfo'));
    expect(Object.keys(k)).not.toContain('readProc');
  });
});
