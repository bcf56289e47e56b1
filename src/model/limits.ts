/**
 * Device limits, checked up front (issue 16): before a model's weights are made, before its
 * optimizer binds them, and before a plan allocates a batch's tensors, the buffers they need are
 * computed from the shapes alone and compared with the device's limits. What does not fit is
 * refused with a message naming the limit, the tensor and what to change — the batch size, the
 * sequence length or the units — instead of a raw GPU validation error, an "Invalid typed array
 * length", or a half-built model. Host only: nothing here touches the GPU.
 */
import type { Layer, Shape } from '../layers/layer';
import type { LayerWeight } from './weights';
import type { Topology } from './topology';

/** The limits these checks use (a GPUDevice's `limits` has them). */
export interface BufferLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
}

/** Bytes as MiB / GiB for messages. */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${+(bytes / 2 ** 30).toPrecision(3)} GiB`;
  if (bytes >= 2 ** 20) return `${+(bytes / 2 ** 20).toPrecision(3)} MiB`;
  return `${bytes} bytes`;
}

const dims = (s: readonly number[]) => `[${s.join(', ')}]`;
const bytesOf = (shape: readonly number[]) => 4 * shape.reduce((a, b) => a * b, 1);

/**
 * Every weight must fit one storage binding (a layer binds each of its weights), and all of them
 * one buffer (the parameter arena); checked before any weight is initialised or uploaded.
 */
export function checkWeightLimits(weights: readonly LayerWeight[], lim: BufferLimits, where: string): void {
  let total = 0;
  for (const { layer, spec } of weights) {
    const bytes = bytesOf(spec.shape);
    total += bytes;
    if (bytes > lim.maxStorageBufferBindingSize) {
      throw new RangeError(
        `${where}: the weight ${layer.name}/${spec.name} ${dims(spec.shape)} is ${formatBytes(bytes)}, over this device's maxStorageBufferBindingSize ` +
          `(${formatBytes(lim.maxStorageBufferBindingSize)}); every weight is bound on its own, so use fewer units in ${layer.name} (the batch size and sequence length do not matter here)`,
      );
    }
  }
  if (total > lim.maxBufferSize) {
    throw new RangeError(`${where}: the model's weights are ${formatBytes(total)} in all, over this device's maxBufferSize (${formatBytes(lim.maxBufferSize)}) for the weight buffer; use fewer or smaller layers`);
  }
}

/**
 * Training binds all weights (and their gradients) at once — the optimizer's update is one
 * dispatch over the arena — so they must fit one storage binding together.
 */
export function checkTrainingLimits(arenaBytes: number, lim: BufferLimits, where: string): void {
  if (arenaBytes > lim.maxStorageBufferBindingSize) {
    throw new RangeError(
      `${where}: training binds all ${formatBytes(arenaBytes)} of weights at once (one optimizer update over every weight), over this device's ` +
        `maxStorageBufferBindingSize (${formatBytes(lim.maxStorageBufferBindingSize)}); use fewer units (inference with these weights works)`,
    );
  }
}

/** One tensor a batch needs: its name and its shape with the batch dimension. */
interface BatchTensor {
  name: string;
  shape: number[];
  /** Its size grows with the sequence length (it has a time axis). */
  timed: boolean;
}

/** The largest per-batch tensors of one layer call: its outputs, and a recurrent layer's gates for every step. */
function layerTensors(layer: Layer, inputs: readonly Shape[], outputs: readonly Shape[], batch: number): BatchTensor[] {
  const out: BatchTensor[] = outputs.map((s, i) => ({ name: `${layer.name}'s output${outputs.length > 1 ? ` ${i}` : ''}`, shape: [batch, ...s.map((d) => d ?? 1)], timed: s.length >= 2 }));
  const input = inputs[0];
  const T = input?.[0];
  if (input && input.length === 2 && typeof T === 'number') {
    let gates = 0;
    try {
      for (const w of layer.weightSpecs(input)) if (/recurrent_kernel$/.test(w.name) && w.shape.length === 2) gates = Math.max(gates, w.shape[1]!);
    } catch {
      gates = 0; // a layer that cannot say its weights here: its outputs are still counted
    }
    if (gates) out.push({ name: `${layer.name}'s gates at every step`, shape: [batch, T, gates], timed: true });
  }
  return out;
}

/**
 * Every per-batch tensor of a plan for inputs of shapes `xShapes` (with batch) fits one storage
 * binding: the inputs, every layer's outputs and recurrent gates (the backward pass's gradients
 * have the same shapes). Refuses, before any GPU work, naming the largest tensor that does not fit
 * and the batch size that would.
 */
export function checkBatchLimits(topo: Topology, xShapes: readonly (readonly number[])[], lim: BufferLimits, where: string): void {
  const batch = xShapes[0]![0]!;
  const shapes = topo.inferShapes(xShapes.map((s) => s.slice(1)));
  const tensors: BatchTensor[] = xShapes.map((s, i) => ({ name: `input ${topo.inputNames[i] ?? i}`, shape: [...s], timed: s.length >= 3 }));
  for (const n of topo.nodes) {
    if (!n.inputs.length) continue;
    tensors.push(...layerTensors(n.layer, n.inputs.map((t) => shapes.get(t)!), n.outputs.map((t) => shapes.get(t)!), batch));
  }
  const max = lim.maxStorageBufferBindingSize;
  const worst = tensors.reduce((a, b) => (bytesOf(b.shape) > bytesOf(a.shape) ? b : a));
  const bytes = bytesOf(worst.shape);
  if (bytes <= max) return;
  const rows = Math.floor(max / (bytes / batch));
  const fix = rows >= 1
    ? `use batchSize ${rows} or less${worst.timed ? ', or shorter sequences' : ''}`
    : worst.timed
      ? `even one row is too big: use shorter sequences (split them into windows) or fewer units`
      : `even one row is too big: use fewer units`;
  throw new RangeError(`${where}: ${worst.name} for a batch of ${batch} is ${dims(worst.shape)}, ${formatBytes(bytes)}, over this device's maxStorageBufferBindingSize (${formatBytes(max)}); ${fix}`);
}
