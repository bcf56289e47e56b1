/**
 * The soak run (issue 16): the chapter's LSTM (row K: LSTM(20) → LSTM(20) → TimeDistributed
 * Dense(10), Adam 1e-3, MSE, batch 32, 50 steps) trained for many steps through `fit`, with a
 * validation pass and a predict every few epochs, sampling after every epoch: the library's
 * pooled GPU bytes, the GPU objects created so far (pipelines, bind groups, buffers), the JS heap
 * after a full garbage collection, and the resident set size. Used by `npm run soak`
 * (scripts/soak.ts, 10,000 steps) and test/unit/soak.test.ts (a short run inside `npm test`).
 *
 * Flat means: after the warm-up (the first epochs build and cache the plans), pooled GPU bytes,
 * live GPU buffers (created and not destroyed), pipelines and bind groups do not change at all;
 * the heap (after a full GC) grows less than a leak of `leakBytesPerStep` per step would make it
 * (least-squares slope); the RSS floor (smallest value of the first vs the last quarter: RSS jumps
 * by tens of MiB between samples) rises less than `rssBytesPerStep` per step.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as rnn from '../../src/index';
import { gpuWatch } from '../fuzz/gpu-watch';

export interface SoakOptions {
  /** Training steps (batches) in all. */
  steps: number;
  /** Series in the training set (steps per epoch = ceil(train / 32)). */
  train?: number;
  /** Epochs left out of the flatness checks (plans are built and cached then). */
  warmupEpochs?: number;
  /** A leak of this many bytes per step must be caught (heap); default 64 (one small object). */
  leakBytesPerStep?: number;
  /** The same for the RSS floor, which also holds the GPU driver's memory; default 1024. */
  rssBytesPerStep?: number;
  log?: (line: string) => void;
}

export interface SoakSample {
  step: number;
  epoch: number;
  loss: number;
  pooledBytes: number;
  /** The JS heap after a full GC: all of it, and its code spaces (compiled code grows while V8 optimizes hot functions). */
  heapUsed: number;
  codeBytes: number;
  rss: number;
  pipelines: number;
  bindGroups: number;
  /** Buffers created so far, and those alive (created, not destroyed) with their bytes. */
  buffers: number;
  liveBuffers: number;
  liveBytes: number;
}

export interface SoakReport {
  steps: number;
  stepsPerEpoch: number;
  seconds: number;
  samples: SoakSample[];
  /** Growth per step after the warm-up (bytes/step): the heap's least-squares slope, the RSS floor's rise. */
  heapSlope: number;
  rssSlope: number;
  /** Problems found (empty: flat). */
  problems: string[];
}

/** A full garbage collection (exposes V8's gc for this process if it is not yet). */
function gcFunction(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Least-squares slope of y over x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n, my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : 0;
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? (() => {});
  const gc = gcFunction();
  const watch = await gpuWatch();
  const train = o.train ?? 1400;
  const batchSize = 32;
  const data = rnn.data.chapterData('seq2seq', { nSeries: train + 20, split: [train, train + 10] });
  const stepsPerEpoch = Math.ceil(data.train.x.shape[0]! / batchSize);
  const epochs = Math.ceil(o.steps / stepsPerEpoch);
  const L = rnn.layers;
  const model = rnn.sequential({
    layers: [L.lstm({ units: 20, returnSequences: true, inputShape: [null, 1] }), L.lstm({ units: 20, returnSequences: true }), L.timeDistributed({ layer: L.dense({ units: 10 }) })],
    seed: 42,
  });
  model.compile({ optimizer: rnn.optimizers.adam({ learningRate: 0.001 }), loss: 'mse' });
  const samples: SoakSample[] = [];
  const t0 = performance.now();
  const sampler = {
    onEpochEnd: async (epoch: number, logs: rnn.Logs) => {
      if (epoch % 5 === 0) await model.predict(data.valid.x, { batchSize: 10 }); // inference plans too (built in epoch 0)
      // Two full collections with a turn of the event loop between them, so that finalizers and
      // weak callbacks of the first run and what they release is collected by the second.
      gc();
      await new Promise((r) => setImmediate(r));
      gc();
      const m = process.memoryUsage();
      const s: SoakSample = {
        step: (epoch + 1) * stepsPerEpoch,
        epoch,
        loss: logs.loss ?? NaN,
        pooledBytes: model.pooledBytes,
        heapUsed: m.heapUsed,
        codeBytes: getHeapSpaceStatistics()
          .filter((sp) => sp.space_name.startsWith('code'))
          .reduce((a, sp) => a + sp.space_used_size, 0),
        rss: m.rss,
        pipelines: watch.calls.createComputePipelineAsync ?? 0,
        bindGroups: watch.calls.createBindGroup ?? 0,
        buffers: watch.calls.createBuffer ?? 0,
        liveBuffers: watch.live.buffers,
        liveBytes: watch.live.bytes,
      };
      samples.push(s);
      log(`step ${s.step}: loss ${s.loss.toPrecision(4)}, pooled GPU ${(s.pooledBytes / 2 ** 20).toFixed(2)} MiB, heap ${(s.heapUsed / 2 ** 20).toFixed(2)} MiB, RSS ${(s.rss / 2 ** 20).toFixed(1)} MiB, created: ${s.pipelines} pipelines, ${s.bindGroups} bind groups, ${s.buffers} buffers (${s.liveBuffers} alive, ${(s.liveBytes / 2 ** 20).toFixed(2)} MiB)`);
    },
  };
  // validation every epoch (evaluate plans) on a small set
  await model.fit(data.train.x, data.train.y, { epochs, batchSize, validationData: [data.valid.x, data.valid.y], callbacks: [sampler], seed: 1 });
  const seconds = (performance.now() - t0) / 1000;
  model.dispose();

  const warm = Math.min(o.warmupEpochs ?? Math.max(2, Math.ceil(epochs / 10)), samples.length - 2);
  const after = samples.slice(warm);
  const problems: string[] = [];
  const first = after[0]!, last = after.at(-1)!;
  const steps = after.map((s) => s.step);
  const heapSlope = slope(steps, after.map((s) => s.heapUsed));
  // RSS jumps by tens of MiB from sample to sample (the driver's and allocator's pools): compare
  // its floor (the smallest value) in the first and last quarters instead of fitting a line.
  const q = Math.max(1, Math.floor(after.length / 4));
  const floor = (xs: SoakSample[]) => Math.min(...xs.map((s) => s.rss));
  const center = (xs: SoakSample[]) => xs.reduce((a, s) => a + s.step, 0) / xs.length;
  const [early, late] = [after.slice(0, q), after.slice(-q)];
  const rssSlope = (floor(late) - floor(early)) / Math.max(1, center(late) - center(early));
  if (after.some((s) => s.pooledBytes !== first.pooledBytes)) problems.push(`pooled GPU bytes changed after the warm-up: ${[...new Set(after.map((s) => s.pooledBytes))].join(' → ')}`);
  if (after.some((s) => s.liveBuffers !== first.liveBuffers || s.liveBytes !== first.liveBytes)) problems.push(`live GPU buffers changed after the warm-up: ${first.liveBuffers} (${first.liveBytes} B) → ${last.liveBuffers} (${last.liveBytes} B)`);
  if (last.pipelines !== first.pipelines) problems.push(`${last.pipelines - first.pipelines} pipelines created after the warm-up`);
  if (last.bindGroups !== first.bindGroups) problems.push(`${last.bindGroups - first.bindGroups} bind groups created after the warm-up (plans are cached: none expected)`);
  const leak = o.leakBytesPerStep ?? 64, rssLeak = o.rssBytesPerStep ?? 1024;
  if (heapSlope > leak) problems.push(`the JS heap grows ${heapSlope.toFixed(1)} bytes/step after the warm-up (limit ${leak}: a leak of one small object per step)`);
  if (rssSlope > rssLeak) problems.push(`the RSS floor grows ${rssSlope.toFixed(1)} bytes/step after the warm-up (limit ${rssLeak})`);
  if (!after.every((s) => Number.isFinite(s.loss))) problems.push('a non-finite loss');
  return { steps: epochs * stepsPerEpoch, stepsPerEpoch, seconds, samples, heapSlope, rssSlope, problems };
}
