/**
 * Checkpoint files against hostile and broken input (issue 16, reproducers 4, 8 and 10):
 * NaN/Inf weights are kept faithfully (not turned into 0) and setWeights refuses them naming the
 * weight; declared sizes are checked against the file's byte length before anything is allocated;
 * truncated or corrupt files name the file and the byte offset; a bad target path fails when fit
 * starts (before the first epoch), naming the path, and never leaves temporary files.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as rnn from '../../src/index';
import type { CallbackModel } from '../../src/callbacks';
import type { HostTensor } from '../../src/host';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'webgpu-rnn-ckpt-'));
  dirs.push(d);
  return d;
}

/** A model stand-in with fixed weights. */
function stub(weights: HostTensor[], names: string[]): CallbackModel {
  return {
    stopTraining: false,
    optimizer: null,
    weightNames: names,
    getWeights: async () => weights,
    setWeights: async () => {},
  };
}

const file = (weights: unknown[]) => JSON.stringify({ format: 'webgpu-rnn-weights', version: 1, epoch: 0, logs: {}, weights });

describe('NaN and Infinity in checkpoints (a diverged run) are kept, and setWeights refuses them', () => {
  it('a file keeps NaN/±Infinity; readCheckpoint returns them; setWeights names the weight and index', async () => {
    const dir = await tempDir();
    const path = join(dir, 'diverged.json');
    const ck = rnn.callbacks.modelCheckpoint({ target: path });
    ck.setModel(stub([{ data: Float32Array.of(1, NaN, Infinity, -Infinity), shape: [2, 2] }, { data: Float32Array.of(0.5), shape: [1] }], ['dense/kernel', 'dense/bias']));
    await ck.onTrainBegin();
    await ck.onEpochEnd(0, { loss: NaN });
    const json = JSON.parse(await readFile(path, 'utf8'));
    expect(json.weights[0].data).toEqual([1, 'NaN', 'Infinity', '-Infinity']);
    const back = await rnn.readCheckpoint(path);
    expect(Array.from(back[0]!.data)).toEqual([1, NaN, Infinity, -Infinity]);

    const model = rnn.sequential({ layers: [rnn.layers.dense({ units: 1, inputShape: [2] })], seed: 1 });
    const before = await model.getWeights();
    await expect(model.setWeights([{ data: back[0]!.data.subarray(0, 2), shape: [2, 1] }, back[1]!])).rejects.toThrow(/dense.*kernel.*NaN/);
    const after = await model.getWeights();
    expect(Array.from(after[0]!.data)).toEqual(Array.from(before[0]!.data)); // nothing changed
    await expect(model.setWeights([{ data: Float32Array.of(1, 2), shape: [2, 1] }, { data: Float32Array.of(Infinity), shape: [1] }])).rejects.toThrow(/bias.*Infinity/);
    model.dispose();
  });

  it('an in-memory checkpoint keeps NaN too', async () => {
    const target: rnn.MemoryCheckpoint = { weights: null };
    const ck = rnn.callbacks.modelCheckpoint({ target });
    ck.setModel(stub([{ data: Float32Array.of(NaN), shape: [1] }], ['w']));
    await ck.onTrainBegin();
    await ck.onEpochEnd(0, { loss: NaN });
    expect(Number.isNaN((await rnn.readCheckpoint(target))[0]!.data[0])).toBe(true);
  });

  it('a null value (how older versions wrote NaN) is refused, not read as 0', async () => {
    const path = join(await tempDir(), 'old.json');
    await writeFile(path, file([{ name: 'lstm/kernel', shape: [2], data: [0.5, null] }]));
    await expect(rnn.readCheckpoint(path)).rejects.toThrow(/old\.json.*weight 0 \("lstm\/kernel"\): value 1 is null, not a number/);
  });
});

describe('hostile checkpoint files are refused quickly, naming the file', () => {
  it('declared sizes larger than the file can hold are refused before allocating', async () => {
    const dir = await tempDir();
    const cases: [string, unknown, RegExp][] = [
      ['length-object.json', { name: 'w', shape: [500_000_000], data: { length: 500_000_000 } }, /length-object\.json.*shape \[500000000\] needs 500000000 values, more than a \d+-byte file can hold/],
      ['huge-shape.json', { name: 'w', shape: [100_000, 100_000], data: [1] }, /huge-shape\.json.*more than a \d+-byte file can hold/],
      ['data-object.json', { name: 'w', shape: [2], data: { length: 2 } }, /data-object\.json.*"data" must be a list of numbers/],
      ['short-data.json', { name: 'w', shape: [3], data: [1, 2] }, /short-data\.json.*"data" has 2 values but shape \[3\] needs 3/],
      ['bad-shape.json', { name: 'w', shape: [-1], data: [] }, /bad-shape\.json.*"shape" must be a list of at most 8 non-negative integers/],
      ['text-value.json', { name: 'w', shape: [1], data: ['constructor'] }, /text-value\.json.*value 0 is "constructor", not a number/],
      ['no-name.json', { shape: [1], data: [1] }, /no-name\.json.*weight 0 \(no name\): "name" must be a string/],
    ];
    for (const [name, weight, re] of cases) {
      const path = join(dir, name);
      await writeFile(path, file([weight]));
      await expect(rnn.readCheckpoint(path), name).rejects.toThrow(re);
    }
  });

  it('truncated or non-JSON files name the file and the byte offset', async () => {
    const dir = await tempDir();
    const text = file([{ name: 'w', shape: [3], data: [1, 2, 3] }]);
    const truncated = join(dir, 'truncated.json');
    await writeFile(truncated, text.slice(0, 60));
    await expect(rnn.readCheckpoint(truncated)).rejects.toThrow(/'[^']*truncated\.json' is not valid JSON at byte 60 \(the end: truncated\?\)/);
    const garbage = join(dir, 'garbage.json');
    await writeFile(garbage, '{"format": "webgpu-rnn-weights", ünïcode x}');
    await expect(rnn.readCheckpoint(garbage)).rejects.toThrow(/garbage\.json' is not valid JSON at byte \d+/);
    const other = join(dir, 'other.json');
    await writeFile(other, '{"format": "something-else"}');
    await expect(rnn.readCheckpoint(other)).rejects.toThrow(/other\.json.*not a webgpu-rnn weights file/);
    const version = join(dir, 'version.json');
    await writeFile(version, '{"format": "webgpu-rnn-weights", "version": 7, "weights": []}');
    await expect(rnn.readCheckpoint(version)).rejects.toThrow(/version\.json.*version 7 is not supported/);
  });

  it('a folder (or any non-regular file) is refused instead of read', async () => {
    const dir = await tempDir();
    await expect(rnn.readCheckpoint(dir)).rejects.toThrow(/not a regular file/);
  });
});

describe('bad checkpoint paths fail when fit starts, naming the path', () => {
  it('a missing folder fails in onTrainBegin, before the first epoch runs', async () => {
    const model = rnn.sequential({ layers: [rnn.layers.dense({ units: 1, inputShape: [2] })], seed: 1 });
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    let epochs = 0;
    const counter = { onEpochBegin: () => void epochs++ };
    const target = join(await tempDir(), 'missing', 'dir', 'w.json');
    const x = { data: Float32Array.of(1, 2, 3, 4), shape: [2, 2] }, y = { data: Float32Array.of(1, 2), shape: [2, 1] };
    await expect(model.fit(x, y, { epochs: 2, callbacks: [rnn.callbacks.modelCheckpoint({ target }), counter] })).rejects.toThrow(
      new RegExp(`modelCheckpoint: cannot write '${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}': the folder '.*missing/dir' does not exist`),
    );
    expect(epochs).toBe(0);
    // the model is still usable
    await model.fit(x, y, { epochs: 1 });
    model.dispose();
  });

  it('a target that is a folder, and the loggers, are checked the same way', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'taken'));
    const ck = rnn.callbacks.modelCheckpoint({ target: join(dir, 'taken') });
    ck.setModel(stub([], []));
    await expect(ck.onTrainBegin()).rejects.toThrow(/cannot write '.*taken': it is a folder/);
    const epochPath = rnn.callbacks.modelCheckpoint({ target: join(dir, 'nope', 'w-{epoch}.json') });
    await expect(epochPath.onTrainBegin()).rejects.toThrow(/w-1\.json': the folder '.*nope' does not exist/);
    await expect(rnn.callbacks.csvLogger({ filename: join(dir, 'nope', 'log.csv') }).onTrainBegin()).rejects.toThrow(/csvLogger: cannot write .*does not exist/);
    await expect(rnn.callbacks.historyLogger({ filename: join(dir, 'nope', 'h.json') }).onTrainBegin()).rejects.toThrow(/historyLogger: cannot write .*does not exist/);
  });

  it('a write that fails later (folder removed during training) names the target and leaves no temporary file', async () => {
    const dir = await tempDir();
    const sub = join(dir, 'sub');
    await mkdir(sub);
    const ck = rnn.callbacks.modelCheckpoint({ target: join(sub, 'w.json') });
    ck.setModel(stub([{ data: Float32Array.of(1), shape: [1] }], ['w']));
    await ck.onTrainBegin();
    await ck.onEpochEnd(0, { loss: 1 });
    expect(await readdir(sub)).toEqual(['w.json']);
    await rm(sub, { recursive: true });
    await expect(ck.onEpochEnd(1, { loss: 1 })).rejects.toThrow(/modelCheckpoint: cannot write '.*sub\/w\.json': the folder '.*sub' does not exist/);
    expect(await readdir(dir)).toEqual([]);
  });
});
