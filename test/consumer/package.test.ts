/**
 * The package as its users get it: `npm pack` (which builds it), then the tarball installed from
 * the npm registry's point of view into throwaway projects outside this repository —
 *   (a) a Node ESM project that type-checks under NodeNext, Node16 and bundler resolution with
 *       skipLibCheck: false and runs a small LSTM on Dawn;
 *   (b) a Vite app, built and opened in Chromium, that trains on the page and in the library's
 *       training Worker;
 *   (c) misspelt options, losses and layer types that must be type errors there.
 * The projects are in test/consumer/node and test/consumer/vite (excluded from this repo's own
 * type check: they import 'webgpu-rnn' as an installed package).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const here = join(root, 'test/consumer');
const repoPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const vite = join(root, 'node_modules/vite/bin/vite.js');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const timings: Record<string, number> = {};

/** Runs a command; returns stdout, or throws with its output. */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const t0 = Date.now();
  try {
    return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}\n${err.message}`);
  } finally {
    const key = `${cmd === process.execPath ? 'node' : cmd} ${args[0] === tsc ? 'tsc' : args[0] === vite ? 'vite' : args[0]}`;
    timings[key] = (timings[key] ?? 0) + (Date.now() - t0);
  }
}

/** A project folder: the fixture files, a package.json, the tarball and `deps` installed from the registry. */
function project(name: string, fixture: string, tarball: string, deps: string[], flags: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), `webgpu-rnn-${name}-`));
  cpSync(join(here, fixture), dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module' }, null, 2));
  run(npm, ['install', '--no-audit', '--no-fund', '--loglevel=error', ...flags, tarball, ...deps], dir);
  return dir;
}

const tsconfig = (options: Record<string, unknown>, files: string[]) =>
  JSON.stringify({ compilerOptions: { target: 'ES2022', strict: true, skipLibCheck: false, noEmit: true, ...options }, files }, null, 2);

/** tsc on a project with a tsconfig written for the occasion; returns its output (throws on errors). */
function typeCheck(dir: string, name: string, options: Record<string, unknown>, files: string[]): string {
  writeFileSync(join(dir, name), tsconfig(options, files));
  return run(process.execPath, [tsc, '-p', name], dir);
}

const version = (name: string) => repoPkg.devDependencies[name]!;

let tarball = '';
let packDir = '';

beforeAll(() => {
  packDir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-pack-'));
  // npm pack runs prepack, which builds dist/ (vite + the bundled declarations) from this tree.
  const out = run(npm, ['pack', '--json', '--pack-destination', packDir], root);
  const info = JSON.parse(out.slice(out.indexOf('['))) as { filename: string }[];
  tarball = join(packDir, info[0]!.filename);
}, 300_000);

afterAll(() => {
  if (packDir) rmSync(packDir, { recursive: true, force: true });
  console.log(`[consumer] seconds: ${Object.entries(timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join(', ')}`);
});

describe('the tarball', () => {
  it('holds the built library, its declarations, the README and the LICENSE: no sources, tests or benchmark results', () => {
    const files = run('tar', ['-tzf', tarball], root).trim().split('\n').map((f) => f.replace(/^package\//, '')).sort();
    expect(files).toEqual(['LICENSE', 'README.md', 'dist/webgpu-rnn.d.ts', 'dist/webgpu-rnn.js', 'dist/webgpu-rnn.js.map', 'dist/worker.d.ts', 'dist/worker.js', 'package.json']);
    const pkg = JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json'], root)) as Record<string, Record<string, string> | undefined>;
    // runtime dependencies are exactly the packages the built library imports (statically, or on
    // first use with a literal import('pkg'): h5wasm, protobufjs); Dawn for Node is optional
    // (imported at run time through a variable, in Node only)
    const js = run('tar', ['-xzOf', tarball, 'package/dist/webgpu-rnn.js'], root);
    const packageOf = (spec: string) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
    const imported = new Set([...js.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2] ?? m[3]!).filter((s) => !s.startsWith('.') && !s.startsWith('node:')).map(packageOf));
    expect(Object.keys(pkg.dependencies ?? {}).sort()).toEqual([...imported].sort());
    expect(pkg.optionalDependencies).toEqual({ webgpu: expect.any(String) });
    expect(imported.has('webgpu')).toBe(false);
    const dts = run('tar', ['-xzOf', tarball, 'package/dist/webgpu-rnn.d.ts'], root);
    expect(dts).not.toMatch(/from ['"]\./); // one file: no relative imports to resolve
  });
});

describe('a Node project (NodeNext, skipLibCheck: false)', () => {
  let dir = '';
  beforeAll(() => {
    dir = project('node', 'node', tarball, [`@types/node@${version('@types/node')}`]);
  }, 300_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs the library, its dependencies and Dawn only (no demo, build or data packages)', () => {
    // every package on disk, nested ones included
    const installed = new Set<string>();
    const scan = (nm: string) => {
      for (const name of existsSync(nm) ? readdirSync(nm) : []) {
        if (name.startsWith('.')) continue;
        const entries = name.startsWith('@') ? readdirSync(join(nm, name)).map((n) => `${name}/${n}`) : [name];
        for (const e of entries) {
          installed.add(e);
          scan(join(nm, e, 'node_modules'));
        }
      }
    };
    scan(join(dir, 'node_modules'));
    for (const notNeeded of ['uplot', 'papaparse', 'vega-datasets', 'wgsl_reflect', 'vite', 'typescript', 'rollup']) expect(installed.has(notNeeded), notNeeded).toBe(false);
    // everything there comes from the library (itself, Dawn and Dawn's dependencies) or from @types/node
    const closure = (name: string, seen = new Set<string>()): Set<string> => {
      if (seen.has(name) || !installed.has(name)) return seen;
      seen.add(name);
      const file = join(dir, 'node_modules', name, 'package.json');
      if (!existsSync(file)) return seen; // a nested copy: its dependencies are nested too
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string> | undefined>;
      for (const d of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) closure(d, seen);
      return seen;
    };
    const fromLibrary = closure('webgpu-rnn');
    expect(fromLibrary.has('webgpu')).toBe(true);
    expect([...installed].filter((n) => !fromLibrary.has(n) && !closure('@types/node').has(n))).toEqual([]);
  });

  it.each([
    ['NodeNext', { module: 'NodeNext', moduleResolution: 'NodeNext' }],
    ['Node16', { module: 'Node16', moduleResolution: 'Node16' }],
    ['bundler', { module: 'ESNext', moduleResolution: 'Bundler' }],
  ])('type-checks under %s resolution, without the DOM library (0 errors)', (_name, resolution) => {
    typeCheck(dir, 'tsconfig.check.json', { ...resolution, lib: ['ES2023'], types: ['node'] }, ['main.ts']);
  });

  it('with the DOM library (TypeScript 7 has WebGPU in it), the GPU objects are fully typed', () => {
    typeCheck(dir, 'tsconfig.dom.json', { module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023', 'DOM'], types: ['node'] }, ['main.ts', 'gpu-types.ts']);
  });

  it('misspelt options, losses, metrics and layer types are type errors', () => {
    // each line of errors.ts carries @ts-expect-error: tsc fails if one of them is accepted
    typeCheck(dir, 'tsconfig.errors.json', { module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023', 'DOM'], types: ['node'] }, ['errors.ts']);
    // and without the directives every one of them is reported
    const bare = readFileSync(join(dir, 'errors.ts'), 'utf8').replace(/\/\/ @ts-expect-error.*\n/g, '');
    writeFileSync(join(dir, 'errors-bare.ts'), bare);
    let out = '';
    try {
      typeCheck(dir, 'tsconfig.bare.json', { module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023', 'DOM'], types: ['node'] }, ['errors-bare.ts']);
    } catch (e) {
      out = (e as Error).message;
    }
    const reported = new Set([...out.matchAll(/errors-bare\.ts\((\d+),/g)].map((m) => m[1]));
    expect(reported.size).toBe((readFileSync(join(dir, 'errors.ts'), 'utf8').match(/@ts-expect-error/g) ?? []).length);
  });

  it('runs as Node ESM: trains a small LSTM on Dawn, with nothing on stderr', () => {
    writeFileSync(join(dir, 'tsconfig.json'), tsconfig({ module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023'], types: ['node'], noEmit: false, outDir: 'out' }, ['main.ts']));
    run(process.execPath, [tsc, '-p', 'tsconfig.json'], dir);
    // stderr to a file (as a shell's 2> would): Dawn's lavapipe notice must not appear
    const errFile = join(dir, 'stderr.txt');
    const fd = openSync(errFile, 'w');
    let stdout = '';
    try {
      const t0 = Date.now();
      stdout = execFileSync(process.execPath, ['out/main.js'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', fd] });
      timings['node out/main.js'] = Date.now() - t0;
    } finally {
      closeSync(fd);
    }
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { runtime: string; loss: number[]; valLoss: number[]; naive: number; forecastShape: number[] };
    expect(result.runtime).toBe('node');
    expect(result.loss).toHaveLength(3);
    expect(result.valLoss.every(Number.isFinite)).toBe(true);
    expect(result.loss[2]!).toBeLessThan(result.loss[0]!);
    expect(result.forecastShape).toEqual([80, 3]);
    expect(readFileSync(errFile, 'utf8')).toBe('');
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

describe('a Vite app in Chromium', () => {
  let dir = '';
  let server: ChildProcess | null = null;
  let browser: Browser | null = null;
  beforeAll(() => {
    // a browser app needs no Dawn: install without optional dependencies, as such an app would
    dir = project('vite', 'vite', tarball, [], ['--omit=optional']);
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    server?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('builds with Vite (the library and its training Worker bundled, no Node modules pulled in)', () => {
    typeCheck(dir, 'tsconfig.json', { module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2023', 'DOM'], types: [] }, ['main.ts']);
    const out = run(process.execPath, [vite, 'build', '--logLevel', 'warn'], dir);
    expect(out).not.toMatch(/externalized for browser compatibility|node:/);
    const assets = readdirSync(join(dir, 'dist/assets'));
    expect(assets.some((f) => /^worker-.*\.js$/.test(f)), assets.join(', ')).toBe(true);
  });

  /** Serves the app with `vite <args>`, opens it in Chromium and returns what the page reports. */
  async function runPage(viteArgs: string[], label: string): Promise<Record<string, unknown>> {
    const port = await freePort();
    server = spawn(process.execPath, [vite, ...viteArgs, '--port', String(port), '--strictPort', '--host', '127.0.0.1'], { cwd: dir, stdio: 'ignore' });
    try {
      const url = `http://127.0.0.1:${port}/`;
      for (let i = 0; ; i++) {
        try {
          if ((await fetch(url)).ok) break;
        } catch {
          if (i > 100) throw new Error(`vite ${viteArgs.join(' ')} did not start on ${url}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      browser ??= await chromium.launch({
        executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
        args: ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      const t0 = Date.now();
      await page.goto(url);
      await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, null, { timeout: 240_000 });
      timings[`chromium ${label}`] = Date.now() - t0;
      const result = (await page.evaluate(() => (window as unknown as { result: unknown }).result)) as Record<string, unknown>;
      await page.close();
      expect(errors).toEqual([]);
      return result;
    } finally {
      server.kill();
      server = null;
    }
  }

  const expectTrained = (result: Record<string, unknown>) => {
    expect(result.error).toBeUndefined();
    expect(result.runtime).toBe('browser');
    expect((result.pageLoss as number[]).every(Number.isFinite)).toBe(true);
    expect((result.workerLoss as number[]).every(Number.isFinite)).toBe(true);
    expect(result.workerLoss).toEqual(result.pageLoss); // same seed, same adapter
    expect(result.progress as number).toBeGreaterThan(0);
    expect(result.forecastShape).toEqual([40, 3]);
  };

  it('the built app trains a small LSTM on the page and in the training Worker', async () => {
    expectTrained(await runPage(['preview'], 'built app'));
  }, 300_000);

  it('the same under the dev server (the library pre-bundled by Vite, no configuration)', async () => {
    expectTrained(await runPage([], 'dev server'));
  }, 300_000);
});
