/**
 * Layer configs between this library's form (a layer's constructor options, camelCase, as
 * `rnn.layers.*({...})` takes them) and Keras JSON (snake_case keys), in the two dialects that
 * exist: TensorFlow.js 4.22's `modelTopology` ('tfjs') and Keras 3's `config.json` ('keras').
 * They differ in how initializers, dtypes and inputs are written, and in one activation:
 *   - tfjs' `hard_sigmoid` is clip(0.2·x + 0.5, 0, 1) (tfjs-layers backend/tfjs_backend.js
 *     `hardSigmoid`, as Keras 2 had it) — here 'hardSigmoidTfjs';
 *   - Keras 3's `hard_sigmoid` is relu6(x + 3) / 6 = clip(x/6 + 0.5, 0, 1)
 *     (keras/src/activations/activations.py) — here 'hardSigmoid'.
 * An option the target cannot express (e.g. GRU resetAfter: true for tfjs) is an error naming the
 * layer, never a silent change; options that only tune this library (timeLoop, fused) are left out.
 */
import { ownLookup } from '../options';

export type Dialect = 'tfjs' | 'keras';
type Json = Record<string, unknown>;

/** The layer classes both Keras dialects and this library share, with their own options (besides name and inputShape). */
const OPTIONS: Record<string, readonly string[]> = {
  InputLayer: [],
  Dense: ['units', 'activation', 'useBias', 'kernelInitializer', 'biasInitializer'],
  Flatten: [],
  TimeDistributed: ['layer'],
  SimpleRNN: ['units', 'activation', 'returnSequences', 'returnState', 'goBackwards', 'stateful', 'useBias', 'kernelInitializer', 'recurrentInitializer', 'biasInitializer', 'dropout', 'recurrentDropout', 'seed'],
  LSTM: ['units', 'activation', 'recurrentActivation', 'returnSequences', 'returnState', 'goBackwards', 'stateful', 'useBias', 'kernelInitializer', 'recurrentInitializer', 'biasInitializer', 'dropout', 'recurrentDropout', 'seed', 'unitForgetBias'],
  GRU: ['units', 'activation', 'recurrentActivation', 'returnSequences', 'returnState', 'goBackwards', 'stateful', 'useBias', 'kernelInitializer', 'recurrentInitializer', 'biasInitializer', 'dropout', 'recurrentDropout', 'seed', 'resetAfter'],
  Bidirectional: ['layer', 'mergeMode'],
  Masking: ['maskValue'],
  LayerNormalization: ['axis', 'epsilon', 'center', 'scale', 'betaInitializer', 'gammaInitializer'],
  BatchNormalization: ['axis', 'epsilon', 'center', 'scale', 'betaInitializer', 'gammaInitializer', 'momentum'],
  RepeatVector: ['n'],
  Reshape: ['targetShape'],
  Concatenate: ['axis'],
  Add: [],
  Subtract: [],
  Multiply: [],
  Average: [],
  GaussianNoise: ['stddev', 'seed'],
  Dropout: ['rate', 'noiseShape', 'seed'],
};

/** The layer classes the Keras formats can hold. */
export const KERAS_CLASSES = Object.keys(OPTIONS);

/** Options of this library with no Keras counterpart; they only tune how it runs. */
const OWN_ONLY = new Set(['timeLoop', 'fused']);

export const toSnake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
export const toCamel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

// ---------------------------------------------------------------------------------- activations

const ACT_OUT: Record<Dialect, Record<string, string>> = {
  tfjs: { linear: 'linear', tanh: 'tanh', sigmoid: 'sigmoid', relu: 'relu', hardSigmoidTfjs: 'hard_sigmoid' },
  keras: { linear: 'linear', tanh: 'tanh', sigmoid: 'sigmoid', relu: 'relu', hardSigmoid: 'hard_sigmoid' },
};
const ACT_IN: Record<Dialect, Record<string, string>> = {
  tfjs: { linear: 'linear', tanh: 'tanh', sigmoid: 'sigmoid', relu: 'relu', hard_sigmoid: 'hardSigmoidTfjs', hardSigmoid: 'hardSigmoidTfjs' },
  keras: { linear: 'linear', tanh: 'tanh', sigmoid: 'sigmoid', relu: 'relu', hard_sigmoid: 'hardSigmoid' },
};

function activationOut(v: unknown, d: Dialect, where: string): string {
  const name = v === null || v === undefined ? 'linear' : String(v);
  const out = ownLookup(ACT_OUT[d], name);
  if (out) return out;
  if (d === 'tfjs' && name === 'hardSigmoid') {
    throw new RangeError(`${where}: activation 'hardSigmoid' is Keras 3's relu6(x+3)/6, which TensorFlow.js does not have (its hard_sigmoid is clip(0.2x+0.5)); use 'hardSigmoidTfjs' for a model meant for tfjs, or save it in the Keras or own format`);
  }
  if (d === 'keras' && name === 'hardSigmoidTfjs') {
    throw new RangeError(`${where}: activation 'hardSigmoidTfjs' (tfjs' clip(0.2x+0.5)) has no Keras 3 counterpart (Keras 3's hard_sigmoid is relu6(x+3)/6); save it in the tfjs or own format`);
  }
  throw new RangeError(`${where}: activation '${name}' cannot be written in the ${d === 'tfjs' ? 'TensorFlow.js' : 'Keras'} format`);
}

function activationIn(v: unknown, d: Dialect, where: string): string {
  let name = v;
  // Keras 3 may serialize a function as {module, class_name: 'function', config: 'tanh', registered_name}
  if (isObj(v)) name = typeof v.config === 'string' ? v.config : v.class_name;
  if (name === null || name === undefined) return 'linear';
  const ours = typeof name === 'string' ? ownLookup(ACT_IN[d], name) : undefined;
  if (!ours) throw new RangeError(`${where}: activation ${JSON.stringify(name)} is not supported (supported: ${Object.keys(ACT_IN[d]).join(', ')})`);
  return ours;
}

// --------------------------------------------------------------------------------- initializers

type Vs = { scale: number; mode: string; distribution: string };
const VS: Record<string, Vs> = {
  glorotUniform: { scale: 1, mode: 'fan_avg', distribution: 'uniform' },
  glorotNormal: { scale: 1, mode: 'fan_avg', distribution: 'normal' },
  heUniform: { scale: 2, mode: 'fan_in', distribution: 'uniform' },
};
const KERAS_INIT: Record<string, string> = {
  glorotUniform: 'GlorotUniform', glorotNormal: 'GlorotNormal', heUniform: 'HeUniform', orthogonal: 'Orthogonal', zeros: 'Zeros', ones: 'Ones',
};
const INIT_IN: Record<string, string> = {
  GlorotUniform: 'glorotUniform', GlorotNormal: 'glorotNormal', HeUniform: 'heUniform', Orthogonal: 'orthogonal', Zeros: 'zeros', Ones: 'ones',
  glorot_uniform: 'glorotUniform', glorot_normal: 'glorotNormal', he_uniform: 'heUniform', orthogonal: 'orthogonal', zeros: 'zeros', ones: 'ones',
  glorotUniform: 'glorotUniform', glorotNormal: 'glorotNormal', heUniform: 'heUniform',
};

function initializerOut(v: unknown, d: Dialect): unknown {
  const name = String(v);
  if (d === 'tfjs') {
    const vs = ownLookup(VS, name);
    if (vs) return { class_name: 'VarianceScaling', config: { ...vs, seed: null } };
    if (name === 'orthogonal') return { class_name: 'Orthogonal', config: { gain: 1, seed: null } };
    return { class_name: KERAS_INIT[name] ?? 'Zeros', config: {} };
  }
  const cls = KERAS_INIT[name] ?? 'Zeros';
  const config = cls === 'Orthogonal' ? { seed: null, gain: 1.0 } : cls === 'Zeros' || cls === 'Ones' ? {} : { seed: null };
  return { module: 'keras.initializers', class_name: cls, config, registered_name: null };
}

/**
 * A Keras initializer as one of ours, or undefined when there is none (the default is used: it
 * only matters for weights drawn anew, and a loaded model's weights come from the file).
 */
function initializerIn(v: unknown): string | undefined {
  if (typeof v === 'string') return ownLookup(INIT_IN, v);
  if (!isObj(v) || typeof v.class_name !== 'string') return undefined;
  const c = isObj(v.config) ? v.config : {};
  if (v.class_name === 'VarianceScaling') {
    const dist = c.distribution === 'truncated_normal' || c.distribution === 'truncatedNormal' ? 'normal' : c.distribution;
    for (const [name, vs] of Object.entries(VS)) if (vs.scale === c.scale && vs.mode === c.mode && vs.distribution === dist) return name;
    return undefined;
  }
  if (v.class_name === 'Orthogonal' && c.gain !== undefined && c.gain !== 1) return undefined;
  return ownLookup(INIT_IN, v.class_name);
}

// ------------------------------------------------------------------------------------ layers

/** Keras 3's dtype policy object, as every layer config holds it. */
const POLICY = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };

/** Keys Keras writes that change nothing at inference here, or that we refuse when they would. */
function refuseUnsupported(className: string, c: Json, where: string): void {
  const bad = (key: string, why: string) => {
    throw new RangeError(`${where}: ${className} with ${key}=${JSON.stringify(c[key])} is not supported (${why})`);
  };
  if (c.rms_scaling === true) bad('rms_scaling', 'LayerNormalization normalises by mean and variance here');
  if (c.renorm === true) bad('renorm', 'BatchNormalization has no batch renormalization here');
  if (Array.isArray(c.axis) && c.axis.length !== 1) bad('axis', 'only the last axis can be normalised');
  if ((className === 'Reshape' || className === 'Flatten') && c.data_format === 'channels_first') bad('data_format', 'channels_last only');
}

/**
 * A layer `{className, config}` of ours as Keras JSON `{class_name, config}` (plus Keras 3's
 * `module` / `registered_name`); `batchInputShape` is put on the config where given (tfjs'
 * Sequential keeps the input shape on its first layer).
 */
export function layerToKeras(layer: { className: string; config: Json }, d: Dialect, where: string, trainable = true): Json {
  const { className } = layer;
  const keys = ownLookup(OPTIONS, className);
  if (!keys) {
    throw new RangeError(`${where}: layer class '${className}' cannot be written in the ${d === 'tfjs' ? 'TensorFlow.js' : 'Keras'} format (it has: ${KERAS_CLASSES.join(', ')}); save the model in the own format`);
  }
  const c = layer.config;
  const at = `${where} (${className} '${String(c.name ?? '')}')`;
  for (const k of Object.keys(c)) {
    if (k !== 'name' && k !== 'inputShape' && !keys.includes(k) && !OWN_ONLY.has(k)) {
      throw new RangeError(`${at}: option '${k}' cannot be written in the ${d === 'tfjs' ? 'TensorFlow.js' : 'Keras'} format`);
    }
  }
  const out: Json = { name: c.name, trainable };
  if (d === 'keras') out.dtype = POLICY;
  for (const k of keys) {
    if (!(k in c) || c[k] === undefined) continue;
    const v = c[k];
    const sk = toSnake(k);
    if (k === 'activation' || k === 'recurrentActivation') out[sk] = activationOut(v, d, at);
    else if (k.endsWith('Initializer')) out[sk] = initializerOut(v, d);
    else if (k === 'layer') continue;
    else if (k === 'seed') {
      if (d === 'keras') out.seed = v;
    } else out[sk] = v;
  }
  if (className === 'GRU' && d === 'tfjs' && c.resetAfter !== false) {
    throw new RangeError(`${at}: TensorFlow.js' GRU has no reset_after=True (its GRUCell refuses it); make the GRU with resetAfter: false for a model meant for tfjs, or save it in the Keras or own format`);
  }
  if (className === 'LayerNormalization') out.axis = d === 'keras' ? [c.axis ?? -1] : c.axis ?? -1;
  if (d === 'tfjs' && (className === 'LSTM' || className === 'GRU' || className === 'SimpleRNN')) Object.assign(out, { unroll: false });
  if (d === 'keras' && (className === 'LSTM' || className === 'GRU' || className === 'SimpleRNN')) Object.assign(out, { unroll: false, zero_output_for_mask: false });
  if (className === 'TimeDistributed') out.layer = layerToKeras(c.layer as { className: string; config: Json }, d, `${at}.layer`);
  if (className === 'Bidirectional') {
    const inner = c.layer as { className: string; config: Json };
    const innerName = String(inner.config.name);
    if (d === 'tfjs') out.layer = layerToKeras(inner, d, `${at}.layer`);
    else {
      // Keras 3 Bidirectional.get_config: `layer` (the forward copy) and `backward_layer`
      // (keras/src/layers/rnn/bidirectional.py); their names carry the forward_/backward_ prefix.
      const fwd = layerToKeras({ className: inner.className, config: { ...inner.config, name: `forward_${innerName}` } }, d, `${at}.layer`);
      const bwd = layerToKeras({ className: inner.className, config: { ...inner.config, name: `backward_${innerName}`, goBackwards: true } }, d, `${at}.layer`);
      (fwd.config as Json).zero_output_for_mask = true;
      (bwd.config as Json).zero_output_for_mask = true;
      out.layer = fwd;
      out.backward_layer = bwd;
    }
  }
  if (d === 'keras') return { module: 'keras.layers', class_name: className, config: out, registered_name: null };
  return { class_name: className, config: out };
}

/**
 * A Keras JSON layer `{class_name, config}` as ours `{className, config}` (constructor options).
 * Unknown classes, activations and options that would change the results are errors naming the layer.
 */
export function layerFromKeras(k: unknown, d: Dialect, where: string): { className: string; config: Json; trainable: boolean; batchShape: (number | null)[] | null } {
  if (!isObj(k) || typeof k.class_name !== 'string') throw new TypeError(`${where}: expected a layer {class_name, config}, got ${JSON.stringify(k)?.slice(0, 80)}`);
  const className = k.class_name;
  const c = isObj(k.config) ? k.config : {};
  const name = typeof c.name === 'string' ? c.name : typeof k.name === 'string' ? k.name : undefined;
  const at = `${where} (${className}${name ? ` '${name}'` : ''})`;
  const keys = ownLookup(OPTIONS, className);
  if (!keys) throw new RangeError(`${at}: unknown layer class '${className}' (webgpu-rnn reads: ${KERAS_CLASSES.join(', ')})`);
  refuseUnsupported(className, c, at);
  const out: Json = {};
  if (name !== undefined) out.name = name;
  for (const key of keys) {
    if (key === 'layer') continue;
    const sk = toSnake(key);
    const v = c[sk] ?? c[key];
    if (v === undefined) continue;
    if (key === 'activation' || key === 'recurrentActivation') out[key] = activationIn(v, d, at);
    else if (key.endsWith('Initializer')) {
      const init = initializerIn(v);
      if (init !== undefined) out[key] = init;
    } else if (v === null) continue; // Keras' null = the default (seed, unit_forget_bias in tfjs)
    else out[key] = v;
  }
  if (className === 'SimpleRNN' || className === 'LSTM' || className === 'GRU') {
    // tfjs' GRU knows only reset_after=False (and may leave the key out); Keras 3's default is True.
    if (className === 'GRU' && c.reset_after === undefined) out.resetAfter = d === 'tfjs' ? false : true;
    if (className === 'GRU' && d === 'tfjs' && c.reset_after === true) throw new RangeError(`${at}: reset_after=True in a TensorFlow.js model (tfjs cannot run it)`);
  }
  if (className === 'LayerNormalization' || className === 'BatchNormalization') {
    if (Array.isArray(out.axis)) out.axis = out.axis[0];
  }
  if (className === 'InputLayer') {
    const shape = c.batch_shape ?? c.batch_input_shape ?? (Array.isArray(c.shape) ? [null, ...c.shape] : undefined);
    if (!Array.isArray(shape) || shape.length < 2) throw new RangeError(`${at}: needs batch_shape (batch first), got ${JSON.stringify(shape)}`);
    out.shape = shape.slice(1);
  }
  if (className === 'TimeDistributed') {
    const inner = layerFromKeras(c.layer, d, `${at}.layer`);
    out.layer = { className: inner.className, config: inner.config };
  }
  if (className === 'Bidirectional') {
    const inner = layerFromKeras(c.layer, d, `${at}.layer`);
    if (!['SimpleRNN', 'LSTM', 'GRU'].includes(inner.className)) throw new RangeError(`${at}: Bidirectional wraps SimpleRNN, LSTM or GRU here, got ${inner.className}`);
    // Keras 3 names the forward copy forward_<name> in its config; tfjs keeps the inner name.
    const n = String(inner.config.name ?? '');
    if (n.startsWith('forward_')) inner.config.name = n.slice('forward_'.length);
    if (inner.config.goBackwards === false) delete inner.config.goBackwards;
    if (inner.config.stateful === false) delete inner.config.stateful;
    if (isObj(c.backward_layer)) {
      const bc = isObj(c.backward_layer.config) ? c.backward_layer.config : {};
      for (const key of ['units', 'activation', 'recurrent_activation', 'use_bias', 'return_sequences', 'return_state', 'reset_after']) {
        if (JSON.stringify(bc[key]) !== JSON.stringify((c.layer as Json & { config: Json }).config?.[key])) {
          throw new RangeError(`${at}: a backward_layer that differs from the forward layer (${key}) is not supported`);
        }
      }
    }
    delete inner.config.inputShape;
    out.layer = { className: inner.className, config: inner.config };
  }
  const batchShape = Array.isArray(c.batch_input_shape) ? (c.batch_input_shape as (number | null)[]) : Array.isArray(c.batch_shape) && className !== 'InputLayer' ? (c.batch_shape as (number | null)[]) : null;
  if (batchShape && className !== 'InputLayer') out.inputShape = batchShape.slice(1);
  return { className, config: out, trainable: c.trainable !== false, batchShape };
}
