/**
 * OSTEP ch. 18 homework: vm-paging/paging-linear-translate.py -c, generated outputs with the
 * answers (see shared/data/ostep/README.md): default-seed{0..4} (16k address space, 64k
 * physical memory, 4k pages), a16k-p32k-P1k-u50-seed{0..4}, a64k-p1m-P1k-u75-seed{0..4}.
 *
 * A linear (one-level) page table of 32-bit entries: bit 31 = VALID, the rest (bits 0..30) is
 * the PFN. Each file becomes a `customFormat()` with one level of log2(asize / pagesize) index
 * bits and the file's page size; the printed entries are written as 32-bit little-endian
 * words at a table root placed just above the problem's physical memory (so the table cannot
 * alias a frame the problem maps), and every VA of the trace is translated: a valid one must
 * give exactly the printed physical address, an invalid one must fault not-present at level 0
 * with the walk indexing the printed VPN.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { ACCESS_READ, PhysicalMemory } from '@mmsim/core';
import { describe, expect, it } from 'vitest';
import { createMmu, customFormat, explain, FAULT_NOT_PRESENT } from '../src/index.js';
import { SimpleTlb } from './simple-tlb.js';

const DIR = new URL('../../../../shared/data/ostep/paging-linear/', import.meta.url);

interface Query {
  va: number;
  /** The printed physical address, or -1 for `Invalid (VPN n not valid)`. */
  pa: number;
  /** The VPN printed with the answer (`[VPN n]` or `VPN n not valid`). */
  vpn: number;
}

interface Problem {
  file: string;
  asizeBytes: number;
  physBytes: number;
  pageBytes: number;
  /** The page table entries as printed, entry 0 first (unsigned 32-bit values). */
  ptes: number[];
  queries: Query[];
}

/** The script's convert(): a number with an optional k/m/g suffix (powers of 1024). */
function parseSize(text: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(text);
  if (!m) throw new Error(`bad size ${text}`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase()]!;
  return Number(m[1]) * unit;
}

function arg(text: string, file: string, name: string): string {
  const m = new RegExp(`^ARG ${name} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`${file}: no 'ARG ${name}' line`);
  return m[1]!;
}

function load(): Problem[] {
  const files = readdirSync(DIR)
    .filter((f) => f.endsWith('.txt'))
    .sort();
  if (files.length !== 15)
    throw new Error(`expected 15 problem files in ${DIR.pathname}, found ${files.length}`);
  return files.map((file) => {
    const text = readFileSync(new URL(file, DIR), 'utf8');
    const asizeBytes = parseSize(arg(text, file, 'address space size'));
    const physBytes = parseSize(arg(text, file, 'phys mem size'));
    const pageBytes = parseSize(arg(text, file, 'page size'));
    const [, tableText, traceText] = text.split(
      /^Page Table \(from entry 0 down to the max size\)$|^Virtual Address Trace$/m,
    );
    if (tableText === undefined || traceText === undefined)
      throw new Error(`${file}: no page table or trace section`);
    const ptes: number[] = [];
    for (const m of tableText.matchAll(/^ {2}(?:\[\s*(\d+)\] {2})?0x([0-9a-f]{8})$/gm)) {
      // Verbose runs print each entry's VPN: it must be the entry's position.
      if (m[1] !== undefined && Number(m[1]) !== ptes.length)
        throw new Error(`${file}: entry [${m[1]}] printed at position ${ptes.length}`);
      ptes.push(Number.parseInt(m[2]!, 16));
    }
    const queries: Query[] = [];
    for (const line of traceText.split('\n').filter((l) => l.trim() !== '')) {
      const m =
        /^ {2}VA 0x([0-9a-f]{8}) \(decimal:\s+(\d+)\) --> (?:([0-9a-f]{8}) \(decimal\s+(\d+)\) \[VPN (\d+)\]| Invalid \(VPN (\d+) not valid\))$/.exec(
          line,
        );
      if (!m) throw new Error(`${file}: unparsed trace line '${line}'`);
      const va = Number.parseInt(m[1]!, 16);
      if (va !== Number(m[2])) throw new Error(`${file}: ${line}: hex and decimal VA differ`);
      if (m[3] !== undefined) {
        const pa = Number.parseInt(m[3], 16);
        if (pa !== Number(m[4])) throw new Error(`${file}: ${line}: hex and decimal PA differ`);
        queries.push({ va, pa, vpn: Number(m[5]) });
      } else queries.push({ va, pa: -1, vpn: Number(m[6]) });
    }
    return { file, asizeBytes, physBytes, pageBytes, ptes, queries };
  });
}

/** The problem's one-level format: valid = bit 31, PFN = bits 0..30 of a 32-bit entry. */
function linearFormat(p: Problem) {
  return customFormat({
    name: `ostep-linear-${p.file.replace(/\.txt$/, '')}`,
    pageSize: p.pageBytes,
    levelBits: [Math.log2(p.asizeBytes / p.pageBytes)],
    pteSize: 4,
    validBit: 31,
    frameBit: 0,
    frameBits: 31,
    levelNames: ['PT'],
  });
}

/** Physical memory of the problem's size plus one 4 KiB page above it for the table. */
function setup(p: Problem) {
  const format = linearFormat(p);
  const root = p.physBytes;
  const memory = new PhysicalMemory(p.physBytes + 4096);
  for (const [vpn, pte] of p.ptes.entries()) memory.write32(root + vpn * 4, pte);
  const mmu = createMmu({ format, memory, tlb: new SimpleTlb(8), root });
  return { format, memory, mmu, root };
}

describe('OSTEP paging-linear (ch. 18), 15 files', () => {
  const problems = load();

  it('parses 150 addresses (67 valid, 83 invalid) and a full page table per file', () => {
    expect(problems.reduce((n, p) => n + p.queries.length, 0)).toBe(150);
    expect(problems.reduce((n, p) => n + p.queries.filter((q) => q.pa >= 0).length, 0)).toBe(67);
    for (const p of problems) {
      expect(p.queries, p.file).toHaveLength(10);
      expect(p.ptes, p.file).toHaveLength(p.asizeBytes / p.pageBytes);
    }
    const geometries = new Set(
      problems.map((p) => `${p.asizeBytes}/${p.physBytes}/${p.pageBytes}`),
    );
    expect([...geometries].sort()).toEqual([
      '16384/32768/1024',
      '16384/65536/4096',
      '65536/1048576/1024',
    ]);
  });

  it('declares each geometry as a one-level customFormat', () => {
    for (const p of problems) {
      const f = linearFormat(p);
      expect(f.levelBits, p.file).toEqual([Math.log2(p.asizeBytes / p.pageBytes)]);
      expect(2 ** f.vaBits, p.file).toBe(p.asizeBytes);
      expect(2 ** f.pageShift, p.file).toBe(p.pageBytes);
      expect(f.pteSize).toBe(4);
      expect(f.bits.valid).toBe(31);
      expect(f.frame).toEqual({ lo: 0, width: 31, shift: f.pageShift });
    }
  });

  it('translates every address exactly as the printed answers say (PA, or VPN not valid)', () => {
    let checked = 0;
    let valid = 0;
    let faults = 0;
    for (const p of problems) {
      const { memory, mmu, root } = setup(p);
      for (const q of p.queries) {
        const what = `${p.file} VA 0x${q.va.toString(16)}`;
        const pa = mmu.translate(q.va, ACCESS_READ);
        if (q.pa < 0) {
          expect(pa, what).toBe(-1);
          expect(mmu.faultKind, what).toBe(FAULT_NOT_PRESENT);
          expect(mmu.faultLevel, what).toBe(0);
          expect(mmu.errorCode, what).toBe(0);
          faults++;
        } else {
          expect(pa, what).toBe(q.pa);
          expect(pa, what).toBeLessThan(p.physBytes);
          valid++;
        }
        checked++;
      }
      // The walk wrote nothing (the format has no Accessed/Dirty bits): the table is as printed.
      for (const [vpn, pte] of p.ptes.entries()) {
        expect(memory.read32(root + vpn * 4) >>> 0).toBe(pte);
      }
    }
    expect(checked).toBe(150);
    expect(valid).toBe(67);
    expect(faults).toBe(83);
  });

  it('walks the printed VPN and reads its printed entry (explain)', () => {
    let checked = 0;
    for (const p of problems) {
      const { mmu, root } = setup(p);
      for (const q of p.queries) {
        const what = `${p.file} VA 0x${q.va.toString(16)}`;
        const e = explain(mmu, q.va);
        expect(e.steps, what).toHaveLength(1);
        const step = e.steps[0]!;
        expect(step.index, what).toBe(q.vpn);
        expect(step.entryAddr, what).toBe(root + q.vpn * 4);
        expect(step.lo >>> 0, what).toBe(p.ptes[q.vpn]);
        expect(step.decoded.valid, what).toBe(q.pa >= 0);
        expect(e.pa, what).toBe(q.pa);
        expect(e.fault?.level ?? -1, what).toBe(q.pa >= 0 ? -1 : 0);
        checked++;
      }
    }
    expect(checked).toBe(150);
  });
});
