/**
 * Number formatting as the kernel's printf prints it.
 *
 * The simulator prints what Linux prints, so these helpers reproduce the few printf
 * conversions mm uses: `%x`/`%lx` (formatHex), `%px` (formatPtr: a kernel pointer in its
 * canonical 64-bit form), `[mem %#018llx-%#018llx]` (formatMemRange), the printk time
 * stamp `[%5lu.%06lu]` (formatPrintkTime) and `%6lu`/`%-12s` padding (fmtRight/fmtLeft).
 *
 * Addresses are plain numbers (exact to 2^53); a virtual address is stored as its low
 * `vaBits` bits and sign-extended only here, when printed (see DESIGN.md "Addresses").
 * These are cold paths (reports, /proc views); canonicalToVa uses BigInt for parsing.
 *
 * Linux: lib/vsprintf.c (pointer(), number()), kernel/printk/printk.c print_time(),
 * arch/x86/kernel/e820.c and mm/mm_init.c (the `[mem …]` ranges of the boot log).
 */

const TWO_32 = 4294967296;

function checkUint(n: number, fn: string): void {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${fn}(${String(n)}): expected a non-negative integer below 2^53`);
  }
}

/** `%x` / `%0<width>lx`: lowercase hex without 0x, zero-padded to `width` digits. */
export function formatHex(n: number, width = 0): string {
  checkUint(n, 'formatHex');
  return n.toString(16).padStart(width, '0');
}

function checkVaBits(vaBits: number, fn: string): void {
  if (!Number.isInteger(vaBits) || vaBits < 12 || vaBits > 53) {
    throw new RangeError(`${fn}: vaBits ${vaBits} is outside 12..53`);
  }
}

/**
 * `%px`: the canonical 64-bit form of a virtual address stored as its low `vaBits` bits,
 * 16 hex digits, sign-extended from bit vaBits-1.
 *
 * @example formatPtr(0x888100000000) === 'ffff888100000000'
 */
export function formatPtr(addr: number, vaBits = 48): string {
  checkVaBits(vaBits, 'formatPtr');
  checkUint(addr, 'formatPtr');
  if (addr >= 2 ** vaBits) {
    throw new RangeError(`formatPtr: 0x${addr.toString(16)} does not fit in ${vaBits} bits`);
  }
  let hi = Math.floor(addr / TWO_32);
  let lo = addr % TWO_32;
  if (addr >= 2 ** (vaBits - 1)) {
    if (vaBits > 32) {
      hi = (hi | ~((1 << (vaBits - 32)) - 1)) >>> 0;
    } else {
      hi = 0xffffffff;
      lo = (lo | ~(2 ** vaBits - 1)) >>> 0;
    }
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/**
 * The inverse of formatPtr: parse `0xffff888100000000` (0x optional, or a bigint) and
 * return the stored low `vaBits` bits. A non-canonical address (bits above vaBits-1 not
 * all equal to bit vaBits-1) is a RangeError, as it is a #GP on the hardware.
 */
export function canonicalToVa(text: string | bigint, vaBits = 48): number {
  checkVaBits(vaBits, 'canonicalToVa');
  let value: bigint;
  if (typeof text === 'bigint') {
    value = text;
  } else if (typeof text === 'string' && /^(0x)?[0-9a-f]{1,16}$/i.test(text.trim())) {
    const t = text.trim();
    value = BigInt(t.startsWith('0x') || t.startsWith('0X') ? t : `0x${t}`);
  } else {
    throw new TypeError(`canonicalToVa: '${String(text)}' is not a 64-bit hex address`);
  }
  if (value < 0n || value >= 1n << 64n) {
    throw new RangeError(`canonicalToVa: ${value} is not a 64-bit address`);
  }
  const high = value >> BigInt(vaBits - 1);
  const allOnes = (1n << BigInt(64 - vaBits + 1)) - 1n;
  if (high !== 0n && high !== allOnes) {
    throw new RangeError(
      `canonicalToVa: 0x${value.toString(16).padStart(16, '0')} is not canonical for ${vaBits}-bit virtual addresses`,
    );
  }
  return Number(value & ((1n << BigInt(vaBits)) - 1n));
}

/**
 * `[mem %#018llx-%#018llx]` as the boot log prints ranges (end inclusive):
 * `[mem 0x0000000000001000-0x0000000000ffffff]`. `digits` 8 gives the short form some
 * messages use (`[mem 0x00000000-0x00000fff]`).
 */
export function formatMemRange(start: number, endInclusive: number, digits = 16): string {
  return `[mem 0x${formatHex(start, digits)}-0x${formatHex(endInclusive, digits)}]`;
}

/** The printk time stamp `[%5lu.%06lu]` of a time in nanoseconds: `[    0.002460]`. */
export function formatPrintkTime(ns: number): string {
  checkUint(ns, 'formatPrintkTime');
  const sec = Math.floor(ns / 1e9);
  const usec = Math.floor((ns % 1e9) / 1000);
  return `[${String(sec).padStart(5, ' ')}.${String(usec).padStart(6, '0')}]`;
}

/** Pages as /proc and show_mem print them: `%lukB` of pages × page size / 1024 → `1024kB`. */
export function formatKb(pages: number, pageSize = 4096): string {
  return `${pagesToKb(pages, pageSize)}kB`;
}

/** K(x) of mm/show_mem.c and fs/proc/meminfo.c: pages to kB. */
export function pagesToKb(pages: number, pageSize = 4096): number {
  return (pages * pageSize) / 1024;
}

/** `%<width>s` / `%<width>lu`: right-aligned, padded with spaces on the left. */
export function fmtRight(value: string | number, width: number): string {
  return String(value).padStart(width, ' ');
}

/** `%-<width>s`: left-aligned, padded with spaces on the right. */
export function fmtLeft(value: string | number, width: number): string {
  return String(value).padEnd(width, ' ');
}

/** Same as fmtRight (C `%6lu`): pad on the left. */
export const pad = fmtRight;
/** Same as fmtLeft (C `%-12s`): pad on the right. */
export const padEnd = fmtLeft;
