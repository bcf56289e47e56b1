/**
 * Node only: how Dawn's binding (the `webgpu` package) learns that GPU work has finished, made
 * cheap. While any mapAsync / onSubmittedWorkDone promise is pending, the binding polls: it looks
 * up `globalThis.setImmediate` and re-arms it, again and again, with an anonymous native callback
 * that processes Dawn's events (and makes a new JS function each time, so the garbage collector
 * runs too). That is a busy loop on the main thread for the whole of every wait. On a CPU
 * adapter it takes the core the kernels need: on the 2-core development machine the main thread
 * used ~0.8 of a core while training, lavapipe's two worker threads ~0.4 each (perf), and an
 * LSTM(128) training step took 211–215 ms instead of 119–123 (docs/performance.md).
 *
 * `throttleDawnPolling` wraps the global setImmediate. Dawn's poll callbacks still run at once for
 * the first DAWN_POLL_SPIN_MS of a wait, so short waits keep their latency. After that they run
 * from a 1 ms timer, so a long wait costs a few microseconds per millisecond and finishes at
 * most ~1 ms late. Every other callback goes to the original setImmediate untouched.
 * WEBGPU_RNN_DAWN_POLL=spin keeps the binding's own polling.
 *
 * The exception is work made of many small dispatches (noteSubmit): lavapipe hands every dispatch
 * to its worker threads and back through futexes, and with ~1700 tiny dispatches per training
 * step (a custom cell run step by step) that handoff sets the pace. It is about twice as fast
 * while a core stays busy (no idle core to wake), so waits on such work poll back to back.
 */

/** How long (ms) a wait polls back to back before it polls once per millisecond. */
export const DAWN_POLL_SPIN_MS = 0.5;

/** Compute dispatches in one submit from which waits on it poll back to back (noteSubmit). */
export const DAWN_POLL_SPIN_DISPATCHES = 256;

type Callback = (...args: unknown[]) => void;

/** What the scheduler runs on (the real clock and timers, or a test's fakes). */
export interface PollClock {
  now(): number;
  /** Run soon (setImmediate). */
  immediate(fn: () => void): unknown;
  /** Run after about a millisecond (setTimeout(fn, 1)). */
  later(fn: () => void): unknown;
}

/**
 * The scheduling rule, apart from the globals: schedule(poll, args) runs poll(...args) through
 * `immediate` during the first `spinMs` of a wait (or while `spinAlways()`), else through `later`. A wait starts with the
 * first poll scheduled while none is running and ends with a poll that does not re-arm itself
 * (the binding stops polling when nothing is pending).
 */
export function pollScheduler(clock: PollClock, spinMs = DAWN_POLL_SPIN_MS, spinAlways: () => boolean = () => false): (poll: Callback, args: unknown[]) => unknown {
  let waitStart = -1; // clock time of the current wait's first poll; -1 between waits
  let rearmed = false;
  return (poll, args) => {
    rearmed = true;
    const now = clock.now();
    if (waitStart < 0) waitStart = now;
    const run = () => {
      rearmed = false;
      try {
        poll(...args);
      } finally {
        if (!rearmed) waitStart = -1; // the last poll of this wait
      }
    };
    return now - waitStart < spinMs || spinAlways() ? clock.immediate(run) : clock.later(run);
  };
}

/** True for the binding's poll callback: an anonymous native function (not a bound one, those are named "bound …"). */
export function isDawnPoll(fn: unknown): fn is Callback {
  return typeof fn === 'function' && fn.name === '' && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn));
}

let installed = false;
let manyDispatches = false;

/**
 * Records how many compute dispatches the latest submit holds: from DAWN_POLL_SPIN_DISPATCHES on,
 * waits poll back to back until a smaller submit is noted (see the top of this file).
 */
export function noteSubmit(dispatches: number): void {
  manyDispatches = dispatches >= DAWN_POLL_SPIN_DISPATCHES;
}
const counts = { immediate: 0, later: 0 };

/** How many of Dawn's polls this thread has run at once and from the timer since throttleDawnPolling (diagnostics, tests). */
export function dawnPollCounts(): { immediate: number; later: number } {
  return { ...counts };
}

/**
 * Installs the throttled setImmediate in this thread (once; a no-op without a global
 * setImmediate, i.e. outside Node, or with WEBGPU_RNN_DAWN_POLL=spin). Returns whether it is installed.
 */
export function throttleDawnPolling(env: Record<string, string | undefined>): boolean {
  const g = globalThis as { setImmediate?: (fn: Callback, ...args: unknown[]) => unknown };
  const immediate = g.setImmediate;
  if (installed || typeof immediate !== 'function' || env.WEBGPU_RNN_DAWN_POLL === 'spin') return installed;
  const schedule = pollScheduler({
    now: () => performance.now(),
    immediate: (fn) => (counts.immediate++, immediate(fn)),
    later: (fn) => (counts.later++, setTimeout(fn, 1)),
  }, DAWN_POLL_SPIN_MS, () => manyDispatches);
  const setImmediate = function setImmediate(fn: Callback, ...args: unknown[]): unknown {
    return isDawnPoll(fn) ? schedule(fn, args) : immediate(fn, ...args);
  };
  // util.promisify(setImmediate) and friends read properties of the function (a promisify symbol)
  for (const key of Reflect.ownKeys(immediate)) {
    if (!Object.prototype.hasOwnProperty.call(setImmediate, key)) Object.defineProperty(setImmediate, key, Object.getOwnPropertyDescriptor(immediate, key)!);
  }
  g.setImmediate = setImmediate;
  installed = true;
  return true;
}
