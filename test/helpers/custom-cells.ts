/**
 * User-written recurrent cells for the tests of the cell compiler (test/unit/cell-rnn.test.ts,
 * cells.test.ts), written only with rnn.cellOps as a researcher would: a GRU and an LSTM with Keras
 * 3's maths and weight layouts (so they can be checked against the built-in layers and their
 * float64 references), a minimal gated unit that exercises concat, sub and x_t inside the step, and
 * a cell the compiler cannot trace.
 */
import * as rnn from '../../src/index';
import type { Graph } from '../../src/autograd/tape';
import type { Tensor } from '../../src/tensor';
import { takeStep } from '../../src/ops/sequence';

const ops = rnn.cellOps;

abstract class TestCell implements rnn.RecurrentCell {
  abstract readonly className: string;
  abstract readonly stateSize: readonly number[];
  constructor(readonly units: number) {}
  get outputSize(): number {
    return this.units;
  }
  abstract weightSpecs(inputSize: number): rnn.WeightSpec[];
  abstract step(g: Graph, x: Tensor, states: readonly Tensor[], w: readonly Tensor[]): Promise<rnn.CellStep>;
  getConfig(): Record<string, unknown> {
    return { units: this.units };
  }
}

/**
 * Keras 3 GRU, resetAfter=true (gates z, r, h; bias [2, 3H]: input bias, recurrent bias):
 * z = σ(x·K_z + b_z + h·U_z + b'_z), r likewise, hh = tanh(x·K_h + b_h + r ⊙ (h·U_h + b'_h)),
 * h_t = z ⊙ h + (1 - z) ⊙ hh.
 */
export class GRUFromOps extends TestCell {
  readonly className = 'GRUFromOps';
  get stateSize(): readonly number[] {
    return [this.units];
  }
  weightSpecs(I: number): rnn.WeightSpec[] {
    const H = this.units;
    return [
      { name: 'kernel', shape: [I, 3 * H], init: 'glorotUniform' },
      { name: 'recurrent_kernel', shape: [H, 3 * H], init: 'orthogonal' },
      { name: 'bias', shape: [2, 3 * H], init: 'zeros' },
    ];
  }
  async step(g: Graph, x: Tensor, [h]: readonly Tensor[], [K, U, bias]: readonly Tensor[]): Promise<rnn.CellStep> {
    const H = this.units;
    const bIn = await ops.slice(g, bias!, 0, 0, 1, 'input bias');
    const bRec = await ops.slice(g, bias!, 0, 1, 1, 'recurrent bias');
    const [xz, xr, xh] = await ops.split(g, await ops.matmul(g, x, K!, bIn, 'x·K'), [H, H, H]);
    const [hz, hr, hh] = await ops.split(g, await ops.matmul(g, h!, U!, bRec, 'h·U'), [H, H, H]);
    const z = await ops.activation(g, await ops.add(g, xz!, hz!), 'sigmoid');
    const r = await ops.activation(g, await ops.add(g, xr!, hr!), 'sigmoid');
    const cand = await ops.activation(g, await ops.add(g, xh!, await ops.mul(g, r, hh!)), 'tanh');
    const next = await ops.add(g, await ops.mul(g, z, h!), await ops.mul(g, await ops.scale(g, z, -1, 1, '1 - z'), cand));
    return { output: next, states: [next] };
  }
}

/** Keras 3 LSTM (gates i, f, c, o; bias [4H]): two states, h and c; the output is h. */
export class LSTMFromOps extends TestCell {
  readonly className = 'LSTMFromOps';
  get stateSize(): readonly number[] {
    return [this.units, this.units];
  }
  weightSpecs(I: number): rnn.WeightSpec[] {
    const H = this.units;
    return [
      { name: 'kernel', shape: [I, 4 * H], init: 'glorotUniform' },
      { name: 'recurrent_kernel', shape: [H, 4 * H], init: 'orthogonal' },
      { name: 'bias', shape: [4 * H], init: 'zeros' },
    ];
  }
  async step(g: Graph, x: Tensor, [h, c]: readonly Tensor[], [K, U, b]: readonly Tensor[]): Promise<rnn.CellStep> {
    const H = this.units;
    const z = await ops.add(g, await ops.matmul(g, x, K!, b), await ops.matmul(g, h!, U!));
    const [zi, zf, zc, zo] = await ops.split(g, z, [H, H, H, H]);
    const i = await ops.activation(g, zi!, 'sigmoid');
    const f = await ops.activation(g, zf!, 'sigmoid');
    const gc = await ops.activation(g, zc!, 'tanh');
    const o = await ops.activation(g, zo!, 'sigmoid');
    const c2 = await ops.add(g, await ops.mul(g, f, c!), await ops.mul(g, i, gc));
    const h2 = await ops.mul(g, o, await ops.activation(g, c2, 'tanh'));
    return { output: h2, states: [h2, c2] };
  }
}

/**
 * A minimal gated unit with the input inside the step: f = σ(concat(x, h)·W_f + b_f),
 * hh = relu(x·W_x + (f ⊙ h)·U), h_t = h - f ⊙ h + f ⊙ hh; the output is 2·h_t[:H/2] + 0.5 — concat,
 * sub, scale, a matmul of a computed value and a slice as the output.
 */
export class MGUFromOps extends TestCell {
  readonly className = 'MGUFromOps';
  get stateSize(): readonly number[] {
    return [this.units];
  }
  override get outputSize(): number {
    return this.units / 2;
  }
  weightSpecs(I: number): rnn.WeightSpec[] {
    const H = this.units;
    return [
      { name: 'forget_kernel', shape: [I + H, H], init: 'glorotUniform' },
      { name: 'forget_bias', shape: [H], init: 'zeros' },
      { name: 'kernel', shape: [I, H], init: 'glorotUniform' },
      { name: 'recurrent_kernel', shape: [H, H], init: 'orthogonal' },
    ];
  }
  async step(g: Graph, x: Tensor, [h]: readonly Tensor[], [Wf, bf, Wx, U]: readonly Tensor[]): Promise<rnn.CellStep> {
    const f = await ops.activation(g, await ops.matmul(g, await ops.concat(g, [x, h!], -1), Wf!, bf), 'sigmoid');
    const fh = await ops.mul(g, f, h!);
    const hh = await ops.activation(g, await ops.add(g, await ops.matmul(g, x, Wx!), await ops.matmul(g, fh, U!)), 'relu');
    const next = await ops.add(g, await ops.sub(g, h!, fh), await ops.mul(g, f, hh));
    const out = await ops.scale(g, await ops.slice(g, next, -1, 0, this.units / 2), 2, 0.5);
    return { output: out, states: [next] };
  }
}

/** A SimpleRNN-like cell that calls an op outside cellOps (so it cannot be traced: it runs step by step). */
export class UntraceableCell extends TestCell {
  readonly className = 'UntraceableCell';
  get stateSize(): readonly number[] {
    return [this.units];
  }
  weightSpecs(I: number): rnn.WeightSpec[] {
    return [
      { name: 'kernel', shape: [I, this.units], init: 'glorotUniform' },
      { name: 'recurrent_kernel', shape: [this.units, this.units], init: 'orthogonal' },
    ];
  }
  async step(g: Graph, x: Tensor, [h]: readonly Tensor[], [K, U]: readonly Tensor[]): Promise<rnn.CellStep> {
    const x3 = x.reshape([x.shape[0]!, 1, x.shape[1]!]);
    const xt = await takeStep(g, x3, 0); // not a cellOp
    const next = await ops.activation(g, await ops.add(g, await ops.matmul(g, xt, K!), await ops.matmul(g, h!, U!)), 'tanh');
    return { output: next, states: [next] };
  }
}
