/**
 * The physical memory map: one canvas per populated zone, one cell per page — or per
 * 2^n pages when the machine has more pages than fit (the scale is printed) — coloured by
 * what the page is (classify.ts). Hover shows a page's struct page; click pins it.
 */
import {
  formatHex,
  type Kernel,
  PAGE_SIZE,
  PAGE_TYPE_NAMES,
  PG_head,
  PGTY_buddy,
  PGTY_slab,
} from '@mmsim/kapi';
import {
  buddyColor,
  classifyPages,
  KIND_ANON,
  KIND_BUDDY,
  KIND_HOLE,
  KIND_PAGETABLE,
  KIND_SLAB,
  KIND_VMALLOC,
  KINDS,
  type PageClasses,
} from './classify.js';

/** Cells per row and the size of a cell in canvas pixels (a 1-pixel gap included). */
const COLUMNS = 256;
const CELL_PX = 4;
/** The most cells drawn for the whole machine; more pages share a cell. */
const MAX_CELLS = 1 << 15;

interface ZoneCanvas {
  canvas: HTMLCanvasElement;
  nid: number;
  zoneName: string;
  startPfn: number;
  pages: number;
}

function hexToRgb(color: string): [number, number, number] {
  if (color.startsWith('#')) {
    const v = Number.parseInt(color.slice(1), 16);
    return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
  }
  // hsl(h, s%, l%)
  const m = /hsl\(([\d.]+),\s*([\d.]+)%,\s*([\d.]+)%\)/.exec(color);
  if (!m) return [0, 0, 0];
  const h = Number(m[1]) / 360;
  const s = Number(m[2]) / 100;
  const l = Number(m[3]) / 100;
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const f = (t: number) => {
    const u = t < 0 ? t + 1 : t > 1 ? t - 1 : t;
    if (u < 1 / 6) return p + (q - p) * 6 * u;
    if (u < 1 / 2) return q;
    if (u < 2 / 3) return p + (q - p) * (2 / 3 - u) * 6;
    return p;
  };
  return [f(h + 1 / 3) * 255, f(h) * 255, f(h - 1 / 3) * 255].map(Math.round) as [
    number,
    number,
    number,
  ];
}

const KIND_RGB = KINDS.map((k) => hexToRgb(k.color));
const ORDER_RGB = Array.from({ length: 11 }, (_, o) => hexToRgb(buddyColor(o)));

/** /proc/kpageflags names (include/uapi/linux/kernel-page-flags.h) that a page would show. */
function kpageflags(k: Kernel, classes: PageClasses, pfn: number): string[] {
  const mm = k.env.memMap;
  const out: string[] = [];
  const kind = classes.kind[pfn]!;
  if (kind === KIND_HOLE) return ['NOPAGE'];
  const f = mm.flagNames(pfn);
  const has = (n: string) => f.includes(n);
  if (has('locked')) out.push('LOCKED');
  if (has('referenced')) out.push('REFERENCED');
  if (has('uptodate')) out.push('UPTODATE');
  if (has('dirty')) out.push('DIRTY');
  if (has('lru')) out.push('LRU');
  if (has('active')) out.push('ACTIVE');
  if (kind === KIND_SLAB) out.push('SLAB');
  if (has('writeback')) out.push('WRITEBACK');
  if (has('reclaim')) out.push('RECLAIM');
  if (mm.pageType[pfn] === PGTY_buddy) out.push('BUDDY');
  if (mm.mapcount[pfn]! > 0) out.push('MMAP');
  if (kind === KIND_ANON) out.push('ANON');
  if (has('swapbacked')) out.push('SWAPBACKED');
  if (mm.flags[pfn]! & (1 << PG_head)) out.push('COMPOUND_HEAD');
  if (mm.tailOf[pfn]! !== 0) out.push('COMPOUND_TAIL');
  if (has('unevictable')) out.push('UNEVICTABLE');
  if (pfn === k.userspace.zeroPfn) out.push('ZERO_PAGE');
  if (kind === KIND_PAGETABLE) out.push('PGTABLE');
  if (has('reserved')) out.push('RESERVED');
  if (has('mlocked')) out.push('MLOCKED');
  return out;
}

/** The description of one page, as the page-info box shows it. */
export function describePage(k: Kernel, classes: PageClasses, pfn: number): string {
  const mm = k.env.memMap;
  if (!(pfn >= 0 && pfn < mm.nrPages)) return `pfn ${pfn}: outside memory`;
  const kind = classes.kind[pfn]!;
  const info = KINDS[kind]!;
  const zone = k.machine.zones.find(
    (z) => z.nid === mm.node[pfn] && pfn >= z.startPfn && pfn < z.startPfn + z.spannedPages,
  );
  const lines = [
    `pfn 0x${formatHex(pfn)} (${pfn})  phys 0x${formatHex(pfn * PAGE_SIZE, 16)}  node ${mm.node[pfn]}  zone ${zone?.name ?? '-'}`,
    `kind: ${info.name} — ${info.description}`,
  ];
  const head = classes.head[pfn]!;
  if (kind === KIND_BUDDY) {
    const order = classes.buddyOrder[pfn]!;
    lines.push(
      `free block: order ${order} (${1 << order} pages) at pfn 0x${formatHex(head)}, migratetype ${mm.describe(pfn).migratetype}`,
    );
  } else if (kind === KIND_SLAB) {
    const slabHead = mm.pageType[pfn] === PGTY_slab ? mm.compoundHead(pfn) : head;
    const cache = k.slab.virt_to_cache(k.page_address(slabHead));
    lines.push(`slab cache: ${cache ? cache.name : `(cache id ${mm.owner[slabHead]})`}`);
  } else if (kind === KIND_VMALLOC) {
    for (const a of k.vmallocArea.areas()) {
      const i = a.pages.indexOf(pfn);
      if (i >= 0) {
        lines.push(
          `vmalloc: page ${i} of the area at 0x${formatHex(a.addr, 16)} (${a.nr_pages} pages), mapped at 0x${formatHex(a.addr + i * PAGE_SIZE, 16)}`,
        );
        break;
      }
    }
  } else if (head !== pfn) {
    lines.push(`part of the allocation at pfn 0x${formatHex(head)} (order ${mm.order[head]})`);
  }
  if (kind !== KIND_HOLE) {
    lines.push(`kpageflags: ${kpageflags(k, classes, pfn).join(' ') || '(none)'}`);
    lines.push(...mm.dumpPage(pfn));
    const pt = mm.pageType[pfn]!;
    if (!pt && kind !== KIND_BUDDY) lines.push('page_type: (none)');
    else if (pt && !PAGE_TYPE_NAMES[pt]) lines.push(`page_type: ${pt}`);
  }
  return lines.join('\n');
}

export class MemMapView {
  private zones: ZoneCanvas[] = [];
  private classes: PageClasses | null = null;
  private kernel: Kernel | null = null;
  private pinned = -1;
  pagesPerCell = 1;

  constructor(
    private readonly container: HTMLElement,
    private readonly legend: HTMLElement,
    private readonly scaleText: HTMLElement,
    private readonly info: HTMLElement,
  ) {
    this.renderLegend();
  }

  private renderLegend(): void {
    this.legend.replaceChildren();
    for (const kind of KINDS) {
      const item = document.createElement('span');
      item.className = 'legend-item';
      item.title = kind.description;
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = kind.color;
      item.append(swatch, kind.name);
      this.legend.append(item);
    }
    const ramp = document.createElement('span');
    ramp.className = 'legend-item';
    ramp.title = 'free buddy blocks: pale = small (order 0), dark = large (order 10)';
    for (let o = 0; o <= 10; o += 2) {
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = buddyColor(o);
      ramp.append(swatch);
    }
    ramp.append('free by order 0→10');
    this.legend.append(ramp);
  }

  /** A new kernel: lay out one canvas per populated zone. */
  setKernel(k: Kernel): void {
    this.kernel = k;
    this.pinned = -1;
    this.container.replaceChildren();
    this.zones = [];
    const populated = k.machine.zones.filter((z) => z.presentPages > 0);
    const total = populated.reduce((n, z) => n + z.spannedPages, 0);
    this.pagesPerCell = 1;
    while (total / this.pagesPerCell > MAX_CELLS) this.pagesPerCell *= 2;
    this.scaleText.textContent =
      this.pagesPerCell === 1
        ? `One cell per 4 KiB page (${total} pages spanned).`
        : `One cell per ${this.pagesPerCell} pages (${(this.pagesPerCell * PAGE_SIZE) / 1024} KiB; ${total} pages spanned): a cell shows the most notable kind among its pages (slab > page table > vmalloc > anon > kernel > reserved > free).`;
    for (const z of populated) {
      const box = document.createElement('div');
      box.className = 'zone';
      const title = document.createElement('div');
      title.className = 'zone-title';
      title.textContent = `Node ${z.nid}, zone ${z.name}: pfn 0x${formatHex(z.startPfn)}–0x${formatHex(z.startPfn + z.spannedPages - 1)}, ${z.presentPages} present pages`;
      const canvas = document.createElement('canvas');
      const cells = Math.ceil(z.spannedPages / this.pagesPerCell);
      const rows = Math.ceil(cells / COLUMNS);
      canvas.width = COLUMNS * CELL_PX;
      canvas.height = rows * CELL_PX;
      canvas.className = 'memmap';
      canvas.dataset.nid = String(z.nid);
      canvas.dataset.zone = z.name;
      canvas.dataset.startPfn = String(z.startPfn);
      canvas.dataset.pagesPerCell = String(this.pagesPerCell);
      canvas.dataset.columns = String(COLUMNS);
      canvas.dataset.cellPx = String(CELL_PX);
      const zc: ZoneCanvas = {
        canvas,
        nid: z.nid,
        zoneName: z.name,
        startPfn: z.startPfn,
        pages: z.spannedPages,
      };
      canvas.addEventListener('mousemove', (ev) => {
        const pfn = this.pfnAt(zc, ev);
        if (pfn >= 0 && this.pinned < 0) this.showPage(pfn);
      });
      canvas.addEventListener('click', (ev) => {
        const pfn = this.pfnAt(zc, ev);
        if (pfn < 0) return;
        this.pinned = this.pinned === pfn ? -1 : pfn;
        this.showPage(pfn);
      });
      canvas.addEventListener('mouseleave', () => {
        if (this.pinned >= 0) this.showPage(this.pinned);
      });
      box.append(title, canvas);
      this.container.append(box);
      this.zones.push(zc);
    }
  }

  private pfnAt(zc: ZoneCanvas, ev: MouseEvent): number {
    const r = zc.canvas.getBoundingClientRect();
    const x = Math.floor(((ev.clientX - r.left) * zc.canvas.width) / r.width / CELL_PX);
    const y = Math.floor(((ev.clientY - r.top) * zc.canvas.height) / r.height / CELL_PX);
    if (x < 0 || x >= COLUMNS || y < 0) return -1;
    const pfn = zc.startPfn + (y * COLUMNS + x) * this.pagesPerCell;
    return pfn < zc.startPfn + zc.pages ? pfn : -1;
  }

  /** Show a page in the info box (and pin it). */
  showPage(pfn: number, pin = false): void {
    if (!this.kernel || !this.classes) return;
    if (pin) this.pinned = pfn;
    let text = describePage(this.kernel, this.classes, pfn);
    if (this.pagesPerCell > 1) {
      text = `cell of ${this.pagesPerCell} pages from pfn 0x${formatHex(pfn)}; its first page:\n${text}`;
    }
    if (this.pinned === pfn) text += '\n(pinned: click again to unpin)';
    this.info.textContent = text;
  }

  /** Classify every page again and redraw. */
  refresh(): void {
    const k = this.kernel;
    if (!k) return;
    this.classes = classifyPages(k);
    const { kind, buddyOrder } = this.classes;
    const ppc = this.pagesPerCell;
    for (const zc of this.zones) {
      const ctx = zc.canvas.getContext('2d');
      if (!ctx) continue;
      const img = ctx.createImageData(zc.canvas.width, zc.canvas.height);
      const data = img.data;
      const cells = Math.ceil(zc.pages / ppc);
      for (let c = 0; c < cells; c++) {
        const first = zc.startPfn + c * ppc;
        const end = Math.min(first + ppc, zc.startPfn + zc.pages);
        let best = kind[first]!;
        for (let p = first + 1; p < end; p++) {
          const kp = kind[p]!;
          if (KINDS[kp]!.rank > KINDS[best]!.rank) best = kp;
        }
        const rgb = best === KIND_BUDDY ? ORDER_RGB[buddyOrder[first]!]! : KIND_RGB[best]!;
        const x0 = (c % COLUMNS) * CELL_PX;
        const y0 = Math.floor(c / COLUMNS) * CELL_PX;
        // CELL_PX - 1 square pixels; the last row and column stay transparent as a grid line.
        for (let y = y0; y < y0 + CELL_PX - 1; y++) {
          for (let x = x0; x < x0 + CELL_PX - 1; x++) {
            const i = (y * zc.canvas.width + x) * 4;
            data[i] = rgb[0];
            data[i + 1] = rgb[1];
            data[i + 2] = rgb[2];
            data[i + 3] = 255;
          }
        }
      }
      ctx.putImageData(img, 0, 0);
    }
    if (this.pinned >= 0) this.showPage(this.pinned);
  }
}
