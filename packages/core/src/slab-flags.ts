/**
 * Slab cache creation flags (slab_flags_t) with Linux 6.18's values.
 *
 * Since 6.9 the flags are bits of `enum _slab_flag_bits` (include/linux/slab.h, commit
 * cc61eb851c9a): bits 0–10 are fixed, the later ones are packed and depend on the kernel
 * config. The values here are those of the reference 6.18 config (MEMCG=y, SLAB_OBJ_EXT=y,
 * DEBUG_OBJECTS, FAILSLAB, KASAN and KFENCE off, SLUB_TINY off); a flag whose option is off
 * is 0 (__SLAB_FLAG_UNUSED) and takes no bit, as in that kernel.
 *
 * SLAB_NO_REAP and SLAB_MUST_HWCACHE_ALIGN are 2.6-era flags that kernel books still teach.
 * Their historical values (0x1000, 0x8000) are NO_MERGE and RECLAIM_ACCOUNT today, so the
 * simulator gives them two bits no 6.18 flag uses; see their comments.
 */

export const SLAB_CONSISTENCY_CHECKS = 0x1;
export const SLAB_RED_ZONE = 0x2;
export const SLAB_POISON = 0x4;
export const SLAB_KMALLOC = 0x8;
export const SLAB_HWCACHE_ALIGN = 0x10;
export const SLAB_CACHE_DMA = 0x20;
export const SLAB_CACHE_DMA32 = 0x40;
export const SLAB_STORE_USER = 0x80;
export const SLAB_PANIC = 0x100;
export const SLAB_TYPESAFE_BY_RCU = 0x200;
/** The pre-4.11 name of SLAB_TYPESAFE_BY_RCU. */
export const SLAB_DESTROY_BY_RCU = SLAB_TYPESAFE_BY_RCU;
export const SLAB_TRACE = 0x400;
/** CONFIG_DEBUG_OBJECTS is off in the reference config. */
export const SLAB_DEBUG_OBJECTS = 0;
export const SLAB_NOLEAKTRACE = 0x800;
export const SLAB_NO_MERGE = 0x1000;
/** CONFIG_FAILSLAB is off in the reference config. */
export const SLAB_FAILSLAB = 0;
export const SLAB_ACCOUNT = 0x2000;
/** CONFIG_KASAN_GENERIC is off in the reference config. */
export const SLAB_KASAN = 0;
export const SLAB_NO_USER_FLAGS = 0x4000;
/** CONFIG_KFENCE is off in the reference config. */
export const SLAB_SKIP_KFENCE = 0;
export const SLAB_RECLAIM_ACCOUNT = 0x8000;
/** An alias of SLAB_RECLAIM_ACCOUNT (include/linux/slab.h). */
export const SLAB_TEMPORARY = SLAB_RECLAIM_ACCOUNT;
/** mm/slub.c internal: poison free objects (SLAB_POISON without ctor and without RCU). */
export const __OBJECT_POISON = 0x10000;
/** mm/slub.c internal: the cache may use cmpxchg_double on slab freelists. */
export const __CMPXCHG_DOUBLE = 0x20000;
export const SLAB_NO_OBJ_EXT = 0x40000;
/** Deprecated in 6.9 and defined as 0 (__SLAB_FLAG_UNUSED); accepted and ignored. */
export const SLAB_MEM_SPREAD = 0;

/**
 * Legacy (2.6 era, removed in 2.6.17): "never reap from the cache" — the periodic reaper
 * (SLAB's cache_reap) leaves the cache's per-CPU arrays and free slabs alone, and shrinking
 * under memory pressure skips it. Historical value 0x00001000UL; a simulator-only bit here.
 */
export const SLAB_NO_REAP = 0x1000_0000;
/**
 * Legacy (2.6 era): "force alignment" — align objects to the cache line even when they are
 * small, where SLAB_HWCACHE_ALIGN halves the alignment while the object fits in half a line.
 * Historical value 0x00008000UL; a simulator-only bit here.
 */
export const SLAB_MUST_HWCACHE_ALIGN = 0x2000_0000;

/** Every flag a caller may pass to kmem_cache_create() (internal bits excluded). */
export const SLAB_FLAGS_MASK =
  SLAB_CONSISTENCY_CHECKS |
  SLAB_RED_ZONE |
  SLAB_POISON |
  SLAB_KMALLOC |
  SLAB_HWCACHE_ALIGN |
  SLAB_CACHE_DMA |
  SLAB_CACHE_DMA32 |
  SLAB_STORE_USER |
  SLAB_PANIC |
  SLAB_TYPESAFE_BY_RCU |
  SLAB_TRACE |
  SLAB_NOLEAKTRACE |
  SLAB_NO_MERGE |
  SLAB_ACCOUNT |
  SLAB_NO_USER_FLAGS |
  SLAB_RECLAIM_ACCOUNT |
  SLAB_NO_OBJ_EXT |
  SLAB_NO_REAP |
  SLAB_MUST_HWCACHE_ALIGN;

/** mm/slub.c: DEBUG_DEFAULT_FLAGS, what a bare `slab_debug` turns on. */
export const DEBUG_DEFAULT_FLAGS =
  SLAB_CONSISTENCY_CHECKS | SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER;
/** mm/slab.h: SLAB_DEBUG_FLAGS under CONFIG_SLUB_DEBUG. */
export const SLAB_DEBUG_FLAGS =
  SLAB_RED_ZONE | SLAB_POISON | SLAB_STORE_USER | SLAB_TRACE | SLAB_CONSISTENCY_CHECKS;
/** mm/slab_common.c: caches with any of these never merge. */
export const SLAB_NEVER_MERGE =
  SLAB_RED_ZONE |
  SLAB_POISON |
  SLAB_STORE_USER |
  SLAB_TRACE |
  SLAB_TYPESAFE_BY_RCU |
  SLAB_NOLEAKTRACE |
  SLAB_FAILSLAB |
  SLAB_NO_MERGE;
/** mm/slab_common.c: caches merge only if they agree on these. */
export const SLAB_MERGE_SAME =
  SLAB_RECLAIM_ACCOUNT | SLAB_CACHE_DMA | SLAB_CACHE_DMA32 | SLAB_ACCOUNT;

const FLAG_NAMES: readonly (readonly [number, string])[] = [
  [SLAB_CONSISTENCY_CHECKS, 'SLAB_CONSISTENCY_CHECKS'],
  [SLAB_RED_ZONE, 'SLAB_RED_ZONE'],
  [SLAB_POISON, 'SLAB_POISON'],
  [SLAB_KMALLOC, 'SLAB_KMALLOC'],
  [SLAB_HWCACHE_ALIGN, 'SLAB_HWCACHE_ALIGN'],
  [SLAB_CACHE_DMA, 'SLAB_CACHE_DMA'],
  [SLAB_CACHE_DMA32, 'SLAB_CACHE_DMA32'],
  [SLAB_STORE_USER, 'SLAB_STORE_USER'],
  [SLAB_PANIC, 'SLAB_PANIC'],
  [SLAB_TYPESAFE_BY_RCU, 'SLAB_TYPESAFE_BY_RCU'],
  [SLAB_TRACE, 'SLAB_TRACE'],
  [SLAB_NOLEAKTRACE, 'SLAB_NOLEAKTRACE'],
  [SLAB_NO_MERGE, 'SLAB_NO_MERGE'],
  [SLAB_ACCOUNT, 'SLAB_ACCOUNT'],
  [SLAB_NO_USER_FLAGS, 'SLAB_NO_USER_FLAGS'],
  [SLAB_RECLAIM_ACCOUNT, 'SLAB_RECLAIM_ACCOUNT'],
  [__OBJECT_POISON, '__OBJECT_POISON'],
  [__CMPXCHG_DOUBLE, '__CMPXCHG_DOUBLE'],
  [SLAB_NO_OBJ_EXT, 'SLAB_NO_OBJ_EXT'],
  [SLAB_NO_REAP, 'SLAB_NO_REAP'],
  [SLAB_MUST_HWCACHE_ALIGN, 'SLAB_MUST_HWCACHE_ALIGN'],
];

/** 'SLAB_HWCACHE_ALIGN|SLAB_PANIC' for a flags word; unknown bits print as hex; '0' for none. */
export function formatSlabFlags(flags: number): string {
  const parts: string[] = [];
  let rest = flags >>> 0;
  for (const [bit, name] of FLAG_NAMES) {
    if (rest & bit) {
      parts.push(name);
      rest &= ~bit;
    }
  }
  if (rest) parts.push(`0x${rest.toString(16)}`);
  return parts.length ? parts.join('|') : '0';
}

/** Throw a RangeError for a flags word that is not a uint32 made of known creation flags. */
export function assertSlabFlags(flags: number, fn = 'kmem_cache_create'): void {
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) {
    throw new RangeError(`${fn}: flags ${String(flags)} is not a slab_flags_t (uint32)`);
  }
  const unknown = (flags & ~SLAB_FLAGS_MASK) >>> 0;
  if (unknown) {
    throw new RangeError(
      `${fn}: unknown slab flag bits 0x${unknown.toString(16)} in 0x${(flags >>> 0).toString(16)}`,
    );
  }
}
