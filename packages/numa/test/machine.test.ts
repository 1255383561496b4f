import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  createMachine,
  type MachineSpec,
  PRESET_NAMES,
  PRESETS,
  type ZoneSpan,
} from '../src/index.js';

const G = 1024 ** 3;
const M = 1024 ** 2;
/** Page 0 and the 97 pages of 0x9f000-0xfffff: the firmware holes lost from node 0's memory. */
const FIRMWARE_PAGES = 1 + 97;
const REFERENCE = fileURLToPath(
  new URL('../../../../shared/reference/linux-6.18/', import.meta.url),
);

/** [startPfn, spannedPages, presentPages] of every zone type of node `nid`. */
function spans(zones: readonly ZoneSpan[], nid: number): number[][] {
  return zones
    .filter((z) => z.nid === nid)
    .map((z) => [z.startPfn, z.spannedPages, z.presentPages]);
}

const one = (memory: MachineSpec['nodes'][number]['memory']): MachineSpec => ({
  nodes: [{ memory, cpus: 1 }],
});

describe('sizes in a spec', () => {
  it("reads '512M', '8G' and plain bytes", () => {
    expect(createMachine(one('512M')).nodes[0]!.memoryBytes).toBe(512 * M);
    expect(createMachine(one('8G')).nodes[0]!.memoryBytes).toBe(8 * G);
    expect(createMachine(one(6 * M)).nodes[0]!.memoryBytes).toBe(6 * M);
    // 1.5 GiB is 393216 pages of memory; 98 of them are firmware holes, not RAM.
    const m = createMachine(one('1.5G'));
    expect(m.nodes[0]!.memoryBytes).toBe(1.5 * G);
    expect(m.totalPages).toBe(393118);
    expect(m.maxPfn).toBe(393216);
  });

  it('names the field of a size it cannot read', () => {
    const spec: MachineSpec = {
      nodes: [
        { memory: '1G', cpus: 1 },
        { memory: 'abc', cpus: 1 },
      ],
    };
    expect(() => createMachine(spec)).toThrow(RangeError);
    expect(() => createMachine(spec)).toThrow(/^nodes\[1\]\.memory: invalid size 'abc'/);
    expect(() => createMachine(one(-4096))).toThrow(/^nodes\[0\]\.memory: invalid size -4096/);
    expect(() => createMachine({ nodes: [{ cpus: 1 }] } as unknown as MachineSpec)).toThrow(
      /^nodes\[0\]\.memory: missing/,
    );
    expect(() => createMachine({ nodes: [{ memory: '1G', cpus: 1, movable: '1Q' }] })).toThrow(
      /^nodes\[0\]\.movable: invalid size '1Q'/,
    );
    expect(() => createMachine({ ...one('1G'), pciHole: 'big' })).toThrow(
      /^pciHole: invalid size 'big'/,
    );
    expect(() =>
      createMachine({ ...one('1G'), reserved: [{ start: 0x100000, size: 'x', name: 'kernel' }] }),
    ).toThrow(/^reserved\[0\]\.size: invalid size 'x'/);
  });

  it('rejects node memory that is not whole pages', () => {
    expect(() => createMachine(one(8 * M + 100))).toThrow(
      'nodes[0].memory: 8388708 bytes is not a multiple of the page size (4096)',
    );
  });

  it('rejects a node smaller than one MAX_ORDER block (4 MiB)', () => {
    expect(() => createMachine(one('2M'))).toThrow(
      'nodes[0].memory: 2 MiB is less than 4 MiB, one MAX_ORDER block (1024 pages), the smallest node',
    );
    // 1024 pages of memory, 926 of them RAM: [0x1000, 0x9f000) and [0x100000, 0x400000).
    const m = createMachine(one('4M'));
    expect(m.totalPages).toBe(926);
    expect(m.memoryRanges).toEqual([
      { nid: 0, startPfn: 1, endPfn: 0x9f },
      { nid: 0, startPfn: 0x100, endPfn: 0x400 },
    ]);
  });
});

describe('spec validation', () => {
  it('needs 1..64 nodes (MAX_NUMNODES with NODES_SHIFT 6)', () => {
    expect(() => createMachine({ nodes: [] })).toThrow('nodes: a machine needs at least one node');
    const many = Array.from({ length: 65 }, () => ({ memory: '4M', cpus: 1 }));
    expect(() => createMachine({ nodes: many })).toThrow(/65 nodes is more than MAX_NUMNODES \(64/);
    expect(createMachine({ nodes: many.slice(0, 64) }).nrNodes).toBe(64);
  });

  it('checks CPU counts', () => {
    expect(() => createMachine({ nodes: [{ memory: '1G', cpus: 1.5 }] })).toThrow(RangeError);
    expect(() => createMachine({ nodes: [{ memory: '1G', cpus: 1.5 }] })).toThrow(
      /^nodes\[0\]\.cpus: 1\.5/,
    );
    expect(() =>
      createMachine({ nodes: [{ memory: '1G', cpus: '2' }] } as unknown as MachineSpec),
    ).toThrow(TypeError);
    expect(() => createMachine({ nodes: [{ memory: '1G', cpus: 0 }] })).toThrow(/no CPU/);
  });

  it('accepts memory-only nodes', () => {
    const m = createMachine({
      nodes: [
        { memory: '1G', cpus: 2 },
        { memory: '1G', cpus: 0 },
      ],
    });
    expect(m.nodes[1]!.cpus).toEqual([]);
    expect(m.nrCpus).toBe(2);
  });

  it('rejects unknown fields, naming them', () => {
    expect(() =>
      createMachine({ nodes: [{ memroy: '1G', cpus: 1 }] } as unknown as MachineSpec),
    ).toThrow("nodes[0]: unknown field 'memroy' (known: memory, cpus, movable)");
    expect(() => createMachine({ ...one('1G'), holes: true } as unknown as MachineSpec)).toThrow(
      /machine spec: unknown field 'holes'/,
    );
  });

  it('rejects an unknown preset, listing the known ones', () => {
    expect(() => createMachine('huge' as 'tiny')).toThrow(
      "unknown machine preset 'huge' (known: tiny, laptop, server, numa4, big64)",
    );
  });

  it('checks firmwareHoles and pciHole', () => {
    expect(() =>
      createMachine({ ...one('1G'), firmwareHoles: 'yes' } as unknown as MachineSpec),
    ).toThrow('firmwareHoles: expected true or false, got yes');
    expect(() => createMachine({ ...one('1G'), pciHole: '4G' })).toThrow(
      /^pciHole: 4 GiB is more than/,
    );
    expect(() => createMachine({ ...one('1G'), pciHole: 1000 })).toThrow(/^pciHole: 1000 bytes/);
  });

  it('keeps RAM below 2^52 bytes (MAX_PHYSMEM_BITS)', () => {
    // 2 × 2048 TiB end exactly at 2^52: the firmware holes come out of node 0's memory.
    const nodes = [
      { memory: '2048T', cpus: 1 },
      { memory: '2048T', cpus: 1 },
    ];
    expect(createMachine({ nodes }).maxPfn).toBe(2 ** 40);
    // The RAM behind a PCI hole moves up instead: 1 GiB past 2^52.
    expect(() => createMachine({ nodes, pciHole: '1G' })).toThrow(
      'nodes: the RAM would end at 0x0010000040000000, beyond the 52-bit physical address space (MAX_PHYSMEM_BITS)',
    );
    expect(() => createMachine({ nodes: [...nodes, { memory: '4M', cpus: 1 }] })).toThrow(
      /^nodes: the RAM would end at 0x0010000000400000, beyond/,
    );
  });
});

describe('zone spans of the presets', () => {
  // Each node spans its memory from where the previous one ended; node 0 starts at pfn 1 (page 0
  // is firmware) and loses page 0 and 0x9f-0xff: its DMA zone spans 1-0xfff, 4095 pages, of
  // which 0x9e + 0xf00 = 3998 are RAM.
  it('tiny: 64 MiB, DMA and DMA32 only', () => {
    const m = createMachine('tiny');
    expect(m.memoryRanges).toEqual([
      { nid: 0, startPfn: 1, endPfn: 0x9f },
      { nid: 0, startPfn: 0x100, endPfn: 0x4000 },
    ]);
    expect(spans(m.zones, 0)).toEqual([
      [1, 4095, 3998],
      [4096, 12288, 12288],
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(m.maxPfn).toBe(0x4000);
    expect(m.nodes[0]!.memoryBytes).toBe(64 * M);
    expect(m.totalPages).toBe(16384 - FIRMWARE_PAGES);
    expect(m.totalPages).toBe(16286);
    expect(m.nrCpus).toBe(1);
  });

  it('laptop: 8 GiB, DMA, DMA32 and Normal', () => {
    const m = createMachine('laptop');
    expect(spans(m.zones, 0)).toEqual([
      [1, 4095, 3998],
      [4096, 1044480, 1044480],
      [1048576, 1048576, 1048576],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(m.maxPfn).toBe(0x200000);
    expect(m.totalPages).toBe(2097054);
    expect(m.nodes[0]!.cpus).toEqual([0, 1, 2, 3]);
  });

  it('server: node 0 has DMA, DMA32 and Normal; node 1, from 16 GiB, only Normal', () => {
    const m = createMachine('server');
    expect(spans(m.zones, 0)).toEqual([
      [1, 4095, 3998],
      [4096, 1044480, 1044480],
      [1048576, 3145728, 3145728],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(spans(m.zones, 1)).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [0x400000, 4194304, 4194304],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(m.nodes.map((n) => [n.startPfn, n.endPfn])).toEqual([
      [1, 0x400000],
      [0x400000, 0x800000],
    ]);
    expect(m.nodes.map((n) => n.memoryBytes)).toEqual([16 * G, 16 * G]);
    expect(m.totalPages).toBe(8388510);
    expect(m.nodes[1]!.cpus).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
  });

  it('numa4: 4 GiB nodes on 4 GiB boundaries; node 0 has no Normal zone', () => {
    const m = createMachine('numa4');
    expect(m.nodes.map((n) => [n.startPfn, n.endPfn])).toEqual([
      [1, 0x100000],
      [0x100000, 0x200000],
      [0x200000, 0x300000],
      [0x300000, 0x400000],
    ]);
    expect(spans(m.zones, 0)).toEqual([
      [1, 4095, 3998],
      [4096, 1044480, 1044480],
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    for (const nid of [1, 2, 3]) {
      expect(spans(m.zones, nid)).toEqual([
        [0, 0, 0],
        [0, 0, 0],
        [nid * 0x100000, 1048576, 1048576],
        [0, 0, 0],
        [0, 0, 0],
      ]);
    }
    expect(m.totalPages).toBe(4194206);
  });

  it('lists every (node, zone type) in order with names and slots', () => {
    const m = createMachine('server');
    expect(m.zones.map((z) => `${z.nid}:${z.name}:${z.slot}`)).toEqual([
      '0:DMA:0',
      '0:DMA32:1',
      '0:Normal:2',
      '0:Movable:3',
      '0:Device:4',
      '1:DMA:5',
      '1:DMA32:6',
      '1:Normal:7',
      '1:Movable:8',
      '1:Device:9',
    ]);
    expect(m.zone(1, 2)).toBe(m.zones[7]);
    expect(m.zone(0, 0).ranges).toEqual([
      { startPfn: 1, endPfn: 0x9f },
      { startPfn: 0x100, endPfn: 0x1000 },
    ]);
    expect(() => m.zone(2, 0)).toThrow('node 2 does not exist (nodes 0..1)');
  });
});

describe('the live 6.18 machine (e820 RAM 0x1000-0x9efff, 0x100000-0xbfffffff, 0x100000000-0x63fffffff)', () => {
  // 24 GiB of DIMMs, 6291456 pages. Page 0 and 0x9f-0xff (98 pages) are lost; the 1 GiB behind
  // the PCI hole 0xc0000-0xfffff is remapped to 0x600000-0x63ffff. RAM: 0x9e + (0xc0000 - 0x100)
  // + (0x640000 - 0x100000) = 158 + 786176 + 5505024 = 6291358 pages, "Total pages: 6291358".
  const live = createMachine({ nodes: [{ memory: '24G', cpus: 2 }], pciHole: '1G' });

  it('lays out RAM around the firmware areas and a 1 GiB PCI hole', () => {
    expect(live.memoryRanges).toEqual([
      { nid: 0, startPfn: 0x1, endPfn: 0x9f },
      { nid: 0, startPfn: 0x100, endPfn: 0xc0000 },
      { nid: 0, startPfn: 0x100000, endPfn: 0x640000 },
    ]);
    expect(live.maxPfn).toBe(0x640000);
    expect(live.nodes[0]!.memoryBytes).toBe(24 * G);
    expect(live.totalPages).toBe(6291358);
  });

  it('sizes the zones as /proc/zoneinfo shows them', () => {
    // DMA: 1-0xfff, RAM 0x9e + 0xf00 = 3998. DMA32: 0x1000-0xfffff (1044480 pages), RAM
    // 0x1000-0xbffff = 782336. Normal: 0x100000-0x63ffff, 5505024 pages, all RAM.
    expect(spans(live.zones, 0)).toEqual([
      [1, 4095, 3998],
      [4096, 1044480, 782336],
      [1048576, 5505024, 5505024],
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });

  it('prints the boot log lines of dmesg_mm.txt', () => {
    // dmesg_mm.txt is an excerpt: it leaves out "  Device   empty", which free_area_init()
    // prints on every CONFIG_ZONE_DEVICE=y kernel (the reference config has it, and so do
    // the other x86 boot logs; it only skips ZONE_MOVABLE). The rest is verbatim. The PCI hole
    // lies in memory sections without RAM, so it has no "unavailable ranges" line.
    expect(live.describe()).toEqual([
      'Zone ranges:',
      '  DMA      [mem 0x0000000000001000-0x0000000000ffffff]',
      '  DMA32    [mem 0x0000000001000000-0x00000000ffffffff]',
      '  Normal   [mem 0x0000000100000000-0x000000063fffffff]',
      '  Device   empty',
      'Movable zone start for each node',
      'Early memory node ranges',
      '  node   0: [mem 0x0000000000001000-0x000000000009efff]',
      '  node   0: [mem 0x0000000000100000-0x00000000bfffffff]',
      '  node   0: [mem 0x0000000100000000-0x000000063fffffff]',
      'Initmem setup node 0 [mem 0x0000000000001000-0x000000063fffffff]',
      'On node 0, zone DMA: 1 pages in unavailable ranges',
      'On node 0, zone DMA: 97 pages in unavailable ranges',
      'Fallback order for Node 0: 0 ',
      'Built 1 zonelists, mobility grouping on.  Total pages: 6291358',
      'Policy zone: Normal',
    ]);
  });

  it('agrees with the reference dmesg_mm.txt and zoneinfo.txt themselves', () => {
    const dmesg = readFileSync(`${REFERENCE}dmesg_mm.txt`, 'utf8')
      .split('\n')
      .map((l) => l.replace(/^\[ *\d+\.\d+\] /, ''));
    const from = dmesg.indexOf('Zone ranges:');
    const to = dmesg.findIndex((l) => l.startsWith('setup_percpu:'));
    expect(from).toBeGreaterThanOrEqual(0);
    expect(to).toBeGreaterThan(from);
    const logged = [
      ...dmesg.slice(from, to),
      ...dmesg.filter((l) => /^(Fallback order for Node|Built \d+ zonelists|Policy zone:)/.test(l)),
    ];
    expect(live.describe().filter((l) => l !== '  Device   empty')).toEqual(logged);

    // /proc/zoneinfo: start_pfn (printed only for populated zones), spanned, present.
    const zoneinfo = readFileSync(`${REFERENCE}zoneinfo.txt`, 'utf8')
      .split(/^(?=Node \d+, zone)/m)
      .filter((block) => block.startsWith('Node'))
      .map((block) => [
        Number(/start_pfn: +(\d+)/.exec(block)?.[1] ?? 0),
        Number(/spanned +(\d+)/.exec(block)![1]),
        Number(/present +(\d+)/.exec(block)![1]),
      ]);
    expect(spans(live.zones, 0)).toEqual(zoneinfo);
  });
});

describe('boot log of other machines', () => {
  it('prints empty zones and the hole up to the end of the last memory section', () => {
    // RAM ends at 64 MiB; its 128 MiB section goes on to 0x7ffffff: 16384 more pages.
    expect(createMachine('tiny').describe()).toEqual([
      'Zone ranges:',
      '  DMA      [mem 0x0000000000001000-0x0000000000ffffff]',
      '  DMA32    [mem 0x0000000001000000-0x0000000003ffffff]',
      '  Normal   empty',
      '  Device   empty',
      'Movable zone start for each node',
      'Early memory node ranges',
      '  node   0: [mem 0x0000000000001000-0x000000000009efff]',
      '  node   0: [mem 0x0000000000100000-0x0000000003ffffff]',
      'Initmem setup node 0 [mem 0x0000000000001000-0x0000000003ffffff]',
      'On node 0, zone DMA: 1 pages in unavailable ranges',
      'On node 0, zone DMA: 97 pages in unavailable ranges',
      'On node 0, zone DMA32: 16384 pages in unavailable ranges',
      'Fallback order for Node 0: 0 ',
      'Built 1 zonelists, mobility grouping on.  Total pages: 16286',
      'Policy zone: DMA32',
    ]);
  });

  it('prints every node of a NUMA machine and its fallback order', () => {
    // Node 1 starts at 16 GiB and RAM ends at 32 GiB, a section boundary: no hole after it.
    expect(createMachine('server').describe()).toEqual([
      'Zone ranges:',
      '  DMA      [mem 0x0000000000001000-0x0000000000ffffff]',
      '  DMA32    [mem 0x0000000001000000-0x00000000ffffffff]',
      '  Normal   [mem 0x0000000100000000-0x00000007ffffffff]',
      '  Device   empty',
      'Movable zone start for each node',
      'Early memory node ranges',
      '  node   0: [mem 0x0000000000001000-0x000000000009efff]',
      '  node   0: [mem 0x0000000000100000-0x00000003ffffffff]',
      '  node   1: [mem 0x0000000400000000-0x00000007ffffffff]',
      'Initmem setup node 0 [mem 0x0000000000001000-0x00000003ffffffff]',
      'Initmem setup node 1 [mem 0x0000000400000000-0x00000007ffffffff]',
      'On node 0, zone DMA: 1 pages in unavailable ranges',
      'On node 0, zone DMA: 97 pages in unavailable ranges',
      'Fallback order for Node 0: 0 1 ',
      'Fallback order for Node 1: 1 0 ',
      'Built 2 zonelists, mobility grouping on.  Total pages: 8388510',
      'Policy zone: Normal',
    ]);
  });

  it('turns mobility grouping off below MIGRATE_TYPES pageblocks of RAM', () => {
    // 5 × 512 = 2560 pages of RAM; the 98 pages of firmware holes do not count.
    expect(createMachine(one('8M')).describe()).toContain(
      'Built 1 zonelists, mobility grouping off.  Total pages: 1950',
    );
    expect(createMachine(one(2657 * 4096)).describe()).toContain(
      'Built 1 zonelists, mobility grouping off.  Total pages: 2559',
    );
    expect(createMachine(one(2658 * 4096)).describe()).toContain(
      'Built 1 zonelists, mobility grouping on.  Total pages: 2560',
    );
  });
});

describe('firmwareHoles: false', () => {
  it('makes RAM start at pfn 0, ending where it ends with the holes', () => {
    const m = createMachine({ nodes: [{ memory: '64M', cpus: 1 }], firmwareHoles: false });
    expect(m.memoryRanges).toEqual([{ nid: 0, startPfn: 0, endPfn: 16384 }]);
    expect(spans(m.zones, 0).slice(0, 2)).toEqual([
      [0, 4096, 4096],
      [4096, 12288, 12288],
    ]);
    expect(m.maxPfn).toBe(createMachine('tiny').maxPfn);
    expect(m.totalPages).toBe(16384);
    expect(m.describe()[1]).toBe('  DMA      [mem 0x0000000000000000-0x0000000000ffffff]');
  });
});

describe('pciHole', () => {
  it('moves the RAM behind it above 4 GiB, on the node whose memory it is', () => {
    // Hole [3 GiB, 4 GiB) = pfns 0xc0000-0xfffff. Node 0: 0-2 GiB. Node 1: 2-3 GiB, then its
    // other 1 GiB at 4-5 GiB, so it spans 0x80000-0x13ffff (786432 pages) with 524288 of RAM.
    const m = createMachine({
      nodes: [
        { memory: '2G', cpus: 1 },
        { memory: '2G', cpus: 1 },
      ],
      pciHole: '1G',
    });
    expect(m.memoryRanges).toEqual([
      { nid: 0, startPfn: 1, endPfn: 0x9f },
      { nid: 0, startPfn: 0x100, endPfn: 0x80000 },
      { nid: 1, startPfn: 0x80000, endPfn: 0xc0000 },
      { nid: 1, startPfn: 0x100000, endPfn: 0x140000 },
    ]);
    expect(m.nodes.map((n) => [n.startPfn, n.endPfn])).toEqual([
      [1, 0x80000],
      [0x80000, 0x140000],
    ]);
    expect(spans(m.zones, 0)).toEqual([
      [1, 4095, 3998],
      [4096, 520192, 520192],
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(spans(m.zones, 1)).toEqual([
      [0, 0, 0],
      [0x80000, 524288, 262144],
      [0x100000, 262144, 262144],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(m.totalPages).toBe(1048478);
    expect(m.pfnToNid(0xc0000)).toBe(1);
    expect(m.isPfnRam(0xc0000)).toBe(false);
  });

  it('pushes the next node to 4 GiB when a node ends where the hole begins', () => {
    const m = createMachine({
      nodes: [
        { memory: '3G', cpus: 1 },
        { memory: '1G', cpus: 1 },
      ],
      pciHole: '1G',
    });
    expect(m.nodes.map((n) => [n.startPfn, n.endPfn])).toEqual([
      [1, 0xc0000],
      [0x100000, 0x140000],
    ]);
    expect(m.pfnToNid(0xc0000)).toBe(-1);
  });
});

describe('ZONE_MOVABLE', () => {
  const server = (movable: string) =>
    createMachine({
      nodes: [
        { memory: '16G', cpus: 8 },
        { memory: '16G', cpus: 8, movable },
      ],
    });

  it('takes the top of a node from its highest zone', () => {
    // Node 1 is 0x400000-0x7fffff; its top 4 GiB start at 0x700000.
    const m = server('4G');
    expect(spans(m.zones, 1)).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [0x400000, 0x300000, 0x300000],
      [0x700000, 0x100000, 0x100000],
      [0, 0, 0],
    ]);
    expect(m.describe()).toContain('  Node 1: 0x0000000700000000');
    expect(m.pfnToZoneType(0x700000)).toBe(3);
    expect(m.pfnToZoneType(0x6fffff)).toBe(2);
  });

  it('starts on a MAX_ORDER boundary', () => {
    // The top 4094 MiB (1048064 pages) start at 0x800000 - 0xffe00 = 0x700200; rounded up to
    // 1024 pages, 0x700400, so ZONE_MOVABLE gets 0xffc00 pages (4092 MiB).
    const m = server('4094M');
    expect(spans(m.zones, 1)).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [0x400000, 0x300400, 0x300400],
      [0x700400, 0xffc00, 0xffc00],
      [0, 0, 0],
    ]);
    expect(m.describe()).toContain('  Node 1: 0x0000000700400000');
    expect(m.pfnToZoneType(0x700400)).toBe(3);
    expect(m.pfnToZoneType(0x7003ff)).toBe(2);
  });

  it('takes from DMA32 when that is the highest zone, and keeps the policy zone', () => {
    // 64 MiB: DMA32 is 0x1000-0x3fff; the top 16 MiB start at 0x3000.
    const m = createMachine({ nodes: [{ memory: '64M', cpus: 1, movable: '16M' }] });
    expect(spans(m.zones, 0)).toEqual([
      [1, 4095, 3998],
      [4096, 8192, 8192],
      [0, 0, 0],
      [0x3000, 4096, 4096],
      [0, 0, 0],
    ]);
    expect(m.describe()).toContain('  Node 0: 0x0000000003000000');
    expect(m.describe()).toContain('Policy zone: DMA32');
    expect(m.describe()).toContain('On node 0, zone Movable: 16384 pages in unavailable ranges');
  });

  it('refuses more than the highest zone holds', () => {
    // Node 0's Normal zone is 0x100000-0x3fffff: exactly 12 GiB.
    const spec = (movable: string): MachineSpec => ({
      nodes: [
        { memory: '16G', cpus: 1, movable },
        { memory: '16G', cpus: 1 },
      ],
    });
    expect(() => createMachine(spec('13G'))).toThrow(
      "nodes[0].movable: 13 GiB is more than node 0's Normal memory (12 GiB); ZONE_MOVABLE is taken from the highest zone only",
    );
    const all = createMachine(spec('12G'));
    expect(all.zone(0, 2).spannedPages).toBe(0);
    expect(spans(all.zones, 0)[3]).toEqual([0x100000, 0x300000, 0x300000]);
  });
});

describe('memblock reservations', () => {
  it('rounds start down and end up to pages and counts present pages once per zone', () => {
    const m = createMachine({
      nodes: [{ memory: '64M', cpus: 1 }],
      reserved: [
        { start: 0x1000, size: 0x2000, name: 'real mode' },
        { start: 0x1000000 + 100, size: 4096, name: 'kernel' },
        { start: 0x1001000, size: '8K', name: 'overlap' },
        { start: 0x9e000, size: 0x3000, name: 'ebda' },
      ],
    });
    expect(m.reserved).toEqual([
      { startPfn: 1, endPfn: 3, name: 'real mode' },
      { startPfn: 0x1000, endPfn: 0x1002, name: 'kernel' },
      { startPfn: 0x1001, endPfn: 0x1003, name: 'overlap' },
      { startPfn: 0x9e, endPfn: 0xa1, name: 'ebda' },
    ]);
    // DMA: pfns 1, 2 and 0x9e are RAM (0x9f, 0xa0 are the firmware hole); DMA32: 0x1000-0x1002.
    expect(m.zone(0, 0).reservedPages).toBe(3);
    expect(m.zone(0, 1).reservedPages).toBe(3);
  });

  it('rejects a reservation outside RAM', () => {
    expect(() =>
      createMachine({
        nodes: [{ memory: '64M', cpus: 1 }],
        reserved: [{ start: '64M', size: '1M', name: 'x' }],
      }),
    ).toThrow(
      'reserved[0]: [mem 0x0000000004000000-0x00000000040fffff] is outside RAM (which ends at 0x0000000003ffffff)',
    );
    // The last MiB of a 64 MiB machine is RAM: 256 pages of DMA32.
    const top = createMachine({
      nodes: [{ memory: '64M', cpus: 1 }],
      reserved: [{ start: '63M', size: '1M', name: 'top' }],
    });
    expect(top.reserved).toEqual([{ startPfn: 0x3f00, endPfn: 0x4000, name: 'top' }]);
    expect(top.zone(0, 1).reservedPages).toBe(256);
    expect(() =>
      createMachine({
        nodes: [{ memory: '64M', cpus: 1 }],
        reserved: [{ start: 0, size: 0, name: 'x' }],
      }),
    ).toThrow('reserved[0].size: a reservation of 0 bytes reserves nothing');
  });
});

describe('overrides', () => {
  it('spreads a CPU count over the nodes, the remainder on node 0', () => {
    const m = createMachine('server', { cpus: 5 });
    expect(m.nodes.map((n) => n.cpus)).toEqual([
      [0, 1, 2],
      [3, 4],
    ]);
    expect(createMachine('numa4', { cpus: 6 }).nodes.map((n) => n.cpus.length)).toEqual([
      3, 1, 1, 1,
    ]);
  });

  it('leaves memory-only nodes without CPUs', () => {
    const m = createMachine(
      {
        nodes: [
          { memory: '1G', cpus: 1 },
          { memory: '1G', cpus: 0 },
        ],
      },
      { cpus: 4 },
    );
    expect(m.nodes.map((n) => n.cpus.length)).toEqual([4, 0]);
  });

  it('splits total memory evenly, rounded down to 4 MiB per node', () => {
    expect(createMachine('server', { memory: '10G' }).nodes.map((n) => n.memoryBytes)).toEqual([
      5 * G,
      5 * G,
    ]);
    expect(createMachine('numa4', { memory: '1001M' }).nodes.map((n) => n.memoryBytes / M)).toEqual(
      [248, 248, 248, 248],
    );
    expect(() => createMachine('server', { memory: '6M' })).toThrow(
      /^overrides\.memory: 6 MiB over 2 node/,
    );
    expect(() => createMachine('server', { cpus: 0 })).toThrow(
      'overrides.cpus: a machine needs at least 1 CPU',
    );
  });
});

describe('cpu and pfn lookups', () => {
  const m = createMachine('server');

  it('maps CPUs to nodes', () => {
    expect([0, 7, 8, 15].map((c) => m.cpuToNode(c))).toEqual([0, 0, 1, 1]);
    expect(() => m.cpuToNode(16)).toThrow('cpu 16 does not exist (cpus 0..15)');
  });

  it('knows which pfns are RAM', () => {
    const pfns = [0, 1, 0x9e, 0x9f, 0xff, 0x100, 0x3fffff, 0x400000, 0x7fffff, 0x800000];
    expect(pfns.map((p) => m.isPfnRam(p))).toEqual([
      false,
      true,
      true,
      false,
      false,
      true,
      true,
      true,
      true,
      false,
    ]);
  });

  it('maps pfns to nodes and zones, holes inside a span included', () => {
    const at = (p: number) => [m.pfnToNid(p), m.pfnToZoneType(p)];
    expect(at(0)).toEqual([-1, -1]);
    expect(at(1)).toEqual([0, 0]);
    expect(at(0xa0)).toEqual([0, 0]);
    expect(at(0xfff)).toEqual([0, 0]);
    expect(at(0x1000)).toEqual([0, 1]);
    expect(at(0x100000)).toEqual([0, 2]);
    expect(at(0x3fffff)).toEqual([0, 2]);
    expect(at(0x400000)).toEqual([1, 2]);
    expect(at(0x7fffff)).toEqual([1, 2]);
    expect(at(0x800000)).toEqual([-1, -1]);
  });
});

describe('presets', () => {
  it('are frozen and named', () => {
    expect(PRESET_NAMES).toEqual(['tiny', 'laptop', 'server', 'numa4', 'big64']);
    expect(Object.isFrozen(PRESETS.server.nodes[0])).toBe(true);
    expect(createMachine('big64')).toMatchObject({
      name: 'big64',
      nrNodes: 1,
      nrCpus: 2,
      maxPfn: 0x1000000,
      totalPages: 16777118,
    });
    expect(createMachine('numa4').nodes.map((n) => n.cpus.length)).toEqual([2, 2, 2, 2]);
  });
});
