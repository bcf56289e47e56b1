/**
 * The row-per-invocation kernels of a compiled cell, for small cells on CPU adapters: invocation i
 * of workgroup w owns batch row w·WG + i and runs the whole step for it — every unit unrolled into
 * its own variable, the states and the gradients carried from step to step in registers — so a
 * step has no barrier and no exchange between invocations. Weights are read at constant offsets,
 * once per chunk into registers, before the step loop (a constant offset is one broadcast load; an
 * offset that differs per invocation is a gather of scalar loads with bounds checks), and WG is the adapter's SIMD
 * width, so a workgroup is one group of lanes. The phase kernels (cell-wgsl.ts) stay for wider
 * cells (the unrolled code grows with Σ K·N) and for GPUs (a row per invocation leaves a GPU idle).
 * Same bindings, params, saved / dsaved columns and results as the phase kernels; the maths of each
 * op is the one of cell-rules.ts, written per unit.
 */
import type { CellGraph, CellNode } from './cell-graph';
import type { CellLayout } from './cell-layout';
import { ACT, ACT_GRAD } from './cell-rules';
import { fl, u, type Out } from './cell-wgsl';

/** Largest Σ K·N over a cell's matmul terms, and Σ of its value widths, for the unrolled kernels. */
export const ROW_KERNEL_LIMITS = { products: 4096, units: 1024 };

/** True when the unrolled row kernels suit the cell (CPU adapters only). */
export function rowKernelsFit(g: CellGraph): boolean {
  let products = 0;
  for (const n of g.nodes) if (n.kind === 'matmul') for (const t of n.terms) products += g.nodes[t.a]!.width * n.width;
  const units = g.nodes.reduce((s, n) => s + n.width, 0);
  return products <= ROW_KERNEL_LIMITS.products && units <= ROW_KERNEL_LIMITS.units && !g.nodes.some((n) => n.kind === 'proj');
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export class RowGen {
  /** Values the backward reads back from saved (what pass 1 of cell-codegen.ts keeps). */
  readonly valueReads = new Set<number>();
  /** Backward: the saved values already loaded in the current step. */
  private loaded = new Set<string>();
  /** The weight floats the kernel being emitted reads (loaded once, before its step loop). */
  private weightsRead = new Set<number>();

  /** The register holding the weight float at offset i of wts. */
  private wt(i: number): string {
    this.weightsRead.add(i);
    return `w_${i}`;
  }

  /**
   * The loads of the weights the kernel read, put at line `at` (its start, before the step loop):
   * each weight is loaded once per chunk instead of once per step. SwiftShader checks every storage
   * load's bounds and branches on the result even at a constant offset (LN cell, I = 20: forward
   * 4.5 → 1.6 ms, BPTT 4.1 → 1.3 ms); lavapipe gains a little too.
   */
  private loadWeights(at: number): void {
    const lines = [...this.weightsRead].sort((a, b) => a - b).map((i) => `  let w_${i} = wts[${u(i)}];`);
    this.o.lines.splice(at, 0, ...(lines.length ? ['  // the weights, read once for all steps', ...lines] : []));
    this.weightsRead.clear();
  }

  constructor(
    readonly g: CellGraph,
    readonly l: CellLayout,
    readonly o: Out,
  ) {}

  node(id: number): CellNode {
    return this.g.nodes[id]!;
  }

  weight(w: { index: number; offset: number }): number {
    return this.l.weightOffset[w.index]! + w.offset;
  }

  /** The node and unit a value at (id, j) is (slices and concats are views). */
  private base(id: number, j: number): [number, number] {
    const n = this.node(id);
    if (n.kind === 'slice') return this.base(n.a, j + n.start);
    if (n.kind === 'concat') {
      let off = 0;
      for (const p of n.parts) {
        const w = this.node(p).width;
        if (j < off + w) return this.base(p, j - off);
        off += w;
      }
    }
    return [id, j];
  }

  /** Forward: the register holding the value of node `id` at unit j. */
  fv(id: number, j: number): string {
    const [b, k] = this.base(id, j);
    const n = this.node(b);
    if (n.kind === 'input') return `x_${k}`;
    if (n.kind === 'state') return `st${n.state}_${k}`;
    if (n.kind === 'stateDrop') return `sd${n.state}_${k}`;
    return `n${b}_${k}`;
  }

  /** Backward: the forward value of node `id` at unit j, loaded from saved (or x) before the line that uses it. */
  bv(id: number, j: number): string {
    const [b, k] = this.base(id, j);
    const n = this.node(b);
    const name = `v${b}_${k}`;
    if (!this.loaded.has(name)) {
      this.loaded.add(name);
      if (n.kind === 'input') this.o.line(`let ${name} = xin[row * ${u(this.g.inputSize)} + ${u(k)}];`);
      else {
        const col = this.l.savedCol[b];
        if (col === undefined) throw new Error(`cell codegen (rows): n${b} is read but has no column in saved`);
        this.valueReads.add(b);
        this.o.line(`let ${name} = saved[row * SW + ${u(col + k)}];`);
      }
    }
    return name;
  }

  /** Backward: the gradient of node `id` at unit j (a register of this step). */
  gv(id: number, j: number): string {
    return `g${id}_${j}`;
  }

  private stateLeaf(i: number): number {
    return this.g.nodes.find((n) => n.kind === 'state' && n.state === i)!.id;
  }

  private dropOf(i: number): number | undefined {
    return this.g.nodes.find((n) => n.kind === 'stateDrop' && n.state === i)?.id;
  }

  // ---------------------------------------------------------------- forward

  forward(): void {
    const { g, l, o } = this;
    const S = g.stateSizes, O = g.outputSize;
    const inputUsed = g.nodes.some((n) => n.kind === 'input');
    o.line('  let b = row0 + lid;');
    o.line('  if (b >= rowEnd) { return; }');
    const weightsAt = o.lines.length;
    o.line('  // the states entering the chunk (initial states, zeros, or where the previous chunk left them) and the last output');
    S.forEach((w, i) => range(w).forEach((k) => o.line(`  var st${i}_${k} = 0.0;`)));
    range(O).forEach((j) => o.line(`  var out_${j} = 0.0;`));
    o.line('  if (params.tStart == 0u) {');
    o.line('    if (HAS_INIT) {');
    S.forEach((w, i) => range(w).forEach((k) => o.line(`      st${i}_${k} = consts[params.initOff${i} + b * ${u(w)} + ${u(k)}];`)));
    o.line('    }');
    o.line('  } else {');
    S.forEach((w, i) => range(w).forEach((k) => o.line(`    st${i}_${k} = last[params.lastOff${i} + b * ${u(w)} + ${u(k)}];`)));
    range(O).forEach((j) => o.line(`    out_${j} = outSeq[rowOf(b, params.tStart - 1u) * ${u(O)} + ${u(j)}];`));
    o.line('  }');
    o.line('  for (var s = params.tStart; s < params.tEnd; s++) {');
    o.depth = 2;
    o.line('let row = rowOf(b, s);');
    o.line('// the states entering step s (for BPTT and the weight gradients), dropped where they enter a matmul');
    S.forEach((w, i) => {
      const col = l.savedCol[this.stateLeaf(i)]!;
      const drop = this.dropOf(i);
      range(w).forEach((k) => {
        o.line(`saved[row * SW + ${u(col + k)}] = st${i}_${k};`);
        if (drop !== undefined) {
          o.line(`let sd${i}_${k} = st${i}_${k} * recMask${i}(b, ${u(k)});`);
          o.line(`saved[row * SW + ${u(l.savedCol[drop]! + k)}] = sd${i}_${k};`);
        }
      });
    });
    o.open('if (HAS_SEQ_MASK && stepMasked(b, s))');
    o.line('// masked: the states are carried and the output is the previous one; what the weight gradients read is zero');
    for (const n of g.nodes) {
      if (n.kind === 'stateDrop' || n.kind === 'state' || n.kind === 'input') continue;
      const col = l.savedCol[n.id];
      if (col !== undefined) range(n.width).forEach((k) => o.line(`saved[row * SW + ${u(col + k)}] = 0.0;`));
    }
    o.orElse();
    if (inputUsed) range(g.inputSize).forEach((k) => o.line(`let x_${k} = xin[row * ${u(g.inputSize)} + ${u(k)}];`));
    for (const n of g.nodes) this.value(n);
    // new states and the output (read all first: a state may be computed from another)
    S.forEach((w, i) => range(w).forEach((k) => o.line(`let ns${i}_${k} = ${this.fv(g.states[i]!, k)};`)));
    S.forEach((w, i) => range(w).forEach((k) => o.line(`st${i}_${k} = ns${i}_${k};`)));
    range(O).forEach((j) => o.line(`out_${j} = ${this.fv(g.output, j)};`));
    o.close();
    range(O).forEach((j) => o.line(`outSeq[row * ${u(O)} + ${u(j)}] = out_${j};`));
    o.depth = 1;
    o.line('}');
    o.line('// where the chunk leaves the states and the output (after the last chunk: the final ones)');
    S.forEach((w, i) => range(w).forEach((k) => o.line(`last[params.lastOff${i} + b * ${u(w)} + ${u(k)}] = st${i}_${k};`)));
    range(O).forEach((j) => o.line(`last[params.outLastOff + b * ${u(O)} + ${u(j)}] = out_${j};`));
    o.depth = 0;
    this.loadWeights(weightsAt);
  }

  /** A computed node's units (`let n<id>_<j> = …`), stored where the layout keeps it. */
  private value(n: CellNode): void {
    const o = this.o;
    const W = (w: { index: number; offset: number }, j: number) => this.wt(this.weight(w) + j);
    const A = (j: number) => this.fv((n as { a: number }).a, j);
    const lines: string[] = [];
    switch (n.kind) {
      case 'matmul':
        for (const j of range(n.width)) {
          const terms = n.terms.flatMap((t) => range(this.node(t.a).width).map((k) => `${this.fv(t.a, k)} * ${this.wt(this.weight(t.weight) + k * n.width + j)}`));
          lines.push([...(n.bias ? [W(n.bias, j)] : []), ...terms].join(' + ') || '0.0');
        }
        break;
      case 'add':
      case 'sub':
      case 'mul':
        for (const j of range(n.width)) lines.push(`${A(j)} ${{ add: '+', sub: '-', mul: '*' }[n.kind]} ${this.fv(n.b, j)}`);
        break;
      case 'scale':
        for (const j of range(n.width)) lines.push(`${A(j)} * ${fl(n.factor)} + ${fl(n.shift)}`);
        break;
      case 'act':
        for (const j of range(n.width)) lines.push(ACT[n.act]!(A(j)));
        break;
      case 'biasAdd':
        for (const j of range(n.width)) lines.push(`${A(j)} + ${W(n.weight, j)}`);
        break;
      case 'weightMul':
        for (const j of range(n.width)) lines.push(`${A(j)} * ${W(n.weight, j)}`);
        break;
      case 'rowStats': {
        const N = this.node(n.a).width;
        const xs = range(N).map((k) => this.fv(n.a, k));
        o.line(`let n${n.id}_0 = (${xs.join(' + ')}) / ${fl(N)}; // the row's mean`);
        o.line(`let n${n.id}_1 = 1.0 / sqrt((${xs.map((x) => `(${x} - n${n.id}_0) * (${x} - n${n.id}_0)`).join(' + ')}) / ${fl(N)} + ${fl(n.eps)}); // 1/std`);
        break;
      }
      case 'normalize':
        for (const j of range(n.width)) lines.push(`(${A(j)} - n${n.stats}_0) * n${n.stats}_1`);
        break;
      case 'concat': {
        // a view of its parts; stored when something after the loop reads it (a matmul's operand)
        const col = this.l.savedCol[n.id];
        if (col !== undefined) range(n.width).forEach((j) => o.line(`saved[row * SW + ${u(col + j)}] = ${this.fv(n.id, j)};`));
        return;
      }
      default:
        return; // leaves and slices (views): no code
    }
    lines.forEach((e, j) => o.line(`let n${n.id}_${j} = ${e};`));
    const col = this.l.savedCol[n.id];
    if (col !== undefined) range(n.width).forEach((j) => o.line(`saved[row * SW + ${u(col + j)}] = n${n.id}_${j};`));
  }

  // ---------------------------------------------------------------- backward

  backward(): void {
    const { g, o } = this;
    const S = g.stateSizes, O = g.outputSize;
    o.line('  let b = row0 + lid;');
    o.line('  if (b >= rowEnd) { return; }');
    const weightsAt = o.lines.length;
    o.line('  // the gradients of the states and of the output leaving the chunk');
    S.forEach((w, i) => range(w).forEach((k) => o.line(`  var dst${i}_${k} = carry[params.carryOff${i} + b * ${u(w)} + ${u(k)}];`)));
    range(O).forEach((j) => o.line(`  var dout_${j} = carry[params.outCarryOff + b * ${u(O)} + ${u(j)}];`));
    o.line('  for (var i = params.tStart; i < params.tEnd; i++) {');
    o.depth = 2;
    o.line('let s = params.tEnd - 1u - (i - params.tStart);');
    o.line('let row = rowOf(b, s);');
    o.open('if (HAS_SEQ_MASK && stepMasked(b, s))');
    o.line('// masked: the output gradient goes to the previous output, the states\' pass through; nothing for the weights');
    range(O).forEach((j) => o.line(`if (HAS_DOUT_SEQ) { dout_${j} += dOutSeq[row * ${u(O)} + ${u(j)}]; }`));
    for (const [id, col] of this.gradColumns()) range(this.node(id).width).forEach((j) => o.line(`dsaved[row * DW + ${u(col + j)}] = 0.0;`));
    o.orElse();
    this.loaded.clear();
    for (let id = g.nodes.length - 1; id >= 0; id--) this.gradient(id);
    S.forEach((w, i) => range(w).forEach((k) => o.line(`dst${i}_${k} = ${this.gv(this.stateLeaf(i), k)};`)));
    range(O).forEach((j) => o.line(`dout_${j} = 0.0;`));
    o.close();
    o.depth = 1;
    o.line('}');
    S.forEach((w, i) => range(w).forEach((k) => o.line(`carry[params.carryOff${i} + b * ${u(w)} + ${u(k)}] = dst${i}_${k};`)));
    range(O).forEach((j) => o.line(`carry[params.outCarryOff + b * ${u(O)} + ${u(j)}] = dout_${j};`));
    o.depth = 0;
    this.loadWeights(weightsAt);
  }

  /** The dsaved columns this kernel writes: kept gradients and the weight-gradient contributions. */
  private gradColumns(): [number, number][] {
    const out: [number, number][] = [];
    for (const n of this.g.nodes) {
      const gc = this.l.gradCol[n.id];
      if (gc !== undefined && n.kind !== 'input') out.push([n.id, gc]);
      const cc = this.l.contribCol.get(n.id);
      if (cc !== undefined) out.push([n.id, cc]);
    }
    return out;
  }

  /** `let g<id>_<j> = …` for every unit: the seeds plus each consumer's gradient through this operand. */
  private gradient(id: number): void {
    const { g, l, o } = this;
    const n = this.node(id);
    if (n.kind === 'rowStats') return;
    const W = (w: { index: number; offset: number }, j: number) => this.wt(this.weight(w) + j);
    for (const j of range(n.width)) {
      const terms: string[] = [];
      if (g.output === id) terms.push(`dout_${j}`, `select(0.0, dOutSeq[row * ${u(g.outputSize)} + ${u(j)}], HAS_DOUT_SEQ)`);
      g.states.forEach((st, i) => {
        if (st === id) terms.push(`dst${i}_${j}`);
      });
      for (const [c, pos] of l.consumers[id]!) {
        const cn = this.node(c);
        const G = (m: number) => this.gv(c, m);
        switch (cn.kind) {
          case 'add':
          case 'biasAdd':
            terms.push(G(j));
            break;
          case 'sub':
            terms.push(pos === 0 ? G(j) : `-${G(j)}`);
            break;
          case 'mul':
            terms.push(`${G(j)} * ${this.bv(pos === 0 ? cn.b : cn.a, j)}`);
            break;
          case 'scale':
            terms.push(`${G(j)} * ${fl(cn.factor)}`);
            break;
          case 'act':
            terms.push(`${G(j)} * ${ACT_GRAD[cn.act]!(this.bv(c, j))}`);
            break;
          case 'weightMul':
            terms.push(`${G(j)} * ${W(cn.weight, j)}`);
            break;
          case 'stateDrop':
            terms.push(`${G(j)} * recMask${cn.state}(b, ${u(j)})`);
            break;
          case 'normalize':
            if (pos === 0) terms.push(`r${c} * (${G(j)} - s1_${c} - ${this.bv(c, j)} * s2_${c})`);
            break;
          case 'matmul': {
            const w = this.weight(cn.terms[pos]!.weight);
            terms.push(...range(cn.width).map((m) => `${G(m)} * ${this.wt(w + j * cn.width + m)}`));
            break;
          }
          case 'concat': {
            const off = cn.parts.slice(0, pos).reduce((s, p) => s + this.node(p).width, 0);
            terms.push(G(j + off));
            break;
          }
          case 'slice':
            if (j >= cn.start && j < cn.start + cn.width) terms.push(G(j - cn.start));
            break;
          default:
            break; // rowStats: the normalize node carries it
        }
      }
      o.line(`let g${id}_${j} = ${terms.join(' + ') || '0.0'};`);
    }
    const gc = l.gradCol[id];
    if (gc !== undefined && n.kind !== 'input') range(n.width).forEach((j) => o.line(`dsaved[row * DW + ${u(gc + j)}] = g${id}_${j};`));
    const cc = l.contribCol.get(id);
    if (cc !== undefined && n.kind === 'weightMul') range(n.width).forEach((j) => o.line(`dsaved[row * DW + ${u(cc + j)}] = g${id}_${j} * ${this.bv(n.a, j)};`));
    if (n.kind === 'input') {
      o.open('if (HAS_DX)');
      range(n.width).forEach((j) => o.line(`dxin[row * ${u(n.width)} + ${u(j)}] += g${id}_${j} * inMask(b, ${u(j)}); // x's gradient`));
      o.close();
    }
    if (n.kind === 'normalize') {
      // the row sums of the normalization's backward, and its 1/std
      const N = fl(n.width);
      o.line(`let r${id} = ${this.bv(n.stats, 1)};`);
      o.line(`let s1_${id} = (${range(n.width).map((k) => `g${id}_${k}`).join(' + ')}) / ${N};`);
      o.line(`let s2_${id} = (${range(n.width).map((k) => `g${id}_${k} * ${this.bv(id, k)}`).join(' + ')}) / ${N};`);
    }
  }
}

