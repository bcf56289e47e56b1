/**
 * `rnn.recover()`: after the GPU device was lost, a new device (self-tested like the first) and
 * every live model moved onto it from its host backup — the weights, the optimizer's moments and
 * counters, the layers' random streams (backup.ts, device-state.ts) — so that predict works again
 * and `fit(…, {resume: true})` continues an interrupted run exactly. Models register here when
 * they are built (weakly: a model nobody holds is not kept alive).
 */
import type { Context } from '../gpu/context';
import type { GpuInfo } from '../gpu/device';
import { modelContext } from './self-test';

/** What recover() needs of a model. */
export interface Recoverable {
  /** Moves the model to `ctx` (false when it was already there, or has no weights yet). */
  moveToDevice(ctx: Context): Promise<boolean>;
  /** True once disposed (nothing to move). */
  readonly isDisposed: boolean;
}

const live = new Set<WeakRef<Recoverable>>();

/** Registers a built model for recover(). */
export function trackModel(m: Recoverable): void {
  live.add(new WeakRef(m));
}

/** What recover() did. */
export interface RecoverResult {
  /** The models moved to the new device. */
  models: number;
  /** The new device's adapter. */
  gpu: GpuInfo;
}

/**
 * After a device loss (a `DeviceLostError`), gets a new GPU device and moves every model onto it
 * from its host backup: the weights as of its last backup (the training loop's last sync point:
 * every 8 steps and every epoch's end), its optimizer state and random streams. Then `predict`
 * and the other calls work again, and `fit(x, y, {...the same options, resume: true})` continues
 * an interrupted fit from that point as the uninterrupted run would have. Stored recurrent states
 * (predictStep, `stateful` layers) start again from zeros. Models built on a device that is still
 * alive are left alone.
 *
 * @example
 * ```ts
 * try {
 *   await model.fit(x, y, args);
 * } catch (e) {
 *   if (!(e instanceof rnn.DeviceLostError)) throw e;
 *   await rnn.recover();
 *   await model.fit(x, y, { ...args, resume: true });
 * }
 * ```
 */
export async function recover(): Promise<RecoverResult> {
  const ctx = await modelContext();
  let models = 0;
  for (const ref of [...live]) {
    const m = ref.deref();
    if (!m || m.isDisposed) {
      live.delete(ref);
      continue;
    }
    if (await m.moveToDevice(ctx)) models++;
  }
  return { models, gpu: ctx.gpu.info };
}
