/**
 * ExecContext — who is running, where, and in what context: the current CPU, the current
 * task, and per CPU the preempt count and the interrupt flag.
 *
 * Linux decides what code may do from `preempt_count()`, a per-CPU word split into fields:
 *
 *         PREEMPT_MASK:    0x000000ff   preempt_disable() depth (spin locks count here)
 *         SOFTIRQ_MASK:    0x0000ff00   bit 8: serving a softirq; bits 9-15: local_bh_disable depth
 *         HARDIRQ_MASK:    0x000f0000   hardirq nesting (irq_enter)
 *             NMI_MASK:    0x00f00000   NMI nesting (nmi_enter also adds HARDIRQ_OFFSET)
 *
 * plus the CPU's interrupt flag (EFLAGS.IF on x86). The allocators ask the same questions
 * the kernel asks — in_atomic(), irqs_disabled(), in_interrupt() — and `mightSleep()`
 * prints "BUG: sleeping function called from invalid context" exactly where Linux would
 * (kernel/sched/core.c __might_resched with CONFIG_DEBUG_ATOMIC_SLEEP).
 *
 * Per-CPU state lives in typed arrays indexed by CPU; the queries are plain number
 * operations so the allocation fast path can call them. The mutators mirror the kernel's
 * (preempt_disable, spin_lock_irqsave, irq_enter, …) and are checked: an unbalanced enable
 * is a RangeError naming the CPU, since in the simulator it is a bug in the calling code.
 * The scoped helpers (runInHardirq, runWithSpinLock, …) restore the exact state on the way
 * out, even when the callback throws (e.g. a KernelOops).
 *
 * One current task moves with the current CPU (setCpu is a migration); the default is the
 * boot CPU's idle task, swapper/0 with pid 0. Unlike Linux, mightSleep() does not complain
 * merely because the current task is the idle task (pid 0) — otherwise every simulated
 * GFP_KERNEL allocation before a task is set would report.
 *
 * Reports (dumpStack, warn, bug, panic) follow lib/dump_stack.c dump_stack_print_info(),
 * arch/x86/kernel/dumpstack.c show_trace_log_lvl(), kernel/panic.c __warn() and
 * print_tainted(), lib/bug.c report_bug(). Linux: include/linux/preempt.h,
 * include/linux/hardirq.h, include/linux/irqflags.h, include/linux/spinlock.h.
 */
import { HZ, type SimClock } from './clock.js';
import { CUT_HERE, KernelOops, KernelPanic, PANIC_PREFIX } from './errors.js';
import { KERN_ALERT, KERN_CRIT, KERN_EMERG, KERN_ERR, KERN_WARNING, type Klog } from './klog.js';

// ---- include/linux/preempt.h ----------------------------------------------------------------

export const PREEMPT_BITS = 8;
export const SOFTIRQ_BITS = 8;
export const HARDIRQ_BITS = 4;
export const NMI_BITS = 4;
export const PREEMPT_SHIFT = 0;
export const SOFTIRQ_SHIFT = PREEMPT_SHIFT + PREEMPT_BITS;
export const HARDIRQ_SHIFT = SOFTIRQ_SHIFT + SOFTIRQ_BITS;
export const NMI_SHIFT = HARDIRQ_SHIFT + HARDIRQ_BITS;
export const PREEMPT_MASK = ((1 << PREEMPT_BITS) - 1) << PREEMPT_SHIFT;
export const SOFTIRQ_MASK = ((1 << SOFTIRQ_BITS) - 1) << SOFTIRQ_SHIFT;
export const HARDIRQ_MASK = ((1 << HARDIRQ_BITS) - 1) << HARDIRQ_SHIFT;
export const NMI_MASK = ((1 << NMI_BITS) - 1) << NMI_SHIFT;
export const PREEMPT_OFFSET = 1 << PREEMPT_SHIFT;
export const SOFTIRQ_OFFSET = 1 << SOFTIRQ_SHIFT;
export const HARDIRQ_OFFSET = 1 << HARDIRQ_SHIFT;
export const NMI_OFFSET = 1 << NMI_SHIFT;
/** local_bh_disable() adds twice SOFTIRQ_OFFSET, keeping bit 8 for "serving a softirq". */
export const SOFTIRQ_DISABLE_OFFSET = 2 * SOFTIRQ_OFFSET;
/** spin_lock_bh(): bh disabled and preemption disabled. */
export const SOFTIRQ_LOCK_OFFSET = SOFTIRQ_DISABLE_OFFSET + PREEMPT_OFFSET;
/** The bits of the softirq field that count local_bh_disable() nesting. */
const BH_DISABLE_MASK = SOFTIRQ_MASK & ~SOFTIRQ_OFFSET;

/** arch/x86/include/uapi/asm/processor-flags.h: X86_EFLAGS_IF, "interrupts enabled". */
export const X86_EFLAGS_IF = 0x200;

/** The kernel's current task, as far as reports need it. */
export interface Task {
  pid: number;
  comm: string;
}

export type ContextKind = 'process' | 'softirq' | 'hardirq' | 'nmi';

export interface ExecContextOptions {
  /** Number of CPUs (1..8192). */
  nrCpus: number;
  /** Where reports go. */
  klog: Klog;
  /** The machine's clock (ratelimits). @defaultValue klog.clock */
  clock?: SimClock;
  /** The current task. @defaultValue `{ pid: 0, comm: 'swapper/0' }` */
  task?: Task;
  /** utsname release printed in CPU lines. @defaultValue `'6.18.0-mmsim'` */
  kernelRelease?: string;
  /** utsname version up to its first space. @defaultValue `'#1'` */
  kernelVersion?: string;
  /**
   * preempt_model_str() (6.15+), as the reference config (PREEMPT_DYNAMIC with PREEMPT_NONE)
   * prints it. @defaultValue `'PREEMPT(none)'`
   */
  preemptModel?: string;
  /** dump_stack_arch_desc_str. @defaultValue `'mmsim simulated machine'` */
  hardwareName?: string;
}

/** kernel/panic.c taint_flags[] (6.18: 20 flags), in bit order: [letter, letter if clear, name]. */
const TAINT_FLAGS: readonly (readonly [string, string, string])[] = [
  ['P', 'G', 'PROPRIETARY_MODULE'],
  ['F', ' ', 'FORCED_MODULE'],
  ['S', ' ', 'CPU_OUT_OF_SPEC'],
  ['R', ' ', 'FORCED_RMMOD'],
  ['M', ' ', 'MACHINE_CHECK'],
  ['B', ' ', 'BAD_PAGE'],
  ['U', ' ', 'USER'],
  ['D', ' ', 'DIE'],
  ['A', ' ', 'OVERRIDDEN_ACPI_TABLE'],
  ['W', ' ', 'WARN'],
  ['C', ' ', 'CRAP'],
  ['I', ' ', 'FIRMWARE_WORKAROUND'],
  ['O', ' ', 'OOT_MODULE'],
  ['E', ' ', 'UNSIGNED_MODULE'],
  ['L', ' ', 'SOFTLOCKUP'],
  ['K', ' ', 'LIVEPATCH'],
  ['X', ' ', 'AUX'],
  ['T', ' ', 'RANDSTRUCT'],
  ['N', ' ', 'TEST'],
  ['J', ' ', 'FWCTL'],
];

/** __die_header(): what the reference x86-64 kernel puts after `[#n]`. */
const DIE_FLAGS = 'PREEMPT SMP NOPTI';
/** print_oops_end_marker(). */
const END_TRACE = '---[ end trace 0000000000000000 ]---';
/** include/linux/sched.h TASK_COMM_LEN - 1. */
const TASK_COMM_MAX = 15;

function checkTask(task: Task): Task {
  if (
    task === null ||
    typeof task !== 'object' ||
    !Number.isSafeInteger(task.pid) ||
    task.pid < 0 ||
    typeof task.comm !== 'string'
  ) {
    throw new TypeError(
      `invalid task ${JSON.stringify(task)}: expected { pid: integer >= 0, comm: string }`,
    );
  }
  return task;
}

/** The call chain mightSleep() prints; a constant so the hot path allocates nothing. */
const MIGHT_SLEEP_FRAMES: readonly string[] = Object.freeze([
  'dump_stack_lvl',
  '__might_resched',
  '__might_sleep',
]);

export class ExecContext {
  readonly nrCpus: number;
  readonly klog: Klog;
  readonly clock: SimClock;
  readonly kernelRelease: string;
  readonly kernelVersion: string;
  readonly preemptModel: string;
  readonly hardwareName: string;

  /** preempt_count() per CPU. */
  private readonly preempt: Int32Array;
  /** 1 when the CPU has interrupts disabled. */
  private readonly irqsOff: Uint8Array;
  /** Per CPU, bit d: interrupts were disabled before entering hardirq depth d+1. */
  private readonly irqSaved: Int32Array;
  private curCpu = 0;
  private curTask: Task;
  private taintMask = 0;
  private dieCounter = 0;
  /** __might_resched's prev_jiffy (-1: never reported). */
  private mightSleepPrevJiffy = -1;
  private readonly warnedOnce = new Set<string>();

  constructor(options: ExecContextOptions) {
    const { nrCpus, klog } = options;
    if (!Number.isInteger(nrCpus) || nrCpus < 1 || nrCpus > 8192) {
      throw new RangeError(`ExecContext nrCpus ${String(nrCpus)}: expected an integer 1..8192`);
    }
    if (!klog || typeof klog.printk !== 'function') {
      throw new TypeError('ExecContext: options.klog must be a Klog');
    }
    this.nrCpus = nrCpus;
    this.klog = klog;
    this.clock = options.clock ?? klog.clock;
    this.curTask = checkTask(options.task ?? { pid: 0, comm: 'swapper/0' });
    this.kernelRelease = options.kernelRelease ?? '6.18.0-mmsim';
    this.kernelVersion = options.kernelVersion ?? '#1';
    this.preemptModel = options.preemptModel ?? 'PREEMPT(none)';
    this.hardwareName = options.hardwareName ?? 'mmsim simulated machine';
    this.preempt = new Int32Array(nrCpus);
    this.irqsOff = new Uint8Array(nrCpus);
    this.irqSaved = new Int32Array(nrCpus);
  }

  // ---- where and who ------------------------------------------------------------------------

  /** smp_processor_id(). */
  get cpu(): number {
    return this.curCpu;
  }

  /** Make `cpu` the current CPU (the current task migrates there). */
  setCpu(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.nrCpus) {
      throw new RangeError(`CPU ${String(cpu)} does not exist (nrCpus ${this.nrCpus})`);
    }
    this.curCpu = cpu;
  }

  /** `current`. */
  get task(): Task {
    return this.curTask;
  }

  set task(task: Task) {
    this.curTask = checkTask(task);
  }

  // ---- queries (include/linux/preempt.h, irqflags.h) ------------------------------------------

  /** preempt_count() of the current CPU. */
  preemptCount(): number {
    return this.preempt[this.curCpu]!;
  }

  /** preempt_count() of any CPU. */
  preemptCountOf(cpu: number): number {
    return this.preempt[cpu] ?? 0;
  }

  /** irqs_disabled(). */
  irqsDisabled(): boolean {
    return this.irqsOff[this.curCpu] === 1;
  }

  /** in_atomic(): preempt_count() != 0 (a lock, bh, irq or NMI context). */
  inAtomic(): boolean {
    return this.preempt[this.curCpu] !== 0;
  }

  /** in_interrupt(): in NMI, hardirq or softirq context, or with bottom halves disabled. */
  inInterrupt(): boolean {
    return (this.preempt[this.curCpu]! & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_MASK)) !== 0;
  }

  /** in_hardirq() (true in NMI as well, as nmi_enter adds HARDIRQ_OFFSET). */
  inHardirq(): boolean {
    return (this.preempt[this.curCpu]! & HARDIRQ_MASK) !== 0;
  }

  /** in_softirq(): serving a softirq or bottom halves disabled. */
  inSoftirq(): boolean {
    return (this.preempt[this.curCpu]! & SOFTIRQ_MASK) !== 0;
  }

  /** in_serving_softirq(): running a softirq handler. */
  inServingSoftirq(): boolean {
    return (this.preempt[this.curCpu]! & SOFTIRQ_OFFSET) !== 0;
  }

  /** in_nmi(). */
  inNmi(): boolean {
    return (this.preempt[this.curCpu]! & NMI_MASK) !== 0;
  }

  /** in_task(): process context (not NMI, hardirq or serving a softirq). */
  inTask(): boolean {
    return (this.preempt[this.curCpu]! & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_OFFSET)) === 0;
  }

  contextKind(): ContextKind {
    const pc = this.preempt[this.curCpu]!;
    if (pc & NMI_MASK) return 'nmi';
    if (pc & HARDIRQ_MASK) return 'hardirq';
    if (pc & SOFTIRQ_OFFSET) return 'softirq';
    return 'process';
  }

  // ---- mutators -----------------------------------------------------------------------------

  private unbalanced(what: string): never {
    const pc = this.preempt[this.curCpu]!;
    throw new RangeError(
      `${what} on CPU ${this.curCpu} is unbalanced (preempt_count ${pc.toString(16)}, irqs ${
        this.irqsOff[this.curCpu] ? 'disabled' : 'enabled'
      })`,
    );
  }

  preemptDisable(): void {
    const cpu = this.curCpu;
    if ((this.preempt[cpu]! & PREEMPT_MASK) === PREEMPT_MASK)
      this.unbalanced('preempt_disable() overflow');
    this.preempt[cpu]! += PREEMPT_OFFSET;
  }

  preemptEnable(): void {
    const cpu = this.curCpu;
    if ((this.preempt[cpu]! & PREEMPT_MASK) === 0) this.unbalanced('preempt_enable()');
    this.preempt[cpu]! -= PREEMPT_OFFSET;
  }

  localIrqDisable(): void {
    this.irqsOff[this.curCpu] = 1;
  }

  /** local_irq_enable(); enabling interrupts that are not disabled is a RangeError. */
  localIrqEnable(): void {
    if (this.irqsOff[this.curCpu] === 0) this.unbalanced('local_irq_enable()');
    this.irqsOff[this.curCpu] = 0;
  }

  /** local_irq_save(): disable interrupts, returning the flags (X86_EFLAGS_IF if they were on). */
  localIrqSave(): number {
    const flags = this.irqsOff[this.curCpu] ? 0 : X86_EFLAGS_IF;
    this.irqsOff[this.curCpu] = 1;
    return flags;
  }

  /** local_irq_restore(flags). */
  localIrqRestore(flags: number): void {
    this.irqsOff[this.curCpu] = flags & X86_EFLAGS_IF ? 0 : 1;
  }

  localBhDisable(): void {
    const cpu = this.curCpu;
    if ((this.preempt[cpu]! & BH_DISABLE_MASK) === BH_DISABLE_MASK)
      this.unbalanced('local_bh_disable() overflow');
    this.preempt[cpu]! += SOFTIRQ_DISABLE_OFFSET;
  }

  localBhEnable(): void {
    const cpu = this.curCpu;
    if ((this.preempt[cpu]! & BH_DISABLE_MASK) === 0) this.unbalanced('local_bh_enable()');
    this.preempt[cpu]! -= SOFTIRQ_DISABLE_OFFSET;
  }

  spinLock(): void {
    this.preemptDisable();
  }

  spinUnlock(): void {
    this.preemptEnable();
  }

  spinLockIrq(): void {
    this.localIrqDisable();
    this.preemptDisable();
  }

  spinUnlockIrq(): void {
    this.preemptEnable();
    this.localIrqEnable();
  }

  /** spin_lock_irqsave(): returns the flags to pass to spinUnlockIrqrestore. */
  spinLockIrqsave(): number {
    const flags = this.localIrqSave();
    this.preemptDisable();
    return flags;
  }

  spinUnlockIrqrestore(flags: number): void {
    this.preemptEnable();
    this.localIrqRestore(flags);
  }

  spinLockBh(): void {
    this.localBhDisable();
    this.preemptDisable();
  }

  spinUnlockBh(): void {
    this.preemptEnable();
    this.localBhEnable();
  }

  /** irq_enter(): hardirq context; interrupts are off in the handler, as on x86. */
  irqEnter(): void {
    const cpu = this.curCpu;
    const pc = this.preempt[cpu]!;
    const depth = (pc & HARDIRQ_MASK) >>> HARDIRQ_SHIFT;
    if (depth === HARDIRQ_MASK >>> HARDIRQ_SHIFT) this.unbalanced('irq_enter() overflow');
    if (this.irqsOff[cpu]) this.irqSaved[cpu]! |= 1 << depth;
    else this.irqSaved[cpu]! &= ~(1 << depth);
    this.preempt[cpu] = pc + HARDIRQ_OFFSET;
    this.irqsOff[cpu] = 1;
  }

  /** irq_exit(): leave hardirq context; the interrupt flag is what it was before (iret). */
  irqExit(): void {
    const cpu = this.curCpu;
    const pc = this.preempt[cpu]!;
    const depth = (pc & HARDIRQ_MASK) >>> HARDIRQ_SHIFT;
    const nmis = (pc & NMI_MASK) >>> NMI_SHIFT;
    if (depth <= nmis) this.unbalanced('irq_exit()');
    this.preempt[cpu] = pc - HARDIRQ_OFFSET;
    this.irqsOff[cpu] = (this.irqSaved[cpu]! >>> (depth - 1)) & 1;
  }

  /** Start serving a softirq (__do_softirq: SOFTIRQ_OFFSET). Softirqs do not nest. */
  softirqEnter(): void {
    const cpu = this.curCpu;
    if (this.preempt[cpu]! & SOFTIRQ_OFFSET)
      this.unbalanced('softirq entry (softirqs do not nest)');
    this.preempt[cpu]! += SOFTIRQ_OFFSET;
  }

  softirqExit(): void {
    const cpu = this.curCpu;
    if ((this.preempt[cpu]! & SOFTIRQ_OFFSET) === 0) this.unbalanced('softirq exit');
    this.preempt[cpu]! -= SOFTIRQ_OFFSET;
  }

  /** nmi_enter(): NMI_OFFSET + HARDIRQ_OFFSET; interrupts off. */
  nmiEnter(): void {
    const cpu = this.curCpu;
    const pc = this.preempt[cpu]!;
    const depth = (pc & HARDIRQ_MASK) >>> HARDIRQ_SHIFT;
    if ((pc & NMI_MASK) === NMI_MASK || depth === HARDIRQ_MASK >>> HARDIRQ_SHIFT) {
      this.unbalanced('nmi_enter() overflow');
    }
    if (this.irqsOff[cpu]) this.irqSaved[cpu]! |= 1 << depth;
    else this.irqSaved[cpu]! &= ~(1 << depth);
    this.preempt[cpu] = pc + NMI_OFFSET + HARDIRQ_OFFSET;
    this.irqsOff[cpu] = 1;
  }

  nmiExit(): void {
    const cpu = this.curCpu;
    const pc = this.preempt[cpu]!;
    if ((pc & NMI_MASK) === 0) this.unbalanced('nmi_exit()');
    const depth = (pc & HARDIRQ_MASK) >>> HARDIRQ_SHIFT;
    this.preempt[cpu] = pc - NMI_OFFSET - HARDIRQ_OFFSET;
    this.irqsOff[cpu] = (this.irqSaved[cpu]! >>> (depth - 1)) & 1;
  }

  // ---- scoped helpers -----------------------------------------------------------------------

  /**
   * Run `fn` after `enter()` on the current CPU, then put that CPU's state and the current
   * CPU back exactly as they were, whether `fn` returns or throws.
   */
  private scoped<T>(enter: () => void, fn: () => T): T {
    const cpu = this.curCpu;
    const pc = this.preempt[cpu]!;
    const off = this.irqsOff[cpu]!;
    const saved = this.irqSaved[cpu]!;
    try {
      enter();
      return fn();
    } finally {
      this.curCpu = cpu;
      this.preempt[cpu] = pc;
      this.irqsOff[cpu] = off;
      this.irqSaved[cpu] = saved;
    }
  }

  /** Run `fn` as a hardirq handler on the current CPU. */
  runInHardirq<T>(fn: () => T): T {
    return this.scoped(() => this.irqEnter(), fn);
  }

  /** Run `fn` as a softirq handler on the current CPU. */
  runInSoftirq<T>(fn: () => T): T {
    return this.scoped(() => this.softirqEnter(), fn);
  }

  /** Run `fn` as an NMI handler on the current CPU. */
  runInNmi<T>(fn: () => T): T {
    return this.scoped(() => this.nmiEnter(), fn);
  }

  /** Run `fn` holding a spin lock (preemption disabled). */
  runWithSpinLock<T>(fn: () => T): T {
    return this.scoped(() => this.spinLock(), fn);
  }

  /** Run `fn` with local interrupts disabled. */
  runWithIrqsDisabled<T>(fn: () => T): T {
    return this.scoped(() => this.localIrqDisable(), fn);
  }

  /** Run `fn` on `cpu`, then return to the current CPU; `cpu`'s state is restored too. */
  runOnCpu<T>(cpu: number, fn: () => T): T {
    const prev = this.curCpu;
    this.setCpu(cpu);
    try {
      return this.scoped(() => {}, fn);
    } finally {
      this.curCpu = prev;
    }
  }

  // ---- taint (kernel/panic.c) ---------------------------------------------------------------

  /** add_taint(): set a taint flag by its letter ('W' warning, 'B' bad page, 'D' died, …). */
  addTaint(letter: string): void {
    const i = TAINT_FLAGS.findIndex((f) => f[0] === letter);
    if (i < 0) {
      throw new RangeError(
        `unknown taint flag '${letter}': expected one of ${TAINT_FLAGS.map((f) => f[0]).join('')}`,
      );
    }
    this.taintMask |= 1 << i;
  }

  /** The taint letters set, in flag order ('' when not tainted). */
  get taint(): string {
    let out = '';
    for (let i = 0; i < TAINT_FLAGS.length; i++)
      if (this.taintMask & (1 << i)) out += TAINT_FLAGS[i]![0];
    return out;
  }

  isTainted(letter?: string): boolean {
    return letter === undefined ? this.taintMask !== 0 : this.taint.includes(letter);
  }

  /**
   * print_tainted(): `Not tainted`, or `Tainted: ` and one column per flag (6.18 has 20),
   * e.g. `Tainted: G        W          ` — 'G' is PROPRIETARY_MODULE's letter when clear.
   */
  printTainted(): string {
    if (this.taintMask === 0) return 'Not tainted';
    let out = 'Tainted: ';
    for (let i = 0; i < TAINT_FLAGS.length; i++) {
      const f = TAINT_FLAGS[i]!;
      out += this.taintMask & (1 << i) ? f[0] : f[1];
    }
    return out;
  }

  /** print_tainted_verbose() (6.11+): `Tainted: [B]=BAD_PAGE, [W]=WARN`. */
  printTaintedVerbose(): string {
    const parts: string[] = [];
    for (let i = 0; i < TAINT_FLAGS.length; i++) {
      const f = TAINT_FLAGS[i]!;
      if (this.taintMask & (1 << i)) parts.push(`[${f[0]}]=${f[2]}`);
    }
    return `Tainted: ${parts.join(', ')}`;
  }

  // ---- reports ------------------------------------------------------------------------------

  private log(level: number, lines: readonly string[]): void {
    for (let i = 0; i < lines.length; i++) this.klog.printk(level, lines[i]!);
  }

  /**
   * dump_stack(): the CPU line, `Tainted: [..]` when tainted, `Hardware name:`, and the call
   * trace, one ` frame` line per entry inside ` <TASK>`/` </TASK>` (` <IRQ>` in hardirq or
   * softirq context, ` <NMI>` in NMI). Written to the klog at KERN_WARNING (KERN_DEFAULT)
   * and returned.
   */
  dumpStack(frames: readonly string[] = []): string[] {
    const kind = this.contextKind();
    const stack = kind === 'nmi' ? 'NMI' : kind === 'process' ? 'TASK' : 'IRQ';
    const comm = this.curTask.comm.slice(0, TASK_COMM_MAX);
    const lines = [
      `CPU: ${this.curCpu} UID: 0 PID: ${this.curTask.pid} Comm: ${comm} ${this.printTainted()} ` +
        `${this.kernelRelease} ${this.kernelVersion} ${this.preemptModel}`,
    ];
    if (this.taintMask !== 0) lines.push(this.printTaintedVerbose());
    lines.push(`Hardware name: ${this.hardwareName}`, 'Call Trace:', ` <${stack}>`);
    for (const frame of frames) lines.push(` ${frame}`);
    lines.push(` </${stack}>`);
    this.log(KERN_WARNING, lines);
    return lines;
  }

  /**
   * might_sleep() (kernel/sched/core.c __might_resched): true when the current context may
   * sleep. Otherwise prints, at most once per simulated second (prev_jiffy + HZ),
   *
   *     BUG: sleeping function called from invalid context at include/linux/sched/mm.h:321
   *     in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 0, name: swapper/0
   *     preempt_count: 1, expected: 0
   *     RCU nest depth: 0, expected: 0
   *
   * and a stack dump, taints the kernel W (after the dump, as Linux does), and returns false.
   */
  mightSleep(
    file = 'include/linux/sched/mm.h',
    line = 321,
    frames: readonly string[] = MIGHT_SLEEP_FRAMES,
  ): boolean {
    // Small on purpose: the check runs on every sleeping allocation and must inline.
    const cpu = this.curCpu;
    if (this.preempt[cpu] === 0 && this.irqsOff[cpu] === 0) return true;
    return this.mightResched(file, line, frames);
  }

  /** kernel/sched/core.c __might_resched(): the report, ratelimited to once a second. */
  private mightResched(file: string, line: number, frames: readonly string[]): boolean {
    const cpu = this.curCpu;
    const pc = this.preempt[cpu]!;
    const irqsOff = this.irqsOff[cpu]!;
    const jiffies = this.clock.jiffies();
    if (this.mightSleepPrevJiffy >= 0 && jiffies < this.mightSleepPrevJiffy + HZ) return false;
    this.mightSleepPrevJiffy = jiffies;
    this.log(KERN_ERR, [
      `BUG: sleeping function called from invalid context at ${file}:${line}`,
      `in_atomic(): ${pc !== 0 ? 1 : 0}, irqs_disabled(): ${irqsOff}, non_block: 0, pid: ${this.curTask.pid}, name: ${this.curTask.comm}`,
      `preempt_count: ${pc.toString(16)}, expected: 0`,
      'RCU nest depth: 0, expected: 0',
    ]);
    this.dumpStack(frames);
    this.addTaint('W');
    return false;
  }

  /**
   * WARN() (kernel/panic.c __warn): cut here, the optional message, `WARNING: CPU: n PID: p
   * at location`, `Modules linked in:`, the stack dump and the end marker, at KERN_WARNING;
   * then taints W. `location` is `file:line function`, e.g.
   * `mm/page_alloc.c:4755 __alloc_pages_noprof+0x0/0x0`. Returns the lines.
   */
  warn(location: string, message?: string, frames: readonly string[] = []): string[] {
    const head = [CUT_HERE];
    if (message !== undefined) head.push(message);
    head.push(
      `WARNING: CPU: ${this.curCpu} PID: ${this.curTask.pid} at ${location}`,
      'Modules linked in:',
    );
    this.log(KERN_WARNING, head);
    const stack = this.dumpStack(frames);
    this.klog.printk(KERN_WARNING, END_TRACE);
    this.addTaint('W');
    return [...head, ...stack, END_TRACE];
  }

  /** WARN_ONCE(): warn the first time `key` is seen. Returns whether it printed. */
  warnOnce(
    key: string,
    location: string,
    message?: string,
    frames: readonly string[] = [],
  ): boolean {
    if (this.warnedOnce.has(key)) return false;
    this.warnedOnce.add(key);
    this.warn(location, message, frames);
    return true;
  }

  /**
   * BUG() (lib/bug.c, arch/x86 die()): logs cut here, `kernel BUG at location!`, the Oops
   * header, `Modules linked in:`, the stack dump and the end marker; taints D; returns the
   * KernelOops for the caller to throw.
   */
  bug(location: string, frames: readonly string[] = []): KernelOops {
    const head = [CUT_HERE, `kernel BUG at ${location}!`];
    this.log(KERN_CRIT, head);
    const oops = [
      `Oops: invalid opcode: 0000 [#${++this.dieCounter}] ${DIE_FLAGS}`,
      'Modules linked in:',
    ];
    this.log(KERN_EMERG, oops);
    const stack = this.dumpStack(frames);
    this.klog.printk(KERN_WARNING, END_TRACE);
    this.addTaint('D');
    return new KernelOops([...head, ...oops, ...stack, END_TRACE].join('\n'), 'BUG');
  }

  /**
   * An Oops that is not a BUG(): the `head` lines at KERN_ALERT (e.g. `BUG: unable to handle
   * page fault for address: …`, the `#PF:` lines), then `Oops: <str>: <err> [#n] PREEMPT SMP
   * NOPTI` (arch/x86/kernel/dumpstack.c __die_header()), the stack dump and the end marker;
   * taints D; returns the KernelOops for the caller to throw.
   */
  oops(head: readonly string[], str: string, err = 0, frames: readonly string[] = []): KernelOops {
    this.log(KERN_ALERT, head);
    const oops = [
      `Oops: ${str}: ${err.toString(16).padStart(4, '0')} [#${++this.dieCounter}] ${DIE_FLAGS}`,
      'Modules linked in:',
    ];
    this.log(KERN_EMERG, oops);
    const stack = this.dumpStack(frames);
    this.klog.printk(KERN_WARNING, END_TRACE);
    this.addTaint('D');
    return new KernelOops([...head, ...oops, ...stack, END_TRACE].join('\n'), 'Oops');
  }

  /**
   * panic() (kernel/panic.c): `Kernel panic - not syncing: message`, the stack dump and
   * `---[ end Kernel panic - not syncing: message ]---` at KERN_EMERG. Returns the
   * KernelPanic for the caller to throw.
   */
  panic(message: string, frames: readonly string[] = []): KernelPanic {
    const first = `${PANIC_PREFIX}${message}`;
    this.klog.printk(KERN_EMERG, first);
    const stack = this.dumpStack(frames);
    const end = `---[ end ${first} ]---`;
    this.klog.printk(KERN_EMERG, end);
    return new KernelPanic([first, ...stack, end].join('\n'));
  }
}
