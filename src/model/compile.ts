/**
 * compile(): the loss, metric and optimizer arguments parsed and validated into a CompiledConfig,
 * which the plans and the training loop read. Pure: no GPU.
 */
import { resolveOptimizer, type Optimizer } from '../optim/optimizers';
import type { CompileArgs, LossSpec, MetricName } from './types';

/** What compile() resolved: the optimizer, the loss with its options, the metrics. */
export interface CompiledConfig {
  optimizer: Optimizer;
  /** Canonical names ('last_time_step_mse' becomes 'lastTimeStepMse'), in the order given. */
  metrics: MetricName[];
  loss: LossSpec;
}

/** Parses and validates compile's arguments; `where` prefixes the errors (e.g. 'sequential.compile'). */
export function parseCompileArgs(args: CompileArgs, where: string): CompiledConfig {
  if (!args || typeof args !== 'object') throw new TypeError(`${where}: expected {optimizer, loss}`);
  let loss: LossSpec;
  if (typeof args.loss === 'object' && args.loss !== null && args.loss.kind === 'mse') {
    const w = args.loss.warmupSteps;
    if (!Number.isInteger(w) || w < 0) throw new RangeError(`${where}: warmupSteps must be a non-negative integer, got ${w}`);
    loss = { kind: 'mse', warmupSteps: w };
  } else if (typeof args.loss === 'string' && ['mse', 'meanSquaredError', 'mean_squared_error'].includes(args.loss)) {
    loss = { kind: 'mse', warmupSteps: 0 };
  } else {
    throw new Error(`${where}: unknown loss '${String(args.loss)}' (supported: mse, meanSquaredError, rnn.losses.meanSquaredError({warmupSteps}))`);
  }
  const optimizer = resolveOptimizer(args.optimizer);
  const metrics = (args.metrics ?? []).map((m) => {
    if (m === 'mse' || m === 'lastTimeStepMse') return m;
    if (m === 'last_time_step_mse') return 'lastTimeStepMse';
    throw new Error(`${where}: unknown metric '${String(m)}' (supported: mse, lastTimeStepMse)`);
  });
  return { optimizer, metrics, loss };
}

/**
 * The time steps the loss covers for outputs of shape `outShape`: [warmupSteps, T) for
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
