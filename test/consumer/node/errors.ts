// Mistakes a consumer must see as type errors (each line below fails to compile without the
// directive; tsc reports an unused directive if the library's types stopped catching it).
import * as rnn from 'webgpu-rnn';

const model = rnn.sequential({ layers: [rnn.layers.lstm({ units: 8, inputShape: [null, 1] })] });
// @ts-expect-error: a misspelt loss name
model.compile({ optimizer: 'adam', loss: 'meanSquaredErorr' });
// @ts-expect-error: a misspelt layer option
rnn.layers.lstm({ units: 8, returnSequence: true });
// @ts-expect-error: a misspelt fit option
void model.fit([[[1]]], [[1]], { epoch: 3 });
// @ts-expect-error: units must be a number
rnn.layers.dense({ units: '8' });
// @ts-expect-error: a misspelt metric
model.compile({ optimizer: 'adam', loss: 'mse', metrics: ['lastTimestepMse'] });
// @ts-expect-error: an optimizer option that does not exist
rnn.optimizers.adam({ learningrate: 0.01 });
// A Worker model spec is checked too:
export function specs(trainer: ReturnType<typeof rnn.worker.create>) {
  // @ts-expect-error: a layer type that does not exist
  void trainer.sequential({ layers: [{ type: 'lstmm', units: 8 }] });
  // @ts-expect-error: a misspelt option of a nested layer
  void trainer.sequential({ layers: [{ type: 'timeDistributed', layer: { type: 'dense', unit: 1 } }] });
  // @ts-expect-error: a misspelt loss in the spec's compile
  void trainer.sequential({ layers: [{ type: 'dense', units: 1 }], compile: { optimizer: 'adam', loss: 'mase' } });
}
