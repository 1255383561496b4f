/**
 * Types of @mmsim/procfs.
 */

/**
 * slabtop's sort keys (procps 4.0.2 src/slabtop.c set_sort_stuff()): `o` number of objects
 * (the default), `a` active objects, `s` object size, `c` cache size, `l` slabs, `v` active
 * slabs, `n` name (ascending; every other key sorts descending), `b` objects per slab,
 * `p` pages per slab, `u` utilisation.
 */
export type SlabtopSort = 'o' | 'a' | 's' | 'c' | 'l' | 'v' | 'n' | 'b' | 'p' | 'u';

/** Options of slabtop(). */
export interface SlabtopOptions {
  /**
   * The sort key (`slabtop -s`).
   * @defaultValue 'o'
   */
  sort?: SlabtopSort;
  /**
   * How many cache rows to print (the interactive screen shows the terminal's rows - 8).
   * @defaultValue every cache, as `slabtop -o` prints
   */
  rows?: number;
}

/** A renderer of one /proc or /sys file. */
export type ProcRenderer<K> = (k: K) => string;
