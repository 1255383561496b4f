import { describe, expect, it } from 'vitest';
import { NSEC_PER_MSEC, NSEC_PER_SEC, SimClock } from '../src/clock.js';
import {
  ExecContext,
  HARDIRQ_MASK,
  HARDIRQ_OFFSET,
  NMI_MASK,
  NMI_OFFSET,
  PREEMPT_MASK,
  PREEMPT_OFFSET,
  SOFTIRQ_DISABLE_OFFSET,
  SOFTIRQ_MASK,
  SOFTIRQ_OFFSET,
  X86_EFLAGS_IF,
} from '../src/context.js';
import { KernelOops, KernelPanic } from '../src/errors.js';
import { KERN_ERR, KERN_WARNING, Klog } from '../src/klog.js';

function machine(nrCpus = 2) {
  const clock = new SimClock();
  const klog = new Klog({ clock });
  const ctx = new ExecContext({ nrCpus, klog });
  return { clock, klog, ctx };
}

const STACK_HEAD = 'CPU: 0 UID: 0 PID: 0 Comm: swapper/0 Not tainted 6.18.0-mmsim #1 PREEMPT(none)';

describe('preempt_count layout (include/linux/preempt.h)', () => {
  it('has the Linux offsets and masks', () => {
    expect(PREEMPT_OFFSET).toBe(1);
    expect(SOFTIRQ_OFFSET).toBe(0x100);
    expect(SOFTIRQ_DISABLE_OFFSET).toBe(0x200);
    expect(HARDIRQ_OFFSET).toBe(0x10000);
    expect(NMI_OFFSET).toBe(0x100000);
    expect([PREEMPT_MASK, SOFTIRQ_MASK, HARDIRQ_MASK, NMI_MASK]).toEqual([
      0xff, 0xff00, 0xf0000, 0xf00000,
    ]);
  });
});

describe('ExecContext: where and who', () => {
  it('starts on CPU 0 as swapper/0 in process context', () => {
    const { ctx } = machine();
    expect(ctx.cpu).toBe(0);
    expect(ctx.task).toEqual({ pid: 0, comm: 'swapper/0' });
    expect(ctx.contextKind()).toBe('process');
    expect(ctx.inTask()).toBe(true);
    expect(ctx.inAtomic()).toBe(false);
    expect(ctx.irqsDisabled()).toBe(false);
    expect(ctx.preemptCount()).toBe(0);
  });

  it('switches CPUs and tasks, rejecting CPUs that do not exist', () => {
    const { ctx } = machine(4);
    ctx.setCpu(3);
    expect(ctx.cpu).toBe(3);
    expect(() => ctx.setCpu(4)).toThrow(RangeError);
    expect(() => ctx.setCpu(-1)).toThrow(RangeError);
    expect(() => ctx.setCpu(1.5)).toThrow(RangeError);
    ctx.task = { pid: 42, comm: 'kworker/u8:1' };
    expect(ctx.task.comm).toBe('kworker/u8:1');
    expect(() => {
      ctx.task = { pid: -1, comm: 'x' };
    }).toThrow(TypeError);
    expect(() => new ExecContext({ nrCpus: 0, klog: new Klog() })).toThrow(RangeError);
  });

  it('keeps preempt count and interrupt flag per CPU', () => {
    const { ctx } = machine(2);
    ctx.preemptDisable();
    ctx.localIrqDisable();
    ctx.setCpu(1);
    expect(ctx.inAtomic()).toBe(false);
    expect(ctx.irqsDisabled()).toBe(false);
    ctx.setCpu(0);
    expect(ctx.preemptCount()).toBe(1);
    expect(ctx.irqsDisabled()).toBe(true);
    expect(ctx.preemptCountOf(1)).toBe(0);
  });
});

describe('ExecContext: the kernel primitives', () => {
  it('counts preempt_disable and spin locks and rejects an unbalanced enable', () => {
    const { ctx } = machine();
    ctx.spinLock();
    ctx.preemptDisable();
    expect(ctx.preemptCount()).toBe(2);
    expect(ctx.inAtomic()).toBe(true);
    expect(ctx.inInterrupt()).toBe(false);
    ctx.preemptEnable();
    ctx.spinUnlock();
    expect(ctx.preemptCount()).toBe(0);
    expect(() => ctx.preemptEnable()).toThrow(RangeError);
    expect(() => ctx.spinUnlock()).toThrow(/CPU 0/);
  });

  it('restores the interrupt flag through nested spin_lock_irqsave', () => {
    const { ctx } = machine();
    const outer = ctx.spinLockIrqsave();
    const inner = ctx.spinLockIrqsave();
    expect(outer).toBe(X86_EFLAGS_IF);
    expect(inner).toBe(0);
    expect(ctx.irqsDisabled()).toBe(true);
    expect(ctx.preemptCount()).toBe(2);
    ctx.spinUnlockIrqrestore(inner);
    expect(ctx.irqsDisabled()).toBe(true);
    ctx.spinUnlockIrqrestore(outer);
    expect(ctx.irqsDisabled()).toBe(false);
    expect(ctx.preemptCount()).toBe(0);
    expect(() => ctx.localIrqEnable()).toThrow(RangeError);
    ctx.spinLockIrq();
    expect(ctx.irqsDisabled()).toBe(true);
    ctx.spinUnlockIrq();
    expect(ctx.irqsDisabled()).toBe(false);
  });

  it('treats local_bh_disable as softirq context without serving a softirq', () => {
    const { ctx } = machine();
    ctx.localBhDisable();
    expect(ctx.preemptCount()).toBe(0x200);
    expect(ctx.inSoftirq()).toBe(true);
    expect(ctx.inServingSoftirq()).toBe(false);
    expect(ctx.inInterrupt()).toBe(true);
    expect(ctx.inTask()).toBe(true);
    expect(ctx.contextKind()).toBe('process');
    ctx.localBhEnable();
    expect(() => ctx.localBhEnable()).toThrow(RangeError);
    ctx.spinLockBh();
    expect(ctx.preemptCount()).toBe(0x201);
    ctx.spinUnlockBh();
    expect(ctx.preemptCount()).toBe(0);
  });

  it('enters hardirq with interrupts off and leaves with the flag it had', () => {
    const { ctx } = machine();
    ctx.irqEnter();
    expect(ctx.preemptCount()).toBe(0x10000);
    expect(ctx.inHardirq()).toBe(true);
    expect(ctx.inInterrupt()).toBe(true);
    expect(ctx.irqsDisabled()).toBe(true);
    expect(ctx.inTask()).toBe(false);
    expect(ctx.contextKind()).toBe('hardirq');
    ctx.irqExit();
    expect(ctx.irqsDisabled()).toBe(false);
    expect(ctx.contextKind()).toBe('process');
    expect(() => ctx.irqExit()).toThrow(RangeError);
    ctx.localIrqDisable();
    ctx.irqEnter();
    ctx.irqExit();
    expect(ctx.irqsDisabled()).toBe(true);
  });

  it('serves softirqs with SOFTIRQ_OFFSET and NMIs with NMI_OFFSET + HARDIRQ_OFFSET', () => {
    const { ctx } = machine();
    ctx.softirqEnter();
    expect(ctx.preemptCount()).toBe(0x100);
    expect(ctx.inServingSoftirq()).toBe(true);
    expect(ctx.contextKind()).toBe('softirq');
    expect(() => ctx.softirqEnter()).toThrow(RangeError);
    ctx.nmiEnter();
    expect(ctx.preemptCount()).toBe(0x110100);
    expect(ctx.inNmi()).toBe(true);
    expect(ctx.inHardirq()).toBe(true);
    expect(ctx.contextKind()).toBe('nmi');
    expect(() => ctx.irqExit()).toThrow(RangeError);
    ctx.nmiExit();
    ctx.softirqExit();
    expect(ctx.preemptCount()).toBe(0);
    expect(ctx.irqsDisabled()).toBe(false);
    expect(() => ctx.nmiExit()).toThrow(RangeError);
    expect(() => ctx.softirqExit()).toThrow(RangeError);
  });
});

describe('ExecContext: scoped helpers', () => {
  it('return the callback value and restore the state', () => {
    const { ctx } = machine(2);
    expect(ctx.runInHardirq(() => ctx.contextKind())).toBe('hardirq');
    expect(ctx.runInSoftirq(() => ctx.preemptCount())).toBe(0x100);
    expect(ctx.runInNmi(() => ctx.inNmi())).toBe(true);
    expect(ctx.runWithSpinLock(() => ctx.inAtomic())).toBe(true);
    expect(ctx.runWithIrqsDisabled(() => ctx.irqsDisabled())).toBe(true);
    expect(ctx.runOnCpu(1, () => ctx.cpu)).toBe(1);
    expect(ctx.cpu).toBe(0);
    expect(ctx.preemptCount()).toBe(0);
    expect(ctx.irqsDisabled()).toBe(false);
  });

  it('restore the state when the callback throws, even with locks still held', () => {
    const { ctx } = machine(2);
    expect(() =>
      ctx.runInHardirq(() => {
        ctx.spinLock();
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(ctx.preemptCount()).toBe(0);
    expect(ctx.irqsDisabled()).toBe(false);
    expect(() =>
      ctx.runOnCpu(1, () => {
        ctx.spinLockIrqsave();
        throw new KernelOops('kernel BUG at x.c:1!');
      }),
    ).toThrow(KernelOops);
    expect(ctx.cpu).toBe(0);
    ctx.setCpu(1);
    expect(ctx.preemptCount()).toBe(0);
    expect(ctx.irqsDisabled()).toBe(false);
  });
});

describe('ExecContext.mightSleep (__might_resched)', () => {
  it('is silent and true where sleeping is allowed', () => {
    const { ctx, klog } = machine();
    expect(ctx.mightSleep()).toBe(true);
    ctx.localBhDisable();
    ctx.localBhEnable();
    expect(ctx.mightSleep()).toBe(true);
    expect(klog.size).toBe(0);
  });

  it('prints the BUG report under a spin lock, as Linux does', () => {
    const { ctx, klog } = machine();
    ctx.spinLock();
    expect(ctx.mightSleep()).toBe(false);
    expect(klog.lines()).toEqual([
      'BUG: sleeping function called from invalid context at include/linux/sched/mm.h:321',
      'in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 0, name: swapper/0',
      'preempt_count: 1, expected: 0',
      'RCU nest depth: 0, expected: 0',
      STACK_HEAD,
      'Hardware name: mmsim simulated machine',
      'Call Trace:',
      ' <TASK>',
      ' dump_stack_lvl',
      ' __might_resched',
      ' __might_sleep',
      ' </TASK>',
    ]);
    expect(klog.records().map((r) => r.level)).toEqual([
      ...Array(4).fill(KERN_ERR),
      ...Array(8).fill(KERN_WARNING),
    ]);
    expect(ctx.taint).toBe('W');
  });

  it('reports at most once per simulated second (prev_jiffy + HZ)', () => {
    const { ctx, klog, clock } = machine();
    ctx.localIrqDisable();
    expect(ctx.mightSleep('mm/vmalloc.c', 3300)).toBe(false);
    const first = klog.nextSeq;
    clock.advance(999 * NSEC_PER_MSEC);
    expect(ctx.mightSleep()).toBe(false);
    expect(klog.nextSeq).toBe(first);
    clock.advance(NSEC_PER_MSEC);
    expect(ctx.mightSleep()).toBe(false);
    const again = klog.lines(first);
    expect(again[0]).toBe(
      'BUG: sleeping function called from invalid context at include/linux/sched/mm.h:321',
    );
    expect(again[1]).toBe(
      'in_atomic(): 0, irqs_disabled(): 1, non_block: 0, pid: 0, name: swapper/0',
    );
    expect(again[2]).toBe('preempt_count: 0, expected: 0');
    expect(again[4]).toBe(
      'CPU: 0 UID: 0 PID: 0 Comm: swapper/0 Tainted: G        W           6.18.0-mmsim #1 PREEMPT(none)',
    );
    expect(again[5]).toBe('Tainted: [W]=WARN');
    expect(klog.lines(0)[0]).toBe(
      'BUG: sleeping function called from invalid context at mm/vmalloc.c:3300',
    );
  });

  it('prints the hardirq preempt count in hex and an <IRQ> stack', () => {
    const { ctx, klog, clock } = machine(2);
    clock.advance(5 * NSEC_PER_SEC);
    ctx.setCpu(1);
    ctx.task = { pid: 17, comm: 'kworker/1:0' };
    ctx.runInHardirq(() => {
      ctx.spinLock();
      expect(ctx.mightSleep()).toBe(false);
    });
    const lines = klog.lines();
    expect(lines[1]).toBe(
      'in_atomic(): 1, irqs_disabled(): 1, non_block: 0, pid: 17, name: kworker/1:0',
    );
    expect(lines[2]).toBe('preempt_count: 10001, expected: 0');
    expect(lines[4]).toBe(
      'CPU: 1 UID: 0 PID: 17 Comm: kworker/1:0 Not tainted 6.18.0-mmsim #1 PREEMPT(none)',
    );
    expect(lines.slice(7)).toEqual([
      ' <IRQ>',
      ' dump_stack_lvl',
      ' __might_resched',
      ' __might_sleep',
      ' </IRQ>',
    ]);
  });
});

describe('ExecContext reports', () => {
  it('dumps the stack as lib/dump_stack.c and x86 show_trace_log_lvl print it', () => {
    const { ctx, klog } = machine();
    const lines = ctx.dumpStack([
      'dump_stack_lvl',
      'warn_alloc',
      '__alloc_pages_slowpath.constprop.0',
    ]);
    expect(lines).toEqual([
      STACK_HEAD,
      'Hardware name: mmsim simulated machine',
      'Call Trace:',
      ' <TASK>',
      ' dump_stack_lvl',
      ' warn_alloc',
      ' __alloc_pages_slowpath.constprop.0',
      ' </TASK>',
    ]);
    expect(klog.lines()).toEqual(lines);
  });

  it('prints taint as print_tainted() and print_tainted_verbose() do (20 flags in 6.18)', () => {
    const { ctx } = machine();
    expect(ctx.printTainted()).toBe('Not tainted');
    ctx.addTaint('W');
    ctx.addTaint('B');
    expect(ctx.taint).toBe('BW');
    expect(ctx.isTainted('B')).toBe(true);
    expect(ctx.isTainted('D')).toBe(false);
    expect(ctx.printTainted()).toBe('Tainted: G    B   W          ');
    expect(ctx.printTaintedVerbose()).toBe('Tainted: [B]=BAD_PAGE, [W]=WARN');
    expect(() => ctx.addTaint('Z')).toThrow(RangeError);
  });

  it('prints WARN() with cut here, message, WARNING line and end marker, then taints W', () => {
    const { ctx, klog } = machine();
    const lines = ctx.warn(
      'mm/page_alloc.c:4755 __alloc_pages_noprof',
      'order 11 > MAX_PAGE_ORDER',
      ['__alloc_pages_noprof'],
    );
    expect(lines).toEqual([
      '------------[ cut here ]------------',
      'order 11 > MAX_PAGE_ORDER',
      'WARNING: CPU: 0 PID: 0 at mm/page_alloc.c:4755 __alloc_pages_noprof',
      'Modules linked in:',
      STACK_HEAD,
      'Hardware name: mmsim simulated machine',
      'Call Trace:',
      ' <TASK>',
      ' __alloc_pages_noprof',
      ' </TASK>',
      '---[ end trace 0000000000000000 ]---',
    ]);
    expect(klog.lines()).toEqual(lines);
    expect(ctx.taint).toBe('W');
    expect(ctx.warnOnce('k', 'a.c:1 f')).toBe(true);
    const seq = klog.nextSeq;
    expect(ctx.warnOnce('k', 'a.c:1 f')).toBe(false);
    expect(klog.nextSeq).toBe(seq);
    expect(ctx.warn('b.c:2 g')[1]).toBe('WARNING: CPU: 0 PID: 0 at b.c:2 g');
  });

  it('logs BUG() and panic() and hands back the exception to throw', () => {
    const { ctx, klog } = machine();
    const oops = ctx.bug('mm/slub.c:100', ['kfree']);
    expect(oops).toBeInstanceOf(KernelOops);
    expect(oops.message).toBe('kernel BUG at mm/slub.c:100!');
    expect(oops.report.split('\n').slice(0, 4)).toEqual([
      '------------[ cut here ]------------',
      'kernel BUG at mm/slub.c:100!',
      'Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI',
      'Modules linked in:',
    ]);
    expect(klog.lines()).toEqual(oops.report.split('\n'));
    expect(ctx.taint).toBe('D');
    expect(ctx.bug('x.c:1').report).toContain('[#2]');
    const panic = ctx.panic('System is deadlocked on memory');
    expect(panic).toBeInstanceOf(KernelPanic);
    expect(panic.kind).toBe('panic');
    expect(panic.message).toBe('Kernel panic - not syncing: System is deadlocked on memory');
    expect(klog.lines().at(-1)).toBe(
      '---[ end Kernel panic - not syncing: System is deadlocked on memory ]---',
    );
  });
});

describe('errors', () => {
  it('KernelOops keeps the report and takes its message from the first meaningful line', () => {
    const oops = new KernelOops('------------[ cut here ]------------\nkernel BUG at a.c:1!\nmore');
    expect(oops.kind).toBe('BUG');
    expect(oops.message).toBe('kernel BUG at a.c:1!');
    expect(oops.report).toBe('------------[ cut here ]------------\nkernel BUG at a.c:1!\nmore');
    expect(new KernelOops('BUG: unable to handle page fault', 'Oops').kind).toBe('Oops');
    expect(oops).toBeInstanceOf(Error);
  });

  it('KernelPanic prefixes "Kernel panic - not syncing: " once', () => {
    expect(new KernelPanic('Out of memory').report).toBe(
      'Kernel panic - not syncing: Out of memory',
    );
    expect(new KernelPanic('Kernel panic - not syncing: Out of memory').message).toBe(
      'Kernel panic - not syncing: Out of memory',
    );
    expect(new KernelPanic('x')).toBeInstanceOf(KernelOops);
  });
});

describe('SimClock', () => {
  it('advances deterministically and rejects bad times', () => {
    const clock = new SimClock(5);
    clock.advance(10);
    expect(clock.nowNs()).toBe(15);
    clock.set(NSEC_PER_SEC);
    expect(clock.jiffies()).toBe(250);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.advance(Number.NaN)).toThrow(TypeError);
    expect(() => clock.set(-5)).toThrow(RangeError);
  });
});
