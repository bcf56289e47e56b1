import { defineConfig } from 'vite';

// Library build (`npm run build` -> dist/webgpu-rnn.js, ESM) and the dev server used by the demo
// and the Playwright tests (root = repo, so /demo/ and /test/browser/ pages are served).
export default defineConfig({
  resolve: { alias: { wgsl_reflect: 'wgsl_reflect/wgsl_reflect.module.js' } },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    lib: { entry: 'src/index.ts', formats: ['es'], fileName: () => 'webgpu-rnn.js' },
    rollupOptions: { external: ['webgpu', /^node:/] },
  },
});
