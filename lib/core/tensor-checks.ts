// Input checks shared by the losses and helpers, and `detach`. A bad input should fail loudly with
// the function and argument named, not turn into a NaN loss many steps later.
import * as tf from '@tensorflow/tfjs';

/** Throws unless every value is finite, naming the first bad one (`fn: name contains NaN at index 3`). */
export function assertFiniteNumbers(fn: string, name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new Error(`${fn}: ${name} contains ${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'} at index ${i}`);
  }
}

/** Throws unless `value` is a finite number (scalars such as beta). */
export function assertFiniteScalar(fn: string, name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${fn}: ${name} must be a finite number, got ${value}`);
}

/** Duck-typed, so a tensor from a second copy of tfjs (e.g. via tfjs-node) still counts. */
export function isTensor(t: unknown): t is tf.Tensor {
  return t instanceof tf.Tensor || (typeof t === 'object' && t !== null && Array.isArray((t as tf.Tensor).shape) && typeof (t as tf.Tensor).dataSync === 'function');
}

/**
 * Checks the per-sample inputs of a loss: each a non-empty, finite Tensor1D, all of one length.
 * Reads the values back (dataSync): fine on the CPU and cheap next to the model passes that made them.
 */
export function assertBatch(fn: string, inputs: Record<string, tf.Tensor>): number {
  let n = -1;
  let first = '';
  for (const [name, t] of Object.entries(inputs)) {
    if (!isTensor(t)) throw new Error(`${fn}: ${name} must be a tf.Tensor1D`);
    if (t.rank !== 1) throw new Error(`${fn}: ${name} must be a Tensor1D (one value per sample), got shape [${t.shape.join(', ')}]`);
    if (n === -1) [n, first] = [t.shape[0]!, name];
    else if (t.shape[0] !== n) throw new Error(`${fn}: ${name} has ${t.shape[0]} samples but ${first} has ${n}`);
    assertFiniteNumbers(fn, name, t.dataSync());
  }
  if (n === 0) throw new Error(`${fn}: empty batch (${first} has no samples)`);
  return n;
}

/**
 * Stop-gradient (tfjs has none): the value of `x` with a zero gradient, via tf.customGrad. Used for
 * the quantities the references compute under torch.no_grad / .detach(), and it stays on-device.
 */
export function detach<T extends tf.Tensor>(x: T): T {
  return tf.customGrad((a) => ({ value: (a as tf.Tensor).clone(), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) }))(x) as T;
}
