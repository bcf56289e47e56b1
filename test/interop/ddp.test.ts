/**
 * The scale-out path end to end (examples/pytorch-ddp/): a model trained here is exported with
 * toPyTorch, trained further by PyTorch DistributedDataParallel in 2 processes (gloo, this machine's
 * loopback only) for one short epoch, saved as a safetensors state_dict, imported back with
 * fromPyTorch — and then predicts what PyTorch predicts on the same inputs (within 1e-5).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import * as rnn from '../../src/index';
import { PYTHON, ROOT, requirePython } from './helpers/peer';
import { TMP, removeTmp } from './helpers/compare';

const TOL = 1e-5;

/** A free TCP port on the loopback interface (for torchrun's rendezvous). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function torchrun(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(PYTHON, ['-m', 'torch.distributed.run', ...args], {
      cwd: ROOT,
      env: { ...process.env, GLOO_SOCKET_IFNAME: 'lo', OMP_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' },
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (code) => resolve({ code, out }));
  });
}

afterAll(removeTmp);

describe('examples/pytorch-ddp: train here → DistributedDataParallel (2 processes, gloo) → back here', () => {
  it('continues training in PyTorch and predicts the same after the round trip', async () => {
    requirePython(['torch', 'torch.distributed', 'numpy']);
    // 1. train here: the chapter's series, a 2-layer LSTM (one nn.LSTM with num_layers=2 in PyTorch)
    const { train, valid } = rnn.data.chapterData('1-step');
    const n = 192, T = 20;
    const slice = (t: rnn.HostTensor, rows: number, steps?: number): rnn.HostTensor => {
      const [, S, F] = t.shape as number[];
      if (steps === undefined) return { data: t.data.slice(0, rows * t.data.length / t.shape[0]!), shape: [rows, ...t.shape.slice(1)] };
      const out = new Float32Array(rows * steps * F!);
      for (let b = 0; b < rows; b++) out.set(t.data.subarray(b * S! * F!, (b * S! + steps) * F!), b * steps * F!);
      return { data: out, shape: [rows, steps, F!] };
    };
    const x = slice(train.x, n, T), y = slice(train.y, n), xTest = slice(valid.x, 16, T);
    rnn.setSeed(7);
    const model = rnn.sequential({ layers: [rnn.layers.lstm({ units: 8, returnSequences: true, inputShape: [null, 1] }), rnn.layers.lstm({ units: 8 }), rnn.layers.dense({ units: 1 })] });
    model.compile({ optimizer: 'adam', loss: 'mse' });
    await model.fit(x, y, { epochs: 1, batchSize: 32 });
    // 2. export the model and the data
    const before = (await model.getWeights()).map((w) => Float32Array.from(w.data));
    const file = (name: string) => join(TMP, name);
    writeFileSync(file('model.safetensors'), await rnn.io.toPyTorch(model));
    writeFileSync(file('data.safetensors'), rnn.io.writeSafetensors({ x, y }));
    writeFileSync(file('x_test.safetensors'), rnn.io.writeSafetensors({ x: xTest }));
    // 3. DistributedDataParallel: 2 processes, gloo, loopback
    const started = Date.now();
    const r = await torchrun([
      '--nnodes=1', '--nproc_per_node=2', '--master_addr=127.0.0.1', `--master_port=${await freePort()}`,
      // Debian's torch 1.13 on Python 3.11 cannot parse torchrun's default '--redirects 0' (IntFlag
      // iteration changed in 3.11); redirecting stdout and teeing it back works everywhere.
      '--redirects=1', '--tee=1',
      join(ROOT, 'examples/pytorch-ddp/train_ddp.py'),
      '--model', file('model.safetensors'), '--data', file('data.safetensors'), '--out', file('trained.safetensors'),
      '--epochs', '1', '--batch-size', '16', '--lr', '0.01',
      '--predict', file('x_test.safetensors'), '--predictions', file('torch_predictions.safetensors'),
    ]);
    const seconds = (Date.now() - started) / 1000;
    expect(r.code, `torchrun failed:\n${r.out}`).toBe(0);
    expect(r.out).toMatch(/epoch 1\/1: loss [\d.]+ \(2 processes, 192 samples/);
    expect(r.out).toMatch(/replicas in sync: parameter checksums differ by 0/);
    console.log(`DistributedDataParallel, 2 processes, one epoch: ${seconds.toFixed(1)} s (torchrun included)\n${r.out.split('\n').filter((l) => /epoch|replicas/.test(l)).join('\n')}`);
    // 4. back here: the trained state_dict into the model; predictions equal PyTorch's
    await rnn.io.fromPyTorch(model, readFileSync(file('trained.safetensors')));
    const after = await model.getWeights();
    expect(after.some((w, i) => w.data.some((v, k) => v !== before[i]![k])), 'PyTorch changed the weights').toBe(true);
    const ours = (await model.predict(xTest)) as rnn.HostTensor;
    const theirs = rnn.io.readSafetensors(readFileSync(file('torch_predictions.safetensors'))).tensors.y!.data;
    expect(ours.shape).toEqual([16, 1]);
    let d = 0;
    ours.data.forEach((v, i) => (d = Math.max(d, Math.abs(v - theirs[i]!))));
    console.log(`after the round trip: largest difference to PyTorch's predictions ${d.toExponential(2)}`);
    expect(d).toBeLessThanOrEqual(TOL);
    model.dispose();
  });
});
