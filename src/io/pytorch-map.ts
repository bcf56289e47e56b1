/**
 * Which torch.nn module stands for which layer, and where every state_dict entry's values come
 * from in our Keras-layout weights. python/webgpu_rnn_torch.py builds the same modules from the
 * same topology (same names, same stacking rule), so its state_dict has exactly these keys.
 *
 *   SimpleRNN / LSTM / GRU  nn.RNN / nn.LSTM / nn.GRU (batch_first): weight_ih_l{k} = kernelᵀ,
 *                           weight_hh_l{k} = recurrent_kernelᵀ, gate blocks reordered (LSTM
 *                           i,f,c,o = PyTorch i,f,g,o; GRU z,r,h → PyTorch r,z,n); LSTM and
 *                           SimpleRNN: bias_ih = bias, bias_hh = 0 (on import their sum is the
 *                           bias); GRU (resetAfter only: PyTorch's GRU applies the reset gate
 *                           after the recurrent matmul): bias_ih = bias[0], bias_hh = bias[1]
 *   stacked layers          consecutive recurrent layers of one kind and size, each read only by
 *                           the next (returnSequences, no state in or out): one module, l0, l1, …
 *   Bidirectional           bidirectional=True: the backward layer's weights as *_reverse
 *   Dense (TimeDistributed) nn.Linear: weight = kernelᵀ, bias
 *   LayerNormalization      nn.LayerNorm: weight = gamma, bias = beta
 *   BatchNormalization      nn.BatchNorm1d: weight, bias, running_mean, running_var, num_batches_tracked
 *
 * Module names are layer names ('.' becomes '_'); a stack takes its first layer's name.
 */
import { manifestEntries, type ModelArtifacts } from './artifacts';
import { InteropError, innerLayer, modelGraph, consumersOf, recurrentOf, type GraphCall, type ModelGraph, type Recurrent } from './graph';

/** One state_dict entry and where its values live in the Keras weights. */
export interface TorchParam {
  key: string;
  shape: number[];
  dtype: 'F32' | 'I64';
  /** The Keras weight ('layer/kernel'), or null (num_batches_tracked). */
  weight: string | null;
  /** torch flat index i ↔ Keras flat index index[i]. */
  index: Int32Array | null;
  /**
   * 'set': the values are these Keras values. 'add': exported as zeros, added to the Keras values
   * on import (LSTM / SimpleRNN bias_hh; PyTorch's gradient of it equals bias_ih's). 'count': an
   * integer buffer with no Keras counterpart (exported 0, read and ignored).
   */
  mode: 'set' | 'add' | 'count';
  /** The layer it belongs to (for errors). */
  layer: string;
}

/** A torch module of the generated model. */
export interface TorchModulePlan {
  name: string;
  torchClass: string;
  layers: string[];
}

/** The state_dict of a topology, in the generated module's order. */
export interface TorchPlan {
  modules: TorchModulePlan[];
  params: TorchParam[];
  graph: ModelGraph;
}

/** The module name of a layer ('.' is not allowed in torch module names). */
export const torchName = (layer: string): string => layer.replace(/\./g, '_');

const GATES: Record<string, number[]> = { SimpleRNN: [0], LSTM: [0, 1, 2, 3], GRU: [1, 0, 2] };
const TORCH_CLASS: Record<string, string> = { SimpleRNN: 'RNN', LSTM: 'LSTM', GRU: 'GRU' };

const opt = (c: Record<string, unknown>, k: string, d: unknown) => (c[k] === undefined ? d : c[k]);

/** Throws when PyTorch's module cannot compute what the layer computes; names the layer. */
export function checkTorchRecurrent(name: string, r: Recurrent): void {
  const c = r.cell.config;
  const act = opt(c, 'activation', 'tanh');
  const rec = opt(c, 'recurrentActivation', 'sigmoid');
  const what = `layer '${name}' (${r.cell.className})`;
  if (r.cell.className === 'SimpleRNN') {
    if (act !== 'tanh' && act !== 'relu') throw new InteropError(`${what}: activation '${String(act)}' has no torch.nn.RNN equivalent (nonlinearity is 'tanh' or 'relu')`);
    return;
  }
  if (act !== 'tanh' || rec !== 'sigmoid') {
    throw new InteropError(`${what}: torch.nn.${TORCH_CLASS[r.cell.className]} has tanh and sigmoid only; this layer has activation '${String(act)}', recurrentActivation '${String(rec)}'`);
  }
  if (r.cell.className === 'GRU' && opt(c, 'resetAfter', true) === false) {
    throw new InteropError(`${what}: resetAfter false (reset gate before the recurrent matmul) cannot be expressed by torch.nn.GRU, which applies it after (Keras resetAfter: true); export to ONNX instead, or train with resetAfter: true`);
  }
}

/** Whether call b continues call a's stack (see the header). */
function stacks(g: ModelGraph, a: GraphCall, b: GraphCall): boolean {
  const ra = recurrentOf(a), rb = recurrentOf(b);
  if (!ra || !rb || ra.bidirectional !== rb.bidirectional || ra.cell.className !== rb.cell.className) return false;
  if (ra.bidirectional && (ra.mergeMode !== 'concat' || rb.mergeMode !== 'concat')) return false;
  const ca = ra.cell.config, cb = rb.cell.config;
  for (const k of ['units', 'useBias', 'activation', 'recurrentActivation', 'resetAfter']) if (opt(ca, k, null) !== opt(cb, k, null)) return false;
  if (!ca.returnSequences || ca.returnState || cb.returnState || ca.goBackwards || cb.goBackwards) return false;
  if ((a.layer.inboundNodes?.length ?? 1) > 1 || (b.layer.inboundNodes?.length ?? 1) > 1) return false;
  if (a.states.length || b.states.length) return false;
  const t = a.outputs[0]!;
  if (b.inputs.length !== 1 || b.inputs[0] !== t || g.outputs.includes(t)) return false;
  return consumersOf(g, t).length === 1;
}

/** The calls grouped into torch modules: stacks of recurrent calls, every other call alone. */
export function torchGroups(g: ModelGraph): GraphCall[][] {
  const groups: GraphCall[][] = [];
  const done = new Set<GraphCall>();
  for (const c of g.calls) {
    if (done.has(c)) continue;
    const group = [c];
    done.add(c);
    for (;;) {
      const last = group[group.length - 1]!;
      const next = g.calls.find((n) => !done.has(n) && stacks(g, last, n));
      if (!next) break;
      group.push(next);
      done.add(next);
    }
    groups.push(group);
  }
  return groups;
}

function range(n: number, f: (i: number) => number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = f(i);
  return a;
}

/** The PyTorch state_dict layout of `artifacts` (errors name the layer that PyTorch cannot express). */
export function torchPlan(artifacts: ModelArtifacts, where: string): TorchPlan {
  const graph = modelGraph(artifacts.json.modelTopology, where);
  const shapes = new Map(manifestEntries(artifacts.json).filter((e) => (e.group ?? 'model') === 'model').map((e) => [e.name, e.shape]));
  const entriesOf = (layer: string) => [...shapes.keys()].filter((n) => n.startsWith(`${layer}/`));
  const modules: TorchModulePlan[] = [];
  const params: TorchParam[] = [];
  const seen = new Map<string, string>();
  const need = (name: string, layer: string): number[] => {
    const s = shapes.get(name);
    if (!s) throw new InteropError(`${where}: layer '${layer}': weight '${name}' is not in the weights manifest`);
    return s;
  };
  for (const group of torchGroups(graph)) {
    const first = group[0]!.layer;
    if (group[0]!.node > 0) continue; // a shared layer's later calls use the same module
    const name = torchName(first.name);
    const other = seen.get(name);
    if (other !== undefined) throw new InteropError(`${where}: layers '${other}' and '${first.name}' both become torch module '${name}'; rename one`);
    seen.set(name, first.name);
    const rec = recurrentOf(group[0]!);
    if (rec) {
      group.forEach((c) => checkTorchRecurrent(c.layer.name, recurrentOf(c)!));
      modules.push({ name, torchClass: TORCH_CLASS[rec.cell.className]!, layers: group.map((c) => c.layer.name) });
      group.forEach((c, k) => {
        const dirs = rec.bidirectional ? halves(entriesOf(c.layer.name), c.layer.name, where) : [entriesOf(c.layer.name)];
        dirs.forEach((names, d) => params.push(...recurrentParams(name, k, d === 1, rec.cell, names, c.layer.name, need)));
      });
      continue;
    }
    const l = first;
    const inner = l.className === 'TimeDistributed' ? innerLayer(l) : null;
    const kind = inner ? inner.className : l.className;
    const cfg = inner ? inner.config : l.config;
    const names = entriesOf(l.name);
    if (kind === 'Dense') {
      modules.push({ name, torchClass: 'Linear', layers: [l.name] });
      const [I, O] = need(names[0]!, l.name) as [number, number];
      params.push({ key: `${name}.weight`, shape: [O, I], dtype: 'F32', weight: names[0]!, index: range(O * I, (t) => (t % I) * O + Math.floor(t / I)), mode: 'set', layer: l.name });
      if (names[1]) params.push({ key: `${name}.bias`, shape: [O], dtype: 'F32', weight: names[1], index: range(O, (i) => i), mode: 'set', layer: l.name });
    } else if (kind === 'LayerNormalization' || kind === 'BatchNormalization') {
      const scale = opt(cfg, 'scale', true), center = opt(cfg, 'center', true);
      if (scale !== center) throw new InteropError(`${where}: layer '${l.name}' (${kind}): torch.nn.${kind === 'LayerNormalization' ? 'LayerNorm' : 'BatchNorm1d'} learns both a scale and a shift or neither; this layer has scale ${String(scale)}, center ${String(center)}`);
      modules.push({ name, torchClass: kind === 'LayerNormalization' ? 'LayerNorm' : 'BatchNorm1d', layers: [l.name] });
      const torchKeys = kind === 'LayerNormalization' ? ['weight', 'bias'] : ['weight', 'bias', 'running_mean', 'running_var'];
      const kerasKeys = [...(scale ? ['gamma', 'beta'] : []), ...(kind === 'BatchNormalization' ? ['moving_mean', 'moving_variance'] : [])];
      kerasKeys.forEach((k) => {
        const w = `${l.name}/${k}`;
        const s = need(w, l.name);
        const tk = torchKeys[['gamma', 'beta', 'moving_mean', 'moving_variance'].indexOf(k)]!;
        params.push({ key: `${name}.${tk}`, shape: [...s], dtype: 'F32', weight: w, index: range(s[0]!, (i) => i), mode: 'set', layer: l.name });
      });
      if (kind === 'BatchNormalization') params.push({ key: `${name}.num_batches_tracked`, shape: [], dtype: 'I64', weight: null, index: null, mode: 'count', layer: l.name });
    } else if (names.length) {
      const what = kind === 'RNN' ? `RNN with the custom cell ${String((l.config.cell as { className?: string } | undefined)?.className ?? '?')}` : kind;
      throw new InteropError(`${where}: layer '${l.name}' (${what}) has no torch.nn counterpart; the PyTorch export covers SimpleRNN, LSTM, GRU, Bidirectional, Dense, TimeDistributed, LayerNormalization and BatchNormalization (and the layers without weights)`);
    }
  }
  const covered = new Set(params.map((p) => p.weight));
  for (const w of shapes.keys()) if (!covered.has(w)) throw new InteropError(`${where}: weight '${w}' has no place in the PyTorch state_dict`);
  return { modules, params, graph };
}

/** Bidirectional: the forward layer's weights, then the backward layer's (Keras order). */
function halves(names: string[], layer: string, where: string): [string[], string[]] {
  if (names.length % 2) throw new InteropError(`${where}: Bidirectional layer '${layer}' has ${names.length} weights, expected the same number per direction`);
  return [names.slice(0, names.length / 2), names.slice(names.length / 2)];
}

function recurrentParams(
  module: string, k: number, reverse: boolean, cell: { className: string; config: Record<string, unknown> },
  names: string[], layer: string, need: (n: string, l: string) => number[],
): TorchParam[] {
  const perm = GATES[cell.className]!;
  const G = perm.length;
  const [I, GH] = need(names[0]!, layer) as [number, number];
  const H = GH / G;
  const sfx = `_l${k}${reverse ? '_reverse' : ''}`;
  const p = (key: string, shape: number[], weight: string, index: Int32Array, mode: 'set' | 'add'): TorchParam => ({ key: `${module}.${key}${sfx}`, shape, dtype: 'F32', weight, index, mode, layer });
  // torch row t·H + j of a [G·H, n] matrix ← Keras column perm[t]·H + j of an [n, G·H] matrix
  const mat = (n: number) => range(GH * n, (q) => {
    const row = Math.floor(q / n), i = q % n;
    return i * GH + perm[Math.floor(row / H)]! * H + (row % H);
  });
  const vec = (base: number) => range(GH, (q) => base + perm[Math.floor(q / H)]! * H + (q % H));
  const out = [p('weight_ih', [GH, I], names[0]!, mat(I), 'set'), p('weight_hh', [GH, H], names[1]!, mat(H), 'set')];
  if (names[2]) {
    const gruPair = cell.className === 'GRU';
    out.push(p('bias_ih', [GH], names[2], vec(0), 'set'), p('bias_hh', [GH], names[2], vec(gruPair ? GH : 0), gruPair ? 'set' : 'add'));
  }
  return out;
}
