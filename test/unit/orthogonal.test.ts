/**
 * The orthogonal initializer (issue 16, reproducer 9: 489 s for an LSTM(2048)): CholeskyQR gives
 * Keras's Q — the QR factor of the same normal matrix with R's diagonal made positive — checked
 * against a float64 Householder QR of the same draws (a different algorithm, same unique Q) and
 * against the modified Gram–Schmidt it replaced; orthonormal rows or columns; the fallback for
 * ill-conditioned draws; and a wide LSTM that builds in seconds (its time is printed; an LSTM(2048),
 * 8 times the work, takes ~25 s of CPU — it took 489 s — which is too long for a test on a busy machine).
 */
import { describe, it, expect } from 'vitest';
import * as rnn from '../../src/index';
import { orthogonalMatrix, householderQ } from '../../src/layers/orthogonal';
import { makeRng } from '../helpers/rng';

/** Standard normal draws (Box–Muller) from a seeded uniform generator. */
function normals(seed: number): () => number {
  const u = makeRng(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** The [big, small] draws as orthogonalMatrix takes them (row by row), column-major. */
function draws(rows: number, cols: number, seed: number): { a: Float64Array; big: number; small: number } {
  const big = Math.max(rows, cols), small = Math.min(rows, cols);
  const next = normals(seed);
  const a = new Float64Array(big * small);
  for (let i = 0; i < big; i++) for (let j = 0; j < small; j++) a[j * big + i] = next();
  return { a, big, small };
}

/** The old initializer: modified Gram–Schmidt, two passes, column-major [big, small]. */
function gramSchmidtQ(a: Float64Array, big: number, small: number): Float64Array {
  const q = Float64Array.from(a);
  for (let j = 0; j < small; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let d = 0;
        for (let i = 0; i < big; i++) d += q[k * big + i]! * q[j * big + i]!;
        for (let i = 0; i < big; i++) q[j * big + i]! -= d * q[k * big + i]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < big; i++) norm += q[j * big + i]! ** 2;
    for (let i = 0; i < big; i++) q[j * big + i]! /= Math.sqrt(norm);
  }
  return q;
}

/** W [rows, cols] from a column-major Q [big, small], as Keras lays it out (transposed when rows < cols). */
function layout(q: Float64Array, rows: number, cols: number): Float64Array {
  const big = Math.max(rows, cols);
  const w = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) w[r * cols + c] = rows >= cols ? q[c * big + r]! : q[r * big + c]!;
  return w;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/** max |WᵀW − I| over the smaller side (orthonormal columns, or rows when rows < cols). */
function orthogonality(w: Float32Array, rows: number, cols: number): number {
  const byCols = rows >= cols;
  const n = byCols ? cols : rows, len = byCols ? rows : cols;
  const at = (v: number, i: number) => (byCols ? w[i * cols + v]! : w[v * cols + i]!);
  let worst = 0;
  for (let p = 0; p < n; p++) {
    for (let q = p; q < n; q++) {
      let s = 0;
      for (let i = 0; i < len; i++) s += at(p, i) * at(q, i);
      worst = Math.max(worst, Math.abs(s - (p === q ? 1 : 0)));
    }
  }
  return worst;
}

describe('orthogonal initializer', () => {
  for (const [rows, cols] of [[5, 20], [20, 5], [7, 7], [33, 33], [13, 39], [64, 256], [1, 9], [6, 1], [130, 130]] as const) {
    it(`[${rows}, ${cols}]: Keras's Q (Householder QR with positive R diagonal, float64) and orthonormal`, () => {
      const w = orthogonalMatrix(rows, cols, normals(rows * 1000 + cols));
      const { a, big, small } = draws(rows, cols, rows * 1000 + cols);
      const householder = layout(householderQ(a, big, small), rows, cols);
      const mgs = layout(gramSchmidtQ(a, big, small), rows, cols);
      expect(maxDiff(w, householder)).toBeLessThan(1e-6); // float32 rounding of the same matrix
      expect(maxDiff(w, mgs)).toBeLessThan(1e-6);
      expect(orthogonality(w, rows, cols)).toBeLessThan(1e-6);
    });
  }

  it('an ill-conditioned draw falls back to Householder QR and stays orthonormal', () => {
    // two nearly parallel columns: Cholesky of AᵀA breaks down (κ ~ 1e10)
    let i = 0;
    const base = normals(5);
    const col0: number[] = [];
    const draw = () => {
      const v = base();
      const c = i % 3;
      i++;
      if (c === 0) col0.push(v);
      return c === 1 ? col0[col0.length - 1]! * (1 + 1e-10) : v;
    };
    const w = orthogonalMatrix(12, 3, draw);
    expect(w.every(Number.isFinite)).toBe(true);
    expect(orthogonality(w, 12, 3)).toBeLessThan(1e-6);
  });

  it('an LSTM(1024) builds (its recurrent kernel is the QR of a 4096 × 1024 matrix)', async () => {
    const H = 1024;
    const m = rnn.sequential({ layers: [rnn.layers.lstm({ units: H, inputShape: [null, 1] })], seed: 3 });
    const cpu = () => process.cpuUsage().user / 1e6;
    const [t0, c0] = [performance.now(), cpu()];
    await m.build();
    console.log(`LSTM(${H}) build (orthogonal ${H} × ${4 * H} recurrent kernel): ${((performance.now() - t0) / 1000).toFixed(1)} s (${(cpu() - c0).toFixed(1)} s CPU)`);
    const [, u] = await m.getWeights();
    expect(u!.shape).toEqual([H, 4 * H]);
    // rows of U are orthonormal: spot-check a few pairs
    const row = (r: number) => u!.data.subarray(r * 4 * H, (r + 1) * 4 * H);
    const dotRows = (p: number, q: number) => row(p).reduce((s, v, i) => s + v * row(q)[i]!, 0);
    for (const [p, q] of [[0, 0], [0, 1], [7, H - 1], [H / 2, H / 2]] as const) expect(Math.abs(dotRows(p, q) - (p === q ? 1 : 0))).toBeLessThan(1e-5);
    m.dispose();
  });
});
