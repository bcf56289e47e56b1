/**
 * The demo page. It only builds the form, reads files and draws: training, evaluation and
 * forecasting run in the worker (worker.ts), which owns the GPU. The page stays responsive while
 * a model trains.
 */
// By path: vega-datasets' package exports do not list its data files, so the bare specifier
// `vega-datasets/data/…` fails to resolve in Vite; the file is bundled (no network at run time).
import seattleCsv from '../node_modules/vega-datasets/data/seattle-weather.csv?raw';
import { ForecastChart, LossChart } from './charts';
import { CsvError, MAX_BYTES, columnValues, parseCsv, type CsvTable } from './csv';
import { buildModel, capabilities, configProblems, expectedWeights } from './model';
import { DEFAULT_CONFIG, HORIZON, type Cell, type Clipping, type DataSpec, type FromWorker, type Head, type ModelConfig, type OptimizerName, type ToWorker, type WeightArray } from './protocol';
import { WeightsFileError, decodeWeightsFile, encodeWeightsFile } from './weights-file';

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo: element #${id} is missing`);
  return el as T;
}
type Input = HTMLInputElement;
type Select = HTMLSelectElement;

const ui = {
  controls: $<HTMLFormElement>('controls'),
  gpuStatus: $('gpu-status'),
  noWebgpu: $('no-webgpu'),
  dataset: $<Select>('dataset'),
  trainSeries: $<Input>('train-series'),
  syntheticOpts: $('synthetic-opts'),
  seattleOpts: $('seattle-opts'),
  csvOpts: $('csv-opts'),
  dropzone: $('dropzone'),
  csvInput: $<Input>('csv-input'),
  csvFile: $('csv-file'),
  csvColumn: $<Select>('csv-column'),
  window: $<Input>('window'),
  dataError: $('data-error'),
  dataInfo: $('data-info'),
  cell: $<Select>('cell'),
  resetAfter: $<Input>('reset-after'),
  units: $<Input>('units'),
  depth: $<Input>('depth'),
  head: $<Select>('head'),
  optimizer: $<Select>('optimizer'),
  lr: $<Input>('lr'),
  clipping: $<Select>('clipping'),
  clipValue: $<Input>('clip-value'),
  epochs: $<Input>('epochs'),
  batchSize: $<Input>('batch-size'),
  seed: $<Input>('seed'),
  optimNote: $('optim-note'),
  configError: $('config-error'),
  start: $<HTMLButtonElement>('start'),
  stop: $<HTMLButtonElement>('stop'),
  save: $<HTMLButtonElement>('save'),
  loadInput: $<Input>('load-input'),
  paramCount: $('param-count'),
  summary: $('summary'),
  state: $('state'),
  epoch: $('epoch'),
  throughput: $('throughput'),
  elapsed: $('elapsed'),
  progress: $<HTMLProgressElement>('progress'),
  runError: $('run-error'),
  runNote: $('run-note'),
  logScale: $<Input>('log-scale'),
  yScaleLabel: $('y-scale-label'),
  lossChart: $('loss-chart'),
  mVal: $('m-val'),
  mNaive: $('m-naive'),
  mVal10: $('m-val10'),
  mNaive10: $('m-naive10'),
  metricsNote: $('metrics-note'),
  forecasts: $('forecasts'),
  forecastHint: $('forecast-hint'),
};

// ------------------------------------------------------------------ state

type State = 'idle' | 'training' | 'stopping' | 'loading' | 'done' | 'error';
let state: State = 'idle';
let gpuReady = false;
let csv: { table: CsvTable; fileName: string } | null = null;
let csvError: string | null = null;
let seattle: CsvTable | null = null;
let runConfig: ModelConfig | null = null;
let lastRun: { config: ModelConfig; weights: WeightArray[] } | null = null;
let runStart = 0;
let ticker = 0;
let forecastGeneration = 0;

const lossChart = new LossChart(ui.lossChart);
const forecastCharts = Array.from(ui.forecasts.children, (el) => new ForecastChart(el as HTMLElement));

const caps = capabilities();

function show(el: HTMLElement, text: string | null): void {
  el.hidden = !text;
  el.textContent = text ?? '';
}

function setState(s: State): void {
  state = s;
  document.body.dataset.state = s;
  ui.state.textContent = s;
  const busy = s === 'training' || s === 'stopping' || s === 'loading';
  for (const fs of ui.controls.querySelectorAll('fieldset')) fs.disabled = busy;
  ui.loadInput.disabled = busy;
  ui.stop.disabled = s !== 'training';
  ui.save.disabled = busy || !lastRun;
  refresh();
}

const fmtNum = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : Math.abs(v) >= 1e-4 || v === 0 ? String(Number(v.toPrecision(3))) : v.toExponential(2));
const fmtTime = (ms: number) => (ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`);

// ------------------------------------------------------------------ form

function num(el: Input): number {
  return el.value.trim() === '' ? NaN : Number(el.value);
}

function readConfig(): ModelConfig {
  return {
    cell: ui.cell.value as Cell,
    resetAfter: ui.resetAfter.checked,
    units: num(ui.units),
    depth: num(ui.depth),
    head: ui.head.value as Head,
    optimizer: ui.optimizer.value as OptimizerName,
    learningRate: num(ui.lr),
    clipping: ui.clipping.value as Clipping,
    clipValue: num(ui.clipValue),
    epochs: num(ui.epochs),
    batchSize: num(ui.batchSize),
    window: num(ui.window),
    seed: num(ui.seed),
  };
}

function writeConfig(c: ModelConfig): void {
  ui.cell.value = c.cell;
  ui.resetAfter.checked = c.resetAfter;
  ui.units.value = String(c.units);
  ui.depth.value = String(c.depth);
  ui.head.value = c.head;
  ui.optimizer.value = c.optimizer;
  ui.lr.value = String(c.learningRate);
  ui.clipping.value = c.clipping;
  ui.clipValue.value = String(c.clipValue);
  ui.epochs.value = String(c.epochs);
  ui.batchSize.value = String(c.batchSize);
  ui.window.value = String(c.window);
  ui.seed.value = String(c.seed);
}

/** Problems of the current form that block training (the data's are shown separately). */
function formProblems(c: ModelConfig): string[] {
  const p = configProblems(c);
  if (!caps.optimizers[c.optimizer]) p.push(`the optimizer ${c.optimizer} is not available in this build`);
  if (c.clipping !== 'none' && !caps.clipping[c.clipping]) p.push(`clipping '${c.clipping}' is not available in this build`);
  if (ui.dataset.value === 'synthetic') {
    const n = num(ui.trainSeries);
    if (!Number.isInteger(n) || n < 20 || n > 20000) p.push(`training series must be an integer from 20 to 20000 (got ${ui.trainSeries.value || 'nothing'})`);
  }
  return p;
}

function seattleTable(): CsvTable {
  return (seattle ??= parseCsv(seattleCsv, 'seattle-weather.csv'));
}

const seriesCache = new Map<string, Float64Array>();

/** The data of a run; throws CsvError with a message for the user. */
function dataSpec(c: ModelConfig): DataSpec {
  const targetLen = c.head === 'next' ? 1 : HORIZON;
  const series = (table: CsvTable, column: number, name: string, key: string): DataSpec => {
    const k = `${key}|${column}|${c.window}|${targetLen}`;
    let values = seriesCache.get(k);
    if (!values) {
      values = columnValues(table, column, c.window, targetLen);
      seriesCache.clear();
      seriesCache.set(k, values);
    }
    return { kind: 'series', name, column: table.columns[column]!, values };
  };
  switch (ui.dataset.value) {
    case 'seattle': {
      const t = seattleTable();
      return series(t, t.columns.indexOf('temp_max'), 'Seattle weather', 'seattle');
    }
    case 'csv':
      if (csvError) throw new CsvError(csvError);
      if (!csv) throw new CsvError('Drop a CSV file on the page or choose one to train on it.');
      return series(csv.table, Number(ui.csvColumn.value), csv.fileName, `csv:${csv.fileName}`);
    default:
      return { kind: 'synthetic', nTrain: num(ui.trainSeries), seed: c.seed };
  }
}

/** Re-validates the form, updates the summary and enables what may be used. */
function refresh(): void {
  const ds = ui.dataset.value;
  ui.syntheticOpts.hidden = ds !== 'synthetic';
  ui.seattleOpts.hidden = ds !== 'seattle';
  ui.csvOpts.hidden = ds !== 'csv';
  ui.resetAfter.disabled = ui.cell.value !== 'gru' || ui.resetAfter.closest('fieldset')!.disabled;
  ui.clipValue.disabled = ui.clipping.value === 'none';
  const c = readConfig();
  const problems = formProblems(c);
  show(ui.configError, problems.length ? `Fix the settings: ${problems.join('; ')}.` : null);
  try {
    const m = buildModel(c);
    ui.summary.textContent = m.summary(null);
    ui.paramCount.textContent = m.countParams().toLocaleString('en-US');
  } catch (e) {
    ui.summary.textContent = problems.length ? '' : `Cannot build this model: ${(e as Error).message}`;
    ui.paramCount.textContent = '—';
  }
  let dataOk = false;
  if (!configProblems(c).some((p) => p.startsWith('window'))) {
    try {
      dataSpec(c);
      dataOk = true;
      show(ui.dataError, null);
    } catch (e) {
      show(ui.dataError, ds === 'csv' && !csv && !csvError ? null : (e as Error).message);
    }
  }
  const busy = state === 'training' || state === 'stopping' || state === 'loading';
  if (state === 'idle') lossChart.setEpochs(c.epochs);
  ui.start.disabled = !gpuReady || busy || problems.length > 0 || !dataOk;
  ui.start.title = !gpuReady ? 'WebGPU is not ready' : !dataOk ? 'The data is not ready' : '';
}

function setupCapabilities(): void {
  const missing: string[] = [];
  for (const o of ui.optimizer.options) {
    const ok = caps.optimizers[o.value as OptimizerName];
    o.disabled = !ok;
    if (!ok) {
      o.textContent += ' (not in this build)';
      missing.push(o.value);
    }
  }
  for (const o of ui.clipping.options) {
    if (o.value === 'none') continue;
    const ok = caps.clipping[o.value as Exclude<Clipping, 'none'>];
    o.disabled = !ok;
    if (!ok) o.textContent += ' (not in this build)';
  }
  const noClip = !Object.values(caps.clipping).some(Boolean);
  const notes = [];
  if (missing.length) notes.push(`${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not in this build of webgpu-rnn yet`);
  if (noClip) notes.push('gradient clipping is not in this build yet');
  show(ui.optimNote, notes.length ? `Note: ${notes.join('; ')}.` : null);
}

// ------------------------------------------------------------------ CSV files

async function loadCsvFile(file: File): Promise<void> {
  csv = null;
  csvError = null;
  ui.csvColumn.replaceChildren();
  ui.csvColumn.disabled = true;
  ui.dataset.value = 'csv';
  ui.csvFile.textContent = `${file.name} · ${file.size < 1024 ? `${file.size} bytes` : `${(file.size / 1024).toFixed(1)} KB`}`;
  try {
    if (file.size > MAX_BYTES) throw new CsvError(`${file.name} is ${(file.size / 2 ** 20).toFixed(1)} MB; the demo reads files up to ${MAX_BYTES / 2 ** 20} MB.`);
    const table = parseCsv(await file.text(), file.name);
    csv = { table, fileName: file.name };
    for (const c of table.numeric) ui.csvColumn.add(new Option(table.columns[c], String(c)));
    ui.csvColumn.disabled = false;
    ui.csvFile.textContent += ` · ${table.rows.length} rows, ${table.numeric.length} numeric column${table.numeric.length === 1 ? '' : 's'}`;
  } catch (e) {
    csvError = e instanceof CsvError ? e.message : `${file.name} could not be read: ${(e as Error).message}`;
    ui.csvColumn.add(new Option('no usable column'));
  }
  refresh();
}

ui.csvInput.addEventListener('change', () => {
  const f = ui.csvInput.files?.[0];
  if (f) void loadCsvFile(f);
  ui.csvInput.value = '';
});
ui.dropzone.addEventListener('dragover', (e) => {
  e.preventDefault();
  ui.dropzone.classList.add('over');
});
ui.dropzone.addEventListener('dragleave', () => ui.dropzone.classList.remove('over'));
ui.dropzone.addEventListener('drop', (e) => {
  e.preventDefault();
  ui.dropzone.classList.remove('over');
  const f = e.dataTransfer?.files[0];
  if (f && state !== 'training' && state !== 'stopping' && state !== 'loading') void loadCsvFile(f);
});
// A file dropped beside the drop zone must not make the browser navigate away from the page.
for (const ev of ['dragover', 'drop'] as const) window.addEventListener(ev, (e) => e.preventDefault());

// ------------------------------------------------------------------ worker

// Started only where the page has WebGPU: a browser without it in pages has none in workers either.
let worker: Worker | null = null;

function startWorker(): void {
  const w = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  w.addEventListener('message', (ev: MessageEvent<FromWorker>) => onWorkerMessage(ev.data));
  w.addEventListener('error', (ev) => {
    ev.preventDefault();
    fail(`The training worker failed to start or crashed: ${ev.message || 'unknown error'}.`);
  });
  worker = w;
}

function send(m: ToWorker, transfer: Transferable[] = []): void {
  if (!worker) throw new Error('no training worker (this browser has no WebGPU)');
  worker.postMessage(m, transfer);
}

function noWebGpuMessage(detail?: string): void {
  ui.noWebgpu.hidden = false;
  ui.noWebgpu.innerHTML = `
    <strong>This browser cannot train here: WebGPU is not available.</strong>
    ${detail ? `<div>${escapeHtml(detail)}</div>` : ''}
    ${window.isSecureContext ? '' : '<div>This page is not a secure context: WebGPU needs <b>https</b> or <b>localhost</b>.</div>'}
    WebGPU is available in:
    <ul>
      <li>Chrome or Edge 113+ on Windows, macOS and ChromeOS; on Linux 144+, or enable <code>chrome://flags/#enable-unsafe-webgpu</code></li>
      <li>Safari 26+ (macOS, iOS, iPadOS)</li>
      <li>Firefox 141+ on Windows</li>
    </ul>
    Pages must be served over https or from localhost.`;
  ui.gpuStatus.dataset.gpu = 'none';
  ui.gpuStatus.textContent = 'No WebGPU';
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function onWorkerMessage(m: FromWorker): void {
  switch (m.type) {
    case 'gpu': {
      gpuReady = true;
      const i = m.info;
      ui.gpuStatus.dataset.gpu = i.isFallbackAdapter ? 'fallback' : 'ok';
      ui.gpuStatus.innerHTML = `GPU: <b>${escapeHtml(i.vendor || 'unknown vendor')}</b> · ${escapeHtml(i.architecture || i.description || i.device || 'unknown architecture')}<br>${
        i.isFallbackAdapter ? 'fallback (software) adapter — training will be slow' : 'hardware adapter'
      } · in a Web Worker`;
      refresh();
      return;
    }
    case 'gpu-error':
      gpuReady = false;
      noWebGpuMessage(m.message);
      refresh();
      return;
    case 'data': {
      const i = m.info;
      ui.dataInfo.textContent = `${i.name}: ${i.nTrain.toLocaleString('en-US')} training and ${i.nValid.toLocaleString('en-US')} validation windows of ${i.window} steps${i.standardized ? ' (standardized)' : ''}.`;
      lossChart.setNaive(i.naiveMse);
      ui.mNaive.textContent = fmtNum(i.naiveMse);
      ui.metricsNote.textContent = i.standardized ? `MSE on standardized values (${i.unit} minus its training mean, divided by its std); the forecast plots show ${i.unit} as in the data.` : '';
      return;
    }
    case 'progress': {
      ui.epoch.textContent = `${m.epoch + 1} / ${m.epochs}`;
      ui.progress.value = Math.min(1, (m.epoch + m.batch / m.batches) / m.epochs);
      ui.throughput.textContent = `${Math.round(m.samplesPerSec).toLocaleString('en-US')} samples/s`;
      if (m.kind === 'epoch' && m.logs) {
        lossChart.add(m.epoch + 1, m.logs.loss ?? NaN, m.logs.val_loss);
        ui.mVal.textContent = fmtNum(m.logs.val_loss);
      }
      return;
    }
    case 'done': {
      stopTicker();
      ui.elapsed.textContent = fmtTime(m.elapsedMs);
      const config = runConfig!;
      lastRun = { config, weights: m.weights };
      ui.mVal.textContent = fmtNum(m.valLoss);
      ui.mVal10.textContent = fmtNum(m.forecasts.modelMse10);
      ui.mNaive10.textContent = fmtNum(m.forecasts.naiveMse10);
      drawForecasts(m.forecasts.series, m.forecasts.mode);
      const epochs = m.history.loss?.length ?? 0;
      show(
        ui.runNote,
        m.mode === 'loaded'
          ? `Loaded weights: validation MSE ${fmtNum(m.valLoss)} (naive ${ui.mNaive.textContent}).`
          : m.stopped
            ? `Stopped during epoch ${epochs}; the weights so far are kept (save them or keep looking at the forecasts).`
            : `Trained ${epochs} epoch${epochs === 1 ? '' : 's'} in ${fmtTime(m.elapsedMs)}.`,
      );
      if (m.mode === 'loaded') ui.progress.value = 1;
      setState('done');
      return;
    }
    case 'error':
      fail(m.message);
      return;
    default:
      m satisfies never;
  }
}

function fail(message: string): void {
  stopTicker();
  show(ui.runError, message);
  setState('error');
}

function drawForecasts(series: { index: number; history: number[]; truth: number[]; forecast: number[]; naive: number[] }[], mode: 'iterative' | 'vector'): void {
  ui.forecastHint.textContent =
    mode === 'iterative'
      ? 'Dense(1) head: each one-step prediction is fed back as the next input, 10 times. Dashed: the naive forecast (last value repeated).'
      : 'Dense(10) head: the next 10 steps predicted at once. Dashed: the naive forecast (last value repeated).';
  // One chart per animation frame keeps main-thread tasks short on slow machines; a newer
  // draw or reset (generation) cancels the rest.
  const gen = ++forecastGeneration;
  for (const c of forecastCharts) c.clear();
  const next = (i: number) => {
    const s = series[i], c = forecastCharts[i];
    if (!s || !c) return;
    requestAnimationFrame(() => {
      if (gen !== forecastGeneration) return;
      c.draw(s, `validation window ${s.index + 1}`, 'forecast');
      next(i + 1);
    });
  };
  next(0);
}

function startTicker(): void {
  runStart = performance.now();
  stopTicker();
  ticker = window.setInterval(() => (ui.elapsed.textContent = fmtTime(performance.now() - runStart)), 250);
}

function stopTicker(): void {
  if (ticker) window.clearInterval(ticker);
  ticker = 0;
}

function resetRunView(epochs: number): void {
  show(ui.runError, null);
  show(ui.runNote, null);
  lossChart.reset(epochs);
  forecastGeneration++;
  for (const c of forecastCharts) c.clear();
  for (const el of [ui.mVal, ui.mNaive, ui.mVal10, ui.mNaive10, ui.epoch, ui.throughput]) el.textContent = '—';
  ui.elapsed.textContent = '0.0 s';
  ui.progress.value = 0;
}

// ------------------------------------------------------------------ actions

ui.controls.addEventListener('submit', (e) => {
  e.preventDefault();
  if (ui.start.disabled) return;
  const config = readConfig();
  let data: DataSpec;
  try {
    data = dataSpec(config);
  } catch (err) {
    show(ui.dataError, (err as Error).message);
    return;
  }
  runConfig = config;
  resetRunView(config.epochs);
  setState('training');
  startTicker();
  send({ type: 'start', config, data });
});

ui.stop.addEventListener('click', () => {
  send({ type: 'stop' });
  setState('stopping');
  ui.runNote.hidden = false;
  ui.runNote.textContent = 'Stopping after the current batch…';
});

ui.save.addEventListener('click', () => {
  if (!lastRun) return;
  const { config, weights } = lastRun;
  const blob = new Blob([encodeWeightsFile(config, weights)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `webgpu-rnn-${config.cell}-${config.units}x${config.depth}-${config.head}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
});

ui.loadInput.addEventListener('change', async () => {
  const f = ui.loadInput.files?.[0];
  ui.loadInput.value = '';
  if (!f) return;
  show(ui.runNote, null);
  try {
    if (f.size > 200 * 2 ** 20) throw new WeightsFileError(`${f.name} is too large (${(f.size / 2 ** 20).toFixed(0)} MB) to be a weights file of this demo.`);
    const { config, weights } = decodeWeightsFile(await f.text(), f.name);
    const want = expectedWeights(config);
    const shapes = (ws: { name: string; shape: number[] }[]) => ws.map((w) => `${w.name} [${w.shape.join(', ')}]`).join(', ');
    const same = want.length === weights.length && want.every((w, i) => w.shape.length === weights[i]!.shape.length && w.shape.every((d, j) => d === weights[i]!.shape[j]));
    if (!same) throw new WeightsFileError(`${f.name}: its weights (${shapes(weights)}) do not fit the model its config describes (${shapes(want)}).`);
    writeConfig(config);
    refresh();
    let data: DataSpec;
    try {
      data = dataSpec(config);
    } catch (err) {
      throw new WeightsFileError(`Weights read, but the current data set cannot be used with them: ${(err as Error).message}`);
    }
    runConfig = config;
    resetRunView(config.epochs);
    ui.epoch.textContent = '—';
    setState('loading');
    startTicker();
    send({ type: 'load', config, data, weights }, weights.map((w) => w.data.buffer));
  } catch (e) {
    show(ui.runError, e instanceof WeightsFileError ? e.message : `${f.name} could not be loaded: ${(e as Error).message}`);
  }
});

// The label answers at once; the chart (rebuilt: uPlot fixes a scale's type at creation) is
// redrawn with the next frame, once however many clicks came before it.
let logFrame = 0;
ui.logScale.addEventListener('change', () => {
  ui.yScaleLabel.textContent = ui.logScale.checked ? 'log' : 'linear';
  cancelAnimationFrame(logFrame);
  logFrame = requestAnimationFrame(() => lossChart.setLog(ui.logScale.checked));
});

ui.dataset.addEventListener('change', () => {
  ui.window.value = ui.dataset.value === 'synthetic' ? '50' : '30';
  refresh();
});
ui.controls.addEventListener('input', refresh);
ui.controls.addEventListener('change', refresh);

// ------------------------------------------------------------------ start-up

writeConfig(DEFAULT_CONFIG);
setupCapabilities();
setState('idle');
if ('gpu' in navigator && navigator.gpu) startWorker();
else noWebGpuMessage('navigator.gpu is missing in this page.');
