/**
 * Replay a CS:APP malloc-lab trace on the kernel's kmalloc: `a id size` → kmalloc(size,
 * GFP_KERNEL), `r id size` → krealloc(), `f id` → kfree(). As mdriver does, each block's
 * payload is written (its first and last byte here, through the MMU) and checked when the
 * block is reallocated or freed; the report gives mdriver's utilization against the pages the
 * slab allocator and large kmallocs took, and the waste of the size classes alone.
 */
import { GFP_KERNEL, type Kernel, PAGE_SIZE, ZERO_SIZE_PTR } from '@mmsim/kapi';
import type { RepReplayReport, RepTrace } from './api.js';

/** The free pages, with the per-CPU lists drained. */
function freePagesNow(k: Kernel): number {
  k.pages.drain();
  return k.pages.nrFreePages();
}

export interface RepReplayOptions {
  /** Free what is still live at the end. @defaultValue true */
  freeRemaining?: boolean;
}

export function replayRep(
  k: Kernel,
  trace: RepTrace,
  options: RepReplayOptions = {},
): RepReplayReport {
  const freeAtStart = freePagesNow(k);
  const ptr = new Float64Array(trace.numIds);
  const size = new Float64Array(trace.numIds);
  const given = new Float64Array(trace.numIds);
  const mark = (id: number) => (id * 131 + 7) & 0xff;
  let payload = 0;
  let allocated = 0;
  const r: RepReplayReport = {
    ops: 0,
    peakPayloadBytes: 0,
    peakAllocatedBytes: 0,
    peakPages: 0,
    classUtilization: 0,
    pageUtilization: 0,
    failures: 0,
    corrupted: 0,
  };
  const write = (id: number) => {
    const p = ptr[id]!;
    const n = size[id]!;
    if (n === 0 || p <= ZERO_SIZE_PTR) return;
    k.mem.write8(p, mark(id));
    k.mem.write8(p + n - 1, mark(id) ^ 0xff);
  };
  const check = (id: number, n: number) => {
    const p = ptr[id]!;
    if (n === 0 || p <= ZERO_SIZE_PTR) return;
    if (k.mem.read8(p) !== mark(id)) r.corrupted++;
    else if (n === size[id] && k.mem.read8(p + n - 1) !== (mark(id) ^ 0xff)) r.corrupted++;
  };
  const free = (id: number) => {
    if (ptr[id] === 0) return;
    check(id, size[id]!);
    k.kfree(ptr[id]!);
    payload -= size[id]!;
    allocated -= given[id]!;
    ptr[id] = 0;
    size[id] = 0;
    given[id] = 0;
  };
  for (const op of trace.ops) {
    r.ops++;
    const id = op.id;
    if (op.type === 'f') {
      free(id);
      continue;
    }
    let p: number;
    if (op.type === 'a' || ptr[id] === 0) {
      if (ptr[id] !== 0) free(id);
      p = k.kmalloc(op.size, GFP_KERNEL);
    } else {
      // krealloc keeps the first min(old, new) bytes: the first byte must survive.
      check(id, Math.min(size[id]!, op.size));
      p = k.krealloc(ptr[id]!, op.size, GFP_KERNEL);
      if (p !== 0) {
        payload -= size[id]!;
        allocated -= given[id]!;
      }
    }
    if (p === 0) {
      r.failures++;
      continue;
    }
    ptr[id] = p;
    size[id] = op.size;
    given[id] = p === ZERO_SIZE_PTR ? 0 : k.ksize(p);
    payload += op.size;
    allocated += given[id]!;
    write(id);
    if (payload > r.peakPayloadBytes) r.peakPayloadBytes = payload;
    if (allocated > r.peakAllocatedBytes) r.peakAllocatedBytes = allocated;
    const pages = freeAtStart - k.pages.nrFreePages();
    if (pages > r.peakPages) r.peakPages = pages;
  }
  if (options.freeRemaining ?? true) for (let id = 0; id < trace.numIds; id++) free(id);
  r.classUtilization = r.peakAllocatedBytes === 0 ? 1 : r.peakPayloadBytes / r.peakAllocatedBytes;
  r.pageUtilization = r.peakPages === 0 ? 1 : r.peakPayloadBytes / (r.peakPages * PAGE_SIZE);
  return r;
}
