/**
 * The order of a model's calls: they must not overlap, except that while fit waits for its
 * callbacks (or yields to the event loop between steps) other calls may run — predict, evaluate,
 * getWeights, setWeights, resetStates — but no training call (fit, trainOnBatch, gradients: they
 * use the epoch's running sums) and no compile or dispose. After dispose every call throws.
 */
export class CallGate {
  /** The call in progress, if any. */
  busy: string | null = null;
  /** fit is between steps (in a callback or yielding): non-exclusive calls may run. */
  paused = false;
  disposed = false;

  constructor(private readonly name: string) {}

  check(where: string, exclusive: boolean): void {
    if (this.disposed) throw new Error(`${this.name}.${where}: the model was disposed; create a new model`);
    if (this.busy && (exclusive || !this.paused)) {
      throw new Error(`${this.name}.${where}: the model is busy with ${this.busy} (${exclusive ? 'wait for it to finish' : 'await it first'})`);
    }
  }

  /** Runs `body` as the model's call `where`; `exclusive` calls may never run inside another call. */
  async run<T>(where: string, body: () => Promise<T>, exclusive = false): Promise<T> {
    this.check(where, exclusive);
    const outer = this.busy;
    const wasPaused = this.paused;
    this.busy = where;
    this.paused = false;
    try {
      return await body();
    } finally {
      this.busy = outer;
      this.paused = wasPaused;
    }
  }
}
