#!/usr/bin/env node
// `prepare`: npm runs it when it installs this package from git (it clones, installs the dev
// dependencies, runs `prepare`, then packs — `prepack` is not run there) and after `npm install`
// / `npm ci` in a clone. It builds the package (dist/) when dist/ is missing, so a git install
// gets the built library and a fresh clone builds once; an existing dist/ is left alone (`npm
// pack` rebuilds it anyway through `prepack`, and development uses src/).
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = ['dist/webgpu-rnn.js', 'dist/webgpu-rnn.d.ts', 'dist/worker.js'].every((f) => existsSync(join(root, f)));
if (!built) execSync('npm run build:lib', { cwd: root, stdio: 'inherit' });
