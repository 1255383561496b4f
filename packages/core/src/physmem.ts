/**
 * PhysicalMemory — the machine's RAM as real bytes.
 *
 * Memory is split into 64 KiB chunks that are materialised on first write; an untouched
 * chunk reads as zero, and writing zeros to it materialises nothing. So a 64 GiB machine
 * costs host memory only for what the simulation touches (the chunk table itself is 8 bytes
 * per 64 KiB: 8 MiB for 64 GiB). Alternatively the whole memory can be one caller-supplied
 * ArrayBuffer (`PhysicalMemory.fromBuffer`), e.g. to share it with a worker or WASM.
 *
 * Multi-byte values are little-endian, as on x86-64 and the usual RISC-V/AArch64 setups.
 * Unaligned accesses and accesses that straddle a chunk work (slow path), as the hardware
 * allows. A 64-bit value is a bigint only at the API edge (read64/write64); hot paths use
 * the two 32-bit halves (read64Lo/read64Hi/write64Parts).
 *
 * Every access is bounds-checked and throws a RangeError naming the address — a simulator
 * bug or a wild pointer in a user's scenario must never read host garbage.
 */
import { PAGE_SHIFT, type PhysAddr } from './addr.js';
import { formatHex } from './format.js';

export const PHYSMEM_CHUNK_SHIFT = 16;
export const PHYSMEM_CHUNK_SIZE = 1 << PHYSMEM_CHUNK_SHIFT;
const CHUNK_MASK = PHYSMEM_CHUNK_SIZE - 1;
const TWO_32 = 4294967296;

export class PhysicalMemory {
  /** Size of the physical address space in bytes. */
  readonly sizeBytes: number;
  readonly nrPages: number;
  /** The buffer behind fromBuffer(), or null when sparse. */
  readonly buffer: ArrayBuffer | null;
  private readonly u8: (Uint8Array | null)[];
  private readonly dv: (DataView | null)[];
  private readonly i32: (Int32Array | null)[];
  private materialised = 0;

  /** A sparse memory of `sizeBytes` (a multiple of the page size). */
  constructor(sizeBytes: number, buffer: ArrayBuffer | null = null) {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % (1 << PAGE_SHIFT) !== 0) {
      throw new RangeError(
        `PhysicalMemory size ${sizeBytes}: expected a positive multiple of the page size (4096)`,
      );
    }
    if (sizeBytes > 2 ** 46) {
      throw new RangeError(
        `PhysicalMemory size 0x${formatHex(sizeBytes)}: at most 64 TiB is supported`,
      );
    }
    this.sizeBytes = sizeBytes;
    this.nrPages = Math.floor(sizeBytes / (1 << PAGE_SHIFT));
    this.buffer = buffer;
    const nrChunks = Math.ceil(sizeBytes / PHYSMEM_CHUNK_SIZE);
    this.u8 = new Array<Uint8Array | null>(nrChunks).fill(null);
    this.dv = new Array<DataView | null>(nrChunks).fill(null);
    this.i32 = new Array<Int32Array | null>(nrChunks).fill(null);
    if (buffer) {
      if (buffer.byteLength < sizeBytes) {
        throw new RangeError(
          `PhysicalMemory buffer of ${buffer.byteLength} bytes is smaller than ${sizeBytes}`,
        );
      }
      for (let i = 0; i < nrChunks; i++) {
        const len = Math.min(PHYSMEM_CHUNK_SIZE, sizeBytes - i * PHYSMEM_CHUNK_SIZE);
        this.u8[i] = new Uint8Array(buffer, i * PHYSMEM_CHUNK_SIZE, len);
        this.dv[i] = new DataView(buffer, i * PHYSMEM_CHUNK_SIZE, len);
        this.i32[i] = new Int32Array(buffer, i * PHYSMEM_CHUNK_SIZE, len >>> 2);
      }
      this.materialised = nrChunks;
    }
  }

  /** Memory backed by one ArrayBuffer (every byte materialised, shareable). */
  static fromBuffer(buffer: ArrayBuffer, sizeBytes = buffer.byteLength): PhysicalMemory {
    return new PhysicalMemory(sizeBytes, buffer);
  }

  /** Host bytes used by materialised chunks. */
  get touchedBytes(): number {
    return this.materialised * PHYSMEM_CHUNK_SIZE;
  }

  private fail(addr: number, len: number): never {
    throw new RangeError(
      `physical address ${Number.isFinite(addr) ? `0x${formatHex(Math.max(0, addr))}` : String(addr)}` +
        `${addr < 0 ? ` (${addr})` : ''} (+${len}) is outside memory [0x0, 0x${formatHex(this.sizeBytes)})`,
    );
  }

  private check(addr: number, len: number): void {
    if (!(addr >= 0 && addr + len <= this.sizeBytes && Math.floor(addr) === addr))
      this.fail(addr, len);
  }

  private chunkFor(index: number): Uint8Array {
    let c = this.u8[index];
    if (!c) {
      c = new Uint8Array(PHYSMEM_CHUNK_SIZE);
      this.u8[index] = c;
      this.dv[index] = new DataView(c.buffer);
      this.i32[index] = new Int32Array(c.buffer);
      this.materialised++;
    }
    return c;
  }

  /**
   * The 32-bit words of one 64 KiB chunk (index = address >> 16), materialised, for
   * allocators that read and write aligned words on their hot path (SLUB's free pointers)
   * without a bounds check per access. Word i is bytes [i*4, i*4+4) of the chunk, in host
   * byte order — little-endian on every host we run on. The caller keeps to the chunk.
   */
  chunkWords(index: number): Int32Array {
    const w = this.i32[index];
    if (w) return w;
    if (!(index >= 0 && index < this.u8.length && Math.floor(index) === index)) {
      this.fail(index * PHYSMEM_CHUNK_SIZE, 4);
    }
    this.chunkFor(index);
    return this.i32[index]!;
  }

  read8(addr: PhysAddr): number {
    this.check(addr, 1);
    const c = this.u8[Math.floor(addr / PHYSMEM_CHUNK_SIZE)];
    return c ? c[addr % PHYSMEM_CHUNK_SIZE]! : 0;
  }

  write8(addr: PhysAddr, value: number): void {
    this.check(addr, 1);
    const i = Math.floor(addr / PHYSMEM_CHUNK_SIZE);
    const c = this.u8[i];
    if (c) c[addr % PHYSMEM_CHUNK_SIZE] = value;
    else if ((value & 0xff) !== 0) this.chunkFor(i)[addr % PHYSMEM_CHUNK_SIZE] = value;
  }

  read16(addr: PhysAddr): number {
    this.check(addr, 2);
    const i = Math.floor(addr / PHYSMEM_CHUNK_SIZE);
    const off = addr - i * PHYSMEM_CHUNK_SIZE;
    if (off <= CHUNK_MASK - 1) {
      const d = this.dv[i];
      return d ? d.getUint16(off, true) : 0;
    }
    return this.readSlow(addr, 2);
  }

  write16(addr: PhysAddr, value: number): void {
    this.check(addr, 2);
    const i = Math.floor(addr / PHYSMEM_CHUNK_SIZE);
    const off = addr - i * PHYSMEM_CHUNK_SIZE;
    if (off <= CHUNK_MASK - 1) {
      const d = this.dv[i];
      if (d) d.setUint16(off, value, true);
      else if ((value & 0xffff) !== 0) {
        this.chunkFor(i);
        this.dv[i]!.setUint16(off, value, true);
      }
    } else this.writeSlow(addr, 2, value & 0xffff);
  }

  read32(addr: PhysAddr): number {
    this.check(addr, 4);
    const i = Math.floor(addr / PHYSMEM_CHUNK_SIZE);
    const off = addr - i * PHYSMEM_CHUNK_SIZE;
    if (off <= CHUNK_MASK - 3) {
      const d = this.dv[i];
      return d ? d.getUint32(off, true) : 0;
    }
    return this.readSlow(addr, 4);
  }

  write32(addr: PhysAddr, value: number): void {
    this.check(addr, 4);
    const i = Math.floor(addr / PHYSMEM_CHUNK_SIZE);
    const off = addr - i * PHYSMEM_CHUNK_SIZE;
    if (off <= CHUNK_MASK - 3) {
      const d = this.dv[i];
      if (d) d.setUint32(off, value, true);
      else if (value >>> 0 !== 0) {
        this.chunkFor(i);
        this.dv[i]!.setUint32(off, value, true);
      }
    } else this.writeSlow(addr, 4, value >>> 0);
  }

  /** Low 32 bits of the 64-bit value at addr. */
  read64Lo(addr: PhysAddr): number {
    this.check(addr, 8);
    return this.read32(addr);
  }

  /** High 32 bits of the 64-bit value at addr. */
  read64Hi(addr: PhysAddr): number {
    this.check(addr, 8);
    return this.read32(addr + 4);
  }

  /** Write a 64-bit value as two 32-bit halves (no BigInt). */
  write64Parts(addr: PhysAddr, lo: number, hi: number): void {
    this.check(addr, 8);
    this.write32(addr, lo);
    this.write32(addr + 4, hi);
  }

  /** The 64-bit value at addr as a number; exact while below 2^53 (RangeError otherwise). */
  read64Number(addr: PhysAddr): number {
    const hi = this.read64Hi(addr);
    if (hi >= 0x200000) {
      throw new RangeError(`u64 at 0x${formatHex(addr)} (hi 0x${formatHex(hi)}) exceeds 2^53`);
    }
    return hi * TWO_32 + this.read32(addr);
  }

  /** Write a number below 2^53 as a 64-bit value. */
  write64Number(addr: PhysAddr, value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`write64Number: ${value} is not a non-negative safe integer`);
    }
    const hi = Math.floor(value / TWO_32);
    this.write64Parts(addr, value - hi * TWO_32, hi);
  }

  read64(addr: PhysAddr): bigint {
    const lo = this.read64Lo(addr);
    const hi = this.read64Hi(addr);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  write64(addr: PhysAddr, value: bigint): void {
    const v = BigInt.asUintN(64, value);
    this.write64Parts(addr, Number(v & 0xffffffffn), Number(v >> 32n));
  }

  private readSlow(addr: number, len: number): number {
    let v = 0;
    for (let k = len - 1; k >= 0; k--) {
      const a = addr + k;
      const c = this.u8[Math.floor(a / PHYSMEM_CHUNK_SIZE)];
      v = v * 256 + (c ? c[a % PHYSMEM_CHUNK_SIZE]! : 0);
    }
    return v;
  }

  private writeSlow(addr: number, len: number, value: number): void {
    for (let k = 0; k < len; k++) {
      const a = addr + k;
      const b = value % 256;
      value = Math.floor(value / 256);
      const i = Math.floor(a / PHYSMEM_CHUNK_SIZE);
      const c = this.u8[i];
      if (c) c[a % PHYSMEM_CHUNK_SIZE] = b;
      else if (b !== 0) this.chunkFor(i)[a % PHYSMEM_CHUNK_SIZE] = b;
    }
  }

  /** memset(): set `len` bytes at addr to `byte`. Zero-filling an untouched chunk costs nothing. */
  fill(addr: PhysAddr, len: number, byte: number): void {
    this.checkRange(addr, len);
    byte &= 0xff;
    let a = addr;
    const end = addr + len;
    while (a < end) {
      const i = Math.floor(a / PHYSMEM_CHUNK_SIZE);
      const off = a - i * PHYSMEM_CHUNK_SIZE;
      const n = Math.min(PHYSMEM_CHUNK_SIZE - off, end - a);
      const c = this.u8[i];
      if (c) c.fill(byte, off, off + n);
      else if (byte !== 0) this.chunkFor(i).fill(byte, off, off + n);
      a += n;
    }
  }

  /** memmove(): copy `len` bytes from src to dst; overlapping ranges are handled. */
  copy(dst: PhysAddr, src: PhysAddr, len: number): void {
    this.checkRange(dst, len);
    this.checkRange(src, len);
    if (len === 0 || dst === src) return;
    // A temporary copy keeps overlapping moves correct across chunk boundaries.
    const tmp = this.readBytes(src, len);
    this.writeBytes(dst, tmp);
  }

  /** memcmp(): <0, 0 or >0 as the first differing byte of a is below, equal or above b's. */
  compare(a: PhysAddr, b: PhysAddr, len: number): number {
    this.checkRange(a, len);
    this.checkRange(b, len);
    for (let k = 0; k < len; k++) {
      const d = this.byteAt(a + k) - this.byteAt(b + k);
      if (d !== 0) return d;
    }
    return 0;
  }

  /**
   * The offset of the first byte in [addr, addr+len) that is not `byte`, or -1.
   * (mm/slub.c check_bytes_and_report() scans for exactly this.)
   */
  findNot(addr: PhysAddr, len: number, byte: number): number {
    this.checkRange(addr, len);
    byte &= 0xff;
    let a = addr;
    const end = addr + len;
    while (a < end) {
      const i = Math.floor(a / PHYSMEM_CHUNK_SIZE);
      const off = a - i * PHYSMEM_CHUNK_SIZE;
      const n = Math.min(PHYSMEM_CHUNK_SIZE - off, end - a);
      const c = this.u8[i];
      if (!c) {
        if (byte !== 0) return a - addr;
      } else {
        // Word at a time through the aligned middle (poison checks scan whole objects).
        const end = off + n;
        let k = off;
        while (k < end && (k & 3) !== 0) {
          if (c[k] !== byte) return a - addr + (k - off);
          k++;
        }
        const w = this.i32[i]!;
        const pattern = Math.imul(byte, 0x01010101);
        while (k + 4 <= end && w[k >> 2] === pattern) k += 4;
        for (; k < end; k++) if (c[k] !== byte) return a - addr + (k - off);
      }
      a += n;
    }
    return -1;
  }

  /** Copy bytes out. */
  readBytes(addr: PhysAddr, len: number): Uint8Array {
    this.checkRange(addr, len);
    const out = new Uint8Array(len);
    let a = addr;
    let o = 0;
    while (o < len) {
      const i = Math.floor(a / PHYSMEM_CHUNK_SIZE);
      const off = a - i * PHYSMEM_CHUNK_SIZE;
      const n = Math.min(PHYSMEM_CHUNK_SIZE - off, len - o);
      const c = this.u8[i];
      if (c) out.set(c.subarray(off, off + n), o);
      a += n;
      o += n;
    }
    return out;
  }

  /** Copy bytes in. */
  writeBytes(addr: PhysAddr, bytes: ArrayLike<number>): void {
    const len = bytes.length;
    this.checkRange(addr, len);
    let a = addr;
    let o = 0;
    const src = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
    while (o < len) {
      const i = Math.floor(a / PHYSMEM_CHUNK_SIZE);
      const off = a - i * PHYSMEM_CHUNK_SIZE;
      const n = Math.min(PHYSMEM_CHUNK_SIZE - off, len - o);
      const part = src.subarray(o, o + n);
      const c = this.u8[i] ?? (part.some((b) => b !== 0) ? this.chunkFor(i) : null);
      if (c) c.set(part, off);
      a += n;
      o += n;
    }
  }

  private byteAt(a: number): number {
    const c = this.u8[Math.floor(a / PHYSMEM_CHUNK_SIZE)];
    return c ? c[a % PHYSMEM_CHUNK_SIZE]! : 0;
  }

  private checkRange(addr: number, len: number): void {
    if (!Number.isSafeInteger(len) || len < 0) {
      throw new RangeError(`length ${len} is not a non-negative whole number of bytes`);
    }
    this.check(addr, len);
  }
}
