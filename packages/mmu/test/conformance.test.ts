/**
 * The PagingFormat conformance suite (src/conformance.ts) run for every built-in format and
 * the tests' textbook formats (test/custom-formats.ts); and run on deliberately broken
 * formats, each of which it must report, in the descriptor case and in a case that runs the
 * format, with a message that says what is wrong.
 */
import type { PagingFormat } from '@mmsim/core';
import { describe, expect, it } from 'vitest';
import {
  type PagingFormatConformanceOptions,
  pagingFormatConformance,
  runPagingFormatConformance,
} from '../src/conformance.js';
import { customFormat, PAGING_FORMATS, sv39, x86_64 } from '../src/index.js';
import { i386, toy16 } from './custom-formats.js';

for (const format of [...PAGING_FORMATS, toy16, i386]) {
  runPagingFormatConformance(format, { describe, it });
}

interface Broken {
  format: PagingFormat;
  options?: PagingFormatConformanceOptions;
  /** What the descriptor case says (null: it passes). */
  descriptor: RegExp | null;
  /** A case that runs the format (its name's start) and what it says. */
  running: [string, RegExp];
}

const BROKEN: Broken[] = [
  {
    // x86's R/W moved onto bit 12, the frame's lowest bit.
    format: { ...x86_64, name: 'write-in-frame', bits: { ...x86_64.bits, write: 12 } },
    descriptor: /bits\.write \(bit 12\) lies in the frame field \[12, 52\)/,
    running: [
      'encode/decode',
      /address in the leaf at level 1 for 0x0 R\|W .*expected 0, got 4096/,
    ],
  },
  {
    // Sv39 with a level missing: 12 + 9 + 9 is not 39.
    format: { ...sv39, name: 'short-levels', levelBits: [9, 9] },
    descriptor: /pageShift 12 \+ levelBits 9\+9 = 30, not vaBits 39/,
    running: [
      'base pages',
      /threw RangeError: short-levels: pageShift 12 \+ level bits 9\+9 != vaBits 39/,
    ],
  },
  {
    // i386 (4-byte entries) with its valid bit in the high word, which it does not have.
    format: { ...i386, name: 'valid-outside', bits: { ...i386.bits, valid: 32 } },
    descriptor: /bits\.valid \(bit 32\) lies outside a 32-bit entry/,
    running: [
      'permissions',
      /supervisor read of 0x1003 gave -1 \(not-present fault at level 0, error code 0x0\), expected 0x4003/,
    ],
  },
  {
    // toy16's table entries carry its huge (PS) bit: every table reads as a huge page.
    format: { ...toy16, name: 'tables-huge', tableExtra: [toy16.tableExtra[0] | 0x80, 0] },
    descriptor:
      /tableExtra sets bits\.huge: with leafEncoding 'huge-bit' every table entry would read as a leaf/,
    running: [
      'encode/decode',
      /leaf of the table entry at level 0 for 0x40 .*expected false, got true/,
    ],
  },
  {
    // Dirty on Accessed's bit, declared as deliberate: the descriptor case accepts it, the
    // walk does not.
    format: { ...x86_64, name: 'dirty-is-accessed', bits: { ...x86_64.bits, dirty: 5 } },
    options: { sharedBits: [['dirty', 'accessed']] },
    descriptor: null,
    running: ['Accessed/Dirty', /Dirty in memory after a read: expected false, got true/],
  },
  {
    // 1 GiB pages without 2 MiB ones: PageTable splits a 1 GiB page into 2 MiB leaves.
    format: customFormat({
      name: 'huge-without-next',
      pageSize: 4096,
      levelBits: [9, 9, 9],
      pteSize: 8,
      validBit: 0,
      writeBit: 1,
      hugeBit: 7,
      hugeLevels: [0],
      frameBit: 12,
      frameBits: 30,
    }),
    descriptor: /hugeLevels has 0 but not 1: a level-0 huge page splits into level-1 leaves/,
    running: ['a huge page', /user write of 0x40000001 gave -1 \(reserved fault at level 1/],
  },
];

describe('the suite reports broken formats', () => {
  for (const { format, options, descriptor, running } of BROKEN) {
    it(`reports ${format.name}`, () => {
      const cases = pagingFormatConformance(format, { numRuns: 20, ...options });
      const message = (start: string): string | null => {
        const c = cases.find((x) => x.name.startsWith(start));
        expect(c, `a case named "${start}…"`).toBeDefined();
        try {
          c!.run();
          return null;
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
          return (e as Error).message;
        }
      };
      const first = message('the descriptor');
      if (descriptor === null) expect(first).toBeNull();
      else {
        expect(first).toMatch(descriptor);
        expect(first).toMatch(new RegExp(`^\\[${format.name}\\] the descriptor is inconsistent: `));
      }
      expect(message(running[0])).toMatch(running[1]);
    });
  }

  it('labels failures with the name option', () => {
    const [c] = pagingFormatConformance(BROKEN[0]!.format, { name: 'mine' });
    expect(() => c!.run()).toThrow(/^\[mine\] the descriptor is inconsistent/);
  });
});
