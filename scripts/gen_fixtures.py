#!/usr/bin/python3
"""Writes the PyTorch reference fixtures under test/fixtures/ (run: npm run fixtures).

One JSON file per op family. Each case holds the op name and its arguments, the inputs
(values, shape, dtype and an optional view applied to them), the forward outputs, an
upstream gradient per float output and the gradient of every input that requires grad.
The tests read them without Python (test/ops/optable.ts says how to call each op).

Inputs are generated here from seeded numpy generators (one per family, so editing one
family leaves the others' fixtures alone) and rounded to 9 significant digits before
PyTorch sees them, so what the JSON holds is exactly what PyTorch computed from.

A case's `view` is a list of steps applied to the leaf tensor before the op, on both
sides: ["transpose", d0, d1], ["permute", dims], ["slice", dim, start, end, step],
["expand", shape], ["select", dim, index]. Gradients are those of the leaf, so a view's
backward (reduction of broadcast dims, zeros where a step skipped elements) is tested too.

Non-finite floats are written as the strings "NaN", "Infinity" and "-Infinity".
Needs Debian's python3-torch (PyTorch 1.13) and numpy.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')

TORCH_DTYPES = {
    'float32': torch.float32, 'float64': torch.float64, 'int32': torch.int32,
    'int64': torch.int64, 'uint8': torch.uint8, 'bool': torch.bool,
}
DTYPE_NAMES = {v: k for k, v in TORCH_DTYPES.items()}
FLOATS = ('float32', 'float64')
NAN, INF = float('nan'), float('inf')


def r9(v):
    return float('%.9g' % v)


def enc(v):
    """A JSON-safe number (non-finite floats as strings)."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, float):
        if math.isnan(v):
            return 'NaN'
        if math.isinf(v):
            return 'Infinity' if v > 0 else '-Infinity'
        v = r9(v)
        if v == 0 and math.copysign(1.0, v) < 0:
            return -0.0  # keeps its sign in JSON ("-0.0")
        return int(v) if v.is_integer() and abs(v) < 1e15 else v
    return v


def tensor_json(t):
    t = t.detach()
    dtype = DTYPE_NAMES[t.dtype]
    flat = t.contiguous().reshape(-1)
    if dtype in FLOATS:
        values = [enc(float(v)) for v in flat.tolist()]
    else:
        values = [int(v) for v in flat.tolist()]
    return {'dtype': dtype, 'shape': list(t.shape), 'values': values}


def apply_view(x, view):
    for step in view or []:
        kind = step[0]
        if kind == 'transpose':
            x = x.transpose(step[1], step[2])
        elif kind == 'permute':
            x = x.permute(*step[1])
        elif kind == 'slice':
            _, dim, start, end, stepv = step
            x = x[(slice(None),) * dim + (slice(start, end, stepv),)]
        elif kind == 'expand':
            x = x.expand(*step[1])
        elif kind == 'select':
            x = x.select(step[1], step[2])
        else:
            raise ValueError(kind)
    return x


class Inp:
    """An input: values (numpy array or nested list, its shape is the leaf's), dtype, view."""

    def __init__(self, values, dtype='float32', view=None, grad=None):
        self.values = np.asarray(values)
        self.dtype = dtype
        self.view = view
        self.grad = dtype in FLOATS if grad is None else grad


def call_scalar_first(op, s, x):
    return {
        'add': lambda: s + x, 'sub': lambda: s - x, 'mul': lambda: s * x, 'div': lambda: s / x,
        'pow': lambda: s ** x, 'eq': lambda: x == s, 'ne': lambda: x != s, 'lt': lambda: x > s,
        'le': lambda: x >= s, 'gt': lambda: x < s, 'ge': lambda: x <= s,
    }[op]()


BINARY = {
    'add': torch.add, 'sub': torch.sub, 'mul': torch.mul, 'div': torch.div, 'pow': torch.pow,
    'maximum': torch.maximum, 'minimum': torch.minimum, 'eq': torch.eq, 'ne': torch.ne,
    'lt': torch.lt, 'le': torch.le, 'gt': torch.gt, 'ge': torch.ge,
}


def binary(op):
    fn = BINARY[op]

    def run(x, a):
        kw = {'alpha': a['alpha']} if 'alpha' in a else {}
        if 'scalar' in a:
            if a.get('scalarFirst'):
                return call_scalar_first(op, a['scalar'], x[0])
            return fn(x[0], a['scalar'], **kw)
        return fn(x[0], x[1], **kw)
    return run


def unary(fn):
    return lambda x, a: fn(x[0])


def dim_kw(a):
    kw = {}
    if 'dim' in a:
        kw['dim'] = a['dim']
    if 'keepdim' in a:
        kw['keepdim'] = a['keepdim']
    return kw


def reduction(fn):
    return lambda x, a: fn(x[0], **dim_kw(a))


def var_like(fn):
    def run(x, a):
        kw = dim_kw(a)
        if 'correction' in a:
            kw['correction'] = a['correction']
        if 'dim' not in kw:
            kw['dim'] = None
        return fn(x[0], **kw)
    return run


def extreme(fn):
    def run(x, a):
        if 'dim' in a:
            r = fn(x[0], a['dim'], keepdim=a.get('keepdim', False))
            return [r.values, r.indices]
        return fn(x[0])
    return run


def slice_op(x, a):
    dim = a['dim']
    return x[0][(slice(None),) * (dim % x[0].dim()) + (slice(a.get('start'), a.get('end'), a.get('step', 1)),)]


OPS = {
    **{op: binary(op) for op in BINARY},
    'neg': unary(torch.neg), 'exp': unary(torch.exp), 'log': unary(torch.log), 'sqrt': unary(torch.sqrt),
    'abs': unary(torch.abs), 'sign': unary(torch.sign), 'square': unary(torch.square),
    'rsqrt': unary(torch.rsqrt), 'reciprocal': unary(torch.reciprocal), 'sin': unary(torch.sin),
    'cos': unary(torch.cos), 'log1p': unary(torch.log1p), 'expm1': unary(torch.expm1),
    'erf': unary(torch.erf), 'floor': unary(torch.floor), 'ceil': unary(torch.ceil),
    'round': unary(torch.round),
    'clamp': lambda x, a: torch.clamp(x[0], a.get('min'), a.get('max')),
    'where': lambda x, a: torch.where(x[0], x[1] if 'x' not in a else a['x'], x[-1] if 'y' not in a else a['y']),
    'relu': unary(torch.relu),
    'leakyRelu': lambda x, a: F.leaky_relu(x[0], a.get('negativeSlope', 0.01)),
    'sigmoid': unary(torch.sigmoid), 'tanh': unary(torch.tanh),
    'softplus': lambda x, a: F.softplus(x[0], beta=a.get('beta', 1), threshold=a.get('threshold', 20)),
    'hardtanh': lambda x, a: F.hardtanh(x[0], a.get('minVal', -1.0), a.get('maxVal', 1.0)),
    'gelu': lambda x, a: F.gelu(x[0], approximate=a.get('approximate', 'none')),
    'silu': unary(F.silu),
    'elu': lambda x, a: F.elu(x[0], a.get('alpha', 1.0)),
    'softmax': lambda x, a: torch.softmax(x[0], a['dim']),
    'logSoftmax': lambda x, a: torch.log_softmax(x[0], a['dim']),
    'sum': reduction(torch.sum), 'mean': reduction(torch.mean), 'prod': reduction(torch.prod),
    'max': extreme(torch.max), 'min': extreme(torch.min),
    'argmax': reduction(torch.argmax), 'argmin': reduction(torch.argmin),
    'var': var_like(torch.var), 'std': var_like(torch.std),
    'logsumexp': lambda x, a: torch.logsumexp(x[0], a['dim'], keepdim=a.get('keepdim', False)),
    'all': lambda x, a: torch.all(x[0], **dim_kw(a)) if 'dim' in a else torch.all(x[0]),
    'any': lambda x, a: torch.any(x[0], **dim_kw(a)) if 'dim' in a else torch.any(x[0]),
    'reshape': lambda x, a: x[0].reshape(a['shape']),
    'view': lambda x, a: x[0].view(a['shape']),
    'permute': lambda x, a: x[0].permute(*a['dims']),
    'transpose': lambda x, a: x[0].transpose(a['dim0'], a['dim1']),
    'squeeze': lambda x, a: x[0].squeeze(a['dim']) if 'dim' in a else x[0].squeeze(),
    'unsqueeze': lambda x, a: x[0].unsqueeze(a['dim']),
    'expand': lambda x, a: x[0].expand(*a['shape']),
    'narrow': lambda x, a: x[0].narrow(a['dim'], a['start'], a['length']),
    'slice': slice_op,
    'select': lambda x, a: x[0].select(a['dim'], a['index']),
    'flatten': lambda x, a: torch.flatten(x[0], a.get('startDim', 0), a.get('endDim', -1)),
    'contiguous': lambda x, a: x[0].contiguous(),
    'to': lambda x, a: x[0].to(TORCH_DTYPES[a['dtype']]),
    'cat': lambda x, a: torch.cat(x, a.get('dim', 0)),
    'stack': lambda x, a: torch.stack(x, a.get('dim', 0)),
    'split': lambda x, a: list(torch.split(x[0], a['split'], a.get('dim', 0))),
    'chunk': lambda x, a: list(torch.chunk(x[0], a['chunks'], a.get('dim', 0))),
    # dendrite takes int32 or int64 indices; PyTorch wants int64 for gather/scatter.
    'indexSelect': lambda x, a: torch.index_select(x[0], a['dim'], x[1]),
    'gather': lambda x, a: torch.gather(x[0], a['dim'], x[1].long()),
    'scatterAdd': lambda x, a: torch.scatter_add(x[0], a['dim'], x[1].long(), x[2]),
    'matmul': lambda x, a: torch.matmul(x[0], x[1]),
    'arange': lambda x, a: torch.arange(*a['args']),
    'linspace': lambda x, a: torch.linspace(a['start'], a['end'], a['steps']),
    'eye': lambda x, a: torch.eye(*a['args']),
}


class Family:
    def __init__(self, name, seed):
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.cases = []

    def randn(self, *shape, scale=1.0):
        return self.rng.standard_normal(shape) * scale

    def uniform(self, lo, hi, *shape):
        return self.rng.uniform(lo, hi, shape)

    def ints(self, lo, hi, *shape):
        return self.rng.integers(lo, hi, shape)

    def add(self, op, name, inputs, args=None, smooth=True):
        """Runs `op` in PyTorch and records the case. smooth=False keeps it out of gradcheck
        (kinks, ties or non-finite values, where finite differences say nothing useful)."""
        args = args or {}
        leaves, xs, specs = [], [], []
        for inp in inputs:
            vals = inp.values
            if inp.dtype in FLOATS:
                vals = np.vectorize(lambda v: r9(v) if math.isfinite(v) else v, otypes=[np.float64])(vals.astype(np.float64))
            t = torch.tensor(vals, dtype=TORCH_DTYPES[inp.dtype])
            if inp.grad:
                t.requires_grad_(True)
            leaves.append(t)
            xs.append(apply_view(t, inp.view))
            spec = tensor_json(t)
            spec['requiresGrad'] = bool(inp.grad)
            if inp.view:
                spec['view'] = inp.view
            specs.append(spec)
        out = OPS[op](xs, args)
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        grad_outs, pairs = [], []
        for o in outs:
            if o.requires_grad:
                g = torch.tensor(np.vectorize(r9, otypes=[np.float64])(self.randn(*o.shape)), dtype=o.dtype).reshape(o.shape)
                grad_outs.append(tensor_json(g))
                pairs.append((o, g))
            else:
                grad_outs.append(None)
        if pairs:
            torch.autograd.backward([p[0] for p in pairs], [p[1] for p in pairs])
        grads = []
        for leaf, inp in zip(leaves, inputs):
            if not inp.grad:
                grads.append(None)
            else:
                grads.append(tensor_json(leaf.grad if leaf.grad is not None else torch.zeros_like(leaf)))
        case = {
            'name': f'{op}/{name}', 'op': op, 'args': args, 'smooth': smooth,
            'inputs': specs, 'outputs': [tensor_json(o) for o in outs],
        }
        if pairs:
            case['gradOutputs'] = grad_outs
            case['grads'] = grads
        self.cases.append(case)

    def write(self):
        os.makedirs(OUT_DIR, exist_ok=True)
        path = os.path.join(OUT_DIR, f'{self.name}.json')
        doc = {
            'generator': 'scripts/gen_fixtures.py',
            'torch': torch.__version__,
            'family': self.name,
            'cases': self.cases,
        }
        with open(path, 'w') as f:
            json.dump(doc, f, separators=(',', ':'), allow_nan=False)
            f.write('\n')
        print(f'{path}: {len(self.cases)} cases, {os.path.getsize(path)} bytes')


# Values that exercise NaN/Inf propagation and signed zeros.
SPECIALS = [NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -3.0, 1e-30, 100.0, -100.0]


def gen_elementwise():
    f = Family('elementwise', 1)
    fl = lambda shape, scale=1.0: f.randn(*shape, scale=scale)
    away0 = lambda *shape: f.uniform(0.5, 2.0, *shape) * np.where(f.rng.random(shape) < 0.5, -1, 1)

    # Arithmetic: same shape, broadcasting (gradients reduced to the input shapes), scalars both
    # ways, alpha, size-1 dims, odd sizes, and non-contiguous operands.
    for op in ['add', 'sub', 'mul', 'div']:
        b = (lambda *s: away0(*s)) if op == 'div' else (lambda *s: fl(s))
        f.add(op, 'same-shape', [Inp(fl((3, 13))), Inp(b(3, 13))])
        f.add(op, 'broadcast', [Inp(fl((2, 3, 5))), Inp(b(3, 1))])
        f.add(op, 'broadcast-both', [Inp(fl((1, 5))), Inp(b(4, 1))])
        f.add(op, 'rank0', [Inp(fl((7,))), Inp(b())])
        f.add(op, 'scalar', [Inp(fl((2, 9)))], {'scalar': 2.5})
        f.add(op, 'scalar-first', [Inp(b(2, 9))], {'scalar': -1.75, 'scalarFirst': True})
        f.add(op, 'transposed', [Inp(fl((5, 3)), view=[['transpose', 0, 1]]), Inp(b(3, 5))])
        f.add(op, 'stepped', [Inp(fl((4, 10)), view=[['slice', 1, 1, None, 2]]), Inp(b(5, 4), view=[['transpose', 0, 1]])])
        f.add(op, 'expanded', [Inp(fl((3, 1)), view=[['expand', [3, 6]]]), Inp(b(3, 6))])
        f.add(op, 'size1', [Inp(fl((1,))), Inp(b(1,))])
        f.add(op, 'float64', [Inp(fl((17,)), 'float64'), Inp(b(17,), 'float64')])
    for op in ['add', 'sub']:
        f.add(op, 'alpha', [Inp(fl((3, 7))), Inp(fl((7,)))], {'alpha': 2.5})
        f.add(op, 'alpha-scalar', [Inp(fl((3, 7)))], {'scalar': 3, 'alpha': -0.5})
    # Non-finite arithmetic.
    sa = np.array([INF, -INF, INF, NAN, 1.0, 0.0, -1.0, 0.0, INF, 5.0])
    sb = np.array([INF, INF, 1.0, 2.0, NAN, 0.0, 0.0, -0.0, 0.0, INF])
    for op in ['add', 'sub', 'mul', 'div']:
        f.add(op, 'nonfinite', [Inp(sa), Inp(sb)], smooth=False)

    # pow: tensor^scalar (negative bases with integer exponents), tensor^tensor, scalar^tensor,
    # the exponent-0 convention, and non-finite values.
    f.add('pow', 'square', [Inp(fl((3, 11)))], {'scalar': 2})
    f.add('pow', 'cube', [Inp(fl((13,)))], {'scalar': 3})
    f.add('pow', 'sqrt', [Inp(f.uniform(0.2, 3, 4, 6))], {'scalar': 0.5})
    f.add('pow', 'neg-exponent', [Inp(f.uniform(0.5, 2, 9))], {'scalar': -1.5})
    f.add('pow', 'zero-exponent', [Inp(fl((9,)))], {'scalar': 0})
    f.add('pow', 'tensor-tensor', [Inp(f.uniform(0.3, 2.5, 3, 5)), Inp(fl((3, 5)))])
    f.add('pow', 'broadcast', [Inp(f.uniform(0.3, 2.5, 2, 1, 4)), Inp(fl((3, 1)))])
    f.add('pow', 'scalar-first', [Inp(fl((2, 7)))], {'scalar': 2.5, 'scalarFirst': True})
    f.add('pow', 'nonfinite', [Inp([0.0, 0.0, -1.0, INF, NAN, 2.0, -8.0, 1.0]), Inp([0.0, -1.0, 0.5, -1.0, 0.0, INF, 1 / 3, NAN])], smooth=False)

    # maximum / minimum: broadcasting, ties (gradient split evenly) and NaN (propagates).
    for op in ['maximum', 'minimum']:
        f.add(op, 'same-shape', [Inp(fl((3, 13))), Inp(fl((3, 13)))])
        f.add(op, 'broadcast', [Inp(fl((4, 1, 5))), Inp(fl((3, 1)))])
        f.add(op, 'transposed', [Inp(fl((6, 4)), view=[['transpose', 0, 1]]), Inp(fl((4, 6)))])
        f.add(op, 'ties', [Inp(f.ints(-2, 3, 12).astype(float)), Inp(f.ints(-2, 3, 12).astype(float))], smooth=False)
        f.add(op, 'nan', [Inp([NAN, 1.0, NAN, -INF, INF, 2.0]), Inp([1.0, NAN, NAN, 0.0, 3.0, -INF])], smooth=False)

    # Unary math: a body-and-tail sized random case (39 elements), a strided case, and the
    # special values (NaN/Inf/signed zero/domain edges).
    domains = {
        'neg': None, 'exp': (-4, 4), 'log': (0.05, 5), 'sqrt': (0.05, 5), 'abs': None, 'sign': None,
        'square': None, 'rsqrt': (0.1, 5), 'reciprocal': 'away0', 'sin': (-6, 6), 'cos': (-6, 6),
        'log1p': (-0.9, 5), 'expm1': (-4, 4), 'erf': (-3, 3), 'floor': (-5, 5), 'ceil': (-5, 5), 'round': (-5, 5),
    }
    for op, dom in domains.items():
        gen = (lambda *s: fl(s, 2.0)) if dom is None else (lambda *s: away0(*s)) if dom == 'away0' else (lambda *s, d=dom: f.uniform(d[0], d[1], *s))
        smooth = op not in ('floor', 'ceil', 'round', 'sign')
        f.add(op, 'body-tail', [Inp(gen(3, 13))], smooth=smooth)
        f.add(op, 'transposed', [Inp(gen(5, 4), view=[['transpose', 0, 1]])], smooth=smooth)
        f.add(op, 'float64', [Inp(gen(11), 'float64')], smooth=smooth)
        f.add(op, 'specials', [Inp(SPECIALS)], smooth=False)
    f.add('round', 'half-even', [Inp([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 3.5, -3.5])], smooth=False)
    for op in ['neg', 'abs', 'sign', 'square', 'floor', 'ceil', 'round']:
        f.add(op, 'int32', [Inp(f.ints(-9, 10, 11), 'int32')])
    for op in ['exp', 'sqrt', 'sin']:
        f.add(op, 'int-to-float', [Inp(f.ints(0, 5, 7), 'int32')])

    # clamp: min only, max only, both; values exactly at the bounds (gradient passes, as in
    # PyTorch); NaN passes through; integer tensors keep their dtype.
    x = fl((3, 11))
    x[0, :3] = [-0.5, 0.5, 0.0]
    f.add('clamp', 'both', [Inp(x)], {'min': -0.5, 'max': 0.5}, smooth=False)
    f.add('clamp', 'min-only', [Inp(fl((3, 11)))], {'min': 0.1})
    f.add('clamp', 'max-only', [Inp(fl((3, 11)))], {'max': -0.2})
    f.add('clamp', 'transposed', [Inp(fl((6, 5)), view=[['transpose', 0, 1]])], {'min': -1, 'max': 1})
    f.add('clamp', 'specials', [Inp(SPECIALS)], {'min': -2, 'max': 2}, smooth=False)
    f.add('clamp', 'int32', [Inp(f.ints(-9, 10, 12), 'int32')], {'min': -3, 'max': 4})
    f.add('clamp', 'min-above-max', [Inp(fl((19,)) * 3)], {'min': 1, 'max': -1}, smooth=False)

    # where: broadcasting over condition and both branches, scalar branches.
    f.add('where', 'same-shape', [Inp(f.rng.random((3, 7)) < 0.5, 'bool'), Inp(fl((3, 7))), Inp(fl((3, 7)))])
    f.add('where', 'broadcast', [Inp(f.rng.random((3, 1)) < 0.5, 'bool'), Inp(fl((1, 5))), Inp(fl((2, 3, 5)))])
    f.add('where', 'scalar-other', [Inp(f.rng.random((4, 5)) < 0.5, 'bool'), Inp(fl((4, 5)))], {'y': 0.0})
    f.add('where', 'scalar-self', [Inp(f.rng.random((4, 5)) < 0.5, 'bool'), Inp(fl((4, 5)))], {'x': -1.5})
    f.add('where', 'int-scalar-float', [Inp(f.rng.random((2, 5)) < 0.5, 'bool'), Inp(f.ints(-5, 5, 2, 5), 'int32')], {'y': 2.5})
    f.add('where', 'nan', [Inp([True, False, True, False], 'bool'), Inp([NAN, NAN, INF, 1.0]), Inp([1.0, 2.0, NAN, -INF])], smooth=False)

    # Comparisons: tensor/tensor, tensor/scalar, scalar/tensor, broadcasting, NaN, mixed dtypes.
    ci = f.ints(-3, 4, 3, 8).astype(float)
    cj = f.ints(-3, 4, 3, 8).astype(float)
    for op in ['eq', 'ne', 'lt', 'le', 'gt', 'ge']:
        f.add(op, 'same-shape', [Inp(ci), Inp(cj)])
        f.add(op, 'broadcast', [Inp(ci), Inp(cj[0])])
        f.add(op, 'scalar', [Inp(ci)], {'scalar': 1})
        f.add(op, 'scalar-first', [Inp(ci)], {'scalar': 0.5, 'scalarFirst': True})
        f.add(op, 'nan', [Inp([NAN, NAN, 1.0, INF, -INF, 0.0]), Inp([NAN, 1.0, NAN, INF, INF, -0.0])])
        f.add(op, 'int-float', [Inp(ci.astype(np.int32), 'int32'), Inp(cj + 0.5)])
        f.add(op, 'float32-float64', [Inp(ci), Inp(cj, 'float64')])
        f.add(op, 'int64-int32', [Inp(ci.astype(np.int64), 'int64'), Inp(cj.astype(np.int32), 'int32')])
        f.add(op, 'bool', [Inp([True, True, False, False], 'bool'), Inp([True, False, True, False], 'bool')])
        f.add(op, 'int-scalar-float', [Inp(ci.astype(np.int32), 'int32')], {'scalar': 0.5})

    # dtype promotion of arithmetic (torch.result_type).
    i32 = f.ints(-5, 6, 2, 5)
    i32b = f.ints(1, 6, 2, 5)
    for op in ['add', 'sub', 'mul', 'div']:
        f.add(op, 'int32-float32', [Inp(i32, 'int32'), Inp(fl((2, 5)))])
        f.add(op, 'int32-int32', [Inp(i32, 'int32'), Inp(i32b, 'int32')])
        f.add(op, 'int64-int32', [Inp(i32, 'int64'), Inp(i32b, 'int32')])
        f.add(op, 'uint8-int32', [Inp(np.abs(i32), 'uint8'), Inp(i32b, 'int32')])
        f.add(op, 'float32-float64', [Inp(fl((2, 5))), Inp(fl((2, 5)), 'float64')])
        f.add(op, 'int32-scalar-int', [Inp(i32, 'int32')], {'scalar': 3})
        f.add(op, 'int32-scalar-float', [Inp(i32, 'int32')], {'scalar': 2.5})
        if op != 'sub':  # PyTorch refuses `-` on bool tensors
            f.add(op, 'bool-scalar-int', [Inp(i32 > 0, 'bool')], {'scalar': 2})
            f.add(op, 'bool-int32', [Inp(i32 > 0, 'bool'), Inp(i32b, 'int32')])
            f.add(op, 'bool-float32', [Inp(i32 > 0, 'bool'), Inp(fl((2, 5)))])
    for op in ['add', 'mul', 'div']:
        f.add(op, 'bool-bool', [Inp(i32 > 0, 'bool'), Inp(i32b > 2, 'bool')])
    # Empty tensors (a size-0 dim) go through every kernel without touching memory.
    f.add('add', 'empty', [Inp(np.zeros((2, 0))), Inp(np.zeros((1, 0)))])
    f.add('mul', 'empty-broadcast', [Inp(np.zeros((0, 3))), Inp(fl((3,)))])
    f.add('exp', 'empty', [Inp(np.zeros((0, 3)))])
    f.add('clamp', 'empty', [Inp(np.zeros((3, 0)))], {'min': 0})
    f.add('div', 'int32-by-zero', [Inp([1, 0, -1, 7], 'int32'), Inp([0, 0, 0, 2], 'int32')])
    # A 0-d tensor takes part like a scalar: it changes the result type only when it is of a
    # higher category (bool < integer < float) than the dimensioned operand.
    f.add('add', 'float32-rank0-float64', [Inp(fl((2, 3))), Inp(np.array(1.5), 'float64')])
    f.add('mul', 'rank0-float64-float32', [Inp(np.array(-2.0), 'float64'), Inp(fl((2, 3)))])
    f.add('add', 'int32-rank0-int64', [Inp(i32, 'int32'), Inp(np.array(7), 'int64')])
    f.add('sub', 'int32-rank0-float64', [Inp(i32, 'int32'), Inp(np.array(0.25), 'float64')])
    f.add('add', 'uint8-rank0-int64', [Inp(np.abs(i32), 'uint8'), Inp(np.array(3), 'int64')])
    f.add('add', 'rank0-float32-rank0-float64', [Inp(np.array(1.25)), Inp(np.array(0.5), 'float64')])
    f.add('maximum', 'float32-rank0-float64', [Inp(fl((2, 3))), Inp(np.array(0.1), 'float64')])
    f.add('pow', 'int32-scalar', [Inp(i32, 'int32')], {'scalar': 2})
    f.add('pow', 'int32-int32', [Inp(i32, 'int32'), Inp(np.abs(i32b) % 4, 'int32')])
    f.add('maximum', 'int32-float32', [Inp(i32, 'int32'), Inp(fl((2, 5)))])
    f.add('minimum', 'int64', [Inp(i32, 'int64'), Inp(i32b, 'int64')])
    f.write()


def gen_activation():
    f = Family('activation', 2)
    fl = lambda shape, scale=1.0: f.randn(*shape, scale=scale)

    def with_kinks(shape, scale, kinks):
        x = fl(shape, scale)
        flat = x.reshape(-1)
        flat[:len(kinks)] = kinks
        return x

    rows = [
        ('relu', {}, [0.0]),
        ('leakyRelu', {}, [0.0]),
        ('leakyRelu', {'negativeSlope': 0.2}, [0.0]),
        ('sigmoid', {}, []),
        ('tanh', {}, []),
        ('softplus', {}, []),
        ('softplus', {'beta': 2, 'threshold': 5}, [2.5, 2.4999, 2.5001]),
        ('hardtanh', {}, [-1.0, 1.0]),
        ('hardtanh', {'minVal': -0.5, 'maxVal': 2}, [-0.5, 2.0]),
        ('gelu', {}, []),
        ('gelu', {'approximate': 'tanh'}, []),
        ('silu', {}, []),
        ('elu', {}, [0.0]),
        ('elu', {'alpha': 0.5}, [0.0]),
    ]
    for op, args, kinks in rows:
        tag = '-'.join(f'{k}={v}' for k, v in args.items()) or 'default'
        f.add(op, f'{tag}/body-tail', [Inp(fl((4, 11), 3.0))], args)
        if kinks:
            f.add(op, f'{tag}/kinks', [Inp(with_kinks((2, 9), 3.0, kinks))], args, smooth=False)
        f.add(op, f'{tag}/transposed', [Inp(fl((6, 4), 3.0), view=[['transpose', 0, 1]])], args)
        f.add(op, f'{tag}/float64', [Inp(fl((9,), 3.0), 'float64')], args)
        f.add(op, f'{tag}/specials', [Inp(SPECIALS + [30.0, -30.0, 90.0, -90.0])], args, smooth=False)
    f.add('relu', 'int32', [Inp(f.ints(-5, 6, 9), 'int32', grad=False)])
    f.add('sigmoid', 'large', [Inp(fl((50, 23), 4.0))])

    # softmax / log-softmax: every dim, rows that would overflow a naive exp, -inf entries,
    # all -inf rows (NaN, as PyTorch), NaN rows, strided input.
    for op in ['softmax', 'logSoftmax']:
        x = fl((3, 5), 2.0)
        for d in [0, 1, -1]:
            f.add(op, f'dim{d}', [Inp(x)], {'dim': d})
        f.add(op, '3d-dim1', [Inp(fl((2, 3, 4), 2.0))], {'dim': 1})
        f.add(op, '3d-dim0', [Inp(fl((2, 3, 4), 2.0))], {'dim': 0})
        f.add(op, 'large-row', [Inp([[1000.0, 1001.0, 1009.0], [-1000.0, -1001.0, -1009.0]])], {'dim': 1})
        f.add(op, 'large-col', [Inp([[1000.0, -5.0], [1001.0, -6.0], [1009.0, 3.0]])], {'dim': 0})
        f.add(op, 'long-row', [Inp(fl((2, 37), 3.0))], {'dim': 1})
        f.add(op, 'size1', [Inp(fl((4, 1)))], {'dim': 1})
        f.add(op, 'transposed', [Inp(fl((5, 3)), view=[['transpose', 0, 1]])], {'dim': 1})
        f.add(op, 'neg-inf', [Inp([[0.5, -INF, 1.5, -INF], [-INF, -INF, -INF, -INF], [NAN, 1.0, 2.0, 3.0]])], {'dim': 1}, smooth=False)
        f.add(op, 'float64', [Inp(fl((3, 6), 2.0), 'float64')], {'dim': -1})
        f.add(op, 'rank0', [Inp(np.array(1.5))], {'dim': 0})
        f.add(op, 'empty', [Inp(np.zeros((0, 4)))], {'dim': 1})
    f.write()


def gen_reduce():
    f = Family('reduce', 3)
    fl = lambda *shape: f.randn(*shape)
    x3 = fl(2, 3, 5)
    for op in ['sum', 'mean']:
        f.add(op, 'full', [Inp(fl(3, 13))])
        f.add(op, 'dim0', [Inp(x3)], {'dim': 0})
        f.add(op, 'dim1', [Inp(x3)], {'dim': 1})
        f.add(op, 'dim-1-keepdim', [Inp(x3)], {'dim': -1, 'keepdim': True})
        f.add(op, 'dims02', [Inp(x3)], {'dim': [0, 2]})
        f.add(op, 'dims12-keepdim', [Inp(x3)], {'dim': [1, 2], 'keepdim': True})
        f.add(op, 'transposed', [Inp(fl(5, 4), view=[['transpose', 0, 1]])], {'dim': 1})
        f.add(op, 'stepped', [Inp(fl(3, 9), view=[['slice', 1, 0, None, 3]])], {'dim': 0})
        f.add(op, 'expanded', [Inp(fl(3, 1), view=[['expand', [3, 4]]])], {'dim': 1})
        f.add(op, 'size1-dim', [Inp(fl(4, 1, 3))], {'dim': 1})
        f.add(op, 'long', [Inp(fl(2, 300))], {'dim': 1})
        f.add(op, 'float64', [Inp(fl(4, 5), 'float64')], {'dim': 0})
        f.add(op, 'nan-inf', [Inp([[1.0, NAN, 2.0], [INF, 1.0, 2.0], [INF, -INF, 0.0]])], {'dim': 1}, smooth=False)
    f.add('sum', 'int32', [Inp(f.ints(-9, 10, 3, 4), 'int32')], {'dim': 1})
    f.add('sum', 'empty-dim0', [Inp(np.zeros((0, 3)))], {'dim': 0})
    f.add('sum', 'empty-dim1', [Inp(np.zeros((0, 3)))], {'dim': 1})
    f.add('sum', 'empty-full', [Inp(np.zeros((2, 0)))])
    f.add('mean', 'empty', [Inp(np.zeros((0, 2)))], {'dim': 0}, smooth=False)
    f.add('prod', 'empty', [Inp(np.zeros((3, 0)))], {'dim': 1})
    f.add('logsumexp', 'empty', [Inp(np.zeros((2, 0)))], {'dim': 1})
    f.add('sum', 'bool', [Inp(f.rng.random((3, 4)) < 0.5, 'bool')])
    f.add('sum', 'uint8', [Inp(f.ints(200, 256, 5), 'uint8')])

    pos = lambda *s: f.uniform(0.5, 1.5, *s) * np.where(f.rng.random(s) < 0.3, -1, 1)
    f.add('prod', 'full', [Inp(pos(2, 7))])
    f.add('prod', 'dim1', [Inp(pos(3, 5))], {'dim': 1})
    f.add('prod', 'dim0-keepdim', [Inp(pos(3, 5))], {'dim': 0, 'keepdim': True})
    f.add('prod', 'transposed', [Inp(pos(4, 3), view=[['transpose', 0, 1]])], {'dim': 1})
    f.add('prod', 'int32', [Inp(f.ints(-3, 4, 2, 5), 'int32')], {'dim': 1})

    for op in ['max', 'min']:
        f.add(op, 'full', [Inp(fl(3, 13))])
        f.add(op, 'full-ties', [Inp([[1.0, 3.0, 3.0], [-2.0, 3.0, 0.0]])], smooth=False)
        f.add(op, 'full-nan', [Inp([1.0, NAN, 3.0, NAN, -INF])], smooth=False)
        f.add(op, 'dim1', [Inp(x3)], {'dim': 1})
        f.add(op, 'dim0-keepdim', [Inp(x3)], {'dim': 0, 'keepdim': True})
        f.add(op, 'dim-1', [Inp(fl(4, 37))], {'dim': -1})
        f.add(op, 'transposed', [Inp(fl(5, 4), view=[['transpose', 0, 1]])], {'dim': 1})
        f.add(op, 'dim-nan', [Inp([[1.0, NAN, 3.0], [2.0, 5.0, -INF], [NAN, 0.0, INF]])], {'dim': 1}, smooth=False)
        f.add(op, 'int32', [Inp(f.ints(-50, 50, 3, 4), 'int32')], {'dim': 0})
        f.add(op, 'float64', [Inp(fl(3, 4), 'float64')])
    for op in ['argmax', 'argmin']:
        f.add(op, 'full', [Inp(fl(3, 13))])
        f.add(op, 'dim1', [Inp(x3)], {'dim': 1})
        f.add(op, 'dim0-keepdim', [Inp(x3)], {'dim': 0, 'keepdim': True})
        f.add(op, 'ties-first', [Inp([[1.0, 3.0, 3.0, -1.0, -1.0], [2.0, 2.0, 0.0, 0.0, 2.0]])], {'dim': 1})
        f.add(op, 'nan', [Inp([[1.0, NAN, 3.0], [2.0, 5.0, -INF]])], {'dim': 1})
        f.add(op, 'transposed', [Inp(fl(5, 4), view=[['transpose', 0, 1]])], {'dim': 1})
        f.add(op, 'int32', [Inp(f.ints(-50, 50, 3, 4), 'int32')], {'dim': 1})

    for op in ['var', 'std']:
        f.add(op, 'full', [Inp(fl(3, 13))])
        f.add(op, 'full-correction0', [Inp(fl(3, 13))], {'correction': 0})
        f.add(op, 'dim1', [Inp(x3)], {'dim': 1})
        f.add(op, 'dim1-correction0-keepdim', [Inp(x3)], {'dim': 1, 'correction': 0, 'keepdim': True})
        f.add(op, 'dim0-correction1-keepdim', [Inp(x3)], {'dim': 0, 'correction': 1, 'keepdim': True})
        f.add(op, 'dims02', [Inp(x3)], {'dim': [0, 2]})
        f.add(op, 'transposed', [Inp(fl(6, 4), view=[['transpose', 0, 1]])], {'dim': 1})
        f.add(op, 'float64', [Inp(fl(4, 6), 'float64')], {'dim': -1, 'correction': 0})
        f.add(op, 'constant-rows', [Inp([[2.0, 2.0, 2.0], [1.0, -1.0, 0.5]])], {'dim': 1}, smooth=False)
        f.add(op, 'single-element', [Inp([[1.5], [-2.0]])], {'dim': 1}, smooth=False)

    f.add('logsumexp', 'dim1', [Inp(x3)], {'dim': 1})
    f.add('logsumexp', 'dim-1-keepdim', [Inp(x3)], {'dim': -1, 'keepdim': True})
    f.add('logsumexp', 'dims01', [Inp(x3)], {'dim': [0, 1]})
    f.add('logsumexp', 'large', [Inp([[1000.0, 1001.0, 1009.0], [-1000.0, -1001.0, -1009.0]])], {'dim': 1})
    f.add('logsumexp', 'transposed', [Inp(fl(5, 4), view=[['transpose', 0, 1]])], {'dim': 1})
    f.add('logsumexp', 'inf', [Inp([[-INF, -INF, -INF], [INF, 1.0, 2.0], [-INF, 0.0, 1.0]])], {'dim': 1}, smooth=False)
    f.add('logsumexp', 'float64', [Inp(fl(3, 7), 'float64')], {'dim': 0})

    b = f.rng.random((3, 5)) < 0.6
    b[0] = True
    b[1] = False
    for op in ['all', 'any']:
        f.add(op, 'empty', [Inp(np.zeros((2, 0)) > 0, 'bool')], {'dim': 1})
        f.add(op, 'full-bool', [Inp(b, 'bool')])
        f.add(op, 'dim1-bool', [Inp(b, 'bool')], {'dim': 1})
        f.add(op, 'dim0-keepdim', [Inp(b, 'bool')], {'dim': 0, 'keepdim': True})
        f.add(op, 'float', [Inp([[0.0, 1.0, NAN], [2.0, -0.0, 3.0]], grad=False)], {'dim': 1})
        f.add(op, 'int32', [Inp([[0, 1, 2], [3, 4, 5]], 'int32')], {'dim': 1})
        f.add(op, 'transposed', [Inp(b, 'bool', view=[['transpose', 0, 1]])], {'dim': 1})
    f.write()


def gen_shape():
    f = Family('shape', 4)
    fl = lambda *shape: f.randn(*shape)
    x = fl(2, 3, 4)
    f.add('reshape', 'basic', [Inp(x)], {'shape': [6, 4]})
    f.add('reshape', 'infer', [Inp(x)], {'shape': [4, -1]})
    f.add('reshape', 'transposed-copy', [Inp(fl(3, 4), view=[['transpose', 0, 1]])], {'shape': [12]})
    f.add('reshape', 'stepped', [Inp(fl(3, 8), view=[['slice', 1, 1, None, 2]])], {'shape': [2, 6]})
    f.add('reshape', 'rank0', [Inp(np.array(2.5))], {'shape': [1, 1]})
    f.add('view', 'basic', [Inp(x)], {'shape': [3, 8]})
    f.add('view', 'infer', [Inp(x)], {'shape': [-1]})
    f.add('view', 'noncontiguous-compatible', [Inp(fl(4, 2, 3), view=[['transpose', 0, 1]])], {'shape': [2, 4, 3]})
    f.add('view', 'split-dim-of-transposed', [Inp(fl(6, 4), view=[['transpose', 0, 1]])], {'shape': [4, 2, 3]})
    f.add('permute', 'basic', [Inp(x)], {'dims': [2, 0, 1]})
    f.add('permute', 'negative', [Inp(x)], {'dims': [-1, -3, -2]})
    f.add('transpose', 'basic', [Inp(x)], {'dim0': 0, 'dim1': 2})
    f.add('transpose', 'negative', [Inp(x)], {'dim0': -1, 'dim1': -2})
    y = fl(1, 3, 1, 2)
    f.add('squeeze', 'all', [Inp(y)])
    f.add('squeeze', 'dim', [Inp(y)], {'dim': 2})
    f.add('squeeze', 'non1-dim', [Inp(y)], {'dim': 1})
    f.add('squeeze', 'negative', [Inp(y)], {'dim': -4})
    f.add('unsqueeze', 'front', [Inp(fl(3, 4))], {'dim': 0})
    f.add('unsqueeze', 'back', [Inp(fl(3, 4))], {'dim': -1})
    f.add('unsqueeze', 'middle-of-transposed', [Inp(fl(3, 4), view=[['transpose', 0, 1]])], {'dim': 1})
    f.add('expand', 'basic', [Inp(fl(3, 1))], {'shape': [3, 5]})
    f.add('expand', 'new-leading', [Inp(fl(1, 4))], {'shape': [2, 3, 4]})
    f.add('expand', 'minus1', [Inp(fl(3, 1))], {'shape': [2, -1, 4]})
    f.add('narrow', 'basic', [Inp(fl(5, 6))], {'dim': 1, 'start': 2, 'length': 3})
    f.add('narrow', 'dim0', [Inp(fl(5, 6))], {'dim': 0, 'start': 1, 'length': 4})
    f.add('narrow', 'negative-start', [Inp(fl(5, 6))], {'dim': -1, 'start': -4, 'length': 2})
    f.add('slice', 'step2', [Inp(fl(4, 9))], {'dim': 1, 'start': 1, 'end': 8, 'step': 2})
    f.add('slice', 'step3-open', [Inp(fl(10, 3))], {'dim': 0, 'start': 0, 'end': None, 'step': 3})
    f.add('slice', 'negative', [Inp(fl(4, 9))], {'dim': -1, 'start': -6, 'end': -1, 'step': 1})
    f.add('slice', 'clamped-end', [Inp(fl(4, 9))], {'dim': 1, 'start': 5, 'end': 100, 'step': 2})
    f.add('slice', 'of-transposed', [Inp(fl(9, 4), view=[['transpose', 0, 1]])], {'dim': 1, 'start': 2, 'end': None, 'step': 2})
    f.add('select', 'basic', [Inp(x)], {'dim': 1, 'index': 2})
    f.add('select', 'negative', [Inp(x)], {'dim': -1, 'index': -1})
    f.add('select', 'dim0', [Inp(x)], {'dim': 0, 'index': 1})
    f.add('select', '1d-to-0d', [Inp(fl(5))], {'dim': 0, 'index': 3})
    f.add('select', 'of-transposed', [Inp(fl(4, 3), view=[['transpose', 0, 1]])], {'dim': 1, 'index': 2})
    f.add('flatten', 'all', [Inp(x)])
    f.add('flatten', 'range', [Inp(fl(2, 3, 4, 5))], {'startDim': 1, 'endDim': 2})
    f.add('flatten', 'transposed', [Inp(fl(3, 4), view=[['transpose', 0, 1]])])
    f.add('flatten', 'rank0', [Inp(np.array(1.25))])
    f.add('contiguous', 'transposed', [Inp(fl(3, 5), view=[['transpose', 0, 1]])])
    f.add('contiguous', 'stepped', [Inp(fl(3, 9), view=[['slice', 1, 0, None, 4]])])
    f.add('contiguous', 'expanded', [Inp(fl(1, 4), view=[['expand', [3, 4]]])])
    f.add('contiguous', 'already', [Inp(fl(2, 3))])
    # Casts: truncation toward zero, uint8 keeping its values (not 0/1), bool as != 0, and
    # gradients flowing between float types.
    f.add('to', 'float32-to-int32', [Inp(f.uniform(-9, 9, 11))], {'dtype': 'int32'})
    f.add('to', 'float32-to-uint8', [Inp(f.uniform(0, 255, 11))], {'dtype': 'uint8'})
    f.add('to', 'int64-to-uint8', [Inp(f.ints(0, 256, 9), 'int64')], {'dtype': 'uint8'})
    f.add('to', 'int32-to-uint8', [Inp(f.ints(0, 256, 9), 'int32')], {'dtype': 'uint8'})
    f.add('to', 'float32-to-bool', [Inp([0.0, -0.0, 0.5, -2.0, NAN, INF])], {'dtype': 'bool'})
    f.add('to', 'uint8-to-bool', [Inp([0, 1, 2, 255], 'uint8')], {'dtype': 'bool'})
    f.add('to', 'bool-to-float32', [Inp([True, False, True], 'bool')], {'dtype': 'float32'})
    f.add('to', 'int32-to-float64', [Inp(f.ints(-99, 99, 7), 'int32')], {'dtype': 'float64'})
    # (float32 outputs leave finite differences in float64 nothing to resolve)
    f.add('to', 'float64-to-float32', [Inp(fl(3, 4), 'float64')], {'dtype': 'float32'}, smooth=False)
    f.add('to', 'float32-to-float64-transposed', [Inp(fl(3, 4), view=[['transpose', 0, 1]])], {'dtype': 'float64'})
    f.add('contiguous', 'int32-permuted', [Inp(f.ints(0, 9, 2, 3, 4), 'int32', view=[['permute', [2, 0, 1]]])])
    f.write()


def gen_join():
    f = Family('join', 5)
    fl = lambda *shape: f.randn(*shape)
    f.add('cat', 'dim0', [Inp(fl(2, 3)), Inp(fl(4, 3)), Inp(fl(1, 3))])
    f.add('cat', 'dim1', [Inp(fl(2, 3)), Inp(fl(2, 5))], {'dim': 1})
    f.add('cat', 'dim-1-3d', [Inp(fl(2, 3, 1)), Inp(fl(2, 3, 4))], {'dim': -1})
    f.add('cat', 'noncontiguous', [Inp(fl(3, 2), view=[['transpose', 0, 1]]), Inp(fl(2, 8), view=[['slice', 1, 0, None, 2]])], {'dim': 1})
    f.add('cat', 'single', [Inp(fl(3, 2))])
    f.add('cat', 'int32-float32', [Inp(f.ints(-5, 5, 2, 2), 'int32'), Inp(fl(1, 2))])
    f.add('cat', 'int32-int64', [Inp(f.ints(-5, 5, 2, 2), 'int32'), Inp(f.ints(-5, 5, 1, 2), 'int64')])
    f.add('cat', 'float32-float64', [Inp(fl(2, 2)), Inp(fl(1, 2), 'float64')])
    f.add('cat', 'empty-rows', [Inp(np.zeros((0, 3))), Inp(fl(2, 3))])
    f.add('cat', 'empty-1d', [Inp(np.zeros(0)), Inp(fl(3))])
    f.add('stack', 'dim0', [Inp(fl(2, 3)), Inp(fl(2, 3)), Inp(fl(2, 3))])
    f.add('stack', 'dim1', [Inp(fl(2, 3)), Inp(fl(2, 3))], {'dim': 1})
    f.add('stack', 'dim-1', [Inp(fl(2, 3)), Inp(fl(2, 3))], {'dim': -1})
    f.add('stack', 'transposed', [Inp(fl(3, 2), view=[['transpose', 0, 1]]), Inp(fl(2, 3))], {'dim': 2})
    f.add('stack', 'rank0', [Inp(np.array(1.0)), Inp(np.array(2.0))])
    f.add('split', 'even', [Inp(fl(6, 2))], {'split': 2})
    f.add('split', 'uneven', [Inp(fl(7, 2))], {'split': 3})
    f.add('split', 'sizes-dim1', [Inp(fl(2, 7))], {'split': [1, 4, 2], 'dim': 1})
    f.add('split', 'larger-than-dim', [Inp(fl(3, 2))], {'split': 5})
    f.add('split', 'transposed', [Inp(fl(5, 3), view=[['transpose', 0, 1]])], {'split': 2, 'dim': 1})
    f.add('chunk', 'even', [Inp(fl(6, 2))], {'chunks': 3})
    f.add('chunk', 'uneven', [Inp(fl(7, 2))], {'chunks': 3})
    f.add('chunk', 'dim1', [Inp(fl(2, 5))], {'chunks': 2, 'dim': 1})
    f.add('chunk', 'more-than-size', [Inp(fl(3, 2))], {'chunks': 5})
    f.add('chunk', 'fewer-pieces', [Inp(fl(6))], {'chunks': 4})
    f.write()


def gen_indexing():
    f = Family('indexing', 6)
    fl = lambda *shape: f.randn(*shape)
    i64 = lambda v: Inp(np.asarray(v), 'int64')
    i32 = lambda v: Inp(np.asarray(v), 'int32')
    f.add('indexSelect', 'dim0', [Inp(fl(5, 3)), i64([4, 0, 2])], {'dim': 0})
    f.add('indexSelect', 'dim1-repeated', [Inp(fl(3, 5)), i64([1, 1, 4, 0, 1])], {'dim': 1})
    f.add('indexSelect', 'int32-index', [Inp(fl(4, 2, 3)), i32([3, 1])], {'dim': 0})
    f.add('indexSelect', 'dim-1', [Inp(fl(2, 3, 4)), i64([3, 0])], {'dim': -1})
    f.add('indexSelect', 'transposed', [Inp(fl(4, 5), view=[['transpose', 0, 1]]), i64([0, 3, 3])], {'dim': 0})
    f.add('indexSelect', 'empty-index', [Inp(fl(3, 2)), i64(np.zeros(0, dtype=np.int64))], {'dim': 0})
    f.add('indexSelect', 'rank0-index', [Inp(fl(3, 2)), i64(1)], {'dim': 0})
    f.add('indexSelect', 'int32-values', [Inp(f.ints(0, 9, 4, 3), 'int32'), i64([2, 0])], {'dim': 0})
    f.add('gather', 'dim0', [Inp(fl(3, 4)), i64([[0, 1, 2, 0], [2, 2, 1, 0]])], {'dim': 0})
    f.add('gather', 'dim1', [Inp(fl(3, 4)), i64([[3, 0], [1, 1], [0, 2]])], {'dim': 1})
    f.add('gather', '3d-dim2', [Inp(fl(2, 3, 4)), i64(f.ints(0, 4, 2, 3, 5))], {'dim': 2})
    f.add('gather', 'smaller-index', [Inp(fl(4, 5)), i32([[4, 0], [2, 2]])], {'dim': 1})
    f.add('gather', 'transposed', [Inp(fl(4, 3), view=[['transpose', 0, 1]]), i64([[0, 3], [1, 1], [2, 0]])], {'dim': 1})
    f.add('scatterAdd', 'dim0', [Inp(fl(3, 4)), i64([[0, 1, 2, 0], [0, 2, 1, 0]]), Inp(fl(2, 4))], {'dim': 0})
    f.add('scatterAdd', 'dim1-repeated', [Inp(fl(3, 5)), i64([[0, 0, 4], [1, 2, 1], [3, 3, 3]]), Inp(fl(3, 3))], {'dim': 1})
    # PyTorch 1.13 cannot differentiate src when it is larger than index: only self's gradient.
    f.add('scatterAdd', 'src-larger', [Inp(fl(2, 4)), i64([[1, 0], [3, 3]]), Inp(fl(3, 5), grad=False)], {'dim': 1})
    f.add('scatterAdd', 'int32-index', [Inp(fl(4, 2)), i32([[3, 0], [0, 0]]), Inp(fl(2, 2))], {'dim': 0})
    f.write()


def gen_linalg():
    f = Family('linalg', 7)
    fl = lambda *shape: f.randn(*shape)
    f.add('matmul', '1d-1d', [Inp(fl(7)), Inp(fl(7))])
    f.add('matmul', '2d-1d', [Inp(fl(5, 7)), Inp(fl(7))])
    f.add('matmul', '1d-2d', [Inp(fl(7)), Inp(fl(7, 3))])
    f.add('matmul', '1d-3d', [Inp(fl(4)), Inp(fl(2, 4, 3))])
    f.add('matmul', '3d-1d', [Inp(fl(2, 3, 4)), Inp(fl(4))])
    for n in [1, 7, 17]:
        f.add('matmul', f'square-{n}', [Inp(fl(n, n)), Inp(fl(n, n))])
    f.add('matmul', 'rect-65', [Inp(fl(9, 65)), Inp(fl(65, 5))])
    f.add('matmul', 'rect-65-out', [Inp(fl(65, 3)), Inp(fl(3, 17))])
    f.add('matmul', 'size1-inner', [Inp(fl(4, 1)), Inp(fl(1, 6))])
    f.add('matmul', 'batched', [Inp(fl(3, 4, 5)), Inp(fl(3, 5, 2))])
    f.add('matmul', 'batched-broadcast-rhs', [Inp(fl(2, 3, 4)), Inp(fl(4, 5))])
    f.add('matmul', 'batched-broadcast-lhs', [Inp(fl(3, 4)), Inp(fl(2, 4, 5))])
    f.add('matmul', 'batched-broadcast-both', [Inp(fl(2, 1, 3, 4)), Inp(fl(3, 4, 2))])
    f.add('matmul', 'batched-size1-batch', [Inp(fl(1, 3, 4)), Inp(fl(2, 4, 5))])
    f.add('matmul', 'transposed-lhs', [Inp(fl(7, 5), view=[['transpose', 0, 1]]), Inp(fl(7, 3))])
    f.add('matmul', 'transposed-rhs', [Inp(fl(5, 7)), Inp(fl(3, 7), view=[['transpose', 0, 1]])])
    f.add('matmul', 'transposed-both', [Inp(fl(7, 5), view=[['transpose', 0, 1]]), Inp(fl(3, 7), view=[['transpose', 0, 1]])])
    f.add('matmul', 'stepped', [Inp(fl(4, 12), view=[['slice', 1, 0, None, 2]]), Inp(fl(6, 9), view=[['slice', 1, 1, None, 3]])])
    f.add('matmul', 'expanded-batch', [Inp(fl(1, 3, 4), view=[['expand', [2, 3, 4]]]), Inp(fl(2, 4, 3))])
    f.add('matmul', 'batched-transposed', [Inp(fl(2, 5, 3), view=[['transpose', 1, 2]]), Inp(fl(2, 5, 4))])
    f.add('matmul', 'permuted-batch', [Inp(fl(3, 2, 4), view=[['permute', [1, 0, 2]]]), Inp(fl(2, 4, 2))])
    f.add('matmul', 'float64', [Inp(fl(5, 6), 'float64'), Inp(fl(6, 4), 'float64')])
    f.add('matmul', 'nonfinite', [Inp([[INF, 1.0], [NAN, 0.0], [1.0, 2.0]]), Inp([[1.0, 0.0], [2.0, -INF]])], smooth=False)
    f.add('matmul', 'empty-rows', [Inp(np.zeros((0, 3))), Inp(fl(3, 4))])
    f.add('matmul', 'empty-inner', [Inp(np.zeros((3, 0))), Inp(np.zeros((0, 4)))])
    f.add('matmul', 'int64', [Inp(f.ints(-4, 5, 3, 4), 'int64'), Inp(f.ints(-4, 5, 4, 2), 'int64')])
    f.write()


def gen_creation():
    f = Family('creation', 8)
    for args in [[5], [2, 9], [1, 10, 3], [10, 1, -3], [-4, 4]]:
        f.add('arange', 'int-' + '_'.join(map(str, args)), [], {'args': args})
    for args in [[0, 1, 0.1], [-1.5, 2.25, 0.5], [3.0, -1.0, -0.75], [0.5, 7]]:
        f.add('arange', 'float-' + '_'.join(map(str, args)), [], {'args': args})
    for start, end, steps in [(0, 1, 5), (-1, 1, 7), (2, -3, 11), (3, 3, 4), (1.5, 9, 1), (0, 10, 0), (-5, 5, 33)]:
        f.add('linspace', f'{start}_{end}_{steps}', [], {'start': start, 'end': end, 'steps': steps})
    for args in [[1], [3], [2, 4], [5, 3]]:
        f.add('eye', '_'.join(map(str, args)), [], {'args': args})
    f.write()


def main():
    torch.manual_seed(0)
    gens = [gen_elementwise, gen_activation, gen_reduce, gen_shape, gen_join, gen_indexing, gen_linalg, gen_creation]
    want = set(sys.argv[1:])
    for g in gens:
        if not want or g.__name__[4:] in want:
            g()


if __name__ == '__main__':
    main()
