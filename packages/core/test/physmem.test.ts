import { describe, expect, it } from 'vitest';
import { PHYSMEM_CHUNK_SIZE, PhysicalMemory } from '../src/physmem.js';

const GiB = 1024 ** 3;

describe('PhysicalMemory: sparse backing', () => {
  it('a 64 GiB memory costs no host bytes until written, and reads zero', () => {
    const m = new PhysicalMemory(64 * GiB);
    expect(m.nrPages).toBe(16 * 1024 * 1024);
    expect(m.touchedBytes).toBe(0);
    expect(m.read32(63 * GiB)).toBe(0);
    expect(m.read64(64 * GiB - 8)).toBe(0n);
    m.fill(10 * GiB, 1 << 20, 0); // zero-filling untouched memory materialises nothing
    m.write32(5 * GiB, 0);
    expect(m.touchedBytes).toBe(0);
    m.write8(40 * GiB + 3, 0xab);
    expect(m.touchedBytes).toBe(PHYSMEM_CHUNK_SIZE);
    expect(m.read8(40 * GiB + 3)).toBe(0xab);
  });

  it('a memory over a caller ArrayBuffer shares its bytes', () => {
    const buf = new ArrayBuffer(1 << 20);
    const m = PhysicalMemory.fromBuffer(buf);
    m.write32(0x100, 0xdeadbeef);
    expect(new DataView(buf).getUint32(0x100, true)).toBe(0xdeadbeef);
    expect(m.buffer).toBe(buf);
  });
});

describe('PhysicalMemory: typed access', () => {
  it('is little-endian for 16/32/64-bit values', () => {
    const m = new PhysicalMemory(1 << 20);
    m.write32(0x1000, 0x11223344);
    expect(m.read8(0x1000)).toBe(0x44);
    expect(m.read16(0x1002)).toBe(0x1122);
    m.write64(0x2000, 0xffff888100000000n);
    expect(m.read64Lo(0x2000)).toBe(0);
    expect(m.read64Hi(0x2000)).toBe(0xffff8881);
    expect(m.read64(0x2000)).toBe(0xffff888100000000n);
    m.write64Parts(0x3000, 0x9abcdef0, 0x12345678);
    expect(m.read64(0x3000)).toBe(0x123456789abcdef0n);
    m.write64Number(0x4000, 2 ** 52 + 7);
    expect(m.read64Number(0x4000)).toBe(2 ** 52 + 7);
    expect(() => m.read64Number(0x3000)).toThrow(RangeError);
  });

  it('handles values that straddle a 64 KiB chunk boundary', () => {
    const m = new PhysicalMemory(1 << 20);
    const a = PHYSMEM_CHUNK_SIZE - 2;
    m.write32(a, 0xa1b2c3d4);
    expect(m.read32(a)).toBe(0xa1b2c3d4);
    expect(m.read8(a + 3)).toBe(0xa1);
    m.write16(PHYSMEM_CHUNK_SIZE - 1, 0xbeef);
    expect(m.read16(PHYSMEM_CHUNK_SIZE - 1)).toBe(0xbeef);
    m.write64(PHYSMEM_CHUNK_SIZE * 3 - 4, 0x0102030405060708n);
    expect(m.read64(PHYSMEM_CHUNK_SIZE * 3 - 4)).toBe(0x0102030405060708n);
  });

  it('wraps written values to their width', () => {
    const m = new PhysicalMemory(1 << 16);
    m.write8(0, 0x1ff);
    expect(m.read8(0)).toBe(0xff);
    m.write32(4, -1);
    expect(m.read32(4)).toBe(0xffffffff);
  });
});

describe('PhysicalMemory: bulk operations', () => {
  it('fill, findNot, compare and copy work across chunks', () => {
    const m = new PhysicalMemory(1 << 20);
    m.fill(PHYSMEM_CHUNK_SIZE - 100, 200, 0x6b);
    expect(m.findNot(PHYSMEM_CHUNK_SIZE - 100, 200, 0x6b)).toBe(-1);
    m.write8(PHYSMEM_CHUNK_SIZE + 50, 0x00);
    expect(m.findNot(PHYSMEM_CHUNK_SIZE - 100, 200, 0x6b)).toBe(150);
    expect(m.findNot(0x80000, 16, 0xa5)).toBe(0); // untouched memory is zero
    m.copy(0x40000, PHYSMEM_CHUNK_SIZE - 100, 200);
    expect(m.compare(0x40000, PHYSMEM_CHUNK_SIZE - 100, 200)).toBe(0);
    m.write8(0x40010, 0x6c);
    expect(m.compare(0x40000, PHYSMEM_CHUNK_SIZE - 100, 200)).toBe(1);
    expect(m.compare(PHYSMEM_CHUNK_SIZE - 100, 0x40000, 200)).toBe(-1);
  });

  it('copy is a memmove: overlapping ranges keep the source bytes', () => {
    const m = new PhysicalMemory(1 << 16);
    m.writeBytes(100, [1, 2, 3, 4, 5, 6, 7, 8]);
    m.copy(102, 100, 8);
    expect([...m.readBytes(100, 10)]).toEqual([1, 2, 1, 2, 3, 4, 5, 6, 7, 8]);
    m.copy(100, 102, 8);
    expect([...m.readBytes(100, 8)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('PhysicalMemory: bounds', () => {
  it('throws RangeError naming the address for every access outside memory', () => {
    const m = new PhysicalMemory(1 << 16);
    expect(() => m.read8(1 << 16)).toThrow(
      /physical address 0x10000 .*outside memory \[0x0, 0x10000\)/,
    );
    expect(() => m.read32((1 << 16) - 2)).toThrow(RangeError);
    expect(() => m.write8(-1, 0)).toThrow(/\(-1\)/);
    expect(() => m.read8(1.5)).toThrow(RangeError);
    expect(() => m.read8(Number.NaN)).toThrow(RangeError);
    expect(() => m.fill(0xff00, 0x200, 0)).toThrow(RangeError);
    expect(() => m.readBytes(0, -1)).toThrow(/length -1/);
  });

  it('rejects sizes that are not whole pages', () => {
    expect(() => new PhysicalMemory(1000)).toThrow(/multiple of the page size/);
    expect(() => new PhysicalMemory(0)).toThrow(RangeError);
  });
});
