/**
 * The Danish weather lesson's archive: download + cache of `weather-denmark.tar.gz` (streamed to a
 * `.part` file, size / optional SHA-256 / structure checked, then renamed; its SHA-256 recorded
 * beside it and checked before every reuse), gzip (with an output limit) and tar reading,
 * and the extraction of `weather-denmark.csv`.
 *
 * Browser-safe except {@link downloadWeatherDenmark}: Node modules (`node:fs`, `node:zlib`,
 * `node:crypto`) are loaded lazily through a variable specifier, so bundlers never pull them in;
 * in a browser, gunzip uses `DecompressionStream`.
 */
import { requireColumns } from '../../data/csv';
import { CSV_COLUMNS, WEATHER_DENMARK_ARCHIVE, WEATHER_DENMARK_CSV, WEATHER_DENMARK_URL } from './constants';

// ---------------------------------------------------------------------------------------------
// Node-only helpers (lazy, invisible to bundlers)

export type NodeFs = typeof import('node:fs/promises');
type NodeZlib = typeof import('node:zlib');
type NodeCrypto = typeof import('node:crypto');
type NodePath = typeof import('node:path');

function isNode(): boolean {
  return !!(globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
}

/** Imports a Node module lazily (internal to the lesson: not re-exported by `index.ts`). */
export async function nodeImport<T>(name: string, what: string): Promise<T> {
  if (!isNode()) throw new Error(`${what} needs Node.js (${name}); in a browser pass the archive bytes instead`);
  return (await import(/* @vite-ignore */ name)) as T;
}

/** An error's message with its cause (internal to the lesson: not re-exported by `index.ts`). */
export function errMsg(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    const c = cause instanceof Error ? cause.message : cause !== undefined ? String(cause) : '';
    return c && !e.message.includes(c) ? `${e.message}: ${c}` : e.message;
  }
  return String(e);
}

// ---------------------------------------------------------------------------------------------
// gzip + tar

/** The most {@link gunzip} decompresses by default: 1 GiB (the lesson's CSV is about 10× smaller). */
export const GUNZIP_LIMIT = 2 ** 30;

/**
 * Decompresses gzip data (all members). Node: `zlib.gunzipSync`; browser: `DecompressionStream`.
 * Output beyond `limit` bytes is refused as it arrives (a 35 MB "gzip bomb" could otherwise
 * expand to tens of GB). (The trailer's declared size is not trusted: a truncated file ends in
 * arbitrary bytes.)
 * @param source name used in error messages.
 * @param impl force one implementation (`'stream'` = `DecompressionStream`, also in Node 18+).
 * @param limit the most bytes the output may have; default {@link GUNZIP_LIMIT}.
 * @throws a clear error for a non-gzip input, a truncated or corrupt stream, and an output over `limit`.
 */
export async function gunzip(bytes: Uint8Array, source = '<gzip>', impl: 'auto' | 'zlib' | 'stream' = 'auto', limit = GUNZIP_LIMIT): Promise<Uint8Array> {
  if (bytes.length < 18 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    throw new Error(`${source}: not a gzip file (${bytes.length < 2 ? 'too short' : 'bad magic bytes'})`);
  }
  const tooBig = () => new Error(`${source}: the gzip stream expands to more than ${limit} bytes (the limit); not the expected archive?`);
  if (impl === 'zlib' || (impl === 'auto' && isNode())) {
    const zlib = await nodeImport<NodeZlib>('node:zlib', 'gunzip');
    try {
      const out = zlib.gunzipSync(bytes, { maxOutputLength: Math.max(1, limit) });
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooBig();
      const m = errMsg(e);
      throw new Error(`${source}: ${/unexpected end/i.test(m) ? 'truncated gzip stream' : 'corrupt gzip stream'} (${m})`);
    }
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    const ds = new DecompressionStream('gzip');
    const reader = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(ds).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) {
        await reader.cancel().catch(() => undefined);
        break;
      }
      chunks.push(value);
    }
  } catch (e) {
    throw new Error(`${source}: truncated or corrupt gzip stream (${errMsg(e)})`);
  }
  if (total > limit) throw tooBig();
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) out.set(c, (off += c.length) - c.length);
  return out;
}

/** One entry of a tar archive. */
export interface TarEntry {
  /** Full path (ustar prefix, GNU long name and pax `path` applied). */
  readonly name: string;
  /** Type flag: `'0'` regular file, `'5'` directory, … */
  readonly type: string;
  /** Size in bytes. */
  readonly size: number;
  /** Byte offset of the data in the archive. */
  readonly offset: number;
}

function cstr(b: Uint8Array, start: number, len: number): string {
  let end = start;
  while (end < start + len && b[end] !== 0) end++;
  return new TextDecoder().decode(b.subarray(start, end));
}

function octal(b: Uint8Array, start: number, len: number, what: string): number {
  if (b[start]! & 0x80) {
    // GNU base-256 (large files).
    let v = b[start]! & 0x7f;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = cstr(b, start, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new Error(`bad ${what} field ${JSON.stringify(s)}`);
  return parseInt(s, 8);
}

/**
 * Lists the entries of an (uncompressed) tar archive: ustar, GNU long names (`L`) and pax
 * headers (`x`: `path`, `size`) are understood.
 * @param source name used in error messages.
 * @throws on a bad header checksum, a header or data running past the end (truncated archive).
 */
export function listTar(tar: Uint8Array, source = '<tar>'): TarEntry[] {
  const entries: TarEntry[] = [];
  let off = 0;
  let longName: string | null = null;
  let pax: Record<string, string> = {};
  for (;;) {
    if (off === tar.length) break; // no end-of-archive blocks: tolerated when nothing is cut
    if (off + 512 > tar.length) {
      if (off === 0) throw new Error(`${source}: not a tar archive (${tar.length} bytes, less than one header)`);
      throw new Error(`${source}: truncated tar archive (a ${tar.length - off}-byte partial header at byte ${off})`);
    }
    const h = tar.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break; // end-of-archive marker
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    let stored: number;
    let size: number;
    try {
      stored = octal(h, 148, 8, 'checksum');
      size = octal(h, 124, 12, 'size');
    } catch (e) {
      throw new Error(`${source}: not a tar archive or corrupt header at byte ${off} (${(e as Error).message})`);
    }
    if (stored !== sum) throw new Error(`${source}: not a tar archive or corrupt header at byte ${off} (checksum ${stored} ≠ ${sum})`);
    const type = String.fromCharCode(h[156]!) === '\0' ? '0' : String.fromCharCode(h[156]!);
    if (pax.size !== undefined && type !== 'x' && type !== 'g' && type !== 'L') size = Number(pax.size); // pax overrides the size field
    const dataOff = off + 512;
    if (dataOff + size > tar.length) {
      const nm = longName ?? pax.path ?? cstr(h, 0, 100);
      throw new Error(`${source}: truncated tar archive: entry ${JSON.stringify(nm)} needs ${size} bytes at byte ${dataOff} but the archive ends at ${tar.length}`);
    }
    const data = tar.subarray(dataOff, dataOff + size);
    if (type === 'L') {
      longName = cstr(data, 0, data.length);
    } else if (type === 'x') {
      pax = parsePax(data);
    } else if (type !== 'g') {
      const magic = cstr(h, 257, 6);
      const prefix = magic.startsWith('ustar') ? cstr(h, 345, 155) : '';
      const base = cstr(h, 0, 100);
      const name = pax.path ?? longName ?? (prefix ? `${prefix}/${base}` : base);
      entries.push({ name, type, size, offset: dataOff });
      longName = null;
      pax = {};
    }
    off = dataOff + Math.ceil(size / 512) * 512;
    if (off > tar.length) off = tar.length; // last data block without padding
  }
  return entries;
}

function parsePax(data: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const text = new TextDecoder().decode(data);
  let i = 0;
  while (i < text.length) {
    const sp = text.indexOf(' ', i);
    if (sp < 0) break;
    const len = parseInt(text.slice(i, sp), 10);
    if (!(len > 0)) break;
    const rec = text.slice(sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

/**
 * The data of the regular file whose base name is `baseName` (e.g. `./weather-denmark.csv`
 * matches `weather-denmark.csv`), as a view into `tar`.
 * @throws when there is no such entry (the message lists the entries found).
 */
export function extractTarFile(tar: Uint8Array, baseName: string, source = '<tar>'): Uint8Array {
  const entries = listTar(tar, source);
  const hit = entries.find((e) => (e.type === '0' || e.type === '7') && (e.name.split('/').pop() ?? '') === baseName);
  if (!hit) {
    const names = entries.map((e) => e.name);
    throw new Error(`${source}: no entry ${JSON.stringify(baseName)} in the archive (found ${names.length ? names.join(', ') : 'no entries'})`);
  }
  return tar.subarray(hit.offset, hit.offset + hit.size);
}

/**
 * The text of `weather-denmark.csv` from a `.tar.gz` (or `.tar`) archive, or the bytes of the
 * CSV itself.
 * @param source name for error messages.
 * @throws clear errors for non-gzip/tar/CSV input, truncated or corrupt archives and a missing entry.
 */
export async function extractWeatherCsv(bytes: Uint8Array, source = WEATHER_DENMARK_ARCHIVE): Promise<string> {
  let tar = bytes;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    tar = await gunzip(bytes, source);
  } else {
    const head = new TextDecoder().decode(bytes.subarray(0, 8)).replace(/^\uFEFF/, '');
    if (head.startsWith('City')) return new TextDecoder().decode(bytes);
    const magic = bytes.length >= 262 ? new TextDecoder().decode(bytes.subarray(257, 262)) : '';
    if (magic !== 'ustar') throw new Error(`${source}: not a .tar.gz, .tar or CSV file (${bytes.length} bytes, unknown format)`);
  }
  const csv = extractTarFile(tar, WEATHER_DENMARK_CSV, source);
  return new TextDecoder().decode(csv);
}

// ---------------------------------------------------------------------------------------------
// Download + cache

/** The subset of the Fetch API `Response` the downloader uses. */
export interface FetchResponseLike {
  /** True for a 2xx status. */
  readonly ok: boolean;
  /** The HTTP status. */
  readonly status: number;
  /** The HTTP status text. */
  readonly statusText: string;
  /** The response headers (content-length is read for progress). */
  readonly headers: {
    /** A header's value, or null. */
    get(name: string): string | null;
  };
  /** The body as a stream (read for progress), or null. */
  readonly body: ReadableStream<Uint8Array> | null;
  /** The whole body (when there is no stream). */
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A `fetch`-compatible function (the global `fetch` fits). */
export type FetchLike = (url: string, init?: { signal?: AbortSignal }) => Promise<FetchResponseLike>;

/** Progress of a download. */
export interface DownloadProgress {
  /** Bytes received so far. */
  readonly bytes: number;
  /** Expected size from `Content-Length`, when the server sends it. */
  readonly total?: number;
}

/** Options of {@link downloadWeatherDenmark}. */
export interface DownloadOptions {
  /** Directory of the cached archive (created if missing). */
  readonly cacheDir: string;
  /** Source URL; default {@link WEATHER_DENMARK_URL}. */
  readonly url?: string;
  /** Fetch implementation; default the global `fetch`. Inject one for tests or proxies. */
  readonly fetch?: FetchLike;
  /** Called after every received chunk. */
  readonly onProgress?: (p: DownloadProgress) => void;
  /** Expected SHA-256 of the archive (hex); checked on download and on a cached file. */
  readonly expectedSha256?: string;
  /** Download again even when the archive is cached. */
  readonly force?: boolean;
  /** Aborts the download. */
  readonly signal?: AbortSignal;
}

/** Result of {@link downloadWeatherDenmark}. */
export interface DownloadResult {
  /** Path of the verified archive, `<cacheDir>/weather-denmark.tar.gz`. */
  readonly path: string;
  /** Its size in bytes. */
  readonly bytes: number;
  /** Its SHA-256 (hex). */
  readonly sha256: string;
  /** True when the cached file was used and nothing was downloaded. */
  readonly cached: boolean;
  /** Set when a cached archive failed its checksum or structure check and was replaced: why. */
  readonly discarded?: string;
}

/** Structure of the archive: gzip → tar → `weather-denmark.csv` with the expected header. */
async function verifyArchive(bytes: Uint8Array, source: string): Promise<void> {
  const tar = await gunzip(bytes, source);
  const csv = extractTarFile(tar, WEATHER_DENMARK_CSV, source);
  const firstLine = new TextDecoder().decode(csv.subarray(0, 512)).split(/\r?\n/)[0] ?? '';
  requireColumns(firstLine.replace(/^\uFEFF/, '').split(',').map((s) => s.trim()), CSV_COLUMNS, `${source}/${WEATHER_DENMARK_CSV}`);
}

/** Writes `<archive>.sha256` (`sha256sum` format) through a temporary file and a rename. */
async function writeChecksum(fs: NodeFs, sidecar: string, sha: string): Promise<void> {
  const tmp = `${sidecar}.part`;
  await fs.writeFile(tmp, `${sha}  ${WEATHER_DENMARK_ARCHIVE}\n`);
  await fs.rename(tmp, sidecar);
}

/**
 * Downloads `weather-denmark.tar.gz` into `cacheDir` (Node only): streams to
 * `<cacheDir>/weather-denmark.tar.gz.part`, checks the size against `Content-Length`, the SHA-256
 * when `expectedSha256` is given, and the gzip/tar structure (the archive must hold
 * `weather-denmark.csv` with the expected header), then renames it atomically to
 * `weather-denmark.tar.gz`. On any failure the partial file is deleted and a clear error is
 * thrown (`offline: could not reach <url> …` when the network is unreachable). The archive's
 * SHA-256 is recorded beside it (`weather-denmark.tar.gz.sha256`, `sha256sum` format); a cached
 * archive is reused only when it matches `expectedSha256` or, without one, the recorded checksum
 * (a cache without a record is checked for structure once and then recorded). A cached archive
 * that fails is deleted and downloaded again (`discarded` in the result says why).
 */
export async function downloadWeatherDenmark(opts: DownloadOptions): Promise<DownloadResult> {
  const what = 'downloadWeatherDenmark';
  const fs = await nodeImport<NodeFs>('node:fs/promises', what);
  const path = await nodeImport<NodePath>('node:path', what);
  const crypto = await nodeImport<NodeCrypto>('node:crypto', what);
  const url = opts.url ?? WEATHER_DENMARK_URL;
  const expected = opts.expectedSha256?.trim().toLowerCase();
  if (expected !== undefined && !/^[0-9a-f]{64}$/.test(expected)) {
    throw new Error(`${what}: expectedSha256 must be 64 hex digits, got ${JSON.stringify(opts.expectedSha256)}`);
  }
  const final = path.join(opts.cacheDir, WEATHER_DENMARK_ARCHIVE);
  const part = `${final}.part`;
  await fs.mkdir(opts.cacheDir, { recursive: true });

  const sidecar = `${final}.sha256`;
  let discarded: string | undefined;
  if (!opts.force) {
    const data = await fs.readFile(final).catch(() => null);
    if (data) {
      const sha = crypto.createHash('sha256').update(data).digest('hex');
      const recorded = /^[0-9a-f]{64}\b/.exec((await fs.readFile(sidecar, 'utf8').catch(() => '')).trim())?.[0];
      const want = expected ?? recorded;
      let problem: string | null = null;
      if (want !== undefined) {
        if (sha !== want) problem = `its sha256 ${sha} is not the ${expected !== undefined ? 'expected' : 'recorded'} ${want}`;
      } else {
        // No checksum recorded (a cache from an older version): check the structure once, then record it.
        problem = await verifyArchive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), `${final} (cached)`).then(
          () => null,
          (e: unknown) => errMsg(e),
        );
        if (problem === null) await writeChecksum(fs, sidecar, sha);
      }
      if (problem === null) return { path: final, bytes: data.length, sha256: sha, cached: true };
      discarded = `the cached ${final} was corrupt (${problem}); deleted it and downloaded it again`;
      await fs.rm(final, { force: true });
      await fs.rm(sidecar, { force: true });
    }
  }

  const fetchFn: FetchLike | undefined = opts.fetch ?? (globalThis.fetch as FetchLike | undefined);
  if (!fetchFn) throw new Error(`${what}: no fetch() available; pass opts.fetch`);
  let file: Awaited<ReturnType<NodeFs['open']>> | null = null;
  try {
    await fs.rm(part, { force: true });
    let res: FetchResponseLike;
    try {
      res = await fetchFn(url, opts.signal ? { signal: opts.signal } : undefined);
    } catch (e) {
      if (opts.signal?.aborted) throw new Error(`${what}: download of ${url} aborted`);
      throw new Error(`offline: could not reach ${url} (${errMsg(e)})`);
    }
    if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${res.statusText} from ${url}`);
    const len = Number(res.headers.get('content-length'));
    const total = Number.isFinite(len) && len > 0 ? len : undefined;
    const hash = crypto.createHash('sha256');
    file = await fs.open(part, 'w');
    let bytes = 0;
    const take = async (chunk: Uint8Array): Promise<void> => {
      for (let done = 0; done < chunk.length; ) done += (await file!.write(chunk, done, chunk.length - done)).bytesWritten;
      hash.update(chunk);
      bytes += chunk.length;
      opts.onProgress?.(total === undefined ? { bytes } : { bytes, total });
    };
    try {
      if (res.body) {
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (value?.length) await take(value);
        }
      } else {
        await take(new Uint8Array(await res.arrayBuffer()));
      }
    } catch (e) {
      if (opts.signal?.aborted) throw new Error(`${what}: download of ${url} aborted after ${bytes} bytes`);
      throw new Error(`${what}: download of ${url} interrupted after ${bytes} bytes (${errMsg(e)})`);
    }
    await file.close();
    file = null;
    if (total !== undefined && bytes !== total) throw new Error(`${what}: incomplete download of ${url}: got ${bytes} of ${total} bytes`);
    const sha = hash.digest('hex');
    if (expected !== undefined && sha !== expected) throw new Error(`${what}: checksum mismatch for ${url}: expected sha256 ${expected}, got ${sha}`);
    await verifyArchive(new Uint8Array(await fs.readFile(part)), `${url} (downloaded)`);
    // The checksum first: a crash between the two leaves a sidecar that fails the old archive (re-downloaded).
    await writeChecksum(fs, sidecar, sha);
    await fs.rename(part, final);
    return { path: final, bytes, sha256: sha, cached: false, ...(discarded ? { discarded } : {}) };
  } catch (e) {
    await file?.close().catch(() => undefined);
    await fs.rm(part, { force: true }).catch(() => undefined);
    throw e;
  }
}
