/**
 * `file://` targets and sources (Node). A path ending in `.keras` or `.weights.h5` is one file;
 * any other path is a folder holding the format's files (model.json + weights.bin, or tfjs'
 * model.json + group1-shard1of1.bin).
 *
 * Saving never leaves anything half-written: a file is written to a temporary file in the same
 * folder, flushed and renamed over the target; a folder is written complete as a temporary
 * sibling folder and then swapped in (the old one is renamed aside first and removed last, so at
 * every moment one complete version exists). The parent folder is checked before anything is
 * written. Loading checks every file's size before reading it and reads only plain files in the
 * model's folder.
 */
import type { NamedFile } from './artifacts';
import type { IOHandler, SaveResult } from './handlers';
import { MAX_FILE_BYTES, manifestPaths } from './handlers';
import { formatOfName, type FormatName } from './formats';
import { importAtRunTime } from '../gpu/runtime-import';

type Fs = typeof import('node:fs/promises');
type Path = typeof import('node:path');

async function node(url: string): Promise<{ fs: Fs; path: Path }> {
  try {
    const [fs, path] = await Promise.all([importAtRunTime<Fs>('node:fs/promises'), importAtRunTime<Path>('node:path')]);
    return { fs, path };
  } catch {
    throw new Error(`${url}: file:// works in Node only; in a page use indexeddb://, downloads:// or rnn.io.browserFiles`);
  }
}

const code = (e: unknown) => (e as { code?: string } | null)?.code;
const suffix = () => `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;

async function writeFlushed(fs: Fs, file: string, bytes: Uint8Array): Promise<void> {
  const h = await fs.open(file, 'wx');
  try {
    await h.writeFile(bytes);
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Reads a plain file, refusing folders, links to non-files and sizes over the limit before reading. */
async function readChecked(fs: Fs, file: string, url: string): Promise<Uint8Array> {
  const st = await fs.stat(file).catch((e: unknown) => {
    throw new Error(`${url}: cannot read '${file}': ${code(e) === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  });
  if (!st.isFile()) throw new TypeError(`${url}: '${file}' is not a file`);
  if (st.size > MAX_FILE_BYTES) throw new RangeError(`${url}: '${file}' is ${st.size} bytes, over the ${MAX_FILE_BYTES}-byte limit`);
  return new Uint8Array(await fs.readFile(file));
}

export function fileHandler(rawPath: string, url: string): IOHandler {
  const single = formatOfName(rawPath);
  return {
    url,
    ...(single ? { format: single } : {}),
    async save(files: NamedFile[], format: FormatName): Promise<SaveResult> {
      const { fs, path } = await node(url);
      const target = path.resolve(rawPath);
      const parent = path.dirname(target);
      const pst = await fs.stat(parent).catch(() => null);
      if (!pst?.isDirectory()) throw new Error(`${url}: cannot save: the folder '${parent}' does not exist`);
      const result = { url, format, files: files.map((f) => ({ name: f.name, bytes: f.bytes.byteLength })) };
      if (single) {
        if (files.length !== 1) throw new RangeError(`${url}: the ${format} format writes ${files.length} files (${files.map((f) => f.name).join(', ')}); give a folder path (without .keras / .h5) to save it`);
        const existing = await fs.stat(target).catch(() => null);
        if (existing?.isDirectory()) throw new Error(`${url}: cannot save: '${target}' is a folder`);
        const tmp = `${target}.tmp-${suffix()}`;
        try {
          await writeFlushed(fs, tmp, files[0]!.bytes);
          await fs.rename(tmp, target);
        } catch (e) {
          await fs.rm(tmp, { force: true });
          throw new Error(`${url}: saving failed, nothing changed: ${(e as Error).message}`);
        }
        return result;
      }
      const existing = await fs.stat(target).catch(() => null);
      if (existing && !existing.isDirectory()) throw new Error(`${url}: cannot save: '${target}' is a file; give a folder path, or a name ending in .keras / .weights.h5`);
      const tmp = `${target}.tmp-${suffix()}`;
      const old = `${target}.old-${suffix()}`;
      try {
        await fs.mkdir(tmp);
        for (const f of files) await writeFlushed(fs, path.join(tmp, f.name), f.bytes);
        if (existing) await fs.rename(target, old);
        try {
          await fs.rename(tmp, target);
        } catch (e) {
          if (existing) await fs.rename(old, target); // put the old version back
          throw e;
        }
      } catch (e) {
        await fs.rm(tmp, { recursive: true, force: true });
        throw new Error(`${url}: saving failed, nothing changed: ${(e as Error).message}`);
      }
      if (existing) await fs.rm(old, { recursive: true, force: true });
      return result;
    },
    async load(): Promise<NamedFile[]> {
      const { fs, path } = await node(url);
      const target = path.resolve(rawPath);
      const st = await fs.stat(target).catch((e: unknown) => {
        throw new Error(`${url}: cannot load: ${code(e) === 'ENOENT' ? `'${target}' does not exist` : (e as Error).message}`);
      });
      let main: string;
      if (st.isDirectory()) {
        const names = await fs.readdir(target);
        const archive = names.filter((n) => /\.keras$/i.test(n));
        if (names.includes('model.json')) main = path.join(target, 'model.json');
        else if (archive.length === 1) main = path.join(target, archive[0]!);
        else throw new Error(`${url}: the folder '${target}' has no model.json${archive.length > 1 ? ` and several .keras files (${archive.join(', ')}); name one` : ''}`);
      } else {
        main = target;
      }
      const mainFile = { name: path.basename(main), bytes: await readChecked(fs, main, url) };
      const dir = path.dirname(main);
      const rest = [];
      for (const p of manifestPaths(mainFile, `${url}: ${mainFile.name}`)) {
        const f = path.join(dir, p);
        const s = await fs.stat(f).catch(() => null);
        if (!s) continue; // the decoder names the missing file
        rest.push({ name: p, bytes: await readChecked(fs, f, url) });
      }
      return [mainFile, ...rest];
    },
  };
}
