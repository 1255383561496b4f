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
  SLAB_HWCACHE_ALIGN,
  virtToPhys,
  ZONE_NAMES,
} from '@mmsim/core';
import { createMachine, type Machine } from '@mmsim/numa';
import { createBuddyAllocator, createPageAllocatorEnv } from '@mmsim/page-alloc';
import { createSlabEnv, createSlub } from '@mmsim/slab';
import { buddyinfo, zoneTable } from './render.js';

export interface TourOptions {
  machine: string;
  cpus?: number;
  memory?: string;
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

  section('8. Small objects: the SLUB slab allocator');
  const slub = createSlub(createSlabEnv(env, buddy));
  note(slub.bootMessage());
  note('kmalloc() rounds a request up to a size class and takes it from that kmalloc cache:');
  for (const size of [1, 24, 100, 200, 3000, 10000]) {
    const p = slub.kmalloc(size, GFP_KERNEL);
    const cache = slub.virt_to_cache(p);
    note(
      `kmalloc(${String(size).padStart(5)}) = ${formatPtr(p)} ` +
        `from ${cache ? cache.name : 'the page allocator (an order-2 compound page)'}, ksize ${slub.ksize(p)}`,
    );
    slub.kfree(p);
  }
  const inode = slub.kmem_cache_create('my_inode', 600, 0, SLAB_HWCACHE_ALIGN, null)!;
  const objs = Array.from({ length: 20 }, () => slub.kmem_cache_alloc(inode, GFP_KERNEL));
  const info = slub.cacheInfo(inode);
  note(
    `kmem_cache_create("my_inode", 600, HWCACHE_ALIGN): ${info.objsize}-byte slots, ` +
      `${info.objects_per_slab} per slab of ${1 << info.cache_order} pages (calculate_order()).`,
  );
  note(
    `After 20 allocations /proc/slabinfo would say: active_objs ${info.active_objs}, num_objs ${info.num_objs}, slabs ${info.num_slabs}.`,
  );
  for (const o of objs) slub.kmem_cache_free(inode, o);
  slub.kmem_cache_destroy(inode);
  note(
    `kmem_cache_shrink() of every cache gives ${slub.shrinkAll()} empty slab pages back to the buddy allocator.`,
  );

  section('9. slab_debug=FZPU catches a buffer overrun');
  const dslub = createSlub(createSlabEnv(env, buddy), { slabDebug: 'FZPU' });
  const buf = dslub.kmalloc(60, GFP_KERNEL, -1, 'tour_driver_init');
  note('kmalloc(60) from kmalloc-64, then one byte written at offset 64 (past the object):');
  env.memory.write8(virtToPhys(buf) + 64, 0x41);
  const dseq = env.klog.nextSeq;
  dslub.kfree(buf, 'tour_driver_exit');
  for (const r of env.klog.records(dseq).slice(0, 11)) out(`   ${r.text}`);
  out('   ...');
  for (const r of env.klog.records(dseq).filter((x) => x.text.startsWith('FIX')))
    out(`   ${r.text}`);
  note('The red zone is restored and the object is left allocated: the cache stays usable.');
  dslub.kfree(buf);
  out('');
}
