// Fused optimizer steps: one pass over a parameter reads param, grad and the optimizer's state
// and writes param and state, with PyTorch 1.13's single-tensor update rules (torch/optim/*.py,
// `_single_tensor_<name>`), operation for operation, so results agree to rounding. The TS layer
// (lib/optim) folds everything that depends on the step count — bias corrections, NAdam's
// momentum schedule, Adagrad's decayed lr — into the scalars below; kernels do per-element math.
#pragma once
#include <cstdint>
#include "../../core/tensor.h"

namespace dendrite::cpu {

// SGD: d = g (+ wd*p); buf = first ? d : momentum*buf + (1-dampening)*d; d = nesterov ? d + momentum*buf : buf;
// p -= lr*d.
struct SgdHyper {
  double lr = 0, weight_decay = 0, momentum = 0, dampening = 0;
  bool nesterov = false, maximize = false, first_step = false;
};

// Adam / AdamW (decoupled): m, v moments; amsgrad keeps max(v); p += -step_size * m / (sqrt(v)/bc2_sqrt + eps).
struct AdamHyper {
  double weight_decay = 0, lr = 0, beta1 = 0, beta2 = 0, eps = 0;
  double bias_correction2_sqrt = 1;  // sqrt(1 - beta2^step)
  double step_size = 0;              // lr / (1 - beta1^step)
  bool amsgrad = false, maximize = false, decoupled = false;
};

// Adamax: exp_inf = max(beta2*exp_inf, |g| + eps); p += -clr * m / exp_inf.
struct AdamaxHyper {
  double weight_decay = 0, beta1 = 0, beta2 = 0, eps = 0;
  double clr = 0;  // lr / (1 - beta1^step)
  bool maximize = false;
};

// NAdam: denom = sqrt(v / bc2) + eps; p += grad_coef * g / denom; p += avg_coef * m / denom.
struct NAdamHyper {
  double weight_decay = 0, beta1 = 0, beta2 = 0, eps = 0;
  double bias_correction2 = 1;  // 1 - beta2^step
  double grad_coef = 0;         // -lr * (1 - mu) / (1 - mu_product)
  double avg_coef = 0;          // -lr * mu_next / (1 - mu_product_next)
};

// RMSprop: sq = alpha*sq + (1-alpha)*g^2; centered subtracts the running mean's square;
// momentum buffers g / avg.
struct RmspropHyper {
  double lr = 0, alpha = 0, eps = 0, weight_decay = 0, momentum = 0;
  bool centered = false, maximize = false;
};

// Adagrad: sum += g^2; p += -clr * g / (sqrt(sum) + eps).
struct AdagradHyper {
  double weight_decay = 0, eps = 0;
  double clr = 0;  // lr / (1 + (step - 1) * lr_decay)
  bool maximize = false;
};

// Every tensor must be contiguous, float32 or float64, of one dtype and one element count.
// Optional state (nullptr) is what the options leave out: SGD's buffer without momentum,
// Adam's max_exp_avg_sq without amsgrad, RMSprop's grad_avg / momentum buffer.
void sgd_step(const TensorDesc& param, const TensorDesc& grad, const TensorDesc* momentum_buffer, const SgdHyper& h);
void adam_step(const TensorDesc& param, const TensorDesc& grad, const TensorDesc& exp_avg, const TensorDesc& exp_avg_sq,
               const TensorDesc* max_exp_avg_sq, const AdamHyper& h);
void adamax_step(const TensorDesc& param, const TensorDesc& grad, const TensorDesc& exp_avg, const TensorDesc& exp_inf,
                 const AdamaxHyper& h);
void nadam_step(const TensorDesc& param, const TensorDesc& grad, const TensorDesc& exp_avg, const TensorDesc& exp_avg_sq,
                const NAdamHyper& h);
void rmsprop_step(const TensorDesc& param, const TensorDesc& grad, const TensorDesc& square_avg, const TensorDesc* grad_avg,
                  const TensorDesc* momentum_buffer, const RmspropHyper& h);
void adagrad_step(const TensorDesc& param, const TensorDesc& grad, const TensorDesc& sum, const AdagradHyper& h);

// Contiguous float32 range kernels, one table per ISA (null entries use the scalar rules).
struct OptimTable {
  void (*sgd_f32)(float* p, const float* g, float* buf, int64_t n, const SgdHyper& h);
  void (*adam_f32)(float* p, const float* g, float* m, float* v, float* vmax, int64_t n, const AdamHyper& h);
  void (*adamax_f32)(float* p, const float* g, float* m, float* u, int64_t n, const AdamaxHyper& h);
  void (*nadam_f32)(float* p, const float* g, float* m, float* v, int64_t n, const NAdamHyper& h);
  void (*rmsprop_f32)(float* p, const float* g, float* sq, float* ga, float* buf, int64_t n, const RmspropHyper& h);
  void (*adagrad_f32)(float* p, const float* g, float* sum, int64_t n, const AdagradHyper& h);
};
void fill_optim_avx2(OptimTable& t);
void fill_optim_avx512(OptimTable& t);
void fill_optim_neon(OptimTable& t);

}  // namespace dendrite::cpu
