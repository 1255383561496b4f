export type {
  AccessCostOptions,
  AccessTarget,
  Machine,
  MachineOverrides,
  MachineSpec,
  MemoryRegion,
  NodeInfo,
  NodeNumaCounters,
  NodeSpec,
  NumactlMemory,
  PfnRange,
  PresetName,
  ReservedRegion,
  ReservedSpec,
  ZoneNumaCounters,
  ZoneSpan,
} from './api.js';
export {
  accessCostNs,
  DEFAULT_REMOTE_DISTANCE,
  formatNodeDistance,
  formatNumactlHardware,
  LOCAL_DISTANCE,
  MAX_NUMNODES,
  NODES_SHIFT,
  PENALTY_FOR_NODE_WITH_CPUS,
  RECLAIM_DISTANCE,
  REMOTE_DISTANCE,
  validateDistances,
} from './distance.js';
export { createMachine } from './machine.js';
export { NumaStat } from './numastat.js';
export { PRESET_NAMES, PRESETS } from './presets.js';
