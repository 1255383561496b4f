/** Textbook formats declared with customFormat() that the tests share. */
import { customFormat } from '../src/index.js';

/** A 16-bit textbook format with permission and A/D bits, and 2 KiB huge pages. */
export const toy16 = customFormat({
  name: 'toy16',
  pageSize: 64,
  levelBits: [5, 5, 5],
  pteSize: 2,
  validBit: 0,
  writeBit: 1,
  userBit: 2,
  noExecBit: 3,
  accessedBit: 4,
  dirtyBit: 5,
  globalBit: 6,
  hugeBit: 7,
  hugeLevels: [1],
  frameBit: 8,
  frameBits: 8,
});

/** A 4-byte-PTE, 2-level, 4 KiB-page format (i386 without PAE, as data). */
export const i386 = customFormat({
  name: 'i386',
  pageSize: 4096,
  levelBits: [10, 10],
  pteSize: 4,
  validBit: 0,
  writeBit: 1,
  userBit: 2,
  accessedBit: 5,
  dirtyBit: 6,
  hugeBit: 7,
  hugeLevels: [0],
  globalBit: 8,
  frameBit: 12,
  frameBits: 20,
});
