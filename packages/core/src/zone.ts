/**
 * Zone types and migrate types, as include/linux/mmzone.h numbers them for x86-64
 * (CONFIG_ZONE_DMA, CONFIG_ZONE_DMA32, no HIGHMEM, CONFIG_ZONE_DEVICE; MIGRATE_CMA off and
 * CONFIG_MEMORY_ISOLATION on, as in the reference 6.18 config).
 */

export const ZONE_DMA = 0;
export const ZONE_DMA32 = 1;
export const ZONE_NORMAL = 2;
export const ZONE_MOVABLE = 3;
export const ZONE_DEVICE = 4;
export const MAX_NR_ZONES = 5;
export type ZoneType = 0 | 1 | 2 | 3 | 4;

/** mm/page_alloc.c: zone_names[]. */
export const ZONE_NAMES: readonly string[] = ['DMA', 'DMA32', 'Normal', 'Movable', 'Device'];

/** arch/x86/include/asm/dma.h: MAX_DMA_PFN (16 MiB) and MAX_DMA32_PFN (4 GiB), as addresses. */
export const MAX_DMA_ADDR = 16 * 1024 * 1024;
export const MAX_DMA32_ADDR = 4 * 1024 * 1024 * 1024;

export const MIGRATE_UNMOVABLE = 0;
export const MIGRATE_MOVABLE = 1;
export const MIGRATE_RECLAIMABLE = 2;
/** The number of migrate types that have pcp lists. */
export const MIGRATE_PCPTYPES = 3;
export const MIGRATE_HIGHATOMIC = 3;
export const MIGRATE_ISOLATE = 4;
export const MIGRATE_TYPES = 5;
export type MigrateType = 0 | 1 | 2 | 3 | 4;

/** mm/page_alloc.c: migratetype_names[]. */
export const MIGRATETYPE_NAMES: readonly string[] = [
  'Unmovable',
  'Movable',
  'Reclaimable',
  'HighAtomic',
  'Isolate',
];
/** mm/show_mem.c: show_migration_types() letters. */
export const MIGRATETYPE_LETTERS: readonly string[] = ['U', 'M', 'E', 'H', 'I'];

/** mm/page_alloc.c: fallbacks[] — where a request of a pcp type looks when its lists are empty. */
export const MIGRATE_FALLBACKS: readonly (readonly number[])[] = [
  [MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE],
  [MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE],
  [MIGRATE_UNMOVABLE, MIGRATE_MOVABLE],
];
