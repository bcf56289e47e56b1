/**
 * A model's data checks, run on the host before any GPU work: an input's shape against the
 * model's input shape, and targets against the inputs (rows) and the model's output shape. The
 * errors name the call, the shapes and the first layer.
 */
import { toHostTensor, type HostTensor, type TensorLike } from '../host';
import { shapeToString, type Layer, type Shape } from '../layers/layer';

/**
 * Checks a data shape (without batch) against the model's input shape `want` (unknown: no check;
 * null dimensions match any length). `where` prefixes the error; `layer` is named in it.
 */
export function checkInputShape(shape: Shape, want: Shape | null | undefined, where: string, layer?: Layer): void {
  if (!want) return;
  const ok = shape.length === want.length && want.every((d, i) => d === null || d === shape[i]);
  if (!ok) {
    throw new RangeError(`${where}: input shape ${shapeToString(shape)} does not match the model's input ${shapeToString(want)}${layer ? ` (layer ${layer.name})` : ''}`);
  }
}

/**
 * Converts targets `yIn` for inputs `x` and checks them: the same row count, then the shape the
 * model outputs for x (`outputShape` is asked only once the rows agree).
 */
export function toTargets(x: HostTensor, yIn: TensorLike, where: string, outputShape: (input: Shape) => Shape): HostTensor {
  const y = toHostTensor(yIn, `${where}: y`);
  if (y.shape[0] !== x.shape[0]) {
    throw new RangeError(`${where}: x has ${x.shape[0]} rows (shape [${x.shape.join(', ')}]) but y has ${y.shape[0]} (shape [${y.shape.join(', ')}])`);
  }
  const out = outputShape(x.shape.slice(1));
  const ok = out.length === y.shape.length - 1 && out.every((d, i) => d === y.shape[i + 1]);
  if (!ok) {
    throw new RangeError(`${where}: y has shape [${y.shape.join(', ')}] but the model outputs ${shapeToString(out)} for x of shape [${x.shape.join(', ')}]`);
  }
  return y;
}
