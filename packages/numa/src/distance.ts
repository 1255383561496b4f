/**
 * NUMA distances: the SLIT, the zonelist node order built from it, and the text the kernel and
 * numactl print about it.
 *
 * A distance is the relative cost of a memory access from one node to another, 10 meaning
 * "local" (include/linux/topology.h). On x86 and arm64 the table comes from the ACPI SLIT;
 * drivers/acpi/numa/srat.c slit_valid() rejects a table whose diagonal is not 10 or whose
 * other entries are not above 10, and 255 means "unreachable", which online nodes never are.
 *
 * The fallback order follows mm/page_alloc.c build_zonelists() and find_next_best_node()
 * exactly: the local node first, then repeatedly the unused node minimising
 *   (distance + (n < local) + (n has CPUs ? PENALTY_FOR_NODE_WITH_CPUS : 0)) * MAX_NUMNODES
 *     + node_load[n]
 * where node_load[] is shared by all nodes' builds and bumped for the first node of each new
 * distance group, so that nodes at equal distance take turns being first.
 */
import type { Pfn } from '@mmsim/core';
import type { AccessCostOptions, AccessTarget, Machine, NumactlMemory } from './api.js';

/** include/linux/topology.h: the distance of a node to itself. */
export const LOCAL_DISTANCE = 10;
/** include/linux/topology.h: node_distance() of two different nodes when there is no SLIT. */
export const REMOTE_DISTANCE = 20;
/** include/linux/topology.h: node_reclaim() only reclaims on nodes at most this far away. */
export const RECLAIM_DISTANCE = 30;
/** include/linux/topology.h: added in find_next_best_node() for a candidate with CPUs. */
export const PENALTY_FOR_NODE_WITH_CPUS = 1;
/** CONFIG_NODES_SHIFT used here (the x86-64 default for non-MAXSMP is 6). */
export const NODES_SHIFT = 6;
/** include/linux/numa.h: MAX_NUMNODES = 1 << NODES_SHIFT. */
export const MAX_NUMNODES = 1 << NODES_SHIFT;
/** The largest SLIT entry allowed between online nodes (255 means unreachable). */
const MAX_SLIT_DISTANCE = 254;
/** The remote distance of a typical two-socket machine's SLIT, used when none is given. */
export const DEFAULT_REMOTE_DISTANCE = 21;

/** A SLIT with 10 on the diagonal and DEFAULT_REMOTE_DISTANCE (21) everywhere else. */
export function defaultDistances(nrNodes: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < nrNodes; i++) {
    const row: number[] = [];
    for (let j = 0; j < nrNodes; j++) row.push(i === j ? LOCAL_DISTANCE : DEFAULT_REMOTE_DISTANCE);
    out.push(row);
  }
  return out;
}

/**
 * Check a SLIT for `nrNodes` nodes as drivers/acpi/numa/srat.c slit_valid() does, plus the
 * shape: square, n×n, integers 10..254, 10 on the diagonal, above 10 elsewhere. Asymmetric
 * tables are allowed (the SLIT is). Throws a TypeError/RangeError naming the row and column.
 */
export function validateDistances(matrix: unknown, nrNodes: number): void {
  const shape = `${nrNodes}×${nrNodes}`;
  if (!Array.isArray(matrix)) {
    throw new TypeError(`distances: expected a ${shape} array of arrays, got ${describe(matrix)}`);
  }
  if (matrix.length !== nrNodes) {
    throw new RangeError(
      `distances: ${matrix.length} rows for ${nrNodes} node(s); the table must be ${shape}`,
    );
  }
  for (let i = 0; i < nrNodes; i++) {
    const row: unknown = matrix[i];
    if (!Array.isArray(row)) {
      throw new TypeError(
        `distances[${i}]: expected an array of ${nrNodes} numbers, got ${describe(row)}`,
      );
    }
    if (row.length !== nrNodes) {
      throw new RangeError(
        `distances[${i}]: ${row.length} columns for ${nrNodes} node(s); the table must be ${shape}`,
      );
    }
    for (let j = 0; j < nrNodes; j++) {
      const d: unknown = row[j];
      const at = `distances[${i}][${j}]`;
      if (typeof d !== 'number') {
        throw new TypeError(`${at}: expected a number, got ${describe(d)}`);
      }
      if (!Number.isInteger(d) || d < LOCAL_DISTANCE || d > MAX_SLIT_DISTANCE) {
        throw new RangeError(
          `${at}: ${d} is not a valid distance: SLIT entries are integers ${LOCAL_DISTANCE}..${MAX_SLIT_DISTANCE}` +
            ' (255 means unreachable, which online nodes never are)',
        );
      }
      if (i === j && d !== LOCAL_DISTANCE) {
        throw new RangeError(
          `${at}: ${d} on the diagonal; a node's distance to itself must be LOCAL_DISTANCE (${LOCAL_DISTANCE})`,
        );
      }
      if (i !== j && d <= LOCAL_DISTANCE) {
        throw new RangeError(
          `${at}: ${d} must be greater than LOCAL_DISTANCE (${LOCAL_DISTANCE}): the local node is the closest`,
        );
      }
    }
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return `'${value}'`;
  return String(value);
}

/**
 * mm/page_alloc.c __build_all_zonelists(): build_zonelists() for every node in order, with one
 * node_load[] shared by all of them. Every node has memory here (N_MEMORY); `hasCpus[n]` says
 * whether cpumask_of_node(n) is non-empty. Returns each node's fallback node order.
 */
export function buildFallbackOrders(
  distances: readonly (readonly number[])[],
  hasCpus: readonly boolean[],
): number[][] {
  const nrNodes = distances.length;
  const nodeLoad = new Int32Array(nrNodes);
  const orders: number[][] = [];
  for (let local = 0; local < nrNodes; local++) {
    const used = new Uint8Array(nrNodes);
    const order: number[] = [];
    let prev = local;
    for (;;) {
      const node = findNextBestNode(local, used, distances, hasCpus, nodeLoad);
      if (node < 0) break;
      // "We don't want to pressure a particular node. So adding penalty to the first node in
      // same distance group to make it round-robin."
      if (distances[local]![node] !== distances[local]![prev]) nodeLoad[node]!++;
      order.push(node);
      prev = node;
    }
    orders.push(order);
  }
  return orders;
}

/** mm/page_alloc.c find_next_best_node(). Marks the node it returns as used; -1 when none is left. */
function findNextBestNode(
  node: number,
  used: Uint8Array,
  distances: readonly (readonly number[])[],
  hasCpus: readonly boolean[],
  nodeLoad: Int32Array,
): number {
  // Use the local node if we haven't already (every node has memory here).
  if (!used[node]) {
    used[node] = 1;
    return node;
  }
  let minVal = Number.MAX_SAFE_INTEGER;
  let best = -1;
  for (let n = 0; n < distances.length; n++) {
    if (used[n]) continue;
    let val = distances[node]![n]!;
    // Penalize nodes under us ("prefer the next node").
    if (n < node) val += 1;
    // Give preference to headless and unused nodes.
    if (hasCpus[n]) val += PENALTY_FOR_NODE_WITH_CPUS;
    // Slight preference for less loaded node.
    val = val * MAX_NUMNODES + nodeLoad[n]!;
    if (val < minVal) {
      minVal = val;
      best = n;
    }
  }
  if (best >= 0) used[best] = 1;
  return best;
}

/**
 * /sys/devices/system/node/nodeN/distance (drivers/base/node.c node_read_distance()): the
 * distances from `nid` to every online node, space separated, then a newline.
 */
export function formatNodeDistance(machine: Machine, nid: number): string {
  checkNid(machine, nid);
  return `${machine.distances[nid]!.join(' ')}\n`;
}

/**
 * `numactl --hardware` as numactl 2.0.16 prints it (numactl.c hardware(), print_distances()):
 * the node list, each node's CPUs, size and free memory ("%llu MB" of bytes >> 20), and the
 * distance table with its trailing spaces.
 */
export function formatNumactlHardware(machine: Machine, memory: NumactlMemory = {}): string {
  const n = machine.nrNodes;
  const mb = (bytes: number | undefined): string =>
    bytes === undefined ? '<not available>' : `${Math.floor(bytes / 2 ** 20)} MB`;
  let out = `available: ${n} nodes (${n === 1 ? '0' : `0-${n - 1}`})\n`;
  for (const node of machine.nodes) {
    out += `node ${node.nid} cpus:${node.cpus.map((c) => ` ${c}`).join('')}\n`;
    out += `node ${node.nid} size: ${mb(memory.sizeBytes?.[node.nid] ?? node.memoryBytes)}\n`;
    out += `node ${node.nid} free: ${mb(memory.freeBytes?.[node.nid])}\n`;
  }
  out += 'node distances:\nnode ';
  for (let i = 0; i < n; i++) out += `${pad3(i)} `;
  out += '\n';
  for (let i = 0; i < n; i++) {
    out += `${pad3(i)}: `;
    for (let j = 0; j < n; j++) out += `${pad3(machine.distances[i]![j]!)} `;
    out += '\n';
  }
  return out;
}

/** printf("% 3d"): at least three characters, right aligned (the sign slot is a space). */
const pad3 = (v: number): string => ` ${v}`.padStart(3);

/**
 * A simple access-latency model: `localNs × distance / LOCAL_DISTANCE` from the CPU's node to
 * the target page's (or node's) node. SLIT distances are relative latencies by definition, so
 * with the default 80 ns a distance-21 access costs 168 ns. No caches, no bandwidth, no
 * queueing: a teaching aid, not a performance model.
 */
export function accessCostNs(
  machine: Machine,
  cpu: number,
  target: AccessTarget,
  options: AccessCostOptions = {},
): number {
  const localNs = options.localNs ?? 80;
  if (typeof localNs !== 'number' || !Number.isFinite(localNs) || localNs < 0) {
    throw new RangeError(`localNs: ${String(localNs)} is not a non-negative number of nanoseconds`);
  }
  const from = machine.cpuToNode(cpu);
  let to: number;
  if ('pfn' in target) {
    to = machine.pfnToNid(target.pfn as Pfn);
    if (to < 0) throw new RangeError(`pfn ${target.pfn} (0x${hex(target.pfn)}) is on no node`);
  } else {
    to = target.nid;
  }
  return (localNs * machine.distance(from, to)) / LOCAL_DISTANCE;
}

const hex = (v: number): string => (Number.isSafeInteger(v) && v >= 0 ? v.toString(16) : String(v));

function checkNid(machine: Machine, nid: number): void {
  if (!Number.isInteger(nid) || nid < 0 || nid >= machine.nrNodes) {
    throw new RangeError(`node ${nid} does not exist (nodes 0..${machine.nrNodes - 1})`);
  }
}
