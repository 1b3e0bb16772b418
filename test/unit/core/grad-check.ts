// Finite-difference gradient check for the losses: tf.grads of f against central differences
// (f(x + eps e_j) - f(x - eps e_j)) / 2 eps, coordinate by coordinate. tfjs' CPU backend is float32,
// so eps and the tolerance are chosen per loss from the scale of its inputs.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
}

export function assertClose(actual: ArrayLike<number> | number, expected: ArrayLike<number> | number, tol = 1e-5, what = 'value'): void {
  const a = typeof actual === 'number' ? [actual] : Array.from(actual);
  const e = typeof expected === 'number' ? [expected] : Array.from(expected);
  assert.equal(a.length, e.length, `${what}: length ${a.length} != ${e.length}`);
  a.forEach((v, i) => assert.ok(Math.abs(v - e[i]!) <= tol * Math.max(1, Math.abs(e[i]!)), `${what}[${i}]: ${v} != ${e[i]} (tol ${tol})`));
}

/** Gradients of f at `inputs` by central differences (f evaluated in float32 by tfjs). */
export function numericGrads(f: (...xs: tf.Tensor1D[]) => tf.Scalar, inputs: number[][], eps: number): number[][] {
  const at = (xs: number[][]) => tf.tidy(() => f(...xs.map((x) => tf.tensor1d(x))).dataSync()[0]!);
  return inputs.map((x, k) =>
    x.map((_, j) => {
      const shifted = (d: number) => inputs.map((y, m) => (m === k ? y.map((v, i) => (i === j ? v + d : v)) : y));
      return (at(shifted(eps)) - at(shifted(-eps))) / (2 * eps);
    }),
  );
}

/** Asserts tf.grads(f) == numericGrads(f) within tol (relative to max(1, |g|)). */
export function checkGrads(f: (...xs: tf.Tensor1D[]) => tf.Scalar, inputs: number[][], { eps = 1e-2, tol = 2e-3 } = {}): void {
  const xs = inputs.map((x) => tf.tensor1d(x));
  const grads = tf.grads((...ts: tf.Tensor[]) => f(...(ts as tf.Tensor1D[])))(xs);
  const analytic = grads.map((g) => Array.from(g.dataSync()));
  tf.dispose([...xs, ...grads]);
  const numeric = numericGrads(f, inputs, eps);
  analytic.forEach((g, k) => assertClose(g, numeric[k]!, tol, `grad of input ${k}`));
}
