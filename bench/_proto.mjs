// A minimal protobuf writer for the one-node ONNX models the benchmark scripts hand to
// onnxruntime-node (field numbers from onnx.proto). Shared by gemm.bench.mjs and rnn.bench.mjs.
export function varint(n) {
  const out = [];
  let v = BigInt(n);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}
export const fieldVarint = (field, v) => [...varint((field << 3) | 0), ...varint(v)];
export const fieldBytes = (field, bytes) => [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
export const fieldString = (field, s) => fieldBytes(field, [...Buffer.from(s, 'utf8')]);

/** ValueInfoProto of a float tensor: name, type.tensor_type { elem_type FLOAT, shape dims }. */
export function valueInfo(name, dims) {
  const shape = dims.flatMap((d) => fieldBytes(1, fieldVarint(1, d))); // TensorShapeProto.dim.dim_value
  const tensorType = [...fieldVarint(1, 1), ...fieldBytes(2, shape)]; // elem_type FLOAT, shape
  return [...fieldString(1, name), ...fieldBytes(2, fieldBytes(1, tensorType))];
}

/** TensorProto of float data: dims, data_type FLOAT, name, raw_data. */
export function initializer(name, dims, data) {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return [...dims.flatMap((d) => fieldVarint(1, d)), ...fieldVarint(2, 1), ...fieldString(8, name), ...fieldBytes(9, [...raw])];
}
