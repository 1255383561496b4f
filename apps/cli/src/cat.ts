/**
 * `mmsim cat PATH`: boot a kernel, run a small workload (unless --idle) so the numbers move,
 * and print a /proc or /sys file as Linux 6.18 formats it.
 */
import { type BootConfig, boot, GFP_KERNEL, type Kernel, SLAB_HWCACHE_ALIGN } from '@mmsim/kapi';
import { readProc } from '@mmsim/procfs';

export interface CatOptions {
  machine: string;
  cpus?: number;
  memory?: string;
  slab?: string;
  slubDebug?: string;
  idle?: boolean;
}

/** A few live kmalloc buffers, a named cache and a vmalloc area — what a booted system holds. */
export function sampleWorkload(k: Kernel): void {
  for (let i = 0; i < 600; i++) k.kmalloc(8 + ((i * 37) % 2040), GFP_KERNEL, 'sample_init');
  const c = k.kmem_cache_create('sample_inode', 600, 0, SLAB_HWCACHE_ALIGN, null);
  if (c) for (let i = 0; i < 100; i++) k.kmem_cache_alloc(c, GFP_KERNEL, 'sample_init');
  k.vmalloc(64 * 4096, 'sample_module_load');
}

export function catProc(path: string, opts: CatOptions): string {
  const config: BootConfig = { machine: opts.machine as 'server' };
  if (opts.cpus !== undefined) config.cpus = opts.cpus;
  if (opts.memory !== undefined) config.memory = opts.memory;
  if (opts.slab !== undefined) config.slab = opts.slab as 'slub';
  if (opts.slubDebug !== undefined) config.slubDebug = opts.slubDebug;
  const k = boot(config);
  if (!opts.idle) sampleWorkload(k);
  return readProc(k, path);
}
