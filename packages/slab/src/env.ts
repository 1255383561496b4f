/**
 * Building a SlabEnv from a booted page allocator's environment. Structural types only, so
 * the slab package needs nothing but @mmsim/core: anything with memory, memMap, klog, ctx and
 * a machine that knows its nodes and CPUs will do (`createPageAllocatorEnv()` gives exactly
 * that).
 */
import {
  type ExecContext,
  Kallsyms,
  type Klog,
  type MemMap,
  type PageAllocator,
  type PhysicalMemory,
  type SlabEnv,
} from '@mmsim/core';

/** What createSlabEnv() needs from a page allocator's environment. */
export interface SlabEnvSource {
  readonly memory: PhysicalMemory;
  readonly memMap: MemMap;
  readonly klog: Klog;
  readonly ctx: ExecContext;
  readonly machine: {
    readonly nrNodes: number;
    readonly nrCpus: number;
    cpuToNode(cpu: number): number;
  };
}

/** A SlabEnv on `source`'s machine, getting its pages from `pageAllocator`. */
export function createSlabEnv(
  source: SlabEnvSource,
  pageAllocator: PageAllocator,
  kallsyms: Kallsyms = new Kallsyms(),
): SlabEnv {
  const m = source.machine;
  return {
    pageAllocator,
    memory: source.memory,
    memMap: source.memMap,
    klog: source.klog,
    ctx: source.ctx,
    cpuToNode: Array.from({ length: m.nrCpus }, (_, cpu) => m.cpuToNode(cpu)),
    nrNodes: m.nrNodes,
    kallsyms,
  };
}
