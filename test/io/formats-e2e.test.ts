/**
 * The TensorFlow.js and Keras formats through model.save / rnn.loadModel / model.loadWeights
 * (memory and file:// targets): bit-identical predictions after a round trip, the compile
 * settings carried by the formats that have them (the loaded model trains), format detection
 * from the bytes.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as rnn from '../../src/index';
import { memory } from '../../src/io/handlers';
import { detectFormat } from '../../src/io/formats';
import { saveModel, loadWeightsInto } from '../../src/model/serialize';
import { loadModel } from '../../src/model/load';
import { values, asHost } from './helpers';

function encoderDecoder(seed: number) {
  const xe = rnn.input({ shape: [5, 2], name: 'enc_in' });
  const xd = rnn.input({ shape: [3, 1], name: 'dec_in' });
  const [, h, c] = rnn.layers.lstm({ units: 4, returnState: true, name: 'encoder' }).apply(xe) as rnn.SymbolicTensor[];
  const ys = rnn.layers.lstm({ units: 4, returnSequences: true, name: 'decoder' }).apply(xd, { initialState: [h!, c!] }) as rnn.SymbolicTensor;
  const y = rnn.layers.timeDistributed({ layer: rnn.layers.dense({ units: 1 }), name: 'head' }).apply(ys) as rnn.SymbolicTensor;
  const m = rnn.model({ inputs: [xe, xd], outputs: y, name: 'ed', seed });
  m.compile({ optimizer: rnn.optimizers.adam({ learningRate: 0.01 }), loss: 'mse' });
  return m;
}

const xs = [{ data: values(2 * 5 * 2, 1, -2, 2), shape: [2, 5, 2] }, { data: values(2 * 3, 2, -2, 2), shape: [2, 3, 1] }];
const ys = { data: values(2 * 3, 3, -1, 1), shape: [2, 3, 1] };

describe('save and load in the tfjs and Keras formats', () => {
  for (const format of ['tfjs', 'keras'] as const) {
    it(`${format}: a compiled encoder–decoder round-trips bit-identically and trains after loading`, async () => {
      const model = encoderDecoder(11);
      await model.fit(xs, ys, { epochs: 1 });
      const want = asHost(await model.predict(xs)).data;
      const mem = memory();
      await saveModel(model as never, mem, { format });
      expect(detectFormat(mem.files!, 'detect')).toBe(format);
      const loaded = await loadModel(mem);
      expect(asHost(await loaded.predict(xs)).data).toEqual(want);
      const h = await loaded.fit(xs, ys, { epochs: 1 }); // compiled from the file's trainingConfig / compile_config
      expect(Number.isFinite(h.history.loss![0])).toBe(true);
      model.dispose();
      loaded.dispose();
    });
  }

  it('file:// targets: .keras and .weights.h5 by extension, tfjs by format; weights into an existing model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-formats-'));
    try {
      const model = encoderDecoder(12);
      const want = asHost(await model.predict(xs)).data;
      await saveModel(model as never, `file://${join(dir, 'ed.keras')}`, {});
      await saveModel(model as never, `file://${join(dir, 'ed.weights.h5')}`, {});
      await saveModel(model as never, `file://${join(dir, 'tfjs')}`, { format: 'tfjs' });
      expect(readdirSync(dir).sort()).toEqual(['ed.keras', 'ed.weights.h5', 'tfjs']);
      for (const src of [`file://${join(dir, 'ed.keras')}`, `file://${join(dir, 'tfjs')}`]) {
        const m = await loadModel(src);
        expect(asHost(await m.predict(xs)).data).toEqual(want);
        m.dispose();
      }
      const fresh = encoderDecoder(99);
      expect(asHost(await fresh.predict(xs)).data).not.toEqual(want);
      await loadWeightsInto(fresh as never, `file://${join(dir, 'ed.weights.h5')}`);
      expect(asHost(await fresh.predict(xs)).data).toEqual(want);
      await expect(loadModel(`file://${join(dir, 'ed.weights.h5')}`)).rejects.toThrow(/weights only/);
      model.dispose();
      fresh.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
