#!/usr/bin/env node
/**
 * `npm run demo`, `npm test` and `npm run web` (the visualizer's dev server) on a machine that
 * has only Node and npm.
 *
 * Installs the pinned pnpm (package.json "packageManager") through npx when the machine has
 * no pnpm of that version, installs the workspace's dependencies from the lockfile, then runs
 * the task through turbo. `pnpm demo` / `pnpm test` go through the same script.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpmVersion = pkg.packageManager.replace(/^pnpm@/, '');
const [task, ...rest] = process.argv.slice(2);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
    ...opts,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function havePnpm() {
  const r = spawnSync('pnpm', ['--version'], {
    encoding: 'utf8',
    shell: process.platform === 'win32',
  });
  return r.status === 0 && r.stdout.trim() === pnpmVersion;
}

const pnpm = havePnpm() ? ['pnpm'] : ['npx', '--yes', `pnpm@${pnpmVersion}`];
const pn = (args, opts) => run(pnpm[0], [...pnpm.slice(1), ...args], opts);

const quiet = task === 'demo';
pn(['install', '--frozen-lockfile', '--prefer-offline', ...(quiet ? ['--reporter=silent'] : [])]);

switch (task) {
  case 'demo':
    pn(
      [
        'exec',
        'turbo',
        'run',
        'build',
        '--filter=mmsim...',
        '--output-logs=errors-only',
        '--log-prefix=none',
      ],
      {
        stdio: ['inherit', 'ignore', 'inherit'],
      },
    );
    run(process.execPath, [join(root, 'apps/cli/dist/cli.js'), ...rest]);
    break;
  case 'test':
    pn(['exec', 'turbo', 'run', 'test', ...rest]);
    break;
  case 'web':
    // The packages the visualizer imports, built; then Vite's dev server (it prints the URL).
    pn(
      [
        'exec',
        'turbo',
        'run',
        'build',
        '--filter=@mmsim/web^...',
        '--output-logs=errors-only',
        '--log-prefix=none',
      ],
      { stdio: ['inherit', 'ignore', 'inherit'] },
    );
    pn(['--filter', '@mmsim/web', 'exec', 'vite', ...rest]);
    break;
  default:
    console.error(`scripts/run.mjs: unknown task '${task}' (demo, test, web)`);
    process.exit(2);
}
