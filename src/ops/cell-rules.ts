/**
 * The maths of each op of a compiled cell, as WGSL lines for one (row, unit) pair of a step: the
 * value (forward) and, below, the gradient through each kind of consumer (BPTT's chain rule,
 * derived from the op graph) — the op-by-op part of cell-wgsl.ts. Values read back through
 * `gen.V` (saved values, x, projections, weights) and gradients through `gen.G`.
 */
import type { CellNode } from './cell-graph';
import { at, fl, u, type StepGen } from './cell-wgsl';

export const ACT: Record<string, (x: string) => string> = {
  tanh: (x) => `tanhStable(${x})`,
  sigmoid: (x) => `sigmoidStable(${x})`,
  relu: (x) => `max(${x}, 0.0)`,
  hardSigmoid: (x) => `clamp((${x} + 3.0) / 6.0, 0.0, 1.0)`,
  hardSigmoidTfjs: (x) => `clamp(0.2 * ${x} + 0.5, 0.0, 1.0)`,
};
/** Derivatives in terms of the activation's output y. */
export const ACT_GRAD: Record<string, (y: string) => string> = {
  tanh: (y) => `(1.0 - ${y} * ${y})`,
  sigmoid: (y) => `${y} * (1.0 - ${y})`,
  relu: (y) => `select(0.0, 1.0, ${y} > 0.0)`,
  hardSigmoid: (y) => `select(0.0, 1.0 / 6.0, ${y} > 0.0 && ${y} < 1.0)`,
  hardSigmoidTfjs: (y) => `select(0.0, 0.2, ${y} > 0.0 && ${y} < 1.0)`,
};

/** A node's value at (b, s, j), stored in saved; `blocked`: a matmul already stored by the dot block. */
export function valueLines(gen: StepGen, n: CellNode, blocked: boolean): void {
  const o = gen.o;
  const v = `n${n.id}`;
  const A = 'a' in n ? gen.V(n.a, 'j') : '';
  const w = (x: { index: number; offset: number }) => `wts[${at('', gen.weight(x), 'j')}]`;
  switch (n.kind) {
    case 'matmul':
      if (blocked) {
        o.line(`let ${v} = ${gen.V(n.id, 'j', false)}; // from the dot block`);
        return;
      }
      o.line(`var ${v} = ${n.bias ? w(n.bias) : '0.0'};`);
      for (const t of n.terms) o.line(`for (var k = 0u; k < ${u(gen.node(t.a).width)}; k++) { ${v} += ${gen.V(t.a, 'k')} * wts[${at(`k * ${u(n.width)}`, gen.weight(t.weight), 'j')}]; }`);
      break;
    case 'add':
    case 'sub':
    case 'mul':
      o.line(`let ${v} = ${A} ${{ add: '+', sub: '-', mul: '*' }[n.kind]} ${gen.V(n.b, 'j')};`);
      break;
    case 'scale':
      o.line(`let ${v} = ${A} * ${fl(n.factor)} + ${fl(n.shift)};`);
      break;
    case 'act':
      o.line(`let ${v} = ${ACT[n.act]!(A)};`);
      break;
    case 'biasAdd':
      o.line(`let ${v} = ${A} + ${w(n.weight)};`);
      break;
    case 'weightMul':
      o.line(`let ${v} = ${A} * ${w(n.weight)};`);
      break;
    case 'normalize': {
      const sc = gen.l.savedCol[n.stats]!;
      o.line(`let ${v} = (${A} - saved[${at('row * SW', sc, '0u')}]) * saved[${at('row * SW', sc + 1, '0u')}];`);
      break;
    }
    case 'concat': {
      o.line(`var ${v}: f32;`);
      let off = 0;
      n.parts.forEach((p, i) => {
        const wd = gen.node(p).width;
        const head = i === 0 ? `if (j < ${u(off + wd)}) {` : i === n.parts.length - 1 ? '} else {' : `} else if (j < ${u(off + wd)}) {`;
        o.line(head);
        o.line(`  ${v} = ${gen.V(p, off ? `j - ${u(off)}` : 'j', false)};`);
        off += wd;
      });
      o.line('}');
      break;
    }
    case 'rowStats': {
      const N = gen.node(n.a).width;
      const col = gen.l.savedCol[n.id]!;
      o.line('var sum = 0.0;');
      o.line(`for (var k = 0u; k < ${u(N)}; k++) { sum += ${gen.V(n.a, 'k')}; }`);
      o.line(`let mean = sum / ${fl(N)};`);
      o.line('var q = 0.0;');
      o.line(`for (var k = 0u; k < ${u(N)}; k++) { let d = ${gen.V(n.a, 'k')} - mean; q += d * d; }`);
      o.line(`saved[${at('row * SW', col, '0u')}] = mean;`);
      o.line(`saved[${at('row * SW', col + 1, '0u')}] = 1.0 / sqrt(q / ${fl(N)} + ${fl(n.eps)});`);
      return;
    }
    default:
      throw new Error(`cell codegen: no forward for ${n.kind}`);
  }
  const col = gen.l.savedCol[n.id];
  if (col !== undefined) o.line(`saved[${at('row * SW', col, 'j')}] = ${v};`);
}

/**
 * g<id> = the seeds (the output's and new states' gradients) + Σ over consumers of their
 * gradient through this operand; `blocked`: the first matmul consumer's part is already in
 * dsaved. Returns true when that part is all of it (dsaved already holds the gradient).
 */
export function gradientLines(gen: StepGen, id: number, blocked: boolean): boolean {
  const o = gen.o;
  const n = gen.node(id);
  const d = `g${id}`;
  // the dot block computed the part through the first matmul that reads this node
  const skip = blocked ? gen.firstMatmulUse(id) : null;
  const before = o.lines.length;
  o.line(`var ${d} = ${blocked ? `${gen.G(id, 'j')}; // Σ over a matmul, from the dot block` : '0.0;'}`);
  if (gen.g.output === id) {
    o.line(`if (HAS_DOUT_SEQ) { ${d} += dOutSeq[row * ${u(gen.g.outputSize)} + j]; }`);
    o.line(`${d} += carry[params.outCarryOff + b * ${u(gen.g.outputSize)} + j]; // the output's gradient`);
  }
  gen.g.states.forEach((st, i) => {
    if (st === id) o.line(`${d} += carry[params.carryOff${i} + b * ${u(gen.g.stateSizes[i]!)} + j]; // from the next step (new state ${i})`);
  });
  for (const [c, pos] of gen.l.consumers[id]!) {
    const cn = gen.node(c);
    const G = () => gen.G(c, 'j');
    switch (cn.kind) {
      case 'add':
      case 'biasAdd':
        o.line(`${d} += ${G()};`);
        break;
      case 'sub':
        o.line(`${d} ${pos === 0 ? '+' : '-'}= ${G()};`);
        break;
      case 'mul':
        o.line(`${d} += ${G()} * ${gen.V(pos === 0 ? cn.b : cn.a, 'j', false)};`);
        break;
      case 'scale':
        o.line(`${d} += ${G()} * ${fl(cn.factor)};`);
        break;
      case 'act':
        o.line(`${d} += ${G()} * ${ACT_GRAD[cn.act]!(gen.V(c, 'j', false))};`);
        break;
      case 'weightMul':
        o.line(`${d} += ${G()} * wts[${at('', gen.weight(cn.weight), 'j')}];`);
        break;
      case 'stateDrop':
        o.line(`${d} += ${G()} * recMask${cn.state}(b, j);`);
        break;
      case 'normalize': {
        if (pos !== 0) break;
        const N = fl(n.width);
        const sc = gen.l.savedCol[cn.stats]!;
        const bc = gen.l.normStatsCol.get(c)!;
        o.line(`${d} += saved[${at('row * SW', sc + 1, '0u')}] * (${G()} - dsaved[${at('row * DW', bc, '0u')}] / ${N} - ${gen.V(c, 'j', false)} * dsaved[${at('row * DW', bc + 1, '0u')}] / ${N});`);
        break;
      }
      case 'matmul':
        if (skip && skip[0].id === c && skip[1] === pos) break;
        o.line(`for (var m = 0u; m < ${u(cn.width)}; m++) { ${d} += ${gen.G(c, 'm')} * wts[${at(`j * ${u(cn.width)}`, gen.weight(cn.terms[pos]!.weight), 'm')}]; }`);
        break;
      case 'concat': {
        const off = cn.parts.slice(0, pos).reduce((s, p) => s + gen.node(p).width, 0);
        o.line(`${d} += ${gen.G(c, off ? `j + ${u(off)}` : 'j')};`);
        break;
      }
      case 'slice': {
        const conds = [cn.start ? `j >= ${u(cn.start)}` : '', cn.start + cn.width < n.width ? `j < ${u(cn.start + cn.width)}` : ''].filter(Boolean);
        const body = `${d} += ${gen.G(c, cn.start ? `j - ${u(cn.start)}` : 'j')};`;
        o.line(conds.length ? `if (${conds.join(' && ')}) { ${body} }` : body);
        break;
      }
      case 'rowStats':
        break; // the normalize node that reads the statistics carries this gradient
      default:
        throw new Error(`cell codegen: no backward through ${cn.kind}`);
    }
  }
  return blocked && o.lines.length === before + 1; // nothing added to the dot block's part
}
