/**
 * The interactive commands in a real terminal: `mmsim slabtop` and `mmsim repl` run in a
 * pseudo-terminal (node-pty), and the tests check what a person sees on the screen. The bytes
 * the CLI writes go through a small terminal model (cursor moves, line and screen erases,
 * scrolling, cursor visibility) — enough for log-update's redraws and readline's line editing —
 * so that the assertions are on the screen, not on escape sequences.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// The built binary, as in cli.test.ts (turbo builds it before the tests).
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const COLS = 100;
const ROWS = 30;
const TIMEOUT = 15_000;

let loadError = '';
const pty = await import('node-pty')
  .then((m) => m.default ?? m)
  .catch((e: unknown) => {
    loadError = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    return null;
  });

/** A terminal screen: what a person sees, fed the bytes a program writes to the terminal. */
class Screen {
  grid: string[][];
  /** Lines scrolled off the top, oldest first. */
  scrollback: string[] = [];
  x = 0;
  y = 0;
  cursorVisible = true;
  private pending = '';

  constructor(
    public cols: number,
    public rows: number,
  ) {
    this.grid = Array.from({ length: rows }, () => this.blank());
  }

  private blank(): string[] {
    return new Array<string>(this.cols).fill(' ');
  }

  private lineFeed(): void {
    if (this.y < this.rows - 1) this.y++;
    else {
      this.scrollback.push(this.grid.shift()!.join('').trimEnd());
      this.grid.push(this.blank());
    }
  }

  /** The terminal window got a new size: the top lines go if the cursor's line would not fit. */
  resize(cols: number, rows: number): void {
    const drop = Math.max(0, this.y - (rows - 1));
    for (const line of this.grid.splice(0, drop)) this.scrollback.push(line.join('').trimEnd());
    this.y -= drop;
    this.cols = cols;
    this.rows = rows;
    this.grid = Array.from({ length: rows }, (_, i) => {
      const old = this.grid[i] ?? [];
      return Array.from({ length: cols }, (_, j) => old[j] ?? ' ');
    });
    this.x = Math.min(this.x, cols - 1);
  }

  private csi(prefix: string, params: string, final: string): void {
    const ps = params.split(';').map((p) => (p === '' ? undefined : Number(p)));
    const n = ps[0] ?? 1;
    const erase = (row: number, from: number, to: number) => {
      for (let j = from; j < to; j++) this.grid[row]![j] = ' ';
    };
    if (prefix === '?') {
      if (params === '25' && (final === 'h' || final === 'l')) this.cursorVisible = final === 'h';
      return;
    }
    switch (final) {
      case 'A':
        this.y = Math.max(0, this.y - n);
        break;
      case 'B':
        this.y = Math.min(this.rows - 1, this.y + n);
        break;
      case 'C':
        this.x = Math.min(this.cols - 1, this.x + n);
        break;
      case 'D':
        this.x = Math.max(0, this.x - n);
        break;
      case 'G':
        this.x = Math.min(this.cols - 1, n - 1);
        break;
      case 'H':
      case 'f':
        this.y = Math.min(this.rows - 1, (ps[0] ?? 1) - 1);
        this.x = Math.min(this.cols - 1, (ps[1] ?? 1) - 1);
        break;
      case 'K': {
        const mode = ps[0] ?? 0;
        if (mode === 0) erase(this.y, this.x, this.cols);
        else if (mode === 1) erase(this.y, 0, this.x + 1);
        else erase(this.y, 0, this.cols);
        break;
      }
      case 'J': {
        const mode = ps[0] ?? 0;
        const [from, to] =
          mode === 0 ? [this.y + 1, this.rows] : mode === 1 ? [0, this.y] : [0, this.rows];
        if (mode === 0) erase(this.y, this.x, this.cols);
        if (mode === 1) erase(this.y, 0, this.x + 1);
        for (let i = from; i < to; i++) erase(i, 0, this.cols);
        break;
      }
      // Colours and anything else change nothing a test reads.
    }
  }

  write(data: string): void {
    const s = this.pending + data;
    this.pending = '';
    let i = 0;
    while (i < s.length) {
      const c = s[i]!;
      if (c === '\x1b') {
        if (i + 1 >= s.length) {
          this.pending = s.slice(i);
          return;
        }
        if (s[i + 1] === '[') {
          let j = i + 2;
          while (j < s.length && (s.charCodeAt(j) < 0x40 || s.charCodeAt(j) > 0x7e)) j++;
          if (j >= s.length) {
            this.pending = s.slice(i);
            return;
          }
          const body = s.slice(i + 2, j);
          const prefix = /^[?>=]/.test(body) ? body[0]! : '';
          this.csi(prefix, body.slice(prefix.length), s[j]!);
          i = j + 1;
        } else if (s[i + 1] === ']') {
          // An OSC string (a window title): up to BEL or ESC \.
          const bel = s.indexOf('\x07', i);
          const st = s.indexOf('\x1b\\', i);
          const end = bel < 0 ? st : st < 0 ? bel : Math.min(bel, st);
          if (end < 0) {
            this.pending = s.slice(i);
            return;
          }
          i = end + (end === st ? 2 : 1);
        } else i += 2;
        continue;
      }
      if (c === '\r') this.x = 0;
      else if (c === '\n') this.lineFeed();
      else if (c === '\b') this.x = Math.max(0, this.x - 1);
      else if (c === '\t') this.x = Math.min(this.cols - 1, (Math.floor(this.x / 8) + 1) * 8);
      else if (c >= ' ') {
        if (this.x >= this.cols) {
          this.x = 0;
          this.lineFeed();
        }
        this.grid[this.y]![this.x++] = c;
      }
      i++;
    }
  }

  /** The visible lines, trailing blanks trimmed. */
  lines(): string[] {
    return this.grid.map((l) => l.join('').trimEnd());
  }

  /** Everything the person has seen: the scrollback, then the screen. */
  transcript(): string[] {
    return [...this.scrollback, ...this.lines()];
  }

  /** The index in transcript() of the cursor's line. */
  cursorLine(): number {
    return this.scrollback.length + this.y;
  }

  toString(): string {
    return this.lines()
      .map((l, i) => `${String(i).padStart(2)}|${l}`)
      .join('\n');
  }
}

interface Session {
  screen: Screen;
  /** Every byte the program wrote. */
  output(): string;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  /** Resolves when `cond` holds for the screen; fails with the screen after `ms`. */
  waitFor(cond: (s: Screen) => boolean, what: string, ms?: number): Promise<void>;
  exited: Promise<{ exitCode: number; signal?: number }>;
}

const live: { kill(): void; done: boolean }[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const p of live.splice(0)) if (!p.done) p.kill();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Run `file args…` in a pseudo-terminal of cols × rows. */
function spawnIn(file: string, args: string[], cols = COLS, rows = ROWS): Session {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.TERM = 'xterm-256color';
  const term = pty!.spawn(file, args, { name: 'xterm-256color', cols, rows, cwd: tmpdir(), env });
  const screen = new Screen(cols, rows);
  let raw = '';
  const handle = { kill: () => term.kill(), done: false };
  live.push(handle);
  term.onData((d) => {
    raw += d;
    screen.write(d);
  });
  const exited = new Promise<{ exitCode: number; signal?: number }>((resolve) => {
    term.onExit((e) => {
      handle.done = true;
      resolve(e);
    });
  });
  return {
    screen,
    output: () => raw,
    write: (data) => term.write(data),
    resize: (c, r) => {
      term.resize(c, r);
      screen.resize(c, r);
    },
    async waitFor(cond, what, ms = 8_000) {
      const until = Date.now() + ms;
      while (!cond(screen)) {
        if (Date.now() > until) {
          throw new Error(`timed out waiting for ${what}; the screen:\n${screen}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    exited,
  };
}

const mmsim = (args: string[], cols?: number, rows?: number) =>
  spawnIn(process.execPath, [CLI, ...args], cols, rows);

/**
 * `mmsim args…` run by a shell that saves the terminal's settings (`stty -g`) before and after
 * it and then prints `SHELL$ ` as a shell's prompt would: what the person is left with.
 */
function mmsimInShell(args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'mmsim-tty-'));
  dirs.push(dir);
  const script =
    'stty -g > "$D/before"; "$@"; rc=$?; stty -g > "$D/after"; printf "SHELL\\$ "; exit $rc';
  const s = spawnIn('/bin/sh', [
    '-c',
    `D='${dir}'; ${script}`,
    'sh',
    process.execPath,
    CLI,
    ...args,
  ]);
  const stty = (which: string) => readFileSync(join(dir, which), 'utf8').trim();
  return { ...s, sttyBefore: () => stty('before'), sttyAfter: () => stty('after') };
}

/** Resolves with the exit of `s` if it comes within `ms`; fails with the screen if not. */
async function exitWithin(s: Session, ms = 3_000): Promise<{ exitCode: number }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((r) => {
    timer = setTimeout(() => r(null), ms);
  });
  const e = await Promise.race([s.exited, late]);
  clearTimeout(timer);
  if (e === null) throw new Error(`still running ${ms} ms later; the screen:\n${s.screen}`);
  return e;
}

const HEADER = '  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME';
const isRow = (l: string) => /^ +\d+ +\d+ +\d+% +\d+\.\d\dK +\d+ +\d+ +\d+K \S+$/.test(l);
const cacheSizeK = (row: string) => Number(row.trim().split(/ +/)[6]!.replace('K', ''));

const suite = () => {
  describe('mmsim slabtop in a terminal', () => {
    it(
      'draws procps slabtop’s screen with the cursor hidden; q quits at once, exit 0, the terminal restored',
      async () => {
        // A minute between frames: the first frame stays up, and q must not wait for the next.
        const s = mmsimInShell(['slabtop', '--machine', 'tiny', '-d', '60000']);
        await s.waitFor((sc) => sc.lines().includes(' (q quits)'), 'the first frame');
        const lines = s.screen.lines();
        const top = lines.indexOf(' Active / Total Objects (% used)    : 633 / 633 (100.0%)');
        expect(top, s.screen.toString()).toBeGreaterThanOrEqual(0);
        expect(lines.slice(top, top + 7)).toEqual([
          ' Active / Total Objects (% used)    : 633 / 633 (100.0%)',
          ' Active / Total Slabs (% used)      : 18 / 18 (100.0%)',
          ' Active / Total Caches (% used)     : 11 / 53 (20.8%)',
          ' Active / Total Size (% used)       : 201.44K / 201.44K (100.0%)',
          ' Minimum / Average / Maximum Object : 0.01K / 0.32K / 8.00K',
          '',
          HEADER,
        ]);
        // -s o (the default): by number of objects; as many rows as the 30-line window holds.
        const rows = lines.slice(top + 7).filter(isRow);
        expect(rows).toHaveLength(ROWS - 10);
        expect(rows.slice(0, 4)).toEqual([
          '   256    256 100%    0.02K      1      256         4K kmalloc-16',
          '   128    128 100%    0.03K      1      128         4K kmalloc-32',
          '    64     64 100%    0.06K      1       64         4K kmalloc-64',
          '    60     60 100%    0.62K      5       12        40K workload_inode',
        ]);
        expect(s.screen.cursorVisible).toBe(false);

        s.write('q');
        expect((await exitWithin(s)).exitCode).toBe(0);
        await s.waitFor((sc) => sc.lines().some((l) => l.startsWith('SHELL$')), 'the shell prompt');
        expect(s.screen.cursorVisible).toBe(true);
        expect(s.output()).toContain('\x1b[?25h');
        // The last frame stays on the screen, and the shell's prompt starts below it.
        const after = s.screen.lines();
        expect(after.indexOf('SHELL$')).toBe(after.indexOf(' (q quits)') + 1);
        // Raw mode is off again: the terminal's settings are what they were.
        expect(s.sttyAfter()).toBe(s.sttyBefore());
      },
      TIMEOUT,
    );

    it(
      'redraws in place: -n 3 -s c shows one screen, by cache size, and ends by itself',
      async () => {
        const s = mmsim(['slabtop', '--machine', 'tiny', '-n', '3', '-d', '30', '-s', 'c']);
        const { exitCode } = await exitWithin(s, 10_000);
        expect(exitCode).toBe(0);
        await s.waitFor((sc) => sc.cursorVisible, 'the cursor shown again');
        // Three frames were written, but the screen holds one: each replaced the one before.
        expect(s.output().split('Active / Total Objects').length - 1).toBe(3);
        const lines = s.screen.lines();
        expect(lines.filter((l) => l.includes('Active / Total Objects'))).toHaveLength(1);
        expect(lines.filter((l) => l === HEADER)).toHaveLength(1);
        expect(lines[0]).toMatch(
          /^ Active \/ Total Objects \(% used\) {4}: \d+ \/ \d+ \(\d+\.\d%\)$/,
        );
        const rows = lines.filter(isRow);
        expect(rows).toHaveLength(ROWS - 10);
        const sizes = rows.map(cacheSizeK);
        expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
        expect(sizes[0]).toBeGreaterThan(sizes[sizes.length - 1]!);
      },
      TIMEOUT,
    );

    it(
      'fits a resized window with the next frame, and Ctrl-C quits too',
      async () => {
        const s = mmsim(['slabtop', '--machine', 'tiny', '-d', '100']);
        await s.waitFor((sc) => sc.lines().includes(' (q quits)'), 'the first frame');
        s.resize(COLS, 16);
        // The whole screen again: the summary on the top line, 16 - 10 rows of caches.
        await s.waitFor(
          (sc) =>
            sc.lines()[0]!.startsWith(' Active / Total Objects (% used)    : ') &&
            sc.lines()[6] === HEADER &&
            sc.lines().filter(isRow).length === 6 &&
            sc.lines().includes(' (q quits)'),
          'a frame that fits 16 lines',
        );
        s.write('\x03');
        expect((await exitWithin(s)).exitCode).toBe(0);
        await s.waitFor((sc) => sc.cursorVisible, 'the cursor shown again');
      },
      TIMEOUT,
    );
  });

  describe('mmsim repl in a terminal', () => {
    const PROMPT = 'mmsim>'; // 'mmsim> ' as the screen shows it, trailing blank trimmed

    /**
     * Type `keys` (by default `line`) and Enter; once the screen shows `line` after the prompt
     * and a new prompt below, resolves with the lines printed between the two.
     */
    async function type(s: Session, line: string, keys = line): Promise<string[]> {
      const at = s.screen.cursorLine();
      s.write(`${keys}\r`);
      await s.waitFor((sc) => {
        const t = sc.transcript();
        return (
          t[at] === `mmsim> ${line}`.trimEnd() &&
          sc.cursorLine() > at &&
          t[sc.cursorLine()] === PROMPT
        );
      }, `the prompt after '${line}'`);
      return s.screen.transcript().slice(at + 1, s.screen.cursorLine());
    }

    it(
      'a prompt; kernel calls numbered $1, $2…; errors are one line and the prompt carries on; exit',
      async () => {
        // 200 columns: wide enough for /proc/slabinfo's lines not to wrap.
        const s = mmsim(['repl', '--machine', 'tiny'], 200);
        await s.waitFor((sc) => sc.lines()[1] === PROMPT, 'the prompt');
        expect(s.screen.lines()[0]).toBe('mmsim: a tiny kernel is booted (slub). Type help.');

        expect(await type(s, 'kmalloc 100 GFP_KERNEL')).toEqual(['$1 = 0xffff888001004000']);
        expect(await type(s, 'ksize $1')).toEqual(['128']);
        expect(await type(s, 'kmalloc 100')).toEqual(['$2 = 0xffff888001004080']);
        expect(await type(s, 'kfree $1')).toEqual(['ok']);
        expect(await type(s, 'kfree $1')).toEqual(['kernel BUG at mm/slub.c:550!']);
        expect(await type(s, 'kfree $7')).toEqual(['kfree: no result $7']);
        expect(await type(s, 'frobnicate 42')).toEqual([
          "unknown command 'frobnicate' (try: help)",
        ]);
        expect(await type(s, 'help')).toEqual([
          'kmalloc SIZE [GFP]      kzalloc SIZE [GFP]      kfree $N        ksize $N',
          'vmalloc SIZE            vfree $N                alloc_pages ORDER [GFP]   __free_pages $N ORDER',
          '__get_free_pages ORDER [GFP]   free_pages $N ORDER   page_address $N   virt_to_page $N',
          'write8 $N OFFSET BYTE   read8 $N OFFSET         cat PATH        dmesg       help   quit',
          'processes: spawn NAME   fork $P   exit $P   ps   mmap $P LENGTH [rwx|none]   munmap $P ADDR LENGTH',
          '           mprotect $P ADDR LENGTH PROT   brk $P ADDR   touch $P ADDR [LENGTH]',
          '           uwrite8 $P ADDR OFFSET BYTE   uread8 $P ADDR OFFSET   (cat /proc/PID/maps)',
        ]);
        expect(await type(s, '')).toEqual([]);

        const slabinfo = await type(s, 'cat /proc/slabinfo');
        expect(slabinfo.slice(0, 2)).toEqual([
          'slabinfo - version: 2.1',
          '# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>',
        ]);
        // 52 caches. $2 keeps a slab of kmalloc-128 (empty right after boot); as in Linux,
        // SLUB counts every object of a CPU's slab as active.
        expect(slabinfo).toHaveLength(54);
        expect(slabinfo).toContain(
          'kmalloc-128           32     32    128   32    1 : tunables    0    0    0 : slabdata      1      1      0',
        );

        s.write('exit\r');
        expect((await exitWithin(s)).exitCode).toBe(0);
      },
      TIMEOUT,
    );

    it(
      'line editing: the up arrow recalls earlier lines, and Enter runs the recalled line',
      async () => {
        const s = mmsim(['repl', '--machine', 'tiny']);
        await s.waitFor((sc) => sc.lines()[1] === PROMPT, 'the prompt');
        expect(await type(s, 'kmalloc 100 GFP_KERNEL')).toEqual(['$1 = 0xffff888001004000']);
        expect(await type(s, 'ksize $1')).toEqual(['128']);
        const line = () => s.screen.transcript()[s.screen.cursorLine()];
        s.write('\x1b[A');
        await s.waitFor(() => line() === 'mmsim> ksize $1', 'the last line recalled');
        s.write('\x1b[A');
        await s.waitFor(() => line() === 'mmsim> kmalloc 100 GFP_KERNEL', 'the line before');
        // Recalled lines are edited as typed ones are: backspace over '100 GFP_KERNEL', type 64.
        s.write(`${'\x7f'.repeat('100 GFP_KERNEL'.length)}64`);
        await s.waitFor(() => line() === 'mmsim> kmalloc 64', 'the edited line');
        expect(await type(s, 'kmalloc 64', '')).toEqual(['$2 = 0xffff888001005000']);
        expect(s.screen.transcript()).toContain('mmsim> kmalloc 64');
        s.write('quit\r');
        expect((await exitWithin(s)).exitCode).toBe(0);
      },
      TIMEOUT,
    );

    it.each([
      ['Ctrl-D', '\x04'],
      ['Ctrl-C', '\x03'],
    ])(
      '%s at the prompt ends the session: exit 0, the shell’s prompt on a line of its own, the terminal restored',
      async (_name, key) => {
        const s = mmsimInShell(['repl', '--machine', 'tiny']);
        await s.waitFor((sc) => sc.lines().includes(PROMPT), 'the prompt');
        expect(await type(s, 'ksize $1')).toEqual(['ksize: no result $1']);
        s.write(key);
        expect((await exitWithin(s)).exitCode).toBe(0);
        await s.waitFor((sc) => sc.lines().some((l) => l.includes('SHELL$')), 'the shell prompt');
        const lines = s.screen.lines();
        expect(lines.slice(lines.indexOf('ksize: no result $1') + 1, -1).filter(Boolean)).toEqual([
          PROMPT,
          'SHELL$',
        ]);
        expect(s.sttyAfter()).toBe(s.sttyBefore());
      },
      TIMEOUT,
    );
  });
};

if (pty) suite();
else if (process.env.CI) {
  // CI has a compiler: the terminal tests must run there, not skip.
  describe('terminal sessions', () => {
    it('node-pty loads', () => {
      throw new Error(`node-pty could not be loaded on CI: ${loadError}`);
    });
  });
} else {
  describe.skip(`terminal sessions (skipped: node-pty could not be loaded: ${loadError})`, suite);
}
