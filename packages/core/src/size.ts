/**
 * Sizes as people write them: '512M', '8G', '64K', '1.5G', or a number of bytes.
 * Binary units (K = 1024), as the kernel command line's memparse() reads them
 * (lib/cmdline.c), plus an optional 'B'/'iB' suffix.
 */

export type Size = number | string;

const UNITS: Record<string, number> = {
  '': 1,
  K: 1024,
  M: 1024 ** 2,
  G: 1024 ** 3,
  T: 1024 ** 4,
  P: 1024 ** 5,
};

/**
 * Parse a size to bytes. Throws a RangeError naming the bad value (and `what`, if given).
 */
export function parseSize(value: Size, what = 'size'): number {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(
        `invalid ${what} ${value}: expected a non-negative whole number of bytes`,
      );
    }
    return value;
  }
  if (typeof value !== 'string') {
    throw new TypeError(`invalid ${what} ${String(value)}: expected bytes or a string like '512M'`);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:i?B)?\s*$/i.exec(value);
  if (!m) {
    throw new RangeError(
      `invalid ${what} '${value}': expected bytes or a number with K, M, G, T or P (e.g. '512M', '8G')`,
    );
  }
  const bytes = Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
  if (!Number.isSafeInteger(bytes)) {
    throw new RangeError(`invalid ${what} '${value}': not a whole number of bytes (${bytes})`);
  }
  return bytes;
}

/** Format bytes the way people read them: '64 MiB', '1.5 GiB', '4 KiB', '100 B'. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1 && v % 1 === 0) {
    v /= 1024;
    i++;
  }
  const text = Number.isInteger(v) ? String(v) : v.toFixed(2).replace(/\.?0+$/, '');
  return `${text} ${units[i]}`;
}
