/**
 * The confirmation before weights are loaded: what the file holds (architecture, parameters,
 * epochs, the data it was trained on, when it was saved), every setting now and in the file
 * with the changes marked, the data it will be evaluated on, and warnings when the architecture
 * or the data differ. Filling the dialog changes nothing else on the page.
 */
import { h, int, plural, show } from './dom';
import { HORIZON, type Cell, type DataDescriptor, type ModelConfig } from './protocol';
import type { WeightsFileMeta } from './weights-file';

/** The data a run uses or a file was trained on, as described to the user. */
export type DataSummary = Pick<DataDescriptor, 'kind' | 'name' | 'column' | 'rows' | 'first' | 'last' | 'frequency'>;

const ARCH_KEYS: (keyof ModelConfig)[] = ['cell', 'resetAfter', 'units', 'depth', 'head'];
const LABELS: Record<keyof ModelConfig, string> = {
  cell: 'Layer type',
  resetAfter: 'resetAfter (GRU)',
  units: 'Units',
  depth: 'Depth',
  head: 'Head',
  optimizer: 'Optimizer',
  learningRate: 'Learning rate',
  clipping: 'Gradient clipping',
  clipValue: 'Clip at',
  epochs: 'Epochs',
  batchSize: 'Batch size',
  window: 'Window',
  seed: 'Seed',
};
const CELL_NAMES: Record<Cell, string> = { simpleRNN: 'SimpleRNN', lstm: 'LSTM', gru: 'GRU' };
const OPTIMIZER_NAMES: Record<string, string> = { adam: 'Adam', sgd: 'SGD', rmsprop: 'RMSprop', adamw: 'AdamW' };

/** `GRU(4) ×2 → Dense(10)`. */
export const archText = (c: ModelConfig) => `${CELL_NAMES[c.cell] ?? c.cell}(${c.units})${c.depth > 1 ? ` ×${c.depth}` : ''} → Dense(${c.head === 'next' ? 1 : HORIZON})`;

const when = (iso: string | null) => (iso ?? '').replace('T', ' ').replace(/(\d\d:\d\d):00(\.\d+)?$/, '$1');

/** `seattle.csv · temp_max (1,461 daily values, 2012-01-01 → 2015-12-31)`. */
export const dataText = (d: DataSummary) =>
  d.kind === 'synthetic' ? 'the synthetic series' : `${d.name} · ${d.column ?? '?'} (${int(d.rows)} ${d.frequency ?? ''} values${d.first ? `, ${when(d.first)} → ${when(d.last)}` : ''})`.replace('  ', ' ');

function settingText(k: keyof ModelConfig, v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return '(empty)';
  if (k === 'cell') return CELL_NAMES[v as Cell] ?? String(v);
  if (k === 'head') return v === 'next' ? 'Dense(1): next step' : `Dense(${HORIZON}): next ${HORIZON} steps`;
  if (k === 'optimizer') return OPTIMIZER_NAMES[v as string] ?? String(v);
  if (k === 'resetAfter') return v ? 'yes' : 'no';
  return String(v);
}

export interface LoadDialogElements {
  lead: HTMLElement;
  diffBody: HTMLElement;
  data: HTMLElement;
  warning: HTMLElement;
  dialog: HTMLElement;
}

/** Fills the dialog for a file (`file`: its config) against the form's settings (`now`) and the current data. */
export function describeLoad(
  el: LoadDialogElements,
  a: { fileName: string; file: ModelConfig; now: ModelConfig; meta: WeightsFileMeta; current: DataSummary | null; params: number },
): void {
  const { file, now, meta } = a;
  const trained = meta.epochs !== null ? `, trained for ${plural(meta.epochs, 'epoch')}` : '';
  const on = meta.data ? ` on ${dataText(meta.data)}` : '';
  const saved = meta.savedAt ? `; saved ${meta.savedAt.replace('T', ' ').slice(0, 16)} UTC` : '';
  el.lead.textContent = `${a.fileName} holds ${file.cell === 'lstm' ? 'an' : 'a'} ${archText(file)} model with ${int(a.params)} parameters${trained}${on}${saved}.`;
  const gru = file.cell === 'gru' || now.cell === 'gru';
  const archChanged = ARCH_KEYS.some((k) => (k !== 'resetAfter' || gru) && now[k] !== file[k]);
  const rows = (Object.keys(LABELS) as (keyof ModelConfig)[])
    .filter((k) => k !== 'resetAfter' || gru)
    .map((k) => {
      const changed = String(now[k]) !== String(file[k]);
      return h(
        'tr',
        { 'data-key': k, ...(changed ? { 'data-changed': 'true', class: 'changed' } : {}) },
        h('th', { scope: 'row' }, LABELS[k]),
        h('td', {}, settingText(k, now[k])),
        h('td', {}, settingText(k, file[k]), changed ? h('span', { class: 'visually-hidden' }, ' (changes)') : null),
      );
    });
  el.diffBody.replaceChildren(...rows);
  const cur = a.current;
  el.data.textContent = `It will be evaluated on the current data: ${cur ? dataText(cur) : 'none'}.`;
  const fd = meta.data;
  const warnings: string[] = [];
  if (archChanged) warnings.push(`The architecture changes: now ${archText(now)}, in the file ${archText(file)}.`);
  if (!fd) warnings.push('The file does not say which data it was trained on.');
  else if (cur && (fd.kind !== cur.kind || (fd.kind === 'series' && (fd.name !== cur.name || fd.column !== cur.column)))) {
    warnings.push(`The file was trained on ${dataText(fd)}, not on the current data; the current data is standardized with its own training mean and std.`);
  }
  show(el.warning, warnings.length ? warnings.join(' ') : null);
  el.dialog.dataset.archChanged = String(archChanged);
}
