/**
 * The demo's downloads, made in the page (nothing leaves the device): the forecasts as CSV, the
 * loss history as CSV and JSON, and the run's settings as JSON. CSV follows RFC 4180 (comma,
 * CRLF, quotes where needed); dates are ISO 8601 without a zone, as in the data; numbers are
 * plain decimals (float32 precision for model outputs).
 */
import { isoDate } from './dates';
import { HORIZON, type DataInfo, type ModelConfig, type RunResults } from './protocol';

/** What the page keeps of a finished run. */
export interface RunRecord {
  mode: 'trained' | 'loaded';
  stopped: boolean;
  config: ModelConfig;
  data: DataInfo;
  history: Record<string, number[]>;
  /** Seconds since Train at the end of each epoch. */
  epochSeconds: number[];
  results: RunResults;
  trainMs: number;
  evalMs: number;
  totalMs: number;
  finishedAt: string;
  gpu: { vendor: string; architecture: string; fallback: boolean } | null;
  params: number;
  /** For loaded runs: the file's name. */
  weightsFile?: string;
}

/** One CSV field: quoted when it holds a comma, quote or line break (or leading/trailing blanks). */
export function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? num(v) : '';
  return /[",\r\n]|^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** A number without float noise: up to 7 significant digits (float32 values), no exponent for ordinary magnitudes. */
export function num(v: number): string {
  const s = String(Number(v.toPrecision(7)));
  return s === '-0' ? '0' : s;
}

export function toCsv(header: string[], rows: (string | number | null)[][]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** A file name part from a data or column name: letters, digits, dot, dash, underscore. */
export function slug(s: string): string {
  return s.replace(/\.[a-z0-9]{1,4}$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'data';
}

/**
 * Forecasts. Series data: one row per validation date (actual value, the model's next-step
 * forecast, the naive and seasonal baselines' next-step forecasts), then the ten dates after the
 * data ends (model only). Synthetic data: one row per validation series and step (1–10).
 */
export function forecastCsv(r: RunRecord): string {
  const res = r.results;
  if (res.validation) {
    const v = res.validation;
    const dates = res.hasDates;
    const xName = dates ? 'date' : 'step';
    const seasonalName = res.seasonalLabel ? `seasonal_${res.seasonalLabel.split(' ')[0]}` : null;
    const header = [xName, 'split', 'actual', 'model', 'naive', ...(seasonalName && v.seasonal ? [seasonalName] : [])];
    const x = (t: number) => (dates ? isoDate(t, res.withTime) : t);
    const rows: (string | number | null)[][] = v.x.map((t, i) => [x(t), 'validation', v.truth[i]!, v.model[i]!, v.naive[i]!, ...(seasonalName && v.seasonal ? [v.seasonal[i]!] : [])]);
    if (res.future) res.future.x.forEach((t, k) => rows.push([x(t), 'forecast', null, res.future!.forecast[k]!, null, ...(seasonalName && v.seasonal ? [null] : [])]));
    return toCsv(header, rows);
  }
  const t = res.tenStep;
  const rows: (string | number | null)[][] = [];
  for (let w = 0; w < t.n; w++) for (let k = 0; k < HORIZON; k++) rows.push([w + 1, k + 1, t.truth[w * HORIZON + k]!, t.model[w * HORIZON + k]!, t.naive[w * HORIZON + k]!]);
  return toCsv(['series', 'step', 'actual', 'model', 'naive'], rows);
}

function historyRows(r: RunRecord): { epoch: number; loss: number | null; val_loss: number | null; elapsed_s: number | null }[] {
  const loss = r.history.loss ?? [];
  const val = r.history.val_loss ?? [];
  return loss.map((l, i) => ({ epoch: i + 1, loss: l, val_loss: val[i] ?? null, elapsed_s: r.epochSeconds[i] ?? null }));
}

export function historyCsv(r: RunRecord): string {
  return toCsv(['epoch', 'loss', 'val_loss', 'elapsed_s'], historyRows(r).map((h) => [h.epoch, h.loss, h.val_loss, h.elapsed_s === null ? null : Number(h.elapsed_s.toFixed(3))]));
}

const finite = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? null : v);

export function historyJson(r: RunRecord): string {
  return JSON.stringify(
    {
      format: 'webgpu-rnn-history',
      version: 1,
      loss: 'mse on standardized values',
      stopped: r.stopped,
      epochs: historyRows(r).map((h) => ({ epoch: h.epoch, loss: finite(h.loss), val_loss: finite(h.val_loss), elapsed_s: finite(h.elapsed_s) })),
    },
    null,
    1,
  );
}

export function settingsJson(r: RunRecord, page: string): string {
  const res = r.results;
  const scores = (s: { mae1: number; mae10: number; mseLoss: number } | null) => (s ? { mae_next: finite(s.mae1), mae_10: finite(s.mae10), mse_loss: finite(s.mseLoss) } : null);
  return JSON.stringify(
    {
      format: 'webgpu-rnn-run',
      version: 1,
      createdAt: r.finishedAt,
      page,
      mode: r.mode,
      ...(r.weightsFile ? { weightsFile: r.weightsFile } : {}),
      stopped: r.stopped,
      config: r.config,
      parameters: r.params,
      data: {
        ...r.data.descriptor,
        window: r.data.window,
        trainWindows: r.data.nTrain,
        validationWindows: r.data.nValid1,
        validationFrom: r.data.validFrom === null ? null : isoDate(r.data.validFrom, r.data.withTime),
        validationTo: r.data.validTo === null ? null : isoDate(r.data.validTo, r.data.withTime),
      },
      scores: { model: scores(res.model), naive: scores(res.naive), seasonal: scores(res.seasonal), seasonalPeriod: res.seasonalLabel, tenStepMode: res.mode },
      epochsTrained: r.history.loss?.length ?? 0,
      timing: { trainSeconds: r.trainMs / 1000, evaluateSeconds: r.evalMs / 1000, totalSeconds: r.totalMs / 1000 },
      gpu: r.gpu,
    },
    null,
    1,
  );
}

/** Saves text as a file through a temporary link (a blob: URL, revoked soon after). */
export function download(name: string, text: string, type: string): void {
  const blob = new Blob([text], { type });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
