/**
 * The API reference stays complete: TypeDoc (`npm run docs`, typedoc.json) validates every export
 * of src/index.ts — an exported symbol or member without JSDoc, a broken {@link}, or a type the
 * docs mention but do not include is a warning, and warnings fail. Here without writing HTML.
 */
import { it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

it('every export is documented (TypeDoc validation passes with warnings as errors)', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts/docs.mjs'), '--emit', 'none'], { cwd: root, encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
  expect(out.split('\n').filter((l) => /\[(warning|error)\]/.test(l)), out).toEqual([]);
  expect(r.status).toBe(0);
}, 120_000);
