/**
 * `npm run weather`: the weather lessons with webgpu-rnn.
 *
 *   npm run weather                        Danish weather (Hvass-Labs #23): downloads the archive
 *                                          (~35 MB) into .cache/ on first use, then GRU → Dense(3)
 *                                          with sizes for a software GPU
 *   npm run weather -- --full              the lesson's sizes: GRU(512), batch 256, 1344 steps,
 *                                          100 batches per epoch, 20 epochs (needs a real GPU)
 *   npm run weather -- --archive FILE      use a local weather-denmark.tar.gz (or .csv)
 *   npm run weather -- --dataset seattle   offline: next-day max temperature in Seattle from the
 *                                          past 30 days (NOAA data shipped in vega-datasets)
 *
 * Prints the warm-up-excluded test MSE next to the lesson's 0.00228 (Danish) and de-normalised
 * errors per signal next to the persistence forecast; writes reports/weather.html.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as rnn from '../src/index';
import { downloadWeatherDenmark, loadWeatherDenmark, weatherTask, WEATHER_DENMARK_ARCHIVE } from '../src/lessons/weather/index';
import { loadSeattleWeather, seattleTask } from '../src/data/seattle';
import { trainWeatherLesson } from '../src/lessons/weather/train';
import { trainSeattle } from '../src/lessons/seattle';
import { progressBar } from './progress';
import { lineChart } from './report';

function option(argv: string[], name: string): string | null {
  const i = argv.indexOf(name);
  if (i < 0) return null;
  const v = argv[i + 1];
  if (!v || v.startsWith('--')) throw new Error(`${name} needs a value`);
  return v;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const known = ['--full', '--dataset', '--archive', '--cache'];
  const unknown = argv.filter((a, i) => a.startsWith('--') && !known.includes(a) && !known.slice(1).includes(argv[i - 1] ?? ''));
  if (unknown.length) throw new Error(`unknown option(s): ${unknown.join(' ')} (use ${known.join(', ')})`);
  const full = argv.includes('--full');
  const dataset = option(argv, '--dataset') ?? 'denmark';
  if (!['denmark', 'seattle'].includes(dataset)) throw new Error(`--dataset must be denmark or seattle, got ${dataset}`);
  const gpu = await rnn.getGpu();
  const adapter = [gpu.info.vendor, gpu.info.architecture, gpu.info.description].filter(Boolean).join(' / ');
  console.log(`webgpu-rnn — weather lesson (${dataset})\nGPU: ${adapter}${gpu.info.isFallbackAdapter ? ' (software adapter)' : ''}\n`);
  mkdirSync('reports', { recursive: true });
  if (dataset === 'seattle') await seattle(adapter);
  else await denmark(argv, full, adapter);
}

async function seattle(adapter: string): Promise<void> {
  const task = seattleTask(await loadSeattleWeather());
  console.log(`Seattle daily weather 2012–2015: ${task.train.x.shape[0]} training windows (2012–13), ${task.valid.x.shape[0]} validation (2014), ${task.test.x.shape[0]} test (2015); features: ${task.features.join(', ')}`);
  const epochs = 40;
  const r = await trainSeattle(task, { units: 16, epochs, callbacks: [progressBar('GRU(16) → Dense(1)', epochs, Math.ceil(task.train.x.shape[0]! / 32))] });
  const beat = r.test.mae < r.persistence.mae;
  console.log(`\nNext-day temp_max, 2015 test year   MAE (°C)   RMSE (°C)`);
  console.log(`GRU(16) → Dense(1)                  ${r.test.mae.toFixed(3).padStart(8)}   ${r.test.rmse.toFixed(3).padStart(9)}`);
  console.log(`Persistence (tomorrow = today)      ${r.persistence.mae.toFixed(3).padStart(8)}   ${r.persistence.rmse.toFixed(3).padStart(9)}`);
  console.log(beat ? `\nThe GRU beats persistence by ${(r.persistence.mae - r.test.mae).toFixed(3)} °C MAE.` : '\nThe GRU did NOT beat persistence.');
  const pred = await r.model.predict(task.test.x);
  const days = Array.from(task.test.targetDay).slice(0, 120);
  const truth = days.map((d, i) => [i, task.daily.tempMax[d]!] as [number, number]);
  const forecast = days.map((_, i) => [i, task.yScaler.inverseValue(pred.data[i]!, 0)] as [number, number]);
  const persist = days.map((d, i) => [i, task.daily.tempMax[d - 1]!] as [number, number]);
  writeFileSync('reports/weather.html', page('Seattle next-day max temperature', adapter, `GRU MAE ${r.test.mae.toFixed(3)} °C, persistence ${r.persistence.mae.toFixed(3)} °C`, [
    lineChart([{ label: 'truth', color: '#2ca02c', points: truth }, { label: 'GRU', color: '#d62728', points: forecast }, { label: 'persistence', color: '#999', dashed: true, points: persist }], { width: 900, title: 'first 120 days of 2015 (°C)' }),
  ]));
  console.log('Report: reports/weather.html');
  r.model.dispose();
}

async function denmark(argv: string[], full: boolean, adapter: string): Promise<void> {
  let archive = option(argv, '--archive');
  if (!archive) {
    const cacheDir = option(argv, '--cache') ?? '.cache/weather-denmark';
    let last = 0;
    const res = await downloadWeatherDenmark({
      cacheDir,
      onProgress: ({ bytes, total }) => {
        if (Date.now() - last < 200 && bytes !== total) return;
        last = Date.now();
        const pct = total ? ` ${((100 * bytes) / total).toFixed(0)}%` : '';
        process.stderr.write(`\rdownloading ${WEATHER_DENMARK_ARCHIVE}: ${(bytes / 1e6).toFixed(1)} MB${pct}   `);
      },
    }).catch((e: Error) => {
      throw new Error(`${e.message}\nThe Danish archive is needed once (it is cached in ${cacheDir}). Without network, run \`npm run weather -- --dataset seattle\` (offline data), or pass --archive FILE.`);
    });
    process.stderr.write('\n');
    if (res.discarded) console.warn(res.discarded);
    archive = res.path;
  }
  const table = await loadWeatherDenmark(archive);
  const task = weatherTask(table);
  console.log(`Hourly rows: ${table.times.length} (${new Date(table.times[0]!).toISOString()} … ${new Date(table.times.at(-1)!).toISOString()}), train ${task.numTrain}, test ${task.numTest}`);
  const sizes = full
    ? { units: 512, batchSize: 256, sequenceLength: 1344, batchesPerEpoch: 100, epochs: 20 }
    : { units: 32, batchSize: 16, sequenceLength: 1344, batchesPerEpoch: 20, epochs: 5 };
  console.log(`Budget: ${full ? 'the lesson’s' : 'reduced for a software GPU'} — GRU(${sizes.units}), batch ${sizes.batchSize} × ${sizes.sequenceLength} steps, ${sizes.batchesPerEpoch} batches × ${sizes.epochs} epochs, RMSprop 1e-3, warm-up 50`);
  const r = await trainWeatherLesson(task, { ...sizes, callbacks: [progressBar(`GRU(${sizes.units}) → Dense(3)`, sizes.epochs, sizes.batchesPerEpoch)] });
  console.log(`\nTest MSE (scaled, warm-up excluded): ${r.test.mseScaled.toPrecision(4)}   lesson: 0.00228   persistence: ${r.persistence.mseScaled.toPrecision(4)}`);
  console.log(`\nSignal            unit   GRU MAE   persistence MAE   GRU RMSE   persistence RMSE`);
  r.test.signals.forEach((s, i) => {
    console.log(`${s.padEnd(17)} ${r.test.units[i]!.padEnd(5)} ${r.test.mae[i]!.toFixed(3).padStart(8)} ${r.persistence.mae[i]!.toFixed(3).padStart(17)} ${r.test.rmse[i]!.toFixed(3).padStart(10)} ${r.persistence.rmse[i]!.toFixed(3).padStart(18)}`);
  });
  const pred = await r.model.predict({ data: task.xTest.data, shape: [1, task.numTest, 20] }, { batchSize: 1 });
  const n = Math.min(task.numTest, 24 * 28);
  const charts = task.targetColumns.map((c, k) => {
    const truth: [number, number][] = [], fc: [number, number][] = [];
    for (let t = 0; t < n; t++) {
      truth.push([t, task.yScaler.inverseValue(task.yTest.data[t * 3 + k]!, k)]);
      fc.push([t, task.yScaler.inverseValue(pred.data[t * 3 + k]!, k)]);
    }
    return lineChart([{ label: 'truth', color: '#2ca02c', points: truth }, { label: 'GRU', color: '#d62728', points: fc }], { width: 900, title: `${c} (${r.test.units[k]}), first 4 weeks of the test period` });
  });
  writeFileSync('reports/weather.html', page('Odense, 24 hours ahead', adapter, `test MSE ${r.test.mseScaled.toPrecision(4)} (lesson 0.00228)`, charts));
  console.log('\nReport: reports/weather.html');
  r.model.dispose();
}

function page(title: string, adapter: string, summary: string, charts: string[]): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><style>body{font-family:system-ui,sans-serif;margin:2em}</style></head>
<body><h1>${title}</h1><p>Adapter: ${adapter}</p><p>${summary}</p>${charts.join('\n')}</body></html>`;
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`\nerror: ${(e as Error).message}`);
    process.exit(1);
  },
);
