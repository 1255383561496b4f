/**
 * Types of @mmsim/kapi: what boot() takes.
 */
import type { SlabAllocator, SlabEnv } from '@mmsim/core';
import type { Machine, MachineSpec, PresetName } from '@mmsim/numa';
import type { CheckablePageAllocator, PageAllocatorEnv } from '@mmsim/page-alloc';
import type { TlbHierarchyOptions } from '@mmsim/tlb';

/** A page allocator factory (the buddy and bitmap allocators have this shape). */
export type KernelPageAllocatorFactory = (env: PageAllocatorEnv) => CheckablePageAllocator;
/** A slab allocator factory (createSlub, createSlab, createSlob have this shape). */
export type KernelSlabFactory = (
  env: SlabEnv,
  options: { slabDebug?: string; seed?: number },
) => SlabAllocator;

/** boot()'s configuration. Every field is optional; the defaults boot Linux 6.18's choices. */
export interface BootConfig {
  /**
   * The machine: a preset name ('tiny', 'laptop', 'server', 'numa4', 'big64'), a
   * MachineSpec, or a Machine from @mmsim/numa.
   * @defaultValue 'tiny' (64 MiB, 1 CPU)
   */
  machine?: PresetName | MachineSpec | Machine;
  /** Override the preset's CPU count (per node). */
  cpus?: number;
  /** Override the preset's memory (per node), e.g. '512M'. */
  memory?: string | number;
  /**
   * The page allocator: 'buddy' (mm/page_alloc.c), 'bitmap' (first fit) or a factory.
   * @defaultValue 'buddy'
   */
  pageAllocator?: 'buddy' | 'bitmap' | KernelPageAllocatorFactory;
  /**
   * The slab allocator: 'slub', 'slab', 'slob' or a factory.
   * @defaultValue 'slub'
   */
  slab?: 'slub' | 'slab' | 'slob' | KernelSlabFactory;
  /**
   * The paging format of the kernel's page tables. Only 'x86-64' (4-level, 48-bit) is
   * wired to the kernel's address-space layout so far.
   * @defaultValue 'x86-64'
   */
  arch?: 'x86-64';
  /** The `slub_debug=` / `slab_debug=` boot parameter (SLUB). */
  slubDebug?: string;
  /** The seed of every random choice (freelist shuffling, …). @defaultValue 0 */
  seed?: number;
  /** Each CPU's TLBs. @defaultValue a Skylake-like hierarchy (@mmsim/tlb SKYLAKE_TLB) */
  tlb?: TlbHierarchyOptions;
}
