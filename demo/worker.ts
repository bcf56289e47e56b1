/**
 * The demo's worker: parses CSV files (papaparse, off the page's main thread), builds the series
 * the page asks for, and trains and evaluates the models through the library's Worker helper
 * (`rnn.worker.serve`): the page makes models with `trainer.model('demo', config)` or
 * `trainer.loadModel(files)`, trains them on the 'run' dataset (cut here from the series the
 * worker holds, never sent to the page) and scores them with the 'evaluate' task. The demo's own
 * messages (demo/protocol.ts) share the Worker with the library's, which carry a tag:
 *   parse(file | seattle) → parse-progress…, table | table-error
 *   series(table, date column, column) → series | series-error
 *   during runs: status (what the worker does now, in words), data (the run's data description)
 * WebGPU works here: `navigator.gpu` exists in DedicatedWorkerGlobalScope.
 */
// By path: vega-datasets' package exports do not list its data files, so the bare specifier
// `vega-datasets/data/…` fails to resolve in Vite; the file is bundled (no network at run time).
import seattleCsv from '../node_modules/vega-datasets/data/seattle-weather.csv?raw';
import * as rnn from '../src/index';
import type { HostTensor, Sequential, WorkerTrainable } from '../src/index';
import { CsvError, MAX_BYTES, parseCsv, type ParsedTable } from './csv';
import { Batches, prepareData, windowsX, type Prepared } from './data';
import { nextTimes } from './dates';
import { buildModel, configProblems, makeOptimizer } from './model';
import { HORIZON, type DataRef, type EvalResult, type ForecastWindow, type FromWorker, type ModelConfig, type RunArgs, type RunResults, type Scores, type SeriesInfo, type TableInfo, type ToWorker } from './protocol';
import { baselineScores, buildSeries, downsample, meanStd, seasonalIndex, split, type CleanSeries } from './series';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (m: FromWorker, transfer: Transferable[] = []) => scope.postMessage(m, transfer);
const status = (text: string) => post({ type: 'status', text });
const int = (n: number) => n.toLocaleString('en-US');

/** Parsed files by id: the latest of each kind (the bundled Seattle file, the user's file). */
const tables = new Map<number, { kind: 'file' | 'seattle'; t: ParsedTable }>();
/** Series by id: the few most recent (the page may switch back to an earlier data set). */
const seriesById = new Map<number, CleanSeries>();
const KEEP_SERIES = 4;

rnn.worker.serve({
  models: { demo: (cfg) => fresh(cfg as ModelConfig) },
  datasets: {
    run: (args) => {
      const { config, ref } = args as RunArgs;
      status(ref.kind === 'series' ? `Cutting ${int(seriesById.get(ref.seriesId)?.values.length ?? 0)} values into windows of ${config.window}…` : 'Generating the synthetic series…');
      const data = runData(ref, config);
      post({ type: 'data', info: data.info });
      const b = new Batches(data, config.batchSize, config.seed);
      status(`Compiling the GPU kernels for ${int(data.info.nTrain)} training windows (${int(b.count)} batches an epoch)…`);
      return { dataset: (e, i) => b.batch(e, i), batchesPerEpoch: b.count, validationData: [data.validation.x, data.validation.y] };
    },
  },
  tasks: {
    // The model (trained, or loaded from files) against the truth and the baselines.
    evaluate: async (model, args): Promise<EvalResult> => {
      const { config, ref } = args as RunArgs;
      status('Preparing the data…');
      const data = runData(ref, config);
      const t0 = performance.now();
      const results = await evaluateRun(model, data, config);
      return { info: data.info, results, evalMs: performance.now() - t0 };
    },
  },
});

scope.addEventListener('message', (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  if ((msg as { channel?: unknown } | null)?.channel === 'webgpu-rnn') return; // the library's
  switch (msg.type) {
    case 'parse':
      void parse(msg.id, msg.source);
      return;
    case 'series':
      makeSeries(msg.id, msg.tableId, msg.dateColumn, msg.column);
      return;
    default:
      msg satisfies never;
  }
});

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

// ------------------------------------------------------------------ runs

/** The data of the latest run, kept for its evaluation (a 20 MB file's windows are cut once). */
let lastData: { key: string; data: Prepared } | null = null;

function runData(ref: DataRef, config: ModelConfig): Prepared {
  const key = JSON.stringify([ref, config.window, config.head]);
  if (lastData?.key === key) return lastData.data;
  const s = ref.kind === 'series' ? seriesById.get(ref.seriesId) : undefined;
  if (ref.kind === 'series' && !s) throw new Error('The data is no longer loaded; choose it again.');
  lastData = null;
  const data = prepareData(ref, s ?? null, config.window, config.head);
  lastData = { key, data };
  return data;
}

/** The model a config describes, compiled (for evaluation only, any available optimizer will do). */
function fresh(config: ModelConfig): Sequential {
  const problems = configProblems(config);
  if (problems.length) throw new RangeError(`The model settings are invalid: ${problems.join('; ')}.`);
  status(`Building the model and its weights on the GPU…`);
  const m = buildModel(config);
  let optimizer;
  try {
    optimizer = makeOptimizer(config);
  } catch {
    optimizer = rnn.optimizers.adam({ learningRate: config.learningRate });
  }
  m.compile({ optimizer, loss: 'mse' });
  return m;
}

/**
 * 10-step forecasts of the windows x [n, W, 1] (standardized): the Dense(10) head predicts them at
 * once; the Dense(1) head predicts one step, which is appended to the window (oldest step
 * dropped) and fed back, ten times (the chapter's iterative forecast). Returns [n, 10].
 */
async function tenSteps(m: WorkerTrainable, x: HostTensor, config: ModelConfig): Promise<Float32Array> {
  const n = x.shape[0]!, W = x.shape[1]!;
  if (config.head === 'vector10') return (await m.predict(x) as HostTensor).data;
  const pred = new Float32Array(n * HORIZON);
  const cur = Float32Array.from(x.data);
  for (let k = 0; k < HORIZON; k++) {
    const p = ((await m.predict({ data: cur, shape: [n, W, 1] })) as HostTensor).data;
    for (let r = 0; r < n; r++) {
      pred[r * HORIZON + k] = p[r]!;
      cur.copyWithin(r * W, r * W + 1, (r + 1) * W);
      cur[(r + 1) * W - 1] = p[r]!;
    }
  }
  return pred;
}

/** The trained (or loaded) model against the truth and the baselines on the validation windows, and its forecast beyond the data. */
async function evaluateRun(m: WorkerTrainable, d: Prepared, config: ModelConfig): Promise<RunResults> {
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
