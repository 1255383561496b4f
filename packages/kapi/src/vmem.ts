/**
 * Virtual memory read and written as the CPU does it: accesses that cross a page are split at
 * the page boundary and each part is translated on its own, as the hardware does.
 */
import { ACCESS_READ, ACCESS_WRITE, formatPtr, PAGE_SIZE, type PhysicalMemory } from '@mmsim/core';

/**
 * Virtual memory as one kind of access sees it: every byte goes through `pa()`, which a
 * subclass defines (the kernel's view, with the Oops; a process's, with SIGSEGV).
 */
export abstract class VirtualMemory {
  constructor(protected readonly phys: PhysicalMemory) {}

  /** The physical address of `va` for an access (ACCESS_READ/WRITE/EXEC), or a throw. */
  protected abstract pa(va: number, access: number): number;

  /** Bytes of `len` at `va`, page by page. */
  protected each(
    va: number,
    len: number,
    access: number,
    fn: (pa: number, n: number, done: number) => void,
  ): void {
    if (!Number.isSafeInteger(len) || len < 0)
      throw new RangeError(`length ${String(len)} is not a size_t`);
    let done = 0;
    while (done < len) {
      const a = va + done;
      const n = Math.min(len - done, PAGE_SIZE - (a % PAGE_SIZE));
      fn(this.pa(a, access), n, done);
      done += n;
    }
  }

  read8(va: number): number {
    return this.phys.read8(this.pa(va, ACCESS_READ));
  }
  read16(va: number): number {
    if (va % PAGE_SIZE <= PAGE_SIZE - 2) return this.phys.read16(this.pa(va, ACCESS_READ));
    const b = this.readBytes(va, 2);
    return b[0]! | (b[1]! << 8);
  }
  read32(va: number): number {
    if (va % PAGE_SIZE <= PAGE_SIZE - 4) return this.phys.read32(this.pa(va, ACCESS_READ));
    const b = this.readBytes(va, 4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }
  /** A 64-bit value, as a bigint (the API edge; hot code uses read32 twice). */
  read64(va: number): bigint {
    const lo = this.read32(va);
    const hi = this.read32(va + 4);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  write8(va: number, value: number): void {
    this.phys.write8(this.pa(va, ACCESS_WRITE), value);
  }
  write16(va: number, value: number): void {
    this.writeBytes(va, [value & 0xff, (value >>> 8) & 0xff]);
  }
  write32(va: number, value: number): void {
    if (va % PAGE_SIZE <= PAGE_SIZE - 4) this.phys.write32(this.pa(va, ACCESS_WRITE), value);
    else
      this.writeBytes(va, [
        value & 0xff,
        (value >>> 8) & 0xff,
        (value >>> 16) & 0xff,
        (value >>> 24) & 0xff,
      ]);
  }
  write64(va: number, value: bigint | number): void {
    const v = BigInt.asUintN(64, BigInt(value));
    this.write32(va, Number(v & 0xffffffffn));
    this.write32(va + 4, Number(v >> 32n));
  }
  readBytes(va: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.each(va, len, ACCESS_READ, (pa, n, done) => out.set(this.phys.readBytes(pa, n), done));
    return out;
  }
  writeBytes(va: number, bytes: ArrayLike<number>): void {
    const src = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes as ArrayLike<number>);
    this.each(va, src.length, ACCESS_WRITE, (pa, n, done) =>
      this.phys.writeBytes(pa, src.subarray(done, done + n)),
    );
  }
  /** memset(va, byte, len). */
  memset(va: number, byte: number, len: number): void {
    this.each(va, len, ACCESS_WRITE, (pa, n) => this.phys.fill(pa, n, byte));
  }
  /** memcpy(dst, src, len) (the ranges must not overlap, as memcpy's contract says). */
  memcpy(dst: number, src: number, len: number): void {
    this.writeBytes(dst, this.readBytes(src, len));
  }
  /** The bytes of a NUL-terminated string at `va` (without the NUL), at most `max`. */
  readCString(va: number, max = PAGE_SIZE * 4): Uint8Array {
    const bytes: number[] = [];
    for (let i = 0; i < max; i++) {
      const b = this.read8(va + i);
      if (b === 0) return Uint8Array.from(bytes);
      bytes.push(b);
    }
    throw new RangeError(`no NUL within ${max} bytes of 0x${formatPtr(va)}`);
  }
  /** A NUL-terminated string at `va`, decoded as UTF-8. */
  readString(va: number, max?: number): string {
    return new TextDecoder().decode(this.readCString(va, max));
  }
}
