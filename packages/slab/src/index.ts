export * from './api.js';
export * from './common.js';
export * from './env.js';
export {
  BATCHREFILL_LIMIT,
  createSlab,
  REAPTIMEOUT_AC,
  REAPTIMEOUT_NODE,
  RED_ACTIVE,
  RED_INACTIVE,
  SLAB_OBJ_MAX_NUM,
  SlabAllocatorSLAB,
  SlabCacheSLAB,
  type SlabGeometry,
} from './slab.js';
export * from './slob.js';
export * from './slub.js';
export { SlubAllocator as SlabAllocatorSLUB } from './slub.js';
