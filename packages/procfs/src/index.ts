export * from './api.js';
export { fixed } from './format.js';
export {
  directMapKb,
  MEMINFO_MODELLED,
  MEMINFO_NAMES,
  meminfo,
  meminfoValues,
  siMemAvailable,
  totalreservePages,
  vmallocinfo,
} from './meminfo.js';
export { nodeDistance, nodeNumastat, numactlHardware, numastat } from './numa.js';
export { attachProcfs, type KernelWithProcfs, procPaths, readProc, vmstat } from './procfs.js';
export { ProcFsError, slabinfo, slabinfoRows, slabtop } from './slabinfo.js';
export {
  memmapBootPages,
  NODE_STAT_NAMES,
  type NodePages,
  nodePages,
  nodeStats,
  VMSTAT_NAMES,
  vmstatCounters,
} from './stats.js';
export {
  buddyinfo,
  isPopulated,
  NUMA_STAT_NAMES,
  pagetypeinfo,
  populatedZones,
  ZONE_STAT_NAMES,
  zoneCounters,
  zoneinfo,
  zoneView,
} from './zones.js';
