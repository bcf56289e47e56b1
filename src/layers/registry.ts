/**
 * Layers and cells by class name, for rebuilding a saved model (tfjs `serialization.registerClass`,
 * Keras `register_keras_serializable`). A saved layer is `{className, config}` where config is what
 * its constructor takes (serializeLayer); wrappers (Bidirectional, TimeDistributed) and RNN hold
 * their inner layer / cell in the same form, rebuilt here first. Users register their own cells
 * and layers with `rnn.serialization.registerClass`; lookups go over own names only.
 */
import { Bidirectional } from './bidirectional';
import { LNSimpleRNNCell, RNN, type RecurrentCell } from './cells';
import { Dense, Flatten, TimeDistributed } from './dense';
import { InputLayer, Layer } from './layer';
import { Masking } from './masking';
import { Add, Average, Concatenate, Multiply, Subtract } from './merge';
import { GaussianNoise } from './noise';
import { Dropout } from './dropout';
import { BatchNormalization, LayerNormalization } from './normalization';
import { GRU, LSTM, RecurrentLayer, SimpleRNN } from './recurrent';
import { RepeatVector, Reshape } from './reshape';
import { ownLookup, unknownName } from '../options';

type Config = Record<string, unknown>;
type Factory = (config: Config, where: string) => Layer | RecurrentCell;

const builtIn: Record<string, Factory> = {
  InputLayer: (c) => new InputLayer(c as never),
  Dense: (c) => new Dense(c as never),
  Flatten: (c) => new Flatten(c),
  TimeDistributed: (c, w) => new TimeDistributed({ ...c, layer: inner(c.layer, `${w}.layer`) } as never),
  SimpleRNN: (c) => new SimpleRNN(c as never),
  LSTM: (c) => new LSTM(c as never),
  GRU: (c) => new GRU(c as never),
  Bidirectional: (c, w) => {
    const layer = inner(c.layer, `${w}.layer`);
    if (!(layer instanceof RecurrentLayer)) throw new TypeError(`${w}.layer: Bidirectional wraps SimpleRNN, LSTM or GRU, got ${layer.className}`);
    return new Bidirectional({ ...c, layer } as never);
  },
  Masking: (c) => new Masking(c as never),
  RNN: (c, w) => new RNN({ ...c, cell: deserializeCell(c.cell, `${w}.cell`) } as never),
  LNSimpleRNNCell: (c) => new LNSimpleRNNCell(c as never),
  LayerNormalization: (c) => new LayerNormalization(c as never),
  BatchNormalization: (c) => new BatchNormalization(c as never),
  RepeatVector: (c) => new RepeatVector(c as never),
  Reshape: (c) => new Reshape(c as never),
  Concatenate: (c) => new Concatenate(c as never),
  Add: (c) => new Add(c),
  Subtract: (c) => new Subtract(c),
  Multiply: (c) => new Multiply(c),
  Average: (c) => new Average(c),
  GaussianNoise: (c) => new GaussianNoise(c as never),
  Dropout: (c) => new Dropout(c as never),
};

const custom = new Map<string, Factory>();

/**
 * Registers a class so saved models that use it can be loaded (`rnn.loadModel`): `fromConfig`
 * gets the config its `getConfig()` returned (for a layer: with `name` and `inputShape`) and
 * returns a new layer or cell. Built-in names cannot be replaced.
 *
 * @example
 * ```ts
 * rnn.serialization.registerClass('MyCell', (config) => new MyCell(config));
 * ```
 */
export function registerClass(className: string, fromConfig: (config: Record<string, unknown>) => Layer | RecurrentCell): void {
  if (typeof className !== 'string' || !className) throw new TypeError('registerClass: className must be a non-empty string');
  if (typeof fromConfig !== 'function') throw new TypeError(`registerClass('${className}'): fromConfig must be a function (config) => layer or cell`);
  if (Object.hasOwn(builtIn, className)) throw new RangeError(`registerClass: '${className}' is a built-in class`);
  custom.set(className, (c) => fromConfig(c));
}

/** The names a saved model may use: built-in and registered. */
export function knownClasses(): string[] {
  return [...Object.keys(builtIn), ...custom.keys()];
}

function build(value: unknown, where: string): Layer | RecurrentCell {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`${where}: expected {className, config}, got ${JSON.stringify(value)?.slice(0, 80)}`);
  const { className, config } = value as { className?: unknown; config?: unknown };
  if (typeof className !== 'string') throw new TypeError(`${where}: className must be a string, got ${JSON.stringify(className)}`);
  const make = ownLookup(builtIn, className) ?? custom.get(className);
  if (!make) {
    throw new RangeError(`${where}: ${unknownName('layer class', className, knownClasses())}; a custom class must be registered with rnn.serialization.registerClass before loading`);
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new TypeError(`${where} (${className}): config must be an object`);
  try {
    return make(config as Config, where);
  } catch (e) {
    const err = e as Error;
    err.message = `${where} (${className}): ${err.message}`;
    throw err;
  }
}

function inner(value: unknown, where: string): Layer {
  const l = build(value, where);
  if (!(l instanceof Layer)) throw new TypeError(`${where}: expected a layer, got the cell ${l.className}`);
  return l;
}

/** Rebuilds a layer from `{className, config}` (serializeLayer's form); errors name `where`. */
export function deserializeLayer(value: unknown, where: string): Layer {
  return inner(value, where);
}

/** Rebuilds a cell from `{className, config}` (its getConfig()). */
export function deserializeCell(value: unknown, where: string): RecurrentCell {
  const c = build(value, where);
  if (c instanceof Layer) throw new TypeError(`${where}: expected a cell, got the layer ${c.className}`);
  return c;
}
