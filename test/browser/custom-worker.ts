/**
 * A worker module of the app's own (test/browser/worker.spec.ts): it serves models built with
 * code — a custom cell, which a spec cannot describe — and answers its own messages on the same
 * Worker.
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
});

self.addEventListener('message', (ev: MessageEvent) => {
  if ((ev.data as { type?: string })?.type === 'ping') self.postMessage({ type: 'pong', echo: (ev.data as { n: number }).n });
});
