import { defineConfig } from 'vitest/config';

// Tests run against @mmsim/core's sources, so they work before core is built.
export default defineConfig({
  resolve: {
    alias: { '@mmsim/core': new URL('../core/src/index.ts', import.meta.url).pathname },
  },
  test: { include: ['test/**/*.test.ts'] },
});
