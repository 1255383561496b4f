/**
 * The vitest configuration every package shares: `packageTestConfig(import.meta.url, ['core',
 * 'numa'])` in a package's vitest.config.ts.
 *
 * Tests run against the sources of the workspace packages they name (and their
 * `/conformance` entries), so a change in @mmsim/core is seen without rebuilding it. Property
 * tests take seconds when every package's suite runs at once on 2 cores: the time limit
 * catches hangs, not slowness (speed lives in the benchmarks). vitest-setup.ts runs first.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

export function packageTestConfig(
  configUrl: string,
  sources: readonly string[] = [],
): ViteUserConfig {
  const path = (rel: string) => fileURLToPath(new URL(rel, configUrl));
  const alias: { find: string; replacement: string }[] = [];
  for (const pkg of sources) {
    const conformance = path(`../${pkg}/src/conformance.ts`);
    // The subpath first: an alias matches its key as a prefix.
    if (existsSync(conformance))
      alias.push({ find: `@mmsim/${pkg}/conformance`, replacement: conformance });
    alias.push({ find: `@mmsim/${pkg}`, replacement: path(`../${pkg}/src/index.ts`) });
  }
  return defineConfig({
    resolve: { alias },
    test: {
      include: ['test/**/*.test.ts'],
      testTimeout: 30_000,
      setupFiles: [fileURLToPath(new URL('./vitest-setup.ts', import.meta.url))],
    },
  });
}
