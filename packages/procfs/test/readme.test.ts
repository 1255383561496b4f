import { boot, GFP_KERNEL } from '@mmsim/kapi';
import { expect, it } from 'vitest';
import { attachProcfs, readProc, slabtop } from '../src/index.js';

it('the README example runs and gives what its comments say', () => {
  const k = boot({ machine: { nodes: [{ memory: '24G', cpus: 2 }], pciHole: '1G' } });
  for (let i = 0; i < 1000; i++) k.kmalloc(100, GFP_KERNEL);
  expect(readProc(k, '/proc/buddyinfo').split('\n')[0]).toBe(
    'Node 0, zone      DMA      2      2      2      2      2      1      1      0      1      1      3 ',
  );
  const top = slabtop(k, { sort: 'c', rows: 10 }).split('\n');
  expect(top[0]).toBe(' Active / Total Objects (% used)    : 1024 / 1024 (100.0%)');
  expect(attachProcfs(k).readProc('/proc/meminfo').split('\n')[0]).toBe(
    'MemTotal:       25165432 kB',
  );
});
