/**
 * The Keras-style summary table: one row per layer call (name and class, output shape(s),
 * parameters, and for functional graphs the tensors it is connected to), then the total,
 * trainable and non-trainable parameter counts (a frozen layer's weights count as non-trainable).
 * Pure: no GPU.
 */
import { shapeToString, type Layer, type Shape } from '../layers/layer';
import { layerParams } from './weights';
import type { Topology } from './topology';

/** A row of the table: a layer call with its input and output shapes (without batch). */
export interface SummaryRow {
  layer: Layer;
  input: Shape;
  output: Shape | Shape[];
  /** False for a shared layer's later calls (its weights are counted once). */
  countWeights: boolean;
  /** Functional graphs: the tensors the call reads ("Connected to"). */
  connectedTo?: string;
}

const isList = (o: Shape | Shape[]): o is Shape[] => Array.isArray(o[0]);

/** The table of model `name`'s layers, as Keras prints it. */
export function summaryTable(name: string, rows: readonly SummaryRow[], kind: 'sequential' | 'functional' = 'sequential'): string {
  const counts = rows.map((r) => (r.countWeights && r.layer.className !== 'InputLayer' ? layerParams(r.layer, r.input) : { total: 0, frozen: 0 }));
  const functional = kind === 'functional';
  const cells = rows.map((r, i) => {
    const out = isList(r.output) ? `[${r.output.map(shapeToString).join(', ')}]` : shapeToString(r.output);
    const row = [`${r.layer.name} (${r.layer.className})`, out, String(counts[i]!.total)];
    if (functional) row.push(r.connectedTo ?? '');
    return row;
  });
  const head = ['Layer (type)', 'Output Shape', 'Param #', ...(functional ? ['Connected to'] : [])];
  const w = head.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c]!.length)) + 3);
  const line = (r: string[]) => r.map((s, c) => s.padEnd(w[c]!)).join('').trimEnd();
  const total = counts.reduce((n, c) => n + c.total, 0);
  const frozen = rows.reduce((n, r, i) => n + (r.layer.trainable ? counts[i]!.frozen : counts[i]!.total), 0);
  const rule = (ch: string) => ch.repeat(w.reduce((a, b) => a + b, 0));
  return [
    `Model: "${name}"`,
    rule('_'),
    line(head),
    rule('='),
    ...cells.map(line),
    rule('='),
    `Total params: ${total}`,
    `Trainable params: ${total - frozen}`,
    `Non-trainable params: ${frozen}`,
  ].join('\n');
}

/** The summary of a model's graph: a Sequential's layers in a row, else every call (inputs too) with its connections. */
export function modelSummary(name: string, topo: Topology, style: 'functional' | 'sequential'): string {
  const shapes = topo.inferShapes(topo.inputs.map((t) => t.shape));
  const chain = style === 'sequential';
  const rows = topo.nodes.filter((n) => !chain || n.layer.className !== 'InputLayer').map((n) => ({
    layer: n.layer,
    input: n.inputs[0]?.shape ?? n.outputs[0]!.shape,
    output: n.outputs.length === 1 ? shapes.get(n.outputs[0]!)! : n.outputs.map((o) => shapes.get(o)!),
    countWeights: n === n.layer.nodes.find((m) => topo.nodes.includes(m)),
    ...(chain ? {} : { connectedTo: topo.connections(n) }),
  }));
  return summaryTable(name, rows, chain ? 'sequential' : 'functional');
}
