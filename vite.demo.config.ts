import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

// The browser demo (demo/): `npm run demo` serves it with Vite's dev server; `npm run build:demo`
// writes a static site to dist-demo/ with relative URLs (base './'), so it works from any static
// host or sub-folder. Training runs in a module Worker, hence the ES worker format.
const root = fileURLToPath(new URL('./demo/', import.meta.url));

/**
 * The built demo's Content-Security-Policy: scripts, workers, styles and fetches only from the
 * page's own origin (no inline scripts or styles, no eval, no network elsewhere; uPlot draws on
 * canvases, the only image is the favicon file), nothing else at all. 'wasm-unsafe-eval' lets
 * the worker compile WebAssembly — h5wasm, the HDF5 library inside Keras `.keras` files, bundled
 * with the page — and nothing else (JavaScript eval stays forbidden). Written into
 * index.html as a <meta> (works on any static host) and sent as a header by `vite preview`, which
 * also covers the worker's script. The dev server gets neither: Vite's dev client injects styles.
 */
export const DEMO_CSP = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join('; ');

function contentSecurityPolicy(): Plugin {
  return {
    name: 'demo-csp',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      // right after <meta charset>, before any script or style it must govern
      handler: (html) => {
        const charset = /<meta charset="utf-8" \/>/;
        if (!charset.test(html)) throw new Error('demo-csp: <meta charset="utf-8" /> not found in index.html');
        return html.replace(charset, (m) => `${m}\n    <meta http-equiv="Content-Security-Policy" content="${DEMO_CSP}" />`);
      },
    },
  };
}

export default defineConfig({
  root,
  base: './',
  plugins: [contentSecurityPolicy()],
  resolve: {
    alias: { wgsl_reflect: 'wgsl_reflect/wgsl_reflect.module.js' },
  },
  worker: { format: 'es' },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 5180, headers: { 'Content-Security-Policy': DEMO_CSP } },
  build: {
    outDir: fileURLToPath(new URL('./dist-demo/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
});
