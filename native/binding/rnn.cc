// N-API side of the recurrent family: whole-sequence forward and backward through time for one
// (layer, direction). Absent operands (no bias, no initial state, no lengths, gradients not
// wanted) are passed as null and have no layout in the metadata channel. Every present operand,
// lengths included, must sit on one device; CUDA tensors go to native/cuda/rnn (float32 only).
#include "../cpu/rnn/rnn.h"
#include "common.h"
#ifdef DENDRITE_WITH_CUDA
#include "../cuda/rnn/rnn.h"
#endif

namespace dendrite::binding {
namespace {

// The operand at info[i], or null (no layout read) when JS passed null or undefined.
const TensorDesc* optional_tensor(MetaReader& meta, const Napi::CallbackInfo& info, size_t i, TensorDesc& slot, const char* op) {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return nullptr;
  slot = read_tensor(meta, info[i], op);
  return &slot;
}

cpu::RnnMode mode_arg(const Napi::CallbackInfo& info, const char* op) {
  int32_t m = arg_int(info, 0, op);
  if (m < 0 || m > 3) fail(ErrorCode::Argument, op, "a mode in 0..3 (lstm, gru, rnn_tanh, rnn_relu)", std::to_string(m));
  return static_cast<cpu::RnnMode>(m);
}

// The device of every present operand (ERR_DEVICE when they differ); the CPU when none is given
// (the kernel then reports what is missing).
Device operands_device(const char* op, std::initializer_list<const TensorDesc*> operands) {
  const TensorDesc* first = nullptr;
  for (const TensorDesc* t : operands) {
    if (t == nullptr) continue;
    if (first == nullptr) first = t;
    else common_device(op, {first, t});
  }
  return first ? first->device : Device::Cpu;
}

// rnnForward(mode, reverse, x, wIh, wHh, bIh?, bHh?, h0?, c0?, lengths?, y, hN, cN?, savedGates, savedH, savedC?)
Napi::Value RnnForward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "rnn forward";
    cpu::RnnForwardArgs a;
    a.mode = mode_arg(info, op);
    a.reverse = arg_bool(info, 1, op);
    MetaReader meta(kRoutesCuda);
    TensorDesc t[14];
    a.x = optional_tensor(meta, info, 2, t[0], op);
    a.w.w_ih = optional_tensor(meta, info, 3, t[1], op);
    a.w.w_hh = optional_tensor(meta, info, 4, t[2], op);
    a.w.b_ih = optional_tensor(meta, info, 5, t[3], op);
    a.w.b_hh = optional_tensor(meta, info, 6, t[4], op);
    a.h0 = optional_tensor(meta, info, 7, t[5], op);
    a.c0 = optional_tensor(meta, info, 8, t[6], op);
    a.lengths = optional_tensor(meta, info, 9, t[7], op);
    a.y = optional_tensor(meta, info, 10, t[8], op);
    a.h_n = optional_tensor(meta, info, 11, t[9], op);
    a.c_n = optional_tensor(meta, info, 12, t[10], op);
    a.saved_gates = optional_tensor(meta, info, 13, t[11], op);
    a.saved_h = optional_tensor(meta, info, 14, t[12], op);
    a.saved_c = optional_tensor(meta, info, 15, t[13], op);
    Device dev = operands_device(op, {a.x, a.w.w_ih, a.w.w_hh, a.w.b_ih, a.w.b_hh, a.h0, a.c0, a.lengths, a.y, a.h_n, a.c_n,
                                      a.saved_gates, a.saved_h, a.saved_c});
    if (dev == Device::Cuda) DENDRITE_ON_CUDA(cuda::rnn_forward(a));
    else cpu::rnn_forward(a);
    return info.Env().Undefined();
  });
}

// rnnBackward(mode, reverse, x, wIh, wHh, lengths?, savedGates, savedH, savedC?, dy?, dhN?, dcN?,
//             dx?, dh0?, dc0?, dwIh?, dwHh?, dbIh?, dbHh?)
Napi::Value RnnBackward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    const char* op = "rnn backward";
    cpu::RnnBackwardArgs a;
    a.mode = mode_arg(info, op);
    a.reverse = arg_bool(info, 1, op);
    MetaReader meta(kRoutesCuda);
    TensorDesc t[17];
    a.x = optional_tensor(meta, info, 2, t[0], op);
    a.w.w_ih = optional_tensor(meta, info, 3, t[1], op);
    a.w.w_hh = optional_tensor(meta, info, 4, t[2], op);
    a.lengths = optional_tensor(meta, info, 5, t[3], op);
    a.saved_gates = optional_tensor(meta, info, 6, t[4], op);
    a.saved_h = optional_tensor(meta, info, 7, t[5], op);
    a.saved_c = optional_tensor(meta, info, 8, t[6], op);
    a.dy = optional_tensor(meta, info, 9, t[7], op);
    a.dh_n = optional_tensor(meta, info, 10, t[8], op);
    a.dc_n = optional_tensor(meta, info, 11, t[9], op);
    a.dx = optional_tensor(meta, info, 12, t[10], op);
    a.dh0 = optional_tensor(meta, info, 13, t[11], op);
    a.dc0 = optional_tensor(meta, info, 14, t[12], op);
    a.dw_ih = optional_tensor(meta, info, 15, t[13], op);
    a.dw_hh = optional_tensor(meta, info, 16, t[14], op);
    a.db_ih = optional_tensor(meta, info, 17, t[15], op);
    a.db_hh = optional_tensor(meta, info, 18, t[16], op);
    Device dev = operands_device(op, {a.x, a.w.w_ih, a.w.w_hh, a.lengths, a.saved_gates, a.saved_h, a.saved_c, a.dy, a.dh_n,
                                      a.dc_n, a.dx, a.dh0, a.dc0, a.dw_ih, a.dw_hh, a.db_ih, a.db_hh});
    if (dev == Device::Cuda) DENDRITE_ON_CUDA(cuda::rnn_backward(a));
    else cpu::rnn_backward(a);
    return info.Env().Undefined();
  });
}

}  // namespace

void init_rnn(Napi::Env env, Napi::Object exports) {
  exports.Set("rnnForward", Napi::Function::New(env, RnnForward, "rnnForward"));
  exports.Set("rnnBackward", Napi::Function::New(env, RnnBackward, "rnnBackward"));
}

}  // namespace dendrite::binding
