/**
 * `mmsim replay TRACE`: replay a real kernel's kmem trace (ftrace text; plain, .gz or .xz)
 * on booted kernels — one per slab allocator asked for — and print what each did, side by
 * side: how many kmalloc sizes agree with the traced bytes_alloc, peak memory, overhead.
 */
import { readFileSync } from 'node:fs';
import { type BootConfig, boot } from '@mmsim/kapi';
import { openTraceStream, type ReplayReport, replayTrace, samplesToCsv } from '@mmsim/trace';
import cliProgress from 'cli-progress';

export interface ReplayOptions {
  machine: string;
  slab: string;
  json?: boolean;
  csv?: boolean;
}

export interface ReplayOutput {
  /** The table, JSON or CSV. */
  text: string;
  /**
   * The one line a person reads when the trace had malformed lines (the first one, where
   * and why, and how many more), or null.
   */
  malformed: string | null;
}

const kib = (b: number) => `${(b / 1024).toFixed(0)} KiB`;

export async function replayCommand(file: string, opts: ReplayOptions): Promise<ReplayOutput> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new Error(
      `cannot read trace '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const slabs = opts.slab.split(',').map((s) => s.trim());
  for (const s of slabs) {
    if (!['slub', 'slab', 'slob'].includes(s))
      throw new Error(`unknown slab allocator '${s}' (slub, slab, slob)`);
  }
  const reports: { slab: string; report: ReplayReport; malformed: number }[] = [];
  let malformed: string | null = null;
  for (const slab of slabs) {
    const config: BootConfig = { machine: opts.machine as 'laptop', slab: slab as 'slub' };
    const k = boot(config);
    // A progress bar on a terminal (over the file's bytes); a plain line otherwise.
    const bar = process.stderr.isTTY
      ? new cliProgress.SingleBar(
          {
            format: `${slab.padEnd(4)} [{bar}] {percentage}% | {value}/{total} KiB`,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
    if (bar) bar.start(Math.ceil(bytes.length / 1024), 0);
    else process.stderr.write(`mmsim: replaying ${file} on ${slab}…\n`);
    const stream = openTraceStream(bytes, {
      onProgress: (done) => bar?.update(Math.ceil(done / 1024)),
    });
    const { report, stats } = await replayTrace(k, stream, { freeRemaining: true });
    bar?.stop();
    reports.push({ slab, report, malformed: stats.malformed });
    const first = stats.malformedLines[0];
    if (first && malformed === null) {
      const more = stats.malformed - 1;
      malformed =
        `${file}:${first.line}: malformed trace line (${first.reason}): ${JSON.stringify(first.text.slice(0, 80))}` +
        (more > 0 ? ` (and ${more} more)` : '');
    }
  }
  const out = (text: string): ReplayOutput => ({ text, malformed });
  if (opts.json)
    return out(
      `${JSON.stringify(
        reports.map((r) => ({ slab: r.slab, ...r.report })),
        null,
        2,
      )}\n`,
    );
  if (opts.csv) {
    return out(reports.map((r) => `# ${r.slab}\n${samplesToCsv(r.report.samples)}`).join(''));
  }
  const rows: [string, ...string[]][] = [
    ['', ...reports.map((r) => r.slab)],
    ['events', ...reports.map((r) => String(r.report.events))],
    ['malformed lines', ...reports.map((r) => String(r.malformed))],
    [
      'kmalloc bytes_alloc agree',
      ...reports.map(
        (r) => `${r.report.kmallocAgreement.agree}/${r.report.kmallocAgreement.checked}`,
      ),
    ],
    ['failed allocations', ...reports.map((r) => String(r.report.failures))],
    ['errors', ...reports.map((r) => String(r.report.errors))],
    ['peak requested', ...reports.map((r) => kib(r.report.peak.requestedBytes))],
    ['peak allocated', ...reports.map((r) => kib(r.report.peak.allocatedBytes))],
    ['peak pages', ...reports.map((r) => String(r.report.peak.pages))],
    ['peak slab pages', ...reports.map((r) => String(r.report.peak.slabPages))],
    ['overhead at peak', ...reports.map((r) => kib(r.report.overhead.atPeakBytes))],
    ['frees of older objects', ...reports.map((r) => String(r.report.unknownFrees))],
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return out(
    `${rows.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n')}\n`,
  );
}
