/**
 * compile(): the optimizer, losses, loss weights and metrics parsed and validated per model output
 * into a CompiledConfig, with the layout of the GPU running sums (Totals) the plans write and the
 * training loop reads once per epoch, and the log names (Keras: `loss`, `mae`; with several
 * outputs `<output>_loss`, `<output>_mae`). Pure: no GPU.
 */
import type { Optimizer } from '../optim/optimizers';
import { resolveOptimizer } from '../optim/registry';
import { checkOptions, is } from '../options';
import type { CompileArgs, LossSpec, MetricName, PerOutput } from './types';

/** Canonical metric names. */
export type Metric = 'mse' | 'mae' | 'rmse' | 'lastTimeStepMse';

const LOSS_NAMES: Record<string, LossSpec['kind']> = {
  mse: 'mse', meanSquaredError: 'mse', mean_squared_error: 'mse',
  mae: 'mae', meanAbsoluteError: 'mae', mean_absolute_error: 'mae',
  huber: 'huber', huberLoss: 'huber', huber_loss: 'huber',
};

const METRIC_NAMES: Record<string, Metric> = {
  mse: 'mse', meanSquaredError: 'mse', mean_squared_error: 'mse',
  mae: 'mae', meanAbsoluteError: 'mae', mean_absolute_error: 'mae',
  rmse: 'rmse', rootMeanSquaredError: 'rmse', root_mean_squared_error: 'rmse',
  lastTimeStepMse: 'lastTimeStepMse', last_time_step_mse: 'lastTimeStepMse',
};

/** A metric of one output, where its sums live in Totals, and its log name (without val_). */
export interface MetricSlot {
  output: number;
  metric: Metric;
  /** totals[slot] = Σ w·l, totals[slot + 1] = Σ w. */
  slot: number;
  log: string;
}

/** One output's loss and weight, and where its (batch-weighted) loss sum lives (several outputs). */
export interface OutputLoss {
  name: string;
  loss: LossSpec;
  weight: number;
  /** totals slot of this output's loss (several outputs), else null. */
  slot: number | null;
  log: string | null;
}

/** What compile() resolved. */
export interface CompiledConfig {
  optimizer: Optimizer;
  outputs: OutputLoss[];
  metrics: MetricSlot[];
  /** Totals slots used (slot 0: the total loss, Σ batch rows · loss). */
  slots: number;
}

/** Slot of the summed total loss in Totals. */
export const LOSS_SLOT = 0;

function ownKey<T>(table: Record<string, T>, key: unknown): T | undefined {
  return typeof key === 'string' && Object.hasOwn(table, key) ? table[key] : undefined;
}

/** A loss name or spec, checked. */
function parseLoss(v: unknown, where: string): LossSpec {
  const named = ownKey(LOSS_NAMES, v);
  if (named) return { kind: named, warmupSteps: 0, ...(named === 'huber' ? { delta: 1 } : {}) };
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const s = v as Partial<LossSpec>;
    const kind = ownKey({ mse: 'mse', mae: 'mae', huber: 'huber' } as const, s.kind);
    if (kind) {
      const w = s.warmupSteps ?? 0;
      if (!Number.isInteger(w) || w < 0) throw new RangeError(`${where}: warmupSteps must be a non-negative integer, got ${JSON.stringify(s.warmupSteps)}`);
      const spec: LossSpec = { kind, warmupSteps: w };
      if (kind === 'huber') {
        const d = s.delta ?? 1;
        if (typeof d !== 'number' || !(d > 0) || !Number.isFinite(d)) throw new RangeError(`${where}: huber delta must be a positive number, got ${JSON.stringify(s.delta)}`);
        spec.delta = d;
      }
      return spec;
    }
  }
  throw new Error(`${where}: unknown loss ${typeof v === 'string' ? `'${v}'` : JSON.stringify(v)} (supported: ${Object.keys(LOSS_NAMES).join(', ')}, or rnn.losses.meanSquaredError / meanAbsoluteError / huber({…}))`);
}

function parseMetric(v: unknown, where: string): Metric {
  const m = ownKey(METRIC_NAMES, v);
  if (!m) throw new Error(`${where}: unknown metric ${typeof v === 'string' ? `'${v}'` : JSON.stringify(v)} (supported: ${Object.keys(METRIC_NAMES).join(', ')})`);
  return m;
}

/**
 * One value per output from a single value, a list (output order) or an object (output names).
 * `isOne` tells a single value from a list or object.
 */
function perOutput<T>(v: PerOutput<T> | undefined, names: readonly string[], fallback: T, isOne: (v: unknown) => v is T, what: string, where: string): T[] {
  if (v === undefined) return names.map(() => fallback);
  if (isOne(v)) return names.map(() => v);
  if (Array.isArray(v)) {
    if (v.length !== names.length) throw new RangeError(`${where}: ${what} has ${v.length} entries for ${names.length} outputs (${names.join(', ')})`);
    return v;
  }
  if (v && typeof v === 'object') {
    const o = v as Record<string, T>;
    const unknown = Object.keys(o).filter((k) => !names.includes(k));
    if (unknown.length) throw new RangeError(`${where}: ${what} names unknown outputs ${unknown.join(', ')} (outputs: ${names.join(', ')})`);
    return names.map((n) => (Object.hasOwn(o, n) ? o[n]! : fallback));
  }
  throw new TypeError(`${where}: ${what} must be a value, a list or an object by output name`);
}

/**
 * Parses and validates compile's arguments for a model whose outputs are named `outputs` (the
 * output layers' names); `where` prefixes the errors (e.g. 'model.compile').
 */
export function parseCompileArgs(args: CompileArgs, outputs: readonly string[], where: string): CompiledConfig {
  checkOptions(where, args ?? null, { optimizer: is.any, loss: is.any, lossWeights: is.any, metrics: is.any }, "{optimizer: 'adam', loss: 'mse'}");
  if (args.loss === undefined) throw new TypeError(`${where}: a loss is required, e.g. loss: 'mse'`);
  const optimizer = resolveOptimizer(args.optimizer);
  const multi = outputs.length > 1;
  const isLoss = (v: unknown): v is LossSpec => typeof v === 'string' || (!!v && typeof v === 'object' && !Array.isArray(v) && 'kind' in v);
  const losses = perOutput<unknown>(args.loss as PerOutput<unknown>, outputs, undefined, isLoss as (v: unknown) => v is unknown, 'loss', where)
    .map((l, i) => (l === undefined ? null : parseLoss(l, multi ? `${where} (output ${outputs[i]})` : where)));
  const isNumber = (v: unknown): v is number => typeof v === 'number';
  const weights = perOutput(args.lossWeights, outputs, 1, isNumber, 'lossWeights', where);
  weights.forEach((w, i) => {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new RangeError(`${where}: lossWeights for ${outputs[i]} must be a finite number >= 0, got ${JSON.stringify(w)}`);
  });
  const isList = (v: unknown): v is MetricName[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
  const metricLists = args.metrics === undefined ? outputs.map(() => [] as MetricName[])
    : isList(args.metrics) ? outputs.map(() => args.metrics as MetricName[])
    : perOutput(args.metrics as PerOutput<MetricName[]>, outputs, [], isList, 'metrics', where);
  let slot = 1;
  const out: OutputLoss[] = outputs.map((name, i) => {
    const loss = losses[i];
    if (!loss) throw new Error(`${where}: no loss for output ${name}`);
    const o: OutputLoss = { name, loss, weight: weights[i]!, slot: multi ? slot : null, log: multi ? `${name}_loss` : null };
    if (multi) slot++;
    return o;
  });
  const metrics: MetricSlot[] = [];
  metricLists.forEach((list, i) => {
    if (!Array.isArray(list)) throw new TypeError(`${where}: metrics for ${outputs[i]} must be a list of names`);
    for (const m of list.map((x) => parseMetric(x, where))) {
      const log = multi ? `${outputs[i]}_${m}` : m;
      if (metrics.some((x) => x.log === log)) continue;
      metrics.push({ output: i, metric: m, slot, log });
      slot += 2;
    }
  });
  return { optimizer, outputs: out, metrics, slots: slot };
}

/**
 * The time steps a loss covers for outputs of shape `outShape`: [warmupSteps, T) for
 * [batch, time, features] outputs, undefined (everything) without warm-up. `where` names the
 * model in errors.
 */
export function lossWindow(loss: LossSpec, outShape: readonly number[], where: string): [number, number] | undefined {
  const w = loss.warmupSteps;
  if (!w) return undefined;
  if (outShape.length !== 3) throw new RangeError(`${where}: a loss with warmupSteps needs [batch, time, features] outputs, got [${outShape.join(', ')}]`);
  const T = outShape[1]!;
  if (w >= T) throw new RangeError(`${where}: warmupSteps ${w} leaves no time step of ${T} for the loss`);
  return [w, T];
}

/** The epoch's (or evaluation's) logs from the Totals sums: losses per row seen, metrics Σ w·l / Σ w. */
export function logsFromSums(c: CompiledConfig, sums: Float32Array, rows: number, prefix = ''): Record<string, number> {
  const logs: Record<string, number> = { [`${prefix}loss`]: sums[LOSS_SLOT]! / rows };
  for (const o of c.outputs) if (o.slot !== null) logs[`${prefix}${o.log}`] = sums[o.slot]! / rows;
  for (const m of c.metrics) {
    const mean = sums[m.slot]! / sums[m.slot + 1]!;
    logs[`${prefix}${m.log}`] = m.metric === 'rmse' ? Math.sqrt(mean) : mean;
  }
  return logs;
}
