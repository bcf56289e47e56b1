#!/usr/bin/env node
// Helpers of scripts/gpu-check.sh (plain Node, no dependencies but the packed `webgpu`):
//   node scripts/gpu-report.mjs adapter            the WebGPU adapter Dawn gives (info, features, limits) as JSON
//   node scripts/gpu-report.mjs summary OUT_DIR    one JSON of the whole check: adapter, test counts and
//                                                  failures, every benchmark row, the cuDNN results, timings
import { createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const [cmd, outDir] = process.argv.slice(2);

async function adapter() {
  const { create, globals } = require('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create([]);
  const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!a) return { error: 'no WebGPU adapter (is VK_DRIVER_FILES the NVIDIA ICD, and libvulkan1 unpacked?)', env: { VK_DRIVER_FILES: process.env.VK_DRIVER_FILES ?? null } };
  const limits = {};
  for (const k in a.limits) limits[k] = a.limits[k];
  const info = a.info ?? {};
  return {
    vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description,
    isFallbackAdapter: info.isFallbackAdapter ?? a.isFallbackAdapter ?? null,
    features: [...a.features].sort(),
    limits,
    env: { VK_DRIVER_FILES: process.env.VK_DRIVER_FILES ?? null, VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? null },
    node: process.version,
  };
}

const readJson = (p) => {
  try {
    return JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    return { error: `${p}: ${e.message}` };
  }
};

/** The bench's JSON in a folder (its name carries the date and adapter). */
function benchIn(dir) {
  if (!existsSync(dir)) return { error: `${dir} missing: the benchmark did not finish` };
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  if (!files.length) return { error: `no JSON in ${dir}` };
  const rec = readJson(join(dir, files[0]));
  return {
    file: join(dir, files[0]),
    adapter: rec.adapter,
    options: rec.options && { timeLoop: rec.options.timeLoop, rounds: rec.options.rounds, budgetS: rec.options.budgetS },
    wallS: rec.wallS,
    rows: (rec.results ?? []).flatMap((r) =>
      r.sides.map((s) => ({
        config: r.id, side: s.side, status: s.status, reason: s.reason,
        msPerStep: s.summary?.median, gflops: s.gflops, dispatches: s.stepInfo?.dispatches ?? s.calls?.dispatches,
        speedupVsOurs: r.speedup?.[s.side]?.ofMedians,
      })),
    ),
  };
}

/** The tests that finished (tests.jsonl, written as they end: it survives a run cut by its budget) and vitest's report when it got to write one. */
function testSummary(dir) {
  const lines = existsSync(join(dir, 'tests.jsonl')) ? readFileSync(join(dir, 'tests.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  const count = (s) => lines.filter((l) => l.state === s).length;
  const report = existsSync(join(dir, 'tests.json')) ? readJson(join(dir, 'tests.json')) : null;
  return {
    finished: lines.length, passed: count('passed'), failed: count('failed'), skipped: count('skipped'),
    files: new Set(lines.map((l) => l.file)).size,
    complete: Boolean(report && !report.error),
    ...(report && !report.error ? { total: report.numTotalTests, report: { passed: report.numPassedTests, failed: report.numFailedTests, pending: report.numPendingTests } } : {}),
    failures: lines.filter((l) => l.state === 'failed').map(({ file, test, error }) => ({ file, test, error })),
    slowest: [...lines].sort((a, b) => (b.ms ?? 0) - (a.ms ?? 0)).slice(0, 10).map(({ file, test, ms }) => ({ file, test, ms })),
  };
}

function summary(dir) {
  const cudnn = existsSync(dir) ? readdirSync(dir).filter((f) => /cudnn.*\.json$/.test(f)) : [];
  const phases = existsSync(join(dir, 'phases.txt')) ? readFileSync(join(dir, 'phases.txt'), 'utf8').trim().split('\n').map((l) => l.split(' ')).map(([name, rc, s]) => ({ name, exitCode: Number(rc), seconds: Number(s) })) : [];
  return {
    schema: 'webgpu-rnn-gpu-check/1',
    date: new Date().toISOString(),
    adapter: readJson(join(dir, 'adapter.json')),
    phases,
    tests: testSummary(dir),
    bench: { persistent: benchIn(join(dir, 'bench-persistent')), step: benchIn(join(dir, 'bench-step')) },
    cudnn: cudnn.length ? readJson(join(dir, cudnn[0])) : { error: 'no cuDNN JSON (bench/cudnn_rnn.py did not finish)' },
    files: existsSync(dir) ? readdirSync(dir).map((f) => `${f}${statSync(join(dir, f)).isDirectory() ? '/' : ''}`) : [],
  };
}

if (cmd === 'adapter') console.log(JSON.stringify(await adapter(), null, 2));
else if (cmd === 'summary' && outDir) console.log(JSON.stringify(summary(outDir), null, 2));
else {
  console.error('usage: node scripts/gpu-report.mjs adapter | summary OUT_DIR');
  process.exit(2);
}
