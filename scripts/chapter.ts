/**
 * `npm start`: the Hands-On ML chapter 15 experiments on the built-in synthetic series, trained
 * with webgpu-rnn and printed next to the book's numbers; writes an HTML report with loss curves
 * and forecast plots to reports/chapter.html.
 *
 *   npm start                    the book's budget for the rows that fit in 5 minutes on a 2-core
 *                                machine with a software GPU (A–J: in the book's band), a reduced
 *                                one for K–N; each row of the table says its budget
 *   npm start -- --full          the book's setup: 20 epochs, 7000 training series, batch 32
 *   npm start -- --only lstm,gru a subset (ids: naive linear rnn1 deep deepdense iter linear10
 *                                seq2vec vec2seq encdec seq2seq bn lncell lstm gru)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as rnn from '../src/index';
import { chapterData, naiveForecast, mse, kerasMse, float32String, generateTimeSeries, type ChapterData } from '../src/data/synthetic';
import type { HostTensor } from '../src/host';
import { progressBar } from './progress';
import { writeReport, type ReportExperiment } from './report';

interface Budget {
  epochs: number;
  /** Training series (of 7000). */
  train: number;
}

const FULL: Budget = { epochs: 20, train: 7000 };

interface Experiment {
  id: string;
  name: string;
  data: '1-step' | '10-step' | 'seq2seq';
  metric: 'valid MSE' | 'valid last-step MSE';
  /** The book's value (NaN: the book has none — the lecture's other network shapes). */
  book: number;
  /** The band the issue accepts with --full (reference-results.md §1.5). */
  band: number;
  reduced: Budget;
  lr: number;
  build: () => rnn.Model;
  /** The model's inputs for windows x and targets y (default x alone). */
  inputs?: (x: HostTensor, y: HostTensor) => HostTensor | HostTensor[];
  /** The validation forecasts [B, 10] (default model.predict); the metric is their MSE. */
  forecast?: (model: rnn.Model, x: HostTensor) => Promise<HostTensor>;
  /** A short note for the table's report. */
  note?: string;
}

const L = rnn.layers;
const EXPERIMENTS: Experiment[] = [
  {
    id: 'linear', name: 'A  Linear: Flatten → Dense(1)', data: '1-step', metric: 'valid MSE', book: 0.004168087150901556, band: 0.005,
    reduced: FULL, lr: 0.001,
    build: () => rnn.sequential({ layers: [L.flatten({ inputShape: [50, 1] }), L.dense({ units: 1 })] }),
  },
  {
    id: 'rnn1', name: 'B  SimpleRNN(1)', data: '1-step', metric: 'valid MSE', book: 0.010881561785936356, band: 0.012,
    reduced: { epochs: 20, train: 7000 }, lr: 0.005,
    build: () => rnn.sequential({ layers: [L.simpleRNN({ units: 1, inputShape: [null, 1] })] }),
  },
  {
    id: 'deep', name: 'C  Deep RNN: SimpleRNN(20,20,1)', data: '1-step', metric: 'valid MSE', book: 0.002910564187914133, band: 0.0035,
    reduced: FULL, lr: 0.001,
    build: () => rnn.sequential({ layers: [
      L.simpleRNN({ units: 20, returnSequences: true, inputShape: [null, 1] }),
      L.simpleRNN({ units: 20, returnSequences: true }),
      L.simpleRNN({ units: 1 }),
    ] }),
  },
  {
    id: 'deepdense', name: 'D  Deep RNN + Dense(1)', data: '1-step', metric: 'valid MSE', book: 0.002623623702675104, band: 0.0032,
    reduced: FULL, lr: 0.001,
    build: () => rnn.sequential({ layers: [
      L.simpleRNN({ units: 20, returnSequences: true, inputShape: [null, 1] }),
      L.simpleRNN({ units: 20 }),
      L.dense({ units: 1 }),
    ] }),
  },
  {
    id: 'linear10', name: 'F  Linear, 10 outputs', data: '10-step', metric: 'valid MSE', book: 0.0187, band: 0.0195,
    reduced: FULL, lr: 0.001,
    build: () => rnn.sequential({ layers: [L.flatten({ inputShape: [50, 1] }), L.dense({ units: 10 })] }),
  },
  {
    id: 'seq2vec', name: 'G  Seq-to-vector: RNN(20,20) → Dense(10)', data: '10-step', metric: 'valid MSE', book: 0.0085, band: 0.010,
    reduced: FULL, lr: 0.001,
    build: () => rnn.sequential({ layers: [
      L.simpleRNN({ units: 20, returnSequences: true, inputShape: [null, 1] }),
      L.simpleRNN({ units: 20 }),
      L.dense({ units: 10 }),
    ] }),
  },
  {
    id: 'vec2seq', name: 'M  Vector-to-seq: LSTM(20) → RepeatVector(10) → LSTM(20) → TD(Dense(1))', data: '10-step', metric: 'valid MSE', book: NaN, band: 0.010,
    reduced: { epochs: 5, train: 3000 }, lr: 0.001,
    note: 'the 50-step window summarized to a vector by an LSTM, repeated 10 times and decoded to 10 steps (the lecture\'s vector-to-sequence shape)',
    build: () => {
      const x = rnn.input({ shape: [null, 1] });
      const v = L.lstm({ units: 20 }).apply(x) as rnn.SymbolicTensor;
      const seq = L.lstm({ units: 20, returnSequences: true }).apply(L.repeatVector({ n: 10 }).apply(v) as rnn.SymbolicTensor) as rnn.SymbolicTensor;
      const y = L.timeDistributed({ layer: L.dense({ units: 1 }) }).apply(seq) as rnn.SymbolicTensor;
      return rnn.model({ inputs: x, outputs: L.reshape({ targetShape: [10] }).apply(y) as rnn.SymbolicTensor, name: 'vector_to_sequence' });
    },
  },
  {
    id: 'encdec', name: 'N  Encoder–decoder: RNN(20,20) state → GRU(20) decoder', data: '10-step', metric: 'valid MSE', book: NaN, band: 0.010,
    reduced: { epochs: 5, train: 3000 }, lr: 0.001,
    note: 'the encoder\'s final state starts the decoder, which also reads it at every step; trained with teacher forcing (the decoder reads the previous true value, with GaussianNoise(0.2) in training), forecasting from its own previous output (the lecture\'s encoder–decoder shape)',
    build: encoderDecoder,
    inputs: (x, y) => [x, teacherInputs(x, y)],
    forecast: decodeAutoregressive,
  },
  {
    id: 'seq2seq', name: 'H  Seq-to-seq SimpleRNN(20,20) → TD(Dense(10))', data: 'seq2seq', metric: 'valid last-step MSE', book: 0.0096, band: 0.012,
    reduced: FULL, lr: 0.01,
    build: () => rnn.sequential({ layers: [
      L.simpleRNN({ units: 20, returnSequences: true, inputShape: [null, 1] }),
      L.simpleRNN({ units: 20, returnSequences: true }),
      L.timeDistributed({ layer: L.dense({ units: 10 }) }),
    ] }),
  },
  {
    id: 'bn', name: 'I  Seq-to-seq + BatchNormalization', data: 'seq2seq', metric: 'valid last-step MSE', book: 0.0164, band: 0.022,
    reduced: FULL, lr: 0.001,
    build: () => rnn.sequential({ layers: [
      L.simpleRNN({ units: 20, returnSequences: true, inputShape: [null, 1] }),
      L.batchNormalization(),
      L.simpleRNN({ units: 20, returnSequences: true }),
      L.batchNormalization(),
      L.timeDistributed({ layer: L.dense({ units: 10 }) }),
    ] }),
  },
  {
    // The custom cell runs as generated fused kernels (docs/design.md §6.2). The first run on a machine
    // waits ~2 minutes on lavapipe before its first epoch (Mesa's shader cache is empty; docs/performance.md).
    id: 'lncell', name: 'J  Seq-to-seq, layer-normalized cell (RNN(LNSimpleRNNCell))', data: 'seq2seq', metric: 'valid last-step MSE', book: 0.0121, band: 0.016,
    reduced: FULL, lr: 0.001,
    build: () => rnn.sequential({ layers: [
      L.rnn({ cell: L.lnSimpleRNNCell({ units: 20 }), returnSequences: true, inputShape: [null, 1] }),
      L.rnn({ cell: L.lnSimpleRNNCell({ units: 20 }), returnSequences: true }),
      L.timeDistributed({ layer: L.dense({ units: 10 }) }),
    ] }),
  },
  {
    id: 'lstm', name: 'K  LSTM(20,20) → TD(Dense(10))', data: 'seq2seq', metric: 'valid last-step MSE', book: 0.00856079813092947, band: 0.010,
    reduced: { epochs: 5, train: 3000 }, lr: 0.001,
    build: () => rnn.sequential({ layers: [
      L.lstm({ units: 20, returnSequences: true, inputShape: [null, 1] }),
      L.lstm({ units: 20, returnSequences: true }),
      L.timeDistributed({ layer: L.dense({ units: 10 }) }),
    ] }),
  },
  {
    id: 'gru', name: 'L  GRU(20,20) → TD(Dense(10))', data: 'seq2seq', metric: 'valid last-step MSE', book: 0.010262809693813324, band: 0.013,
    reduced: { epochs: 5, train: 3000 }, lr: 0.001,
    build: () => rnn.sequential({ layers: [
      L.gru({ units: 20, returnSequences: true, inputShape: [null, 1] }),
      L.gru({ units: 20, returnSequences: true }),
      L.timeDistributed({ layer: L.dense({ units: 10 }) }),
    ] }),
  },
];

interface Row {
  name: string;
  metric: string;
  ours: number;
  book: number;
  band: string;
  budget: string;
  seconds: number;
  pass: boolean | null;
  /** Trained with the book's budget (else the band does not apply to the value shown). */
  fullBudget?: boolean;
}

function parseArgs(argv: string[]) {
  const full = argv.includes('--full');
  const onlyIdx = argv.indexOf('--only');
  const only = onlyIdx >= 0 ? (argv[onlyIdx + 1] ?? '').split(',').filter(Boolean) : null;
  const unknown = argv.filter((a, i) => a.startsWith('--') && !['--full', '--only'].includes(a) && argv[i - 1] !== '--only');
  if (unknown.length) throw new Error(`unknown option(s): ${unknown.join(' ')} (use --full, --only id,id)`);
  const ids = new Set(['naive', 'iter', ...EXPERIMENTS.map((e) => e.id)]);
  const bad = (only ?? []).filter((id) => !ids.has(id));
  if (bad.length) throw new Error(`unknown experiment id(s): ${bad.join(', ')} (known: ${[...ids].join(', ')})`);
  return { full, only };
}

const budgetText = (b: Budget) => (b.epochs === FULL.epochs && b.train === FULL.train ? 'full (20 ep, 7000, bs 32)' : `${b.epochs} ep, ${b.train} series, bs 32`);

/** The first `n` rows of a split. */
function head(t: HostTensor, n: number): HostTensor {
  const row = t.data.length / t.shape[0]!;
  const k = Math.min(n, t.shape[0]!);
  return { data: t.data.subarray(0, k * row), shape: [k, ...t.shape.slice(1)] };
}

async function main(): Promise<void> {
  const { full, only } = parseArgs(process.argv.slice(2));
  const want = (id: string) => !only || only.includes(id);
  const gpu = await rnn.getGpu();
  const adapter = [gpu.info.vendor, gpu.info.architecture, gpu.info.description].filter(Boolean).join(' / ') || 'unknown adapter';
  console.log('webgpu-rnn — Hands-On ML ch. 15 experiments (synthetic series)');
  console.log(`GPU: ${adapter}${gpu.info.isFallbackAdapter ? ' (software adapter)' : ''}`);
  console.log(`Budget: ${full ? 'full — the book’s setup (20 epochs, 7000 training series, batch 32)' : 'reduced (see each row; `npm start -- --full` runs the book’s setup)'}\n`);

  const datasets: Record<string, ChapterData> = {
    '1-step': chapterData('1-step'),
    '10-step': chapterData('10-step'),
    seq2seq: chapterData('seq2seq'),
  };
  // One new series for the forecast plots, as in the book (seed 43: "not 42, as it would give the first series in the train set").
  const plotSeries = generateTimeSeries(1, 60, 43);
  const rows: Row[] = [];
  const report: ReportExperiment[] = [];

  if (want('naive')) {
    const d1 = datasets['1-step']!, d10 = datasets['10-step']!;
    // computed in float32 exactly as the notebook printed it (np.mean of Keras's per-row MSE)
    rows.push({ name: 'Naive: last value (1 step)', metric: 'valid MSE', ours: kerasMse(d1.valid.y, naiveForecast(d1.valid.x)), book: 0.020211367, band: 'exact', budget: 'data only', seconds: 0, pass: null });
    rows.push({ name: 'Naive: last value repeated (10 steps)', metric: 'valid MSE', ours: kerasMse(d10.valid.y, naiveForecast(d10.valid.x, 10)), book: 0.25697407, band: 'exact', budget: 'data only', seconds: 0, pass: null });
  }
  const naive1 = mse(naiveForecast(datasets['1-step']!.valid.x), datasets['1-step']!.valid.y);
  const naive10 = mse(naiveForecast(datasets['10-step']!.valid.x, 10), datasets['10-step']!.valid.y);
  let modelD: rnn.Sequential | null = null;

  for (const ex of EXPERIMENTS) {
    const needD = ex.id === 'deepdense' && want('iter');
    if (!want(ex.id) && !needD) continue;
    const budget = full ? FULL : ex.reduced;
    const d = datasets[ex.data]!;
    const xTrain = head(d.train.x, budget.train), yTrain = head(d.train.y, budget.train);
    rnn.setSeed(42);
    const model = ex.build();
    const lastStep = ex.metric === 'valid last-step MSE';
    model.compile({ optimizer: rnn.optimizers.adam({ learningRate: ex.lr }), loss: 'mse', metrics: lastStep ? ['lastTimeStepMse'] : [] });
    const t0 = performance.now();
    const inputs = ex.inputs ?? ((x: HostTensor) => x);
    const history = await model.fit(inputs(xTrain, yTrain), yTrain, {
      epochs: budget.epochs, batchSize: 32, validationData: [inputs(d.valid.x, d.valid.y), d.valid.y], seed: 42,
      callbacks: progressBar(ex.name.padEnd(44).slice(0, 44), budget.epochs, Math.ceil(budget.train / 32)),
    });
    const seconds = (performance.now() - t0) / 1000;
    let ours: number;
    if (ex.forecast) ours = mse(await ex.forecast(model, d.valid.x), d.valid.y);
    else {
      const ev = await model.evaluate(inputs(d.valid.x, d.valid.y), d.valid.y);
      ours = Array.isArray(ev) ? ev[1]! : (ev as number);
    }
    const naive = ex.data === '1-step' ? naive1 : naive10;
    const fullBudget = budget.epochs === FULL.epochs && budget.train === FULL.train;
    const seq2vec = rows.find((r) => r.name.startsWith('G '))?.ours;
    const shapeNote = Number.isNaN(ex.book) && seq2vec !== undefined ? (ours < seq2vec ? ' (beats G)' : ' (does not beat G)') : '';
    rows.push({ name: ex.name, metric: ex.metric, ours, book: ex.book, band: `≤ ${ex.band}${shapeNote}`, budget: budgetText(budget), seconds, pass: full || fullBudget ? ours <= ex.band && ours < naive : null, fullBudget });
    report.push({ name: ex.name, metric: ex.metric, ours, book: ex.book, history: history.history, forecast: await forecastPlot(model, ex, plotSeries), ...(ex.note ? { note: ex.note } : {}) });
    if (ex.id === 'deepdense') modelD = model as rnn.Sequential;
    else model.dispose();
    if (ex.id === 'deepdense' && want('iter')) {
      // E: model D applied 10 times, each prediction appended to the input.
      const d10 = datasets['10-step']!;
      const t1 = performance.now();
      const pred = await rnn.iterativeForecast(model as rnn.Sequential, d10.valid.x, 10, { batchSize: 500 });
      rows.push({ name: 'E  Iterative 10-step forecast with model D', metric: 'valid MSE', ours: mse(pred, d10.valid.y), book: 0.027510857, band: '≤ 0.0300', budget: budgetText(budget), seconds: (performance.now() - t1) / 1000, pass: full ? mse(pred, d10.valid.y) <= 0.03 : null, fullBudget: full || (budget.epochs === FULL.epochs && budget.train === FULL.train) });
    }
  }
  modelD?.dispose();
  printTable(rows, full);
  mkdirSync('reports', { recursive: true });
  writeFileSync('reports/chapter.html', writeReport({ title: 'webgpu-rnn — Hands-On ML ch. 15', adapter, budget: full ? 'full' : 'reduced', experiments: report, table: rows.map((r) => ({ ...r })) }));
  console.log('\nReport with loss curves and forecasts: reports/chapter.html');
  if (full && rows.some((r) => r.pass === false)) {
    console.log('Some experiments landed outside the book’s band (see "In band").');
  }
}

/** The seed-43 series' first 50 steps, its next 10 true values and the model's forecast of them. */
async function forecastPlot(model: rnn.Model, ex: Experiment, series: HostTensor): Promise<ReportExperiment['forecast']> {
  const s = Array.from(series.data);
  const x = { data: series.data.slice(0, 50), shape: [1, 50, 1] };
  let pred: number[];
  if (ex.data === '1-step') pred = Array.from((await rnn.iterativeForecast(model as rnn.Sequential, x, 10)).data);
  else if (ex.forecast) pred = Array.from((await ex.forecast(model, x)).data);
  else {
    const out = (await model.predictAll(x))[0]!;
    // seq2seq: the 10 forecasts made after the last input step
    pred = Array.from(ex.data === 'seq2seq' ? out.data.slice(49 * 10, 50 * 10) : out.data);
  }
  return { history: s.slice(0, 50), truth: s.slice(50, 60), pred };
}

// ---------------------------------------------------------------- the encoder–decoder (N)

const ENC_DEC = { encoder: 'encoder', decoder: 'decoder', head: 'head' } as const;

/**
 * Training model: x (50 steps) → encoder SimpleRNN(20, 20) → its final h starts a GRU(20) decoder,
 * which reads at every step [the previous value of the target (teacher forcing; Gaussian noise in
 * training so that it copes with its own imperfect outputs at inference), h] → Dense(1) per step.
 * Measured with --full (valid MSE, autoregressive): LSTM(20) → LSTM(20) reading only the previous
 * value 0.0162; + h at every step 0.0118; + noise 0.2 0.0106; this model without noise 0.0113,
 * with noise 0.1 0.0044, 0.2 0.0038 (seq-to-vector G: 0.0094).
 */
function encoderDecoder(): rnn.Model {
  const x = rnn.input({ shape: [null, 1], name: 'series' });
  const prev = rnn.input({ shape: [10, 1], name: 'previous_values' });
  const x1 = L.simpleRNN({ units: 20, returnSequences: true, name: 'encoder_1' }).apply(x) as rnn.SymbolicTensor;
  const [, h] = L.simpleRNN({ units: 20, returnState: true, name: ENC_DEC.encoder }).apply(x1) as rnn.SymbolicTensor[];
  // The decoder reads [previous value (+ training noise), the encoder's summary h] at every step.
  const noisy = L.gaussianNoise({ stddev: 0.2, seed: 42 }).apply(prev) as rnn.SymbolicTensor;
  const decIn = L.concatenate().apply([noisy, L.repeatVector({ n: 10 }).apply(h!) as rnn.SymbolicTensor]) as rnn.SymbolicTensor;
  const [seq] = L.gru({ units: 20, returnSequences: true, returnState: true, name: ENC_DEC.decoder }).apply(decIn, { initialState: [h!] }) as rnn.SymbolicTensor[];
  const y = L.timeDistributed({ layer: L.dense({ units: 1 }), name: ENC_DEC.head }).apply(seq!) as rnn.SymbolicTensor;
  return rnn.model({ inputs: [x, prev], outputs: L.reshape({ targetShape: [10] }).apply(y) as rnn.SymbolicTensor, name: 'encoder_decoder' });
}

/** The decoder's inputs in training: the last window value, then the true values y_1..y_9 ([B, 10, 1]). */
function teacherInputs(x: HostTensor, y: HostTensor): HostTensor {
  const [B, T] = x.shape as [number, number];
  const out = new Float32Array(B * 10);
  for (let b = 0; b < B; b++) {
    out[b * 10] = x.data[b * T + T - 1]!;
    for (let k = 1; k < 10; k++) out[b * 10 + k] = y.data[b * 10 + k - 1]!;
  }
  return { data: out, shape: [B, 10, 1] };
}

/**
 * Forecasting with the trained layers (shared weights): an encoder model gives [h, c]; a one-step
 * decoder model is then run 10 times, each time on its own previous output and state.
 */
async function decodeAutoregressive(trained: rnn.Model, x: HostTensor): Promise<HostTensor> {
  const layer = (name: string) => trained.layers.find((l) => l.name === name)!;
  const xIn = rnn.input({ shape: [null, 1] });
  const x1 = layer('encoder_1').apply(xIn) as rnn.SymbolicTensor;
  const [, ...st] = layer(ENC_DEC.encoder).apply(x1) as rnn.SymbolicTensor[];
  const encoder = rnn.model({ inputs: xIn, outputs: st });
  const step = rnn.input({ shape: [1, 1] });
  const ctxIn = rnn.input({ shape: [20] });
  const stIn = st.map(() => rnn.input({ shape: [20] }));
  const stepIn = L.concatenate().apply([step, L.repeatVector({ n: 1 }).apply(ctxIn) as rnn.SymbolicTensor]) as rnn.SymbolicTensor;
  const [seq, ...st2] = layer(ENC_DEC.decoder).apply(stepIn, { initialState: stIn }) as rnn.SymbolicTensor[];
  const yStep = layer(ENC_DEC.head).apply(seq!) as rnn.SymbolicTensor;
  const decoder = rnn.model({ inputs: [step, ctxIn, ...stIn], outputs: [yStep, ...st2] });
  const [B, T] = x.shape as [number, number];
  let states = await encoder.predictAll(x, { batchSize: 500 });
  const ctx = states[0]!;
  let prev: HostTensor = { data: Float32Array.from({ length: B }, (_, b) => x.data[b * T + T - 1]!), shape: [B, 1, 1] };
  const out = new Float32Array(B * 10);
  for (let k = 0; k < 10; k++) {
    const [yk, ...sk] = await decoder.predictAll([prev, ctx, ...states], { batchSize: 500 });
    for (let b = 0; b < B; b++) out[b * 10 + k] = yk!.data[b]!;
    prev = { data: yk!.data, shape: [B, 1, 1] };
    states = sk;
  }
  encoder.dispose();
  decoder.dispose();
  return { data: out, shape: [B, 10] };
}

function printTable(rows: Row[], full: boolean): void {
  const head = ['Experiment', 'Metric', 'webgpu-rnn', 'Book', 'Band', 'Budget', 'Train time', ...(full ? ['In band'] : [])];
  const fmtNum = (r: Row, v: number) => (Number.isNaN(v) ? '—' : r.band === 'exact' ? float32String(v) : v.toPrecision(4));
  // The book's band applies to the book's budget: reduced rows show it as what --full must reach.
  const band = (r: Row) => (r.band === 'exact' || r.fullBudget !== false || full ? r.band : `(--full) ${r.band}`);
  const cells = rows.map((r) => [
    r.name, r.metric, fmtNum(r, r.ours), fmtNum(r, r.book), band(r), r.budget, r.seconds ? `${r.seconds.toFixed(1)} s` : '',
    ...(full ? [r.pass === null ? '' : r.pass ? 'yes' : 'NO'] : []),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const fmt = (c: string[]) => c.map((s, i) => s.padEnd(w[i]!)).join('  ').trimEnd();
  console.log(`\n${fmt(head)}\n${w.map((n) => '-'.repeat(n)).join('  ')}`);
  for (const c of cells) console.log(fmt(c));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`\nerror: ${(e as Error).stack ?? (e as Error).message}`);
    process.exit(1);
  },
);

