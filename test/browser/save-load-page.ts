/**
 * Saving and loading whole models in a page (test/browser/save-load.spec.ts): a small LSTM trained
 * here is saved to IndexedDB (`model.save('indexeddb://name')`), the spec reloads the page, and
 * the model comes back with `rnn.loadModel` — on the page and in a training Worker
 * (`trainer.loadModel`) — and predicts the same bits; `rnn.io.listModels` / `removeModel` manage
 * the stored ones; a model in a Worker saves through the page (`WorkerModel.save`).
 */
import * as rnn from '../../src/index';

const data = () => rnn.data.chapterData('1-step', { nSeries: 200 });
/** The exact bits of float32 outputs. */
const bits = (t: rnn.HostTensor | rnn.HostTensor[]) => Array.from(new Uint32Array((Array.isArray(t) ? t[0]! : t).data.slice().buffer));

/** Trains a small LSTM for one epoch, saves it under `name`; its predictions on the validation windows. */
async function trainAndSave(name: string) {
  const { train, valid } = data();
  const model = rnn.sequential({ layers: [rnn.layers.lstm({ units: 8, inputShape: [null, 1] }), rnn.layers.dense({ units: 1 })], seed: 3 });
  model.compile({ optimizer: 'adam', loss: 'mse' });
  await model.fit(train.x, train.y, { epochs: 1, batchSize: 32 });
  const y = bits(await model.predict(valid.x));
  const saved = await model.save(`indexeddb://${name}`);
  model.dispose();
  return { y, saved };
}

/** After a reload: the model from IndexedDB, on the page and in a Worker, and what the store lists. */
async function loadAndPredict(name: string) {
  const { valid } = data();
  const listed = await rnn.io.listModels();
  const model = await rnn.loadModel(`indexeddb://${name}`);
  const y = bits(await model.predict(valid.x));
  const summary = model.summary(null);
  model.dispose();
  // In a Worker: the page reads the files, the worker builds the model.
  const trainer = rnn.worker.create();
  const remote = await trainer.loadModel(`indexeddb://${name}`);
  const yWorker = bits(await remote.predict(valid.x));
  // A model in the Worker saves through the page (here into memory), and loads on the page again.
  const mem = rnn.io.memory();
  const savedFromWorker = await remote.save(mem, { format: 'tfjs' });
  const again = await rnn.loadModel(mem);
  const yAgain = bits(await again.predict(valid.x));
  again.dispose();
  const missingTask = await remote.task('nope').catch((e: Error) => e.message);
  const loaded = remote.loaded;
  await remote.dispose();
  const missing = await trainer.loadModel('indexeddb://no-such-model').catch((e: Error) => e.message);
  trainer.terminate();
  return { listed, y, yWorker, yAgain, summary, loaded, savedFromWorker, missingTask, missing };
}

async function remove(name: string) {
  await rnn.io.removeModel(`indexeddb://${name}`);
  const after = await rnn.io.listModels();
  const again = await rnn.io.removeModel(`indexeddb://${name}`).catch((e: Error) => e.message);
  const load = await rnn.loadModel(`indexeddb://${name}`).catch((e: Error) => e.message);
  return { after, again, load };
}

Object.assign(window, { saveLoad: { trainAndSave, loadAndPredict, remove } });
document.getElementById('status')!.textContent = 'ready';
