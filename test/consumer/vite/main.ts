// A Vite app that installed webgpu-rnn from its tarball: trains a small LSTM on the page's GPU,
// then the same in the library's training Worker (rnn.worker.create(), bundled by Vite).
import * as rnn from 'webgpu-rnn';

async function run() {
  const { train, valid } = rnn.data.chapterData('1-step', { nSeries: 200 });
  const model = rnn.sequential({
    layers: [rnn.layers.lstm({ units: 4, inputShape: [null, 1] }), rnn.layers.dense({ units: 1 })],
    seed: 1,
  });
  model.compile({ optimizer: rnn.optimizers.adam({ learningRate: 0.01 }), loss: 'mse' });
  const page = await model.fit(train.x, train.y, { epochs: 2, batchSize: 32, validationData: [valid.x, valid.y] });
  const gpu = await rnn.getGpu();
  model.dispose();

  const trainer = rnn.worker.create();
  const workerGpu = await trainer.gpu;
  const remote = await trainer.sequential({
    layers: [{ type: 'lstm', units: 4, inputShape: [null, 1] }, { type: 'dense', units: 1 }],
    seed: 1,
    compile: { optimizer: { type: 'adam', learningRate: 0.01 }, loss: 'mse' },
  });
  let progress = 0;
  const worker = await remote.fit(train.x, train.y, { epochs: 2, batchSize: 32, validationData: [valid.x, valid.y], onProgress: () => progress++ });
  const forecast = await remote.iterativeForecast(valid.x, 3);
  trainer.terminate();
  return { adapter: gpu.info.description, runtime: gpu.info.runtime, pageLoss: page.history.val_loss, workerAdapter: workerGpu.description, workerLoss: worker.history.val_loss, progress, forecastShape: forecast.shape };
}

run().then(
  (r) => {
    (window as unknown as { result: unknown }).result = r;
    document.getElementById('status')!.textContent = 'done';
  },
  (e: unknown) => {
    (window as unknown as { result: unknown }).result = { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
    document.getElementById('status')!.textContent = 'failed';
  },
);
