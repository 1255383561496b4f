import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built binary, run as a person runs it (turbo builds it before this test).
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
/** `mmsim repl` on the tiny machine, fed these lines and quit. */
const repl = (lines: string[]) =>
  spawnSync(process.execPath, [CLI, 'repl', '--machine', 'tiny'], {
    input: [...lines, 'quit'].join('\n'),
    encoding: 'utf8',
  });

describe('mmsim cat', () => {
  it('prints /proc/slabinfo after the sample workload, in the v2.1 format', () => {
    const r = run('cat', '/proc/slabinfo', '--machine', 'tiny');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('slabinfo - version: 2.1');
    expect(lines[2]).toMatch(
      /^sample_inode {9}108 {4}108 {4}640 {3}12 {4}2 : tunables {4}0 {4}0 {4}0 : slabdata {6}9 {6}9 {6}0$/,
    );
  });

  it('prints SLAB tunables with --slab slab, and /proc/meminfo and buddyinfo', () => {
    const slab = run('cat', '/proc/slabinfo', '--machine', 'tiny', '--slab', 'slab', '--idle');
    expect(slab.stdout).toMatch(
      /\nkmalloc-32 +\d+ +\d+ +32 +124 +1 : tunables {2}120 {3}60 {4}0 :/,
    );
    expect(run('cat', '/proc/meminfo', '--machine', 'tiny').stdout).toMatch(/^MemTotal: +\d+ kB\n/);
    expect(run('cat', '/proc/buddyinfo', '--machine', 'tiny', '--idle').stdout).toMatch(
      /^Node 0, zone {6}DMA /,
    );
  });

  it('an unknown path is one clear line and exit 1', () => {
    const r = run('cat', '/proc/nope', '--machine', 'tiny');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^mmsim: readProc: no such file '\/proc\/nope' \(known: \/proc\/buddyinfo, /,
    );
  });
});

describe('mmsim replay', () => {
  const TRACE = fileURLToPath(
    new URL('../../../../shared/traces/linux-6.18-build.kmem.trace.xz', import.meta.url),
  );

  it('agrees with the real kernel on bytes_alloc for every kmalloc event, and compares the three slab allocators', () => {
    const r = run('replay', TRACE, '--slab', 'slub,slab,slob');
    expect(r.status).toBe(0);
    const rows = Object.fromEntries(
      r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => [l.slice(0, 25).trim(), l.slice(25).trim().split(/\s+/)]),
    );
    expect(rows['']).toEqual(['slub', 'slab', 'slob']);
    expect(rows.events).toEqual(['192132', '192132', '192132']);
    expect(rows['kmalloc bytes_alloc agree']).toEqual(['4380/4380', '4179/4380', '833/4380']);
    expect(rows.errors).toEqual(['0', '0', '0']);
  });

  it('a corrupt trace line: the report, then one clear line naming it, and exit 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-trace-'));
    const file = join(dir, 'bad.trace');
    writeFileSync(
      file,
      [
        '# tracer: nop',
        '            bash-1234    [001] .....  100.000001: kmalloc: call_site=foo+0x10/0x20 ptr=00000000deadbeef bytes_req=100 bytes_alloc=128 gfp_flags=GFP_KERNEL node=-1 accounted=false',
        ' garbage line here',
        '            bash-1234    [001] .....  100.000002: kfree: call_site=foo+0x10/0x20 ptr=00000000deadbeef',
        'more garbage',
        '',
      ].join('\n'),
    );
    const r = run('replay', file);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^events {25}2\nmalformed lines {16}2\n/m);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(
      `mmsim: ${file}:3: malformed trace line (no [cpu] column): " garbage line here" (and 1 more)`,
    );
    const lenient = run('replay', file, '--allow-malformed');
    expect(lenient.status).toBe(0);
    expect(lenient.stderr).toContain(`mmsim: ${file}:3: malformed trace line`);
  });

  it('a missing file or an unknown allocator is one clear line and exit 1', () => {
    const missing = run('replay', '/no/such/trace');
    expect([missing.status, missing.stderr]).toEqual([
      1,
      "mmsim: cannot read trace '/no/such/trace': ENOENT\n",
    ]);
    const bad = run('replay', TRACE, '--slab', 'slub,slib');
    expect([bad.status, bad.stderr]).toEqual([
      1,
      "mmsim: unknown slab allocator 'slib' (slub, slab, slob)\n",
    ]);
  });
});

describe('mmsim run', () => {
  it('gives a scenario a booted kernel, then the kernel log with --dmesg', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-run-'));
    const script = join(dir, 'scenario.mjs');
    writeFileSync(
      script,
      [
        'export default (k) => {',
        "  const p = k.kmalloc(100, 0xcc0, 'scenario');",
        "  console.log('ksize ' + k.ksize(p));",
        '  k.mem.write8(p + 100, 0x41);',
        '  k.kfree(p);',
        '};',
      ].join('\n'),
    );
    const r = run('run', script, '--machine', 'tiny', '--slub-debug', 'FZPU', '--dmesg');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('ksize 128');
    expect(r.stdout).toContain('[kmalloc Redzone overwritten]');
  });

  it('a missing script is one clear line and exit 1', () => {
    const r = run('run', '/no/such/scenario.mjs');
    expect([r.status, r.stderr]).toEqual([
      1,
      "mmsim: cannot run '/no/such/scenario.mjs': no such file\n",
    ]);
  });
});

describe('mmsim slabtop', () => {
  it('without a terminal prints one slabtop screen per frame, sorted as asked', () => {
    const r = run('slabtop', '--machine', 'tiny', '-n', '2', '-d', '10', '-s', 'c');
    expect(r.status).toBe(0);
    const frames = r.stdout.split(' Active / Total Objects (% used)    : ');
    expect(frames).toHaveLength(3);
    expect(r.stdout).toContain('  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME');
    // -s c: the first row holds the most memory.
    const rows = frames[1]!.split('\n').filter((l) => /^ +\d+ +\d+ +\d+%/.test(l));
    const sizes = rows.map((l) => Number(l.trim().split(/ +/)[6]!.replace('K', '')));
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
  });

  it('an unknown sort key is one clear line and exit 1', () => {
    const r = run('slabtop', '-s', 'z');
    expect([r.status, r.stderr]).toEqual([
      1,
      "mmsim: unknown sort key 'z' (one of o a s c l v n b p u)\n",
    ]);
  });
});

describe('mmsim repl', () => {
  it('evaluates kernel calls line by line, numbering results, and carries on after an Oops', () => {
    const r = repl([
      'kmalloc 100 GFP_KERNEL',
      'ksize $1',
      'kfree $1',
      'vmalloc 8192',
      'read8 $2 8192',
      'bogus',
      'cat /proc/buddyinfo',
    ]);
    expect(r.status).toBe(0);
    const out = r.stdout.split('\n');
    expect(out[0]).toMatch(/^\$1 = 0xffff888\w+$/);
    expect(out.slice(1, 4)).toEqual(['128', 'ok', '$2 = 0xffffc90000000000']);
    expect(out[4]).toBe('BUG: unable to handle page fault for address: ffffc90000002000');
    expect(out[5]).toBe("unknown command 'bogus' (try: help)");
    expect(out[6]).toMatch(/^Node 0, zone {6}DMA /);
  });

  it('keeps pages and addresses apart, as struct page * and void * are in C', () => {
    const r = repl([
      'alloc_pages 2',
      'free_pages $1 2',
      'write8 $1 0 1',
      'page_address $1',
      '__get_free_pages 0',
      '__free_pages $3 0',
      'virt_to_page $3',
      '__free_pages $4 0',
      'free_pages $2 2',
    ]);
    expect(r.status).toBe(0);
    const out = r.stdout.split('\n');
    const pfn = /^\$1 = pfn 0x(\w+)$/.exec(out[0]!)![1]!;
    expect(out.slice(1, 4)).toEqual([
      `free_pages: $1 is a page (pfn 0x${pfn}), not an address: page_address $1 gives its address, __free_pages $1 ORDER frees it`,
      `write8: $1 is a page (pfn 0x${pfn}), not an address: page_address $1 gives its address`,
      `$2 = 0x${(0xffff888000000000n + BigInt(`0x${pfn}`) * 4096n).toString(16)}`,
    ]);
    const addr = BigInt(/^\$3 = (0x\w+)$/.exec(out[4]!)![1]!);
    expect(out.slice(5)).toEqual([
      '__free_pages: $3 is an address, not a page: virt_to_page $3 gives its page, free_pages $3 ORDER frees it',
      `$4 = pfn 0x${((addr - 0xffff888000000000n) / 4096n).toString(16)}`,
      'ok',
      'ok',
      '',
    ]);
  });

  it('runs processes: mmap, page faults on touch, fork, ps, a segfault, system-call errors', () => {
    const r = repl([
      'spawn demo',
      'mmap $1 65536',
      'touch $1 $2 16384',
      'uread8 $1 $2 0',
      'fork $1',
      'uwrite8 $3 $2 0 7',
      'ps',
      'mprotect $1 $2 4096 r',
      'uwrite8 $1 $2 0 1',
      'mmap $3 0',
      'munmap $3 1 4096',
      'cat /proc/1001/maps',
    ]);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      '$1 = pid 1000',
      '$2 = 0x7ffff7fef000',
      '4 page fault(s), RSS 16 kB',
      '0x1',
      '$3 = pid 1001',
      'ok',
      '    PID COMM             VSZ(kB)  RSS(kB)  MINFLT',
      '   1000 demo                 196       16       4',
      '   1001 demo                 196       16       1',
      'ok',
      'demo[1000]: segfault at 7ffff7fef000 ip 0000000000000000 sp 00007fffffffe000 error 7 likely on CPU 0 (core 0, socket 0)',
      'Code: Unable to access opcode bytes at 0xffffffffffffffd6.',
      '-22 (EINVAL)',
      '-22 (EINVAL)',
      '7ffff7fef000-7ffff7fff000 rw-p 00000000 00:00 0 ',
      '7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]',
      '',
    ]);
  });
});

describe('mmsim tour (the demo)', () => {
  it('walks through zones, buddy lists, an allocation, pcp, NUMA and a failure', () => {
    const out = execFileSync(process.execPath, [CLI], { encoding: 'utf8' });
    expect(out).toContain('== 1. A machine: server');
    expect(out).toContain(
      '2 NUMA node(s), 16 CPU(s), 32 GiB of memory (8388510 pages of 4096 bytes are RAM; firmware keeps the rest).',
    );
    expect(out).toContain('  DMA      [mem 0x0000000000001000-0x0000000000ffffff]');
    expect(out).toContain('Fallback order for Node 1: 1 0 ');
    expect(out).toMatch(
      /Node 0, zone {6}DMA {6}2 {6}2 {6}2 {6}2 {6}2 {6}1 {6}1 {6}0 {6}1 {6}1 {6}3 /,
    );
    expect(out).toContain('alloc_pages(GFP_KERNEL|__GFP_ZERO, order 4) = pfn 0x100000');
    expect(out).toContain(
      'swapper/0: page allocation failure: order:10, mode:0xcc1(GFP_KERNEL|GFP_DMA), nodemask=(null),cpuset=/,mems_allowed=0-1',
    );
    expect(out).toContain('the allocator checks its lists: consistent.');
    expect(out).toContain('SLUB: HWalign=64, Order=0-3, MinObjects=0, CPUs=16, Nodes=2');
    expect(out).toMatch(/kmalloc\( {4}1\) = ffff888\w+ from kmalloc-8, ksize 8/);
    expect(out).toContain('from the page allocator (an order-2 compound page), ksize 16384');
    expect(out).toMatch(
      /kzalloc\(64\) = ffff888\w+ \(the same slot, LIFO\) reads 00 00 00 00 …: kzalloc is kmalloc with __GFP_ZERO/,
    );
    expect(out).toContain('BUG tour_buffers (Not tainted): Object corrupt');
    expect(out).toMatch(/FIX tour_buffers: Restoring Right Redzone 0x\w+-0x\w+=0xcc/);
    expect(out).toContain(
      'BUG: sleeping function called from invalid context at include/linux/sched/mm.h:321',
    );
    expect(out).toMatch(
      /0xffffc90000000000-0xffffc90000011000 {3}69632 tour_module_load\+0x0\/0x100 pages=16 vmalloc N0=\d+/,
    );
    expect(out).toContain('BUG: unable to handle page fault for address: ffffc90000010000');
    expect(out).toContain('The allocators check their structures: consistent.');
    expect(out).toContain('OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME');
    expect(out).toContain(
      'page walks: 64 (the first pass misses every page; the second hits a TLB)',
    );
    expect(out).toContain('L1 dTLB: hits 64, misses 64');
    // A process: demand paging, copy-on-write, and the segfault report.
    expect(out).toContain(
      '7ffff7ffe000-7ffff7fff000 r-xp 00000000 00:00 0                          [anon:text]',
    );
    expect(out).toContain('maps the shared zero page read-only: faults 1, RSS 0.');
    expect(out).toContain('now a zeroed page of its own, writable: faults 2, RSS 1.');
    expect(out).toMatch(
      /--> PT index:0x1f1 \[decimal 497\] entry @0x\w+: 0x8000000\w+067 \(P RW US A D NX;/,
    );
    expect(out).toContain('it is reused, not copied (pgreuse 1).');
    expect(out).toContain(
      'tour[1000]: segfault at 0 ip 00007ffff7ffe040 sp 00007fffffffe000 error 6 likely on CPU 0 (core 0, socket 0)',
    );
    expect(out).toContain(`Code: ${Array(42).fill('00').join(' ')} <c6> 00 01 c3 00`);
    expect(out).toContain('every page came back (AnonPages: 0 kB).');
  });

  it('tours any preset', () => {
    const r = run('tour', '--machine', 'tiny');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('1 NUMA node(s), 1 CPU(s), 64 MiB of memory (16286 pages');
    expect(r.stdout).not.toContain('numastat node1');
  });
});

describe('mmsim boot', () => {
  it('prints the zones as JSON with --json', () => {
    const r = run('boot', '--machine', 'laptop', '--json');
    expect(r.status).toBe(0);
    const data = JSON.parse(r.stdout);
    expect(data.machine).toBe('laptop');
    expect(data.zones.map((z: { name: string }) => z.name)).toEqual(['DMA', 'DMA32', 'Normal']);
    const dma = data.zones[0];
    expect([dma.startPfn, dma.spanned, dma.present]).toEqual([1, 4095, 3998]);
  });

  it('applies --memory and --cpus overrides', () => {
    const r = run('boot', '--machine', 'server', '--memory', '8G', '--cpus', '4', '--json');
    expect(r.status).toBe(0);
    const data = JSON.parse(r.stdout);
    expect([data.nodes, data.cpus]).toEqual([2, 4]);
  });
});

describe('errors a person can act on', () => {
  it('an unknown machine: one line naming the known ones, exit 1', () => {
    const r = run('boot', '--machine', 'mainframe');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      "error: option '-m, --machine <preset>' argument 'mainframe' is invalid. unknown machine 'mainframe' (known: tiny, laptop, server, numa4, big64)",
    );
    expect(r.stdout).toBe('');
  });

  it('an unknown option or command: exit 1 with a hint', () => {
    const r = run('boot', '--frobnicate');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("error: unknown option '--frobnicate'");
    expect(run('fly').status).toBe(1);
  });

  it('a bad size: the validation message, no stack trace', () => {
    const r = run('boot', '--memory', '12Q');
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^mmsim: .*invalid size '12Q'/);
  });

  it('--help lists the commands', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: mmsim');
    expect(r.stdout).toMatch(/tour \[options\]/);
    expect(r.stdout).toMatch(/boot \[options\]/);
  });
});
