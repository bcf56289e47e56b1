/**
 * Where saved models go and come from (tfjs' IO handlers): a handler moves the files a format
 * produced. Targets and sources are URLs, as in tfjs —
 *   file://path          Node: a folder (model.json + weights.bin) or one file (path.keras,
 *                        path.weights.h5); written atomically (file-handler.ts)
 *   indexeddb://name     browser storage, one transaction (indexeddb.ts)
 *   downloads://name     browser downloads: name.json + name.weights.bin, or name.keras
 *   http(s)://…/model.json or …/m.keras   load only (fetch; the manifest's files beside it)
 * — or handler objects: `rnn.io.memory()`, `rnn.io.browserFiles([...])`, or your own
 * `{url, save?, load?}`.
 */
import type { NamedFile } from './artifacts';
import { checkFileName } from './own-format';
import { formatOfName, type FormatName } from './formats';
import { fileHandler } from './file-handler';
import { browserDownloads, indexedDbHandler } from './browser-handlers';

/** A file a save wrote. */
export interface SavedFile {
  /** The file's name (e.g. 'model.json'). */
  name: string;
  /** Its size in bytes. */
  bytes: number;
}

/** What a save wrote. */
export interface SaveResult {
  /** Where it went (the target URL). */
  url: string;
  /** The format written. */
  format: FormatName;
  /** Each file written: its name and size in bytes. */
  files: SavedFile[];
}

/** Saves or loads a model's files (a target of `model.save` / a source of `rnn.loadModel`). */
export interface IOHandler {
  /** Where it saves / loads, for messages (e.g. 'file:///tmp/m', 'indexeddb://m', 'memory'). */
  readonly url: string;
  /** The format the target asks for (e.g. a `.keras` file name), when it does. */
  readonly format?: FormatName;
  /** Writes the files: all of them or none. */
  save?(files: NamedFile[], format: FormatName): Promise<SaveResult>;
  /** Reads a saved model's files (the main file first: model JSON or archive). */
  load?(): Promise<NamedFile[]>;
  /** A base name for the files (downloads), if the target has one. */
  readonly baseName?: string;
}

/** Largest file read or written (2 GiB); bigger sizes are refused before any allocation. */
export const MAX_FILE_BYTES = 2 ** 31 - 1;

/** Files of a model in memory: `model.save(mem)` fills `files`, `rnn.loadModel(mem)` reads them. */
export interface MemoryHandler extends IOHandler {
  /** The files of the last save (copies), or those given to `rnn.io.memory(files)`. */
  files: NamedFile[] | null;
}

/**
 * An in-memory target and source (tfjs `io.fromMemory` / `withSaveHandler`): save into it, then
 * load from it or read its `files`. Give files to load from them.
 *
 * @example
 * ```ts
 * const mem = rnn.io.memory();
 * await model.save(mem);
 * const again = await rnn.loadModel(mem);
 * ```
 */
export function memory(files: NamedFile[] | null = null): MemoryHandler {
  const h: MemoryHandler = {
    url: 'memory',
    files,
    async save(fs, format) {
      h.files = fs.map((f) => ({ name: f.name, bytes: f.bytes.slice() }));
      return { url: 'memory', format, files: fs.map((f) => ({ name: f.name, bytes: f.bytes.byteLength })) };
    },
    async load() {
      if (!h.files) throw new Error('memory: nothing saved here yet');
      return h.files.map((f) => ({ name: f.name, bytes: f.bytes.slice() }));
    },
  };
  return h;
}

/** The files a user picked in a page (`<input type=file multiple>` or drag and drop), as a source. */
export function browserFiles(files: readonly Blob[] | FileList): IOHandler {
  const list = Array.from(files as ArrayLike<Blob>) as (Blob & { name?: string })[];
  if (!list.length) throw new RangeError('browserFiles: no files given');
  return {
    url: `files (${list.map((f) => f.name ?? 'blob').join(', ')})`,
    async load() {
      for (const f of list) {
        if (f.size > MAX_FILE_BYTES) throw new RangeError(`browserFiles: ${f.name ?? 'blob'} is ${f.size} bytes, over the ${MAX_FILE_BYTES}-byte limit`);
      }
      // The model JSON or archive first.
      const named = await Promise.all(list.map(async (f) => ({ name: f.name ?? 'blob', bytes: new Uint8Array(await f.arrayBuffer()) })));
      return named.sort((a, b) => rank(a.name) - rank(b.name));
    },
  };
}

const rank = (name: string) => (/\.(json|keras)$/i.test(name) ? 0 : 1);

/** Reads a fetch response body, refusing more than `limit` bytes (declared or streamed). */
async function readBody(res: Response, url: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > MAX_FILE_BYTES) throw new RangeError(`${url}: the server declares ${declared} bytes, over the ${MAX_FILE_BYTES}-byte limit`);
  const buf = await res.arrayBuffer();
  if (buf.byteLength > MAX_FILE_BYTES) throw new RangeError(`${url}: ${buf.byteLength} bytes, over the limit`);
  return new Uint8Array(buf);
}

/** Loads over http(s): the model JSON (and the weights files its manifest names, beside it) or one archive. */
export function httpSource(url: string, init: RequestInit = {}): IOHandler {
  const get = async (u: string) => {
    let res: Response;
    try {
      res = await fetch(u, init);
    } catch (e) {
      throw new Error(`${u}: could not fetch (${(e as Error).message})`);
    }
    if (!res.ok) throw new Error(`${u}: HTTP ${res.status} ${res.statusText}`);
    return readBody(res, u);
  };
  return {
    url,
    async load() {
      const name = decodeURIComponent(new URL(url).pathname.split('/').pop() || 'model.json');
      const main = { name, bytes: await get(url) };
      const extra = manifestPaths(main, url).map((p) => ({ name: p, url: new URL(p, url).href }));
      const rest = await Promise.all(extra.map(async (x) => ({ name: x.name, bytes: await get(x.url) })));
      return [main, ...rest];
    },
  };
}

/**
 * The weights files a model JSON's manifest names (plain names beside it; [] for other files).
 * Malformed JSON is left to the format's decoder, which names the problem.
 */
export function manifestPaths(main: NamedFile, where: string): string[] {
  if (main.bytes[0] !== 0x7b) return [];
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(main.bytes));
  } catch {
    return [];
  }
  const m = (doc as { weightsManifest?: unknown } | null)?.weightsManifest;
  if (!Array.isArray(m)) return [];
  const paths = m.flatMap((g) => (Array.isArray((g as { paths?: unknown })?.paths) ? (g as { paths: unknown[] }).paths : []));
  return [...new Set(paths.map((p) => checkFileName(p, `${where}: weightsManifest`)))];
}

const SCHEMES = ['file://', 'indexeddb://', 'downloads://', 'http://', 'https://'];

/** A handler for a target or source given as a URL string or a handler object. */
export function resolveHandler(target: unknown, where: string): IOHandler {
  if (target && typeof target === 'object' && typeof (target as IOHandler).url === 'string') return target as IOHandler;
  if (typeof target !== 'string') throw new TypeError(`${where}: expected a URL such as 'file://path', 'indexeddb://name', 'downloads://name' or a handler such as rnn.io.memory(), got ${JSON.stringify(target)?.slice(0, 60)}`);
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(target);
  if (!m) throw new RangeError(`${where}: '${target}' has no scheme; use one of ${SCHEMES.join(', ')} (e.g. 'file://${target}')`);
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (!rest) throw new RangeError(`${where}: '${target}' names nothing after ${scheme}://`);
  switch (scheme) {
    case 'file':
      return fileHandler(rest, target);
    case 'indexeddb':
      return indexedDbHandler(rest, where);
    case 'downloads':
      return browserDownloads(rest, where);
    case 'http':
    case 'https':
      return httpSource(target);
    default:
      throw new RangeError(`${where}: unknown scheme '${scheme}://' in '${target}' (known: ${SCHEMES.join(', ')})`);
  }
}

/** The format a handler's name implies (file://…/m.keras), else null. */
export function targetFormat(h: IOHandler): FormatName | null {
  return h.format ?? formatOfName(h.url);
}
