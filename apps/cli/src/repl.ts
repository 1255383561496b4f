/**
 * `mmsim repl`: an interactive prompt on a booted kernel. Each line is a kernel call —
 * `kmalloc 100 GFP_KERNEL`, `kfree $1`, `ksize $1`, `vmalloc 16384`, `cat /proc/slabinfo`,
 * `dmesg` — and results are numbered `$1`, `$2`, … to be used in later lines. Reads a
 * terminal or a pipe (one command per line); `quit` or end of input leaves.
 */
import { createInterface } from 'node:readline';
import { type BootConfig, boot, formatPtr, type Kernel, parseGfp } from '@mmsim/kapi';
import { readProc } from '@mmsim/procfs';

export interface ReplOptions {
  machine: string;
  slab?: string;
  slubDebug?: string;
}

const HELP = [
  'kmalloc SIZE [GFP]      kzalloc SIZE [GFP]      kfree $N        ksize $N',
  'vmalloc SIZE            vfree $N                alloc_pages ORDER [GFP]   free_pages $N ORDER',
  'write8 $N OFFSET BYTE   read8 $N OFFSET         cat PATH        dmesg       help   quit',
].join('\n');

/** Evaluate one line; returns the text to print. */
export function evalLine(k: Kernel, vars: number[], line: string): string {
  const words = line.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '';
  const [cmd, ...args] = words as [string, ...string[]];
  const num = (w: string | undefined, what: string): number => {
    if (w === undefined) throw new Error(`${cmd}: missing ${what}`);
    if (w.startsWith('$')) {
      const v = vars[Number(w.slice(1)) - 1];
      if (v === undefined) throw new Error(`${cmd}: no result ${w}`);
      return v;
    }
    const n = Number(w);
    if (!Number.isSafeInteger(n) || n < 0)
      throw new Error(`${cmd}: ${what} '${w}' is not a number`);
    return n;
  };
  const gfp = (w: string | undefined) => (w === undefined ? parseGfp('GFP_KERNEL') : parseGfp(w));
  const result = (v: number, show = `0x${formatPtr(v)}`) => {
    vars.push(v);
    return `$${vars.length} = ${v === 0 ? 'NULL' : show}`;
  };
  switch (cmd) {
    case 'help':
      return HELP;
    case 'kmalloc':
      return result(k.kmalloc(num(args[0], 'size'), gfp(args[1]), 'repl'));
    case 'kzalloc':
      return result(k.kzalloc(num(args[0], 'size'), gfp(args[1]), 'repl'));
    case 'kfree':
      k.kfree(num(args[0], 'pointer'), 'repl');
      return 'ok';
    case 'ksize':
      return String(k.ksize(num(args[0], 'pointer')));
    case 'vmalloc':
      return result(k.vmalloc(num(args[0], 'size'), 'repl'));
    case 'vfree':
      k.vfree(num(args[0], 'pointer'), 'repl');
      return 'ok';
    case 'alloc_pages': {
      const pfn = k.alloc_pages(gfp(args[1]), num(args[0], 'order'));
      return pfn < 0 ? result(0) : result(pfn, `pfn 0x${pfn.toString(16)}`);
    }
    case 'free_pages':
      k.__free_pages(num(args[0], 'page'), num(args[1], 'order'));
      return 'ok';
    case 'write8':
      k.mem.write8(num(args[0], 'pointer') + num(args[1], 'offset'), num(args[2], 'byte'));
      return 'ok';
    case 'read8':
      return `0x${k.mem.read8(num(args[0], 'pointer') + num(args[1], 'offset')).toString(16)}`;
    case 'cat':
      return readProc(k, args.join(' ')).trimEnd();
    case 'dmesg':
      return k.dmesg();
    default:
      throw new Error(`unknown command '${cmd}' (try: help)`);
  }
}

export async function runRepl(opts: ReplOptions): Promise<void> {
  const config: BootConfig = { machine: opts.machine as 'laptop' };
  if (opts.slab !== undefined) config.slab = opts.slab as 'slub';
  if (opts.slubDebug !== undefined) config.slubDebug = opts.slubDebug;
  const k = boot(config);
  const vars: number[] = [];
  const tty = process.stdin.isTTY === true;
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: tty,
    prompt: 'mmsim> ',
  });
  if (tty) {
    process.stdout.write(
      `mmsim: a ${k.machine.name} kernel is booted (${k.slab.name}). Type help.\n`,
    );
    rl.prompt();
  }
  let quit = false;
  for await (const line of rl) {
    if (line.trim() === 'quit' || line.trim() === 'exit') {
      quit = true;
      break;
    }
    try {
      const out = evalLine(k, vars, line);
      if (out) process.stdout.write(`${out}\n`);
    } catch (e) {
      // A kernel Oops or a bad command: say it and carry on, as a shell does.
      process.stdout.write(`${(e as Error).message}\n`);
    }
    if (tty) rl.prompt();
  }
  rl.close();
  // Ctrl-D (or Ctrl-C) leaves at the prompt: end its line, so the shell's prompt starts a new one.
  if (tty && !quit) process.stdout.write('\n');
}
