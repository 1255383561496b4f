export * from './api.js';
export * from './explain.js';
export * from './formats.js';
export * from './mmu.js';
export * from './pagetable.js';
export {
  bitNames,
  decodePte,
  encodeLeaf,
  encodeTable,
  formatPte,
  type Geometry,
  geometry,
  isLeaf,
  leafProt,
  levelIndex,
  pteFrame,
  readPte,
  writePte,
} from './pte.js';
export * from './refill.js';
