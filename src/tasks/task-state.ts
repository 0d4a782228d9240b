/**
 * The state protocol of the methods and pretext tasks: what a checkpoint
 * saves and restores so that training continues exactly.
 *
 * A task's state is found, not listed by hand: every own field of the task
 * that holds a model (tfjs-layers model, selfsup ViT / MAE decoder), a
 * `tf.Variable`, a {@link TargetNetwork}, a `tf.Optimizer`, a
 * {@link StatefulObject} (an `Rng`, a `MemoryBank`, …), a `Float32Array` /
 * `Int32Array`, or an array of those, is a piece of state, named after the
 * field (`encoder`, `projector`, `target/heads/0`, `queue`, `rng`). Plain
 * counters, flags and other values a step changes are listed by the task in
 * `stateFields()`. Every remaining field with a JSON value (numbers, strings,
 * booleans, arrays and plain objects of them) is the task's configuration —
 * its options with the defaults applied — which must match when a state is
 * loaded. A variable shared by two pieces (the encoder inside a feature-map
 * model) is saved once, under the first.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, InvalidArgumentError, SelfsupError } from '../core/errors.js';
import { describeValue, formatShape, isTensor } from '../core/validate.js';
import { setLearningRate } from '../train/set-learning-rate.js';
import { allVariables, type ModelWeights } from '../train/variables.js';
import { TargetNetwork } from './target-network.js';

/** A JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Everything a method or pretext task needs to continue training exactly,
 * as named tensors and JSON: what {@link BasePretextTask.getState} returns
 * and {@link BasePretextTask.setState} takes, and what `saveCheckpoint`
 * writes to disk.
 */
export interface TaskState {
  /** The method's name (`task.name`), e.g. `'SimCLR'`. */
  method: string;
  /** Steps taken when the state was read. */
  steps: number;
  /**
   * The method's settings as the task holds them (its options with the
   * defaults applied, shapes, sizes): loading into a task whose settings
   * differ is refused.
   */
  config: { [key: string]: JsonValue };
  /**
   * Every tensor of the state by name (`encoder/0`, `target/heads/0/3`,
   * `optimizer/accumulatedFirstMoment/2`, `queue/entries`). They are new
   * tensors owned by the holder of the state: dispose them with
   * {@link disposeTaskState}.
   */
  tensors: Record<string, tf.Tensor>;
  /**
   * Every piece of state by name, as JSON: its kind and the values that are
   * not tensors (an optimizer's iteration count, a generator's position, a
   * queue's pointer, the task's counters); `{ "$tensor": name }` marks where
   * a tensor of {@link TaskState.tensors} goes.
   */
  pieces: Record<string, JsonValue>;
}

/**
 * An object a task holds whose state is not only variables — a random
 * generator, a queue — and that a checkpoint carries through these two
 * methods (selfsup's `Rng` and `MemoryBank` implement them). `getState`
 * returns JSON values, tensors (new ones, which the caller disposes) and
 * typed arrays; `setState` takes what `getState` returned, checks it before
 * changing anything, and copies any tensor it keeps.
 */
export interface StatefulObject {
  /** The object's state (JSON values, new tensors, typed arrays). */
  getState(): unknown;
  /** Restores a state returned by `getState`. */
  setState(state: never): void;
}

/** A task that can save and restore its state ({@link BasePretextTask} and its subclasses). */
export interface StatefulTask {
  /** The method's name. */
  readonly name: string;
  /** Steps taken so far. */
  readonly steps: number;
  /** Everything needed to continue training (new tensors the caller disposes). */
  getState(): TaskState;
  /** Restores a state from `getState`, all or nothing. */
  setState(state: TaskState): void;
}

/**
 * Frees the tensors of a {@link TaskState}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { SimCLR, mlpEncoder, disposeTaskState } from 'selfsup';
 *
 * const task = new SimCLR(mlpEncoder({ inputShape: [8, 8, 1], units: [8], seed: 0 }), { projectionDim: 4, seed: 1 });
 * const before = tf.memory().numTensors;
 * const state = task.getState();
 * disposeTaskState(state);
 * console.log(tf.memory().numTensors === before); // true
 * task.dispose();
 * ```
 */
export function disposeTaskState(state: TaskState): void {
  if (typeof state === 'object' && state !== null && typeof state.tensors === 'object' && state.tensors !== null) {
    tf.dispose(Object.values(state.tensors).filter(isTensor));
  }
}

/** What the base class tells the protocol about a task. */
export interface StateHost {
  /** The method's name. */
  name: string;
  /** Steps taken. */
  steps: number;
  /** Own fields holding state the discovery cannot recognise by type. */
  stateFields: readonly string[];
  /** Piece names for fields whose name is an implementation detail (e.g. a lazily made optimizer's field → `optimizer`). */
  pieceNames?: Readonly<Record<string, string>>;
}

type NumericArray = Float32Array | Int32Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint8ClampedArray;
const ARRAY_TYPES: Record<string, { make: (values: ArrayLike<number>) => NumericArray; dtype: 'float32' | 'int32' }> = {
  Float32Array: { make: (v) => Float32Array.from(v), dtype: 'float32' },
  Int32Array: { make: (v) => Int32Array.from(v), dtype: 'int32' },
  Uint8Array: { make: (v) => Uint8Array.from(v), dtype: 'int32' },
  Int8Array: { make: (v) => Int8Array.from(v), dtype: 'int32' },
  Uint16Array: { make: (v) => Uint16Array.from(v), dtype: 'int32' },
  Int16Array: { make: (v) => Int16Array.from(v), dtype: 'int32' },
  Uint8ClampedArray: { make: (v) => Uint8ClampedArray.from(v), dtype: 'int32' },
};

type Piece =
  | { kind: 'model'; path: string; variables: { index: number; variable: tf.Variable }[] }
  | { kind: 'variable'; path: string; variable: tf.Variable }
  | { kind: 'array'; path: string; array: NumericArray }
  | { kind: 'object'; path: string; object: StatefulObject }
  | { kind: 'optimizer'; path: string; optimizer: tf.Optimizer }
  | { kind: 'fields'; path: string; keys: readonly string[] };

/** The piece that holds the fields a task lists in `stateFields()`. */
const FIELDS = '@fields';
/** Ownership flags are bookkeeping, not settings. */
/**
 * Fields that are neither state nor configuration: ownership, the step
 * guard's policy and its per-step bookkeeping (the last gradient norm, the
 * updates of the running step), the disposed flag.
 */
const NOT_CONFIG = /^owns[A-Z]|^onNonFinite$|^guard[A-Z]|^gradientNormValue$|^updatesInStep$|^disposedFlag$/;

interface OptimizerSlot {
  originalName: string;
  variable: tf.Variable;
}

function isVariable(x: unknown): x is tf.Variable {
  return isTensor(x) && typeof (x as tf.Variable).assign === 'function' && 'trainable' in x;
}

function isOptimizer(x: unknown): x is tf.Optimizer {
  const o = x as tf.Optimizer;
  return typeof o === 'object' && o !== null && typeof o.applyGradients === 'function' && typeof o.getConfig === 'function' && typeof o.minimize === 'function';
}

function isModel(x: unknown): x is ModelWeights {
  if (typeof x !== 'object' || x === null || isTensor(x)) return false;
  const m = x as { weights?: unknown; variables?: unknown };
  return ('trainableWeights' in x && Array.isArray(m.weights)) || ('trainableVariables' in x && 'variables' in x);
}

function isStateful(x: unknown): x is StatefulObject {
  const o = x as StatefulObject;
  return typeof o === 'object' && o !== null && typeof o.getState === 'function' && typeof o.setState === 'function';
}

function numericArrayType(x: unknown): string | null {
  if (!ArrayBuffer.isView(x)) return null;
  const name = x.constructor.name;
  return name in ARRAY_TYPES ? name : null;
}

function isPieceLike(x: unknown): boolean {
  return isVariable(x) || numericArrayType(x) !== null || isOptimizer(x) || x instanceof TargetNetwork || isModel(x) || isStateful(x);
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}

interface Discovery {
  pieces: Piece[];
  config: { [key: string]: JsonValue };
  claimed: Set<tf.Variable>;
}

/** Finds the pieces of state and the configuration of `task` (see the module comment). */
function discover(task: object, host: StateHost, fn: string): Discovery {
  const pieces: Piece[] = [];
  const claimed = new Set<tf.Variable>();
  const seen = new Set<object>();
  const config: { [key: string]: JsonValue } = {};
  const fields = new Set(host.stateFields);
  for (const key of host.stateFields) {
    if (!(key in task)) throw new SelfsupError(`${fn}: stateFields() names '${key}', which is not a field of ${host.name}`);
  }

  const add = (path: string, value: unknown): void => {
    const v = value as object;
    if (seen.has(v)) return;
    seen.add(v);
    if (isVariable(value)) {
      if (value.isDisposed) throw new SelfsupError(`${fn}: ${host.name} is disposed (its variable ${path} was freed)`);
      if (!claimed.has(value)) {
        claimed.add(value);
        pieces.push({ kind: 'variable', path, variable: value });
      }
    } else if (numericArrayType(value) !== null) {
      pieces.push({ kind: 'array', path, array: value as NumericArray });
    } else if (isOptimizer(value)) {
      pieces.push({ kind: 'optimizer', path, optimizer: value });
    } else if (value instanceof TargetNetwork) {
      add(`${path}/encoder`, value.encoder);
      value.heads.forEach((h, i) => add(`${path}/heads/${i}`, h));
    } else if (isModel(value)) {
      let named;
      try {
        named = allVariables(value, fn, path);
      } catch (e) {
        throw new SelfsupError(`${fn}: cannot read the variables of ${path} (${(e as Error).message}); is ${host.name} disposed?`);
      }
      const variables: { index: number; variable: tf.Variable }[] = [];
      named.forEach(({ variable }, index) => {
        if (variable.isDisposed) throw new SelfsupError(`${fn}: ${host.name} is disposed (the variables of ${path} were freed)`);
        if (claimed.has(variable)) return;
        claimed.add(variable);
        variables.push({ index, variable });
      });
      if (variables.length > 0) pieces.push({ kind: 'model', path, variables });
    } else if (isStateful(value)) {
      pieces.push({ kind: 'object', path, object: value });
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => add(`${path}/${i}`, item));
    }
  };

  for (const [key, value] of Object.entries(task)) {
    if (fields.has(key)) continue;
    const isPiece =
      value !== null &&
      typeof value === 'object' &&
      (isPieceLike(value) || (Array.isArray(value) && value.length > 0 && value.every(isPieceLike)));
    if (isPiece) {
      add(host.pieceNames?.[key] ?? key, value);
      continue;
    }
    if (NOT_CONFIG.test(key)) continue;
    const c = configValue(value);
    if (c !== undefined) config[key] = c;
  }
  pieces.push({ kind: 'fields', path: FIELDS, keys: [...host.stateFields] });

  const trained = (task as { trainableVariables?: unknown }).trainableVariables;
  if (Array.isArray(trained)) {
    for (const v of trained) {
      if (isVariable(v) && !claimed.has(v)) {
        throw new SelfsupError(
          `${fn}: ${host.name} trains the variable ${v.name} ${formatShape(v.shape)}, which no field of the task holds; keep it in a ` +
            'model, a tf.Variable field or a StatefulObject field so that its state is saved',
        );
      }
    }
  }
  return { pieces, config, claimed };
}

/** The JSON value of a configuration field, or undefined when it is not plain data. */
function configValue(v: unknown): JsonValue | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) {
    const items = v.map((x) => (x === null ? null : configValue(x)));
    return items.some((x) => x === undefined) ? undefined : (items as JsonValue[]);
  }
  if (isPlainObject(v)) {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, x] of Object.entries(v)) {
      const c = x === null ? null : configValue(x);
      if (c !== undefined) out[k] = c;
    }
    return out;
  }
  return undefined;
}

/**
 * Encodes a state value as JSON, moving its tensors (and typed arrays, as
 * tensors) into `tensors` under `path`: a tensor is cloned, or taken as is
 * when `take` (a `getState()` result the caller owns).
 */
function encodeTree(value: unknown, path: string, tensors: Record<string, tf.Tensor>, take: boolean, fn: string): JsonValue {
  if (value === undefined) return { $undefined: true };
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : { $number: String(value) };
  if (isTensor(value)) {
    tensors[path] = take ? value : tf.clone(value);
    return { $tensor: path };
  }
  const type = numericArrayType(value);
  if (type !== null) {
    const spec = ARRAY_TYPES[type]!;
    const data = value as NumericArray;
    tensors[path] = spec.dtype === 'float32' ? tf.tensor1d(Float32Array.from(data), 'float32') : tf.tensor1d(Int32Array.from(data), 'int32');
    return { $array: path, type };
  }
  if (Array.isArray(value)) return value.map((x, i) => encodeTree(x, `${path}/${i}`, tensors, take, fn));
  if (isPlainObject(value)) {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, x] of Object.entries(value)) {
      if (k.startsWith('$')) throw new SelfsupError(`${fn}: the state key ${path}/${k} starts with '$', which is reserved`);
      if (x === undefined) continue;
      out[k] = encodeTree(x, `${path}/${k}`, tensors, take, fn);
    }
    return out;
  }
  throw new SelfsupError(
    `${fn}: the state at ${path} is ${describeValue(value)}; state values must be JSON data, tensors or numeric typed arrays`,
  );
}

type Marker = { $tensor: string } | { $array: string; type: string } | { $number: string } | { $undefined: true };

function markerOf(x: unknown): Marker | null {
  if (!isPlainObject(x)) return null;
  if (typeof x.$tensor === 'string' || typeof x.$array === 'string' || typeof x.$number === 'string' || x.$undefined === true) {
    return x as Marker;
  }
  return null;
}

/** The value a JSON tree encodes, with its tensors taken from `tensors` (cloned when `clone`). */
function decodeTree(json: JsonValue, tensors: Record<string, tf.Tensor>, clone: boolean): unknown {
  const m = markerOf(json);
  if (m !== null) {
    if ('$tensor' in m) return clone ? tf.clone(tensors[m.$tensor]!) : tensors[m.$tensor]!;
    if ('$array' in m) return ARRAY_TYPES[m.type]!.make(tensors[m.$array]!.dataSync() as ArrayLike<number>);
    if ('$number' in m) return Number(m.$number);
    return undefined;
  }
  if (Array.isArray(json)) return json.map((x) => decodeTree(x, tensors, clone));
  if (isPlainObject(json)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(json)) out[k] = decodeTree(x as JsonValue, tensors, clone);
    return out;
  }
  return json;
}

function savePiece(piece: Piece, task: object, tensors: Record<string, tf.Tensor>, fn: string): JsonValue {
  switch (piece.kind) {
    case 'model':
      for (const { index, variable } of piece.variables) tensors[`${piece.path}/${index}`] = tf.clone(variable);
      return { kind: 'model', variables: piece.variables.map((v) => v.index) };
    case 'variable':
      tensors[piece.path] = tf.clone(piece.variable);
      return { kind: 'variable' };
    case 'array':
      encodeTree(piece.array, piece.path, tensors, false, fn);
      return { kind: 'array', type: piece.array.constructor.name };
    case 'object':
      return { kind: 'object', state: encodeTree(piece.object.getState(), piece.path, tensors, true, fn) };
    case 'optimizer':
      return saveOptimizer(piece.optimizer, piece.path, tensors);
    case 'fields': {
      const values: { [key: string]: JsonValue } = {};
      for (const key of piece.keys) {
        values[key] = encodeTree((task as Record<string, unknown>)[key], `${piece.path}/${key}`, tensors, false, fn);
      }
      return { kind: 'fields', values };
    }
  }
}

function optimizerFields(optimizer: tf.Optimizer): { variables: [string, tf.Variable][]; slots: [string, (OptimizerSlot | undefined)[]][] } {
  const variables: [string, tf.Variable][] = [];
  const slots: [string, (OptimizerSlot | undefined)[]][] = [];
  for (const [key, value] of Object.entries(optimizer)) {
    if (isVariable(value)) variables.push([key, value]);
    else if (
      Array.isArray(value) &&
      value.every((s) => s == null || (typeof s === 'object' && typeof (s as OptimizerSlot).originalName === 'string' && isVariable((s as OptimizerSlot).variable)))
    ) {
      slots.push([key, value as (OptimizerSlot | undefined)[]]);
    }
  }
  return { variables, slots };
}

function optimizerConfig(optimizer: tf.Optimizer): { [key: string]: JsonValue } {
  const config = (configValue(optimizer.getConfig()) ?? {}) as { [key: string]: JsonValue };
  delete config.learningRate;
  return config;
}

/**
 * A tfjs optimizer's complete state: its iteration count, learning rate and
 * every variable it keeps — the per-weight slots (Adam's moments, momentum's
 * accumulations, …, in the order of the variables they follow) and its own
 * scalars (Adam's β powers), read from its fields so that nothing is
 * recomputed on load (tfjs's `setWeights` recomputes Adam's β powers, which
 * does not round like the step-by-step product).
 */
function saveOptimizer(optimizer: tf.Optimizer, path: string, tensors: Record<string, tf.Tensor>): JsonValue {
  const { variables, slots } = optimizerFields(optimizer);
  const lr = (optimizer as unknown as { learningRate?: unknown }).learningRate;
  return {
    kind: 'optimizer',
    className: optimizer.getClassName(),
    config: optimizerConfig(optimizer),
    learningRate: typeof lr === 'number' ? lr : null,
    iterations: optimizer.iterations,
    variables: Object.fromEntries(
      variables.map(([key, v]) => {
        tensors[`${path}/${key}`] = tf.clone(v);
        return [key, { $tensor: `${path}/${key}` }];
      }),
    ),
    slots: Object.fromEntries(
      slots.map(([key, list]) => [
        key,
        list.map((s, i) => {
          if (s == null) return null;
          tensors[`${path}/${key}/${i}`] = tf.clone(s.variable);
          return { name: s.originalName, value: { $tensor: `${path}/${key}/${i}` } };
        }),
      ]),
    ),
  };
}

function restoreOptimizer(optimizer: tf.Optimizer, json: Record<string, JsonValue>, tensors: Record<string, tf.Tensor>): void {
  const target = optimizer as unknown as Record<string, unknown>;
  const variables = json.variables as Record<string, { $tensor: string }>;
  for (const [key, ref] of Object.entries(variables)) (target[key] as tf.Variable).assign(tensors[ref.$tensor]!);
  const slots = json.slots as Record<string, ({ name: string; value: { $tensor: string } } | null)[]>;
  for (const [key, list] of Object.entries(slots)) {
    const next = list.map((s) => (s === null ? undefined : { originalName: s.name, variable: tf.variable(tensors[s.value.$tensor]!, false) }));
    for (const old of target[key] as (OptimizerSlot | undefined)[]) old?.variable.dispose();
    target[key] = next;
  }
  target.iterations_ = json.iterations;
  const lr = (optimizer as unknown as { learningRate?: unknown }).learningRate;
  if (typeof json.learningRate === 'number' && lr !== json.learningRate) setLearningRate(optimizer, json.learningRate);
}

/**
 * Reads the complete state of `task` (the base class's `getState`). Throws a
 * {@link SelfsupError} when a trained variable is held where the discovery
 * cannot see it, or when the task is disposed.
 */
export function collectTaskState(task: object, host: StateHost, fn: string): TaskState {
  const { pieces, config } = discover(task, host, fn);
  return collectPieces(pieces, task, host, config, fn);
}

function collectPieces(pieces: Piece[], task: object, host: StateHost, config: TaskState['config'], fn: string): TaskState {
  const tensors: Record<string, tf.Tensor> = {};
  const json: Record<string, JsonValue> = {};
  try {
    for (const piece of pieces) json[piece.path] = savePiece(piece, task, tensors, fn);
  } catch (e) {
    tf.dispose(Object.values(tensors));
    throw e;
  }
  return { method: host.name, steps: host.steps, config, tensors, pieces: json };
}

/**
 * The first difference between two JSON values, as `path: a (checkpoint) ≠
 * b (task)`, or null when they are equal.
 */
export function jsonDifference(saved: JsonValue | undefined, live: JsonValue | undefined, path: string): string | null {
  const show = (v: JsonValue | undefined) => (v === undefined ? '(absent)' : JSON.stringify(v).slice(0, 80));
  if (saved === undefined || live === undefined || saved === null || live === null || typeof saved !== 'object' || typeof live !== 'object') {
    return saved === live ? null : `${path} is ${show(saved)} in the checkpoint and ${show(live)} in this task`;
  }
  if (Array.isArray(saved) !== Array.isArray(live)) return `${path} is ${show(saved)} in the checkpoint and ${show(live)} in this task`;
  if (Array.isArray(saved) && Array.isArray(live)) {
    if (saved.length !== live.length) return `${path} is ${show(saved)} in the checkpoint and ${show(live)} in this task`;
    for (let i = 0; i < saved.length; i++) {
      const d = jsonDifference(saved[i], live[i], `${path}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  const a = saved as { [key: string]: JsonValue };
  const b = live as { [key: string]: JsonValue };
  for (const key of [...new Set([...Object.keys(b), ...Object.keys(a)])]) {
    const d = jsonDifference(a[key], b[key], path === '' ? key : `${path}.${key}`);
    if (d !== null) return d;
  }
  return null;
}

function kindOf(x: unknown): string {
  const m = markerOf(x);
  if (m !== null) return '$tensor' in m ? 'tensor' : '$array' in m ? 'typed array' : '$number' in m ? 'number' : 'null';
  if (x === null || x === undefined) return 'null';
  if (Array.isArray(x)) return 'array';
  return typeof x;
}

/**
 * Checks a JSON tree of an incoming state against the same tree of the live
 * task (its template): same kinds and keys, and — unless `loose`, for
 * counters and lists that grow — the same array lengths and tensor shapes.
 * Nulls match anything (an optional value may be set on one side only).
 */
function checkTree(
  incoming: JsonValue | undefined,
  template: JsonValue | undefined,
  path: string,
  state: TaskState,
  live: TaskState,
  loose: boolean,
  referenced: Set<string>,
  fail: (reason: string) => never,
): void {
  const ki = kindOf(incoming);
  const kt = kindOf(template);
  if (ki === 'tensor' || ki === 'typed array') {
    const m = incoming as { $tensor?: string; $array?: string; type?: string };
    const name = (m.$tensor ?? m.$array)!;
    const t = state.tensors[name];
    if (!isTensor(t)) fail(`the tensor ${name} is missing`);
    referenced.add(name);
    if (ki === 'typed array' && !(typeof m.type === 'string' && m.type in ARRAY_TYPES)) fail(`${path} has an unknown array type ${describeValue(m.type)}`);
  }
  if (ki === 'null' || kt === 'null') {
    if (ki !== 'null') collectReferences(incoming, path, state, referenced, fail);
    return;
  }
  if (ki !== kt) fail(`${path} is a ${ki} in the checkpoint and a ${kt} in this task`);
  if (ki === 'tensor' || ki === 'typed array') {
    const a = state.tensors[((incoming as { $tensor?: string }).$tensor ?? (incoming as { $array?: string }).$array)!]!;
    const b = live.tensors[((template as { $tensor?: string }).$tensor ?? (template as { $array?: string }).$array)!]!;
    if (a.dtype !== b.dtype) fail(`${path} has dtype ${a.dtype} in the checkpoint and ${b.dtype} in this task`);
    if (!loose && (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i]))) {
      fail(`${path} has shape ${formatShape(a.shape)} in the checkpoint and ${formatShape(b.shape)} in this task`);
    }
    return;
  }
  if (ki === 'array') {
    const a = incoming as JsonValue[];
    const b = template as JsonValue[];
    if (!loose && a.length !== b.length) fail(`${path} has ${a.length} entries in the checkpoint and ${b.length} in this task`);
    a.forEach((x, i) => {
      if (i < b.length) checkTree(x, b[i], `${path}/${i}`, state, live, loose, referenced, fail);
      else collectReferences(x, path, state, referenced, fail);
    });
    return;
  }
  if (ki === 'object') {
    const a = incoming as { [key: string]: JsonValue };
    const b = template as { [key: string]: JsonValue };
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!(key in a)) fail(`${path}/${key} is missing`);
      if (!(key in b)) fail(`${path}/${key} is not part of this task's state`);
      checkTree(a[key], b[key], `${path}/${key}`, state, live, loose, referenced, fail);
    }
  }
}

function collectReferences(json: JsonValue | undefined, path: string, state: TaskState, referenced: Set<string>, fail: (r: string) => never): void {
  const m = markerOf(json);
  if (m !== null) {
    const name = '$tensor' in m ? m.$tensor : '$array' in m ? m.$array : null;
    if (name !== null) {
      if (!isTensor(state.tensors[name])) fail(`the tensor ${name} is missing`);
      referenced.add(name);
    }
    return;
  }
  if (Array.isArray(json)) json.forEach((x) => collectReferences(x, path, state, referenced, fail));
  else if (isPlainObject(json)) for (const x of Object.values(json)) collectReferences(x as JsonValue, path, state, referenced, fail);
}

function checkStateObject(state: unknown, fn: string): asserts state is TaskState {
  const s = state as TaskState;
  const ok =
    typeof s === 'object' &&
    s !== null &&
    typeof s.method === 'string' &&
    typeof s.steps === 'number' &&
    isPlainObject(s.config) &&
    typeof s.tensors === 'object' &&
    s.tensors !== null &&
    isPlainObject(s.pieces);
  if (!ok) {
    throw new InvalidArgumentError(fn, 'state', 'be a TaskState { method, steps, config, tensors, pieces } from getState()', describeValue(state));
  }
  for (const [name, t] of Object.entries(s.tensors)) {
    if (!isTensor(t) || t.isDisposed) throw new InvalidArgumentError(fn, `state.tensors['${name}']`, 'be a live tensor', describeValue(t));
  }
}

/** Throws a {@link CheckpointError} unless `state` fits the live task (its template), without changing anything. */
function checkAgainst(state: TaskState, live: TaskState, pieces: Piece[], fn: string): void {
  const fail: (reason: string) => never = (reason) => {
    throw new CheckpointError(fn, reason);
  };
  if (state.method !== live.method) fail(`the state is ${state.method}'s, this task is ${live.method}`);
  const diff = jsonDifference(state.config, live.config, '');
  if (diff !== null) {
    fail(
      `the options differ: ${diff} (create the task with the options it was saved with; a field that training ` +
        'changes belongs in the task\'s stateFields())',
    );
  }
  for (const path of Object.keys(state.pieces)) {
    if (!(path in live.pieces)) fail(`the state has a piece ${path} that this task does not have`);
  }
  const referenced = new Set<string>();
  for (const piece of pieces) {
    const incoming = state.pieces[piece.path] as Record<string, JsonValue> | undefined;
    const template = live.pieces[piece.path] as Record<string, JsonValue>;
    if (!isPlainObject(incoming)) fail(`the piece ${piece.path} is missing`);
    if (incoming.kind !== template.kind) fail(`${piece.path} is a ${String(incoming.kind)} in the checkpoint and a ${String(template.kind)} in this task`);
    const expectTensor = (name: string) => {
      const a = state.tensors[name];
      const b = live.tensors[name]!;
      if (!isTensor(a)) fail(`the tensor ${name} is missing`);
      if (a.dtype !== b.dtype) fail(`${name} has dtype ${a.dtype} in the checkpoint and ${b.dtype} in this task`);
      if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
        fail(`${name} has shape ${formatShape(a.shape)} in the checkpoint and ${formatShape(b.shape)} in this task`);
      }
      referenced.add(name);
    };
    switch (piece.kind) {
      case 'model': {
        if (jsonDifference(incoming.variables, template.variables, '') !== null) {
          const count = (v: JsonValue | undefined) => (Array.isArray(v) ? v.length : 0);
          fail(`${piece.path} has ${count(incoming.variables)} variables in the checkpoint and ${count(template.variables)} in this task (another architecture)`);
        }
        for (const { index } of piece.variables) expectTensor(`${piece.path}/${index}`);
        break;
      }
      case 'variable':
        expectTensor(piece.path);
        break;
      case 'array':
        if (incoming.type !== template.type) fail(`${piece.path} is a ${String(incoming.type)} in the checkpoint and a ${String(template.type)} in this task`);
        expectTensor(piece.path);
        break;
      case 'object':
        checkTree(incoming.state, template.state, piece.path, state, live, false, referenced, fail);
        break;
      case 'fields': {
        const a = incoming.values as { [key: string]: JsonValue } | undefined;
        const b = template.values as { [key: string]: JsonValue };
        if (!isPlainObject(a)) fail(`${piece.path} has no values`);
        for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
          if (!(key in a)) fail(`the field ${key} is missing`);
          if (!(key in b)) fail(`the field ${key} is not part of this task's state`);
          checkTree(a[key], b[key], key, state, live, true, referenced, fail);
        }
        break;
      }
      case 'optimizer':
        checkOptimizer(incoming, template, piece.path, state, live, referenced, fail);
        break;
    }
  }
  for (const name of Object.keys(state.tensors)) {
    if (!referenced.has(name)) fail(`the state has a tensor ${name} that this task does not have`);
  }
}

function checkOptimizer(
  incoming: Record<string, JsonValue>,
  template: Record<string, JsonValue>,
  path: string,
  state: TaskState,
  live: TaskState,
  referenced: Set<string>,
  fail: (reason: string) => never,
): void {
  if (incoming.className !== template.className) {
    fail(`${path} is ${String(incoming.className)} in the checkpoint and ${String(template.className)} in this task`);
  }
  const diff = jsonDifference(incoming.config, template.config, `${path} config`);
  if (diff !== null) fail(diff);
  const it = incoming.iterations;
  if (typeof it !== 'number' || !Number.isInteger(it) || it < 0) fail(`${path} has iteration count ${describeValue(it)}`);
  const lr = incoming.learningRate;
  if (lr !== null && (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0)) fail(`${path} has learning rate ${describeValue(lr)}`);
  const vars = incoming.variables as Record<string, JsonValue> | undefined;
  const varsT = template.variables as Record<string, JsonValue>;
  if (!isPlainObject(vars)) fail(`${path} has no variables`);
  for (const key of new Set([...Object.keys(vars), ...Object.keys(varsT)])) {
    if (!(key in vars) || !(key in varsT)) fail(`${path}/${key} is in only one of the checkpoint's and this task's optimizer`);
    const name = (markerOf(vars[key]) as { $tensor?: string } | null)?.$tensor;
    if (typeof name !== 'string' || !isTensor(state.tensors[name])) fail(`the tensor of ${path}/${key} is missing`);
    const a = state.tensors[name]!;
    const b = live.tensors[(markerOf(varsT[key]) as { $tensor: string }).$tensor]!;
    if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
      fail(`${path}/${key} is a ${a.dtype} ${formatShape(a.shape)} in the checkpoint and a ${b.dtype} ${formatShape(b.shape)} in this task`);
    }
    referenced.add(name);
  }
  const slots = incoming.slots as Record<string, JsonValue> | undefined;
  const slotsT = template.slots as Record<string, JsonValue>;
  if (!isPlainObject(slots)) fail(`${path} has no slots`);
  for (const key of new Set([...Object.keys(slots), ...Object.keys(slotsT)])) {
    if (!(key in slots) || !(key in slotsT)) fail(`${path}/${key} is in only one of the checkpoint's and this task's optimizer`);
    const list = slots[key];
    if (!Array.isArray(list)) fail(`${path}/${key} is not a list`);
    list.forEach((s, i) => {
      if (s === null) return;
      const entry = s as { name?: unknown; value?: unknown };
      const name = (markerOf(entry.value) as { $tensor?: string } | null)?.$tensor;
      if (typeof entry.name !== 'string' || typeof name !== 'string' || !isTensor(state.tensors[name])) fail(`${path}/${key}/${i} is malformed`);
      if (state.tensors[name]!.dtype !== 'float32') fail(`${path}/${key}/${i} has dtype ${state.tensors[name]!.dtype}`);
      referenced.add(name);
    });
  }
}

function applyPieces(task: object, pieces: Piece[], state: TaskState, withFields: boolean): tf.Tensor[] {
  const replaced: tf.Tensor[] = [];
  for (const piece of pieces) {
    const json = state.pieces[piece.path] as Record<string, JsonValue>;
    switch (piece.kind) {
      case 'model':
        for (const { index, variable } of piece.variables) variable.assign(state.tensors[`${piece.path}/${index}`]!);
        break;
      case 'variable':
        piece.variable.assign(state.tensors[piece.path]!);
        break;
      case 'array':
        piece.array.set(state.tensors[piece.path]!.dataSync() as ArrayLike<number>);
        break;
      case 'object':
        (piece.object.setState as (s: unknown) => void)(decodeTree(json.state!, state.tensors, false));
        break;
      case 'optimizer':
        restoreOptimizer(piece.optimizer, json, state.tensors);
        break;
      case 'fields': {
        if (!withFields) break;
        const target = task as Record<string, unknown>;
        for (const [key, value] of Object.entries(json.values as Record<string, JsonValue>)) {
          const old = target[key];
          if (isTensor(old)) replaced.push(old);
          target[key] = decodeTree(value, state.tensors, true);
        }
        break;
      }
    }
  }
  return replaced;
}

/**
 * Restores `state` into `task` (the base class's `setState`): everything is
 * checked against the live task first — method, configuration, the kind,
 * dtype and shape of every piece — and a {@link CheckpointError} naming the
 * first difference leaves the task untouched. Should an assignment still
 * fail, the task's previous state is put back before the error propagates.
 */
export function restoreTaskState(task: object, state: TaskState, host: StateHost, fn: string): void {
  checkStateObject(state, fn);
  const { pieces, config } = discover(task, host, fn);
  const live = collectPieces(pieces, task, host, config, fn);
  try {
    checkAgainst(state, live, pieces, fn);
    let replaced: tf.Tensor[];
    try {
      replaced = applyPieces(task, pieces, state, true);
    } catch (e) {
      try {
        applyPieces(task, pieces, live, false);
      } catch {
        // The original error says what went wrong; the rollback is best effort.
      }
      throw e;
    }
    tf.dispose(replaced);
  } finally {
    disposeTaskState(live);
  }
}
