/**
 * NUMA allocation counters: numa_hit, numa_miss, numa_foreign, numa_interleave, numa_local and
 * numa_other, kept per zone as Linux keeps them (struct per_cpu_zonestat vm_numa_event[],
 * summed). A zone is a "slot", `nid * MAX_NR_ZONES + zone type`, and each counter is a
 * Float64Array indexed by slot (exact integers up to 2^53).
 *
 * zoneStatistics() is mm/page_alloc.c zone_statistics(), called for every successful
 * allocation (and every page taken from a pcp list); it is a hot path and allocates nothing.
 * The views follow drivers/base/node.c node_read_numastat() (sysfs names: interleave_hit,
 * local_node, other_node) and /proc/zoneinfo (numa_interleave, numa_local, numa_other).
 */
import { MAX_NR_ZONES } from '@mmsim/core';
import type { NodeNumaCounters, ZoneNumaCounters } from './api.js';
import { MAX_NUMNODES } from './distance.js';

export class NumaStat {
  readonly nrNodes: number;
  /** nrNodes * MAX_NR_ZONES. */
  readonly nrSlots: number;
  /** Allocations that got the node they preferred, counted on the zone that gave the pages. */
  readonly numa_hit: Float64Array;
  /** Allocations that preferred another node, counted on the zone that gave the pages. */
  readonly numa_miss: Float64Array;
  /** Allocations that preferred this node but got another, counted on the preferred zone. */
  readonly numa_foreign: Float64Array;
  /** Interleave-policy allocations that landed on the node the policy chose. */
  readonly numa_interleave: Float64Array;
  /** Pages given to a CPU of the same node. */
  readonly numa_local: Float64Array;
  /** Pages given to a CPU of another node. */
  readonly numa_other: Float64Array;

  constructor(nrNodes: number) {
    if (!Number.isInteger(nrNodes) || nrNodes < 1 || nrNodes > MAX_NUMNODES) {
      throw new RangeError(`NumaStat: ${nrNodes} nodes; expected 1..${MAX_NUMNODES}`);
    }
    this.nrNodes = nrNodes;
    this.nrSlots = nrNodes * MAX_NR_ZONES;
    this.numa_hit = new Float64Array(this.nrSlots);
    this.numa_miss = new Float64Array(this.nrSlots);
    this.numa_foreign = new Float64Array(this.nrSlots);
    this.numa_interleave = new Float64Array(this.nrSlots);
    this.numa_local = new Float64Array(this.nrSlots);
    this.numa_other = new Float64Array(this.nrSlots);
    this.slotNid = new Uint8Array(this.nrSlots);
    for (let slot = 0; slot < this.nrSlots; slot++) this.slotNid[slot] = (slot / MAX_NR_ZONES) | 0;
  }

  /** The node of each slot, so the hot path needs no division. */
  private readonly slotNid: Uint8Array;

  /**
   * mm/page_alloc.c zone_statistics(preferred_zone, z, nr_account): `nrPages` pages came from
   * zone `allocatedSlot` for a request that preferred zone `preferredSlot`, on a CPU of node
   * `cpuNid` (numa_node_id()). Slots are not checked: this is the allocation fast path.
   */
  zoneStatistics(
    preferredSlot: number,
    allocatedSlot: number,
    cpuNid: number,
    nrPages: number,
  ): void {
    const nid = this.slotNid[allocatedSlot];
    if (nid === this.slotNid[preferredSlot]) {
      this.numa_hit[allocatedSlot]! += nrPages;
    } else {
      this.numa_miss[allocatedSlot]! += nrPages;
      this.numa_foreign[preferredSlot]! += nrPages;
    }
    if (nid === cpuNid) this.numa_local[allocatedSlot]! += nrPages;
    else this.numa_other[allocatedSlot]! += nrPages;
  }

  /**
   * mm/mempolicy.c alloc_pages_mpol(): an interleave allocation got a page on the node the
   * policy picked; count NUMA_INTERLEAVE_HIT on the page's zone.
   */
  interleaveHit(slot: number, nrPages: number): void {
    this.numa_interleave[slot]! += nrPages;
  }

  /** One zone's counters under their /proc/zoneinfo names. */
  zoneCounters(slot: number): ZoneNumaCounters {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.nrSlots) {
      throw new RangeError(`zone slot ${slot} does not exist (0..${this.nrSlots - 1})`);
    }
    return {
      numa_hit: this.numa_hit[slot]!,
      numa_miss: this.numa_miss[slot]!,
      numa_foreign: this.numa_foreign[slot]!,
      numa_interleave: this.numa_interleave[slot]!,
      numa_local: this.numa_local[slot]!,
      numa_other: this.numa_other[slot]!,
    };
  }

  /** A node's counters, summed over its zones, under their sysfs names. */
  nodeCounters(nid: number): NodeNumaCounters {
    if (!Number.isInteger(nid) || nid < 0 || nid >= this.nrNodes) {
      throw new RangeError(`node ${nid} does not exist (nodes 0..${this.nrNodes - 1})`);
    }
    const out: NodeNumaCounters = {
      numa_hit: 0,
      numa_miss: 0,
      numa_foreign: 0,
      interleave_hit: 0,
      local_node: 0,
      other_node: 0,
    };
    const first = nid * MAX_NR_ZONES;
    for (let slot = first; slot < first + MAX_NR_ZONES; slot++) {
      out.numa_hit += this.numa_hit[slot]!;
      out.numa_miss += this.numa_miss[slot]!;
      out.numa_foreign += this.numa_foreign[slot]!;
      out.interleave_hit += this.numa_interleave[slot]!;
      out.local_node += this.numa_local[slot]!;
      out.other_node += this.numa_other[slot]!;
    }
    return out;
  }

  /** /sys/devices/system/node/nodeN/numastat (drivers/base/node.c node_read_numastat()). */
  renderNodeNumastat(nid: number): string {
    const c = this.nodeCounters(nid);
    return (
      `numa_hit ${c.numa_hit}\n` +
      `numa_miss ${c.numa_miss}\n` +
      `numa_foreign ${c.numa_foreign}\n` +
      `interleave_hit ${c.interleave_hit}\n` +
      `local_node ${c.local_node}\n` +
      `other_node ${c.other_node}\n`
    );
  }

  /** Zero every counter. */
  reset(): void {
    this.numa_hit.fill(0);
    this.numa_miss.fill(0);
    this.numa_foreign.fill(0);
    this.numa_interleave.fill(0);
    this.numa_local.fill(0);
    this.numa_other.fill(0);
  }
}
