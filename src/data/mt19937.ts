/**
 * MT19937 Mersenne Twister, matching numpy's legacy `np.random.seed(n)` / `np.random.rand`.
 * Seeding is the reference `init_genrand` (32-bit integer seed, not `init_by_array`), and a
 * double is built from two consecutive 32-bit outputs exactly as numpy's `legacy_double`:
 * `((a >>> 5) * 2^26 + (b >>> 6)) / 2^53`. Only used to reproduce reference data sets;
 * it is not a cryptographic generator.
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** Mersenne Twister MT19937 with numpy-compatible seeding and double conversion. */
export class MT19937 {
  private readonly mt = new Uint32Array(N);
  private index = N;

  /**
   * Seed with `init_genrand(seed)`, as `np.random.seed(seed)` does for an integer seed.
   * @param seed integer in [0, 2^32 − 1].
   */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`MT19937: seed must be an integer in [0, 2^32 - 1], got ${seed}`);
    }
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]!;
      // NOTE: Math.imul keeps the 32-bit wrap-around of the C reference (1812433253 * x mod 2^32).
      mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
  }

  /** Regenerate all 624 state words (the "twist"). */
  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < N; i++) {
      const y = (mt[i]! & UPPER_MASK) | (mt[(i + 1) % N]! & LOWER_MASK);
      mt[i] = mt[(i + M) % N]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.index = 0;
  }

  /** Next tempered 32-bit output as an unsigned integer in [0, 2^32). */
  nextU32(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Next double in [0, 1) with 53 random bits, bit-identical to numpy's `rand()`. */
  random(): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** `n` consecutive doubles, like `np.random.rand(n)` (row-major for any reshape). */
  rand(n: number): Float64Array {
    if (!Number.isInteger(n) || n < 0) {
      throw new Error(`MT19937.rand: n must be a non-negative integer, got ${n}`);
    }
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.random();
    return out;
  }
}
