import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Property tests take seconds when every package's suite runs at once on 2 cores: time
  // limits catch hangs, not slowness (speed lives in the benchmarks).
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    setupFiles: [fileURLToPath(new URL('../../scripts/vitest-setup.ts', import.meta.url))],
  },
});
