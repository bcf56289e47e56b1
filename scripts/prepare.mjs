#!/usr/bin/env node
// `prepare`: npm runs it when it installs this package from git (it clones, installs the dev
// dependencies, runs `prepare`, then packs; `prepack` is not run there) — and also after
// `npm install` / `npm ci` in a clone. It builds the package (dist/) only in the first case, which
// npm marks by setting npm_package_resolved (the clone's path): a developer's `npm ci` never
// fails on a type error in work in progress, and `npm pack` builds through `prepack`.
import { execSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.env.npm_package_resolved) execSync('npm run build:lib', { cwd: root, stdio: 'inherit' });
