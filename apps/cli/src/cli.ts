/**
 * mmsim — the command line. Node-only code lives here; the packages stay isomorphic.
 */

import { PRESETS } from '@mmsim/numa';
import { Command, InvalidArgumentError } from 'commander';
import { bootSummary } from './boot.js';
import { catProc } from './cat.js';
import { runRepl } from './repl.js';
import { replayCommand } from './replay.js';
import { runScript } from './run.js';
import { runSlabtop } from './slabtop.js';
import { runTour } from './tour.js';

const program = new Command();

// `mmsim … | head`: a closed pipe ends the output, not the process with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a whole number >= 1, got '${value}'`);
  return n;
}

function preset(value: string): string {
  if (!(value in PRESETS)) {
    throw new InvalidArgumentError(
      `unknown machine '${value}' (known: ${Object.keys(PRESETS).join(', ')})`,
    );
  }
  return value;
}

program
  .name('mmsim')
  .description('Linux memory management, simulated byte for byte')
  .version('0.0.0')
  .showHelpAfterError('(run with --help for usage)');

program
  .command('tour', { isDefault: true })
  .description('a narrated walk through Linux memory management on a booted machine')
  .option('-m, --machine <preset>', 'machine preset', preset, 'server')
  .option('--cpus <n>', 'override the number of CPUs', positiveInt)
  .option('--memory <size>', "override the total memory, e.g. '8G'")
  .action((opts: { machine: string; cpus?: number; memory?: string }) => {
    runTour((l) => process.stdout.write(`${l}\n`), opts);
  });

program
  .command('boot')
  .description('boot a machine and print its zones and free lists')
  .option('-m, --machine <preset>', 'machine preset', preset, 'server')
  .option('--cpus <n>', 'override the number of CPUs', positiveInt)
  .option('--memory <size>', "override the total memory, e.g. '8G'")
  .option('--json', 'print the numbers as JSON')
  .action((opts: { machine: string; cpus?: number; memory?: string; json?: boolean }) => {
    process.stdout.write(`${bootSummary(opts)}\n`);
  });

program
  .command('cat <path>')
  .description(
    'boot a kernel, run a small workload, print a /proc or /sys file (Linux 6.18 format)',
  )
  .option('-m, --machine <preset>', 'machine preset', preset, 'laptop')
  .option('--cpus <n>', 'override the number of CPUs', positiveInt)
  .option('--memory <size>', "override the total memory, e.g. '8G'")
  .option('--slab <allocator>', 'slub, slab or slob', 'slub')
  .option('--slub-debug <flags>', "the slub_debug= boot parameter, e.g. 'FZPU'")
  .option('--idle', 'print right after boot, without the sample workload')
  .action(
    (
      path: string,
      opts: {
        machine: string;
        cpus?: number;
        memory?: string;
        slab?: string;
        slubDebug?: string;
        idle?: boolean;
      },
    ) => {
      process.stdout.write(catProc(path, opts));
    },
  );

program
  .command('replay <trace>')
  .description('replay a kernel kmem trace (ftrace text, plain/.gz/.xz) on booted kernels')
  .option('-m, --machine <preset>', 'machine preset', preset, 'laptop')
  .option('--slab <list>', 'slab allocators to compare, e.g. slub,slab,slob', 'slub')
  .option('--json', 'the full reports as JSON')
  .option('--csv', 'the time series as CSV')
  .option('--allow-malformed', 'exit 0 even when some trace lines are malformed')
  .action(
    async (
      trace: string,
      opts: {
        machine: string;
        slab: string;
        json?: boolean;
        csv?: boolean;
        allowMalformed?: boolean;
      },
    ) => {
      const { text, malformed } = await replayCommand(trace, opts);
      process.stdout.write(text);
      // The whole report first (nothing is lost), then the line to act on.
      if (malformed !== null) {
        process.stderr.write(`mmsim: ${malformed}\n`);
        if (!opts.allowMalformed) process.exitCode = 1;
      }
    },
  );

program
  .command('run <script>')
  .description('run an ES module scenario: its default export gets a booted kernel')
  .option('-m, --machine <preset>', 'machine preset', preset, 'laptop')
  .option('--cpus <n>', 'override the number of CPUs', positiveInt)
  .option('--memory <size>', "override the total memory, e.g. '8G'")
  .option('--slab <allocator>', 'slub, slab or slob', 'slub')
  .option('--slub-debug <flags>', "the slub_debug= boot parameter, e.g. 'FZPU'")
  .option('--dmesg', 'print the kernel log afterwards')
  .action(async (script: string, opts: Parameters<typeof runScript>[1]) => {
    process.stdout.write(await runScript(script, opts));
  });

program
  .command('slabtop')
  .description('procps slabtop as a live screen while a workload runs (q quits)')
  .option('-m, --machine <preset>', 'machine preset', preset, 'laptop')
  .option('--slab <allocator>', 'slub or slab', 'slub')
  .option('-s, --sort <key>', 'sort key as in slabtop: o a s c l v n b p u', 'o')
  .option('-d, --delay <ms>', 'time between frames', positiveInt, 1000)
  .option('-n, --iterations <n>', 'stop after n frames', positiveInt)
  .option('--seed <n>', 'the workload seed', positiveInt, 1)
  .action(
    async (opts: {
      machine: string;
      slab: string;
      sort: string;
      delay: number;
      iterations?: number;
      seed: number;
    }) => {
      if (!'oasclvnbpu'.includes(opts.sort) || opts.sort.length !== 1) {
        throw new Error(`unknown sort key '${opts.sort}' (one of o a s c l v n b p u)`);
      }
      await runSlabtop(opts);
    },
  );

program
  .command('repl')
  .description(
    'an interactive prompt on a booted kernel: kmalloc 100 GFP_KERNEL, kfree $1, cat /proc/slabinfo, …',
  )
  .option('-m, --machine <preset>', 'machine preset', preset, 'laptop')
  .option('--slab <allocator>', 'slub, slab or slob', 'slub')
  .option('--slub-debug <flags>', "the slub_debug= boot parameter, e.g. 'FZPU'")
  .action(async (opts: { machine: string; slab?: string; slubDebug?: string }) => {
    await runRepl(opts);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // A bad value deep inside (a size that does not parse, say) is one clear line, not a trace.
  process.stderr.write(`mmsim: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
