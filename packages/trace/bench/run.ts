/**
 * pnpm bench — @mmsim/trace on the real trace (../shared/traces/linux-6.18-build.kmem.trace.xz,
 * 192,144 lines, 192,132 kmem events):
 *
 *   xz → text             decompressing the trace with xz-decompress (openTraceStream)
 *   parse, new events     parseTraceText() of the decompressed text: lines/s
 *   parse, one event      parseLine(line, stats, into) on each line, one reused event
 *   parse, 64 KiB chunks  parseTraceBatches() of the decompressed bytes: the streaming path
 *                         (and forEachEvent(), the same with one reused event)
 *   replay SLUB/SLAB/SLOB replay(k, events) of the parsed events on a booted 256 MiB machine
 *                         (2 CPUs): events/s
 *   parse + replay        replayTrace() of the 64 KiB chunks: the whole path from a
 *                         decompressed file, events/s
 *
 * Each figure is the best of several runs (the machine may be shared).
 */
import { readFileSync } from 'node:fs';
import { boot } from '@mmsim/kapi';
import {
  createEvent,
  createParseStats,
  forEachEvent,
  type KmemEvent,
  parseLine,
  parseTraceBatches,
  parseTraceText,
  readTraceText,
  replay,
  replayTrace,
} from '../src/index.js';

const TRACE = new URL('../../../../shared/traces/linux-6.18-build.kmem.trace.xz', import.meta.url);
const RUNS = Number(process.env.RUNS ?? 5);

async function best(runs: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  let b = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    b = Math.min(b, performance.now() - t);
  }
  return b;
}

const rows: { what: string; ms: string; rate: string }[] = [];
const row = (what: string, ms: number, n: number, unit: string) =>
  rows.push({
    what,
    ms: ms.toFixed(1),
    rate: `${(n / ms / 1000).toFixed(2)} M ${unit}/s`,
  });

const xz = new Uint8Array(readFileSync(TRACE));
let text = '';
const tXz = await best(2, async () => {
  text = await readTraceText(xz);
});
const lines = 192_144;
row('xz → text (33 MB)', tXz, lines, 'lines');

let events: KmemEvent[] = [];
const tParse = await best(RUNS, () => {
  events = [...parseTraceText(text)];
});
row('parse, new events (parseTraceText)', tParse, lines, 'lines');

const lineArray = text.split('\n');
const tLine = await best(RUNS, () => {
  const stats = createParseStats();
  const into = createEvent();
  for (const l of lineArray) parseLine(l, stats, into);
});
row('parse, one reused event (parseLine)', tLine, lines, 'lines');

const bytes = new TextEncoder().encode(text);
const chunks: Uint8Array[] = [];
for (let i = 0; i < bytes.length; i += 1 << 16) chunks.push(bytes.subarray(i, i + (1 << 16)));
const tBatches = await best(RUNS, async () => {
  for await (const _ of parseTraceBatches(chunks));
});
row('parse, 64 KiB chunks (parseTraceBatches)', tBatches, lines, 'lines');
const tEach = await best(RUNS, () => forEachEvent(chunks, () => {}));
row('parse, 64 KiB chunks, one reused event (forEachEvent)', tEach, lines, 'lines');

for (const slab of ['slub', 'slab', 'slob'] as const) {
  let r = Number.POSITIVE_INFINITY;
  for (let i = 0; i < RUNS; i++) {
    const k = boot({ machine: { nodes: [{ memory: '256M', cpus: 2 }] }, slab });
    const t0 = performance.now();
    replay(k, events).finish();
    r = Math.min(r, performance.now() - t0);
  }
  row(`replay ${slab.toUpperCase()} (${events.length} events)`, r, events.length, 'events');
}

// The whole path from a decompressed file: 64 KiB chunks of bytes → parse → replay (SLUB).
let whole = Number.POSITIVE_INFINITY;
for (let i = 0; i < RUNS; i++) {
  const k = boot({ machine: { nodes: [{ memory: '256M', cpus: 2 }] } });
  const t0 = performance.now();
  await replayTrace(k, chunks);
  whole = Math.min(whole, performance.now() - t0);
}
row('parse + replay SLUB, 64 KiB chunks (replayTrace)', whole, events.length, 'events');

console.table(rows);
