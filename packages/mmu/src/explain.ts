/**
 * explain(va): the walk for one address, level by level — index, table, entry and its
 * decoded bits — for the CLI and the visualizer. It reads memory only: no TLB, no A/D
 * update, no statistics, so explaining an address never changes what happens next.
 * The text form follows OSTEP's paging-multilevel-translate.py answers (ch. 20).
 */
import { formatHex, formatPtr, type VirtAddr } from '@mmsim/core';
import {
  FAULT_NAMES,
  FAULT_NOT_PRESENT,
  FAULT_RESERVED,
  type WalkExplanation,
  type WalkStep,
} from './api.js';
import type { Mmu } from './mmu.js';
import { decodePte, formatPte, levelIndex, readPte } from './pte.js';

/** The walk `mmu` would do for `va` in its current address space (no permission check). */
export function explain(mmu: Mmu, va: VirtAddr): WalkExplanation {
  const g = mmu.geometry;
  const f = mmu.format;
  const steps: WalkStep[] = [];
  let table = mmu.root;
  const out: WalkExplanation = {
    format: f.name,
    va,
    // Architectures sign-extend (the kernel half); a textbook format prints its own width.
    vaText: f.arch === 'custom' ? formatHex(va, Math.ceil(f.vaBits / 4)) : formatPtr(va, f.vaBits),
    root: mmu.root,
    asid: mmu.asid,
    steps,
    pa: -1,
    pageSize: 0,
    fault: null,
  };
  const fault = (kind: number, level: number) => {
    out.fault = {
      va,
      access: 0,
      kind,
      kindName: FAULT_NAMES[kind] ?? '',
      level,
      errorCode: kind === FAULT_NOT_PRESENT ? 0 : kind === FAULT_RESERVED ? 9 : 1,
    };
    return out;
  };
  for (let l = 0; l < g.levels; l++) {
    const index = levelIndex(g, va, l);
    const entryAddr = table + index * f.pteSize;
    if (entryAddr + f.pteSize > mmu.memory.sizeBytes) return fault(FAULT_RESERVED, l);
    const [lo, hi] = readPte(mmu.memory, f.pteSize, entryAddr);
    const decoded = decodePte(g, lo, hi, l);
    steps.push({
      level: l,
      name: f.levelNames[l] ?? `L${l}`,
      index,
      tableAddr: table,
      entryAddr,
      entry: formatPte(g, lo, hi),
      lo,
      hi,
      decoded,
    });
    if (!decoded.valid) return fault(FAULT_NOT_PRESENT, l);
    if (decoded.leaf) {
      if (!g.leafAllowed[l]) return fault(FAULT_RESERVED, l);
      const size = 2 ** g.shift[l]!;
      out.pageSize = size;
      out.pa = decoded.pa + (va % size);
      return out;
    }
    table = decoded.pa;
  }
  return out;
}

/** The explanation as text, one line per level, in the style of OSTEP's answers. */
export function formatExplanation(e: WalkExplanation): string {
  const lines = [
    `Virtual Address 0x${e.vaText} (${e.format}, root 0x${formatHex(e.root)}, asid ${e.asid}):`,
  ];
  let indent = '  ';
  for (const s of e.steps) {
    const set = Object.entries(s.decoded.bits)
      .filter(([, v]) => v)
      .map(([k]) => k)
      .join(' ');
    lines.push(
      `${indent}--> ${s.name} index:0x${formatHex(s.index)} [decimal ${s.index}] entry @0x${formatHex(s.entryAddr)}: 0x${s.entry}` +
        (s.decoded.valid
          ? ` (${set}; ${s.decoded.leaf ? 'page' : 'table'} 0x${formatHex(s.decoded.pa)})`
          : ' (not valid)'),
    );
    indent += '  ';
  }
  if (e.fault) {
    lines.push(
      `${indent}--> Fault (${e.fault.kindName} at ${e.steps[e.fault.level]?.name ?? `level ${e.fault.level}`})`,
    );
  } else {
    lines.push(
      `${indent}--> Translates to Physical Address 0x${formatHex(e.pa)} (${e.pageSize}-byte page)`,
    );
  }
  return lines.join('\n');
}
