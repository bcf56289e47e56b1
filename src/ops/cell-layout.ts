/**
 * Where a compiled cell keeps its values (cell-graph.ts → cell-codegen.ts): the columns of each
 * node in the forward `saved` rows and the backward `dsaved` rows ([B, T, width] buffers, one row
 * per batch row and step), the packed weights, and the phases of one step. A phase is a loop over
 * the (row, unit) pairs of the workgroup's rows ('units', all its nodes of one width) or over its
 * rows ('rows', the row reductions); phases are separated by barriers, so a node joins the current
 * phase only when everything it reads from that phase is at its own (row, unit).
 */
import { operands, type CellGraph, type CellNode, type WeightRef } from './cell-graph';

/** A node's place in the step's work: its value (forward) or gradient (backward). */
export type PhaseItem =
  | { kind: 'node'; id: number } // forward: the node's value; backward: its gradient
  | { kind: 'commitState'; state: number } // forward: the state carried to the next step
  | { kind: 'commitOut' } // forward: the output sequence
  | { kind: 'normStats'; id: number } // backward: Σ dxhat, Σ dxhat·xhat of a normalize node's row
  | { kind: 'outCarry' }; // backward: the output gradient carried to the previous step (masking)

export interface Phase {
  kind: 'units' | 'rows';
  /** Units per row (kind 'units'). */
  width: number;
  items: PhaseItem[];
}

export interface CellLayout {
  /** Floats per (row, step) of `saved`: stateIn slots, then every computed value. */
  savedWidth: number;
  /** Column of a node's value in `saved` (undefined: read elsewhere: x_t, projections, slices). */
  savedCol: (number | undefined)[];
  /** Floats per (row, step) of `dsaved`. */
  gradWidth: number;
  /** Column of a node's gradient in `dsaved` (undefined for states and row statistics). */
  gradCol: (number | undefined)[];
  /** weightMul nodes: column of the per-step weight-gradient contribution (dy ⊙ a). */
  contribCol: Map<number, number>;
  /** normalize nodes: the two columns of the backward row sums. */
  normStatsCol: Map<number, number>;
  /** Element offset of each weight the kernels read, in the packed `consts` buffer (-1: not read there). */
  weightOffset: number[];
  /** Floats of weights at the start of `consts`. */
  weightFloats: number;
  forward: Phase[];
  backward: Phase[];
  /** The consumers of each node: [consumer id, operand position]. */
  consumers: [number, number][][];
  /** How the weight gradients are summed after BPTT. */
  params: ParamGradPlan;
}

/** True for nodes whose value is computed in the kernel and stored in `saved`. */
export function isComputed(n: CellNode): boolean {
  return n.kind !== 'input' && n.kind !== 'state' && n.kind !== 'proj' && n.kind !== 'slice';
}

/**
 * True for values ready when a step begins: x_t, the projections, the states and their dropped
 * copies (written with the state by the previous step, or before step 0).
 */
export function isReadyAtStepStart(n: CellNode): boolean {
  return !isComputed(n) || n.kind === 'stateDrop';
}

/** One product A·W of the step: a term of a matmul node (A a row value) or a projection (A = x). */
export interface Product {
  node: number;
  /** Index in the matmul's terms (-1: a projection). */
  term: number;
  /** The row value A, or null for x (a projection). */
  a: number | null;
  weight: WeightRef;
  K: number;
  N: number;
}

/** Every product of the step, in node order. */
export function products(g: CellGraph): Product[] {
  const out: Product[] = [];
  for (const n of g.nodes) {
    if (n.kind === 'proj') out.push({ node: n.id, term: -1, a: null, weight: n.weight, K: g.inputSize, N: n.width });
    if (n.kind === 'matmul') n.terms.forEach((t, i) => out.push({ node: n.id, term: i, a: t.a, weight: t.weight, K: g.nodes[t.a]!.width, N: n.width }));
  }
  return out;
}

/** The weights of a node the kernels read (projections' weights are the GEMM's). */
function kernelWeights(n: CellNode): { index: number }[] {
  if (n.kind === 'matmul') return [...n.terms.map((t) => t.weight), ...(n.bias ? [n.bias] : [])];
  if (n.kind === 'biasAdd' || n.kind === 'weightMul') return [n.weight];
  return [];
}

/** The node a read of `id` lands on (slices are views of their source, never at the same unit). */
export function viewBase(g: CellGraph, id: number, local = true): [number, boolean] {
  let m = g.nodes[id]!;
  while (m.kind === 'slice') {
    local = false;
    m = g.nodes[m.a]!;
  }
  return [m.id, local];
}

/** Reads of a node's forward value: (node, same unit?). */
function forwardReads(g: CellGraph, n: CellNode): [number, boolean][] {
  const base = (id: number, local: boolean) => viewBase(g, id, local);
  switch (n.kind) {
    case 'matmul':
      return n.terms.map((t) => base(t.a, false));
    case 'rowStats':
      return [base(n.a, false)];
    case 'concat':
      return n.parts.map((p) => base(p, false));
    case 'normalize':
      return [base(n.a, true), base(n.stats, false)];
    default:
      return operands(n).map((o) => base(o, true));
  }
}

/** Consumers whose gradient a node reads at its own unit (elementwise, same width). */
function readsGradLocally(c: CellNode): boolean {
  return !(c.kind === 'matmul' || c.kind === 'concat' || c.kind === 'slice' || c.kind === 'rowStats');
}

/** Appends `item` to the last phase, or opens a new one when it cannot join (see the file comment). */
function place(phases: Phase[], kind: 'units' | 'rows', width: number, item: PhaseItem, producedIn: Map<string, number>, reads: [string, boolean][]): void {
  const cur = phases.at(-1);
  const here = phases.length - 1;
  const conflict = reads.some(([key, local]) => producedIn.get(key) === here && (!local || kind === 'rows'));
  if (!cur || cur.kind !== kind || (kind === 'units' && cur.width !== width) || conflict) phases.push({ kind, width, items: [item] });
  else cur.items.push(item);
}

/** Which values and gradients get a column (something reads them after the pair that computes them). */
export interface Keep {
  values: ReadonlySet<number>;
  grads: ReadonlySet<number>;
}

/**
 * The layout of a traced cell; `weightSizes[i]` = elements of the cell's weight i; matmul weights
 * of up to `outerLimit` elements get their gradient in cellParamGrads (bigger: GEMMs). Without `keep`
 * every value and gradient gets a column (the first pass of cell-codegen.ts, which finds out what
 * is read); with it only those in `keep` (and the states, their dropped copies and the statistics).
 * `align`: every node's columns start at a multiple of it, and the row widths are multiples of it
 * (4 for the row kernels, which move a row's values as vec4s).
 */
export function layoutCell(g: CellGraph, weightSizes: readonly number[], outerLimit: number, keep?: Keep, tile: ParamTile = PARAM_TILE.gpu, align = 1): CellLayout {
  const N = g.nodes.length;
  const consumers: [number, number][][] = g.nodes.map(() => []);
  for (const n of g.nodes) operands(n).forEach((o, pos) => consumers[o]!.push([n.id, pos]));

  // a node's columns start at a multiple of `align` (the row kernels store and load them as vec4s)
  const up = (n: number) => Math.ceil(n / align) * align;
  // saved: stateIn slots first, then computed values (row statistics take 2)
  const savedCol: (number | undefined)[] = new Array(N).fill(undefined);
  let sw = 0;
  for (const n of g.nodes) if (n.kind === 'state') { savedCol[n.id] = sw; sw = up(sw + n.width); }
  const kept = (n: CellNode) => !keep || keep.values.has(n.id) || n.kind === 'stateDrop' || n.kind === 'rowStats';
  for (const n of g.nodes) if (isComputed(n) && kept(n)) { savedCol[n.id] = sw; sw = up(sw + n.width); }

  // dsaved: every gradient but the states' (those go to the carry) and the statistics'
  const gradCol: (number | undefined)[] = new Array(N).fill(undefined);
  const contribCol = new Map<number, number>();
  const normStatsCol = new Map<number, number>();
  let dw = 0;
  for (const n of g.nodes) {
    if (n.kind === 'state' || n.kind === 'rowStats' || (keep && !keep.grads.has(n.id))) continue;
    gradCol[n.id] = dw;
    dw = up(dw + n.width);
  }
  for (const n of g.nodes) if (n.kind === 'weightMul') { contribCol.set(n.id, dw); dw = up(dw + n.width); }
  for (const n of g.nodes) if (n.kind === 'normalize') { normStatsCol.set(n.id, dw); dw = up(dw + 2); }

  // the weights the kernels read, packed whole (a view adds its offset) in first-use order
  const weightOffset = weightSizes.map(() => -1);
  let wf = 0;
  for (const n of g.nodes) {
    for (const w of kernelWeights(n)) {
      if (weightOffset[w.index]! >= 0) continue;
      weightOffset[w.index] = wf;
      wf += weightSizes[w.index]!;
    }
  }
  return {
    savedWidth: sw, savedCol, gradWidth: dw, gradCol, contribCol, normStatsCol, weightOffset, weightFloats: wf,
    forward: forwardPhases(g), backward: backwardPhases(g, consumers), consumers, params: paramGradPlan(g, outerLimit, tile),
  };
}

/** What the steps after BPTT read of every step: the matmuls' inputs, and the gradients the weight and input gradients are sums of. */
export function postLoopReads(g: CellGraph): Keep {
  const values = new Set<number>(), grads = new Set<number>();
  for (const n of g.nodes) {
    if (n.kind === 'matmul') for (const t of n.terms) values.add(viewBase(g, t.a)[0]);
    if (n.kind === 'matmul' || n.kind === 'proj' || n.kind === 'biasAdd') grads.add(n.id);
  }
  return { values, grads };
}

/** One sum over all B·T rows of a step value into a weight's gradient (cellParamGrads). */
export type ParamTerm =
  /** Σ dsaved[·, col + j] into elements [offset, offset + width) (biases, gamma, beta). */
  | { kind: 'sum'; weight: number; node: number; col: 'grad' | 'contrib'; offset: number; width: number }
  /** Σ A[·, k]·dsaved[·, grad(node) + j] into the [K, N] elements at offset (a small matmul or projection weight). */
  | { kind: 'outer'; weight: number; product: Product; offset: number; K: number; N: number };

export interface ParamGradPlan {
  /**
   * The terms cellParamGrads sums, each split into kBlocks·jBlocks tasks (one workgroup each): a
   * tile of kBlock rows × jBlock columns of the weight's gradient (a column sum: 1 × jBlock), summed
   * over all rows by the workgroup's lanes, a row per lane at a time, then across the lanes.
   */
  kernel: { term: ParamTerm; kBlock: number; kBlocks: number; jBlock: number; jBlocks: number }[];
  /** The weights whose gradient the kernel adds to (its bindings wg<i>). */
  weights: number[];
  /** Workgroups of the dispatch (the tasks of all terms). */
  total: number;
  /** Products whose weight gradient is a GEMM instead. */
  gemm: Product[];
  /** Bias-like terms done as column sums by GEMM (a weight element two kernel terms would add to, or too many bindings). */
  gemmSums: ParamTerm[];
}

/**
 * A lane's tile in cellParamGrads: at most `floats` accumulators, rows of at most `cols` columns.
 * CPU adapters: big tiles, few loads per multiply-add (a lane's loads are one gather each on
 * lavapipe and cost more than the spilled registers: the LN cell's I = 20 layer, 10×20 tiles 0.53
 * ms, 5×20 0.64, 2×20 1.03, against 0.87 for the former 4×4 tasks summing every row); GPUs: 4×4.
 * `tile` of layoutCell.
 */
export const PARAM_TILE = { cpu: { floats: 200, cols: 20 }, gpu: { floats: 16, cols: 4 } } as const;
export type ParamTile = { readonly floats: number; readonly cols: number };

/**
 * GPUs: the largest K·N of a matmul weight summed in cellParamGrads (a workgroup per 4×4 tile,
 * B·T/WG rows per lane); bigger ones are GEMMs (tiled, parallel over the rows too). CPU adapters
 * sum every weight there: a GEMM's many small workgroups cost more than its better loads save.
 */
export const SMALL_OUTER = 4096;

function paramGradPlan(g: CellGraph, outerLimit: number, tile: ParamTile): ParamGradPlan {
  const terms: ParamTerm[] = [];
  const gemm: Product[] = [];
  for (const p of products(g)) {
    if (p.K * p.N <= outerLimit) terms.push({ kind: 'outer', weight: p.weight.index, product: p, offset: p.weight.offset, K: p.K, N: p.N });
    else gemm.push(p);
  }
  for (const n of g.nodes) {
    if ((n.kind === 'matmul' || n.kind === 'proj') && n.bias) terms.push({ kind: 'sum', weight: n.bias.index, node: n.id, col: 'grad', offset: n.bias.offset, width: n.width });
    else if (n.kind === 'biasAdd') terms.push({ kind: 'sum', weight: n.weight.index, node: n.id, col: 'grad', offset: n.weight.offset, width: n.width });
    else if (n.kind === 'weightMul') terms.push({ kind: 'sum', weight: n.weight.index, node: n.id, col: 'contrib', offset: n.weight.offset, width: n.width });
  }
  // Two tasks must never add to the same element (no atomics): a term overlapping an earlier one of its weight goes to a GEMM.
  const taken = new Map<number, [number, number][]>();
  const kernelTerms: ParamTerm[] = [];
  const gemmSums: ParamTerm[] = [];
  for (const t of terms) {
    const size = t.kind === 'outer' ? t.K * t.N : t.width;
    const spans = taken.get(t.weight) ?? [];
    if (spans.some(([a, b]) => t.offset < b && a < t.offset + size)) {
      if (t.kind === 'outer') gemm.push(t.product);
      else gemmSums.push(t);
      continue;
    }
    taken.set(t.weight, [...spans, [t.offset, t.offset + size]]);
    kernelTerms.push(t);
  }
  // storage buffers of the kernel: dsaved, the sources of outer products, one per weight (≤ 8 in all)
  const weights = [...new Set(kernelTerms.map((t) => t.weight))].sort((a, b) => a - b);
  const sources = new Set<string>(['dsaved']);
  for (const t of kernelTerms) if (t.kind === 'outer') sources.add(outerSource(g, t.product));
  if (sources.size + weights.length > 8) {
    const outer = kernelTerms.flatMap((t) => (t.kind === 'outer' ? [t.product] : []));
    return { kernel: [], weights: [], total: 0, gemm: [...gemm, ...outer], gemmSums: [...gemmSums, ...kernelTerms.filter((t) => t.kind === 'sum')] };
  }
  const kernel = kernelTerms.map((term) => {
    const [K, N] = term.kind === 'outer' ? [term.K, term.N] : [1, term.width];
    const jBlocks = Math.ceil(N / tile.cols);
    const jBlock = 4 * Math.ceil(N / (4 * jBlocks));
    const kBlocks = Math.ceil(K / Math.max(1, Math.floor(tile.floats / jBlock)));
    return { term, kBlock: Math.ceil(K / kBlocks), kBlocks, jBlock, jBlocks };
  });
  return { kernel, weights, total: kernel.reduce((n, e) => n + e.kBlocks * e.jBlocks, 0), gemm, gemmSums };
}

/** The buffer an outer product reads its left operand from. */
export function outerSource(g: CellGraph, p: Product): 'xin' | 'xproj' | 'saved' {
  if (p.a === null) return 'xin';
  const a = g.nodes[viewBase(g, p.a)[0]]!;
  return a.kind === 'input' ? 'xin' : a.kind === 'proj' ? 'xproj' : 'saved';
}

function forwardPhases(g: CellGraph): Phase[] {
  const phases: Phase[] = [];
  const producedIn = new Map<string, number>();
  const key = (id: number) => `v${id}`;
  for (const n of g.nodes) {
    if (isReadyAtStepStart(n)) continue;
    const reads = forwardReads(g, n).map(([id, local]): [string, boolean] => [key(id), local]);
    place(phases, n.kind === 'rowStats' ? 'rows' : 'units', n.width, { kind: 'node', id: n.id }, producedIn, reads);
    producedIn.set(key(n.id), phases.length - 1);
  }
  // the step's results: each state for the next step, the output sequence
  const resultRead = (id: number): [string, boolean] => {
    const [base, local] = viewBase(g, id);
    return [key(base), local];
  };
  g.states.forEach((id, i) => {
    place(phases, 'units', g.stateSizes[i]!, { kind: 'commitState', state: i }, producedIn, [resultRead(id)]);
  });
  place(phases, 'units', g.outputSize, { kind: 'commitOut' }, producedIn, [resultRead(g.output)]);
  return phases;
}

function backwardPhases(g: CellGraph, consumers: [number, number][][]): Phase[] {
  const phases: Phase[] = [];
  const producedIn = new Map<string, number>();
  const key = (id: number) => `g${id}`;
  for (let id = g.nodes.length - 1; id >= 0; id--) {
    const n = g.nodes[id]!;
    if (n.kind === 'rowStats') continue;
    const reads: [string, boolean][] = [];
    for (const [c] of consumers[id]!) {
      const cn = g.nodes[c]!;
      if (cn.kind === 'rowStats') continue;
      reads.push([key(c), readsGradLocally(cn)]);
      if (cn.kind === 'normalize') reads.push([`s${c}`, false]);
    }
    place(phases, 'units', n.width, { kind: 'node', id }, producedIn, reads);
    producedIn.set(key(id), phases.length - 1);
    // the output gradient carried by masked steps is reset by the pair that read it
    if (id === g.output) phases.at(-1)!.items.push({ kind: 'outCarry' });
    if (n.kind === 'normalize') {
      place(phases, 'rows', 2, { kind: 'normStats', id }, producedIn, [[key(id), false]]);
      producedIn.set(`s${id}`, phases.length - 1);
    }
  }
  return phases;
}
