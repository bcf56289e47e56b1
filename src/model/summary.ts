/**
 * The Keras-style summary table: one row per layer (name and class, output shape, parameters),
 * then the total, trainable and non-trainable parameter counts. Pure: no GPU.
 */
import { shapeToString, type Layer, type Shape } from '../layers/layer';
import { layerParams } from './weights';

/** A layer of the table with its input and output shapes (without batch). */
export interface SummaryRow {
  layer: Layer;
  input: Shape;
  output: Shape;
}

/** The table of model `name`'s layers, as Keras prints it. */
export function summaryTable(name: string, layers: readonly SummaryRow[]): string {
  const counts = layers.map((r) => layerParams(r.layer, r.input));
  const rows = layers.map((r, i) => [`${r.layer.name} (${r.layer.className})`, shapeToString(r.output), String(counts[i]!.total)]);
  const head = ['Layer (type)', 'Output Shape', 'Param #'];
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)) + 3);
  const line = (r: string[]) => r.map((s, c) => s.padEnd(w[c]!)).join('').trimEnd();
  const total = counts.reduce((n, c) => n + c.total, 0);
  const frozen = counts.reduce((n, c) => n + c.frozen, 0);
  const rule = (ch: string) => ch.repeat(w.reduce((a, b) => a + b, 0));
  return [
    `Model: "${name}"`,
    rule('_'),
    line(head),
    rule('='),
    ...rows.map(line),
    rule('='),
    `Total params: ${total}`,
    `Trainable params: ${total - frozen}`,
    `Non-trainable params: ${frozen}`,
  ].join('\n');
}
