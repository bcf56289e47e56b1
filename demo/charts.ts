/**
 * The demo's uPlot charts: the loss curves (train, validation, the baselines' levels) and line
 * charts of the data in data units over dates (or steps): the whole series, the validation
 * period's next-step forecasts, and 10-step forecast panels. Charts follow their container's
 * width (ResizeObserver).
 *
 * Axes: tick labels are formatted from the tick spacing (numbers with just enough decimals and
 * thousands separators; dates as ISO `2015-03-05`, `2015-03` or `2015`), and every y axis is as
 * wide as its longest label, so nothing is clipped. After each draw a chart writes what it drew
 * into `data-axes` (tick texts, their measured widths and the room they had) — for tests and for
 * anyone reading the DOM — and a text alternative into `aria-label`.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { isoDate } from './dates';

export const COLORS = { train: '#2563eb', valid: '#dc2626', naive: '#6b7280', seasonal: '#9333ea', history: '#334155', truth: '#16a34a', forecast: '#dc2626', trainPart: '#2563eb', validPart: '#ea580c' };

const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const LABEL_FONT = 'bold 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const TICK = 5;
const GAP = 5;
const LABEL_SIZE = 22;

let measureCtx: CanvasRenderingContext2D | null = null;
/** Width in CSS px of a tick label in the axes' font. */
export function textWidth(s: string): number {
  measureCtx ??= document.createElement('canvas').getContext('2d')!;
  measureCtx.font = FONT;
  return Math.max(0, ...s.split('\n').map((l) => measureCtx!.measureText(l).width));
}

const group = (v: number, decimals: number) => v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });

/** Tick labels with the decimals the spacing needs: 10, 12.5, 0.05, 1,013. */
export function numberTicks(splits: number[], incr: number): string[] {
  if (!Number.isFinite(incr) || incr <= 0) return splits.map((v) => group(v, 2));
  if (incr < 1e-4 || Math.max(...splits.map(Math.abs)) >= 1e9) return splits.map((v) => (v === 0 ? '0' : v.toExponential(1)));
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(incr) + 1e-9)));
  // 2.5-type steps need one more decimal than their power of ten
  const exact = splits.every((v) => Math.abs(Number(v.toFixed(decimals)) - v) < incr * 1e-6);
  return splits.map((v) => group(Math.abs(v) < incr * 1e-9 ? 0 : v, exact ? decimals : decimals + 1));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Date tick labels (splits in seconds, UTC), as precise as the spacing needs: `2015`; `Mar`;
 * `Mar 5`; `14:00` — with the larger unit on a second line at the first tick and where it
 * changes (`Mar 5` / `2015`), as charting tools do.
 */
export function dateTicks(splits: number[], incrSec: number): string[] {
  if (incrSec >= 365 * 86400 - 1) return splits.map((s) => String(new Date(s * 1000).getUTCFullYear()));
  const parts = splits.map((s) => {
    const d = new Date(s * 1000);
    const y = String(d.getUTCFullYear()), mon = MONTHS[d.getUTCMonth()]!, day = `${mon} ${d.getUTCDate()}`;
    if (incrSec >= 28 * 86400) return { main: mon, context: y, first: y };
    if (incrSec >= 86400) return { main: day, context: y, first: y };
    const time = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
    return { main: time, context: `${day}${d.getUTCMonth() === 0 && d.getUTCDate() === 1 ? ` ${y}` : ''}`, first: `${day} ${y}` };
  });
  // The context goes where it changes, and on the first tick unless the second tick changes it
  // (two long second lines side by side would collide).
  const changes = parts.map((p, i) => i > 0 && p.context !== parts[i - 1]!.context);
  const early = changes[1] === true;
  return parts.map((p, i) => (changes[i] ? `${p.main}\n${p.context}` : i === 0 && !early ? `${p.main}\n${p.first}` : p.main));
}

interface AxisRecord {
  splits: number[];
  texts: string[];
}

/** Writes the drawn axes into data-axes (see the file comment). */
function recordAxes(el: HTMLElement, u: uPlot, rec: Map<number, AxisRecord>, sizes: Map<number, number>): void {
  const dpr = uPlot.pxRatio;
  const plotLeft = u.bbox.left / dpr, plotTop = u.bbox.top / dpr, plotWidth = u.bbox.width / dpr, plotHeight = u.bbox.height / dpr;
  const axes = u.axes.map((a, i) => {
    const r = rec.get(i) ?? { splits: [], texts: [] };
    const scale = a.scale ?? (i === 0 ? 'x' : 'y');
    const ticks = r.texts.map((text, k) => ({ text, width: text ? textWidth(text) : 0, pos: u.valToPos(r.splits[k]!, scale) + (a.side === 2 || a.side === 0 ? plotLeft : plotTop) })).filter((t) => t.text !== '');
    return { side: a.side ?? (i === 0 ? 2 : 3), label: typeof a.label === 'string' ? a.label : '', ticks, size: sizes.get(i) ?? 0, labelSize: a.label ? LABEL_SIZE : 0, tickSize: TICK, gap: GAP };
  });
  el.dataset.axes = JSON.stringify({ width: u.width, height: u.height, plotLeft, plotTop, plotWidth, plotHeight, axes });
}

type ValuesFn = (splits: number[], incr: number) => string[];

/** An x or y axis with recorded, formatted, measured ticks. */
function axis(rec: Map<number, AxisRecord>, sizes: Map<number, number>, idx: number, o: { label?: string; format: ValuesFn; vertical: boolean; space?: number; incrs?: number[] }): uPlot.Axis {
  return {
    ...(o.label ? { label: o.label, labelSize: LABEL_SIZE, labelFont: LABEL_FONT } : {}),
    font: FONT,
    ticks: { size: TICK },
    gap: GAP,
    ...(o.space ? { space: o.space } : {}),
    ...(o.incrs ? { incrs: o.incrs } : {}),
    values: (_u: uPlot, splits: number[], _ai: number, _space: number, incr: number) => {
      const texts = o.format(splits, incr);
      rec.set(idx, { splits, texts });
      return texts;
    },
    size: (_u: uPlot, values: string[] | null, _ai: number, cycle: number) => {
      let s: number;
      if (o.vertical) {
        const w = Math.max(0, ...(values ?? []).map((v) => (v ? textWidth(String(v)) : 0)));
        s = Math.ceil(TICK + GAP + w + 4);
      } else s = TICK + GAP + 4 + 15 * Math.max(1, ...(values ?? []).map((v) => (v ? String(v).split('\n').length : 1)));
      if (cycle > 2 && sizes.has(idx)) return sizes.get(idx)!; // converge
      sizes.set(idx, s);
      return s;
    },
  };
}

function follow(u: uPlot, el: HTMLElement, height: () => number): ResizeObserver {
  let last = el.clientWidth;
  const ro = new ResizeObserver(() => {
    if (el.clientWidth === last) return;
    last = el.clientWidth;
    u.setSize({ width: Math.max(200, el.clientWidth), height: height() });
  });
  ro.observe(el);
  return ro;
}

const fmtValue = (v: number | null) => (v === null || !Number.isFinite(v) ? '—' : Math.abs(v) >= 0.01 ? v.toFixed(4) : v.toExponential(2));
/** Loss axis ticks: two significant digits, no trailing zeros (0.05, 0.1, 2e-3). */
const lossTick = (v: number) => (v === 0 ? '0' : Math.abs(v) >= 1e-3 ? String(Number(v.toPrecision(2))) : v.toExponential(0));

/** Loss per epoch, with the baselines' validation MSE as dashed reference lines. */
export class LossChart {
  private u: uPlot | null = null;
  private ro: ResizeObserver | null = null;
  private epochs: number[] = [];
  private loss: number[] = [];
  private val: (number | null)[] = [];
  private naive: number | null = null;
  private seasonal: { value: number; label: string } | null = null;
  private maxEpochs = 1;
  private log = true;
  private rec = new Map<number, AxisRecord>();
  private sizes = new Map<number, number>();

  constructor(private readonly el: HTMLElement, private readonly height = 240) {
    this.render();
  }

  get points(): number {
    return this.epochs.length;
  }

  reset(maxEpochs: number): void {
    this.epochs = [];
    this.loss = [];
    this.val = [];
    this.naive = null;
    this.seasonal = null;
    this.maxEpochs = maxEpochs;
    this.render();
  }

  setBaselines(naive: number, seasonal: { value: number; label: string } | null): void {
    const rebuild = !!this.seasonal !== !!seasonal;
    this.naive = naive;
    this.seasonal = seasonal;
    if (rebuild) this.render();
    else this.update();
  }

  add(epoch: number, loss: number, val: number | undefined): void {
    this.epochs.push(epoch);
    this.loss.push(loss);
    this.val.push(val ?? null);
    this.update();
  }

  setLog(log: boolean): void {
    this.log = log;
    this.render();
  }

  /** Sets the x range (before training, from the form). */
  setEpochs(maxEpochs: number): void {
    if (maxEpochs === this.maxEpochs || !Number.isInteger(maxEpochs) || maxEpochs < 1) return;
    this.maxEpochs = maxEpochs;
    this.render();
  }

  private data(): uPlot.AlignedData {
    // The baselines span the whole x range (also before the first epoch ends): x gets the
    // range's ends as extra points where the loss series are null.
    const end = Math.max(2, this.maxEpochs);
    const xs = [...this.epochs];
    const loss: (number | null)[] = [...this.loss], val = [...this.val];
    if (!xs.length || xs[0]! > 1) {
      xs.unshift(1);
      loss.unshift(null);
      val.unshift(null);
    }
    if (xs[xs.length - 1]! < end) {
      xs.push(end);
      loss.push(null);
      val.push(null);
    }
    const d: uPlot.AlignedData = [xs, loss, val, xs.map(() => this.naive)];
    return this.seasonal ? [...d, xs.map(() => this.seasonal!.value)] : d;
  }

  private update(): void {
    if (!this.u) return this.render();
    this.u.setData(this.data());
    this.mark();
  }

  /** The drawn values as data attributes (for tests and curious readers of the DOM). */
  private mark(): void {
    this.el.dataset.points = String(this.epochs.length);
    this.el.dataset.loss = JSON.stringify(this.loss);
    this.el.dataset.valLoss = JSON.stringify(this.val);
    const last = this.val.at(-1);
    this.el.setAttribute(
      'aria-label',
      this.epochs.length
        ? `Loss chart: ${this.epochs.length} epoch${this.epochs.length === 1 ? '' : 's'}; last training loss ${fmtValue(this.loss.at(-1) ?? null)}, validation loss ${fmtValue(last ?? null)}${this.naive !== null ? `; naive baseline ${fmtValue(this.naive)}` : ''}${this.seasonal ? `; ${this.seasonal.label} seasonal baseline ${fmtValue(this.seasonal.value)}` : ''}.`
        : 'Loss chart: no epochs yet.',
    );
  }

  private render(): void {
    this.ro?.disconnect();
    this.u?.destroy();
    this.rec.clear();
    this.sizes.clear();
    const opts: uPlot.Options = {
      width: Math.max(200, this.el.clientWidth),
      height: this.height,
      padding: [12, 16, 0, 0],
      scales: {
        x: { time: false, range: () => [1, Math.max(2, this.maxEpochs)] },
        // before the first epoch the axes still show (a placeholder range) so the empty chart looks like one
        y: this.log
          ? { distr: 3, range: (_u, lo, hi) => (lo === null || hi === null || !(lo > 0) ? [0.01, 1] : (uPlot.rangeLog(lo, hi, 10, true) as [number, number])) }
          : { range: (_u, _lo, hi) => [0, hi === null ? 1 : hi * 1.05] },
      },
      axes: [
        axis(this.rec, this.sizes, 0, { label: 'epoch', vertical: false, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500], format: (s) => s.map((x) => String(x)) }),
        axis(this.rec, this.sizes, 1, { label: this.log ? 'MSE, standardized (log)' : 'MSE, standardized', vertical: true, format: (s) => s.map((x) => (x === null ? '' : lossTick(x))) }),
      ],
      series: [
        { label: 'epoch' },
        { label: 'train loss', stroke: COLORS.train, width: 2, points: { show: true, size: 6 }, value: (_u, v) => fmtValue(v) },
        { label: 'validation loss', stroke: COLORS.valid, width: 2, points: { show: true, size: 6 }, value: (_u, v) => fmtValue(v) },
        { label: 'naive (validation)', stroke: COLORS.naive, width: 1.5, dash: [6, 4], points: { show: false }, value: (_u, v) => fmtValue(v) },
        ...(this.seasonal ? [{ label: `${this.seasonal.label} seasonal (validation)`, stroke: COLORS.seasonal, width: 1.5, dash: [2, 3], points: { show: false }, value: (_u: uPlot, v: number | null) => fmtValue(v) }] : []),
      ],
      // hovering shows each epoch's values in the legend
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      hooks: { draw: [(u) => recordAxes(this.el, u, this.rec, this.sizes)] },
    };
    this.u = new uPlot(opts, this.data(), this.el);
    this.ro = follow(this.u, this.el, () => this.height);
    this.mark();
  }
}

export interface LineSpec {
  label: string;
  color: string;
  y: (number | null)[];
  width?: number;
  dash?: number[];
  points?: boolean;
}

export interface LineChartData {
  /** Times in ms (dates) or step numbers. */
  x: number[];
  dates: boolean;
  withTime: boolean;
  lines: LineSpec[];
  title?: string;
  /** y axis label: the value's name (data units). */
  yLabel: string;
  xLabel?: string;
  /** x where the validation part starts (a vertical marker). */
  marker?: { x: number; label: string } | null;
  /** Text alternative. */
  description: string;
  legend?: boolean;
}

/** A line chart of values in data units over dates or steps. */
export class LineChart {
  private u: uPlot | null = null;
  private ro: ResizeObserver | null = null;
  private rec = new Map<number, AxisRecord>();
  private sizes = new Map<number, number>();

  constructor(private readonly el: HTMLElement, private readonly height = 200) {
    el.setAttribute('role', 'img');
  }

  clear(description = 'Nothing drawn yet.'): void {
    this.ro?.disconnect();
    this.u?.destroy();
    this.u = null;
    this.el.replaceChildren();
    delete this.el.dataset.drawn;
    delete this.el.dataset.axes;
    this.el.setAttribute('aria-label', description);
  }

  draw(d: LineChartData): void {
    this.clear();
    this.rec.clear();
    this.sizes.clear();
    const xs = d.dates ? d.x.map((t) => t / 1000) : d.x;
    const marker = d.marker ? (d.dates ? d.marker.x / 1000 : d.marker.x) : null;
    const opts: uPlot.Options = {
      ...(d.title ? { title: d.title } : {}),
      width: Math.max(200, this.el.clientWidth),
      height: this.height,
      // room on the right for the last date label (centred on its tick)
      padding: [8, d.dates ? 28 : 16, 0, 0],
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      scales: { x: { time: d.dates } },
      axes: [
        axis(this.rec, this.sizes, 0, {
          ...(d.xLabel ? { label: d.xLabel } : {}),
          vertical: false,
          space: d.dates ? 60 : 40,
          format: d.dates ? dateTicks : (s) => s.map((v) => (Number.isInteger(v) ? group(v, 0) : '')),
        }),
        axis(this.rec, this.sizes, 1, { label: d.yLabel, vertical: true, format: numberTicks }),
      ],
      series: [
        { label: d.dates ? 'date' : 'step', value: (_u, v) => (v === null ? '—' : d.dates ? isoDate(v * 1000, d.withTime) : String(v)) },
        ...d.lines.map((l) => ({
          label: l.label,
          stroke: l.color,
          width: l.width ?? 1.5,
          ...(l.dash ? { dash: l.dash } : {}),
          points: { show: l.points ?? false, size: 5 },
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : numberTicks([v], Math.abs(v) / 1000 || 0.001)[0]!),
        })),
      ],
      legend: { show: d.legend ?? false, live: true },
      cursor: { drag: { x: true, y: false } },
      hooks: {
        draw: [
          (u) => {
            if (marker !== null) {
              const ctx = u.ctx;
              const x = Math.round(u.valToPos(marker, 'x', true));
              ctx.save();
              ctx.strokeStyle = '#94a3b8';
              ctx.setLineDash([4, 4]);
              ctx.lineWidth = uPlot.pxRatio;
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
              ctx.fillStyle = '#64748b';
              ctx.font = `${11 * uPlot.pxRatio}px system-ui, sans-serif`;
              ctx.textBaseline = 'top';
              ctx.fillText(d.marker!.label, x + 4 * uPlot.pxRatio, u.bbox.top + 2 * uPlot.pxRatio);
              ctx.restore();
            }
            recordAxes(this.el, u, this.rec, this.sizes);
          },
        ],
      },
    };
    this.u = new uPlot(opts, [xs, ...d.lines.map((l) => l.y)], this.el);
    this.ro = follow(this.u, this.el, () => this.height);
    this.el.dataset.drawn = 'true';
    this.el.setAttribute('aria-label', d.description);
  }
}
