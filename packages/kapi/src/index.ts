// One import serves a user: every constant and type of @mmsim/core (GFP_*, __GFP_*, SLAB_*,
// PAGE_SIZE, ZERO_SIZE_PTR, KernelOops, …) comes along with the kernel.
export * from '@mmsim/core';
export * from './api.js';
export * from './kernel.js';
export * from './mem.js';
export * from './mm.js';
export { VMALLOC_END, VMALLOC_START, Vmalloc } from './vmalloc.js';
export { VirtualMemory } from './vmem.js';
