/**
 * The seeded fuzzer (issue 16): `n` random valid configurations trained two steps and checked
 * against the float64 reference (run-valid.ts), and `n` random invalid uses that must fail with a
 * clear error before any GPU work (run-invalid.ts). Used by `npm run fuzz` (scripts/fuzz.ts, any
 * size) and by test/unit/fuzz.test.ts (the short run inside `npm test`). Every case is replayable
 * from the run's seed and its index.
 */
import { drainGpuErrors, gpuWatch } from './gpu-watch';
import { runInvalid, type InvalidResult } from './run-invalid';
import { runValid, type ValidResult } from './run-valid';
import { describeCase, validCase, type Variety } from './valid-cases';
import { invalidCase } from './invalid-cases';

export interface FuzzOptions {
  seed: number;
  /** Valid cases to run. */
  valid: number;
  /** Invalid cases to run. */
  invalid: number;
  /** Kernel variety of the valid cases (see valid-cases.ts); default 'full'. */
  variety?: Variety;
  /** Only these case indices (both kinds). */
  only?: readonly number[];
  /** A case that has not answered in this time is a hang (ms). */
  timeoutMs?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface FuzzFailure {
  kind: 'valid' | 'invalid';
  index: number;
  /** Result status (mismatch, error, accepted, unclear, …). */
  status: string;
  /** The case, readable. */
  what: string;
  detail: string;
}

export interface FuzzReport {
  seed: number;
  valid: { run: number; ok: number; skipped: number; redraws: number };
  invalid: { run: number; ok: number };
  failures: FuzzFailure[];
  /** Invalid families seen, with their counts. */
  families: Record<string, number>;
  ms: { valid: number; invalid: number };
}

/** Runs a fuzz campaign; never throws for a failing case (they are in the report). */
export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const log = o.log ?? (() => {});
  const timeoutMs = o.timeoutMs ?? 300_000;
  const picked = (n: number) => (o.only ? o.only.filter((i) => i < n) : Array.from({ length: n }, (_, i) => i));
  const report: FuzzReport = { seed: o.seed, valid: { run: 0, ok: 0, skipped: 0, redraws: 0 }, invalid: { run: 0, ok: 0 }, failures: [], families: {}, ms: { valid: 0, invalid: 0 } };
  const watch = await gpuWatch();

  let t0 = performance.now();
  for (const i of picked(o.valid)) {
    const c = validCase(o.seed, i, o.variety ?? 'full');
    const errors = watch.errors.length;
    const pipelines = watch.calls.createComputePipelineAsync ?? 0;
    const tc = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hang = new Promise<ValidResult>((res) => (timer = setTimeout(() => res({ status: 'error', detail: `hang: no answer within ${timeoutMs} ms`, redraws: 0 }), timeoutMs)));
    const r = await Promise.race([runValid(c), hang]);
    clearTimeout(timer);
    report.valid.run++;
    report.valid.redraws += r.redraws;
    let status: string = r.status;
    let detail = r.detail;
    const pendingErrors = await drainGpuErrors();
    if (pendingErrors && status === 'ok') [status, detail] = ['validation', pendingErrors];
    if (watch.errors.length > errors) [status, detail] = ['validation', `GPU error: ${watch.errors.slice(errors).join(' | ')}`];
    if (status === 'ok') report.valid.ok++;
    else if (status === 'skipped') report.valid.skipped++;
    else report.failures.push({ kind: 'valid', index: i, status, what: describeCase(c), detail });
    log(`valid ${i}: ${status}${status === "ok" ? "" : ` ${detail}`}${r.redraws ? ` (${r.redraws} redraws)` : ""} [${((performance.now() - tc) / 1000).toFixed(1)} s, ${(watch.calls.createComputePipelineAsync ?? 0) - pipelines} pipelines] — ${describeCase(c)}`);
  }
  report.ms.valid = performance.now() - t0;

  t0 = performance.now();
  for (const i of picked(o.invalid)) {
    const c = invalidCase(o.seed, i);
    report.families[c.kind] = (report.families[c.kind] ?? 0) + 1;
    const r: InvalidResult = await runInvalid(c, timeoutMs);
    report.invalid.run++;
    if (r.status === 'ok') report.invalid.ok++;
    else report.failures.push({ kind: 'invalid', index: i, status: r.status, what: c.what, detail: r.detail });
    log(`invalid ${i} [${c.kind}]: ${r.status} — ${c.what}: ${r.detail}`);
  }
  report.ms.invalid = performance.now() - t0;
  return report;
}

/** A readable summary: counts, time, failures. */
export function summarize(r: FuzzReport): string {
  const lines = [
    `fuzz seed ${r.seed}: valid ${r.valid.ok}/${r.valid.run} ok (${r.valid.skipped} skipped on kinks, ${r.valid.redraws} redraws) in ${(r.ms.valid / 1000).toFixed(1)} s; ` +
      `invalid ${r.invalid.ok}/${r.invalid.run} ok in ${(r.ms.invalid / 1000).toFixed(1)} s`,
  ];
  for (const f of r.failures) lines.push(`FAIL ${f.kind} #${f.index} ${f.status}: ${f.what}\n    ${f.detail}`);
  return lines.join('\n');
}
