import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    setupFiles: [fileURLToPath(new URL('../../scripts/vitest-setup.ts', import.meta.url))],
  },
});
