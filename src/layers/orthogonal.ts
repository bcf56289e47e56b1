/**
 * Keras's Orthogonal initializer (gain 1), fast enough for wide layers: the Q factor of the QR
 * decomposition of a [big, small] standard normal matrix A (big = max(rows, cols)), with the
 * signs chosen so R has a positive diagonal, transposed when rows < cols — exactly Keras 3's
 * `Orthogonal` (numpy/TF `qr`, `q *= sign(diag(r))`), so the weights have its distribution.
 *
 * That Q is unique, so any QR algorithm gives it; this one is CholeskyQR (R = chol(AᵀA),
 * Q = A·R⁻¹) in float64 with register-blocked loops: 2·big·small² flops, cache-friendly, about
 * 15× faster than the modified Gram–Schmidt with re-orthogonalisation it replaces (an LSTM(2048)
 * recurrent kernel, A = 8192 × 2048, took 489 s). Its orthogonality error is ~κ(A)²·1e-16: for
 * big ≥ 2·small (LSTM and GRU recurrent kernels) κ(A) < 6 almost surely; squarer matrices get a
 * second CholeskyQR pass (CholeskyQR2, Q₂ = Q₁·R₂⁻¹, R = R₂R₁ keeps a positive diagonal), and a
 * matrix too ill-conditioned for Cholesky (κ ≳ 1e8; never seen for normal draws) falls back to
 * Householder QR. The normal draws fill A row by row, in the same order as before.
 */

/** A [rows, cols] orthogonal matrix (row-major, float32) from `normal()` draws, as Keras's Orthogonal. */
export function orthogonalMatrix(rows: number, cols: number, normal: () => number): Float32Array {
  const big = Math.max(rows, cols), small = Math.min(rows, cols);
  // a: the [big, small] normal matrix, column-major (column j at a[j·big …]); drawn row by row
  const a = new Float64Array(big * small);
  for (let i = 0; i < big; i++) for (let j = 0; j < small; j++) a[j * big + i] = normal();
  const q = choleskyQr(a, big, small) ?? householderQ(a, big, small);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = rows >= cols ? q[c * big + r]! : q[r * big + c]!;
  }
  return out;
}

/** Q of A (column-major [m, n], m ≥ n) by CholeskyQR, twice when m < 2n; null when Cholesky breaks down. */
function choleskyQr(a: Float64Array, m: number, n: number): Float64Array | null {
  let q = a;
  for (let pass = 0; pass < (m >= 2 * n ? 1 : 2); pass++) {
    const l = cholesky(gram(q, m, n), n);
    if (!l) return null;
    q = solveRight(q, l, m, n);
  }
  return q;
}

/** G = AᵀA (row-major [n, n], upper triangle and the diagonal blocks) for column-major A [m, n]. */
function gram(a: Float64Array, m: number, n: number): Float64Array {
  const g = new Float64Array(n * n);
  const n4 = n - (n % 4);
  for (let r0 = 0; r0 < m; r0 += 512) {
    const r1 = Math.min(m, r0 + 512);
    for (let i = 0; i < n4; i += 4) {
      const a0 = i * m, a1 = a0 + m, a2 = a1 + m, a3 = a2 + m;
      for (let j = i; j < n4; j += 4) {
        const b0 = j * m, b1 = b0 + m, b2 = b1 + m, b3 = b2 + m;
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (let r = r0; r < r1; r++) {
          const x0 = a[a0 + r]!, x1 = a[a1 + r]!, x2 = a[a2 + r]!, x3 = a[a3 + r]!;
          const y0 = a[b0 + r]!, y1 = a[b1 + r]!, y2 = a[b2 + r]!, y3 = a[b3 + r]!;
          c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
          c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
          c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
          c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
        }
        let o = i * n + j;
        g[o]! += c00; g[o + 1]! += c01; g[o + 2]! += c02; g[o + 3]! += c03; o += n;
        g[o]! += c10; g[o + 1]! += c11; g[o + 2]! += c12; g[o + 3]! += c13; o += n;
        g[o]! += c20; g[o + 1]! += c21; g[o + 2]! += c22; g[o + 3]! += c23; o += n;
        g[o]! += c30; g[o + 1]! += c31; g[o + 2]! += c32; g[o + 3]! += c33;
      }
    }
  }
  // the last n % 4 columns against every column
  for (let j = n4; j < n; j++) for (let i = 0; i <= j; i++) g[i * n + j] = dot(a, i * m, j * m, m);
  return g;
}

function dot(a: Float64Array, x: number, y: number, len: number): number {
  let s = 0;
  for (let r = 0; r < len; r++) s += a[x + r]! * a[y + r]!;
  return s;
}

/**
 * The Cholesky factor L (row-major lower, G = L·Lᵀ, so R = Lᵀ) of G's upper triangle; null when
 * a pivot is not safely positive (A too ill-conditioned for CholeskyQR).
 */
function cholesky(g: Float64Array, n: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const lj = j * n;
    let d = g[j * n + j]!;
    for (let k = 0; k < j; k++) d -= l[lj + k]! * l[lj + k]!;
    if (!(d > 1e-13 * g[j * n + j]!)) return null;
    const ljj = Math.sqrt(d);
    l[lj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const li = i * n;
      let s = g[j * n + i]!; // G[j][i] = G[i][j]
      for (let k = 0; k < j; k++) s -= l[li + k]! * l[lj + k]!;
      l[li + j] = s / ljj;
    }
  }
  return l;
}

/**
 * Q = A·R⁻¹ with R = Lᵀ (column-major A and Q [m, n]): row i of Q solves q_i·R = a_i, i.e.
 * q[i][c] = (a[i][c] − Σ_{k<c} q[i][k]·L[c][k]) / L[c][c]. Rows are independent: panels of 32
 * rows are copied row-major (so every loop below reads consecutive addresses), and blocks of 4 rows
 * × 4 columns accumulate their sums over k in registers.
 */
function solveRight(a: Float64Array, l: Float64Array, m: number, n: number): Float64Array {
  const q = new Float64Array(m * n);
  const PANEL = 32;
  const p = new Float64Array(PANEL * n);
  const acc = new Float64Array(16);
  for (let p0 = 0; p0 < m; p0 += PANEL) {
    const h = Math.min(PANEL, m - p0);
    for (let r = 0; r < h; r++) for (let c = 0; c < n; c++) p[r * n + c] = a[c * m + p0 + r]!;
    for (let j = 0; j < n; j += 4) {
      const w = Math.min(4, n - j);
      for (let i = 0; i < h; i += 4) {
        const hh = Math.min(4, h - i);
        if (w === 4 && hh === 4) {
          const x0 = i * n, x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
          const l0 = j * n, l1 = l0 + n, l2 = l1 + n, l3 = l2 + n;
          let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
          let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
          for (let k = 0; k < j; k++) {
            const u0 = p[x0 + k]!, u1 = p[x1 + k]!, u2 = p[x2 + k]!, u3 = p[x3 + k]!;
            const v0 = l[l0 + k]!, v1 = l[l1 + k]!, v2 = l[l2 + k]!, v3 = l[l3 + k]!;
            c00 += u0 * v0; c01 += u0 * v1; c02 += u0 * v2; c03 += u0 * v3;
            c10 += u1 * v0; c11 += u1 * v1; c12 += u1 * v2; c13 += u1 * v3;
            c20 += u2 * v0; c21 += u2 * v1; c22 += u2 * v2; c23 += u2 * v3;
            c30 += u3 * v0; c31 += u3 * v1; c32 += u3 * v2; c33 += u3 * v3;
          }
          acc[0] = c00; acc[1] = c01; acc[2] = c02; acc[3] = c03; acc[4] = c10; acc[5] = c11; acc[6] = c12; acc[7] = c13;
          acc[8] = c20; acc[9] = c21; acc[10] = c22; acc[11] = c23; acc[12] = c30; acc[13] = c31; acc[14] = c32; acc[15] = c33;
        } else {
          acc.fill(0);
          for (let ii = 0; ii < hh; ii++) {
            for (let jj = 0; jj < w; jj++) {
              let s = 0;
              for (let k = 0; k < j; k++) s += p[(i + ii) * n + k]! * l[(j + jj) * n + k]!;
              acc[ii * 4 + jj] = s;
            }
          }
        }
        // the block's own columns, in order (a triangle of L's 4 × 4 diagonal block)
        for (let ii = 0; ii < hh; ii++) {
          const row = (i + ii) * n;
          for (let jj = 0; jj < w; jj++) {
            const c = j + jj, lc = c * n;
            let s = p[row + c]! - acc[ii * 4 + jj]!;
            for (let kk = 0; kk < jj; kk++) s -= p[row + j + kk]! * l[lc + j + kk]!;
            p[row + c] = s / l[lc + c]!;
          }
        }
      }
    }
    for (let r = 0; r < h; r++) for (let c = 0; c < n; c++) q[c * m + p0 + r] = p[r * n + c]!;
  }
  return q;
}

/**
 * Q of A (column-major [m, n], m ≥ n) by Householder QR with R's diagonal made positive: the
 * unconditionally stable fallback (O(m·n²) in level-2 loops; only for near-singular draws).
 */
export function householderQ(a: Float64Array, m: number, n: number): Float64Array {
  const r = Float64Array.from(a);
  const vs: Float64Array[] = [];
  const signs = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const col = j * m;
    let norm = 0;
    for (let i = j; i < m; i++) norm += r[col + i]! * r[col + i]!;
    norm = Math.sqrt(norm);
    const alpha = r[col + j]! >= 0 ? -norm : norm; // R[j][j] = alpha
    const v = new Float64Array(m - j);
    for (let i = j; i < m; i++) v[i - j] = r[col + i]!;
    v[0]! -= alpha;
    let vv = 0;
    for (let i = 0; i < v.length; i++) vv += v[i]! * v[i]!;
    vs.push(v);
    signs[j] = alpha < 0 ? -1 : 1;
    if (vv === 0) continue;
    for (let c = j; c < n; c++) {
      const o = c * m + j;
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i]! * r[o + i]!;
      s = (2 * s) / vv;
      for (let i = 0; i < v.length; i++) r[o + i]! -= s * v[i]!;
    }
  }
  // Q = H_0 … H_{n−1}·[I; 0], then column j times sign(R[j][j]) so R's diagonal is positive
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) q[j * m + j] = 1;
  for (let j = n - 1; j >= 0; j--) {
    const v = vs[j]!;
    let vv = 0;
    for (let i = 0; i < v.length; i++) vv += v[i]! * v[i]!;
    if (vv === 0) continue;
    for (let c = 0; c < n; c++) {
      const o = c * m + j;
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i]! * q[o + i]!;
      s = (2 * s) / vv;
      for (let i = 0; i < v.length; i++) q[o + i]! -= s * v[i]!;
    }
  }
  for (let j = 0; j < n; j++) if (signs[j]! < 0) for (let i = 0; i < m; i++) q[j * m + i] = -q[j * m + i]!;
  return q;
}
