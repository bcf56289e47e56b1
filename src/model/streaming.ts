/**
 * Streaming inference (predictStep / resetStates): a model advanced ONE time step at a time from
 * its recurrent layers' stored state, which stays on the GPU between calls (StatefulLayer in
 * src/layers/recurrent.ts); the step runs a 'step' plan of shape [B, 1, features].
 */
import type { Context } from '../gpu/context';
import { readback, upload } from '../gpu/io';
import { toHostTensor, type HostTensor, type TensorLike } from '../host';
import type { Layer, Shape } from '../layers/layer';
import { isStatefulLayer, type StatefulLayer } from '../layers/recurrent';
import type { Plan } from './plans';

/**
 * One time step x ([batch, features] or [batch, 1, features]) converted and checked against the
 * model's input shape `want` ([time, features]) when known; with its batch and feature counts.
 * `where` prefixes the errors (e.g. 'sequential.predictStep').
 */
export function stepInput(xIn: TensorLike, want: Shape | null, where: string): { x: HostTensor; B: number; F: number } {
  const x = toHostTensor(xIn, `${where}: x`);
  const F = x.shape.length === 3 && x.shape[1] === 1 ? x.shape[2]! : x.shape.length === 2 ? x.shape[1]! : -1;
  if (F < 0 || (want && (want.length !== 2 || (want[1] !== null && want[1] !== F)))) {
    throw new RangeError(`${where}: x must be one time step [batch, features]${want ? ` with features = ${want[want.length - 1]}` : ''} (or [batch, 1, features]), got [${x.shape.join(', ')}]`);
  }
  return { x, B: x.shape[0]!, F };
}

/** The layers that keep a recurrent state between calls; `carried`: only `stateful: true` ones (state kept across batches). */
export function statefulLayers(layers: readonly Layer[], carried = false): (Layer & StatefulLayer)[] {
  return layers.filter((l): l is Layer & StatefulLayer => isStatefulLayer(l) && (!carried || (l as { stateful?: boolean }).stateful === true));
}

/** Prepares every stateful layer's stored state for a step of `batch` rows (checks it, zeros at first). */
export function beginStep(layers: readonly Layer[], batch: number): void {
  for (const l of layers) if (isStatefulLayer(l)) l.beginStep(batch);
}

/** Runs a step plan on x and reads the outputs back, without their time axis when that is 1. */
export async function runStep(ctx: Context, plan: Plan, x: HostTensor): Promise<HostTensor[]> {
  const dev = ctx.device;
  upload(dev, plan.xs[0]!, x.data);
  const enc = dev.createCommandEncoder();
  plan.graph.encode(enc);
  dev.queue.submit([enc.finish()]);
  const data = await readback(dev, ...plan.outs);
  ctx.gpu.checkErrors();
  const B = x.shape[0]!;
  return plan.outs.map((o, i) => ({ data: Float32Array.from(data[i]!), shape: o.shape.length === 3 && o.shape[1] === 1 ? [B, o.shape[2]!] : [...o.shape] }));
}

/** Zeros the stored state of every stateful layer (Keras `model.reset_states()`). */
export function resetStates(layers: readonly Layer[]): void {
  for (const l of layers) if (isStatefulLayer(l)) l.resetStates();
}

/** Frees the layers' stored recurrent state and dropout RNG buffers. */
export function disposeStates(layers: readonly Layer[]): void {
  for (const l of layers) (l as { disposeState?: () => void }).disposeState?.();
}
