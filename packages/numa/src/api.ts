/**
 * Types of @mmsim/numa: how a machine is described (MachineSpec) and what createMachine()
 * gives back (Machine). Everything here is cold-path configuration and reporting: plain,
 * readonly objects. Hot data (numastat counters) lives in typed arrays (numastat.ts).
 */
import type { Pfn, Size, ZoneType } from '@mmsim/core';

/** One NUMA node: its RAM and its CPUs. */
export interface NodeSpec {
  /**
   * Bytes of memory on this node ('16G', '512M' or a number of bytes): a multiple of the page
   * size and at least 4 MiB (one MAX_ORDER block). Firmware holes inside it are lost (node 0
   * of a 64M machine has 64M less 392 KiB of RAM); RAM behind the PCI hole moves above 4 GiB.
   */
  memory: Size;
  /** Number of CPUs on this node; 0 makes a memory-only node (like a CXL expander). */
  cpus: number;
  /**
   * Bytes at the top of this node's RAM given to ZONE_MOVABLE, like `movablecore=` on the
   * kernel command line (but per node). The zone starts at a MAX_ORDER_NR_PAGES-aligned pfn.
   * @defaultValue 0 (no ZONE_MOVABLE)
   */
  movable?: Size;
}

/** A memblock reservation (memblock_reserve()): RAM the boot code keeps for itself. */
export interface ReservedSpec {
  /** Physical start address; rounded down to a page, as memblock does. */
  start: Size;
  /** Length in bytes; the end is rounded up to a page. */
  size: Size;
  /** What the memory is for (printed in reports), e.g. 'kernel', 'initrd'. */
  name: string;
}

/** A machine: its nodes, their distances and the holes in its physical address space. */
export interface MachineSpec {
  /** A name for reports. @defaultValue the preset name, or 'custom' */
  name?: string;
  /** The NUMA nodes, laid out one after another from physical address 0 (1..64 nodes). */
  nodes: readonly NodeSpec[];
  /**
   * The SLIT: `distances[from][to]`, n×n, integers 10..254, 10 on the diagonal, more than 10
   * elsewhere (drivers/acpi/numa/srat.c slit_valid()). May be asymmetric.
   * @defaultValue 10 local, 21 remote (a typical two-socket SLIT)
   */
  distances?: readonly (readonly number[])[];
  /** memblock.reserved: ranges of RAM that never reach the buddy allocator. @defaultValue [] */
  reserved?: readonly ReservedSpec[];
  /**
   * Leave out the x86 firmware areas as the e820 map does: page 0 ("usable ==> reserved") and
   * 0x9f000-0xfffff (EBDA, VGA, BIOS ROM). RAM then starts at 0x1000.
   * @defaultValue true
   */
  firmwareHoles?: boolean;
  /**
   * Size of the PCI MMIO hole below 4 GiB: [4G - pciHole, 4G) is not RAM, and the RAM that
   * would be there continues at 4 GiB. At most 4G - 16M (the hole stays above ZONE_DMA).
   * @defaultValue 0
   */
  pciHole?: Size;
}

/** The built-in machines (see presets.ts). */
export type PresetName = 'tiny' | 'laptop' | 'server' | 'numa4' | 'big64';

/** Changes applied on top of a preset or spec by createMachine(). */
export interface MachineOverrides {
  /**
   * Total CPU count, spread evenly over the nodes that have CPUs in the spec (the first of
   * them gets the remainder).
   */
  cpus?: number;
  /** Total memory (DIMM size), split evenly over the nodes and rounded down to 4 MiB per node. */
  memory?: Size;
  /** A different name for reports. */
  name?: string;
}

/** A range of page frames [startPfn, endPfn). */
export interface PfnRange {
  readonly startPfn: Pfn;
  readonly endPfn: Pfn;
}

/** A NUMA node as booted (struct pglist_data, in brief). */
export interface NodeInfo {
  readonly nid: number;
  /** Global CPU ids on this node; ids are contiguous by node (node 0 has 0..k-1). */
  readonly cpus: readonly number[];
  /** Bytes of memory the node spans: its DIMMs, what the spec asked for (RAM is this less firmware holes). */
  readonly memoryBytes: number;
  /** node_start_pfn: the node's first RAM pfn. */
  readonly startPfn: Pfn;
  /** node_start_pfn + node_spanned_pages: one past the node's last RAM pfn. */
  readonly endPfn: Pfn;
  /** The node's RAM (its memblock.memory regions), in address order. */
  readonly ranges: readonly PfnRange[];
}

/**
 * One zone of one node, as free_area_init() sizes it (mm/mm_init.c
 * calculate_node_totalpages()). Unpopulated zones are listed too, with everything 0, because
 * /proc/zoneinfo prints them.
 */
export interface ZoneSpan {
  readonly nid: number;
  readonly type: ZoneType;
  /** zone_names[type]: 'DMA', 'DMA32', 'Normal', 'Movable', 'Device'. */
  readonly name: string;
  /** nid * MAX_NR_ZONES + type: the index of this zone in per-zone typed arrays. */
  readonly slot: number;
  /** zone_start_pfn; 0 when the zone spans nothing. */
  readonly startPfn: Pfn;
  /** spanned_pages: end - start, holes included. */
  readonly spannedPages: number;
  /** present_pages: RAM pages inside the span. */
  readonly presentPages: number;
  /** Present pages inside memblock reservations (each page counted once). */
  readonly reservedPages: number;
  /** The RAM of this zone, in address order. */
  readonly ranges: readonly PfnRange[];
}

/** A memblock.memory region. */
export interface MemoryRegion extends PfnRange {
  readonly nid: number;
}

/** A memblock.reserved region, rounded out to whole pages. */
export interface ReservedRegion extends PfnRange {
  readonly name: string;
}

/** A booted machine's topology: nodes, CPUs, distances, zones. Immutable. */
export interface Machine {
  readonly name: string;
  readonly nodes: readonly NodeInfo[];
  readonly nrNodes: number;
  readonly nrCpus: number;
  /** The SLIT, `distances[from][to]`. */
  readonly distances: readonly (readonly number[])[];
  /** Every (node, zone type), node order then zone type order, unpopulated ones included. */
  readonly zones: readonly ZoneSpan[];
  /** memblock.memory, in address order. */
  readonly memoryRanges: readonly MemoryRegion[];
  /** memblock.reserved, in the order given. Regions may overlap. */
  readonly reserved: readonly ReservedRegion[];
  /** One past the highest RAM pfn (max_pfn). */
  readonly maxPfn: Pfn;
  /** Pages of RAM on the whole machine. */
  readonly totalPages: number;
  /** cpu_to_node(). Throws a RangeError for a CPU that does not exist. */
  cpuToNode(cpu: number): number;
  /** node_distance(from, to). Throws a RangeError for a node that does not exist. */
  distance(from: number, to: number): number;
  /** The zone of type `type` on node `nid`. */
  zone(nid: number, type: ZoneType): ZoneSpan;
  /** build_zonelists(): the node order of node `nid`'s fallback zonelist, local node first. */
  fallbackOrder(nid: number): readonly number[];
  /** Is this pfn RAM (inside memblock.memory)? */
  isPfnRam(pfn: Pfn): boolean;
  /** The node whose span holds `pfn`, or -1 (NUMA_NO_NODE). Holes inside a span count. */
  pfnToNid(pfn: Pfn): number;
  /** The zone type whose span holds `pfn`, or -1. Holes inside a span count. */
  pfnToZoneType(pfn: Pfn): number;
  /** The memory part of the boot log, one line per element, without timestamps. */
  describe(): string[];
}

/** Options of accessCostNs(). */
export interface AccessCostOptions {
  /** Latency of a local memory access in nanoseconds. @defaultValue 80 */
  localNs?: number;
}

/** What accessCostNs() measures the distance to: a page frame, or a node. */
export type AccessTarget = { readonly pfn: Pfn } | { readonly nid: number };

/** Memory sizes numactl --hardware prints per node (node meminfo MemTotal and MemFree). */
export interface NumactlMemory {
  /** Bytes of MemTotal per node. @defaultValue the node's memory size (memoryBytes) */
  sizeBytes?: readonly number[];
  /** Bytes of MemFree per node. @defaultValue unknown: numactl prints `<not available>` */
  freeBytes?: readonly number[];
}

/** A node's counters under their sysfs names (drivers/base/node.c node_read_numastat()). */
export interface NodeNumaCounters {
  numa_hit: number;
  numa_miss: number;
  numa_foreign: number;
  interleave_hit: number;
  local_node: number;
  other_node: number;
}

/** A zone's counters under their /proc/zoneinfo and /proc/vmstat names. */
export interface ZoneNumaCounters {
  numa_hit: number;
  numa_miss: number;
  numa_foreign: number;
  numa_interleave: number;
  numa_local: number;
  numa_other: number;
}
