import { defineConfig } from 'vite';

// Bundles the Node command-line jobs (npm start, npm run bench, …) into dist-cli/*.js.
// Dawn (`webgpu`) stays external: it is a native module loaded at run time.
export default defineConfig({
  resolve: { alias: { wgsl_reflect: 'wgsl_reflect/wgsl_reflect.module.js' } },
  ssr: { noExternal: true, external: ['webgpu'] },
  build: {
    ssr: true,
    outDir: 'dist-cli',
    emptyOutDir: true,
    target: 'node20',
    sourcemap: true,
    rollupOptions: {
      input: { chapter: 'scripts/chapter.ts', weather: 'scripts/weather.ts', bench: 'scripts/bench.ts', fuzz: 'scripts/fuzz.ts', soak: 'scripts/soak.ts' },
      output: { entryFileNames: '[name].js', format: 'es' },
    },
  },
});
