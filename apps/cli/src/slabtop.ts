/**
 * `mmsim slabtop`: procps slabtop as a live screen over a booted kernel while a workload
 * churns its caches. On a terminal the screen is redrawn in place (log-update) every
 * `--delay` ms and `q` (or Ctrl-C) quits; without a terminal each frame is printed after the
 * previous one, and `--iterations` bounds the run.
 */
import { emitKeypressEvents } from 'node:readline';
import {
  type BootConfig,
  boot,
  GFP_KERNEL,
  type Kernel,
  Prng,
  SLAB_HWCACHE_ALIGN,
} from '@mmsim/kapi';
import { slabtop } from '@mmsim/procfs';
import logUpdate from 'log-update';

export interface SlabtopOptions {
  machine: string;
  slab?: string;
  sort: string;
  delay: number;
  iterations?: number;
  seed: number;
}

/** One tick of the workload: kmalloc churn and a cache of "inodes" that grows and shrinks. */
function workload(
  k: Kernel,
  prng: Prng,
  live: number[],
  inodes: number[],
  cache: ReturnType<Kernel['kmem_cache_create']>,
): void {
  for (let i = 0; i < 400; i++) {
    if (live.length > 0 && prng.nextBool(0.45)) {
      const j = prng.nextInt(live.length);
      k.kfree(live[j]!);
      live[j] = live[live.length - 1]!;
      live.pop();
    } else live.push(k.kmalloc(8 + prng.nextInt(4000), GFP_KERNEL, 'workload_tick'));
  }
  if (cache) {
    const grow = prng.nextBool(0.6);
    for (let i = 0; i < 50; i++) {
      if (grow) inodes.push(k.kmem_cache_alloc(cache, GFP_KERNEL, 'inode_alloc'));
      else if (inodes.length) k.kmem_cache_free(cache, inodes.pop()!, 'inode_free');
    }
  }
}

export async function runSlabtop(opts: SlabtopOptions): Promise<void> {
  const config: BootConfig = { machine: opts.machine as 'laptop' };
  if (opts.slab !== undefined) config.slab = opts.slab as 'slub';
  const k = boot(config);
  const prng = new Prng(opts.seed);
  const live: number[] = [];
  const inodes: number[] = [];
  const cache = k.kmem_cache_create('workload_inode', 600, 0, SLAB_HWCACHE_ALIGN, null);
  const tty = process.stdout.isTTY === true;
  let quit = false;
  // Cuts the wait between frames short, so that q quits at once and not after --delay.
  let wake = (): void => {};
  if (tty && process.stdin.isTTY) {
    emitKeypressEvents(process.stdin);
    process.stdin.setRawMode(true);
    process.stdin.on('keypress', (_s: string, key: { name?: string; ctrl?: boolean }) => {
      if (key.name === 'q' || (key.ctrl && key.name === 'c')) {
        quit = true;
        wake();
      }
    });
  }
  for (
    let frame = 0;
    !quit && (opts.iterations === undefined || frame < opts.iterations);
    frame++
  ) {
    workload(k, prng, live, inodes, cache);
    // Read the height every frame: a resized terminal gets a screen that fits it.
    const rows = Math.max(5, (process.stdout.rows ?? 30) - 10);
    const screen = slabtop(k, { sort: opts.sort as 'c', rows });
    if (tty) logUpdate(`${screen}\n (q quits)`);
    else process.stdout.write(`${screen}\n\n`);
    if (opts.iterations === undefined || frame + 1 < opts.iterations) {
      await new Promise<void>((r) => {
        const timer = setTimeout(r, opts.delay);
        wake = () => {
          clearTimeout(timer);
          r();
        };
      });
    }
  }
  if (tty) {
    logUpdate.done();
    if (process.stdin.isTTY) {
      process.stdin.setRawMode(false);
      process.stdin.pause();
    }
  }
}
