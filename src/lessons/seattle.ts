/**
 * The Seattle lesson's training recipe (used by `npm run weather -- --dataset seattle` and the
 * tests): next-day maximum temperature in Seattle from the past 30 days (vega-datasets, offline;
 * data in src/data/seattle.ts), GRU → Dense(1) early-stopped on 2014, against the persistence
 * forecast.
 */
import { Sequential } from '../model/sequential';
import type { Callback, History } from '../model/sequential';
import { GRU } from '../layers/recurrent';
import { Dense } from '../layers/dense';
import { Adam } from '../optim/optimizers';
import { EarlyStopping } from '../callbacks';
import { seattleErrors, seattlePersistence, type SeattleTask, type CelsiusErrors } from '../data/seattle';

export interface SeattleOptions {
  units?: number;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  patience?: number;
  callbacks?: Callback[];
}

export interface SeattleResult {
  model: Sequential;
  history: History;
  /** Test-set errors in °C. */
  test: CelsiusErrors;
  /** Persistence ("tomorrow's max = today's max") on the same days. */
  persistence: CelsiusErrors;
}

/** Trains GRU(units) → Dense(1) on the Seattle next-day temp_max task, early-stopped on 2014. */
export async function trainSeattle(task: SeattleTask, o: SeattleOptions = {}): Promise<SeattleResult> {
  const F = task.train.x.shape[2]!;
  const model = new Sequential({
    name: 'seattle_gru',
    seed: o.seed ?? 42,
    layers: [new GRU({ units: o.units ?? 16, inputShape: [null, F] }), new Dense({ units: 1 })],
  });
  model.compile({ optimizer: new Adam({ learningRate: o.learningRate ?? 3e-3 }), loss: 'mse' });
  const history = await model.fit(task.train.x, task.train.y, {
    epochs: o.epochs ?? 60,
    batchSize: o.batchSize ?? 32,
    seed: o.seed ?? 42,
    validationData: [task.valid.x, task.valid.y],
    callbacks: [new EarlyStopping({ monitor: 'val_loss', patience: o.patience ?? 10, restoreBestWeights: true }), ...(o.callbacks ?? [])],
  });
  const pred = await model.predict(task.test.x);
  return { model, history, test: seattleErrors(task, pred, 'test'), persistence: seattlePersistence(task, 'test') };
}
