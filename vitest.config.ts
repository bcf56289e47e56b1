import { defineConfig } from 'vitest/config';

// Dawn prints two harmless lines when it opens lavapipe ("Warning: maxDynamic{Uniform,Storage}
// BuffersPerPipelineLayout artificially reduced from 1000000 to 16 …": lavapipe reports a million
// dynamic buffers per pipeline layout, Dawn clamps every adapter to 16, and this library uses none).
// In a process whose stderr is a terminal, pipe or file, src/gpu/device.ts keeps them off stderr
// (see withoutNativeStderr there). Vitest's forks write to a socket, which that cannot reopen, so
// the lines reach this process through the fork's stderr pipe; they are dropped here, line by line,
// and everything else passes through unchanged.
const DAWN_CLAMP = /^Warning: maxDynamic(?:Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\r?\n/gm;
const write = process.stderr.write.bind(process.stderr) as (chunk: unknown, ...rest: unknown[]) => boolean;
process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
  const text = typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : null;
  if (text === null || !text.includes('artificially reduced')) return write(chunk, ...rest);
  const kept = text.replace(DAWN_CLAMP, '');
  if (kept) return write(kept, ...rest);
  const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
  done?.();
  return true;
}) as typeof process.stderr.write;

export default defineConfig({
  resolve: { alias: { wgsl_reflect: 'wgsl_reflect/wgsl_reflect.module.js' } },
  test: {
    include: ['test/unit/**/*.test.ts', 'test/reference/**/*.test.ts', 'test/helpers/**/*.test.ts', 'test/consumer/**/*.test.ts', 'test/io/**/*.test.ts', 'test/interop/**/*.test.ts'],
    // Dawn on a software Vulkan driver: a few seconds per GPU test file, more for the RNN suites.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: run files two at a time (each fork gets its own Dawn instance).
    pool: 'forks',
    maxWorkers: 2,
  },
});
