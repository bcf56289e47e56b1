/**
 * Browser targets: `indexeddb://name` (the page's IndexedDB, database 'webgpu-rnn', store
 * 'models': one record per model holding its files, written in one transaction so a save is
 * all or nothing) and `downloads://name` (the files offered as downloads). `listModels` and
 * `removeModel` manage the IndexedDB ones (tfjs `io.listModels` / `io.removeModel`).
 */
import type { NamedFile } from './artifacts';
import type { IOHandler, SaveResult } from './handlers';
import type { FormatName } from './formats';

const DB = 'webgpu-rnn';
const STORE = 'models';

/** A model stored in IndexedDB. */
interface StoredModel {
  name: string;
  format: FormatName;
  savedAt: string;
  bytes: number;
  files: { name: string; bytes: ArrayBuffer }[];
}

/** What `listModels` tells about a stored model. */
export interface StoredModelInfo {
  /** The format it was saved in. */
  format: FormatName;
  /** When it was saved (ISO 8601). */
  savedAt: string;
  /** Total bytes of its files. */
  bytes: number;
  /** Its files' names. */
  files: string[];
}

function idb(where: string): IDBFactory {
  const f = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!f) throw new Error(`${where}: indexeddb:// needs a browser page with IndexedDB (in Node use file://)`);
  return f;
}

function open(where: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = idb(where).open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'name' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new Error(`${where}: cannot open IndexedDB: ${req.error?.message ?? 'unknown error'}`));
    req.onblocked = () => reject(new Error(`${where}: IndexedDB is blocked by another tab holding an older version open`));
  });
}

/** Runs one request in a transaction; resolves when the transaction has committed. */
async function tx<T>(where: string, mode: IDBTransactionMode, body: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open(where);
  try {
    return await new Promise<T>((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const req = body(t.objectStore(STORE));
      t.oncomplete = () => resolve(req.result);
      t.onerror = () => reject(new Error(`${where}: IndexedDB: ${t.error?.message ?? req.error?.message ?? 'transaction failed'}`));
      t.onabort = () => reject(new Error(`${where}: IndexedDB transaction aborted: ${t.error?.message ?? 'quota exceeded?'}`));
    });
  } finally {
    db.close();
  }
}

function checkName(name: string, where: string): string {
  const n = decodeURIComponent(name);
  if (!n || n.length > 200) throw new RangeError(`${where}: the model name must be 1 to 200 characters, got '${n}'`);
  return n;
}

export function indexedDbHandler(rawName: string, where: string): IOHandler {
  const name = checkName(rawName, where);
  const url = `indexeddb://${name}`;
  return {
    url,
    async save(files: NamedFile[], format: FormatName): Promise<SaveResult> {
      const bytes = files.reduce((n, f) => n + f.bytes.byteLength, 0);
      const record: StoredModel = { name, format, savedAt: new Date().toISOString(), bytes, files: files.map((f) => ({ name: f.name, bytes: f.bytes.slice().buffer })) };
      await tx(url, 'readwrite', (s) => s.put(record));
      return { url, format, files: files.map((f) => ({ name: f.name, bytes: f.bytes.byteLength })) };
    },
    async load(): Promise<NamedFile[]> {
      const rec = (await tx(url, 'readonly', (s) => s.get(name))) as StoredModel | undefined;
      if (!rec) throw new Error(`${url}: no model named '${name}' in IndexedDB (saved ones: ${Object.keys(await listModels()).join(', ') || 'none'})`);
      if (!Array.isArray(rec.files) || rec.files.some((f) => typeof f?.name !== 'string' || !(f.bytes instanceof ArrayBuffer))) {
        throw new TypeError(`${url}: the stored record is damaged (no list of files)`);
      }
      return rec.files.map((f) => ({ name: f.name, bytes: new Uint8Array(f.bytes) }));
    },
  };
}

/** The models saved in this page's IndexedDB (`indexeddb://name`), by name. */
export async function listModels(): Promise<Record<string, StoredModelInfo>> {
  const all = (await tx('listModels', 'readonly', (s) => s.getAll())) as StoredModel[];
  return Object.fromEntries(all.map((r) => [r.name, { format: r.format, savedAt: r.savedAt, bytes: r.bytes, files: r.files.map((f) => f.name) }]));
}

/** Deletes a model saved in IndexedDB; `url` is 'indexeddb://name' (or the name). Throws if there is none. */
export async function removeModel(url: string): Promise<void> {
  const name = checkName(url.replace(/^indexeddb:\/\//i, ''), 'removeModel');
  const where = `removeModel('indexeddb://${name}')`;
  const have = await tx(where, 'readonly', (s) => s.getKey(name));
  if (have === undefined) throw new Error(`${where}: no such model (saved ones: ${Object.keys(await listModels()).join(', ') || 'none'})`);
  await tx(where, 'readwrite', (s) => s.delete(name));
}

/** `downloads://name`: each file offered as a download (name.json + name.weights.bin, name.keras, …). */
export function browserDownloads(rawName: string, where: string): IOHandler {
  const base = checkName(rawName, where).replace(/[\\/:*?"<>|]/g, '_');
  const url = `downloads://${base}`;
  return {
    url,
    baseName: base,
    async save(files: NamedFile[], format: FormatName): Promise<SaveResult> {
      const doc = (globalThis as { document?: Document }).document;
      if (!doc) throw new Error(`${url}: downloads:// needs a browser page (in Node use file://)`);
      for (const f of files) {
        const href = URL.createObjectURL(new Blob([f.bytes.slice().buffer], { type: f.name.endsWith('.json') ? 'application/json' : 'application/octet-stream' }));
        const a = doc.createElement('a');
        a.href = href;
        a.download = f.name;
        a.style.display = 'none';
        doc.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(href), 60_000);
      }
      return { url, format, files: files.map((f) => ({ name: f.name, bytes: f.bytes.byteLength })) };
    },
  };
}
