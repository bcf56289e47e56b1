/**
 * A self-contained HTML report (no scripts, no network): the results table, loss curves and
 * forecast plots as inline SVG.
 */
export interface ReportExperiment {
  name: string;
  metric: string;
  ours: number;
  book: number;
  history: Record<string, number[]>;
  forecast: { history: number[]; truth: number[]; pred: number[] } | null;
  /** What the experiment shows (the lecture's network shapes). */
  note?: string;
}

export interface ReportRow {
  name: string;
  metric: string;
  ours: number;
  book: number;
  band: string;
  budget: string;
  seconds: number;
  pass: boolean | null;
}

/** A number for the table; the book has no value for some rows (NaN). */
const num = (v: number, digits: number) => (Number.isNaN(v) ? '—' : v.toPrecision(digits));

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

interface Series {
  label: string;
  color: string;
  points: [number, number][];
  dashed?: boolean;
}

/** A small line chart as SVG; `logY` for loss curves. */
export function lineChart(series: Series[], opts: { width?: number; height?: number; logY?: boolean; title: string }): string {
  const W = opts.width ?? 420, H = opts.height ?? 240, m = { l: 56, r: 10, t: 24, b: 28 };
  const pts = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y) && (!opts.logY || y > 0));
  if (!pts.length) return '';
  const tx = (v: number) => (opts.logY ? Math.log10(v) : v);
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => tx(p[1]));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const sy = (y: number) => m.t + (1 - (tx(y) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const ticks = [0, 0.5, 1].map((f) => y0 + f * (y1 - y0));
  const fmt = (v: number) => (opts.logY ? 10 ** v : v).toPrecision(2);
  const lines = series.map((s) => {
    const d = s.points.filter(([, y]) => Number.isFinite(y) && (!opts.logY || y > 0)).map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,4"' : ''}/>`;
  });
  const step = (W - m.l - m.r) / series.length;
  const legend = series.map((s, i) => `<text x="${m.l + 4 + i * step}" y="${m.t - 8}" fill="${s.color}" font-size="10">${esc(s.label)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="#fafafa" stroke="#ccc"/>
${ticks.map((t) => `<text x="${m.l - 4}" y="${sy(opts.logY ? 10 ** t : t) + 4}" font-size="10" text-anchor="end">${fmt(t)}</text>`).join('')}
<text x="${W / 2}" y="${H - 6}" font-size="11" text-anchor="middle">${esc(opts.title)}</text>
${lines.join('\n')}
${legend.join('\n')}
</svg>`;
}

export function writeReport(r: { title: string; adapter: string; budget: string; experiments: ReportExperiment[]; table: ReportRow[] }): string {
  const rows = r.table
    .map((t) => `<tr><td>${esc(t.name)}</td><td>${esc(t.metric)}</td><td>${num(t.ours, 5)}</td><td>${num(t.book, 5)}</td><td>${esc(t.band)}</td><td>${esc(t.budget)}</td><td>${t.seconds ? t.seconds.toFixed(1) + ' s' : ''}</td></tr>`)
    .join('\n');
  const sections = r.experiments.map((e) => {
    const hist = e.history;
    const curve = (k: string, color: string, label: string, dashed = false): Series | null =>
      hist[k] ? { label, color, dashed, points: hist[k]!.map((v, i) => [i + 1, v] as [number, number]) } : null;
    const curves = [curve('loss', '#1f77b4', 'train loss'), curve('val_loss', '#ff7f0e', 'val loss'), curve('lastTimeStepMse', '#2ca02c', 'train last-step', true), curve('val_lastTimeStepMse', '#d62728', 'val last-step', true)].filter((s): s is Series => s !== null);
    const f = e.forecast;
    const fc = f
      ? lineChart(
          [
            { label: 'input', color: '#555', points: f.history.map((v, i) => [i, v]) },
            { label: 'truth', color: '#2ca02c', points: f.truth.map((v, i) => [50 + i, v]) },
            { label: 'forecast', color: '#d62728', dashed: true, points: f.pred.map((v, i) => [50 + i, v]) },
          ],
          { title: 'time step (seed-43 series)' },
        )
      : '';
    return `<section><h2>${esc(e.name)}</h2><p>${esc(e.metric)}: <b>${num(e.ours, 4)}</b> (book ${num(e.book, 4)})</p>${e.note ? `<p>${esc(e.note)}</p>` : ''}
<div class="charts">${lineChart(curves, { logY: true, title: 'epoch' })}${fc}</div></section>`;
  });
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px}
.charts{display:flex;gap:16px;flex-wrap:wrap}section{margin-top:2em}</style></head><body>
<h1>${esc(r.title)}</h1><p>Adapter: ${esc(r.adapter)} — budget: ${esc(r.budget)}</p>
<table><tr><th>Experiment</th><th>Metric</th><th>webgpu-rnn</th><th>Book</th><th>Band</th><th>Budget</th><th>Train time</th></tr>
${rows}</table>
${sections.join('\n')}
</body></html>`;
}
