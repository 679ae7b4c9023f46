// N-API side of the optimizer family: optimStep(kind, hyper, param, grad, ...state).
// `hyper` is a Float64Array whose layout per kind is given by the readers below (flags as 0/1);
// the state storages follow in the kind's order, `undefined` for state the options leave out,
// and the metadata channel holds one layout per storage actually passed.
#include "../cpu/optim/optim.h"
#include "common.h"

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

}  // namespace

void init_optim(Napi::Env env, Napi::Object exports) {
  exports.Set("optimStep", Napi::Function::New(env, OptimStep, "optimStep"));
  Napi::Array names = Napi::Array::New(env);
  for (uint32_t i = 0; kKindNames[i]; ++i) names.Set(i, Napi::String::New(env, kKindNames[i]));
  exports.Set("optimKinds", names);
}

}  // namespace dendrite::binding
