/**
 * The demo page. It builds the form, reads files and draws: CSV parsing, training, evaluation and
 * forecasting run in the worker (worker.ts), which owns the GPU and the models. Models are made,
 * trained (progress, Stop), scored, saved and loaded through the library's Worker helper
 * (`rnn.worker.create(worker)`); parsing and the run's status use the demo's own messages on the
 * same Worker. The page stays responsive while a file is parsed or a model trains.
 */
import * as rnn from '../src/index';
import type { FitProgress, WorkerModel } from '../src/index';
import { COLORS, LineChart, LossChart, type LineSpec } from './charts';
import { dateFor, shortDate, type Frequency } from './dates';
import { $, fmtData, fmtNum, fmtTime, h, int, plural, show, sizeText } from './dom';
import { describeLoad, type DataSummary } from './load-dialog';
import { verdict } from './verdict';
import { download, forecastCsv, historyCsv, historyJson, settingsJson, slug, type RunRecord } from './exports';
import { buildModel, capabilities, configProblems } from './model';
import { ModelFileError } from './model-files';
import { modelsPanel, type LoadCandidate } from './models-panel';
import { DEFAULT_CONFIG, HORIZON, type Cell, type Clipping, type DataInfo, type DataRef, type EvalResult, type FromWorker, type Head, type ModelConfig, type OptimizerName, type RunArgs, type RunResults, type Scores, type SeriesInfo, type TableInfo, type ToWorker } from './protocol';
import { minRows } from './series';
import type { WeightsFileMeta } from './weights-file';

type Input = HTMLInputElement;
type Select = HTMLSelectElement;
type Button = HTMLButtonElement;

const ui = {
  controls: $<HTMLFormElement>('controls'),
  gpuStatus: $('gpu-status'),
  noWebgpu: $('no-webgpu'),
  dataset: $<Select>('dataset'),
  trainSeries: $<Input>('train-series'),
  syntheticOpts: $('synthetic-opts'),
  seattleOpts: $('seattle-opts'),
  csvOpts: $('csv-opts'),
  columnOpts: $('column-opts'),
  dropzone: $('dropzone'),
  csvInput: $<Input>('csv-input'),
  csvFile: $('csv-file'),
  dateColumn: $<Select>('date-column'),
  csvColumn: $<Select>('csv-column'),
  window: $<Input>('window'),
  dataError: $('data-error'),
  dataNotes: $<HTMLUListElement>('data-notes'),
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
  start: $<Button>('start'),
  stop: $<Button>('stop'),
  paramCount: $('param-count'),
  summary: $('summary'),
  results: $('results'),
  runPanel: $('run-panel'),
  status: $('status'),
  state: $('state'),
  epoch: $('epoch'),
  throughput: $('throughput'),
  elapsed: $('elapsed'),
  progress: $<HTMLProgressElement>('progress'),
  runError: $('run-error'),
  runNote: $('run-note'),
  scores: $<HTMLTableElement>('scores'),
  scoresCaption: $('scores-caption'),
  h1: $('h-mae1'),
  seasonalName: $('seasonal-name'),
  verdict: $('verdict'),
  dataTitle: $('data-title'),
  dataChart: $('data-chart'),
  dataChartHint: $('data-chart-hint'),
  logScale: $<Input>('log-scale'),
  yScaleLabel: $('y-scale-label'),
  lossChart: $('loss-chart'),
  metricsNote: $('metrics-note'),
  validationPanel: $('validation-panel'),
  validationTitle: $('validation-title'),
  validationChart: $('validation-chart'),
  forecasts: $('forecasts'),
  forecastHint: $('forecast-hint'),
  future: $('future'),
  legendSeasonal: $('legend-seasonal'),
  exportForecast: $<Button>('export-forecast'),
  exportHistoryCsv: $<Button>('export-history-csv'),
  exportHistoryJson: $<Button>('export-history-json'),
  exportSettings: $<Button>('export-settings'),
  loadDialog: $<HTMLDialogElement>('load-dialog'),
  loadLead: $('load-lead'),
  loadDiffBody: $('load-diff-body'),
  loadData: $('load-data'),
  loadWarning: $('load-warning'),
};
const cell = (row: string, testId: string) => ui.scores.querySelector<HTMLElement>(`tr[data-row=${row}] [data-testid=${testId}]`)!;
const scoreCells = {
  model: [cell('model', 'm-mae1'), cell('model', 'm-mae10'), cell('model', 'm-val')],
  naive: [cell('naive', 'naive-mae1'), cell('naive', 'naive-mae10'), cell('naive', 'm-naive')],
  seasonal: [cell('seasonal', 'seasonal-mae1'), cell('seasonal', 'seasonal-mae10'), cell('seasonal', 'm-seasonal')],
};
const seasonalRow = ui.scores.querySelector<HTMLElement>('tr[data-row=seasonal]')!;

// ------------------------------------------------------------------ state

type State = 'idle' | 'training' | 'stopping' | 'evaluating' | 'loading' | 'done' | 'error';
type Source = 'seattle' | 'csv';
interface SourceState {
  table: TableInfo | null;
  error: string | null;
  parsing: number | null;
  file: { name: string; size: number } | null;
  /** The series of the chosen columns; seriesError when they cannot be used. */
  series: SeriesInfo | null;
  seriesError: string | null;
  pending: number | null;
  dateColumn: number | null;
  column: number | null;
}

let state: State = 'idle';
let gpuReady = false;
let gpuInfo: RunRecord['gpu'] = null;
const sources: Record<Source, SourceState> = {
  seattle: { table: null, error: null, parsing: null, file: null, series: null, seriesError: null, pending: null, dateColumn: null, column: null },
  csv: { table: null, error: null, parsing: null, file: null, series: null, seriesError: null, pending: null, dateColumn: null, column: null },
};
let nextId = 1;
interface Run {
  config: ModelConfig;
  data: DataInfo | null;
  start: number;
  epochSeconds: number[];
  stopClickedAt: number | null;
  /** Stop was pressed (before the model existed, too: then it never trains). */
  stopRequested: boolean;
  /** The run's model in the worker, once made. */
  model: WorkerModel | null;
  /** Where the last batch progress (or Stop's) found the fit. */
  batch: number;
  batches: number;
  weightsFile?: string;
  /** For loaded models: what the file said they were trained on. */
  fileMeta?: WeightsFileMeta;
}
let run: Run | null = null;
let lastRun: (RunRecord & { fileMeta?: WeightsFileMeta }) | null = null;
/** The model of the last run (trained or loaded): what Save and the downloads write. */
let current: WorkerModel | null = null;
let ticker = 0;
let drawGeneration = 0;

const lossChart = new LossChart(ui.lossChart);
const dataChart = new LineChart(ui.dataChart, 220);
const validationChart = new LineChart(ui.validationChart, 260);
const forecastCharts = Array.from(ui.forecasts.children, (el) => new LineChart(el as HTMLElement));
const futureChart = new LineChart(ui.future, 220);
const narrow = window.matchMedia('(max-width: 900px)');
const caps = capabilities();

const busyState = (s: State) => s === 'training' || s === 'stopping' || s === 'evaluating' || s === 'loading';

function setState(s: State): void {
  // Keyboard users keep their place: Train → Stop while a run trains, Stop → Train after it.
  const focus = document.activeElement;
  if (s === 'training' && focus === ui.start) queueMicrotask(() => ui.stop.focus({ preventScroll: true }));
  if (s !== 'training' && focus === ui.stop) queueMicrotask(() => (ui.start.disabled ? ui.results : ui.start).focus({ preventScroll: true }));
  state = s;
  document.body.dataset.state = s;
  ui.state.textContent = s;
  const busy = busyState(s);
  for (const fs of ui.controls.querySelectorAll('fieldset')) fs.disabled = busy;
  ui.stop.disabled = s !== 'training';
  panel?.update();
  const has = !busy && !!lastRun;
  ui.exportForecast.disabled = !has;
  ui.exportSettings.disabled = !has;
  ui.exportHistoryCsv.disabled = ui.exportHistoryJson.disabled = !has || !lastRun?.history.loss?.length;
  for (const b of [ui.exportHistoryCsv, ui.exportHistoryJson]) b.title = has && !lastRun?.history.loss?.length ? 'A loaded model has no training history here' : '';
  refresh();
}

function setStatus(text: string): void {
  ui.status.textContent = text;
}

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

const source = (): Source | null => (ui.dataset.value === 'seattle' ? 'seattle' : ui.dataset.value === 'csv' ? 'csv' : null);

/** The data of a run for config `c`, or the reason there is none (null: nothing to say yet). */
function dataRef(c: ModelConfig): { ref: DataRef } | { problem: string | null } {
  const src = source();
  if (!src) return { ref: { kind: 'synthetic', nTrain: num(ui.trainSeries), seed: c.seed } };
  const s = sources[src];
  if (s.error) return { problem: s.error };
  if (s.parsing !== null) return { problem: null };
  if (!s.table) return { problem: src === 'csv' ? null : 'The Seattle data is not loaded yet.' };
  if (s.seriesError) return { problem: s.seriesError };
  if (!s.series || s.pending !== null) return { problem: null };
  const targetLen = c.head === 'next' ? 1 : HORIZON;
  if (Number.isInteger(c.window) && c.window >= 2) {
    const need = minRows(c.window, targetLen);
    if (s.series.length < need) {
      return {
        problem: `Too few rows: column "${s.series.column}" has ${int(s.series.length)} values, but a window of ${c.window} steps needs at least ${int(need)} rows (the most recent 20% validate, with a ${HORIZON}-step horizon). Use a shorter window or a longer file.`,
      };
    }
  }
  return { ref: { kind: 'series', seriesId: s.series.id } };
}

/** Re-validates the form, updates the summary and enables what may be used. */
function refresh(): void {
  const ds = ui.dataset.value;
  const src = source();
  ui.syntheticOpts.hidden = ds !== 'synthetic';
  ui.seattleOpts.hidden = ds !== 'seattle';
  ui.csvOpts.hidden = ds !== 'csv';
  ui.columnOpts.hidden = !src || !sources[src].table;
  const busy = busyState(state);
  ui.resetAfter.disabled = ui.cell.value !== 'gru' || busy;
  ui.clipValue.disabled = ui.clipping.value === 'none' || busy;
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
  const d = dataRef(c);
  show(ui.dataError, 'problem' in d ? d.problem : null);
  const dataOk = 'ref' in d;
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

// ------------------------------------------------------------------ data sources


function parseSource(src: Source, file?: File): void {
  const s = sources[src];
  const id = nextId++;
  Object.assign(s, { table: null, error: null, parsing: id, series: null, seriesError: null, pending: null, dateColumn: null, column: null });
  s.file = file ? { name: file.name, size: file.size } : null;
  if (src === 'csv') {
    ui.csvFile.textContent = `${file!.name} · ${sizeText(file!.size)} · reading…`;
    ui.csvFile.dataset.parseMs = '';
  }
  send({ type: 'parse', id, source: file ? { kind: 'file', file } : { kind: 'seattle' } });
  showSource();
}

function onTable(info: TableInfo): void {
  const src = (Object.keys(sources) as Source[]).find((k) => sources[k].parsing === info.id);
  if (!src) return;
  const s = sources[src];
  s.parsing = null;
  s.table = info;
  // Defaults: the best date column; Seattle forecasts temp_max, a CSV its first numeric column.
  s.dateColumn = info.dates[0]?.column ?? null;
  const preferred = src === 'seattle' ? info.columns.indexOf('temp_max') : -1;
  s.column = info.numeric.includes(preferred) ? preferred : info.numeric[0]!;
  if (src === 'csv') {
    const took = info.parseMs < 1000 ? `${Math.max(1, Math.round(info.parseMs))} ms` : fmtTime(info.parseMs);
    ui.csvFile.textContent = `${s.file?.name ?? info.fileName} · ${sizeText(s.file?.size ?? info.chars)} · ${plural(info.rows, 'row')}, ${plural(info.numeric.length, 'numeric column')}${info.dates.length ? `, dates in "${info.columns[info.dates[0]!.column]}"` : ', no date column'} · parsed in ${took}`;
    ui.csvFile.dataset.parseMs = String(Math.round(info.parseMs));
  }
  requestSeries(src);
}

function onTableError(id: number, message: string): void {
  const src = (Object.keys(sources) as Source[]).find((k) => sources[k].parsing === id);
  if (!src) return;
  const s = sources[src];
  s.parsing = null;
  s.error = message;
  if (src === 'csv' && s.file) ui.csvFile.textContent = `${s.file.name} · ${sizeText(s.file.size)}`;
  showSource();
}

function requestSeries(src: Source): void {
  const s = sources[src];
  if (!s.table || s.column === null) return;
  const id = nextId++;
  s.pending = id;
  s.seriesError = null;
  send({ type: 'series', id, tableId: s.table.id, dateColumn: s.dateColumn, column: s.column });
  showSource();
}

function onSeries(id: number, info: SeriesInfo | null, error: string | null): void {
  const src = (Object.keys(sources) as Source[]).find((k) => sources[k].pending === id);
  if (!src) return;
  const s = sources[src];
  s.pending = null;
  s.series = info;
  s.seriesError = error;
  showSource();
}

/** Fills the column selects, the notes and the data chart for the chosen data set. */
function showSource(): void {
  const src = source();
  const s = src ? sources[src] : null;
  // column selects
  ui.dateColumn.replaceChildren();
  ui.csvColumn.replaceChildren();
  if (s?.table) {
    const t = s.table;
    for (const d of t.dates) ui.dateColumn.add(new Option(t.columns[d.column]!, String(d.column)));
    ui.dateColumn.add(new Option(t.dates.length ? 'none: keep the file order' : 'none found: file order', ''));
    ui.dateColumn.value = s.dateColumn === null ? '' : String(s.dateColumn);
    for (const c of t.numeric) ui.csvColumn.add(new Option(t.columns[c]!, String(c)));
    ui.csvColumn.value = String(s.column);
    ui.dateColumn.disabled = ui.csvColumn.disabled = false;
  } else {
    ui.csvColumn.add(new Option(s?.error ? 'no usable column' : s?.parsing !== null && s ? 'reading the file…' : 'load a file first'));
    ui.dateColumn.add(new Option('—'));
    ui.dateColumn.disabled = ui.csvColumn.disabled = true;
  }
  // notes: what was done with the rows
  ui.dataNotes.replaceChildren(...(s?.series?.notes ?? []).map((n) => h('li', {}, n)));
  ui.dataNotes.hidden = !s?.series;
  ui.dataNotes.dataset.facts = s?.series ? JSON.stringify(s.series.facts) : '';
  drawData();
  showBaselines();
  refresh();
}

/** Words for the forecast horizons of a frequency (the chosen data's when none is given). */
function stepWords(freq?: Frequency | null): { next: string; ten: string; nextNoun: string; tenNoun: string } {
  const f = freq !== undefined ? freq : (source() && sources[source()!].series?.frequency) || null;
  const unit = f && f.multiple === 1 ? ({ day: 'day', 'business-day': 'business day', hour: 'hour', week: 'week', month: 'month', minute: 'minute' } as Record<string, string>)[f.kind] : undefined;
  return unit
    ? { next: `next-${unit.replace(' ', '-')}`, ten: `${HORIZON}-${unit.replace(' ', '-')}`, nextNoun: `Next ${unit}`, tenNoun: `Over ${HORIZON} ${unit}s` }
    : { next: 'next-step', ten: `${HORIZON}-step`, nextNoun: 'Next step', tenNoun: `Over ${HORIZON} steps` };
}

/** The baselines of the chosen series, before any model is trained (they only depend on the data). */
function showBaselines(): void {
  if (state !== 'idle' && lastRun) return; // a finished run's table stays until the next run
  const src = source();
  const s = src ? sources[src].series : null;
  const w = stepWords();
  ui.h1.textContent = `${w.next} MAE`;
  ui.h1.nextElementSibling!.textContent = `${w.ten} MAE`;
  for (const c of [...scoreCells.model, ...scoreCells.naive, ...scoreCells.seasonal]) c.textContent = '—';
  show(ui.verdict, null);
  ui.scoresCaption.textContent = s
    ? `The baselines on ${s.name} · ${s.column}, as mean absolute error in its units (the most recent ${int(s.split.validRows)} values validate); train a model to compare.`
    : 'Mean absolute error in the data\'s units; the MSE is the training loss\'s scale.';
  if (!s) {
    seasonalRow.hidden = !src;
    ui.seasonalName.textContent = 'seasonal naive';
    return;
  }
  scoreCells.naive[0]!.textContent = fmtData(s.baselines.naiveMae1);
  scoreCells.naive[1]!.textContent = fmtData(s.baselines.naiveMae10);
  seasonalRow.hidden = !s.seasonal;
  if (s.seasonal) {
    ui.seasonalName.textContent = `seasonal naive: ${s.seasonal.label}`;
    scoreCells.seasonal[0]!.textContent = fmtData(s.baselines.seasonalMae1);
    scoreCells.seasonal[1]!.textContent = fmtData(s.baselines.seasonalMae10);
  }
}

function drawData(): void {
  const src = source();
  const s = src ? sources[src].series : null;
  if (!s) {
    dataChart.clear(src ? 'No data chosen yet.' : 'The synthetic data: many short series, not drawn here.');
    ui.dataTitle.textContent = 'Data';
    ui.dataChartHint.hidden = false;
    ui.dataChartHint.textContent = src ? (sources[src].parsing !== null ? 'Reading the file…' : sources[src].error || sources[src].seriesError || 'Choose a CSV file to see it here.') : 'The synthetic data is many short series; choose Seattle weather or a CSV file to see a real one.';
    return;
  }
  ui.dataChartHint.hidden = false;
  ui.dataChartHint.textContent = `Blue: the training part; orange: the ${int(s.split.validRows)} most recent ${s.frequency && s.frequency.kind !== 'irregular' ? s.frequency.unitPlural : 'values'} that validate.${s.length > 2000 ? ' Long series are drawn as the minimum and maximum of each of 1,000 buckets.' : ''}`;
  ui.dataTitle.textContent = `Data: ${s.name} · ${s.column}`;
  const dates = s.first !== null;
  const cutX = dates ? s.split.firstValid : s.split.cut;
  const train = s.preview.y.map((y, i) => (cutX === null || s.preview.x[i]! < cutX ? y : null));
  const valid = s.preview.y.map((y, i) => (cutX !== null && s.preview.x[i]! >= cutX ? y : null));
  // connect the two parts
  const firstValid = valid.findIndex((v) => v !== null);
  if (firstValid > 0) train[firstValid] = s.preview.y[firstValid]!;
  dataChart.draw({
    x: s.preview.x,
    dates,
    withTime: s.withTime,
    yLabel: s.column,
    lines: [
      { label: 'training part', color: COLORS.trainPart, y: train, width: 1 },
      { label: 'validation part', color: COLORS.validPart, y: valid, width: 1 },
    ],
    marker: cutX === null ? null : { x: cutX, label: 'validation →' },
    description: `Line chart of ${s.column} in ${s.name}: ${int(s.length)} values${dates ? ` from ${dateFor(s.first!, s.frequency, s.withTime)} to ${dateFor(s.last!, s.frequency, s.withTime)}` : ''}; the last ${int(s.split.validRows)} validate.`,
  });
}

ui.csvInput.addEventListener('change', () => {
  const f = ui.csvInput.files?.[0];
  if (f) {
    ui.dataset.value = 'csv';
    parseSource('csv', f);
  }
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
  if (f && !busyState(state)) {
    ui.dataset.value = 'csv';
    parseSource('csv', f);
  }
});
// A file dropped beside the drop zone must not make the browser navigate away from the page.
for (const ev of ['dragover', 'drop'] as const) window.addEventListener(ev, (e) => e.preventDefault());

ui.dateColumn.addEventListener('change', () => {
  const src = source();
  if (!src) return;
  sources[src].dateColumn = ui.dateColumn.value === '' ? null : Number(ui.dateColumn.value);
  requestSeries(src);
});
ui.csvColumn.addEventListener('change', () => {
  const src = source();
  if (!src) return;
  sources[src].column = Number(ui.csvColumn.value);
  requestSeries(src);
});

// ------------------------------------------------------------------ worker

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
/** The library's end of the same Worker: models, training, scores, saving and loading. */
const trainer = rnn.worker.create(worker);
worker.addEventListener('message', (ev: MessageEvent<FromWorker>) => {
  if ((ev.data as { channel?: unknown } | null)?.channel === 'webgpu-rnn') return; // the library's
  onWorkerMessage(ev.data);
});
worker.addEventListener('error', (ev) => {
  ev.preventDefault();
  fail(`The worker failed to start or crashed: ${ev.message || 'unknown error'}.`);
});

function send(m: ToWorker, transfer: Transferable[] = []): void {
  worker.postMessage(m, transfer);
}

/** An error for people: its class (unless plain Error) and message. */
function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}`;
  return String(e);
}

function noWebGpuMessage(detail?: string): void {
  ui.noWebgpu.hidden = false;
  const parts: (Node | string | null)[] = [
    h('strong', {}, 'This browser cannot train here: WebGPU is not available.'),
    detail ? h('div', {}, detail) : null,
    window.isSecureContext ? null : h('div', {}, 'This page is not a secure context: WebGPU needs ', h('b', {}, 'https'), ' or ', h('b', {}, 'localhost'), '.'),
    'WebGPU is available in:',
    h(
      'ul',
      {},
      h('li', {}, 'Chrome or Edge 113+ on Windows, macOS and ChromeOS; on Linux 144+, or enable ', h('code', {}, 'chrome://flags/#enable-unsafe-webgpu')),
      h('li', {}, 'Safari 26+ (macOS, iOS, iPadOS)'),
      h('li', {}, 'Firefox 141+ on Windows'),
    ),
    'Pages must be served over https or from localhost. You can still look at your data and build models here.',
  ];
  ui.noWebgpu.replaceChildren(...parts.filter((p): p is Node | string => p !== null));
  ui.gpuStatus.dataset.gpu = 'none';
  ui.gpuStatus.textContent = 'No WebGPU';
}

function onGpu(i: rnn.GpuInfo): void {
  gpuReady = true;
  gpuInfo = { vendor: i.vendor || '', architecture: i.architecture || i.description || i.device || '', fallback: i.isFallbackAdapter };
  ui.gpuStatus.dataset.gpu = i.isFallbackAdapter ? 'fallback' : 'ok';
  ui.gpuStatus.replaceChildren('GPU: ', h('b', {}, i.vendor || 'unknown vendor'), ` · ${i.architecture || i.description || i.device || 'unknown architecture'}`, h('br'), `${i.isFallbackAdapter ? 'fallback (software) adapter — training will be slow' : 'hardware adapter'} · in a Web Worker`);
  refresh();
}

function onWorkerMessage(m: FromWorker): void {
  switch (m.type) {
    case 'parse-progress':
      if (sources.csv.parsing === m.id && sources.csv.file) ui.csvFile.textContent = `${sources.csv.file.name} · ${sizeText(sources.csv.file.size)} · parsing… ${Math.round(m.fraction * 100)}%`;
      return;
    case 'table':
      onTable(m.info);
      return;
    case 'table-error':
      onTableError(m.id, m.message);
      return;
    case 'series':
      onSeries(m.id, m.info, null);
      return;
    case 'series-error':
      onSeries(m.id, null, m.message);
      return;
    case 'status':
      if (busyState(state)) setStatus(m.text);
      return;
    case 'data':
      onData(m.info);
      return;
    default:
      m satisfies never;
  }
}

function onProgress(r: Run, p: FitProgress): void {
  if (run !== r) return;
  // where the fit was: 'stop' says where Stop found it (its epoch's logs come after, at 'epoch')
  if (p.kind === 'batch' || p.kind === 'stop') {
    r.batch = p.batch;
    r.batches = p.batches;
  }
  if (p.kind === 'stop') return;
  ui.epoch.textContent = `${p.epoch + 1} / ${p.epochs}`;
  ui.progress.value = Math.min(1, (p.epoch + p.batch / p.batches) / p.epochs);
  ui.throughput.textContent = `${Math.round(p.samplesPerSec).toLocaleString('en-US')} samples/s`;
  if (state === 'training') setStatus(`Training: epoch ${p.epoch + 1} of ${p.epochs}, batch ${int(p.batch)} of ${int(p.batches)}.`);
  if (p.kind === 'epoch' && p.logs) {
    lossChart.add(p.epoch + 1, p.logs.loss ?? NaN, p.logs.val_loss);
    scoreCells.model[2]!.textContent = fmtNum(p.logs.val_loss);
    r.epochSeconds.push((performance.now() - r.start) / 1000);
  }
}

/** fit returned (finished or stopped): say how Stop went; the forecasts come next. */
function onTrained(r: Run, epochs: number): void {
  if (r.stopClickedAt !== null) {
    const ms = performance.now() - r.stopClickedAt;
    ui.runNote.dataset.stopMs = String(Math.round(ms));
    show(ui.runNote, `Stopped ${fmtTime(ms)} after you pressed Stop, in epoch ${epochs || 1}${r.batches ? ` (batch ${int(r.batch)} of ${int(r.batches)})` : ''}; the weights so far are kept.`);
  }
  setState('evaluating');
  setStatus('Training finished; computing the forecasts…');
}

function onData(info: DataInfo): void {
  if (!run) return;
  run.data = info;
  lossChart.setBaselines(info.naive.mseLoss, info.seasonal ? { value: info.seasonal.mseLoss, label: info.seasonalLabel! } : null);
  showScores(null, info.naive, info.seasonal, info.seasonalLabel);
  ui.scoresCaption.textContent = `Training on ${info.descriptor.kind === 'synthetic' ? 'the synthetic series' : `${info.descriptor.name} · ${info.descriptor.column}`}: the model's MSE updates every epoch, its MAE (in the data's units) comes when the run ends.`;
  ui.metricsNote.textContent = info.standardized
    ? `The loss is the MSE on standardized values (${info.unit} minus its training mean ${fmtData(info.descriptor.mean)}, divided by its standard deviation ${fmtData(info.descriptor.std)}); dashed lines: the baselines on the same scale. ${int(info.nTrain)} training and ${int(info.nValid1)} validation windows of ${info.window} steps.`
    : `${int(info.nTrain)} training and ${int(info.nValid1)} validation series of ${info.window} steps; dashed line: the naive baseline's MSE.`;
}

function showScores(model: Scores | null, naive: Scores, seasonal: Scores | null, seasonalLabel: string | null): void {
  const w = stepWords(run?.data?.frequency);
  ui.h1.textContent = `${w.next} MAE`;
  ui.h1.nextElementSibling!.textContent = `${w.ten} MAE`;
  const fill = (cells: HTMLElement[], s: Scores | null) => {
    cells[0]!.textContent = fmtData(s?.mae1);
    cells[1]!.textContent = fmtData(s?.mae10);
    cells[2]!.textContent = fmtNum(s?.mseLoss);
  };
  if (model) fill(scoreCells.model, model);
  fill(scoreCells.naive, naive);
  seasonalRow.hidden = !seasonal;
  ui.seasonalName.textContent = seasonalLabel ? `seasonal naive: ${seasonalLabel}` : 'seasonal naive';
  fill(scoreCells.seasonal, seasonal);
}

/** Says whether the model beats the best baseline, in the data's units. */
function showVerdict(r: RunResults, unit: string): void {
  const v = verdict(r, stepWords(run?.data?.frequency), unit);
  show(ui.verdict, v.text);
  ui.verdict.dataset.verdict = v.kind;
}

interface RunOutcome {
  mode: 'trained' | 'loaded';
  stopped: boolean;
  history: Record<string, number[]>;
  results: RunResults;
  trainMs: number;
  evalMs: number;
}

function onDone(m: RunOutcome): void {
  if (!run) return;
  stopTicker();
  const totalMs = performance.now() - run.start;
  setElapsed(totalMs);
  const data = run.data!;
  const record: RunRecord = {
    mode: m.mode,
    stopped: m.stopped,
    config: run.config,
    data,
    history: m.history,
    epochSeconds: run.epochSeconds,
    results: m.results,
    trainMs: m.trainMs,
    evalMs: m.evalMs,
    totalMs,
    finishedAt: new Date().toISOString(),
    gpu: gpuInfo,
    params: Number(ui.paramCount.textContent?.replace(/,/g, '')) || 0,
    ...(run.weightsFile ? { weightsFile: run.weightsFile } : {}),
  };
  lastRun = { ...record, ...(run.fileMeta ? { fileMeta: run.fileMeta } : {}) };
  const r = m.results;
  showScores(r.model, r.naive, r.seasonal, r.seasonalLabel);
  const d = data.descriptor;
  ui.scoresCaption.textContent = `${m.mode === 'loaded' ? 'The loaded model' : 'This run'} on ${d.kind === 'synthetic' ? 'the synthetic series' : `${d.name} · ${d.column}`}: mean absolute error in the data's units over the ${int(data.nValid1)} validation ${d.kind === 'synthetic' ? 'series' : 'values'}; the MSE is the training loss's scale (standardized).`;
  showVerdict(r, data.unit);
  drawResults(r, data);
  const epochs = m.history.loss?.length ?? 0;
  if (m.mode === 'loaded') show(ui.runNote, `Loaded ${run.weightsFile ?? 'the model'}: validation MSE ${fmtNum(r.model.mseLoss)} (naive ${fmtNum(r.naive.mseLoss)}).`);
  else if (!m.stopped) show(ui.runNote, `Trained ${plural(epochs, 'epoch')} in ${fmtTime(m.trainMs)}; forecasts in ${fmtTime(m.evalMs)}.`);
  if (m.mode === 'loaded' || !m.stopped) ui.progress.value = 1;
  setStatus(m.mode === 'loaded' ? 'The loaded model, evaluated on the current data.' : m.stopped ? 'Stopped; results of the weights so far.' : 'Done.');
  const c = run.config;
  panel.suggestName(`${c.cell}-${c.units}x${c.depth}-${c.head}-${d.kind === 'synthetic' ? 'synthetic' : `${slug(d.name)}${d.column ? `-${slug(d.column)}` : ''}`}`);
  setState('done');
}

function fail(message: string): void {
  stopTicker();
  if (run) setElapsed(performance.now() - run.start);
  show(ui.runError, message);
  setStatus('Failed — see the message below.');
  setState('error');
}

function drawResults(r: RunResults, data: DataInfo): void {
  const unit = data.unit || 'value';
  const dates = r.hasDates;
  ui.legendSeasonal.hidden = !r.seasonal;
  ui.forecastHint.textContent =
    (r.mode === 'iterative' ? 'Dense(1) head: each one-step prediction is fed back as the next input, 10 times.' : 'Dense(10) head: the next 10 steps predicted at once.') +
    ` Dashed: the naive forecast (last value repeated)${r.seasonal ? `; dotted: the ${r.seasonalLabel} seasonal naive forecast` : ''}.`;
  // One chart per animation frame keeps main-thread tasks short on slow machines; a newer
  // draw or reset (generation) cancels the rest.
  const gen = ++drawGeneration;
  const jobs: (() => void)[] = [];
  if (r.validation) {
    const v = r.validation;
    ui.validationPanel.hidden = false;
    ui.validationTitle.textContent = `Next-${stepWords(data.frequency).next.slice(5)} forecasts over the validation period`;
    jobs.push(() =>
      validationChart.draw({
        x: v.x,
        dates,
        withTime: r.withTime,
        yLabel: unit,
        legend: true,
        lines: [
          { label: 'truth', color: COLORS.truth, y: v.truth, width: 1.5 },
          { label: 'model', color: COLORS.forecast, y: v.model, width: 1.5 },
          { label: 'naive', color: COLORS.naive, y: v.naive, width: 1, dash: [5, 4] },
          ...(v.seasonal ? [{ label: `seasonal (${r.seasonalLabel})`, color: COLORS.seasonal, y: v.seasonal, width: 1, dash: [2, 3] }] : []),
        ],
        description: `Line chart of the validation period, ${int(v.x.length)} ${dates ? 'dates' : 'steps'}: the truth and the model's next-step forecasts of ${unit}; model MAE ${fmtData(r.model.mae1)}, naive ${fmtData(r.naive.mae1)}${r.seasonal ? `, seasonal ${fmtData(r.seasonal.mae1)}` : ''}.`,
      }),
    );
  } else {
    ui.validationPanel.hidden = true;
    validationChart.clear();
  }
  r.windows.forEach((w, i) => {
    const c = forecastCharts[i];
    if (!c) return;
    const title = dates ? `from ${shortDate(w.x[0]!, r.withTime)} (validation)` : `validation series ${int(w.index + 1)}`;
    jobs.push(() => c.draw(windowChart(w.historyX, w.history, w.x, { truth: w.truth, forecast: w.forecast, naive: w.naive, seasonal: w.seasonal }, r, unit, title)));
  });
  if (r.future) {
    const f = r.future;
    ui.future.hidden = false;
    const f0 = data.frequency;
    const steps = dates && f0 && f0.kind !== 'irregular' ? f0.unitPlural : 'steps';
    jobs.push(() => futureChart.draw(windowChart(f.historyX, f.history, f.x, { forecast: f.forecast }, r, unit, `after the data: the next ${HORIZON} ${steps}`)));
  } else {
    ui.future.hidden = true;
    futureChart.clear();
  }
  const next = () => {
    const job = jobs.shift();
    if (!job) return;
    requestAnimationFrame(() => {
      if (gen !== drawGeneration) return;
      job();
      next();
    });
  };
  next();
}

function windowChart(historyX: number[], history: number[], x: number[], f: { truth?: number[]; forecast: number[]; naive?: number[]; seasonal?: number[] | null }, r: RunResults, unit: string, title: string) {
  const W = history.length;
  const xs = [...historyX, ...x];
  const last = history[W - 1]!;
  // the history ends at the last input; the future lines start there so they visibly connect
  const hist = xs.map((_, i) => (i < W ? history[i]! : null));
  const future = (a: number[]) => xs.map((_, i) => (i === W - 1 ? last : i >= W ? a[i - W]! : null));
  const lines: LineSpec[] = [{ label: 'input', color: COLORS.history, y: hist }];
  if (f.truth) lines.push({ label: 'truth', color: COLORS.truth, y: future(f.truth), width: 2, points: true });
  lines.push({ label: 'model', color: COLORS.forecast, y: future(f.forecast), width: 2, points: true });
  if (f.naive) lines.push({ label: 'naive', color: COLORS.naive, y: future(f.naive), dash: [5, 4] });
  if (f.seasonal) lines.push({ label: 'seasonal', color: COLORS.seasonal, y: future(f.seasonal), dash: [2, 3] });
  const dates = r.hasDates;
  const fmtX = (t: number) => (dates ? shortDate(t, r.withTime) : String(t));
  return {
    x: xs,
    dates,
    withTime: r.withTime,
    title,
    yLabel: unit,
    ...(dates ? {} : { xLabel: 'step (0 = last input)' }),
    lines,
    description: `Line chart, ${title}: ${W} inputs of ${unit} up to ${fmtX(xs[W - 1]!)}, then the model's ${HORIZON}-step forecast${f.truth ? ' against the truth' : ''} to ${fmtX(xs[xs.length - 1]!)}: ${f.forecast.map(fmtData).join(', ')}.`,
  };
}

function setElapsed(ms: number): void {
  // never backwards: the final value is the page's clock too
  const prev = Number(ui.elapsed.dataset.ms ?? '0');
  const v = Math.max(prev, ms);
  ui.elapsed.dataset.ms = String(Math.round(v));
  ui.elapsed.textContent = fmtTime(v);
}

function startTicker(): void {
  stopTicker();
  ticker = window.setInterval(() => run && setElapsed(performance.now() - run.start), 250);
}

function stopTicker(): void {
  if (ticker) window.clearInterval(ticker);
  ticker = 0;
}

function resetRunView(epochs: number): void {
  show(ui.runError, null);
  show(ui.runNote, null);
  delete ui.runNote.dataset.stopMs;
  show(ui.verdict, null);
  lossChart.reset(epochs);
  drawGeneration++;
  for (const c of forecastCharts) c.clear();
  validationChart.clear();
  futureChart.clear();
  ui.validationPanel.hidden = true;
  ui.future.hidden = true;
  for (const c of [...scoreCells.model, ...scoreCells.naive, ...scoreCells.seasonal]) c.textContent = '—';
  for (const el of [ui.epoch, ui.throughput]) el.textContent = '—';
  ui.elapsed.dataset.ms = '0';
  ui.elapsed.textContent = '0.0 s';
  ui.progress.value = 0;
  ui.metricsNote.textContent = '';
}

/**
 * Starts a run: trains a fresh model of `config` ('start'), or evaluates a loaded one ('load',
 * `loaded`). The status line answers at once (the worker's own status follows). The model of the
 * previous run is freed; the new one becomes the current model once made.
 */
function begin(config: ModelConfig, ref: DataRef, kind: 'start' | 'load', loaded?: { model: WorkerModel; label: string; meta: WeightsFileMeta }): void {
  lastRun = null;
  const r: Run = { config, data: null, start: performance.now(), epochSeconds: [], stopClickedAt: null, stopRequested: false, model: null, batch: 0, batches: 0, ...(loaded ? { weightsFile: loaded.label, fileMeta: loaded.meta } : {}) };
  run = r;
  void current?.dispose().catch(() => undefined);
  current = loaded?.model ?? null;
  resetRunView(config.epochs);
  setState(kind === 'start' ? 'training' : 'loading');
  setStatus(kind === 'start' ? 'Starting: handing the data and the model to the worker…' : `Loading ${loaded!.label}…`);
  startTicker();
  void (kind === 'start' ? trainRun(r, config, ref) : evaluateLoaded(r, config, ref, loaded!.model)).catch((e: unknown) => {
    if (run === r) fail(describe(e));
  });
  // On one-column layouts the results are below the form: bring them into view.
  if (narrow.matches) ui.runPanel.scrollIntoView({ block: 'start' });
}

/** Builds the model in the worker, trains it on the worker's 'run' dataset, then scores it. */
async function trainRun(r: Run, config: ModelConfig, ref: DataRef): Promise<void> {
  const args: RunArgs = { config, ref };
  const m = await trainer.model('demo', config);
  if (run !== r) return void m.dispose().catch(() => undefined);
  r.model = current = m;
  const t0 = performance.now();
  let history: Record<string, number[]> = {};
  // fit starts by clearing stopTraining: a Stop pressed before it starts skips training instead.
  if (!r.stopRequested) history = (await m.fitDataset('run', args, { epochs: config.epochs, progressEvery: 150, onProgress: (p) => onProgress(r, p) })).history;
  const trainMs = performance.now() - t0;
  if (run !== r) return;
  onTrained(r, history.loss?.length ?? 0);
  const ev = await m.task<EvalResult>('evaluate', args);
  if (run !== r) return;
  onData(ev.info);
  onDone({ mode: 'trained', stopped: r.stopRequested, history, results: ev.results, trainMs, evalMs: ev.evalMs });
}

/** Scores a loaded model on the current data. */
async function evaluateLoaded(r: Run, config: ModelConfig, ref: DataRef, m: WorkerModel): Promise<void> {
  const ev = await m.task<EvalResult>('evaluate', { config, ref } satisfies RunArgs);
  if (run !== r) return;
  onData(ev.info);
  onDone({ mode: 'loaded', stopped: false, history: {}, results: ev.results, trainMs: 0, evalMs: ev.evalMs });
}

// ------------------------------------------------------------------ actions

ui.controls.addEventListener('submit', (e) => {
  e.preventDefault();
  if (ui.start.disabled) return;
  const config = readConfig();
  const d = dataRef(config);
  if (!('ref' in d)) {
    show(ui.dataError, d.problem ?? 'The data is not ready yet.');
    return;
  }
  begin(config, d.ref, 'start');
});

ui.stop.addEventListener('click', () => {
  if (state !== 'training' || !run) return;
  run.stopRequested = true;
  run.stopClickedAt = performance.now();
  run.model?.stop();
  setState('stopping');
  setStatus('Stopping after the current batch…');
});

const baseName = () => (lastRun ? slug(lastRun.data.descriptor.kind === 'synthetic' ? 'synthetic' : `${lastRun.data.descriptor.name}-${lastRun.data.descriptor.column ?? ''}`) : 'run');
ui.exportForecast.addEventListener('click', () => lastRun && download(`webgpu-rnn-forecast-${baseName()}.csv`, forecastCsv(lastRun), 'text/csv'));
ui.exportHistoryCsv.addEventListener('click', () => lastRun && download(`webgpu-rnn-loss-${baseName()}.csv`, historyCsv(lastRun), 'text/csv'));
ui.exportHistoryJson.addEventListener('click', () => lastRun && download(`webgpu-rnn-loss-${baseName()}.json`, historyJson(lastRun), 'application/json'));
ui.exportSettings.addEventListener('click', () => lastRun && download(`webgpu-rnn-run-${baseName()}.json`, settingsJson(lastRun, location.href.split('#')[0]!.split('?')[0]!), 'application/json'));

// ------------------------------------------------------------------ saving and loading models (loading asks first)

let pendingLoad: (LoadCandidate & { ref: DataRef }) | null = null;

function currentDataDescriptor(): DataSummary | null {
  const src = source();
  if (!src) return { kind: 'synthetic', name: 'Synthetic series (chapter, seeded)', column: null, rows: 0, first: null, last: null, frequency: null };
  const s = sources[src].series;
  if (!s) return null;
  return { kind: 'series', name: s.name, column: s.column, rows: s.length, first: s.first === null ? null : dateFor(s.first, s.frequency, s.withTime), last: s.last === null ? null : dateFor(s.last, s.frequency, s.withTime), frequency: s.frequency?.label ?? null };
}

const panel = modelsPanel({
  trainer,
  saveable: () =>
    current && lastRun
      ? {
          model: current,
          config: lastRun.config,
          // a loaded model keeps what its file said about its training
          data: lastRun.mode === 'loaded' ? (lastRun.fileMeta?.data ?? null) : lastRun.data.descriptor,
          epochs: lastRun.mode === 'loaded' ? (lastRun.fileMeta?.epochs ?? null) : (lastRun.history.loss?.length ?? 0),
        }
      : null,
  busy: () => busyState(state),
  form: readConfig,
  offer(c) {
    const d = dataRef(c.config);
    if (!('ref' in d)) throw new ModelFileError(`${c.label} was read, but the current data cannot be used with it: ${d.problem ?? 'choose the data first (the model is evaluated on it)'}.`);
    pendingLoad = { ...c, ref: d.ref };
    openLoadDialog(pendingLoad);
  },
});

function openLoadDialog(p: NonNullable<typeof pendingLoad>): void {
  describeLoad(
    { lead: ui.loadLead, diffBody: ui.loadDiffBody, data: ui.loadData, warning: ui.loadWarning, dialog: ui.loadDialog },
    { fileName: p.label, file: p.config, now: readConfig(), meta: p.meta, current: currentDataDescriptor(), params: p.model.params },
  );
  ui.loadDialog.returnValue = '';
  ui.loadDialog.showModal();
}

ui.loadDialog.addEventListener('close', () => {
  const p = pendingLoad;
  pendingLoad = null;
  if (!p) return;
  const discard = () => void p.model.dispose().catch(() => undefined);
  if (ui.loadDialog.returnValue !== 'confirm' || busyState(state)) return discard();
  writeConfig(p.config);
  refresh();
  // The form now shows the file's settings; the data stays what it was.
  const d = dataRef(p.config);
  if (!('ref' in d)) {
    show(ui.runError, `The current data cannot be used with this model: ${d.problem ?? 'it is not ready'}.`);
    return discard();
  }
  begin(p.config, d.ref, 'load', { model: p.model, label: p.label, meta: p.meta });
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
  const src = source();
  if (src === 'seattle' && !sources.seattle.table && sources.seattle.parsing === null && !sources.seattle.error) parseSource('seattle');
  if (!lastRun || state === 'idle') showBaselines();
  showSource();
});
ui.controls.addEventListener('input', refresh);
ui.controls.addEventListener('change', refresh);

// ------------------------------------------------------------------ start-up

writeConfig(DEFAULT_CONFIG);
setupCapabilities();
setState('idle');
showSource();
if ('gpu' in navigator && navigator.gpu) {
  trainer.gpu.then(onGpu, (e: unknown) => {
    gpuReady = false;
    noWebGpuMessage(describe(e));
    refresh();
  });
} else noWebGpuMessage('navigator.gpu is missing in this page.');
