/**
 * The TensorFlow.js layers format both ways, against @tensorflow/tfjs 4.22 itself (CPU backend):
 * models built and saved by tfjs load here and predict within 1e-5 of tfjs; models saved here load
 * with tf.loadLayersModel and predict within 1e-5 of ours; what tfjs cannot run is refused.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as rnn from '../../src/index';
import { encodeTfjs, decodeTfjs } from '../../src/io/tfjs-format';
import type { NamedFile } from '../../src/io/artifacts';
import { modelFromArtifacts, maxDiff, values, asHost } from './helpers';
import { artifactsOf } from './artifacts-of';

const TOL = 1e-5;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** What tfjs writes for a model (tfjs-node's file:// handler: model.json + weights.bin). */
async function tfjsSave(m: tf.LayersModel): Promise<NamedFile[]> {
  let files: NamedFile[] = [];
  await m.save(tf.io.withSaveHandler(async (a) => {
    const json = { modelTopology: a.modelTopology, format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy, weightsManifest: [{ paths: ['./weights.bin'], weights: a.weightSpecs }] };
    const data = a.weightData as ArrayBuffer;
    files = [{ name: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(json)) }, { name: 'weights.bin', bytes: new Uint8Array(data) }];
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return files;
}

/** tf.loadLayersModel on our files, through tfjs' own model.json reader. */
async function tfjsLoad(files: NamedFile[]): Promise<tf.LayersModel> {
  const byName = new Map(files.map((f) => [f.name, f.bytes]));
  const modelJson = JSON.parse(new TextDecoder().decode(byName.get('model.json')!)) as tf.io.ModelJSON;
  const handler: tf.io.IOHandler = {
    load: () => tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
      const specs = manifest.flatMap((g) => g.weights);
      const parts = manifest.flatMap((g) => g.paths.map((p) => byName.get(p)!));
      const total = parts.reduce((n, p) => n + p.byteLength, 0);
      const buf = new Uint8Array(total);
      let off = 0;
      for (const p of parts) {
        buf.set(p, off);
        off += p.byteLength;
      }
      return [specs, buf.buffer];
    }),
  };
  return tf.loadLayersModel(handler);
}

/** Random weights for every tfjs weight (variances positive). */
function randomizeTfjs(m: tf.LayersModel, seed: number): void {
  m.setWeights(m.weights.map((w, i) => {
    const n = (w.shape as number[]).reduce((a, b) => a * b, 1);
    const lo = w.name.includes('moving_variance') ? 0.5 : -0.8;
    return tf.tensor(values(n, seed + i, lo, 0.9), w.shape as number[]);
  }));
}

async function tfPredict(m: tf.LayersModel, xs: { data: Float32Array; shape: number[] }[]): Promise<Float32Array> {
  const y = m.predict(xs.map((x) => tf.tensor(x.data, x.shape))) as tf.Tensor | tf.Tensor[];
  return (Array.isArray(y) ? y[0]! : y).dataSync() as Float32Array;
}

describe('models made by TensorFlow.js load and predict as in tfjs', () => {
  it('Sequential: LSTM, GRU, Bidirectional(GRU), SimpleRNN, LayerNormalization, BatchNormalization, TimeDistributed(Dense), Dense (tfjs defaults: hard_sigmoid gates)', async () => {
    const m = tf.sequential({ name: 'tfjs_seq' });
    m.add(tf.layers.lstm({ units: 4, returnSequences: true, inputShape: [null, 3] }));
    m.add(tf.layers.gru({ units: 3, returnSequences: true }));
    m.add(tf.layers.bidirectional({ layer: tf.layers.gru({ units: 2, returnSequences: true }) as tf.RNN }));
    m.add(tf.layers.simpleRNN({ units: 2, returnSequences: true }));
    m.add(tf.layers.layerNormalization());
    m.add(tf.layers.batchNormalization());
    m.add(tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 2, activation: 'relu' }) }));
    m.add(tf.layers.dense({ units: 1 }));
    randomizeTfjs(m, 10);
    const files = await tfjsSave(m);
    const art = decodeTfjs(files, 'tfjs_seq');
    const lstm = art.json.modelTopology.config.layers[0]!;
    expect(lstm.config.recurrentActivation).toBe('hardSigmoidTfjs');
    expect(art.json.modelTopology.config.layers[1]!.config.resetAfter).toBe(false);
    const ours = await modelFromArtifacts(art);
    const x = { data: values(2 * 6 * 3, 3, -2, 2), shape: [2, 6, 3] };
    const want = await tfPredict(m, [x]);
    const got = asHost(await ours.predict(x));
    expect(maxDiff(got.data, want)).toBeLessThan(TOL);
    ours.dispose();
  });

  it('functional: encoder LSTM with returnState feeding a decoder LSTM initialState, Concatenate, RepeatVector, Bidirectional(LSTM, sum), Dense', async () => {
    const inp = tf.input({ shape: [5, 2], name: 'x' });
    const [seq, h, c] = tf.layers.lstm({ units: 3, returnSequences: true, returnState: true, recurrentActivation: 'sigmoid' }).apply(inp) as tf.SymbolicTensor[];
    const d = tf.layers.lstm({ units: 3 }).apply(seq!, { initialState: [h, c] }) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate().apply([d, h!]) as tf.SymbolicTensor;
    const rep = tf.layers.repeatVector({ n: 4 }).apply(cat) as tf.SymbolicTensor;
    const bi = tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 2, returnSequences: true }) as tf.RNN, mergeMode: 'sum' }).apply(rep) as tf.SymbolicTensor;
    const out = tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 1 }) }).apply(bi) as tf.SymbolicTensor;
    const m = tf.model({ inputs: inp, outputs: out, name: 'tfjs_fn' });
    randomizeTfjs(m, 40);
    const art = decodeTfjs(await tfjsSave(m), 'tfjs_fn');
    const dec = art.json.modelTopology.config.layers.find((l) => l.inboundNodes?.[0]?.initialState?.length);
    expect(dec?.inboundNodes?.[0]?.initialState?.length).toBe(2);
    const ours = await modelFromArtifacts(art);
    const x = { data: values(3 * 5 * 2, 5, -2, 2), shape: [3, 5, 2] };
    expect(maxDiff(asHost(await ours.predict(x)).data, await tfPredict(m, [x]))).toBeLessThan(TOL);
    ours.dispose();
  });
});

describe('models saved here load in TensorFlow.js and predict as here', () => {
  it('Sequential: LSTM, GRU (resetAfter false), Bidirectional(LSTM), SimpleRNN, LayerNormalization, TimeDistributed(Dense), Dense', async () => {
    const model = rnn.sequential({ name: 'ours_seq', seed: 7, layers: [
      rnn.layers.lstm({ units: 5, returnSequences: true, inputShape: [null, 3] }),
      rnn.layers.gru({ units: 4, returnSequences: true, resetAfter: false }),
      rnn.layers.bidirectional({ layer: rnn.layers.lstm({ units: 3, returnSequences: true }) }),
      rnn.layers.simpleRNN({ units: 3, returnSequences: true, activation: 'relu' }),
      rnn.layers.layerNormalization(),
      rnn.layers.timeDistributed({ layer: rnn.layers.dense({ units: 2 }) }),
      rnn.layers.dense({ units: 1, activation: 'sigmoid' }),
    ] });
    const art = await artifactsOf(model);
    art.json.trainingConfig = { optimizer: { className: 'adam', config: { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } }, loss: 'mse' };
    const files = encodeTfjs(art);
    expect(files.map((f) => f.name)).toEqual(['model.json', 'group1-shard1of1.bin']);
    const json = JSON.parse(new TextDecoder().decode(files[0]!.bytes));
    expect(json.format).toBe('layers-model');
    expect(json.modelTopology.config.layers[0].config.batch_input_shape).toEqual([null, null, 3]);
    const names = json.weightsManifest[0].weights.map((w: { name: string }) => w.name);
    expect(names).toEqual(model.weightNames);
    expect(json.trainingConfig).toEqual({ loss: 'meanSquaredError', metrics: [], optimizer_config: { class_name: 'Adam', config: { learning_rate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } } });
    const m = await tfjsLoad(files);
    expect(m.optimizer.getClassName()).toBe('Adam'); // tfjs compiled it from trainingConfig
    expect(decodeTfjs(files, 'back').json.trainingConfig).toEqual(art.json.trainingConfig);
    const x = { data: values(2 * 7 * 3, 9, -2, 2), shape: [2, 7, 3] };
    expect(maxDiff(asHost(await model.predict(x)).data, await tfPredict(m, [x]))).toBeLessThan(TOL);
    model.dispose();
  });

  it('functional encoder–decoder (returnState → initialState), merge and hardSigmoidTfjs gates', async () => {
    const xe = rnn.input({ shape: [6, 2], name: 'enc_in' });
    const xd = rnn.input({ shape: [4, 1], name: 'dec_in' });
    const [, h, c] = rnn.layers.lstm({ units: 4, returnState: true, recurrentActivation: 'hardSigmoidTfjs', name: 'encoder' }).apply(xe) as rnn.SymbolicTensor[];
    const ys = rnn.layers.lstm({ units: 4, returnSequences: true, name: 'decoder' }).apply(xd, { initialState: [h!, c!] }) as rnn.SymbolicTensor;
    const y = rnn.layers.timeDistributed({ layer: rnn.layers.dense({ units: 1 }), name: 'head' }).apply(ys) as rnn.SymbolicTensor;
    const model = rnn.model({ inputs: [xe, xd], outputs: y, name: 'ed', seed: 3 });
    const files = encodeTfjs(await artifactsOf(model));
    const m = await tfjsLoad(files);
    const a = { data: values(2 * 6 * 2, 1, -2, 2), shape: [2, 6, 2] };
    const b = { data: values(2 * 4, 2, -2, 2), shape: [2, 4, 1] };
    expect(maxDiff(asHost(await model.predict([a, b])).data, await tfPredict(m, [a, b]))).toBeLessThan(TOL);
    // and back: tfjs' own save of what it loaded reads here again
    const back = decodeTfjs(await tfjsSave(m), 'roundtrip');
    expect(back.json.modelTopology.config.layers.map((l) => l.name)).toEqual(['enc_in', 'dec_in', 'encoder', 'decoder', 'head']);
    model.dispose();
  });

  it('refuses what tfjs cannot run, naming the layer', async () => {
    const gru = rnn.sequential({ layers: [rnn.layers.gru({ units: 2, inputShape: [null, 1], name: 'g_after' })] });
    const a1 = await artifactsOf(gru, false);
    expect(() => encodeTfjs(a1)).toThrow(/g_after.*reset_after|reset_after.*g_after/s);
    const hs = rnn.sequential({ layers: [rnn.layers.lstm({ units: 2, inputShape: [null, 1], recurrentActivation: 'hardSigmoid', name: 'k3' })] });
    const a2 = await artifactsOf(hs, false);
    expect(() => encodeTfjs(a2)).toThrow(/k3.*hardSigmoid/s);
  });
});

describe('Dropout both ways (identity at inference)', () => {
  it('a tfjs LSTM → Dropout → Dense loads and predicts as tfjs; ours with Dropout loads in tfjs', async () => {
    const m = tf.sequential({ name: 'tfjs_drop' });
    m.add(tf.layers.lstm({ units: 3, returnSequences: true, inputShape: [null, 2] }));
    m.add(tf.layers.dropout({ rate: 0.3 }));
    m.add(tf.layers.dense({ units: 1 }));
    randomizeTfjs(m, 60);
    const art = decodeTfjs(await tfjsSave(m), 'tfjs_drop');
    expect(art.json.modelTopology.config.layers[1]!.className).toBe('Dropout');
    const ours = await modelFromArtifacts(art);
    const x = { data: values(2 * 4 * 2, 61, -1, 1), shape: [2, 4, 2] };
    expect(maxDiff(asHost(await ours.predict(x)).data, await tfPredict(m, [x]))).toBeLessThan(TOL);
    const back = await tfjsLoad(encodeTfjs(await artifactsOf(ours)));
    expect(back.layers[1]!.getClassName()).toBe('Dropout');
    expect(maxDiff(asHost(await ours.predict(x)).data, await tfPredict(back, [x]))).toBeLessThan(TOL);
    ours.dispose();
  });
});
