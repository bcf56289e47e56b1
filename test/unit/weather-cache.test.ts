/**
 * The weather archive against hostile and damaged files (issue 16, reproducer 10 and item 7): a
 * corrupt cached `weather-denmark.tar.gz` is detected by its recorded checksum (or, for a cache
 * without one, by its structure), deleted and downloaded again instead of being reused on every
 * run; gzip output is bounded (a small file that expands without limit is refused as it expands).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadWeatherDenmark, gunzip, loadWeatherDenmark, type FetchLike } from '../../src/lessons/weather/index';
import { EXPECTED, fixtureArchive } from '../helpers/weather-fixture';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function cacheDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'webgpu-rnn-weather-cache-'));
  dirs.push(d);
  return d;
}

const { targz } = fixtureArchive();
const sha = createHash('sha256').update(targz).digest('hex');
function serve(bytes: Uint8Array): { fetch: FetchLike; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    fetch: async (url) => {
      calls.push(url);
      return new Response(bytes.slice(), { status: 200, headers: { 'content-length': String(bytes.length) } });
    },
  };
}

describe('a cached weather archive is verified before it is reused', () => {
  it('records the checksum beside the archive and reuses a cache that matches it', async () => {
    const dir = await cacheDir();
    const { fetch, calls } = serve(targz);
    await downloadWeatherDenmark({ cacheDir: dir, fetch });
    expect(await readFile(join(dir, 'weather-denmark.tar.gz.sha256'), 'utf8')).toBe(`${sha}  weather-denmark.tar.gz\n`);
    const again = await downloadWeatherDenmark({ cacheDir: dir, fetch });
    expect(again).toMatchObject({ cached: true, sha256: sha });
    expect(again.discarded).toBeUndefined();
    expect(calls.length).toBe(1);
  });

  it('a cached archive damaged after download (checksum mismatch) is deleted and downloaded again', async () => {
    const dir = await cacheDir();
    const { fetch, calls } = serve(targz);
    await downloadWeatherDenmark({ cacheDir: dir, fetch });
    await writeFile(join(dir, 'weather-denmark.tar.gz'), targz.subarray(0, targz.length - 100)); // truncated on disk
    const r = await downloadWeatherDenmark({ cacheDir: dir, fetch });
    expect(r.cached).toBe(false);
    expect(r.discarded).toMatch(/weather-denmark\.tar\.gz was corrupt \(its sha256 [0-9a-f]{64} is not the recorded [0-9a-f]{64}\); deleted it and downloaded it again/);
    expect(calls.length).toBe(2);
    expect((await loadWeatherDenmark(r.path)).times.length).toBe(EXPECTED.rows);
    // and the next run reuses the good one
    expect((await downloadWeatherDenmark({ cacheDir: dir, fetch })).cached).toBe(true);
    expect(calls.length).toBe(2);
  });

  it('a cache without a recorded checksum (older versions) is checked for structure: a corrupt one is replaced, a good one recorded', async () => {
    const corrupt = await cacheDir();
    await writeFile(join(corrupt, 'weather-denmark.tar.gz'), targz.subarray(0, targz.length - 100));
    const first = serve(targz);
    const r = await downloadWeatherDenmark({ cacheDir: corrupt, fetch: first.fetch });
    expect(r.cached).toBe(false);
    expect(r.discarded).toMatch(/\(cached\): truncated gzip stream/);
    expect(first.calls.length).toBe(1);
    expect((await readdir(corrupt)).sort()).toEqual(['weather-denmark.tar.gz', 'weather-denmark.tar.gz.sha256']);

    const good = await cacheDir();
    await writeFile(join(good, 'weather-denmark.tar.gz'), targz);
    const second = serve(targz);
    const g = await downloadWeatherDenmark({ cacheDir: good, fetch: second.fetch });
    expect(g).toMatchObject({ cached: true, sha256: sha });
    expect(second.calls.length).toBe(0);
    expect(await readFile(join(good, 'weather-denmark.tar.gz.sha256'), 'utf8')).toBe(`${sha}  weather-denmark.tar.gz\n`);
  });

  it('a corrupt cache that cannot be replaced (offline) fails clearly instead of being used', async () => {
    const dir = await cacheDir();
    await writeFile(join(dir, 'weather-denmark.tar.gz'), 'not an archive');
    const fetch: FetchLike = async () => {
      throw new TypeError('fetch failed');
    };
    await expect(downloadWeatherDenmark({ cacheDir: dir, fetch })).rejects.toThrow(/^offline: could not reach/);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('gzip output is bounded', () => {
  const bomb = gzipSync(new Uint8Array(8 << 20)); // 8 MiB of zeros in ~8 KB
  it('refuses output over the limit (zlib and DecompressionStream alike), naming the source', async () => {
    expect(bomb.length).toBeLessThan(20_000);
    for (const impl of ['zlib', 'stream'] as const) {
      await expect(gunzip(bomb, 'bomb.gz', impl, 1 << 20)).rejects.toThrow('bomb.gz: the gzip stream expands to more than 1048576 bytes (the limit)');
      expect((await gunzip(bomb, 'bomb.gz', impl, 8 << 20)).length).toBe(8 << 20);
    }
  });
});
