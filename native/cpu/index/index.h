// Index ops: gather / scatter-add along a dim, index-select / index-add along a dim.
// Every index is validated before anything is written, so a bad index leaves out untouched.
#pragma once
#include "../../core/tensor.h"

namespace dendrite::cpu {

// out[i][j][k] = in[i][index[i][j][k]][k] (dim = 1); index int32 or int64, index.shape == out.shape,
// index.shape[d] <= in.shape[d] for d != dim.
void gather(const TensorDesc& out, const TensorDesc& in, int dim, const TensorDesc& index);
// out[i][index[i][j][k]][k] += src[i][j][k] (dim = 1); the adjoint of gather.
void scatter_add(const TensorDesc& out, int dim, const TensorDesc& index, const TensorDesc& src);
// out = in selected along dim by a 1-D index; out.shape[dim] == index.numel().
void index_select(const TensorDesc& out, const TensorDesc& in, int dim, const TensorDesc& index);
// out.narrow(dim, index[j], 1) += src.narrow(dim, j, 1); the adjoint of index_select.
void index_add(const TensorDesc& out, int dim, const TensorDesc& index, const TensorDesc& src);

// The dtype, dim and shape checks of gather / index_select / index_add (not the index values:
// each device reads those where the index lives), shared by the CPU and CUDA drivers so both
// throw the same errors. scatter_add's checks run in another order on each device and stay there.
void check_gather_args(const TensorDesc& out, const TensorDesc& in, int dim, const TensorDesc& index);
void check_index_select_args(const TensorDesc& out, const TensorDesc& in, int dim, const TensorDesc& index);
void check_index_add_args(const TensorDesc& out, int dim, const TensorDesc& index, const TensorDesc& src);

}  // namespace dendrite::cpu
