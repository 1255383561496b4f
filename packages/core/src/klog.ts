/**
 * Klog — the kernel log ring buffer that `dmesg` reads.
 *
 * Every report the simulated kernel makes (warn_alloc, SLUB debug reports, the might_sleep
 * BUG, Oopses) goes here as Linux would printk it: one record per line, with a sequence
 * number, a log level and a time stamp from the machine's SimClock. Like the kernel's
 * printk ringbuffer it keeps a bounded number of records, dropping the oldest while the
 * sequence numbers keep counting, so a reader that remembers `nextSeq` can ask for exactly
 * what was printed since.
 *
 * Logging is a cold path: records are small objects. pr_cont() (cont) appends to the last
 * record, as the kernel merges continuation lines into one record.
 *
 * Linux: kernel/printk/printk.c (printk, print_time, devkmsg), include/linux/kern_levels.h,
 * util-linux dmesg.c for the `dmesg -x` level names.
 */
import { SimClock } from './clock.js';
import { formatPrintkTime } from './format.js';

export const KERN_EMERG = 0;
export const KERN_ALERT = 1;
export const KERN_CRIT = 2;
export const KERN_ERR = 3;
export const KERN_WARNING = 4;
export const KERN_NOTICE = 5;
export const KERN_INFO = 6;
export const KERN_DEBUG = 7;
/** CONFIG_MESSAGE_LOGLEVEL_DEFAULT of the reference config: the level of a bare printk(). */
export const KERN_DEFAULT = KERN_WARNING;

/** Level names as `dmesg -x` (util-linux) prints them. */
export const LOG_LEVEL_NAMES: readonly string[] = Object.freeze([
  'emerg',
  'alert',
  'crit',
  'err',
  'warn',
  'notice',
  'info',
  'debug',
]);

export interface KlogRecord {
  /** Sequence number: 0 for the first record ever printed, counting on across drops. */
  seq: number;
  /** KERN_EMERG (0) … KERN_DEBUG (7). */
  level: number;
  /** SimClock time when the record was printed. */
  timestampNs: number;
  /** The line, without a trailing newline. */
  text: string;
}

export interface KlogOptions {
  /** The clock that stamps records. @defaultValue a new SimClock at 0 */
  clock?: SimClock;
  /** Records kept before the oldest are dropped. @defaultValue 8192 */
  capacity?: number;
}

export interface DmesgOptions {
  /** Only records with seq >= sinceSeq. @defaultValue all kept records */
  sinceSeq?: number;
  /** Prefix each line with facility and level as `dmesg -x` does (`kern  :err   : `). */
  levels?: boolean;
}

export type KlogListener = (record: KlogRecord) => void;

function checkLevel(level: number): void {
  if (!Number.isInteger(level) || level < KERN_EMERG || level > KERN_DEBUG) {
    throw new RangeError(
      `printk level ${String(level)}: expected 0 (KERN_EMERG) .. 7 (KERN_DEBUG)`,
    );
  }
}

/** The lines of a printk text: split on '\n', a single trailing newline adds nothing. */
function splitLines(text: string): string[] {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  return body.split('\n');
}

export class Klog {
  readonly clock: SimClock;
  readonly capacity: number;
  /** Ring of kept records; `ring[(head + i) % capacity]` is the i-th oldest. */
  private readonly ring: (KlogRecord | undefined)[];
  private head = 0;
  private count = 0;
  private seq = 0;
  private readonly listeners: KlogListener[] = [];

  constructor(options: KlogOptions = {}) {
    const capacity = options.capacity ?? 8192;
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`Klog capacity ${String(capacity)}: expected a positive integer`);
    }
    this.clock = options.clock ?? new SimClock();
    this.capacity = capacity;
    this.ring = new Array<KlogRecord | undefined>(capacity);
  }

  /** The current time of the log's clock, in nanoseconds. */
  clockNs(): number {
    return this.clock.nowNs();
  }

  /** The seq the next record will get. */
  get nextSeq(): number {
    return this.seq;
  }

  /** The seq of the last record printed, or -1 if none ever was. */
  get lastSeq(): number {
    return this.seq - 1;
  }

  /** The seq of the oldest record still kept (== nextSeq when none is kept). */
  get firstSeq(): number {
    return this.seq - this.count;
  }

  /** Number of records kept. */
  get size(): number {
    return this.count;
  }

  private push(level: number, text: string): KlogRecord {
    const record: KlogRecord = {
      seq: this.seq++,
      level,
      timestampNs: this.clock.nowNs(),
      text,
    };
    if (this.count < this.capacity) {
      this.ring[(this.head + this.count) % this.capacity] = record;
      this.count++;
    } else {
      this.ring[this.head] = record;
      this.head = (this.head + 1) % this.capacity;
    }
    for (let i = 0; i < this.listeners.length; i++) this.listeners[i]!(record);
    return record;
  }

  /**
   * printk(level, text): one record per line of `text` ("a\nb" is two records; a trailing
   * newline adds nothing; "" is one empty line).
   */
  printk(level: number, text: string): void {
    checkLevel(level);
    const lines = splitLines(String(text));
    for (let i = 0; i < lines.length; i++) this.push(level, lines[i]!);
  }

  emerg(text: string): void {
    this.printk(KERN_EMERG, text);
  }
  alert(text: string): void {
    this.printk(KERN_ALERT, text);
  }
  crit(text: string): void {
    this.printk(KERN_CRIT, text);
  }
  err(text: string): void {
    this.printk(KERN_ERR, text);
  }
  warn(text: string): void {
    this.printk(KERN_WARNING, text);
  }
  notice(text: string): void {
    this.printk(KERN_NOTICE, text);
  }
  info(text: string): void {
    this.printk(KERN_INFO, text);
  }
  debug(text: string): void {
    this.printk(KERN_DEBUG, text);
  }

  /**
   * pr_cont(text): append to the last record. A newline inside ends that record and the
   * rest become new records at the same level. With no record kept, it prints at
   * KERN_DEFAULT. The last record is changed in place (listeners saw it when it was new).
   */
  cont(text: string): void {
    const lines = splitLines(String(text));
    const last =
      this.count > 0 ? this.ring[(this.head + this.count - 1) % this.capacity] : undefined;
    let level = KERN_DEFAULT;
    let i = 0;
    if (last) {
      last.text += lines[0]!;
      level = last.level;
      i = 1;
    }
    for (; i < lines.length; i++) this.push(level, lines[i]!);
  }

  /** Kept records with seq >= sinceSeq, oldest first (a new array of the live records). */
  records(sinceSeq = 0): KlogRecord[] {
    const out: KlogRecord[] = [];
    const skip = Math.max(0, Math.min(this.count, sinceSeq - this.firstSeq));
    for (let i = skip; i < this.count; i++) {
      out.push(this.ring[(this.head + i) % this.capacity]!);
    }
    return out;
  }

  /** The texts of records(sinceSeq). */
  lines(sinceSeq = 0): string[] {
    return this.records(sinceSeq).map((r) => r.text);
  }

  /** Records whose text matches a RegExp or contains a string. */
  grep(pattern: RegExp | string): KlogRecord[] {
    return this.records().filter((r) =>
      typeof pattern === 'string' ? r.text.includes(pattern) : matches(pattern, r.text),
    );
  }

  /** dmesg -C: drop every kept record; sequence numbers keep counting. */
  clear(): void {
    this.ring.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  /** Lines as `dmesg` prints them: `[    0.002460] Zone ranges:`. */
  dmesgLines(options: DmesgOptions = {}): string[] {
    return this.records(options.sinceSeq ?? 0).map((r) => {
      const line = `${formatPrintkTime(r.timestampNs)} ${r.text}`;
      if (!options.levels) return line;
      return `${'kern'.padEnd(6)}:${LOG_LEVEL_NAMES[r.level]!.padEnd(6)}: ${line}`;
    });
  }

  /** The dmesg output as one string, lines joined by '\n' (no trailing newline). */
  dmesg(options: DmesgOptions = {}): string {
    return this.dmesgLines(options).join('\n');
  }

  /** Call `fn` for each new record; returns the function that unsubscribes. */
  subscribe(fn: KlogListener): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }
}

function matches(re: RegExp, text: string): boolean {
  re.lastIndex = 0;
  return re.test(text);
}
