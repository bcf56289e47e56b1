/**
 * Models described as data, so a page can have one built in its training Worker: every layer is
 * `{type, ...options}` where `type` names a factory of `rnn.layers` and the options are that
 * factory's (a nested layer or cell — TimeDistributed's and Bidirectional's `layer`, RNN's `cell`
 * — is a spec itself); the optimizer is a name or `{type, ...config}` naming a factory of
 * `rnn.optimizers`. The types are derived from the factories, so a misspelt type, option or loss
 * is a compile error on the page. index.ts binds them to `rnn.layers` / `rnn.optimizers`.
 */
import type { Layer } from '../layers/layer';
import type { RecurrentCell } from '../layers/cells';
import type { CompileArgs } from '../model/types';

/** Any factory (`rnn.layers.*`, `rnn.optimizers.*`, `rnn.callbacks.*`). */
export type Factory = (...args: any[]) => unknown;

/** A factory's options with its layer- and cell-valued options given as specs (`S`). */
export type SpecOptions<A, S> = { [K in keyof A]: NonNullable<A[K]> extends Layer | RecurrentCell ? S | Extract<A[K], undefined> : A[K] };

/** `{type, ...options}` for each factory of `F`, with nested specs of type `S`. */
export type SpecLevel<F extends Record<string, Factory>, S> = {
  [K in keyof F & string]: {
    /** The factory's name, e.g. 'lstm'. */
    type: K;
  } & SpecOptions<NonNullable<Parameters<F[K]>[0]>, S>;
}[keyof F & string];

/**
 * `{type, ...options}` for each factory of `F` (e.g. `{type: 'lstm', units: 20}`); layers nest
 * three deep (e.g. Bidirectional(LSTM) inside TimeDistributed), which covers every layer that
 * takes a layer or a cell.
 */
export type SpecOf<F extends Record<string, Factory>> = SpecLevel<F, SpecLevel<F, SpecLevel<F, never>>>;

/** The names of the members of `O` that are factories (`rnn.optimizers` also holds `schedules`). */
export type FactoryKeys<O> = { [K in keyof O & string]: O[K] extends Factory ? K : never }[keyof O & string];

/** `{type, ...config}` for each optimizer factory of `O` (e.g. `{type: 'adam', learningRate: 0.001}`). */
export type OptimizerSpecOf<O> = {
  [K in FactoryKeys<O>]: O[K] extends Factory
    ? {
        /** The optimizer's name, e.g. 'adam'. */
        type: K;
      } & NonNullable<Parameters<O[K]>[0]>
    : never;
}[FactoryKeys<O>];

/** `compile`'s arguments with the optimizer as a name or a spec. */
export type CompileSpecOf<O> = Omit<CompileArgs, 'optimizer'> & {
  /** A name ('adam', 'sgd', …) or `{type, ...config}`, e.g. `{type: 'adam', learningRate: 0.001}`. */
  optimizer: string | OptimizerSpecOf<O>;
};

/** A Sequential model as data: its layers in order, and how to compile it. */
export interface SequentialSpecOf<L extends Record<string, Factory>, O> {
  /** The layers in order, each `{type, ...options}` with `type` a name of `rnn.layers`. */
  layers: SpecOf<L>[];
  /** The model's name. */
  name?: string;
  /** Seed of the weight initializers and of fit's shuffling. */
  seed?: number;
  /** `model.compile(...)`'s arguments; required before fit or evaluate. */
  compile?: CompileSpecOf<O>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/** Calls the factory a spec names, nested specs first; `where` names the spec in errors. */
export function buildFromSpec(spec: unknown, factories: Record<string, unknown>, where: string): unknown {
  if (!isPlainObject(spec) || typeof spec.type !== 'string') {
    throw new TypeError(`${where}: expected {type: '<name>', ...options}, got ${JSON.stringify(spec)}`);
  }
  const { type, ...options } = spec;
  const make = factories[type as string];
  if (typeof make !== 'function') {
    const known = Object.keys(factories).filter((k) => typeof factories[k] === 'function');
    throw new TypeError(`${where}: unknown type '${String(type)}' (known: ${known.join(', ')})`);
  }
  for (const [k, v] of Object.entries(options)) {
    if (isPlainObject(v) && typeof v.type === 'string' && typeof factories[v.type] === 'function') options[k] = buildFromSpec(v, factories, `${where}.${k}`);
  }
  return (make as (o: unknown) => unknown)(options);
}
