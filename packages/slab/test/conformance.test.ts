/**
 * The SlabAllocator conformance suite (src/conformance.ts) run for every implementation this
 * package has: SLUB always, SLAB and SLOB once src/index.ts exports their factories.
 */
import type { SlabAllocator, SlabEnv } from '@mmsim/core';
import { describe, it } from 'vitest';
import { runSlabAllocatorConformance } from '../src/conformance.js';
import * as slab from '../src/index.js';
import { makeSlabEnv } from './env.js';

type Factory = (env: SlabEnv) => SlabAllocator;

const makeEnv = (machine?: Parameters<typeof makeSlabEnv>[0]): SlabEnv =>
  makeSlabEnv(machine ?? 'tiny').env;

// SLAB and SLOB are looked up by name: index.ts exports them only once they are done.
const exported = slab as unknown as Record<string, unknown>;
const factories: [string, Factory][] = [['createSlub', (env) => slab.createSlub(env)]];
for (const name of ['createSlab', 'createSlob']) {
  const f = exported[name];
  if (typeof f === 'function') factories.push([name, (env) => (f as Factory)(env)]);
}
console.log(`slab conformance: running ${factories.map(([n]) => n).join(', ')}`);

for (const [, factory] of factories) {
  runSlabAllocatorConformance(factory, { describe, it }, { makeEnv });
}
