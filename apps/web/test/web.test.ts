/**
 * The visualizer in a real browser: the app is built with Vite into a temporary directory,
 * served by a small static server, and driven in Debian's chromium (playwright-core; no
 * browser is downloaded). The assertions are on what a user sees, and the numbers are the
 * ones the same packages print in Node for the same machine.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  boot,
  canonicalToVa,
  GFP_KERNEL,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PAGE_OFFSET,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
} from '@mmsim/kapi';
import { explain, formatExplanation } from '@mmsim/mmu';
import { buddyinfo, meminfo, slabinfoRows } from '@mmsim/procfs';
import type { TlbHierarchy } from '@mmsim/tlb';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const WEB_ROOT = fileURLToPath(new URL('..', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
};

/** A static file server for the built app, on a free port. */
function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = join(dir, path === '/' ? 'index.html' : path);
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}/` });
    });
  });
}

/** The log without printk time stamps, which the assertions do not need. */
const untimed = (text: string) => text.replace(/^\[ *\d+\.\d+\] /gm, '');

function suite(): void {
  let browser: Browser;
  let page: Page;
  let server: Server;
  let outDir: string;
  const problems: string[] = [];

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'mmsim-web-'));
    const vite = await import('vite');
    await vite.build({
      root: WEB_ROOT,
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true },
    });
    const served = await serve(outDir);
    server = served.server;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
    });
    await page.goto(served.url);
    await page.waitForSelector('body[data-booted="tiny/slub"]');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  const text = async (selector: string) => (await page.locator(selector).textContent()) ?? '';
  const slabRow = async (name: string) => {
    const cells = await page.locator(`#slab-table tr[data-cache="${name}"] td`).allInnerTexts();
    return cells.slice(1).map(Number);
  };
  const bootUi = async (machine: string, slab: string, slubDebug: string) => {
    await page.selectOption('#boot-machine', machine);
    await page.selectOption('#boot-slab', slab);
    await page.fill('#boot-slub-debug', slubDebug);
    await page.click('#boot-button');
    await page.waitForSelector(`body[data-booted="${machine}/${slab}"]`);
  };
  /** Hover over the memory-map cell of `pfn` and return the page description shown. */
  const hoverPfn = async (pfn: number) => {
    const canvases = page.locator('canvas.memmap');
    for (let i = 0; i < (await canvases.count()); i++) {
      const c = canvases.nth(i);
      const d = await c.evaluate((el) => ({ ...(el as HTMLCanvasElement).dataset }));
      const start = Number(d.startPfn);
      const box = (await c.boundingBox())!;
      const width = await c.evaluate((el) => (el as HTMLCanvasElement).width);
      const cellCss = (Number(d.cellPx) * box.width) / width;
      const index = Math.floor((pfn - start) / Number(d.pagesPerCell));
      const row = Math.floor(index / Number(d.columns));
      if (index < 0 || (row + 1) * cellCss > box.height) continue;
      // The mouse reaches only what is on screen: scroll the cell's row into view first.
      await page.evaluate((y) => window.scrollBy(0, y - 100), box.y + row * cellCss);
      const shown = (await c.boundingBox())!;
      const col = index % Number(d.columns);
      await page.mouse.move(shown.x + (col + 0.5) * cellCss, shown.y + (row + 0.5) * cellCss);
      return text('#page-info');
    }
    throw new Error(`pfn ${pfn} is on no canvas`);
  };
  const pfnOf = (addrText: string) =>
    Math.floor((canonicalToVa(addrText.replace(/^0x/, '')) - PAGE_OFFSET) / PAGE_SIZE);

  it('shows /proc/buddyinfo and /proc/meminfo exactly as the packages print them for the same machine', async () => {
    const k = boot({ machine: 'tiny' });
    expect(await page.locator('#buddyinfo-text').textContent()).toBe(buddyinfo(k));
    await page.selectOption('#proc-path', '/proc/meminfo');
    const shown = (await page.locator('#proc-text').textContent())!;
    expect(shown).toBe(meminfo(k));
    expect(shown).toMatch(/^MemTotal: +65144 kB\nMemFree: +65108 kB\n/);
    // The buddy table: Node 0 DMA32's free blocks per order, as nrFreeBlocks counts them.
    const cells = await page.locator('#buddy-table tbody tr:nth-child(2) td').allInnerTexts();
    expect(cells[0]).toBe('Node 0, DMA32');
    expect(cells.slice(1, 12).map(Number)).toEqual(
      Array.from({ length: 11 }, (_, o) => k.pages.nrFreeBlocks(0, 1, o)),
    );
  });

  it('walks a vmalloc address through the four x86-64 levels to the page vmalloc mapped', async () => {
    await page.fill('#vmalloc-pages', '4');
    await page.click('#vmalloc-button');
    const row = page.locator('#vmalloc-areas tbody tr').first();
    expect(await row.getAttribute('data-addr')).toBe('ffffc90000000000');
    expect(await page.inputValue('#walk-va')).toBe('ffffc90000000000');
    const levels = await page.locator('#walk-table tbody tr td:first-child').allInnerTexts();
    expect(levels).toEqual(['PML4', 'PDPT', 'PD', 'PT']);
    // The same vmalloc in Node lands on the same page.
    const k = boot({ machine: 'tiny' });
    const v = k.vmalloc(4 * PAGE_SIZE);
    const pa = k.vmallocArea.vmalloc_to_pfn(v) * PAGE_SIZE;
    const walkText = await page.locator('#walk-text').textContent();
    expect(walkText).toBe(formatExplanation(explain(k.mmu, v)));
    expect(walkText).toContain(
      `Translates to Physical Address 0x${pa.toString(16)} (4096-byte page)`,
    );
    expect(await hoverPfn(pa / PAGE_SIZE)).toContain('kind: vmalloc');
    // vfree: the walk is redrawn and no longer reaches a page.
    await row.locator('button', { hasText: 'vfree' }).click();
    expect(await page.locator('#vmalloc-areas tbody tr').count()).toBe(0);
    k.vfree(v);
    const freed = formatExplanation(explain(k.mmu, v));
    expect(freed).toContain('--> Fault (not-present at ');
    expect(await page.locator('#walk-text').textContent()).toBe(freed);
  });

  it('shows the report Linux prints for a double kfree, as the kernel printed it in Node', async () => {
    await page.fill('#double-free-size', '64');
    await page.click('#double-free-button');
    const log = untimed(await text('#kernel-log'));
    // The same bug in Node, on a kernel in the same state (one vmalloc'd area freed).
    const k = boot({ machine: 'tiny' });
    k.vfree(k.vmalloc(4 * PAGE_SIZE));
    const seq = k.klog.nextSeq;
    const p = k.kmalloc(64, GFP_KERNEL);
    k.kmalloc(64, GFP_KERNEL);
    k.kfree(p);
    expect(() => k.kfree(p)).toThrow('kernel BUG at mm/slub.c:550!');
    const report = untimed(k.klog.dmesg({ sinceSeq: seq }));
    expect(report).toContain('kernel BUG at mm/slub.c:550!');
    expect(log).toContain(report.trimEnd());
    expect(log).toContain('✖ KernelOops (BUG): kernel BUG at mm/slub.c:550!');
  });

  it('reports a write past the end of an object in a red-zoned, poisoned cache', async () => {
    await page.click('#redzone-button');
    const log = await text('#kernel-log');
    expect(log).toMatch(
      /\[Right Redzone overwritten\] 0xffff8880[0-9a-f]+-0xffff8880[0-9a-f]+ @offset=\d+\. First byte 0x41 instead of 0xcc/,
    );
    expect(log).toContain('BUG redzone_test (');
    expect(log).toContain('): Object corrupt');
    expect(log).toContain('FIX redzone_test: Restoring Right Redzone');
    expect(await page.locator('#slab-table tr[data-cache="redzone_test"]').count()).toBe(1);
  });

  it('counts a kmalloc(100) as one more active object of kmalloc-128 and kfree as one fewer (slub_debug=F)', async () => {
    // Without debugging SLUB counts every object of a CPU's slab as active, as Linux does;
    // slub_debug=F takes the per-CPU slabs away, so active_objs counts objects exactly.
    await bootUi('tiny', 'slub', 'F');
    expect((await text('#kernel-log')).split('\n')[0]).toContain('slub_debug=F');
    const before = await slabRow('kmalloc-128');
    await page.fill('#kmalloc-size', '100');
    await page.selectOption('#kmalloc-gfp', 'GFP_KERNEL');
    await page.click('#kmalloc-button');
    const row = page.locator('#allocations tbody tr');
    expect(await row.count()).toBe(1);
    const cells = await row.locator('td').allInnerTexts();
    expect(cells.slice(1, 5)).toEqual(['100', '128', 'kmalloc-128', 'GFP_KERNEL']);
    const after = await slabRow('kmalloc-128');
    expect(after[0]).toBe(before[0]! + 1);
    expect(
      await page.locator('#slab-table tr[data-cache="kmalloc-128"]').getAttribute('class'),
    ).toBe('changed');
    // The memory map describes the object's page as a slab of kmalloc-128.
    const info = await hoverPfn(pfnOf(cells[0]!));
    expect(info).toContain('kind: slab');
    expect(info).toContain('slab cache: kmalloc-128');
    expect(info).toContain('page_type: f5(slab)');
    expect(info).toMatch(/kpageflags: .*SLAB/);
    await row.locator('button', { hasText: 'kfree' }).click();
    expect(await page.locator('#allocations tbody tr').count()).toBe(0);
    // The object is free again; its now empty slab stays, as SLUB keeps min_partial slabs.
    expect(await slabRow('kmalloc-128')).toEqual([before[0], ...after.slice(1)]);
  });

  it('shows SLUB debug\'s "Object already free" for a double kfree under slub_debug=F', async () => {
    await page.click('#double-free-button');
    const log = await text('#kernel-log');
    expect(log).toContain('BUG kmalloc-64 (Not tainted): Object already free');
    // The clock follows the session: the report is stamped with the uptime, not 0.000000.
    expect(log).toMatch(/\[ *(?!0\.000000)\d+\.\d{6}\] BUG kmalloc-64/);
  });

  it('shows the anonymous pages a process touched, and gives them back when it exits', async () => {
    await bootUi('tiny', 'slub', '');
    await page.fill('#process-pages', '8');
    await page.click('#process-button');
    const cells = await page.locator('#processes tbody tr td').allTextContents();
    expect(cells.slice(0, 3)).toEqual(['1000', 'demo', '8']);
    // The same process in Node: its first page is the frame the page shows as anon.
    const k = boot({ machine: 'tiny' });
    const p = k.createProcess('demo');
    const a = p.mmap(0, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    for (let i = 0; i < 8; i++) p.mem.write8(a + i * PAGE_SIZE, 1);
    const pfn = p.mm!.pgd.query(a)!.pa / PAGE_SIZE;
    await page.fill('#page-lookup-input', `0x${pfn.toString(16)}`);
    await page.click('#page-lookup button');
    const info = await text('#page-info');
    expect(info).toContain('kind: anon (user)');
    expect(info).toContain('kpageflags: MMAP ANON');
    // Its PML4 is a page-table page (PageTable), as dump_page() says.
    const pml4 = p.mm!.pgd.root / PAGE_SIZE;
    await page.fill('#page-lookup-input', `0x${pml4.toString(16)}`);
    await page.click('#page-lookup button');
    const table = await text('#page-info');
    expect(table).toContain('kind: page table');
    expect(table).toContain('page_type: f2(table)');
    // The process sleeps after its writes: a kernel report names the idle task.
    await page.click('#double-free-button');
    expect(await text('#kernel-log')).toContain('CPU: 0 UID: 0 PID: 0 Comm: swapper/0');
    expect(await text('#kernel-log')).not.toContain('Comm: demo');
    await page.locator('#processes tbody tr button', { hasText: 'exit' }).click();
    expect(await page.locator('#processes tbody tr').count()).toBe(0);
    expect(await text('#page-info')).not.toContain('kind: anon');
  });

  it('boots SLAB and lists its caches as Node does', async () => {
    await bootUi('tiny', 'slab', '');
    const k = boot({ machine: 'tiny', slab: 'slab' });
    const names = await page.locator('#slab-table tbody tr td:first-child').allTextContents();
    expect(names).toEqual(slabinfoRows(k).map((s) => s.name));
  });

  it('boots SLOB, under which /proc/slabinfo does not exist', async () => {
    await bootUi('tiny', 'slob', '');
    await page.selectOption('#proc-path', '/proc/slabinfo');
    expect(await text('#proc-text')).toBe('cat: /proc/slabinfo: No such file or directory');
  });

  it("reads through CPU 0's TLB: a miss and a walk, then a hit; vfree flushes it; then the Oops", async () => {
    await bootUi('tiny', 'slub', '');
    await page.fill('#vmalloc-pages', '4');
    await page.click('#vmalloc-button');
    expect(await page.inputValue('#access-va')).toBe('ffffc90000000000');
    await page.click('#read-button');
    await page.click('#read-button');
    await page.click('#write-button');
    // The same accesses in Node, on a kernel in the same state.
    const k = boot({ machine: 'tiny' });
    const v = k.vmalloc(4 * PAGE_SIZE);
    k.mem.read8(v);
    k.mem.read8(v);
    k.mem.write8(v, 0x5a);
    const h = k.mmus[0]!.tlb as TlbHierarchy;
    const rows = await page.locator('#tlb-stats tbody tr').allInnerTexts();
    const expected = [
      ['L1 dTLB', h.l1d.stats],
      ['L1 iTLB', h.l1i!.stats],
      ['STLB', h.l2!.stats],
    ].map(([name, st]) => {
      const t = st as typeof h.stats;
      return [name, t.hits, t.misses, t.evictions, t.flushes].join('\t');
    });
    expect(rows).toEqual(expected);
    expect(await text('#tlb-walks')).toBe(
      `MMU: ${k.mmus[0]!.stats.walks} walks, ${k.mmus[0]!.stats.walkRefs} page-table entries read`,
    );
    const entryRows = await page.locator('#tlb-entries tbody tr').allInnerTexts();
    expect(entryRows).toContain(
      'L1 dTLB\tffffc90000000000\t4K\t' +
        `0x${(k.vmallocArea.vmalloc_to_pfn(v) * PAGE_SIZE).toString(16)}\t0\tG`,
    );
    const log = await text('#kernel-log');
    expect(log).toContain('» read8(0xffffc90000000000) = 0x00');
    expect(log).toContain('» write8(0xffffc90000000000, 0x5a)');
    // vfree: flush_tlb_kernel_range() takes the entry away, and the next read is the Oops.
    await page.locator('#vmalloc-areas tbody tr button', { hasText: 'vfree' }).click();
    const after = await page.locator('#tlb-entries tbody tr').allInnerTexts();
    expect(after.some((r) => r.includes('ffffc90000000000'))).toBe(false);
    await page.click('#read-button');
    expect(await text('#kernel-log')).toContain(
      'BUG: unable to handle page fault for address: ffffc90000000000',
    );
  });

  it('raised no page error and logged no console error in the whole session', () => {
    expect(problems).toEqual([]);
  });
}

if (existsSync(CHROMIUM)) describe('the visualizer in chromium', suite);
else if (process.env.CI) {
  describe('the visualizer in chromium', () => {
    it('needs chromium', () => {
      throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium package`);
    });
  });
} else {
  describe.skip(`the visualizer in chromium (skipped: ${CHROMIUM} is not installed)`, suite);
}
