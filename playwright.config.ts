import { defineConfig } from '@playwright/test';

// Debian's Chromium with WebGPU on SwiftShader (no GPU on CI machines); Vite serves the pages
// on loopback. A page without WebGPU fails the tests (never skipped).
const port = 5179;
const demoPort = 5180; // the built demo (vite preview of dist-demo/), opened by test/browser/demo.spec.ts
export default defineConfig({
  testDir: 'test/browser',
  testMatch: '**/*.spec.ts',
  timeout: 300_000,
  workers: 1,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--enable-unsafe-webgpu',
        '--no-sandbox',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: [
    {
      command: `npx vite --port ${port} --strictPort --logLevel warn`,
      url: `http://127.0.0.1:${port}/test/browser/harness.html`,
      reuseExistingServer: false,
      timeout: 120_000,
    },
    {
      // The BUILT demo (static site in dist-demo/), served like any static host would: demo.spec.ts.
      command: `npx vite build --config vite.demo.config.ts --logLevel warn && npx vite preview --config vite.demo.config.ts --port ${demoPort} --strictPort`,
      url: `http://127.0.0.1:${demoPort}/`,
      reuseExistingServer: false,
      timeout: 180_000,
    },
  ],
});
