/**
 * Loggers of the training history: CSVLogger (Keras) and HistoryLogger (JSON), as text and, in
 * Node, as files written atomically after every epoch.
 */
import type { Logs } from '../model/types';
import { BaseCallback } from './base';
import { checkWritablePath, readFileText, writeFileAtomic } from './checkpoint';
import { checkOptions, is } from '../options';

/** Formats a log value: the shortest text that reads back as the same number. */
function fmt(v: number | undefined): string {
  return v === undefined ? 'NA' : String(v);
}

/** Options of {@link CSVLogger} (Keras `CSVLogger`). */
export interface CsvLoggerArgs {
  /** File (Node) rewritten atomically after every epoch; omit to keep the text in memory only (`logger.text`). */
  filename?: string;
  /** Default ','. */
  separator?: string;
  /** Append to an existing file (its header is kept) instead of overwriting. Default false. */
  append?: boolean;
}

/**
 * The history as CSV, Keras layout: a header `epoch,<log names sorted>` and one row per epoch.
 * Always kept in `text`; also written to `filename` if given.
 */
export class CSVLogger extends BaseCallback {
  /** The file written after every epoch, or null. */
  readonly filename: string | null;
  /** The column separator. */
  readonly separator: string;
  /** Whether an existing file is appended to. */
  readonly append: boolean;
  /** The CSV written so far. */
  text = '';
  private keys: string[] | null = null;
  private prefix = '';

  constructor(args: CsvLoggerArgs = {}) {
    super();
    checkOptions('csvLogger', args, { filename: is.string, separator: is.string, append: is.boolean }, "{filename: 'log.csv'}");
    if (args.filename !== undefined && (typeof args.filename !== 'string' || !args.filename)) throw new TypeError(`csvLogger: filename must be a non-empty string, got ${JSON.stringify(args.filename)}`);
    this.filename = args.filename ?? null;
    this.separator = args.separator ?? ',';
    if (typeof this.separator !== 'string' || this.separator.length !== 1) throw new RangeError(`csvLogger: separator must be one character, got ${JSON.stringify(args.separator)}`);
    this.append = Boolean(args.append ?? false);
  }

  /** Starts the text (reading the existing file when appending). */
  async onTrainBegin(): Promise<void> {
    if (this.filename) await checkWritablePath(this.filename, 'csvLogger');
    this.keys = null;
    this.prefix = '';
    if (this.append) {
      const existing = this.filename ? await readFileText(this.filename) : this.text;
      this.prefix = existing ?? '';
    }
    this.text = this.prefix;
  }

  /** Adds the epoch's row (and writes the file). */
  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const sep = this.separator;
    if (!this.keys) {
      this.keys = Object.keys(logs).sort();
      if (!this.prefix) this.text += ['epoch', ...this.keys].join(sep) + '\n';
    }
    this.text += [String(epoch), ...this.keys.map((k) => fmt(logs[k]))].join(sep) + '\n';
    if (this.filename) await writeFileAtomic(this.filename, this.text);
  }
}

/** Options of {@link HistoryLogger}. */
export interface HistoryLoggerArgs {
  /** File (Node) rewritten atomically after every epoch; omit to keep the JSON in memory only. */
  filename?: string;
}

/**
 * The history as JSON `{"epoch": [...], "history": {"loss": [...], ...}}` (the shape fit
 * returns), updated after every epoch; kept in `text` and written to `filename` if given.
 * Non-finite values are written as null (JSON has no NaN).
 */
export class HistoryLogger extends BaseCallback {
  /** The file written after every epoch, or null. */
  readonly filename: string | null;
  /** The JSON text so far. */
  text = '';
  /** The history so far. */
  readonly history: {
    /** The epochs logged. */
    epoch: number[];
    /** Per log name, one value per epoch. */
    history: Record<string, number[]>;
  } = { epoch: [], history: {} };

  constructor(args: HistoryLoggerArgs = {}) {
    super();
    checkOptions('historyLogger', args, { filename: is.string }, "{filename: 'history.json'}");
    if (args.filename !== undefined && (typeof args.filename !== 'string' || !args.filename)) throw new TypeError(`historyLogger: filename must be a non-empty string, got ${JSON.stringify(args.filename)}`);
    this.filename = args.filename ?? null;
  }

  /** Clears the history; checks that the file's folder exists and is writable. */
  async onTrainBegin(): Promise<void> {
    if (this.filename) await checkWritablePath(this.filename, 'historyLogger');
    this.history.epoch.length = 0;
    for (const k of Object.keys(this.history.history)) delete this.history.history[k];
  }

  /** Adds the epoch's logs (and writes the file). */
  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    this.history.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history.history[k] ??= []).push(v);
    this.text = JSON.stringify(this.history);
    if (this.filename) await writeFileAtomic(this.filename, this.text);
  }
}
