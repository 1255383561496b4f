/**
 * GFP flags ("get free pages"): the allocation-mode bits every allocation carries.
 *
 * Values are those of Linux 6.18 on x86-64 (include/linux/gfp_types.h). Since 6.10 the bits
 * come from an enum whose high members exist only with some configs; in the reference config
 * (no KASAN_HW_TAGS, no LOCKDEP, SLAB_OBJ_EXT=y) __GFP_SKIP_ZERO, __GFP_SKIP_KASAN and
 * __GFP_NOLOCKDEP are 0 and __GFP_NO_OBJ_EXT takes bit 24, so __GFP_BITS_SHIFT is 25. The
 * print table below is copied, in order, from the `print fmt` of the kmem:kmalloc tracepoint
 * of the real 6.18 kernel (include/trace/events/mmflags.h __def_gfpflag_names), and a test
 * re-derives it from that file.
 *
 * Hot helpers (gfpZone, gfpMigratetype, gfpAllowsBlocking, …) are plain number operations:
 * they run on every allocation and allocate nothing. Printing and parsing are cold.
 *
 * A gfp_t is a 32-bit unsigned int in C; here it is a non-negative number below 2^32, and a
 * valid one (isValidGfp) has no bit at or above __GFP_BITS_SHIFT.
 *
 * Linux: include/linux/gfp_types.h, include/linux/gfp.h (gfp_zone, gfp_migratetype,
 * gfpflags_allow_blocking), mm/internal.h (GFP_*_MASK), lib/vsprintf.c format_flags()
 * (%pGg), kernel/trace/trace_output.c trace_print_flags_seq() (__print_flags).
 */
import { CUT_HERE, KernelOops } from './errors.js';
import { MIGRATE_MOVABLE, ZONE_DMA, ZONE_DMA32, ZONE_MOVABLE, ZONE_NORMAL } from './zone.js';

/** gfp_t: a mask of the bits below. */
export type Gfp = number;

// ---- Plain bits (include/linux/gfp_types.h, 6.18, x86-64 reference config) ----------------

export const __GFP_DMA = 0x1;
export const __GFP_HIGHMEM = 0x2;
export const __GFP_DMA32 = 0x4;
export const __GFP_MOVABLE = 0x8;
export const __GFP_RECLAIMABLE = 0x10;
export const __GFP_HIGH = 0x20;
export const __GFP_IO = 0x40;
export const __GFP_FS = 0x80;
export const __GFP_ZERO = 0x100;
// 0x200 is unused since 6.3 (it was __GFP_ATOMIC).
export const __GFP_DIRECT_RECLAIM = 0x400;
export const __GFP_KSWAPD_RECLAIM = 0x800;
export const __GFP_WRITE = 0x1000;
export const __GFP_NOWARN = 0x2000;
export const __GFP_RETRY_MAYFAIL = 0x4000;
export const __GFP_NOFAIL = 0x8000;
export const __GFP_NORETRY = 0x10000;
export const __GFP_MEMALLOC = 0x20000;
export const __GFP_COMP = 0x40000;
export const __GFP_NOMEMALLOC = 0x80000;
export const __GFP_HARDWALL = 0x100000;
export const __GFP_THISNODE = 0x200000;
export const __GFP_ACCOUNT = 0x400000;
export const __GFP_ZEROTAGS = 0x800000;
/** Bit 24 because the config-dependent bits before it are absent (CONFIG_SLAB_OBJ_EXT=y). */
export const __GFP_NO_OBJ_EXT = 0x1000000;
/** 0: exists only with CONFIG_KASAN_HW_TAGS, which the reference config lacks. */
export const __GFP_SKIP_ZERO = 0;
/** 0: exists only with CONFIG_KASAN_HW_TAGS, which the reference config lacks. */
export const __GFP_SKIP_KASAN = 0;
/** 0: exists only with CONFIG_LOCKDEP, which the reference config lacks. */
export const __GFP_NOLOCKDEP = 0;

/** ___GFP_LAST_BIT in the reference config. */
export const __GFP_BITS_SHIFT = 25;
export const __GFP_BITS_MASK = (1 << __GFP_BITS_SHIFT) - 1;

export const __GFP_RECLAIM = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM;
/** The zone modifiers: the low four bits that gfp_zone() looks at. */
export const GFP_ZONEMASK = __GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 | __GFP_MOVABLE;
/** include/linux/gfp.h: the mobility bits gfp_migratetype() shifts down. */
export const GFP_MOVABLE_MASK = __GFP_RECLAIMABLE | __GFP_MOVABLE;
export const GFP_MOVABLE_SHIFT = 3;

// ---- Composites (include/linux/gfp_types.h) -------------------------------------------------

/** 0x820: cannot sleep, may dip into the atomic reserves. */
export const GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM;
/** 0xcc0: the normal kernel allocation; may sleep, reclaim, do IO and call the FS. */
export const GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
/** 0x400cc0: GFP_KERNEL charged to the memory cgroup. */
export const GFP_KERNEL_ACCOUNT = GFP_KERNEL | __GFP_ACCOUNT;
/** 0x2800: no direct reclaim, no warning on failure (6.8+ adds __GFP_NOWARN). */
export const GFP_NOWAIT = __GFP_KSWAPD_RECLAIM | __GFP_NOWARN;
/** 0xc00 */
export const GFP_NOIO = __GFP_RECLAIM;
/** 0xc40 */
export const GFP_NOFS = __GFP_RECLAIM | __GFP_IO;
/** 0x100cc0 */
export const GFP_USER = __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL;
/** 0x1 */
export const GFP_DMA = __GFP_DMA;
/** 0x4 */
export const GFP_DMA32 = __GFP_DMA32;
/** 0x100cc2 */
export const GFP_HIGHUSER = GFP_USER | __GFP_HIGHMEM;
/** 0x100cca */
export const GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN;
/** 0x1c20ca */
export const GFP_TRANSHUGE_LIGHT =
  (GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM;
/** 0x1c24ca */
export const GFP_TRANSHUGE = GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM;

// ---- Masks the mm core uses (mm/internal.h) -------------------------------------------------

/** Bits that control reclaim behaviour; propagated to nested allocations. */
export const GFP_RECLAIM_MASK =
  __GFP_RECLAIM |
  __GFP_HIGH |
  __GFP_IO |
  __GFP_FS |
  __GFP_NOWARN |
  __GFP_RETRY_MAYFAIL |
  __GFP_NOFAIL |
  __GFP_NORETRY |
  __GFP_MEMALLOC |
  __GFP_NOMEMALLOC |
  __GFP_NOLOCKDEP;
/** Bits that control node placement. */
export const GFP_CONSTRAINT_MASK = __GFP_HARDWALL | __GFP_THISNODE;
/**
 * Bits kmalloc/slab refuse (mm/slab_common.c kmalloc_fix_flags: "Unexpected gfp: ..."):
 * __GFP_DMA32 | __GFP_HIGHMEM | ~__GFP_BITS_MASK, as the unsigned 32-bit value 0xfe000006.
 */
export const GFP_SLAB_BUG_MASK = (__GFP_DMA32 | __GFP_HIGHMEM | ~__GFP_BITS_MASK) >>> 0;

// ---- Printing -------------------------------------------------------------------------------

/**
 * The 6.18 %pGg / show_gfp_flags() table, in print order. Composites come first and
 * consume their bits, so `0xcc1` prints `GFP_KERNEL|GFP_DMA`. `__GFP_DMA` and `__GFP_DMA32`
 * are in the table but can never match: GFP_DMA and GFP_DMA32 (same masks) come first.
 */
export const GFP_FLAG_NAMES: readonly { readonly mask: number; readonly name: string }[] =
  Object.freeze(
    (
      [
        [GFP_TRANSHUGE, 'GFP_TRANSHUGE'],
        [GFP_TRANSHUGE_LIGHT, 'GFP_TRANSHUGE_LIGHT'],
        [GFP_HIGHUSER_MOVABLE, 'GFP_HIGHUSER_MOVABLE'],
        [GFP_HIGHUSER, 'GFP_HIGHUSER'],
        [GFP_USER, 'GFP_USER'],
        [GFP_KERNEL_ACCOUNT, 'GFP_KERNEL_ACCOUNT'],
        [GFP_KERNEL, 'GFP_KERNEL'],
        [GFP_NOFS, 'GFP_NOFS'],
        [GFP_ATOMIC, 'GFP_ATOMIC'],
        [GFP_NOIO, 'GFP_NOIO'],
        [GFP_NOWAIT, 'GFP_NOWAIT'],
        [GFP_DMA, 'GFP_DMA'],
        [GFP_DMA32, 'GFP_DMA32'],
        [__GFP_RECLAIM, '__GFP_RECLAIM'],
        [__GFP_DMA, '__GFP_DMA'],
        [__GFP_HIGHMEM, '__GFP_HIGHMEM'],
        [__GFP_DMA32, '__GFP_DMA32'],
        [__GFP_MOVABLE, '__GFP_MOVABLE'],
        [__GFP_RECLAIMABLE, '__GFP_RECLAIMABLE'],
        [__GFP_HIGH, '__GFP_HIGH'],
        [__GFP_IO, '__GFP_IO'],
        [__GFP_FS, '__GFP_FS'],
        [__GFP_ZERO, '__GFP_ZERO'],
        [__GFP_DIRECT_RECLAIM, '__GFP_DIRECT_RECLAIM'],
        [__GFP_KSWAPD_RECLAIM, '__GFP_KSWAPD_RECLAIM'],
        [__GFP_WRITE, '__GFP_WRITE'],
        [__GFP_NOWARN, '__GFP_NOWARN'],
        [__GFP_RETRY_MAYFAIL, '__GFP_RETRY_MAYFAIL'],
        [__GFP_NOFAIL, '__GFP_NOFAIL'],
        [__GFP_NORETRY, '__GFP_NORETRY'],
        [__GFP_MEMALLOC, '__GFP_MEMALLOC'],
        [__GFP_COMP, '__GFP_COMP'],
        [__GFP_NOMEMALLOC, '__GFP_NOMEMALLOC'],
        [__GFP_HARDWALL, '__GFP_HARDWALL'],
        [__GFP_THISNODE, '__GFP_THISNODE'],
        [__GFP_ACCOUNT, '__GFP_ACCOUNT'],
        [__GFP_ZEROTAGS, '__GFP_ZEROTAGS'],
        [__GFP_NO_OBJ_EXT, '__GFP_NO_OBJ_EXT'],
      ] as const
    ).map(([mask, name]) => Object.freeze({ mask, name })),
  );

/** Every name parseGfp() accepts: the print table plus every GFP constant exported here. */
const NAME_TO_VALUE: ReadonlyMap<string, number> = new Map<string, number>([
  ...GFP_FLAG_NAMES.map((f): [string, number] => [f.name, f.mask]),
  ['__GFP_SKIP_ZERO', __GFP_SKIP_ZERO],
  ['__GFP_SKIP_KASAN', __GFP_SKIP_KASAN],
  ['__GFP_NOLOCKDEP', __GFP_NOLOCKDEP],
]);

function toU32(gfp: Gfp, fn: string): number {
  if (typeof gfp !== 'number' || !Number.isInteger(gfp) || gfp < -0x80000000 || gfp > 0xffffffff) {
    throw new TypeError(`${fn}(${String(gfp)}): expected a 32-bit gfp_t`);
  }
  return gfp >>> 0;
}

/**
 * Print flags as the kernel does: a greedy walk of GFP_FLAG_NAMES where a name matches if
 * all its bits are still set, is printed and its bits cleared; names are joined with '|'
 * and leftover unknown bits are appended as `0x…` (lowercase hex). `formatGfp(0)` returns
 * `'none'`, which is what the tracepoints print (show_gfp_flags); %pGg prints nothing for 0
 * (see formatGfpMode).
 *
 * @example formatGfp(0xdc0) === 'GFP_KERNEL|__GFP_ZERO'
 */
export function formatGfp(gfp: Gfp): string {
  let flags = toU32(gfp, 'formatGfp');
  if (flags === 0) return 'none';
  let out = '';
  for (let i = 0; i < GFP_FLAG_NAMES.length && flags !== 0; i++) {
    const f = GFP_FLAG_NAMES[i]!;
    if ((flags & f.mask) !== f.mask) continue;
    out = out === '' ? f.name : `${out}|${f.name}`;
    flags = (flags & ~f.mask) >>> 0;
  }
  if (flags !== 0) {
    const rest = `0x${flags.toString(16)}`;
    out = out === '' ? rest : `${out}|${rest}`;
  }
  return out;
}

/**
 * The `mode:%#x(%pGg)` of warn_alloc() and `gfp=%#x(%pGg)` of slab_out_of_memory():
 * `0xcc0(GFP_KERNEL)`. `%#x` of 0 is `0` and %pGg of 0 is empty, so 0 gives `0()`.
 */
export function formatGfpMode(gfp: Gfp): string {
  const flags = toU32(gfp, 'formatGfpMode');
  if (flags === 0) return '0()';
  return `0x${flags.toString(16)}(${formatGfp(flags)})`;
}

function parseToken(token: string, text: string): number {
  const named = NAME_TO_VALUE.get(token);
  if (named !== undefined) return named;
  if (token === 'none') return 0;
  let value = Number.NaN;
  if (/^0x[0-9a-f]+$/i.test(token)) value = Number.parseInt(token.slice(2), 16);
  else if (/^[0-9]+$/.test(token)) value = Number.parseInt(token, 10);
  if (Number.isNaN(value)) {
    throw new TypeError(`parseGfp: unknown GFP flag '${token}' in '${text}'`);
  }
  if (value > 0xffffffff) {
    throw new RangeError(`parseGfp: '${token}' in '${text}' does not fit a 32-bit gfp_t`);
  }
  return value;
}

/**
 * Read flags back: anything formatGfp() or formatGfpMode() prints, any single name of the
 * print table or GFP constant (`__GFP_DMA`, `GFP_DMA32`, `__GFP_RECLAIM`), hex (`0xcc0`) or
 * decimal numbers, `none`, joined by '|' with optional whitespace. An empty text is 0 (what
 * %pGg prints for 0). An unknown token is a TypeError quoting the token and the text.
 */
export function parseGfp(text: string): Gfp {
  if (typeof text !== 'string') {
    throw new TypeError(
      `parseGfp(${String(text)}): expected a string such as 'GFP_KERNEL|__GFP_ZERO'`,
    );
  }
  const trimmed = text.trim();
  if (trimmed === '') return 0;
  // warn_alloc's `mode:0xcc0(GFP_KERNEL)`: the number and the names must agree.
  const mode = /^(0x[0-9a-f]+|0)\((.*)\)$/i.exec(trimmed);
  if (mode) {
    const value = parseToken(mode[1]!, text);
    const names = mode[2]!.trim() === '' ? 0 : parseGfp(mode[2]!);
    if (value !== names) {
      throw new TypeError(`parseGfp: '${mode[1]}' and '(${mode[2]})' disagree in '${text}'`);
    }
    return value;
  }
  let gfp = 0;
  for (const part of trimmed.split('|')) {
    const token = part.trim();
    if (token === '') throw new TypeError(`parseGfp: empty GFP flag in '${text}'`);
    gfp = (gfp | parseToken(token, text)) >>> 0;
  }
  return gfp;
}

// ---- Zones and mobility (include/linux/gfp.h) -----------------------------------------------

/**
 * GFP_ZONE_TABLE for x86-64: GFP_ZONES_SHIFT is 2 (MAX_NR_ZONES-1 <= 4 with ZONE_DEVICE),
 * OPT_ZONE_HIGHMEM is ZONE_NORMAL (no CONFIG_HIGHMEM), ZONE_DMA and ZONE_DMA32 exist.
 */
const GFP_ZONES_SHIFT = 2;
const GFP_ZONE_TABLE =
  (ZONE_NORMAL << (0 * GFP_ZONES_SHIFT)) |
  (ZONE_DMA << (__GFP_DMA * GFP_ZONES_SHIFT)) |
  (ZONE_NORMAL << (__GFP_HIGHMEM * GFP_ZONES_SHIFT)) |
  (ZONE_DMA32 << (__GFP_DMA32 * GFP_ZONES_SHIFT)) |
  (ZONE_NORMAL << (__GFP_MOVABLE * GFP_ZONES_SHIFT)) |
  (ZONE_DMA << ((__GFP_MOVABLE | __GFP_DMA) * GFP_ZONES_SHIFT)) |
  (ZONE_MOVABLE << ((__GFP_MOVABLE | __GFP_HIGHMEM) * GFP_ZONES_SHIFT)) |
  (ZONE_DMA32 << ((__GFP_MOVABLE | __GFP_DMA32) * GFP_ZONES_SHIFT));

/** GFP_ZONE_BAD: one bit per forbidden zone-modifier combination (0x3,5,6,7,b,d,e,f). */
const GFP_ZONE_BAD =
  (1 << (__GFP_DMA | __GFP_HIGHMEM)) |
  (1 << (__GFP_DMA | __GFP_DMA32)) |
  (1 << (__GFP_DMA32 | __GFP_HIGHMEM)) |
  (1 << (__GFP_DMA | __GFP_DMA32 | __GFP_HIGHMEM)) |
  (1 << (__GFP_MOVABLE | __GFP_HIGHMEM | __GFP_DMA)) |
  (1 << (__GFP_MOVABLE | __GFP_DMA32 | __GFP_DMA)) |
  (1 << (__GFP_MOVABLE | __GFP_DMA32 | __GFP_HIGHMEM)) |
  (1 << (__GFP_MOVABLE | __GFP_DMA32 | __GFP_DMA | __GFP_HIGHMEM));

/**
 * Where the VM_BUG_ON in gfp_zone() sits: line 159 of include/linux/gfp.h in the mainline
 * tree we could read (torvalds/linux at 01152bd2, a 6.16+ tree); no 6.18 tree was at hand,
 * so the line number is the nearest known one.
 */
export const GFP_ZONE_BUG_LOCATION = 'include/linux/gfp.h:159';

/** True when the zone modifiers of `gfp` are a combination gfp_zone() rejects. */
export function isGfpZoneBad(gfp: Gfp): boolean {
  return ((GFP_ZONE_BAD >>> (gfp & GFP_ZONEMASK)) & 1) !== 0;
}

function gfpZoneBug(): KernelOops {
  return new KernelOops(
    [
      CUT_HERE,
      `kernel BUG at ${GFP_ZONE_BUG_LOCATION}!`,
      'Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI',
    ].join('\n'),
    'BUG',
  );
}

/**
 * gfp_zone(): the highest zone an allocation with these flags may use. 0 → ZONE_NORMAL,
 * __GFP_DMA → ZONE_DMA, __GFP_DMA32 → ZONE_DMA32, __GFP_HIGHMEM alone → ZONE_NORMAL (no
 * highmem on x86-64), __GFP_MOVABLE|__GFP_HIGHMEM (GFP_HIGHUSER_MOVABLE) → ZONE_MOVABLE.
 * A forbidden combination (two of DMA/DMA32/HIGHMEM) throws a KernelOops, as the
 * VM_BUG_ON of a CONFIG_DEBUG_VM kernel does (without DEBUG_VM Linux returns a garbage
 * zone; we always check). The caller logs the report if it has a Klog.
 */
export function gfpZone(gfp: Gfp): number {
  const bit = gfp & GFP_ZONEMASK;
  if (((GFP_ZONE_BAD >>> bit) & 1) !== 0) throw gfpZoneBug();
  return (GFP_ZONE_TABLE >>> (bit * GFP_ZONES_SHIFT)) & ((1 << GFP_ZONES_SHIFT) - 1);
}

/**
 * gfp_migratetype(): (gfp & GFP_MOVABLE_MASK) >> 3 — 0 MIGRATE_UNMOVABLE, 1 MIGRATE_MOVABLE,
 * 2 MIGRATE_RECLAIMABLE. With both bits set Linux VM_WARNs and returns 3, which is
 * MIGRATE_HIGHATOMIC and would put the page on a list no allocation asks for; we return
 * MIGRATE_MOVABLE instead.
 */
export function gfpMigratetype(gfp: Gfp): number {
  const mt = (gfp & GFP_MOVABLE_MASK) >>> GFP_MOVABLE_SHIFT;
  return mt === 3 ? MIGRATE_MOVABLE : mt;
}

/** gfpflags_allow_blocking(): may the allocation sleep (enter direct reclaim)? */
export function gfpAllowsBlocking(gfp: Gfp): boolean {
  return (gfp & __GFP_DIRECT_RECLAIM) !== 0;
}

/** May the allocation start physical IO (__GFP_IO)? */
export function gfpHasIo(gfp: Gfp): boolean {
  return (gfp & __GFP_IO) !== 0;
}

/** May the allocation call into the filesystem (__GFP_FS)? */
export function gfpHasFs(gfp: Gfp): boolean {
  return (gfp & __GFP_FS) !== 0;
}

/** __GFP_THISNODE: no fallback to other nodes (gfp_zonelist() → ZONELIST_NOFALLBACK). */
export function gfpThisNode(gfp: Gfp): boolean {
  return (gfp & __GFP_THISNODE) !== 0;
}

/** A non-negative integer with no bit at or above __GFP_BITS_SHIFT. */
export function isValidGfp(gfp: Gfp): boolean {
  return typeof gfp === 'number' && gfp >>> 0 === gfp && gfp <= __GFP_BITS_MASK;
}

/**
 * Throw on a gfp that is not one: TypeError for anything but an integer, RangeError (naming
 * the value in hex) for a negative value or bits above __GFP_BITS_MASK.
 */
export function assertGfp(gfp: Gfp): void {
  if (typeof gfp !== 'number' || !Number.isInteger(gfp)) {
    throw new TypeError(`invalid gfp_t ${String(gfp)}: expected an integer mask of GFP flags`);
  }
  if (gfp < 0) {
    throw new RangeError(`invalid gfp_t ${gfp}: GFP masks are unsigned`);
  }
  if (gfp > __GFP_BITS_MASK) {
    throw new RangeError(
      `invalid gfp_t 0x${gfp.toString(16)}: bits above __GFP_BITS_MASK (0x${__GFP_BITS_MASK.toString(16)})` +
        ` are set (0x${(gfp - (gfp % 2 ** __GFP_BITS_SHIFT)).toString(16)})`,
    );
  }
}
