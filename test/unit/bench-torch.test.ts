/**
 * `npm run bench -- --vs-torch`: the PyTorch helper (bench/torch_rnn.py through bench/torch.ts)
 * answers setup + round for a tiny model with positive times; a Python without torch is an error
 * that says what to install; the engine alternates the torch sides with ours and reports
 * ours ÷ torch; the ratio and table helpers. torch comes from the test setup (scripts/setup.mjs
 * --browser installs python3-torch).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { oursVsTorch, torchTable, type BenchConfig, type ConfigResult, type SideResult } from '../../bench/configs';
import { DEFAULT_OPTIONS, runConfig } from '../../bench/core';
import { parseArgs } from '../../bench/cli';
import { TorchProcess, torchEnv, torchSides, torchUnsupported } from '../../bench/torch';

const tiny = { cell: 'lstm', units: [4, 3], B: 2, T: 5, I: 2, resetAfter: null };

describe('bench/torch_rnn.py (one long-lived process, JSON lines)', () => {
  const proc = new TorchProcess(1);
  afterAll(() => proc.close());

  it('starts with one thread (ATen and OpenBLAS) and answers setup + round with positive times', async () => {
    const info = await proc.ready;
    expect(info.torch).toMatch(/^\d+\.\d+/);
    expect(info.threads).toBe(1);
    if (info.blasThreads !== null) expect(info.blasThreads).toBe(1);
    const setup = await proc.request<{ initialLoss: number }>('setup', { config: tiny, seed: 3 });
    expect(setup.initialLoss).toBeGreaterThan(0);
    const r = await proc.request<{ ms: number; stepMs: number[] }>('round', { steps: 3, T: 5 });
    expect(r.stepMs).toHaveLength(3);
    for (const ms of r.stepMs) expect(ms).toBeGreaterThan(0);
    expect(r.ms).toBeGreaterThanOrEqual(r.stepMs.reduce((a, b) => a + b, 0) * 0.99);
    // Adam trains: the loss on the batch went down; another T gets its own batch
    expect((await proc.request<{ loss: number }>('loss', { T: 5 })).loss).toBeLessThan(setup.initialLoss);
    expect((await proc.request<{ ms: number }>('round', { steps: 1, T: 3 })).ms).toBeGreaterThan(0);
    // GRU (resetAfter=true only) and its errors
    await proc.request('setup', { config: { ...tiny, cell: 'gru', resetAfter: true }, seed: 3 });
    expect((await proc.request<{ ms: number }>('round', { steps: 1, T: 5 })).ms).toBeGreaterThan(0);
    await expect(proc.request('setup', { config: { ...tiny, cell: 'gru', resetAfter: false } })).rejects.toThrow(/resetAfter=true only/);
    await expect(proc.request('round', { steps: 1, T: 5 })).rejects.toThrow(/round before setup/);
  });

  it('a Python that cannot import torch fails with what to install (never a skip)', async () => {
    const noSite = new TorchProcess(1, undefined, ['-S']); // no site-packages: no torch
    await expect(noSite.ready).rejects.toThrow(/--vs-torch: cannot import torch .*apt-get install python3-torch libopenblas0-pthread/);
    await noSite.close();
    const missing = new TorchProcess(1, '/nonexistent/python3');
    await expect(missing.ready).rejects.toThrow(/--vs-torch: cannot start \/nonexistent\/python3/);
  });
});

describe('--vs-torch plumbing', () => {
  it('parses the flag; the child env drops the OpenBLAS overrides and pins the threads', () => {
    expect(parseArgs(['--vs-torch', '--runtime', 'node'])).toMatchObject({ vsTorch: true, runtime: 'node' });
    expect(parseArgs([]).vsTorch).toBe(false);
    const env = torchEnv(2, { PATH: '/bin', OPENBLAS_CORETYPE: 'Haswell', OPENBLAS_L2_SIZE: '1024' });
    expect(env).toMatchObject({ PATH: '/bin', OMP_NUM_THREADS: '2', OPENBLAS_NUM_THREADS: '2' });
    expect('OPENBLAS_CORETYPE' in env || 'OPENBLAS_L2_SIZE' in env).toBe(false);
  });

  it('names the configurations torch.nn cannot train', () => {
    expect(torchUnsupported({ cell: 'lstm' })).toBeNull();
    expect(torchUnsupported({ cell: 'gru', resetAfter: true })).toBeNull();
    expect(torchUnsupported({ cell: 'gru', resetAfter: false })).toMatch(/resetAfter=true only/);
    expect(torchUnsupported({ cell: 'lncell' })).toMatch(/no torch.nn counterpart/);
  });

  it('ours ÷ torch per round and as medians, and the table', () => {
    const side = (s: SideResult['side'], ms: number[]): SideResult => ({ side: s, status: 'ok', msPerStep: ms, summary: { n: ms.length, median: [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)]!, q1: 0, q3: 0, iqr: 0, min: 0, max: 0 } });
    const sides = [side('ours', [10, 20, 30]), side('torch-1t', [5, 5, 10]), { side: 'torch-all', status: 'skipped', reason: 'x' } as SideResult];
    const vs = oursVsTorch(sides)!;
    expect(vs['torch-1t']!.oursOverTorch).toBe(4); // 20 / 5
    expect(vs['torch-1t']!.pairedMedian).toBe(3); // 2, 4, 3
    expect(vs['torch-all']).toBeUndefined();
    expect(oursVsTorch([side('ours', [1])])).toBeUndefined();
    const table = torchTable([{ id: 'c', sides, vsTorch: vs } as unknown as ConfigResult, { id: 'no-torch', sides: [sides[0]] } as unknown as ConfigResult]);
    expect(table).toMatch(/\| c +\| 20\.0 +\| 5\.00 +\| skipped: x +\| 4\.00 \(paired 3\.00, IQR 2\.50–3\.50\) +\| — +\|/);
    expect(table).not.toMatch(/no-torch/);
  });
});

describe('benchmark engine: ours and both torch sides alternating (tiny model)', () => {
  it('times torch-1t and torch-all in the same rounds as ours and reports ours ÷ torch', async () => {
    const torch = await torchSides(2);
    try {
      const cfg: BenchConfig = { id: 'tiny', title: 'LSTM(4)', cell: 'lstm', units: [4, 3], B: 4, T: 6, I: 2, sides: ['ours'], quick: true };
      const lines: string[] = [];
      const r = await runConfig(cfg, { tf: null, external: torch.sides }, { ...DEFAULT_OPTIONS, rounds: 2, minRounds: 1, targetRunMs: 30, maxStepsPerRun: 3, probeT: 3 }, (l) => lines.push(l));
      expect(r.sides.map((s) => [s.side, s.status])).toEqual([['ours', 'ok'], ['torch-1t', 'ok'], ['torch-all', 'ok']]);
      for (const s of r.sides) {
        expect(s.msPerStep).toHaveLength(2);
        expect(s.summary!.median).toBeGreaterThan(0);
        expect(s.side === 'ours' || s.calls === undefined).toBe(true); // no WebGPU calls counted for torch
      }
      expect(r.vsTorch!['torch-1t']!.oursOverTorch).toBeGreaterThan(0);
      expect(r.vsTorch!['torch-all']!.pairedMedian).toBeGreaterThan(0);
      expect(lines.find((l) => /round 1\/2/.test(l))).toMatch(/ours [\d.]+, torch-1t [\d.]+, torch-all [\d.]+/);
      // a configuration torch.nn cannot train is skipped with the reason
      const gru = await runConfig({ ...cfg, cell: 'gru', resetAfter: false }, { tf: null, external: torch.sides }, { ...DEFAULT_OPTIONS, rounds: 1, minRounds: 1, targetRunMs: 10, maxStepsPerRun: 1, probeT: 3 }, () => undefined);
      expect(gru.sides.find((s) => s.side === 'torch-1t')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/resetAfter=true only/) });
    } finally {
      await torch.close();
    }
  });
});
