// Addon entry point: each binding file registers its functions.
#include "common.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace dendrite::binding;
  init_core(env, exports);
  init_elementwise(env, exports);
  init_reduce(env, exports);
  init_gemm(env, exports);
  init_index(env, exports);
  init_optim(env, exports);
  init_loss(env, exports);
  init_roi(env, exports);
  init_conv(env, exports);
  init_pool(env, exports);
  init_norm(env, exports);
  init_rnn(env, exports);
  init_cuda(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(dendrite, Init)
