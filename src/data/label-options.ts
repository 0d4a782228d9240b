import { InvalidArgumentError, ShapeError } from '../core/errors.js';
import { assertInteger, describeValue, isTensor } from '../core/validate.js';
import type * as tf from '@tensorflow/tfjs-core';

/**
 * Validates per-image labels, class names and names given by the caller
 * (tensor or array labels; class names default to the label numbers; names
 * default to `fallbackName(i)`).
 */
export function resolveLabels(
  n: number,
  labels: tf.Tensor1D | ArrayLike<number> | null | undefined,
  classNames: readonly string[] | undefined,
  names: readonly string[] | undefined,
  fallbackName: (i: number) => string,
  fn: string,
  labelArg = 'labels',
): { labels: Int32Array | null; classNames: string[] | null; names: string[] } {
  let labelValues: Int32Array | null = null;
  if (labels !== undefined && labels !== null) {
    let values: ArrayLike<number>;
    if (isTensor(labels)) {
      if (labels.rank !== 1 || labels.shape[0] !== n) {
        throw new ShapeError(fn, labelArg, `have shape [${n}] (one per image)`, `[${labels.shape.join(', ')}]`);
      }
      if (labels.dtype !== 'int32') throw new InvalidArgumentError(fn, labelArg, 'have dtype int32', labels.dtype);
      values = labels.dataSync();
    } else if (typeof labels === 'object' && typeof (labels as ArrayLike<number>).length === 'number') {
      values = labels as ArrayLike<number>;
      if (values.length !== n) throw new ShapeError(fn, labelArg, `hold ${n} labels (one per image)`, String(values.length));
    } else {
      throw new InvalidArgumentError(fn, labelArg, `be an int32 tensor [${n}] or an array of ${n} class indices`, describeValue(labels));
    }
    labelValues = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      assertInteger(values[i], fn, `${labelArg}[${i}]`, { min: 0 });
      labelValues[i] = values[i]!;
    }
  }
  let classes: string[] | null = null;
  const max = labelValues === null ? -1 : labelValues.reduce((m, v) => Math.max(m, v), -1);
  if (classNames !== undefined) {
    if (!Array.isArray(classNames) || classNames.some((c) => typeof c !== 'string')) {
      throw new InvalidArgumentError(fn, 'options.classNames', 'be an array of strings', describeValue(classNames));
    }
    if (labelValues === null) throw new InvalidArgumentError(fn, 'options.classNames', 'come with labels', 'class names without labels');
    if (classNames.length <= max) {
      throw new InvalidArgumentError(fn, 'options.classNames', `name every label up to ${max}`, `${classNames.length} names`);
    }
    classes = [...classNames];
  } else if (labelValues !== null) {
    classes = Array.from({ length: max + 1 }, (_, i) => String(i));
  }
  let resolvedNames: string[];
  if (names !== undefined) {
    if (!Array.isArray(names) || names.length !== n || names.some((c) => typeof c !== 'string')) {
      throw new InvalidArgumentError(fn, 'options.names', `be an array of ${n} strings`, describeValue(names));
    }
    resolvedNames = [...names];
  } else {
    resolvedNames = Array.from({ length: n }, (_, i) => fallbackName(i));
  }
  return { labels: labelValues, classNames: classes, names: resolvedNames };
}
