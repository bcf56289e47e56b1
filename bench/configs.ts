/**
 * Benchmark configurations, FLOP counting (docs/kernel-design.md §5), robust statistics and the
 * result table. Pure code (no GPU, no DOM, no Node APIs): shared by the browser page, the Node
 * runner and the unit tests (test/unit/bench-flops.test.ts).
 */

/** The recurrent cell: built-in LSTM / GRU, or the chapter's layer-normalized custom cell (rnn.layers.rnn({cell})). */
export type Cell = 'lstm' | 'gru' | 'lncell';

/**
 * Who trains: our library, tfjs-webgpu with sigmoid gates (same maths), tfjs with its default
 * hardSigmoid gates; for custom cells, ours-steps = our library running the cell's ops step by step
 * (`fused: false`: what custom cells did before they were compiled into fused kernels); with Node's
 * `--vs-torch`, PyTorch on the CPU (torch-1t: one thread, torch-all: every core).
 */
export type Side = 'ours' | 'tfjs' | 'tfjs-default' | 'ours-steps' | TorchSide;

/** Node's `--vs-torch`: native PyTorch on the CPU with one thread and with all of them (bench/torch.ts). */
export type TorchSide = 'torch-1t' | 'torch-all';
export const TORCH_SIDES: readonly TorchSide[] = ['torch-1t', 'torch-all'];

export interface BenchConfig {
  /** Short id used by `--configs`. */
  id: string;
  /** Human-readable model. */
  title: string;
  cell: Cell;
  /** Hidden units of each recurrent layer (all but the last return sequences); then Dense(1). */
  units: number[];
  B: number;
  T: number;
  /** Input features. */
  I: number;
  /** GRU only: our layer's resetAfter (tfjs GRU supports only false). */
  resetAfter?: boolean;
  /** The sides that run this configuration (tfjs cannot run GRU resetAfter=true). */
  sides: Side[];
  /** Part of `--quick`. */
  quick: boolean;
  note?: string;
}

/**
 * The configurations, the two with speed targets (LSTM(20)×2 ≥ 20×, LSTM(128) ≥ 10×) first
 * so that a tight time budget drops the others. Head: the last recurrent layer returns only its last output
 * (returnSequences=false) and Dense(1) maps it to one value per series — identical on both sides.
 */
export const CONFIGS: BenchConfig[] = [
  {
    id: 'lstm20x2', title: 'LSTM(20)×2 + Dense(1)', cell: 'lstm', units: [20, 20], B: 32, T: 50, I: 1,
    sides: ['ours', 'tfjs', 'tfjs-default'], quick: true,
    note: "the chapter's deep LSTM; tfjs-default = tfjs with its default hardSigmoid gates",
  },
  { id: 'lstm128', title: 'LSTM(128) + Dense(1)', cell: 'lstm', units: [128], B: 64, T: 50, I: 8, sides: ['ours', 'tfjs'], quick: false },
  {
    id: 'gru20x2', title: 'GRU(20)×2 + Dense(1), resetAfter=false', cell: 'gru', units: [20, 20], B: 32, T: 50, I: 1,
    resetAfter: false, sides: ['ours', 'tfjs'], quick: false,
    note: 'tfjs GRU supports only resetAfter=false',
  },
  {
    id: 'gru20x2-ra', title: 'GRU(20)×2 + Dense(1), resetAfter=true (ours only)', cell: 'gru', units: [20, 20], B: 32, T: 50, I: 1,
    resetAfter: true, sides: ['ours'], quick: false,
    note: 'Keras 3 / cuDNN default; tfjs has no resetAfter=true',
  },
  { id: 'lstm256', title: 'LSTM(256) + Dense(1)', cell: 'lstm', units: [256], B: 64, T: 100, I: 32, sides: ['ours', 'tfjs'], quick: false },
  {
    id: 'lncell', title: 'RNN(LNSimpleRNNCell(20))×2 + Dense(1): fused kernels vs the cell\'s ops step by step', cell: 'lncell', units: [20, 20], B: 32, T: 50, I: 1,
    sides: ['ours', 'ours-steps'], quick: false,
    note: "the chapter's layer-normalized custom cell (experiment J); ours-steps = the same model with fused: false, the cell's ops recorded step by step (before the cell compiler)",
  },
];

/** Gate blocks G: LSTM 4, GRU 3, the LN cell 1 (a SimpleRNN's matmuls; LayerNorm is element-wise work). */
export function gates(cell: Cell): number {
  return cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
}

/**
 * GEMM FLOPs of one training step (forward + backward), kernel-design.md §5: per recurrent layer
 * F = 6·T·B·G·H·(I+H) with I that layer's input width, minus 2·T·B·G·H·I for layer 0, whose input
 * gradient dX is not computed. The Dense head, element-wise work and the optimizer are O(T·B·H + P)
 * and are not counted (bandwidth, not FLOPs). GRU with resetAfter=false has the same count.
 */
export function trainingFlops(cfg: Pick<BenchConfig, 'cell' | 'units' | 'B' | 'T' | 'I'>): number {
  const G = gates(cfg.cell);
  let I = cfg.I;
  let total = 0;
  cfg.units.forEach((H, l) => {
    total += 6 * cfg.T * cfg.B * G * H * (I + H);
    if (l === 0) total -= 2 * cfg.T * cfg.B * G * H * I;
    I = H;
  });
  return total;
}

/** Forward-only GEMM FLOPs: 2·T·B·G·H·(I+H) per layer. */
export function forwardFlops(cfg: Pick<BenchConfig, 'cell' | 'units' | 'B' | 'T' | 'I'>): number {
  const G = gates(cfg.cell);
  let I = cfg.I;
  let total = 0;
  for (const H of cfg.units) {
    total += 2 * cfg.T * cfg.B * G * H * (I + H);
    I = H;
  }
  return total;
}

/** Selects configurations from `--configs a,b` (ids), or the quick / default sets. */
export function selectConfigs(ids: string[] | null, quick: boolean): BenchConfig[] {
  if (ids && ids.length) {
    const unknown = ids.filter((id) => !CONFIGS.some((c) => c.id === id));
    if (unknown.length) throw new Error(`unknown config(s): ${unknown.join(', ')} (known: ${CONFIGS.map((c) => c.id).join(', ')})`);
    return ids.map((id) => CONFIGS.find((c) => c.id === id)!);
  }
  return quick ? CONFIGS.filter((c) => c.quick) : CONFIGS;
}

// ------------------------------------------------------------------------------- statistics

export interface Summary {
  n: number;
  median: number;
  /** First and third quartiles (linear interpolation between order statistics, numpy's default). */
  q1: number;
  q3: number;
  iqr: number;
  min: number;
  max: number;
}

/** Quantile q ∈ [0, 1] of `xs` with linear interpolation (numpy `percentile`, method 'linear'). */
export function quantile(xs: readonly number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export function summarize(xs: readonly number[]): Summary {
  const q1 = quantile(xs, 0.25), q3 = quantile(xs, 0.75);
  return {
    n: xs.length,
    median: quantile(xs, 0.5),
    q1,
    q3,
    iqr: q3 - q1,
    min: xs.length ? Math.min(...xs) : NaN,
    max: xs.length ? Math.max(...xs) : NaN,
  };
}

/**
 * Steps per timed run: enough that one run lasts about `targetMs` (amortising the final readback),
 * at least 1, at most `maxSteps`.
 */
export function stepsPerRun(estimatedStepMs: number, targetMs: number, maxSteps: number): number {
  if (!(estimatedStepMs > 0)) return 1;
  return Math.max(1, Math.min(maxSteps, Math.round(targetMs / estimatedStepMs)));
}

/** Linear extrapolation of a probe step at T' steps to T steps (an upper bound when part of the step does not grow with T). */
export function extrapolateStepMs(probeMs: number, probeT: number, T: number): number {
  return (probeMs * T) / probeT;
}

// ------------------------------------------------------------------------------- results

export interface CallCounts {
  /** dispatchWorkgroups calls. */
  dispatches: number;
  /** beginComputePass calls. */
  passes: number;
  /** createBindGroup calls. */
  bindGroups: number;
  /** queue.writeBuffer calls. */
  writeBuffers: number;
  /** queue.submit calls. */
  submits: number;
}

export interface SideResult {
  side: Side;
  status: 'ok' | 'skipped' | 'error';
  reason?: string;
  /** One step at a short sequence, extrapolated to T. */
  probe?: { T: number; ms: number; estimatedMs: number };
  /** Wall time of each warm-up step (the first includes pipeline compilation). */
  warmupMs?: number[];
  stepsPerRun?: number;
  /** ms per training step of each timed run (one per round). */
  msPerStep?: number[];
  summary?: Summary;
  samplesPerSec?: number;
  gflops?: number;
  /** Ours: trainingStepInfo(). */
  stepInfo?: { dispatches: number; savedBytes: number; submits: number };
  /** WebGPU calls counted over one training step run on its own (including its final readback). */
  calls?: CallCounts;
  /** MSE on the benchmark batch before training (same weights on both sides). */
  initialLoss?: number;
}

export interface ProfileEntry {
  phase: string;
  kernel: string;
  count: number;
  ms: number;
}

export interface ProfileResult {
  side: Side;
  /** Sum of the profiled passes' GPU time. */
  gpuMs: number;
  /** Wall time of the profiled step (passes split per dispatch, so slower than a normal step). */
  wallMs: number;
  entries: ProfileEntry[];
  /** Smallest non-zero timestamp delta seen (ns): hints at coarsening (100 µs in Chromium without developer features). */
  resolutionNs?: number;
  note?: string;
}

export interface ConfigResult {
  id: string;
  title: string;
  cell: Cell;
  units: number[];
  B: number;
  T: number;
  I: number;
  resetAfter?: boolean;
  flopsPerStep: number;
  /** Alternating timed rounds that ran (each side once per round). */
  rounds: number;
  /** Wall time of the whole configuration (build, probe, warm-up, rounds, profile). */
  wallS?: number;
  sides: SideResult[];
  /** median(tfjs ms) / median(ours ms) per tfjs side, and the median of the per-round paired ratios. */
  speedup: Partial<Record<Side, { ofMedians: number; pairedMedian: number; pairedIqr: [number, number] }>>;
  profile?: ProfileResult[];
  note?: string;
  /**
   * `--vs-torch`: ours ÷ PyTorch ms/step per torch side that ran (> 1: PyTorch is faster), as the
   * ratio of medians and as the median (and quartiles) of the per-round paired ratios.
   */
  vsTorch?: Partial<Record<TorchSide, { oursOverTorch: number; pairedMedian: number; pairedIqr: [number, number] }>>;
}

/** Speed-ups of ours over every other side that ran. */
export function speedups(sides: readonly SideResult[]): ConfigResult['speedup'] {
  const ours = sides.find((s) => s.side === 'ours' && s.status === 'ok');
  const out: ConfigResult['speedup'] = {};
  if (!ours?.msPerStep?.length) return out;
  for (const s of sides) {
    if (s.side === 'ours' || s.status !== 'ok' || !s.msPerStep?.length) continue;
    const paired = s.msPerStep.slice(0, ours.msPerStep.length).map((v, i) => v / ours.msPerStep![i]!);
    const p = summarize(paired);
    out[s.side] = { ofMedians: s.summary!.median / ours.summary!.median, pairedMedian: p.median, pairedIqr: [p.q1, p.q3] };
  }
  return out;
}

/** ours ms ÷ torch ms for every torch side that ran alongside ours (undefined when none did). */
export function oursVsTorch(sides: readonly SideResult[]): ConfigResult['vsTorch'] {
  const ours = sides.find((s) => s.side === 'ours' && s.status === 'ok');
  if (!ours?.msPerStep?.length) return undefined;
  let out: ConfigResult['vsTorch'];
  for (const t of TORCH_SIDES) {
    const s = sides.find((x) => x.side === t && x.status === 'ok');
    if (!s?.msPerStep?.length) continue;
    const n = Math.min(s.msPerStep.length, ours.msPerStep.length);
    const paired = summarize(ours.msPerStep.slice(0, n).map((v, i) => v / s.msPerStep![i]!));
    (out ??= {})[t] = {
      oursOverTorch: summarize(ours.msPerStep).median / summarize(s.msPerStep).median,
      pairedMedian: paired.median,
      pairedIqr: [paired.q1, paired.q3],
    };
  }
  return out;
}

/** Fills summary, samples/s and GFLOP/s from msPerStep. */
export function finishSide(r: SideResult, B: number, flops: number): SideResult {
  if (r.status !== 'ok' || !r.msPerStep?.length) return r;
  r.summary = summarize(r.msPerStep);
  r.samplesPerSec = (B * 1000) / r.summary.median;
  r.gflops = flops / (r.summary.median * 1e6);
  return r;
}

// ------------------------------------------------------------------------------- table

function fmt(v: number | undefined, digits = 3): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  return v.toPrecision(digits);
}

/** Markdown table of a run's results (one row per side and configuration). */
export function resultTable(results: readonly ConfigResult[]): string {
  const head = ['config', 'side', 'ms/step (median)', 'IQR ms', 'samples/s', 'GFLOP/s', 'dispatches/step', 'speed-up vs ours'];
  const rows: string[][] = [];
  for (const c of results) {
    for (const s of c.sides) {
      const base = [c.id, s.side];
      if (s.status !== 'ok') {
        rows.push([...base, `${s.status}: ${s.reason ?? ''}`, '', '', '', '', '']);
        continue;
      }
      const disp = s.side.startsWith('ours') ? s.stepInfo?.dispatches ?? s.calls?.dispatches : s.calls?.dispatches;
      const sp = c.speedup[s.side];
      rows.push([
        ...base,
        fmt(s.summary?.median),
        s.summary ? `${fmt(s.summary.q1)}–${fmt(s.summary.q3)}` : '—',
        fmt(s.samplesPerSec),
        fmt(s.gflops),
        disp === undefined ? '—' : String(disp),
        s.side === 'ours' ? '1' : sp ? `${fmt(sp.ofMedians)}× (paired ${fmt(sp.pairedMedian)}×)` : '—',
      ]);
    }
  }
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((v, i) => v.padEnd(w[i]!)).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/**
 * `--vs-torch`: one row per configuration, ours against PyTorch on the CPU with one thread and with
 * all threads; ratios are ours ÷ torch ms/step (> 1: PyTorch is faster), paired = median of the
 * per-round ratios.
 */
export function torchTable(results: readonly ConfigResult[]): string {
  const head = ['config', 'ours ms', 'torch-1t ms', 'torch-all ms', 'ours / torch-1t', 'ours / torch-all'];
  const ms = (c: ConfigResult, side: Side) => {
    const s = c.sides.find((x) => x.side === side);
    return !s ? '—' : s.status === 'ok' ? fmt(s.summary?.median) : `${s.status}: ${s.reason ?? ''}`;
  };
  const ratio = (c: ConfigResult, t: TorchSide) => {
    const v = c.vsTorch?.[t];
    return v ? `${fmt(v.oursOverTorch)} (paired ${fmt(v.pairedMedian)}, IQR ${fmt(v.pairedIqr[0])}–${fmt(v.pairedIqr[1])})` : '—';
  };
  const rows = results
    .filter((c) => c.sides.some((s) => (TORCH_SIDES as readonly Side[]).includes(s.side)))
    .map((c) => [c.id, ms(c, 'ours'), ms(c, 'torch-1t'), ms(c, 'torch-all'), ratio(c, 'torch-1t'), ratio(c, 'torch-all')]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((v, i) => v.padEnd(w[i]!)).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Per-phase / per-kernel GPU time table of a profile. */
export function profileTable(p: ProfileResult): string {
  const rows = [...p.entries].sort((a, b) => b.ms - a.ms);
  const head = ['phase', 'kernel', 'dispatches', 'GPU ms', '% of GPU'];
  const body = rows.map((e) => [e.phase, e.kernel, String(e.count), fmt(e.ms), `${((100 * e.ms) / (p.gpuMs || 1)).toFixed(1)}%`]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((v, i) => v.padEnd(w[i]!)).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/** Phase totals of a profile, largest first. */
export function phaseTotals(p: ProfileResult): { phase: string; ms: number; share: number }[] {
  const m = new Map<string, number>();
  for (const e of p.entries) m.set(e.phase, (m.get(e.phase) ?? 0) + e.ms);
  return [...m].map(([phase, ms]) => ({ phase, ms, share: ms / (p.gpuMs || 1) })).sort((a, b) => b.ms - a.ms);
}

/** File-name-safe adapter slug: "swiftshader", "lavapipe", "nvidia-hopper"… */
export function adapterSlug(info: { vendor?: string; architecture?: string; description?: string; device?: string }): string {
  const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.description ?? ''} ${info.device ?? ''}`.toLowerCase();
  if (text.includes('swiftshader')) return 'swiftshader';
  if (text.includes('llvmpipe') || text.includes('lavapipe') || (text.includes('mesa') && text.includes('software'))) return 'lavapipe';
  const parts = [info.vendor, info.architecture].filter((s) => s && s.trim()).join('-');
  const slug = (parts || info.description || 'unknown').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return slug.slice(0, 40) || 'unknown';
}
