/**
 * Named numeric tolerances shared by the tests. Every constant says why it has
 * the value it has; change the reason together with the number.
 */

/** Relative tolerance (scaled by max(1,|a|,|n|)) of float64 reference gradients vs central differences. */
export const GRADCHECK_F64 = 1e-7; // central differences in float64 with h=1e-6: truncation ~h^2, rounding ~eps/h ≈ 2e-10

/** Step of the central differences used with GRADCHECK_F64. */
export const GRADCHECK_STEP = 1e-6; // balances truncation error (~h^2 = 1e-12) against rounding error (~eps*|f|/h ≈ 2e-10*|f|)

/** fp32 GPU forward kernels vs the float64 reference: |gpu-ref| <= atol + rtol*|ref|. */
export const FORWARD = { atol: 1e-5, rtol: 1e-4 }; // fp32 (eps ≈ 1.2e-7) accumulated over O(K) products in a dot product of length K

/** fp32 GPU gradients vs the float64 reference: |gpu-ref| <= atol + rtol*|ref|. */
export const GRAD = { atol: 1e-4, rtol: 1e-3 }; // gradients flow back through T steps and sum over B*T terms in fp32, so error compounds

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Results that are exact in f32 (small integers, powers of two). */
export const EXACT = { atol: 0, rtol: 0 }; // no rounding happens, so any difference is a bug
