/**
 * Kernel-fatal events as JavaScript exceptions.
 *
 * When simulated kernel code hits a BUG(), an Oops or a panic, Linux prints a report and
 * kills the task (or the machine). The simulator prints the same report into the Klog and
 * throws one of these, carrying the report, so a caller (a test, the CLI, the visualizer)
 * can show it and carry on with a machine that is still consistent. JS-level misuse is a
 * TypeError/RangeError instead, never one of these.
 *
 * Linux: lib/bug.c report_bug() ("kernel BUG at %s:%u!"), arch/x86/kernel/dumpstack.c
 * __die_header() ("Oops: invalid opcode: 0000 [#1] ..."), kernel/panic.c panic()
 * ("Kernel panic - not syncing: %s").
 */

/** include/asm-generic/bug.h: CUT_HERE, printed before every BUG() and WARN(). */
export const CUT_HERE = '------------[ cut here ]------------';

/** kernel/panic.c: the first words of every panic message. */
export const PANIC_PREFIX = 'Kernel panic - not syncing: ';

/** What killed the simulated kernel: a BUG() (VM_BUG_ON, BUG_ON), another Oops, or a panic. */
export type KernelOopsKind = 'BUG' | 'Oops' | 'panic';

/** The first line of a report that says what happened (the cut-here marker says nothing). */
function headline(report: string): string {
  for (const line of report.split('\n')) {
    if (line !== CUT_HERE && line.trim() !== '') return line;
  }
  return report;
}

/**
 * A kernel BUG or Oops. `report` is the full multi-line text as the kernel log shows it;
 * `message` is its first meaningful line (the `------------[ cut here ]------------` marker
 * is skipped), e.g. `kernel BUG at include/linux/gfp.h:159!`.
 */
export class KernelOops extends Error {
  readonly report: string;
  readonly kind: KernelOopsKind;

  constructor(report: string, kind: KernelOopsKind = 'BUG') {
    super(headline(report));
    this.name = 'KernelOops';
    this.report = report;
    this.kind = kind;
  }
}

/**
 * A kernel panic. The report always starts with `Kernel panic - not syncing: `; a reason
 * given without that prefix gets it, so `new KernelPanic('Out of memory')` and
 * `new KernelPanic('Kernel panic - not syncing: Out of memory')` are the same.
 */
export class KernelPanic extends KernelOops {
  constructor(report: string) {
    super(report.startsWith(PANIC_PREFIX) ? report : PANIC_PREFIX + report, 'panic');
    this.name = 'KernelPanic';
  }
}
