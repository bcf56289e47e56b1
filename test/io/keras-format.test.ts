/**
 * Keras 3 `.keras` and `.weights.h5`: files made by Keras 3.15.1 (test/io/fixtures/keras, made by
 * make_fixtures.py there) load here and predict within 1e-5 of Keras; files written here have
 * Keras 3's layout (read back with h5wasm: every group, `name` attribute and dataset path) and
 * round-trip bit-identically.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import * as rnn from '../../src/index';
import { decodeKeras, decodeKerasWeights, encodeKeras, encodeKerasWeights } from '../../src/io/keras-format';
import { readHdf5, isGroup } from '../../src/io/hdf5';
import type { NamedFile } from '../../src/io/artifacts';
import { modelFromArtifacts, maxDiff, values, asHost, splitWeights } from './helpers';
import { artifactsOf } from './artifacts-of';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = (name: string): NamedFile => ({ name, bytes: new Uint8Array(readFileSync(join(here, 'fixtures/keras', name))) });
const expected = (name: string) => JSON.parse(readFileSync(join(here, 'fixtures/keras', `${name}.json`), 'utf8')) as {
  inputs: { shape: number[]; data: number[] }[];
  output: { shape: number[]; data: number[] };
};
const TOL = 1e-5;

/** Every group (with its `name` attribute) and dataset (with its shape) of an HDF5 file. */
async function layout(file: NamedFile): Promise<Record<string, string>> {
  return readHdf5(file.name, file.bytes, (f, h5) => {
    const out: Record<string, string> = {};
    const walk = (g: ReturnType<typeof f.get>, path: string) => {
      if (!isGroup(g)) return;
      for (const k of g.keys()) {
        const p = path ? `${path}/${k}` : k;
        const e = g.get(k);
        if (e instanceof h5.Dataset) out[p] = `[${(e.shape ?? []).join(',')}] ${e.dtype}`;
        else if (isGroup(e)) {
          out[`${p}/`] = e.attrs.name ? `name=${String(e.attrs.name.value)}` : '';
          walk(e, p);
        }
      }
    };
    walk(f, '');
    return out;
  });
}

describe('Keras 3 files made by Keras load and predict as in Keras', () => {
  for (const name of ['seq', 'fn']) {
    it(`${name}.keras (${name === 'seq' ? 'Masking, LSTM, GRU reset_after False, Bidirectional(GRU), SimpleRNN, LayerNormalization, BatchNormalization, TimeDistributed, Dense' : 'encoder–decoder with initial_state, hard_sigmoid, RepeatVector, Concatenate, Add, Bidirectional(ave), Flatten'})`, async () => {
      const art = await decodeKeras([fixture(`${name}.keras`)], name);
      const model = await modelFromArtifacts(art);
      const e = expected(name);
      const xs = e.inputs.map((x) => ({ data: Float32Array.from(x.data), shape: x.shape }));
      const got = asHost(await model.predict(xs.length === 1 ? xs[0]! : xs));
      expect(got.shape).toEqual(e.output.shape);
      expect(maxDiff(got.data, e.output.data)).toBeLessThan(TOL);
      // the weights-only file of the same model gives the same weights
      const w = await decodeKerasWeights([fixture(`${name}.weights.h5`)], art.json, name);
      expect(new Uint8Array(w.weightData)).toEqual(new Uint8Array(art.weightData));
      model.dispose();
    });
  }

  it('the GRU of a Keras file keeps reset_after (True: bias [2, 3H]; False: [3H])', async () => {
    const art = await decodeKeras([fixture('seq.keras')], 'seq');
    const layers = art.json.modelTopology.config.layers;
    expect(layers.find((l) => l.className === 'GRU')!.config.resetAfter).toBe(false);
    const bi = layers.find((l) => l.className === 'Bidirectional')!;
    expect((bi.config.layer as { config: { resetAfter: boolean } }).config.resetAfter).toBe(true);
    const shapes = Object.fromEntries(splitWeights(art).map((w) => [w.name, w.shape]));
    expect(shapes[`${bi.name}/forward_${(bi.config.layer as { config: { name: string } }).config.name}/bias`]).toEqual([2, 6]);
  });
});

describe('Keras 3 files written here', () => {
  it('have the layout Keras 3 writes for the same model (paths, shapes, vars names) and round-trip bit-identically', async () => {
    const ours = await decodeKeras([fixture('seq.keras')], 'seq');
    const model = await modelFromArtifacts(ours);
    const art = await artifactsOf(model);
    const [keras] = await encodeKeras(art);
    const entries = unzipSync(keras!.bytes);
    expect(Object.keys(entries)).toEqual(['metadata.json', 'config.json', 'model.weights.h5']);
    const meta = JSON.parse(new TextDecoder().decode(entries['metadata.json']));
    expect(meta.keras_version).toMatch(/^3\./);
    expect(meta.date_saved).toMatch(/^\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d$/);
    // Keras' own file for this model and ours: the same groups, vars names and datasets
    const theirs = await layout({ name: 'keras', bytes: unzipSync(fixture('seq.keras').bytes)['model.weights.h5']! });
    const mine = await layout({ name: 'ours', bytes: entries['model.weights.h5']! });
    for (const k of Object.keys(theirs)) if (k.startsWith('optimizer/')) delete theirs[k];
    expect(mine).toEqual(theirs);
    // and back: bit-identical weights and predictions
    const back = await decodeKeras([keras!], 'back');
    expect(new Uint8Array(back.weightData)).toEqual(new Uint8Array(art.weightData));
    const again = await modelFromArtifacts(back);
    const x = { data: values(2 * 5 * 3, 4, -2, 2), shape: [2, 5, 3] };
    expect(asHost(await again.predict(x)).data).toEqual(asHost(await model.predict(x)).data);
    model.dispose();
    again.dispose();
  });

  it('functional: layers in Keras order (map_graph), numbered by class; weights-only file round trip', async () => {
    const fn = await decodeKeras([fixture('fn.keras')], 'fn');
    const model = await modelFromArtifacts(fn);
    const art = await artifactsOf(model);
    const [h5] = await encodeKerasWeights(art);
    const theirs = await layout(fixture('fn.weights.h5'));
    const mine = await layout(h5!);
    expect(mine).toEqual(theirs);
    const back = await decodeKerasWeights([h5!], art.json, 'fn');
    expect(new Uint8Array(back.weightData)).toEqual(new Uint8Array(art.weightData));
    // config.json: Keras' layer order
    const [k] = await encodeKeras(art);
    const cfg = JSON.parse(new TextDecoder().decode(unzipSync(k!.bytes)['config.json']));
    const kerasCfg = JSON.parse(new TextDecoder().decode(unzipSync(fixture('fn.keras').bytes)['config.json']));
    expect(cfg.config.layers.map((l: { name: string }) => l.name)).toEqual(kerasCfg.config.layers.map((l: { name: string }) => l.name));
    model.dispose();
  });

  it('a model made here (GRU resetAfter true and false, LSTM unitForgetBias false, Bidirectional) round-trips through .keras bit-identically', async () => {
    const model = rnn.sequential({ name: 'made_here', seed: 5, layers: [
      rnn.layers.gru({ units: 4, returnSequences: true, inputShape: [null, 2] }),
      rnn.layers.gru({ units: 3, returnSequences: true, resetAfter: false }),
      rnn.layers.bidirectional({ layer: rnn.layers.lstm({ units: 2, unitForgetBias: false }), mergeMode: 'concat' }),
      rnn.layers.dense({ units: 1 }),
    ] });
    const art = await artifactsOf(model);
    const [file] = await encodeKeras(art);
    const back = await decodeKeras([file!], 'made_here');
    expect(back.json.modelTopology.config.layers.map((l) => [l.className, l.config.resetAfter ?? (l.config.layer as { config: Record<string, unknown> } | undefined)?.config.unitForgetBias])).toEqual([
      ['GRU', true], ['GRU', false], ['Bidirectional', false], ['Dense', undefined],
    ]);
    const again = await modelFromArtifacts(back);
    const x = { data: values(3 * 4 * 2, 8, -2, 2), shape: [3, 4, 2] };
    expect(asHost(await again.predict(x)).data).toEqual(asHost(await model.predict(x)).data);
    model.dispose();
    again.dispose();
  });
});
