/**
 * The Danish weather lesson's training recipe (Hvass-Labs tutorial #23; used by `npm run weather`,
 * the tests and the demo): GRU → Dense(3, sigmoid) forecasting Odense's temperature, wind speed
 * and pressure 24 h ahead from 20 signals of 5 Danish cities; random sub-sequences drawn fresh
 * every step, MSE ignoring the first 50 (warm-up) steps, RMSprop with reduce-on-plateau, early
 * stopping that restores the best weights (the lesson's checkpoint), validation on the whole test
 * sequence as one long batch.
 */
import type { HostTensor } from '../../host';
import { Sequential } from '../../model/sequential';
import type { Callback, History } from '../../model/sequential';
import { GRU } from '../../layers/recurrent';
import { Dense } from '../../layers/dense';
import { RMSprop } from '../../optim/optimizers';
import { EarlyStopping, ReduceLROnPlateau } from '../../callbacks';
import { MT19937 } from '../../data/mt19937';
import { WARMUP_STEPS } from './constants';
import { weatherBatch, forecastReport, persistenceBaseline, type WeatherTask, type ForecastReport } from './task';

export interface WeatherLessonOptions {
  /** GRU units (lesson: 512). */
  units: number;
  /** Sub-sequences per batch (lesson: 256). */
  batchSize: number;
  /** Steps per sub-sequence (lesson: 1344 = 8 weeks of hours). */
  sequenceLength: number;
  /** Batches per epoch (lesson: 100). */
  batchesPerEpoch: number;
  /** Epochs (lesson: 20, with early stopping). */
  epochs: number;
  /** Seed of the weights and of the sub-sequence sampling. */
  seed?: number;
  /** Warm-up steps excluded from the loss (lesson: 50). */
  warmupSteps?: number;
  /** RMSprop learning rate (lesson: 1e-3). */
  learningRate?: number;
  /** Early-stopping patience in epochs (lesson: 5). */
  patience?: number;
  callbacks?: Callback[];
}

export interface WeatherLessonResult {
  model: Sequential;
  history: History;
  /** Test-set errors of the best weights: per signal in °C, m/s, hPa, and the scaled MSE (lesson: 0.00228). */
  test: ForecastReport;
  /** The persistence forecast ("tomorrow = today") on the same steps. */
  persistence: ForecastReport;
}

/** The whole test split as one sequence: [1, numTest, F]. */
function asOneSequence(t: HostTensor): HostTensor {
  return { data: t.data, shape: [1, t.shape[0]!, t.shape[1]!] };
}

/** Trains the lesson's GRU on a WeatherTask (see the file header). */
export async function trainWeatherLesson(task: WeatherTask, o: WeatherLessonOptions): Promise<WeatherLessonResult> {
  const warmup = o.warmupSteps ?? WARMUP_STEPS;
  const seed = o.seed ?? 42;
  if (o.sequenceLength >= task.numTrain) {
    throw new RangeError(`trainWeatherLesson: sequenceLength ${o.sequenceLength} needs more than ${task.numTrain} training rows`);
  }
  const F = task.xTrain.shape[1]!, K = task.yTrain.shape[1]!;
  const model = new Sequential({
    name: 'weather_gru',
    seed,
    layers: [
      new GRU({ units: o.units, returnSequences: true, inputShape: [null, F] }),
      new Dense({ units: K, activation: 'sigmoid' }),
    ],
  });
  model.compile({ optimizer: new RMSprop({ learningRate: o.learningRate ?? 1e-3 }), loss: { kind: 'mse', warmupSteps: warmup } });
  const rng = new MT19937(seed);
  const history = await model.fitDataset(() => {
    const b = weatherBatch(task, { batchSize: o.batchSize, sequenceLength: o.sequenceLength, seed: rng });
    return { x: b.x, y: b.y };
  }, {
    epochs: o.epochs,
    batchesPerEpoch: o.batchesPerEpoch,
    validationData: [asOneSequence(task.xTest), asOneSequence(task.yTest)],
    validationBatchSize: 1,
    callbacks: [
      new EarlyStopping({ monitor: 'val_loss', patience: o.patience ?? 5, restoreBestWeights: true }),
      new ReduceLROnPlateau({ monitor: 'val_loss', factor: 0.1, minLr: 1e-4, patience: 0 }),
      ...(o.callbacks ?? []),
    ],
  });
  const pred = await model.predict(asOneSequence(task.xTest), { batchSize: 1 });
  const flat = { data: pred.data, shape: [task.numTest, K] };
  return {
    model,
    history,
    test: forecastReport(task, task.yTest, flat, warmup),
    persistence: persistenceBaseline(task, { split: 'test', warmup }),
  };
}
