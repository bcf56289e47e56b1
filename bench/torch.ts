/**
 * `npm run bench -- --vs-torch` (Node only): native PyTorch on the CPU as two more sides of every
 * configuration, torch-1t (one thread) and torch-all (every core), timed in the same alternating
 * rounds as ours. Each side is one long-lived `/usr/bin/python3 bench/torch_rnn.py --threads K`
 * process spoken to in JSON lines (torch is imported once); its times are measured in Python
 * (perf_counter around the N steps, the last ending with loss.item()), so the pipe costs nothing.
 *
 * The children run without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (they mis-tune OpenBLAS here) and
 * with OMP_NUM_THREADS / OPENBLAS_NUM_THREADS = K. A Python that cannot import torch is an error
 * with what to install, never a skipped side.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchConfig, TorchSide } from './configs';
import type { Contender, ExternalSide } from './core';

/** Debian's interpreter, which sees python3-torch (a `python3` on PATH may be another one). */
export const PYTHON = process.env.WEBGPU_RNN_PYTHON ?? '/usr/bin/python3';
/** bench/torch_rnn.py, from bench/ and from the bundle in dist-cli/ alike (both one level below the root). */
export const TORCH_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench', 'torch_rnn.py');
export const TORCH_INSTALL_HINT = 'npm run bench -- --vs-torch installs them as root (apt-get install python3-torch libopenblas0-pthread)';

/** What the child reports on start. */
export interface TorchInfo {
  torch: string;
  python: string;
  threads: number;
  interopThreads: number;
  /** The BLAS library torch loaded, and OpenBLAS's own thread count (null if not OpenBLAS). */
  blas: string | null;
  blasThreads: number | null;
}

/** The environment of a torch child: without OpenBLAS's core-type / L2 overrides, K threads everywhere. */
export function torchEnv(threads: number, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), PYTHONDONTWRITEBYTECODE: '1' };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

/** One `bench/torch_rnn.py --threads K` process. */
export class TorchProcess {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly waiting = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private stderr = '';
  private exited: Error | null = null;
  /** Resolves with the child's versions once torch is imported; rejects with a clear message otherwise. */
  readonly ready: Promise<TorchInfo>;

  /** `python` / `pythonArgs`: the interpreter and its options (the tests start one that cannot import torch). */
  constructor(
    readonly threads: number,
    python = PYTHON,
    pythonArgs: readonly string[] = [],
  ) {
    this.proc = spawn(python, [...pythonArgs, TORCH_SCRIPT, '--threads', String(threads)], { env: torchEnv(threads), stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.proc.stdin.on('error', () => undefined); // EPIPE after the child died: its exit is reported instead
    let readyResolve!: (v: TorchInfo) => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => ((readyResolve = res), (readyReject = rej)));
    this.ready.catch(() => undefined); // rejections are seen by whoever awaits ready
    const fail = (msg: string) => {
      this.exited ??= new Error(msg);
      readyReject(this.exited);
      for (const w of this.waiting.values()) w.reject(this.exited);
      this.waiting.clear();
    };
    this.proc.on('error', (e) => fail(`--vs-torch: cannot start ${python}: ${e.message}; ${TORCH_INSTALL_HINT}`));
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        this.stderr = (this.stderr + line + '\n').slice(-4000); // a stray print: keep it for the error message
        return;
      }
      if (msg.fatal) return fail(`--vs-torch: ${String(msg.fatal)}; ${TORCH_INSTALL_HINT}`);
      if (msg.ready) return readyResolve(msg as unknown as TorchInfo);
      const w = this.waiting.get(msg.id as number);
      this.waiting.delete(msg.id as number);
      if (!w) return;
      if (msg.error) w.reject(new Error(`torch_rnn.py: ${String(msg.error)}\n${String(msg.trace ?? '')}`));
      else w.resolve(msg);
    });
    this.proc.on('exit', (code, signal) => fail(`--vs-torch: ${TORCH_SCRIPT} (--threads ${threads}) exited (${code ?? signal}): ${this.stderr.trim() || 'no output'}`));
  }

  /** Sends one request and waits for its answer. */
  async request<T = Record<string, unknown>>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    await this.ready;
    if (this.exited) throw this.exited;
    const id = this.nextId++;
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.proc.stdin.write(`${JSON.stringify({ id, cmd, ...args })}\n`);
    return (await answer) as T;
  }

  /** Ends the child (closing stdin ends its loop) and waits for it. */
  async close(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const gone = new Promise<void>((res) => this.proc.once('exit', () => res()));
    this.proc.stdin.end();
    await gone;
  }
}

/** Why PyTorch cannot train this configuration's model, or null. */
export function torchUnsupported(cfg: Pick<BenchConfig, 'cell' | 'resetAfter'>): string | null {
  if (cfg.cell === 'lncell') return 'no torch.nn counterpart of the custom LN cell';
  if (cfg.cell === 'gru' && cfg.resetAfter === false) return 'torch.nn.GRU is resetAfter=true only (compare gru20x2-ra)';
  return null;
}

/** The configuration's model in PyTorch on one process: a Contender for runConfig's rounds. */
class TorchContender implements Contender {
  private T: number;
  constructor(
    readonly side: TorchSide,
    private readonly proc: TorchProcess,
    private readonly cfg: BenchConfig,
    private readonly loss0: number,
  ) {
    this.T = cfg.T;
  }
  useT(T: number): void {
    this.T = T;
  }
  async run(steps: number): Promise<number> {
    return (await this.proc.request<{ ms: number }>('round', { steps, T: this.T })).ms;
  }
  initialLoss(): Promise<number> {
    return Promise.resolve(this.loss0);
  }
  dispose(): void {
    /* the next setup replaces the model */
  }
}

/** The two torch sides of `--vs-torch` (one process each, started now); `all` = the machine's cores. */
export async function torchSides(all: number): Promise<{ sides: ExternalSide[]; info: Record<TorchSide, TorchInfo>; close(): Promise<void> }> {
  const procs: [TorchSide, TorchProcess][] = [['torch-1t', new TorchProcess(1)], ['torch-all', new TorchProcess(all)]];
  const close = async () => {
    await Promise.all(procs.map(([, p]) => p.close()));
  };
  try {
    const infos = await Promise.all(procs.map(([, p]) => p.ready));
    const info = Object.fromEntries(procs.map(([side], i) => [side, infos[i]!])) as Record<TorchSide, TorchInfo>;
    const sides: ExternalSide[] = procs.map(([side, proc]) => ({
      side,
      unsupported: torchUnsupported,
      async start(cfg: BenchConfig, seed: number): Promise<Contender> {
        const config = { cell: cfg.cell, units: cfg.units, B: cfg.B, T: cfg.T, I: cfg.I, resetAfter: cfg.resetAfter ?? null };
        const r = await proc.request<{ initialLoss: number }>('setup', { config, seed });
        return new TorchContender(side, proc, cfg, r.initialLoss);
      },
    }));
    return { sides, info, close };
  } catch (e) {
    await close();
    throw e;
  }
}
