import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests run against @mmsim/core's sources, so they work before core is built.
export default defineConfig({
  resolve: {
    alias: { '@mmsim/core': new URL('../core/src/index.ts', import.meta.url).pathname },
  },
  // Property tests take seconds when every package's suite runs at once on 2 cores: time
  // limits catch hangs, not slowness (speed lives in the benchmarks).
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    setupFiles: [fileURLToPath(new URL('../../scripts/vitest-setup.ts', import.meta.url))],
  },
});
