/**
 * Reliability checks in the page (test/browser/device-loss.spec.ts): a fit whose GPU device is
 * destroyed part-way, its host backup, rnn.recover() and the resumed run, against an uninterrupted
 * run of the same model; and the startup self-test on this browser's adapter. Returns plain numbers.
 */
import * as rnn from '../../src/index';

const N = 64, T = 6, B = 4;
/** Deterministic data (no test helpers in the page). */
const series = (n: number, a: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(a * i + 0.3) * Math.cos(0.11 * i));
const x = { data: series(N * T, 0.7), shape: [N, T, 1] };
const y = { data: series(N, 1.3), shape: [N, 1] };
const fitArgs = { epochs: 3, batchSize: B, validationData: [{ data: series(8 * T, 0.5), shape: [8, T, 1] }, { data: series(8, 0.9), shape: [8, 1] }] as [rnn.HostTensor, rnn.HostTensor] };

function model() {
  const m = rnn.sequential({ layers: [rnn.layers.lstm({ units: 5, dropout: 0.2, seed: 5, inputShape: [null, 1] }), rnn.layers.dense({ units: 1 })], seed: 19 });
  m.compile({ optimizer: 'adam', loss: 'mse' });
  return m;
}

const maxDiff = (a: rnn.HostTensor[], b: rnn.HostTensor[]) => Math.max(...a.map((t, i) => Math.max(...Array.from(t.data, (v, j) => Math.abs(v - b[i]!.data[j]!)))));

/** The uninterrupted run; the same run with its device destroyed after epoch 2's step 14, recovered and resumed. */
async function deviceLossRun() {
  const ref = model();
  let atBackup: rnn.HostTensor[] = [];
  const want = await ref.fit(x, y, { ...fitArgs, callbacks: { onBatchEnd: async () => void (ref.optimizer!.iterations === 24 && (atBackup = await ref.getWeights())) } });
  const wantWeights = await ref.getWeights();
  ref.dispose();

  const m = model();
  let lostAt = 0;
  let error = { name: '', message: '' };
  try {
    await m.fit(x, y, { ...fitArgs, callbacks: { onBatchEnd: async () => {
      if (m.optimizer!.iterations !== 30 || lostAt) return;
      lostAt = performance.now();
      (await rnn.getGpu()).device.destroy();
    } } });
  } catch (e) {
    error = { name: (e as Error).name, message: (e as Error).message };
  }
  const detectedMs = performance.now() - lostAt;
  const keptDiff = maxDiff(await m.getWeights(), atBackup);
  const recovered = await rnn.recover();
  const resumed = await m.fit(x, y, { ...fitArgs, resume: true });
  const lossDiff = Math.max(...want.history.loss!.map((v, i) => Math.abs(v - resumed.history.loss![i]!)));
  const valDiff = Math.max(...want.history.val_loss!.map((v, i) => Math.abs(v - resumed.history.val_loss![i]!)));
  const weightDiff = maxDiff(await m.getWeights(), wantWeights);
  m.dispose();
  return { error, detectedMs, keptDiff, models: recovered.models, epochs: resumed.epoch, lossDiff, valDiff, weightDiff, loss: resumed.history.loss };
}

async function selfTestRun() {
  const r = await rnn.selfTest();
  const again = await rnn.selfTest();
  return { adapter: r.adapter, firstMs: r.ms, againMs: again.ms, failures: r.failures, worst: again.worst };
}

Object.assign(window, { reliability: { deviceLossRun, selfTestRun } });
document.getElementById('status')!.textContent = 'ready';
