/**
 * Browser test harness: served by Vite on localhost, driven by Playwright (test/browser/*.spec.ts).
 * Exposes functions on `window` that run kernels and training through the browser's WebGPU and
 * return plain numbers; the spec compares them with the float64 references in Node.
 */
import * as rnn from '../../src/index';
import { getContext } from '../../src/gpu/context';
import { Graph } from '../../src/autograd/tape';
import { upload, readback } from '../../src/gpu/io';
import { matmul } from '../../src/ops/matmul';
import { activation } from '../../src/ops/elementwise';
import { sum } from '../../src/ops/reduce';

async function gpuInfo() {
  const gpu = await rnn.getGpu();
  return gpu.info;
}

/** tanh(A·B + bias) and the gradient of its sum w.r.t. A, on the browser's GPU. */
async function matmulTanh(a: number[], b: number[], bias: number[], M: number, K: number, N: number) {
  const ctx = await getContext();
  const g = new Graph(ctx, true);
  const mk = (shape: number[], data: number[], grad: boolean) => {
    const t = g.alloc(shape, 'in', grad);
    upload(ctx.device, t, data);
    return t;
  };
  const at = mk([M, K], a, true), bt = mk([K, N], b, false), biasT = mk([N], bias, false);
  const y = await activation(g, await matmul(g, at, bt, biasT), 'tanh');
  await g.backward(await sum(g, y));
  const enc = ctx.device.createCommandEncoder();
  g.encode(enc);
  ctx.device.queue.submit([enc.finish()]);
  const [yv, da] = await readback(ctx.device, y, g.grad(at));
  ctx.gpu.checkErrors();
  g.dispose();
  return { y: Array.from(yv!), dA: Array.from(da!) };
}

/** A short training run of the linear forecaster on the chapter series. */
async function trainLinear(epochs: number) {
  const d = rnn.data.chapterData('1-step', { nSeries: 1000 });
  const model = rnn.sequential({ layers: [rnn.layers.flatten({ inputShape: [50, 1] }), rnn.layers.dense({ units: 1 })], seed: 42 });
  model.compile({ optimizer: rnn.optimizers.adam({ learningRate: 0.01 }), loss: 'mse' });
  const h = await model.fit(d.train.x, d.train.y, { epochs, batchSize: 32, validationData: [d.valid.x, d.valid.y] });
  const naive = rnn.data.mse(rnn.data.naiveForecast(d.valid.x), d.valid.y);
  model.dispose();
  return { valLoss: h.history.val_loss!, loss: h.history.loss!, naive };
}

Object.assign(window, { harness: { gpuInfo, matmulTanh, trainLinear } });
document.getElementById('status')!.textContent = 'ready';
