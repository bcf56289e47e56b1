/**
 * The verdict on a run: does the model beat the better baseline (naive or seasonal naive) on the
 * next step and over 10 steps? Said in the data's units, with the margin, and — when the model
 * loses — which simple rule is still the better forecast.
 */
import { fmtData } from './dom';
import type { Scores } from './protocol';

export interface VerdictInput {
  model: Scores;
  naive: Scores;
  seasonal: Scores | null;
  seasonalLabel: string | null;
}

/** Horizon words: "Next day" / "Over 10 days" (or steps, hours, …). */
export interface HorizonWords {
  nextNoun: string;
  tenNoun: string;
}

export function verdict(r: VerdictInput, w: HorizonWords, unit: string): { kind: 'beats' | 'loses' | 'mixed'; text: string } {
  const cands = [
    { name: 'naive (last value)', advice: 'Copying the last value', s: r.naive },
    ...(r.seasonal ? [{ name: `${r.seasonalLabel} seasonal naive`, advice: `Repeating the last ${r.seasonalLabel} season`, s: r.seasonal }] : []),
  ];
  const best1 = cands.reduce((a, b) => (b.s.mae1 < a.s.mae1 ? b : a));
  const best10 = cands.reduce((a, b) => (b.s.mae10 < a.s.mae10 ? b : a));
  const u = unit ? ` ${unit}` : '';
  const pct = (m: number, b: number) => `${Math.abs(Math.round(((m - b) / b) * 100))}% ${m < b ? 'lower' : 'higher'}`;
  const wins1 = r.model.mae1 < best1.s.mae1, wins10 = r.model.mae10 < best10.s.mae10;
  const details =
    `${w.nextNoun}: MAE ${fmtData(r.model.mae1)} vs ${fmtData(best1.s.mae1)}${u} for the ${best1.name} forecast (${pct(r.model.mae1, best1.s.mae1)}). ` +
    `${w.tenNoun}: ${fmtData(r.model.mae10)} vs ${fmtData(best10.s.mae10)} for the ${best10.name} forecast (${pct(r.model.mae10, best10.s.mae10)}).`;
  if (wins1 && wins10) return { kind: 'beats', text: `✓ The model beats the baselines. ${details}` };
  if (!wins1 && !wins10) return { kind: 'loses', text: `✗ The model does not beat the baseline. ${details} ${best1.advice} is still the better forecast — train longer, or try another window, learning rate or model.` };
  const how = wins1 ? `on the ${w.nextNoun.toLowerCase()} but not ${w.tenNoun.toLowerCase()}` : `${w.tenNoun.toLowerCase()} but not on the ${w.nextNoun.toLowerCase()}`;
  return { kind: 'mixed', text: `◐ The model beats the baselines ${how}. ${details}` };
}
