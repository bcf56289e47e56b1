import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin } from 'vite';

// The package's runtime dependencies are imported, not bundled (the app's bundler or Node
// resolves them, once, in the versions package.json allows): everything in dependencies,
// optionalDependencies and peerDependencies, with their subpaths, and Node's built-ins.
const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as Record<string, Record<string, string> | undefined>;
const runtimeDeps = Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies });
const external = (id: string) => id.startsWith('node:') || runtimeDeps.some((d) => id === d || id.startsWith(`${d}/`));

/**
 * `rnn.worker.create()` starts `new Worker(new URL('./entry.ts', import.meta.url), {type:
 * 'module'})` (src/worker/client.ts): Vite's dev server serves that module as is. In the library
 * build the call must stay that pattern, pointing at dist/worker.js, so that the bundler of the
 * app that installs the package (Vite, webpack 5, Parcel) finds the worker and bundles it with
 * the library; Vite's own worker handling would instead inline a classic copy of the library
 * under an absolute /assets/ path. So the URL is hidden from it here and written back into the
 * output chunk.
 */
function libraryWorkerUrl(): Plugin {
  const marker = '__WEBGPU_RNN_WORKER_URL__';
  return {
    name: 'webgpu-rnn:library-worker-url',
    apply: 'build',
    enforce: 'pre',
    transform(code, id) {
      if (!id.endsWith('/src/worker/client.ts')) return null;
      const pattern = "new URL('./entry.ts', import.meta.url)";
      if (!code.includes(pattern)) this.error(`${id}: the default worker URL (${pattern}) is gone; update vite.config.ts`);
      return { code: code.replace(pattern, `globalThis.${marker}`), map: null };
    },
    renderChunk(code) {
      const hidden = new RegExp(`globalThis\\.${marker}`, 'g');
      if (!hidden.test(code)) return null;
      return { code: code.replace(hidden, "new URL('./worker.js', import.meta.url)"), map: null };
    },
    generateBundle() {
      // dist/worker.js: src/worker/entry.ts against the built library (one entry, no shared chunk)
      const source = "// The library's own training worker script: what rnn.worker.create() starts without a URL.\nimport { worker } from './webgpu-rnn.js';\n\nworker.serve();\n";
      this.emitFile({ type: 'asset', fileName: 'worker.js', source });
    },
  };
}

// Library build (`npm run build` -> dist/webgpu-rnn.js + dist/worker.js, ESM; the declarations: scripts/build-types.mjs) and the dev server
// used by the demo and the Playwright tests (root = repo, so /demo/ and /test/browser/ pages are served).
export default defineConfig({
  resolve: { alias: { wgsl_reflect: 'wgsl_reflect/wgsl_reflect.module.js' } },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
  plugins: [libraryWorkerUrl()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    lib: { entry: 'src/index.ts', formats: ['es'], fileName: () => 'webgpu-rnn.js' },
    rollupOptions: { external },
  },
});
