import { defineConfig } from '@playwright/test';

// Debian's Chromium with WebGPU on SwiftShader (no GPU on CI machines); Vite serves the pages
// on loopback. A page without WebGPU fails the tests (never skipped).
const port = 5179;
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
  webServer: {
    command: `npx vite --port ${port} --strictPort --logLevel warn`,
    url: `http://127.0.0.1:${port}/test/browser/harness.html`,
    reuseExistingServer: false,
    timeout: 120_000,
  },
});
