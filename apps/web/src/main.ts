/**
 * The mmsim visualizer: boots a simulated Linux kernel (@mmsim/kapi) in the page and shows
 * its physical memory, buddy free lists, slab caches, kernel log and /proc files, redrawn
 * after every action. Everything shown is read through the packages' public APIs; the
 * visualizer itself keeps only what a user did (session.ts).
 */
import './style.css';
import { canonicalToVa, formatHex, formatPtr, type Kernel, PAGE_SIZE } from '@mmsim/kapi';
import { explain, formatExplanation } from '@mmsim/mmu';
import { PRESET_NAMES } from '@mmsim/numa';
import { buddyinfo, procPaths, readProc, slabinfoRows } from '@mmsim/procfs';
import { TlbHierarchy } from '@mmsim/tlb';
import { MemMapView } from './memmap-view.js';
import { type LogEntry, Session, type SessionConfig } from './session.js';

/** The GFP flags the kmalloc form offers (include/linux/gfp_types.h composites). */
const GFP_CHOICES = [
  'GFP_KERNEL',
  'GFP_ATOMIC',
  'GFP_NOWAIT',
  'GFP_NOIO',
  'GFP_NOFS',
  'GFP_KERNEL_ACCOUNT',
  'GFP_KERNEL|__GFP_RECLAIMABLE',
  'GFP_KERNEL|GFP_DMA',
  'GFP_USER',
];

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`visualizer: #${id} is missing from index.html`);
  return el as T;
};

const memmap = new MemMapView(
  $('memmap-zones'),
  $('memmap-legend'),
  $('memmap-scale'),
  $('page-info'),
);
let session: Session;
let loggedEntries = 0;
let lastSlabCounts = new Map<string, string>();
/** The address the walk panel shows ('' before the first walk). */
let walkedVa = '';

function cell(
  row: HTMLTableRowElement,
  text: string | number,
  className = '',
): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = String(text);
  if (className) td.className = className;
  return td;
}

function button(label: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

/** The machine summary line, under the boot controls. */
function renderSummary(k: Kernel): void {
  const m = k.machine;
  const kB = (m.totalPages * PAGE_SIZE) / 1024;
  const size =
    kB >= 1 << 20 ? `${(kB / (1 << 20)).toFixed(1)} GiB` : `${(kB / 1024).toFixed(1)} MiB`;
  const plural = (n: number, what: string) => `${n} ${what}${n > 1 ? 's' : ''}`;
  $('machine-summary').textContent =
    `${m.name}: ${plural(m.nrNodes, 'node')}, ${plural(m.nrCpus, 'CPU')}, ${size} of RAM (${m.totalPages} pages), ${k.slab.name.toUpperCase()}`;
}

function renderBuddy(k: Kernel): void {
  const table = $<HTMLTableElement>('buddy-table');
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  cell(head, 'zone \\ order');
  for (let o = 0; o <= 10; o++) cell(head, o);
  cell(head, 'free pages');
  const body = table.createTBody();
  for (const z of k.machine.zones) {
    if (k.pages.managedPages(z.nid, z.type) === 0) continue;
    const row = body.insertRow();
    cell(row, `Node ${z.nid}, ${z.name}`);
    for (let o = 0; o <= 10; o++) {
      const n = k.pages.nrFreeBlocks(z.nid, z.type, o);
      cell(row, n, n === 0 ? 'zero' : '');
    }
    cell(row, k.pages.nrFreePages(z.nid, z.type));
  }
  $('buddyinfo-text').textContent = buddyinfo(k);
}

function renderSlabs(k: Kernel): void {
  const body = $<HTMLTableElement>('slab-table').tBodies[0]!;
  body.replaceChildren();
  $('slab-note').textContent =
    k.slab.name === 'slob'
      ? 'SLOB keeps one heap for every size: Linux has no /proc/slabinfo then; the caches are listed with what SLOB can count.'
      : 'As /proc/slabinfo: newest cache first. Rows that changed in the last action are marked.';
  const counts = new Map<string, string>();
  const activeOnly = $<HTMLInputElement>('slab-active-only').checked;
  for (const s of slabinfoRows(k)) {
    if (activeOnly && s.num_slabs === 0) continue;
    const row = body.insertRow();
    row.dataset.cache = s.name;
    const values = [s.active_objs, s.num_objs, s.objsize, s.objects_per_slab, 1 << s.cache_order];
    const key = values.join(' ');
    counts.set(s.name, key);
    if (lastSlabCounts.size > 0 && lastSlabCounts.get(s.name) !== key) row.className = 'changed';
    cell(row, s.name);
    for (const v of values) cell(row, v);
  }
  lastSlabCounts = counts;
}

function walk(vaText: string): void {
  const k = session.kernel;
  const body = $<HTMLTableElement>('walk-table').tBodies[0]!;
  body.replaceChildren();
  walkedVa = vaText;
  try {
    const va = canonicalToVa(vaText.trim());
    const e = explain(k.mmu, va);
    for (const s of e.steps) {
      const row = body.insertRow();
      cell(row, s.name);
      cell(row, `${s.index} (0x${formatHex(s.index)})`);
      cell(row, `0x${formatHex(s.entryAddr)}`);
      cell(row, `0x${s.entry}`, 'mono');
      const set = Object.entries(s.decoded.bits)
        .filter(([, v]) => v)
        .map(([name]) => name)
        .join(' ');
      cell(row, s.decoded.valid ? set : 'not present');
      cell(
        row,
        !s.decoded.valid
          ? '—'
          : s.decoded.leaf
            ? `page 0x${formatHex(s.decoded.pa)}`
            : `table 0x${formatHex(s.decoded.pa)}`,
      );
    }
    $('walk-text').textContent = formatExplanation(e);
  } catch (err) {
    $('walk-text').textContent = `walk: ${(err as Error).message}`;
  }
}

const SIZE_NAMES: Record<number, string> = { 12: '4K', 21: '2M', 30: '1G' };

/** CPU 0's TLB levels: counters, the MMU's walks, and every valid entry. */
function renderTlb(k: Kernel): void {
  const mmu = k.mmus[0]!;
  const h = mmu.tlb;
  const stats = $<HTMLTableElement>('tlb-stats').tBodies[0]!;
  const entries = $<HTMLTableElement>('tlb-entries').tBodies[0]!;
  stats.replaceChildren();
  entries.replaceChildren();
  if (!(h instanceof TlbHierarchy)) return;
  const levels = [
    ['L1 dTLB', h.l1d],
    ['L1 iTLB', h.l1i],
    ['STLB', h.l2],
  ] as const;
  for (const [name, t] of levels) {
    if (!t) continue;
    const row = stats.insertRow();
    cell(row, name);
    for (const v of [t.stats.hits, t.stats.misses, t.stats.evictions, t.stats.flushes]) {
      cell(row, v, v === 0 ? 'zero' : '');
    }
    for (const e of t.entries()) {
      const r = entries.insertRow();
      cell(r, name);
      cell(r, formatPtr(e.va), 'mono');
      cell(r, SIZE_NAMES[e.pageShift] ?? `2^${e.pageShift}`);
      cell(r, `0x${formatHex(e.pa)}`, 'mono');
      cell(r, e.asid);
      cell(r, e.global ? 'G' : '');
    }
  }
  $('tlb-walks').textContent =
    `MMU: ${mmu.stats.walks} walks, ${mmu.stats.walkRefs} page-table entries read`;
}

function showWalk(addr: number): void {
  const text = formatPtr(addr);
  $<HTMLInputElement>('walk-va').value = text;
  walk(text);
}

function renderAllocations(): void {
  const body = $<HTMLTableElement>('allocations').tBodies[0]!;
  body.replaceChildren();
  for (const a of session.allocations) {
    const row = body.insertRow();
    row.dataset.addr = formatPtr(a.addr);
    cell(row, `0x${formatPtr(a.addr)}`, 'mono');
    cell(row, a.size);
    cell(row, a.ksize, 'ksize');
    cell(row, a.cache || '(page allocator)');
    cell(row, a.gfp);
    const actions = row.insertCell();
    actions.append(
      button('kfree', () => act(() => session.kfree(a.addr))),
      button('walk', () => showWalk(a.addr)),
    );
  }
}

function renderVmalloc(k: Kernel): void {
  const body = $<HTMLTableElement>('vmalloc-areas').tBodies[0]!;
  body.replaceChildren();
  for (const a of k.vmallocArea.areas()) {
    const row = body.insertRow();
    row.dataset.addr = formatPtr(a.addr);
    cell(row, `0x${formatPtr(a.addr)}`, 'mono');
    cell(row, a.nr_pages);
    const pfns = a.pages.map((p) => `0x${formatHex(p)}`);
    cell(row, pfns.length > 6 ? `${pfns.slice(0, 6).join(' ')} …` : pfns.join(' '), 'mono');
    const actions = row.insertCell();
    actions.append(
      button('vfree', () => act(() => session.vfree(a.addr))),
      button('walk', () => showWalk(a.addr)),
    );
  }
}

function renderProcesses(k: Kernel): void {
  const body = $<HTMLTableElement>('processes').tBodies[0]!;
  body.replaceChildren();
  for (const p of k.tasks.values()) {
    if (!p.mm) continue;
    const row = body.insertRow();
    cell(row, p.pid);
    cell(row, p.comm);
    cell(row, p.mm.rss);
    cell(row, p.mm.pgd.tablePages);
    row.insertCell().append(
      button('exit', () =>
        act(() =>
          session.run(`exit(${p.pid})`, () => {
            p.exit();
            return undefined;
          }),
        ),
      ),
    );
  }
}

/** A pfn (`0x1004`, `4100`) or a direct-map or vmalloc address (`ffff888001004000`), as a pfn. */
function lookupPfn(k: Kernel, text: string): number {
  const t = text.trim();
  // Short numbers are pfns; 16 hex digits are an address.
  if (/^\d+$/.test(t) || /^0x[0-9a-f]{1,8}$/i.test(t)) return Number(t);
  const va = canonicalToVa(t);
  if (k.is_vmalloc_addr(va)) return k.vmallocArea.vmalloc_to_pfn(va);
  return k.virt_to_page(va);
}

function renderLog(): void {
  const log = $('kernel-log');
  for (; loggedEntries < session.log.length; loggedEntries++) {
    const e: LogEntry = session.log[loggedEntries]!;
    const action = document.createElement('div');
    action.className = 'log-action';
    action.textContent = `» ${e.action}`;
    log.append(action);
    if (e.dmesg) {
      const lines = document.createElement('div');
      lines.className = 'log-dmesg';
      lines.textContent = e.dmesg;
      log.append(lines);
    }
    if (e.error) {
      const err = document.createElement('div');
      err.className = 'log-error';
      err.textContent = `✖ ${e.error}`;
      log.append(err);
    }
  }
  log.scrollTop = log.scrollHeight;
}

function renderProc(k: Kernel): void {
  const select = $<HTMLSelectElement>('proc-path');
  const wanted = select.value || '/proc/meminfo';
  const paths = [...procPaths(k), 'numastat', 'numactl --hardware'];
  if (k.slab.name === 'slob')
    paths.splice(paths.indexOf('/proc/vmallocinfo') + 1, 0, '/proc/slabinfo');
  select.replaceChildren(
    ...paths.map((p) => {
      const o = document.createElement('option');
      o.value = p;
      o.textContent = p.startsWith('/') ? p : `$ ${p}`;
      return o;
    }),
  );
  select.value = paths.includes(wanted) ? wanted : '/proc/meminfo';
  try {
    $('proc-text').textContent = readProc(k, select.value);
  } catch (err) {
    // What cat(1) says: /proc/slabinfo does not exist under SLOB.
    const e = err as Error & { code?: string };
    $('proc-text').textContent =
      e.code === 'ENOENT' ? `cat: ${select.value}: No such file or directory` : e.message;
  }
}

/** Redraw every panel from the kernel's state. */
function refresh(): void {
  const k = session.kernel;
  memmap.refresh();
  renderBuddy(k);
  renderSlabs(k);
  renderAllocations();
  renderVmalloc(k);
  renderProcesses(k);
  renderTlb(k);
  if (walkedVa) walk(walkedVa);
  renderLog();
  renderProc(k);
}

function act(action: () => unknown): void {
  action();
  refresh();
}

function bootKernel(): void {
  const config: SessionConfig = {
    machine: $<HTMLSelectElement>('boot-machine').value,
    slab: $<HTMLSelectElement>('boot-slab').value as SessionConfig['slab'],
    slubDebug: $<HTMLInputElement>('boot-slub-debug').value.trim(),
  };
  try {
    session = new Session(config);
  } catch (err) {
    // A bad slub_debug= string, say: keep the old kernel and say why.
    const log = $('kernel-log');
    const div = document.createElement('div');
    div.className = 'log-error';
    div.textContent = `✖ boot failed: ${(err as Error).message}`;
    log.append(div);
    return;
  }
  $('kernel-log').replaceChildren();
  loggedEntries = 0;
  lastSlabCounts = new Map();
  walkedVa = '';
  $<HTMLInputElement>('walk-va').value = '';
  $('walk-table').querySelector('tbody')?.replaceChildren();
  $('walk-text').textContent = '';
  $('page-info').textContent = 'Hover over a page to see its struct page; click to pin it.';
  renderSummary(session.kernel);
  memmap.setKernel(session.kernel);
  refresh();
  document.body.dataset.booted = `${config.machine}/${config.slab}`;
}

function intInput(id: string): number {
  const n = Number($<HTMLInputElement>(id).value);
  return Number.isSafeInteger(n) ? n : Number.NaN;
}

function setup(): void {
  const machine = $<HTMLSelectElement>('boot-machine');
  for (const name of PRESET_NAMES) {
    const o = document.createElement('option');
    o.value = name;
    o.textContent = name;
    machine.append(o);
  }
  machine.value = 'tiny';
  $<HTMLSelectElement>('kmalloc-gfp').append(
    ...GFP_CHOICES.map((g) => {
      const o = document.createElement('option');
      o.value = g;
      o.textContent = g;
      return o;
    }),
  );
  $('boot-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    bootKernel();
  });
  const kmalloc = (zero: boolean) =>
    act(() =>
      session.kmalloc(intInput('kmalloc-size'), $<HTMLSelectElement>('kmalloc-gfp').value, zero),
    );
  $('kmalloc-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    kmalloc(false);
  });
  $('kzalloc-button').addEventListener('click', () => kmalloc(true));
  $('double-free-button').addEventListener('click', () =>
    act(() => session.doubleFree(intInput('double-free-size'))),
  );
  $('redzone-button').addEventListener('click', () => act(() => session.redzoneOverwrite()));
  $('vmalloc-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    let addr = 0;
    act(() => {
      const before = new Set(session.kernel.vmallocArea.areas().map((a) => a.addr));
      session.vmalloc(intInput('vmalloc-pages'));
      addr = session.kernel.vmallocArea.areas().find((a) => !before.has(a.addr))?.addr ?? 0;
    });
    if (addr) {
      showWalk(addr);
      $<HTMLInputElement>('access-va').value = formatPtr(addr);
    }
  });
  $('process-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(() => session.spawnProcess(intInput('process-pages')));
  });
  const access = (write: boolean) => {
    const text = $<HTMLInputElement>('access-va').value.trim();
    act(() => {
      let va: number;
      try {
        va = canonicalToVa(text);
      } catch (err) {
        session.log.push({ action: `access ${text}`, dmesg: '', error: (err as Error).message });
        return;
      }
      session.access(va, write, 0x5a);
    });
  };
  $('access-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    access(false);
  });
  $('write-button').addEventListener('click', () => access(true));
  $('walk-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    walk($<HTMLInputElement>('walk-va').value);
  });
  $('proc-path').addEventListener('change', () => renderProc(session.kernel));
  $('slab-active-only').addEventListener('change', () => renderSlabs(session.kernel));
  $('page-lookup').addEventListener('submit', (ev) => {
    ev.preventDefault();
    try {
      memmap.showPage(
        lookupPfn(session.kernel, $<HTMLInputElement>('page-lookup-input').value),
        true,
      );
    } catch (err) {
      $('page-info').textContent = (err as Error).message;
    }
  });
  bootKernel();
}

setup();
