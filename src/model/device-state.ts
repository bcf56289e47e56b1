/**
 * What a model holds on its GPU device — the context, the weights' arena, the optimizer state, the
 * cached plans and the loss sums — with the host backup that outlives the device (backup.ts). The
 * Model (model.ts) runs on it; after a device loss, `moveTo` rebuilds it on a new device from the
 * backup (rnn.recover(), recover.ts), and `restore` puts the backup back on a live device (a fit
 * resumed without a loss).
 */
import type { Context } from '../gpu/context';
import type { ParamArena, Variable } from '../gpu/arena';
import { DeviceLostError } from '../gpu/device';
import type { Layer } from '../layers/layer';
import { hasRandomStream } from '../layers/random-stream';
import type { Optimizer, OptimizerState } from '../optim/optimizers';
import { PlanCache, Totals } from './plans';
import { captureBackup, emptyBackup, positionNote, type FitPosition, type PendingBackup, type TrainingBackup } from './backup';
import { readback } from '../gpu/io';
import { checkTrainingLimits } from './limits';
import { indexArena, releaseArena } from './weights';
import { layersWithin } from './serialize';

export class DeviceState {
  ctx: Context | null = null;
  arena: ParamArena | null = null;
  /** The arena was built by this model (else it belongs to the model whose layers this one reuses). */
  ownsArena = false;
  optState: OptimizerState | null = null;
  /** Which variables the optimizer state was built for (trainable flags can change). */
  optVars = '';
  readonly plans = new PlanCache();
  totals: Totals | null = null;
  /** Evaluation's own sums, so a callback's evaluate() does not disturb the epoch's. */
  evalTotals: Totals | null = null;
  /** The training state as of the last host backup (the weights: arena.host). */
  readonly backup: TrainingBackup = emptyBackup();

  constructor(private readonly name: string) {}

  /** (Re)makes the loss sums on the model's context with `slots` slots. */
  makeTotals(slots: number): void {
    this.totals?.destroy();
    this.evalTotals?.destroy();
    this.totals = new Totals(this.ctx!, slots);
    this.evalTotals = new Totals(this.ctx!, slots);
  }

  /** The optimizer state for `vars` (rebuilt when they changed: layers frozen or unfrozen). */
  async ensureOptimizer(optimizer: Optimizer, vars: readonly Variable[], where: string): Promise<OptimizerState> {
    const key = vars.map((v) => v.offset).join(',');
    if (this.optState && key !== this.optVars) {
      // trainable changed: train plans and the optimizer's slots follow (Keras: after recompiling)
      this.optState.destroy();
      this.optState = null;
      this.plans.dispose('train');
    }
    if (!this.optState) {
      checkTrainingLimits(this.arena!.length * 4, this.ctx!.device.limits, `${this.name}.${where}`);
      this.optState = await optimizer.build(this.ctx!, this.arena!, vars);
      this.optVars = key;
    }
    return this.optState;
  }

  /** Throws a DeviceLostError for call `where` when the model's device is lost (saying what the host kept). */
  checkDevice(where: string): void {
    if (this.ctx?.gpu.isLost) throw this.lostError(where);
  }

  /** `e` as the model's call `where` reports it: a DeviceLostError saying what the host kept, when the device is lost. */
  explain(e: unknown, where: string): unknown {
    return this.ctx?.gpu.isLost || e instanceof DeviceLostError ? this.lostError(where, e) : e;
  }

  private lostError(where: string, cause?: unknown): DeviceLostError {
    const gpu = this.ctx!.gpu;
    const pos = this.backup.position;
    const kept = this.arena?.host ? `The weights ${pos ? `and training state ${positionNote(pos)}` : this.arena.host.note} are kept on the host (getWeights() reads them). ` : '';
    const next = pos ? `, then fit(…, {…the same options, resume: true}) continues the run from there` : '';
    return new DeviceLostError(`${this.name}.${where}: ${gpu.lostMessage ?? 'the GPU device was lost'}. ${kept}Call \`await rnn.recover()\` to move every model to a new device${next}.`, cause ? { cause } : undefined);
  }

  /** What one host backup reads (with the layers' random streams), and what keeps it. */
  captureBackup(layers: readonly Layer[]): PendingBackup {
    return captureBackup({ ctx: this.ctx!, arena: this.arena!, optimizer: this.optState, layers }, this.backup);
  }

  /** The loss sums after a step (trainOnBatch), read with a host backup in one readback. */
  async readTotals(layers: readonly Layer[], note: string): Promise<Float32Array> {
    const pending = this.captureBackup(layers);
    const [sums, ...data] = await readback(this.ctx!.device, this.totals!.tensor, ...pending.tensors);
    this.ctx!.gpu.checkErrors();
    pending.commit(data, note, null);
    return sums!;
  }

  /**
   * Where `fit(…, {resume: true})` continues: the backup's position, after checking it belongs to a
   * run like this one; the backup is put back on the device (the weights may have moved on since).
   */
  resumePoint(batchesPerEpoch: number, epochs: number, layers: readonly Layer[], optimizer: OptimizerState, where: string): FitPosition {
    const p = this.backup.position;
    if (!p) throw new Error(`${where}: resume: true, but there is no interrupted run to resume (fit ran to its end, or never ran)`);
    if (p.batchesPerEpoch !== batchesPerEpoch || p.epochs !== epochs) {
      throw new RangeError(`${where}: resume: true continues the interrupted run, which had ${p.epochs} epochs of ${p.batchesPerEpoch} batches; this one has ${epochs} of ${batchesPerEpoch} (give fit the same data and options)`);
    }
    this.restore(layers, optimizer);
    return p;
  }

  /**
   * Puts the backup on the device: the weights (arena.host), the optimizer's moments and counters
   * (`optimizer`: the state rebuilt for the trained variables) and the layers' random streams.
   */
  restore(layers: readonly Layer[], optimizer: OptimizerState | null): void {
    const { arena, backup } = this;
    if (arena?.host) this.ctx!.device.queue.writeBuffer(arena.params, 0, arena.host.data.buffer, arena.host.data.byteOffset, arena.host.data.byteLength);
    if (optimizer && backup.optimizer) optimizer.importState(backup.optimizer);
    for (const { layer } of layersWithin(layers)) {
      const words = backup.streams.get(layer);
      if (words && hasRandomStream(layer)) {
        layer.randomStream.dispose(); // its next buffer (on this context) starts from the words
        layer.randomStream.restore(words);
      }
    }
  }

  /**
   * Moves everything to `ctx` (a new device after a loss): the arena rebuilt from its host copy
   * (once, for all models sharing it), new loss sums, no plans (they are rebuilt on use), the
   * optimizer rebuilt by `rebuildOptimizer` and given the backup's state, the random streams
   * restored (stored recurrent states start again from zeros: state-store.ts). Returns false when
   * the model was already there.
   */
  async moveTo(ctx: Context, slots: number, layers: readonly Layer[], rebuildOptimizer: () => Promise<OptimizerState | null>): Promise<boolean> {
    if (this.ctx === ctx || !this.arena) return false;
    this.plans.dispose(); // (their buffers go back to the lost device's pool)
    this.optState?.destroy();
    this.optState = null;
    this.optVars = '';
    if (this.arena.ctx !== ctx) {
      this.arena.moveTo(ctx);
      indexArena(this.arena);
    }
    this.ctx = ctx;
    this.makeTotals(slots);
    this.restore(layers, await rebuildOptimizer());
    return true;
  }

  /** Frees the GPU memory (dispose); the layers too when the arena goes with it. */
  dispose(layers: readonly Layer[]): void {
    this.plans.dispose();
    this.optState?.destroy();
    // The weights live on while another model made from these layers still uses them; with the
    // last one the layers are disposed too (stored recurrent state, random streams).
    if (this.arena && releaseArena(this.arena, this.name)) for (const l of layers) (l as { disposeState?: () => void }).disposeState?.();
    this.totals?.destroy();
    this.evalTotals?.destroy();
    this.optState = null;
    this.arena = null;
    // The plans' activation buffers went back to the shared pool; free the idle ones.
    this.ctx?.pool.trim();
  }
}
