/**
 * A session: one booted kernel and what the visualizer did to it — the live kmalloc
 * allocations it handed out (the kernel keeps no list a tool could read; Linux has none
 * either, only kmemleak's) and the log of actions with the kernel messages each produced.
 *
 * Every action runs through run(): the dmesg records printed during it are attached to its
 * log entry, and an exception — a KernelOops from a BUG, a TypeError from bad input — is
 * caught and shown there, so a kernel crash never breaks the page. The simulated machine
 * stays consistent after a KernelOops (see @mmsim/core errors.ts), so the next action works.
 */
import {
  type BootConfig,
  boot,
  formatGfp,
  formatPtr,
  type Kernel,
  KernelOops,
  type KmemCache,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  parseGfp,
  SLAB_CONSISTENCY_CHECKS,
  SLAB_POISON,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
} from '@mmsim/kapi';

export interface SessionConfig {
  machine: string;
  slab: 'slub' | 'slab' | 'slob';
  /** The slub_debug= boot parameter; '' for none. */
  slubDebug: string;
}

export interface Allocation {
  addr: number;
  size: number;
  ksize: number;
  gfp: string;
  /** The kmem_cache the object came from, or '' for a large kmalloc (page allocator). */
  cache: string;
}

export interface LogEntry {
  /** What was done, e.g. `kmalloc(100, GFP_KERNEL) = 0xffff888001004000`. */
  action: string;
  /** The dmesg lines printed while it ran. */
  dmesg: string;
  /** The exception it ended with, if any. */
  error: string;
}

/** The red-zone demo's cache: what `slub_debug=FZPU,redzone_test` gives one cache. */
export const REDZONE_CACHE = 'redzone_test';
export const REDZONE_FLAGS =
  SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER;
export const REDZONE_OBJECT_SIZE = 64;

export class Session {
  readonly kernel: Kernel;
  readonly config: SessionConfig;
  readonly allocations: Allocation[] = [];
  readonly log: LogEntry[] = [];
  private redzoneCache: KmemCache | null = null;
  /** When the page booted this kernel (performance.now(), ms). */
  private readonly bootedAt = performance.now();

  constructor(config: SessionConfig) {
    this.config = config;
    const bootConfig: BootConfig = {
      machine: config.machine as BootConfig['machine'],
      slab: config.slab,
    };
    if (config.slubDebug !== '') bootConfig.slubDebug = config.slubDebug;
    this.kernel = boot(bootConfig);
    this.log.push({
      action: `boot: machine=${config.machine} slab=${config.slab}${config.slubDebug ? ` slub_debug=${config.slubDebug}` : ''}`,
      dmesg: this.kernel.dmesg(),
      error: '',
    });
  }

  /** Run an action; its result text, the dmesg lines it printed and any exception go to the log. */
  run(label: string, action: () => string | undefined): LogEntry {
    const k = this.kernel;
    // The simulated clock stands still unless advanced; here it follows the session, so dmesg
    // timestamps are uptime and the ratelimits (once a second, 60 a minute) behave as on a
    // running machine.
    const uptimeNs = Math.round((performance.now() - this.bootedAt) * 1e6);
    if (uptimeNs > k.klog.clock.nowNs()) k.klog.clock.set(uptimeNs);
    const seq = k.klog.nextSeq;
    const entry: LogEntry = { action: label, dmesg: '', error: '' };
    try {
      const result = action();
      if (result) entry.action = `${label} = ${result}`;
    } catch (e) {
      if (e instanceof KernelOops) entry.error = `${e.name} (${e.kind}): ${e.message}`;
      else if (e instanceof Error) entry.error = `${e.name}: ${e.message}`;
      else entry.error = String(e);
    }
    entry.dmesg = k.klog.dmesg({ sinceSeq: seq });
    this.log.push(entry);
    return entry;
  }

  kmalloc(size: number, gfpText: string, zero: boolean): LogEntry {
    const k = this.kernel;
    const fn = zero ? 'kzalloc' : 'kmalloc';
    return this.run(`${fn}(${size}, ${gfpText})`, () => {
      const gfp = parseGfp(gfpText);
      const p = zero ? k.kzalloc(size, gfp) : k.kmalloc(size, gfp);
      if (p === 0) return 'NULL';
      if (p <= 16) return `ZERO_SIZE_PTR (${p})`;
      this.allocations.push({
        addr: p,
        size,
        ksize: k.ksize(p),
        gfp: formatGfp(gfp),
        cache: k.slab.virt_to_cache(p)?.name ?? '',
      });
      return `0x${formatPtr(p)}`;
    });
  }

  kfree(addr: number): LogEntry {
    const i = this.allocations.findIndex((a) => a.addr === addr);
    // Whatever kfree() does, the caller no longer owns the object.
    if (i >= 0) this.allocations.splice(i, 1);
    return this.run(`kfree(0x${formatPtr(addr)})`, () => {
      this.kernel.kfree(addr);
      return undefined;
    });
  }

  /**
   * A double free: kmalloc(size) twice (so the slab stays in use and the second kfree()
   * meets a live slab, as a real bug usually does), then kfree() the first object twice.
   */
  doubleFree(size: number): LogEntry {
    const k = this.kernel;
    let first = 0;
    let keep = 0;
    this.run(`kmalloc(${size}, GFP_KERNEL) twice`, () => {
      first = k.kmalloc(size, parseGfp('GFP_KERNEL'));
      keep = k.kmalloc(size, parseGfp('GFP_KERNEL'));
      if (keep > 16) {
        this.allocations.push({
          addr: keep,
          size,
          ksize: k.ksize(keep),
          gfp: 'GFP_KERNEL',
          cache: k.slab.virt_to_cache(keep)?.name ?? '',
        });
      }
      return `0x${formatPtr(first)}, 0x${formatPtr(keep)}`;
    });
    this.run(`kfree(0x${formatPtr(first)})`, () => {
      k.kfree(first);
      return undefined;
    });
    const entry = this.run(`kfree(0x${formatPtr(first)}) again: a double free`, () => {
      k.kfree(first);
      return undefined;
    });
    return entry;
  }

  /**
   * A write one byte past the end of an object of a cache with red zones and poisoning
   * (and consistency checks, without which SLUB checks red zones only on validation, as
   * Linux does), then its kmem_cache_free(), which finds the damage.
   */
  redzoneOverwrite(): LogEntry {
    const k = this.kernel;
    if (!this.redzoneCache) {
      this.run(
        `kmem_cache_create("${REDZONE_CACHE}", ${REDZONE_OBJECT_SIZE}, 0, SLAB_CONSISTENCY_CHECKS|SLAB_RED_ZONE|SLAB_POISON|SLAB_STORE_USER, NULL)`,
        () => {
          this.redzoneCache = k.kmem_cache_create(
            REDZONE_CACHE,
            REDZONE_OBJECT_SIZE,
            0,
            REDZONE_FLAGS,
            null,
          );
          return this.redzoneCache ? this.redzoneCache.name : 'NULL';
        },
      );
    }
    const cache = this.redzoneCache;
    if (!cache) return this.log[this.log.length - 1]!;
    let obj = 0;
    this.run(`kmem_cache_alloc(${REDZONE_CACHE}, GFP_KERNEL)`, () => {
      obj = k.kmem_cache_alloc(cache, parseGfp('GFP_KERNEL'));
      return obj === 0 ? 'NULL' : `0x${formatPtr(obj)}`;
    });
    if (obj === 0) return this.log[this.log.length - 1]!;
    this.run(
      `write8(0x${formatPtr(obj + REDZONE_OBJECT_SIZE)}, 0x41): one byte past the object`,
      () => {
        k.mem.write8(obj + REDZONE_OBJECT_SIZE, 0x41);
        return undefined;
      },
    );
    return this.run(`kmem_cache_free(${REDZONE_CACHE}, 0x${formatPtr(obj)})`, () => {
      k.kmem_cache_free(cache, obj);
      return undefined;
    });
  }

  vmalloc(pages: number): LogEntry {
    return this.run(`vmalloc(${pages} * PAGE_SIZE)`, () => {
      const v = this.kernel.vmalloc(pages * PAGE_SIZE);
      return v === 0 ? 'NULL' : `0x${formatPtr(v)}`;
    });
  }

  /**
   * A one-byte kernel access through CPU 0's MMU (k.mem): a TLB hit, or a miss and a walk
   * that fills the TLB, or the page-fault Oops for an address nothing maps.
   */
  access(va: number, write: boolean, value = 0): LogEntry {
    const k = this.kernel;
    const text = `0x${formatPtr(va)}`;
    return this.run(write ? `write8(${text}, 0x${value.toString(16)})` : `read8(${text})`, () => {
      if (write) {
        k.mem.write8(va, value);
        return undefined;
      }
      return `0x${k.mem.read8(va).toString(16).padStart(2, '0')}`;
    });
  }

  vfree(addr: number): LogEntry {
    return this.run(`vfree(0x${formatPtr(addr)})`, () => {
      this.kernel.vfree(addr);
      return undefined;
    });
  }

  /** A process that maps and touches `pages` anonymous pages (each first write faults one in). */
  spawnProcess(pages: number): LogEntry {
    const k = this.kernel;
    return this.run(
      `process: mmap(${pages} pages, PROT_READ|PROT_WRITE) and write each page`,
      () => {
        const p = k.createProcess('demo');
        const len = pages * PAGE_SIZE;
        const a = p.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        if (a < 0) return `mmap: -${-a}`;
        for (let off = 0; off < len; off += PAGE_SIZE) p.mem.write8(a + off, 1);
        // It sleeps now; CPU 0 runs its idle task with the tables still loaded (lazy TLB), so
        // the kernel's own reports name swapper/0 again.
        k.scheduleIdle();
        return `pid ${p.pid}, 0x${formatPtr(a)}`;
      },
    );
  }
}
