/**
 * Dawn's busy polling throttled (src/gpu/dawn-poll.ts): the scheduling rule with a fake clock,
 * which callbacks count as Dawn's, and, on the real device, that a long GPU wait polls about once
 * per millisecond instead of back to back (unless the last submit held many dispatches) while
 * other setImmediate callbacks are untouched.
 */
import { describe, it, expect } from 'vitest';
import { promisify } from 'node:util';
import { gpuContext, input, Graph } from '../helpers/gpu';
import { pollScheduler, isDawnPoll, dawnPollCounts, noteSubmit, DAWN_POLL_SPIN_MS, DAWN_POLL_SPIN_DISPATCHES } from '../../src/gpu/dawn-poll';
import { readback } from '../../src/gpu/io';
import { gemm } from '../../src/ops/matmul';

function fakeClock() {
  const log: string[] = [];
  const queue: (() => void)[] = [];
  const clock = {
    t: 0,
    now: () => clock.t,
    immediate: (fn: () => void) => (log.push(`immediate@${clock.t}`), queue.push(fn)),
    later: (fn: () => void) => (log.push(`later@${clock.t}`), queue.push(fn)),
  };
  const step = (dt: number) => {
    clock.t += dt;
    queue.shift()!();
  };
  return { clock, log, queue, step };
}

describe('Dawn poll throttling', () => {
  it('polls back to back for the first DAWN_POLL_SPIN_MS of a wait, then from the timer; a wait that ends resets it', () => {
    const { clock, log, queue, step } = fakeClock();
    const schedule = pollScheduler(clock, 1);
    let pending = 4; // the binding re-arms while work is pending
    const poll = () => { if (--pending > 0) schedule(poll, []); };
    schedule(poll, []);
    step(0.25); // t = 0.25: re-arms at once (0.25 < 1 ms into the wait)
    step(0.25); // t = 0.5
    step(0.5); // t = 1: past the spin budget: the timer
    step(1); // pending reaches 0: this wait ends without re-arming
    expect(queue).toHaveLength(0);
    expect(log).toEqual(['immediate@0', 'immediate@0.25', 'immediate@0.5', 'later@1']);
    pending = 3; // a new wait spins again
    schedule(poll, []);
    step(0.25);
    step(0.25);
    step(0.25);
    expect(queue).toHaveLength(0);
    expect(log.slice(4)).toEqual(['immediate@2', 'immediate@2.25', 'immediate@2.5']);
  });

  it('polls back to back for as long as spinAlways() says (a submit of many small dispatches)', () => {
    const { clock, log, step } = fakeClock();
    let many = true;
    const schedule = pollScheduler(clock, 1, () => many);
    let pending = 4;
    const poll = () => { if (--pending > 0) schedule(poll, []); };
    schedule(poll, []);
    step(2); // t = 2: past the spin budget, still at once
    many = false;
    step(2); // t = 4: now the timer
    step(2);
    expect(log).toEqual(['immediate@0', 'immediate@2', 'later@4', 'later@6']);
  });

  it('a poll that throws still ends its wait', () => {
    const { clock, log, step } = fakeClock();
    const schedule = pollScheduler(clock, 0.5);
    schedule(() => { throw new Error('boom'); }, []);
    clock.t = 5;
    expect(() => step(0)).toThrow('boom');
    schedule(() => undefined, []);
    expect(log).toEqual(['immediate@0', 'immediate@5']);
  });

  it("recognises the binding's callback (an anonymous native function) and nothing else", () => {
    let resolve!: (v: unknown) => void;
    void new Promise((r) => (resolve = r));
    expect(resolve.name).toBe('');
    expect(isDawnPoll(resolve)).toBe(true); // anonymous and native, like Napi::Function::New's
    expect(isDawnPoll(() => undefined)).toBe(false);
    expect(isDawnPoll(function named() {})).toBe(false);
    expect(isDawnPoll(Math.max)).toBe(false); // native, named
    expect(isDawnPoll(function () {}.bind(null))).toBe(false); // native text, named "bound "
    expect(isDawnPoll('function () { [native code] }')).toBe(false);
  });

  it('on the real device: installed, other callbacks untouched, and a long GPU wait polls about once per millisecond', async () => {
    const ctx = await gpuContext();
    expect(globalThis.setImmediate.name).toBe('setImmediate');
    expect(await promisify(setImmediate)('value')).toBe('value'); // util.promisify still works
    const order: string[] = [];
    await new Promise<void>((done) => {
      setImmediate((a: string) => order.push(a), 'first');
      setImmediate(() => (order.push('second'), done()));
    });
    expect(order).toEqual(['first', 'second']);

    // a GEMM big enough to keep the software adapter busy for a while
    const g = new Graph(ctx, false);
    const M = 512, K = 512, N = 512;
    const a = input(g, [M, K], new Float64Array(M * K).fill(0.5));
    const b = input(g, [K, N], new Float64Array(K * N).fill(0.25));
    const c = g.alloc([M, N], 'c');
    await gemm(g, g.forward, { M, N, K, a: { t: a, rowStride: K }, b: { t: b, rowStride: N }, c: { t: c, rowStride: N } });
    const enc = ctx.device.createCommandEncoder();
    g.encode(enc);
    const before = dawnPollCounts();
    const t0 = performance.now();
    ctx.device.queue.submit([enc.finish()]);
    const [out] = await readback(ctx.device, c);
    const waitMs = performance.now() - t0;
    const after = dawnPollCounts();
    expect(out![0]).toBe(0.5 * 0.25 * K);
    const polls = after.immediate + after.later - before.immediate - before.later;
    expect(waitMs, 'the GEMM should keep the adapter busy for several milliseconds').toBeGreaterThan(5 * DAWN_POLL_SPIN_MS);
    expect(after.later - before.later, 'the timer took over after the spin budget (WEBGPU_RNN_DAWN_POLL=spin turns the throttling off)').toBeGreaterThan(0);
    // back to back, a wait polls every few microseconds; throttled, about once per millisecond
    // plus the spin budget's polls
    expect(polls).toBeLessThan(waitMs + 500);

    // after a submit of many dispatches (noteSubmit), the same wait polls back to back
    noteSubmit(DAWN_POLL_SPIN_DISPATCHES);
    try {
      const enc2 = ctx.device.createCommandEncoder();
      g.encode(enc2);
      const mid = dawnPollCounts();
      ctx.device.queue.submit([enc2.finish()]);
      await readback(ctx.device, c);
      expect(dawnPollCounts().later - mid.later).toBe(0);
    } finally {
      noteSubmit(0);
    }
    g.dispose();
  });
});
