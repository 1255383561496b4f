/**
 * pnpm --filter @mmsim/slab bench:floor — how fast the mixed pattern of `pnpm bench` can be
 * in this design, measured rather than guessed.
 *
 * A stripped SLUB: the same steady-state algorithm (CPU freelist, CPU slab, CPU partial list
 * drained to a node list at cpu_partial_slabs, the free pointer in the middle of the object,
 * hardened as by default) over the same layout (a class with per-instance typed arrays per
 * pfn, per-CPU records in typed arrays, real bytes in 64 KiB Int32Array chunks), and nothing
 * else: no checks of the pointers it is given, no statistics but one, no doubly linked node
 * lists, no discarding of empty slabs, no page allocator (slabs are bumped from a counter),
 * no debugging, no NUMA. It is not an allocator anyone should use; it is the lower bound of
 * the one in src/ (mm/slub.c's bookkeeping and the simulator's reports cost on top).
 *
 * Run: `pnpm --filter @mmsim/slab bench:floor` (LIVE=100 puts every object in the cache, to
 * separate memory latency from computation).
 */
const LIVE = Number(process.env.LIVE ?? 10_000);
const MEM_PAGES = 1 << 21; // 8 GiB, as the 'laptop' preset of the real benchmark
const PAGE_OFFSET = 0x888000000000; // the direct map, stored as its low 48 bits
const TWO_32 = 4294967296;
const NIL = -1;

const bswap32 = (x: number): number =>
  ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);

class Chunks {
  private readonly words: (Int32Array | null)[] = new Array(MEM_PAGES >> 4).fill(null);
  chunkWords(i: number): Int32Array {
    const w = this.words[i];
    if (w) return w;
    const fresh = new Int32Array(1 << 14);
    this.words[i] = fresh;
    return fresh;
  }
}

interface Cache {
  id: number;
  size: number;
  order: number;
  objects: number;
  offset: number;
  cpuPartialSlabs: number;
  randomLo: number;
  randomHi: number;
  /** Per CPU: freelist, slab base, slab end. */
  pcf: Float64Array;
  /** Per CPU: slab, partial list head, partial list length. */
  pci: Int32Array;
  nodePartial: number;
  allocSlowpath: number;
}

class FloorSlub {
  private readonly mem = new Chunks();
  private readonly pageSlab = new Int32Array(MEM_PAGES);
  private readonly slabFreelist = new Float64Array(MEM_PAGES);
  private readonly slabInuse = new Uint16Array(MEM_PAGES);
  private readonly slabState = new Uint8Array(MEM_PAGES);
  private readonly slabObjects = new Uint16Array(MEM_PAGES);
  private readonly lruNext = new Int32Array(MEM_PAGES);
  private readonly cacheById: (Cache | undefined)[] = [undefined];
  private readonly caches: Cache[];
  private readonly sizeIndex = new Uint8Array(2049);
  private nextPfn = 4096;
  cpu = 0;

  constructor() {
    const sizes = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048];
    this.caches = sizes.map((size, i) => {
      const order = size >= 512 ? 3 : size >= 256 ? 1 : 0;
      const objects = Math.floor((4096 << order) / size);
      // mm/slub.c set_cpu_partial() and slub_set_cpu_partial()
      const nrObjects = size >= 1024 ? 24 : size >= 256 ? 52 : 120;
      const s: Cache = {
        id: i + 1,
        size,
        order,
        objects,
        offset: (size >> 1) & ~7,
        cpuPartialSlabs: Math.ceil((nrObjects * 2) / objects),
        randomLo: 0x12345678,
        randomHi: 0x09abcdef,
        pcf: new Float64Array(8),
        pci: new Int32Array([NIL, NIL, 0, 0, 0, 0, 0, 0, NIL, NIL, 0, 0, 0, 0, 0, 0]),
        nodePartial: NIL,
        allocSlowpath: 0,
      };
      this.cacheById.push(s);
      return s;
    });
    for (let z = 1; z <= 2048; z++) this.sizeIndex[z] = sizes.findIndex((q) => q >= z);
  }

  private getFp(s: Cache, at: number): number {
    const phys = at - PAGE_OFFSET;
    const w = this.mem.chunkWords(Math.floor(phys / 65536));
    const i = (phys & 0xffff) >> 2;
    const lo = w[i]! ^ s.randomLo ^ bswap32(0xffff0000 | Math.floor(at / TWO_32));
    const hi = w[i + 1]! ^ s.randomHi ^ bswap32(at | 0);
    return (lo | hi) === 0 ? 0 : hi >>> 16 !== 0xffff ? -1 : (hi & 0xffff) * TWO_32 + (lo >>> 0);
  }

  private setFp(s: Cache, at: number, fp: number): void {
    const phys = at - PAGE_OFFSET;
    const w = this.mem.chunkWords(Math.floor(phys / 65536));
    const i = (phys & 0xffff) >> 2;
    const lo = fp === 0 ? 0 : fp | 0;
    const hi = fp === 0 ? 0 : 0xffff0000 | Math.floor(fp / TWO_32);
    w[i] = lo ^ s.randomLo ^ bswap32(0xffff0000 | Math.floor(at / TWO_32));
    w[i + 1] = hi ^ s.randomHi ^ bswap32(at | 0);
  }

  private newSlab(s: Cache): number {
    const n = 1 << s.order;
    this.nextPfn = (this.nextPfn + n - 1) & ~(n - 1);
    const pfn = this.nextPfn;
    this.nextPfn += n;
    for (let i = 0; i < n; i++) this.pageSlab[pfn + i] = (s.id << 10) | i;
    const base = pfn * 4096 + PAGE_OFFSET;
    for (let k = 0; k < s.objects; k++) {
      const next = k + 1 < s.objects ? base + (k + 1) * s.size : 0;
      this.setFp(s, base + k * s.size + s.offset, next);
    }
    this.slabFreelist[pfn] = base;
    this.slabObjects[pfn] = s.objects;
    this.slabInuse[pfn] = 0;
    return pfn;
  }

  kmalloc(size: number): number {
    const s = this.caches[this.sizeIndex[size]!]!;
    const c = this.cpu;
    const object = s.pcf[c * 4]!;
    if (object !== 0 && object >= s.pcf[c * 4 + 1]! && object < s.pcf[c * 4 + 2]!) {
      s.pcf[c * 4] = this.getFp(s, object + s.offset);
      return object;
    }
    return this.slowAlloc(s, c);
  }

  private slowAlloc(s: Cache, c: number): number {
    s.allocSlowpath++;
    let next = s.pci[c * 8 + 1]!;
    if (next !== NIL) {
      s.pci[c * 8 + 1] = this.lruNext[next]!;
      s.pci[c * 8 + 2]!--;
    } else if (s.nodePartial !== NIL) {
      // get_partial_node(): one slab now, up to half the CPU list's worth more.
      next = s.nodePartial;
      s.nodePartial = this.lruNext[next]!;
      for (let k = 1; s.nodePartial !== NIL && k < s.cpuPartialSlabs >> 1; k++) {
        const t = s.nodePartial;
        s.nodePartial = this.lruNext[t]!;
        this.lruNext[t] = s.pci[c * 8 + 1]!;
        s.pci[c * 8 + 1] = t;
        this.slabState[t] = 2;
        s.pci[c * 8 + 2]!++;
      }
    } else next = this.newSlab(s);
    const old = s.pci[c * 8]!;
    if (old !== NIL) this.slabState[old] = 0;
    const fl = this.slabFreelist[next]!;
    this.slabFreelist[next] = 0;
    this.slabInuse[next] = this.slabObjects[next]!;
    this.slabState[next] = 1;
    s.pci[c * 8] = next;
    const base = next * 4096 + PAGE_OFFSET;
    s.pcf[c * 4 + 1] = base;
    s.pcf[c * 4 + 2] = base + this.slabObjects[next]! * s.size;
    s.pcf[c * 4] = this.getFp(s, fl + s.offset);
    return fl;
  }

  kfree(object: number): void {
    const pfn = Math.floor((object - PAGE_OFFSET) / 4096);
    const v = this.pageSlab[pfn]!;
    const s = this.cacheById[v >>> 10]!;
    const slab = pfn - (v & 1023);
    const c = this.cpu;
    if (slab === s.pci[c * 8]) {
      this.setFp(s, object + s.offset, s.pcf[c * 4]!);
      s.pcf[c * 4] = object;
      return;
    }
    const prior = this.slabFreelist[slab]!;
    this.setFp(s, object + s.offset, prior);
    this.slabFreelist[slab] = object;
    this.slabInuse[slab]!--;
    if (prior === 0 && this.slabState[slab] === 0) {
      // put_cpu_partial(), draining a full list to the node first.
      if (s.pci[c * 8 + 2]! >= s.cpuPartialSlabs) {
        for (let t = s.pci[c * 8 + 1]!; t !== NIL; ) {
          const n = this.lruNext[t]!;
          this.lruNext[t] = s.nodePartial;
          s.nodePartial = t;
          this.slabState[t] = 3;
          t = n;
        }
        s.pci[c * 8 + 1] = NIL;
        s.pci[c * 8 + 2] = 0;
      }
      this.lruNext[slab] = s.pci[c * 8 + 1]!;
      s.pci[c * 8 + 1] = slab;
      s.pci[c * 8 + 2]!++;
      this.slabState[slab] = 2;
    }
  }
}

// The pattern of bench/run.ts: LIVE buffers of 8..2048 bytes, each step frees a random one and
// allocates a random size in its place.
const a = new FloorSlub();
let seed = 7;
const rnd = (n: number): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed % n;
};
const live = new Float64Array(LIVE);
for (let i = 0; i < LIVE; i++) live[i] = a.kmalloc(8 + rnd(2041));
const RAND = 1 << 16;
const slot = new Int32Array(RAND);
const size = new Int32Array(RAND);
for (let i = 0; i < RAND; i++) {
  slot[i] = rnd(LIVE);
  size[i] = 8 + rnd(2041);
}
let cursor = 0;
function steps(n: number): void {
  for (let i = 0; i < n; i++) {
    const k = cursor++ & (RAND - 1);
    const s = slot[k]!;
    a.kfree(live[s]!);
    live[s] = a.kmalloc(size[k]!);
  }
}
const ROUNDS = 6;
const PAIRS = 1_000_000;
const times: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const t = process.hrtime.bigint();
  steps(PAIRS);
  if (r >= 2) times.push(Number(process.hrtime.bigint() - t) / PAIRS);
}
times.sort((x, y) => x - y);
console.log(
  `stripped SLUB (the floor), mixed 8-2048 B, ${LIVE} live: ` +
    `${times[Math.floor(times.length / 2)]!.toFixed(1)} ns per free+kmalloc pair ` +
    `(range ${times[0]!.toFixed(1)}-${times.at(-1)!.toFixed(1)})`,
);
