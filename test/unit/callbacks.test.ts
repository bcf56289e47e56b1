/**
 * Callbacks (src/callbacks.ts) with Keras 3 semantics: the decision logic of earlyStopping,
 * reduceLROnPlateau and modelCheckpoint on scripted logs (stub model, no GPU), the loggers' text,
 * atomic file writes, and on the real GPU: terminateOnNaN stopping a diverging run with finite
 * last-good weights, clipping keeping a relu network (Dense and SimpleRNN) stable where plain SGD
 * explodes, reduceLROnPlateau changing the learning rate the GPU update uses, and earlyStopping
 * with restoreBestWeights inside fit().
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as rnn from '../../src/index';
import type { CallbackModel } from '../../src/callbacks';
import type { HostTensor } from '../../src/host';
import { randomArray } from '../helpers/rng';
import { expectClose } from '../helpers/compare';
import { EXACT } from '../helpers/tolerances';

/** A model stand-in whose "weights" are one number, the epoch at which they were last set. */
function stub(optimizer: rnn.Optimizer | null = null) {
  let w = 0;
  const m: CallbackModel & { epoch: number; restored: number | null } = {
    stopTraining: false,
    optimizer,
    weightNames: ['w'],
    epoch: 0,
    restored: null,
    async getWeights(): Promise<HostTensor[]> {
      return [{ data: Float32Array.of(w), shape: [1] }];
    },
    async setWeights(ws: HostTensor[]) {
      m.restored = ws[0]!.data[0]!;
      w = m.restored;
    },
  };
  return { m, setW: (v: number) => (w = v) };
}

/** Runs a callback over scripted epoch logs like fit() does; returns the number of epochs run. */
async function script(cb: rnn.BaseCallback, model: ReturnType<typeof stub>, values: number[], key = 'val_loss'): Promise<number> {
  cb.setModel(model.m);
  const c = cb as rnn.BaseCallback & { onTrainBegin?(): unknown; onEpochEnd?(e: number, l: Record<string, number>): unknown; onTrainEnd?(): unknown };
  await c.onTrainBegin?.();
  let e = 0;
  for (; e < values.length && !model.m.stopTraining; e++) {
    model.setW(e);
    await c.onEpochEnd?.(e, { loss: 1, [key]: values[e]! });
  }
  await c.onTrainEnd?.();
  return e;
}

describe('earlyStopping (Keras 3 semantics)', () => {
  it('patience counts epochs without improvement; never stops at epoch 0', async () => {
    const s = stub();
    expect(await script(rnn.callbacks.earlyStopping({ patience: 2 }), s, [5, 4, 4.5, 4.2, 3, 2])).toBe(4);
    const s0 = stub();
    expect(await script(rnn.callbacks.earlyStopping(), s0, [5, 6, 7])).toBe(2); // patience 0: stops at epoch 1
  });

  it('minDelta: smaller changes are no improvement', async () => {
    const s = stub();
    const cb = rnn.callbacks.earlyStopping({ patience: 1, minDelta: 0.5 });
    expect(await script(cb, s, [5, 4.8, 4.6, 4.4, 1])).toBe(2);
    expect(cb.stoppedEpoch).toBe(1);
  });

  it('restoreBestWeights restores the best epoch at the end; mode max and baseline', async () => {
    const s = stub();
    await script(rnn.callbacks.earlyStopping({ patience: 2, restoreBestWeights: true }), s, [5, 3, 4, 4, 4]);
    expect(s.m.restored).toBe(1);
    const sMax = stub();
    expect(await script(rnn.callbacks.earlyStopping({ monitor: 'val_acc', patience: 1 }), sMax, [0.1, 0.2, 0.15, 0.1], 'val_acc')).toBe(3);
    // an improvement that does not beat the baseline does not reset the wait
    expect(await script(rnn.callbacks.earlyStopping({ patience: 2 }), stub(), [5, 6, 7, 8])).toBe(3);
    expect(await script(rnn.callbacks.earlyStopping({ patience: 2, baseline: 1 }), stub(), [5, 6, 7, 8])).toBe(2);
  });
});

describe('reduceLROnPlateau (Keras 3 semantics)', () => {
  it('the weather lesson setting: factor 0.1, minLr 1e-4, patience 0', async () => {
    const opt = rnn.optimizers.adam({ learningRate: 0.01 });
    const s = stub(opt);
    const cb = rnn.callbacks.reduceLROnPlateau({ factor: 0.1, minLr: 1e-4, patience: 0 });
    const lrs: number[] = [];
    cb.setModel(s.m);
    cb.onTrainBegin();
    for (const [e, v] of [5, 4, 4.5, 4.6, 3, 3.5, 3.6].entries()) {
      const logs: Record<string, number> = { val_loss: v };
      cb.onEpochEnd(e, logs);
      lrs.push(logs.learning_rate!);
    }
    expect(lrs.map((v) => Number(v.toPrecision(6)))).toEqual([0.01, 0.01, 0.01, 0.001, 0.0001, 0.0001, 0.0001]);
    expect(opt.learningRate).toBeCloseTo(1e-4, 12);
  });

  it('patience and cooldown', async () => {
    const opt = rnn.optimizers.sgd({ learningRate: 1 });
    const cb = rnn.callbacks.reduceLROnPlateau({ factor: 0.5, patience: 1, cooldown: 2, monitor: 'loss' });
    cb.setModel(stub(opt).m);
    cb.onTrainBegin();
    const lr: number[] = [];
    for (const [e, v] of [1, 1, 1, 1, 1, 1, 1].entries()) {
      cb.onEpochEnd(e, { loss: v });
      lr.push(opt.learningRate);
    }
    // Keras: reduce once wait >= patience; cooldown 2 is decremented before the check of the same
    // epoch, so one epoch is skipped between reductions
    expect(lr).toEqual([1, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125]);
  });

  it('an optimizer with a schedule cannot be reduced (as in Keras)', () => {
    const opt = rnn.optimizers.sgd({ learningRate: rnn.optimizers.schedules.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 }) });
    const cb = rnn.callbacks.reduceLROnPlateau({ patience: 0, monitor: 'loss' });
    cb.setModel(stub(opt).m);
    cb.onTrainBegin();
    cb.onEpochEnd(0, { loss: 1 });
    expect(() => cb.onEpochEnd(1, { loss: 1 })).toThrow(/schedule .* cannot be set/);
  });
});

describe('modelCheckpoint, loggers and files', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('saveBestOnly keeps the best epoch in memory', async () => {
    const target: rnn.MemoryCheckpoint = { weights: null };
    const cb = rnn.callbacks.modelCheckpoint({ target, saveBestOnly: true });
    await script(cb, stub(), [3, 2, 2.5, 1, 4]);
    expect(cb.savedEpochs).toEqual([0, 1, 3]);
    expect(target.epoch).toBe(3);
    expect(target.weights![0]!.data[0]).toBe(3);
    expect((await rnn.readCheckpoint(target))[0]!.data[0]).toBe(3);
  });

  it('csvLogger and historyLogger text (Keras CSV layout: epoch, sorted keys)', async () => {
    const csv = rnn.callbacks.csvLogger();
    const json = rnn.callbacks.historyLogger();
    for (const cb of [csv, json]) await script(cb, stub(), [0.5, 0.25]);
    expect(csv.text).toBe('epoch,loss,val_loss\n0,1,0.5\n1,1,0.25\n');
    expect(JSON.parse(json.text)).toEqual({ epoch: [0, 1], history: { loss: [1, 1], val_loss: [0.5, 0.25] } });
  });

  it('files are written atomically (temp file + rename) and read back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'webgpu-rnn-cb-'));
    dirs.push(dir);
    const path = join(dir, 'best.json'), csvPath = join(dir, 'log.csv');
    const ck = rnn.callbacks.modelCheckpoint({ target: path, saveBestOnly: true });
    const csv = rnn.callbacks.csvLogger({ filename: csvPath, separator: ';' });
    await script(ck, stub(), [3, 1, 2]);
    await script(csv, stub(), [3, 1]);
    expect((await rnn.readCheckpoint(path))[0]!.data[0]).toBe(1);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ format: 'webgpu-rnn-weights', epoch: 1, weights: [{ name: 'w', shape: [1], data: [1] }] });
    expect(await readFile(csvPath, 'utf8')).toBe('epoch;loss;val_loss\n0;1;3\n1;1;1\n');
    const again = rnn.callbacks.csvLogger({ filename: csvPath, separator: ';', append: true });
    await script(again, stub(), [7]);
    expect(await readFile(csvPath, 'utf8')).toBe('epoch;loss;val_loss\n0;1;3\n1;1;1\n0;1;7\n');
    expect((await readdir(dir)).sort()).toEqual(['best.json', 'log.csv']); // no temp files left
    await expect(rnn.readCheckpoint(join(dir, 'missing.json'))).rejects.toThrow(/no file/);
  });

  it('bad options give clear errors naming the option', () => {
    expect(() => rnn.callbacks.earlyStopping({ patience: -1 })).toThrow(/earlyStopping: patience must be a non-negative integer/);
    expect(() => rnn.callbacks.earlyStopping({ mode: 'up' as 'max' })).toThrow(/mode must be 'auto', 'min' or 'max'/);
    expect(() => rnn.callbacks.reduceLROnPlateau({ factor: 1 })).toThrow(/reduceLROnPlateau: factor must be a number in \(0, 1\), got 1/);
    expect(() => rnn.callbacks.reduceLROnPlateau({ minLr: -1 })).toThrow(/minLr must be/);
    expect(() => rnn.callbacks.reduceLROnPlateau({ cooldown: 1.5 })).toThrow(/cooldown must be a non-negative integer/);
    expect(() => rnn.callbacks.modelCheckpoint({ target: 5 as unknown as string })).toThrow(/target must be a URL \('file:\/\/path', 'indexeddb:\/\/name'\), an IO handler, a file path or an object/);
    expect(() => rnn.callbacks.csvLogger({ separator: ';;' })).toThrow(/separator must be one character/);
  });
});

describe('callbacks in fit() on the GPU', () => {
  const N = 64, I = 4;
  const xs = Float32Array.from(randomArray(N * I, 1, -3, 3));
  const X = { data: xs, shape: [N, I] };
  const Y = { data: Float32Array.from({ length: N }, (_, r) => xs[r * I]! * 2 - xs[r * I + 1]! + 0.5), shape: [N, 1] };
  const reluNet = (optimizer: rnn.Optimizer) => {
    const model = rnn.sequential({ layers: [rnn.layers.dense({ units: 16, activation: 'relu', inputShape: [I] }), rnn.layers.dense({ units: 1 })], seed: 4 });
    model.compile({ optimizer, loss: 'mse' });
    return model;
  };
  const finite = (ws: HostTensor[]) => ws.every((w) => w.data.every(Number.isFinite));

  it('terminateOnNaN stops a diverging run (SGD, large lr) and keeps the last good weights', async () => {
    const model = reluNet(rnn.optimizers.sgd({ learningRate: 0.2 }));
    const good: HostTensor[][] = [];
    const recorder = {
      async onTrainBegin() {
        good.push(await model.getWeights());
      },
      async onEpochEnd(_e: number, logs: Record<string, number>) {
        const ws = await model.getWeights();
        if (Number.isFinite(logs.loss!) && finite(ws)) good.push(ws);
      },
    };
    const guard = rnn.callbacks.terminateOnNaN();
    const h = await model.fit(X, Y, { epochs: 30, batchSize: 16, callbacks: [recorder, guard] });
    const loss = h.history.loss!;
    expect(loss.length).toBeLessThan(30);
    expect(Number.isFinite(loss.at(-1)!)).toBe(false);
    expect(guard.stoppedEpoch).toBe(loss.length - 1);
    const ws = await model.getWeights();
    expect(finite(ws)).toBe(true);
    const last = good.at(-1)!;
    ws.forEach((w, i) => expectClose(w.data, last[i]!.data, EXACT, `weight ${i}`));
    // the restored model is usable: its loss is finite
    expect(Number.isFinite((await model.evaluate(X, Y)) as number)).toBe(true);
    model.dispose();
  });

  for (const clip of [{ clipvalue: 0.5 }, { globalClipnorm: 1 }, { clipnorm: 1 }]) {
    it(`the same relu Dense network trains stably with ${JSON.stringify(clip)}`, async () => {
      const model = reluNet(rnn.optimizers.sgd({ learningRate: 0.2, ...clip }));
      const h = await model.fit(X, Y, { epochs: 12, batchSize: 16 });
      const loss = h.history.loss!;
      expect(loss.every(Number.isFinite)).toBe(true);
      expect(loss.at(-1)!).toBeLessThan(loss[0]! / 4);
      expect(finite(await model.getWeights())).toBe(true);
      model.dispose();
    });
  }

  it('SimpleRNN(relu) with lr 1: plain SGD explodes to NaN, globalClipnorm trains stably', async () => {
    const T = 20;
    const seq = Float32Array.from(randomArray(N * T, 2, -3, 3));
    const Xs = { data: seq, shape: [N, T, 1] };
    const Ys = { data: Float32Array.from({ length: N }, (_, r) => seq[r * T + T - 1]!), shape: [N, 1] };
    const losses: number[][] = [];
    for (const clip of [{}, { globalClipnorm: 1 }]) {
      const model = rnn.sequential({ layers: [rnn.layers.simpleRNN({ units: 16, activation: 'relu', inputShape: [T, 1] }), rnn.layers.dense({ units: 1 })], seed: 4 });
      model.compile({ optimizer: rnn.optimizers.sgd({ learningRate: 1, ...clip }), loss: 'mse' });
      losses.push((await model.fit(Xs, Ys, { epochs: 8, batchSize: 16, callbacks: [rnn.callbacks.terminateOnNaN()] })).history.loss!);
      model.dispose();
    }
    expect(losses[0]!.some((v) => !Number.isFinite(v))).toBe(true);
    expect(losses[1]!.every(Number.isFinite)).toBe(true);
    expect(losses[1]!.at(-1)!).toBeLessThan(losses[1]![0]!);
  });

  it('reduceLROnPlateau changes the learning rate the GPU update uses from the next step on', async () => {
    const make = () => reluNet(rnn.optimizers.sgd({ learningRate: 0.01, momentum: 0.5 }));
    const a = make();
    // minDelta 1e9: only the first epoch counts as an improvement, so the lr drops after epochs 1 and 2
    const h = await a.fit(X, Y, { epochs: 3, batchSize: 16, shuffle: false, callbacks: [rnn.callbacks.reduceLROnPlateau({ monitor: 'loss', patience: 0, minDelta: 1e9, factor: 0.1 })] });
    expect(h.history.learning_rate!.map((v) => Number(v.toPrecision(6)))).toEqual([0.01, 0.01, 0.001]);
    expect(a.optimizer!.learningRate).toBeCloseTo(0.0001, 12);
    const b = make();
    await b.fit(X, Y, { epochs: 2, batchSize: 16, shuffle: false });
    b.optimizer!.learningRate = 0.001;
    await b.fit(X, Y, { epochs: 1, batchSize: 16, shuffle: false });
    const [wa, wb] = [await a.getWeights(), await b.getWeights()];
    wa.forEach((w, i) => expectClose(w.data, wb[i]!.data, EXACT, `weight ${i}`));
    a.dispose();
    b.dispose();
  });

  it('earlyStopping with restoreBestWeights and a modelCheckpoint inside fit()', async () => {
    const model = reluNet(rnn.optimizers.sgd({ learningRate: 0.01 }));
    const saved: rnn.MemoryCheckpoint = { weights: null };
    const es = rnn.callbacks.earlyStopping({ monitor: 'loss', patience: 1, minDelta: 1e9, restoreBestWeights: true });
    const ck = rnn.callbacks.modelCheckpoint({ target: saved });
    const atEpoch0: HostTensor[][] = [];
    const rec = { async onEpochEnd(e: number) { if (e === 0) atEpoch0.push(await model.getWeights()); } };
    const h = await model.fit(X, Y, { epochs: 10, batchSize: 16, callbacks: [rec, es, ck] });
    expect(h.epoch).toEqual([0, 1]);
    expect(es.stoppedEpoch).toBe(1);
    expect(saved.epoch).toBe(1); // saved every epoch
    const ws = await model.getWeights();
    ws.forEach((w, i) => expectClose(w.data, atEpoch0[0]![i]!.data, EXACT, `restored weight ${i}`));
    model.dispose();
  });
});
