#!/usr/bin/env node
// The package's type declarations as ONE file, dist/webgpu-rnn.d.ts (part of `npm run build`):
//   1. tsc emits a .d.ts per source file (tsconfig.build.json) into dist/.types/;
//   2. rollup-plugin-dts bundles them from src/index.ts's, so the package has no relative imports
//      in its declarations (they type-check under moduleResolution NodeNext / Node16 / bundler,
//      where emitted extensionless relative imports would not) and no internal file layout;
//   3. the host environment's types that the API mentions (GPUDevice, Worker, AbortSignal, …) are
//      declared as empty global interfaces in front: with the DOM library (TypeScript 7's has
//      WebGPU; with older ones add @webgpu/types) they merge with the real definitions, in a Node project without them they stay
//      opaque, so the declarations check with skipLibCheck: false either way;
//   4. dist/worker.d.ts for the `webgpu-rnn/worker` entry (a script: no exports).
// Any other global the declarations need fails the build (checked against a program that has
// neither the DOM library nor any @types).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rollup } from 'rollup';
import { dts } from 'rollup-plugin-dts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const emitted = join(dist, '.types');
const out = join(dist, 'webgpu-rnn.d.ts');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

// Host types the public API may mention, as they are declared by lib.dom / @webgpu/types / @types/node.
const HOST_TYPES = {
  AbortSignal: 'interface AbortSignal {}',
  ReadableStream: 'interface ReadableStream<R = any> {}',
  Worker: 'interface Worker {}',
  URL: 'interface URL {}',
  Blob: 'interface Blob {}',
  FileList: 'interface FileList {}',
  RequestInit: 'interface RequestInit {}',
};
const isWebGpu = (name) => /^GPU[A-Z]\w*$/.test(name);

rmSync(emitted, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', emitted], { stdio: 'inherit', cwd: root });

// the package's runtime dependencies stay imports in the declarations too (as in the JS bundle)
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const runtimeDeps = Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies });
const external = (id) => id.startsWith('node:') || runtimeDeps.some((d) => id === d || id.startsWith(`${d}/`));

const warnings = [];
const bundle = await rollup({
  input: join(emitted, 'index.d.ts'),
  plugins: [dts()],
  external,
  onwarn: (w) => warnings.push(w),
});
const { output } = await bundle.generate({ format: 'es' });
await bundle.close();
const unexpected = warnings.filter((w) => !(w.code === 'UNRESOLVED_IMPORT' && external(w.exporter ?? w.source ?? '')));
if (unexpected.length) throw new Error(`build-types: rollup-plugin-dts warnings:\n${unexpected.map((w) => w.message).join('\n')}`);
const body = output[0].code;
if (/from '\.|from "\./.test(body)) throw new Error('build-types: a relative import is left in the bundled declarations');

/** Names the bundle uses but does not declare, found by checking it without DOM and @types. */
function missingGlobals(code) {
  const dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-types-'));
  try {
    writeFileSync(join(dir, 'index.d.ts'), code);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { lib: ['ES2023'], types: [], strict: true, noEmit: true, skipLibCheck: false, module: 'NodeNext', moduleResolution: 'NodeNext' }, files: ['index.d.ts'] }));
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    let text = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      text = `${e.stdout ?? ''}${e.stderr ?? ''}`;
    }
    const names = new Set();
    const other = [];
    for (const line of text.split('\n').filter((l) => /error TS/.test(l))) {
      const m = /error TS2(?:304|552): Cannot find name '(\w+)'/.exec(line);
      if (m) names.add(m[1]);
      else other.push(line);
    }
    return { names: [...names].sort(), other };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { names, other } = missingGlobals(body);
const unknown = names.filter((n) => !isWebGpu(n) && !(n in HOST_TYPES));
if (other.length || unknown.length) {
  throw new Error(`build-types: the bundled declarations do not check on their own:\n${[...other, ...unknown.map((n) => `undeclared global '${n}' (add it to HOST_TYPES in scripts/build-types.mjs if it is a host type)`)].join('\n')}`);
}
const header = `/**
 * webgpu-rnn: type declarations (one file, generated by scripts/build-types.mjs).
 *
 * The host types below are the ones the API mentions. With the DOM library (TypeScript 7's
 * includes WebGPU; before it, add @webgpu/types) they merge with the full WebGPU and DOM
 * definitions; without them (a Node project) they are opaque.
 */
declare global {
${names.map((n) => `  ${HOST_TYPES[n] ?? `interface ${n} {}`}`).join('\n')}
}
`;
const final = `${header}${body}`;
const recheck = missingGlobals(final);
if (recheck.names.length || recheck.other.length) throw new Error(`build-types: still failing:\n${[...recheck.names, ...recheck.other].join('\n')}`);

mkdirSync(dist, { recursive: true });
writeFileSync(out, final);
writeFileSync(join(dist, 'worker.d.ts'), "// webgpu-rnn/worker: the library's training worker script (rnn.worker.create() without a URL); it exports nothing.\nexport {};\n");
rmSync(emitted, { recursive: true, force: true });
console.error(`[build-types] ${out}: ${readFileSync(out, 'utf8').split('\n').length} lines; host types: ${names.join(', ')}`);
