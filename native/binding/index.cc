// N-API side of the index family.
#include "../cpu/index/index.h"
#include "common.h"
#ifdef DENDRITE_WITH_CUDA
#include "../cuda/cuda.h"
#endif

namespace dendrite::binding {
namespace {

// The CUDA twin of a kernel; in a build without CUDA the CPU one stands in (never reached, as
// no CUDA tensor can be read there).
#ifdef DENDRITE_WITH_CUDA
#define DENDRITE_CUDA_KERNEL(name) cuda::name
#else
#define DENDRITE_CUDA_KERNEL(name) cpu::name
#endif

// gather(dim, out, in, index) / indexSelect(dim, out, in, index)
template <void (*Kernel)(const TensorDesc&, const TensorDesc&, int, const TensorDesc&),
          void (*CudaKernel)(const TensorDesc&, const TensorDesc&, int, const TensorDesc&)>
Napi::Value Select(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int dim = arg_int(info, 0, "index");
    MetaReader meta(kRoutesCuda);
    TensorDesc out = read_tensor(meta, info[1], "index");
    TensorDesc in = read_tensor(meta, info[2], "index");
    TensorDesc index = read_tensor(meta, info[3], "index");
    if (common_device("index", {&out, &in, &index}) == Device::Cuda) CudaKernel(out, in, dim, index);
    else Kernel(out, in, dim, index);
    return info.Env().Undefined();
  });
}

// scatterAdd(dim, out, index, src) / indexAdd(dim, out, index, src)
template <void (*Kernel)(const TensorDesc&, int, const TensorDesc&, const TensorDesc&),
          void (*CudaKernel)(const TensorDesc&, int, const TensorDesc&, const TensorDesc&)>
Napi::Value Accumulate(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int dim = arg_int(info, 0, "index");
    MetaReader meta(kRoutesCuda);
    TensorDesc out = read_tensor(meta, info[1], "index");
    TensorDesc index = read_tensor(meta, info[2], "index");
    TensorDesc src = read_tensor(meta, info[3], "index");
    if (common_device("index", {&out, &index, &src}) == Device::Cuda) CudaKernel(out, dim, index, src);
    else Kernel(out, dim, index, src);
    return info.Env().Undefined();
  });
}

}  // namespace

void init_index(Napi::Env env, Napi::Object exports) {
  exports.Set("gather", Napi::Function::New(env, Select<cpu::gather, DENDRITE_CUDA_KERNEL(gather)>, "gather"));
  exports.Set("indexSelect", Napi::Function::New(env, Select<cpu::index_select, DENDRITE_CUDA_KERNEL(index_select)>, "indexSelect"));
  exports.Set("scatterAdd", Napi::Function::New(env, Accumulate<cpu::scatter_add, DENDRITE_CUDA_KERNEL(scatter_add)>, "scatterAdd"));
  exports.Set("indexAdd", Napi::Function::New(env, Accumulate<cpu::index_add, DENDRITE_CUDA_KERNEL(index_add)>, "indexAdd"));
}

}  // namespace dendrite::binding
