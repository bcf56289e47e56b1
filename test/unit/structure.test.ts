/**
 * The code's structure, checked from the source text (no GPU): imports run one way (the layer
 * order below, lower never imports higher), GPU buffers are created only in src/gpu/, every
 * shader file names its op, float64 reference and test (and they exist, and the op uses it),
 * and no file grows past ~500 lines unless it is listed with its reason.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const rel = (p: string) => relative(root, p).split('\\').join('/');

function walk(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p, ext));
    else if (name.endsWith(ext)) out.push(p);
  }
  return out.sort();
}

/**
 * The library's layers, lowest first, and what each may import. A file's layer is its folder
 * under src/ (or its name for the files at the top of src/).
 */
const LAYERS: Record<string, readonly string[]> = {
  leaf: ['leaf'], // src/tensor.ts, src/host.ts, src/options.ts: shapes, host arrays, option checks
  gpu: ['leaf', 'gpu'], // device, shaders, buffers, programs, the parameter arena
  data: ['leaf', 'data'], // host-side data: generators, windows, CSV
  autograd: ['leaf', 'gpu', 'autograd'],
  ops: ['leaf', 'gpu', 'autograd', 'ops'],
  optim: ['leaf', 'gpu', 'autograd', 'optim'],
  layers: ['leaf', 'gpu', 'autograd', 'ops', 'data', 'layers'],
  // saved models: artifacts, formats, handlers; converters rebuild layers (no GPU) for their shapes
  io: ['leaf', 'gpu', 'autograd', 'ops', 'data', 'layers', 'io'],
  model: ['leaf', 'gpu', 'autograd', 'ops', 'optim', 'data', 'io', 'layers', 'model'],
  top: ['leaf', 'gpu', 'autograd', 'ops', 'optim', 'data', 'io', 'layers', 'model', 'top'], // callbacks/, forecast, lessons/, worker/
  index: ['leaf', 'gpu', 'autograd', 'ops', 'optim', 'data', 'io', 'layers', 'model', 'top', 'index'],
};

function layerOf(file: string): string {
  const r = rel(file);
  const m = /^src\/([^/]+)\//.exec(r);
  if (r === 'src/index.ts' || r === 'src/worker/entry.ts') return 'index'; // the package's entry points
  if (m) return m[1] === 'lessons' || m[1] === 'callbacks' || m[1] === 'worker' ? 'top' : m[1]!;
  if (r === 'src/tensor.ts' || r === 'src/host.ts' || r === 'src/options.ts') return 'leaf';
  return 'top'; // src/forecast.ts
}

/** Relative module specifiers a file imports or re-exports (static and `import('…')` with a literal). */
function importsOf(code: string): string[] {
  const out: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
  for (const m of code.matchAll(re)) out.push((m[1] ?? m[2])!);
  return out;
}

/** Import edges that run upward (or into an unknown layer), as readable lines. */
function upwardImports(files: readonly { path: string; code: string }[]): string[] {
  const bad: string[] = [];
  for (const f of files) {
    const from = layerOf(f.path);
    for (const spec of importsOf(f.code)) {
      const target = resolve(dirname(f.path), spec.replace(/\?raw$/, ''));
      if (!rel(target).startsWith('src/')) continue; // shaders (?raw) and package files
      const to = layerOf(target.endsWith('.ts') || target.endsWith('.wgsl') ? target : `${target}.ts`);
      if (!(LAYERS[from] ?? []).includes(to)) bad.push(`${rel(f.path)} (${from}) imports ${spec} (${to})`);
    }
  }
  return bad;
}

const sources = walk(join(root, 'src'), '.ts').map((path) => ({ path, code: readFileSync(path, 'utf8') }));

describe('imports run one way: leaf → gpu → autograd → ops → optim / layers → io → model → top', () => {
  it('every file under src/ belongs to a known layer', () => {
    const unknown = sources.map((s) => rel(s.path)).filter((p) => !(layerOf(join(root, p)) in LAYERS));
    expect(unknown).toEqual([]);
  });

  it('no file imports from a layer above it', () => {
    expect(upwardImports(sources)).toEqual([]);
  });

  it('the check catches an upward import (a layer importing from model/)', () => {
    const fake = { path: join(root, 'src/layers/fake.ts'), code: "import { Sequential } from '../model/sequential';\n" };
    expect(upwardImports([fake])).toEqual(["src/layers/fake.ts (layers) imports ../model/sequential (model)"]);
    const dynamic = { path: join(root, 'src/gpu/fake.ts'), code: "const m = await import('../ops/rnn');\n" };
    expect(upwardImports([dynamic])).toHaveLength(1);
  });

  it('GPU buffers are created only in src/gpu/ (createStorageBuffer, the pool, programs, transfers)', () => {
    const outside = sources.filter((s) => layerOf(s.path) !== 'gpu' && /\.createBuffer\(/.test(s.code)).map((s) => rel(s.path));
    expect(outside).toEqual([]);
  });
});

describe('every shader file names its op, reference and test', () => {
  const kernels = readFileSync(join(root, 'src/gpu/kernels.ts'), 'utf8');
  const shaders = walk(join(root, 'shaders'), '.wgsl');
  const includes = new Set(shaders.flatMap((p) => [...readFileSync(p, 'utf8').matchAll(/^\/\/! include ([\w.-]+)\s*$/gm)].map((m) => m[1]!)));

  it.each(shaders.map((p) => [rel(p)]))('%s', (file) => {
    const code = readFileSync(join(root, file), 'utf8');
    const base = file.replace(/^shaders\//, '');
    if (base === 'prelude.wgsl') return; // in front of every module (src/gpu/shader.ts)
    const named = (key: string) => new RegExp(`^//! ${key}: (\\S+)\\s*$`, 'm').exec(code)?.[1];
    const op = named('op'), reference = named('reference'), test = named('test');
    expect(op, `${file}: a '//! op: src/…' line`).toBeTruthy();
    expect(reference, `${file}: a '//! reference: test/reference/…' line`).toBeTruthy();
    expect(test, `${file}: a '//! test: test/…' line`).toBeTruthy();
    for (const p of [op!, reference!, test!]) expect(existsSync(join(root, p)), `${file} names ${p}, which does not exist`).toBe(true);
    expect(kernels.includes(`shaders/${base}?raw`), `${file} is not registered in src/gpu/kernels.ts`).toBe(true);
    // A module root is compiled by name; a shared part is included by another file.
    const rootName = new RegExp(`(\\w+): file\\('${base.replace('.', '\\.')}'`).exec(kernels)?.[1];
    if (rootName) {
      const opDir = dirname(join(root, op!));
      const opFiles = [join(root, op!), ...importsOf(readFileSync(join(root, op!), 'utf8')).map((s) => resolve(opDir, `${s}.ts`))];
      const used = opFiles.some((p) => existsSync(p) && readFileSync(p, 'utf8').includes(`'${rootName}'`));
      expect(used, `${file} (module '${rootName}'): ${op} (or a module it imports) never names '${rootName}'`).toBe(true);
    } else {
      expect(includes.has(base), `${file} is neither a module root in src/gpu/kernels.ts nor included by another shader`).toBe(true);
    }
  });
});

/** Files allowed past ~500 lines: each is one idea that would read worse split. */
const LONG_FILES: Record<string, string> = {};

describe('file sizes', () => {
  it('no file in shaders/ or src/ is over 500 lines unless listed with its reason', () => {
    const all = [...walk(join(root, 'shaders'), '.wgsl'), ...sources.map((s) => s.path)];
    const long = all
      .map((p) => ({ file: rel(p), lines: readFileSync(p, 'utf8').split('\n').length }))
      .filter((f) => f.lines > 500 && !(f.file in LONG_FILES))
      .map((f) => `${f.file}: ${f.lines} lines`);
    expect(long).toEqual([]);
  });
});
