/**
 * The fast path of byte chunks (fastEvent in bytes.ts) against the general parser (parseLine):
 * the same events, field for field, and the same counts and malformed lines with their
 * numbers, for lines in the 6.x layout, every other layout the parser reads, and each of them
 * mangled at every position; lines split across chunks at every byte; CRLF.
 */
import { describe, expect, it } from 'vitest';
import { fastEvent } from '../src/bytes.js';
import {
  createEvent,
  createParseStats,
  type KmemEvent,
  type ParseStats,
  parseLine,
  parseTraceBatches,
} from '../src/index.js';

/** Lines the fast path reads (Linux 6.x, as in the real trace). */
const FAST = [
  '          run.sh-3691    [000] .....  5417.812064: kmalloc: call_site=alloc_bprm+0x45/0x220 ptr=00000000d5116de5 bytes_req=408 bytes_alloc=512 gfp_flags=GFP_KERNEL|__GFP_ZERO node=-1 accounted=false',
  '          run.sh-3691    [001] ..s1.  5417.812172: kfree: call_site=load_elf_binary+0x1bc/0x18a0 ptr=0000000002c13315',
  '          <idle>-0       [001] ..s1.  5417.812173: kfree: call_site=rcu_core+0x1bc/0x18a0 ptr=0000000000000000',
  '          run.sh-3691    [000] .....  5417.812059: kmem_cache_alloc: call_site=alloc_empty_file+0x3c/0x110 ptr=000000000de20a31 name=filp bytes_req=184 bytes_alloc=192 gfp_flags=GFP_KERNEL node=-1 accounted=true',
  '          run.sh-3691    [000] .....  5417.812022: kmem_cache_free: call_site=__fput+0x141/0x2a0 ptr=00000000b79cd2f3 name=lsm_file_cache',
  '          run.sh-3691    [000] .....  5417.812043: mm_page_alloc: page=000000000b4a15a1 pfn=0x108182 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP',
  '          run.sh-3691    [000] d.h2.  5417.812304: mm_page_free: page=00000000a571c5bf pfn=0x11fd66 order=2',
  ' kworker/u4:2-rün-88      [001] dNs.1   12.000001: kmalloc: call_site=__alloc_skb+0x8e/0x1d0 ptr=ffff888003a1c000 bytes_req=640 bytes_alloc=1024 gfp_flags=GFP_ATOMIC node=0 accounted=false',
  'Web Content-a-1234 [003] ..... 10.25: kfree: call_site=f+0x1/0x2 ptr=123456789abcdef0123',
  'a-1 [000] ..... 1.0: kmalloc: call_site=f+0x0/0x1 ptr=0000000000000000 bytes_req=8 bytes_alloc=8 gfp_flags=none node=-1 accounted=false',
];

/** Lines it leaves to the general parser: the older layouts, comments, other events. */
const GENERAL = [
  '# tracer: nop',
  '',
  '  kworker/u4:2-88      [001] d.h2.   12.000001: kmalloc_node: call_site=__alloc_skb+0x8e/0x1d0 ptr=ffff888003a1c000 bytes_req=640 bytes_alloc=1024 gfp_flags=GFP_ATOMIC node=0 accounted=false',
  '          <idle>-0       [000] ..s.   99.5: kmem_cache_alloc_node: call_site=__alloc_skb+0x4e/0x1d0 ptr=000000001234abcd bytes_req=232 bytes_alloc=256 gfp_flags=GFP_ATOMIC node=-1',
  ' Web Content-a-1234  (  1200) [003] ..... 10.25: kfree: call_site=ext4_foo+0x1/0x2 [ext4] ptr=0000000000000000',
  'bash-1 [000] 1.5: mm_page_free: page=00000000deadbeef pfn=0x10 order=0',
  'bash-1 [000] .... 1.5: mm_page_free: page=(null) pfn=16 order=0',
  '          run.sh-3691    [000] .....  5417.812304: mm_page_pcpu_drain: page=00000000a571c5bf pfn=0x11fd66 order=0 migratetype=1',
  'kfree-1 [000] ..... 1.0: kmem_cache_free: call_site=f+0x0/0x1 ptr=0000000000000001',
  'Web Content [12]-1234 [003] ..... 10.25: kfree: call_site=f+0x1/0x2 ptr=0000000000000001',
];

/** Each line, and each mangled at every position: a byte dropped, doubled or replaced. */
function mangled(lines: string[]): string[] {
  const out: string[] = [];
  const subs = [' ', '-', '[', ']', ':', '.', '0', 'f', 'x', '=', '\r', '\t', '#', 'é'];
  for (const l of lines) {
    out.push(l, `${l}\r`, `${l} `, `${l}\r\r`, ` ${l}`);
    for (let i = 0; i < l.length; i++) {
      out.push(l.slice(0, i) + l.slice(i + 1), l.slice(0, i) + l.slice(i), l.slice(0, i));
      for (const c of subs) out.push(l.slice(0, i) + c + l.slice(i + 1));
    }
  }
  return out;
}

/** parseLine on each line: the general parser. */
function general(lines: string[]): { events: KmemEvent[]; stats: ParseStats } {
  const stats = createParseStats(Number.MAX_SAFE_INTEGER);
  const events: KmemEvent[] = [];
  for (const l of lines) {
    const ev = parseLine(l, stats);
    if (ev !== null) events.push(ev);
  }
  return { events, stats };
}

/** The lines as byte chunks, through parseTraceBatches (the fast path where it applies). */
async function fromChunks(
  chunks: Uint8Array[],
): Promise<{ events: KmemEvent[]; stats: ParseStats }> {
  const stats = createParseStats(Number.MAX_SAFE_INTEGER);
  const events: KmemEvent[] = [];
  for await (const batch of parseTraceBatches(chunks, { stats })) events.push(...batch);
  return { events, stats };
}

/** How two lists of events differ: the first few fields that are not the same (Object.is). */
function differences(a: KmemEvent[], b: KmemEvent[]): string[] {
  const out: string[] = [];
  if (a.length !== b.length) out.push(`${a.length} events, ${b.length} events`);
  for (let i = 0; i < Math.min(a.length, b.length) && out.length < 10; i++)
    for (const key of Object.keys(a[i]!) as (keyof KmemEvent)[])
      if (!Object.is(a[i]![key], b[i]![key]))
        out.push(`line ${a[i]!.line} ${key}: ${String(a[i]![key])} / ${String(b[i]![key])}`);
  return out;
}

const encode = (text: string) => new TextEncoder().encode(text);

describe('the fast path', () => {
  it('reads the 6.x lines, and leaves the rest to the general parser', () => {
    const read = (line: string) => {
      const bytes = encode(`${line}\n${' '.repeat(16)}`);
      const ev = createEvent();
      const n = fastEvent(ev, bytes, new DataView(bytes.buffer), 0);
      return { n, ev, length: bytes.length - 17 };
    };
    for (const line of FAST) {
      const { n, ev, length } = read(line);
      expect(n).toBe(length);
      expect(differences([ev], [parseLine(line)!])).toEqual([]);
      // CRLF: the newline after the \r.
      expect(read(`${line}\r`).n).toBe(length + 1);
    }
    for (const line of GENERAL) expect(read(line).n).toBe(-1);
  });

  it('gives what the general parser gives for every line mangled at every position', async () => {
    const lines = mangled([...FAST, ...GENERAL]);
    const want = general(lines);
    // One chunk, with room after the last line for the fast path to read it too.
    const got = await fromChunks([encode(`${lines.join('\n')}\n${' '.repeat(16)}`)]);
    expect(differences(got.events, want.events)).toEqual([]);
    want.stats.lines++; // the blank last line
    want.stats.comments++;
    expect(got.stats).toEqual(want.stats);
    expect(want.stats.malformed).toBeGreaterThan(1000);
    expect(want.stats.events).toBeGreaterThan(1000);
  });

  it('reads a line split across two chunks at every byte, in every field', async () => {
    const text = `${[...FAST, ...GENERAL, ...FAST].join('\n')}\n`;
    const bytes = encode(text);
    const want = general(text.split('\n').slice(0, -1));
    expect(want.stats.malformed).toBe(1);
    for (let at = 0; at <= bytes.length; at++) {
      const got = await fromChunks([bytes.subarray(0, at), bytes.subarray(at)]);
      expect(differences(got.events, want.events)).toEqual([]);
      expect(got.stats).toEqual(want.stats);
    }
  });

  it('reads CRLF lines as LF lines', async () => {
    const lf = `${[...FAST, ...GENERAL].join('\n')}\n${' '.repeat(16)}`;
    const a = await fromChunks([encode(lf)]);
    const b = await fromChunks([encode(lf.replaceAll('\n', '\r\n'))]);
    expect(differences(b.events, a.events)).toEqual([]);
    // A malformed line's text is all that comes before its \n.
    for (const m of b.stats.malformedLines) m.text = m.text.replace(/\r$/, '');
    expect(b.stats).toEqual(a.stats);
  });

  it('reports a malformed line among fast ones with its number', async () => {
    const lines = [...FAST, ...FAST];
    const n = FAST.length;
    // Lines 4, n + 2 and n + 7: a kmem_cache_alloc, a kfree and an mm_page_free.
    lines[3] = lines[3]!.replace('bytes_req=184', 'bytes_req=1x4');
    lines[n + 1] = lines[n + 1]!.replace(' ptr=', ' ptr ');
    lines[n + 6] = lines[n + 6]!.replace('pfn=0x11fd66', 'pfn=0x11fz66');
    const { events, stats } = await fromChunks([encode(`${lines.join('\n')}\n${' '.repeat(16)}`)]);
    expect(stats.malformedLines.map((m) => [m.line, m.reason, m.text])).toEqual([
      [4, 'kmem_cache_alloc: bad bytes_req=', lines[3]],
      [n + 2, 'kfree: no ptr=', lines[n + 1]],
      [n + 7, 'mm_page_free: bad pfn=', lines[n + 6]],
    ]);
    const bad = [4, n + 2, n + 7];
    expect(events.map((e) => e.line)).toEqual(
      [...lines.keys()].map((i) => i + 1).filter((l) => !bad.includes(l)),
    );
  });
});
