/**
 * The benchmark's pure logic (FLOP counting of docs/kernel-design.md §5, statistics, speed-ups,
 * tables, argument parsing) and a small end-to-end run of its engine on our side only (Dawn):
 * probe, warm-up, timed rounds, WebGPU call counting and the per-dispatch timestamp profile.
 */
import { describe, it, expect } from 'vitest';
import {
  CONFIGS,
  adapterSlug,
  extrapolateStepMs,
  finishSide,
  forwardFlops,
  phaseTotals,
  profileTable,
  quantile,
  resultTable,
  selectConfigs,
  speedups,
  stepsPerRun,
  summarize,
  trainingFlops,
  type BenchConfig,
  type ConfigResult,
  type SideResult,
} from '../../bench/configs';
import { DEFAULT_OPTIONS, runConfig } from '../../bench/core';
import { parseArgs, writeRecord } from '../../bench/cli';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('FLOP counting (kernel-design.md §5)', () => {
  it("the chapter's LSTM(20)×2: 6·T·B·G·H·(I+H) per layer, layer 0 without dX", () => {
    const [T, B, G, H] = [50, 32, 4, 20];
    const layer0 = 6 * T * B * G * H * (1 + H) - 2 * T * B * G * H * 1;
    const layer1 = 6 * T * B * G * H * (H + H);
    expect(trainingFlops({ cell: 'lstm', units: [20, 20], B, T, I: 1 })).toBe(layer0 + layer1);
    expect(layer0 + layer1).toBe(46_592_000);
  });

  it("matches the note's worked examples (which count dX of layer 0 too: add 2·T·B·G·H·I back)", () => {
    // T=100, B=64, I=H=512: 80.5 GFLOP with dX
    const big = trainingFlops({ cell: 'lstm', units: [512], B: 64, T: 100, I: 512 }) + 2 * 100 * 64 * 4 * 512 * 512;
    expect(big / 1e9).toBeCloseTo(80.53, 2);
    // T=50, B=32, I=32, H=128: 0.79 GFLOP with dX
    const small = trainingFlops({ cell: 'lstm', units: [128], B: 32, T: 50, I: 32 }) + 2 * 50 * 32 * 4 * 128 * 32;
    expect(small / 1e9).toBeCloseTo(0.786, 3);
  });

  it('GRU uses G = 3; forward is a third of the full step', () => {
    const cfg = { cell: 'gru' as const, units: [16], B: 8, T: 10, I: 4 };
    expect(trainingFlops(cfg)).toBe(6 * 10 * 8 * 3 * 16 * 20 - 2 * 10 * 8 * 3 * 16 * 4);
    expect(forwardFlops(cfg) * 3).toBe(6 * 10 * 8 * 3 * 16 * 20);
  });

  it('every configuration of the issue is present with its shapes', () => {
    const byId = Object.fromEntries(CONFIGS.map((c) => [c.id, c]));
    expect(byId.lstm20x2).toMatchObject({ cell: 'lstm', units: [20, 20], B: 32, T: 50, I: 1 });
    expect(byId.gru20x2).toMatchObject({ cell: 'gru', units: [20, 20], resetAfter: false });
    expect(byId['gru20x2-ra']).toMatchObject({ cell: 'gru', resetAfter: true, sides: ['ours'] });
    expect(byId.lstm128).toMatchObject({ units: [128], B: 64, T: 50, I: 8 });
    expect(byId.lstm256).toMatchObject({ units: [256], B: 64, T: 100, I: 32 });
    // the chapter's LN cell: the fused kernels against the cell's ops step by step, side by side
    expect(byId.lncell).toMatchObject({ cell: 'lncell', units: [20, 20], B: 32, T: 50, I: 1, sides: ['ours', 'ours-steps'] });
    expect(trainingFlops(byId.lncell!)).toBe(trainingFlops({ cell: 'lstm', units: [20, 20], B: 32, T: 50, I: 1 }) / 4); // G = 1
    expect(selectConfigs(null, true).map((c) => c.id)).toEqual(['lstm20x2']);
    expect(selectConfigs(['lstm128', 'gru20x2'], false).map((c) => c.id)).toEqual(['lstm128', 'gru20x2']);
    expect(() => selectConfigs(['nope'], false)).toThrow(/unknown config.*nope/);
  });
});

describe('statistics and tables', () => {
  it('quartiles interpolate like numpy.percentile', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantile([1, 2, 3, 4], 0.75)).toBe(3.25);
    expect(summarize([5])).toMatchObject({ median: 5, iqr: 0, n: 1 });
    expect(summarize([1, 2, 3, 4, 100])).toMatchObject({ median: 3, q1: 2, q3: 4, iqr: 2, max: 100 });
  });

  it('steps per run and probe extrapolation', () => {
    expect(stepsPerRun(100, 1500, 40)).toBe(15);
    expect(stepsPerRun(10_000, 1500, 40)).toBe(1);
    expect(stepsPerRun(1, 1500, 40)).toBe(40);
    expect(stepsPerRun(0, 1500, 40)).toBe(1);
    expect(extrapolateStepMs(200, 10, 50)).toBe(1000);
  });

  it('speed-ups: ratio of medians and median of paired per-round ratios; table rows', () => {
    const B = 32, flops = 46_592_000;
    const ours = finishSide({ side: 'ours', status: 'ok', msPerStep: [10, 12, 11], stepInfo: { dispatches: 21, savedBytes: 0, submits: 1 } }, B, flops);
    const tfjs = finishSide({ side: 'tfjs', status: 'ok', msPerStep: [200, 260, 220], calls: { dispatches: 5245, passes: 1, bindGroups: 1, writeBuffers: 1, submits: 1 } }, B, flops);
    const skipped: SideResult = { side: 'tfjs-default', status: 'skipped', reason: 'probe 90 s/step > 60 s limit' };
    expect(ours.summary!.median).toBe(11);
    expect(ours.samplesPerSec).toBeCloseTo((32 * 1000) / 11, 9);
    expect(ours.gflops).toBeCloseTo(flops / 11e6, 9);
    const sp = speedups([ours, tfjs, skipped]);
    expect(sp.tfjs!.ofMedians).toBe(20);
    expect(sp.tfjs!.pairedMedian).toBe(20); // 20, 21.67, 20
    expect(sp['tfjs-default']).toBeUndefined();
    const res: ConfigResult = { id: 'lstm20x2', title: '', cell: 'lstm', units: [20, 20], B, T: 50, I: 1, flopsPerStep: flops, rounds: 3, sides: [ours, tfjs, skipped], speedup: sp };
    const table = resultTable([res]);
    expect(table).toMatch(/\| lstm20x2 \| ours\s+\| 11\.0\s+\|/);
    expect(table).toMatch(/5245/);
    expect(table).toMatch(/20\.0× \(paired 20\.0×\)/);
    expect(table).toMatch(/skipped: probe 90 s\/step > 60 s limit/);
  });

  it('profile tables and phase totals', () => {
    const p = { side: 'ours' as const, gpuMs: 10, wallMs: 20, entries: [
      { phase: 'forward', kernel: 'lstm-cell.wgsl:recurrentForward', count: 2, ms: 3 },
      { phase: 'backward', kernel: 'lstm-cell.wgsl:recurrentBackward', count: 2, ms: 6 },
      { phase: 'backward', kernel: 'matmul.wgsl:matmulDirect', count: 7, ms: 1 },
    ] };
    expect(phaseTotals(p)).toEqual([{ phase: 'backward', ms: 7, share: 0.7 }, { phase: 'forward', ms: 3, share: 0.3 }]);
    expect(profileTable(p).split('\n')[2]).toMatch(/backward \| lstm-cell\.wgsl:recurrentBackward +\| 2 +\| 6\.00 +\| 60\.0%/);
  });

  it('adapter slugs keep runs on different adapters apart', () => {
    expect(adapterSlug({ vendor: 'google', architecture: 'swiftshader' })).toBe('swiftshader');
    expect(adapterSlug({ vendor: 'mesa', architecture: 'software', description: 'llvmpipe: Mesa 25.0.7' })).toBe('lavapipe');
    expect(adapterSlug({ vendor: 'nvidia', architecture: 'hopper' })).toBe('nvidia-hopper');
    expect(adapterSlug({})).toBe('unknown');
  });

  it('command-line options', () => {
    expect(parseArgs([])).toMatchObject({ quick: false, profile: false, configs: null, runtime: 'both', tfjsNode: true, budgetS: 540 });
    expect(parseArgs(['--quick', '--configs', 'lstm20x2,gru20x2', '--profile', '--runtime=node', '--rounds', '7'])).toMatchObject({
      quick: true, profile: true, configs: ['lstm20x2', 'gru20x2'], runtime: 'node', rounds: 7,
    });
    expect(parseArgs(['--ours-only', '--time-loop', 'step'])).toMatchObject({ oursOnly: true, timeLoop: 'step' });
    expect(parseArgs([])).toMatchObject({ oursOnly: false, timeLoop: 'auto' });
    expect(() => parseArgs(['--time-loop', 'fast'])).toThrow(/--time-loop must be auto, persistent or step/);
    expect(() => parseArgs(['--runtime', 'gpu'])).toThrow(/--runtime/);
    expect(() => parseArgs(['--frobnicate'])).toThrow(/unknown option/);
    expect(() => parseArgs(['--configs'])).toThrow(/needs a value/);
  });
});

describe('benchmark engine on the GPU (ours only, tiny model)', () => {
  it('probes, warms up, times alternating rounds, counts calls and profiles every dispatch', async () => {
    const cfg: BenchConfig = { id: 'tiny', title: 'LSTM(4)', cell: 'lstm', units: [4, 3], B: 4, T: 6, I: 2, sides: ['ours', 'tfjs'], quick: true };
    const lines: string[] = [];
    const r = await runConfig(
      cfg,
      { tf: null, tfUnavailable: 'tfjs not loaded in this test' },
      { ...DEFAULT_OPTIONS, rounds: 2, minRounds: 1, targetRunMs: 30, maxStepsPerRun: 3, probeT: 3, profile: true, profileSteps: 1 },
      (l) => lines.push(l),
    );
    const ours = r.sides.find((s) => s.side === 'ours')!;
    expect(ours.status, ours.reason).toBe('ok');
    expect(r.sides.find((s) => s.side === 'tfjs')).toMatchObject({ status: 'skipped', reason: 'tfjs not loaded in this test' });
    expect(ours.probe?.T).toBe(3);
    expect(ours.warmupMs!.length).toBeGreaterThanOrEqual(3);
    expect(ours.msPerStep).toHaveLength(2);
    expect(ours.summary!.median).toBeGreaterThan(0);
    expect(Number.isFinite(ours.initialLoss)).toBe(true);
    expect(r.flopsPerStep).toBe(trainingFlops(cfg));
    // The dispatches counted on the WebGPU API over one fit() step are the plan's (trainingStepInfo).
    expect(ours.stepInfo!.dispatches).toBeGreaterThan(0);
    expect(ours.calls?.dispatches).toBe(ours.stepInfo!.dispatches);
    expect(lines.some((l) => /round 2\/2/.test(l))).toBe(true);
    const prof = r.profile?.find((p) => p.side === 'ours');
    if (prof?.note?.startsWith('failed')) {
      // Only acceptable when the adapter lacks timestamp queries.
      expect(prof.note).toMatch(/timestamp-query/);
    } else {
      expect(prof!.entries.reduce((n, e) => n + e.count, 0)).toBe(ours.stepInfo!.dispatches);
      expect(new Set(prof!.entries.map((e) => e.phase))).toEqual(new Set(['forward', 'backward', 'optimizer']));
      expect(prof!.entries.some((e) => e.kernel === 'lstm-cell.wgsl:recurrentForward')).toBe(true);
    }
  });
});

describe('bench results files', () => {
  it('two runs started in the same minute get two files (-2), neither overwritten', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-results-'));
    try {
      const rec = (n: number) => ({ date: '2026-11-30T07:46:10.000Z', runtime: 'browser', adapter: { vendor: 'google', architecture: 'swiftshader' }, n });
      const a = await writeRecord(rec(1) as never, dir);
      const b = await writeRecord(rec(2) as never, dir);
      expect(b).not.toBe(a);
      expect(b).toBe(a.replace(/\.json$/, '-2.json'));
      expect((await readdir(dir)).sort()).toHaveLength(2);
      expect(JSON.parse(await readFile(a, 'utf8')).n).toBe(1);
      expect(JSON.parse(await readFile(b, 'utf8')).n).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
