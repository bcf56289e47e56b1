/**
 * Our `.weights.h5` read by h5py (Debian's python3-h5py, installed by scripts/setup.mjs): every
 * dataset path, shape and value, and every vars group's `name`, against the file Keras 3 wrote
 * for the same model (test/io/fixtures/keras). No GPU: the weights go from Keras' .keras file
 * through the artifacts to our writer. A missing python3 or h5py fails the test, naming the package.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeKeras, encodeKerasWeights } from '../../src/io/keras-format';

const here = dirname(fileURLToPath(import.meta.url));
// Debian's python3-h5py is installed for Debian's interpreter
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

describe('h5py reads our .weights.h5 as Keras 3 wrote it', () => {
  it('has python3 with h5py (Debian package python3-h5py; npm test installs it)', () => {
    const r = spawnSync(python, ['-c', 'import h5py, numpy; print(h5py.__version__)'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      throw new Error(`${python} cannot import h5py (${(r.error?.message ?? r.stderr).trim().split('\n').pop()}): install the Debian package python3-h5py (apt-get install python3-h5py; scripts/setup.mjs --browser does it as root)`);
    }
  });

  for (const name of ['seq', 'fn']) {
    it(`${name}: every dataset path, shape, value and vars name equal to Keras' file`, async () => {
      const keras = new Uint8Array(readFileSync(join(here, 'fixtures/keras', `${name}.keras`)));
      const art = await decodeKeras([{ name: `${name}.keras`, bytes: keras }], name);
      const [file] = await encodeKerasWeights(art);
      const dir = mkdtempSync(join(tmpdir(), 'webgpu-rnn-h5py-'));
      try {
        const ours = join(dir, 'ours.weights.h5');
        writeFileSync(ours, file!.bytes);
        let out: string;
        try {
          out = execFileSync(python, [join(here, 'check_weights_h5.py'), ours, join(here, 'fixtures/keras', `${name}.weights.h5`)], { encoding: 'utf8' });
        } catch (e) {
          const err = e as { stdout?: string; stderr?: string; message: string };
          throw new Error(`h5py check of ${name}.weights.h5 failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
        }
        expect(out).toMatch(/^ok: \d+ datasets, \d+ vars groups/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
