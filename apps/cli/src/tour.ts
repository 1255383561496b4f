/**
 * `mmsim tour` — the narrated demo. Each step does something to a booted machine and shows
 * its effect in the kernel's own formats. Later parts of mmsim (slab, MMU, kapi) extend it.
 */
import {
  __GFP_NOWARN,
  __GFP_THISNODE,
  __GFP_ZERO,
  formatGfp,
  formatPtr,
  formatSize,
  GFP_ATOMIC,
  GFP_DMA,
  GFP_KERNEL,
  PAGE_SIZE,
  SLAB_CONSISTENCY_CHECKS,
  SLAB_HWCACHE_ALIGN,
  SLAB_POISON,
  SLAB_RED_ZONE,
  SLAB_STORE_USER,
  ZONE_NAMES,
} from '@mmsim/core';
import {
  type BootConfig,
  boot,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
} from '@mmsim/kapi';
import { explain, formatExplanation } from '@mmsim/mmu';
import { createMachine, type Machine } from '@mmsim/numa';
import { createBuddyAllocator, createPageAllocatorEnv } from '@mmsim/page-alloc';
import { attachProcfs, slabtop } from '@mmsim/procfs';
import { buddyinfo, zoneTable } from './render.js';

export interface TourOptions {
  machine: string;
  cpus?: number;
  memory?: string;
}

/** The same machine as the tour's, for boot(). */
function kernelConfig(options: TourOptions): BootConfig {
  const c: BootConfig = { machine: options.machine as 'server' };
  if (options.cpus !== undefined) c.cpus = options.cpus;
  if (options.memory !== undefined) c.memory = options.memory;
  return c;
}

export function runTour(out: (line: string) => void, options: TourOptions): void {
  const overrides: { cpus?: number; memory?: string } = {};
  if (options.cpus !== undefined) overrides.cpus = options.cpus;
  if (options.memory !== undefined) overrides.memory = options.memory;
  const machine: Machine = createMachine(options.machine as 'server', overrides);
  const env = createPageAllocatorEnv(machine);
  const buddy = createBuddyAllocator(env);
  const section = (title: string): void => {
    out('');
    out(`== ${title} ${'='.repeat(Math.max(0, 72 - title.length))}`);
  };
  const note = (text: string): void => out(`   ${text}`);

  section(`1. A machine: ${machine.name}`);
  const memoryBytes = machine.nodes.reduce((sum, n) => sum + n.memoryBytes, 0);
  note(
    `${machine.nrNodes} NUMA node(s), ${machine.nrCpus} CPU(s), ${formatSize(memoryBytes)} of memory ` +
      `(${machine.totalPages} pages of ${PAGE_SIZE} bytes are RAM; firmware keeps the rest).`,
  );
  note('Linux prints its memory layout at boot; ours, from the same rules (x86-64 zones):');
  for (const l of machine.describe()) out(`   ${l}`);
  out('');
  note('Distances between nodes (numactl --hardware, ACPI SLIT): local 10, remote larger.');
  for (let i = 0; i < machine.nrNodes; i++) {
    note(`node ${i}: ${machine.distances[i]!.map((d) => String(d).padStart(3)).join(' ')}`);
  }

  section('2. Zones and watermarks');
  note('Each node splits its memory into zones; each zone keeps watermarks (in pages) that');
  note(`decide when allocations must reclaim. min_free_kbytes = ${buddy.minFreeKbytes} kB.`);
  note('"protection" is lowmem_reserve: pages a zone keeps back from requests that could');
  note('have used a higher zone.');
  for (const l of zoneTable(machine, buddy)) out(`   ${l}`);

  section('3. The buddy allocator: free blocks per order (/proc/buddyinfo)');
  note('Boot hands all free memory to the buddy allocator in the largest aligned blocks');
  note('(order 10 = 4 MiB). Columns are orders 0..10, values are free blocks:');
  for (const l of buddyinfo(machine, buddy)) out(`   ${l}`);

  section('4. An allocation splits a block');
  const before = buddyinfo(machine, buddy);
  const pfn = buddy.allocPages(GFP_KERNEL | __GFP_ZERO, 4 /* 64 KiB: above the pcp orders */);
  const page = env.memMap.describe(pfn);
  note(`alloc_pages(${formatGfp(GFP_KERNEL | __GFP_ZERO)}, order 4) = pfn 0x${pfn.toString(16)}`);
  note(
    `  node ${page.node}, zone ${page.zone}, refcount ${page.refcount}, pageblock ${page.migratetype}`,
  );
  note('An order-10 block was split: halves of order 9, 8, 7, 6, 5 and 4 went back on the lists.');
  const after = buddyinfo(machine, buddy);
  for (let i = 0; i < after.length; i++) {
    if (after[i] !== before[i]) {
      out(`   before: ${before[i]}`);
      out(`   after:  ${after[i]}`);
    }
  }
  buddy.freePages(pfn, 4);
  note(`__free_pages(pfn 0x${pfn.toString(16)}, 4): the block merges with its buddies again:`);
  const merged = buddyinfo(machine, buddy);
  for (let i = 0; i < merged.length; i++)
    if (merged[i] !== after[i]) out(`   now:    ${merged[i]}`);

  section('5. Small allocations go through per-CPU lists (pcp)');
  const p0 = buddy.allocPages(GFP_KERNEL, 0);
  const ps = buddy.pageset(env.memMap.node[p0]!, env.memMap.zone[p0]!, env.ctx.cpu);
  note(
    `alloc_pages(GFP_KERNEL, 0) = pfn 0x${p0.toString(16)}. The first order-0 request filled CPU ${env.ctx.cpu}'s`,
  );
  note(
    `list with a batch from the zone; ${ps.count} pages now wait there (batch ${ps.batch}, high ${ps.high}).`,
  );
  const p1 = buddy.allocPages(GFP_KERNEL, 0);
  note(
    `The next one, pfn 0x${p1.toString(16)}, came straight off that list without touching the zone.`,
  );
  buddy.freePages(p1, 0);
  buddy.freePages(p0, 0);

  section('6. Zones by GFP flag, and NUMA placement');
  const dma = buddy.allocPages(GFP_DMA | GFP_KERNEL, 0);
  note(
    `GFP_KERNEL|GFP_DMA → pfn 0x${dma.toString(16)} in zone ${ZONE_NAMES[env.memMap.zone[dma]!]} (below 16 MiB).`,
  );
  const atomic = buddy.allocPages(GFP_ATOMIC, 0);
  note(
    `GFP_ATOMIC → pfn 0x${atomic.toString(16)} in zone ${ZONE_NAMES[env.memMap.zone[atomic]!]}: may not sleep, may dip below min.`,
  );
  buddy.freePages(dma, 0);
  buddy.freePages(atomic, 0);
  if (machine.nrNodes > 1) {
    const remote = buddy.allocPages(GFP_KERNEL | __GFP_THISNODE, 2, 1);
    note(
      `alloc_pages_node(1, GFP_KERNEL|__GFP_THISNODE, 2) → pfn 0x${remote.toString(16)} on node ${env.memMap.node[remote]}.`,
    );
    buddy.freePages(remote, 2);
    const n1 = env.numaStat.nodeCounters(1);
    note(
      `numastat node1: numa_hit ${n1.numa_hit}, local_node ${n1.local_node}, other_node ${n1.other_node}`,
    );
    note('(the CPU ran on node 0, so the page counts as other_node on node 1).');
  }

  section('7. When memory runs out');
  note('Ask the DMA zone (16 MiB) for 4 MiB blocks until it fails; the kernel log shows');
  note("Linux's warn_alloc report:");
  const seq = env.klog.nextSeq;
  const held: number[] = [];
  for (;;) {
    const b = buddy.allocPages(GFP_KERNEL | GFP_DMA, 10);
    if (b < 0) break;
    held.push(b);
  }
  note(`got ${held.length} blocks, then:`);
  for (const r of env.klog.records(seq).slice(0, 4)) out(`   ${r.text}`);
  out('   ...');
  const quiet = buddy.allocPages(GFP_KERNEL | GFP_DMA | __GFP_NOWARN, 10);
  note(`With __GFP_NOWARN the same failure (${quiet}) logs nothing.`);
  for (const b of held) buddy.freePages(b, 10);
  const problems = buddy.verify();
  note(
    `All blocks freed; the allocator checks its lists: ${problems.length === 0 ? 'consistent' : problems.join('; ')}.`,
  );

  section('8. Boot a kernel: the direct map, per-CPU MMUs, SLUB');
  const k = attachProcfs(boot(kernelConfig(options)));
  note(
    `boot(): ${k.machine.nrCpus} CPU(s) with a TLB hierarchy each; the direct map of all RAM at ` +
      `0xffff888000000000 in 1 GiB/2 MiB/4 KiB pages took ${k.pageTablePages} page-table pages.`,
  );
  note((k.slab as { bootMessage?: () => string }).bootMessage?.() ?? k.slab.name);
  note('kmalloc() rounds a request up to a size class and takes it from that kmalloc cache:');
  for (const size of [1, 24, 100, 200, 3000, 10000]) {
    const p = k.kmalloc(size, GFP_KERNEL);
    const cache = k.slab.virt_to_cache(p);
    note(
      `kmalloc(${String(size).padStart(5)}) = ${formatPtr(p)} ` +
        `from ${cache ? cache.name : 'the page allocator (an order-2 compound page)'}, ksize ${k.ksize(p)}`,
    );
    k.kfree(p);
  }
  const dirty = k.kmalloc(64, GFP_KERNEL);
  k.mem.memset(dirty, 0xaa, 64);
  k.kfree(dirty);
  const zeroed = k.kzalloc(64, GFP_KERNEL);
  note(
    `kmalloc(64) filled with 0xaa and freed; kzalloc(64) = ${formatPtr(zeroed)} ` +
      `(${zeroed === dirty ? 'the same slot, LIFO' : 'another slot'}) reads ` +
      `${Array.from(k.mem.readBytes(zeroed, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')} …: ` +
      'kzalloc is kmalloc with __GFP_ZERO; kmalloc leaves the old bytes.',
  );
  k.kfree(zeroed);
  const inode = k.kmem_cache_create('my_inode', 600, 0, SLAB_HWCACHE_ALIGN, null)!;
  const objs = Array.from({ length: 20 }, () => k.kmem_cache_alloc(inode, GFP_KERNEL));
  const info = k.slab.cacheInfo(inode);
  note(
    `kmem_cache_create("my_inode", 600, HWCACHE_ALIGN): ${info.objsize}-byte slots, ` +
      `${info.objects_per_slab} per slab of ${1 << info.cache_order} pages (calculate_order()).`,
  );
  note(
    `After 20 allocations /proc/slabinfo would say: active_objs ${info.active_objs}, num_objs ${info.num_objs}, slabs ${info.num_slabs}.`,
  );
  for (const o of objs) k.kmem_cache_free(inode, o);
  k.kmem_cache_destroy(inode);

  section('9. Poison and red zones catch a buffer overrun');
  const guarded = k.kmem_cache_create(
    'tour_buffers',
    60,
    0,
    SLAB_POISON | SLAB_RED_ZONE | SLAB_STORE_USER | SLAB_CONSISTENCY_CHECKS,
    null,
  )!;
  const buf = k.kmem_cache_alloc(guarded, GFP_KERNEL, 'tour_driver_init');
  note('A 60-byte object from a cache with SLAB_POISON|SLAB_RED_ZONE|SLAB_STORE_USER; the driver');
  note('writes one byte past its end (through the MMU, as the CPU would), then frees it:');
  k.mem.write8(buf + 60, 0x41);
  const dseq = k.klog.nextSeq;
  k.kmem_cache_free(guarded, buf, 'tour_driver_exit');
  for (const r of k.klog.records(dseq).slice(0, 10)) out(`   ${r.text}`);
  out('   ...');
  for (const r of k.klog.records(dseq).filter((x) => x.text.startsWith('FIX'))) out(`   ${r.text}`);
  note('The red zone is restored and the object is left allocated: the cache stays usable.');
  k.kmem_cache_free(guarded, buf);

  section('10. GFP_ATOMIC in an interrupt, and a GFP_KERNEL mistake');
  const aseq = k.klog.nextSeq;
  const ok = k.inIrq(() => k.kmalloc(256, GFP_ATOMIC));
  note(
    `In an interrupt handler kmalloc(256, GFP_ATOMIC) = ${formatPtr(ok)}: no report (it may not sleep, and does not).`,
  );
  k.kfree(ok);
  note('The same call with GFP_KERNEL, which may sleep to reclaim memory:');
  const bad = k.inIrq(() => k.kmalloc(256, GFP_KERNEL));
  for (const r of k.klog.records(aseq).slice(0, 4)) out(`   ${r.text}`);
  out('   ...');
  k.kfree(bad);

  section('11. vmalloc: pages mapped into the vmalloc area, and the walk');
  const v = k.vmalloc(16 * PAGE_SIZE, 'tour_module_load');
  note(`vmalloc(16 * PAGE_SIZE) = ${formatPtr(v)}; /proc/vmallocinfo:`);
  for (const l of k.stats().vmallocinfo) out(`   ${l}`);
  note("The MMU walks init_mm's page tables in memory for the 6th page:");
  for (const l of formatExplanation(explain(k.mmu, v + 5 * PAGE_SIZE + 0x10)).split('\n'))
    out(`   ${l}`);
  note('One byte past the end is the guard page. Touching it is an Oops:');
  const gseq = k.klog.nextSeq;
  try {
    k.mem.read8(v + 16 * PAGE_SIZE);
  } catch {
    // KernelOops: the report is in the log.
  }
  for (const r of k.klog.records(gseq).slice(0, 4)) out(`   ${r.text}`);
  k.vfree(v);

  section('12. The TLB: translations cached per CPU');
  const buf2 = k.vzalloc(64 * PAGE_SIZE, 'tour_tlb_demo');
  const mmu = k.mmu;
  mmu.resetStats();
  const h = mmu.tlb as unknown as {
    levelStats?: () => Record<string, { hits: number; misses: number } | null>;
  };
  const start = h.levelStats?.() ?? {};
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < 64; i++) k.mem.read8(buf2 + i * PAGE_SIZE);
  }
  note("Two passes over 64 vmalloc pages (one read per page) through CPU 0's MMU:");
  note(`page walks: ${mmu.stats.walks} (the first pass misses every page; the second hits a TLB)`);
  const end = h.levelStats?.() ?? {};
  const names: Record<string, string> = { l1d: 'L1 dTLB', l2: 'L2 STLB' };
  for (const [level, name] of Object.entries(names)) {
    const a = end[level];
    const b = start[level];
    if (!a || !b) continue;
    note(`${name}: hits ${a.hits - b.hits}, misses ${a.misses - b.misses}`);
  }
  k.vfree(buf2);
  note(
    "vfree() clears the PTEs and flushes every CPU's TLB for the range (flush_tlb_kernel_range).",
  );

  section('13. A process: demand paging, page faults and copy-on-write');
  const proc = k.createProcess('tour');
  const text = proc.mmap(0, PAGE_SIZE, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, 'text');
  const heap = proc.mmap(0, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  note(
    `createProcess('tour') = pid ${proc.pid}; mmap(16 pages, PROT_READ|PROT_WRITE) = ${formatPtr(heap)}.`,
  );
  note(`/proc/${proc.pid}/maps (no page behind any of it yet: RSS ${proc.mm!.rss}):`);
  for (const l of k.readProc(`/proc/${proc.pid}/maps`).trimEnd().split('\n')) out(`   ${l}`);
  const faults0 = k.userspace.pgfault;
  proc.mem.read8(heap + 3 * PAGE_SIZE);
  note(
    `A read of page 3 faults (do_anonymous_page()) and maps the shared zero page read-only: ` +
      `faults ${k.userspace.pgfault - faults0}, RSS ${proc.mm!.rss}.`,
  );
  proc.mem.write32(heap + 3 * PAGE_SIZE, 0xc0ffee);
  note(
    `A write to it faults again (do_wp_page()): now a zeroed page of its own, writable: ` +
      `faults ${k.userspace.pgfault - faults0}, RSS ${proc.mm!.rss}. The walk of the process's tables:`,
  );
  for (const l of formatExplanation(explain(k.mmu, heap + 3 * PAGE_SIZE)).split('\n'))
    out(`   ${l}`);
  const child = k.fork(proc);
  note(
    `fork() = pid ${child.pid}: the child shares the page, both PTEs read-only (copy-on-write).`,
  );
  const shared = proc.mm!.pgd.query(heap + 3 * PAGE_SIZE)!.pa;
  child.mem.write32(heap + 3 * PAGE_SIZE, 1);
  note(
    `The child writes: it gets a copy (page 0x${child.mm!.pgd.query(heap + 3 * PAGE_SIZE)!.pa.toString(16)} ` +
      `instead of 0x${shared.toString(16)}); the parent still reads 0x${proc.mem.read32(heap + 3 * PAGE_SIZE).toString(16)}.`,
  );
  proc.mem.write32(heap + 3 * PAGE_SIZE, 2);
  note(
    `The parent writes: the page is its alone again, so it is reused, not copied (pgreuse ${k.userspace.pgreuse}).`,
  );
  child.exit();
  // A NULL pointer write: mov BYTE PTR [rax], 0x1 with rax = 0, at text + 0x40.
  k.userspace.switchTo(proc);
  proc.mprotect(text, PAGE_SIZE, PROT_READ | PROT_WRITE);
  proc.mem.writeBytes(text + 0x40, [0xc6, 0x00, 0x01, 0xc3]);
  proc.mprotect(text, PAGE_SIZE, PROT_READ | PROT_EXEC);
  proc.regs.ip = text + 0x40;
  note('Then the program writes through a NULL pointer. No VMA covers address 0: SIGSEGV.');
  const sseq = k.klog.nextSeq;
  try {
    proc.mem.write8(0, 1);
  } catch {
    // Segfault: the report is in the log and the process is gone.
  }
  for (const r of k.klog.records(sseq)) out(`   ${r.text}`);
  note(`The process is gone and every page came back (AnonPages: ${k.stats().anonPagesKb} kB).`);

  section('14. What it all cost (/proc/meminfo)');
  const st = k.stats();
  for (const [name, kb] of [
    ['MemTotal', st.memTotalKb],
    ['MemFree', st.memFreeKb],
    ['Slab', st.slabKb],
    ['PageTables', st.pageTablesKb],
    ['VmallocUsed', st.vmallocUsedKb],
  ] as const) {
    out(`   ${`${name}:`.padEnd(16)}${String(kb).padStart(8)} kB`);
  }

  section('15. slabtop: the caches by size');
  note('procps slabtop -o -s c (the caches that hold the most memory first), top rows:');
  for (const l of slabtop(k, { sort: 'c', rows: 8 }).split('\n')) out(`   ${l}`);
  const problems2 = [...k.slab.verify(), ...k.pages.verify()];
  note(
    `The allocators check their structures: ${problems2.length === 0 ? 'consistent' : problems2.join('; ')}.`,
  );
  out('');
}
