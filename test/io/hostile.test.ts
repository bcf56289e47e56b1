/**
 * Bad and hostile files for the TensorFlow.js and Keras readers: each fails with an error that
 * names the file and the problem (byte counts, dataset paths, weight names), before anything is
 * allocated from a declared size. No GPU: the readers only make artifacts.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync, zipSync } from 'fflate';
import { decodeTfjs, encodeTfjs } from '../../src/io/tfjs-format';
import { decodeKeras, decodeKerasWeights, encodeKerasWeights } from '../../src/io/keras-format';
import { writeHdf5, ensureGroup } from '../../src/io/hdf5';
import { FORMAT, FORMAT_VERSION, type ModelArtifacts, type ModelJSON, type NamedFile, type TopologyJSON } from '../../src/io/artifacts';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = (name: string): NamedFile => ({ name, bytes: new Uint8Array(readFileSync(join(here, 'fixtures/keras', name))) });
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const dec = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b));

/** A small Sequential (LSTM 2 → Dense 1 on 3 features) as artifacts, weights 0.1, 0.2, … */
function smallArtifacts(units = 2): ModelArtifacts {
  const topology: TopologyJSON = {
    className: 'Sequential',
    config: {
      name: 'small', seed: 1, inputShape: [null, 3],
      layers: [
        { className: 'LSTM', name: 'lstm', trainable: true, config: { name: 'lstm', units, inputShape: [null, 3], recurrentActivation: 'sigmoid' } },
        { className: 'Dense', name: 'dense', trainable: true, config: { name: 'dense', units: 1 } },
      ],
    },
  };
  const shapes: [string, number[]][] = [['lstm/kernel', [3, 4 * units]], ['lstm/recurrent_kernel', [units, 4 * units]], ['lstm/bias', [4 * units]], ['dense/kernel', [units, 1]], ['dense/bias', [1]]];
  const n = shapes.reduce((s, [, sh]) => s + sh.reduce((a, b) => a * b, 1), 0);
  const data = Float32Array.from({ length: n }, (_, i) => (i + 1) / 10);
  const json: ModelJSON = {
    format: FORMAT, formatVersion: FORMAT_VERSION, generatedBy: 'test', modelTopology: topology,
    weightsManifest: [{ paths: ['weights.bin'], weights: shapes.map(([name, shape]) => ({ name, shape, dtype: 'float32' as const })) }],
  };
  return { json, weightData: data.buffer };
}

const tfjsFiles = () => encodeTfjs(smallArtifacts());
const withJson = (files: NamedFile[], edit: (j: Record<string, any>) => void): NamedFile[] => files.map((f) => {
  if (f.name !== 'model.json') return f;
  const j = dec(f.bytes);
  edit(j);
  return { name: f.name, bytes: enc(j) };
});

describe('TensorFlow.js files', () => {
  it('reads its own files back (the baseline of the cases below)', () => {
    const art = decodeTfjs(tfjsFiles(), 'ok');
    expect(new Float32Array(art.weightData)).toEqual(new Float32Array(smallArtifacts().weightData));
  });

  it('a truncated weights file: names the file and both byte counts', () => {
    const files = tfjsFiles().map((f) => (f.name.endsWith('.bin') ? { ...f, bytes: f.bytes.subarray(0, 100) } : f));
    expect(() => decodeTfjs(files, 'trunc')).toThrow(/group1-shard1of1\.bin has 100 bytes but the manifest's weights need 204 \(truncated\?\)/);
  });

  it('a missing weights file and a truncated model.json', () => {
    expect(() => decodeTfjs(tfjsFiles().slice(0, 1), 'nobin')).toThrow(/weights file 'group1-shard1of1\.bin' is missing/);
    const cut = tfjsFiles().map((f) => (f.name === 'model.json' ? { ...f, bytes: f.bytes.subarray(0, 40) } : f));
    expect(() => decodeTfjs(cut, 'cut')).toThrow(/model\.json: not valid JSON/);
  });

  it('a weight whose shape does not fit the topology: names the weight and both shapes', () => {
    const files = withJson(tfjsFiles(), (j) => { j.weightsManifest[0].weights[0].shape = [8, 3]; });
    expect(() => decodeTfjs(files, 'shape')).toThrow(/weight 'lstm\/kernel' .*has shape \[8, 3\] but the topology needs \[3, 8\]/);
  });

  it('a declared size of terabytes: refused from the manifest, nothing allocated', () => {
    const files = withJson(tfjsFiles(), (j) => { j.weightsManifest[0].weights[0].shape = [1e6, 1e6]; });
    expect(() => decodeTfjs(files, 'huge')).toThrow(/more than 2\^31 elements/);
    const files2 = withJson(tfjsFiles(), (j) => { j.weightsManifest[0].weights[0].shape = [65536, 32768]; });
    expect(() => decodeTfjs(files2, 'huge2')).toThrow(/has 204 bytes but the manifest's weights need 8589934700/);
  });

  it('an unknown layer class, an unsupported activation', () => {
    const files = withJson(tfjsFiles(), (j) => { j.modelTopology.config.layers[0].class_name = 'ConvLSTM2D'; });
    expect(() => decodeTfjs(files, 'cls')).toThrow(/unknown layer class 'ConvLSTM2D'/);
    const files2 = withJson(tfjsFiles(), (j) => { j.modelTopology.config.layers[1].config.activation = 'softmax'; });
    expect(() => decodeTfjs(files2, 'act')).toThrow(/Dense 'dense'.*activation "softmax" is not supported/);
  });

  it('NaN weights: refused with the weight name', () => {
    const files = tfjsFiles().map((f) => {
      if (!f.name.endsWith('.bin')) return f;
      const b = new Uint8Array(f.bytes);
      new Float32Array(b.buffer)[40] = NaN; // in lstm/bias
      return { ...f, bytes: b };
    });
    expect(() => decodeTfjs(files, 'nan')).toThrow(/weight 'lstm\/bias' has NaN at element 0/);
  });

  it('JSON of the wrong kind, not JSON, a graph model', () => {
    expect(() => decodeTfjs([{ name: 'model.json', bytes: enc({ hello: 'world' }) }], 'wrong')).toThrow(/model\.json: no modelTopology .*not a TensorFlow\.js layers model/);
    expect(() => decodeTfjs([{ name: 'model.json', bytes: enc([1, 2]) }], 'arr')).toThrow(/model\.json: expected a JSON object, got an array/);
    expect(() => decodeTfjs([{ name: 'model.json', bytes: new TextEncoder().encode('hello') }], 'txt')).toThrow(/model\.json: not valid JSON/);
    expect(() => decodeTfjs([{ name: 'model.json', bytes: new Uint8Array([0x89, 0x48, 0x44, 0x46, 0xff]) }], 'bin')).toThrow(/model\.json: not UTF-8 text/);
    expect(() => decodeTfjs([{ name: 'model.json', bytes: enc({ format: 'graph-model', modelTopology: {} }) }], 'graph')).toThrow(/graph model/);
  });
});

describe('Keras files', () => {
  const rezip = (file: NamedFile, edit: (entries: Record<string, Uint8Array>) => void): NamedFile => {
    const entries = unzipSync(file.bytes);
    edit(entries);
    return { name: file.name, bytes: zipSync(entries, { level: 0 }) };
  };

  it('wrong magic and truncation, for .keras and .weights.h5', async () => {
    await expect(decodeKeras([{ name: 'x.keras', bytes: enc({ not: 'a zip' }) }], 'magic')).rejects.toThrow(/x\.keras: not a zip archive/);
    const k = fixture('seq.keras');
    await expect(decodeKeras([{ name: k.name, bytes: k.bytes.subarray(0, k.bytes.byteLength >> 1) }], 'half')).rejects.toThrow(/seq\.keras: damaged or truncated zip archive \(\d+ bytes\)/);
    const target = (await decodeKeras([k], 'seq')).json;
    const h = fixture('seq.weights.h5');
    await expect(decodeKerasWeights([{ name: h.name, bytes: h.bytes.subarray(0, 3000) }], target, 'h5half')).rejects.toThrow(/seq\.weights\.h5: damaged or truncated HDF5 file \(3000 bytes\)/);
    await expect(decodeKerasWeights([{ name: 'w.weights.h5', bytes: enc({ a: 'not an HDF5 file' }) }], target, 'h5magic')).rejects.toThrow(/w\.weights\.h5: not an HDF5 file \(no HDF5 signature/);
  });

  it('an absurd declared entry size (zip bomb) is refused before inflating', async () => {
    const k = fixture('seq.keras');
    const b = new Uint8Array(k.bytes);
    // the central directory entry of config.json claims 4 GB uncompressed
    const view = new DataView(b.buffer);
    for (let i = 0; i + 46 < b.byteLength; i++) {
      if (view.getUint32(i, true) !== 0x02014b50) continue;
      const nameLen = view.getUint16(i + 28, true);
      if (new TextDecoder().decode(b.subarray(i + 46, i + 46 + nameLen)) === 'config.json') view.setUint32(i + 24, 0xfffffff0, true);
    }
    await expect(decodeKeras([{ name: 'bomb.keras', bytes: b }], 'bomb')).rejects.toThrow(/bomb\.keras: entry 'config\.json' declares 4294967280 bytes/);
    const bomb = zipSync({ 'config.json': new Uint8Array(8 << 20), 'model.weights.h5': new Uint8Array(8) }, { level: 9 });
    await expect(decodeKeras([{ name: 'ratio.keras', bytes: bomb }], 'ratio')).rejects.toThrow(/ratio\.keras: entry 'config\.json' declares 8388608 bytes from \d+ stored: refused/);
  });

  it('a dataset declaring terabytes: refused with its path, before its values are read', async () => {
    const art = smallArtifacts();
    const [good] = await encodeKerasWeights(art);
    expect(good!.name).toBe('model.weights.h5');
    const huge = await writeHdf5((f) => {
      ensureGroup(f, 'layers/lstm/vars').create_attribute('name', 'lstm');
      const cell = ensureGroup(f, 'layers/lstm/cell/vars');
      const d = cell.create_dataset({ name: '0', data: new Float32Array(4), shape: [2, 2], dtype: '<f', maxshape: [null, null], chunks: [2, 2] });
      d.resize([1 << 20, 1 << 20]);
      cell.create_dataset({ name: '1', data: new Float32Array(16), shape: [2, 8], dtype: '<f' });
      cell.create_dataset({ name: '2', data: new Float32Array(8), shape: [8], dtype: '<f' });
      const dv = ensureGroup(f, 'layers/dense/vars');
      dv.create_dataset({ name: '0', data: new Float32Array(2), shape: [2, 1], dtype: '<f' });
      dv.create_dataset({ name: '1', data: new Float32Array(1), shape: [1], dtype: '<f' });
    });
    await expect(decodeKerasWeights([{ name: 'huge.weights.h5', bytes: huge }], art.json, 'huge')).rejects.toThrow(/huge\.weights\.h5: dataset 'layers\/lstm\/cell\/vars\/0' declares shape \[1048576, 1048576\] \(4398046511104 bytes\) but the file has only \d+ bytes/);
  });

  it('shapes that do not fit the model, a file for another model, NaN weights', async () => {
    const [w] = await encodeKerasWeights(smallArtifacts(2));
    await expect(decodeKerasWeights([w!], smallArtifacts(3).json, 'units')).rejects.toThrow(/weight 'lstm\/kernel' \(model\.weights\.h5:\/layers\/lstm\/cell\/vars\/0\) has shape \[3, 8\] but the topology needs \[3, 12\]/);
    const seqTarget = (await decodeKeras([fixture('seq.keras')], 'seq')).json;
    await expect(decodeKerasWeights([fixture('fn.weights.h5')], seqTarget, 'other')).rejects.toThrow(/fn\.weights\.h5: the file has layer\(s\) 'layers\/add'.* that the model does not have/);
    const nan = smallArtifacts();
    new Float32Array(nan.weightData)[48] = NaN; // dense/kernel[0]
    const [wn] = await encodeKerasWeights(nan);
    await expect(decodeKerasWeights([wn!], nan.json, 'nan')).rejects.toThrow(/weight 'dense\/kernel' has NaN at element 0/);
  });

  it('an unknown layer class and a JSON of the wrong kind in config.json', async () => {
    const bad = rezip(fixture('seq.keras'), (e) => {
      const c = dec(e['config.json']!);
      c.config.layers[2].class_name = 'ConvLSTM1D';
      e['config.json'] = enc(c);
    });
    await expect(decodeKeras([bad], 'cls')).rejects.toThrow(/seq\.keras\/config\.json: layer 2 \(ConvLSTM1D 'lstm'\): unknown layer class 'ConvLSTM1D'/);
    const wrong = rezip(fixture('seq.keras'), (e) => { e['config.json'] = enc({ modelTopology: {}, format: 'layers-model' }); });
    await expect(decodeKeras([wrong], 'kind')).rejects.toThrow(/config\.json: not a Keras model config/);
    const noWeights = rezip(fixture('seq.keras'), (e) => { delete e['model.weights.h5']; });
    await expect(decodeKeras([noWeights], 'now')).rejects.toThrow(/the archive has no model\.weights\.h5/);
  });
});
