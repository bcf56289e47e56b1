/**
 * `npm run soak` — trains the chapter's LSTM (row K) for 10,000 steps and checks that the pooled
 * GPU bytes, the GPU objects created, the JS heap and the RSS stay flat (test/soak/soak.ts; see
 * docs/reliability.md, "Files, fuzzing and soak").
 *
 *   npm run soak                     10,000 steps, one line per epoch (44 steps)
 *   npm run soak -- --steps 50000    longer
 *   npm run soak -- --json FILE      also write every sample as JSON
 *
 * Exit status 1 when anything grew.
 */
import { writeFileSync } from 'node:fs';
import * as rnn from '../src/index';
import { runSoak } from '../test/soak/soak';
import { option } from './cli-option';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const known = ['--steps', '--json'];
  const unknown = argv.filter((a) => a.startsWith('--') && !known.includes(a));
  if (unknown.length) throw new Error(`unknown option(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
  const steps = Number(option(argv, '--steps') ?? 10_000);
  if (!Number.isSafeInteger(steps) || steps < 440) throw new Error(`--steps must be an integer ≥ 440 (10 epochs), got ${option(argv, '--steps')}`);
  const gpu = await rnn.getGpu();
  console.log(`soak: ${steps} steps of LSTM(20) → LSTM(20) → TD(Dense(10)), batch 32 × 50 steps, on ${gpu.info.description || gpu.info.architecture || gpu.info.vendor}`);
  const r = await runSoak({ steps, log: (line) => console.log(line) });
  const json = option(argv, '--json');
  if (json) writeFileSync(json, JSON.stringify(r, null, 1));
  const mib = (b: number) => (b / 2 ** 20).toFixed(2);
  const s0 = r.samples[0]!, s1 = r.samples.at(-1)!;
  console.log(
    `\n${r.steps} steps in ${r.seconds.toFixed(0)} s (${((1000 * r.seconds) / r.steps).toFixed(1)} ms/step). ` +
      `Pooled GPU ${mib(s0.pooledBytes)} → ${mib(s1.pooledBytes)} MiB; heap ${mib(s0.heapUsed)} → ${mib(s1.heapUsed)} MiB ` +
      `(${r.heapSlope.toFixed(1)} B/step after the warm-up); RSS ${mib(s0.rss)} → ${mib(s1.rss)} MiB (${r.rssSlope.toFixed(0)} B/step)`,
  );
  console.log(r.problems.length ? `NOT FLAT:\n  ${r.problems.join('\n  ')}` : 'flat: nothing grew after the warm-up');
  return r.problems.length ? 1 : 0;
}

// Dawn keeps the event loop alive: exit explicitly once stdout is flushed.
const exit = (code: number) => process.stdout.write('', () => process.exit(code));
main().then(exit, (e: unknown) => {
  console.error(`soak: ${e instanceof Error ? e.message : String(e)}`);
  exit(2);
});
