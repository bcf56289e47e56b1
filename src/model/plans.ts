/**
 * Plans: one prebuilt step per (mode, batch shapes). A plan's Graph holds the forward pass (the
 * model's topology, given as a ForwardFn), each output's loss and the compiled metrics summed
 * into a Totals buffer, and, for training, the tape's backward pass into the parameter arena's
 * gradients. Every bind group and uniform is created at build time, so running a plan is
 * upload + encode + submit. PlanCache keeps the most recently used plans; buffers come from the pool.
 */
import type { Context } from '../gpu/context';
import type { Variable } from '../gpu/arena';
import { createStorageBuffer } from '../gpu/pool';
import { readback } from '../gpu/io';
import { Graph } from '../autograd/tape';
import { Tensor } from '../tensor';
import { regressionLoss, accumulateScalar, accumulateMetric, noGrad, type LossResult } from '../ops/loss';
import { scale, add } from '../ops/elementwise';
import { LOSS_SLOT, lossWindow, type CompiledConfig, type MetricSlot } from './compile';

/** train: forward + loss + backward; eval: forward + loss; predict: forward; step: one stateful time step. */
export type PlanMode = 'train' | 'eval' | 'predict' | 'step';

/** A built step: its graph, input / target / weight / output tensors, and its batch size. */
export interface Plan {
  key: string;
  mode: PlanMode;
  batch: number;
  graph: Graph;
  xs: Tensor[];
  ys: Tensor[];
  /** [B] row weights, when the plan was built for sample weights. */
  sampleWeight: Tensor | null;
  outs: Tensor[];
}

/** The model's topology: records the forward pass from the input tensors into `graph`; returns the outputs. */
export type ForwardFn = (graph: Graph, xs: readonly Tensor[]) => Promise<Tensor[]>;

/** What a plan is built for: mode, every input's and target's shape (with batch), sample weights. */
export interface PlanShape {
  mode: PlanMode;
  xShapes: readonly (readonly number[])[];
  /** Targets' shapes; empty for predict and step plans. */
  yShapes: readonly (readonly number[])[];
  sampleWeight: boolean;
}

/** How a model hands out its (cached) plans to the training and inference loops. */
export type PlanFor = (shape: PlanShape) => Promise<Plan>;

/** Plans a model keeps (a partial last batch and validation take their own). */
export const MAX_PLANS = 6;

/** The cache key of a plan. */
export function planKey(s: PlanShape): string {
  const dims = (l: readonly (readonly number[])[]) => l.map((d) => d.join('x')).join(',');
  return `${s.mode}:${dims(s.xShapes)}:${dims(s.yShapes)}:${s.sampleWeight ? 'w' : ''}`;
}

/**
 * The GPU sums of the loss and metrics that eval and train plans accumulate into (the layout is
 * compile's: slot 0 the total loss weighted by batch rows, then per-output losses and metrics'
 * Σ w·l, Σ w pairs); cleared and read back by the loops (once per epoch in fit).
 */
export class Totals {
  readonly tensor: Tensor;
  private readonly buffer: GPUBuffer;

  constructor(private readonly ctx: Context, readonly slots = 16) {
    this.buffer = createStorageBuffer(ctx.device, 4 * slots, 'totals');
    this.tensor = new Tensor(this.buffer, [slots], 0, false, 'totals');
  }

  /** Zeros the sums (a queue.writeBuffer, ordered before the next submit). */
  clear(): void {
    this.ctx.device.queue.writeBuffer(this.buffer, 0, new Float32Array(this.slots));
  }

  /** Sets the sums (a resumed fit's running sums; ordered before the next submit). */
  write(data: Float32Array): void {
    this.ctx.device.queue.writeBuffer(this.buffer, 0, data.buffer, data.byteOffset, Math.min(data.byteLength, 4 * this.slots));
  }

  /** Reads the sums back (one sync) and reports any GPU error. */
  async read(): Promise<Float32Array> {
    const [t] = await readback(this.ctx.device, this.tensor);
    this.ctx.gpu.checkErrors();
    return Float32Array.from(t!);
  }

  destroy(): void {
    this.buffer.destroy();
  }
}

/** What buildPlan needs: the device, the trained variables, the topology, the compiled losses. */
export interface PlanRequest {
  ctx: Context;
  shape: PlanShape;
  /** Variables whose gradients train plans compute (the trainable ones), each into the arena's gradients. */
  trained: readonly Variable[];
  forward: ForwardFn;
  /** Required for train and eval plans. */
  compiled: CompiledConfig | null;
  totals: Totals;
  /** Names the model in errors. */
  name: string;
}

/**
 * Builds a plan: the input (and target) tensors, the forward pass, then, with targets, every
 * output's loss (the total weighted by lossWeights) and the metrics summed into `totals`, and
 * (train) the backward pass. On failure the graph is disposed and the error rethrown.
 */
export async function buildPlan(req: PlanRequest): Promise<Plan> {
  const { ctx, shape, totals, name } = req;
  const { mode } = shape;
  const graph = new Graph(ctx, mode === 'train');
  graph.statefulStep = mode === 'step'; // predictStep: recurrent layers use their stored state
  try {
    const xs = shape.xShapes.map((s, i) => graph.alloc(s, `x${i}`));
    const ys = shape.yShapes.map((s, i) => graph.alloc(s, `y${i}`));
    const batch = shape.xShapes[0]![0]!;
    const sampleWeight = shape.sampleWeight ? graph.alloc([batch], 'sampleWeight') : null;
    // (inference graphs record no tape, so the weights' requiresGrad flag is ignored there)
    if (mode === 'train') for (const v of req.trained) graph.setGrad(v.value, v.grad);
    const outs = await req.forward(graph, xs);
    if (ys.length && (mode === 'train' || mode === 'eval')) {
      const compiled = req.compiled;
      if (!compiled) throw new Error(`${name}: call compile({optimizer, loss}) first`);
      const total = await recordLosses(graph, compiled, outs, ys, sampleWeight, totals, batch, name);
      if (mode === 'train') await graph.backward(total);
    }
    return { key: planKey(shape), mode, batch, graph, xs, ys, sampleWeight, outs };
  } catch (e) {
    graph.dispose();
    throw e;
  }
}

/** Every output's loss, the weighted total, and the metrics, summed into `totals`; returns the total. */
async function recordLosses(g: Graph, c: CompiledConfig, outs: readonly Tensor[], ys: readonly Tensor[], sw: Tensor | null, totals: Totals, batch: number, name: string): Promise<Tensor> {
  const results: LossResult[] = [];
  let total: Tensor | null = null;
  for (const [i, o] of c.outputs.entries()) {
    const out = outs[i]!;
    const where = c.outputs.length > 1 ? `${name} (output ${o.name})` : name;
    const r = await regressionLoss(g, o.loss.kind, out, ys[i]!, { window: lossWindow(o.loss, out.shape, where), mask: out.mask, sampleWeight: sw, ...(o.loss.delta !== undefined ? { delta: o.loss.delta } : {}) }, `${o.name} ${o.loss.kind}`);
    results.push(r);
    if (o.slot !== null) await accumulateScalar(g, r.loss, totals.tensor, o.slot, batch);
    const term: Tensor = o.weight === 1 ? r.loss : await scale(g, r.loss, o.weight, 0, `${o.name} loss weight`);
    total = total ? await add(g, total, term) : term;
  }
  await accumulateScalar(g, total!, totals.tensor, LOSS_SLOT, batch);
  for (const m of c.metrics) await recordMetric(g, c, m, outs[m.output]!, ys[m.output]!, sw, results[m.output]!, totals, name);
  return total!;
}

/** One metric's Σ w·l and Σ w (Keras Mean semantics), reusing the output's loss when it is the same. */
async function recordMetric(g: Graph, c: CompiledConfig, m: MetricSlot, out: Tensor, y: Tensor, sw: Tensor | null, loss: LossResult, totals: Totals, name: string): Promise<void> {
  const spec = c.outputs[m.output]!.loss;
  const kind = m.metric === 'mae' ? 'mae' : 'mse';
  let stats = spec.kind === kind && !spec.warmupSteps && m.metric !== 'lastTimeStepMse' ? loss.stats : null;
  if (!stats) {
    let window: [number, number] | undefined;
    if (m.metric === 'lastTimeStepMse') {
      if (out.shape.length !== 3) throw new Error(`${name}: lastTimeStepMse needs [batch, time, features] outputs, got [${out.shape.join(', ')}]`);
      window = [out.shape[1]! - 1, out.shape[1]!];
    }
    stats = (await regressionLoss(g, kind, noGrad(out), noGrad(y), { window, mask: out.mask, sampleWeight: sw }, `${m.log} metric`)).stats;
  }
  await accumulateMetric(g, stats, totals.tensor, m.slot);
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

  /** The cached plan with this key, if any (profiling). */
  peek(key: string): Plan | undefined {
    return this.plans.get(key);
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
