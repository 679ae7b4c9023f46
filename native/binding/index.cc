// N-API side of the index family.
#include "../cpu/index/index.h"
#include "common.h"

namespace dendrite::binding {
namespace {

// gather(dim, out, in, index) / indexSelect(dim, out, in, index)
template <void (*Kernel)(const TensorDesc&, const TensorDesc&, int, const TensorDesc&)>
Napi::Value Select(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int dim = arg_int(info, 0, "index");
    MetaReader meta;
    TensorDesc out = read_tensor(meta, info[1], "index");
    TensorDesc in = read_tensor(meta, info[2], "index");
    TensorDesc index = read_tensor(meta, info[3], "index");
    Kernel(out, in, dim, index);
    return info.Env().Undefined();
  });
}

// scatterAdd(dim, out, index, src) / indexAdd(dim, out, index, src)
template <void (*Kernel)(const TensorDesc&, int, const TensorDesc&, const TensorDesc&)>
Napi::Value Accumulate(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    int dim = arg_int(info, 0, "index");
    MetaReader meta;
    TensorDesc out = read_tensor(meta, info[1], "index");
    TensorDesc index = read_tensor(meta, info[2], "index");
    TensorDesc src = read_tensor(meta, info[3], "index");
    Kernel(out, dim, index, src);
    return info.Env().Undefined();
  });
}

}  // namespace

void init_index(Napi::Env env, Napi::Object exports) {
  exports.Set("gather", Napi::Function::New(env, Select<cpu::gather>, "gather"));
  exports.Set("indexSelect", Napi::Function::New(env, Select<cpu::index_select>, "indexSelect"));
  exports.Set("scatterAdd", Napi::Function::New(env, Accumulate<cpu::scatter_add>, "scatterAdd"));
  exports.Set("indexAdd", Napi::Function::New(env, Accumulate<cpu::index_add>, "indexAdd"));
}

}  // namespace dendrite::binding
