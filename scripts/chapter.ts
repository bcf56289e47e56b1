/**
 * `npm start`: the Hands-On ML chapter 15 experiments on the built-in synthetic series, trained
 * with webgpu-rnn, printed next to the book's numbers (../docs/reference-results in the repo's
 * shared docs; the values are repeated in EXPERIMENTS below so the repo is self-contained).
 *
 *   npm start              reduced budget (minutes on a 2-core machine with a software GPU)
 *   npm start -- --full    the book's setup: 20 epochs, 7000 training series, batch 32
 *   npm start -- --only linear,lstm   a subset
 */
import * as rnn from '../src/index';
import { chapterData, naiveForecast, mse } from '../src/data/synthetic';
import { progressBar } from './progress';

interface Budget {
  name: string;
  epochs: number;
  nSeries: number;
}

const FULL: Budget = { name: 'full: 20 epochs, 7000 train series, batch 32', epochs: 20, nSeries: 10000 };
const REDUCED: Budget = { name: 'reduced', epochs: 20, nSeries: 10000 };

interface Row {
  id: string;
  name: string;
  metric: string;
  ours: number;
  book: number;
  band: string;
  budget: string;
  seconds: number;
}

function parseArgs(argv: string[]) {
  const full = argv.includes('--full');
  const onlyIdx = argv.indexOf('--only');
  const only = onlyIdx >= 0 ? (argv[onlyIdx + 1] ?? '').split(',').filter(Boolean) : null;
  const unknown = argv.filter((a, i) => a.startsWith('--') && !['--full', '--only'].includes(a) && argv[i - 1] !== '--only');
  if (unknown.length) throw new Error(`unknown option(s): ${unknown.join(' ')} (use --full, --only a,b)`);
  return { full, only };
}

async function main(): Promise<void> {
  const { full, only } = parseArgs(process.argv.slice(2));
  const budget = full ? FULL : REDUCED;
  const gpu = await rnn.getGpu();
  console.log(`webgpu-rnn — Hands-On ML ch. 15 experiments`);
  console.log(`GPU: ${[gpu.info.vendor, gpu.info.architecture, gpu.info.description].filter(Boolean).join(' / ') || 'unknown'}${gpu.info.isFallbackAdapter ? ' (software adapter)' : ''}`);
  console.log(`Budget: ${budget.name}\n`);
  const rows: Row[] = [];
  const want = (id: string) => !only || only.includes(id);

  const d1 = chapterData('1-step', { nSeries: budget.nSeries });
  if (want('naive')) {
    const t0 = performance.now();
    rows.push({
      id: 'naive', name: 'Naive (last value)', metric: 'valid MSE',
      ours: mse(naiveForecast(d1.valid.x), d1.valid.y), book: 0.020211367, band: 'exact', budget: 'data only', seconds: (performance.now() - t0) / 1000,
    });
  }
  if (want('linear')) {
    rnn.setSeed(42);
    const model = rnn.sequential({ layers: [rnn.layers.flatten({ inputShape: [50, 1] }), rnn.layers.dense({ units: 1 })] });
    model.compile({ optimizer: rnn.optimizers.adam({ learningRate: 0.001 }), loss: 'mse' });
    const t0 = performance.now();
    const nTrain = d1.train.x.shape[0]!;
    await model.fit(d1.train.x, d1.train.y, {
      epochs: FULL.epochs, batchSize: 32, validationData: [d1.valid.x, d1.valid.y], seed: 42,
      callbacks: progressBar('Linear (Flatten+Dense)', FULL.epochs, Math.ceil(nTrain / 32)),
    });
    const val = (await model.evaluate(d1.valid.x, d1.valid.y)) as number;
    rows.push({ id: 'linear', name: 'A  Linear (Flatten+Dense(1))', metric: 'valid MSE', ours: val, book: 0.004168087150901556, band: '≤ 0.0050', budget: 'full (20 ep, 7000, bs 32)', seconds: (performance.now() - t0) / 1000 });
    model.dispose();
  }
  printTable(rows);
}

function printTable(rows: Row[]): void {
  const head = ['Experiment', 'Metric', 'webgpu-rnn', 'Book', 'Band', 'Budget', 'Time'];
  const digits = (r: Row) => (r.band === 'exact' ? 8 : 5);
  const cells = rows.map((r) => [r.name, r.metric, r.ours.toPrecision(digits(r)), r.book.toPrecision(digits(r)), r.band, r.budget, `${r.seconds.toFixed(1)}s`]);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const fmt = (c: string[]) => c.map((s, i) => s.padEnd(w[i]!)).join('  ');
  console.log(`\n${fmt(head)}\n${w.map((n) => '-'.repeat(n)).join('  ')}`);
  for (const c of cells) console.log(fmt(c));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`\nerror: ${(e as Error).message}`);
    process.exit(1);
  },
);
