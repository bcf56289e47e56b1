/**
 * `npm run bench`: webgpu-rnn vs TensorFlow.js 4.22 (tfjs-backend-webgpu) training the same RNNs,
 *   1. in Chromium (one page, same WebGPU adapter, alternating runs), then
 *   2. in Node on Dawn (ours; tfjs-backend-webgpu too, through a navigator.gpu shim).
 * Prints a table per runtime and writes bench/results/<date>-<runtime>-<adapter>.json.
 *
 *   npm run bench                          all configurations, both runtimes (540 s budget, ~10 min in all)
 *   npm run bench -- --quick               fewer rounds, the chapter LSTM only (smoke test)
 *   npm run bench -- --configs lstm20x2,gru20x2
 *   npm run bench -- --profile             + per-kernel GPU time (timestamp queries)
 *   npm run bench -- --runtime node|browser|both   --no-tfjs-node   --rounds 7
 *   npm run bench -- --max-step-s 60       skip a side whose probe predicts a longer step
 *   npm run bench -- --budget-s 540        time budget: sides that would not fit are skipped
 *   npm run bench -- --require-gpu         refuse software adapters (real-GPU runs)
 *   npm run bench -- --ours-only           webgpu-rnn only (kernel work, profiles; no ratio)
 *   npm run bench -- --time-loop step      force our per-step (or persistent) recurrent kernels
 *   npm run bench -- --vs-torch            Node run: + native PyTorch on the CPU (1 thread, all threads)
 * See docs/performance.md.
 */
import { createServer, type Server } from 'node:http';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import os from 'node:os';
import { adapterSlug, phaseTotals, profileTable, resultTable, selectConfigs, torchTable, trainingFlops, type BenchConfig, type ConfigResult, type TorchSide } from './configs';
import { DEFAULT_OPTIONS, QUICK_OPTIONS, runConfig, type RunOptions } from './core';
// Static (not a lazy chunk): `npm start` may empty dist-cli/ while a long benchmark runs.
import { nodeEnvironment } from './node';
import { PYTHON, TORCH_INSTALL_HINT, torchSides, type TorchInfo } from './torch';

const require = createRequire(import.meta.url);

export interface CliArgs {
  quick: boolean;
  profile: boolean;
  configs: string[] | null;
  runtime: 'browser' | 'node' | 'both';
  tfjsNode: boolean;
  rounds: number | null;
  maxStepS: number | null;
  budgetS: number;
  outDir: string;
  /** Refuse software adapters (SwiftShader, lavapipe): for runs on a real GPU. */
  requireGpu: boolean;
  /** Run webgpu-rnn only (no tfjs sides): kernel work and profiles. */
  oursOnly: boolean;
  /** Our layers' timeLoop: persistent or per-step kernels (default auto). */
  timeLoop: 'auto' | 'persistent' | 'step';
  /** Node run: also time native PyTorch on the CPU (torch-1t, torch-all) in the same rounds. */
  vsTorch: boolean;
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const a: CliArgs = { quick: false, profile: false, configs: null, runtime: 'both', tfjsNode: true, rounds: null, maxStepS: null, budgetS: 540, outDir: 'bench/results', requireGpu: false, oursOnly: false, timeLoop: 'auto', vsTorch: false };
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    const [flag, inline] = f.includes('=') ? [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)] : [f, undefined];
    const take = () => inline ?? value(i++, flag);
    switch (flag) {
      case '--quick': a.quick = true; break;
      case '--profile': a.profile = true; break;
      case '--no-tfjs-node': a.tfjsNode = false; break;
      case '--require-gpu': a.requireGpu = true; break;
      case '--ours-only': a.oursOnly = true; break;
      case '--vs-torch': a.vsTorch = true; break;
      case '--time-loop': {
        const v = take();
        if (v !== 'auto' && v !== 'persistent' && v !== 'step') throw new Error(`--time-loop must be auto, persistent or step, got ${v}`);
        a.timeLoop = v;
        break;
      }
      case '--configs': a.configs = take().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--runtime': {
        const r = take();
        if (r !== 'browser' && r !== 'node' && r !== 'both') throw new Error(`--runtime must be browser, node or both, got ${r}`);
        a.runtime = r;
        break;
      }
      case '--rounds': a.rounds = positive(flag, take()); break;
      case '--max-step-s': a.maxStepS = positive(flag, take()); break;
      case '--budget-s': a.budgetS = positive(flag, take()); break;
      case '--out': a.outDir = take(); break;
      case '--help': case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${f}\n${USAGE}`);
    }
  }
  return a;
}

const USAGE = `usage: npm run bench -- [--quick] [--configs id,id] [--profile] [--runtime browser|node|both]
                       [--no-tfjs-node] [--rounds N] [--max-step-s S] [--budget-s S] [--out DIR]
                       [--require-gpu] [--ours-only] [--time-loop auto|persistent|step] [--vs-torch]
configs: lstm20x2 gru20x2 gru20x2-ra lstm128 lstm256 lncell`;

function positive(flag: string, v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new Error(`${flag} must be a positive number, got ${v}`);
  return n;
}

function options(args: CliArgs): RunOptions {
  const o: RunOptions = { ...DEFAULT_OPTIONS, ...(args.quick ? QUICK_OPTIONS : {}), profile: args.profile };
  if (args.rounds) o.rounds = Math.round(args.rounds);
  if (args.maxStepS) o.maxStepMs = args.maxStepS * 1000;
  if (args.oursOnly) o.skipSides = ['tfjs', 'tfjs-default'];
  o.timeLoop = args.timeLoop;
  return o;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

// ------------------------------------------------------------------------------- shared output

interface RunRecord {
  schema: 'webgpu-rnn-bench/1';
  date: string;
  runtime: 'browser' | 'node';
  adapter: Record<string, unknown>;
  tfjsAdapter: Record<string, unknown> | null;
  tfjs: string;
  versions: Record<string, string>;
  /** The code measured: commit, uncommitted changes, and a hash of shaders/ (the kernels move fast). */
  code: CodeInfo;
  machine: { platform: string; cpus: number; cpuModel: string; memGiB: number; loadavgStart: number[]; loadavgEnd: number[] };
  options: RunOptions & { quick: boolean; budgetS: number };
  wallS: number;
  results: ConfigResult[];
  notes: string[];
  /** --vs-torch: the PyTorch processes (torch and BLAS versions, thread counts). */
  torch?: Record<TorchSide, TorchInfo>;
}

interface CodeInfo {
  commit: string;
  /** `git status --porcelain` lines (first 30): the measured tree may differ from the commit. */
  uncommitted: string[];
  /** sha256 of shaders/*.wgsl at run time (first 16 hex digits). */
  shaders: string;
}

function codeInfo(): CodeInfo {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  let shaders = 'unknown';
  try {
    const h = createHash('sha256');
    for (const f of readdirSync('shaders').filter((n) => n.endsWith('.wgsl')).sort()) h.update(f).update(readFileSync(join('shaders', f)));
    shaders = h.digest('hex').slice(0, 16);
  } catch {
    /* not run from the repository root */
  }
  return { commit: git(['rev-parse', 'HEAD']) || 'unknown', uncommitted: git(['status', '--porcelain']).split('\n').filter(Boolean).slice(0, 30), shaders };
}

function machine(load: number[]): RunRecord['machine'] {
  return {
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? '',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    loadavgStart: load,
    loadavgEnd: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}${p(d.getMinutes())}`;
}

/**
 * Writes the run's JSON as <minute>-<runtime>-<adapter>.json in `outDir`; a run that started in the
 * same minute as one already there gets -2, -3, … instead of overwriting it (created exclusively).
 */
export async function writeRecord(rec: Pick<RunRecord, 'date' | 'runtime' | 'adapter'>, outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const base = `${stamp(new Date(rec.date))}-${rec.runtime}-${adapterSlug(rec.adapter as { vendor?: string })}`;
  for (let n = 1; ; n++) {
    const file = join(outDir, `${base}${n > 1 ? `-${n}` : ''}.json`);
    try {
      await writeFile(file, `${JSON.stringify(rec, null, 2)}\n`, { flag: 'wx' });
      return file;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

function printRecord(rec: RunRecord, file: string): void {
  const a = rec.adapter as { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
  const out: string[] = [];
  out.push('');
  out.push(`## ${rec.runtime === 'browser' ? `Chromium ${rec.versions.chromium ?? ''}` : `Node ${rec.versions.node} + Dawn (webgpu ${rec.versions.webgpu})`} — adapter: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' / ')}${a.isFallbackAdapter ? ' (fallback/software adapter)' : ''}`);
  out.push(`code ${rec.code.commit.slice(0, 10)}${rec.code.uncommitted.length ? ` + ${rec.code.uncommitted.length} uncommitted change(s)` : ''}, shaders ${rec.code.shaders}`);
  out.push(`tfjs ${rec.tfjs}; ${rec.machine.cpus} CPU cores, load average ${rec.machine.loadavgStart.join(' ')} → ${rec.machine.loadavgEnd.join(' ')}; ${rec.options.rounds} alternating rounds per side`);
  out.push('');
  out.push(resultTable(rec.results));
  if (rec.torch) {
    const t = rec.torch['torch-1t'];
    out.push('');
    out.push(`### ours vs PyTorch ${t.torch} on the CPU (${rec.machine.cpus} cores; BLAS ${t.blas ?? 'unknown'}): ms/step ratios ours ÷ torch (> 1: PyTorch is faster)`);
    out.push(torchTable(rec.results));
  }
  for (const r of rec.results) {
    const skipped = r.sides.filter((s) => s.status !== 'ok');
    if (skipped.length) out.push(`  ${r.id}: ${skipped.map((s) => `${s.side} ${s.status} (${s.reason})`).join('; ')}`);
  }
  for (const r of rec.results) {
    for (const p of r.profile ?? []) {
      out.push('');
      out.push(`### profile ${r.id} / ${p.side}: GPU ${p.gpuMs.toFixed(2)} ms summed over passes, wall ${p.wallMs.toFixed(1)} ms${p.resolutionNs !== undefined ? `, smallest delta ${p.resolutionNs} ns` : ''}`);
      if (p.note) out.push(`(${p.note})`);
      if (p.side.startsWith('ours') && p.entries.length) out.push(`phases: ${phaseTotals(p).map((t) => `${t.phase} ${t.ms.toFixed(2)} ms (${(100 * t.share).toFixed(0)}%)`).join(', ')}`);
      out.push(profileTable({ ...p, entries: p.side.startsWith('ours') ? p.entries : [...p.entries].sort((x, y) => y.ms - x.ms).slice(0, 15) }));
    }
  }
  for (const n of rec.notes) out.push(`note: ${n}`);
  out.push(`\nJSON: ${file}`);
  console.log(out.join('\n'));
}

function pkgVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** This package's version (dist-cli/ and bench/ both sit one level below package.json). */
function ownVersion(): string {
  try {
    return (require('../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

// ------------------------------------------------------------------------------- browser

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.map': 'application/json', '.css': 'text/css', '.wasm': 'application/wasm' };

function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    if (!file.startsWith(dir)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end('not found'),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({ server, url: `http://127.0.0.1:${port}/` });
    });
  });
}

const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface PageInfo {
  adapter: Record<string, unknown>;
  deviceHasTimestampQuery: boolean;
  tfAdapter: Record<string, unknown> | null;
  tfBackend: string | null;
  tfUnavailable: string | null;
  userAgent: string;
}

async function runBrowser(args: CliArgs, configs: BenchConfig[], opts: RunOptions, deadline: number): Promise<RunRecord> {
  const pageDir = fileURLToPath(new URL('./bench-page/', import.meta.url));
  if (!existsSync(join(pageDir, 'index.html'))) throw new Error(`${pageDir}index.html missing: build it with \`vite build --config bench/vite.config.ts\` (npm run bench does)`);
  const pw = 'playwright-core'; // a variable keeps the bundler from inlining Playwright
  const { chromium } = (await import(/* @vite-ignore */ pw)) as typeof import('playwright-core');
  const { server, url } = await serve(pageDir);
  const load = os.loadavg().map((v) => Math.round(v * 100) / 100);
  const t0 = Date.now();
  // Profiling: un-coarsened timestamps (Chromium quantizes them to 100 µs without developer features).
  const launchArgs = [...CHROMIUM_ARGS, ...(args.profile ? ['--enable-webgpu-developer-features'] : [])];
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: launchArgs });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      const t = m.text();
      if (t.startsWith('[bench]')) log(`[chromium] ${t.slice(8)}`);
      else if (m.type() === 'error' || m.type() === 'warning') log(`[chromium ${m.type()}] ${t}`);
    });
    page.on('pageerror', (e) => log(`[chromium pageerror] ${e.message}`));
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', undefined, { timeout: 60_000 });
    const info = (await page.evaluate(() => (window as unknown as { bench: { init(): Promise<unknown> } }).bench.init())) as PageInfo;
    log(`[chromium] adapter ${JSON.stringify(info.adapter)}; tfjs backend ${info.tfBackend ?? info.tfUnavailable}`);
    if (args.requireGpu && info.adapter.isFallbackAdapter) throw new Error('--require-gpu: Chromium gave a software (fallback) adapter');
    const results: ConfigResult[] = [];
    for (const cfg of configs) {
      if (Date.now() > deadline) {
        results.push(skippedConfig(cfg, 'time budget (--budget-s) spent'));
        continue;
      }
      log(`[chromium] ${cfg.id}: ${cfg.title}, B=${cfg.B} T=${cfg.T} I=${cfg.I}`);
      const o = { ...opts, budgetMs: fairShare(deadline, configs.length - results.length), hardBudgetMs: Math.max(0, deadline - Date.now()) };
      const r = (await page.evaluate(
        ([id, oo]) => (window as unknown as { bench: { run(id: string, o: unknown): Promise<unknown> } }).bench.run(id, oo),
        [cfg.id, o] as const,
      )) as ConfigResult;
      results.push(r);
    }
    const notes = [
      'ms/step: median over alternating timed runs (each N steps ending in an awaited readback) after warm-up; IQR = q1–q3 of the runs',
      'GFLOP/s counts the recurrent layers\' GEMM FLOPs only (docs/kernel-design.md §5)',
      'software adapter on a shared 2-core machine: ratios only, no absolute speed claims',
    ];
    if (args.profile) notes.push('profiling ran with --enable-webgpu-developer-features (without it Chromium coarsens timestamps to 100 µs)');
    return {
      schema: 'webgpu-rnn-bench/1',
      date: new Date(t0).toISOString(),
      runtime: 'browser',
      adapter: { ...info.adapter, deviceHasTimestampQuery: info.deviceHasTimestampQuery },
      tfjsAdapter: info.tfAdapter,
      tfjs: info.tfUnavailable ?? `${pkgVersion('@tensorflow/tfjs')} (${info.tfBackend})`,
      versions: { chromium: browser.version(), userAgent: info.userAgent, node: process.version, tfjs: pkgVersion('@tensorflow/tfjs'), 'tfjs-backend-webgpu': pkgVersion('@tensorflow/tfjs-backend-webgpu'), 'webgpu-rnn': ownVersion() },
      code: codeInfo(),
      machine: machine(load),
      options: { ...opts, quick: args.quick, budgetS: args.budgetS },
      wallS: (Date.now() - t0) / 1000,
      results,
      notes,
    };
  } finally {
    await browser.close();
    server.close();
  }
}

/** The time left until `deadline`, shared equally by the configurations still to run. */
function fairShare(deadline: number, remaining: number): number {
  return Math.max(0, deadline - Date.now()) / Math.max(1, remaining);
}

function skippedConfig(cfg: BenchConfig, reason: string): ConfigResult {
  return {
    id: cfg.id, title: cfg.title, cell: cfg.cell, units: cfg.units, B: cfg.B, T: cfg.T, I: cfg.I, flopsPerStep: trainingFlops(cfg), rounds: 0,
    sides: cfg.sides.map((side) => ({ side, status: 'skipped' as const, reason })), speedup: {},
  };
}

// ------------------------------------------------------------------------------- node

/**
 * --vs-torch: scripts/setup.mjs --vs-torch installs python3-torch and libopenblas0-pthread where they
 * are missing (npm passes `-- …` arguments to the last command of `npm run bench` only, so the
 * runner calls the setup itself). Throws when it cannot.
 */
function ensureTorch(): void {
  const setup = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'setup.mjs');
  try {
    execFileSync(process.execPath, [setup, '--vs-torch'], { stdio: ['ignore', 2, 2] });
  } catch (e) {
    throw new Error(`--vs-torch: ${setup} --vs-torch failed (${(e as Error).message.split('\n')[0]}); ${TORCH_INSTALL_HINT}`);
  }
}

async function runNode(args: CliArgs, configs: BenchConfig[], opts: RunOptions, deadline: number): Promise<RunRecord> {
  const load = os.loadavg().map((v) => Math.round(v * 100) / 100);
  const t0 = Date.now();
  // PyTorch first: a Python without torch fails the run before Dawn starts
  const torch = args.vsTorch ? await torchSides(os.availableParallelism()) : null;
  try {
    if (torch) log(`[node] torch-1t: ${JSON.stringify(torch.info['torch-1t'])}; torch-all: ${JSON.stringify(torch.info['torch-all'])}`);
    const env = await nodeEnvironment(args.tfjsNode);
    if (torch) env.external = torch.sides;
    log(`[node] adapter ${JSON.stringify(env.gpu.info)}; tfjs ${env.tf ? `backend ${env.tf.getBackend()}` : env.tfUnavailable}`);
    if (args.requireGpu && env.gpu.info.isFallbackAdapter) throw new Error('--require-gpu: Dawn gave a software (fallback) adapter');
    const results: ConfigResult[] = [];
    for (const cfg of configs) {
      if (Date.now() > deadline) {
        results.push(skippedConfig(cfg, 'time budget (--budget-s) spent'));
        continue;
      }
      log(`[node] ${cfg.id}: ${cfg.title}, B=${cfg.B} T=${cfg.T} I=${cfg.I}`);
      const o = { ...opts, budgetMs: fairShare(deadline, configs.length - results.length), hardBudgetMs: Math.max(0, deadline - Date.now()) };
      results.push(await runConfig(cfg, env, o, (l) => log(`[node] ${l}`)));
      env.gpu.checkErrors();
    }
    return nodeRecord(args, opts, env, results, load, t0, torch?.info);
  } finally {
    await torch?.close();
  }
}

function nodeRecord(args: CliArgs, opts: RunOptions, env: Awaited<ReturnType<typeof nodeEnvironment>>, results: ConfigResult[], load: number[], t0: number, torch?: Record<TorchSide, TorchInfo>): RunRecord {
  const notes = [
    'ms/step: median over alternating timed runs (each N steps ending in an awaited readback) after warm-up; IQR = q1–q3 of the runs',
    'tfjs here is tfjs-backend-webgpu running in Node on its own Dawn device (navigator.gpu shimmed to webgpu.create([])); there is no tfjs-node-webgpu',
    'software adapter on a shared 2-core machine: ratios only, no absolute speed claims',
  ];
  if (torch) {
    notes.push(
      `--vs-torch: PyTorch ${torch['torch-1t'].torch} on the CPU (${PYTHON} bench/torch_rnn.py, one process per side, without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE): ` +
        `torch-1t = ${torch['torch-1t'].threads} thread, torch-all = ${torch['torch-all'].threads} threads (torch.set_num_threads and OpenBLAS's pool); ` +
        'same shapes, step (zero_grad, forward, MSE, backward, Adam lr 1e-3) and batch distribution, PyTorch\'s own initial weights; ' +
        'timed in Python (the N steps, the last ending with loss.item()); vsTorch = ours ms ÷ torch ms (> 1: PyTorch is faster)',
    );
  }
  return {
    schema: 'webgpu-rnn-bench/1',
    date: new Date(t0).toISOString(),
    runtime: 'node',
    adapter: { ...env.gpu.info, features: [...env.gpu.adapter.features].sort(), deviceHasTimestampQuery: env.gpu.device.features.has('timestamp-query') },
    tfjsAdapter: env.tfAdapter ?? null,
    tfjs: env.tf ? `${env.versions.tfjs} (webgpu on Dawn)` : (env.tfUnavailable ?? 'unavailable'),
    versions: { ...env.versions, 'webgpu-rnn': ownVersion(), ...(torch ? { torch: torch['torch-1t'].torch } : {}) },
    code: codeInfo(),
    machine: machine(load),
    options: { ...opts, quick: args.quick, budgetS: args.budgetS },
    wallS: (Date.now() - t0) / 1000,
    results,
    notes,
    ...(torch ? { torch } : {}),
  };
}

// ------------------------------------------------------------------------------- main

export async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  const configs = selectConfigs(args.configs, args.quick);
  const opts = options(args);
  const start = Date.now();
  const runtimes: ('browser' | 'node')[] = args.runtime === 'both' ? ['browser', 'node'] : [args.runtime];
  if (args.vsTorch) {
    if (args.runtime === 'browser') throw new Error('--vs-torch times PyTorch alongside the Node run: use --runtime node (or both)');
    ensureTorch();
  }
  // The browser part gets 60 % of the budget when both run (tfjs on SwiftShader is the slow one).
  const share = runtimes.length === 2 ? [0.6, 1] : [1];
  log(`bench: ${configs.map((c) => c.id).join(', ')} on ${runtimes.join(' + ')}; ${opts.rounds} rounds; budget ${args.budgetS} s${args.profile ? '; profiling' : ''}`);
  const files: string[] = [];
  for (const [i, rt] of runtimes.entries()) {
    const deadline = start + share[i]! * args.budgetS * 1000;
    try {
      const rec = rt === 'browser' ? await runBrowser(args, configs, opts, deadline) : await runNode(args, configs, opts, deadline);
      const file = await writeRecord(rec, args.outDir);
      files.push(file);
      printRecord(rec, file);
    } catch (e) {
      log(`bench: ${rt} run failed: ${(e as Error).stack ?? e}`);
      return 1;
    }
  }
  log(`bench: done in ${((Date.now() - start) / 1000).toFixed(0)} s; ${files.join(', ')}`);
  return 0;
}
