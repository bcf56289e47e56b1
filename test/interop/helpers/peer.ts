/**
 * The Python peer of the interop tests: one `/usr/bin/python3 test/interop/torch_peer.py` process
 * per test file (torch is imported once), spoken to in JSON lines. A missing Python, torch or onnx
 * is a test failure that says what to install, never a skip.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** Debian's interpreter, which sees python3-torch and python3-onnx (a `python3` on PATH may be another one). */
export const PYTHON = process.env.WEBGPU_RNN_PYTHON ?? '/usr/bin/python3';
export const INSTALL_HINT = 'install them with `npm run setup` as root (apt-get install python3-torch python3-onnx python3-numpy; see README "PyTorch and ONNX")';

/** A tensor as JSON. */
export interface JsonTensor {
  shape: number[];
  data: number[];
}

/** Throws a clear error unless /usr/bin/python3 can import the given modules. */
export function requirePython(modules: readonly string[]): void {
  const r = spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  if (r.error) throw new Error(`The PyTorch/ONNX interop tests need ${PYTHON}: ${r.error.message}; ${INSTALL_HINT}`);
  if (r.status !== 0) throw new Error(`The PyTorch/ONNX interop tests need the Python modules ${modules.join(', ')} in ${PYTHON}: ${r.stderr.trim().split('\n').pop()}; ${INSTALL_HINT}`);
}

/** A running peer process. */
export class TorchPeer {
  private proc: ChildProcessWithoutNullStreams;
  private waiting = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private stderr = '';
  readonly ready: Promise<Record<string, unknown>>;

  constructor() {
    requirePython(['torch', 'onnx', 'numpy']);
    this.proc = spawn(PYTHON, [join(ROOT, 'test/interop/torch_peer.py')], {
      env: { ...process.env, PYTHONPATH: join(ROOT, 'python'), OMP_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    let readyResolve!: (v: Record<string, unknown>) => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => ((readyResolve = res), (readyReject = rej)));
    const lines = createInterface({ input: this.proc.stdout });
    lines.on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (msg.ready) return readyResolve(msg);
      const w = this.waiting.get(msg.id as number);
      this.waiting.delete(msg.id as number);
      if (!w) return;
      if (msg.failure) w.reject(new Error(`python peer: ${String(msg.failure)}\n${String(msg.trace ?? '')}`));
      else w.resolve(msg);
    });
    this.proc.on('exit', (code) => {
      const err = new Error(`python peer exited (${code}): ${this.stderr}`);
      readyReject(err);
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    });
  }

  /** Sends one request and waits for its answer. */
  async request<T = Record<string, unknown>>(cmd: string, args: Record<string, unknown>): Promise<T> {
    await this.ready;
    const id = this.nextId++;
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.proc.stdin.write(`${JSON.stringify({ id, cmd, ...args })}\n`);
    return (await answer) as T;
  }

  close(): void {
    this.proc.stdin.end();
  }
}
