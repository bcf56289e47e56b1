/**
 * The benchmark engine, shared by the browser page (bench/page.ts, Chromium's WebGPU) and the
 * Node runner (bench/node.ts, Dawn): builds the same model with webgpu-rnn and with
 * TensorFlow.js (same layers, same initial weights copied with setWeights, Adam lr 1e-3, MSE,
 * same batch), probes, warms up, then times both ALTERNATING (ours, tfjs, ours, tfjs, …).
 *
 * One timed run = N training steps (forward + backward + Adam) ending with an awaited readback:
 *   ours  `model.fit` over N copies of the batch (batchSize B, no shuffling, no event-loop
 *         yields): N single-submit steps, one readback of the loss totals at the end;
 *   tfjs  N × `optimizer.minimize(() => mse(y, model.apply(x, {training: true})))` in tf.tidy, the
 *         last returning the loss, whose `await data()` ends the run (the tightest tfjs loop:
 *         no fit() bookkeeping, the batch already on the GPU — if anything, it favours tfjs).
 * tfjs is passed in (`tf`) because in Node it must be loaded after `navigator.gpu` is shimmed.
 */
import type * as TF from '@tensorflow/tfjs';
import * as rnn from '../src/index';
import type { HostTensor } from '../src/host';
import type { PassProfiler, Program } from '../src/gpu/program';
import {
  extrapolateStepMs,
  finishSide,
  oursVsTorch,
  speedups,
  stepsPerRun,
  trainingFlops,
  type BenchConfig,
  type CallCounts,
  type ConfigResult,
  type ProfileEntry,
  type ProfileResult,
  type Side,
  type SideResult,
} from './configs';

export type Tf = typeof TF;

export interface RunOptions {
  /** Timed runs per side (alternating). */
  rounds: number;
  /** Wall time one timed run aims at (sets the steps per run). */
  targetRunMs: number;
  maxStepsPerRun: number;
  /** Skip a side whose step would take longer (estimated from the probe). */
  maxStepMs: number;
  /** Sequence length of the probe step. */
  probeT: number;
  minWarmup: number;
  maxWarmup: number;
  /**
   * Wall-time budget of this configuration: after warm-up, the rounds are cut (never below
   * `minRounds`) so that probe + warm-up + rounds fit in it. Infinity: always `rounds`.
   */
  budgetMs: number;
  /** Time left to the whole runtime: sides whose warm-up + minRounds would not fit are skipped. */
  hardBudgetMs: number;
  minRounds: number;
  /** Sides not to run (e.g. --quick drops tfjs-default). */
  skipSides: Side[];
  /** Per-kernel GPU timestamps (ours) and tf.profile (tfjs) after the timed runs. */
  profile: boolean;
  /** Profiled steps (per-dispatch medians). */
  profileSteps: number;
  seed: number;
  /** Our recurrent layers' time loop (the layers' `timeLoop` option; 'auto' by default). */
  timeLoop: 'auto' | 'persistent' | 'step';
}

export const DEFAULT_OPTIONS: RunOptions = {
  rounds: 5,
  targetRunMs: 1500,
  maxStepsPerRun: 40,
  maxStepMs: 60_000,
  probeT: 10,
  minWarmup: 3,
  maxWarmup: 6,
  budgetMs: Infinity,
  hardBudgetMs: Infinity,
  minRounds: 3,
  skipSides: [],
  profile: false,
  profileSteps: 3,
  seed: 1234,
  timeLoop: 'auto',
};

export const QUICK_OPTIONS: Partial<RunOptions> = { rounds: 3, targetRunMs: 600, maxStepsPerRun: 20, maxStepMs: 20_000, profileSteps: 1, skipSides: ['tfjs-default'] };

type Log = (line: string) => void;

const now = () => performance.now();

// ------------------------------------------------------------------------------- data

/** Deterministic batch: x uniform in [-1, 1) [B, T, I], y uniform [B, 1]. */
export function makeBatch(cfg: BenchConfig, T: number, seed: number): { x: HostTensor; y: HostTensor } {
  const rng = new rnn.MT19937(seed >>> 0);
  const x = new Float32Array(cfg.B * T * cfg.I).map(() => 2 * rng.random() - 1);
  const y = new Float32Array(cfg.B).map(() => 2 * rng.random() - 1);
  return { x: { data: x, shape: [cfg.B, T, cfg.I] }, y: { data: y, shape: [cfg.B, 1] } };
}

function repeatRows(t: HostTensor, n: number): HostTensor {
  const out = new Float32Array(t.data.length * n);
  for (let i = 0; i < n; i++) out.set(t.data, i * t.data.length);
  return { data: out, shape: [t.shape[0]! * n, ...t.shape.slice(1)] };
}

// ------------------------------------------------------------------------------- WebGPU call counting

const COUNTED: [string, string, keyof CallCounts][] = [
  ['GPUComputePassEncoder', 'dispatchWorkgroups', 'dispatches'],
  ['GPUCommandEncoder', 'beginComputePass', 'passes'],
  ['GPUDevice', 'createBindGroup', 'bindGroups'],
  ['GPUQueue', 'writeBuffer', 'writeBuffers'],
  ['GPUQueue', 'submit', 'submits'],
];

/** Counts WebGPU calls made while `fn` runs, by wrapping the prototypes' methods (restored after). */
export async function countCalls(fn: () => Promise<unknown>): Promise<CallCounts | undefined> {
  const g = globalThis as unknown as Record<string, { prototype: Record<string, unknown> } | undefined>;
  const counts: CallCounts = { dispatches: 0, passes: 0, bindGroups: 0, writeBuffers: 0, submits: 0 };
  const restore: (() => void)[] = [];
  for (const [cls, method, key] of COUNTED) {
    const proto = g[cls]?.prototype;
    const orig = proto?.[method];
    if (!proto || typeof orig !== 'function') return undefined;
    proto[method] = function (this: unknown, ...args: unknown[]) {
      counts[key]++;
      return (orig as (...a: unknown[]) => unknown).apply(this, args);
    };
    restore.push(() => (proto[method] = orig));
  }
  try {
    await fn();
  } finally {
    for (const r of restore) r();
  }
  return counts;
}

// ------------------------------------------------------------------------------- contenders

export interface Contender {
  side: Side;
  /** Selects the sequence length of the data (probe: short; then the configuration's T). */
  useT(T: number): void;
  /** Wall ms of `steps` training steps ending with an awaited readback. */
  run(steps: number): Promise<number>;
  initialLoss(): Promise<number>;
  dispose(): void;
}

function oursModel(cfg: BenchConfig, seed: number, timeLoop: RunOptions['timeLoop'], fused = true): rnn.Sequential {
  const L = rnn.layers;
  const last = cfg.units.length - 1;
  const layers: rnn.Layer[] = cfg.units.map((units, i) => {
    if (cfg.cell === 'lncell') {
      return L.rnn({ cell: L.lnSimpleRNNCell({ units }), returnSequences: i < last, fused, ...(i === 0 ? { inputShape: [null, cfg.I] as const } : {}) });
    }
    // GRU resetAfter=false has no per-step kernels: it keeps 'auto' (persistent)
    const loop = cfg.cell === 'gru' && !cfg.resetAfter && timeLoop === 'step' ? 'auto' : timeLoop;
    const common = { units, returnSequences: i < last, timeLoop: loop, ...(i === 0 ? { inputShape: [null, cfg.I] as const } : {}) };
    return cfg.cell === 'lstm'
      ? L.lstm({ ...common, recurrentActivation: 'sigmoid' })
      : L.gru({ ...common, recurrentActivation: 'sigmoid', resetAfter: cfg.resetAfter ?? false });
  });
  layers.push(L.dense({ units: 1 }));
  const model = rnn.sequential({ layers, seed });
  model.compile({ optimizer: rnn.optimizers.adam({ learningRate: 1e-3 }), loss: 'mse' });
  return model;
}

class Ours implements Contender {
  private T: number;
  private batches = new Map<string, { x: HostTensor; y: HostTensor }>();
  constructor(
    readonly cfg: BenchConfig,
    readonly model: rnn.Sequential,
    private readonly seed: number,
    /** 'ours-steps': the same library with the custom cell run step by step. */
    readonly side: 'ours' | 'ours-steps' = 'ours',
  ) {
    this.T = cfg.T;
  }
  useT(T: number): void {
    this.T = T;
  }
  private data(n: number) {
    const key = `${this.T}:${n}`;
    let d = this.batches.get(key);
    if (!d) {
      const b = makeBatch(this.cfg, this.T, this.seed);
      d = n === 1 ? b : { x: repeatRows(b.x, n), y: repeatRows(b.y, n) };
      if (this.batches.size > 4) this.batches.clear();
      this.batches.set(key, d);
    }
    return d;
  }
  async run(steps: number): Promise<number> {
    const d = this.data(steps);
    const t0 = now();
    await this.model.fit(d.x, d.y, { epochs: 1, batchSize: this.cfg.B, shuffle: false, yieldEvery: 1e9 });
    return now() - t0;
  }
  async initialLoss(): Promise<number> {
    const d = this.data(1);
    return (await this.model.evaluate(d.x, d.y, { batchSize: this.cfg.B })) as number;
  }
  dispose(): void {
    this.model.dispose();
  }
}

class Tfjs implements Contender {
  private x: TF.Tensor | null = null;
  private y: TF.Tensor | null = null;
  private readonly opt: TF.Optimizer;
  constructor(
    readonly side: Side,
    private readonly tf: Tf,
    readonly cfg: BenchConfig,
    readonly model: TF.Sequential,
    private readonly seed: number,
  ) {
    this.opt = tf.train.adam(1e-3);
    this.useT(cfg.T);
  }
  useT(T: number): void {
    this.x?.dispose();
    this.y?.dispose();
    const b = makeBatch(this.cfg, T, this.seed);
    this.x = this.tf.tensor(b.x.data, [...b.x.shape]);
    this.y = this.tf.tensor(b.y.data, [...b.y.shape]);
  }
  private step(returnCost: boolean): TF.Scalar | null {
    const { tf, model } = this;
    const x = this.x!, y = this.y!;
    const loss = () => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as TF.Tensor) as TF.Scalar;
    if (returnCost) return tf.tidy(() => this.opt.minimize(loss, true)!);
    tf.tidy(() => {
      this.opt.minimize(loss, false);
    });
    return null;
  }
  async run(steps: number): Promise<number> {
    const t0 = now();
    for (let i = 0; i < steps - 1; i++) this.step(false);
    const cost = this.step(true)!;
    await cost.data();
    const ms = now() - t0;
    cost.dispose();
    return ms;
  }
  /** One step under tf.profile: kernel counts and (where the backend times kernels) ms per kernel name. */
  async profile(): Promise<ProfileResult> {
    const t0 = now();
    const info = await this.tf.profile(async () => {
      const c = this.step(true)!;
      await c.data();
      c.dispose();
    });
    const wallMs = now() - t0;
    const by = new Map<string, ProfileEntry>();
    let total = 0;
    for (const k of info.kernels) {
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : NaN; // {error} where the backend cannot time
      const e = by.get(k.name) ?? { phase: 'tf.profile', kernel: k.name, count: 0, ms: 0 };
      e.count++;
      if (Number.isFinite(ms)) e.ms += ms;
      total += Number.isFinite(ms) ? ms : 0;
      by.set(k.name, e);
    }
    return {
      side: this.side,
      gpuMs: total,
      wallMs,
      entries: [...by.values()],
      note: 'tf.profile: one kernel per pass (tfjs times kernels with timestamp queries when available); kernel names are tfjs ops, several of which may not dispatch (reshapes, CPU-forwarded small ops)',
    };
  }
  async initialLoss(): Promise<number> {
    const { tf, model } = this;
    const l = tf.tidy(() => tf.losses.meanSquaredError(this.y!, model.predict(this.x!) as TF.Tensor));
    const v = (await l.data())[0]!;
    l.dispose();
    return v;
  }
  dispose(): void {
    this.x?.dispose();
    this.y?.dispose();
    this.opt.dispose();
    this.model.dispose();
  }
}

function tfjsModel(tf: Tf, cfg: BenchConfig, recurrentActivation: 'sigmoid' | 'hardSigmoid'): TF.Sequential {
  const last = cfg.units.length - 1;
  const layers: TF.layers.Layer[] = cfg.units.map((units, i) => {
    const args = {
      units,
      returnSequences: i < last,
      recurrentActivation,
      // Overwritten by setWeights with ours: skip tfjs's slow CPU orthogonal init of big matrices.
      kernelInitializer: 'zeros' as const,
      recurrentInitializer: 'zeros' as const,
      ...(i === 0 ? { inputShape: [null, cfg.I] } : {}),
    };
    return cfg.cell === 'lstm' ? tf.layers.lstm(args) : tf.layers.gru(args);
  });
  layers.push(tf.layers.dense({ units: 1 }));
  return tf.sequential({ layers });
}

/** Copies our initial weights (Keras layout and order) into a tfjs model, checking shapes. */
async function copyWeights(tf: Tf, from: rnn.Sequential, to: TF.Sequential): Promise<void> {
  const ws = await from.getWeights();
  const theirs = to.getWeights();
  if (ws.length !== theirs.length) throw new Error(`weight count differs: ours ${ws.length}, tfjs ${theirs.length}`);
  ws.forEach((w, i) => {
    const s = theirs[i]!.shape;
    if (s.length !== w.shape.length || s.some((d, j) => d !== w.shape[j])) {
      throw new Error(`weight ${i} (${from.weightNames[i]}) shape differs: ours [${w.shape.join(', ')}], tfjs [${s.join(', ')}]`);
    }
  });
  const ts = ws.map((w) => tf.tensor(w.data, [...w.shape]));
  to.setWeights(ts);
  tf.dispose(ts);
}

// ------------------------------------------------------------------------------- profiling (ours)

const QUERY_RESOLVE = 0x200, COPY_SRC = 0x04, COPY_DST = 0x08, MAP_READ = 0x01;

/** Timestamp queries around every dispatch of a step (Program.encode's PassProfiler). */
class TimestampProfiler implements PassProfiler {
  phase = '';
  readonly labels: { phase: string; kernel: string }[] = [];
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuf: GPUBuffer;
  private readonly readBuf: GPUBuffer;
  constructor(
    private readonly device: GPUDevice,
    private readonly capacity: number,
  ) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * capacity });
    this.resolveBuf = device.createBuffer({ size: 16 * capacity, usage: QUERY_RESOLVE | COPY_SRC });
    this.readBuf = device.createBuffer({ size: 16 * capacity, usage: MAP_READ | COPY_DST });
  }
  passTimestamps(kernelId: string): GPUComputePassTimestampWrites | undefined {
    if (this.labels.length >= this.capacity) return undefined;
    const i = this.labels.length;
    this.labels.push({ phase: this.phase, kernel: kernelId });
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }
  resolve(enc: GPUCommandEncoder): void {
    const n = this.labels.length;
    if (!n) return;
    enc.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuf, 0);
    enc.copyBufferToBuffer(this.resolveBuf, 0, this.readBuf, 0, 16 * n);
  }
  /** Nanoseconds per timed pass (NaN for a negative delta, which the spec allows). */
  async read(): Promise<number[]> {
    const n = this.labels.length;
    await this.readBuf.mapAsync(MAP_READ);
    const ts = new BigInt64Array(this.readBuf.getMappedRange().slice(0, 16 * n));
    this.readBuf.unmap();
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const d = Number(ts[2 * i + 1]! - ts[2 * i]!);
      out.push(d >= 0 ? d : NaN);
    }
    return out;
  }
  destroy(): void {
    this.querySet.destroy();
    this.resolveBuf.destroy();
    this.readBuf.destroy();
  }
}

/**
 * Runs `steps` training steps of our model (its cached plan for [B, T, I]) with one timed compute
 * pass per dispatch, phases = the step's programs; returns per-(phase, kernel) medians over the steps.
 * Mirrors Sequential.submitTrainStep (clear grads, forward, backward, optimizer, one submit).
 */
async function profileOurs(model: rnn.Sequential, cfg: BenchConfig, steps: number): Promise<ProfileResult> {
  const found = model.trainPlanFor([[cfg.B, cfg.T, cfg.I]], [[cfg.B, 1]]);
  if (!found) throw new Error('profile: the model has no train plan for this batch yet');
  const { plan, optimizer, grads, device: dev } = found;
  if (!dev.features.has('timestamp-query')) throw new Error("profile: the device has no 'timestamp-query' feature");
  const g = plan.graph;
  const phases: [string, Program][] = [['clears', g.clears], ['forward', g.forward], ['backward', g.backwardProgram], ['optimizer', optimizer.program]];
  const nDispatch = phases.reduce((n, [, p]) => n + p.dispatchCount, 0);
  const perDispatch: number[][] = [];
  let labels: { phase: string; kernel: string }[] = [];
  const walls: number[] = [];
  for (let s = 0; s < steps; s++) {
    const prof = new TimestampProfiler(dev, nDispatch);
    const t0 = now();
    const enc = dev.createCommandEncoder();
    enc.clearBuffer(grads);
    for (const [name, p] of phases) {
      prof.phase = name;
      p.encode(enc, prof);
    }
    optimizer.prepareStep();
    prof.resolve(enc);
    dev.queue.submit([enc.finish()]);
    const ns = await prof.read();
    walls.push(now() - t0);
    labels = prof.labels;
    ns.forEach((v, i) => (perDispatch[i] ??= []).push(v));
    prof.destroy();
  }
  const med = (xs: number[]) => {
    const s = xs.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
    return s.length ? s[Math.floor(s.length / 2)]! : 0;
  };
  const nsMed = perDispatch.map(med);
  const entries = new Map<string, ProfileEntry>();
  labels.forEach((l, i) => {
    const key = `${l.phase}|${l.kernel}`;
    const e = entries.get(key) ?? { phase: l.phase, kernel: l.kernel, count: 0, ms: 0 };
    e.count++;
    e.ms += nsMed[i]! / 1e6;
    entries.set(key, e);
  });
  const all = perDispatch.flat().filter((v) => Number.isFinite(v) && v > 0);
  const resolutionNs = all.length ? Math.min(...all) : undefined;
  return {
    side: 'ours',
    gpuMs: nsMed.reduce((a, b) => a + b, 0) / 1e6,
    wallMs: med(walls),
    entries: [...entries.values()],
    ...(resolutionNs !== undefined ? { resolutionNs } : {}),
    note: `median of ${steps} profiled step(s); one compute pass per dispatch (${nDispatch} passes), so the sum differs from a normal single-pass step`,
  };
}

// ------------------------------------------------------------------------------- one configuration

export interface Environment {
  /** tfjs with its webgpu backend active, or null (ours only). */
  tf: Tf | null;
  /** Why tfjs is unavailable (shown instead of its rows). */
  tfUnavailable?: string;
  /**
   * Sides outside WebGPU (Node's --vs-torch: PyTorch on the CPU), after the configuration's own
   * sides in every round. They train the same shapes with their own initial weights.
   */
  external?: ExternalSide[];
}

/** A side that is not a WebGPU library (bench/torch.ts): built per configuration, timed like the others. */
export interface ExternalSide {
  side: Side;
  /** Why this configuration cannot run on this side, or null. */
  unsupported(cfg: BenchConfig): string | null;
  /** Builds the model for `cfg` (sequence length cfg.T at first). */
  start(cfg: BenchConfig, seed: number): Promise<Contender>;
}

/** Runs one configuration: probe, warm-up, alternating timed rounds, call counts, optional profile. */
export async function runConfig(cfg: BenchConfig, env: Environment, opts: RunOptions, log: Log): Promise<ConfigResult> {
  const started = now();
  const flops = trainingFlops(cfg);
  const result: ConfigResult = {
    id: cfg.id,
    title: cfg.title,
    cell: cfg.cell,
    units: cfg.units,
    B: cfg.B,
    T: cfg.T,
    I: cfg.I,
    ...(cfg.resetAfter !== undefined ? { resetAfter: cfg.resetAfter } : {}),
    flopsPerStep: flops,
    rounds: 0,
    sides: [],
    speedup: {},
    ...(cfg.note ? { note: cfg.note } : {}),
  };
  const sideResults = new Map<Side, SideResult>();
  const contenders: Contender[] = [];
  try {
    // ---- build: ours first (its initial weights are copied into every tfjs model)
    const ours = new Ours(cfg, oursModel(cfg, opts.seed, opts.timeLoop), opts.seed + 1);
    contenders.push(ours);
    sideResults.set('ours', { side: 'ours', status: 'ok' });
    for (const side of cfg.sides) {
      if (side === 'ours') continue;
      if (opts.skipSides.includes(side)) {
        sideResults.set(side, { side, status: 'skipped', reason: 'not run in this mode (--quick or --ours-only)' });
        continue;
      }
      if (side === 'ours-steps') {
        // the same model, weights copied, with the custom cells run step by step
        const steps = new Ours(cfg, oursModel(cfg, opts.seed, opts.timeLoop, false), opts.seed + 1, 'ours-steps');
        await ours.model.build([null, cfg.I]);
        await steps.model.build([null, cfg.I]);
        await steps.model.setWeights(await ours.model.getWeights());
        contenders.push(steps);
        sideResults.set(side, { side, status: 'ok' });
        continue;
      }
      if (!env.tf) {
        sideResults.set(side, { side, status: 'skipped', reason: env.tfUnavailable ?? 'tfjs unavailable' });
        continue;
      }
      try {
        const model = tfjsModel(env.tf, cfg, side === 'tfjs' ? 'sigmoid' : 'hardSigmoid');
        await ours.model.build([null, cfg.I]);
        await copyWeights(env.tf, ours.model, model);
        contenders.push(new Tfjs(side, env.tf, cfg, model, opts.seed + 1));
        sideResults.set(side, { side, status: 'ok' });
      } catch (e) {
        sideResults.set(side, { side, status: 'error', reason: `build: ${(e as Error).message}` });
      }
    }
    for (const ext of env.external ?? []) {
      const why = opts.skipSides.includes(ext.side) ? 'not run in this mode' : ext.unsupported(cfg);
      if (why) {
        sideResults.set(ext.side, { side: ext.side, status: 'skipped', reason: why });
        continue;
      }
      try {
        contenders.push(await ext.start(cfg, opts.seed));
        sideResults.set(ext.side, { side: ext.side, status: 'ok' });
      } catch (e) {
        sideResults.set(ext.side, { side: ext.side, status: 'error', reason: `build: ${(e as Error).message}` });
      }
    }
    for (const c of contenders) sideResults.get(c.side)!.initialLoss = await c.initialLoss();
    const losses = contenders.map((c) => `${c.side} ${sideResults.get(c.side)!.initialLoss!.toPrecision(6)}`).join(', ');
    log(`${cfg.id}: initial loss (same weights${env.external?.length ? '; torch: its own' : ''}) ${losses}`);

    // ---- probe at a short sequence: a compiling step, then the faster of two timed steps,
    //      extrapolated to T (an over-estimate where part of the step does not grow with T)
    const probeT = Math.min(cfg.T, opts.probeT);
    let active = [...contenders];
    for (const c of contenders) {
      c.useT(probeT);
      await c.run(1); // compiles pipelines
      const ms = Math.min(await c.run(1), await c.run(1));
      const estimatedMs = extrapolateStepMs(ms, probeT, cfg.T);
      const r = sideResults.get(c.side)!;
      r.probe = { T: probeT, ms, estimatedMs };
      log(`${cfg.id}/${c.side}: probe ${ms.toFixed(0)} ms at T=${probeT} → ~${(estimatedMs / 1000).toFixed(1)} s/step at T=${cfg.T}`);
      if (estimatedMs > opts.maxStepMs) {
        r.status = 'skipped';
        r.reason = `probe predicts ${(estimatedMs / 1000).toFixed(0)} s/step > ${(opts.maxStepMs / 1000).toFixed(0)} s limit`;
        active = active.filter((a) => a !== c);
      }
      c.useT(cfg.T);
    }
    // Drop sides (last listed first: tfjs-default, tfjs, then ours) while warm-up + the minimum
    // rounds would overrun the time left to this runtime.
    const cost = (cs: Contender[]) =>
      cs.reduce((t, c) => {
        const est = sideResults.get(c.side)!.probe!.estimatedMs;
        return t + opts.minWarmup * est + opts.minRounds * Math.max(est, opts.targetRunMs);
      }, 0);
    while (active.length && now() - started + cost(active) > opts.hardBudgetMs) {
      const c = active.pop()!;
      const r = sideResults.get(c.side)!;
      r.status = 'skipped';
      r.reason = `time budget: warm-up + ${opts.minRounds} rounds would take ~${(cost([...active, c]) / 1000).toFixed(0)} s, ${(Math.max(0, opts.hardBudgetMs - (now() - started)) / 1000).toFixed(0)} s left (--budget-s)`;
      log(`${cfg.id}/${c.side}: skipped, ${r.reason}`);
    }

    // ---- warm-up at T: at least minWarmup steps; fast sides go on (≤ maxWarmup) until two
    //      consecutive steps agree within 25 %
    for (const c of active) {
      const r = sideResults.get(c.side)!;
      const slow = r.probe!.estimatedMs > 2000;
      r.warmupMs = [];
      while (r.warmupMs.length < (slow ? opts.minWarmup : opts.maxWarmup)) {
        r.warmupMs.push(await c.run(1));
        const w = r.warmupMs;
        if (w.length >= opts.minWarmup && Math.abs(w.at(-1)! - w.at(-2)!) <= 0.25 * w.at(-2)!) break;
      }
      log(`${cfg.id}/${c.side}: warm-up ${r.warmupMs.map((v) => v.toFixed(0)).join(', ')} ms`);
      r.stepsPerRun = stepsPerRun(Math.min(...r.warmupMs.slice(1)), opts.targetRunMs, opts.maxStepsPerRun);
      if (c instanceof Ours) r.stepInfo = await c.model.trainingStepInfo([cfg.B, cfg.T, cfg.I], [cfg.B, 1]);
      // WebGPU calls: the WebGPU sides only (an external side would count zeros)
      if (c instanceof Ours || c instanceof Tfjs) r.calls = await countCalls(() => c.run(1));
    }

    // ---- timed rounds, alternating sides; as many as the configuration's budget allows
    const roundMs = active.reduce((t, c) => {
      const r = sideResults.get(c.side)!;
      return t + r.stepsPerRun! * Math.min(...r.warmupMs!.slice(1));
    }, 0);
    const left = opts.budgetMs - (now() - started);
    const rounds = Math.max(Math.min(opts.minRounds, opts.rounds), Math.min(opts.rounds, Math.floor(left / Math.max(roundMs, 1))));
    if (rounds < opts.rounds) log(`${cfg.id}: ${rounds} rounds (of ${opts.rounds}) fit in this configuration's time budget`);
    result.rounds = rounds;
    for (let round = 0; round < rounds; round++) {
      const parts: string[] = [];
      for (const c of active) {
        const r = sideResults.get(c.side)!;
        const n = r.stepsPerRun!;
        const ms = (await c.run(n)) / n;
        (r.msPerStep ??= []).push(ms);
        parts.push(`${c.side} ${ms.toFixed(1)}`);
      }
      log(`${cfg.id}: round ${round + 1}/${rounds} ms/step: ${parts.join(', ')}`);
    }

    // ---- profile
    if (opts.profile) {
      result.profile = [];
      for (const c of active) {
        try {
          if (c instanceof Ours) result.profile.push({ ...(await profileOurs(c.model, cfg, opts.profileSteps)), side: c.side });
          else if (c instanceof Tfjs && c.side === 'tfjs') result.profile.push(await c.profile());
        } catch (e) {
          log(`${cfg.id}/${c.side}: profile failed: ${(e as Error).message}`);
          result.profile.push({ side: c.side, gpuMs: NaN, wallMs: NaN, entries: [], note: `failed: ${(e as Error).message}` });
        }
      }
    }
  } catch (e) {
    for (const r of sideResults.values()) {
      if (r.status === 'ok' && !r.msPerStep?.length) Object.assign(r, { status: 'error', reason: (e as Error).message });
    }
    if (!sideResults.size) sideResults.set('ours', { side: 'ours', status: 'error', reason: (e as Error).message });
    log(`${cfg.id}: error: ${(e as Error).stack ?? e}`);
  } finally {
    for (const c of contenders) {
      try {
        c.dispose();
      } catch {
        /* already gone */
      }
    }
  }
  const sides = [...cfg.sides, ...(env.external ?? []).map((e) => e.side)];
  result.sides = sides.map((s) => finishSide(sideResults.get(s) ?? { side: s, status: 'skipped', reason: 'not run' }, cfg.B, flops));
  result.speedup = speedups(result.sides);
  const vs = oursVsTorch(result.sides);
  if (vs) result.vsTorch = vs;
  result.wallS = (now() - started) / 1000;
  return result;
}
