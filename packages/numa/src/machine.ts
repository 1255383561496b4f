/**
 * createMachine(): from a MachineSpec (or a preset name) to a booted machine's topology —
 * its physical memory map, NUMA nodes, CPUs, distances and zones — as an x86-64 Linux 6.18
 * kernel would find and size them.
 *
 * Memory map (arch/x86/kernel/e820.c, mm/memblock.c). Nodes are laid out one after another in
 * physical address space from 0, each spanning the memory its spec asks for. Ranges that are
 * not RAM:
 *   - page 0 ("e820: update [mem 0x00000000-0x00000fff] usable ==> reserved") and
 *     0x9f000-0xfffff (EBDA, VGA memory, BIOS ROM: "e820: remove [mem 0x000a0000-0x000fffff]"
 *     plus the page holding the 0x9fc00 EBDA, which memblock trims) when firmwareHoles is on —
 *     lost from the first node's memory, as on real machines;
 *   - [4G - pciHole, 4G), the PCI MMIO window, when pciHole > 0 — the RAM behind it is
 *     remapped above 4 GiB, so it moves up instead.
 * What remains is memblock.memory: one region per node per contiguous run of RAM, as the
 * "Early memory node ranges" boot lines print it. A node spans from its first RAM pfn to one
 * past its last (node_start_pfn, node_spanned_pages), holes included.
 *
 * Zones (arch/x86/mm/init.c zone_sizes_init(), mm/mm_init.c free_area_init() and
 * calculate_node_totalpages()). The machine-wide zone boundaries are ZONE_DMA below 16 MiB,
 * ZONE_DMA32 below 4 GiB and ZONE_NORMAL up to max_pfn, starting at the first RAM pfn. Each
 * node's zone is that range clamped to the node's span, so on a multi-node machine DMA and
 * DMA32 exist only on the node(s) whose RAM lies below those limits. spanned_pages counts
 * holes, present_pages only RAM. ZONE_DEVICE is never populated here.
 *
 * ZONE_MOVABLE is a simplification of find_zone_movable_pfns_for_nodes(): Linux turns
 * movablecore= into a kernelcore amount spread evenly over the nodes; here each node says how
 * many bytes at the top of its RAM become movable. As in Linux, ZONE_MOVABLE only takes from
 * the highest populated zone type of the machine (find_usable_zone_for_movable()), starts at a
 * pfn rounded up to MAX_ORDER_NR_PAGES, and ends the node; the zone it is carved from ends
 * where it starts (adjust_zone_range_for_zone_movable()).
 *
 * describe() prints what free_area_init(), memmap_init() and build_all_zonelists() print.
 */
import {
  formatSize,
  MAX_DMA_ADDR,
  MAX_DMA32_ADDR,
  MAX_NR_ZONES,
  MAX_ORDER_NR_PAGES,
  PAGE_SHIFT,
  PAGE_SIZE,
  type Pfn,
  parseSize,
  type Size,
  ZONE_DEVICE,
  ZONE_MOVABLE,
  ZONE_NAMES,
  type ZoneType,
} from '@mmsim/core';
import type {
  Machine,
  MachineOverrides,
  MachineSpec,
  MemoryRegion,
  NodeInfo,
  PfnRange,
  PresetName,
  ReservedRegion,
  ZoneSpan,
} from './api.js';
import {
  buildFallbackOrders,
  defaultDistances,
  MAX_NUMNODES,
  validateDistances,
} from './distance.js';
import { PRESET_NAMES, PRESETS } from './presets.js';

/** The smallest node: one MAX_ORDER block (MAX_ORDER_NR_PAGES pages, 4 MiB). */
const MIN_NODE_BYTES = MAX_ORDER_NR_PAGES * PAGE_SIZE;
/** arch/x86/include/asm/sparsemem.h: MAX_PHYSMEM_BITS with 4-level paging. */
const MAX_PHYSMEM_BITS = 52;
const MAX_PHYS_PFN = 2 ** (MAX_PHYSMEM_BITS - PAGE_SHIFT);
/** NR_CPUS of an x86-64 CONFIG_MAXSMP kernel. */
const NR_CPUS = 8192;
/** arch/x86/include/asm/dma.h: MAX_DMA_PFN and MAX_DMA32_PFN. */
const MAX_DMA_PFN = MAX_DMA_ADDR / PAGE_SIZE;
const MAX_DMA32_PFN = MAX_DMA32_ADDR / PAGE_SIZE;
/** arch/x86/include/asm/sparsemem.h: SECTION_SIZE_BITS 27, 128 MiB memory sections. */
const PAGES_PER_SECTION = 1 << (27 - PAGE_SHIFT);
/** pageblock_nr_pages (order 9) and MIGRATE_TYPES (no CMA, with MEMORY_ISOLATION) on x86-64. */
const PAGEBLOCK_NR_PAGES = 512;
const MIGRATE_TYPES = 5;
/** e820/memblock firmware areas that are not RAM: page 0 and 0x9f000-0xfffff. */
const FIRMWARE_HOLES: readonly PfnRange[] = [
  { startPfn: 0, endPfn: 1 },
  { startPfn: 0x9f, endPfn: 0x100 },
];

interface ParsedNode {
  memoryPages: number;
  cpus: number;
  movablePages: number;
}

interface ParsedSpec {
  name: string;
  nodes: ParsedNode[];
  distances: number[][];
  reserved: { start: number; end: number; name: string }[];
  firmwareHoles: boolean;
  pciHolePages: number;
}

/**
 * Build a machine from a spec or a preset name, optionally changing its total CPU count and
 * memory. Every bad value throws a TypeError or RangeError naming the field.
 */
export function createMachine(
  spec: MachineSpec | PresetName,
  overrides: MachineOverrides = {},
): Machine {
  let raw: MachineSpec;
  let defaultName = 'custom';
  if (typeof spec === 'string') {
    if (!Object.hasOwn(PRESETS, spec)) {
      throw new RangeError(`unknown machine preset '${spec}' (known: ${PRESET_NAMES.join(', ')})`);
    }
    raw = PRESETS[spec];
    defaultName = spec;
  } else if (spec !== null && typeof spec === 'object') {
    raw = spec;
  } else {
    throw new TypeError(
      `machine: expected a MachineSpec object or a preset name, got ${String(spec)}`,
    );
  }
  const parsed = parseSpec(raw, defaultName);
  applyOverrides(parsed, overrides);
  return new BootedMachine(parsed);
}

// ------------------------------------------------------------------ validation

function checkKeys(obj: object, known: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) {
      throw new TypeError(`${where}: unknown field '${key}' (known: ${known.join(', ')})`);
    }
  }
}

/** parseSize() with the field's name in front of its message. */
function sizeField(value: unknown, field: string): number {
  if (value === undefined) {
    throw new TypeError(`${field}: missing; expected bytes or a size like '512M'`);
  }
  try {
    return parseSize(value as Size, 'size');
  } catch (e) {
    if (e instanceof TypeError) throw new TypeError(`${field}: ${e.message}`);
    if (e instanceof RangeError) throw new RangeError(`${field}: ${e.message}`);
    throw e;
  }
}

function cpuCount(value: unknown, field: string): number {
  if (typeof value !== 'number') {
    throw new TypeError(
      `${field}: expected a number of CPUs, got ${typeof value === 'string' ? `'${value}'` : String(value)}`,
    );
  }
  if (!Number.isInteger(value) || value < 0 || value > NR_CPUS) {
    throw new RangeError(
      `${field}: ${value} is not a whole number of CPUs from 0 to ${NR_CPUS} (NR_CPUS)`,
    );
  }
  return value;
}

function nodeMemoryPages(bytes: number, field: string): number {
  if (bytes % PAGE_SIZE !== 0) {
    throw new RangeError(
      `${field}: ${bytes} bytes is not a multiple of the page size (${PAGE_SIZE})`,
    );
  }
  if (bytes < MIN_NODE_BYTES) {
    throw new RangeError(
      `${field}: ${formatSize(bytes)} is less than ${formatSize(MIN_NODE_BYTES)}, ` +
        `one MAX_ORDER block (${MAX_ORDER_NR_PAGES} pages), the smallest node`,
    );
  }
  return bytes / PAGE_SIZE;
}

function parseSpec(spec: MachineSpec, defaultName: string): ParsedSpec {
  checkKeys(
    spec,
    ['name', 'nodes', 'distances', 'reserved', 'firmwareHoles', 'pciHole'],
    'machine spec',
  );
  const name = spec.name ?? defaultName;
  if (typeof name !== 'string') throw new TypeError(`name: expected a string, got ${String(name)}`);

  if (!Array.isArray(spec.nodes)) {
    throw new TypeError(`nodes: expected an array of { memory, cpus }, got ${String(spec.nodes)}`);
  }
  if (spec.nodes.length === 0) throw new RangeError('nodes: a machine needs at least one node');
  if (spec.nodes.length > MAX_NUMNODES) {
    throw new RangeError(
      `nodes: ${spec.nodes.length} nodes is more than MAX_NUMNODES (${MAX_NUMNODES}, NODES_SHIFT 6)`,
    );
  }
  const nodes = spec.nodes.map((node, i): ParsedNode => {
    const at = `nodes[${i}]`;
    if (node === null || typeof node !== 'object') {
      throw new TypeError(`${at}: expected { memory, cpus }, got ${String(node)}`);
    }
    checkKeys(node, ['memory', 'cpus', 'movable'], at);
    const memoryPages = nodeMemoryPages(sizeField(node.memory, `${at}.memory`), `${at}.memory`);
    const cpus = cpuCount(node.cpus, `${at}.cpus`);
    let movablePages = 0;
    if (node.movable !== undefined) {
      const bytes = sizeField(node.movable, `${at}.movable`);
      if (bytes % PAGE_SIZE !== 0) {
        throw new RangeError(
          `${at}.movable: ${bytes} bytes is not a multiple of the page size (${PAGE_SIZE})`,
        );
      }
      movablePages = bytes / PAGE_SIZE;
    }
    return { memoryPages, cpus, movablePages };
  });

  let distances: number[][];
  if (spec.distances === undefined) {
    distances = defaultDistances(nodes.length);
  } else {
    validateDistances(spec.distances, nodes.length);
    distances = spec.distances.map((row) => [...row]);
  }

  const firmwareHoles = spec.firmwareHoles ?? true;
  if (typeof firmwareHoles !== 'boolean') {
    throw new TypeError(`firmwareHoles: expected true or false, got ${String(firmwareHoles)}`);
  }

  let pciHolePages = 0;
  if (spec.pciHole !== undefined) {
    const bytes = sizeField(spec.pciHole, 'pciHole');
    if (bytes % PAGE_SIZE !== 0) {
      throw new RangeError(
        `pciHole: ${bytes} bytes is not a multiple of the page size (${PAGE_SIZE})`,
      );
    }
    if (bytes > MAX_DMA32_ADDR - MAX_DMA_ADDR) {
      throw new RangeError(
        `pciHole: ${formatSize(bytes)} is more than 4 GiB - 16 MiB; the hole must start above ZONE_DMA`,
      );
    }
    pciHolePages = bytes / PAGE_SIZE;
  }

  const reservedSpecs = spec.reserved ?? [];
  if (!Array.isArray(reservedSpecs)) {
    throw new TypeError(
      `reserved: expected an array of { start, size, name }, got ${String(reservedSpecs)}`,
    );
  }
  const reserved = reservedSpecs.map((r, i) => {
    const at = `reserved[${i}]`;
    if (r === null || typeof r !== 'object') {
      throw new TypeError(`${at}: expected { start, size, name }, got ${String(r)}`);
    }
    checkKeys(r, ['start', 'size', 'name'], at);
    const start = sizeField(r.start, `${at}.start`);
    const size = sizeField(r.size, `${at}.size`);
    if (size === 0) throw new RangeError(`${at}.size: a reservation of 0 bytes reserves nothing`);
    if (typeof r.name !== 'string' || r.name === '') {
      throw new TypeError(`${at}.name: expected a non-empty string, got ${String(r.name)}`);
    }
    return { start, end: start + size, name: r.name };
  });

  return { name, nodes, distances, reserved, firmwareHoles, pciHolePages };
}

function applyOverrides(spec: ParsedSpec, overrides: MachineOverrides): void {
  if (overrides === null || typeof overrides !== 'object') {
    throw new TypeError(`overrides: expected an object, got ${String(overrides)}`);
  }
  checkKeys(overrides, ['cpus', 'memory', 'name'], 'overrides');
  const nodes = spec.nodes;
  if (overrides.name !== undefined) {
    if (typeof overrides.name !== 'string') {
      throw new TypeError(`overrides.name: expected a string, got ${String(overrides.name)}`);
    }
    spec.name = overrides.name;
  }
  if (overrides.memory !== undefined) {
    const total = sizeField(overrides.memory, 'overrides.memory');
    const perNode = Math.floor(total / nodes.length / MIN_NODE_BYTES) * MIN_NODE_BYTES;
    if (perNode < MIN_NODE_BYTES) {
      throw new RangeError(
        `overrides.memory: ${formatSize(total)} over ${nodes.length} node(s) leaves less than ` +
          `${formatSize(MIN_NODE_BYTES)} (one MAX_ORDER block) per node`,
      );
    }
    for (const node of nodes) node.memoryPages = perNode / PAGE_SIZE;
  }
  if (overrides.cpus !== undefined) {
    const total = cpuCount(overrides.cpus, 'overrides.cpus');
    if (total < 1) throw new RangeError('overrides.cpus: a machine needs at least 1 CPU');
    // Spread over the nodes that have CPUs (memory-only nodes stay memory-only).
    let targets = nodes.filter((n) => n.cpus > 0);
    if (targets.length === 0) targets = nodes;
    const each = Math.floor(total / targets.length);
    for (const node of nodes) node.cpus = 0;
    for (const node of targets) node.cpus = each;
    targets[0]!.cpus += total - each * targets.length;
  }
  const totalCpus = nodes.reduce((s, n) => s + n.cpus, 0);
  if (totalCpus < 1)
    throw new RangeError('nodes: the machine has no CPU; give at least one node cpus >= 1');
  if (totalCpus > NR_CPUS) {
    throw new RangeError(`nodes: ${totalCpus} CPUs is more than NR_CPUS (${NR_CPUS})`);
  }
}

// ------------------------------------------------------------------ layout

/** A range that is never RAM; `eatsRam` when it comes out of the node's own memory. */
interface Hole extends PfnRange {
  eatsRam: boolean;
}

/**
 * The pfn ranges that are never RAM, sorted. Firmware areas lie inside the first DIMM and
 * simply are not usable RAM (the 24 GiB reference machine shows 6291358 pages: 24 GiB less
 * page 0 and the 97 pages of 0x9f000-0xfffff). The PCI hole is different: the memory
 * controller remaps the RAM behind it above 4 GiB, so that RAM moves up instead.
 */
function holesOf(spec: ParsedSpec): Hole[] {
  const holes: Hole[] = spec.firmwareHoles
    ? FIRMWARE_HOLES.map((h) => ({ ...h, eatsRam: true }))
    : [];
  if (spec.pciHolePages > 0) {
    holes.push({
      startPfn: MAX_DMA32_PFN - spec.pciHolePages,
      endPfn: MAX_DMA32_PFN,
      eatsRam: false,
    });
  }
  return holes.sort((a, b) => a.startPfn - b.startPfn);
}

/**
 * Place every node's RAM, in node order from pfn 0. A node's `memory` is the size of its
 * DIMMs: firmware holes inside it are lost, the PCI hole pushes the rest above 4 GiB. So
 * nodes of round sizes start at round addresses (node 1 of `server` at 16 GiB), as on real
 * machines.
 */
function layoutNodes(spec: ParsedSpec): PfnRange[][] {
  const holes = holesOf(spec);
  let cursor = 0;
  return spec.nodes.map((node) => {
    const ranges: PfnRange[] = [];
    let need = node.memoryPages;
    while (need > 0) {
      const inside = holes.find((h) => cursor >= h.startPfn && cursor < h.endPfn);
      if (inside) {
        if (inside.eatsRam) need -= Math.min(need, inside.endPfn - cursor);
        cursor = inside.endPfn;
        continue;
      }
      let next = Number.POSITIVE_INFINITY;
      for (const h of holes) {
        if (h.startPfn > cursor) {
          next = h.startPfn;
          break;
        }
      }
      const take = Math.min(need, next - cursor);
      const last = ranges[ranges.length - 1];
      if (last && last.endPfn === cursor)
        ranges[ranges.length - 1] = { startPfn: last.startPfn, endPfn: cursor + take };
      else ranges.push({ startPfn: cursor, endPfn: cursor + take });
      cursor += take;
      need -= take;
    }
    return ranges;
  });
}

/** Pages of `ranges` inside [start, end). */
function pagesIn(ranges: readonly PfnRange[], start: Pfn, end: Pfn): number {
  let n = 0;
  for (const r of ranges) n += Math.max(0, Math.min(r.endPfn, end) - Math.max(r.startPfn, start));
  return n;
}

/** The parts of `ranges` inside [start, end). */
function clipRanges(ranges: readonly PfnRange[], start: Pfn, end: Pfn): PfnRange[] {
  const out: PfnRange[] = [];
  for (const r of ranges) {
    const s = Math.max(r.startPfn, start);
    const e = Math.min(r.endPfn, end);
    if (s < e) out.push(Object.freeze({ startPfn: s, endPfn: e }));
  }
  return out;
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);

/** %#018Lx as the kernel's vsprintf prints it: 0x and 16 hex digits, even for 0. */
const hex18 = (v: number): string => `0x${v.toString(16).padStart(16, '0')}`;
/** "[mem %#018Lx-%#018Lx]" of a pfn range. */
const memRange = (startPfn: Pfn, endPfn: Pfn): string =>
  `[mem ${hex18(startPfn * PAGE_SIZE)}-${hex18(endPfn * PAGE_SIZE - 1)}]`;

// ------------------------------------------------------------------ the machine

/** Index of the last range starting at or before `pfn` in sorted `starts`, or -1. */
function searchStart(starts: Float64Array, pfn: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]! <= pfn) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

class BootedMachine implements Machine {
  readonly name: string;
  readonly nodes: readonly NodeInfo[];
  readonly nrNodes: number;
  readonly nrCpus: number;
  readonly distances: readonly (readonly number[])[];
  readonly zones: readonly ZoneSpan[];
  readonly memoryRanges: readonly MemoryRegion[];
  readonly reserved: readonly ReservedRegion[];
  readonly maxPfn: Pfn;
  readonly totalPages: number;

  private readonly cpuNode: Int32Array;
  private readonly orders: readonly (readonly number[])[];
  private readonly bootLog: readonly string[];
  // Sorted lookup tables for the pfn queries.
  private readonly ramStart: Float64Array;
  private readonly ramEnd: Float64Array;
  private readonly spanStart: Float64Array;
  private readonly spanEnd: Float64Array;
  private readonly spanNid: Int32Array;
  private readonly spanType: Int32Array;

  constructor(spec: ParsedSpec) {
    this.name = spec.name;
    this.nrNodes = spec.nodes.length;
    this.distances = Object.freeze(spec.distances.map((row) => Object.freeze([...row])));

    // memblock.memory
    const nodeRanges = layoutNodes(spec);
    const memoryRanges: MemoryRegion[] = [];
    nodeRanges.forEach((ranges, nid) => {
      for (const r of ranges)
        memoryRanges.push(Object.freeze({ nid, startPfn: r.startPfn, endPfn: r.endPfn }));
    });
    this.memoryRanges = Object.freeze(memoryRanges);
    const last = memoryRanges[memoryRanges.length - 1]!;
    this.maxPfn = last.endPfn;
    if (this.maxPfn > MAX_PHYS_PFN) {
      throw new RangeError(
        `nodes: the RAM would end at ${hex18(this.maxPfn * PAGE_SIZE)}, beyond the ` +
          `${MAX_PHYSMEM_BITS}-bit physical address space (MAX_PHYSMEM_BITS)`,
      );
    }
    this.totalPages = memoryRanges.reduce((s, r) => s + r.endPfn - r.startPfn, 0);

    // CPUs, contiguous by node.
    let cpu = 0;
    const cpuNode: number[] = [];
    this.nodes = Object.freeze(
      spec.nodes.map((node, nid): NodeInfo => {
        const cpus: number[] = [];
        for (let i = 0; i < node.cpus; i++, cpu++) {
          cpus.push(cpu);
          cpuNode.push(nid);
        }
        const ranges = nodeRanges[nid]!;
        return Object.freeze({
          nid,
          cpus: Object.freeze(cpus),
          memoryBytes: node.memoryPages * PAGE_SIZE,
          startPfn: ranges[0]!.startPfn,
          endPfn: ranges[ranges.length - 1]!.endPfn,
          ranges: Object.freeze(ranges.map((r) => Object.freeze({ ...r }))),
        });
      }),
    );
    this.nrCpus = cpu;
    this.cpuNode = Int32Array.from(cpuNode);

    // memblock.reserved, rounded out to pages as reserve_bootmem_region() marks them.
    const maxBytes = this.maxPfn * PAGE_SIZE;
    this.reserved = Object.freeze(
      spec.reserved.map((r, i): ReservedRegion => {
        if (r.end > maxBytes) {
          throw new RangeError(
            `reserved[${i}]: [mem ${hex18(r.start)}-${hex18(r.end - 1)}] is outside RAM ` +
              `(which ends at ${hex18(maxBytes - 1)})`,
          );
        }
        return Object.freeze({
          startPfn: Math.floor(r.start / PAGE_SIZE),
          endPfn: Math.ceil(r.end / PAGE_SIZE),
          name: r.name,
        });
      }),
    );

    // Zones.
    const zoning = sizeZones(spec, this.nodes, this.maxPfn, this.reserved);
    this.zones = zoning.zones;

    // Zonelists.
    this.orders = Object.freeze(
      buildFallbackOrders(
        this.distances,
        this.nodes.map((n) => n.cpus.length > 0),
      ).map((o) => Object.freeze(o)),
    );

    // Lookup tables.
    this.ramStart = Float64Array.from(memoryRanges, (r) => r.startPfn);
    this.ramEnd = Float64Array.from(memoryRanges, (r) => r.endPfn);
    const spans = this.zones
      .filter((z) => z.spannedPages > 0)
      .sort((a, b) => a.startPfn - b.startPfn);
    this.spanStart = Float64Array.from(spans, (z) => z.startPfn);
    this.spanEnd = Float64Array.from(spans, (z) => z.startPfn + z.spannedPages);
    this.spanNid = Int32Array.from(spans, (z) => z.nid);
    this.spanType = Int32Array.from(spans, (z) => z.type);

    this.bootLog = Object.freeze(this.bootLines(zoning));
  }

  cpuToNode(cpu: number): number {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.nrCpus) {
      throw new RangeError(`cpu ${cpu} does not exist (cpus 0..${this.nrCpus - 1})`);
    }
    return this.cpuNode[cpu]!;
  }

  distance(from: number, to: number): number {
    this.checkNid(from);
    this.checkNid(to);
    return this.distances[from]![to]!;
  }

  zone(nid: number, type: ZoneType): ZoneSpan {
    this.checkNid(nid);
    if (!Number.isInteger(type) || type < 0 || type >= MAX_NR_ZONES) {
      throw new RangeError(`zone type ${type} does not exist (0..${MAX_NR_ZONES - 1})`);
    }
    return this.zones[nid * MAX_NR_ZONES + type]!;
  }

  fallbackOrder(nid: number): readonly number[] {
    this.checkNid(nid);
    return this.orders[nid]!;
  }

  isPfnRam(pfn: Pfn): boolean {
    const i = searchStart(this.ramStart, pfn);
    return i >= 0 && pfn < this.ramEnd[i]!;
  }

  pfnToNid(pfn: Pfn): number {
    const i = searchStart(this.spanStart, pfn);
    return i >= 0 && pfn < this.spanEnd[i]! ? this.spanNid[i]! : -1;
  }

  pfnToZoneType(pfn: Pfn): number {
    const i = searchStart(this.spanStart, pfn);
    return i >= 0 && pfn < this.spanEnd[i]! ? this.spanType[i]! : -1;
  }

  describe(): string[] {
    return [...this.bootLog];
  }

  private checkNid(nid: number): void {
    if (!Number.isInteger(nid) || nid < 0 || nid >= this.nrNodes) {
      throw new RangeError(`node ${nid} does not exist (nodes 0..${this.nrNodes - 1})`);
    }
  }

  /** The boot log lines of free_area_init(), memmap_init() and build_all_zonelists(). */
  private bootLines(zoning: Zoning): string[] {
    const lines: string[] = ['Zone ranges:'];
    for (let t = 0; t < MAX_NR_ZONES; t++) {
      if (t === ZONE_MOVABLE) continue;
      const lo = zoning.lowest[t]!;
      const hi = zoning.highest[t]!;
      lines.push(`  ${ZONE_NAMES[t]!.padEnd(8)} ${lo === hi ? 'empty' : memRange(lo, hi)}`);
    }
    lines.push('Movable zone start for each node');
    zoning.zoneMovablePfn.forEach((pfn, nid) => {
      if (pfn) lines.push(`  Node ${nid}: ${hex18(pfn * PAGE_SIZE)}`);
    });
    lines.push('Early memory node ranges');
    for (const r of this.memoryRanges) {
      lines.push(`  node ${String(r.nid).padStart(3)}: ${memRange(r.startPfn, r.endPfn)}`);
    }
    for (const node of this.nodes) {
      lines.push(`Initmem setup node ${node.nid} ${memRange(node.startPfn, node.endPfn)}`);
    }
    lines.push(...this.unavailableRangeLines());
    for (const node of this.nodes) {
      lines.push(
        `Fallback order for Node ${node.nid}: ${this.orders[node.nid]!.map((n) => `${n} `).join('')}`,
      );
    }
    // mm/page_alloc.c build_all_zonelists(): grouping by mobility needs a few pageblocks.
    const mobility = this.totalPages < PAGEBLOCK_NR_PAGES * MIGRATE_TYPES ? 'off' : 'on';
    lines.push(
      `Built ${this.nrNodes} zonelists, mobility grouping ${mobility}.  Total pages: ${this.totalPages}`,
    );
    // check_highest_zone(): the highest populated zone other than ZONE_MOVABLE.
    let policyZone = 0;
    for (const z of this.zones) {
      if (z.presentPages > 0 && z.type !== ZONE_MOVABLE && z.type > policyZone) policyZone = z.type;
    }
    lines.push(`Policy zone: ${ZONE_NAMES[policyZone]}`);
    return lines;
  }

  /**
   * mm/mm_init.c memmap_init(): the holes between RAM ranges (and up to the end of the last
   * memory section) get struct pages of the zone they precede, and init_unavailable_range()
   * reports how many pages with a valid memmap (pfn_valid(): the 128 MiB section holds some
   * RAM) each hole had: "On node 0, zone DMA: 97 pages in unavailable ranges".
   */
  private unavailableRangeLines(): string[] {
    // Valid pfns: every section that contains RAM, merged.
    const valid: PfnRange[] = [];
    for (const r of this.memoryRanges) {
      const s = Math.floor(r.startPfn / PAGES_PER_SECTION) * PAGES_PER_SECTION;
      const e = Math.ceil(r.endPfn / PAGES_PER_SECTION) * PAGES_PER_SECTION;
      const last = valid[valid.length - 1];
      if (last && s <= last.endPfn)
        valid[valid.length - 1] = { startPfn: last.startPfn, endPfn: Math.max(last.endPfn, e) };
      else valid.push({ startPfn: s, endPfn: e });
    }
    const lines: string[] = [];
    const report = (start: Pfn, end: Pfn, type: number, nid: number): void => {
      const pages = pagesIn(valid, start, end);
      if (pages > 0)
        lines.push(
          `On node ${nid}, zone ${ZONE_NAMES[type]}: ${pages} pages in unavailable ranges`,
        );
    };
    let holePfn = 0;
    let zoneId = 0;
    let nid = 0;
    let endPfn = 0;
    for (const r of this.memoryRanges) {
      nid = r.nid;
      endPfn = r.endPfn;
      for (let t = 0; t < MAX_NR_ZONES; t++) {
        const z = this.zones[r.nid * MAX_NR_ZONES + t]!;
        if (z.presentPages === 0) continue;
        // memmap_init_zone_range()
        const zEnd = z.startPfn + z.spannedPages;
        const s = clamp(r.startPfn, z.startPfn, zEnd);
        const e = clamp(r.endPfn, z.startPfn, zEnd);
        if (s < e) {
          if (holePfn < s) report(holePfn, s, t, r.nid);
          holePfn = e;
        }
        zoneId = t;
      }
    }
    // The hole from the end of RAM to the end of its memory section.
    const sectionEnd = Math.ceil(endPfn / PAGES_PER_SECTION) * PAGES_PER_SECTION;
    if (holePfn < sectionEnd) report(holePfn, sectionEnd, zoneId, nid);
    return lines;
  }
}

interface Zoning {
  zones: readonly ZoneSpan[];
  /** arch_zone_lowest_possible_pfn[] / arch_zone_highest_possible_pfn[] */
  lowest: number[];
  highest: number[];
  /** zone_movable_pfn[]: where ZONE_MOVABLE starts on each node, 0 for none. */
  zoneMovablePfn: number[];
}

/** free_area_init() → calculate_node_totalpages() for every node. */
function sizeZones(
  spec: ParsedSpec,
  nodes: readonly NodeInfo[],
  maxPfn: Pfn,
  reserved: readonly ReservedRegion[],
): Zoning {
  // arch/x86/mm/init.c zone_sizes_init(): max_zone_pfns[] (max_low_pfn = max_pfn on x86-64).
  const maxZonePfn = [Math.min(MAX_DMA_PFN, maxPfn), Math.min(MAX_DMA32_PFN, maxPfn), maxPfn, 0, 0];
  const lowest = new Array<number>(MAX_NR_ZONES).fill(0);
  const highest = new Array<number>(MAX_NR_ZONES).fill(0);
  let start = nodes[0]!.startPfn; // memblock_start_of_DRAM()
  for (let t = 0; t < MAX_NR_ZONES; t++) {
    if (t === ZONE_MOVABLE) continue;
    const end = Math.max(maxZonePfn[t]!, start);
    lowest[t] = start;
    highest[t] = end;
    start = end;
  }

  // find_usable_zone_for_movable(): the highest zone type with any memory.
  let movableZone = 0;
  for (let t = MAX_NR_ZONES - 1; t >= 0; t--) {
    if (t === ZONE_MOVABLE) continue;
    if (highest[t]! > lowest[t]!) {
      movableZone = t;
      break;
    }
  }

  const zoneMovablePfn = nodes.map((node) => {
    const movable = spec.nodes[node.nid]!.movablePages;
    if (movable === 0) return 0;
    const usable = pagesIn(node.ranges, lowest[movableZone]!, highest[movableZone]!);
    if (movable > usable) {
      throw new RangeError(
        `nodes[${node.nid}].movable: ${formatSize(movable * PAGE_SIZE)} is more than node ` +
          `${node.nid}'s ${ZONE_NAMES[movableZone]} memory (${formatSize(usable * PAGE_SIZE)}); ` +
          `ZONE_MOVABLE is taken from the highest zone only`,
      );
    }
    // The pfn where the top `movable` pages of RAM begin, rounded up to a MAX_ORDER block.
    let left = movable;
    let pfn = node.endPfn;
    for (let i = node.ranges.length - 1; i >= 0; i--) {
      const r = node.ranges[i]!;
      const len = r.endPfn - r.startPfn;
      if (left <= len) {
        pfn = r.endPfn - left;
        break;
      }
      left -= len;
    }
    return Math.ceil(pfn / MAX_ORDER_NR_PAGES) * MAX_ORDER_NR_PAGES;
  });

  // Merged reservations, so that overlapping ones count each page once.
  const res = [...reserved].sort((a, b) => a.startPfn - b.startPfn);
  const resMerged: PfnRange[] = [];
  for (const r of res) {
    const last = resMerged[resMerged.length - 1];
    if (last && r.startPfn <= last.endPfn) {
      resMerged[resMerged.length - 1] = {
        startPfn: last.startPfn,
        endPfn: Math.max(last.endPfn, r.endPfn),
      };
    } else {
      resMerged.push({ startPfn: r.startPfn, endPfn: r.endPfn });
    }
  }

  const zones: ZoneSpan[] = [];
  for (const node of nodes) {
    const nodeStart = node.startPfn;
    const nodeEnd = node.endPfn;
    const zmp = zoneMovablePfn[node.nid]!;
    for (let t = 0; t < MAX_NR_ZONES; t++) {
      // zone_spanned_pages_in_node()
      let zs = t === ZONE_MOVABLE ? 0 : clamp(nodeStart, lowest[t]!, highest[t]!);
      let ze = t === ZONE_MOVABLE ? 0 : clamp(nodeEnd, lowest[t]!, highest[t]!);
      // adjust_zone_range_for_zone_movable()
      if (zmp) {
        if (t === ZONE_MOVABLE) {
          zs = zmp;
          ze = Math.min(nodeEnd, highest[movableZone]!);
        } else if (zs < zmp && ze > zmp) {
          ze = zmp;
        } else if (zs >= zmp) {
          zs = ze;
        }
      }
      const spanned = ze < nodeStart || zs > nodeEnd ? 0 : Math.max(0, ze - zs);
      const startPfn = spanned ? zs : 0;
      const ranges =
        spanned && t !== ZONE_DEVICE ? clipRanges(node.ranges, startPfn, startPfn + spanned) : [];
      let present = 0;
      let reservedPages = 0;
      for (const r of ranges) {
        present += r.endPfn - r.startPfn;
        reservedPages += pagesIn(resMerged, r.startPfn, r.endPfn);
      }
      zones.push(
        Object.freeze({
          nid: node.nid,
          type: t as ZoneType,
          name: ZONE_NAMES[t]!,
          slot: node.nid * MAX_NR_ZONES + t,
          startPfn,
          spannedPages: spanned,
          presentPages: present,
          reservedPages,
          ranges: Object.freeze(ranges),
        }),
      );
    }
  }
  return { zones: Object.freeze(zones), lowest, highest, zoneMovablePfn };
}
