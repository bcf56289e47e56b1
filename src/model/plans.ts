/**
 * Plans: one prebuilt step per (mode, batch shape). A plan's Graph holds the forward pass (the
 * model's topology, given as a ForwardFn; stackForward for layers in a row), the loss and metrics summed into the Totals buffer,
 * and, for training, the tape's backward pass into the parameter arena's gradients. Every bind
 * group and uniform is created at build time, so running a plan is upload + encode + submit.
 * PlanCache keeps the MAX_PLANS most recently used plans; their buffers come from the pool.
 */
import type { Context } from '../gpu/context';
import type { ParamArena, Variable } from '../gpu/arena';
import { createStorageBuffer } from '../gpu/pool';
import { readback } from '../gpu/io';
import { Graph } from '../autograd/tape';
import { Tensor } from '../tensor';
import type { Layer, Shape } from '../layers/layer';
import { mse, accumulateScalar } from '../ops/loss';
import { lossWindow, type CompiledConfig } from './compile';
import type { MetricName } from './types';

/** train: forward + loss + backward; eval: forward + loss; predict: forward; step: one stateful time step. */
export type PlanMode = 'train' | 'eval' | 'predict' | 'step';

/** A built step: its graph, input / target / output tensors, and the batch size it was built for. */
export interface Plan {
  key: string;
  mode: PlanMode;
  batch: number;
  graph: Graph;
  x: Tensor;
  y: Tensor | null;
  out: Tensor;
}

/** The model's topology: records the forward pass from input `x` into `graph`; returns the output. */
export type ForwardFn = (graph: Graph, x: Tensor) => Promise<Tensor>;

/**
 * The forward pass of `layers` in a row (a Sequential's topology): each layer gets its weights,
 * the next slice of `vars` (arena order); per-step layers pass the mask on. `shapesFor(input)`
 * gives every layer's input shape for the model's input shape.
 */
export function stackForward(layers: readonly Layer[], vars: readonly Variable[], shapesFor: (input: Shape) => Shape[]): ForwardFn {
  return async (graph, x) => {
    const shapes = shapesFor(x.shape.slice(1));
    let h = x;
    let vi = 0;
    for (let li = 0; li < layers.length; li++) {
      const layer = layers[li]!;
      const n = layer.weightSpecs(shapes[li]!).length;
      const hIn = h;
      h = await layer.call(graph, h, vars.slice(vi, vi + n).map((v) => v.value));
      vi += n;
      // Keras mask propagation: per-step layers (same [B, T] leading dims) pass the mask on.
      if (hIn.mask && !h.mask && h.shape.length === 3 && h.shape[0] === hIn.shape[0] && h.shape[1] === hIn.shape[1]) h.mask = hIn.mask;
    }
    return h;
  };
}

/** How a model hands out its (cached) plans to the training and inference loops. */
export type PlanFor = (mode: PlanMode, xShape: readonly number[], yShape: readonly number[] | null) => Promise<Plan>;

/** Slot of the summed loss in Totals; metric i is summed in slot 1 + i. */
export const LOSS_SLOT = 0;
/** Plans a model keeps (a partial last batch and validation take their own). */
export const MAX_PLANS = 6;

/** The cache key of a plan. */
export function planKey(mode: PlanMode, xShape: readonly number[], yShape: readonly number[] | null): string {
  return `${mode}:${xShape.join('x')}:${yShape?.join('x') ?? ''}`;
}

/**
 * The GPU sums of the loss and metrics (16 float32 slots, each weighted by batch rows) that eval
 * and train plans accumulate into; cleared and read back by the loops (once per epoch in fit).
 */
export class Totals {
  readonly tensor: Tensor;
  private readonly buffer: GPUBuffer;

  constructor(private readonly ctx: Context) {
    this.buffer = createStorageBuffer(ctx.device, 64, 'totals');
    this.tensor = new Tensor(this.buffer, [16], 0, false, 'totals');
  }

  /** Zeros the sums (a queue.writeBuffer, ordered before the next submit). */
  clear(): void {
    this.ctx.device.queue.writeBuffer(this.buffer, 0, new Float32Array(16));
  }

  /** Reads the first `n` sums back (one sync) and reports any GPU error. */
  async read(n: number): Promise<Float32Array> {
    const [t] = await readback(this.ctx.device, this.tensor);
    this.ctx.gpu.checkErrors();
    return t!.slice(0, n);
  }

  destroy(): void {
    this.buffer.destroy();
  }
}

/** What buildPlan needs: the device, the weights, the topology, the compiled loss and metrics. */
export interface PlanRequest {
  ctx: Context;
  arena: ParamArena;
  mode: PlanMode;
  xShape: readonly number[];
  /** Targets' shape; null for predict and step plans. */
  yShape: readonly number[] | null;
  forward: ForwardFn;
  /** Required for train and eval plans (the loss and the metrics). */
  compiled: CompiledConfig | null;
  totals: Totals;
  /** Names the model in errors. */
  name: string;
}

/**
 * Builds a plan: the input (and target) tensors, the forward pass, then, with targets, the loss
 * and metrics summed into `totals` and (train) the backward pass. Parameter gradients are the
 * arena's. On failure the graph is disposed and the error rethrown.
 */
export async function buildPlan(req: PlanRequest): Promise<Plan> {
  const { ctx, arena, mode, xShape, yShape, totals, name } = req;
  const graph = new Graph(ctx, mode === 'train');
  graph.statefulStep = mode === 'step'; // predictStep: recurrent layers use their stored state
  try {
    const x = graph.alloc(xShape, 'x');
    const y = yShape ? graph.alloc(yShape, 'y') : null;
    // (inference graphs record no tape, so the weights' requiresGrad flag is ignored there)
    if (mode === 'train') for (const v of arena.vars) graph.setGrad(v.value, v.grad);
    const out = await req.forward(graph, x);
    if (y && mode !== 'predict') {
      const compiled = req.compiled;
      if (!compiled) throw new Error(`${name}: call compile({optimizer, loss}) first`);
      const batch = xShape[0]!;
      const loss = await mse(graph, out, y, lossWindow(compiled.loss, out.shape, name));
      await accumulateScalar(graph, loss, totals.tensor, LOSS_SLOT, batch);
      for (const [i, m] of compiled.metrics.entries()) {
        const metric = m === 'mse' ? loss : await metricTensor(graph, m, out, y, name);
        await accumulateScalar(graph, metric, totals.tensor, 1 + i, batch);
      }
      if (mode === 'train') await graph.backward(loss);
    }
    return { key: planKey(mode, xShape, yShape), mode, batch: xShape[0]!, graph, x, y, out };
  } catch (e) {
    graph.dispose();
    throw e;
  }
}

/** A metric other than 'mse' (which is the loss itself), recorded without gradient. */
async function metricTensor(g: Graph, m: MetricName, out: Tensor, y: Tensor, name: string): Promise<Tensor> {
  if (m === 'lastTimeStepMse') {
    if (out.shape.length !== 3) throw new Error(`${name}: lastTimeStepMse needs [batch, time, features] outputs, got [${out.shape.join(', ')}]`);
    // metrics are not differentiated: compute on aliases without gradient
    const T = out.shape[1]!;
    const noGrad = (t: Tensor) => new Tensor(t.buffer, t.shape, t.byteOffset, false, t.name);
    return mse(g, noGrad(out), noGrad(y), [T - 1, T]);
  }
  throw new Error(`unsupported metric ${m}`);
}

/** Least-recently-used cache of plans; evicted and disposed plans return their buffers to the pool. */
export class PlanCache {
  private plans = new Map<string, Plan>();

  constructor(readonly maxPlans = MAX_PLANS) {}

  /** The plan cached under `key` (now the most recent), else `build()`'s, cached. */
  async get(key: string, build: () => Promise<Plan>): Promise<Plan> {
    const hit = this.plans.get(key);
    if (hit) {
      this.plans.delete(key); // LRU: re-insert as newest
      this.plans.set(key, hit);
      return hit;
    }
    const plan = await build();
    this.plans.set(key, plan);
    while (this.plans.size > this.maxPlans) {
      const oldest = this.plans.keys().next().value as string;
      this.plans.get(oldest)!.graph.dispose();
      this.plans.delete(oldest);
    }
    return plan;
  }

  /** Disposes the plans of one mode (e.g. 'train' when the optimizer changes), or all. */
  dispose(mode?: PlanMode): void {
    for (const [k, p] of this.plans) {
      if (mode && p.mode !== mode) continue;
      p.graph.dispose();
      this.plans.delete(k);
    }
  }
}
