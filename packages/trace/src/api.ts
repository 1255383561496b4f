/**
 * The types of @mmsim/trace: a kmem trace event as ftrace prints it, the parser's counts, a
 * malloc-lab trace, and what a replay reports.
 */

/**
 * The kmem events the parser understands (include/trace/events/kmem.h). `kmalloc_node` and
 * `kmem_cache_alloc_node` are the pre-6.1 names of the node-aware events; they carry the same
 * fields and replay as `kmalloc` and `kmem_cache_alloc`.
 */
export type KmemEventKind =
  | 'kmalloc'
  | 'kmalloc_node'
  | 'kfree'
  | 'kmem_cache_alloc'
  | 'kmem_cache_alloc_node'
  | 'kmem_cache_free'
  | 'mm_page_alloc'
  | 'mm_page_free';

export const KMEM_EVENT_KINDS: readonly KmemEventKind[] = [
  'kmalloc',
  'kmalloc_node',
  'kfree',
  'kmem_cache_alloc',
  'kmem_cache_alloc_node',
  'kmem_cache_free',
  'mm_page_alloc',
  'mm_page_free',
];

/**
 * One kmem event line: the common ftrace columns and every field of the event. A field the
 * event does not have keeps its default (0, -1, '' or false) so every event has one shape.
 *
 * Pointers (`ptr`, `page`) are numbers: the low 48 bits of the printed value, as the simulator
 * keeps virtual addresses (DESIGN.md). ftrace hashes `%p` pointers (the hash is a 32-bit value
 * printed in 16 hex digits), so they are exact; the same object hashes the same within one
 * boot, which is what lets a replay match frees to allocations.
 */
export interface KmemEvent {
  kind: KmemEventKind;
  /** The 1-based line number in the trace (0 when parsed on its own). */
  line: number;
  /** The task's comm (`run.sh`, `kworker/u4:2`, `<idle>`). */
  task: string;
  pid: number;
  cpu: number;
  /** The latency columns as printed, e.g. `.....` or `d.s1.`. */
  flags: string;
  /** irqs-off/BH-disabled column: 'd' irqs off, 'D' irqs and BH off, 'b' BH off, '.' none. */
  irqsOff: string;
  /** need-resched column: 'N', 'n', 'p', '.'. */
  needResched: string;
  /** hardirq/softirq column: 'h' hardirq, 's' softirq, 'H' hardirq in softirq, 'z' NMI, '.'. */
  hardSoft: string;
  /** preempt-depth (0 for '.'). */
  preemptDepth: number;
  /** migrate-disable depth (0 for '.' or when the column is absent). */
  migrateDisable: number;
  /** Seconds since boot. */
  timestamp: number;
  /** `%pS` of the caller, e.g. `alloc_bprm+0x45/0x220` ('' for page events). */
  callSite: string;
  /** The object (kmalloc, kfree, kmem_cache_*); 0 is NULL. */
  ptr: number;
  bytesReq: number;
  bytesAlloc: number;
  /** gfp_flags as a number (parseGfp of the text; 0 for `none`). */
  gfp: number;
  /** gfp_flags as printed, e.g. `GFP_KERNEL|__GFP_ZERO`. */
  gfpText: string;
  /** The node asked for; -1 (NUMA_NO_NODE) when any. */
  node: number;
  accounted: boolean;
  /** The cache name of kmem_cache_alloc / kmem_cache_free. */
  name: string;
  /** The hashed `struct page *` of page events. */
  page: number;
  /** The page frame number of page events (-1 when absent). */
  pfn: number;
  order: number;
  migratetype: number;
}

/** What the parser saw, counted as it goes. Create one with createParseStats(). */
export interface ParseStats {
  /** Lines read (blank and comment lines too). */
  lines: number;
  /** `#` header lines and blank lines. */
  comments: number;
  /** Events parsed, in all. */
  events: number;
  /** Events parsed, by kind. */
  byKind: Record<KmemEventKind, number>;
  /** Well-formed event lines of events this parser does not replay (mm_page_pcpu_drain, …). */
  otherEvents: number;
  /** Lines that are neither comments nor well-formed events. */
  malformed: number;
  /** The first `maxReported` malformed lines: their line number, text and what was wrong. */
  malformedLines: { line: number; text: string; reason: string }[];
  /** How many malformed lines to keep the text of. @defaultValue 100 */
  maxReported: number;
}

/** A CS:APP malloc-lab trace (.rep): the header and the operations. */
export interface RepTrace {
  /** The suggested heap size (mdriver ignores it). */
  heapSize: number;
  /** Distinct block ids. */
  numIds: number;
  /** Operations the header announces. */
  numOps: number;
  /** The trace's weight in the score (0 or 1). */
  weight: number;
  ops: RepOp[];
}

/** `a id size` (malloc), `f id` (free), `r id size` (realloc). */
export interface RepOp {
  type: 'a' | 'f' | 'r';
  id: number;
  /** Bytes (0 for 'f'). */
  size: number;
  /** 1-based line number in the file. */
  line: number;
}

export interface ReplayOptions {
  /**
   * When the replay finishes, free every object and page still live, destroy the caches the
   * replay created and shrink the slab caches, so the machine gets all its pages back.
   * @defaultValue false
   */
  freeRemaining?: boolean;
  /** Take a time-series sample every this many events (0: none). @defaultValue 1000 */
  sampleEvery?: number;
  /** How many kmalloc bytes_alloc mismatches to keep the details of. @defaultValue 10 */
  maxMismatches?: number;
  /**
   * Run each allocation in the context the trace's hardirq/softirq column names ('h', 'H',
   * 'z' → k.inIrq, 's' → k.inSoftirq). @defaultValue true
   */
  contexts?: boolean;
  /** Replay kmalloc/kfree events. @defaultValue true */
  kmalloc?: boolean;
  /** Replay kmem_cache_alloc/kmem_cache_free events. @defaultValue true */
  caches?: boolean;
  /**
   * Replay mm_page_alloc/mm_page_free events. Note that the real kernel's page events include
   * the pages its own slab allocator took, which this replay's slab allocator takes again.
   * @defaultValue true
   */
  pages?: boolean;
}

/** Per-kind counts of a replay. */
export interface KindCounts {
  /** Events seen. */
  seen: number;
  /** Events replayed (an allocation made, a free done). */
  replayed: number;
}

/** A kmalloc whose ksize() here differs from the trace's bytes_alloc. */
export interface SizeMismatch {
  line: number;
  bytesReq: number;
  gfpText: string;
  /** bytes_alloc in the trace. */
  expected: number;
  /** ksize() of our object. */
  got: number;
}

/** One cache's numbers: a kmem_cache from the trace, or a kmalloc size class (`kmalloc-64`). */
export interface CacheReport {
  name: string;
  /** Our object size (kmem_cache_size(), or the kmalloc class size). */
  objectSize: number;
  /** The trace's bytes_alloc for this cache (its s->size on the traced kernel); 0 if mixed. */
  traceObjectSize: number;
  allocs: number;
  frees: number;
  live: number;
  peakLive: number;
  /** Bytes asked for by the live objects. */
  requestedBytes: number;
  /** Bytes handed out to the live objects (our sizes). */
  allocatedBytes: number;
}

export interface OrderReport {
  order: number;
  allocs: number;
  frees: number;
  live: number;
  peakLive: number;
}

/** One time-series sample. */
export interface ReplaySample {
  /** Events seen so far. */
  events: number;
  /** The trace's timestamp of the last event. */
  timestamp: number;
  /** Bytes asked for by live slab objects (kmalloc and kmem_cache). */
  requestedBytes: number;
  /** Bytes handed out for them (our ksize / object size). */
  allocatedBytes: number;
  /** Pages held by the replay's mm_page_alloc allocations. */
  pages: number;
  /** Pages held by all slab caches, less what they held when the replay began. */
  slabPages: number;
  /** The machine's free pages. */
  freePages: number;
}

export interface ReplayReport {
  /** Events seen, all kinds. */
  events: number;
  byKind: Record<KmemEventKind, KindCounts>;
  /** kfree(NULL) and kmem_cache_free(NULL): no-ops, as in Linux. */
  nullFrees: number;
  /** Frees of objects or pages allocated before the trace began (or by events not replayed). */
  unknownFrees: number;
  /**
   * Pointers handed out again while still live here: their free was not traced (kfree_rcu's
   * bulk path frees without a kfree event). The old object is freed first.
   */
  implicitFrees: number;
  /**
   * Pfns handed out again while still live here: freed by a path the trace did not record
   * (the pages freed in batches by release_pages()/free_unref_folios() go without an
   * mm_page_free event). The old pages are freed first.
   */
  implicitPageFrees: number;
  /** Allocations our kernel refused (NULL). */
  failures: number;
  /** Exceptions (a KernelOops, a TypeError) thrown by our kernel, with the first few texts. */
  errors: number;
  errorTexts: string[];
  /** kmalloc events whose ksize() here equals the trace's bytes_alloc, of those checked. */
  kmallocAgreement: { checked: number; agree: number; mismatches: SizeMismatch[] };
  peak: { requestedBytes: number; allocatedBytes: number; pages: number; slabPages: number };
  final: { requestedBytes: number; allocatedBytes: number; pages: number; slabPages: number };
  /** allocated − requested bytes at the end and at the peak of allocated bytes. */
  overhead: { finalBytes: number; atPeakBytes: number };
  /** Objects and pages still live when the replay ended (before freeRemaining). */
  liveAtEnd: { objects: number; pages: number };
  caches: CacheReport[];
  orders: OrderReport[];
  samples: ReplaySample[];
}

/** What replayRep() reports: the malloc lab's numbers, measured on the kernel's kmalloc. */
export interface RepReplayReport {
  ops: number;
  /** Peak of the bytes the trace asks to be live (mdriver's max_total_size). */
  peakPayloadBytes: number;
  /** Peak of the bytes kmalloc handed out for them (the sum of ksize() of live blocks). */
  peakAllocatedBytes: number;
  /** Peak of the pages held by slab caches and large kmallocs, less those held at the start. */
  peakPages: number;
  /** peakPayloadBytes / peakAllocatedBytes: what the size classes waste. */
  classUtilization: number;
  /** peakPayloadBytes / (peakPages × PAGE_SIZE): mdriver's utilization, against pages. */
  pageUtilization: number;
  /** Allocations that failed (NULL). */
  failures: number;
  /** Blocks whose first or last byte did not survive until their free or realloc. */
  corrupted: number;
}
