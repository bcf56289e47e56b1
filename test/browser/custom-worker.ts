/**
 * A worker module of the app's own (test/browser/worker.spec.ts): it serves models built with
 * code — a custom cell, which a spec cannot describe — and datasets made in the worker, and
 * answers its own messages on the same Worker.
 */
import * as rnn from '../../src/index';

rnn.worker.serve({
  models: {
    lnRnn: (args) => {
      const { units } = args as { units: number };
      const model = rnn.sequential({
        layers: [rnn.layers.rnn({ cell: rnn.layers.lnSimpleRNNCell({ units }), inputShape: [null, 1] }), rnn.layers.dense({ units: 1 })],
        seed: 3,
      });
      model.compile({ optimizer: 'adam', loss: 'mse' });
      return model;
    },
  },
  datasets: {
    // as 'chapter', made after a pause (a task boundary: a stop sent meanwhile must count)
    slowChapter: async (args) => {
      await new Promise((r) => setTimeout(r, 200));
      return chapter(args);
    },
    chapter: (args) => chapter(args),
  },
});

/** Batches made here from data the worker holds: they never cross to the page. */
function chapter(args: unknown): rnn.WorkerDataset {
  const { nSeries, batchSize } = args as { nSeries: number; batchSize: number };
  const { train, valid } = rnn.data.chapterData('1-step', { nSeries });
  const n = train.x.shape[0]!, T = train.x.shape[1]!;
  const batchesPerEpoch = Math.ceil(n / batchSize);
  return {
    batchesPerEpoch,
    validationData: [valid.x, valid.y],
    dataset: (_epoch, b) => {
      const lo = b * batchSize, hi = Math.min(n, lo + batchSize);
      return { x: { data: train.x.data.subarray(lo * T, hi * T), shape: [hi - lo, T, 1] }, y: { data: train.y.data.subarray(lo, hi), shape: [hi - lo, 1] } };
    },
  };
}

self.addEventListener('message', (ev: MessageEvent) => {
  if ((ev.data as { type?: string })?.type === 'ping') self.postMessage({ type: 'pong', echo: (ev.data as { n: number }).n });
});
