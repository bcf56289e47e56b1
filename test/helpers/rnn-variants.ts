/** The four recurrent-cell variants every RNN test file runs (GRU in both reset modes). */
import type { CellType } from '../../src/ops/rnn';

export interface Variant {
  label: string;
  cell: CellType;
  resetAfter: boolean;
}

export const VARIANTS: readonly Variant[] = [
  { label: 'SimpleRNN', cell: 'simpleRNN', resetAfter: false },
  { label: 'LSTM', cell: 'lstm', resetAfter: false },
  { label: 'GRU resetAfter=true', cell: 'gru', resetAfter: true },
  { label: 'GRU resetAfter=false', cell: 'gru', resetAfter: false },
];
