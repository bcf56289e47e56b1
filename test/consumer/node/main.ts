// A Node project that installed webgpu-rnn from its tarball: trains a small LSTM on Dawn.
import * as rnn from 'webgpu-rnn';
import type { History, HostTensor } from 'webgpu-rnn';

const { train, valid } = rnn.data.chapterData('1-step', { nSeries: 400 }); // x [280, 50, 1], y [280, 1]
rnn.setSeed(42);
const model = rnn.sequential({
  layers: [rnn.layers.lstm({ units: 8, inputShape: [null, 1] }), rnn.layers.dense({ units: 1 })],
});
model.compile({ optimizer: rnn.optimizers.adam({ learningRate: 0.01 }), loss: 'mse' });
const history: History = await model.fit(train.x, train.y, { epochs: 3, batchSize: 32, validationData: [valid.x, valid.y] });
const forecast: HostTensor = await rnn.iterativeForecast(model, valid.x, 3);
const gpu = await rnn.getGpu();
const naive = rnn.data.mse(rnn.data.naiveForecast(valid.x), valid.y);
console.log(JSON.stringify({ runtime: gpu.info.runtime, adapter: gpu.info.description, loss: history.history.loss, valLoss: history.history.val_loss, naive, forecastShape: forecast.shape }));
model.dispose();
