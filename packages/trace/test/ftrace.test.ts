/**
 * The ftrace kmem parser on hand-written lines of every event kind (the lines follow the
 * print fmts of ../shared/reference/linux-6.18/ftrace-kmem-event-formats.txt), on malformed
 * lines, and on a trace split into chunks at awkward places.
 */
import { __GFP_COMP, __GFP_ZERO, GFP_ATOMIC, GFP_HIGHUSER_MOVABLE, GFP_KERNEL } from '@mmsim/core';
import { describe, expect, it } from 'vitest';
import {
  createEvent,
  createParseStats,
  type KmemEvent,
  parseLine,
  parseTrace,
  parseTraceBatches,
  parseTraceText,
} from '../src/index.js';

const KMALLOC =
  '          run.sh-3691    [000] .....  5417.812064: kmalloc: call_site=alloc_bprm+0x45/0x220 ptr=00000000d5116de5 bytes_req=408 bytes_alloc=512 gfp_flags=GFP_KERNEL|__GFP_ZERO node=-1 accounted=false';
const KFREE =
  '          run.sh-3691    [001] ..s1.  5417.812172: kfree: call_site=load_elf_binary+0x1bc/0x18a0 ptr=0000000002c13315';
const CACHE_ALLOC =
  '          run.sh-3691    [000] .....  5417.812059: kmem_cache_alloc: call_site=alloc_empty_file+0x3c/0x110 ptr=000000000de20a31 name=filp bytes_req=184 bytes_alloc=192 gfp_flags=GFP_KERNEL node=-1 accounted=true';
const CACHE_FREE =
  '          run.sh-3691    [000] .....  5417.812022: kmem_cache_free: call_site=__fput+0x141/0x2a0 ptr=00000000b79cd2f3 name=lsm_file_cache';
const PAGE_ALLOC =
  '          run.sh-3691    [000] .....  5417.812043: mm_page_alloc: page=000000000b4a15a1 pfn=0x108182 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP';
const PAGE_FREE =
  '          run.sh-3691    [000] .....  5417.812304: mm_page_free: page=00000000a571c5bf pfn=0x11fd66 order=2';

const common = {
  task: 'run.sh',
  pid: 3691,
  cpu: 0,
  flags: '.....',
  irqsOff: '.',
  needResched: '.',
  hardSoft: '.',
  preemptDepth: 0,
  migrateDisable: 0,
};
const none = {
  callSite: '',
  ptr: 0,
  bytesReq: 0,
  bytesAlloc: 0,
  gfp: 0,
  gfpText: '',
  node: -1,
  accounted: false,
  name: '',
  page: 0,
  pfn: -1,
  order: 0,
  migratetype: 0,
};

describe('parseLine', () => {
  it('reads a kmalloc event, every field', () => {
    expect(parseLine(KMALLOC)).toEqual({
      ...none,
      ...common,
      kind: 'kmalloc',
      line: 0,
      timestamp: 5417.812064,
      callSite: 'alloc_bprm+0x45/0x220',
      ptr: 0xd5116de5,
      bytesReq: 408,
      bytesAlloc: 512,
      gfp: GFP_KERNEL | __GFP_ZERO,
      gfpText: 'GFP_KERNEL|__GFP_ZERO',
      node: -1,
      accounted: false,
    } satisfies KmemEvent);
  });

  it('reads a kfree event in softirq context with a preempt depth', () => {
    expect(parseLine(KFREE)).toEqual({
      ...none,
      ...common,
      kind: 'kfree',
      line: 0,
      cpu: 1,
      flags: '..s1.',
      hardSoft: 's',
      preemptDepth: 1,
      timestamp: 5417.812172,
      callSite: 'load_elf_binary+0x1bc/0x18a0',
      ptr: 0x2c13315,
    } satisfies KmemEvent);
  });

  it('reads kmem_cache_alloc and kmem_cache_free with their cache names', () => {
    expect(parseLine(CACHE_ALLOC)).toEqual({
      ...none,
      ...common,
      kind: 'kmem_cache_alloc',
      line: 0,
      timestamp: 5417.812059,
      callSite: 'alloc_empty_file+0x3c/0x110',
      ptr: 0xde20a31,
      name: 'filp',
      bytesReq: 184,
      bytesAlloc: 192,
      gfp: GFP_KERNEL,
      gfpText: 'GFP_KERNEL',
      node: -1,
      accounted: true,
    } satisfies KmemEvent);
    expect(parseLine(CACHE_FREE)).toEqual({
      ...none,
      ...common,
      kind: 'kmem_cache_free',
      line: 0,
      timestamp: 5417.812022,
      callSite: '__fput+0x141/0x2a0',
      ptr: 0xb79cd2f3,
      name: 'lsm_file_cache',
    } satisfies KmemEvent);
  });

  it('reads mm_page_alloc and mm_page_free', () => {
    expect(parseLine(PAGE_ALLOC)).toEqual({
      ...none,
      ...common,
      kind: 'mm_page_alloc',
      line: 0,
      timestamp: 5417.812043,
      page: 0xb4a15a1,
      pfn: 0x108182,
      order: 0,
      migratetype: 1,
      gfp: GFP_HIGHUSER_MOVABLE | __GFP_ZERO | __GFP_COMP,
      gfpText: 'GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP',
    } satisfies KmemEvent);
    expect(parseLine(PAGE_FREE)).toEqual({
      ...none,
      ...common,
      kind: 'mm_page_free',
      line: 0,
      timestamp: 5417.812304,
      page: 0xa571c5bf,
      pfn: 0x11fd66,
      order: 2,
    } satisfies KmemEvent);
  });

  it('reads the pre-6.1 kmalloc_node/kmem_cache_alloc_node and older field sets', () => {
    const node = parseLine(
      '  kworker/u4:2-88      [001] d.h2.   12.000001: kmalloc_node: call_site=__alloc_skb+0x8e/0x1d0 ptr=ffff888003a1c000 bytes_req=640 bytes_alloc=1024 gfp_flags=GFP_ATOMIC node=0 accounted=false',
    );
    expect(node).toMatchObject({
      kind: 'kmalloc_node',
      task: 'kworker/u4:2',
      pid: 88,
      cpu: 1,
      irqsOff: 'd',
      hardSoft: 'h',
      preemptDepth: 2,
      ptr: 0x888003a1c000, // the low 48 bits, as the simulator keeps addresses
      bytesReq: 640,
      bytesAlloc: 1024,
      gfp: GFP_ATOMIC,
      node: 0,
    });
    // 5.x: kmem_cache_alloc_node without name=, no accounted=; four flag characters.
    const old = parseLine(
      '          <idle>-0       [000] ..s.   99.5: kmem_cache_alloc_node: call_site=__alloc_skb+0x4e/0x1d0 ptr=000000001234abcd bytes_req=232 bytes_alloc=256 gfp_flags=GFP_ATOMIC node=-1',
    );
    expect(old).toMatchObject({
      kind: 'kmem_cache_alloc_node',
      task: '<idle>',
      pid: 0,
      flags: '..s.',
      hardSoft: 's',
      migrateDisable: 0,
      name: '',
      bytesReq: 232,
      node: -1,
      accounted: false,
    });
  });

  it('copes with module call sites, task names with spaces and dashes, the tgid column', () => {
    expect(
      parseLine(
        ' Web Content-a-1234  (  1200) [003] ..... 10.25: kfree: call_site=ext4_foo+0x1/0x2 [ext4] ptr=0000000000000000',
      ),
    ).toMatchObject({
      kind: 'kfree',
      task: 'Web Content-a',
      pid: 1234,
      cpu: 3,
      callSite: 'ext4_foo+0x1/0x2 [ext4]',
      ptr: 0,
    });
    // No flags column at all (irq-info off).
    expect(
      parseLine('bash-1 [000] 1.5: mm_page_free: page=00000000deadbeef pfn=0x10 order=0'),
    ).toMatchObject({ kind: 'mm_page_free', flags: '', hardSoft: '.', pfn: 16 });
    // A failed traced allocation: gfp_flags printed as `none` is gfp 0.
    expect(
      parseLine(
        'a-1 [000] ..... 1.0: kmalloc: call_site=f+0x0/0x1 ptr=0000000000000000 bytes_req=8 bytes_alloc=8 gfp_flags=none node=-1 accounted=false',
      ),
    ).toMatchObject({ gfp: 0, gfpText: 'none', ptr: 0 });
  });

  it('fills an object given as `into` instead of allocating one', () => {
    const ev = createEvent();
    expect(parseLine(KMALLOC, undefined, ev)).toBe(ev);
    expect(parseLine(PAGE_FREE, undefined, ev)).toBe(ev);
    expect(ev).toMatchObject({ kind: 'mm_page_free', callSite: '', ptr: 0, bytesReq: 0, gfp: 0 });
  });

  it('counts comments, other events and malformed lines with their numbers, never throwing', () => {
    const stats = createParseStats();
    const lines = [
      '# tracer: nop',
      '',
      KMALLOC,
      '          run.sh-3691    [000] .....  5417.812304: mm_page_pcpu_drain: page=00000000a571c5bf pfn=0x11fd66 order=0 migratetype=1',
      'garbage',
      KMALLOC.replace('bytes_req=408', 'bytes_req=4x8'),
      KMALLOC.replace('gfp_flags=GFP_KERNEL|__GFP_ZERO', 'gfp_flags=GFP_BOGUS'),
      KFREE.replace('ptr=', 'pointer='),
      KFREE.replace('[001]', '[cpu]'),
      PAGE_ALLOC.replace(' order=0', ''),
      CACHE_FREE.replace('5417.812022', 'abc'),
      PAGE_FREE,
      PAGE_FREE.slice(0, 60),
      null as unknown as string,
    ];
    const events = lines.map((l) => parseLine(l, stats));
    expect(events.map((e) => e?.kind ?? null)).toEqual([
      null,
      null,
      'kmalloc',
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      'mm_page_free',
      null,
      null,
    ]);
    expect(stats).toMatchObject({
      lines: 14,
      comments: 2,
      events: 2,
      otherEvents: 1,
      malformed: 9,
    });
    expect(stats.byKind.kmalloc).toBe(1);
    expect(stats.byKind.mm_page_free).toBe(1);
    expect(stats.malformedLines.map((m) => [m.line, m.reason])).toEqual([
      [5, 'no [cpu] column'],
      [6, 'kmalloc: bad bytes_req='],
      [7, 'kmalloc: bad gfp_flags=GFP_BOGUS'],
      [8, 'kfree: no ptr='],
      [9, 'no [cpu] column'],
      [10, 'mm_page_alloc: no order='],
      [11, 'bad timestamp'],
      [13, 'no event name'],
      [14, 'not a string'],
    ]);
    expect(events[11]?.line).toBe(12);
  });

  it('finds the same malformed lines in bytes as in text', async () => {
    const lines = [
      KMALLOC,
      'garbage',
      KMALLOC.replace('bytes_req=408', 'bytes_req=4x8'),
      KFREE.replace('ptr=', 'pointer='),
      PAGE_ALLOC.replace(' order=0', ''),
      CACHE_FREE.replace('5417.812022', 'abc'),
      PAGE_FREE.slice(0, 60),
      `${PAGE_FREE} extra=1`,
    ];
    const fromText = createParseStats();
    for (const l of lines) parseLine(l, fromText);
    const fromBytes = createParseStats();
    const chunk = new TextEncoder().encode(lines.join('\n'));
    for await (const _ of parseTraceBatches([chunk], { stats: fromBytes }));
    expect(fromBytes).toEqual(fromText);
    expect(fromBytes.malformed).toBe(7);
    // And a string chunk, parsed in place.
    const fromChunk = createParseStats();
    for await (const _ of parseTraceBatches([lines.join('\n')], { stats: fromChunk }));
    expect(fromChunk).toEqual(fromText);
  });
});

describe('parseTrace', () => {
  const text = `# tracer: nop\n#\n${[KMALLOC, KFREE, CACHE_ALLOC, CACHE_FREE, PAGE_ALLOC, PAGE_FREE].join('\n')}\n`;
  const kinds = [
    'kmalloc',
    'kfree',
    'kmem_cache_alloc',
    'kmem_cache_free',
    'mm_page_alloc',
    'mm_page_free',
  ];

  it('streams events from chunks split anywhere, bytes or strings, sync or async', async () => {
    // A multi-byte character in a task name, split across chunks.
    const withUtf8 = text.replace('run.sh-3691', 'rün.sh-3691');
    const bytes = new TextEncoder().encode(withUtf8);
    for (const size of [1, 7, 64, 1 << 20]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      const stats = createParseStats();
      const got: KmemEvent[] = [];
      for await (const ev of parseTrace(chunks, { stats })) got.push(ev);
      expect(got.map((e) => e.kind)).toEqual(kinds);
      expect(got[0]!.task).toBe('rün.sh');
      expect(got.map((e) => e.line)).toEqual([3, 4, 5, 6, 7, 8]);
      expect(stats).toMatchObject({ lines: 8, comments: 2, events: 6, malformed: 0 });
    }
    async function* strings() {
      yield text.slice(0, 100);
      yield text.slice(100);
    }
    const batches: KmemEvent[][] = [];
    for await (const b of parseTraceBatches(strings())) batches.push(b);
    expect(batches.flat().map((e) => e.kind)).toEqual(kinds);
  });

  it('parses a last line without a newline, and text synchronously', () => {
    expect([...parseTraceText(text.trimEnd())].map((e) => e.kind)).toEqual(kinds);
    const stats = createParseStats();
    expect([...parseTraceText(`${KFREE}\r\n${KFREE}`, { stats })]).toHaveLength(2);
    expect(stats.lines).toBe(2);
  });
});
