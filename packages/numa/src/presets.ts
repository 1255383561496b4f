/**
 * Built-in machines. All keep the x86 firmware holes (RAM starts at 0x1000, nothing at
 * 0x9f000-0xfffff) and have no PCI hole, so their zone sizes are easy to compute by hand.
 *
 * numa4 is a ring of four sockets, 0-1-2-3-0: 10 local, 20 to a neighbour, 30 to the socket
 * across the ring (two hops). Real four-socket SLITs vary (AMD boards print 10/16/22, some
 * Intel ones 10/21/31); 10/20/30 keeps the fallback arithmetic readable and puts the far node
 * exactly at RECLAIM_DISTANCE.
 */
import type { MachineSpec, PresetName } from './api.js';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The built-in machines, by name. Frozen. */
export const PRESETS: Readonly<Record<PresetName, MachineSpec>> = deepFreeze({
  /** 64 MiB, one node, one CPU: small enough to print every free list. */
  tiny: { name: 'tiny', nodes: [{ memory: '64M', cpus: 1 }] },
  /** 8 GiB, one node, 4 CPUs. */
  laptop: { name: 'laptop', nodes: [{ memory: '8G', cpus: 4 }] },
  /** Two sockets, 16 GiB and 8 CPUs each, SLIT remote distance 21. */
  server: {
    name: 'server',
    nodes: [
      { memory: '16G', cpus: 8 },
      { memory: '16G', cpus: 8 },
    ],
    distances: [
      [10, 21],
      [21, 10],
    ],
  },
  /** Four sockets in a ring, 4 GiB and 2 CPUs each: 10 local, 20 neighbour, 30 across. */
  numa4: {
    name: 'numa4',
    nodes: [
      { memory: '4G', cpus: 2 },
      { memory: '4G', cpus: 2 },
      { memory: '4G', cpus: 2 },
      { memory: '4G', cpus: 2 },
    ],
    distances: [
      [10, 20, 30, 20],
      [20, 10, 20, 30],
      [30, 20, 10, 20],
      [20, 30, 20, 10],
    ],
  },
  /** 64 GiB, one node, 2 CPUs: the boot benchmark's machine. */
  big64: { name: 'big64', nodes: [{ memory: '64G', cpus: 2 }] },
});

/** The preset names, in the order above. */
export const PRESET_NAMES: readonly PresetName[] = Object.freeze(
  Object.keys(PRESETS) as PresetName[],
);
