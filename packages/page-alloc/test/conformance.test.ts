import { describe, it } from 'vitest';
import { runPageAllocatorConformance } from '../src/conformance.js';
import { createBitmapAllocator, createBuddyAllocator } from '../src/index.js';

runPageAllocatorConformance((env) => createBuddyAllocator(env), { describe, it });
runPageAllocatorConformance(createBitmapAllocator, { describe, it });
