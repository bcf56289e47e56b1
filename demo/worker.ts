/**
 * The demo's worker: parses CSV files (papaparse, off the page's main thread), builds the series
 * the page asks for, and owns the GPU device and the model, so the page only draws.
 * Protocol (demo/protocol.ts):
 *   init → gpu | gpu-error
 *   parse(file | seattle) → parse-progress…, table | table-error
 *   series(table, date column, column) → series | series-error
 *   start(config, data) → status, data, progress…, trained, status, done | error
 *   load(config, data, weights) → status, data, done | error
 *   stop → fit ends after the current batch; the forecasts are computed from the weights so far.
 * WebGPU works here: `navigator.gpu` exists in DedicatedWorkerGlobalScope.
 */
// By path: vega-datasets' package exports do not list its data files, so the bare specifier
// `vega-datasets/data/…` fails to resolve in Vite; the file is bundled (no network at run time).
import seattleCsv from '../node_modules/vega-datasets/data/seattle-weather.csv?raw';
import * as rnn from '../src/index';
import type { HostTensor, Sequential } from '../src/index';
import { CsvError, MAX_BYTES, parseCsv, type ParsedTable } from './csv';
import { Batches, prepareData, windowsX, type Prepared } from './data';
import { nextTimes } from './dates';
import { buildModel, makeOptimizer } from './model';
import { HORIZON, type DataRef, type ForecastWindow, type FromWorker, type ModelConfig, type RunResults, type Scores, type SeriesInfo, type TableInfo, type ToWorker, type WeightArray } from './protocol';
import { baselineScores, buildSeries, downsample, meanStd, seasonalIndex, split, type CleanSeries } from './series';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (m: FromWorker, transfer: Transferable[] = []) => scope.postMessage(m, transfer);
const status = (text: string) => post({ type: 'status', text });
const int = (n: number) => n.toLocaleString('en-US');

let model: Sequential | null = null;
let busy = false;
let stopRequested = false;
/** Parsed files by id: the latest of each kind (the bundled Seattle file, the user's file). */
const tables = new Map<number, { kind: 'file' | 'seattle'; t: ParsedTable }>();
/** Series by id: the few most recent (the page may switch back to an earlier data set). */
const seriesById = new Map<number, CleanSeries>();
const KEEP_SERIES = 4;

scope.onmessage = (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  switch (msg.type) {
    case 'init':
      rnn.getGpu().then(
        (gpu) => post({ type: 'gpu', info: gpu.info }),
        (e: unknown) => post({ type: 'gpu-error', message: describe(e) }),
      );
      return;
    case 'parse':
      void parse(msg.id, msg.source);
      return;
    case 'series':
      makeSeries(msg.id, msg.tableId, msg.dateColumn, msg.column);
      return;
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
  if (e instanceof CsvError) return e.message;
  if (e instanceof Error) return `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}`;
  return String(e);
}

// ------------------------------------------------------------------ data

async function parse(id: number, source: { kind: 'file'; file: File } | { kind: 'seattle' }): Promise<void> {
  try {
    let text: string, name: string;
    if (source.kind === 'file') {
      const f = source.file;
      name = f.name;
      if (f.size > MAX_BYTES) throw new CsvError(`${f.name} is ${(f.size / 2 ** 20).toFixed(1)} MB; the demo reads files up to ${MAX_BYTES / 2 ** 20} MB.`);
      text = await f.text();
    } else {
      text = seattleCsv;
      name = 'seattle-weather.csv';
    }
    const t = parseCsv(text, name, (fraction) => post({ type: 'parse-progress', id, fraction }));
    for (const [k, v] of tables) if (v.kind === source.kind) tables.delete(k);
    tables.set(id, { kind: source.kind, t });
    const info: TableInfo = {
      id,
      fileName: t.fileName,
      chars: t.chars,
      rows: t.rows,
      columns: t.columns,
      numeric: t.numeric,
      dates: t.dates.map((d) => ({ column: d.column, format: d.format, invalid: d.invalid })),
      delimiter: t.delimiter,
      decimalComma: t.decimalComma,
      hasHeader: t.hasHeader,
      parseMs: t.parseMs,
    };
    post({ type: 'table', id, info });
  } catch (e) {
    post({ type: 'table-error', id, message: e instanceof CsvError ? e.message : `The file could not be read: ${describe(e)}` });
  }
}

function makeSeries(id: number, tableId: number, dateColumn: number | null, column: number): void {
  try {
    const table = tables.get(tableId);
    if (!table) throw new CsvError('The file changed meanwhile; choose it again.');
    const t0 = performance.now();
    const s = buildSeries(table.t, dateColumn, column);
    seriesById.set(id, s);
    while (seriesById.size > KEEP_SERIES) seriesById.delete(seriesById.keys().next().value!);
    const L = s.values.length;
    const sp = split(L, 1, 1);
    const { std } = meanStd(s.values, Math.max(1, sp.cut));
    const b = sp.cut > 1 && sp.validRows > HORIZON ? baselineScores(s.values, sp, std, 1, s.seasonal?.period ?? null) : null;
    const info: SeriesInfo = {
      id,
      tableId,
      name: s.name,
      column: s.column,
      dateColumn: s.dateColumn,
      length: L,
      first: s.times ? s.times[0]! : null,
      last: s.times ? s.times[L - 1]! : null,
      withTime: s.withTime,
      frequency: s.frequency,
      seasonal: s.seasonal,
      notes: s.notes,
      facts: s.facts,
      preview: downsample(s.times, s.values, 1000),
      split: { cut: sp.cut, validRows: sp.validRows, firstValid: s.times ? (s.times[sp.cut] ?? null) : null },
      baselines: {
        naiveMae1: b?.naive.mae1 ?? NaN,
        naiveMae10: b?.naive.mae10 ?? NaN,
        seasonalMae1: b?.seasonal?.mae1 ?? null,
        seasonalMae10: b?.seasonal?.mae10 ?? null,
      },
      buildMs: performance.now() - t0,
    };
    post({ type: 'series', id, info });
  } catch (e) {
    post({ type: 'series-error', id, message: describe(e) });
  }
}

function runData(ref: DataRef, config: ModelConfig): Prepared {
  const s = ref.kind === 'series' ? seriesById.get(ref.seriesId) : undefined;
  if (ref.kind === 'series' && !s) throw new Error('The data is no longer loaded; choose it again.');
  return prepareData(ref, s ?? null, config.window, config.head);
}

// ------------------------------------------------------------------ runs

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

async function train(config: ModelConfig, ref: DataRef): Promise<void> {
  status(ref.kind === 'series' ? `Cutting ${int(seriesById.get(ref.seriesId)?.values.length ?? 0)} values into windows of ${config.window}…` : 'Generating the synthetic series…');
  const data = runData(ref, config);
  post({ type: 'data', info: data.info });
  const m = fresh(config);
  const n = data.info.nTrain;
  const batches = new Batches(data, config.batchSize, config.seed);
  status(`Compiling the GPU kernels for ${int(n)} training windows (${int(batches.count)} batches an epoch)…`);
  const t0 = performance.now();
  let samples = 0, epoch = 0, lastPost = 0, lastBatch = 0;
  const progress = (kind: 'batch' | 'epoch', batch: number, logs?: Record<string, number>) => {
    const elapsedMs = performance.now() - t0;
    post({ type: 'progress', kind, epoch, epochs: config.epochs, batch, batches: batches.count, samplesPerSec: samples / (elapsedMs / 1000), elapsedMs, ...(logs ? { logs } : {}) });
  };
  let history: Record<string, number[]> = {};
  if (!stopRequested) {
    const h = await m.fitDataset((e, b) => batches.batch(e, b), {
      epochs: config.epochs,
      batchesPerEpoch: batches.count,
      validationData: [data.validation.x, data.validation.y],
      // a worker is not a window: ask for a turn of the event loop often enough to see 'stop'
      yieldEvery: 20,
      callbacks: {
        onEpochBegin: (e) => {
          epoch = e;
          if (stopRequested) m.stopTraining = true;
        },
        onBatchEnd: (b, logs) => {
          samples += logs.size ?? 0;
          lastBatch = b + 1;
          if (stopRequested) m.stopTraining = true;
          const t = performance.now();
          if (t - lastPost > 150 || b === batches.count - 1) {
            lastPost = t;
            progress('batch', b + 1);
          }
        },
        onEpochEnd: (e, logs) => {
          epoch = e;
          progress('epoch', lastBatch, logs);
        },
      },
    });
    history = h.history;
  }
  const trainMs = performance.now() - t0;
  const epochs = history.loss?.length ?? 0;
  post({ type: 'trained', stopped: stopRequested, epochs, batch: lastBatch, batches: batches.count, elapsedMs: trainMs });
  const t1 = performance.now();
  const results = await evaluateRun(m, data, config);
  const weights = await weightArrays(m);
  post({ type: 'done', mode: 'trained', stopped: stopRequested, history, results, weights, trainMs, evalMs: performance.now() - t1 }, weights.map((w) => w.data.buffer));
}

async function load(config: ModelConfig, ref: DataRef, weights: WeightArray[]): Promise<void> {
  status('Preparing the data…');
  const data = runData(ref, config);
  post({ type: 'data', info: data.info });
  const m = fresh(config, true);
  status('Setting the weights…');
  const t0 = performance.now();
  await m.setWeights(weights.map((w) => ({ data: w.data, shape: w.shape })));
  const results = await evaluateRun(m, data, config);
  const out = await weightArrays(m);
  post({ type: 'done', mode: 'loaded', stopped: false, history: {}, results, weights: out, trainMs: 0, evalMs: performance.now() - t0 }, out.map((w) => w.data.buffer));
}

async function weightArrays(m: Sequential): Promise<WeightArray[]> {
  const ws = await m.getWeights();
  const names = m.weightNames;
  return ws.map((w, i) => ({ name: names[i] ?? `weight_${i}`, shape: [...w.shape], data: w.data }));
}

/**
 * 10-step forecasts of the windows x [n, W, 1] (standardized): the Dense(10) head predicts them at
 * once; the Dense(1) head predicts one step, which is appended to the window (oldest step
 * dropped) and fed back, ten times (the chapter's iterative forecast). Returns [n, 10].
 */
async function tenSteps(m: Sequential, x: HostTensor, config: ModelConfig): Promise<Float32Array> {
  const n = x.shape[0]!, W = x.shape[1]!;
  if (config.head === 'vector10') return (await m.predict(x)).data;
  const pred = new Float32Array(n * HORIZON);
  const cur = Float32Array.from(x.data);
  for (let k = 0; k < HORIZON; k++) {
    const p = (await m.predict({ data: cur, shape: [n, W, 1] })).data;
    for (let r = 0; r < n; r++) {
      pred[r * HORIZON + k] = p[r]!;
      cur.copyWithin(r * W, r * W + 1, (r + 1) * W);
      cur[(r + 1) * W - 1] = p[r]!;
    }
  }
  return pred;
}

/** The trained (or loaded) model against the truth and the baselines on the validation windows, and its forecast beyond the data. */
async function evaluateRun(m: Sequential, d: Prepared, config: ModelConfig): Promise<RunResults> {
  const { z, W, mean, std } = d;
  const unscale = (v: number) => mean + std * v;
  const n1 = d.valid1Starts.length, n10 = d.valid10Starts.length;
  status(`Forecasting ${int(n1)} validation ${d.series ? 'rows' : 'series'} (next step and 10 steps ahead)…`);
  // Ten steps from every validation window at once: the first step of each is its next-step
  // forecast, and the 10-step windows are the first n10 of them (the same starts, fewer at the end).
  const x1 = windowsX(z, d.valid1Starts, W);
  for (let r = 0; r < n10; r++) if (d.valid10Starts[r] !== d.valid1Starts[r]) throw new Error('demo: the 10-step validation windows must lead the next-step ones');
  const all = await tenSteps(m, x1, config);
  const p1 = Float32Array.from({ length: n1 }, (_, r) => all[r * HORIZON]!);
  const p10 = all.subarray(0, n10 * HORIZON);

  const truthAt = (s: number, k: number) => z[s + W + k]!; // k-th future step (0-based) of the window at s
  let a1 = 0, a10 = 0, se = 0, nse = 0;
  for (let r = 0; r < n1; r++) {
    const e = p1[r]! - truthAt(d.valid1Starts[r]!, 0);
    a1 += Math.abs(e);
    if (d.targetLen === 1) {
      se += e * e;
      nse++;
    }
  }
  const truth10 = new Float32Array(n10 * HORIZON), model10 = new Float32Array(n10 * HORIZON), naive10 = new Float32Array(n10 * HORIZON);
  const period = d.series?.seasonal?.period ?? null;
  const seasonal10 = d.info.seasonal && period ? new Float32Array(n10 * HORIZON) : null;
  for (let r = 0; r < n10; r++) {
    const s = d.valid10Starts[r]!;
    for (let k = 0; k < HORIZON; k++) {
      const e = p10[r * HORIZON + k]! - truthAt(s, k);
      a10 += Math.abs(e);
      if (d.targetLen === HORIZON) {
        se += e * e;
        nse++;
      }
      truth10[r * HORIZON + k] = unscale(truthAt(s, k));
      model10[r * HORIZON + k] = unscale(p10[r * HORIZON + k]!);
      naive10[r * HORIZON + k] = unscale(z[s + W - 1]!);
      if (seasonal10) seasonal10[r * HORIZON + k] = d.series!.values[seasonalIndex(s + W - 1, k + 1, period!)]!;
    }
  }
  const modelScores: Scores = { mae1: (a1 / n1) * std, mae10: (a10 / (n10 * HORIZON)) * std, mseLoss: se / nse };

  const s = d.series;
  const xOf = (i: number) => (s?.times ? s.times[i]! : i);
  // The next-step forecasts over the validation rows (series only).
  let validation: RunResults['validation'] = null;
  if (s) {
    const rows = Array.from(d.valid1Starts, (st) => st + W);
    validation = {
      x: rows.map(xOf),
      truth: rows.map((t) => s.values[t]!),
      model: Array.from(p1, unscale),
      naive: rows.map((t) => s.values[t - 1]!),
      seasonal: d.info.seasonal && period ? rows.map((t) => s.values[t - period]!) : null,
    };
  }
  // Three windows to draw: a third of the way, two thirds, and the most recent.
  const picks = [...new Set([1, 2, 3].map((i) => Math.max(0, Math.ceil((i * n10) / 3) - 1)))];
  const windows: ForecastWindow[] = picks.map((r) => {
    const st = d.valid10Starts[r]!;
    const hist = Array.from(z.subarray(st, st + W), unscale);
    const row = (a: Float32Array) => Array.from(a.subarray(r * HORIZON, (r + 1) * HORIZON));
    return {
      index: r,
      historyX: s ? Array.from({ length: W }, (_, i) => xOf(st + i)) : Array.from({ length: W }, (_, i) => i - W + 1),
      history: hist,
      x: s ? Array.from({ length: HORIZON }, (_, k) => xOf(st + W + k)) : Array.from({ length: HORIZON }, (_, k) => k + 1),
      truth: row(truth10),
      forecast: row(model10),
      naive: row(naive10),
      seasonal: seasonal10 ? row(seasonal10) : null,
    };
  });
  // The ten steps after the data ends.
  let future: RunResults['future'] = null;
  if (s) {
    const L = s.values.length;
    status('Forecasting the 10 steps after the data ends…');
    const last = windowsX(z, [L - W], W);
    const f = await tenSteps(m, last, config);
    const historyX = Array.from({ length: W }, (_, i) => xOf(L - W + i));
    let x: number[];
    if (s.times && s.frequency) {
      const medianStep = L > 1 ? (s.times[L - 1]! - s.times[0]!) / (L - 1) : 86_400_000;
      x = nextTimes(s.times[L - 1]!, s.frequency, HORIZON, medianStep);
    } else x = Array.from({ length: HORIZON }, (_, k) => L + k);
    future = { historyX, history: Array.from(last.data, unscale), x, forecast: Array.from(f, unscale) };
  }
  return {
    model: modelScores,
    naive: d.info.naive,
    seasonal: d.info.seasonal,
    seasonalLabel: d.info.seasonalLabel,
    mode: config.head === 'vector10' ? 'vector' : 'iterative',
    validation,
    tenStep: { n: n10, truth: truth10, model: model10, naive: naive10, seasonal: seasonal10 },
    windows,
    future,
    withTime: d.info.withTime,
    hasDates: !!s?.times,
  };
}
