/**
 * /proc/slabinfo (mm/slab_common.c slab_show(): print_slabinfo_header(), cache_show()) and
 * the `slabtop` screen of procps 4.0.2 (src/slabtop.c print_summary(), print_headings(),
 * the row format; library/slabinfo.c parse_slabinfo20() for the derived numbers).
 *
 * Caches are listed newest first, as Linux walks the slab_caches list (create_cache() adds
 * at the head). Under SLUB the tunables are 0 0 0 and active_slabs = num_slabs; under SLAB
 * they are the cache's limit, batchcount and shared factor. SLOB has no /proc/slabinfo.
 */
import type { SlabInfo } from '@mmsim/core';
import { PAGE_SIZE } from '@mmsim/core';
import type { Kernel } from '@mmsim/kapi';
import type { SlabtopOptions, SlabtopSort } from './api.js';
import { fixed, padLeft, padNum } from './format.js';

/** An fs error in the shape Node gives one (code ENOENT), as a read of a missing file. */
export class ProcFsError extends Error {
  readonly code: string;
  readonly path: string;
  constructor(code: string, path: string, message: string) {
    super(`${code}: ${message}, open '${path}'`);
    this.name = 'ProcFsError';
    this.code = code;
    this.path = path;
  }
}

/** The caches' slabinfo numbers in /proc/slabinfo order (newest first). */
export function slabinfoRows(k: Kernel): SlabInfo[] {
  return k.slab
    .caches()
    .map((c) => k.slab.cacheInfo(c))
    .reverse();
}

/** /proc/slabinfo, version 2.1. Throws ENOENT under SLOB, which has none. */
export function slabinfo(k: Kernel): string {
  if (k.slab.name === 'slob') {
    throw new ProcFsError('ENOENT', '/proc/slabinfo', 'no such file or directory');
  }
  let out = 'slabinfo - version: 2.1\n';
  out +=
    '# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>' +
    ' : tunables <limit> <batchcount> <sharedfactor>' +
    ' : slabdata <active_slabs> <num_slabs> <sharedavail>\n';
  for (const s of slabinfoRows(k)) {
    out +=
      `${padLeft(s.name, 17)} ${padNum(s.active_objs, 6)} ${padNum(s.num_objs, 6)} ` +
      `${padNum(s.objsize, 6)} ${padNum(s.objects_per_slab, 4)} ${padNum(1 << s.cache_order, 4)}` +
      ` : tunables ${padNum(s.limit, 4)} ${padNum(s.batchcount, 4)} ${padNum(s.shared, 4)}` +
      ` : slabdata ${padNum(s.active_slabs, 6)} ${padNum(s.num_slabs, 6)} ${padNum(s.shared_avail, 6)}\n`;
  }
  return out;
}

/** One cache as slabtop holds it (struct slabinfo_node of procps' library). */
interface SlabtopRow {
  name: string;
  objs: number;
  activeObjs: number;
  objSize: number;
  objsPerSlab: number;
  pagesPerSlab: number;
  slabs: number;
  activeSlabs: number;
  /** (unsigned)(100 * ((float)active / total)), 0 for an empty cache. */
  use: number;
  /** Bytes: slabs * pages per slab * page size. */
  cacheSize: number;
}

/** C's (float) conversion then truncation: 100 * (float)(a / b). */
const usePercent = (active: number, total: number): number =>
  total === 0 ? 0 : Math.trunc(100 * Math.fround(Math.fround(active) / Math.fround(total)));

/** The sort of procps' slabtop for each key: descending, except `n` (ascending by name). */
const SORT_KEY: Record<SlabtopSort, (r: SlabtopRow) => number | string> = {
  o: (r) => r.objs,
  a: (r) => r.activeObjs,
  s: (r) => r.objSize,
  c: (r) => r.cacheSize,
  l: (r) => r.slabs,
  v: (r) => r.activeSlabs,
  n: (r) => r.name,
  b: (r) => r.objsPerSlab,
  p: (r) => r.pagesPerSlab,
  u: (r) => r.use,
};

/**
 * The slabtop screen (`slabtop -o`, or one frame of the interactive one): the five summary
 * lines, a blank line, the heading and one row per cache in the order of `sort`.
 */
export function slabtop(k: Kernel, options: SlabtopOptions = {}): string {
  const sort = options.sort ?? 'o';
  if (!(sort in SORT_KEY)) {
    throw new TypeError(
      `slabtop: unknown sort key '${String(sort)}' (keys: ${Object.keys(SORT_KEY).join(' ')})`,
    );
  }
  const rowsLimit = options.rows;
  if (rowsLimit !== undefined && !(Number.isInteger(rowsLimit) && rowsLimit >= 0)) {
    throw new RangeError(`slabtop: rows must be a non-negative integer, got ${String(rowsLimit)}`);
  }
  // slabtop reads /proc/slabinfo: under SLOB that read fails as it does on Linux.
  if (k.slab.name === 'slob') slabinfo(k);
  const rows: SlabtopRow[] = slabinfoRows(k).map((s) => ({
    name: s.name,
    objs: s.num_objs,
    activeObjs: s.active_objs,
    objSize: s.objsize,
    objsPerSlab: s.objects_per_slab,
    pagesPerSlab: 1 << s.cache_order,
    slabs: s.num_slabs,
    activeSlabs: s.active_slabs,
    use: usePercent(s.active_objs, s.num_objs),
    cacheSize: s.num_slabs * (1 << s.cache_order) * PAGE_SIZE,
  }));

  // library/slabinfo.c: the totals.
  let objs = 0;
  let activeObjs = 0;
  let slabs = 0;
  let activeSlabs = 0;
  let activeCaches = 0;
  let totalSize = 0;
  let activeSize = 0;
  let minSize = Number.POSITIVE_INFINITY;
  let maxSize = 0;
  for (const r of rows) {
    if (r.objs > 0) activeCaches++;
    objs += r.objs;
    activeObjs += r.activeObjs;
    slabs += r.slabs;
    activeSlabs += r.activeSlabs;
    totalSize += r.objs * r.objSize;
    activeSize += r.activeObjs * r.objSize;
    minSize = Math.min(minSize, r.objSize);
    maxSize = Math.max(maxSize, r.objSize);
  }
  if (rows.length === 0) minSize = 0;
  const avgSize = objs === 0 ? 0 : Math.floor(totalSize / objs);
  const pct = (a: number, b: number): string => fixed((100 * a) / b, 1);
  const label = (s: string): string => ` ${padLeft(s, 35)}: `;
  let out = '';
  out += `${label('Active / Total Objects (% used)')}${activeObjs} / ${objs} (${pct(activeObjs, objs)}%)\n`;
  out += `${label('Active / Total Slabs (% used)')}${activeSlabs} / ${slabs} (${pct(activeSlabs, slabs)}%)\n`;
  out += `${label('Active / Total Caches (% used)')}${activeCaches} / ${rows.length} (${pct(activeCaches, rows.length)}%)\n`;
  out += `${label('Active / Total Size (% used)')}${fixed(activeSize / 1024, 2)}K / ${fixed(totalSize / 1024, 2)}K (${pct(activeSize, totalSize)}%)\n`;
  out += `${label('Minimum / Average / Maximum Object')}${fixed(minSize / 1024, 2)}K / ${fixed(avgSize / 1024, 2)}K / ${fixed(maxSize / 1024, 2)}K\n\n`;
  out += `${padLeft('  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME', 78)}\n`;

  const key = SORT_KEY[sort];
  const sorted = [...rows].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    if (sort === 'n') return x < y ? -1 : x > y ? 1 : 0;
    return (y as number) - (x as number);
  });
  const shown = rowsLimit === undefined ? sorted : sorted.slice(0, rowsLimit);
  for (const r of shown) {
    out +=
      `${padNum(r.objs, 6)} ${padNum(r.activeObjs, 6)} ${padNum(r.use, 3)}% ` +
      `${fixed(r.objSize / 1024, 2).padStart(7)}K ${padNum(r.slabs, 6)} ${padNum(r.objsPerSlab, 8)} ` +
      `${padNum(Math.floor(r.cacheSize / 1024), 9)}K ${padLeft(r.name, 23)}\n`;
  }
  return out;
}
