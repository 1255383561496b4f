/**
 * The CS:APP malloc lab's trace format (.rep), as mdriver.c's read_trace() reads it:
 *
 *   20000        suggested heap size (ignored by mdriver)
 *   2            number of distinct block ids
 *   4            number of operations
 *   1            weight (1: the trace counts in the score)
 *   a 0 512      malloc: block 0 of 512 bytes
 *   r 0 640      realloc: block 0 to 640 bytes
 *   a 1 128
 *   f 0          free block 0
 *
 * Unlike mdriver (which exits on a bad line), parseRep() throws a SyntaxError naming the
 * line, and checks what mdriver assumes: ids below the header's count, an `f`/`r` of a block
 * that was allocated, and as many operations as the header says.
 */
import type { RepOp, RepTrace } from './api.js';

function syntaxError(line: number, text: string, why: string): SyntaxError {
  return new SyntaxError(`.rep line ${line}: ${why}: '${text}'`);
}

function uint(text: string, line: number, raw: string, what: string): number {
  if (!/^\d+$/.test(text)) throw syntaxError(line, raw, `${what} is not an unsigned integer`);
  return Number(text);
}

/** Parse a malloc-lab trace. */
export function parseRep(text: string): RepTrace {
  if (typeof text !== 'string') throw new TypeError('parseRep(text): text must be a string');
  const lines = text.split('\n');
  const header: number[] = [];
  const ops: RepOp[] = [];
  const allocated = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    const t = raw.trim();
    if (t === '') continue;
    const lineNo = i + 1;
    if (header.length < 4) {
      const names = ['heap size', 'number of ids', 'number of ops', 'weight'];
      header.push(uint(t, lineNo, raw, names[header.length]!));
      continue;
    }
    const parts = t.split(/\s+/);
    const type = parts[0];
    if (type !== 'a' && type !== 'f' && type !== 'r')
      throw syntaxError(lineNo, raw, `unknown operation '${type}' (a, f or r)`);
    const want = type === 'f' ? 2 : 3;
    if (parts.length !== want)
      throw syntaxError(lineNo, raw, `'${type}' takes ${want - 1} number${want > 2 ? 's' : ''}`);
    const id = uint(parts[1]!, lineNo, raw, 'id');
    if (id >= header[1]!)
      throw syntaxError(lineNo, raw, `id ${id} is not below the number of ids ${header[1]}`);
    const size = type === 'f' ? 0 : uint(parts[2]!, lineNo, raw, 'size');
    if (type === 'a') allocated.add(id);
    else if (!allocated.has(id)) throw syntaxError(lineNo, raw, `block ${id} was never allocated`);
    ops.push({ type, id, size, line: lineNo });
  }
  if (header.length < 4)
    throw new SyntaxError(`.rep: the header needs 4 numbers, found ${header.length}`);
  if (ops.length !== header[2])
    throw new SyntaxError(
      `.rep: the header announces ${header[2]} operations, found ${ops.length}`,
    );
  return {
    heapSize: header[0]!,
    numIds: header[1]!,
    numOps: header[2]!,
    weight: header[3]!,
    ops,
  };
}

/** Write a malloc-lab trace back out (the four header lines, then one line per operation). */
export function formatRep(trace: RepTrace): string {
  const lines = [trace.heapSize, trace.numIds, trace.ops.length, trace.weight].map(String);
  for (const op of trace.ops)
    lines.push(op.type === 'f' ? `f ${op.id}` : `${op.type} ${op.id} ${op.size}`);
  return `${lines.join('\n')}\n`;
}
