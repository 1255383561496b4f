/**
 * Kallsyms — a symbol table for simulated kernel text, so reports can print call sites the
 * way `%pS` does (`my_driver_init+0x0/0x100`).
 *
 * JavaScript has no return address, so simulated code names its call sites: `intern(name)`
 * gives a function a stable text address (as if the kernel image laid it out), and reports
 * print that address back as `name+0xoffset/0xsize` (lib/vsprintf.c symbol_string() →
 * kernel/kallsyms.c sprint_symbol()). Addresses start at the x86-64 kernel text base
 * 0xffffffff81000000 (kept as its low 48 bits, like every VirtAddr).
 */
import type { VirtAddr } from './addr.js';

/** arch/x86: __START_KERNEL_map + CONFIG_PHYSICAL_START, the first byte of kernel text. */
export const KERNEL_TEXT_START: VirtAddr = 0xffff_8100_0000;
const DEFAULT_SYMBOL_SIZE = 0x100;

export class Kallsyms {
  private readonly byName = new Map<string, VirtAddr>();
  private readonly names: string[] = [];
  private readonly starts: number[] = [];
  private readonly sizes: number[] = [];
  private next = KERNEL_TEXT_START;

  /** The text address of `name`, laid out on first use (`size` bytes long, default 0x100). */
  intern(name: string, size = DEFAULT_SYMBOL_SIZE): VirtAddr {
    const known = this.byName.get(name);
    if (known !== undefined) return known;
    if (typeof name !== 'string' || name === '' || /\s/.test(name)) {
      throw new TypeError(`kallsyms: symbol name ${JSON.stringify(name)} must be a non-empty word`);
    }
    if (!Number.isInteger(size) || size < 1 || size > 0x100000) {
      throw new RangeError(`kallsyms: symbol size ${String(size)} outside 1..0x100000`);
    }
    const addr = this.next;
    this.next += size;
    this.byName.set(name, addr);
    this.names.push(name);
    this.starts.push(addr);
    this.sizes.push(size);
    return addr;
  }

  /** The symbol that contains `addr`, or null. */
  lookup(addr: VirtAddr): { name: string; offset: number; size: number } | null {
    // Symbols are laid out in ascending order: binary search.
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const start = this.starts[mid]!;
      if (addr < start) hi = mid - 1;
      else if (addr >= start + this.sizes[mid]!) lo = mid + 1;
      else return { name: this.names[mid]!, offset: addr - start, size: this.sizes[mid]! };
    }
    return null;
  }

  /** `%pS`: `name+0xoff/0xsize`, or `0x<hex>` for an address no symbol covers. */
  formatSymbol(addr: VirtAddr): string {
    const sym = this.lookup(addr);
    if (!sym) return `0x${addr.toString(16)}`;
    return `${sym.name}+0x${sym.offset.toString(16)}/0x${sym.size.toString(16)}`;
  }
}
