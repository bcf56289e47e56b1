/**
 * The Node side of the benchmark: our library on Dawn (the `webgpu` package, lavapipe on a
 * machine without a GPU) and — there is no tfjs-node-webgpu — tfjs-backend-webgpu running in Node
 * on a second Dawn instance exposed as `navigator.gpu` (a shim; tfjs only needs navigator.gpu
 * and the GPU* globals that our device module already installs).
 */
import { createRequire } from 'node:module';
import * as rnn from '../src/index';
import type { Environment, Tf } from './core';

const require = createRequire(import.meta.url);

// Keep the Dawn instance of the tfjs shim alive (a collected instance crashes the process later).
let shimInstance: unknown = null;

export interface NodeEnvironment extends Environment {
  gpu: rnn.Gpu;
  /** tfjs's own adapter info (its device is separate from ours). */
  tfAdapter?: Record<string, unknown>;
  versions: Record<string, string>;
}

function version(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function nodeEnvironment(withTfjs: boolean): Promise<NodeEnvironment> {
  // Ours first: it picks the Vulkan driver (VK_ICD_FILENAMES) that the shim's instance then uses too,
  // and it must see no navigator.gpu (it would take the browser path).
  const gpu = await rnn.getGpu();
  const versions: Record<string, string> = { node: process.version, webgpu: version('webgpu'), tfjs: version('@tensorflow/tfjs'), 'tfjs-backend-webgpu': version('@tensorflow/tfjs-backend-webgpu') };
  const env: NodeEnvironment = { gpu, tf: null, versions };
  if (!withTfjs) {
    env.tfUnavailable = 'tfjs in Node disabled (--no-tfjs-node)';
    return env;
  }
  try {
    const dawn = require('webgpu') as { create(flags: string[]): GPU };
    shimInstance ??= dawn.create([]);
    const nav = (globalThis as { navigator?: object }).navigator ?? {};
    Object.defineProperty(globalThis, 'navigator', { value: Object.assign(Object.create(nav), { gpu: shimInstance }), configurable: true, writable: true });
    const tf = require('@tensorflow/tfjs') as Tf;
    require('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') returned false");
    await tf.ready();
    env.tf = tf;
    const info = (tf.backend() as unknown as { adapterInfo?: Record<string, unknown> }).adapterInfo;
    if (info) env.tfAdapter = { ...info };
  } catch (e) {
    env.tfUnavailable = `tfjs-backend-webgpu on Dawn failed: ${(e as Error).message}`;
  }
  return env;
}
