/**
 * `npm run fuzz` — the seeded fuzzer (test/fuzz/): random valid models trained two steps and
 * checked against the float64 reference, and random invalid uses that must fail clearly before
 * any GPU work. See docs/reliability.md ("Files, fuzzing and soak").
 *
 *   npm run fuzz                          200 valid + 200 invalid cases, a random seed (printed)
 *   npm run fuzz -- --cases 1000          1000 + 1000 (the long run)
 *   npm run fuzz -- --seed 7 --only 12,40 replay cases 12 and 40 of seed 7 (both kinds)
 *   npm run fuzz -- --valid 0 --invalid 5000   only invalid cases
 *   npm run fuzz -- --variety palette     the kernel palette of the short run in npm test
 *   npm run fuzz -- --verbose             one line per case
 *
 * Exit status 1 when any case fails.
 */
import * as rnn from '../src/index';
import { runFuzz, summarize } from '../test/fuzz/fuzz';
import type { Variety } from '../test/fuzz/valid-cases';
import { option } from './cli-option';

function count(argv: string[], name: string, fallback: number): number {
  const v = option(argv, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const known = ['--cases', '--valid', '--invalid', '--seed', '--only', '--variety', '--timeout', '--verbose'];
  const unknown = argv.filter((a) => a.startsWith('--') && !known.includes(a));
  if (unknown.length) throw new Error(`unknown option(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
  const cases = count(argv, '--cases', 200);
  const seed = option(argv, '--seed') !== undefined ? count(argv, '--seed', 0) : Math.floor(Math.random() * 2 ** 31);
  const variety = (option(argv, '--variety') ?? 'full') as Variety;
  if (variety !== 'full' && variety !== 'palette') throw new Error(`--variety must be 'full' or 'palette', got ${JSON.stringify(variety)}`);
  const only = option(argv, '--only')?.split(',').map((s) => Number(s));
  if (only?.some((n) => !Number.isSafeInteger(n) || n < 0)) throw new Error('--only takes case indices, e.g. --only 3,17');
  const gpu = await rnn.getGpu();
  console.log(`fuzz: seed ${seed}, ${gpu.info.description || gpu.info.architecture || gpu.info.vendor} (replay a case: npm run fuzz -- --seed ${seed} --only N)`);
  const verbose = argv.includes('--verbose');
  let done = 0;
  const t0 = performance.now();
  const report = await runFuzz({
    seed,
    valid: count(argv, '--valid', cases),
    invalid: count(argv, '--invalid', cases),
    variety,
    timeoutMs: count(argv, '--timeout', 300_000),
    ...(only ? { only } : {}),
    log: (line) => {
      done++;
      if (verbose || !/: ok\b/.test(line)) console.log(line);
      else if (process.stderr.isTTY) process.stderr.write(`\r${done} cases, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    },
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  console.log(summarize(report));
  return report.failures.length > 0 ? 1 : 0;
}

// Dawn keeps the event loop alive: exit explicitly, once stdout has been flushed (a pipe loses
// what is still buffered at process.exit).
const exit = (code: number) => process.stdout.write('', () => process.exit(code));
main().then(exit, (e: unknown) => {
  console.error(`fuzz: ${e instanceof Error ? e.message : String(e)}`);
  exit(2);
});
