/**
 * The conformance suite's random map/unmap/protect model (src/conformance.ts:
 * checkPageTableCommands) driven by fast-check, which shrinks a failure to a minimal
 * sequence: every format, 150 sequences each, against a reference page → frame/permission map.
 */
import type { PagingFormat } from '@mmsim/core';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  checkPageTableCommands,
  type PageTableCommand,
  pageTableCommandSpace,
} from '../src/conformance.js';
import { PAGING_FORMATS } from '../src/index.js';
import { i386, toy16 } from './custom-formats.js';

describe.each([...PAGING_FORMATS, toy16, i386].map((f) => [f.name, f] as const))(
  '%s: random map/unmap/protect against a reference map',
  (_, f: PagingFormat) => {
    const space = pageTableCommandSpace(f);
    const at = fc.constantFrom(...space.slots);
    const n = fc.integer({ min: 1, max: space.maxPages });
    const prot = fc.constantFrom(...space.prots);
    const cmd: fc.Arbitrary<PageTableCommand> = fc.oneof(
      fc.record({
        op: fc.constant('map' as const),
        at,
        n,
        frame: fc.integer({ min: 0, max: space.frames - 4 }),
        prot,
      }),
      fc.record({ op: fc.constant('unmap' as const), at, n, keepTables: fc.boolean() }),
      fc.record({ op: fc.constant('protect' as const), at, n, prot }),
    );

    it('translates every page as the reference says and frees every table at the end', () => {
      fc.assert(
        fc.property(fc.array(cmd, { minLength: 1, maxLength: space.maxCommands }), (cmds) => {
          checkPageTableCommands(f, cmds);
        }),
        { numRuns: 150, seed: 42 },
      );
    });
  },
);
