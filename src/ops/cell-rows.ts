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

/** The buffers the row kernels read or write at every step. */
export type StepBuffer = 'saved' | 'dsaved' | 'xin' | 'dxin' | 'outSeq' | 'dOutSeq';

export class RowGen {
  /** Values the backward reads back from saved (what pass 1 of cell-codegen.ts keeps). */
  readonly valueReads = new Set<number>();
  /** The vec4s (or values) already loaded in the current step. */
  private loaded = new Set<string>();
  /** The weight floats the kernel being emitted reads (loaded once, before its step loop). */
  private weightsRead = new Set<number>();
  /** The dropout-mask factors it reads ("rm<state>_<unit>", "im_<feature>"; the same at every step). */
  private masksRead = new Map<string, string>();

  /** The register holding the weight float at offset i of wts. */
  private wt(i: number): string {
    this.weightsRead.add(i);
    return `w_${i}`;
  }

  /** The register holding row b's recurrent-dropout factor of unit k of state i. */
  private recMask(i: number, k: number): string {
    const name = `rm${i}_${k}`;
    this.masksRead.set(name, `recMask${i}(b, ${u(k)})`);
    return name;
  }

  /** The register holding row b's input-dropout factor of feature k. */
  private inMask(k: number): string {
    const name = `im_${k}`;
    this.masksRead.set(name, `inMask(b, ${u(k)})`);
    return name;
  }

  /**
   * The loads of what the kernel reads the same at every step — the weights and the dropout masks —
   * put at line `at` (its start, before the step loop): loaded once per chunk instead of once per
   * step. SwiftShader checks every storage load's bounds and branches on the result even at a
   * constant offset (LN cell, I = 20: forward 4.5 → 1.6 ms, BPTT 4.1 → 1.3 ms); lavapipe gains a
   * little too.
   */
  private loadChunkConstants(at: number): void {
    const lines = [...this.weightsRead].sort((a, b) => a - b).map((i) => `  let w_${i} = wts[${u(i)}];`);
    for (const [name, e] of this.masksRead) lines.push(`  let ${name} = ${e};`);
    this.o.lines.splice(at, 0, ...(lines.length ? ['  // the weights and dropout masks, read once for all steps', ...lines] : []));
    this.weightsRead.clear();
    this.masksRead.clear();
  }

  /**
   * Whether a per-step buffer is moved as vec4s (through its view <name>V: array<vec4f>): saved and
   * dsaved always (the layout aligns their columns to 4), x, its gradient and the outputs when
   * their width is a multiple of 4. Every per-invocation load or store is a loop over the lanes on
   * lavapipe and a gather or scatter on SwiftShader, whatever its width: a vec4 does four floats'
   * work in one. (lavapipe builds each kernel as an LLVM coroutine, at a cost that grows with the
   * square of the number of basic blocks, and every such loop adds blocks: fewer memory operations
   * also make the first compile much shorter.)
   */
  vec(buf: StepBuffer): boolean {
    return buf === 'saved' || buf === 'dsaved' || this.width(buf) % 4 === 0;
  }

  /** Floats per (row, step) of a per-step buffer. */
  private width(buf: StepBuffer): number {
    if (buf === 'saved') return this.l.savedWidth;
    if (buf === 'dsaved') return Math.max(1, this.l.gradWidth);
    return buf === 'xin' || buf === 'dxin' ? this.g.inputSize : this.g.outputSize;
  }

  /**
   * `buf[row, col + i] = values[i]` for every i (`op` '+=': added to it); col a multiple of 4 when
   * the buffer moves vec4s, the last vec4 padded with zeros.
   */
  private store(buf: StepBuffer, row: string, col: number, values: readonly string[], op: '=' | '+=' = '='): void {
    const W = this.width(buf);
    if (!this.vec(buf)) {
      values.forEach((v, i) => this.o.line(`${buf}[${row} * ${u(W)} + ${u(col + i)}] ${op} ${v};`));
      return;
    }
    if (col % 4) throw new Error(`cell codegen (rows): ${buf} column ${col} is not a multiple of 4`);
    for (let q = 0; q < values.length; q += 4) {
      const v4 = [0, 1, 2, 3].map((i) => values[q + i] ?? '0.0');
      this.o.line(`${buf}V[${row} * ${u(W / 4)} + ${u((col + q) / 4)}] ${op} vec4f(${v4.join(', ')});`);
    }
  }

  /**
   * `buf[row, col]`, loaded before the line that uses it: as a component of its vec4 (loaded once
   * per step and register `reg`) when the buffer moves vec4s. `guard`: a condition the load is
   * selected by (zero without it).
   */
  private load(buf: StepBuffer, row: string, col: number, reg: string, guard = ''): string {
    const W = this.width(buf);
    const v = this.vec(buf);
    const name = v ? `${reg}${Math.floor(col / 4)}` : `${reg}_${col}`;
    if (!this.loaded.has(name)) {
      this.loaded.add(name);
      const e = v ? `${buf}V[${row} * ${u(W / 4)} + ${u(Math.floor(col / 4))}]` : `${buf}[${row} * ${u(W)} + ${u(col)}]`;
      this.o.line(`let ${name} = ${guard ? `select(${v ? 'vec4f(0.0)' : '0.0'}, ${e}, ${guard})` : e};`);
    }
    return v ? `${name}.${'xyzw'[col % 4]}` : name;
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
    if (n.kind === 'input') return this.load('xin', 'row', k, 'xv');
    const col = this.l.savedCol[b];
    if (col === undefined) throw new Error(`cell codegen (rows): n${b} is read but has no column in saved`);
    this.valueReads.add(b);
    return this.load('saved', 'row', col + k, 'sv');
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
    o.depth = 2;
    o.line('let prev = rowOf(b, params.tStart - 1u);');
    this.loaded.clear();
    range(O).forEach((j) => o.line(`out_${j} = ${this.load('outSeq', 'prev', j, 'ov')};`));
    o.depth = 0;
    o.line('  }');
    o.line('  for (var s = params.tStart; s < params.tEnd; s++) {');
    o.depth = 2;
    o.line('let row = rowOf(b, s);');
    o.line('// the states entering step s (for BPTT and the weight gradients), dropped where they enter a matmul');
    S.forEach((w, i) => {
      this.store('saved', 'row', l.savedCol[this.stateLeaf(i)]!, range(w).map((k) => `st${i}_${k}`));
      const drop = this.dropOf(i);
      if (drop === undefined) return;
      range(w).forEach((k) => o.line(`let sd${i}_${k} = st${i}_${k} * ${this.recMask(i, k)};`));
      this.store('saved', 'row', l.savedCol[drop]!, range(w).map((k) => `sd${i}_${k}`));
    });
    o.open('if (HAS_SEQ_MASK && stepMasked(b, s))');
    o.line('// masked: the states are carried and the output is the previous one; what the weight gradients read is zero');
    for (const n of g.nodes) {
      if (n.kind === 'stateDrop' || n.kind === 'state' || n.kind === 'input') continue;
      const col = l.savedCol[n.id];
      if (col !== undefined) this.store('saved', 'row', col, range(n.width).map(() => '0.0'));
    }
    o.orElse();
    this.loaded.clear();
    if (inputUsed) range(g.inputSize).forEach((k) => o.line(`let x_${k} = ${this.load('xin', 'row', k, 'xv')};`));
    for (const n of g.nodes) this.value(n);
    // new states and the output (read all first: a state may be computed from another)
    S.forEach((w, i) => range(w).forEach((k) => o.line(`let ns${i}_${k} = ${this.fv(g.states[i]!, k)};`)));
    S.forEach((w, i) => range(w).forEach((k) => o.line(`st${i}_${k} = ns${i}_${k};`)));
    range(O).forEach((j) => o.line(`out_${j} = ${this.fv(g.output, j)};`));
    o.close();
    this.store('outSeq', 'row', 0, range(O).map((j) => `out_${j}`));
    o.depth = 1;
    o.line('}');
    o.line('// where the chunk leaves the states and the output (after the last chunk: the final ones)');
    S.forEach((w, i) => range(w).forEach((k) => o.line(`last[params.lastOff${i} + b * ${u(w)} + ${u(k)}] = st${i}_${k};`)));
    range(O).forEach((j) => o.line(`last[params.outLastOff + b * ${u(O)} + ${u(j)}] = out_${j};`));
    o.depth = 0;
    this.loadChunkConstants(weightsAt);
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
        if (col !== undefined) this.store('saved', 'row', col, range(n.width).map((j) => this.fv(n.id, j)));
        return;
      }
      default:
        return; // leaves and slices (views): no code
    }
    lines.forEach((e, j) => o.line(`let n${n.id}_${j} = ${e};`));
    const col = this.l.savedCol[n.id];
    if (col !== undefined) this.store('saved', 'row', col, range(n.width).map((j) => `n${n.id}_${j}`));
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
    this.loaded.clear();
    range(O).forEach((j) => o.line(`dout_${j} += ${this.load('dOutSeq', 'row', j, 'dov', 'HAS_DOUT_SEQ')};`));
    for (const [id, col] of this.gradColumns()) this.store('dsaved', 'row', col, range(this.node(id).width).map(() => '0.0'));
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
    this.loadChunkConstants(weightsAt);
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
      if (g.output === id) terms.push(`dout_${j}`, this.load('dOutSeq', 'row', j, 'dov', 'HAS_DOUT_SEQ'));
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
            terms.push(`${G(j)} * ${this.recMask(cn.state, j)}`);
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
    if (gc !== undefined && n.kind !== 'input') this.store('dsaved', 'row', gc, range(n.width).map((j) => `g${id}_${j}`));
    const cc = l.contribCol.get(id);
    if (cc !== undefined && n.kind === 'weightMul') {
      const contrib = range(n.width).map((j) => `g${id}_${j} * ${this.bv(n.a, j)}`);
      this.store('dsaved', 'row', cc, contrib);
    }
    if (n.kind === 'input') {
      o.open('if (HAS_DX)');
      o.line("// x's gradient");
      this.store('dxin', 'row', 0, range(n.width).map((j) => `g${id}_${j} * ${this.inMask(j)}`), '+=');
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

