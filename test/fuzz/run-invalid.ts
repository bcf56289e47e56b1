/**
 * Runs one invalid fuzz case: the call must throw an Error (not hang, not crash the process, not
 * resolve) whose message matches the case's words and is not an internal failure (a TypeError
 * about `undefined`, a typed-array length, a GPU error); no GPU state may change before it
 * throws (no buffer, pipeline, bind group, submit or write — see gpu-watch.ts) and no GPU error
 * may be raised; a built model keeps its weights and still trains afterwards.
 */
import * as rnn from '../../src/index';
import { drainGpuErrors, gpuWatch } from './gpu-watch';
import type { InvalidCase, Prepared } from './invalid-cases';

export interface InvalidResult {
  status: 'ok' | 'accepted' | 'unclear' | 'gpu-work' | 'validation' | 'hang' | 'broken-model' | 'setup';
  detail: string;
}

/** Messages that betray an internal failure rather than a check. */
const INTERNAL = /Cannot read propert|Cannot set propert|is not a function|is not iterable|undefined is not|of undefined|of null|Invalid typed array length|Array buffer allocation failed|Maximum call stack|out of memory|\[object Object\]/i;

/** Resolves to the outcome of `f` within `ms` (a hang is reported, not waited for). */
async function within<T>(ms: number, f: () => T | Promise<T>): Promise<{ value?: T; error?: unknown; hung?: true }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<{ hung: true }>((res) => (timer = setTimeout(() => res({ hung: true }), ms)));
  try {
    return await Promise.race([
      Promise.resolve()
        .then(f)
        .then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        ),
      hang,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const sameWeights = (a: rnn.HostTensor[], b: rnn.HostTensor[]) => a.length === b.length && a.every((w, i) => w.data.length === b[i]!.data.length && w.data.every((v, k) => Object.is(v, b[i]!.data[k])));

/** Runs a case; never throws. */
export async function runInvalid(c: InvalidCase, timeoutMs: number): Promise<InvalidResult> {
  let prepared;
  try {
    prepared = await c.prepare();
  } catch (e) {
    return { status: 'setup', detail: `the valid setup failed: ${(e as Error)?.message ?? String(e)}` };
  }
  const r = await check(c, prepared, timeoutMs);
  // GPU errors the library recorded but has not thrown yet belong to this case.
  const pending = await drainGpuErrors();
  if (pending && r.status === 'ok') return { status: 'validation', detail: `${pending} (after: ${r.detail})` };
  return r;
}

async function check(c: InvalidCase, prepared: Prepared, timeoutMs: number): Promise<InvalidResult> {
  const { act, model, good, built } = prepared;
  try {
    const watch = await gpuWatch();
    const weights = built && model ? await model.getWeights() : null;
    const before = { ...watch.calls };
    const errors = watch.errors.length;
    const callsBefore = watch.total();
    const r = await within(timeoutMs, act);
    const work = Object.entries(watch.calls).filter(([k, n]) => n !== before[k]);
    if (r.hung) return { status: 'hang', detail: `no answer within ${timeoutMs} ms` };
    if (!('error' in r)) return { status: 'accepted', detail: 'the call did not throw' };
    const e = r.error as Error;
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : `a thrown ${typeof e}: ${String(e)}`;
    if (watch.errors.length > errors) return { status: 'validation', detail: `GPU error: ${watch.errors.slice(errors).join(' | ')} (threw ${msg})` };
    if (!(e instanceof Error) || e instanceof rnn.GpuError || INTERNAL.test(e.message)) return { status: 'unclear', detail: `internal failure instead of a check: ${msg}` };
    if (!c.expect.test(e.message)) return { status: 'unclear', detail: `the message does not name the problem (${c.expect}): ${msg}` };
    if (watch.total() !== callsBefore) return { status: 'gpu-work', detail: `GPU work before the error (${work.map(([k, n]) => `${k} +${n - before[k]!}`).join(', ')}): ${msg}` };
    if (model && good) {
      if (weights && !sameWeights(weights, await model.getWeights())) return { status: 'broken-model', detail: `the weights changed although the call failed: ${msg}` };
      const after = await within(timeoutMs, async () => {
        const loss = await model.trainOnBatch(good.x, good.y);
        if (!Number.isFinite(loss)) throw new Error(`loss ${loss}`);
      });
      if (after.hung || 'error' in after) return { status: 'broken-model', detail: `the model no longer trains after the error (${after.hung ? 'hang' : String((after.error as Error)?.message ?? after.error)}); the error was ${msg}` };
    }
    return { status: 'ok', detail: msg };
  } catch (e) {
    return { status: 'unclear', detail: `the fuzzer's own checks failed: ${(e as Error)?.message ?? String(e)}` };
  } finally {
    try {
      model?.dispose();
    } catch {
      // reported as a leak by the caller's pool check, if it matters
    }
  }
}
