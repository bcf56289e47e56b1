/**
 * The browser page of `npm run bench` (built by bench/vite.config.ts, served on loopback and driven
 * by the Node runner through Playwright): webgpu-rnn and TensorFlow.js 4.22 with
 * tfjs-backend-webgpu train in the SAME page on the same WebGPU adapter, alternating.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import * as rnn from '../src/index';
import { CONFIGS } from './configs';
import { DEFAULT_OPTIONS, runConfig, type Environment, type RunOptions } from './core';

let env: Environment | null = null;

async function init() {
  const gpu = await rnn.getGpu();
  let tfUnavailable: string | undefined;
  try {
    if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') returned false");
    await tf.ready();
  } catch (e) {
    tfUnavailable = `tfjs webgpu backend unavailable: ${(e as Error).message}`;
  }
  env = tfUnavailable ? { tf: null, tfUnavailable } : { tf };
  const tfInfo = tfUnavailable ? undefined : (tf.backend() as unknown as { adapterInfo?: Record<string, unknown> }).adapterInfo;
  return {
    adapter: { ...gpu.info, features: [...gpu.adapter.features].sort() },
    deviceHasTimestampQuery: gpu.device.features.has('timestamp-query'),
    tfAdapter: tfInfo ? { ...tfInfo } : null,
    tfBackend: tfUnavailable ? null : tf.getBackend(),
    tfUnavailable: tfUnavailable ?? null,
    userAgent: navigator.userAgent,
  };
}

async function run(id: string, opts: Partial<RunOptions>) {
  if (!env) throw new Error('bench.init() first');
  const cfg = CONFIGS.find((c) => c.id === id);
  if (!cfg) throw new Error(`unknown config ${id}`);
  return runConfig(cfg, env, { ...DEFAULT_OPTIONS, ...opts }, (line) => console.log(`[bench] ${line}`));
}

Object.assign(window, { bench: { init, run } });
document.getElementById('status')!.textContent = 'ready';
