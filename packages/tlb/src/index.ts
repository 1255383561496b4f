export * from './api.js';
export * from './cachesim.js';
export * from './hierarchy.js';
export * from './pagingpolicy.js';
export * from './policy.js';
export * from './tlb.js';
