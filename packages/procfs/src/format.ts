/**
 * The few printf conversions /proc and procps use, done as glibc does them: `%-Ns`, `%Nu`
 * and `%.Nf` (glibc rounds an exact tie to even — 0.125 prints as "0.12" with %.2f — where
 * JavaScript's toFixed() rounds it up, so ties are handled here).
 */

/** `%Nlu` / `%Nd`: right-aligned in at least `width` columns. */
export const padNum = (v: number, width: number): string => String(v).padStart(width);

/** `%-Ns`: left-aligned in at least `width` columns. */
export const padLeft = (s: string, width: number): string => s.padEnd(width);

/** `%*s`: right-aligned in at least `width` columns. */
export const padRight = (s: string, width: number): string => s.padStart(width);

/** glibc `%.Nf`: the exact value of the double, rounded to nearest, ties to even. */
export function fixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? '-nan' : x > 0 ? 'inf' : '-inf';
  const exact = Math.abs(x).toFixed(Math.min(100, digits + 60));
  const dot = exact.indexOf('.');
  const rest = exact.slice(dot + 1 + digits);
  if (!/^50*$/.test(rest)) return x.toFixed(digits);
  // An exact tie: keep the truncated value when its last digit is even, else round up.
  const kept = exact.slice(0, digits === 0 ? dot : dot + 1 + digits);
  const last = Number(kept[kept.length - 1]);
  const sign = x < 0 ? '-' : '';
  if (last % 2 === 0) return sign + kept;
  return x.toFixed(digits); // toFixed rounds a tie away from zero: the even neighbour here
}
