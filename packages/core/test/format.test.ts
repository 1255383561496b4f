import { describe, expect, it } from 'vitest';
import {
  canonicalToVa,
  fmtLeft,
  fmtRight,
  formatHex,
  formatKb,
  formatMemRange,
  formatPrintkTime,
  formatPtr,
  pad,
  padEnd,
  pagesToKb,
} from '../src/format.js';

describe('formatHex (%x, %0Nlx)', () => {
  it('prints lowercase hex, zero-padded, without 0x', () => {
    expect(formatHex(0)).toBe('0');
    expect(formatHex(0xcc0)).toBe('cc0');
    expect(formatHex(0x1234, 5)).toBe('01234');
    expect(formatHex(0xabcdef, 2)).toBe('abcdef');
    expect(formatHex(2 ** 53 - 1)).toBe('1fffffffffffff');
    expect(formatHex(0x63fffffff, 16)).toBe('000000063fffffff');
  });

  it('rejects negative, fractional and unsafe numbers', () => {
    expect(() => formatHex(-1)).toThrow(RangeError);
    expect(() => formatHex(1.5)).toThrow(RangeError);
    expect(() => formatHex(2 ** 54)).toThrow(RangeError);
  });
});

describe('formatPtr (%px) and canonicalToVa', () => {
  it('sign-extends kernel-half addresses to the canonical 64-bit form', () => {
    expect(formatPtr(0x888100000000)).toBe('ffff888100000000');
    expect(formatPtr(0x888000000000)).toBe('ffff888000000000');
    expect(formatPtr(0xc90000000000)).toBe('ffffc90000000000');
    expect(formatPtr(0xffffffffffff)).toBe('ffffffffffffffff');
    expect(formatPtr(0x7fffffffffff)).toBe('00007fffffffffff');
    expect(formatPtr(0)).toBe('0000000000000000');
    expect(formatPtr(16)).toBe('0000000000000010');
  });

  it('handles other virtual-address widths (Sv39)', () => {
    expect(formatPtr(0x4000000000, 39)).toBe('ffffffc000000000');
    expect(formatPtr(0x3fffffffff, 39)).toBe('0000003fffffffff');
    expect(formatPtr(0x80000000, 32)).toBe('ffffffff80000000');
  });

  it('rejects addresses wider than vaBits', () => {
    expect(() => formatPtr(2 ** 48)).toThrow(RangeError);
    expect(() => formatPtr(-1)).toThrow(RangeError);
    expect(() => formatPtr(0, 64)).toThrow(RangeError);
  });

  it('parses the canonical form back to the stored low bits', () => {
    expect(canonicalToVa('0xffff888100000000')).toBe(0x888100000000);
    expect(canonicalToVa('ffff888100000000')).toBe(0x888100000000);
    expect(canonicalToVa('00007fffffffffff')).toBe(0x7fffffffffff);
    expect(canonicalToVa(0xffffea0000000000n)).toBe(0xea0000000000);
    expect(canonicalToVa('0x10')).toBe(16);
    expect(canonicalToVa('ffffffc000000000', 39)).toBe(0x4000000000);
    for (const a of [0, 0x1000, 0x7fffffffffff, 0x800000000000, 0xffff88800000, 0xffffffffffff]) {
      expect(canonicalToVa(formatPtr(a))).toBe(a);
    }
  });

  it('refuses non-canonical addresses and non-hex text', () => {
    expect(() => canonicalToVa('0x0000800000000000')).toThrow(RangeError);
    expect(() => canonicalToVa('0xdead000000000000')).toThrow(/not canonical/);
    expect(() => canonicalToVa('0xffff7fffffffffff')).toThrow(RangeError);
    expect(() => canonicalToVa('xyz')).toThrow(TypeError);
    expect(() => canonicalToVa('0x1ffffffffffffffff')).toThrow(TypeError);
  });
});

describe('boot-log and /proc formatting', () => {
  it('prints [mem %#018llx-%#018llx] ranges', () => {
    expect(formatMemRange(0x1000, 0xffffff)).toBe('[mem 0x0000000000001000-0x0000000000ffffff]');
    expect(formatMemRange(0x100000000, 0x63fffffff)).toBe(
      '[mem 0x0000000100000000-0x000000063fffffff]',
    );
    expect(formatMemRange(0, 0xfff, 8)).toBe('[mem 0x00000000-0x00000fff]');
  });

  it('prints printk time stamps [%5lu.%06lu]', () => {
    expect(formatPrintkTime(0)).toBe('[    0.000000]');
    expect(formatPrintkTime(2_460_123)).toBe('[    0.002460]');
    expect(formatPrintkTime(5417_812_022_000)).toBe('[ 5417.812022]');
    expect(formatPrintkTime(123456_000_001_000)).toBe('[123456.000001]');
  });

  it('converts pages to kB', () => {
    expect(pagesToKb(3)).toBe(12);
    expect(formatKb(256)).toBe('1024kB');
    expect(formatKb(1, 65536)).toBe('64kB');
  });

  it('pads like %6lu and %-12s', () => {
    expect(fmtRight(42, 6)).toBe('    42');
    expect(fmtLeft('kmalloc-64', 12)).toBe('kmalloc-64  ');
    expect(fmtRight('toolongvalue', 4)).toBe('toolongvalue');
    expect(pad(7, 3)).toBe('  7');
    expect(padEnd('a', 3)).toBe('a  ');
  });
});
