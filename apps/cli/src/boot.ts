import { createMachine } from '@mmsim/numa';
import { createBuddyAllocator, createPageAllocatorEnv } from '@mmsim/page-alloc';
import { buddyinfo, zoneTable } from './render.js';

export function bootSummary(opts: {
  machine: string;
  cpus?: number;
  memory?: string;
  json?: boolean;
}): string {
  const overrides: { cpus?: number; memory?: string } = {};
  if (opts.cpus !== undefined) overrides.cpus = opts.cpus;
  if (opts.memory !== undefined) overrides.memory = opts.memory;
  const machine = createMachine(opts.machine as 'server', overrides);
  const env = createPageAllocatorEnv(machine);
  const buddy = createBuddyAllocator(env);
  if (opts.json) {
    const zones = machine.zones
      .filter((z) => z.presentPages > 0)
      .map((z) => buddy.zoneSnapshot(z.nid, z.type));
    return JSON.stringify(
      {
        machine: machine.name,
        nodes: machine.nrNodes,
        cpus: machine.nrCpus,
        minFreeKbytes: buddy.minFreeKbytes,
        zones,
      },
      null,
      2,
    );
  }
  return [
    ...machine.describe(),
    '',
    ...zoneTable(machine, buddy),
    '',
    ...buddyinfo(machine, buddy),
  ].join('\n');
}
