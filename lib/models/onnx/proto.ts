// The minimal subset of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto3) needed to write a model:
// field numbers are ONNX's, so any ONNX reader (onnxruntime, netron, onnx.checker) parses our bytes.
// Encoding uses protobufjs reflection; nothing here knows about our models.
import protobuf from 'protobufjs';

/** TensorProto.DataType values we use. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values we use. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

/** Opset 17 (ONNX 1.12): LayerNormalization exists; everything else we emit is older. IR 8 goes with it. */
export const OPSET_VERSION = 17;
export const IR_VERSION = 8;

const SCHEMA = `
syntax = "proto3";
package onnx;
message AttributeProto {
  string name = 1;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  int32 type = 20;
}
message ValueInfoProto {
  string name = 1;
  TypeProto type = 2;
  string doc_string = 3;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  repeated AttributeProto attribute = 5;
  string domain = 7;
}
message StringStringEntryProto {
  string key = 1;
  string value = 2;
}
message ModelProto {
  int64 ir_version = 1;
  string producer_name = 2;
  string producer_version = 3;
  string domain = 4;
  int64 model_version = 5;
  string doc_string = 6;
  GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14;
}
message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  string name = 8;
  bytes raw_data = 9;
}
message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
  }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor {
    int32 elem_type = 1;
    TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
}
message OperatorSetIdProto {
  string domain = 1;
  int64 version = 2;
}
`;

const root = protobuf.parse(SCHEMA, { keepCase: true }).root;
const ModelProto = root.lookupType('onnx.ModelProto');

// Plain-object shapes of the messages (keepCase: field names as in onnx.proto).
export interface TensorProtoObject {
  name: string;
  dims: number[];
  data_type: DataTypeCode;
  raw_data: Uint8Array;
}
export interface AttributeProtoObject {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProtoObject;
  floats?: number[];
  ints?: number[];
}
export interface NodeProtoObject {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: AttributeProtoObject[];
  domain?: string;
}
/** A dimension is a fixed size or a symbolic name (e.g. 'batch'). */
export type Dim = number | string;
export interface ValueInfoObject {
  name: string;
  elemType: DataTypeCode;
  shape: Dim[];
}
export interface ModelObject {
  graphName: string;
  nodes: NodeProtoObject[];
  initializers: TensorProtoObject[];
  inputs: ValueInfoObject[];
  outputs: ValueInfoObject[];
  docString?: string;
  metadata?: Record<string, string>;
}

function valueInfo(v: ValueInfoObject) {
  return {
    name: v.name,
    type: { tensor_type: { elem_type: v.elemType, shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  };
}

/** Serialises a model to ONNX ModelProto bytes. */
export function encodeModel(model: ModelObject): Uint8Array {
  const message = ModelProto.fromObject({
    ir_version: IR_VERSION,
    producer_name: 'dual-ipo',
    producer_version: '1',
    doc_string: model.docString ?? '',
    opset_import: [{ domain: '', version: OPSET_VERSION }],
    metadata_props: Object.entries(model.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: model.graphName,
      node: model.nodes,
      initializer: model.initializers,
      input: model.inputs.map(valueInfo),
      output: model.outputs.map(valueInfo),
    },
  });
  return ModelProto.encode(message).finish();
}

/** Reads back the metadata of an encoded model (used to check that an .onnx file belongs to a checkpoint). */
export function decodeModelMetadata(bytes: Uint8Array): Record<string, string> {
  const decoded = ModelProto.toObject(ModelProto.decode(bytes), { defaults: true }) as { metadata_props?: { key: string; value: string }[] };
  return Object.fromEntries((decoded.metadata_props ?? []).map((p) => [p.key, p.value]));
}
