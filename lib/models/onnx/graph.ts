// The ONNX executor of the Ops interface: running a forward pass with OnnxOps records it as an ONNX
// graph (values are tensor names), which `build` encodes as a ModelProto for onnxruntime-node.
import type { Ops } from '../nn/ops';
import type { ParamSet } from '../nn/params';
import { LAYER_NORM_EPSILON } from '../nn/tf-ops';
import {
  AttributeType,
  DataType,
  encodeModel,
  type AttributeProtoObject,
  type DataTypeCode,
  type Dim,
  type NodeProtoObject,
  type TensorProtoObject,
  type ValueInfoObject,
} from './proto';

type Attr = number | number[] | string;

function attribute(name: string, value: Attr, forceFloat = false): AttributeProtoObject {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  if (forceFloat) return { name, type: AttributeType.FLOAT, f: value };
  return { name, type: AttributeType.INT, i: value };
}

function floatTensor(name: string, data: Float32Array, dims: readonly number[]): TensorProtoObject {
  // raw_data is little-endian, which Float32Array is on every platform Node runs on.
  return { name, dims: [...dims], data_type: DataType.FLOAT, raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

function int64Tensor(name: string, values: readonly number[]): TensorProtoObject {
  const data = new BigInt64Array(values.map((v) => BigInt(v)));
  return { name, dims: [values.length], data_type: DataType.INT64, raw_data: new Uint8Array(data.buffer) };
}

export class OnnxOps implements Ops<string> {
  private readonly nodes: NodeProtoObject[] = [];
  private readonly initializers = new Map<string, TensorProtoObject>();
  private readonly inputs: ValueInfoObject[] = [];
  private counter = 0;

  constructor(private readonly params: ParamSet) {}

  /** Declares a graph input; its name is the value to use in the forward pass. */
  input(name: string, shape: Dim[], elemType: DataTypeCode = DataType.FLOAT): string {
    this.inputs.push({ name, shape, elemType });
    return name;
  }

  private fresh(op: string): string {
    return `${op.toLowerCase()}_${this.counter++}`;
  }

  /** Adds a node and returns the name of its (single) output. */
  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, floatAttrs: readonly string[] = []): string {
    const out = this.fresh(op);
    this.nodes.push({
      name: out,
      op_type: op,
      input: inputs,
      output: [out],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v, floatAttrs.includes(k))),
    });
    return out;
  }

  private int64Const(values: readonly number[]): string {
    const name = `const_i64_${values.join('_').replace(/-/g, 'm')}`;
    if (!this.initializers.has(name)) this.initializers.set(name, int64Tensor(name, values));
    return name;
  }

  private scalarConst(v: number): string {
    const name = `const_f32_${this.initializers.size}`;
    this.initializers.set(name, floatTensor(name, new Float32Array([v]), []));
    return name;
  }

  param(name: string): string {
    if (!this.initializers.has(name)) {
      const p = this.params[name];
      if (!p) throw new Error(`OnnxOps: unknown parameter "${name}"`);
      this.initializers.set(name, floatTensor(name, p.data, p.shape));
    }
    return name;
  }
  constant(values: Float32Array | readonly number[], shape: readonly number[]): string {
    const name = this.fresh('const');
    this.initializers.set(name, floatTensor(name, values instanceof Float32Array ? new Float32Array(values) : Float32Array.from(values), shape));
    return name;
  }
  matmul(a: string, b: string) {
    return this.node('MatMul', [a, b]);
  }
  batchMatmul(a: string, b: string) {
    return this.node('MatMul', [a, b]);
  }
  add(a: string, b: string) {
    return this.node('Add', [a, b]);
  }
  sub(a: string, b: string) {
    return this.node('Sub', [a, b]);
  }
  mul(a: string, b: string) {
    return this.node('Mul', [a, b]);
  }
  div(a: string, b: string) {
    return this.node('Div', [a, b]);
  }
  scale(a: string, s: number) {
    return this.node('Mul', [a, this.scalarConst(s)]);
  }
  shift(a: string, s: number) {
    return this.node('Add', [a, this.scalarConst(s)]);
  }
  silu(x: string) {
    return this.node('Mul', [x, this.node('Sigmoid', [x])]);
  }
  relu(x: string) {
    return this.node('Relu', [x]);
  }
  sigmoid(x: string) {
    return this.node('Sigmoid', [x]);
  }
  tanh(x: string) {
    return this.node('Tanh', [x]);
  }
  neg(x: string) {
    return this.node('Neg', [x]);
  }
  exp(x: string) {
    return this.node('Exp', [x]);
  }
  log(x: string) {
    return this.node('Log', [x]);
  }
  softmax(x: string) {
    return this.node('Softmax', [x], { axis: -1 });
  }
  logSoftmax(x: string) {
    return this.node('LogSoftmax', [x], { axis: -1 });
  }
  layerNorm(x: string, gamma: string, beta: string) {
    return this.node('LayerNormalization', [x, gamma, beta], { axis: -1, epsilon: LAYER_NORM_EPSILON }, ['epsilon']);
  }
  concat(xs: string[], axis: number) {
    return this.node('Concat', xs, { axis });
  }
  reshape(x: string, shape: readonly number[]) {
    return this.node('Reshape', [x, this.int64Const(shape)]);
  }
  transpose(x: string, perm: readonly number[]) {
    return this.node('Transpose', [x], { perm: [...perm] });
  }
  gather(table: string, indices: string) {
    return this.node('Gather', [table, indices], { axis: 0 });
  }
  slice(x: string, axis: number, start: number, end: number) {
    return this.node('Slice', [x, this.int64Const([start]), this.int64Const([end]), this.int64Const([axis])]);
  }
  // Opset 17: ReduceMean/ReduceMax take axes as an attribute, ReduceSum (since 13) as an input.
  reduceMean(x: string, axes: readonly number[], keepDims: boolean) {
    return this.node('ReduceMean', [x], { axes: [...axes], keepdims: keepDims ? 1 : 0 });
  }
  reduceSum(x: string, axes: readonly number[], keepDims: boolean) {
    return this.node('ReduceSum', [x, this.int64Const(axes)], { keepdims: keepDims ? 1 : 0 });
  }
  reduceMax(x: string, axes: readonly number[], keepDims: boolean) {
    return this.node('ReduceMax', [x], { axes: [...axes], keepdims: keepDims ? 1 : 0 });
  }
  hardMax(x: string) {
    const isMax = this.node('Equal', [x, this.reduceMax(x, [-1], true)]);
    return this.node('Cast', [isMax], { to: DataType.FLOAT });
  }
  clip(x: string, lo: number, hi: number) {
    return this.node('Clip', [x, this.scalarConst(lo), this.scalarConst(hi)]);
  }

  /** Renames graph values to the declared outputs (Identity nodes) and encodes the model. */
  build(outputs: { name: string; value: string; shape: Dim[] }[], opts: { graphName: string; docString?: string; metadata?: Record<string, string> }): Uint8Array {
    const nodes = [...this.nodes];
    for (const o of outputs) nodes.push({ name: `output_${o.name}`, op_type: 'Identity', input: [o.value], output: [o.name], attribute: [] });
    return encodeModel({
      graphName: opts.graphName,
      nodes,
      initializers: [...this.initializers.values()],
      inputs: this.inputs,
      outputs: outputs.map((o) => ({ name: o.name, elemType: DataType.FLOAT, shape: o.shape })),
      docString: opts.docString,
      metadata: opts.metadata,
    });
  }
}
