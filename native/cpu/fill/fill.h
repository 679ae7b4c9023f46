// Fill a (possibly strided) tensor with a constant or an affine sequence start + i * step.
#pragma once
#include "../../core/tensor.h"

namespace dendrite::cpu {

void fill(const TensorDesc& out, double value);
// out[i] = start + i * step over the flat (row-major) index; computed in double so that
// linspace/arange endpoints are exact the way PyTorch's are.
void fill_affine(const TensorDesc& out, double start, double step);

}  // namespace dendrite::cpu
