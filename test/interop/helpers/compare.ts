/**
 * Running one model here and in PyTorch (float64, through the Python peer) on the same weights and
 * data, and measuring the differences: outputs (absolute) and gradients (relative to the largest
 * PyTorch value of each tensor), gradients compared in PyTorch's layout by exporting ours the way
 * the weights are exported (bias_hh of LSTM / SimpleRNN, exported as zeros, has bias_ih's gradient).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as rnn from '../../../src/index';
import type { ModelArtifacts } from '../../../src/io/artifacts';
import { toTorchTensors } from '../../../src/io/pytorch';
import { modelToArtifacts } from '../../../src/model/serialize';
import type { JsonTensor, TorchPeer } from './peer';
import { randomArray } from '../../helpers/rng';

/** This test file's scratch folder (removed by removeTmp in afterAll). */
export const TMP = mkdtempSync(join(tmpdir(), 'webgpu-rnn-interop-'));
export const removeTmp = (): void => rmSync(TMP, { recursive: true, force: true });

export const hostOf = (data: ArrayLike<number>, shape: number[]): rnn.HostTensor => ({ data: Float32Array.from(data), shape });
export const json = (t: rnn.HostTensor): JsonTensor => ({ shape: [...t.shape], data: Array.from(t.data) });

/** Random weights (all of them, biases too, so a misplaced bias shows), seeded; variances positive. */
export async function randomizeWeights(model: rnn.Model, seed: number, scale = 0.6): Promise<void> {
  const ws = await model.getWeights();
  const names = model.weightNames;
  await model.setWeights(ws.map((w, i) => {
    const positive = names[i]!.endsWith('/moving_variance');
    return hostOf(randomArray(w.data.length, seed + 17 * i, positive ? 0.5 : -scale, positive ? 1.5 : scale), [...w.shape]);
  }));
}

/** A [B, T, F] batch with each row's steps from its length on set to `pad` (Keras padding at the end). */
export function padded(B: number, T: number, F: number, seed: number, lengths?: readonly number[], pad = 0): rnn.HostTensor {
  const x = Float32Array.from(randomArray(B * T * F, seed));
  lengths?.forEach((len, b) => x.fill(pad, (b * T + len) * F, (b + 1) * T * F));
  return { data: x, shape: [B, T, F] };
}

export interface Measured {
  outputs: number;
  grads: number;
  keys: string[];
}

/** Our artifacts with `weights` in place of the model's (same manifest). */
function withWeights(a: ModelArtifacts, weights: readonly rnn.HostTensor[]): ModelArtifacts {
  const total = weights.reduce((n, w) => n + w.data.length, 0);
  const data = new Float32Array(total);
  let at = 0;
  for (const w of weights) data.set(w.data, at), (at += w.data.length);
  return { json: a.json, weightData: data.buffer };
}

/**
 * Runs `model` (compiled with one 'mse' per output) here and in PyTorch on x → targets; returns the
 * largest differences. `lossMasks`: per output, the [B, T] Keras mask its loss is averaged over.
 */
export async function compareWithTorch(peer: TorchPeer, model: rnn.Model, xs: rnn.HostTensor[], targets: rnn.HostTensor[], tag: string, lossMasks?: (rnn.HostTensor | null)[]): Promise<Measured> {
  const artifacts = await modelToArtifacts(model, { includeOptimizer: false });
  const path = join(TMP, `${tag.replace(/[^\w]+/g, '_')}.safetensors`);
  writeFileSync(path, await rnn.io.toPyTorch(model));
  const x = xs.length === 1 ? xs[0]! : xs;
  const ours = await model.predictAll(x);
  const grads = await model.gradients(x, targets.length === 1 ? targets[0]! : targets);
  const torch = await peer.request<{ outputs: JsonTensor[]; grads: Record<string, JsonTensor>; keys: string[] }>('run', {
    path, inputs: xs.map(json), targets: targets.map(json), lossMasks: lossMasks?.map((m) => (m ? json(m) : null)) ?? null,
  });
  let outputs = 0;
  ours.forEach((o, i) => {
    const t = torch.outputs[i]!;
    if (t.shape.join() !== o.shape.join()) throw new Error(`${tag}: output ${i} is [${o.shape.join(', ')}] here, [${t.shape.join(', ')}] in PyTorch`);
    o.data.forEach((v, k) => (outputs = Math.max(outputs, Math.abs(v - t.data[k]!))));
  });
  const { params, tensors } = toTorchTensors(withWeights(artifacts, grads));
  let worst = 0;
  for (const p of params) {
    if (p.mode === 'count') continue;
    const mine = tensors.get(p.mode === 'add' ? p.key.replace('bias_hh', 'bias_ih') : p.key)!.data as Float32Array;
    const theirs = torch.grads[p.key];
    if (!theirs) throw new Error(`${tag}: PyTorch has no gradient for ${p.key}`);
    const scale = Math.max(...theirs.data.map(Math.abs), 1e-8); // a gradient that is all zeros counts absolutely
    let d = 0;
    mine.forEach((v, k) => (d = Math.max(d, Math.abs(v - theirs.data[k]!))));
    worst = Math.max(worst, d / scale);
  }
  return { outputs, grads: worst, keys: torch.keys };
}
