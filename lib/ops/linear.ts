// F.linear: y = x @ weight^T + bias (PyTorch semantics), x [..., in], weight [out, in], bias [out].
// float32 runs as one SGEMM with the bias fused into its epilogue; other float dtypes compose
// matmul and add. The backward sits next to the forward.
import { fail, fmtShape } from '../errors';
import { isFloat, promoteTypes } from '../dtype';
import { Tensor } from '../tensor';
import { noGrad, record } from '../autograd/node';
import { beginLayouts, native } from '../native';
import { asDType, checkTensor, disposeAll } from './helpers';
import { matmul } from './linalg';
import { add } from './elementwise';
import { GEMM_ACTIVATIONS, type GemmActivation } from './blas';

/** A 2-D view the native GEMM reads directly: row- or column-major. */
function matrixReadable(t: Tensor): boolean {
  const [rows, cols] = t.shape, [rs, cs] = t.strides;
  return (cs === 1 || cols === 1) && (rs >= cols || rows === 1) || (rs === 1 || rows === 1) && (cs >= rows || cols === 1);
}

/** The fused native forward: act(x @ weight^T + bias) in float32. */
function linearRaw(x: Tensor, weight: Tensor, bias: Tensor | null, act: GemmActivation): Tensor {
  const temps: Tensor[] = [];
  try {
    if (!x.isContiguous()) temps.push((x = x.contiguous()));
    if (!matrixReadable(weight)) temps.push((weight = weight.contiguous()));
    if (bias && !bias.isContiguous()) temps.push((bias = bias.contiguous()));
    const out = Tensor.empty([...x.shape.slice(0, -1), weight.shape[0]], 'float32', x.device);
    beginLayouts();
    out.putLayout();
    x.putLayout();
    weight.putLayout();
    if (bias) bias.putLayout();
    native.linear(GEMM_ACTIVATIONS[act], out.storage.buffer, x.storage.buffer, weight.storage.buffer, bias?.storage.buffer);
    return out;
  } finally {
    disposeAll(temps);
  }
}

/**
 * y = x @ weight^T + bias, as torch.nn.functional.linear. x: [..., in] (or [in]), weight:
 * [out, in], bias: [out] (optional). Differentiable in all three.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  checkTensor(x, 'linear');
  checkTensor(weight, 'linear', 'weight');
  if (bias !== undefined && bias !== null) checkTensor(bias, 'linear', 'bias');
  const b = bias ?? null;
  if (x.ndim < 1) fail('ERR_SHAPE', 'linear', 'input of at least 1 dim [..., in]', fmtShape(x.shape));
  const K = x.shape[x.ndim - 1];
  if (weight.ndim !== 2 || weight.shape[1] !== K)
    fail('ERR_SHAPE', 'linear', `weight of shape [out, in] = [*, ${K}]`, fmtShape(weight.shape));
  const N = weight.shape[0];
  if (b && (b.ndim !== 1 || b.shape[0] !== N)) fail('ERR_SHAPE', 'linear', `bias of shape [out] = [${N}]`, fmtShape(b.shape));
  let dtype = promoteTypes(x.dtype, weight.dtype);
  if (b) dtype = promoteTypes(dtype, b.dtype);
  if (!isFloat(dtype)) fail('ERR_DTYPE', 'linear', 'floating-point operands', dtype);

  const temps: Tensor[] = [];
  let out: Tensor;
  try {
    const xc = asDType(x, dtype, temps), wc = asDType(weight, dtype, temps), bc = b ? asDType(b, dtype, temps) : null;
    if (dtype === 'float32') {
      out = linearRaw(xc, wc, bc, 'none');
    } else {
      out = noGrad(() => {
        const y = matmul(xc, wc.transpose(0, 1));
        if (!bc) return y;
        const yb = add(y, bc);
        y.dispose();
        return yb;
      });
    }
  } finally {
    disposeAll(temps);
  }

  const inputs = b ? [x, weight, b] : [x, weight];
  return record(out, 'linear', inputs, (g) => {
    // grad_x = g @ W; grad_W = g^T @ x and grad_b = sum of g, both summed over the batch dims.
    const g2 = g.reshape([-1, N]);
    const gx = x.requiresGrad ? matmul(g, weight).to(x.dtype) : null;
    const gw = weight.requiresGrad ? matmul(g2.transpose(0, 1), x.reshape([-1, K])).to(weight.dtype) : null;
    const gb = b && b.requiresGrad ? g2.sum(0).to(b.dtype) : null;
    return b ? [gx, gw, gb] : [gx, gw];
  });
}
