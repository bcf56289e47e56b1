import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { alias: { wgsl_reflect: 'wgsl_reflect/wgsl_reflect.module.js' } },
  test: {
    include: ['test/unit/**/*.test.ts', 'test/reference/**/*.test.ts', 'test/helpers/**/*.test.ts'],
    // Dawn on a software Vulkan driver: a few seconds per GPU test file, more for the RNN suites.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: run files two at a time (each fork gets its own Dawn instance).
    pool: 'forks',
    maxWorkers: 2,
  },
});
