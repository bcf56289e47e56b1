/**
 * What a model is without the GPU: its name, seed and graph (a functional model's from its
 * inputs and outputs; a Sequential's made when its input shape is known), the names and shapes of
 * its inputs and outputs, its parameter count and summary. `Model` (model.ts) adds everything that
 * runs: weights, compile, fit, evaluate, predict, saving.
 */
import type { Layer, Shape } from '../layers/layer';
import type { SymbolicTensor } from '../layers/symbolic';
import { Topology } from './topology';
import { firstShape } from './data';
import { nextModelSeed, countParams } from './weights';
import { modelSummary } from './summary';
import type { ModelArgs, ModelData } from './types';
import { checkOptions, is } from '../options';

export abstract class ModelBase {
  /** The model's name. */
  readonly name: string;
  /** Seed of the weight initializers and of fit's shuffling. */
  readonly seed: number;
  /** How summary() prints the graph (Sequential: its layers in a row). */
  protected readonly summaryStyle: 'functional' | 'sequential' = 'functional';
  /** The graph; a Sequential's is made when its input shape is known. */
  protected topology: Topology | null = null;

  constructor(args: Partial<ModelArgs>, defaultName: string) {
    checkOptions(defaultName, args ?? null, { inputs: is.any, outputs: is.any, name: is.string, seed: is.seed }, '{inputs, outputs}');
    this.name = args.name ?? defaultName;
    this.seed = nextModelSeed(args.seed);
    if (args.inputs !== undefined || args.outputs !== undefined) {
      const list = (v: SymbolicTensor | SymbolicTensor[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
      this.topology = new Topology(list(args.inputs), list(args.outputs), `${this.name}`);
    }
  }

  // ---------------------------------------------------------------- structure

  /** The graph, made on demand (Sequential: from its first layer's inputShape or the data). */
  protected graphFor(_input: Shape | null): Topology {
    if (!this.topology) throw new Error(`${this.name}: the model has no graph`);
    return this.topology;
  }

  /** The layers (not the inputs), each once, in order of first use: the weights' order. */
  get layers(): readonly Layer[] {
    return this.topology?.layers ?? [];
  }

  /** The model's input and output symbolic tensors. */
  get inputs(): readonly SymbolicTensor[] {
    return this.graphFor(null).inputs;
  }

  /** The model's output symbolic tensors. */
  get outputs(): readonly SymbolicTensor[] {
    return this.graphFor(null).outputs;
  }

  /** Input names (the input layers'), the keys of data given as an object. */
  get inputNames(): string[] {
    return this.graphFor(null).inputNames;
  }

  /** Output names (the output layers'; `name_i` when one layer gives several outputs): keys of targets, losses, metrics. */
  get outputNames(): string[] {
    return this.graphFor(null).outputNames;
  }

  /** The output shapes (without batch) for these input shapes (default: the model's own). */
  outputShapes(inputs?: readonly Shape[]): Shape[] {
    const topo = this.graphFor(inputs?.[0] ?? null);
    const shapes = topo.inferShapes(inputs ?? topo.inputs.map((t) => t.shape));
    return topo.outputs.map((t) => shapes.get(t)!);
  }

  /**
   * Makes the graph for data x (host only: a Sequential without inputShape takes its input shape
   * from the data's first input). Errors in x itself are reported by prepare().
   */
  protected graphForData(x: ModelData | undefined): void {
    if (this.topology || x === undefined || x === null) return;
    const shape = firstShape(x);
    if (shape) this.graphFor(shape.slice(1));
  }

  /** A Sequential's declared input shape before its graph exists (none for functional models). */
  protected firstInputShape(): Shape | null {
    return null;
  }

  /** Number of parameters (known without the GPU when the input shape is). */
  countParams(): number {
    const topo = this.graphFor(null);
    return countParams(topo.layers, topo.layers.map((l) => topo.weightInput(l)));
  }

  /** Keras-style summary table (with the connections of a functional graph); printed with `print` and returned. */
  summary(print: ((line: string) => void) | null = console.log): string {
    const out = modelSummary(this.name, this.graphFor(null), this.summaryStyle);
    print?.(out);
    return out;
  }
}
