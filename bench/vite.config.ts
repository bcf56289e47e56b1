import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// Builds the benchmark page (bench/index.html: webgpu-rnn + tfjs-webgpu) into dist-cli/bench-page/,
// which the Node runner (dist-cli/bench.js) serves on loopback to Chromium. Run after the CLI build
// (vite.cli.config.ts empties dist-cli/).
const root = fileURLToPath(new URL('.', import.meta.url));
export default defineConfig({
  root,
  base: './',
  logLevel: 'warn',
  resolve: { alias: { wgsl_reflect: 'wgsl_reflect/wgsl_reflect.module.js' } },
  build: {
    outDir: fileURLToPath(new URL('../dist-cli/bench-page', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 8000,
    rollupOptions: { input: fileURLToPath(new URL('./index.html', import.meta.url)) },
  },
});
