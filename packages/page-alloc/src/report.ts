/**
 * The page allocator's kernel-log reports, worded as Linux words them:
 * warn_alloc() and show_mem() (mm/page_alloc.c, mm/show_mem.c), bad_page() and
 * VM_BUG_ON_PAGE() (mm/page_alloc.c, include/linux/mmdebug.h, mm/debug.c dump_page()).
 */
import {
  __GFP_NOWARN,
  assertGfp,
  formatGfpMode,
  GFP_ZONE_BUG_LOCATION,
  type Gfp,
  HZ,
  KERN_ALERT,
  KERN_WARNING,
  MAX_NR_ZONES,
  MAX_PAGE_ORDER,
  MIGRATE_TYPES,
  MIGRATETYPE_LETTERS,
  NO_PAGE,
  NR_PAGE_ORDERS,
  NUMA_NO_NODE,
  type Pfn,
  PG_reserved,
  PGTY_NONE,
} from '@mmsim/core';
import type { NodeMemStats, PageAllocatorEnv, ZoneReporting } from './api.js';

const K = (pages: number): number => pages * 4;

/**
 * A ratelimit state (lib/ratelimit.c ___ratelimit()): at most `burst` messages per
 * `interval` jiffies; when a new interval opens after messages were dropped, the caller
 * prints "<func>: N callbacks suppressed" first.
 */
export class Ratelimit {
  /** Start of the current interval; -1 before the first message (Linux: begin == 0). */
  private begin = -1;
  private printed = 0;
  /** Messages suppressed in the current interval. */
  missed = 0;
  constructor(
    readonly intervalJiffies: number,
    readonly burst: number,
  ) {}
  /**
   * May a message be printed at `jiffies`? Returns -1 when not, else the number of messages
   * suppressed before it (to report), usually 0.
   */
  allow(jiffies: number): number {
    if (this.begin < 0) this.begin = jiffies;
    let suppressed = 0;
    if (this.begin + this.intervalJiffies < jiffies) {
      suppressed = this.missed;
      this.missed = 0;
      this.begin = jiffies;
      this.printed = 0;
    }
    if (this.burst > this.printed) {
      this.printed++;
      return suppressed;
    }
    this.missed++;
    return -1;
  }
}

/** Shared report state of one allocator (ratelimits live per allocator, as statics do per kernel). */
export class AllocReports {
  /** mm/page_alloc.c: static DEFINE_RATELIMIT_STATE(nopage_rs, 10*HZ, 1). */
  readonly nopage = new Ratelimit(10 * HZ, 1);
  /** mm/page_alloc.c bad_page(): a burst of 60, then quiet for the rest of the minute. */
  private badShown = 0;
  private badResume = 0;
  private badUnshown = 0;

  constructor(
    private readonly env: PageAllocatorEnv,
    private readonly zones: ZoneReporting,
  ) {}

  /**
   * warn_alloc(gfp, nodemask, "page allocation failure: order:%u", order). Returns whether
   * it printed (it does not with __GFP_NOWARN or when ratelimited).
   */
  warnAlloc(gfp: Gfp, order: number, nodemask: string | null, nowarn: boolean): boolean {
    const { ctx, klog, machine } = this.env;
    if (nowarn) return false;
    const suppressed = this.nopage.allow(klog.clock.jiffies());
    if (suppressed < 0) return false;
    if (suppressed > 0) klog.warn(`warn_alloc: ${suppressed} callbacks suppressed`);
    const mems = nodeList(machine.nodes.map((n) => n.nid));
    klog.warn(
      `${ctx.task.comm}: page allocation failure: order:${order}, mode:${formatGfpMode(gfp)}, ` +
        `nodemask=${nodemask ?? '(null)'},cpuset=/,mems_allowed=${mems}`,
    );
    ctx.dumpStack([
      'dump_stack_lvl',
      'warn_alloc',
      '__alloc_pages_slowpath.constprop.0',
      '__alloc_pages_noprof',
      'alloc_pages_mpol_noprof',
    ]);
    this.showMem(MAX_NR_ZONES - 1);
    return true;
  }

  /** mm/show_mem.c __show_mem(): the Mem-Info block. */
  showMem(maxZoneIdx: number): void {
    const { klog, machine } = this.env;
    const populated = machine.zones.filter((z) => z.presentPages > 0 && z.type <= maxZoneIdx);
    const snaps = populated.map((z) => this.zones.zoneSnapshot(z.nid, z.type));
    const free = snaps.reduce((s, z) => s + z.free, 0);
    const freePcp = snaps.reduce((s, z) => s + z.freePcp, 0);
    const above = this.env.nodeMemStats?.();
    const nodeStats = machine.nodes.map(
      (n) =>
        above?.[n.nid] ?? {
          inactiveAnon: 0,
          slabReclaimable: 0,
          slabUnreclaimable: 0,
          pageTables: 0,
        },
    );
    const total = (key: keyof NodeMemStats) => nodeStats.reduce((s, n) => s + n[key], 0);
    const lines: string[] = [
      'Mem-Info:',
      `active_anon:0 inactive_anon:${total('inactiveAnon')} isolated_anon:0`,
      ' active_file:0 inactive_file:0 isolated_file:0',
      ' unevictable:0 dirty:0 writeback:0',
      ` slab_reclaimable:${total('slabReclaimable')} slab_unreclaimable:${total('slabUnreclaimable')}`,
      ` mapped:0 shmem:0 pagetables:${total('pageTables')}`,
      ' sec_pagetables:0 bounce:0',
      ' kernel_misc_reclaimable:0',
      ` free:${free} free_pcp:${freePcp} free_cma:0`,
    ];
    for (const node of machine.nodes) {
      if (!populated.some((z) => z.nid === node.nid)) continue;
      const ns = nodeStats[node.nid]!;
      lines.push(
        `Node ${node.nid} active_anon:0kB inactive_anon:${K(ns.inactiveAnon)}kB active_file:0kB inactive_file:0kB ` +
          'unevictable:0kB isolated(anon):0kB isolated(file):0kB mapped:0kB dirty:0kB ' +
          'writeback:0kB shmem:0kB shmem_thp:0kB shmem_pmdmapped:0kB anon_thp:0kB ' +
          `writeback_tmp:0kB kernel_stack:0kB pagetables:${K(ns.pageTables)}kB sec_pagetables:0kB ` +
          'all_unreclaimable? no',
      );
    }
    for (const z of snaps) {
      lines.push(
        `Node ${z.nid} ${z.name} free:${K(z.free)}kB boost:${K(z.boost)}kB min:${K(z.min)}kB ` +
          `low:${K(z.low)}kB high:${K(z.high)}kB reserved_highatomic:${K(z.nrReservedHighatomic)}KB ` +
          'active_anon:0kB inactive_anon:0kB active_file:0kB inactive_file:0kB unevictable:0kB ' +
          `writepending:0kB present:${K(z.present)}kB managed:${K(z.managed)}kB mlocked:0kB ` +
          `bounce:0kB free_pcp:${K(z.freePcp)}kB local_pcp:${K(z.localPcp)}kB free_cma:0kB`,
      );
      lines.push(`lowmem_reserve[]: ${z.lowmemReserve.join(' ')}`);
    }
    for (const z of snaps) {
      let text = `Node ${z.nid} ${z.name}: `;
      let total = 0;
      for (let order = 0; order < NR_PAGE_ORDERS; order++) {
        const nr = z.nrFree[order] ?? 0;
        total += nr * 2 ** order;
        text += `${nr}*${4 * 2 ** order}kB `;
        if (nr) {
          let types = '';
          for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
            if ((z.nrFreeByType[mt]?.[order] ?? 0) > 0) types += MIGRATETYPE_LETTERS[mt];
          }
          text += `(${types}) `;
        }
      }
      lines.push(`${text}= ${K(total)}kB`);
    }
    lines.push('0 total pagecache pages');
    lines.push('0 pages in swap cache', 'Free swap  = 0kB', 'Total swap = 0kB');
    const present = populated.reduce((s, z) => s + z.presentPages, 0);
    const managed = snaps.reduce((s, z) => s + z.managed, 0);
    lines.push(
      `${present} pages RAM`,
      '0 pages HighMem/MovableOnly',
      `${present - managed} pages reserved`,
    );
    for (const l of lines) klog.printk(KERN_WARNING, l);
  }

  /** mm/page_alloc.c bad_page(): "BUG: Bad page state", not fatal; taints the kernel (B). */
  badPage(pfn: Pfn, reason: string, refcount?: number): void {
    const { klog, ctx, memMap } = this.env;
    const now = klog.clock.jiffies();
    if (this.badShown === 60) {
      if (now < this.badResume) {
        this.badUnshown++;
        return;
      }
      if (this.badUnshown) {
        klog.printk(KERN_ALERT, `BUG: Bad page state: ${this.badUnshown} messages suppressed`);
        this.badUnshown = 0;
      }
      this.badShown = 0;
    }
    if (this.badShown++ === 0) this.badResume = now + 60 * HZ;
    klog.printk(
      KERN_ALERT,
      `BUG: Bad page state in process ${ctx.task.comm}  pfn:${pfn.toString(16).padStart(5, '0')}`,
    );
    for (const l of memMap.dumpPage(pfn, reason, refcount)) klog.printk(KERN_WARNING, l);
    klog.printk(KERN_WARNING, 'Modules linked in:');
    ctx.addTaint('B');
    ctx.dumpStack(['dump_stack_lvl', 'bad_page', 'free_unref_page', '__free_pages']);
  }

  /**
   * VM_BUG_ON_PAGE(cond, page): dump_page(page, "VM_BUG_ON_PAGE(cond)") then BUG() — a
   * CONFIG_DEBUG_VM kernel dies here; we log the same and throw KernelOops. The caller must
   * not have changed any state.
   */
  vmBugOnPage(pfn: Pfn, cond: string, location: string): never {
    const { klog, ctx, memMap } = this.env;
    for (const l of memMap.dumpPage(pfn, `VM_BUG_ON_PAGE(${cond})`)) klog.printk(KERN_WARNING, l);
    throw ctx.bug(location, ['__free_pages_noprof', 'free_pages']);
  }

  /**
   * An allocation request that isOrdinaryRequest() refused: JS misuse is a RangeError or
   * TypeError; order > MAX_PAGE_ORDER is WARN_ON_ONCE_GFP() and NO_PAGE; two zone modifiers
   * are gfp_zone()'s VM_BUG_ON (a KernelOops).
   */
  rejectAlloc(gfp: Gfp, order: number, nid: number): Pfn {
    const { ctx, machine } = this.env;
    if (order >>> 0 !== order) {
      throw new RangeError(`alloc_pages: order ${order} is not a whole number >= 0`);
    }
    assertGfp(gfp);
    if (nid !== NUMA_NO_NODE && !(nid >= 0 && nid < machine.nrNodes && (nid | 0) === nid)) {
      throw new RangeError(
        `alloc_pages_node: node ${nid} does not exist (nodes 0..${machine.nrNodes - 1}, or NUMA_NO_NODE -1)`,
      );
    }
    if (order > MAX_PAGE_ORDER) {
      if (!(gfp & __GFP_NOWARN)) {
        this.warnOnce(
          'page_alloc:order>MAX_PAGE_ORDER',
          'mm/page_alloc.c:4832 __alloc_pages_noprof',
        );
      }
      return NO_PAGE;
    }
    throw ctx.bug(GFP_ZONE_BUG_LOCATION, ['__alloc_pages_noprof', 'alloc_pages_mpol_noprof']);
  }

  /**
   * The checks of __free_pages()/free_pages_prepare() for a free that isOrdinaryFree()
   * refused. Returns true when the allocator should go on (the page had more than one
   * reference, or is free to free); false when the free is refused (reported as bad_page).
   * A double free or wrong order throws KernelOops (VM_BUG_ON_PAGE) — nothing has changed.
   * Linux makes the bad_page() checks after put_page_testzero() dropped the last reference,
   * so the dump shows refcount:0; the simulator leaves the reference in place (the page stays
   * its owner's, nothing is lost) and prints what Linux prints.
   */
  checkFree(pfn: Pfn, order: number): boolean {
    const mm = this.env.memMap;
    if (order >>> 0 !== order || order > MAX_PAGE_ORDER) {
      throw new RangeError(`__free_pages: order ${order} is not in 0..${MAX_PAGE_ORDER}`);
    }
    mm.checkPfn(pfn);
    if (mm.flags[pfn]! & (1 << PG_reserved)) {
      // free_pages_prepare() → bad_page(): reserved pages are never given to the allocator.
      this.badPage(pfn, 'PAGE_FLAGS_CHECK_AT_FREE flag(s) set', Math.max(0, mm.refcount[pfn]! - 1));
      return false;
    }
    if (mm.refcount[pfn]! <= 0) {
      // put_page_testzero(): VM_BUG_ON_PAGE(page_ref_count(page) == 0, page) — a double
      // free, a tail page, or a page that was never allocated.
      this.vmBugOnPage(pfn, 'page_ref_count(page) == 0', 'include/linux/mm.h:1140');
    }
    if (mm.refcount[pfn]! <= 1 && (mm.pageType[pfn] !== PGTY_NONE || mm.mapcount[pfn]! > 0)) {
      // The last reference goes while the page is still a slab/page-table page, or mapped:
      // page_expected_state() fails. (Dropping one of several references is put_page(),
      // which checks nothing: a page shared after fork() is mapped while its sharers let go.)
      this.badPage(pfn, 'nonzero mapcount', Math.max(0, mm.refcount[pfn]! - 1));
      return false;
    }
    if (mm.order[pfn] !== order) {
      this.vmBugOnPage(
        pfn,
        mm.isHead(pfn)
          ? 'compound && compound_order(page) != order'
          : 'order != page order at allocation',
        'mm/page_alloc.c:1132',
      );
    }
    return true;
  }

  /** WARN_ON_ONCE(): once per call site (`key`) for the life of the kernel. */
  warnOnce(key: string, location: string, message?: string): void {
    this.env.ctx.warnOnce(key, location, message);
  }
}

/** nodemask_pr_args / %*pbl: a node list compressed to ranges, "0-1" or "0,2". */
export function nodeList(nids: readonly number[]): string {
  const sorted = [...nids].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
