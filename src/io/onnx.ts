/**
 * ONNX export of a model's inference graph (predict): every layer as standard ONNX operators,
 * opset 14–17 (default 17), float32, inputs [batch, time, features] with symbolic 'batch' and
 * 'time' dimensions (time only where the model takes any length), so one file serves every batch
 * size and sequence length. Written with protobufjs and the official onnx.proto (src/io/onnx-graph.ts).
 *
 *   SimpleRNN / LSTM / GRU / Bidirectional  RNN / LSTM / GRU operators (src/io/onnx-rnn.ts)
 *   Dense                    MatMul + Add (+ the activation); on sequences per step, as Keras
 *   TimeDistributed          its Dense / normalization layer on the last axis
 *   Masking                  the input times its [B, T] mask; recurrent layers get sequence_lens
 *   LayerNormalization       LayerNormalization (opset 17), else its formula
 *   BatchNormalization       x·s + t with the moving statistics folded in (inference)
 *   Flatten, RepeatVector, Reshape, Concatenate, Add, Subtract, Multiply, Average; GaussianNoise and
 *   Dropout are the identity (they act in training only). Layers ONNX cannot express (custom RNN
 *   cells, stateful layers) are errors that name the layer.
 */
import type { ModelArtifacts } from './artifacts';
import { InteropError, artifactWeights, innerLayer, layerWeightsOf, modelGraph, recurrentOf, type GraphCall } from './graph';
import { OnnxGraphBuilder, encodeModelProto, valueInfo, type Attr, type Dim, type OnnxValue } from './onnx-graph';
import { exportRecurrent } from './onnx-rnn';

/** Options of the ONNX export. */
export interface OnnxExportOptions {
  /** The ONNX opset, 14 to 17 (default 17, which has LayerNormalization). */
  opset?: number;
}

type Weights = { name: string; shape: number[]; data: Float32Array }[];

const ACTIVATIONS: Record<string, [string, Record<string, Attr>?] | null> = {
  linear: null, tanh: ['Tanh'], sigmoid: ['Sigmoid'], relu: ['Relu'],
  hardSigmoid: ['HardSigmoid', { alpha: { float: 1 / 6 }, beta: { float: 0.5 } }],
  hardSigmoidTfjs: ['HardSigmoid', { alpha: { float: 0.2 }, beta: { float: 0.5 } }],
};

/** The ONNX model (ModelProto bytes) of a saved model's inference graph. */
export async function toOnnxModel(artifacts: ModelArtifacts, options: OnnxExportOptions = {}, where = 'toOnnx'): Promise<Uint8Array> {
  const opset = options.opset ?? 17;
  if (!Number.isInteger(opset) || opset < 14 || opset > 17) throw new InteropError(`${where}: opset must be an integer from 14 to 17, got ${JSON.stringify(options.opset)}`);
  const g = modelGraph(artifacts.json.modelTopology, where);
  const weights = artifactWeights(artifacts);
  const b = new OnnxGraphBuilder();
  const values = new Map<string, OnnxValue>();
  const multi = g.inputs.length > 1;
  const inputs = g.inputs.map((inp) => {
    const name = b.reserve(inp.name);
    const shape: Dim[] = ['batch', ...inp.shape.map((d, i) => (d === null ? (i === 0 ? (multi ? `${inp.name}_time` : 'time') : null) : d))];
    values.set(inp.key, { name, shape, mask: null });
    return valueInfo(name, shape);
  });
  const outNames = g.outputs.map((key) => {
    const layer = key.slice(0, key.indexOf(':'));
    const several = g.outputs.filter((o) => o.startsWith(`${layer}:`)).length > 1;
    return b.reserve(several ? `${layer}_${key.slice(key.lastIndexOf(':') + 1)}` : layer);
  });
  for (const call of g.calls) {
    const xs = call.inputs.map((k) => values.get(k)!);
    const states = call.states.map((k) => values.get(k)!);
    const outs = exportCall(b, call, xs, states, layerWeightsOf(weights, call.layer.name), opset, where);
    call.outputs.forEach((k, i) => values.set(k, outs[i]!));
  }
  const outputs = g.outputs.map((key, i) => {
    const v = values.get(key)!;
    b.node('Identity', [v.name], outNames[i]!, {}, [outNames[i]!]);
    return valueInfo(outNames[i]!, v.shape);
  });
  return encodeModelProto({
    ir_version: 8,
    opset_import: [{ domain: '', version: opset }],
    producer_name: 'webgpu-rnn',
    producer_version: artifacts.json.generatedBy ?? '',
    graph: { name: g.name, node: b.nodes, initializer: b.initializers, input: inputs, output: outputs },
  });
}

function exportCall(b: OnnxGraphBuilder, call: GraphCall, xs: OnnxValue[], states: OnnxValue[], w: Weights, opset: number, where: string): OnnxValue[] {
  const l = call.layer;
  const what = `${where}: layer '${l.name}' (${l.className})`;
  const rec = recurrentOf(call);
  if (rec) return exportRecurrent(b, call, rec, xs[0]!, states, w, where);
  const x = xs[0]!;
  const keep = (name: string, shape: Dim[] = x.shape): OnnxValue[] => {
    // Keras mask propagation (src/model/topology.ts): a one-input layer that keeps [B, T] passes the mask on
    const mask = x.mask && shape.length === 3 && shape[1] === x.shape[1] ? x.mask : null;
    return [{ name, shape, mask }];
  };
  switch (l.className) {
    case 'Dense':
    case 'LayerNormalization':
    case 'BatchNormalization':
      return keep(...lastAxis(b, l.className, l.config, l.name, x, w, opset, what));
    case 'TimeDistributed': {
      const inner = innerLayer(l);
      if (!inner || !['Dense', 'LayerNormalization', 'BatchNormalization'].includes(inner.className)) {
        throw new InteropError(`${what}: TimeDistributed(${inner?.className ?? '?'}) is not exported to ONNX (Dense and the normalization layers are)`);
      }
      return keep(...lastAxis(b, inner.className, inner.config, l.name, x, w, opset, what));
    }
    case 'Masking': {
      const mv = b.scalar(Number(l.config.maskValue ?? 0));
      const same = b.op('Cast', [b.op('Equal', [x.name, mv], `${l.name}/equal`)], `${l.name}/equal_f`, { to: { int: 1 } });
      const all = b.op('ReduceMin', [same], `${l.name}/all_equal`, { axes: { ints: [2] }, keepdims: { int: 0 } });
      const mask = b.op('Sub', [b.scalar(1), all], `${l.name}/mask`);
      const y = b.op('Mul', [x.name, b.op('Unsqueeze', [mask, b.i64([2])], `${l.name}/mask3`)], l.name);
      return [{ name: y, shape: x.shape, mask }];
    }
    case 'GaussianNoise':
    case 'Dropout':
      return keep(x.name);
    case 'Flatten': {
      const rest = x.shape.slice(1);
      const size = rest.every((d) => typeof d === 'number') ? (rest as number[]).reduce((a, c) => a * c, 1) : null;
      return [{ name: b.op('Flatten', [x.name], l.name, { axis: { int: 1 } }), shape: [x.shape[0]!, size], mask: null }];
    }
    case 'RepeatVector': {
      const n = Number(l.config.n);
      const u = b.op('Unsqueeze', [x.name, b.i64([1])], `${l.name}/step`);
      return [{ name: b.op('Tile', [u, b.i64([1, n, 1])], l.name), shape: [x.shape[0]!, n, x.shape[1]!], mask: null }];
    }
    case 'Reshape': {
      const target = (l.config.targetShape as number[]).map(Number);
      const rest = x.shape.slice(1);
      const known = rest.every((d) => typeof d === 'number') ? (rest as number[]).reduce((a, c) => a * c, 1) : null;
      const fixed = target.filter((d) => d !== -1).reduce((a, c) => a * c, 1);
      const shape: Dim[] = [x.shape[0]!, ...target.map((d) => (d === -1 ? (known === null ? null : known / fixed) : d))];
      return keep(b.op('Reshape', [x.name, b.i64([0, ...target])], l.name), shape);
    }
    case 'Concatenate':
    case 'Add':
    case 'Subtract':
    case 'Multiply':
    case 'Average':
      return [merge(b, l.className, l.config, l.name, xs)];
    case 'RNN': {
      const cell = (l.config.cell as { className?: string } | undefined)?.className ?? '?';
      throw new InteropError(`${what}: the custom cell ${cell} runs ops of its own that ONNX has no recurrent operator for; only SimpleRNN, LSTM and GRU (and Bidirectional) export to ONNX`);
    }
    default:
      throw new InteropError(`${what}: no ONNX export for this layer`);
  }
}

/** Dense or a normalization layer on the last axis of x (any rank). */
function lastAxis(b: OnnxGraphBuilder, kind: string, c: Record<string, unknown>, base: string, x: OnnxValue, w: Weights, opset: number, what: string): [string, Dim[]] {
  const F = x.shape[x.shape.length - 1];
  if (kind === 'Dense') {
    const kernel = w[0]!;
    const [I, U] = kernel.shape as [number, number];
    let y = b.op('MatMul', [x.name, b.f32(`${base}/kernel`, [I, U], kernel.data)], `${base}/matmul`);
    if (w[1]) y = b.op('Add', [y, b.f32(`${base}/bias`, [U], w[1].data)], `${base}/biased`);
    const act = c.activation ?? 'linear';
    if (!Object.hasOwn(ACTIVATIONS, String(act))) throw new InteropError(`${what}: activation '${String(act)}' has no ONNX operator here`);
    const a = ACTIVATIONS[String(act)];
    if (a) y = b.op(a[0], [y], `${base}/${String(act)}`, a[1] ?? {});
    return [y, [...x.shape.slice(0, -1), U]];
  }
  const scale = c.scale !== false, center = c.center !== false;
  let i = 0;
  const gamma = scale ? w[i++]!.data : null;
  const beta = center ? w[i++]!.data : null;
  const n = (gamma ?? beta ?? w[i]?.data)?.length ?? (typeof F === 'number' ? F : 0);
  const eps = Number(c.epsilon ?? 1e-3);
  if (kind === 'BatchNormalization') {
    const mean = w[i]!.data, variance = w[i + 1]!.data;
    const s = new Float32Array(n), t = new Float32Array(n);
    for (let j = 0; j < n; j++) {
      const k = (gamma ? gamma[j]! : 1) / Math.sqrt(variance[j]! + eps);
      s[j] = k;
      t[j] = (beta ? beta[j]! : 0) - mean[j]! * k;
    }
    const y = b.op('Add', [b.op('Mul', [x.name, b.f32(`${base}/scale`, [n], s)], `${base}/scaled`), b.f32(`${base}/shift`, [n], t)], base);
    return [y, x.shape];
  }
  if (!n) throw new InteropError(`${what}: the size of the normalised axis is unknown`);
  const g = b.f32(`${base}/gamma`, [n], gamma ?? new Float32Array(n).fill(1));
  const bt = beta ? b.f32(`${base}/beta`, [n], beta) : null;
  if (opset >= 17) return [b.op('LayerNormalization', bt ? [x.name, g, bt] : [x.name, g], base, { axis: { int: -1 }, epsilon: { float: eps } }), x.shape];
  const mean = b.op('ReduceMean', [x.name], `${base}/mean`, { axes: { ints: [-1] }, keepdims: { int: 1 } });
  const d = b.op('Sub', [x.name, mean], `${base}/centred`);
  const v = b.op('ReduceMean', [b.op('Mul', [d, d], `${base}/squares`)], `${base}/variance`, { axes: { ints: [-1] }, keepdims: { int: 1 } });
  const norm = b.op('Div', [d, b.op('Sqrt', [b.op('Add', [v, b.scalar(eps)], `${base}/var_eps`)], `${base}/std`)], `${base}/normalised`);
  const y = b.op('Mul', [norm, g], `${base}/scaled`);
  return [bt ? b.op('Add', [y, bt], base) : y, x.shape];
}

function merge(b: OnnxGraphBuilder, kind: string, c: Record<string, unknown>, base: string, xs: OnnxValue[]): OnnxValue {
  const names = xs.map((x) => x.name);
  const shape = [...xs[0]!.shape];
  let y: string;
  if (kind === 'Concatenate') {
    const rank = shape.length;
    const axis = Number(c.axis ?? -1);
    const ax = axis < 0 ? axis + rank : axis;
    shape[ax] = xs.every((x) => typeof x.shape[ax] === 'number') ? xs.reduce((a, x) => a + (x.shape[ax] as number), 0) : null;
    y = b.op('Concat', names, base, { axis: { int: ax } });
  } else if (kind === 'Subtract') y = b.op('Sub', names, base);
  else if (kind === 'Multiply') y = names.slice(1).reduce((a, n, i) => b.op('Mul', [a, n], i === names.length - 2 ? base : `${base}/partial`), names[0]!);
  else y = b.op(kind === 'Add' ? 'Sum' : 'Mean', names, base);
  const masks = xs.map((x) => x.mask).filter((m): m is string => m !== null);
  let mask = masks[0] ?? null;
  for (const m of masks.slice(1)) if (m !== mask) mask = b.op('Mul', [mask!, m], `${base}/mask`);
  return { name: y, shape, mask: mask && shape.length >= 2 ? mask : null };
}
