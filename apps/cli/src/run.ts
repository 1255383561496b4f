/**
 * `mmsim run SCRIPT`: a user's scenario gets a booted kernel. The script is an ES module
 * whose default export (or `main`) is called with the Kernel; whatever it prints is its
 * output, and `--dmesg` appends the kernel log.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BootConfig, boot, type Kernel } from '@mmsim/kapi';

export interface RunOptions {
  machine: string;
  cpus?: number;
  memory?: string;
  slab?: string;
  slubDebug?: string;
  dmesg?: boolean;
}

export async function runScript(script: string, opts: RunOptions): Promise<string> {
  const path = resolve(script);
  if (!existsSync(path)) throw new Error(`cannot run '${script}': no such file`);
  const mod = (await import(pathToFileURL(path).href)) as {
    default?: (k: Kernel) => unknown;
    main?: (k: Kernel) => unknown;
  };
  const entry = mod.default ?? mod.main;
  if (typeof entry !== 'function') {
    throw new Error(`'${script}' exports no function: write \`export default (k) => { … }\``);
  }
  const config: BootConfig = { machine: opts.machine as 'laptop' };
  if (opts.cpus !== undefined) config.cpus = opts.cpus;
  if (opts.memory !== undefined) config.memory = opts.memory;
  if (opts.slab !== undefined) config.slab = opts.slab as 'slub';
  if (opts.slubDebug !== undefined) config.slubDebug = opts.slubDebug;
  const k = boot(config);
  await entry(k);
  return opts.dmesg ? `${k.dmesg()}\n` : '';
}
