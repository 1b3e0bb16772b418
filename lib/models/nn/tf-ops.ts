// The tfjs executor of the Ops interface: eager tensors, differentiable, used for training (and for
// the tfjs side of the ONNX parity test and the sampling benchmark).
import * as tf from '@tensorflow/tfjs';
import type { Ops } from './ops';
import type { ParamSet } from './params';

export const LAYER_NORM_EPSILON = 1e-5;

/**
 * a [m, k] x b [k, n] with a gradient built from plain matmuls of explicitly transposed operands.
 * tfjs's own gradient uses transposed-operand matmuls, which the wasm backend runs about 8x slower
 * than a transpose followed by a plain matmul (measured: 434 ms vs 54 ms for 1024x768x256).
 */
const matMul2d = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, [sa, sb]: tf.Tensor[]) => [
      tf.matMul(dy as tf.Tensor2D, tf.transpose(sb!) as tf.Tensor2D),
      tf.matMul(tf.transpose(sa!) as tf.Tensor2D, dy as tf.Tensor2D),
    ],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor2D;

export class TfOps implements Ops<tf.Tensor> {
  /** Parameters by name: tf.Variables while training, plain tensors for inference. */
  constructor(readonly params: Record<string, tf.Tensor>) {}

  param(name: string): tf.Tensor {
    const p = this.params[name];
    if (!p) throw new Error(`TfOps: unknown parameter "${name}"`);
    return p;
  }
  constant(values: Float32Array | readonly number[], shape: readonly number[]): tf.Tensor {
    return tf.tensor(values instanceof Float32Array ? values : Float32Array.from(values), [...shape], 'float32');
  }
  matmul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    if (b.rank !== 2) throw new Error(`TfOps.matmul: the right operand must be a matrix, got shape [${b.shape.join(', ')}]`);
    if (a.rank === 2) return matMul2d(a, b);
    // [..., m, k] x [k, n]: fold the leading axes into rows (what ONNX MatMul broadcasting does).
    const lead = a.shape.slice(0, -1);
    const k = a.shape[a.rank - 1]!;
    return tf.reshape(matMul2d(tf.reshape(a, [-1, k]), b), [...lead, b.shape[1]!]);
  }
  batchMatmul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    if (a.rank !== 3 || b.rank !== 3) throw new Error(`TfOps.batchMatmul: operands must be rank 3, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
    return tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D);
  }
  add(a: tf.Tensor, b: tf.Tensor) {
    return tf.add(a, b);
  }
  sub(a: tf.Tensor, b: tf.Tensor) {
    return tf.sub(a, b);
  }
  mul(a: tf.Tensor, b: tf.Tensor) {
    return tf.mul(a, b);
  }
  div(a: tf.Tensor, b: tf.Tensor) {
    return tf.div(a, b);
  }
  scale(a: tf.Tensor, s: number) {
    return tf.mul(a, tf.scalar(s));
  }
  shift(a: tf.Tensor, s: number) {
    return tf.add(a, tf.scalar(s));
  }
  silu(x: tf.Tensor) {
    return tf.mul(x, tf.sigmoid(x));
  }
  relu(x: tf.Tensor) {
    return tf.relu(x);
  }
  sigmoid(x: tf.Tensor) {
    return tf.sigmoid(x);
  }
  tanh(x: tf.Tensor) {
    return tf.tanh(x);
  }
  neg(x: tf.Tensor) {
    return tf.neg(x);
  }
  exp(x: tf.Tensor) {
    return tf.exp(x);
  }
  log(x: tf.Tensor) {
    return tf.log(x);
  }
  softmax(x: tf.Tensor) {
    return tf.softmax(x);
  }
  logSoftmax(x: tf.Tensor) {
    return tf.logSoftmax(x);
  }
  layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) {
    const axis = x.rank - 1;
    const mean = tf.mean(x, axis, true);
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centred), axis, true);
    return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, tf.scalar(LAYER_NORM_EPSILON)))), gamma), beta);
  }
  concat(xs: tf.Tensor[], axis: number) {
    return tf.concat(xs, axis);
  }
  reshape(x: tf.Tensor, shape: readonly number[]) {
    return tf.reshape(x, [...shape]);
  }
  transpose(x: tf.Tensor, perm: readonly number[]) {
    return tf.transpose(x, [...perm]);
  }
  gather(table: tf.Tensor, indices: tf.Tensor) {
    // One-hot rows times the table: the same values as tf.gather, but its gradient is a matmul
    // (tf.gather's needs UnsortedSegmentSum, which the wasm backend lacks).
    const rows = table.shape[0]!;
    return this.matmul(tf.oneHot(tf.cast(indices, 'int32'), rows).toFloat(), table);
  }
  slice(x: tf.Tensor, axis: number, start: number, end: number) {
    const begin = x.shape.map((_, i) => (i === axis ? start : 0));
    const size = x.shape.map((d, i) => (i === axis ? end - start : d!));
    return tf.slice(x, begin, size);
  }
  reduceMean(x: tf.Tensor, axes: readonly number[], keepDims: boolean) {
    return tf.mean(x, [...axes], keepDims);
  }
  reduceSum(x: tf.Tensor, axes: readonly number[], keepDims: boolean) {
    return tf.sum(x, [...axes], keepDims);
  }
  reduceMax(x: tf.Tensor, axes: readonly number[], keepDims: boolean) {
    return tf.max(x, [...axes], keepDims);
  }
  hardMax(x: tf.Tensor) {
    return tf.cast(tf.equal(x, tf.max(x, -1, true)), 'float32');
  }
  clip(x: tf.Tensor, lo: number, hi: number) {
    return tf.clipByValue(x, lo, hi);
  }
}

/**
 * Runs `f` in a tidy scope and reads its tensor back. (Returning `dataSync()` from tf.tidy itself
 * makes tidy walk every element of the returned array looking for tensors: seconds for big outputs.)
 */
export function readTensor(f: () => tf.Tensor): Float32Array {
  const t = tf.tidy(f);
  try {
    return new Float32Array(t.dataSync());
  } finally {
    t.dispose();
  }
}

/** Plain (non-trainable) tensors for inference with TfOps; dispose with disposeTensors. */
export function tensorsOf(params: ParamSet): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, tf.tensor(v.data, v.shape, 'float32')]));
}

/** Trainable variables (names kept, so optimiser state lines up with checkpoints). */
let variableCounter = 0;
export function variablesOf(params: ParamSet, trainable = true): Record<string, tf.Variable> {
  // tfjs variable names are global: a counter keeps two copies of one model (policy, reference) apart.
  variableCounter += 1;
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, tf.variable(tf.tensor(v.data, v.shape, 'float32'), trainable, `${k}#${variableCounter}`)]));
}

/** Reads tensors back into a ParamSet (copies). */
export function paramsOf(tensors: Record<string, tf.Tensor>): ParamSet {
  return Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, { shape: [...v.shape], data: new Float32Array(v.dataSync()) }]));
}

export function disposeTensors(tensors: Record<string, tf.Tensor>): void {
  for (const t of Object.values(tensors)) t.dispose();
}
