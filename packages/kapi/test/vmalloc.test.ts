import {
  __GFP_NOWARN,
  ACCESS_READ,
  GFP_KERNEL,
  Kallsyms,
  KernelOops,
  PAGE_SIZE,
  PROT_EXEC,
  PROT_GLOBAL,
  PROT_READ,
  PROT_WRITE,
  pfnToVirt,
  type TableAllocator,
} from '@mmsim/core';
import { createMmu, PageTable, x86_64 } from '@mmsim/mmu';
import type { MachineSpec } from '@mmsim/numa';
import { createBuddyAllocator, createPageAllocatorEnv } from '@mmsim/page-alloc';
import { createTlb } from '@mmsim/tlb';
import { describe, expect, it } from 'vitest';
import {
  PAGE_KERNEL,
  VM_ALLOC,
  VM_MAP,
  VMALLOC_END,
  VMALLOC_START,
  Vmalloc,
  type VmallocOptions,
} from '../src/vmalloc.js';

const P = PAGE_SIZE;

/** A machine: buddy allocator, kernel page tables whose table pages come from it, an MMU. */
function machine(options: VmallocOptions = {}, spec: 'tiny' | 'laptop' | MachineSpec = 'tiny') {
  const env = createPageAllocatorEnv(spec);
  const buddy = createBuddyAllocator(env);
  const tables: TableAllocator & { fail: boolean } = {
    fail: false,
    allocTable: () => {
      if (tables.fail) return -1;
      const pfn = buddy.allocPages(GFP_KERNEL, 0);
      return pfn < 0 ? -1 : pfn * P;
    },
    freeTable: (pa) => buddy.freePages(pa / P, 0),
  };
  const pageTable = new PageTable(x86_64, env.memory, tables);
  const mmu = createMmu({
    format: x86_64,
    memory: env.memory,
    tlb: createTlb(),
    root: pageTable.root,
  });
  const flushes: [number, number][] = [];
  const kallsyms = new Kallsyms();
  const vm = new Vmalloc(
    {
      pageAllocator: buddy,
      memory: env.memory,
      memMap: env.memMap,
      pageTable,
      flushTlbKernelRange: (start, end) => {
        flushes.push([start, end]);
        mmu.flushRange(start, end);
      },
      klog: env.klog,
      ctx: env.ctx,
      kallsyms,
      nrNodes: env.machine.nrNodes,
      showMem: () => buddy.showMem(),
    },
    options,
  );
  const logSince = (seq: number) =>
    env.klog
      .records()
      .filter((r) => r.seq >= seq)
      .map((r) => r.text);
  /**
   * Free pages plus page-table pages: what must come back after a vfree(). The kernel keeps
   * the tables it built for vmalloc space (vunmap clears PTEs only), as Linux does.
   */
  const accounted = () => buddy.nrFreePages() + pageTable.tablePages;
  return { env, buddy, tables, pageTable, mmu, flushes, kallsyms, vm, logSince, accounted };
}

describe('address layout', () => {
  it('puts the first area at VMALLOC_START and the next after a one-page guard', () => {
    const { vm } = machine();
    const a = vm.vmalloc(3 * P, 'my_init');
    const b = vm.vmalloc(3 * P, 'my_init');
    expect(a).toBe(VMALLOC_START);
    expect(a).toBe(0xc900_0000_0000);
    expect(b).toBe(VMALLOC_START + 0x4000); // 0xffffc90000004000
    expect(vm.find_vm_area(a)).toMatchObject({
      addr: a,
      size: 4 * P,
      nr_pages: 3,
      flags: VM_ALLOC,
    });
    expect(vm.is_vmalloc_addr(a)).toBe(true);
    expect(vm.is_vmalloc_addr(pfnToVirt(100))).toBe(false);
    expect(vm.is_vmalloc_addr(VMALLOC_END)).toBe(false);
  });

  it('rounds sizes up to whole pages', () => {
    const { vm } = machine();
    const a = vm.vmalloc(5000);
    expect(vm.find_vm_area(a)).toMatchObject({ size: 3 * P, nr_pages: 2 });
    expect(vm.vmalloc(1)).toBe(a + 3 * P);
  });

  it('prints /proc/vmallocinfo lines exactly, sizes with the guard page, in address order', () => {
    const { vm, kallsyms } = machine();
    vm.vmalloc(3 * P, 'my_driver_init');
    vm.vzalloc(4 * P, kallsyms.intern('kernel_clone', 0x3e0) + 0x94);
    vm.vmalloc(P);
    expect(vm.vmallocinfo()).toEqual([
      '0xffffc90000000000-0xffffc90000004000   16384 my_driver_init+0x0/0x100 pages=3 vmalloc N0=3',
      '0xffffc90000004000-0xffffc90000009000   20480 kernel_clone+0x94/0x3e0 pages=4 vmalloc N0=4',
      '0xffffc90000009000-0xffffc9000000b000    8192 vmalloc+0x0/0x100 pages=1 vmalloc N0=1',
    ]);
  });

  it('counts pages per node (N0=, N1=) and takes them from the node asked for', () => {
    const two: MachineSpec = {
      name: 'two',
      nodes: [
        { memory: '32M', cpus: 1 },
        { memory: '32M', cpus: 1 },
      ],
    };
    const { vm, env } = machine({}, two);
    const a = vm.vmalloc_node(3 * P, 1, 'numa_user');
    expect(vm.find_vm_area(a)!.pages.every((pfn) => env.memMap.node[pfn] === 1)).toBe(true);
    expect(vm.vmallocinfo()[0]).toBe(
      '0xffffc90000000000-0xffffc90000004000   16384 numa_user+0x0/0x100 pages=3 vmalloc N1=3',
    );
    expect(() => vm.vmalloc_node(P, 2)).toThrow(RangeError);
  });
});

describe('pages and page tables', () => {
  it('maps every page at 4 KiB, present, writable, global and NX; the guard page stays unmapped', () => {
    const { vm, pageTable } = machine();
    const a = vm.vmalloc(3 * P);
    const { pages } = vm.find_vm_area(a)!;
    for (let i = 0; i < 3; i++) {
      const q = pageTable.query(a + i * P + 0x123)!;
      expect(q.pa).toBe(pages[i]! * P + 0x123);
      expect(q.pageShift).toBe(12);
      expect(q.prot & (PROT_READ | PROT_WRITE | PROT_GLOBAL)).toBe(
        PROT_READ | PROT_WRITE | PROT_GLOBAL,
      );
      expect(q.prot & PROT_EXEC).toBe(0);
      expect(vm.vmalloc_to_pfn(a + i * P + 5)).toBe(pages[i]);
    }
    expect(pageTable.query(a + 3 * P)).toBeNull(); // the guard page
    expect(vm.vmalloc_to_pfn(a + 3 * P)).toBe(-1);
  });

  it('makes scattered frames one contiguous range: bytes written through the MMU land in each page', () => {
    const { vm, mmu, env } = machine();
    const a = vm.vmalloc(2 * P);
    const { pages } = vm.find_vm_area(a)!;
    // Write across the page boundary through the virtual addresses.
    for (let off = P - 2; off < P + 2; off++)
      env.memory.write8(mmu.translate(a + off, 1), 0xa0 + off - (P - 2));
    expect(env.memory.readBytes(pages[0]! * P + P - 2, 2)).toEqual(new Uint8Array([0xa0, 0xa1]));
    expect(env.memory.readBytes(pages[1]! * P, 2)).toEqual(new Uint8Array([0xa2, 0xa3]));
    expect(mmu.translate(a + 2 * P, ACCESS_READ)).toBe(-1); // guard page: a fault
  });

  it('vzalloc hands out zeroed pages even where an earlier user left bytes', () => {
    const { vm, env } = machine();
    const a = vm.vmalloc(4 * P);
    const dirty = vm.find_vm_area(a)!.pages;
    for (const pfn of dirty) env.memory.fill(pfn * P, P, 0x5a);
    vm.vfree(a);
    const z = vm.vzalloc(4 * P);
    const pages = vm.find_vm_area(z)!.pages;
    expect(pages.some((pfn) => dirty.includes(pfn))).toBe(true); // the same frames came back
    for (const pfn of pages) expect(env.memory.findNot(pfn * P, P, 0)).toBe(-1);
  });

  it('vfree gives back every page; the kernel page tables stay, as Linux keeps them', () => {
    const { vm, buddy, pageTable } = machine();
    const free = buddy.nrFreePages();
    expect(pageTable.tablePages).toBe(1);
    const a = vm.vmalloc(3 * P);
    const b = vm.vmalloc(600 * P);
    // 3 + 600 pages, 2 for b's vmalloc'd page array, PDPT + PD + PT tables (2 PTs: b crosses 2 MiB).
    expect(pageTable.tablePages).toBe(5);
    expect(buddy.nrFreePages()).toBe(free - 603 - 2 - 4);
    expect(vm.nr_vmalloc_pages).toBe(605);
    expect(vm.meminfo()).toEqual({
      VmallocTotal: 34359738367,
      VmallocUsed: 605 * 4,
      VmallocChunk: 0,
    });
    vm.vfree(a);
    vm.vfree(b);
    expect(buddy.nrFreePages()).toBe(free - 4);
    expect(pageTable.tablePages).toBe(5);
    expect(pageTable.query(a)).toBeNull(); // the PTE is clear, under tables that stay
    expect(vm.nr_vmalloc_pages).toBe(0);
    expect(vm.areas()).toEqual([]);
    expect(vm.vmallocinfo()).toEqual([]);
    // The same range again needs no new table.
    expect(vm.vmalloc(3 * P)).toBe(a);
    expect(pageTable.tablePages).toBe(5);
    expect(buddy.nrFreePages()).toBe(free - 4 - 3);
  });

  it('keeps a large pages array in a vmalloc area of its own (" vpages"), holding struct page pointers', () => {
    const { vm, env } = machine();
    const a = vm.vmalloc(513 * P, 'big_table_init');
    const area = vm.find_vm_area(a)!;
    expect(area.pagesArray).toBe(a + 514 * P);
    expect(vm.vmallocinfo()).toEqual([
      '0xffffc90000000000-0xffffc90000202000 2105344 big_table_init+0x0/0x100 pages=513 vmalloc vpages N0=513',
      '0xffffc90000202000-0xffffc90000205000   12288 big_table_init+0x0/0x100 pages=2 vmalloc N0=2',
    ]);
    // 513 * 8 bytes: entry 512 is the first word of the array's second page.
    const arrayPages = vm.find_vm_area(area.pagesArray)!.pages;
    const entry = (pa: number) => env.memory.read64(pa);
    expect(entry(arrayPages[0]! * P)).toBe(0xffffea0000000000n + BigInt(area.pages[0]!) * 64n);
    expect(entry(arrayPages[1]! * P)).toBe(0xffffea0000000000n + BigInt(area.pages[512]!) * 64n);
    expect(vm.nr_vmalloc_pages).toBe(515);
    vm.vfree(a);
    expect(vm.areas()).toEqual([]);
    expect(vm.nr_vmalloc_pages).toBe(0);
  });
});

describe('reuse of the address space', () => {
  it('reuses a freed range at once (first fit, lowest address) and merges neighbours', () => {
    const { vm, flushes } = machine();
    const a = vm.vmalloc(3 * P);
    const b = vm.vmalloc(3 * P);
    const c = vm.vmalloc(3 * P);
    vm.vfree(a);
    expect(flushes).toEqual([[a, a + 4 * P]]); // eager: flushed as it is freed
    expect(vm.vmalloc(5 * P)).toBe(c + 4 * P); // does not fit a's hole
    expect(vm.vmalloc(2 * P)).toBe(a); // fits: the lowest hole first
    vm.vfree(a);
    vm.vfree(b);
    expect(vm.vmalloc(7 * P)).toBe(a); // a's and b's ranges merged: 8 pages
  });

  it('frees the whole area when given a page-aligned address inside it (find_unlink_vmap_area)', () => {
    const { vm, accounted } = machine();
    const before = accounted();
    const a = vm.vmalloc(4 * P);
    vm.vfree(a + 2 * P);
    expect(vm.find_vm_area(a)).toBeNull();
    expect(accounted()).toBe(before);
  });
});

describe('vmap', () => {
  it('maps pages the caller allocated, owns none of them, and vunmap leaves them allocated', () => {
    const { vm, buddy, env, pageTable } = machine();
    const free0 = buddy.nrFreePages();
    const pfns = [
      buddy.allocPages(GFP_KERNEL, 0),
      buddy.allocPages(GFP_KERNEL, 0),
      buddy.allocPages(GFP_KERNEL, 0),
    ];
    env.memory.write8(pfns[2]! * P + 7, 0x77);
    const a = vm.vmap(pfns, 3, PAGE_KERNEL, 'my_map');
    expect(a).toBe(VMALLOC_START);
    expect(pageTable.query(a + 2 * P + 7)!.pa).toBe(pfns[2]! * P + 7);
    expect(env.memory.read8(pageTable.query(a + 2 * P + 7)!.pa)).toBe(0x77);
    expect(vm.find_vm_area(a)).toMatchObject({
      size: 4 * P,
      flags: VM_MAP,
      nr_pages: 0,
      pages: [],
    });
    expect(vm.vmallocinfo()).toEqual([
      '0xffffc90000000000-0xffffc90000004000   16384 my_map+0x0/0x100 vmap',
    ]);
    expect(vm.nr_vmalloc_pages).toBe(0);
    const held = buddy.nrFreePages();
    vm.vunmap(a);
    expect(pageTable.query(a)).toBeNull();
    expect(buddy.nrFreePages()).toBe(held); // PTEs cleared; the pages and the tables stay
    for (const pfn of pfns) buddy.freePages(pfn, 0);
    expect(buddy.nrFreePages()).toBe(free0 - 3); // PDPT, PD, PT
  });

  it('maps read-only when asked and never executable; count 0 gives NULL', () => {
    const { vm, buddy, pageTable } = machine();
    const pfn = buddy.allocPages(GFP_KERNEL, 0);
    const a = vm.vmap([pfn], 1, PROT_READ | PROT_GLOBAL | PROT_EXEC);
    expect(pageTable.query(a)!.prot & (PROT_WRITE | PROT_EXEC)).toBe(0);
    expect(vm.vmap([pfn], 0)).toBe(0);
    expect(() => vm.vmap([pfn], 2)).toThrow(RangeError);
    expect(() => vm.vmap([1e12], 1)).toThrow(RangeError);
  });
});

describe('misuse, as Linux reports it', () => {
  it('vfree of an address that is not page aligned: both WARNs, nothing changed', () => {
    const { vm, buddy, env, logSince } = machine();
    const a = vm.vmalloc(2 * P);
    const free = buddy.nrFreePages();
    const seq = env.klog.nextSeq;
    vm.vfree(a + 8);
    const log = logSince(seq);
    expect(log).toContain('Trying to vfree() bad address (ffffc90000000008)');
    expect(log).toContain('WARNING: CPU: 0 PID: 0 at mm/vmalloc.c:3291 remove_vm_area+0x0/0x100');
    // remove_vm_area() returned NULL, so vfree() goes on to the second WARN.
    expect(log).toContain('Trying to vfree() nonexistent vm area (ffffc90000000008)');
    expect(log).toContain('WARNING: CPU: 0 PID: 0 at mm/vmalloc.c:3426 vfree+0x0/0x100');
    expect(vm.find_vm_area(a)).not.toBeNull();
    expect(buddy.nrFreePages()).toBe(free);
    expect(env.ctx.isTainted('W')).toBe(true);
  });

  it('vfree of a kmalloc (direct-map) address and a double vfree: "nonexistent vm area", nothing changed', () => {
    const { vm, buddy, env, logSince, flushes } = machine();
    const kmallocPtr = pfnToVirt(buddy.allocPages(GFP_KERNEL, 0));
    let seq = env.klog.nextSeq;
    vm.vfree(kmallocPtr);
    expect(logSince(seq)).toContain(
      `Trying to vfree() nonexistent vm area (ffff${kmallocPtr.toString(16)})`,
    );
    const a = vm.vmalloc(P);
    vm.vfree(a);
    const free = buddy.nrFreePages();
    const nFlushes = flushes.length;
    seq = env.klog.nextSeq;
    vm.vfree(a);
    expect(logSince(seq)).toEqual(
      expect.arrayContaining([
        '------------[ cut here ]------------',
        'Trying to vfree() nonexistent vm area (ffffc90000000000)',
        'WARNING: CPU: 0 PID: 0 at mm/vmalloc.c:3426 vfree+0x0/0x100',
      ]),
    );
    expect(buddy.nrFreePages()).toBe(free);
    expect(flushes.length).toBe(nFlushes);
  });

  it('vfree(NULL) does nothing; vunmap of a nonexistent area WARNs with its own words', () => {
    const { vm, env, logSince } = machine();
    let seq = env.klog.nextSeq;
    vm.vfree(0);
    vm.vunmap(0);
    expect(logSince(seq)).toEqual([]);
    seq = env.klog.nextSeq;
    vm.vunmap(VMALLOC_START);
    expect(logSince(seq)).toContain('Trying to vunmap() nonexistent vm area (ffffc90000000000)');
  });

  it('vmalloc(0) is NULL with a one-time WARN', () => {
    const { vm, env, logSince } = machine();
    let seq = env.klog.nextSeq;
    expect(vm.vmalloc(0)).toBe(0);
    expect(logSince(seq)).toContain(
      'WARNING: CPU: 0 PID: 0 at mm/vmalloc.c:3838 __vmalloc_node_range_noprof+0x0/0x100',
    );
    seq = env.klog.nextSeq;
    expect(vm.vmalloc(0)).toBe(0);
    expect(logSince(seq)).toEqual([]);
  });

  it('throws for sizes and addresses that are not numbers the kernel could get', () => {
    const { vm } = machine();
    expect(() => vm.vmalloc(-1)).toThrow(RangeError);
    expect(() => vm.vmalloc(1.5)).toThrow(RangeError);
    expect(() => vm.vfree(-4096)).toThrow(TypeError);
  });

  it('vmalloc under a spin lock: might_sleep() reports, the allocation still succeeds', () => {
    const { vm, env, logSince } = machine();
    const seq = env.klog.nextSeq;
    const a = env.ctx.runWithSpinLock(() => vm.vmalloc(P));
    expect(a).toBe(VMALLOC_START);
    // The first check a blocking vmalloc meets is the slab's might_alloc() when
    // __get_vm_area_node() kzalloc()s the vm_struct; __might_resched() then stays quiet for
    // a second, so alloc_vmap_area()'s might_sleep() (mm/vmalloc.c:2030) prints nothing.
    expect(logSince(seq)[0]).toBe(
      'BUG: sleeping function called from invalid context at include/linux/sched/mm.h:321',
    );
  });

  it('vmalloc in interrupt context is a BUG, with nothing allocated', () => {
    const { vm, env, buddy } = machine();
    const free = buddy.nrFreePages();
    expect(() => env.ctx.runInHardirq(() => vm.vmalloc(P))).toThrow(KernelOops);
    expect(env.klog.dmesg()).toContain('kernel BUG at mm/vmalloc.c:3177!');
    expect(buddy.nrFreePages()).toBe(free);
    expect(vm.areas()).toEqual([]);
    expect(vm.vmalloc(P)).toBe(VMALLOC_START); // and the next call works
  });
});

describe('vfree from interrupt context (vfree_atomic)', () => {
  it('defers the free, links the area through its own first word, and frees it from the work', () => {
    const { vm, env, buddy, pageTable, accounted } = machine();
    const before = accounted();
    const a = vm.vmalloc(2 * P);
    const b = vm.vmalloc(2 * P);
    const held = buddy.nrFreePages();
    env.ctx.runInHardirq(() => {
      vm.vfree(a);
      vm.vfree(b);
    });
    expect(buddy.nrFreePages()).toBe(held); // nothing freed yet
    expect(vm.areas().length).toBe(2);
    // llist_add(): b's first word points at a (canonical), a's is the end of the list.
    expect(env.memory.read64(pageTable.query(b)!.pa)).toBe(0xffff000000000000n + BigInt(a));
    expect(env.memory.read64(pageTable.query(a)!.pa)).toBe(0n);
    expect(vm.delayed_vfree_work()).toBe(2);
    expect(vm.areas()).toEqual([]);
    expect(accounted()).toBe(before);
  });

  it('runs the deferred frees at the next call from process context', () => {
    const { vm, env } = machine();
    const a = vm.vmalloc(P);
    env.ctx.runInSoftirq(() => vm.vfree(a));
    expect(vm.find_vm_area(a)).not.toBeNull();
    expect(vm.vmalloc(P)).toBe(a); // the work ran first, so a's range is free again
  });

  it('is a BUG in NMI context', () => {
    const { vm, env } = machine();
    const a = vm.vmalloc(P);
    expect(() => env.ctx.runInNmi(() => vm.vfree(a))).toThrow(KernelOops);
    expect(env.klog.dmesg()).toContain('kernel BUG at mm/vmalloc.c:3377!');
    expect(vm.find_vm_area(a)).not.toBeNull();
  });
});

describe('running out', () => {
  it('out of pages: the warn_alloc report, and no page held afterwards', () => {
    const { vm, buddy, env, logSince, pageTable } = machine();
    const free = buddy.nrFreePages();
    const seq = env.klog.nextSeq;
    expect(vm.vmalloc((free - 10) * P, 'greedy_init')).toBe(0);
    const log = logSince(seq);
    const report = log.find((l) => l.includes('vmalloc error'))!;
    expect(report).toMatch(
      /^swapper\/0: vmalloc error: size \d+, failed to allocate pages, mode:0xcc2\(GFP_KERNEL\|__GFP_HIGHMEM\), nodemask=\(null\),cpuset=\/,mems_allowed=0$/,
    );
    expect(log).toContain('Mem-Info:');
    // The page array was vmalloc'd (and mapped) before the pages ran out: its tables stay.
    expect(buddy.nrFreePages()).toBe(free - 3);
    expect(pageTable.tablePages).toBe(4);
    expect(vm.areas()).toEqual([]);
    expect(vm.nr_vmalloc_pages).toBe(0);
    expect(vm.vmalloc(P)).toBe(VMALLOC_START);
  });

  it('no page-table page: "failed to map pages", and the pages go back', () => {
    const { vm, buddy, env, logSince, tables } = machine();
    const free = buddy.nrFreePages();
    tables.fail = true;
    const seq = env.klog.nextSeq;
    expect(vm.vmalloc(2 * P)).toBe(0);
    expect(logSince(seq)[0]).toBe(
      'swapper/0: vmalloc error: size 8192, failed to map pages, mode:0xcc2(GFP_KERNEL|__GFP_HIGHMEM), nodemask=(null),cpuset=/,mems_allowed=0',
    );
    expect(buddy.nrFreePages()).toBe(free);
    expect(vm.areas()).toEqual([]);
    tables.fail = false;
    expect(vm.vmalloc(2 * P)).toBe(VMALLOC_START);
  });

  it('more than all of RAM: "exceeds total pages"; __GFP_NOWARN keeps quiet', () => {
    const { vm, env, logSince } = machine();
    let seq = env.klog.nextSeq;
    expect(vm.vmalloc(1 << 30)).toBe(0);
    expect(logSince(seq)[0]).toBe(
      'swapper/0: vmalloc error: size 1073741824, exceeds total pages, mode:0xcc0(GFP_KERNEL), nodemask=(null),cpuset=/,mems_allowed=0',
    );
    env.klog.clock.advance(20e9);
    seq = env.klog.nextSeq;
    expect(vm.__vmalloc(1 << 30, GFP_KERNEL | __GFP_NOWARN)).toBe(0);
    expect(logSince(seq)).toEqual([]);
  });

  it('out of address space: "Address range restricted" and "vm_struct allocation failed"', () => {
    const { vm, env, logSince } = machine({ start: VMALLOC_START, end: VMALLOC_START + 8 * P });
    expect(vm.vmalloc(4 * P)).toBe(VMALLOC_START);
    const seq = env.klog.nextSeq;
    expect(vm.vmalloc(3 * P)).toBe(0);
    const log = logSince(seq);
    expect(log[0]).toBe(
      'vmalloc_node_range for size 16384 failed: Address range restricted to 0xffffc90000000000 - 0xffffc90000007fff',
    );
    expect(log[1]).toBe(
      'swapper/0: vmalloc error: size 12288, vm_struct allocation failed, mode:0xcc0(GFP_KERNEL), nodemask=(null),cpuset=/,mems_allowed=0',
    );
    // The end is inclusive (va_end <= vend = end - 1), so the last page never fits an area:
    // of the 3 pages left, 2 (one page and its guard) do.
    expect(vm.vmalloc(2 * P)).toBe(0);
    expect(vm.__vmalloc(P, GFP_KERNEL)).toBe(VMALLOC_START + 5 * P);
  });
});

describe('lazy purge (lazy: true)', () => {
  it('lazy_max_pages is 32 MiB × fls(num_online_cpus()) in pages', () => {
    expect(machine({ lazy: true }).vm.lazyMaxPages).toBe(8192); // 1 CPU
    expect(machine({ lazy: true }, 'laptop').vm.lazyMaxPages).toBe(3 * 8192); // 4 CPUs: fls 3
  });

  it('defers the flush and the reuse until more than lazy_max_pages wait, then flushes once', () => {
    const { vm, flushes, buddy, env, pageTable } = machine({ lazy: true });
    const free = buddy.nrFreePages();
    const areas: number[] = [];
    // 512 pages + guard = 513 pages of address space each; 16 × 513 = 8208 > 8192.
    for (let i = 0; i < 15; i++) {
      const a = vm.vmalloc(512 * P);
      areas.push(a);
      vm.vfree(a);
    }
    expect(flushes).toEqual([]);
    expect(vm.vmap_lazy_nr).toBe(15 * 513);
    expect(new Set(areas).size).toBe(15); // no range reused before the purge
    expect(areas[14]).toBe(VMALLOC_START + 14 * 513 * P);
    expect(vm.nr_vmalloc_pages).toBe(0); // the pages themselves went back at once
    expect(vm.vmallocinfo()).toHaveLength(15);
    expect(vm.vmallocinfo()[0]).toBe(
      '0xffffc90000000000-0xffffc90000201000 2101248 unpurged vm_area',
    );
    vm.vfree(vm.vmalloc(512 * P));
    expect(flushes).toEqual([[VMALLOC_START, VMALLOC_START + 16 * 513 * P]]);
    expect(vm.purges).toBe(1);
    expect(vm.vmap_lazy_nr).toBe(0);
    expect(vm.vmallocinfo()).toEqual([]);
    expect(vm.vmalloc(P)).toBe(VMALLOC_START); // the address space is reused after the purge
    vm.vm_unmap_aliases();
    expect(flushes).toHaveLength(1); // nothing waiting: no flush
    // One page, and the tables of the 16 areas' span (PDPT, PD, a PT per 2 MiB), which stay.
    expect(pageTable.tablePages).toBe(1 + 2 + Math.ceil((16 * 513) / 512));
    expect(buddy.nrFreePages()).toBe(free - 1 - (pageTable.tablePages - 1));
    expect(env.klog.dmesg()).not.toContain('WARNING');
  });

  it('purges when the address space runs out', () => {
    const { vm, flushes } = machine({
      lazy: true,
      start: VMALLOC_START,
      end: VMALLOC_START + 8 * P,
    });
    vm.vfree(vm.vmalloc(4 * P));
    expect(flushes).toEqual([]);
    expect(vm.vmalloc(4 * P)).toBe(0 + VMALLOC_START); // no room: purge, retry
    expect(flushes).toEqual([[VMALLOC_START, VMALLOC_START + 5 * P]]);
  });

  it('a stale TLB entry still translates a freed area until the purge, unlike the eager default', () => {
    for (const lazy of [false, true]) {
      const { vm, mmu } = machine({ lazy });
      const a = vm.vmalloc(P);
      const pa = mmu.translate(a, ACCESS_READ); // the TLB now holds the entry
      expect(pa).toBe(vm.find_vm_area(a)!.pages[0]! * P);
      vm.vfree(a);
      expect(mmu.translate(a, ACCESS_READ)).toBe(lazy ? pa : -1);
      vm.vm_unmap_aliases();
      expect(mmu.translate(a, ACCESS_READ)).toBe(-1);
    }
  });
});
