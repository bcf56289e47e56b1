/**
 * The demo's uPlot charts: the loss curves (train, validation, naive baseline) and small
 * forecast panels (history, truth, model forecast, naive forecast). Charts follow their
 * container's width (ResizeObserver).
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ForecastSeries } from './protocol';

const COLORS = { train: '#2563eb', valid: '#dc2626', naive: '#6b7280', history: '#334155', truth: '#16a34a', forecast: '#dc2626' };

function fit(u: uPlot, el: HTMLElement, height: number): ResizeObserver {
  const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
  ro.observe(el);
  return ro;
}

const fmt = (v: number | null) => (v === null || !Number.isFinite(v) ? '—' : Math.abs(v) >= 0.01 ? v.toFixed(4) : v.toExponential(2));
/** Axis ticks: two significant digits, no trailing zeros (0.05, 0.1, 2e-3). */
const tick = (v: number) => (v === 0 ? '0' : Math.abs(v) >= 1e-3 ? String(Number(v.toPrecision(2))) : v.toExponential(0));

/** Loss per epoch with the naive baseline's validation MSE as a dashed reference line. */
export class LossChart {
  private u: uPlot | null = null;
  private ro: ResizeObserver | null = null;
  private epochs: number[] = [];
  private loss: number[] = [];
  private val: (number | null)[] = [];
  private naive: number | null = null;
  private maxEpochs = 1;
  private log = true;

  constructor(private readonly el: HTMLElement, private readonly height = 240) {
    this.render();
  }

  get points(): number {
    return this.epochs.length;
  }

  get validationLosses(): (number | null)[] {
    return [...this.val];
  }

  reset(maxEpochs: number, naive: number | null = null): void {
    this.epochs = [];
    this.loss = [];
    this.val = [];
    this.naive = naive;
    this.maxEpochs = maxEpochs;
    this.render();
  }

  setNaive(v: number): void {
    this.naive = v;
    this.update();
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
    // The naive line spans the whole x range (also before the first epoch ends): x gets the
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
    return [xs, loss, val, xs.map(() => this.naive)];
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
  }

  private render(): void {
    this.ro?.disconnect();
    this.u?.destroy();
    const opts: uPlot.Options = {
      width: Math.max(200, this.el.clientWidth),
      height: this.height,
      scales: {
        x: { time: false, range: () => [1, Math.max(2, this.maxEpochs)] },
        y: this.log ? { distr: 3 } : { range: (_u, _lo, hi) => [0, hi === null ? 1 : hi * 1.05] },
      },
      axes: [
        { label: 'epoch', incrs: [1, 2, 5, 10, 20, 50, 100], values: (_u, v) => v.map((x) => String(x)) },
        { label: this.log ? 'MSE (log)' : 'MSE', size: 64, values: (_u, v) => v.map((x) => (x === null ? '' : tick(x))) },
      ],
      series: [
        { label: 'epoch' },
        { label: 'train loss', stroke: COLORS.train, width: 2, points: { show: true, size: 6 }, value: (_u, v) => fmt(v) },
        { label: 'validation loss', stroke: COLORS.valid, width: 2, points: { show: true, size: 6 }, value: (_u, v) => fmt(v) },
        { label: 'naive (validation)', stroke: COLORS.naive, width: 1.5, dash: [6, 4], points: { show: false }, value: (_u, v) => fmt(v) },
      ],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
    };
    this.u = new uPlot(opts, this.data(), this.el);
    this.ro = fit(this.u, this.el, this.height);
    this.mark();
  }
}

/** One validation window: history (x ≤ 0), truth and forecasts for steps 1..10. */
export class ForecastChart {
  private u: uPlot | null = null;
  private ro: ResizeObserver | null = null;

  constructor(private readonly el: HTMLElement, private readonly height = 200) {}

  clear(): void {
    this.ro?.disconnect();
    this.u?.destroy();
    this.u = null;
    this.el.replaceChildren();
    delete this.el.dataset.drawn;
  }

  draw(s: ForecastSeries, title: string, forecastLabel: string): void {
    this.clear();
    const W = s.history.length, H = s.truth.length;
    const xs = Array.from({ length: W + H }, (_, i) => i - W + 1);
    const last = s.history[W - 1]!;
    // history ends at x = 0; the future lines start there so they visibly connect
    const hist = xs.map((_, i) => (i < W ? s.history[i]! : null));
    const future = (a: number[]) => xs.map((_, i) => (i === W - 1 ? last : i >= W ? a[i - W]! : null));
    const opts: uPlot.Options = {
      title,
      width: Math.max(200, this.el.clientWidth),
      height: this.height,
      scales: { x: { time: false } },
      axes: [{ label: 'time step (0 = last input)' }, { size: 50 }],
      series: [
        { label: 'step' },
        { label: 'input', stroke: COLORS.history, width: 1.5 },
        { label: 'truth', stroke: COLORS.truth, width: 2, points: { show: true, size: 5 } },
        { label: forecastLabel, stroke: COLORS.forecast, width: 2, points: { show: true, size: 5 } },
        { label: 'naive', stroke: COLORS.naive, width: 1.5, dash: [5, 4] },
      ],
      legend: { show: false }, // one shared legend above the panels (index.html)
      cursor: { drag: { x: false, y: false } },
    };
    this.u = new uPlot(opts, [xs, hist, future(s.truth), future(s.forecast), future(s.naive)], this.el);
    this.ro = fit(this.u, this.el, this.height);
    this.el.dataset.drawn = 'true';
  }
}
