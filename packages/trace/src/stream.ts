/**
 * Open a trace file's bytes as a stream of text bytes, whatever it was saved as: xz (the
 * magic FD 37 7A 58 5A 00, decompressed by xz-decompress), gzip (1F 8B, by the platform's
 * DecompressionStream) or plain text. Works in Node 20 and in browsers: no fs, no zlib.
 */
import xz from 'xz-decompress';

export type TraceCompression = 'xz' | 'gzip' | 'none';

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

/** What `bytes` are compressed with, from their first bytes. */
export function detectCompression(bytes: Uint8Array): TraceCompression {
  if (bytes.length >= 6 && XZ_MAGIC.every((b, i) => bytes[i] === b)) return 'xz';
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip';
  return 'none';
}

/** Options of openTraceStream(). */
export interface OpenTraceOptions {
  /** Called as the file's (compressed) bytes are consumed: for a progress bar. */
  onProgress?: (consumedBytes: number, totalBytes: number) => void;
}

/** A stream that hands out `bytes` in chunks of `chunkSize`. */
function bytesStream(
  bytes: Uint8Array,
  onProgress?: OpenTraceOptions['onProgress'],
  chunkSize = 1 << 20,
): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) {
        controller.close();
        return;
      }
      const end = Math.min(bytes.length, at + chunkSize);
      controller.enqueue(bytes.subarray(at, end));
      at = end;
      onProgress?.(at, bytes.length);
    },
  });
}

/**
 * The decompressed bytes of a trace file: feed the result to parseTrace() or
 * parseTraceBatches().
 */
export function openTraceStream(
  bytes: Uint8Array,
  options: OpenTraceOptions = {},
): ReadableStream<Uint8Array> {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError('openTraceStream(bytes): bytes must be a Uint8Array');
  }
  const kind = detectCompression(bytes);
  const raw = bytesStream(bytes, options.onProgress, kind === 'none' ? 1 << 20 : 1 << 16);
  if (kind === 'xz') return new xz.XzReadableStream(raw);
  if (kind === 'gzip') {
    const gunzip = new DecompressionStream('gzip') as unknown as TransformStream<
      Uint8Array,
      Uint8Array
    >;
    return raw.pipeThrough(gunzip);
  }
  return raw;
}

/** The whole decompressed text of a trace file. */
export async function readTraceText(bytes: Uint8Array): Promise<string> {
  const reader = openTraceStream(bytes).getReader();
  const decoder = new TextDecoder();
  const parts: string[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(decoder.decode(value, { stream: true }));
  }
  parts.push(decoder.decode());
  return parts.join('');
}
