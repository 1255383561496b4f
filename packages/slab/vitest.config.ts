import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests run against the sources of the workspace packages, so a change in @mmsim/core is
// seen without rebuilding it.
const src = (pkg: string) => fileURLToPath(new URL(`../${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@mmsim/core': src('core'),
      '@mmsim/numa': src('numa'),
      '@mmsim/page-alloc/conformance': fileURLToPath(
        new URL('../page-alloc/src/conformance.ts', import.meta.url),
      ),
      '@mmsim/page-alloc': src('page-alloc'),
    },
  },
  // Property tests take seconds when every package's suite runs at once on 2 cores: time
  // limits catch hangs, not slowness (speed lives in the benchmarks).
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    setupFiles: [fileURLToPath(new URL('../../scripts/vitest-setup.ts', import.meta.url))],
  },
});
