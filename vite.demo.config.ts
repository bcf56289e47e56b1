import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The browser demo (demo/): `npm run demo` serves it with Vite's dev server; `npm run build:demo`
// writes a static site to dist-demo/ with relative URLs (base './'), so it works from any static
// host or sub-folder. Training runs in a module Worker, hence the ES worker format.
const root = fileURLToPath(new URL('./demo/', import.meta.url));
export default defineConfig({
  root,
  base: './',
  resolve: {
    alias: { wgsl_reflect: 'wgsl_reflect/wgsl_reflect.module.js' },
  },
  worker: { format: 'es' },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 5180 },
  build: {
    outDir: fileURLToPath(new URL('./dist-demo/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
});
