/**
 * Paging formats — the `PagingFormat` interface and its helpers. Written by the @mmsim/mmu
 * work (issue 4); implementations live in @mmsim/mmu.
 */
export {};
