#!/usr/bin/env node
// Packs what scripts/gpu-check.sh needs on a borrowed GPU machine that has no Node.js and no
// network (docs/performance.md, "GPU check"): run it here, then carry
// `.gpu` and `.gl` with the device call. Plain Node (no dependencies).
//
//   .gpu/node.xz          this machine's node binary (xz)
//   .gpu/payload.tar.xz   node_modules/ for the run — Dawn (webgpu, linux-x64 only), vitest and
//                         what it loads, wgsl_reflect, tfjs's Node bundles (the bench's tfjs side) —
//                         and dist-cli/ (bench.js and its chunks, built here from the working tree)
//   .gl/libvulkan1_*.deb  the Vulkan loader (the machine has the NVIDIA driver and its ICD only)
//
//   node scripts/gpu-pack.mjs [--no-tfjs] [--no-build]
// The carry limit of a device call is 64 MiB for the whole working tree; this prints the sizes and
// fails above 56 MiB for .gpu + .gl.
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, readdirSync, appendFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const sh = (cmd) => execSync(cmd, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 28 });
const log = (s) => console.error(`[gpu-pack] ${s}`);
const MiB = 1 << 20;

// ---- the package closure of a few entry packages (dependencies and optional dependencies that are installed)
function resolvePkg(name, from) {
  for (let dir = from; ; dir = dirname(dir)) {
    const p = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(p)) return dirname(p);
    if (dirname(dir) === dir) return null;
  }
}
function closure(names, skip = new Set()) {
  const seen = new Set();
  const visit = (name, from) => {
    if (skip.has(name)) return;
    const dir = resolvePkg(name, from);
    if (!dir || seen.has(dir)) return;
    seen.add(dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const d of Object.keys({ ...(pkg.dependencies ?? {}), ...(pkg.optionalDependencies ?? {}) })) visit(d, dir);
  };
  for (const n of names) visit(n, root);
  return [...seen].map((d) => relative(root, d));
}

const ignoreLine = (line) => {
  const f = join(root, '.git/info/exclude');
  if (existsSync(join(root, '.git')) && !(existsSync(f) && readFileSync(f, 'utf8').split('\n').includes(line))) appendFileSync(f, `${line}\n`);
};
ignoreLine('/.gpu/');
ignoreLine('/.gl/');

// ---- 1. the benchmark bundle, built into a folder of its own (npm start and npm run bench rebuild dist-cli/ at any time)
const bundle = '/tmp/gpu-pack-dist-cli';
if (!args.has('--no-build')) {
  log(`vite build --config vite.cli.config.ts --outDir ${bundle} (bench.js and the chunks it imports)`);
  rmSync(bundle, { recursive: true, force: true });
  sh(`node_modules/.bin/vite build --config vite.cli.config.ts --logLevel warn --outDir ${bundle} --emptyOutDir`);
}
if (!existsSync(join(bundle, 'bench.js'))) throw new Error(`${bundle}/bench.js is missing (drop --no-build)`);

rmSync(join(root, '.gpu'), { recursive: true, force: true });
mkdirSync(join(root, '.gpu'));

// ---- 2. node
const nodeBin = process.execPath;
log(`node ${process.version} (${nodeBin}) → .gpu/node.xz`);
sh(`xz -T2 -6 -c "${nodeBin}" > .gpu/node.xz`);

// ---- 3. node_modules for the run, and the bench bundle
const paths = [
  'node_modules/webgpu/package.json',
  'node_modules/webgpu/index.js',
  'node_modules/webgpu/dist/linux-x64',
  // vitest and what it loads (vite, rolldown's native binding, …) and the library's own runtime dependencies
  // (fflate, h5wasm, protobufjs: saving and loading); the Seattle data is not needed (those tests are left out there)
  ...closure(['vitest', 'wgsl_reflect', 'papaparse', ...Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).dependencies ?? {})], new Set(['vega-datasets'])),
];
if (!args.has('--no-tfjs')) {
  // tfjs-backend-webgpu in Node (bench/node.ts): each package's Node bundle and package.json, and their few runtime modules
  for (const p of ['tfjs', 'tfjs-core', 'tfjs-layers', 'tfjs-converter', 'tfjs-data', 'tfjs-backend-cpu', 'tfjs-backend-webgl', 'tfjs-backend-webgpu']) {
    const dir = `node_modules/@tensorflow/${p}`;
    const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
    paths.push(`${dir}/package.json`, `${dir}/${pkg.main}`);
  }
  paths.push(...closure(['seedrandom', 'long', 'node-fetch', 'string_decoder']));
}
const missing = paths.filter((p) => !existsSync(join(root, p)));
if (missing.length) throw new Error(`missing: ${missing.join(', ')}`);
log(`payload: ${paths.length} paths → .gpu/payload.tar.xz`);
// the bundle goes in as dist-cli/ (where gpu-check.sh runs it from)
sh(`tar -cf - ${paths.map((p) => `"${p}"`).join(' ')} -C ${bundle} --transform 's,^\\./,dist-cli/,' . | xz -T2 -6 > .gpu/payload.tar.xz`);

// ---- 4. the Vulkan loader (the GPU machine has the NVIDIA driver and its ICD, not libvulkan1)
if (!existsSync(join(root, '.gl')) || !readdirSync(join(root, '.gl')).some((f) => f.startsWith('libvulkan1_'))) {
  log('apt-get download libvulkan1 → .gl/');
  mkdirSync(join(root, '.gl'), { recursive: true });
  const lists = '/tmp/gpu-pack-apt';
  mkdirSync(join(lists, 'partial'), { recursive: true });
  const o = `-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=${lists}`;
  sh(`apt-get ${o} update >/dev/null && cd .gl && apt-get ${o} download libvulkan1 >/dev/null`);
}

// ---- sizes
const size = (p) => {
  const s = statSync(p);
  return s.isDirectory() ? readdirSync(p).reduce((n, f) => n + size(join(p, f)), 0) : s.size;
};
const total = size(join(root, '.gpu')) + size(join(root, '.gl'));
for (const f of readdirSync(join(root, '.gpu'))) log(`  .gpu/${f}: ${(size(join(root, '.gpu', f)) / MiB).toFixed(1)} MiB`);
log(`  .gl: ${(size(join(root, '.gl')) / MiB).toFixed(2)} MiB; in all ${(total / MiB).toFixed(1)} MiB (carry: [".gpu", ".gl"])`);
if (total > 56 * MiB) throw new Error(`.gpu + .gl are ${(total / MiB).toFixed(1)} MiB: over 56 MiB the working tree will not fit the 64 MiB carry (try --no-tfjs)`);
