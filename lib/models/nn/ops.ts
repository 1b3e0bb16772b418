// One forward, two executors. Every model's forward pass is written once against this interface
// and run by two implementations: TfOps (tfjs tensors: training, gradients) and OnnxOps (graph
// building: the ONNX file that onnxruntime-node serves). The ONNX model is therefore the tfjs
// model by construction, and the parity test only has to catch numerical differences.
//
// Conventions: float32 everywhere except index tensors (int32); the batch is the leading axis and is
// left symbolic in ONNX, so reshapes use -1 for it; binary ops broadcast like numpy.

export interface Ops<T> {
  /** A parameter of the model by name (a trainable tf.Variable, or an ONNX initializer). */
  param(name: string): T;
  /** A constant baked into the program (schedule coefficients, masks). */
  constant(values: Float32Array | readonly number[], shape: readonly number[]): T;
  matmul(a: T, b: T): T;
  /** [B, m, k] x [B, k, n] -> [B, m, n]: one product per batch row (ONNX MatMul on rank-3 operands). */
  batchMatmul(a: T, b: T): T;
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  /** a * s for a plain number s. */
  scale(a: T, s: number): T;
  /** a + s for a plain number s. */
  shift(a: T, s: number): T;
  silu(x: T): T;
  relu(x: T): T;
  sigmoid(x: T): T;
  tanh(x: T): T;
  neg(x: T): T;
  exp(x: T): T;
  log(x: T): T;
  /** Softmax over the last axis. */
  softmax(x: T): T;
  /** Log-softmax over the last axis. */
  logSoftmax(x: T): T;
  /** Layer normalisation over the last axis with a learned gain and bias (epsilon 1e-5). */
  layerNorm(x: T, gamma: T, beta: T): T;
  concat(xs: T[], axis: number): T;
  /** -1 infers one dimension (used for the batch). */
  reshape(x: T, shape: readonly number[]): T;
  transpose(x: T, perm: readonly number[]): T;
  /** Rows of `table` ([V, E]) at int32 `indices` (any shape): shape indices.shape + [E]. */
  gather(table: T, indices: T): T;
  /** Elements [start, end) of `axis`. */
  slice(x: T, axis: number, start: number, end: number): T;
  reduceMean(x: T, axes: readonly number[], keepDims: boolean): T;
  reduceSum(x: T, axes: readonly number[], keepDims: boolean): T;
  reduceMax(x: T, axes: readonly number[], keepDims: boolean): T;
  /** One-hot of the argmax over the last axis (float32 0/1), as a graph op: Equal(x, ReduceMax(x)). */
  hardMax(x: T): T;
  clip(x: T, lo: number, hi: number): T;
}

/** y = x W + b with parameters `${prefix}.w` [in, out] and `${prefix}.b` [out]. */
export function dense<T>(o: Ops<T>, x: T, prefix: string): T {
  return o.add(o.matmul(x, o.param(`${prefix}.w`)), o.param(`${prefix}.b`));
}

/** LayerNorm with parameters `${prefix}.g` and `${prefix}.b`. */
export function norm<T>(o: Ops<T>, x: T, prefix: string): T {
  return o.layerNorm(x, o.param(`${prefix}.g`), o.param(`${prefix}.b`));
}
