/**
 * Training in a Worker (rnn.worker, the library's own worker script), driven by
 * test/browser/worker.spec.ts: the chapter's LSTM trains in the Worker while the spec types into
 * #probe and this page records how late each key event reached its handler on the main thread.
 */
import * as rnn from '../../src/index';

/** Milliseconds from each keydown's timestamp to its handler (the main thread's input delay). */
const inputDelays: number[] = [];
document.getElementById('probe')!.addEventListener('keydown', (ev) => inputDelays.push(performance.now() - ev.timeStamp));

const chapterLstm: rnn.SequentialSpec = {
  layers: [
    { type: 'lstm', units: 20, returnSequences: true, inputShape: [null, 1] },
    { type: 'lstm', units: 20, returnSequences: true },
    { type: 'timeDistributed', layer: { type: 'dense', units: 10 } },
  ],
  seed: 42,
  compile: { optimizer: { type: 'adam', learningRate: 0.001 }, loss: 'mse', metrics: ['lastTimeStepMse'] },
};

let trainer: ReturnType<typeof rnn.worker.create> | null = null;
const getTrainer = () => (trainer ??= rnn.worker.create());

/** The chapter's seq-to-seq LSTM(20, 20) → TimeDistributed(Dense(10)) trained in the Worker. */
async function trainChapterLstm(nSeries: number, epochs: number) {
  const t = getTrainer();
  const gpu = await t.gpu;
  const { train, valid } = rnn.data.chapterData('seq2seq', { nSeries });
  const model = await t.sequential(chapterLstm);
  inputDelays.length = 0;
  const epochLogs: rnn.Logs[] = [];
  const progress: rnn.FitProgress[] = [];
  const xBytes = train.x.data.byteLength;
  const t0 = performance.now();
  const history = await model.fit(train.x, train.y, {
    epochs,
    batchSize: 32,
    validationData: [valid.x, valid.y],
    transfer: true,
    onProgress: (p) => progress.push(p),
    callbacks: { onEpochEnd: (_e, logs) => void epochLogs.push(logs) },
  });
  const trainMs = performance.now() - t0;
  await model.dispose();
  return {
    adapter: gpu.description,
    summary: model.summary,
    params: model.params,
    history: history.history,
    epochLogs,
    progress: progress.length,
    lastProgress: progress.at(-1),
    trainMs,
    inputDelays: [...inputDelays],
    transferred: { before: xBytes, after: train.x.data.byteLength },
  };
}

/** A fit of many epochs stopped from the page once batch `at` has ended: where did it stop? */
async function stopAfterBatch(at: number) {
  const model = await getTrainer().sequential(chapterLstm);
  const { train } = rnn.data.chapterData('seq2seq', { nSeries: 1000 });
  const batches: number[] = [];
  let stoppedAt = -1, stopTime = 0, reached = -1;
  const history = await model.fit(train.x, train.y, {
    epochs: 50,
    batchSize: 32,
    onProgress: (p) => {
      if (p.kind === 'stop') reached = p.batch;
    },
    callbacks: {
      onBatchEnd: (b) => {
        batches.push(b);
        if (b === at && stoppedAt < 0) {
          stoppedAt = b;
          stopTime = performance.now();
          model.stop();
        }
      },
    },
  });
  const endMs = performance.now() - stopTime;
  await model.dispose();
  return { stoppedAt, reached, lastBatch: batches.at(-1), batchesRun: batches.length, epochs: history.epoch.length, endMs };
}

/** A small model trained on the page and in the Worker with the same seed and data: the logs. */
async function sameAsPage() {
  const { train, valid } = rnn.data.chapterData('1-step', { nSeries: 300 });
  const spec: rnn.SequentialSpec = {
    layers: [{ type: 'gru', units: 4, inputShape: [null, 1] }, { type: 'dense', units: 1 }],
    seed: 7,
    compile: { optimizer: 'adam', loss: 'mse' },
  };
  const pageModel = rnn.sequential({ layers: [rnn.layers.gru({ units: 4, inputShape: [null, 1] }), rnn.layers.dense({ units: 1 })], seed: 7 });
  pageModel.compile({ optimizer: 'adam', loss: 'mse' });
  const pageLogs: rnn.Logs[] = [];
  const page = await pageModel.fit(train.x, train.y, { epochs: 2, validationData: [valid.x, valid.y], callbacks: { onEpochEnd: (_e, l) => void pageLogs.push({ ...l }) } });
  const pageWeights = (await pageModel.getWeights()).map((w) => Array.from(w.data));
  pageModel.dispose();
  const remote = await getTrainer().sequential(spec);
  const workerLogs: rnn.Logs[] = [];
  const worker = await remote.fit(train.x, train.y, { epochs: 2, validationData: [valid.x, valid.y], callbacks: { onEpochEnd: (_e, l) => void workerLogs.push(l) } });
  const workerWeights = (await remote.getWeights()).map((w) => Array.from(w.data));
  const forecast = await remote.iterativeForecast(valid.x, 4);
  await remote.dispose();
  return { page: page.history, worker: worker.history, pageLogs, workerLogs, pageWeights, workerWeights, weightNames: remote.weightNames, forecastShape: forecast.shape };
}

/** Errors from the Worker reach the page as rejected promises with the worker's message. */
async function errors() {
  const t = getTrainer();
  const out: string[] = [];
  await t.sequential({ layers: [{ type: 'lstmm' } as never] }).catch((e: Error) => out.push(`${e.name}: ${e.message}`));
  const m = await t.sequential({ layers: [{ type: 'dense', units: 1, inputShape: [3] }] });
  await m.fit([[1, 2, 3]], [[1]]).catch((e: Error) => out.push(`${e.name}: ${e.message}`));
  await m.dispose();
  return out;
}

/** The app's own worker module: a model built with code (a custom cell), and the app's messages beside the library's. */
async function customWorker() {
  const w = new Worker(new URL('./custom-worker.ts', import.meta.url), { type: 'module' });
  const pongs: unknown[] = [];
  w.addEventListener('message', (ev) => {
    if ((ev.data as { type?: string }).type === 'pong') pongs.push(ev.data);
  });
  const t = rnn.worker.create(w);
  w.postMessage({ type: 'ping', n: 1 });
  const model = await t.model('lnRnn', { units: 4 });
  const { train } = rnn.data.chapterData('1-step', { nSeries: 200 });
  const history = await model.fit(train.x, train.y, { epochs: 1 });
  const progress: rnn.FitProgress[] = [];
  const fromWorkerData = await model.fitDataset('chapter', { nSeries: 200, batchSize: 32 }, { epochs: 2, onProgress: (p) => progress.push(p) });
  w.postMessage({ type: 'ping', n: 2 });
  const missing = await t.model('nope').catch((e: Error) => e.message);
  // Stop right after the request, while the worker still makes the dataset (fit then clears
  // stopTraining): it must count, ending the fit after its first batch.
  const early: rnn.FitProgress[] = [];
  const stopped = model.fitDataset('slowChapter', { nSeries: 200, batchSize: 32 }, { epochs: 50, onProgress: (p) => early.push(p) });
  model.stop();
  const earlyStop = (await stopped).history;
  await new Promise((r) => setTimeout(r, 50));
  t.terminate();
  return { summary: model.summary, weightNames: model.weightNames, loss: history.history.loss, datasetHistory: fromWorkerData.history, lastProgress: progress.at(-1), pongs, missing, earlyStop, earlyBatches: early.filter((p) => p.kind === 'batch').map((p) => p.batch) };
}

Object.assign(window, { workerHarness: { trainChapterLstm, stopAfterBatch, sameAsPage, errors, customWorker } });
document.getElementById('status')!.textContent = 'ready';
