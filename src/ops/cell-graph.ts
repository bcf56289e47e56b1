/**
 * The op graph of a custom recurrent cell, for compiling it into fused kernels (cell-codegen.ts,
 * cell-rnn.ts). `traceCell` runs the cell's `step` ONCE on symbolic tensors with a tracer in place
 * of the Graph: every `rnn.cellOps` call (src/layers/cells.ts) sees the tracer and records a node
 * instead of dispatching. Anything else the step does with the "graph" (another op, a buffer)
 * throws a CellCompileError, whose message is the reason the layer falls back to running the
 * cell's ops step by step.
 *
 * Values are per batch row: a row value has shape [B, width]; weights are leaves addressed by
 * element offset (a slice of a weight along its first axis stays a weight). The graph is then
 * lowered for the kernels: matmuls of the cell input become projections computed for all steps
 * by one GEMM before the time loop ('proj'), a state entering a matmul goes through 'stateDrop'
 * (the recurrent-dropout mask, a pipeline constant), and layerNorm becomes rowStats → normalize →
 * ·gamma → +beta (the row statistics are a reduction over the units of a row, which a workgroup
 * owns).
 */
import { Tensor } from '../tensor';
import type { Activation } from './activations';

/** Why a cell cannot be compiled into fused kernels (the layer then runs its ops step by step). */
export class CellCompileError extends Error {
  override name = 'CellCompileError';
}

/** A weight (or a contiguous part of one: a slice along its first axis), by position in the cell's weight list. */
export interface WeightRef {
  index: number;
  /** Element offset of the part in the weight. */
  offset: number;
  shape: readonly number[];
}

export type ElementwiseKind = 'add' | 'sub' | 'mul';

/** One product a·W of a matmul node (a row value of K units, W a [K, width] weight). */
export interface MatmulTerm {
  a: number;
  weight: WeightRef;
}

/** One value of the step, per batch row: `width` floats. */
export type CellNode = { id: number; width: number; label: string } & (
  | { kind: 'input' } // x_t (after input dropout)
  | { kind: 'state'; state: number } // state i entering the step
  | { kind: 'stateDrop'; a: number; state: number } // state ⊙ recurrent-dropout mask (HAS_REC_MASK)
  | { kind: 'proj'; weight: WeightRef; bias: WeightRef | null; col: number } // x_t·W + b, precomputed for all steps
  | { kind: 'matmul'; terms: MatmulTerm[]; bias: WeightRef | null } // bias + Σ a_i·W_i (x·K + h·U: one register block)
  | { kind: ElementwiseKind; a: number; b: number }
  | { kind: 'scale'; a: number; factor: number; shift: number }
  | { kind: 'act'; a: number; act: Exclude<Activation, 'linear'> }
  | { kind: 'biasAdd'; a: number; weight: WeightRef } // a + w (per unit)
  | { kind: 'weightMul'; a: number; weight: WeightRef } // a ⊙ w (per unit): layerNorm's gamma
  | { kind: 'rowStats'; a: number; eps: number } // width 2: mean and 1/sqrt(var + eps) of a's row
  | { kind: 'normalize'; a: number; stats: number } // (a - mean)·rstd
  | { kind: 'concat'; parts: number[] }
  | { kind: 'slice'; a: number; start: number } // a view: a[start .. start + width)
);

export type CellNodeKind = CellNode['kind'];

/** A traced and lowered cell step. */
export interface CellGraph {
  /** Nodes in evaluation order: leaves (input, states, projections) first. */
  nodes: CellNode[];
  inputSize: number;
  stateSizes: number[];
  outputSize: number;
  /** Node of the output and of each new state. */
  output: number;
  states: number[];
  /** Total width of the projections (the columns of the all-steps projection buffer). */
  projWidth: number;
  /** The cell's class name (comments, errors, the module name). */
  name: string;
}

/** The operands of a node (ids), in order. */
export function operands(n: CellNode): number[] {
  switch (n.kind) {
    case 'input':
    case 'state':
    case 'proj':
      return [];
    case 'add':
    case 'sub':
    case 'mul':
      return [n.a, n.b];
    case 'concat':
      return n.parts;
    case 'matmul':
      return n.terms.map((t) => t.a);
    case 'normalize':
      return [n.a, n.stats];
    default:
      return [n.a];
  }
}

// ---------------------------------------------------------------- tracing

const NO_BUFFER = {} as GPUBuffer;

/** A symbolic tensor of a trace: a row value (node) or a weight (part). */
class TracedTensor extends Tensor {
  constructor(
    readonly tracer: CellTracer,
    shape: readonly number[],
    readonly node: number | null,
    readonly weight: WeightRef | null,
    name: string,
  ) {
    super(NO_BUFFER, shape, 0, false, name);
  }
}

type RawNode = CellNode extends infer N ? (N extends CellNode ? Omit<N, 'id'> : never) : never;

function dims(t: Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

/**
 * Stands in for the Graph while a cell's step is traced: the `rnn.cellOps` functions call its
 * methods. Graph members throw, so an op outside cellOps stops the trace with the reason.
 */
export class CellTracer {
  readonly nodes: CellNode[] = [];
  readonly training = false;

  constructor(
    readonly B: number,
    readonly cellName: string,
  ) {}

  /** Stops the trace: `${cell}.step ${what}` (a reason the layer shows when it falls back). */
  private fail(what: string, hint = 'only the ops of rnn.cellOps can be compiled into a fused kernel'): never {
    throw new CellCompileError(`${this.cellName}.step ${what}${hint ? `; ${hint}` : ''}`);
  }

  // The Graph members real ops use: the step called an op that is not a cellOp.
  get ctx(): never {
    return this.fail('uses the GPU context');
  }
  get forward(): never {
    return this.fail('records GPU commands directly');
  }
  get backwardProgram(): never {
    return this.fail('records GPU commands directly');
  }
  alloc(): never {
    return this.fail('calls an op outside rnn.cellOps (it allocates a tensor)');
  }
  kernel(): never {
    return this.fail('calls an op outside rnn.cellOps (it compiles a kernel)');
  }
  needsGrad(): never {
    return this.fail('calls an op outside rnn.cellOps');
  }
  record(): never {
    return this.fail('calls an op outside rnn.cellOps');
  }

  /** A new row value. */
  add_(raw: RawNode): TracedTensor {
    const node = { ...raw, id: this.nodes.length } as CellNode;
    this.nodes.push(node);
    return new TracedTensor(this, [this.B, node.width], node.id, null, node.label);
  }

  /** A weight leaf (the cell's weight list position and shape). */
  weightTensor(index: number, shape: readonly number[], name: string): TracedTensor {
    return new TracedTensor(this, shape, null, { index, offset: 0, shape }, name);
  }

  /** The row value behind a tensor of this trace; throws for weights and foreign tensors. */
  row(t: Tensor, op: string): number {
    if (!(t instanceof TracedTensor) || t.tracer !== this) this.fail(`passes ${op} a tensor that is not from this step (a tensor captured from outside?)`);
    if (t.node === null) this.fail(`uses a weight (${t.name}) as ${op}'s data input`, "weights may only be a matmul's right operand, a bias, gamma or beta");
    return t.node;
  }

  /** The weight behind a tensor of this trace; throws for row values. */
  weightOf(t: Tensor, op: string, shape?: readonly number[]): WeightRef {
    if (!(t instanceof TracedTensor) || t.tracer !== this) this.fail(`passes ${op} a tensor that is not from this step`);
    if (!t.weight) this.fail(`passes ${op} a computed value (${t.name}) where a weight is expected (computing on weights is not supported)`);
    if (shape && t.weight.shape.reduce((a, b) => a * b, 1) !== shape.reduce((a, b) => a * b, 1)) {
      this.fail(`passes ${op} a weight of shape [${t.weight.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    return t.weight;
  }

  width(id: number): number {
    return this.nodes[id]!.width;
  }

  // ---------------------------------------------------------------- the cellOps

  matmul(a: Tensor, b: Tensor, bias: Tensor | null, name = 'matmul'): TracedTensor {
    const x = this.row(a, name);
    if (!(b instanceof TracedTensor) || b.weight === null || b.shape.length !== 2) this.fail(`multiplies by ${b instanceof TracedTensor && b.node !== null ? 'a computed value' : 'something'} that is not a 2-D weight (${name})`);
    const w = this.weightOf(b, name);
    const [K, N] = b.shape as [number, number];
    if (K !== this.width(x)) throw new RangeError(`${name}: cannot multiply [${this.B}, ${this.width(x)}] by [${K}, ${N}]`);
    const bw = bias ? this.weightOf(bias, `${name} (bias)`, [N]) : null;
    return this.add_({ kind: 'matmul', terms: [{ a: x, weight: w }], bias: bw, width: N, label: name });
  }

  binary(kind: ElementwiseKind, a: Tensor, b: Tensor): TracedTensor {
    const x = this.row(a, kind), y = this.row(b, kind);
    if (this.width(x) !== this.width(y)) throw new RangeError(`${kind}: shapes ${dims(a)} and ${dims(b)} differ`);
    return this.add_({ kind, a: x, b: y, width: this.width(x), label: kind });
  }

  scale(a: Tensor, factor: number, shift: number, name = 'scale'): TracedTensor {
    if (!Number.isFinite(factor) || !Number.isFinite(shift)) throw new RangeError(`${name}: scale ${factor} and shift ${shift} must be finite`);
    const x = this.row(a, name);
    return this.add_({ kind: 'scale', a: x, factor, shift, width: this.width(x), label: name });
  }

  activation(a: Tensor, act: Activation): TracedTensor {
    if (act === 'linear') return a as TracedTensor;
    const x = this.row(a, act);
    return this.add_({ kind: 'act', a: x, act, width: this.width(x), label: act });
  }

  biasAdd(a: Tensor, bias: Tensor): TracedTensor {
    const x = this.row(a, 'biasAdd');
    const w = this.weightOf(bias, 'biasAdd', [this.width(x)]);
    return this.add_({ kind: 'biasAdd', a: x, weight: w, width: this.width(x), label: `biasAdd ${bias.name}` });
  }

  layerNorm(a: Tensor, gamma: Tensor | null, beta: Tensor | null, epsilon: number, name = 'layerNorm'): TracedTensor {
    const x = this.row(a, name);
    const n = this.width(x);
    const gw = gamma ? this.weightOf(gamma, `${name} (gamma)`, [n]) : null;
    const bw = beta ? this.weightOf(beta, `${name} (beta)`, [n]) : null;
    const stats = this.add_({ kind: 'rowStats', a: x, eps: epsilon, width: 2, label: `${name} mean, 1/std` });
    let y = this.add_({ kind: 'normalize', a: x, stats: stats.node!, width: n, label: `${name} (x - mean)/std` });
    if (gw) y = this.add_({ kind: 'weightMul', a: y.node!, weight: gw, width: n, label: `${name} ·gamma` });
    if (bw) y = this.add_({ kind: 'biasAdd', a: y.node!, weight: bw, width: n, label: `${name} +beta` });
    return y;
  }

  private featureAxis(axis: number, rank: number, name: string): void {
    const ax = axis < 0 ? axis + rank : axis;
    if (ax !== rank - 1) this.fail(`${name}s along axis ${axis}`, `a fused cell can only ${name} along the features (axis -1)`);
  }

  concat(xs: readonly Tensor[], axis: number, name = 'concat'): TracedTensor {
    if (!xs.length) throw new RangeError(`${name}: nothing to concatenate`);
    this.featureAxis(axis, 2, 'concat');
    const parts = xs.map((t) => this.row(t, name));
    return this.add_({ kind: 'concat', parts, width: parts.reduce((s, p) => s + this.width(p), 0), label: name });
  }

  slice(a: Tensor, axis: number, start: number, size: number, name = 'slice'): TracedTensor {
    if (a instanceof TracedTensor && a.tracer === this && a.weight) return this.sliceWeight(a, axis, start, size, name);
    const x = this.row(a, name);
    this.featureAxis(axis, 2, 'slice');
    const n = this.width(x);
    if (!Number.isInteger(start) || !Number.isInteger(size) || start < 0 || size < 1 || start + size > n) {
      throw new RangeError(`${name}: [${start}, ${start + size}) is outside 0..${n} on axis ${axis} of ${dims(a)}`);
    }
    if (start === 0 && size === n) return a as TracedTensor;
    return this.add_({ kind: 'slice', a: x, start, width: size, label: name });
  }

  /** A slice of a weight along its first axis: a contiguous part, still a weight. */
  private sliceWeight(t: TracedTensor, axis: number, start: number, size: number, name: string): TracedTensor {
    const w = t.weight!;
    const rank = w.shape.length;
    const ax = axis < 0 ? axis + rank : axis;
    const n = w.shape[ax]!;
    if (!Number.isInteger(start) || !Number.isInteger(size) || start < 0 || size < 1 || start + size > n) {
      throw new RangeError(`${name}: [${start}, ${start + size}) is outside 0..${n} on axis ${axis} of ${dims(t)}`);
    }
    const leading = w.shape.slice(0, ax).reduce((p, d) => p * d, 1);
    if (leading !== 1) this.fail(`slices the weight ${t.name} along axis ${axis} (not contiguous)`, 'slice weights along their first axis');
    const inner = w.shape.slice(ax + 1).reduce((p, d) => p * d, 1);
    const shape = [...w.shape];
    shape[ax] = size;
    return new TracedTensor(this, shape, null, { index: w.index, offset: w.offset + start * inner, shape }, `${t.name}[${start}:${start + size}]`);
  }

  split(a: Tensor, sizes: readonly number[], axis: number, name = 'split'): TracedTensor[] {
    const n = a.shape[axis < 0 ? axis + a.shape.length : axis];
    const total = sizes.reduce((s, v) => s + v, 0);
    if (total !== n) throw new RangeError(`${name}: sizes [${sizes.join(', ')}] sum to ${total}, axis ${axis} of ${dims(a)} has ${n}`);
    let start = 0;
    return sizes.map((s, i) => {
      const t = this.slice(a, axis, start, s, `${name}[${i}]`);
      start += s;
      return t;
    });
  }
}

/** True for the tracer standing in for a Graph (rnn.cellOps dispatch on it). */
export function isCellTracer(g: unknown): g is CellTracer {
  return g instanceof CellTracer;
}

/** What `traceCell` needs of a cell (src/layers/cells.ts RecurrentCell). */
export interface TraceableCell {
  readonly className: string;
  readonly stateSize: readonly number[];
  readonly outputSize: number;
  step(g: never, x: Tensor, states: readonly Tensor[], weights: readonly Tensor[]): Promise<{ output: Tensor; states: Tensor[] }>;
}

/**
 * Traces one step of `cell` for batch B and input width I with weights of the given shapes and
 * lowers it (see the file comment). `hoistInput`: matmuls of x_t become projections computed for
 * all steps by a GEMM before the time loop (GPUs: parallel over T); otherwise they stay in the
 * kernel (CPU adapters: a GEMM of many small workgroups costs more than the in-loop dot). Throws
 * CellCompileError when the step cannot be compiled; other errors (a shape mismatch in the cell)
 * propagate as they are.
 */
export async function traceCell(cell: TraceableCell, B: number, I: number, weightShapes: readonly { name: string; shape: readonly number[] }[], hoistInput = true, mergeSums = true): Promise<CellGraph> {
  const tr = new CellTracer(B, cell.className);
  const x = tr.add_({ kind: 'input', width: I, label: 'x_t' });
  const states = cell.stateSize.map((n, i) => tr.add_({ kind: 'state', state: i, width: n, label: `state ${i} (t-1)` }));
  const weights = weightShapes.map((w, i) => tr.weightTensor(i, w.shape, w.name));
  const r = await cell.step(tr as never, x, states, weights);
  if (!r || typeof r !== 'object' || !Array.isArray(r.states)) throw new CellCompileError(`${cell.className}.step must return {output, states}`);
  const output = tr.row(r.output, 'the output');
  const outStates = r.states.map((s, i) => tr.row(s, `state ${i}`));
  if (tr.width(output) !== cell.outputSize) throw new RangeError(`${cell.className}.step returned an output of shape [${B}, ${tr.width(output)}], expected [${B}, ${cell.outputSize}]`);
  if (outStates.length !== cell.stateSize.length || outStates.some((s, i) => tr.width(s) !== cell.stateSize[i])) {
    throw new RangeError(`${cell.className}.step returned states ${outStates.map((s) => `[${B}, ${tr.width(s)}]`).join(', ')}, expected ${cell.stateSize.map((n) => `[${B}, ${n}]`).join(', ')}`);
  }
  return lower(tr.nodes, { output, states: outStates }, I, [...cell.stateSize], cell.outputSize, cell.className, hoistInput, mergeSums);
}

/**
 * Dead nodes removed, matmuls of x_t turned into projections, states entering matmuls routed
 * through stateDrop; ids renumbered so that leaves come first and operands precede their users.
 */
function lower(nodes: CellNode[], roots: { output: number; states: number[] }, I: number, stateSizes: number[], outputSize: number, name: string, hoistInput: boolean, mergeSums: boolean): CellGraph {
  // live nodes (reachable from the output and the states)
  const live = new Set<number>();
  const visit = (id: number): void => {
    if (live.has(id)) return;
    live.add(id);
    for (const o of operands(nodes[id]!)) visit(o);
  };
  visit(roots.output);
  roots.states.forEach(visit);
  const inputId = nodes.findIndex((n) => n.kind === 'input');
  const stateIds = nodes.filter((n) => n.kind === 'state').map((n) => n.id);
  // rewrite: projections and state drops (new nodes get fresh ids past the traced ones)
  const all: CellNode[] = nodes.map((n) => ({ ...n }));
  let projWidth = 0;
  const drops = new Map<number, number>();
  for (const n of all) {
    if (!live.has(n.id) || n.kind !== 'matmul') continue;
    const t = n.terms[0]!; // traced matmuls have one term
    if (t.a === inputId && hoistInput) {
      const p: CellNode = { id: n.id, kind: 'proj', weight: t.weight, bias: n.bias, col: projWidth, width: n.width, label: n.label };
      projWidth += n.width;
      all[n.id] = p;
    } else if (stateIds.includes(t.a)) {
      let d = drops.get(t.a);
      if (d === undefined) {
        d = all.length;
        const s = all[t.a] as Extract<CellNode, { kind: 'state' }>;
        all.push({ id: d, kind: 'stateDrop', a: t.a, state: s.state, width: s.width, label: `state ${s.state} ⊙ recurrent dropout` });
        drops.set(t.a, d);
        live.add(d);
      }
      n.terms = [{ ...t, a: d }];
    }
  }
  if (mergeSums) mergeMatmulSums(all, live, roots);
  // the input stays a leaf only while something still reads it in the kernel
  const used = new Set<number>();
  for (const n of all) if (live.has(n.id)) for (const o of operands(n)) used.add(o);
  if (!used.has(inputId) && roots.output !== inputId && !roots.states.includes(inputId)) live.delete(inputId);
  // order: leaves (input, states, projections), then the rest in trace order (drops right after their state's leaves)
  const leafOrder = (n: CellNode) => (n.kind === 'input' ? 0 : n.kind === 'state' ? 1 : n.kind === 'proj' ? 2 : n.kind === 'stateDrop' ? 3 : 4);
  const order = all.filter((n) => live.has(n.id) || n.kind === 'state').sort((p, q) => leafOrder(p) - leafOrder(q) || p.id - q.id);
  const remap = new Map(order.map((n, i) => [n.id, i]));
  const r = (id: number) => remap.get(id)!;
  const out = order.map((n, i): CellNode => {
    const m = { ...n, id: i } as CellNode;
    if ('a' in m) m.a = r(m.a);
    if ('b' in m) m.b = r(m.b);
    if (m.kind === 'matmul') m.terms = m.terms.map((t) => ({ ...t, a: r(t.a) }));
    if (m.kind === 'concat') m.parts = m.parts.map(r);
    if (m.kind === 'normalize') m.stats = r(m.stats);
    return m;
  });
  return { nodes: out, inputSize: I, stateSizes, outputSize, output: r(roots.output), states: roots.states.map(r), projWidth, name };
}

/**
 * add(m1, m2) of two matmuls that nothing else reads (x·K + b + h·U) becomes one matmul with both
 * terms: one register block accumulates both sums, and nothing stores the two halves.
 */
function mergeMatmulSums(all: CellNode[], live: Set<number>, roots: { output: number; states: number[] }): void {
  const uses = new Map<number, number>();
  for (const n of all) if (live.has(n.id)) for (const o of operands(n)) uses.set(o, (uses.get(o) ?? 0) + 1);
  const isRoot = (id: number) => roots.output === id || roots.states.includes(id);
  for (const n of all) {
    if (!live.has(n.id) || n.kind !== 'add' || n.a === n.b) continue;
    const p = all[n.a]!, q = all[n.b]!;
    if (p.kind !== 'matmul' || q.kind !== 'matmul' || (p.bias && q.bias)) continue;
    if (uses.get(p.id) !== 1 || uses.get(q.id) !== 1 || isRoot(p.id) || isRoot(q.id)) continue;
    all[n.id] = { id: n.id, kind: 'matmul', terms: [...p.terms, ...q.terms], bias: p.bias ?? q.bias, width: n.width, label: `${p.label} + ${q.label}` };
    live.delete(p.id);
    live.delete(q.id);
  }
}

/** One line per node (tests, errors, the generated module's header). */
export function describeNode(g: CellGraph, n: CellNode): string {
  const v = (id: number) => `n${id}`;
  const w = (x: WeightRef | null) => (x ? `w${x.index}${x.offset ? `+${x.offset}` : ''}` : '');
  switch (n.kind) {
    case 'input': return `x_t [${n.width}]`;
    case 'state': return `state ${n.state} entering the step [${n.width}]`;
    case 'stateDrop': return `${v(n.a)} ⊙ recurrent-dropout mask ${n.state}`;
    case 'proj': return `x_t·${w(n.weight)}${n.bias ? ` + ${w(n.bias)}` : ''} (all steps by one GEMM, columns ${n.col}..${n.col + n.width - 1})`;
    case 'matmul': return `${n.terms.map((t) => `${v(t.a)}·${w(t.weight)}`).join(' + ')}${n.bias ? ` + ${w(n.bias)}` : ''}`;
    case 'add': return `${v(n.a)} + ${v(n.b)}`;
    case 'sub': return `${v(n.a)} - ${v(n.b)}`;
    case 'mul': return `${v(n.a)} ⊙ ${v(n.b)}`;
    case 'scale': return `${v(n.a)}·${n.factor} + ${n.shift}`;
    case 'act': return `${n.act}(${v(n.a)})`;
    case 'biasAdd': return `${v(n.a)} + ${w(n.weight)}`;
    case 'weightMul': return `${v(n.a)} ⊙ ${w(n.weight)}`;
    case 'rowStats': return `mean and 1/sqrt(var + ${n.eps}) of ${v(n.a)}'s row`;
    case 'normalize': return `(${v(n.a)} - mean)·rstd (${v(n.stats)})`;
    case 'concat': return `concat(${n.parts.map(v).join(', ')})`;
    case 'slice': return `${v(n.a)}[${n.start}..${n.start + n.width - 1}]`;
  }
  return g.name;
}
