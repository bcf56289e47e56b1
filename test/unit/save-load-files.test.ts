// Saved models on disk (file://) and bad or hostile files: atomic writes, clear errors naming the
// file and the problem, the model in memory unchanged, nothing written half.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as rnn from '../../src/index';
import type { NamedFile } from '../../src/io/artifacts';

let dir = '';
let model: rnn.Sequential;
let files: NamedFile[];
const x = [[[0.1, 0.2], [0.3, 0.4], [0.5, -0.6]]];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webgpu-rnn-files-'));
  model = rnn.sequential({ seed: 5, name: 'saved', layers: [rnn.layers.lstm({ units: 3, inputShape: [null, 2] }), rnn.layers.dense({ units: 1 })] });
  model.compile({ optimizer: 'adam', loss: 'mse' });
  await model.fit(x, [[0.5]], { epochs: 1 });
  const mem = rnn.io.memory();
  await model.save(mem);
  files = mem.files!;
});
afterAll(async () => {
  model.dispose();
  await rm(dir, { recursive: true, force: true });
});

const json = () => JSON.parse(new TextDecoder().decode(files[0]!.bytes));
const withJson = (doc: unknown, rest = files.slice(1)): NamedFile[] => [{ name: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(doc)) }, ...rest];
const load = (fs: NamedFile[]) => rnn.loadModel(rnn.io.memory(fs));

describe('file://', () => {
  it('a folder: model.json + weights.bin, loaded back with the same predictions; saving again replaces it whole', async () => {
    const target = join(dir, 'forecaster');
    const r = await model.save(`file://${target}`);
    expect(r.files.map((f) => f.name)).toEqual(['model.json', 'weights.bin']);
    expect((await readdir(target)).sort()).toEqual(['model.json', 'weights.bin']);
    const again = await rnn.loadModel(`file://${target}`);
    expect(Array.from((await again.predict(x) as rnn.HostTensor).data)).toEqual(Array.from((await model.predict(x)).data));
    await writeFile(join(target, 'stale.txt'), 'old');
    await model.save(`file://${target}`);
    expect((await readdir(target)).sort()).toEqual(['model.json', 'weights.bin']); // the old folder went whole
    expect((await readdir(dir)).filter((n) => n.includes('.tmp-') || n.includes('.old-'))).toEqual([]);
    // loading model.json by its path works too
    const byFile = await rnn.loadModel(`file://${join(target, 'model.json')}`);
    expect(byFile.weightNames).toEqual(model.weightNames);
    again.dispose();
    byFile.dispose();
  });

  it('a missing folder fails before writing anything; a file where a folder should be is refused', async () => {
    await expect(model.save(`file://${join(dir, 'no', 'such', 'm')}`)).rejects.toThrow(/cannot save: the folder '.*no[/\\]such' does not exist/);
    await writeFile(join(dir, 'plain'), 'x');
    await expect(model.save(`file://${join(dir, 'plain')}`)).rejects.toThrow(/is a file; give a folder path/);
    expect(await readFile(join(dir, 'plain'), 'utf8')).toBe('x');
    await expect(rnn.loadModel(`file://${join(dir, 'absent')}`)).rejects.toThrow(/cannot load: '.*absent' does not exist/);
    await mkdir(join(dir, 'empty'));
    await expect(rnn.loadModel(`file://${join(dir, 'empty')}`)).rejects.toThrow(/has no model.json/);
  });

  it('URLs and handlers are checked', async () => {
    await expect(model.save('/tmp/x' as never)).rejects.toThrow(/has no scheme; use one of file:\/\//);
    await expect(model.save('ftp://host/x')).rejects.toThrow(/unknown scheme 'ftp:\/\/'/);
    await expect(model.save('https://example.com/m')).rejects.toThrow(/can only be loaded from/);
    await expect(model.save('downloads://m')).rejects.toThrow(/downloads:\/\/ needs a browser page/);
    await expect(model.save('indexeddb://m')).rejects.toThrow(/indexeddb:\/\/ needs a browser page/);
    await expect(model.save(rnn.io.memory(), { format: 'onnx' } as never)).rejects.toThrow(/unknown format 'onnx'/);
    await expect(model.save(rnn.io.memory(), { includeOptimiser: true } as never)).rejects.toThrow(/unknown option 'includeOptimiser' \(did you mean 'includeOptimizer'\?\)/);
  });
});

describe('bad and hostile files: a clear error naming the file, nothing loaded', () => {
  it('truncated or too long weights', async () => {
    const w = files[1]!;
    await expect(load([files[0]!, { name: w.name, bytes: w.bytes.slice(0, w.bytes.length - 8) }])).rejects.toThrow(/model.json: weightsManifest\[0\] lists \d+ bytes of weights but weights.bin holds \d+ bytes \(truncated/);
    await expect(load([files[0]!, { name: w.name, bytes: new Uint8Array(w.bytes.length + 4) }])).rejects.toThrow(/too long/);
    await expect(load([files[0]!])).rejects.toThrow(/weights file 'weights.bin' \(weightsManifest\[0\]\) is missing/);
  });

  it('truncated JSON, wrong magic, a JSON of the wrong kind', async () => {
    await expect(load([{ name: 'model.json', bytes: files[0]!.bytes.slice(0, 100) }, files[1]!])).rejects.toThrow(/model.json: not valid JSON/);
    await expect(load([{ name: 'model.bin', bytes: new Uint8Array([1, 2, 3, 4, 5]) }])).rejects.toThrow(/model.bin \(5 bytes\): not a model file/);
    await expect(load(withJson({ name: 'my-app', version: '1.0.0' }))).rejects.toThrow(/not a webgpu-rnn model \(format missing/);
    await expect(load(withJson({ format: 'webgpu-rnn-weights', version: 1, weights: [] }))).rejects.toThrow(/not a webgpu-rnn model \(format "webgpu-rnn-weights"/);
    await expect(load(withJson([1, 2]))).rejects.toThrow(/model.json \(5 bytes\), weights.bin \(\d+ bytes\): not a model file/);
    await expect(load(withJson({ ...json(), formatVersion: 99 }))).rejects.toThrow(/format version 99, newer than this library reads/);
  });

  it('a declared size of terabytes is refused before anything is allocated', async () => {
    const doc = json();
    doc.weightsManifest[0].weights[0].shape = [1_000_000, 1_000_000];
    await expect(load(withJson(doc))).rejects.toThrow(/more than 2\^31 elements|more than 2 GiB/);
    doc.weightsManifest[0].weights[0].shape = [40000, 40000];
    await expect(load(withJson(doc))).rejects.toThrow(/more than 2 GiB|lists \d+ bytes/);
  });

  it('shapes that do not match the topology, unknown classes, bad references', async () => {
    const doc = json();
    const w0 = doc.weightsManifest[0].weights[0];
    w0.shape = [w0.shape[1], w0.shape[0]];
    await expect(load(withJson(doc))).rejects.toThrow(/weight 'lstm[^']*\/kernel' has shape \[12, 2\] in the file, but the model's is \[2, 12\]/);
    const d2 = json();
    d2.modelTopology.config.layers[0].className = 'LSMT';
    await expect(load(withJson(d2))).rejects.toThrow(/layers\[0\] \(lstm[^)]*\): unknown layer class 'LSMT' \(did you mean 'LSTM'\?\); a custom class must be registered/);
    const d3 = json();
    d3.modelTopology.config.layers[0].config.units = 'many';
    await expect(load(withJson(d3))).rejects.toThrow(/units must be a positive integer/);
    const d4 = json();
    d4.modelTopology.config.layers[0].config.returnSequense = true;
    await expect(load(withJson(d4))).rejects.toThrow(/unknown option 'returnSequense' \(did you mean 'returnSequences'\?\)/);
    const d5 = json();
    d5.modelTopology.className = 'Functional';
    await expect(load(withJson(d5))).rejects.toThrow(/className must be 'Sequential' or 'Model'/);
    const d6 = json();
    d6.weightsManifest[0].weights[1].name = d6.weightsManifest[0].weights[0].name;
    await expect(load(withJson(d6))).rejects.toThrow(/is listed twice/);
  });

  it('NaN weights are refused naming the weight', async () => {
    const bytes = files[1]!.bytes.slice();
    new DataView(bytes.buffer).setFloat32(4 * 5, NaN, true);
    await expect(load([files[0]!, { name: 'weights.bin', bytes }])).rejects.toThrow(/weight 'lstm[^']*\/kernel' has NaN at element 5/);
  });

  it('weight file names are plain names: no paths, no parent folders', async () => {
    for (const p of ['../../etc/passwd', '/etc/passwd', 'sub/w.bin', 'https://evil.example/w.bin']) {
      const doc = json();
      doc.weightsManifest[0].paths = [p];
      await expect(load(withJson(doc)), p).rejects.toThrow(/must be a plain file name beside the model JSON/);
    }
  });

  it('a failed loadWeights leaves the model as it was; a good one sets every weight', async () => {
    const before = await model.getWeights();
    const bytes = files[1]!.bytes.slice(0, 12);
    await expect(model.loadWeights(rnn.io.memory([files[0]!, { name: 'weights.bin', bytes }]))).rejects.toThrow(/truncated/);
    const other = rnn.sequential({ seed: 99, layers: [rnn.layers.gru({ units: 3, inputShape: [null, 2] }), rnn.layers.dense({ units: 1 })] });
    const mem = rnn.io.memory();
    await other.save(mem);
    await expect(model.loadWeights(mem)).rejects.toThrow(/no weight\(s\) lstm[^ ]*\/kernel/);
    const after = await model.getWeights();
    after.forEach((w, i) => expect(Array.from(w.data)).toEqual(Array.from(before[i]!.data)));
    // weights of a same-shaped model load
    const twin = rnn.sequential({ seed: 7, name: 'twin', layers: [rnn.layers.lstm({ units: 3, inputShape: [null, 2], name: model.layers[0]!.name }), rnn.layers.dense({ units: 1, name: model.layers[1]!.name })] });
    await twin.loadWeights(rnn.io.memory(files));
    expect(Array.from((await twin.predict(x)).data)).toEqual(Array.from((await model.predict(x)).data));
    other.dispose();
    twin.dispose();
  });

  it('an over-large file is refused by its size before it is read', async () => {
    const big = join(dir, 'big');
    await mkdir(big);
    await writeFile(join(big, 'model.json'), files[0]!.bytes);
    // a sparse file: 3 GiB declared, no data written
    const fh = await (await import('node:fs/promises')).open(join(big, 'weights.bin'), 'w');
    await fh.truncate(3 * 2 ** 30);
    await fh.close();
    expect((await stat(join(big, 'weights.bin'))).size).toBe(3 * 2 ** 30);
    await expect(rnn.loadModel(`file://${big}`)).rejects.toThrow(/weights.bin' is 3221225472 bytes, over the 2147483647-byte limit/);
  });
});

describe('modelCheckpoint writes whole models through the same path', () => {
  it('file:// with {epoch}: every epoch a loadable model; the checkpoint resumes exactly', async () => {
    const xs = [[[0.1, 0.2], [0.3, 0.4]], [[0.5, 0.1], [-0.2, 0.3]], [[0.0, 0.9], [0.4, -0.4]], [[0.7, 0.7], [0.1, 0.2]]];
    const ys = [[0.2], [0.1], [-0.3], [0.5]];
    const make = () => {
      const m = rnn.sequential({ seed: 8, layers: [rnn.layers.gru({ units: 3, dropout: 0.2, inputShape: [null, 2] }), rnn.layers.dense({ units: 1 })] });
      m.compile({ optimizer: rnn.optimizers.adam({ learningRate: 0.05 }), loss: 'mse' });
      return m;
    };
    const a = make();
    const target = `file://${join(dir, 'ckpt-{epoch}')}`;
    await a.fit(xs, ys, { epochs: 2, batchSize: 2, callbacks: [rnn.callbacks.modelCheckpoint({ target })] });
    expect((await readdir(dir)).filter((n) => n.startsWith('ckpt-')).sort()).toEqual(['ckpt-1', 'ckpt-2']);
    const b = await rnn.loadModel(`file://${join(dir, 'ckpt-2')}`);
    await a.fit(xs, ys, { epochs: 1, batchSize: 2 });
    await b.fit(xs, ys, { epochs: 1, batchSize: 2 });
    const wa = await a.getWeights();
    const wb = await b.getWeights();
    wa.forEach((w, i) => expect(Array.from(wb[i]!.data)).toEqual(Array.from(w.data)));
    a.dispose();
    b.dispose();
  });

  it('a bad whole-model target fails when fit starts, before any epoch', async () => {
    const m = rnn.sequential({ layers: [rnn.layers.dense({ units: 1, inputShape: [2] })] });
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    let epochs = 0;
    await expect(m.fit([[1, 2]], [[1]], { epochs: 2, callbacks: [rnn.callbacks.modelCheckpoint({ target: `file://${join(dir, 'missing', 'm')}` }), { onEpochEnd: () => void epochs++ }] })).rejects.toThrow(/modelCheckpoint: cannot write .*missing/);
    expect(epochs).toBe(0);
    expect(() => rnn.callbacks.modelCheckpoint({ target: 'file://x', format: 'pickle' } as never)).toThrow(/unknown format 'pickle'/);
    m.dispose();
  });
});

