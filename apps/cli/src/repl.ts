/**
 * `mmsim repl`: an interactive prompt on a booted kernel. Each line is a kernel call —
 * `kmalloc 100 GFP_KERNEL`, `kfree $1`, `ksize $1`, `vmalloc 16384`, `cat /proc/slabinfo`,
 * `dmesg` — and results are numbered `$1`, `$2`, … to be used in later lines. Reads a
 * terminal or a pipe (one command per line); `quit` or end of input leaves.
 */
import { createInterface } from 'node:readline';
import {
  type BootConfig,
  boot,
  formatPtr,
  type Kernel,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PAGE_SIZE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  type Process,
  parseGfp,
} from '@mmsim/kapi';
import { readProc } from '@mmsim/procfs';

export interface ReplOptions {
  machine: string;
  slab?: string;
  slubDebug?: string;
}

const HELP = [
  'kmalloc SIZE [GFP]      kzalloc SIZE [GFP]      kfree $N        ksize $N',
  'vmalloc SIZE            vfree $N                alloc_pages ORDER [GFP]   __free_pages $N ORDER',
  '__get_free_pages ORDER [GFP]   free_pages $N ORDER   page_address $N   virt_to_page $N',
  'write8 $N OFFSET BYTE   read8 $N OFFSET         cat PATH        dmesg       help   quit',
  'processes: spawn NAME   fork $P   exit $P   ps   mmap $P LENGTH [rwx|none]   munmap $P ADDR LENGTH',
  '           mprotect $P ADDR LENGTH PROT   brk $P ADDR   touch $P ADDR [LENGTH]',
  '           uwrite8 $P ADDR OFFSET BYTE   uread8 $P ADDR OFFSET   (cat /proc/PID/maps)',
].join('\n');

/** `rw`, `r-x`, `none` … as PROT_* bits. */
function parseProt(cmd: string, w: string | undefined): number {
  if (w === undefined) return PROT_READ | PROT_WRITE;
  if (w === 'none') return 0;
  if (!/^[rwx-]{1,3}$/.test(w))
    throw new Error(`${cmd}: protection '${w}' is not like rw, r-x or none`);
  return (
    (w.includes('r') ? PROT_READ : 0) |
    (w.includes('w') ? PROT_WRITE : 0) |
    (w.includes('x') ? PROT_EXEC : 0)
  );
}

/** A system call's -errno as text, or the value. */
const syscall = (v: number, show: (v: number) => string): string =>
  v < 0 ? `-${-v} (${ERRNO[-v] ?? 'error'})` : show(v);
const ERRNO: Record<number, string> = { 1: 'EPERM', 12: 'ENOMEM', 17: 'EEXIST', 22: 'EINVAL' };

/**
 * The numbered results of a session. A result is an address (kmalloc, vmalloc,
 * __get_free_pages …) or a page (alloc_pages, virt_to_page: a pfn, as struct page * is in
 * Linux); the two are different types in C, so a page handed where an address belongs is
 * refused with the call to use rather than taken as a wild address.
 */
export interface ReplResults {
  values: number[];
  isPage: boolean[];
}

export function newResults(): ReplResults {
  return { values: [], isPage: [] };
}

/** Evaluate one line; returns the text to print. */
export function evalLine(k: Kernel, results: ReplResults, line: string): string {
  const vars = results.values;
  const words = line.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '';
  const [cmd, ...args] = words as [string, ...string[]];
  const num = (w: string | undefined, what: string): number => {
    if (w === undefined) throw new Error(`${cmd}: missing ${what}`);
    if (w.startsWith('$')) {
      const i = Number(w.slice(1)) - 1;
      const v = vars[i];
      if (v === undefined) throw new Error(`${cmd}: no result ${w}`);
      if (results.isPage[i] && what !== 'page') {
        throw new Error(
          `${cmd}: ${w} is a page (pfn 0x${v.toString(16)}), not an address: ` +
            `page_address ${w} gives its address${cmd === 'free_pages' ? `, __free_pages ${w} ORDER frees it` : ''}`,
        );
      }
      if (!results.isPage[i] && what === 'page') {
        throw new Error(
          `${cmd}: ${w} is an address, not a page: virt_to_page ${w} gives its page` +
            `${cmd === '__free_pages' ? `, free_pages ${w} ORDER frees it` : ''}`,
        );
      }
      return v;
    }
    const n = Number(w);
    if (!Number.isSafeInteger(n) || n < 0)
      throw new Error(`${cmd}: ${what} '${w}' is not a number`);
    return n;
  };
  const gfp = (w: string | undefined) => (w === undefined ? parseGfp('GFP_KERNEL') : parseGfp(w));
  const proc = (w: string | undefined): Process => {
    const pid = num(w, 'pid');
    const p = k.tasks.get(pid);
    if (!p) throw new Error(`${cmd}: no process ${pid}`);
    return p;
  };
  const result = (v: number, show = `0x${formatPtr(v)}`, isPage = false) => {
    vars.push(v);
    results.isPage.push(isPage);
    return `$${vars.length} = ${v === 0 && !isPage ? 'NULL' : show}`;
  };
  const page = (pfn: number) => result(pfn, `pfn 0x${pfn.toString(16)}`, true);
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
      return pfn < 0 ? result(0) : page(pfn);
    }
    case '__free_pages':
      k.__free_pages(num(args[0], 'page'), num(args[1], 'order'));
      return 'ok';
    case '__get_free_pages':
      return result(k.__get_free_pages(gfp(args[1]), num(args[0], 'order')));
    case 'free_pages':
      k.free_pages(num(args[0], 'address'), num(args[1], 'order'));
      return 'ok';
    case 'page_address':
      return result(k.page_address(num(args[0], 'page')));
    case 'virt_to_page':
      return page(k.virt_to_page(num(args[0], 'address')));
    case 'write8':
      k.mem.write8(num(args[0], 'pointer') + num(args[1], 'offset'), num(args[2], 'byte'));
      return 'ok';
    case 'read8':
      return `0x${k.mem.read8(num(args[0], 'pointer') + num(args[1], 'offset')).toString(16)}`;
    case 'cat':
      return readProc(k, args.join(' ')).trimEnd();
    case 'dmesg':
      return k.dmesg();
    case 'spawn': {
      if (args[0] === undefined) throw new Error('spawn: missing name');
      const p = k.createProcess(args[0]);
      return result(p.pid, `pid ${p.pid}`);
    }
    case 'fork': {
      const c = k.fork(proc(args[0]));
      return result(c.pid, `pid ${c.pid}`);
    }
    case 'exit':
      proc(args[0]).exit();
      return 'ok';
    case 'ps':
      return [
        '    PID COMM             VSZ(kB)  RSS(kB)  MINFLT',
        ...[...k.tasks.values()].map(
          (p) =>
            `${String(p.pid).padStart(7)} ${p.comm.padEnd(15)} ${String(p.mm!.totalVm * 4).padStart(8)} ${String(p.mm!.rss * 4).padStart(8)} ${String(p.minFlt).padStart(7)}`,
        ),
      ].join('\n');
    case 'mmap': {
      const p = proc(args[0]);
      const a = p.mmap(
        0,
        num(args[1], 'length'),
        parseProt(cmd, args[2]),
        MAP_PRIVATE | MAP_ANONYMOUS,
      );
      return a < 0 ? syscall(a, String) : result(a, `0x${a.toString(16)}`);
    }
    case 'munmap':
      return syscall(
        proc(args[0]).munmap(num(args[1], 'address'), num(args[2], 'length')),
        () => 'ok',
      );
    case 'mprotect':
      return syscall(
        proc(args[0]).mprotect(
          num(args[1], 'address'),
          num(args[2], 'length'),
          parseProt(cmd, args[3]),
        ),
        () => 'ok',
      );
    case 'brk': {
      const b = proc(args[0]).brk(args[1] === undefined ? 0 : num(args[1], 'address'));
      return `0x${b.toString(16)}`;
    }
    case 'touch': {
      // One write per page: each first touch is a page fault.
      const p = proc(args[0]);
      const a = num(args[1], 'address');
      const len = args[2] === undefined ? 1 : num(args[2], 'length');
      const before = p.minFlt;
      for (let off = 0; off < len; off += PAGE_SIZE) p.mem.write8(a + off, 1);
      return `${p.minFlt - before} page fault(s), RSS ${p.mm!.rss * 4} kB`;
    }
    case 'uwrite8': {
      const p = proc(args[0]);
      p.mem.write8(num(args[1], 'address') + num(args[2], 'offset'), num(args[3], 'byte'));
      return 'ok';
    }
    case 'uread8': {
      const p = proc(args[0]);
      return `0x${p.mem.read8(num(args[1], 'address') + num(args[2], 'offset')).toString(16)}`;
    }
    default:
      throw new Error(`unknown command '${cmd}' (try: help)`);
  }
}

export async function runRepl(opts: ReplOptions): Promise<void> {
  const config: BootConfig = { machine: opts.machine as 'laptop' };
  if (opts.slab !== undefined) config.slab = opts.slab as 'slub';
  if (opts.slubDebug !== undefined) config.slubDebug = opts.slubDebug;
  const k = boot(config);
  const results = newResults();
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
      const out = evalLine(k, results, line);
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
