/**
 * Types of @mmsim/slab. The interface every implementation meets, `SlabAllocator`, lives in
 * @mmsim/core; this file holds the options of this package's three implementations.
 */
import type { SlabAllocator, SlabEnv } from '@mmsim/core';

/** Boot options of the slab layer. Defaults are those of the reference Linux 6.18 kernel. */
export interface SlabOptions {
  /**
   * The `slab_debug=` (alias `slub_debug=`) boot parameter, SLUB only: `FZPU` for every
   * cache, `FZ,kmalloc-64,dentry` for some, blocks separated by `;` (`P;FZ,kmalloc-*`).
   * Letters: F sanity checks, Z red zoning, P poisoning, U user tracking, T trace, A failslab,
   * O off for caches whose slab order would grow, `-` everything off. A bare `slab_debug`
   * is `FZPU` (pass '' or 'FZPU').
   * @defaultValue undefined (no debugging unless a cache asks for it with its flags)
   */
  slabDebug?: string;
  /**
   * `slab_nomerge`: never merge compatible caches.
   * @defaultValue false (CONFIG_SLAB_MERGE_DEFAULT=y)
   */
  slabNomerge?: boolean;
  /** `slab_min_order=`. @defaultValue 0 */
  slabMinOrder?: number;
  /**
   * `slab_max_order=` (capped at MAX_PAGE_ORDER).
   * @defaultValue SLUB: 3 (PAGE_ALLOC_COSTLY_ORDER); SLAB: 1 above 32 MiB of RAM, else 0
   */
  slabMaxOrder?: number;
  /** `slab_min_objects=` (0 = 4 * (fls(nr_cpus) + 1)). @defaultValue 0 */
  slabMinObjects?: number;
  /**
   * CONFIG_SLAB_FREELIST_HARDENED: free pointers are stored XOR-encoded and a free of the
   * object at the head of the freelist is a BUG ("naive detection of double free").
   * @defaultValue true
   */
  freelistHardened?: boolean;
  /**
   * CONFIG_SLAB_FREELIST_RANDOM (SLUB): each new slab links its objects in the cache's random
   * permutation from a random start, so allocation order is unpredictable. The reference
   * 6.18 config has it on; it is off by default here so that addresses read in order.
   * @defaultValue false
   */
  freelistRandom?: boolean;
  /** The seed of the allocator's random choices (freelist shuffling). @defaultValue 0 */
  seed?: number;
  /** cache_line_size() in bytes. @defaultValue 64 */
  cacheLineSize?: number;
  /**
   * Create the kmalloc caches (kmalloc-8 … kmalloc-8k and their rcl/dma/cg variants) at
   * boot, as create_kmalloc_caches() does. Without them kmalloc() still works for sizes
   * above KMALLOC_MAX_CACHE_SIZE only.
   * @defaultValue true
   */
  kmallocCaches?: boolean;
}

/** A factory that builds a slab allocator on an environment; kapi's boot() takes one. */
export type SlabAllocatorFactory = (env: SlabEnv, options?: SlabOptions) => SlabAllocator;
