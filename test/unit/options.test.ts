// Strict options at the public boundary (src/options.ts): unknown keys are refused with a
// suggestion, wrong types are refused naming the option, and name lookups ignore
// Object.prototype — the reproducers of the reliability issue, then every factory.
import { describe, expect, it } from 'vitest';
import * as rnn from '../../src/index';
import { suggest } from '../../src/options';
import { deserializeLayer } from '../../src/layers/registry';
import { serializeLayer } from '../../src/layers/layer';

describe('reproducers: misspelled options and wrong types are errors, not ignored', () => {
  it('lstm({returnSequence}) names the option and suggests returnSequences', () => {
    expect(() => rnn.layers.lstm({ units: 4, returnSequence: true } as never)).toThrow(/lstm: unknown option 'returnSequence' \(did you mean 'returnSequences'\?\)/);
  });
  it("adam({learning_rate}) suggests learningRate (Keras' snake_case)", () => {
    expect(() => rnn.optimizers.adam({ learning_rate: 0.5 } as never)).toThrow(/adam: unknown option 'learning_rate' \(did you mean 'learningRate'\?\)/);
  });
  it('fit(x, y, {epoch}) suggests epochs, before any GPU work', async () => {
    const m = rnn.sequential({ layers: [rnn.layers.dense({ units: 1, inputShape: [2] })] });
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    await expect(m.fit([[1, 2]], [[1]], { epoch: 3 } as never)).rejects.toThrow(/fit: unknown option 'epoch' \(did you mean 'epochs'\?\)/);
    expect(m.pooledBytes).toBe(0);
    expect(m.weightNames).toEqual([]); // not built
  });
  it("fit's callbacks must be callback objects: a name or a null is refused before any GPU work (found by the fuzzer)", async () => {
    const m = rnn.sequential({ layers: [rnn.layers.dense({ units: 1, inputShape: [2] })] });
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    for (const callbacks of ['earlyStopping', ['earlyStopping'], [null], 5]) {
      await expect(m.fit([[1, 2]], [[1]], { callbacks } as never)).rejects.toThrow(/fit: callbacks must be a callback object or an array of them/);
    }
    expect(m.pooledBytes).toBe(0);
    const h = await m.fit([[1, 2]], [[1]], { epochs: 1, callbacks: [rnn.callbacks.earlyStopping({ patience: 1 }), {}] });
    expect(h.history.loss).toHaveLength(1);
    m.dispose();
  });
  it("returnSequences: 'false' is refused (a string is not a boolean)", () => {
    expect(() => rnn.layers.gru({ units: 4, returnSequences: 'false' } as never)).toThrow(/gru: returnSequences must be true or false, got the string "false"/);
  });
  it("kernelInitializer: 'constructor' and a schedule named 'constructor' are unknown names", () => {
    expect(() => rnn.layers.lstm({ units: 4, kernelInitializer: 'constructor' })).toThrow(/unknown initializer 'constructor'/);
    expect(() => rnn.layers.dense({ units: 4, activation: 'toString' as never })).toThrow(/unknown activation 'toString'/);
    expect(() => rnn.optimizers.adam({ learningRate: { className: 'constructor', config: {} } })).toThrow(/unknown learning-rate schedule 'constructor'/);
    expect(() => rnn.optimizers.adam({ learningRate: { className: 'hasOwnProperty', config: {} } })).toThrow(/unknown learning-rate schedule/);
  });
});

describe('every public options object is checked', () => {
  const lstm = () => rnn.layers.lstm({ units: 2 });
  const dense = () => rnn.layers.dense({ units: 2 });
  const cell = () => rnn.layers.lnSimpleRNNCell({ units: 2 });
  // each factory with its required options, so only the extra key is wrong
  const factories: [string, (extra: object) => unknown][] = [
    ['dense', (e) => rnn.layers.dense({ units: 1, ...e })],
    ['flatten', (e) => rnn.layers.flatten(e)],
    ['time_distributed', (e) => rnn.layers.timeDistributed({ layer: dense(), ...e })],
    ['simple_rnn', (e) => rnn.layers.simpleRNN({ units: 1, ...e })],
    ['lstm', (e) => rnn.layers.lstm({ units: 1, ...e })],
    ['gru', (e) => rnn.layers.gru({ units: 1, ...e })],
    ['bidirectional', (e) => rnn.layers.bidirectional({ layer: lstm(), ...e })],
    ['masking', (e) => rnn.layers.masking(e)],
    ['rnn', (e) => rnn.layers.rnn({ cell: cell(), ...e })],
    ['lnSimpleRNNCell', (e) => rnn.layers.lnSimpleRNNCell({ units: 1, ...e })],
    ['layer_normalization', (e) => rnn.layers.layerNormalization(e)],
    ['batch_normalization', (e) => rnn.layers.batchNormalization(e)],
    ['repeat_vector', (e) => rnn.layers.repeatVector({ n: 2, ...e })],
    ['reshape', (e) => rnn.layers.reshape({ targetShape: [2], ...e })],
    ['concatenate', (e) => rnn.layers.concatenate(e)],
    ['add', (e) => rnn.layers.add(e)],
    ['subtract', (e) => rnn.layers.subtract(e)],
    ['multiply', (e) => rnn.layers.multiply(e)],
    ['average', (e) => rnn.layers.average(e)],
    ['gaussian_noise', (e) => rnn.layers.gaussianNoise({ stddev: 0.1, ...e })],
    ['dropout', (e) => rnn.layers.dropout({ rate: 0.1, ...e })],
    ['input', (e) => rnn.input({ shape: [2], ...e })],
    ['adam', (e) => rnn.optimizers.adam(e)],
    ['adamw', (e) => rnn.optimizers.adamw(e)],
    ['sgd', (e) => rnn.optimizers.sgd(e)],
    ['rmsprop', (e) => rnn.optimizers.rmsprop(e)],
    ['exponentialDecay', (e) => rnn.optimizers.schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.9, ...e })],
    ['piecewiseConstantDecay', (e) => rnn.optimizers.schedules.piecewiseConstantDecay({ boundaries: [1], values: [0.1, 0.01], ...e })],
    ['earlyStopping', (e) => rnn.callbacks.earlyStopping(e)],
    ['reduceLROnPlateau', (e) => rnn.callbacks.reduceLROnPlateau(e)],
    ['csvLogger', (e) => rnn.callbacks.csvLogger(e)],
    ['historyLogger', (e) => rnn.callbacks.historyLogger(e)],
    ['losses.meanSquaredError', (e) => rnn.losses.meanSquaredError(e)],
    ['losses.huber', (e) => rnn.losses.huber(e)],
    ['sequential', (e) => rnn.sequential({ layers: [], ...e })],
    ['timeseriesDatasetFromArray', (e) => rnn.utils.timeseriesDatasetFromArray([1, 2, 3, 4], null, { sequenceLength: 2, ...e })],
  ];
  it.each(factories)('%s refuses an unknown key and accepts its own required options', (name, make) => {
    expect(() => make({})).not.toThrow();
    expect(() => make({ bogusOption: 1 })).toThrow(new RegExp(`${name.replace('.', '\\.')}.*unknown option 'bogusOption'`));
  });
  it('a non-object options argument is refused with an example', () => {
    expect(() => rnn.layers.dense(5 as never)).toThrow(/dense: expected an options object like/);
    expect(() => rnn.optimizers.adam([] as never)).toThrow(/adam: expected an options object like \{learningRate: 0.001\}, got an array/);
  });
});

describe('suggestions', () => {
  it('snake_case, other case and small misspellings; nothing for unrelated names', () => {
    const known = ['learningRate', 'epochs', 'batchSize', 'returnSequences'];
    expect(suggest('learning_rate', known)).toBe('learningRate');
    expect(suggest('LearningRate', known)).toBe('learningRate');
    expect(suggest('batch_size', known)).toBe('batchSize');
    expect(suggest('epoch', known)).toBe('epochs');
    expect(suggest('retrunSequences', known)).toBe('returnSequences');
    expect(suggest('zzz', known)).toBeNull();
  });
});

describe('getConfig is the constructor options: every layer rebuilds from serializeLayer', () => {
  const layers = (): rnn.Layer[] => [
    rnn.layers.dense({ units: 3, activation: 'relu', useBias: false, kernelInitializer: 'heUniform', inputShape: [4] }),
    rnn.layers.flatten(),
    rnn.layers.timeDistributed({ layer: rnn.layers.dense({ units: 2 }) }),
    rnn.layers.simpleRNN({ units: 3, activation: 'relu', returnSequences: true, goBackwards: true, dropout: 0.1, seed: 7 }),
    rnn.layers.lstm({ units: 3, unitForgetBias: false, recurrentActivation: 'hardSigmoid', stateful: true, returnState: true, recurrentDropout: 0.2, timeLoop: 'persistent' }),
    rnn.layers.gru({ units: 3, resetAfter: false, useBias: false, recurrentInitializer: 'glorotNormal' }),
    rnn.layers.bidirectional({ layer: rnn.layers.gru({ units: 2, returnSequences: true, name: 'inner_gru' }), mergeMode: 'ave' }),
    rnn.layers.masking({ maskValue: -1 }),
    rnn.layers.rnn({ cell: rnn.layers.lnSimpleRNNCell({ units: 3, epsilon: 0.01 }), returnSequences: true, dropout: 0.1, fused: false }),
    rnn.layers.layerNormalization({ epsilon: 0.01, center: false }),
    rnn.layers.batchNormalization({ momentum: 0.9, scale: false, gammaInitializer: 'zeros' }),
    rnn.layers.repeatVector({ n: 5 }),
    rnn.layers.reshape({ targetShape: [-1, 2] }),
    rnn.layers.concatenate({ axis: 1 }),
    rnn.layers.add(),
    rnn.layers.subtract(),
    rnn.layers.multiply(),
    rnn.layers.average(),
    rnn.layers.gaussianNoise({ stddev: 0.3, seed: 3 }),
    rnn.layers.dropout({ rate: 0.3, seed: 4 }),
  ];
  it.each(layers().map((l) => [l.className, l] as const))('%s', (_name, layer) => {
    const saved = serializeLayer(layer);
    const json = JSON.parse(JSON.stringify(saved));
    const again = deserializeLayer(json, 'test');
    expect(again.constructor).toBe(layer.constructor);
    expect(serializeLayer(again)).toEqual(saved);
  });
  it('unknown classes and bad configs name the path', () => {
    expect(() => deserializeLayer({ className: 'LSMT', config: { units: 2 } }, 'model.json: layers[1]')).toThrow(/model.json: layers\[1\]: unknown layer class 'LSMT' \(did you mean 'LSTM'\?\)/);
    expect(() => deserializeLayer({ className: 'constructor', config: {} }, 'x')).toThrow(/unknown layer class 'constructor'/);
    expect(() => deserializeLayer({ className: 'LSTM', config: { units: 'two' } }, 'model.json: layers[0]')).toThrow(/model.json: layers\[0\] \(LSTM\): .*units must be a positive integer/);
    expect(() => deserializeLayer({ className: 'Bidirectional', config: { layer: { className: 'Dense', config: { units: 1 } } } }, 'b')).toThrow(/b.layer: Bidirectional wraps SimpleRNN, LSTM or GRU, got Dense/);
  });
});
