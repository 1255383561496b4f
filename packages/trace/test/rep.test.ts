import { describe, expect, it } from 'vitest';
import { formatRep, parseRep } from '../src/index.js';

const REP = `20000
3
6
1
a 0 512
a 1 128
r 0 640
f 1
a 2 16
f 0
`;

describe('parseRep (CS:APP malloc lab traces)', () => {
  it('reads the four header lines and the a/f/r operations', () => {
    const t = parseRep(REP);
    expect(t).toMatchObject({ heapSize: 20000, numIds: 3, numOps: 6, weight: 1 });
    expect(t.ops).toEqual([
      { type: 'a', id: 0, size: 512, line: 5 },
      { type: 'a', id: 1, size: 128, line: 6 },
      { type: 'r', id: 0, size: 640, line: 7 },
      { type: 'f', id: 1, size: 0, line: 8 },
      { type: 'a', id: 2, size: 16, line: 9 },
      { type: 'f', id: 0, size: 0, line: 10 },
    ]);
    expect(parseRep(formatRep(t))).toEqual(t);
  });

  it('names the line of what is wrong', () => {
    expect(() => parseRep('1\n1\n1\n')).toThrow('the header needs 4 numbers, found 3');
    expect(() => parseRep('1\n1\n2\n1\na 0 8\n')).toThrow('announces 2 operations, found 1');
    expect(() => parseRep('1\n1\n1\n1\nx 0 8\n')).toThrow(".rep line 5: unknown operation 'x'");
    expect(() => parseRep('1\n1\n1\n1\na 1 8\n')).toThrow('line 5: id 1 is not below');
    expect(() => parseRep('1\n2\n1\n1\nf 1\n')).toThrow('line 5: block 1 was never allocated');
    expect(() => parseRep('1\n1\n1\n1\na 0\n')).toThrow("line 5: 'a' takes 2 numbers");
    expect(() => parseRep('1\n1\n1\n1\na 0 -8\n')).toThrow('size is not an unsigned integer');
  });
});
