/**
 * The "Save and load models" panel: save the current model in this browser (IndexedDB) under a
 * name, the list of saved models (name, date, size, format; Load, Delete), downloads as Keras
 * `.keras` or TensorFlow.js `model.json` + `.bin`, and loading a model by drag and drop or the
 * file picker. The model lives in the worker: `WorkerModel.save` encodes it there and this page
 * writes the files; `trainer.loadModel` reads the files here and builds the model there, as a
 * model of its own — the current one is untouched until the user confirms (main.ts asks).
 * Errors appear next to the control that caused them.
 */
import * as rnn from '../src/index';
import type { IOHandler, NamedFile, TrainingWorker, WorkerModel } from '../src/index';
import { $, h, show, sizeText } from './dom';
import { expectedWeights } from './model';
import { ModelFileError, demoMetadata, describeLoaded, downloadBase, formatName, isOldWeightsFile } from './model-files';
import type { DataDescriptor, ModelConfig } from './protocol';
import { WeightsFileError, decodeWeightsFile, type WeightsFileMeta } from './weights-file';

type Button = HTMLButtonElement;

/** A model read from files or IndexedDB, built in the worker, waiting for the user's confirmation. */
export interface LoadCandidate {
  model: WorkerModel;
  config: ModelConfig;
  meta: WeightsFileMeta;
  /** What it was read from, for people: `model.keras (Keras .keras)`, `"mine" (saved in this browser)`. */
  label: string;
}

export interface ModelsPanelDeps {
  trainer: TrainingWorker;
  /** The model whose results are shown, what it is and what it was trained on; null when there is none. */
  saveable(): { model: WorkerModel; config: ModelConfig; data: DataDescriptor | null; epochs: number | null } | null;
  /** Whether a run is busy (saving and loading wait). */
  busy(): boolean;
  /** The form's settings (what a file without the demo's metadata leaves as it is). */
  form(): ModelConfig;
  /** Offers a read model to the user (main.ts checks the data and opens the confirmation); throws a ModelFileError to refuse. */
  offer(c: LoadCandidate): void;
}

/** Largest model files the demo reads (the library's limit is 2 GiB). */
const MAX_BYTES = 200 * 2 ** 20;

const when = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
const idbUrl = (name: string) => `indexeddb://${encodeURIComponent(name)}`;

/** An error for people: its message without the source's name in front (the page says which file), its class only when unusual. */
function messageOf(e: unknown, label?: string): string {
  if (!(e instanceof Error)) return String(e);
  let m = e.message.replace(/^(files \([^)]*\)|indexeddb:\/\/[^:]*|memory): /, '');
  if (label && m.startsWith(`${label}: `)) m = m.slice(label.length + 2);
  return `${['Error', 'TypeError', 'RangeError'].includes(e.name) ? '' : `${e.name}: `}${m}`;
}

export function modelsPanel(deps: ModelsPanelDeps): { update(): void; suggestName(name: string): void } {
  const ui = {
    saveName: $<HTMLInputElement>('save-name'),
    save: $<Button>('save'),
    keras: $<Button>('download-keras'),
    tfjs: $<Button>('download-tfjs'),
    saveError: $('save-error'),
    saveNote: $('save-note'),
    caption: $('saved-caption'),
    body: $('saved-body'),
    savedError: $('saved-error'),
    dropzone: $('model-dropzone'),
    input: $<HTMLInputElement>('load-input'),
    loadError: $('load-error'),
  };
  let working = false;
  let nameTouched = false;

  const update = () => {
    const off = working || deps.busy();
    const none = off || !deps.saveable();
    ui.save.disabled = ui.keras.disabled = ui.tfjs.disabled = none;
    ui.input.disabled = off;
    for (const b of ui.body.querySelectorAll('button')) b.disabled = off;
  };
  const clearMessages = () => {
    for (const el of [ui.saveError, ui.saveNote, ui.savedError, ui.loadError]) show(el, null);
  };
  /** Runs one save/load action at a time, with the controls disabled meanwhile. */
  const act = async (f: () => Promise<void>) => {
    if (working || deps.busy()) return;
    clearMessages();
    working = true;
    update();
    try {
      await f();
    } finally {
      working = false;
      update();
    }
  };

  // ---------------------------------------------------------------- saving

  ui.saveName.addEventListener('input', () => (nameTouched = true));

  ui.save.addEventListener('click', () =>
    act(async () => {
      const s = deps.saveable();
      const name = ui.saveName.value.trim();
      if (!s) return;
      if (!name) return show(ui.saveError, 'Give the model a name to save it under.');
      try {
        const existed = Object.hasOwn(await rnn.io.listModels(), name);
        const r = await s.model.save(idbUrl(name), { metadata: demoMetadata(s.config, s) });
        show(ui.saveNote, `Saved "${name}" in this browser (${sizeText(r.files.reduce((n, f) => n + f.bytes, 0))})${existed ? ', replacing the earlier model of that name' : ''}.`);
      } catch (e) {
        show(ui.saveError, `Could not save "${name}": ${messageOf(e)}`);
      }
      await refreshList();
    }),
  );

  const download = (format: 'keras' | 'tfjs') =>
    act(async () => {
      const s = deps.saveable();
      if (!s) return;
      try {
        const r = await s.model.save(`downloads://${downloadBase(s.config)}`, { format, metadata: demoMetadata(s.config, s) });
        show(ui.saveNote, `Downloaded ${r.files.map((f) => `${f.name} (${sizeText(f.bytes)})`).join(' and ')}.`);
      } catch (e) {
        show(ui.saveError, `Could not make the ${formatName(format)} files: ${messageOf(e)}`);
      }
    });
  ui.keras.addEventListener('click', () => download('keras'));
  ui.tfjs.addEventListener('click', () => download('tfjs'));

  // ---------------------------------------------------------------- the list

  async function refreshList(): Promise<void> {
    let all: Record<string, { format: string; savedAt: string; bytes: number }>;
    try {
      all = await rnn.io.listModels();
    } catch (e) {
      show(ui.savedError, `The models saved in this browser cannot be listed: ${messageOf(e)}`);
      return;
    }
    const rows = Object.entries(all).sort((a, b) => b[1].savedAt.localeCompare(a[1].savedAt));
    ui.caption.textContent = rows.length ? `Saved in this browser (IndexedDB): ${rows.length} model${rows.length === 1 ? '' : 's'}.` : 'Saved in this browser (IndexedDB): none yet.';
    ui.body.replaceChildren(
      ...rows.map(([name, info]) => {
        const load = h('button', { type: 'button', 'data-testid': 'saved-load', 'aria-label': `Load ${name}` }, 'Load');
        const del = h('button', { type: 'button', 'data-testid': 'saved-delete', 'aria-label': `Delete ${name}` }, 'Delete');
        load.addEventListener('click', () => act(() => readModel(idbUrl(name), `"${name}"`, () => `"${name}" (saved in this browser)`, ui.savedError)));
        del.addEventListener('click', () =>
          act(async () => {
            try {
              await rnn.io.removeModel(idbUrl(name));
              show(ui.saveNote, `Deleted "${name}" from this browser.`);
            } catch (e) {
              show(ui.savedError, `Could not delete "${name}": ${messageOf(e)}`);
            }
            await refreshList();
          }),
        );
        return h('tr', { 'data-name': name }, h('td', { class: 'name' }, name), h('td', {}, when(info.savedAt)), h('td', {}, sizeText(info.bytes)), h('td', {}, formatName(info.format)), h('td', {}, load, del));
      }),
    );
    update();
  }

  // ---------------------------------------------------------------- loading

  /**
   * Reads a model (IndexedDB name, picked or dropped files) into the worker and offers it; errors
   * go to `errorAt`. `label` names the source in errors, `title(format)` in the confirmation.
   */
  async function readModel(source: string | IOHandler, label: string, title: (format: string) => string, errorAt: HTMLElement, files?: NamedFile[]): Promise<void> {
    let model: WorkerModel | null = null;
    try {
      if (files && isOldWeightsFile(files)) {
        const name = files[0]!.name;
        const { config, weights, meta } = decodeWeightsFile(new TextDecoder().decode(files[0]!.bytes), name);
        const want = expectedWeights(config);
        const shapes = (ws: { name: string; shape: number[] }[]) => ws.map((w) => `${w.name} [${w.shape.join(', ')}]`).join(', ');
        const same = want.length === weights.length && want.every((w, i) => w.shape.length === weights[i]!.shape.length && w.shape.every((d, j) => d === weights[i]!.shape[j]));
        if (!same) throw new WeightsFileError(`${name}: its weights (${shapes(weights)}) do not fit the model its config describes (${shapes(want)}).`);
        model = await deps.trainer.model('demo', config);
        await model.setWeights(weights.map((w) => ({ data: w.data, shape: w.shape })));
        deps.offer({ model, config, meta, label: `${name} (weights of an earlier demo)` });
        return;
      }
      model = await deps.trainer.loadModel(source);
      const full = title(formatName(model.loaded!.format));
      const { config, meta } = describeLoaded(model.loaded!, full, deps.form());
      deps.offer({ model, config, meta, label: full });
    } catch (e) {
      void model?.dispose().catch(() => undefined);
      show(errorAt, e instanceof ModelFileError || e instanceof WeightsFileError ? e.message : `Could not load ${label}: ${messageOf(e, label)}`);
    }
  }

  const readFiles = (list: FileList | File[]) =>
    act(async () => {
      const picked = Array.from(list);
      if (!picked.length) return;
      const label = picked.map((f) => f.name).join(' + ');
      const bytes = picked.reduce((n, f) => n + f.size, 0);
      if (bytes > MAX_BYTES) return show(ui.loadError, `${label}: ${sizeText(bytes)} is too large for a model of this demo (at most ${sizeText(MAX_BYTES)}).`);
      const source = rnn.io.browserFiles(picked);
      let files: NamedFile[];
      try {
        files = await source.load!();
      } catch (e) {
        return show(ui.loadError, `Could not read ${label}: ${messageOf(e)}`);
      }
      await readModel({ url: source.url, load: async () => files }, label, (format) => `${label} (${format})`, ui.loadError, files);
    });

  ui.input.addEventListener('change', () => {
    const files = Array.from(ui.input.files ?? []);
    ui.input.value = '';
    void readFiles(files);
  });
  ui.dropzone.addEventListener('dragover', (e) => {
    e.preventDefault();
    ui.dropzone.classList.add('over');
  });
  ui.dropzone.addEventListener('dragleave', () => ui.dropzone.classList.remove('over'));
  ui.dropzone.addEventListener('drop', (e) => {
    e.preventDefault();
    ui.dropzone.classList.remove('over');
    if (e.dataTransfer?.files.length && !ui.input.disabled) void readFiles(e.dataTransfer.files);
  });

  void refreshList();
  return {
    update,
    suggestName(name: string) {
      if (!nameTouched || !ui.saveName.value.trim()) {
        ui.saveName.value = name;
        nameTouched = false;
      }
    },
  };
}

export type { WeightsFileMeta };
