/**
 * Training callbacks with Keras 3 semantics (keras/src/callbacks/*.py), exported as
 * `rnn.callbacks.*`. They run between epochs (fit reads the loss back once per epoch), so what
 * they read back (best weights, checkpoints, terminateOnNaN's last good copy) costs one readback
 * per epoch, never one per step.
 */
import { EarlyStopping, type EarlyStoppingArgs } from './early-stopping';
import { ReduceLROnPlateau, TerminateOnNaN, type ReduceLROnPlateauArgs } from './reduce-lr';
import { ModelCheckpoint, type ModelCheckpointArgs } from './checkpoint';
import { CSVLogger, HistoryLogger, type CsvLoggerArgs, type HistoryLoggerArgs } from './loggers';

export { BaseCallback, type CallbackModel } from './base';
export { EarlyStopping, type EarlyStoppingArgs } from './early-stopping';
export { ReduceLROnPlateau, TerminateOnNaN, type ReduceLROnPlateauArgs } from './reduce-lr';
export { ModelCheckpoint, readCheckpoint, writeFileAtomic, type MemoryCheckpoint, type ModelCheckpointArgs, type CheckpointFile } from './checkpoint';
export { CSVLogger, HistoryLogger, type CsvLoggerArgs, type HistoryLoggerArgs } from './loggers';

/** Callback factories with tfjs/Keras names (`rnn.callbacks.earlyStopping({patience: 3})`). */
export const callbacks = {
  /** Stop when the monitored value stops improving (Keras `EarlyStopping`). */
  earlyStopping: (args: EarlyStoppingArgs = {}) => new EarlyStopping(args),
  /** Reduce the learning rate on a plateau (Keras `ReduceLROnPlateau`). */
  reduceLROnPlateau: (args: ReduceLROnPlateauArgs = {}) => new ReduceLROnPlateau(args),
  /** Stop on a NaN/Inf epoch loss and restore the last good weights (Keras `TerminateOnNaN`). */
  terminateOnNaN: () => new TerminateOnNaN(),
  /** Save weights every epoch or on improvement, in memory or to a file (Keras `ModelCheckpoint`). */
  modelCheckpoint: (args: ModelCheckpointArgs) => new ModelCheckpoint(args),
  /** The history as CSV text / file (Keras `CSVLogger`). */
  csvLogger: (args: CsvLoggerArgs = {}) => new CSVLogger(args),
  /** The history as JSON text / file. */
  historyLogger: (args: HistoryLoggerArgs = {}) => new HistoryLogger(args),
};
