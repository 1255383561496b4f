import { readFileSync } from 'node:fs';
import { PAGE_SIZE } from '@mmsim/core';
import { boot, type Kernel } from '@mmsim/kapi';
import type { MachineSpec } from '@mmsim/numa';

const REFERENCE = new URL('../../../../shared/reference/linux-6.18/', import.meta.url);

/** A file of the reference Linux 6.18 machine. */
export const reference = (name: string): string => readFileSync(new URL(name, REFERENCE), 'utf8');

/**
 * The reference machine (packages/page-alloc/test/buddy.test.ts): 24 GiB with a 1 GiB PCI
 * hole, 2 CPUs, and the memblock reservations that make `managed` equal the live zoneinfo.
 */
export const LIVE: MachineSpec = {
  name: 'live-6.18',
  nodes: [{ memory: '24G', cpus: 2 }],
  pciHole: '1G',
  reserved: [
    { start: 0x1000, size: 158 * PAGE_SIZE, name: 'first 1M' },
    { start: 0x1000000, size: 9419 * PAGE_SIZE, name: 'kernel' },
    { start: 0x100000000, size: (5505024 - 491520) * PAGE_SIZE, name: 'deferred init' },
  ],
};

export const bootLive = (slab: 'slub' | 'slab' | 'slob' = 'slub'): Kernel =>
  boot({ machine: LIVE, slab });

/** Every number replaced by N and runs of blanks by one: the structure of a /proc file. */
export const shape = (text: string): string => text.replace(/\d+/g, 'N').replace(/ +/g, ' ');

/** Lines of a file without the trailing empty one. */
export const lines = (text: string): string[] => text.replace(/\n$/, '').split('\n');
