/**
 * The weather lessons end to end on the GPU: the Seattle next-day forecast (real NOAA data from
 * vega-datasets, offline) must beat persistence; the Danish lesson's pipeline runs on the fixture
 * archive (identical format) with the warm-up loss, long-sequence validation and early stopping.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSeattleWeather, seattleTask } from '../../src/data/seattle';
import { loadWeatherDenmark, weatherTask } from '../../src/lessons/weather/index';
import { trainWeatherLesson } from '../../src/lessons/weather/train';
import { trainSeattle } from '../../src/lessons/seattle';
import { writeWeatherFixture } from '../helpers/weather-fixture';

describe('Seattle next-day max temperature', () => {
  it('a small GRU beats the persistence forecast on the 2015 test year (MAE in °C)', async () => {
    const task = seattleTask(await loadSeattleWeather());
    const r = await trainSeattle(task, { units: 16, epochs: 40 });
    console.log(`Seattle test MAE: GRU ${r.test.mae.toFixed(3)} °C vs persistence ${r.persistence.mae.toFixed(3)} °C (${r.history.epoch.length} epochs)`);
    expect(r.test.mae).toBeLessThan(r.persistence.mae);
    expect(r.persistence.mae).toBeCloseTo(2.2397, 3);
    r.model.dispose();
  });
});

describe('Danish weather lesson pipeline (fixture archive in the real format)', () => {
  it('GRU → Dense(3, sigmoid) trains on random sub-sequences with the warm-up loss and reports de-normalised errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weather-'));
    const { path } = await writeWeatherFixture(dir);
    const task = weatherTask(await loadWeatherDenmark(path));
    expect(task.xTrain.shape[1]).toBe(20);
    const r = await trainWeatherLesson(task, { units: 8, batchSize: 4, sequenceLength: 30, batchesPerEpoch: 3, epochs: 3, warmupSteps: 5, seed: 7 });
    expect(r.history.history.val_loss!.length).toBeGreaterThan(0);
    expect(r.history.history.loss!.every(Number.isFinite)).toBe(true);
    expect(r.test.signals).toEqual(['Odense.Temp', 'Odense.WindSpeed', 'Odense.Pressure']);
    expect(r.test.mae.every(Number.isFinite)).toBe(true);
    expect(r.test.count).toBe(r.persistence.count);
    // the reported scaled MSE is the loss of the restored best weights on the test sequence
    expect(r.test.mseScaled).toBeCloseTo(Math.min(...r.history.history.val_loss!), 5);
    r.model.dispose();
    expect(readFileSync(path).length).toBeGreaterThan(0);
  });
});
