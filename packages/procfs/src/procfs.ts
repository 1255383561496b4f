/**
 * readProc(): the simulated kernel's /proc and /sys files by path, and attachProcfs(), which
 * gives a booted Kernel its `readProc(path)` (kapi cannot import this package: procfs sits
 * above it).
 */
import type { Kernel } from '@mmsim/kapi';
import { meminfo, vmallocinfo } from './meminfo.js';
import { nodeDistance, nodeNumastat, numactlHardware, numastat } from './numa.js';
import { ProcFsError, slabinfo } from './slabinfo.js';
import { VMSTAT_NAMES, vmstatCounters } from './stats.js';
import { buddyinfo, pagetypeinfo, zoneinfo } from './zones.js';

/** /proc/vmstat (mm/vmstat.c vmstat_show()): "name value" per line, in Linux 6.18's order. */
export function vmstat(k: Kernel): string {
  const c = vmstatCounters(k);
  return VMSTAT_NAMES.map((n) => `${n} ${c[n] ?? 0}\n`).join('');
}

/** The files readProc() knows, with their renderers. */
const FILES: Record<string, (k: Kernel) => string> = {
  '/proc/buddyinfo': buddyinfo,
  '/proc/zoneinfo': zoneinfo,
  '/proc/pagetypeinfo': pagetypeinfo,
  '/proc/slabinfo': slabinfo,
  '/proc/meminfo': meminfo,
  '/proc/vmallocinfo': vmallocinfo,
  '/proc/vmstat': vmstat,
};

/** Every path readProc() answers for this kernel (one distance/numastat file per node). */
export function procPaths(k: Kernel): string[] {
  const paths = Object.keys(FILES).filter((p) => p !== '/proc/slabinfo' || k.slab.name !== 'slob');
  for (const pid of k.tasks.keys()) paths.push(`/proc/${pid}/maps`);
  for (const n of k.machine.nodes) {
    paths.push(`/sys/devices/system/node/node${n.nid}/distance`);
    paths.push(`/sys/devices/system/node/node${n.nid}/numastat`);
  }
  return paths;
}

/**
 * The text of a /proc or /sys file, or of `numastat` / `numactl --hardware` (as commands).
 * An unknown path throws an Error that lists the known ones; /proc/slabinfo under SLOB throws
 * a ProcFsError with code ENOENT, as Linux has no such file then.
 */
export function readProc(k: Kernel, path: string): string {
  if (typeof path !== 'string')
    throw new TypeError(`readProc: path must be a string, got ${typeof path}`);
  const f = FILES[path];
  if (f) return f(k);
  if (path === 'numastat') return numastat(k);
  if (path === 'numactl --hardware' || path === 'numactl -H') return numactlHardware(k);
  const m = /^\/sys\/devices\/system\/node\/node(\d+)\/(distance|numastat)$/.exec(path);
  if (m && Number(m[1]) < k.machine.nrNodes) {
    const nid = Number(m[1]);
    return m[2] === 'distance' ? nodeDistance(k, nid) : nodeNumastat(k, nid);
  }
  if (path === '/proc/slabinfo') return slabinfo(k);
  // /proc/<pid>/maps of a live process; /proc/self is the current one.
  const pm = /^\/proc\/(self|\d+)\/maps$/.exec(path);
  if (pm) {
    const task = pm[1] === 'self' ? k.current : k.tasks.get(Number(pm[1]));
    if (task?.mm) return task.mm.maps();
    if (pm[1] === 'self')
      throw new ProcFsError('ENOENT', path, 'no process is current (kernel context)');
    throw new ProcFsError('ENOENT', path, 'no such process');
  }
  throw new Error(
    `readProc: no such file '${path}' (known: ${[...procPaths(k), 'numastat', 'numactl --hardware'].join(', ')})`,
  );
}

/** A Kernel with readProc() attached. */
export type KernelWithProcfs = Kernel & { readProc(path: string): string };

/** Define `k.readProc(path)` on this kernel instance; returns the same kernel. */
export function attachProcfs(k: Kernel): KernelWithProcfs {
  Object.defineProperty(k, 'readProc', {
    value: (path: string) => readProc(k, path),
    configurable: true,
    enumerable: false,
    writable: true,
  });
  return k as KernelWithProcfs;
}

export { ProcFsError };
