/**
 * Addresses, pages and page frame numbers.
 *
 * Physical addresses, virtual addresses and pfns are plain numbers (exact to 2^53), never
 * BigInt on a hot path. A virtual address is kept as its low `vaBits` bits; the canonical,
 * sign-extended form exists only when printed (see format.ts). Constants follow x86-64 with
 * 4 KiB pages (arch/x86/include/asm/page_types.h).
 */

/** A physical address in bytes. */
export type PhysAddr = number;
/** A virtual address, stored as its low `vaBits` bits. */
export type VirtAddr = number;
/** A page frame number: physical address >> PAGE_SHIFT. */
export type Pfn = number;

/** include/asm-generic/page.h: PAGE_SHIFT for 4 KiB pages. */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const PAGE_MASK = ~(PAGE_SIZE - 1);

/** include/linux/mmzone.h: MAX_PAGE_ORDER (inclusive) since 6.4/6.8. */
export const MAX_PAGE_ORDER = 10;
export const NR_PAGE_ORDERS = MAX_PAGE_ORDER + 1;
export const MAX_ORDER_NR_PAGES = 1 << MAX_PAGE_ORDER;
/** include/linux/mmzone.h: orders above this are "costly" (pcp lists hold 0..3). */
export const PAGE_ALLOC_COSTLY_ORDER = 3;
/** include/linux/pageblock-flags.h: pageblock_order on x86-64 (HPAGE_PMD_ORDER). */
export const PAGEBLOCK_ORDER = 9;
export const PAGEBLOCK_NR_PAGES = 1 << PAGEBLOCK_ORDER;

/** The value allocators return for "no page" (NULL struct page *). */
export const NO_PAGE: Pfn = -1;
/** include/linux/numa.h: NUMA_NO_NODE, "any node". */
export const NUMA_NO_NODE = -1;

export const pfnToPhys = (pfn: Pfn): PhysAddr => pfn * PAGE_SIZE;
export const physToPfn = (addr: PhysAddr): Pfn => Math.floor(addr / PAGE_SIZE);
/** PAGE_ALIGN(): round up to a page boundary. */
export const pageAlign = (bytes: number): number => Math.ceil(bytes / PAGE_SIZE) * PAGE_SIZE;

/** include/asm-generic/getorder.h: get_order(size), the smallest order whose block holds size bytes. */
export function getOrder(sizeBytes: number): number {
  if (sizeBytes <= PAGE_SIZE) return 0;
  return Math.ceil(Math.log2(Math.ceil(sizeBytes / PAGE_SIZE)));
}

/** True when `pfn` is aligned to a block of `order`. */
export const isAlignedToOrder = (pfn: Pfn, order: number): boolean => pfn % (1 << order) === 0;

/**
 * arch/x86/include/asm/page_64_types.h: __PAGE_OFFSET_BASE_L4, the start of the direct map of
 * all physical memory (0xffff888000000000), kept as its low 48 bits like every VirtAddr.
 * Slab objects and kmalloc'd buffers are direct-map addresses, as in Linux.
 */
export const PAGE_OFFSET: VirtAddr = 0x8880_0000_0000;
/** __va(): the direct-map address of a physical address. */
export const physToVirt = (addr: PhysAddr): VirtAddr => addr + PAGE_OFFSET;
/** __pa() for a direct-map address. */
export const virtToPhys = (addr: VirtAddr): PhysAddr => addr - PAGE_OFFSET;
/** page_address(): the direct-map address of a frame. */
export const pfnToVirt = (pfn: Pfn): VirtAddr => PAGE_OFFSET + pfn * PAGE_SIZE;
/** virt_to_pfn() for a direct-map address (floor division; NaN-free for any number). */
export const virtToPfn = (addr: VirtAddr): Pfn => Math.floor((addr - PAGE_OFFSET) / PAGE_SIZE);

/** include/linux/slab.h: ZERO_SIZE_PTR, what kmalloc(0) returns; dereferencing it faults. */
export const ZERO_SIZE_PTR: VirtAddr = 16;
/** include/linux/slab.h: ZERO_OR_NULL_PTR(). */
export const isZeroOrNullPtr = (addr: VirtAddr): boolean => addr <= ZERO_SIZE_PTR;
