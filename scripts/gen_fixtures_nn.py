#!/usr/bin/python3
"""Reference values for the nn / optim / io tests, computed with PyTorch 1.13.

Run once with Debian's python (`/usr/bin/python3 scripts/gen_fixtures_nn.py`); the outputs under
test/fixtures/ are committed so the tests never need Python:

  nn_losses.json       every loss, per reduction and option set: output and input/target grads
  optim.json           five steps of every optimizer (several option sets, float32 and float64):
                       the gradient each step saw, the parameters after it, the final state
  lr_scheduler.json    lr (and momentum) sequences of every scheduler
  clip_grad.json       clip_grad_norm_ / clip_grad_value_ results
  safetensors/*.safetensors  files written by hand (JSON header + raw little-endian bytes, laid
                       out as the reference Rust writer does) and the values they hold
"""
import json
import math
import os
import struct

import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')


def det(shape, seed, scale=1.0, offset=0.0, dtype=torch.float64):
    """Deterministic values without any RNG: a scrambled sine pattern."""
    n = 1
    for s in shape:
        n *= s
    vals = [offset + scale * math.sin(seed * 12.9898 + i * 78.233 + (i * i) % 7) for i in range(n)]
    return torch.tensor(vals, dtype=dtype).reshape(shape)


def num(v):
    """JSON has no Infinity/NaN: those go as strings ('Infinity', '-Infinity', 'NaN'), which JS's Number() reads."""
    v = float(v)
    if math.isfinite(v):
        return v
    return 'NaN' if math.isnan(v) else ('Infinity' if v > 0 else '-Infinity')


def flat(t):
    return [num(v) for v in t.detach().reshape(-1).tolist()]


def enc(t):
    t = t.detach()
    if t.dtype in (torch.int32, torch.int64):
        return {'shape': list(t.shape), 'dtype': str(t.dtype).replace('torch.', ''), 'data': [int(v) for v in t.reshape(-1).tolist()]}
    return {'shape': list(t.shape), 'dtype': str(t.dtype).replace('torch.', ''), 'data': flat(t)}


def write_json(name, obj):
    path = os.path.join(ROOT, name)
    with open(path, 'w') as f:
        json.dump(obj, f, separators=(',', ':'), allow_nan=False)
        f.write('\n')
    print('wrote', path)


# ---- losses -------------------------------------------------------------------------------

def loss_cases():
    cases = []

    def add(name, fn, inputs, options, grad_of, reductions=('none', 'mean', 'sum')):
        for red in reductions:
            ts = {k: (v.clone().requires_grad_(k in grad_of) if v.is_floating_point() else v.clone()) for k, v in inputs.items()}
            out = fn(ts, red)
            upstream = det(list(out.shape), 99, dtype=out.dtype) if out.dim() > 0 else torch.tensor(1.0, dtype=out.dtype)
            out.backward(upstream)
            cases.append({
                'name': name,
                'fn': name.split(' ')[0],
                'reduction': red,
                'options': options,
                'inputs': {k: enc(v) for k, v in inputs.items()},
                'output': enc(out),
                'upstream': enc(upstream),
                'grads': {k: enc(ts[k].grad) for k in grad_of},
            })

    x = det([3, 4], 1)
    t = det([3, 4], 2)
    t[0, 1] = x[0, 1]  # a tie: L1's gradient there is sign(0) = 0
    add('mseLoss', lambda ts, r: F.mse_loss(ts['input'], ts['target'], reduction=r), {'input': x, 'target': t}, {}, ['input', 'target'])
    add('l1Loss', lambda ts, r: F.l1_loss(ts['input'], ts['target'], reduction=r), {'input': x, 'target': t}, {}, ['input', 'target'])
    for beta in (1.0, 0.5, 0.0):
        add('smoothL1Loss beta=%g' % beta, lambda ts, r, b=beta: F.smooth_l1_loss(ts['input'], ts['target'], reduction=r, beta=b),
            {'input': x * 1.5, 'target': t}, {'beta': beta}, ['input', 'target'])

    p = torch.sigmoid(det([3, 4], 3, 2.0))
    p[0, 0] = 0.0  # exact 0 and 1: the logs clamp at -100
    p[1, 1] = 1.0
    y = torch.sigmoid(det([3, 4], 4, 3.0))
    y[2, 3] = 1.0
    w = det([4], 5, 0.5, 1.0)
    add('binaryCrossEntropy', lambda ts, r: F.binary_cross_entropy(ts['input'], ts['target'], reduction=r),
        {'input': p, 'target': y}, {}, ['input', 'target'])
    add('binaryCrossEntropy weight', lambda ts, r: F.binary_cross_entropy(ts['input'], ts['target'], weight=ts['weight'], reduction=r),
        {'input': p, 'target': y, 'weight': w}, {'weight': 'weight'}, ['input'])

    z = det([3, 4], 6, 3.0)
    z[0, 0] = 100.0
    z[0, 1] = -100.0
    pw = det([4], 7, 1.0, 2.0)
    add('binaryCrossEntropyWithLogits', lambda ts, r: F.binary_cross_entropy_with_logits(ts['input'], ts['target'], reduction=r),
        {'input': z, 'target': y}, {}, ['input', 'target'])
    add('binaryCrossEntropyWithLogits posWeight', lambda ts, r: F.binary_cross_entropy_with_logits(
        ts['input'], ts['target'], weight=ts['weight'], pos_weight=ts['posWeight'], reduction=r),
        {'input': z, 'target': y, 'weight': w, 'posWeight': pw}, {'weight': 'weight', 'posWeight': 'posWeight'}, ['input', 'target'])

    logits = det([5, 4], 8, 2.0)
    cls = torch.tensor([0, 3, 1, 2, 3], dtype=torch.int64)
    cls_ign = torch.tensor([0, -100, 1, 2, 2], dtype=torch.int64)
    cw = det([4], 9, 0.5, 1.0)
    add('crossEntropy', lambda ts, r: F.cross_entropy(ts['input'], ts['target'], reduction=r), {'input': logits, 'target': cls}, {}, ['input'])
    add('crossEntropy weight', lambda ts, r: F.cross_entropy(ts['input'], ts['target'], weight=ts['weight'], reduction=r),
        {'input': logits, 'target': cls, 'weight': cw}, {'weight': 'weight'}, ['input'])
    add('crossEntropy ignoreIndex', lambda ts, r: F.cross_entropy(ts['input'], ts['target'], weight=ts['weight'], reduction=r),
        {'input': logits, 'target': cls_ign, 'weight': cw}, {'weight': 'weight'}, ['input'])
    add('crossEntropy ignoreIndex=2', lambda ts, r: F.cross_entropy(ts['input'], ts['target'], ignore_index=2, reduction=r),
        {'input': logits, 'target': cls_ign.clamp(min=0)}, {'ignoreIndex': 2}, ['input'])
    add('crossEntropy labelSmoothing', lambda ts, r: F.cross_entropy(ts['input'], ts['target'], label_smoothing=0.1, reduction=r),
        {'input': logits, 'target': cls_ign}, {'labelSmoothing': 0.1}, ['input'])
    add('crossEntropy labelSmoothing weight', lambda ts, r: F.cross_entropy(
        ts['input'], ts['target'], weight=ts['weight'], label_smoothing=0.2, reduction=r),
        {'input': logits, 'target': cls_ign, 'weight': cw}, {'weight': 'weight', 'labelSmoothing': 0.2}, ['input'])
    probs = torch.softmax(det([5, 4], 10, 1.5), 1)
    add('crossEntropy probabilities', lambda ts, r: F.cross_entropy(ts['input'], ts['target'], reduction=r),
        {'input': logits, 'target': probs}, {}, ['input', 'target'])
    add('crossEntropy probabilities weight labelSmoothing', lambda ts, r: F.cross_entropy(
        ts['input'], ts['target'], weight=ts['weight'], label_smoothing=0.1, reduction=r),
        {'input': logits, 'target': probs, 'weight': cw}, {'weight': 'weight', 'labelSmoothing': 0.1}, ['input', 'target'])
    seg = det([2, 3, 2, 5], 11, 2.0)
    seg_t = torch.tensor([[[0, 1, 2, 1, 0], [2, 2, -100, 0, 1]], [[1, 1, 0, 2, 2], [0, -100, 1, 1, 2]]], dtype=torch.int64)
    add('crossEntropy spatial', lambda ts, r: F.cross_entropy(ts['input'], ts['target'], weight=ts['weight'], reduction=r),
        {'input': seg, 'target': seg_t, 'weight': det([3], 12, 0.5, 1.0)}, {'weight': 'weight'}, ['input'])
    add('crossEntropy unbatched', lambda ts, r: F.cross_entropy(ts['input'], ts['target'], reduction=r),
        {'input': det([6], 13, 2.0), 'target': torch.tensor(4, dtype=torch.int64)}, {}, ['input'])
    add('crossEntropy float32', lambda ts, r: F.cross_entropy(ts['input'], ts['target'], label_smoothing=0.05, reduction=r),
        {'input': logits.float(), 'target': cls}, {'labelSmoothing': 0.05}, ['input'])

    logp = torch.log_softmax(logits, 1)
    add('nllLoss', lambda ts, r: F.nll_loss(ts['input'], ts['target'], weight=ts['weight'], reduction=r),
        {'input': logp, 'target': cls_ign, 'weight': cw}, {'weight': 'weight'}, ['input'])
    add('nllLoss int32', lambda ts, r: F.nll_loss(ts['input'], ts['target'].long(), reduction=r),
        {'input': logp, 'target': cls.int()}, {}, ['input'])

    kl_in = torch.log_softmax(det([3, 5], 14, 1.5), 1)
    kl_t = torch.softmax(det([3, 5], 15, 2.0), 1)
    kl_t[1, 2] = 0.0
    add('klDiv', lambda ts, r: F.kl_div(ts['input'], ts['target'], reduction=r), {'input': kl_in, 'target': kl_t}, {},
        ['input', 'target'], reductions=('none', 'mean', 'sum', 'batchmean'))
    add('klDiv logTarget', lambda ts, r: F.kl_div(ts['input'], ts['target'], reduction=r, log_target=True),
        {'input': kl_in, 'target': torch.log_softmax(det([3, 5], 16, 2.0), 1)}, {'logTarget': True},
        ['input', 'target'], reductions=('none', 'mean', 'sum', 'batchmean'))
    return cases


# ---- optimizers ---------------------------------------------------------------------------

SNAKE = {'weightDecay': 'weight_decay', 'lrDecay': 'lr_decay', 'initialAccumulatorValue': 'initial_accumulator_value',
         'momentumDecay': 'momentum_decay'}


def to_torch_options(o):
    out = {}
    for k, v in o.items():
        out[SNAKE.get(k, k)] = tuple(v) if k == 'betas' else v
    return out


def problem_params(dtype):
    return {
        'w1': det([5, 4], 21, 0.5, dtype=dtype),
        'b1': det([5], 22, 0.1, dtype=dtype),
        'w2': det([2, 5], 23, 0.5, dtype=dtype),
        'b2': det([2], 24, 0.1, dtype=dtype),
    }


def problem_loss(ps, dtype):
    x = det([8, 4], 25, 1.0, dtype=dtype)
    y = det([8, 2], 26, 1.0, dtype=dtype)
    h = torch.tanh(x @ ps['w1'].t() + ps['b1'])
    return F.mse_loss(h @ ps['w2'].t() + ps['b2'], y)


OPTIM_CASES = [
    ('SGD', {'lr': 0.1}),
    ('SGD', {'lr': 0.1, 'momentum': 0.9}),
    ('SGD', {'lr': 0.1, 'momentum': 0.9, 'dampening': 0.1, 'weightDecay': 0.01}),
    ('SGD', {'lr': 0.1, 'momentum': 0.9, 'nesterov': True, 'weightDecay': 0.01}),
    ('SGD', {'lr': 0.1, 'momentum': 0.5, 'maximize': True}),
    ('Adam', {'lr': 0.01}),
    ('Adam', {'lr': 0.01, 'amsgrad': True, 'weightDecay': 0.1}),
    ('Adam', {'lr': 0.01, 'betas': [0.8, 0.99], 'eps': 1e-6, 'maximize': True}),
    ('AdamW', {'lr': 0.01}),
    ('AdamW', {'lr': 0.01, 'weightDecay': 0.1, 'amsgrad': True}),
    ('Adamax', {'lr': 0.01}),
    ('Adamax', {'lr': 0.01, 'weightDecay': 0.1, 'maximize': True}),
    ('NAdam', {'lr': 0.01}),
    ('NAdam', {'lr': 0.01, 'weightDecay': 0.1, 'momentumDecay': 0.01}),
    ('RMSprop', {'lr': 0.01}),
    ('RMSprop', {'lr': 0.01, 'momentum': 0.9}),
    ('RMSprop', {'lr': 0.01, 'centered': True, 'weightDecay': 0.1}),
    ('RMSprop', {'lr': 0.01, 'centered': True, 'momentum': 0.5, 'alpha': 0.9, 'maximize': True}),
    ('Adagrad', {'lr': 0.1}),
    ('Adagrad', {'lr': 0.1, 'lrDecay': 0.01, 'weightDecay': 0.1, 'initialAccumulatorValue': 0.1, 'eps': 1e-8}),
]


def optim_case(name, options, dtype, groups=None):
    ps = {k: v.clone().requires_grad_(True) for k, v in problem_params(dtype).items()}
    order = list(ps.keys())
    cls = getattr(torch.optim, name)
    if groups is None:
        opt = cls([ps[k] for k in order], **to_torch_options(options))
    else:
        opt = cls([dict(params=[ps[k] for k in g['params']], **to_torch_options({k: v for k, v in g.items() if k != 'params'}))
                   for g in groups], **to_torch_options(options))
    steps = []
    for _ in range(5):
        opt.zero_grad()
        problem_loss(ps, dtype).backward()
        grads = {k: flat(ps[k].grad) for k in order}
        opt.step()
        steps.append({'grads': grads, 'params': {k: flat(ps[k]) for k in order}})
    sd = opt.state_dict()
    final_state = {}
    for idx, st in sd['state'].items():
        entry = {}
        for k, v in st.items():
            if isinstance(v, torch.Tensor):
                entry[k] = float(v.item()) if k in ('step', 'mu_product') else flat(v)
            elif v is not None:
                entry[k] = v
        final_state[order[idx]] = entry
    return {
        'optimizer': name,
        'options': options,
        'groups': groups,
        'dtype': str(dtype).replace('torch.', ''),
        'init': {k: flat(v) for k, v in problem_params(dtype).items()},
        'shapes': {k: list(v.shape) for k, v in problem_params(dtype).items()},
        'steps': steps,
        'finalState': final_state,
    }


def optim_fixtures():
    cases = []
    for dtype in (torch.float32, torch.float64):
        for name, options in OPTIM_CASES:
            cases.append(optim_case(name, options, dtype))
    groups = [{'params': ['w1', 'b1'], 'lr': 0.02, 'weightDecay': 0.1}, {'params': ['w2', 'b2']}]
    cases.append(optim_case('Adam', {'lr': 0.01}, torch.float32, groups))
    cases.append(optim_case('SGD', {'lr': 0.05, 'momentum': 0.9}, torch.float32,
                            [{'params': ['w1', 'b1']}, {'params': ['w2', 'b2'], 'lr': 0.2, 'nesterov': True}]))
    return cases


# ---- lr schedulers ------------------------------------------------------------------------

def sched_run(make_opt, make_sched, epochs, metrics=None, momentum_key=None):
    p = torch.zeros(2, requires_grad=True)
    opt = make_opt([p])
    sched = make_sched(opt)
    lrs, moms = [], []
    for e in range(epochs):
        lrs.append(opt.param_groups[0]['lr'])
        if momentum_key == 'betas':
            moms.append(opt.param_groups[0]['betas'][0])
        elif momentum_key:
            moms.append(opt.param_groups[0][momentum_key])
        opt.step()
        if metrics is not None:
            sched.step(metrics[e])
        else:
            sched.step()
    out = {'lrs': lrs}
    if momentum_key:
        out['momentums'] = moms
    return out


def scheduler_fixtures():
    S = torch.optim.lr_scheduler
    sgd = lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)
    adam = lambda ps: torch.optim.Adam(ps, lr=0.1)
    metrics = [1.0, 0.9, 0.91, 0.92, 0.93, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9, 0.95, 0.96, 0.97, 0.98]
    return {
        'StepLR': {'args': [3], 'options': {'gamma': 0.5}, **sched_run(sgd, lambda o: S.StepLR(o, 3, gamma=0.5), 12)},
        'MultiStepLR': {'args': [[2, 5, 5, 9]], 'options': {'gamma': 0.3}, **sched_run(sgd, lambda o: S.MultiStepLR(o, [2, 5, 5, 9], gamma=0.3), 12)},
        'ExponentialLR': {'args': [0.9], 'options': {}, **sched_run(sgd, lambda o: S.ExponentialLR(o, 0.9), 12)},
        'CosineAnnealingLR': {'args': [5], 'options': {'etaMin': 0.01}, **sched_run(sgd, lambda o: S.CosineAnnealingLR(o, 5, eta_min=0.01), 23)},
        'LambdaLR': {'args': ['1/(1+e)'], 'options': {}, **sched_run(sgd, lambda o: S.LambdaLR(o, lambda e: 1 / (1 + e)), 8)},
        'OneCycleLR': {'args': [1.0], 'options': {'totalSteps': 20}, **sched_run(sgd, lambda o: S.OneCycleLR(o, 1.0, total_steps=20), 20, momentum_key='momentum')},
        'OneCycleLR linear threePhase adam': {'args': [0.5], 'options': {'totalSteps': 15, 'annealStrategy': 'linear', 'threePhase': True, 'pctStart': 0.25},
                                              'optimizer': 'Adam',
                                              **sched_run(adam, lambda o: S.OneCycleLR(o, 0.5, total_steps=15, anneal_strategy='linear', three_phase=True, pct_start=0.25),
                                                          15, momentum_key='betas')},
        'ReduceLROnPlateau': {'args': [], 'options': {'patience': 2, 'factor': 0.5, 'cooldown': 1, 'minLr': 0.02}, 'metrics': metrics,
                              **sched_run(sgd, lambda o: S.ReduceLROnPlateau(o, patience=2, factor=0.5, cooldown=1, min_lr=0.02), len(metrics), metrics=metrics)},
        'ReduceLROnPlateau max abs': {'args': [], 'options': {'mode': 'max', 'thresholdMode': 'abs', 'threshold': 0.05, 'patience': 1}, 'metrics': metrics,
                                      **sched_run(sgd, lambda o: S.ReduceLROnPlateau(o, mode='max', threshold_mode='abs', threshold=0.05, patience=1),
                                                  len(metrics), metrics=metrics)},
    }


# ---- clip_grad ----------------------------------------------------------------------------

def clip_fixtures():
    out = []
    for norm_type, max_norm in ((2.0, 1.0), (1.0, 0.5), (3.0, 2.0), (math.inf, 0.3), (2.0, 100.0)):
        a = det([3, 4], 31).requires_grad_(True)
        b = det([5], 32).requires_grad_(True)
        a.grad = det([3, 4], 33, 2.0)
        b.grad = det([5], 34, 3.0)
        total = torch.nn.utils.clip_grad_norm_([a, b], max_norm, norm_type)
        out.append({'normType': 'inf' if norm_type == math.inf else norm_type, 'maxNorm': max_norm,
                    'grads': [flat(det([3, 4], 33, 2.0)), flat(det([5], 34, 3.0))],
                    'total': float(total), 'clipped': [flat(a.grad), flat(b.grad)]})
    return out


# ---- safetensors --------------------------------------------------------------------------

DTYPE_NAMES = {torch.float32: 'F32', torch.float64: 'F64', torch.int32: 'I32', torch.int64: 'I64', torch.uint8: 'U8', torch.bool: 'BOOL'}
# The reference writer lays tensors out by dtype (widest first: its Dtype enum order reversed), then name.
DTYPE_RANK = {'BOOL': 0, 'U8': 1, 'I32': 9, 'F32': 11, 'F64': 12, 'I64': 13}


def write_safetensors(path, tensors, metadata=None):
    items = sorted(tensors.items(), key=lambda kv: (-DTYPE_RANK[DTYPE_NAMES[kv[1].dtype]], kv[0]))
    header = {}
    if metadata is not None:
        header['__metadata__'] = metadata
    offset = 0
    blobs = []
    for name, t in items:
        raw = t.contiguous().numpy().tobytes()  # little-endian on this host
        header[name] = {'dtype': DTYPE_NAMES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    hb = json.dumps(header, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
    hb += b' ' * ((8 - len(hb) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)
    print('wrote', path)


def safetensors_fixtures():
    d = os.path.join(ROOT, 'safetensors')
    os.makedirs(d, exist_ok=True)
    sample = {
        'weight': det([2, 3], 41, dtype=torch.float32),
        'double': det([3], 42),
        'counts': torch.tensor([[1, -2], [3, 2147483647]], dtype=torch.int32),
        'ids': torch.tensor([0, -1, 2 ** 40, -(2 ** 53)], dtype=torch.int64),
        'bytes': torch.tensor([0, 1, 127, 200, 255], dtype=torch.uint8),
        'mask': torch.tensor([True, False, True]),
        'scalar': torch.tensor(2.5, dtype=torch.float32),
        'empty': torch.zeros(0, 3, dtype=torch.float32),
        'layer.0.bias': det([4], 43, dtype=torch.float32),
    }
    write_safetensors(os.path.join(d, 'sample.safetensors'), sample, {'format': 'pt'})

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    write_safetensors(os.path.join(d, 'mlp.safetensors'), dict(model.state_dict()))
    x = det([2, 4], 44, dtype=torch.float32)
    with torch.no_grad():
        y = model(x)
    return {
        'sample': {k: {'dtype': str(v.dtype).replace('torch.', ''), 'shape': list(v.shape),
                       'data': [bool(b) for b in v.reshape(-1).tolist()] if v.dtype == torch.bool else
                       [int(b) for b in v.reshape(-1).tolist()] if not v.is_floating_point() else flat(v)}
                   for k, v in sample.items()},
        'mlp': {'input': enc(x), 'output': enc(y)},
    }


if __name__ == '__main__':
    torch.set_num_threads(1)
    write_json('nn_losses.json', loss_cases())
    write_json('optim.json', optim_fixtures())
    write_json('lr_scheduler.json', scheduler_fixtures())
    write_json('clip_grad.json', clip_fixtures())
    write_json('safetensors.json', safetensors_fixtures())
