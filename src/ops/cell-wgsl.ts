/**
 * The WGSL of one step of a compiled cell, phase by phase (cell-layout.ts): the code of each node's
 * value (forward) and gradient (backward), inside the loops that spread a phase over the
 * workgroup's invocations. cell-codegen.ts puts these into the module's two entry points.
 *
 * A phase that starts with a matmul (forward) or with the gradient of a matmul's operand (backward)
 * is **blocked** like the hand-written kernels (docs/design.md §6): an invocation computes the
 * dot products of 8 rows × 4 units in registers — per k, 8 row loads whose addresses are the same
 * for every invocation (the row block is the uniform outer loop) and 4 weight loads feed 32
 * multiply-adds — stores them, then runs the phase's other nodes for those 32 (row, unit) pairs.
 * Other phases give each invocation one (row, unit) pair at a time (or one row, for row sums). The
 * maths of each op, its value and its derivative, is in cell-rules.ts.
 */
import type { CellGraph, CellNode } from './cell-graph';
import type { CellLayout, Phase, PhaseItem } from './cell-layout';
import { gradientLines, valueLines } from './cell-rules';

export const u = (n: number) => `${n}u`;

/** A float literal (WGSL needs a '.' or an exponent). */
export function fl(v: number): string {
  const s = String(Math.fround(v));
  return /[.e]/.test(s) ? `(${s})` : `(${s}.0)`;
}

/** `base + col + idx` with the zero terms left out. */
export function at(base: string, col: number, idx: string): string {
  return [base, col ? u(col) : '', idx === '0u' ? '' : idx].filter(Boolean).join(' + ') || '0u';
}

/** Rows and units of a register block (the hand-written kernels' forward block, RNN_TILES.rowBlock × 4). */
export const BLOCK_ROWS = 8;

/** Indented lines. */
export class Out {
  lines: string[] = [];
  depth = 0;
  line(s = ''): void {
    this.lines.push(s ? '  '.repeat(this.depth) + s : '');
  }
  open(s: string): void {
    this.line(`${s} {`);
    this.depth++;
  }
  close(s = '}'): void {
    this.depth--;
    this.line(s);
  }
  orElse(): void {
    this.depth--;
    this.line('} else {');
    this.depth++;
  }
}

/** The dot products a blocked phase starts with: Σ_terms Σ_k A(row, k) · W(k, unit) for 8 rows × 4 units. */
interface BlockDot {
  /** The node whose value (forward) or gradient (backward) the block computes. */
  node: number;
  /** The sums, one per matmul term: length, A at the row whose index variable is `row` and unit `k`, the weight for unit column `j` (a vec4u lane) and `k`. */
  segs: { K: number; a: (row: string) => string; w: (j: string) => string }[];
  /** Initial value (the bias), as a vec4f expression of `ju`. */
  init: string;
  /** Where the block goes: saved (forward value) or dsaved (backward partial gradient). */
  buffer: 'saved' | 'dsaved';
  col: number;
}

export class StepGen {
  readonly o = new Out();
  /** Nodes whose value (forward) or gradient (backward) is a local of the current pair. */
  readonly locals = new Set<number>();
  /** Nodes whose value / gradient some code read from saved / dsaved (what a column must be kept for). */
  readonly valueReads = new Set<number>();
  readonly gradReads = new Set<number>();

  constructor(
    readonly g: CellGraph,
    readonly l: CellLayout,
  ) {}

  node(id: number): CellNode {
    return this.g.nodes[id]!;
  }

  /** The forward value of node `id` at unit `idx` of the row with index `row`. */
  V(id: number, idx: string, useLocals = true, row = 'row'): string {
    const n = this.node(id);
    if (useLocals && this.locals.has(id) && idx === 'j' && row === 'row') return `n${id}`;
    switch (n.kind) {
      case 'input':
        return `xin[${at(`${row} * ${u(this.g.inputSize)}`, 0, idx)}]`;
      case 'proj':
        return `xproj[${at(`${row} * ${u(this.g.projWidth)}`, n.col, idx)}]`;
      case 'slice':
        return this.V(n.a, `${idx} + ${u(n.start)}`, useLocals, row);
      default: {
        const col = this.l.savedCol[id];
        if (col === undefined) throw new Error(`cell codegen: n${id} is read but has no column in saved`);
        this.valueReads.add(id);
        return `saved[${at(`${row} * SW`, col, idx)}]`;
      }
    }
  }

  /** The gradient of node `id` at unit `idx` (backward). */
  G(id: number, idx: string, row = 'row'): string {
    if (this.locals.has(id) && idx === 'j' && row === 'row') return `g${id}`;
    const col = this.l.gradCol[id];
    if (col === undefined) throw new Error(`cell codegen: dn${id} is read but has no column in dsaved`);
    this.gradReads.add(id);
    return `dsaved[${at(`${row} * DW`, col, idx)}]`;
  }

  weight(w: { index: number; offset: number }): number {
    return this.l.weightOffset[w.index]! + w.offset;
  }

  stateLeaf(i: number): number {
    return this.g.nodes.find((n) => n.kind === 'state' && n.state === i)!.id;
  }

  /** The stateDrop node of state i (written with the state, before the step that reads it). */
  dropOf(i: number): number | undefined {
    return this.g.nodes.find((n) => n.kind === 'stateDrop' && n.state === i)?.id;
  }

  itemName(it: PhaseItem, backward: boolean): string {
    switch (it.kind) {
      case 'node': return `${backward ? 'd' : ''}n${it.id}`;
      case 'commitState': return `state ${it.state} → next step`;
      case 'commitOut': return 'output';
      case 'normStats': return `Σ dn${it.id}, Σ dn${it.id}·n${it.id}`;
      case 'outCarry': return 'output gradient carry';
    }
  }

  // ---------------------------------------------------------------- phases

  /**
   * The dot blocks a phase starts with: forward, one per matmul at the head of the phase; backward,
   * the first item's gradient through its first matmul consumer.
   */
  private blocksOf(ph: Phase, backward: boolean): BlockDot[] {
    if (ph.kind !== 'units') return [];
    const out: BlockDot[] = [];
    if (!backward) {
      for (const it of ph.items) {
        const n = it.kind === 'node' ? this.node(it.id) : null;
        if (n?.kind !== 'matmul') break;
        const N = n.width;
        out.push({
          node: n.id,
          segs: n.terms.map((t) => ({ K: this.node(t.a).width, a: (row: string) => this.V(t.a, 'k', false, row), w: (j: string) => `wts[${at(`k * ${u(N)}`, this.weight(t.weight), j)}]` })),
          init: n.bias ? `vec4f(${[0, 1, 2, 3].map((i) => `wts[${at('', this.weight(n.bias!), `ju.${'xyzw'[i]}`)}]`).join(', ')})` : 'vec4f(0.0)',
          buffer: 'saved',
          col: this.l.savedCol[n.id]!,
        });
      }
      return out;
    }
    // backward: every gradient in the phase that flows through a matmul (its first matmul reader)
    for (const it of ph.items) {
      if (it.kind !== 'node') continue;
      const use = this.firstMatmulUse(it.id);
      if (!use || this.l.gradCol[it.id] === undefined) continue;
      const [mm, term] = use;
      const W = this.weight(mm.terms[term]!.weight), Nc = mm.width;
      out.push({ node: it.id, segs: [{ K: Nc, a: (row) => this.G(mm.id, 'k', row), w: (j) => `wts[${at(`${j} * ${u(Nc)}`, W, 'k')}]` }], init: 'vec4f(0.0)', buffer: 'dsaved', col: this.l.gradCol[it.id]! });
    }
    return out;
  }

  /** The first matmul that reads node `id`, and the term it is in. */
  firstMatmulUse(id: number): [Extract<CellNode, { kind: 'matmul' }>, number] | null {
    for (const [c, pos] of this.l.consumers[id]!) {
      const cn = this.node(c);
      if (cn.kind === 'matmul') return [cn, pos];
    }
    return null;
  }

  phase(ph: Phase, index: number, backward: boolean): void {
    const o = this.o;
    this.locals.clear();
    const blocks = this.blocksOf(ph, backward);
    o.line(`// phase ${index + 1}: ${ph.items.map((it) => this.itemName(it, backward)).join(', ')}${blocks.length ? ` (${BLOCK_ROWS} rows × 4 units per invocation)` : ''}`);
    // x's gradient alone: the whole phase only when x needs it
    const onlyDx = backward && ph.items.every((it) => it.kind === 'node' && this.node(it.id).kind === 'input');
    if (onlyDx) o.open('if (HAS_DX)');
    if (ph.kind === 'rows') {
      o.open('for (var r = lid; r < R; r += WG)');
      o.line('let b = row0 + r;');
      o.open('if (b < rowEnd)');
      this.pair(ph, backward, new Set());
      o.close();
      o.close();
    } else if (blocks.length) {
      const N = ph.width;
      o.open(`for (var rb = row0; rb < rowEnd; rb += ${u(BLOCK_ROWS)})`);
      o.open(`for (var p = lid; p < ${u(Math.ceil(N / 4))}; p += WG)`);
      o.line('let j0 = 4u * p;');
      o.line(`let ju = min(vec4u(j0) + vec4u(0u, 1u, 2u, 3u), vec4u(${u(N - 1)}));`);
      for (let q = 0; q < BLOCK_ROWS; q++) o.line(`let r${q} = rowOf(min(rb + ${u(q)}, rowEnd - 1u), s);`);
      for (const d of blocks) this.dotBlock(d, N);
      o.open(`for (var b = rb; b < min(rb + ${u(BLOCK_ROWS)}, rowEnd); b++)`);
      o.open(`for (var j = j0; j < min(j0 + 4u, ${u(N)}); j++)`);
      this.pair(ph, backward, new Set(blocks.map((d) => d.node)));
      o.close();
      o.close();
      o.close();
      o.close();
    } else {
      const N = u(ph.width);
      o.open(`for (var p = lid; p < R * ${N}; p += WG)`);
      o.line(`let b = row0 + p / ${N};`);
      o.line(`let j = p % ${N};`);
      o.open('if (b < rowEnd)');
      this.pair(ph, backward, new Set());
      o.close();
      o.close();
    }
    o.line('barrier();');
    if (onlyDx) o.close();
  }

  /** Σ_k A·W for rows rb..rb+7 (clamped to the last row) × units j0..j0+3 (clamped), stored for the rows and units that exist. */
  private dotBlock(d: BlockDot, N: number): void {
    const o = this.o;
    const dx = d.buffer === 'dsaved' && this.node(d.node).kind === 'input';
    if (dx) o.open('if (HAS_DX)');
    const rows = Array.from({ length: BLOCK_ROWS }, (_, q) => q);
    const acc = (q: number) => `d${d.node}_${q}`;
    o.line(`// n${d.node}${d.buffer === 'dsaved' ? "'s gradient through a matmul" : ''}: ${BLOCK_ROWS} rows × 4 units`);
    if (d.init !== 'vec4f(0.0)') o.line(`let init${d.node} = ${d.init}; // the bias`);
    for (const q of rows) o.line(`var ${acc(q)} = ${d.init === 'vec4f(0.0)' ? d.init : `init${d.node}`};`);
    for (const seg of d.segs) {
      o.open(`for (var k = 0u; k < ${u(seg.K)}; k++)`);
      o.line(`let w = vec4f(${[0, 1, 2, 3].map((i) => seg.w(`ju.${'xyzw'[i]}`)).join(', ')});`);
      for (const q of rows) o.line(`${acc(q)} += ${seg.a(`r${q}`)} * w;`);
      o.close();
    }
    const stride = d.buffer === 'saved' ? 'SW' : 'DW';
    // rows past the workgroup's were clamped to its last row: they store that row's values again
    const put = `put4${d.buffer === 'saved' ? 'Saved' : 'Grad'}${N % 4 ? '' : 'Full'}`;
    for (const q of rows) o.line(`${put}(${at(`r${q} * ${stride}`, d.col, 'j0')}, ${N % 4 ? `${u(N)} - j0, ` : ''}${acc(q)});`);
    if (dx) o.close();
  }

  /** The items of a phase for one pair (row b; unit j for 'units' phases): the masked and the normal branch. */
  private pair(ph: Phase, backward: boolean, blocked: ReadonlySet<number>): void {
    const o = this.o;
    o.line('let row = rowOf(b, s);');
    if (!backward && ph.items.some((it) => it.kind === 'commitState')) o.line('let nextRow = select(rowOf(b, s + 1u), params.B * params.T, s + 1u == params.T);');
    if (!backward) {
      for (const it of ph.items) if (it.kind === 'commitState') o.line(`var c${it.state}: f32;`);
      if (ph.items.some((it) => it.kind === 'commitOut')) o.line('var out = 0.0;');
    }
    o.open('if (HAS_SEQ_MASK && stepMasked(b, s))');
    for (const it of ph.items) (backward ? this.maskedBackward(it) : this.maskedForward(it));
    o.orElse();
    for (const it of ph.items) {
      const isBlocked = it.kind === 'node' && blocked.has(it.id);
      if (backward) this.backwardItem(it, isBlocked);
      else this.forwardItem(it, isBlocked);
    }
    o.close();
    if (!backward) for (const it of ph.items) this.commitWrite(it);
  }

  // ---------------------------------------------------------------- forward items

  private maskedForward(it: PhaseItem): void {
    const o = this.o;
    if (it.kind === 'node') {
      const n = this.node(it.id);
      const col = this.l.savedCol[it.id];
      if (col === undefined) return;
      if (n.kind === 'rowStats') o.line(`saved[${at('row * SW', col, '0u')}] = 0.0; saved[${at('row * SW', col + 1, '0u')}] = 0.0;`);
      else o.line(`saved[${at('row * SW', col, 'j')}] = 0.0;`);
    } else if (it.kind === 'commitState') {
      o.line(`c${it.state} = saved[${at('row * SW', this.l.savedCol[this.stateLeaf(it.state)]!, 'j')}]; // carried`);
    } else if (it.kind === 'commitOut') {
      o.line(`if (s > 0u) { out = outSeq[rowOf(b, s - 1u) * ${u(this.g.outputSize)} + j]; } // the previous output`);
    }
  }

  private forwardItem(it: PhaseItem, blocked: boolean): void {
    if (it.kind === 'node') {
      valueLines(this, this.node(it.id), blocked);
      this.locals.add(it.id);
    } else if (it.kind === 'commitState') {
      this.o.line(`c${it.state} = ${this.V(this.g.states[it.state]!, 'j')};`);
    } else if (it.kind === 'commitOut') {
      this.o.line(`out = ${this.V(this.g.output, 'j')};`);
    }
  }

  private commitWrite(it: PhaseItem): void {
    const o = this.o;
    if (it.kind === 'commitState') {
      const i = it.state;
      const drop = this.dropOf(i);
      const col = this.l.savedCol[this.stateLeaf(i)]!;
      // into the state slots of step s + 1 (after the last step: the sink row past the sequences), and the final state
      o.line(`saved[${at('nextRow * SW', col, 'j')}] = c${i};`);
      if (drop !== undefined) o.line(`saved[${at('nextRow * SW', this.l.savedCol[drop]!, 'j')}] = c${i} * recMask${i}(b, j);`);
      o.line(`last[params.lastOff${i} + b * ${u(this.g.stateSizes[i]!)} + j] = c${i};`);
    } else if (it.kind === 'commitOut') {
      const O = u(this.g.outputSize);
      o.line(`outSeq[row * ${O} + j] = out;`);
      o.line(`last[params.outLastOff + b * ${O} + j] = out;`);
    }
  }

  // ---------------------------------------------------------------- backward items

  private maskedBackward(it: PhaseItem): void {
    const o = this.o;
    if (it.kind === 'node') {
      const gc = this.l.gradCol[it.id];
      if (gc !== undefined) o.line(`dsaved[${at('row * DW', gc, 'j')}] = 0.0;`);
      const cc = this.l.contribCol.get(it.id);
      if (cc !== undefined) o.line(`dsaved[${at('row * DW', cc, 'j')}] = 0.0;`);
    } else if (it.kind === 'outCarry') {
      const O = u(this.g.outputSize);
      o.line(`if (HAS_DOUT_SEQ) { carry[params.outCarryOff + b * ${O} + j] += dOutSeq[row * ${O} + j]; } // passed to the previous output`);
    }
  }

  private backwardItem(it: PhaseItem, blocked: boolean): void {
    const o = this.o;
    if (it.kind === 'node') {
      const n = this.node(it.id);
      if (n.kind === 'input') o.open('if (HAS_DX)');
      const complete = gradientLines(this, it.id, blocked);
      this.locals.add(it.id);
      const gc = this.l.gradCol[it.id];
      if (gc !== undefined && !complete) o.line(`dsaved[${at('row * DW', gc, 'j')}] = g${it.id};`);
      const cc = this.l.contribCol.get(it.id);
      if (cc !== undefined && n.kind === 'weightMul') o.line(`dsaved[${at('row * DW', cc, 'j')}] = g${it.id} * ${this.V(n.a, 'j', false)}; // for the weight's gradient`);
      if (n.kind === 'state') o.line(`carry[params.carryOff${n.state} + b * ${u(n.width)} + j] = g${it.id}; // to the previous step`);
      if (n.kind === 'input') {
        o.line(`dxin[row * ${u(n.width)} + j] += g${it.id} * inMask(b, j); // x's gradient`);
        o.close();
      }
    } else if (it.kind === 'normStats') {
      const n = this.node(it.id);
      const bc = this.l.normStatsCol.get(it.id)!;
      o.line('var s1 = 0.0;');
      o.line('var s2 = 0.0;');
      o.line(`for (var k = 0u; k < ${u(n.width)}; k++) { let gk = ${this.G(it.id, 'k')}; s1 += gk; s2 += gk * ${this.V(it.id, 'k', false)}; }`);
      o.line(`dsaved[${at('row * DW', bc, '0u')}] = s1;`);
      o.line(`dsaved[${at('row * DW', bc + 1, '0u')}] = s2;`);
    } else if (it.kind === 'outCarry') {
      o.line(`carry[params.outCarryOff + b * ${u(this.g.outputSize)} + j] = 0.0;`);
    }
  }
}
