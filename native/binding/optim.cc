// N-API side of the optimizer family: optimStep(kind, hyper, param, grad, ...state).
// `hyper` is a Float64Array whose layout per kind is given by the readers below (flags as 0/1);
// the state storages follow in the kind's order, `undefined` for state the options leave out,
// and the metadata channel holds one layout per storage actually passed.
//
// optimStepMulti(kind, dtype, hyper, layout, storages): every tensor of a group on CUDA in one
// kernel launch (native/cuda/optim). storages lists, per tensor, param, grad and the kind's
// state storages (`undefined` where left out); layout holds [offset, numel] (elements) of each
// of those operands in the same order (all contiguous, one dtype: the TS layer guarantees it);
// hyper holds each tensor's hyper-parameters in the optimStep layout, one after the other.
#include <vector>
#include "../cpu/optim/optim.h"
#include "common.h"
#ifdef DENDRITE_WITH_CUDA
#include "../cuda/optim/optim.h"
#endif

namespace dendrite::binding {
namespace {

enum class Kind : int32_t { Sgd, Adam, Adamax, NAdam, Rmsprop, Adagrad, kCount };
const char* const kKindNames[] = {"sgd", "adam", "adamax", "nadam", "rmsprop", "adagrad", nullptr};
constexpr size_t kHyperLen[] = {7, 10, 6, 7, 7, 4};
constexpr size_t kStateCount[] = {1, 3, 2, 2, 3, 1};

Napi::Value OptimStep(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "optimStep";
    int code = arg_int(info, 0, op);
    if (code < 0 || code >= static_cast<int>(Kind::kCount)) fail(ErrorCode::Argument, op, "a known optimizer kind", std::to_string(code));
    if (info.Length() < 2 || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
      fail(ErrorCode::Argument, op, "a Float64Array of hyper-parameters", "another value");
    Napi::Float64Array hyper_arr = info[1].As<Napi::Float64Array>();
    if (hyper_arr.ElementLength() < kHyperLen[code])
      fail(ErrorCode::Argument, op, std::to_string(kHyperLen[code]) + " hyper-parameters", std::to_string(hyper_arr.ElementLength()));
    const double* hp = hyper_arr.Data();
    auto flag = [&](size_t i) { return hp[i] != 0; };

    MetaReader meta;
    TensorDesc param = read_tensor(meta, info[2], op);
    TensorDesc grad = read_tensor(meta, info[3], op);
    TensorDesc state[3];
    const TensorDesc* present[3] = {nullptr, nullptr, nullptr};
    for (size_t i = 0; i < kStateCount[code]; ++i) {
      size_t arg = 4 + i;
      if (arg >= info.Length() || info[arg].IsUndefined() || info[arg].IsNull()) continue;
      state[i] = read_tensor(meta, info[arg], op);
      present[i] = &state[i];
    }
    auto need = [&](size_t i, const char* what) -> const TensorDesc& {
      if (!present[i]) fail(ErrorCode::Argument, op, std::string("a ") + what + " state tensor", "none");
      return *present[i];
    };

    switch (static_cast<Kind>(code)) {
      case Kind::Sgd: {
        cpu::SgdHyper h;
        h.lr = hp[0]; h.weight_decay = hp[1]; h.momentum = hp[2]; h.dampening = hp[3];
        h.nesterov = flag(4); h.maximize = flag(5); h.first_step = flag(6);
        cpu::sgd_step(param, grad, present[0], h);
        break;
      }
      case Kind::Adam: {
        cpu::AdamHyper h;
        h.weight_decay = hp[0]; h.lr = hp[1]; h.beta1 = hp[2]; h.beta2 = hp[3]; h.eps = hp[4];
        h.bias_correction2_sqrt = hp[5]; h.step_size = hp[6];
        h.amsgrad = flag(7); h.maximize = flag(8); h.decoupled = flag(9);
        cpu::adam_step(param, grad, need(0, "exp_avg"), need(1, "exp_avg_sq"), present[2], h);
        break;
      }
      case Kind::Adamax: {
        cpu::AdamaxHyper h;
        h.weight_decay = hp[0]; h.beta1 = hp[1]; h.beta2 = hp[2]; h.eps = hp[3]; h.clr = hp[4]; h.maximize = flag(5);
        cpu::adamax_step(param, grad, need(0, "exp_avg"), need(1, "exp_inf"), h);
        break;
      }
      case Kind::NAdam: {
        cpu::NAdamHyper h;
        h.weight_decay = hp[0]; h.beta1 = hp[1]; h.beta2 = hp[2]; h.eps = hp[3];
        h.bias_correction2 = hp[4]; h.grad_coef = hp[5]; h.avg_coef = hp[6];
        cpu::nadam_step(param, grad, need(0, "exp_avg"), need(1, "exp_avg_sq"), h);
        break;
      }
      case Kind::Rmsprop: {
        cpu::RmspropHyper h;
        h.lr = hp[0]; h.alpha = hp[1]; h.eps = hp[2]; h.weight_decay = hp[3]; h.momentum = hp[4];
        h.centered = flag(5); h.maximize = flag(6);
        cpu::rmsprop_step(param, grad, need(0, "square_avg"), present[1], present[2], h);
        break;
      }
      case Kind::Adagrad: {
        cpu::AdagradHyper h;
        h.weight_decay = hp[0]; h.eps = hp[1]; h.clr = hp[2]; h.maximize = flag(3);
        cpu::adagrad_step(param, grad, need(0, "sum"), h);
        break;
      }
      default: break;
    }
    return info.Env().Undefined();
  });
}

// A whole number in [0, 2^48] from a Float64Array slot.
int64_t layout_int(double v, const char* op, const char* what) {
  if (!(v >= 0 && v <= 281474976710656.0) || v != static_cast<double>(static_cast<int64_t>(v)))
    fail(ErrorCode::Argument, op, std::string("a whole ") + what + " in [0, 2^48]", std::to_string(v));
  return static_cast<int64_t>(v);
}

const double* f64_array(const Napi::CallbackInfo& info, size_t i, size_t need, const char* op, const char* what) {
  if (i >= info.Length() || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    fail(ErrorCode::Argument, op, std::string("a Float64Array of ") + what, "another value");
  Napi::Float64Array arr = info[i].As<Napi::Float64Array>();
  if (arr.ElementLength() < need) fail(ErrorCode::Argument, op, std::to_string(need) + " " + what, std::to_string(arr.ElementLength()));
  return arr.Data();
}

Napi::Value OptimStepMulti(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "optimStepMulti";
    const int code = arg_int(info, 0, op);
    if (code < 0 || code >= static_cast<int>(Kind::kCount)) fail(ErrorCode::Argument, op, "a known optimizer kind", std::to_string(code));
    const int dtype_code = arg_int(info, 1, op);
    if (!dtype_valid(dtype_code)) fail(ErrorCode::DType, op, "a known dtype code", std::to_string(dtype_code));
    const DType dtype = static_cast<DType>(dtype_code);
    if (!dtype_is_float(dtype)) fail(ErrorCode::DType, op, "float32 or float64 parameters", dtype_name(dtype));
    if (info.Length() < 5 || !info[4].IsArray()) fail(ErrorCode::Argument, op, "an array of storages", "another value");
    Napi::Array storages = info[4].As<Napi::Array>();
    const size_t per = 2 + kStateCount[code];
    const size_t operands = storages.Length();
    if (operands % per != 0)
      fail(ErrorCode::Argument, op, "storages in groups of " + std::to_string(per) + " (param, grad, state...)", std::to_string(operands));
    const size_t count = operands / per;
    const double* hyper = f64_array(info, 2, count * kHyperLen[code], op, "hyper-parameters");
    const double* layout = f64_array(info, 3, operands * 2, op, "layout values");
    const size_t item = dtype_size(dtype);
#ifdef DENDRITE_WITH_CUDA
    std::vector<cuda::OptimTensor> tensors(count);
#endif
    for (size_t t = 0; t < count; ++t) {
      int64_t numel = 0;
      void* ptrs[2 + 3] = {nullptr, nullptr, nullptr, nullptr, nullptr};
      for (size_t j = 0; j < per; ++j) {
        const size_t at = t * per + j;
        Napi::Value handle = storages.Get(static_cast<uint32_t>(at));
        if (handle.IsUndefined() || handle.IsNull()) {
          if (j < 2) fail(ErrorCode::Argument, op, "a parameter and a gradient storage", "undefined");
          continue;
        }
        const int64_t offset = layout_int(layout[2 * at], op, "offset");
        const int64_t n = layout_int(layout[2 * at + 1], op, "element count");
        if (j == 0) numel = n;
        else if (n != numel)
          fail(ErrorCode::Shape, op, "operands of " + std::to_string(numel) + " elements like their parameter", std::to_string(n));
        void* data = nullptr;
        size_t bytes = 0;
        cuda_storage_info(handle, op, &data, &bytes);  // ERR_ARGUMENT unless a CUDA storage
        if (n > 0 && data == nullptr) fail(ErrorCode::Disposed, op, "a live tensor", "a disposed tensor");
        const size_t end = static_cast<size_t>(offset + n) * item;
        if (n > 0 && end > bytes)
          fail(ErrorCode::Index, op, "a view inside its storage of " + std::to_string(bytes) + " bytes", "one reaching byte " + std::to_string(end));
        ptrs[j] = data ? static_cast<char*>(data) + offset * static_cast<int64_t>(item) : nullptr;
      }
#ifdef DENDRITE_WITH_CUDA
      cuda::OptimTensor& e = tensors[t];
      e.param = ptrs[0];
      e.grad = ptrs[1];
      for (size_t s = 0; s < kStateCount[code]; ++s) e.state[s] = ptrs[2 + s];
      e.numel = numel;
      for (size_t k = 0; k < kHyperLen[code]; ++k) e.hyper[k] = hyper[t * kHyperLen[code] + k];
#else
      (void)hyper;
      (void)ptrs;
#endif
    }
#ifdef DENDRITE_WITH_CUDA
    cuda::optim_step_multi(static_cast<cuda::OptimKind>(code), dtype, tensors.data(), static_cast<int64_t>(count));
#endif
    return info.Env().Undefined();
  });
}

// optimLaunchCount() -> multi-tensor kernels launched so far (0 without CUDA).
Napi::Value OptimLaunchCount(const Napi::CallbackInfo& info) {
#ifdef DENDRITE_WITH_CUDA
  return Napi::Number::New(info.Env(), static_cast<double>(cuda::optim_multi_launches()));
#else
  return Napi::Number::New(info.Env(), 0);
#endif
}

}  // namespace

void init_optim(Napi::Env env, Napi::Object exports) {
  exports.Set("optimStep", Napi::Function::New(env, OptimStep, "optimStep"));
  exports.Set("optimStepMulti", Napi::Function::New(env, OptimStepMulti, "optimStepMulti"));
  exports.Set("optimLaunchCount", Napi::Function::New(env, OptimLaunchCount, "optimLaunchCount"));
  Napi::Array names = Napi::Array::New(env);
  for (uint32_t i = 0; kKindNames[i]; ++i) names.Set(i, Napi::String::New(env, kKindNames[i]));
  exports.Set("optimKinds", names);
}

}  // namespace dendrite::binding
