/** openTraceStream(): xz, gzip and plain text, told apart by their first bytes. */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { detectCompression, openTraceStream, parseTrace, readTraceText } from '../src/index.js';

const TRACE = new URL('../../../../shared/traces/linux-6.18-build.kmem.trace.xz', import.meta.url);
const SAMPLE = `# tracer: nop
          run.sh-3691    [000] .....  5417.812022: kmem_cache_free: call_site=__fput+0x141/0x2a0 ptr=00000000b79cd2f3 name=lsm_file_cache
          run.sh-3691    [000] .....  5417.812043: mm_page_alloc: page=000000000b4a15a1 pfn=0x108182 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_ZERO|__GFP_COMP
`;

describe('openTraceStream', () => {
  it('reads plain text as it is', async () => {
    const bytes = new TextEncoder().encode(SAMPLE);
    expect(detectCompression(bytes)).toBe('none');
    expect(await readTraceText(bytes)).toBe(SAMPLE);
  });

  it('decompresses gzip (1F 8B) with DecompressionStream', async () => {
    const gz = new Uint8Array(gzipSync(SAMPLE));
    expect(detectCompression(gz)).toBe('gzip');
    expect(await readTraceText(gz)).toBe(SAMPLE);
    const kinds: string[] = [];
    for await (const ev of parseTrace(openTraceStream(gz))) kinds.push(ev.kind);
    expect(kinds).toEqual(['kmem_cache_free', 'mm_page_alloc']);
  });

  it('decompresses xz (FD 37 7A 58 5A 00): the real trace', async () => {
    const xz = new Uint8Array(readFileSync(TRACE));
    expect(detectCompression(xz)).toBe('xz');
    const text = await readTraceText(xz);
    expect(text.startsWith('# tracer: nop\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(192_145); // 192144 lines and the final newline
  }, 30_000);

  it('refuses what is not bytes', () => {
    expect(() => openTraceStream('text' as unknown as Uint8Array)).toThrow(TypeError);
    expect(detectCompression(new Uint8Array([0x1f]))).toBe('none');
  });
});
