/**
 * The buddy allocator — mm/page_alloc.c, Linux 6.12/6.18.
 *
 * Memory of each zone is kept as free blocks of 2^order pages (order 0..MAX_PAGE_ORDER),
 * naturally aligned, on free_area[order].free_list[migratetype]. A request takes the smallest
 * block that fits from its migrate type's lists and splits it (expand()), keeping the lower
 * half each time; a free merges the block with its buddy at `pfn ^ (1 << order)` while that
 * buddy is free and of the same order (__free_one_page()).
 *
 * Around that core, as Linux:
 * - zones per node (DMA, DMA32, Normal, Movable) with watermarks min/low/high/promo derived
 *   from min_free_kbytes, lowmem_reserve ("protection") so that a request that could use a
 *   higher zone leaves the lower zones some room, and the zonelist: the zones usable by the
 *   request from the highest down, the preferred node first, then the other nodes in
 *   find_next_best_node() order (only the local node with __GFP_THISNODE).
 * - per-CPU page lists (pcp) for orders 0..3 (and the THP order 9): allocation and free of
 *   small blocks touch only the current CPU's list; lists refill in batches (rmqueue_bulk())
 *   and drain back when they pass `high` (free_pcppages_bulk()), with 6.x's auto-tuned high.
 * - migrate types per pageblock (2 MiB): when a type's lists are empty the request claims a
 *   whole pageblock of another type if it can (__rmqueue_claim(), try_to_steal_block()) or
 *   steals a single block (__rmqueue_steal()); ALLOC_NOFRAGMENT on a Normal zone with a DMA32
 *   zone below first refuses to fragment.
 * - the fast path at the low watermark, then the slow path at min, with __GFP_HIGH and
 *   GFP_ATOMIC dipping below min as __zone_watermark_ok() allows, high-order atomic
 *   reserves (MIGRATE_HIGHATOMIC), direct reclaim through a hook the kernel installs, and
 *   warn_alloc()'s report on failure.
 *
 * Data layout: all state is in typed arrays. A zone is a "slot" (nid * MAX_NR_ZONES + type).
 * Free lists are intrusive doubly-linked lists through MemMap.lruNext/lruPrev, as struct
 * page's buddy_list; heads and tails are Int32Arrays indexed by (slot, order, migratetype).
 * Nothing on the alloc/free paths allocates a JS object.
 *
 * Not modelled (documented in the README): watermark boosting (needs kswapd to reset it),
 * compaction, the OOM killer, CMA, memory hotplug and isolation, page shuffling.
 */
import {
  __GFP_BITS_MASK,
  __GFP_COMP,
  __GFP_DIRECT_RECLAIM,
  __GFP_HIGH,
  __GFP_KSWAPD_RECLAIM,
  __GFP_MEMALLOC,
  __GFP_NOFAIL,
  __GFP_NOMEMALLOC,
  __GFP_NORETRY,
  __GFP_NOWARN,
  __GFP_RETRY_MAYFAIL,
  __GFP_THISNODE,
  __GFP_ZERO,
  GFP_MOVABLE_MASK,
  GFP_ZONEMASK,
  type Gfp,
  gfpMigratetype,
  gfpZone,
  MAX_NR_ZONES,
  MAX_PAGE_ORDER,
  MIGRATE_FALLBACKS,
  MIGRATE_HIGHATOMIC,
  MIGRATE_ISOLATE,
  MIGRATE_MOVABLE,
  MIGRATE_PCPTYPES,
  MIGRATE_RECLAIMABLE,
  MIGRATE_TYPES,
  MIGRATE_UNMOVABLE,
  NO_PAGE,
  NR_PAGE_ORDERS,
  NUMA_NO_NODE,
  PAGE_ALLOC_COSTLY_ORDER,
  PAGE_SHIFT,
  PAGE_SIZE,
  PAGEBLOCK_NR_PAGES,
  PAGEBLOCK_ORDER,
  type Pfn,
  PG_head,
  PG_reserved,
  PGTY_buddy,
  PGTY_NONE,
  ZONE_DEVICE,
  ZONE_DMA32,
  ZONE_MOVABLE,
  ZONE_NORMAL,
} from '@mmsim/core';
import type {
  BuddyOptions,
  CheckablePageAllocator,
  PageAllocatorEnv,
  ZoneReporting,
  ZoneSnapshot,
} from './api.js';
import {
  buildZonelists,
  forEachBootBlock,
  freeRanges,
  isOrdinaryFree,
  isOrdinaryRequest,
  memmapInit,
  prepNewPage,
  zoneSnapshotBase,
} from './env.js';
import { AllocReports } from './report.js';

/** mm/internal.h: MAX_RECLAIM_RETRIES. */
const MAX_RECLAIM_RETRIES = 16;
/** mm/page_alloc.c: MIN_PERCPU_PAGELIST_HIGH_FRACTION. */
const MIN_PERCPU_PAGELIST_HIGH_FRACTION = 8;

/*
 * The constants of the alloc/free paths are enum members: esbuild (tsx, tsup) writes them in
 * as literals, whereas a module-level `const` stays a variable that optimised code loads and
 * checks on every use, and an imported one a module cell. The values of @mmsim/core's are
 * checked against core when this module loads. (No two members of one enum share a value.)
 */

/** mm/internal.h: ALLOC_* flags. */
enum ALLOC {
  WMARK_MIN = 0,
  WMARK_LOW = 1,
  WMARK_MASK = 0x03,
  NO_WATERMARKS = 0x04,
  OOM = 0x08,
  NON_BLOCK = 0x10,
  MIN_RESERVE = 0x20,
  NOFRAGMENT = 0x100,
  HIGHATOMIC = 0x200,
  KSWAPD = 0x800,
  /** NON_BLOCK | MIN_RESERVE | HIGHATOMIC | OOM */
  RESERVES = 0x238,
}

/** Offsets of the per_cpu_pages scalars in BuddyAllocator.pcp (8 per cpu and zone). */
enum PCP {
  COUNT = 0,
  HIGH = 1,
  HIGH_MIN = 2,
  HIGH_MAX = 3,
  BATCH = 4,
  FREE_COUNT = 5,
  ALLOC_FACTOR = 6,
  FLAGS = 7,
}

/** include/linux/mmzone.h: per_cpu_pages.flags bits, and the pcp list constants. */
enum PCPC {
  PREV_FREE_HIGH_ORDER = 1,
  FREE_HIGH_BATCH = 2,
  /** CONFIG_PCP_BATCH_SCALE_MAX default. */
  BATCH_SCALE_MAX = 5,
  /** HPAGE_PMD_ORDER on x86-64. */
  HPAGE_PMD_ORDER = 9,
  /** NR_LOWORDER_PCP_LISTS: MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1). */
  NR_LOWORDER_LISTS = 12,
}

/** enum zone_watermarks. */
enum WM {
  MIN = 0,
  LOW = 1,
  HIGH = 2,
  PROMO = 3,
  NR = 4,
}

/** Orders (@mmsim/core). */
enum O {
  COSTLY = 3,
  PAGEBLOCK = 9,
  MAX = 10,
  NR = 11,
}

/** Zone types, and no node (@mmsim/core). */
enum Z {
  NUMA_NO_NODE = -1,
  DMA32 = 1,
  NORMAL = 2,
  MOVABLE = 3,
  DEVICE = 4,
  MAX_NR_ZONES = 5,
}

/** Migrate types (@mmsim/core). */
enum MT {
  UNMOVABLE = 0,
  MOVABLE = 1,
  RECLAIMABLE = 2,
  HIGHATOMIC = 3,
  ISOLATE = 4,
  TYPES = 5,
}

/** struct page flag bits (1 << PG_*, @mmsim/core). */
enum PGF {
  HEAD = 0x40,
  RESERVED = 0x2000,
}

/** Other constants of @mmsim/core: gfp bits, page types, sizes. */
enum K {
  NO_PAGE = -1,
  PGTY_NONE = 0,
  MIGRATE_PCPTYPES = 3,
  /** The gfp bits gfpIndex is indexed by: the zone modifiers and the mobility bits. */
  GFP_INDEX_MASK = 0x1f,
  __GFP_HIGH = 0x20,
  PGTY_buddy = 0xf0,
  PAGEBLOCK_NR_PAGES = 0x200,
  __GFP_DIRECT_RECLAIM = 0x400,
  __GFP_KSWAPD_RECLAIM = 0x800,
  __GFP_NOWARN = 0x2000,
  __GFP_RETRY_MAYFAIL = 0x4000,
  __GFP_NOFAIL = 0x8000,
  __GFP_NORETRY = 0x10000,
  __GFP_MEMALLOC = 0x20000,
  __GFP_NOMEMALLOC = 0x80000,
  __GFP_THISNODE = 0x200000,
  __GFP_ZERO = 0x100,
  __GFP_COMP = 0x40000,
  __GFP_BITS_MASK = 0x1ffffff,
}

if (
  O.COSTLY !== PAGE_ALLOC_COSTLY_ORDER ||
  O.PAGEBLOCK !== PAGEBLOCK_ORDER ||
  O.MAX !== MAX_PAGE_ORDER ||
  O.NR !== NR_PAGE_ORDERS ||
  Z.NUMA_NO_NODE !== NUMA_NO_NODE ||
  Z.DMA32 !== ZONE_DMA32 ||
  Z.NORMAL !== ZONE_NORMAL ||
  Z.MOVABLE !== ZONE_MOVABLE ||
  Z.DEVICE !== ZONE_DEVICE ||
  Z.MAX_NR_ZONES !== MAX_NR_ZONES ||
  MT.UNMOVABLE !== MIGRATE_UNMOVABLE ||
  MT.MOVABLE !== MIGRATE_MOVABLE ||
  MT.RECLAIMABLE !== MIGRATE_RECLAIMABLE ||
  MT.HIGHATOMIC !== MIGRATE_HIGHATOMIC ||
  MT.ISOLATE !== MIGRATE_ISOLATE ||
  MT.TYPES !== MIGRATE_TYPES ||
  PGF.HEAD !== 1 << PG_head ||
  PGF.RESERVED !== 1 << PG_reserved ||
  K.NO_PAGE !== NO_PAGE ||
  K.PGTY_NONE !== PGTY_NONE ||
  K.MIGRATE_PCPTYPES !== MIGRATE_PCPTYPES ||
  K.GFP_INDEX_MASK !== (GFP_ZONEMASK | GFP_MOVABLE_MASK) ||
  K.__GFP_HIGH !== __GFP_HIGH ||
  K.PGTY_buddy !== PGTY_buddy ||
  K.PAGEBLOCK_NR_PAGES !== PAGEBLOCK_NR_PAGES ||
  K.__GFP_DIRECT_RECLAIM !== __GFP_DIRECT_RECLAIM ||
  K.__GFP_KSWAPD_RECLAIM !== __GFP_KSWAPD_RECLAIM ||
  K.__GFP_NOWARN !== __GFP_NOWARN ||
  K.__GFP_RETRY_MAYFAIL !== __GFP_RETRY_MAYFAIL ||
  K.__GFP_NOFAIL !== __GFP_NOFAIL ||
  K.__GFP_NORETRY !== __GFP_NORETRY ||
  K.__GFP_MEMALLOC !== __GFP_MEMALLOC ||
  K.__GFP_NOMEMALLOC !== __GFP_NOMEMALLOC ||
  K.__GFP_THISNODE !== __GFP_THISNODE ||
  K.__GFP_ZERO !== __GFP_ZERO ||
  K.__GFP_COMP !== __GFP_COMP ||
  K.__GFP_BITS_MASK !== __GFP_BITS_MASK ||
  PCPC.NR_LOWORDER_LISTS !== MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1) ||
  ALLOC.KSWAPD !== __GFP_KSWAPD_RECLAIM ||
  ALLOC.MIN_RESERVE !== __GFP_HIGH
) {
  throw new Error('page-alloc: a constant of @mmsim/core changed; update the enums of buddy.ts');
}

/** Statistics a buddy allocator keeps beyond the zone counters (vmstat events). */
export interface BuddyStats {
  /** pgalloc_<zone>: pages allocated per zone slot. */
  readonly pgalloc: Float64Array;
  /** pgfree: pages freed. */
  pgfree: number;
  /** Allocation requests that failed (returned K.NO_PAGE). */
  allocFail: number;
  /** allocstall: entries into direct reclaim. */
  allocstall: number;
  /** Slow-path entries (the kswapd wakeups Linux would do). */
  kswapdWakeups: number;
  /** Pageblocks claimed for another migrate type (mm_page_alloc_extfrag with a claim). */
  pageblockClaims: number;
  /** Single blocks stolen from another migrate type without claiming. */
  fallbackSteals: number;
}

/**
 * A reclaim callback installed by the kernel (kapi: shrink slab caches). It returns the
 * number of pages it freed back to this allocator; 0 means no progress.
 */
export type ReclaimHook = (gfp: Gfp, order: number) => number;

export class BuddyAllocator implements CheckablePageAllocator, ZoneReporting {
  readonly name = 'buddy';
  declare readonly env: PageAllocatorEnv;
  declare readonly stats: BuddyStats;
  /** vm.min_free_kbytes in force. */
  minFreeKbytes = 0;
  /** Messages the THP min_free_kbytes raise and similar boot steps would print. */
  declare readonly options: Required<BuddyOptions>;
  reclaimHook: ReclaimHook | null = null;

  declare private readonly nrSlots: number;
  declare private readonly nrCpus: number;
  declare private readonly nrPcpLists: number;
  declare private readonly reports: AllocReports;

  // Per zone slot.
  declare private readonly zoneStart: Int32Array;
  declare private readonly zoneEnd: Int32Array;
  declare private readonly managed: Int32Array;
  /** NR_FREE_PAGES (ISOLATE excluded, as account_freepages()). */
  declare private readonly nrFree: Int32Array;
  /** Free pages per (slot, migratetype) — nr_free_highatomic among them. */
  declare private readonly freePagesByType: Int32Array;
  declare private readonly nrReservedHighatomic: Int32Array;
  declare private readonly wmark: Int32Array;
  declare private readonly boost: Int32Array;
  declare private readonly lowmemReserve: Int32Array;
  /** ZONE_BELOW_HIGH */
  declare private readonly belowHigh: Uint8Array;
  declare private readonly populated: Uint8Array;
  /** alloc_flags_nofragment() per preferred zone: ALLOC.NOFRAGMENT or 0. */
  declare private readonly noFragment: Int32Array;
  /** stats.pgalloc, kept in a field for the hot path. */
  declare private readonly pgalloc: Float64Array;

  // free_area: per (slot, order) count, per (slot, order, mt) list.
  declare private readonly areaNrFree: Int32Array;
  declare private readonly areaNrFreeByType: Int32Array;
  declare private readonly freeHead: Int32Array;
  declare private readonly freeTail: Int32Array;

  // per_cpu_pages per (cpu, slot).
  /**
   * per_cpu_pages scalars per (cpu, slot), 8 Int32s each: count, high, high_min, high_max,
   * batch, free_count, alloc_factor, flags — one array so the hot path loads one base.
   */
  declare private readonly pcp: Int32Array;
  declare private readonly pcpHead: Int32Array;
  declare private readonly pcpTail: Int32Array;

  /** Zonelists: [nid * Z.MAX_NR_ZONES + highestZone] → slots, fallback and THISNODE variants. */
  declare private readonly zonelistFallback: Int32Array[];
  declare private readonly zonelistThisNode: Int32Array[];
  declare private readonly cpuNode: Int32Array;
  declare private readonly mm: PageAllocatorEnv['memMap'];
  // The MemMap arrays, in fields of known type: MemMap's own fields are declared (and so first
  // set to undefined) before its constructor fills them, which leaves V8 checking their map
  // on every use.
  declare private readonly pageFlags: Uint32Array;
  declare private readonly pageType: Uint8Array;
  declare private readonly pageOrder: Uint8Array;
  declare private readonly refcount: Int32Array;
  declare private readonly mapcount: Int32Array;
  declare private readonly pageZone: Uint8Array;
  declare private readonly pageNode: Uint8Array;
  declare private readonly pageOwner: Int32Array;
  declare private readonly lruNext: Int32Array;
  declare private readonly lruPrev: Int32Array;
  declare private readonly pageblockMt: Uint8Array;
  declare private readonly ctx: PageAllocatorEnv['ctx'];
  declare private readonly numaStat: PageAllocatorEnv['numaStat'];
  declare private readonly nrNodes: number;
  declare private readonly pcpOn: boolean;
  declare private readonly thp: boolean;
  /**
   * Per gfp & (GFP_ZONEMASK | GFP_MOVABLE_MASK): gfp_zone() | gfp_migratetype() << 3 (the
   * migrate type UNMOVABLE without mobility grouping), or -1 for a bad zone-modifier mix.
   */
  declare private readonly gfpIndex: Int8Array;
  /**
   * What allocPages() needs of a request before it touches a zone, per (nid << 6 |
   * __GFP_THISNODE ? 32 : 0 | gfp & (GFP_ZONEMASK | GFP_MOVABLE_MASK)): the preferred zone
   * (the zonelist's first) | gfp_zone() << 12 | the migrate type << 15 | the preferred zone's
   * node << 17; -1 for an empty zonelist or a bad zone-modifier mix.
   */
  declare private readonly allocTable: Int32Array;
  // numastat's counters (NumaStat's fields have no known type in V8, these do).
  declare private readonly numaHit: Float64Array;
  declare private readonly numaLocal: Float64Array;
  declare private readonly numaOther: Float64Array;
  /**
   * Per (slot, highest zone): the high watermark + boost + lowmem_reserve, the mark of
   * zone_watermark_fast()'s order-0 shortcut in the fast path. Derived from wmark, boost and
   * lowmemReserve by updateFastMarks() whenever those change.
   */
  declare private readonly fastMark: Int32Array;
  declare private readonly mobility: boolean;

  constructor(env: PageAllocatorEnv, options: BuddyOptions = {}) {
    this.env = env;
    this.mm = env.memMap;
    this.pageFlags = this.mm.flags;
    this.pageType = this.mm.pageType;
    this.pageOrder = this.mm.order;
    this.refcount = this.mm.refcount;
    this.mapcount = this.mm.mapcount;
    this.pageZone = this.mm.zone;
    this.pageNode = this.mm.node;
    this.pageOwner = this.mm.owner;
    this.lruNext = this.mm.lruNext;
    this.lruPrev = this.mm.lruPrev;
    this.pageblockMt = this.mm.pageblockMigratetype;
    this.ctx = env.ctx;
    this.numaStat = env.numaStat;
    this.nrNodes = env.machine.nrNodes;
    const { machine } = env;
    this.options = {
      minFreeKbytes: options.minFreeKbytes ?? -1,
      watermarkScaleFactor: options.watermarkScaleFactor ?? 10,
      lowmemReserveRatio: options.lowmemReserveRatio ?? [256, 256, 32, 0, 0],
      thp: options.thp ?? true,
      pcp: options.pcp ?? true,
      percpuPagelistHighFraction: options.percpuPagelistHighFraction ?? 0,
      mobilityGrouping: options.mobilityGrouping ?? true,
    };
    validateOptions(this.options);
    this.pcpOn = this.options.pcp;
    this.thp = this.options.thp;
    this.mobility = this.options.mobilityGrouping;
    this.nrSlots = machine.nrNodes * Z.MAX_NR_ZONES;
    this.nrCpus = machine.nrCpus;
    this.nrPcpLists = PCPC.NR_LOWORDER_LISTS + (this.options.thp ? 2 : 0);
    const S = this.nrSlots;
    this.zoneStart = new Int32Array(S);
    this.zoneEnd = new Int32Array(S);
    this.managed = new Int32Array(S);
    this.nrFree = new Int32Array(S);
    this.freePagesByType = new Int32Array(S * MT.TYPES);
    this.nrReservedHighatomic = new Int32Array(S);
    this.wmark = new Int32Array(S * WM.NR);
    this.boost = new Int32Array(S);
    this.lowmemReserve = new Int32Array(S * Z.MAX_NR_ZONES);
    this.belowHigh = new Uint8Array(S);
    this.populated = new Uint8Array(S);
    this.noFragment = new Int32Array(S);
    this.pgalloc = new Float64Array(S);
    this.areaNrFree = new Int32Array(S * O.NR);
    this.areaNrFreeByType = new Int32Array(S * O.NR * MT.TYPES);
    this.freeHead = new Int32Array(S * O.NR * MT.TYPES).fill(-1);
    this.freeTail = new Int32Array(S * O.NR * MT.TYPES).fill(-1);
    const P = this.nrCpus * S;
    this.pcp = new Int32Array(P * 8);
    this.pcpHead = new Int32Array(P * this.nrPcpLists).fill(-1);
    this.pcpTail = new Int32Array(P * this.nrPcpLists).fill(-1);
    this.cpuNode = new Int32Array(this.nrCpus);
    for (let cpu = 0; cpu < this.nrCpus; cpu++) this.cpuNode[cpu] = machine.cpuToNode(cpu);
    this.stats = {
      pgalloc: this.pgalloc,
      pgfree: 0,
      allocFail: 0,
      allocstall: 0,
      kswapdWakeups: 0,
      pageblockClaims: 0,
      fallbackSteals: 0,
    };
    this.reports = new AllocReports(env, this);

    for (const z of machine.zones) {
      this.zoneStart[z.slot] = z.startPfn;
      this.zoneEnd[z.slot] = z.startPfn + z.spannedPages;
      this.populated[z.slot] = z.presentPages > 0 ? 1 : 0;
    }
    const zonelists = buildZonelists(env.machine);
    this.zonelistFallback = zonelists.fallback;
    this.zonelistThisNode = zonelists.thisNode;
    this.gfpIndex = new Int8Array(K.GFP_INDEX_MASK + 1);
    for (let bits = 0; bits <= K.GFP_INDEX_MASK; bits++) {
      this.gfpIndex[bits] = isOrdinaryRequest(bits, 0, Z.NUMA_NO_NODE, 1)
        ? gfpZone(bits) | ((this.mobility ? gfpMigratetype(bits) : MT.UNMOVABLE) << 3)
        : -1;
    }
    if (S > 0xfff) throw new RangeError(`${S} zone slots: allocTable holds 4096`);
    this.allocTable = new Int32Array(machine.nrNodes << 6).fill(-1);
    for (let nid = 0; nid < machine.nrNodes; nid++) {
      for (let bits = 0; bits < 64; bits++) {
        const g = this.gfpIndex[bits & K.GFP_INDEX_MASK]!;
        if (g < 0) continue;
        const zonelists = bits & 32 ? this.zonelistThisNode : this.zonelistFallback;
        const pz = zonelists[nid * Z.MAX_NR_ZONES + (g & 7)]![0];
        if (pz === undefined) continue;
        this.allocTable[(nid << 6) | bits] =
          pz | ((g & 7) << 12) | ((g >> 3) << 15) | (Math.floor(pz / Z.MAX_NR_ZONES) << 17);
      }
    }
    this.numaHit = env.numaStat.numa_hit;
    this.numaLocal = env.numaStat.numa_local;
    this.numaOther = env.numaStat.numa_other;
    this.fastMark = new Int32Array(S * Z.MAX_NR_ZONES);
    // alloc_flags_nofragment(): avoid fragmenting when the preferred zone is Normal and a
    // DMA32 zone lies below it (on one node, or populated on this node).
    for (let slot = 0; slot < S; slot++) {
      if (slot % Z.MAX_NR_ZONES !== Z.NORMAL) continue;
      if (this.nrNodes === 1 || this.populated[slot - Z.NORMAL + Z.DMA32]) {
        this.noFragment[slot] = ALLOC.NOFRAGMENT;
      }
    }
    this.boot();
  }

  // ---------------------------------------------------------------- boot

  /**
   * mm_core_init(): struct pages, pageblocks Movable, memblock_free_all() handing every free
   * range over in the largest aligned blocks (to the tail of the lists, FPI_TO_TAIL), then
   * min_free_kbytes, watermarks, lowmem_reserve and the pcp high/batch values.
   */
  private boot(): void {
    const { machine } = this.env;
    memmapInit(this.env);
    // memmap_init_range(): every pageblock starts MT.MOVABLE.
    this.mm.pageblockMigratetype.fill(MT.MOVABLE);
    for (const r of freeRanges(machine)) {
      const slot = r.nid * Z.MAX_NR_ZONES + r.zoneType;
      forEachBootBlock(r.startPfn, r.endPfn, (pfn, order) => {
        this.managed[slot]! += 1 << order;
        this.freeOnePage(pfn, slot, order, MT.MOVABLE, true);
      });
    }
    if (this.options.minFreeKbytes >= 0) {
      this.minFreeKbytes = this.options.minFreeKbytes;
      this.setupPerZoneWmarks();
    } else {
      this.calculateMinFreeKbytes();
      this.setupPerZoneWmarks();
      if (this.options.thp) this.setRecommendedMinFreeKbytes();
    }
    this.setupPerZoneLowmemReserve();
    this.setupPagesets();
    this.updateFastMarks();
  }

  /** Recompute fastMark from wmark, boost and lowmemReserve. */
  private updateFastMarks(): void {
    for (let slot = 0; slot < this.nrSlots; slot++) {
      for (let hz = 0; hz < Z.MAX_NR_ZONES; hz++) {
        this.fastMark[slot * Z.MAX_NR_ZONES + hz] =
          this.wmarkPages(slot, WM.HIGH) + this.lowmemReserve[slot * Z.MAX_NR_ZONES + hz]!;
      }
    }
  }

  /** mm/page_alloc.c calculate_min_free_kbytes(). */
  private calculateMinFreeKbytes(): void {
    const lowmemKbytes = this.nrFreeBufferPages() * (PAGE_SIZE >> 10);
    const v = Math.floor(Math.sqrt(lowmemKbytes * 16));
    this.minFreeKbytes = Math.min(262144, Math.max(128, v));
  }

  /** nr_free_buffer_pages(): managed minus high watermark over zones <= Z.NORMAL. */
  private nrFreeBufferPages(): number {
    let sum = 0;
    for (let slot = 0; slot < this.nrSlots; slot++) {
      if (slot % Z.MAX_NR_ZONES > Z.NORMAL || !this.populated[slot]) continue;
      const size = this.managed[slot]!;
      const high = this.wmark[slot * WM.NR + WM.HIGH]!;
      if (size > high) sum += size - high;
    }
    return sum;
  }

  /** mm/khugepaged.c set_recommended_min_free_kbytes(). */
  private setRecommendedMinFreeKbytes(): void {
    let nrZones = 0;
    for (let slot = 0; slot < this.nrSlots; slot++) {
      // zone_idx(zone) > gfp_zone(GFP_USER) (= Z.NORMAL) is skipped.
      if (this.populated[slot] && slot % Z.MAX_NR_ZONES <= Z.NORMAL) nrZones++;
    }
    let recommended = K.PAGEBLOCK_NR_PAGES * nrZones * 2;
    recommended += K.PAGEBLOCK_NR_PAGES * nrZones * K.MIGRATE_PCPTYPES * K.MIGRATE_PCPTYPES;
    recommended = Math.min(recommended, Math.floor(this.nrFreeBufferPages() / 20));
    recommended <<= PAGE_SHIFT - 10;
    if (recommended > this.minFreeKbytes) this.minFreeKbytes = recommended;
    this.setupPerZoneWmarks();
  }

  /** mm/page_alloc.c __setup_per_zone_wmarks(). */
  private setupPerZoneWmarks(): void {
    const pagesMin = this.minFreeKbytes >> (PAGE_SHIFT - 10);
    let lowmemPages = 0;
    for (let slot = 0; slot < this.nrSlots; slot++) {
      if (slot % Z.MAX_NR_ZONES !== Z.MOVABLE) lowmemPages += this.managed[slot]!;
    }
    const wsf = this.options.watermarkScaleFactor;
    for (let slot = 0; slot < this.nrSlots; slot++) {
      const managed = this.managed[slot]!;
      const type = slot % Z.MAX_NR_ZONES;
      let tmp = lowmemPages ? Math.floor((pagesMin * managed) / lowmemPages) : 0;
      let min: number;
      if (type === Z.MOVABLE) {
        // Highmem/movable zones get a small min: clamp(managed / 1024, SWAP_CLUSTER_MAX, 128).
        min = Math.min(128, Math.max(32, Math.floor(managed / 1024)));
      } else {
        min = tmp;
      }
      if (type > Z.MOVABLE) {
        // Z.DEVICE is never managed: zoneinfo prints zeros.
        min = 0;
        tmp = 0;
      }
      const scaled =
        Math.floor(managed / 10000) * wsf + Math.floor(((managed % 10000) * wsf) / 10000);
      tmp = Math.max(tmp >> 2, scaled);
      if (type > Z.MOVABLE) tmp = 0;
      const b = slot * WM.NR;
      this.wmark[b + WM.MIN] = min;
      this.wmark[b + WM.LOW] = min + tmp;
      this.wmark[b + WM.HIGH] = min + 2 * tmp;
      this.wmark[b + WM.PROMO] = min + 3 * tmp;
      this.boost[slot] = 0;
    }
  }

  /** mm/page_alloc.c setup_per_zone_lowmem_reserve(). */
  private setupPerZoneLowmemReserve(): void {
    const ratios = this.options.lowmemReserveRatio;
    for (let nid = 0; nid < this.env.machine.nrNodes; nid++) {
      for (let i = 0; i < Z.MAX_NR_ZONES - 1; i++) {
        const slot = nid * Z.MAX_NR_ZONES + i;
        const ratio = ratios[i] ?? 0;
        const clear = !ratio || !this.managed[slot];
        let managedPages = 0;
        for (let j = i + 1; j < Z.MAX_NR_ZONES; j++) {
          managedPages += this.managed[nid * Z.MAX_NR_ZONES + j]!;
          this.lowmemReserve[slot * Z.MAX_NR_ZONES + j] = clear
            ? 0
            : Math.floor(managedPages / ratio);
        }
      }
    }
  }

  /** zone_set_pageset_high_and_batch() for every zone and CPU. */
  private setupPagesets(): void {
    const { machine } = this.env;
    const frac = this.options.percpuPagelistHighFraction;
    for (let slot = 0; slot < this.nrSlots; slot++) {
      const managed = this.managed[slot]!;
      const batch = Math.max(1, zoneBatchsize(managed));
      const nid = Math.floor(slot / Z.MAX_NR_ZONES);
      const cpusOfNode = machine.nodes[nid]?.cpus.length ?? 0;
      const highsize = (fraction: number): number => {
        const total = fraction
          ? Math.floor(managed / fraction)
          : this.wmark[slot * WM.NR + WM.LOW]!;
        const split = cpusOfNode || this.nrCpus;
        return Math.max(Math.floor(total / split), batch << 2);
      };
      let highMin: number;
      let highMax: number;
      if (frac) {
        highMin = highMax = highsize(frac);
      } else {
        highMin = highsize(0);
        highMax = highsize(MIN_PERCPU_PAGELIST_HIGH_FRACTION);
      }
      if (!this.options.pcp || !this.populated[slot]) {
        // pcp off: high 0 makes every free go straight to the buddy lists (boot pageset).
        highMin = highMax = 0;
      }
      for (let cpu = 0; cpu < this.nrCpus; cpu++) {
        const p = cpu * this.nrSlots + slot;
        this.pcp[(p << 3) + PCP.BATCH] = batch;
        this.pcp[(p << 3) + PCP.HIGH_MIN] = highMin;
        this.pcp[(p << 3) + PCP.HIGH_MAX] = highMax;
        this.pcp[(p << 3) + PCP.HIGH] = 0;
      }
    }
  }

  // ---------------------------------------------------------------- free lists

  private listIndex(slot: number, order: number, mt: number): number {
    return (slot * O.NR + order) * MT.TYPES + mt;
  }

  // include/linux/list.h on the MemMap links: list `li` of a (heads, tails) pair of arrays.

  /** list_add(): at the head. */
  private listAdd(heads: Int32Array, tails: Int32Array, li: number, pfn: Pfn): void {
    const h = heads[li]!;
    this.lruNext[pfn] = h;
    this.lruPrev[pfn] = -1;
    if (h >= 0) this.lruPrev[h] = pfn;
    else tails[li] = pfn;
    heads[li] = pfn;
  }

  /** list_add_tail() */
  private listAddTail(heads: Int32Array, tails: Int32Array, li: number, pfn: Pfn): void {
    const t = tails[li]!;
    this.lruPrev[pfn] = t;
    this.lruNext[pfn] = -1;
    if (t >= 0) this.lruNext[t] = pfn;
    else heads[li] = pfn;
    tails[li] = pfn;
  }

  /** list_del() */
  private listDel(heads: Int32Array, tails: Int32Array, li: number, pfn: Pfn): void {
    const next = this.lruNext[pfn]!;
    const prev = this.lruPrev[pfn]!;
    if (prev >= 0) this.lruNext[prev] = next;
    else heads[li] = next;
    if (next >= 0) this.lruPrev[next] = prev;
    else tails[li] = prev;
  }

  /** __add_to_free_list() + account_freepages(): PageBuddy, order recorded, counted. */
  private addToFreeList(pfn: Pfn, slot: number, order: number, mt: number, tail: boolean): void {
    const li = (slot * O.NR + order) * MT.TYPES + mt;
    this.pageType[pfn] = K.PGTY_buddy;
    this.pageOrder[pfn] = order;
    if (tail) this.listAddTail(this.freeHead, this.freeTail, li, pfn);
    else this.listAdd(this.freeHead, this.freeTail, li, pfn);
    this.areaNrFree[slot * O.NR + order]!++;
    this.areaNrFreeByType[li]!++;
    const nr = 1 << order;
    this.freePagesByType[slot * MT.TYPES + mt]! += nr;
    if (mt !== MT.ISOLATE) this.nrFree[slot]! += nr;
  }

  /** del_page_from_free_list(). */
  private delFromFreeList(pfn: Pfn, slot: number, order: number, mt: number): void {
    const li = (slot * O.NR + order) * MT.TYPES + mt;
    this.listDel(this.freeHead, this.freeTail, li, pfn);
    this.pageType[pfn] = K.PGTY_NONE;
    this.pageOrder[pfn] = 0;
    this.areaNrFree[slot * O.NR + order]!--;
    this.areaNrFreeByType[li]!--;
    const nr = 1 << order;
    this.freePagesByType[slot * MT.TYPES + mt]! -= nr;
    if (mt !== MT.ISOLATE) this.nrFree[slot]! -= nr;
  }

  /** move_to_free_list(): to the tail of another type's list. */
  private moveToFreeList(
    pfn: Pfn,
    slot: number,
    order: number,
    oldMt: number,
    newMt: number,
  ): void {
    this.delFromFreeList(pfn, slot, order, oldMt);
    this.addToFreeList(pfn, slot, order, newMt, true);
  }

  /** page_is_buddy(): the buddy is free, of this order, in the same zone. */
  private isBuddyOf(buddy: Pfn, slot: number, order: number): boolean {
    return (
      buddy < this.zoneEnd[slot]! &&
      buddy >= this.zoneStart[slot]! &&
      this.pageType[buddy] === K.PGTY_buddy &&
      this.pageOrder[buddy] === order
    );
  }

  /** mm/page_alloc.c __free_one_page(): merge upward while the buddy is free, then list it. */
  private freeOnePage(pfn: Pfn, slot: number, order: number, mt: number, toTail: boolean): void {
    const mm = this.mm;
    let buddy = 0;
    while (order < O.MAX) {
      buddy = pfn ^ (1 << order);
      if (!this.isBuddyOf(buddy, slot, order)) break;
      let buddyMt = mt;
      if (order >= O.PAGEBLOCK) {
        // Never merge a block without fallbacks (highatomic, isolate) with a normal one.
        buddyMt = this.pageblockMt[buddy >>> O.PAGEBLOCK]!;
        if (buddyMt !== mt && (!isMergeable(mt) || !isMergeable(buddyMt))) break;
      }
      this.delFromFreeList(buddy, slot, order, buddyMt);
      // Match the buddy's pageblock type so a later expand() lists sub-blocks correctly.
      if (buddyMt !== mt) mm.setPageblockMigratetype(buddy, mt);
      pfn &= buddy;
      order++;
    }
    let tail = toTail;
    if (!tail && order < O.MAX - 1) {
      // buddy_merge_likely(): if the next-larger block's buddy is free, this block will
      // probably merge soon — keep it at the tail so it is not handed out first.
      const higher = pfn & (pfn ^ (1 << order));
      const higherBuddy = higher ^ (1 << (order + 1));
      tail = this.isBuddyOf(higherBuddy, slot, order + 1);
    }
    this.addToFreeList(pfn, slot, order, mt, tail);
  }

  /** expand(): split a block of `high` down to `low`, listing the upper halves. */
  private expand(pfn: Pfn, slot: number, low: number, high: number, mt: number): void {
    let size = 1 << high;
    while (high > low) {
      high--;
      size >>= 1;
      this.addToFreeList(pfn + size, slot, high, mt, false);
    }
  }

  /** __rmqueue_smallest(): the first block of the smallest fitting order of type mt. */
  private rmqueueSmallest(slot: number, order: number, mt: number): Pfn {
    for (let cur = order; cur < O.NR; cur++) {
      const pfn = this.freeHead[(slot * O.NR + cur) * MT.TYPES + mt]!;
      if (pfn < 0) continue;
      this.delFromFreeList(pfn, slot, cur, mt);
      this.expand(pfn, slot, order, cur, mt);
      return pfn;
    }
    return K.NO_PAGE;
  }

  /** find_suitable_fallback(): a fallback type with free blocks of this order, or -1. */
  private findSuitableFallback(slot: number, order: number, mt: number): number {
    if (this.areaNrFree[slot * O.NR + order] === 0) return -1;
    const fallbacks = MIGRATE_FALLBACKS[mt]!;
    for (let i = 0; i < fallbacks.length; i++) {
      const fmt = fallbacks[i]!;
      if (this.freeHead[(slot * O.NR + order) * MT.TYPES + fmt]! >= 0) return fmt;
    }
    return -1;
  }

  /** can_steal_fallback() */
  private canStealFallback(order: number, startMt: number): boolean {
    if (order >= O.PAGEBLOCK) return true;
    return (
      order >= O.PAGEBLOCK / 2 ||
      startMt === MT.RECLAIMABLE ||
      startMt === MT.UNMOVABLE ||
      !this.options.mobilityGrouping
    );
  }

  /** __rmqueue_claim(): take over a whole pageblock of a fallback type, largest first. */
  private rmqueueClaim(slot: number, order: number, startMt: number, allocFlags: number): Pfn {
    const minOrder = order < O.PAGEBLOCK && allocFlags & ALLOC.NOFRAGMENT ? O.PAGEBLOCK : order;
    for (let cur = O.MAX; cur >= minOrder; cur--) {
      const fmt = this.findSuitableFallback(slot, cur, startMt);
      if (fmt < 0) continue;
      if (!this.canStealFallback(cur, startMt)) break;
      const pfn = this.freeHead[(slot * O.NR + cur) * MT.TYPES + fmt]!;
      const page = this.tryToStealBlock(slot, pfn, cur, order, startMt, fmt);
      if (page >= 0) return page;
    }
    return K.NO_PAGE;
  }

  /** try_to_steal_block() */
  private tryToStealBlock(
    slot: number,
    pfn: Pfn,
    curOrder: number,
    order: number,
    startMt: number,
    blockMt: number,
  ): Pfn {
    const mm = this.mm;
    if (blockMt === MT.HIGHATOMIC) return K.NO_PAGE;
    if (curOrder >= O.PAGEBLOCK) {
      this.delFromFreeList(pfn, slot, curOrder, blockMt);
      for (let b = 0; b < 1 << (curOrder - O.PAGEBLOCK); b++) {
        mm.setPageblockMigratetype(pfn + b * K.PAGEBLOCK_NR_PAGES, startMt);
      }
      this.expand(pfn, slot, order, curOrder, startMt);
      this.stats.pageblockClaims++;
      return pfn;
    }
    const start = pfn - (pfn % K.PAGEBLOCK_NR_PAGES);
    const end = start + K.PAGEBLOCK_NR_PAGES;
    // prep_move_freepages_block(): a block straddling the zone edge is left alone.
    if (start < this.zoneStart[slot]! || end - 1 >= this.zoneEnd[slot]!) return K.NO_PAGE;
    let freePages = 0;
    let movablePages = 0;
    for (let p = start; p < end; ) {
      if (this.pageType[p] === K.PGTY_buddy) {
        freePages += 1 << this.pageOrder[p]!;
        p += 1 << this.pageOrder[p]!;
        continue;
      }
      // PageLRU() || __PageMovable(): pages of user memory; none at this layer.
      if (mm.testFlag(p, 5 /* PG_lru */)) movablePages++;
      p++;
    }
    let alikePages: number;
    if (startMt === MT.MOVABLE) alikePages = movablePages;
    else if (blockMt === MT.MOVABLE) alikePages = K.PAGEBLOCK_NR_PAGES - (freePages + movablePages);
    else alikePages = 0;
    if (freePages + alikePages >= 1 << (O.PAGEBLOCK - 1) || !this.options.mobilityGrouping) {
      this.moveFreepagesBlock(slot, start, blockMt, startMt);
      this.stats.pageblockClaims++;
      return this.rmqueueSmallest(slot, order, startMt);
    }
    return K.NO_PAGE;
  }

  /** __move_freepages_block(): move every free block of a pageblock to another type. */
  private moveFreepagesBlock(slot: number, start: Pfn, oldMt: number, newMt: number): number {
    const mm = this.mm;
    let moved = 0;
    const end = start + K.PAGEBLOCK_NR_PAGES;
    for (let p = start; p < end; ) {
      if (this.pageType[p] !== K.PGTY_buddy) {
        p++;
        continue;
      }
      const o = this.pageOrder[p]!;
      this.moveToFreeList(p, slot, o, oldMt, newMt);
      p += 1 << o;
      moved += 1 << o;
    }
    mm.setPageblockMigratetype(start, newMt);
    return moved;
  }

  /** __rmqueue_steal(): one block from a fallback type; the pageblock keeps its type. */
  private rmqueueSteal(slot: number, order: number, startMt: number): Pfn {
    for (let cur = order; cur < O.NR; cur++) {
      const fmt = this.findSuitableFallback(slot, cur, startMt);
      if (fmt < 0) continue;
      const pfn = this.freeHead[(slot * O.NR + cur) * MT.TYPES + fmt]!;
      this.delFromFreeList(pfn, slot, cur, fmt);
      this.expand(pfn, slot, order, cur, fmt);
      this.stats.fallbackSteals++;
      return pfn;
    }
    return K.NO_PAGE;
  }

  /** __rmqueue(): own type, then claim, then steal (not with ALLOC.NOFRAGMENT). */
  private rmqueue1(slot: number, order: number, mt: number, allocFlags: number): Pfn {
    let pfn = this.rmqueueSmallest(slot, order, mt);
    if (pfn >= 0) return pfn;
    pfn = this.rmqueueClaim(slot, order, mt, allocFlags);
    if (pfn >= 0) return pfn;
    if (!(allocFlags & ALLOC.NOFRAGMENT)) pfn = this.rmqueueSteal(slot, order, mt);
    return pfn;
  }

  /** rmqueue_buddy(): straight from the zone lists (orders the pcp does not cache). */
  private rmqueueBuddy(slot: number, order: number, allocFlags: number, mt: number): Pfn {
    let pfn = K.NO_PAGE;
    if (allocFlags & ALLOC.HIGHATOMIC) pfn = this.rmqueueSmallest(slot, order, MT.HIGHATOMIC);
    if (pfn < 0) {
      pfn = this.rmqueue1(slot, order, mt, allocFlags);
      // Failing now is worse than failing a future high-order atomic: use the reserve.
      if (pfn < 0 && allocFlags & (ALLOC.OOM | ALLOC.NON_BLOCK)) {
        pfn = this.rmqueueSmallest(slot, order, MT.HIGHATOMIC);
      }
    }
    return pfn;
  }

  // ---------------------------------------------------------------- pcp

  /** order_to_pindex() */
  private orderToPindex(mt: number, order: number): number {
    if (order > O.COSTLY) return PCPC.NR_LOWORDER_LISTS + (mt === MT.MOVABLE ? 1 : 0);
    return K.MIGRATE_PCPTYPES * order + mt;
  }

  /** pindex_to_order() */
  private pindexToOrder(pindex: number): number {
    return pindex >= PCPC.NR_LOWORDER_LISTS
      ? PCPC.HPAGE_PMD_ORDER
      : Math.floor(pindex / K.MIGRATE_PCPTYPES);
  }

  /** pcp_allowed_order() */
  private pcpAllowedOrder(order: number): boolean {
    return order <= O.COSTLY || (this.thp === true && order === PCPC.HPAGE_PMD_ORDER);
  }

  /** nr_pcp_alloc(): how many blocks to pull from the zone into an empty pcp list. */
  private nrPcpAlloc(p: number, slot: number, order: number): number {
    const baseBatch = this.pcp[(p << 3) + PCP.BATCH]!;
    const highMin = this.pcp[(p << 3) + PCP.HIGH_MIN]!;
    const highMax = this.pcp[(p << 3) + PCP.HIGH_MAX]!;
    let high = clamp(this.pcp[(p << 3) + PCP.HIGH]!, highMin, highMax);
    this.pcp[(p << 3) + PCP.HIGH] = high;
    if (high < baseBatch) return 1;
    let batch = order ? baseBatch : baseBatch << this.pcp[(p << 3) + PCP.ALLOC_FACTOR]!;
    if (highMin !== highMax && !this.belowHigh[slot]) {
      high = Math.min(high + batch, highMax);
      this.pcp[(p << 3) + PCP.HIGH] = high;
    }
    if (!order) {
      const maxNrAlloc = Math.max(high - this.pcp[(p << 3) + PCP.COUNT]! - baseBatch, baseBatch);
      if (batch <= maxNrAlloc && this.pcp[(p << 3) + PCP.ALLOC_FACTOR]! < PCPC.BATCH_SCALE_MAX)
        this.pcp[(p << 3) + PCP.ALLOC_FACTOR]!++;
      batch = Math.min(batch, maxNrAlloc);
    }
    if (batch > 1) batch = Math.max(batch >> order, 2);
    return batch;
  }

  /** rmqueue_pcplist(): pop from this CPU's list, refilling it in a batch when empty. */
  private rmqueuePcplist(slot: number, order: number, mt: number, allocFlags: number): Pfn {
    const p = this.ctx.cpu * this.nrSlots + slot;
    this.pcp[(p << 3) + PCP.FREE_COUNT]! >>= 1;
    const li = p * this.nrPcpLists + this.orderToPindex(mt, order);
    let pfn = this.pcpHead[li]!;
    if (pfn < 0) {
      // rmqueue_bulk(): blocks go to the tail, so the list is in physical order.
      const batch = this.nrPcpAlloc(p, slot, order);
      let got = 0;
      for (let i = 0; i < batch; i++) {
        const b = this.rmqueue1(slot, order, mt, allocFlags);
        if (b < 0) break;
        this.listAddTail(this.pcpHead, this.pcpTail, li, b);
        this.pageOrder[b] = order;
        got++;
      }
      this.pcp[(p << 3) + PCP.COUNT]! += got << order;
      pfn = this.pcpHead[li]!;
      if (pfn < 0) return K.NO_PAGE;
    }
    this.listDel(this.pcpHead, this.pcpTail, li, pfn);
    this.pcp[(p << 3) + PCP.COUNT]! -= 1 << order;
    return pfn;
  }

  /** free_pcppages_bulk(): give `count` pages back to the zone, round-robin over the lists. */
  private freePcppagesBulk(p: number, slot: number, count: number, pindex: number): void {
    count = Math.min(this.pcp[(p << 3) + PCP.COUNT]!, count);
    pindex = pindex - 1;
    const base = p * this.nrPcpLists;
    while (count > 0) {
      let li: number;
      do {
        if (++pindex > this.nrPcpLists - 1) pindex = 0;
        li = base + pindex;
      } while (this.pcpHead[li]! < 0);
      const order = this.pindexToOrder(pindex);
      const nr = 1 << order;
      do {
        // list_last_entry(): the coldest page goes first.
        const pfn = this.pcpTail[li]!;
        this.listDel(this.pcpHead, this.pcpTail, li, pfn);
        count -= nr;
        this.pcp[(p << 3) + PCP.COUNT]! -= nr;
        this.freeOnePage(pfn, slot, order, this.pageblockMt[pfn >>> O.PAGEBLOCK]!, false);
      } while (count > 0 && this.pcpHead[li]! >= 0);
    }
  }

  /** nr_pcp_free(): how many pages to give back once the list passed `high`. */
  private nrPcpFree(p: number, batch: number, high: number, freeHigh: boolean): number {
    if (freeHigh) return Math.min(this.pcp[(p << 3) + PCP.COUNT]!, batch << PCPC.BATCH_SCALE_MAX);
    if (high < batch) return 1;
    return clamp(this.pcp[(p << 3) + PCP.FREE_COUNT]!, batch, high - batch);
  }

  /**
   * free_unref_page_commit(): onto this CPU's list (p: cpu * nrSlots + slot), with
   * nr_pcp_high()'s tuning of `high` in line; past `high`, drain a batch (pcpFreeHigh()).
   * Each per_cpu_pages scalar is loaded once and kept in a local.
   */
  private freeUnrefPageCommit(pfn: Pfn, p: number, slot: number, mt: number, order: number): void {
    const pcp = this.pcp;
    const b = p << 3;
    pcp[b + PCP.ALLOC_FACTOR]! >>= 1;
    const pindex = this.orderToPindex(mt, order);
    const li = p * this.nrPcpLists + pindex;
    // list_add()
    const h = this.pcpHead[li]!;
    this.lruNext[pfn] = h;
    this.lruPrev[pfn] = -1;
    if (h >= 0) this.lruPrev[h] = pfn;
    else this.pcpTail[li] = pfn;
    this.pcpHead[li] = pfn;
    this.pageOrder[pfn] = order;
    const count = pcp[b + PCP.COUNT]! + (1 << order);
    pcp[b + PCP.COUNT] = count;
    const batch = pcp[b + PCP.BATCH]!;
    const flags = pcp[b + PCP.FLAGS]!;
    let freeCount = pcp[b + PCP.FREE_COUNT]!;
    let freeHigh = false;
    if (order !== 0 && order <= O.COSTLY) {
      freeHigh =
        freeCount >= batch &&
        (flags & PCPC.PREV_FREE_HIGH_ORDER) !== 0 &&
        ((flags & PCPC.FREE_HIGH_BATCH) === 0 || count >= batch);
      pcp[b + PCP.FLAGS] = flags | PCPC.PREV_FREE_HIGH_ORDER;
    } else if (flags & PCPC.PREV_FREE_HIGH_ORDER) {
      pcp[b + PCP.FLAGS] = flags & ~PCPC.PREV_FREE_HIGH_ORDER;
    }
    if (freeCount < batch << PCPC.BATCH_SCALE_MAX) {
      freeCount += 1 << order;
      pcp[b + PCP.FREE_COUNT] = freeCount;
    }
    // nr_pcp_high()
    const highMin = pcp[b + PCP.HIGH_MIN]!;
    const highMax = pcp[b + PCP.HIGH_MAX]!;
    let high = clamp(pcp[b + PCP.HIGH]!, highMin, highMax);
    pcp[b + PCP.HIGH] = high;
    if (high !== 0) {
      if (freeHigh) {
        pcp[b + PCP.HIGH] = Math.max(high - (batch << PCPC.BATCH_SCALE_MAX), highMin);
        high = 0;
      } else if (highMin !== highMax) {
        if (this.belowHigh[slot] !== 0) {
          pcp[b + PCP.HIGH] = Math.max(high - Math.max(freeCount, batch), highMin);
          high = Math.max(count, highMin);
        } else if (count >= high) {
          const needHigh = freeCount + batch;
          if (high < needHigh) pcp[b + PCP.HIGH] = clamp(needHigh, highMin, highMax);
        }
      }
    }
    if (count >= high) this.pcpFreeHigh(p, slot, batch, high, freeHigh, pindex);
  }

  /** The end of free_unref_page_commit(): past `high`, give a batch back to the zone. */
  private pcpFreeHigh(
    p: number,
    slot: number,
    batch: number,
    high: number,
    freeHigh: boolean,
    pindex: number,
  ): void {
    this.freePcppagesBulk(p, slot, this.nrPcpFree(p, batch, high, freeHigh), pindex);
    if (
      this.belowHigh[slot] &&
      this.watermarkOk(slot, 0, this.wmarkPages(slot, WM.HIGH), Z.MOVABLE, 0)
    ) {
      this.belowHigh[slot] = 0;
    }
  }

  // ---------------------------------------------------------------- watermarks

  private wmarkPages(slot: number, which: number): number {
    return this.wmark[slot * WM.NR + which]! + this.boost[slot]!;
  }

  /** __zone_watermark_unusable_free() */
  private unusableFree(slot: number, order: number, allocFlags: number): number {
    let unusable = (1 << order) - 1;
    if (!(allocFlags & ALLOC.RESERVES))
      unusable += this.freePagesByType[slot * MT.TYPES + MT.HIGHATOMIC]!;
    return unusable;
  }

  /** __zone_watermark_ok() */
  private watermarkOk(
    slot: number,
    order: number,
    mark: number,
    highestZone: number,
    allocFlags: number,
  ): boolean {
    let min = mark;
    const freePages = this.nrFree[slot]! - this.unusableFree(slot, order, allocFlags);
    if (allocFlags & ALLOC.RESERVES) {
      if (allocFlags & ALLOC.MIN_RESERVE) {
        min -= Math.floor(min / 2);
        if (allocFlags & ALLOC.NON_BLOCK) min -= Math.floor(min / 4);
      }
      if (allocFlags & ALLOC.OOM) min -= Math.floor(min / 2);
    }
    if (freePages <= min + this.lowmemReserve[slot * Z.MAX_NR_ZONES + highestZone]!) return false;
    if (!order) return true;
    for (let o = order; o < O.NR; o++) {
      const base = (slot * O.NR + o) * MT.TYPES;
      if (this.areaNrFree[slot * O.NR + o] === 0) continue;
      for (let mt = 0; mt < K.MIGRATE_PCPTYPES; mt++)
        if (this.freeHead[base + mt]! >= 0) return true;
      if (allocFlags & (ALLOC.HIGHATOMIC | ALLOC.OOM) && this.freeHead[base + MT.HIGHATOMIC]! >= 0)
        return true;
    }
    return false;
  }

  /** zone_watermark_fast(): the order-0 shortcut, then the full check. */
  private watermarkFast(
    slot: number,
    order: number,
    mark: number,
    highestZone: number,
    allocFlags: number,
  ): boolean {
    if (!order) {
      let usable = this.nrFree[slot]!;
      usable -= Math.min(usable, this.unusableFree(slot, 0, allocFlags));
      if (usable > mark + this.lowmemReserve[slot * Z.MAX_NR_ZONES + highestZone]!) return true;
    }
    return this.watermarkOk(slot, order, mark, highestZone, allocFlags);
  }

  // ---------------------------------------------------------------- allocation

  /**
   * The watermark step of get_page_from_freelist() for one zone: above high (remembering
   * ZONE_BELOW_HIGH when not, which tunes the pcp), else above the mark alloc_flags names.
   */
  private zoneWatermarkPasses(
    slot: number,
    order: number,
    highestZone: number,
    allocFlags: number,
  ): boolean {
    if (order === 0 && !this.belowHigh[slot] && !(allocFlags & ALLOC.RESERVES)) {
      // zone_watermark_fast() at the high mark for order 0, inlined: the hot case.
      let usable = this.nrFree[slot]!;
      usable -= Math.min(usable, this.freePagesByType[slot * MT.TYPES + MT.HIGHATOMIC]!);
      if (usable > this.fastMark[slot * Z.MAX_NR_ZONES + highestZone]!) return true;
    }
    return this.zoneWatermarkSlow(slot, order, highestZone, allocFlags);
  }

  private zoneWatermarkSlow(
    slot: number,
    order: number,
    highestZone: number,
    allocFlags: number,
  ): boolean {
    if (!this.belowHigh[slot]) {
      if (this.watermarkFast(slot, order, this.wmarkPages(slot, WM.HIGH), highestZone, allocFlags))
        return true;
      this.belowHigh[slot] = 1;
    }
    if (
      this.watermarkFast(
        slot,
        order,
        this.wmarkPages(slot, allocFlags & ALLOC.WMARK_MASK),
        highestZone,
        allocFlags,
      )
    )
      return true;
    return (allocFlags & ALLOC.NO_WATERMARKS) !== 0;
  }

  /** get_page_from_freelist(): walk the zonelist, check the watermark, take a block. */
  private getPageFromFreelist(
    gfp: Gfp,
    order: number,
    allocFlags: number,
    zonelist: Int32Array,
    highestZone: number,
    mt: number,
  ): Pfn {
    const preferred = zonelist[0]!;
    const preferredNid = Math.floor(preferred / Z.MAX_NR_ZONES);
    for (;;) {
      const noFallback = allocFlags & ALLOC.NOFRAGMENT;
      let retry = false;
      for (let i = 0; i < zonelist.length; i++) {
        const slot = zonelist[i]!;
        if (noFallback && this.nrNodes > 1 && slot !== preferred) {
          // Moving to a remote node: locality beats fragmentation avoidance.
          if (Math.floor(slot / Z.MAX_NR_ZONES) !== preferredNid) {
            allocFlags &= ~ALLOC.NOFRAGMENT;
            retry = true;
            break;
          }
        }
        if (!this.zoneWatermarkPasses(slot, order, highestZone, allocFlags)) continue;
        let pfn: Pfn = K.NO_PAGE;
        if (this.pcpOn === true && this.pcpAllowedOrder(order)) {
          pfn = this.rmqueuePcplist(slot, order, mt, allocFlags);
        }
        if (pfn < 0) pfn = this.rmqueueBuddy(slot, order, allocFlags, mt);
        if (pfn >= 0) {
          this.pgalloc[slot]! += 1 << order;
          this.numaStat.zoneStatistics(preferred, slot, this.cpuNode[this.ctx.cpu]!, 1);
          prepNewPage(this.env, pfn, order, gfp);
          if (allocFlags & ALLOC.HIGHATOMIC) this.reserveHighatomicPageblock(pfn, order, slot);
          return pfn;
        }
      }
      if (retry) continue;
      if (noFallback) {
        allocFlags &= ~ALLOC.NOFRAGMENT;
        continue;
      }
      return K.NO_PAGE;
    }
  }

  /** reserve_highatomic_pageblock(): keep a pageblock for future high-order atomics. */
  private reserveHighatomicPageblock(pfn: Pfn, order: number, slot: number): void {
    const managed = this.managed[slot]!;
    if (Math.floor(managed / 100) < K.PAGEBLOCK_NR_PAGES) return;
    const maxManaged =
      Math.ceil(Math.floor(managed / 100) / K.PAGEBLOCK_NR_PAGES) * K.PAGEBLOCK_NR_PAGES;
    if (this.nrReservedHighatomic[slot]! >= maxManaged) return;
    const mt = this.pageblockMt[pfn >>> O.PAGEBLOCK]!;
    if (!isMergeable(mt)) return;
    if (order < O.PAGEBLOCK) {
      const start = pfn - (pfn % K.PAGEBLOCK_NR_PAGES);
      if (start < this.zoneStart[slot]! || start + K.PAGEBLOCK_NR_PAGES - 1 >= this.zoneEnd[slot]!)
        return;
      this.moveFreepagesBlock(slot, start, mt, MT.HIGHATOMIC);
      this.nrReservedHighatomic[slot]! += K.PAGEBLOCK_NR_PAGES;
    } else {
      for (let b = 0; b < 1 << (order - O.PAGEBLOCK); b++) {
        this.mm.setPageblockMigratetype(pfn + b * K.PAGEBLOCK_NR_PAGES, MT.HIGHATOMIC);
      }
      this.nrReservedHighatomic[slot]! += 1 << order;
    }
  }

  /** unreserve_highatomic_pageblock(): give reserved pageblocks back before failing. */
  private unreserveHighatomicPageblock(zonelist: Int32Array): boolean {
    const mm = this.mm;
    for (let i = 0; i < zonelist.length; i++) {
      const slot = zonelist[i]!;
      if (!this.nrReservedHighatomic[slot]) continue;
      for (let order = 0; order < O.NR; order++) {
        const pfn = this.freeHead[(slot * O.NR + order) * MT.TYPES + MT.HIGHATOMIC]!;
        if (pfn < 0) continue;
        const size = Math.max(K.PAGEBLOCK_NR_PAGES, 1 << order);
        this.nrReservedHighatomic[slot] = Math.max(0, this.nrReservedHighatomic[slot]! - size);
        if (order < O.PAGEBLOCK) {
          this.moveFreepagesBlock(
            slot,
            pfn - (pfn % K.PAGEBLOCK_NR_PAGES),
            MT.HIGHATOMIC,
            MT.MOVABLE,
          );
        } else {
          this.delFromFreeList(pfn, slot, order, MT.HIGHATOMIC);
          for (let b = 0; b < 1 << (order - O.PAGEBLOCK); b++) {
            mm.setPageblockMigratetype(pfn + b * K.PAGEBLOCK_NR_PAGES, MT.MOVABLE);
          }
          this.addToFreeList(pfn, slot, order, MT.MOVABLE, false);
        }
        return true;
      }
    }
    return false;
  }

  /** gfp_to_alloc_flags() for the slow path. */
  private gfpToAllocFlags(gfp: Gfp, order: number): number {
    let allocFlags = ALLOC.WMARK_MIN | (gfp & (K.__GFP_HIGH | K.__GFP_KSWAPD_RECLAIM));
    if (!(gfp & K.__GFP_DIRECT_RECLAIM)) {
      if (!(gfp & K.__GFP_NOMEMALLOC)) {
        allocFlags |= ALLOC.NON_BLOCK;
        if (order > 0 && allocFlags & ALLOC.MIN_RESERVE) allocFlags |= ALLOC.HIGHATOMIC;
      }
    }
    return allocFlags;
  }

  /**
   * __alloc_pages(): the fast path at the low watermark, then the slow path. Returns the
   * first pfn of the block or K.NO_PAGE (-1).
   */
  allocPages(gfp: Gfp, order: number, nid = -1): Pfn {
    // Anything unusual (bad arguments, order > MAX_PAGE_ORDER, two zone modifiers) is
    // reported by rejectRequest().
    if (!isOrdinaryRequest(gfp, order, nid, this.nrNodes))
      return this.rejectRequest(gfp, order, nid);
    if (gfp & K.__GFP_DIRECT_RECLAIM) this.ctx.mightSleep();
    const cpu = this.ctx.cpu;
    const cpuNid = this.cpuNode[cpu]!;
    if (nid === Z.NUMA_NO_NODE) nid = cpuNid;
    // __GFP_THISNODE (1 << 21) is bit 5 of the index.
    const e =
      this.allocTable[(nid << 6) | ((gfp & K.__GFP_THISNODE) >>> 16) | (gfp & K.GFP_INDEX_MASK)]!;
    if (e >= 0 && order <= O.COSTLY && this.pcpOn === true) {
      // The common case of get_page_from_freelist(), step for step, in line: the preferred
      // zone passes its watermark and this CPU's list has a block (rmqueue_pcplist()).
      const pz = e & 0xfff;
      const highestZone = (e >>> 12) & 7;
      const p = cpu * this.nrSlots + pz;
      const li = p * this.nrPcpLists + K.MIGRATE_PCPTYPES * order + ((e >>> 15) & 3);
      const head = this.pcpHead[li]!;
      if (head >= 0) {
        let ok = false;
        if (order === 0 && this.belowHigh[pz] === 0) {
          // zone_watermark_fast() at the high mark, order 0 (no ALLOC_RESERVES here).
          let usable = this.nrFree[pz]!;
          usable -= Math.min(usable, this.freePagesByType[pz * MT.TYPES + MT.HIGHATOMIC]!);
          ok = usable > this.fastMark[pz * Z.MAX_NR_ZONES + highestZone]!;
        }
        if (
          ok ||
          this.zoneWatermarkSlow(
            pz,
            order,
            highestZone,
            ALLOC.WMARK_LOW | (gfp & K.__GFP_KSWAPD_RECLAIM) | this.noFragment[pz]!,
          )
        ) {
          const pcp = this.pcp;
          const b = p << 3;
          pcp[b + PCP.FREE_COUNT]! >>= 1;
          // list_del() of the head: its prev is -1.
          const next = this.lruNext[head]!;
          this.pcpHead[li] = next;
          if (next >= 0) this.lruPrev[next] = -1;
          else this.pcpTail[li] = -1;
          pcp[b + PCP.COUNT]! -= 1 << order;
          this.pgalloc[pz]! += 1 << order;
          // zone_statistics() with the preferred zone allocated from: a numa_hit.
          this.numaHit[pz]! += 1;
          if (e >>> 17 === cpuNid) this.numaLocal[pz]! += 1;
          else this.numaOther[pz]! += 1;
          // prep_new_page()
          this.refcount[head] = 1;
          this.pageOrder[head] = order;
          this.pageOwner[head] = 0;
          if (gfp & (K.__GFP_ZERO | K.__GFP_COMP)) prepNewPage(this.env, head, order, gfp);
          return head;
        }
      }
    }
    const g = this.gfpIndex[gfp & K.GFP_INDEX_MASK]!;
    return this.allocFromZonelist(gfp, order, nid, g & 7, g >> 3);
  }

  /**
   * allocPages() without its in-line pcp path: the general code alone, for the tests that
   * check the in-line path leaves the same state.
   * @internal
   */
  allocPagesGeneral(gfp: Gfp, order: number, nid = -1): Pfn {
    if (!isOrdinaryRequest(gfp, order, nid, this.nrNodes))
      return this.rejectRequest(gfp, order, nid);
    if (gfp & K.__GFP_DIRECT_RECLAIM) this.ctx.mightSleep();
    if (nid === Z.NUMA_NO_NODE) nid = this.cpuNode[this.ctx.cpu]!;
    return this.allocFromZonelist(
      gfp,
      order,
      nid,
      gfpZone(gfp),
      this.mobility ? gfpMigratetype(gfp) : MT.UNMOVABLE,
    );
  }

  private rejectRequest(gfp: Gfp, order: number, nid: number): Pfn {
    const pfn = this.reports.rejectAlloc(gfp, order, nid);
    this.stats.allocFail++;
    return pfn;
  }

  /** get_page_from_freelist() on the request's zonelist, then the slow path. */
  private allocFromZonelist(
    gfp: Gfp,
    order: number,
    nid: number,
    highestZone: number,
    mt: number,
  ): Pfn {
    const zl =
      gfp & K.__GFP_THISNODE
        ? this.zonelistThisNode[nid * Z.MAX_NR_ZONES + highestZone]!
        : this.zonelistFallback[nid * Z.MAX_NR_ZONES + highestZone]!;
    if (zl.length === 0) return this.fail(gfp, order, nid);
    const allocFlags = ALLOC.WMARK_LOW | (gfp & K.__GFP_KSWAPD_RECLAIM) | this.noFragment[zl[0]!]!;
    const pfn = this.getPageFromFreelist(gfp, order, allocFlags, zl, highestZone, mt);
    if (pfn >= 0) return pfn;
    return this.allocPagesSlowpath(gfp, order, zl, highestZone, mt, nid);
  }

  /** __alloc_pages_slowpath() */
  private allocPagesSlowpath(
    gfp: Gfp,
    order: number,
    zl: Int32Array,
    highestZone: number,
    mt: number,
    nid: number,
  ): Pfn {
    const canDirectReclaim = (gfp & K.__GFP_DIRECT_RECLAIM) !== 0;
    const costly = order > O.COSTLY;
    let allocFlags = this.gfpToAllocFlags(gfp, order);
    if (allocFlags & ALLOC.KSWAPD) this.stats.kswapdWakeups++;
    let pfn = this.getPageFromFreelist(
      gfp,
      order,
      allocFlags & ~ALLOC.NO_WATERMARKS,
      zl,
      highestZone,
      mt,
    );
    if (pfn >= 0) return pfn;
    // __gfp_pfmemalloc_flags(): K.__GFP_MEMALLOC ignores watermarks unless K.__GFP_NOMEMALLOC.
    if (gfp & K.__GFP_MEMALLOC && !(gfp & K.__GFP_NOMEMALLOC)) {
      allocFlags = ALLOC.NO_WATERMARKS | (allocFlags & ALLOC.KSWAPD);
      pfn = this.getPageFromFreelist(gfp, order, allocFlags, zl, highestZone, mt);
      if (pfn >= 0) return pfn;
    }
    if (canDirectReclaim) {
      // The retry loop of __alloc_pages_slowpath(): reclaim (the kernel's shrinkers), drain
      // the pcp lists, try again; give up after MAX_RECLAIM_RETRIES rounds without progress,
      // at once with K.__GFP_NORETRY, and for costly orders unless K.__GFP_RETRY_MAYFAIL.
      let noProgressLoops = 0;
      // Rounds are capped at MAX_RECLAIM_RETRIES even with progress: should_reclaim_retry()
      // would ask whether reclaimable memory could meet the watermark, which we cannot know.
      for (let round = 0; round < MAX_RECLAIM_RETRIES; round++) {
        this.stats.allocstall++;
        const progress = this.reclaimHook ? this.reclaimHook(gfp, order) : 0;
        this.drain();
        pfn = this.getPageFromFreelist(gfp, order, allocFlags, zl, highestZone, mt);
        if (pfn >= 0) return pfn;
        if (gfp & K.__GFP_NORETRY || (costly && !(gfp & K.__GFP_RETRY_MAYFAIL))) break;
        noProgressLoops = progress > 0 ? 0 : noProgressLoops + 1;
        if (progress === 0 || noProgressLoops >= MAX_RECLAIM_RETRIES) {
          // should_reclaim_retry(): out of retries, give the highatomic reserve back first.
          if (this.unreserveHighatomicPageblock(zl)) {
            pfn = this.getPageFromFreelist(gfp, order, allocFlags, zl, highestZone, mt);
            if (pfn >= 0) return pfn;
          }
          break;
        }
      }
    }
    if (gfp & K.__GFP_NOFAIL) {
      // __alloc_pages_cpuset_fallback(gfp, order, ALLOC.MIN_RESERVE) before looping forever.
      pfn = this.getPageFromFreelist(gfp, order, ALLOC.MIN_RESERVE, zl, highestZone, mt);
      if (pfn >= 0) return pfn;
      // Linux would loop here forever; with nothing left to reclaim or kill, the machine is
      // deadlocked: mm/oom_kill.c out_of_memory() panics when no process can be killed.
      this.env.klog.err('Out of memory and no killable processes...');
      throw this.env.ctx.panic('System is deadlocked on memory', [
        'out_of_memory',
        '__alloc_pages_slowpath',
      ]);
    }
    return this.fail(gfp, order, nid);
  }

  private fail(gfp: Gfp, order: number, _nid: number): Pfn {
    this.stats.allocFail++;
    this.reports.warnAlloc(gfp, order, null, (gfp & K.__GFP_NOWARN) !== 0);
    return K.NO_PAGE;
  }

  // ---------------------------------------------------------------- free

  /**
   * __free_pages(page, order): drop the reference; at zero, free the block — to this CPU's
   * pcp list for small orders, else straight into the zone (merging with its buddies).
   */
  freePages(pfn: Pfn, order: number): void {
    // isOrdinaryFree(), in line on this allocator's copies of the MemMap arrays: anything
    // unusual goes to freePagesChecked(), which reports it.
    if (
      order >>> 0 === order &&
      pfn >>> 0 === pfn &&
      pfn < this.mm.nrPages &&
      this.refcount[pfn] === 1 &&
      this.pageOrder[pfn] === order &&
      this.pageType[pfn] === K.PGTY_NONE &&
      this.mapcount[pfn] === 0
    ) {
      const flags = this.pageFlags[pfn]!;
      if ((flags & PGF.RESERVED) === 0) {
        this.freeLastRef(pfn, order, flags);
        return;
      }
    }
    this.freePagesChecked(pfn, order);
  }

  /**
   * freePages() with env.ts's isOrdinaryFree() in place of the in-line check, for the tests
   * that check both decide alike.
   * @internal
   */
  freePagesGeneral(pfn: Pfn, order: number): void {
    if (isOrdinaryFree(this.mm, pfn, order)) this.freeLastRef(pfn, order, this.pageFlags[pfn]!);
    else this.freePagesChecked(pfn, order);
  }

  /** The last reference is gone: clear the head's state and free the block. */
  private freeLastRef(pfn: Pfn, order: number, flags: number): void {
    this.refcount[pfn] = 0;
    if (flags & PGF.HEAD) this.mm.clearCompoundPage(pfn, order);
    this.pageFlags[pfn] = 0;
    this.pageOwner[pfn] = 0;
    this.freeBlock(pfn, order);
  }

  /** __free_pages() for anything isOrdinaryFree() refuses: checkFree() reports it. */
  private freePagesChecked(pfn: Pfn, order: number): void {
    if (!this.reports.checkFree(pfn, order)) return;
    const ref = this.refcount[pfn]!;
    const isHead = (this.pageFlags[pfn]! & PGF.HEAD) !== 0;
    if (ref > 1) {
      this.refcount[pfn] = ref - 1;
      if (!isHead && order > 0) {
        // Someone holds the first page only: free the rest now, as __free_pages() does.
        this.pageOrder[pfn] = 0;
        while (order-- > 0) this.freeBlock(pfn + (1 << order), order);
      }
      return;
    }
    this.freeLastRef(pfn, order, this.pageFlags[pfn]!);
  }

  /** free_unref_page() / __free_pages_ok() once the block has no users. */
  private freeBlock(pfn: Pfn, order: number): void {
    const slot = this.pageNode[pfn]! * Z.MAX_NR_ZONES + this.pageZone[pfn]!;
    this.stats.pgfree += 1 << order;
    // get_pageblock_migratetype()
    let mt = this.pageblockMt[pfn >>> O.PAGEBLOCK]!;
    if (
      this.pcpOn === true &&
      (order <= O.COSTLY || (this.thp === true && order === PCPC.HPAGE_PMD_ORDER))
    ) {
      const p = this.ctx.cpu * this.nrSlots + slot;
      if (this.pcp[(p << 3) + PCP.HIGH_MAX]! > 0) {
        if (mt >= K.MIGRATE_PCPTYPES) {
          if (mt === MT.ISOLATE) {
            this.freeOnePage(pfn, slot, order, mt, false);
            return;
          }
          mt = MT.MOVABLE;
        }
        this.freeUnrefPageCommit(pfn, p, slot, mt, order);
        return;
      }
    }
    this.freeOnePage(pfn, slot, order, mt, false);
  }

  /** drain_all_pages(): every CPU's pcp lists back to the zones. */
  drain(): void {
    for (let p = 0; p < this.pcp.length >> 3; p++) {
      if (this.pcp[(p << 3) + PCP.COUNT]! > 0)
        this.freePcppagesBulk(p, p % this.nrSlots, this.pcp[(p << 3) + PCP.COUNT]!, 0);
    }
  }

  // ---------------------------------------------------------------- statistics

  nrFreePages(nid?: number, zoneType?: number): number {
    let sum = 0;
    for (let slot = 0; slot < this.nrSlots; slot++) {
      if (nid !== undefined && Math.floor(slot / Z.MAX_NR_ZONES) !== nid) continue;
      if (zoneType !== undefined && slot % Z.MAX_NR_ZONES !== zoneType) continue;
      sum += this.nrFree[slot]!;
      for (let cpu = 0; cpu < this.nrCpus; cpu++)
        sum += this.pcp[((cpu * this.nrSlots + slot) << 3) + PCP.COUNT]!;
    }
    return sum;
  }

  nrFreeBlocks(nid: number, zoneType: number, order: number): number {
    return this.areaNrFree[(nid * Z.MAX_NR_ZONES + zoneType) * O.NR + order] ?? 0;
  }

  managedPages(nid: number, zoneType: number): number {
    return this.managed[nid * Z.MAX_NR_ZONES + zoneType] ?? 0;
  }

  /** Pages on the pcp lists of one CPU (or all) for a zone. */
  pcpPages(nid: number, zoneType: number, cpu?: number): number {
    const slot = nid * Z.MAX_NR_ZONES + zoneType;
    if (cpu !== undefined) return this.pcp[((cpu * this.nrSlots + slot) << 3) + PCP.COUNT]!;
    let sum = 0;
    for (let c = 0; c < this.nrCpus; c++)
      sum += this.pcp[((c * this.nrSlots + slot) << 3) + PCP.COUNT]!;
    return sum;
  }

  /** The pcp state of one CPU for a zone, as /proc/zoneinfo's pagesets print it. */
  pageset(
    nid: number,
    zoneType: number,
    cpu: number,
  ): {
    count: number;
    high: number;
    batch: number;
    highMin: number;
    highMax: number;
  } {
    const p = cpu * this.nrSlots + nid * Z.MAX_NR_ZONES + zoneType;
    return {
      count: this.pcp[(p << 3) + PCP.COUNT]!,
      high: this.pcp[(p << 3) + PCP.HIGH]!,
      batch: this.pcp[(p << 3) + PCP.BATCH]!,
      highMin: this.pcp[(p << 3) + PCP.HIGH_MIN]!,
      highMax: this.pcp[(p << 3) + PCP.HIGH_MAX]!,
    };
  }

  zoneSnapshot(nid: number, zoneType: number): ZoneSnapshot {
    const slot = nid * Z.MAX_NR_ZONES + zoneType;
    const nrFree: number[] = [];
    const nrFreeByType: number[][] = [];
    for (let mt = 0; mt < MT.TYPES; mt++) nrFreeByType.push([]);
    for (let o = 0; o < O.NR; o++) {
      nrFree.push(this.areaNrFree[slot * O.NR + o]!);
      for (let mt = 0; mt < MT.TYPES; mt++)
        nrFreeByType[mt]!.push(this.areaNrFreeByType[this.listIndex(slot, o, mt)]!);
    }
    return {
      ...zoneSnapshotBase(this.env, nid, zoneType, {
        managed: this.managed[slot]!,
        free: this.nrFree[slot]!,
        nrFree,
        nrFreeByType,
      }),
      boost: this.boost[slot]!,
      min: this.wmarkPages(slot, WM.MIN),
      low: this.wmarkPages(slot, WM.LOW),
      high: this.wmarkPages(slot, WM.HIGH),
      promo: this.wmarkPages(slot, WM.PROMO),
      nrReservedHighatomic: this.nrReservedHighatomic[slot]!,
      freePcp: this.pcpPages(nid, zoneType),
      localPcp: this.pcp[((this.env.ctx.cpu * this.nrSlots + slot) << 3) + PCP.COUNT]!,
      lowmemReserve: Array.from(
        this.lowmemReserve.subarray(slot * Z.MAX_NR_ZONES, (slot + 1) * Z.MAX_NR_ZONES),
      ),
    };
  }

  /** The Mem-Info block warn_alloc() prints, on demand (show_mem()). */
  showMem(): void {
    this.reports.showMem(Z.MAX_NR_ZONES - 1);
  }

  // ---------------------------------------------------------------- verification

  verify(): string[] {
    const problems: string[] = [];
    const mm = this.mm;
    const { machine } = this.env;
    const state = new Uint8Array(machine.maxPfn); // 1 free, 2 pcp, 3 allocated, 4 reserved
    const claim = (pfn: number, n: number, s: number, what: string): void => {
      for (let p = pfn; p < pfn + n; p++) {
        if (p >= state.length) {
          problems.push(`${what} at pfn ${pfn} runs past maxPfn`);
          return;
        }
        if (state[p]) {
          problems.push(`pfn ${p} is both state ${state[p]} and ${what} (block at ${pfn})`);
          return;
        }
        state[p] = s;
      }
    };
    for (let slot = 0; slot < this.nrSlots; slot++) {
      let pages = 0;
      const byType = new Array<number>(MT.TYPES).fill(0);
      for (let o = 0; o < O.NR; o++) {
        let blocks = 0;
        for (let mt = 0; mt < MT.TYPES; mt++) {
          const li = this.listIndex(slot, o, mt);
          let n = 0;
          let prev = -1;
          for (let pfn = this.freeHead[li]!; pfn >= 0; pfn = mm.lruNext[pfn]!) {
            if (mm.lruPrev[pfn] !== prev)
              problems.push(`free list (${slot},${o},${mt}): broken prev link at ${pfn}`);
            prev = pfn;
            if (++n > machine.maxPfn) {
              problems.push(`free list (${slot},${o},${mt}) has a cycle`);
              break;
            }
            if (mm.pageType[pfn] !== K.PGTY_buddy)
              problems.push(`pfn ${pfn} on a free list is not PageBuddy`);
            if (mm.order[pfn] !== o)
              problems.push(`pfn ${pfn} on the order-${o} list has order ${mm.order[pfn]}`);
            if (pfn % (1 << o) !== 0)
              problems.push(`free block ${pfn} is not aligned to order ${o}`);
            if (pfn < this.zoneStart[slot]! || pfn + (1 << o) > this.zoneEnd[slot]!)
              problems.push(`free block ${pfn}/${o} is outside its zone`);
            if (mm.node[pfn]! * Z.MAX_NR_ZONES + mm.zone[pfn]! !== slot)
              problems.push(`free block ${pfn} has zone/node of another slot`);
            if (mm.refcount[pfn] !== 0)
              problems.push(`free block ${pfn} has refcount ${mm.refcount[pfn]}`);
            if (mm.migratetype(pfn) !== mt)
              problems.push(
                `free block ${pfn} on the ${mt} list is in a pageblock of type ${mm.migratetype(pfn)}`,
              );
            if (o < O.MAX) {
              const buddy = pfn ^ (1 << o);
              if (this.isBuddyOf(buddy, slot, o)) {
                const bm = mm.migratetype(buddy);
                if (o < O.PAGEBLOCK || bm === mt || (isMergeable(mt) && isMergeable(bm))) {
                  problems.push(`free buddies ${pfn} and ${buddy} of order ${o} are not merged`);
                }
              }
            }
            claim(pfn, 1 << o, 1, 'free');
          }
          if (n !== this.areaNrFreeByType[li])
            problems.push(
              `nr_free of (${slot},${o},${mt}) is ${this.areaNrFreeByType[li]} but the list has ${n}`,
            );
          blocks += n;
          pages += n << o;
          byType[mt]! += n << o;
        }
        if (blocks !== this.areaNrFree[slot * O.NR + o])
          problems.push(
            `free_area[${o}].nr_free of slot ${slot} is ${this.areaNrFree[slot * O.NR + o]} but lists hold ${blocks}`,
          );
      }
      for (let mt = 0; mt < MT.TYPES; mt++) {
        if (byType[mt] !== this.freePagesByType[slot * MT.TYPES + mt])
          problems.push(
            `free pages of type ${mt} in slot ${slot}: counter ${this.freePagesByType[slot * MT.TYPES + mt]}, lists ${byType[mt]}`,
          );
      }
      if (pages - byType[MT.ISOLATE]! !== this.nrFree[slot])
        problems.push(
          `NR_FREE_PAGES of slot ${slot} is ${this.nrFree[slot]} but lists hold ${pages}`,
        );
    }
    for (let cpu = 0; cpu < this.nrCpus; cpu++) {
      for (let slot = 0; slot < this.nrSlots; slot++) {
        const p = cpu * this.nrSlots + slot;
        let pages = 0;
        for (let pi = 0; pi < this.nrPcpLists; pi++) {
          const o = this.pindexToOrder(pi);
          let n = 0;
          for (
            let pfn = this.pcpHead[p * this.nrPcpLists + pi]!;
            pfn >= 0;
            pfn = mm.lruNext[pfn]!
          ) {
            if (++n > machine.maxPfn) {
              problems.push(`pcp list (${cpu},${slot},${pi}) has a cycle`);
              break;
            }
            if (mm.refcount[pfn] !== 0 || mm.pageType[pfn] !== K.PGTY_NONE)
              problems.push(`pcp page ${pfn} is in use or typed`);
            if (mm.node[pfn]! * Z.MAX_NR_ZONES + mm.zone[pfn]! !== slot)
              problems.push(`pcp page ${pfn} belongs to another zone`);
            claim(pfn, 1 << o, 2, 'pcp');
            pages += 1 << o;
          }
        }
        if (pages !== this.pcp[(p << 3) + PCP.COUNT])
          problems.push(
            `pcp count of cpu ${cpu} slot ${slot} is ${this.pcp[(p << 3) + PCP.COUNT]} but lists hold ${pages}`,
          );
      }
    }
    for (let pfn = 0; pfn < machine.maxPfn; pfn++) {
      if (mm.flags[pfn]! & PGF.RESERVED) {
        if (state[pfn]) problems.push(`reserved pfn ${pfn} is also on a list`);
        state[pfn] = 4;
      }
    }
    for (let pfn = 0; pfn < machine.maxPfn; pfn++) {
      if (state[pfn] === 0 && mm.refcount[pfn]! > 0)
        claim(pfn, 1 << mm.order[pfn]!, 3, 'allocated');
    }
    for (let pfn = 0; pfn < machine.maxPfn; pfn++) {
      if (state[pfn] === 0)
        problems.push(`pfn ${pfn} is neither free, cached, allocated nor reserved (lost)`);
      if (problems.length > 50) break;
    }
    for (let slot = 0; slot < this.nrSlots; slot++) {
      let managed = 0;
      for (let pfn = this.zoneStart[slot]!; pfn < this.zoneEnd[slot]!; pfn++)
        if (state[pfn]! >= 1 && state[pfn]! <= 3) managed++;
      if (managed !== this.managed[slot])
        problems.push(
          `slot ${slot}: managed ${this.managed[slot]} but ${managed} pages are free, cached or allocated`,
        );
    }
    return problems;
  }
}

function isMergeable(mt: number): boolean {
  return mt < K.MIGRATE_PCPTYPES;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

/** zone_batchsize() */
export function zoneBatchsize(managed: number): number {
  let batch = Math.min(managed >> 10, (1024 * 1024) / PAGE_SIZE);
  batch = Math.floor(batch / 4);
  if (batch < 1) batch = 1;
  const x = batch + (batch >> 1);
  return 2 ** Math.floor(Math.log2(x)) - 1;
}

function validateOptions(o: Required<BuddyOptions>): void {
  if (o.minFreeKbytes !== -1 && (!Number.isSafeInteger(o.minFreeKbytes) || o.minFreeKbytes < 0)) {
    throw new RangeError(`minFreeKbytes ${o.minFreeKbytes}: expected a whole number of kB >= 0`);
  }
  if (
    !Number.isInteger(o.watermarkScaleFactor) ||
    o.watermarkScaleFactor < 1 ||
    o.watermarkScaleFactor > 3000
  ) {
    throw new RangeError(
      `watermarkScaleFactor ${o.watermarkScaleFactor}: expected 1..3000 (vm.watermark_scale_factor)`,
    );
  }
  if (
    o.lowmemReserveRatio.length !== Z.MAX_NR_ZONES ||
    o.lowmemReserveRatio.some((r) => !Number.isInteger(r) || r < 0)
  ) {
    throw new RangeError(
      `lowmemReserveRatio: expected ${Z.MAX_NR_ZONES} whole numbers >= 0 (DMA DMA32 Normal Movable Device)`,
    );
  }
  if (
    !Number.isInteger(o.percpuPagelistHighFraction) ||
    (o.percpuPagelistHighFraction !== 0 &&
      o.percpuPagelistHighFraction < MIN_PERCPU_PAGELIST_HIGH_FRACTION)
  ) {
    throw new RangeError(
      `percpuPagelistHighFraction ${o.percpuPagelistHighFraction}: expected 0 or >= ${MIN_PERCPU_PAGELIST_HIGH_FRACTION}`,
    );
  }
}

/** Build a buddy allocator (boots it: frees all memory into the zones). */
export function createBuddyAllocator(
  env: PageAllocatorEnv,
  options?: BuddyOptions,
): BuddyAllocator {
  return new BuddyAllocator(env, options);
}
