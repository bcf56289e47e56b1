/**
 * Host-side (CPU) arrays: what users pass in and get back.
 * Shapes are row-major; sequences are batch-major `[B, T, F]` as in Keras.
 */
export interface HostTensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}
