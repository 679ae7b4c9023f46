#include "index.h"
#include <string>
#include "../../core/thread_pool.h"

namespace dendrite::cpu {
namespace {

int64_t index_at(const TensorDesc& idx, int64_t flat_offset) {
  if (idx.dtype == DType::Int64) return static_cast<const int64_t*>(idx.data)[flat_offset];
  return static_cast<const int32_t*>(idx.data)[flat_offset];
}

void check_index_dtype(const char* op, const TensorDesc& idx) {
  if (idx.dtype != DType::Int64 && idx.dtype != DType::Int32)
    fail(ErrorCode::DType, op, "an int32 or int64 index", dtype_name(idx.dtype));
}

void check_dim(const char* op, int dim, int ndim) {
  if (dim < 0 || dim >= std::max(ndim, 1)) fail(ErrorCode::Index, op, "dim in [0, " + std::to_string(ndim) + ")", std::to_string(dim));
}

// Offsets of a multi-index walk over `shape`; calls f(linear, idx[]) in row-major order.
template <class F>
void walk(const int64_t* shape, int ndim, F f) {
  int64_t n = 1;
  for (int d = 0; d < ndim; ++d) n *= shape[d];
  int64_t idx[kMaxDims] = {};
  for (int64_t lin = 0; lin < n; ++lin) {
    f(lin, idx);
    for (int d = ndim - 1; d >= 0; --d) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
  }
}

int64_t offset_of(const TensorDesc& t, const int64_t* idx) {
  int64_t o = 0;
  for (int d = 0; d < t.ndim; ++d) o += idx[d] * t.strides[d];
  return o;
}

// Checks index.shape fits `other` (all dims but dim).
void check_index_fits(const char* op, const TensorDesc& index, const TensorDesc& other, int dim) {
  if (index.ndim != other.ndim) fail(ErrorCode::Shape, op, "index of rank " + std::to_string(other.ndim), "rank " + std::to_string(index.ndim));
  for (int d = 0; d < index.ndim; ++d)
    if (d != dim && index.shape[d] > other.shape[d])
      fail(ErrorCode::Shape, op, "index.shape[" + std::to_string(d) + "] <= " + std::to_string(other.shape[d]), std::to_string(index.shape[d]));
}

// Checks every value of an index of any rank is in [0, limit).
void validate_index_values(const char* op, const TensorDesc& index, int64_t limit) {
  walk(index.shape, index.ndim, [&](int64_t, const int64_t* idx) {
    int64_t v = index_at(index, offset_of(index, idx));
    if (v < 0 || v >= limit) fail(ErrorCode::Index, op, "index values in [0, " + std::to_string(limit) + ")", std::to_string(v));
  });
}

void check_1d_index(const char* op, const TensorDesc& index) {
  if (index.ndim > 1) fail(ErrorCode::Shape, op, "a 1-D index", "rank " + std::to_string(index.ndim));
}

// Every value of a (checked) 1-D index in [0, limit).
void validate_1d_values(const char* op, const TensorDesc& index, int64_t limit) {
  int64_t n = index.numel(), s = index.ndim ? index.strides[0] : 0;
  for (int64_t j = 0; j < n; ++j) {
    int64_t v = index_at(index, j * s);
    if (v < 0 || v >= limit) fail(ErrorCode::Index, op, "index values in [0, " + std::to_string(limit) + ")", std::to_string(v));
  }
}

}  // namespace

void check_gather_args(const TensorDesc& out, const TensorDesc& in, int dim, const TensorDesc& index) {
  check_index_dtype("gather", index);
  check_dim("gather", dim, in.ndim);
  if (out.dtype != in.dtype) fail(ErrorCode::DType, "gather", dtype_name(in.dtype), dtype_name(out.dtype));
  if (out.ndim != index.ndim) fail(ErrorCode::Shape, "gather", "out shaped like index", shape_str(out.shape, out.ndim));
  for (int d = 0; d < out.ndim; ++d)
    if (out.shape[d] != index.shape[d]) fail(ErrorCode::Shape, "gather", "out shaped like index", shape_str(out.shape, out.ndim));
  check_index_fits("gather", index, in, dim);
}

void check_index_select_args(const TensorDesc& out, const TensorDesc& in, int dim, const TensorDesc& index) {
  check_index_dtype("indexSelect", index);
  check_dim("indexSelect", dim, in.ndim);
  if (out.dtype != in.dtype) fail(ErrorCode::DType, "indexSelect", dtype_name(in.dtype), dtype_name(out.dtype));
  if (out.ndim != in.ndim) fail(ErrorCode::Shape, "indexSelect", "out of rank " + std::to_string(in.ndim), std::to_string(out.ndim));
  for (int d = 0; d < in.ndim; ++d)
    if (d != dim && out.shape[d] != in.shape[d]) fail(ErrorCode::Shape, "indexSelect", "out matching input off dim", shape_str(out.shape, out.ndim));
  int64_t n = index.numel();
  if (in.ndim && out.shape[dim] != n) fail(ErrorCode::Shape, "indexSelect", "out.shape[dim] == index.numel()", std::to_string(out.shape[dim]));
  check_1d_index("indexSelect", index);
}

void check_index_add_args(const TensorDesc& out, int dim, const TensorDesc& index, const TensorDesc& src) {
  check_index_dtype("indexAdd", index);
  check_dim("indexAdd", dim, out.ndim);
  if (out.dtype != src.dtype) fail(ErrorCode::DType, "indexAdd", dtype_name(out.dtype), dtype_name(src.dtype));
  if (src.ndim != out.ndim) fail(ErrorCode::Shape, "indexAdd", "src of rank " + std::to_string(out.ndim), std::to_string(src.ndim));
  int64_t n = index.numel();
  for (int d = 0; d < out.ndim; ++d)
    if ((d == dim ? n : out.shape[d]) != src.shape[d]) fail(ErrorCode::Shape, "indexAdd", "src matching out off dim, index.numel() on dim", shape_str(src.shape, src.ndim));
  check_1d_index("indexAdd", index);
}

void gather(const TensorDesc& out, const TensorDesc& in, int dim, const TensorDesc& index) {
  check_gather_args(out, in, dim, index);
  validate_index_values("gather", index, in.ndim ? in.shape[dim] : 1);
  dispatch_dtype(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    walk(index.shape, index.ndim, [&](int64_t, const int64_t* idx) {
      int64_t v = index_at(index, offset_of(index, idx));
      int64_t src = offset_of(in, idx) + (v - (in.ndim ? idx[dim] : 0)) * (in.ndim ? in.strides[dim] : 0);
      out.ptr<T>()[offset_of(out, idx)] = in.ptr<T>()[src];
    });
  });
}

void scatter_add(const TensorDesc& out, int dim, const TensorDesc& index, const TensorDesc& src) {
  check_index_dtype("scatterAdd", index);
  check_dim("scatterAdd", dim, out.ndim);
  if (out.dtype != src.dtype) fail(ErrorCode::DType, "scatterAdd", dtype_name(out.dtype), dtype_name(src.dtype));
  check_index_fits("scatterAdd", index, src, -1);
  validate_index_values("scatterAdd", index, out.ndim ? out.shape[dim] : 1);
  for (int d = 0; d < index.ndim; ++d)
    if (d != dim && index.shape[d] > out.shape[d])
      fail(ErrorCode::Shape, "scatterAdd", "index.shape[" + std::to_string(d) + "] <= " + std::to_string(out.shape[d]), std::to_string(index.shape[d]));
  dispatch_dtype(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    walk(index.shape, index.ndim, [&](int64_t, const int64_t* idx) {
      int64_t v = index_at(index, offset_of(index, idx));
      int64_t dst = offset_of(out, idx) + (v - (out.ndim ? idx[dim] : 0)) * (out.ndim ? out.strides[dim] : 0);
      T& o = out.ptr<T>()[dst];
      o = static_cast<T>(o + src.ptr<T>()[offset_of(src, idx)]);
    });
  });
}

void index_select(const TensorDesc& out, const TensorDesc& in, int dim, const TensorDesc& index) {
  check_index_select_args(out, in, dim, index);
  validate_1d_values("indexSelect", index, in.ndim ? in.shape[dim] : 1);
  int64_t is = index.ndim ? index.strides[0] : 0;
  dispatch_dtype(in.dtype, [&](auto tag) {
    using T = decltype(tag);
    // Row-major walk over out; the selected coordinate is remapped through the index.
    int64_t total = out.numel();
    parallel_for(0, total, 16384, [&](int64_t lo, int64_t hi) {
      int64_t idx[kMaxDims] = {};
      int64_t rem = lo;
      for (int d = out.ndim - 1; d >= 0; --d) { idx[d] = rem % out.shape[d]; rem /= out.shape[d]; }
      for (int64_t lin = lo; lin < hi; ++lin) {
        int64_t so = 0, oo = 0;
        for (int d = 0; d < out.ndim; ++d) {
          int64_t c = d == dim ? index_at(index, idx[d] * is) : idx[d];
          so += c * in.strides[d];
          oo += idx[d] * out.strides[d];
        }
        if (out.ndim == 0) so = 0;
        out.ptr<T>()[oo] = in.ptr<T>()[so];
        for (int d = out.ndim - 1; d >= 0; --d) { if (++idx[d] < out.shape[d]) break; idx[d] = 0; }
      }
    });
  });
}

void index_add(const TensorDesc& out, int dim, const TensorDesc& index, const TensorDesc& src) {
  check_index_add_args(out, dim, index, src);
  validate_1d_values("indexAdd", index, out.ndim ? out.shape[dim] : 1);
  int64_t is = index.ndim ? index.strides[0] : 0;
  dispatch_dtype(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    walk(src.shape, src.ndim, [&](int64_t, const int64_t* idx) {
      int64_t oo = 0;
      for (int d = 0; d < out.ndim; ++d) oo += (d == dim ? index_at(index, idx[d] * is) : idx[d]) * out.strides[d];
      T& o = out.ptr<T>()[oo];
      o = static_cast<T>(o + src.ptr<T>()[offset_of(src, idx)]);
    });
  });
}

}  // namespace dendrite::cpu
