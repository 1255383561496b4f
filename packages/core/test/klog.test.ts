import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SimClock } from '../src/clock.js';
import {
  KERN_ALERT,
  KERN_CRIT,
  KERN_DEBUG,
  KERN_EMERG,
  KERN_ERR,
  KERN_INFO,
  KERN_NOTICE,
  KERN_WARNING,
  Klog,
  type KlogRecord,
  LOG_LEVEL_NAMES,
} from '../src/klog.js';

const DMESG = fileURLToPath(
  new URL('../../../../shared/reference/linux-6.18/dmesg_mm.txt', import.meta.url),
);

describe('Klog levels', () => {
  it('numbers the levels as include/linux/kern_levels.h and names them as dmesg -x', () => {
    expect([
      KERN_EMERG,
      KERN_ALERT,
      KERN_CRIT,
      KERN_ERR,
      KERN_WARNING,
      KERN_NOTICE,
      KERN_INFO,
      KERN_DEBUG,
    ]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(LOG_LEVEL_NAMES).toEqual([
      'emerg',
      'alert',
      'crit',
      'err',
      'warn',
      'notice',
      'info',
      'debug',
    ]);
  });

  it('has one helper per level', () => {
    const klog = new Klog();
    klog.emerg('a');
    klog.alert('b');
    klog.crit('c');
    klog.err('d');
    klog.warn('e');
    klog.notice('f');
    klog.info('g');
    klog.debug('h');
    expect(klog.records().map((r) => r.level)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(() => klog.printk(8, 'x')).toThrow(RangeError);
    expect(() => klog.printk(-1, 'x')).toThrow(RangeError);
  });
});

describe('Klog records', () => {
  it('stores one record per line with seq, level and the clock time', () => {
    const clock = new SimClock(1_500_000);
    const klog = new Klog({ clock });
    klog.printk(
      KERN_INFO,
      'Zone ranges:\n  DMA      [mem 0x0000000000001000-0x0000000000ffffff]\n',
    );
    clock.advance(10);
    klog.err('second');
    expect(klog.records()).toEqual([
      { seq: 0, level: KERN_INFO, timestampNs: 1_500_000, text: 'Zone ranges:' },
      {
        seq: 1,
        level: KERN_INFO,
        timestampNs: 1_500_000,
        text: '  DMA      [mem 0x0000000000001000-0x0000000000ffffff]',
      },
      { seq: 2, level: KERN_ERR, timestampNs: 1_500_010, text: 'second' },
    ]);
    expect(klog.lastSeq).toBe(2);
    expect(klog.nextSeq).toBe(3);
    expect(klog.records(1).map((r) => r.seq)).toEqual([1, 2]);
    expect(klog.records(3)).toEqual([]);
    expect(klog.clockNs()).toBe(1_500_010);
  });

  it('keeps empty lines but a trailing newline adds nothing', () => {
    const klog = new Klog();
    klog.info('a\n\nb\n');
    klog.info('');
    expect(klog.lines()).toEqual(['a', '', 'b', '']);
  });

  it('drops the oldest records past capacity while seq keeps counting', () => {
    const klog = new Klog({ capacity: 3 });
    for (let i = 0; i < 5; i++) klog.info(`line ${i}`);
    expect(klog.size).toBe(3);
    expect(klog.firstSeq).toBe(2);
    expect(klog.lastSeq).toBe(4);
    expect(klog.records().map((r) => `${r.seq}:${r.text}`)).toEqual([
      '2:line 2',
      '3:line 3',
      '4:line 4',
    ]);
    expect(klog.records(0).length).toBe(3);
    expect(klog.records(4).map((r) => r.text)).toEqual(['line 4']);
    expect(() => new Klog({ capacity: 0 })).toThrow(RangeError);
  });

  it('appends pr_cont text to the last record', () => {
    const klog = new Klog();
    klog.info('.... node  #0, CPUs:  ');
    klog.cont('    #1');
    klog.cont('\n');
    klog.warn('Modules linked in:');
    klog.cont(' a b\nnext');
    expect(klog.records().map((r) => [r.level, r.text])).toEqual([
      [KERN_INFO, '.... node  #0, CPUs:      #1'],
      [KERN_WARNING, 'Modules linked in: a b'],
      [KERN_WARNING, 'next'],
    ]);
    const empty = new Klog();
    empty.cont('alone');
    expect(empty.records()[0]).toMatchObject({ level: KERN_WARNING, text: 'alone' });
  });

  it('clears the kept records (dmesg -C) without resetting seq', () => {
    const klog = new Klog();
    klog.info('a');
    klog.info('b');
    klog.clear();
    expect(klog.records()).toEqual([]);
    expect(klog.size).toBe(0);
    klog.info('c');
    expect(klog.records()).toMatchObject([{ seq: 2, text: 'c' }]);
  });

  it('greps by string or RegExp', () => {
    const klog = new Klog();
    klog.info('Zone ranges:');
    klog.warn('swapper/0: page allocation failure: order:5');
    klog.err('BUG: sleeping function called from invalid context');
    expect(klog.grep('allocation failure').map((r) => r.seq)).toEqual([1]);
    expect(klog.grep(/^BUG:|^Zone/g).map((r) => r.seq)).toEqual([0, 2]);
  });

  it('tells subscribers about each new record until they unsubscribe', () => {
    const klog = new Klog();
    const seen: KlogRecord[] = [];
    const off = klog.subscribe((r) => seen.push(r));
    klog.info('one\ntwo');
    off();
    klog.info('three');
    expect(seen.map((r) => r.text)).toEqual(['one', 'two']);
  });
});

describe('Klog.dmesg', () => {
  it('prints [%5lu.%06lu] time stamps', () => {
    const clock = new SimClock();
    const klog = new Klog({ clock });
    clock.set(2_460_999);
    klog.info('Zone ranges:');
    clock.set(123_456_789_012_345);
    klog.info('late');
    expect(klog.dmesg()).toBe('[    0.002460] Zone ranges:\n[123456.789012] late');
    expect(klog.dmesgLines({ sinceSeq: 1 })).toEqual(['[123456.789012] late']);
  });

  it('prefixes facility and level as dmesg -x does', () => {
    const klog = new Klog();
    klog.err('BUG: x');
    klog.info('y');
    expect(klog.dmesgLines({ levels: true })).toEqual([
      'kern  :err   : [    0.000000] BUG: x',
      'kern  :info  : [    0.000000] y',
    ]);
  });

  it('reproduces the real 6.18 boot log byte for byte', () => {
    const text = readFileSync(DMESG, 'utf8').replace(/\n$/, '');
    const clock = new SimClock();
    const klog = new Klog({ clock });
    for (const line of text.split('\n')) {
      const m = /^\[ *(\d+)\.(\d{6})\] (.*)$/.exec(line);
      expect(m).not.toBeNull();
      clock.set(Number(m![1]) * 1e9 + Number(m![2]) * 1e3);
      klog.info(m![3]!);
    }
    expect(klog.size).toBeGreaterThan(50);
    expect(klog.dmesg()).toBe(text);
  });
});
