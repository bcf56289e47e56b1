/**
 * The training worker: owns the GPU device and the model so the page's main thread only draws.
 * Protocol (demo/protocol.ts): start(config, data) → data, progress…, done | error;
 * load(config, data, weights) → data, done | error; stop → fit ends after the current batch.
 * WebGPU works here: `navigator.gpu` exists in DedicatedWorkerGlobalScope.
 */
import * as rnn from '../src/index';
import type { HostTensor, Sequential } from '../src/index';
import { prepareData, type Prepared } from './data';
import { buildModel, makeOptimizer } from './model';
import { HORIZON, type ForecastReport, type ForecastSeries, type FromWorker, type ModelConfig, type ToWorker, type WeightArray } from './protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (m: FromWorker, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

let model: Sequential | null = null;
let busy = false;
let stopRequested = false;

rnn.getGpu().then(
  (gpu) => post({ type: 'gpu', info: gpu.info }),
  (e: unknown) => post({ type: 'gpu-error', message: e instanceof Error ? e.message : String(e) }),
);

scope.onmessage = (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  switch (msg.type) {
    case 'stop':
      stopRequested = true;
      if (model) model.stopTraining = true;
      return;
    case 'start':
    case 'load':
      if (busy) {
        post({ type: 'error', message: 'The worker is busy with another run; stop it first.' });
        return;
      }
      busy = true;
      stopRequested = false;
      (msg.type === 'start' ? train(msg.config, msg.data) : load(msg.config, msg.data, msg.weights))
        .catch((e: unknown) => post({ type: 'error', message: describe(e) }))
        .finally(() => (busy = false));
      return;
    default:
      msg satisfies never;
  }
};

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}`;
  return String(e);
}

function fresh(config: ModelConfig, forLoading = false): Sequential {
  model?.dispose();
  model = null;
  const m = buildModel(config);
  // Evaluating loaded weights needs a compiled model; any available optimizer will do then.
  let optimizer;
  try {
    optimizer = makeOptimizer(config);
  } catch (e) {
    if (!forLoading) throw e;
    optimizer = rnn.optimizers.adam({ learningRate: config.learningRate });
  }
  m.compile({ optimizer, loss: 'mse' });
  model = m;
  return m;
}

async function train(config: ModelConfig, spec: Parameters<typeof prepareData>[0]): Promise<void> {
  const data = prepareData(spec, config.window, config.head);
  post({ type: 'data', info: data.info });
  const m = fresh(config);
  const n = data.info.nTrain;
  const batches = Math.ceil(n / config.batchSize);
  const t0 = performance.now();
  let samples = 0, epoch = 0, lastPost = 0;
  const progress = (kind: 'batch' | 'epoch', batch: number, logs?: Record<string, number>) => {
    const elapsedMs = performance.now() - t0;
    post({ type: 'progress', kind, epoch, epochs: config.epochs, batch, batches, samplesPerSec: samples / (elapsedMs / 1000), elapsedMs, ...(logs ? { logs } : {}) });
  };
  const h = await m.fit(data.train.x, data.train.y, {
    epochs: config.epochs,
    batchSize: config.batchSize,
    validationData: [data.valid.x, data.valid.y],
    seed: config.seed,
    // a worker is not a window: ask for a turn of the event loop often enough to see 'stop'
    yieldEvery: 20,
    callbacks: {
      onEpochBegin: (e) => {
        epoch = e;
      },
      onBatchEnd: (b, logs) => {
        samples += logs.size ?? 0;
        if (stopRequested) m.stopTraining = true;
        const t = performance.now();
        if (t - lastPost > 150 || b === batches - 1) {
          lastPost = t;
          progress('batch', b + 1);
        }
      },
      onEpochEnd: (e, logs) => {
        epoch = e;
        progress('epoch', batches, logs);
      },
    },
  });
  const elapsedMs = performance.now() - t0;
  const forecasts = await forecast(m, data, config);
  const weights = await weightArrays(m);
  const valLoss = h.history.val_loss?.at(-1) ?? NaN;
  post({ type: 'done', mode: 'trained', stopped: stopRequested, history: h.history, forecasts, weights, elapsedMs, valLoss }, weights.map((w) => w.data.buffer));
}

async function load(config: ModelConfig, spec: Parameters<typeof prepareData>[0], weights: WeightArray[]): Promise<void> {
  const data = prepareData(spec, config.window, config.head);
  post({ type: 'data', info: data.info });
  const m = fresh(config, true);
  const t0 = performance.now();
  await m.setWeights(weights.map((w) => ({ data: w.data, shape: w.shape })));
  const valLoss = (await m.evaluate(data.valid.x, data.valid.y)) as number;
  const forecasts = await forecast(m, data, config);
  const out = await weightArrays(m);
  post({ type: 'done', mode: 'loaded', stopped: false, history: {}, forecasts, weights: out, elapsedMs: performance.now() - t0, valLoss }, out.map((w) => w.data.buffer));
}

async function weightArrays(m: Sequential): Promise<WeightArray[]> {
  const ws = await m.getWeights();
  const names = m.weightNames;
  return ws.map((w, i) => ({ name: names[i] ?? `weight_${i}`, shape: [...w.shape], data: w.data }));
}

/**
 * 10-step forecasts of every validation window: the Dense(10) head predicts them at once; the
 * Dense(1) head predicts one step, which is appended to the window (oldest step dropped) and fed
 * back, ten times (the chapter's iterative forecast).
 */
async function forecast(m: Sequential, d: Prepared, config: ModelConfig): Promise<ForecastReport> {
  const x = d.valid.x, y10 = d.valid.y10;
  const n = x.shape[0]!, W = x.shape[1]!;
  let pred: Float32Array;
  if (config.head === 'vector10') {
    pred = (await m.predict(x)).data;
  } else {
    pred = new Float32Array(n * HORIZON);
    const cur = Float32Array.from(x.data);
    for (let k = 0; k < HORIZON; k++) {
      const p = (await m.predict({ data: cur, shape: [n, W, 1] })).data;
      for (let r = 0; r < n; r++) {
        pred[r * HORIZON + k] = p[r]!;
        cur.copyWithin(r * W, r * W + 1, (r + 1) * W);
        cur[(r + 1) * W - 1] = p[r]!;
      }
    }
  }
  const naive = rnn.data.naiveForecast(x, HORIZON);
  const predT: HostTensor = { data: pred, shape: [n, HORIZON] };
  const unscale = (v: number) => d.mean + d.std * v;
  const row = (a: Float32Array, r: number, len: number) => Array.from(a.subarray(r * len, (r + 1) * len), unscale);
  const picks = [...new Set([0, 1, 2].map((i) => Math.min(n - 1, Math.floor(((i + 0.5) * n) / 3))))];
  const series: ForecastSeries[] = picks.map((r) => ({
    index: r,
    history: row(x.data, r, W),
    truth: row(y10.data, r, HORIZON),
    forecast: row(pred, r, HORIZON),
    naive: row(naive.data, r, HORIZON),
  }));
  return {
    series,
    modelMse10: rnn.data.mse(predT, y10),
    naiveMse10: rnn.data.mse(naive, y10),
    mode: config.head === 'vector10' ? 'vector' : 'iterative',
  };
}
