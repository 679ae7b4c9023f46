// A minimal ONNX model writer: just enough protobuf to build one-op (or few-op) graphs in
// memory for onnxruntime, so the anchors need no files and no protobuf dependency.
// Field numbers follow onnx/onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto,
// TensorProto, ValueInfoProto, TypeProto, TensorShapeProto).

export type OnnxDType = 'float32' | 'uint8' | 'int8' | 'int32' | 'int64' | 'bool' | 'float64';

const ONNX_DTYPE_CODES: Record<OnnxDType, number> = {
  float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float64: 11,
};

/** A graph input or output: `shape` entries are sizes, or names for symbolic dims. */
export interface OnnxValueInfo {
  name: string;
  dtype?: OnnxDType;
  shape: (number | string)[];
}

/** A constant (graph initializer), stored as raw little-endian bytes. */
export interface OnnxInitializer {
  name: string;
  dtype: OnnxDType;
  dims: number[];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;
}

/** An attribute value; build them with `onnxAttr` so ints and floats are never confused. */
export type OnnxAttr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'tensor'; value: OnnxInitializer };

export const onnxAttr = {
  int: (value: number): OnnxAttr => ({ kind: 'int', value }),
  float: (value: number): OnnxAttr => ({ kind: 'float', value }),
  string: (value: string): OnnxAttr => ({ kind: 'string', value }),
  ints: (value: number[]): OnnxAttr => ({ kind: 'ints', value }),
  floats: (value: number[]): OnnxAttr => ({ kind: 'floats', value }),
  tensor: (value: OnnxInitializer): OnnxAttr => ({ kind: 'tensor', value }),
};

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, OnnxAttr>;
  /** '' (the default ONNX domain) or e.g. 'com.microsoft' for contrib ops. */
  domain?: string;
  name?: string;
}

export interface OnnxModelSpec {
  nodes: OnnxNode[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers?: OnnxInitializer[];
  /** Default opset 21 (IR version 10): Gelu (opset 20) and axes-as-input reductions (18) are there. */
  opset?: number;
  irVersion?: number;
  /** Further operator sets, e.g. `{ domain: 'com.microsoft', version: 1 }`. */
  extraOpsets?: { domain: string; version: number }[];
}

// Protobuf wire types.
const VARINT = 0, LEN = 2, FIXED32 = 5;

/** Appends protobuf fields to a growing byte list; nested messages are encoded first. */
class ProtoWriter {
  private readonly bytes: number[] = [];

  private varint(v: number | bigint): void {
    // int64 fields carry negative values as 10-byte two's complement varints.
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.bytes.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.bytes.push(Number(x));
  }

  private key(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint): this {
    this.key(field, VARINT);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, FIXED32);
    const b = new Uint8Array(new Float32Array([v]).buffer);
    for (const x of b) this.bytes.push(x);
    return this;
  }

  bytesField(field: number, data: Uint8Array): this {
    this.key(field, LEN);
    this.varint(data.length);
    for (let i = 0; i < data.length; i++) this.bytes.push(data[i]);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytesField(field, new TextEncoder().encode(s));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytesField(field, inner.finish());
  }

  packedInts(field: number, values: readonly number[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.bytesField(field, inner.finish());
  }

  packedFloats(field: number, values: readonly number[]): this {
    return this.bytesField(field, new Uint8Array(new Float32Array(values).buffer));
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

function writeTensor(w: ProtoWriter, t: OnnxInitializer): void {
  w.packedInts(1, t.dims);  // dims
  w.int(2, ONNX_DTYPE_CODES[t.dtype]);  // data_type
  w.string(8, t.name);  // name
  w.bytesField(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));  // raw_data
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensorType) => {  // TypeProto.tensor_type
      tensorType.int(1, ONNX_DTYPE_CODES[v.dtype ?? 'float32']);  // elem_type
      tensorType.message(2, (shape) => {  // TensorShapeProto
        for (const d of v.shape)
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

// AttributeProto.type codes.
const ATTR_TYPES = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

function writeAttribute(w: ProtoWriter, name: string, a: OnnxAttr): void {
  w.string(1, name);
  switch (a.kind) {
    case 'float': w.float(2, a.value); break;
    case 'int': w.int(3, a.value); break;
    case 'string': w.string(4, a.value); break;
    case 'tensor': w.message(5, (t) => writeTensor(t, a.value)); break;
    case 'floats': w.packedFloats(7, a.value); break;
    case 'ints': w.packedInts(8, a.value); break;
  }
  w.int(20, ATTR_TYPES[a.kind]);
}

function writeNode(w: ProtoWriter, n: OnnxNode, index: number): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name ?? `${n.op}_${index}`);
  w.string(4, n.op);
  for (const [name, a] of Object.entries(n.attrs ?? {})) w.message(5, (attr) => writeAttribute(attr, name, a));
  if (n.domain) w.string(7, n.domain);
}

/** Serialises a ModelProto: pass the bytes to `ort.InferenceSession.create`. */
export function makeOnnxModel(spec: OnnxModelSpec): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, spec.irVersion ?? 10);  // ir_version
  w.string(2, 'dendrite-bench');  // producer_name
  w.message(7, (g) => {  // graph
    spec.nodes.forEach((n, i) => g.message(1, (node) => writeNode(node, n, i)));
    g.string(2, 'bench');
    for (const t of spec.initializers ?? []) g.message(5, (init) => writeTensor(init, t));
    for (const v of spec.inputs) g.message(11, (vi) => writeValueInfo(vi, v));
    for (const v of spec.outputs) g.message(12, (vi) => writeValueInfo(vi, v));
  });
  const opsets = [{ domain: '', version: spec.opset ?? 21 }, ...(spec.extraOpsets ?? [])];
  for (const o of opsets)
    w.message(8, (op) => {  // opset_import
      if (o.domain) op.string(1, o.domain);
      op.int(2, o.version);
    });
  return w.finish();
}
