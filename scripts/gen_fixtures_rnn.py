#!/usr/bin/python3
"""Reference values for test/rnn/* from PyTorch (1.13, Debian's python3-torch).

    /usr/bin/python3 scripts/gen_fixtures_rnn.py   # writes test/fixtures/rnn.json

Inputs and parameters are drawn in float32 (so the tests load them exactly) and the references
are computed in float64. Gradients are those of a weighted sum of every output,
loss = sum(out * w_out) + sum(h_n * w_h) + ..., with the weights stored beside them.
Attention references are written out by formula (PyTorch 2 semantics: a bool mask keeps
positions where it is true), since torch 1.13 has no scaled_dot_product_attention.
"""
import json
import math
import os

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

torch.manual_seed(0)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')


def enc(t):
    t = t.detach()
    if t.dtype == torch.bool:
        return {'shape': list(t.shape), 'dtype': 'bool', 'data': [int(v) for v in t.flatten().tolist()]}
    if t.dtype in (torch.int64, torch.int32):
        return {'shape': list(t.shape), 'dtype': 'int64', 'data': t.flatten().tolist()}
    return {'shape': list(t.shape), 'data': [float('%.8g' % v) for v in t.double().flatten().tolist()]}


def randn(*shape):
    return torch.randn(*shape, dtype=torch.float32).double()


def weighted_loss(outputs):
    """sum(o * w) over outputs; returns (loss, weights)."""
    weights = [randn(*o.shape) for o in outputs]
    return sum((o * w).sum() for o, w in zip(outputs, weights)), weights


def recurrent_case(kind, T, N, I, H, layers=1, bidirectional=False, batch_first=False, with_h0=False,
                   lengths=None, bias=True, nonlinearity='tanh'):
    cls = {'lstm': nn.LSTM, 'gru': nn.GRU, 'rnn': nn.RNN}[kind]
    kw = dict(num_layers=layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias)
    if kind == 'rnn':
        kw['nonlinearity'] = nonlinearity
    m = cls(I, H, **kw).double()
    D = 2 if bidirectional else 1
    x = randn(*((N, T, I) if batch_first else (T, N, I))).requires_grad_(True)
    h0 = randn(layers * D, N, H).requires_grad_(True) if with_h0 else None
    c0 = randn(layers * D, N, H).requires_grad_(True) if (with_h0 and kind == 'lstm') else None
    hx = (h0, c0) if kind == 'lstm' and with_h0 else h0
    if lengths is not None:
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
        out, state = m(packed, hx)
        out, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=T)
    else:
        out, state = m(x, hx)
    outs = [out, state[0], state[1]] if kind == 'lstm' else [out, state]
    loss, weights = weighted_loss(outs)
    loss.backward()
    case = {
        'kind': kind, 'T': T, 'N': N, 'inputSize': I, 'hiddenSize': H, 'numLayers': layers,
        'bidirectional': bidirectional, 'batchFirst': batch_first, 'bias': bias, 'nonlinearity': nonlinearity,
        'lengths': lengths, 'x': enc(x), 'params': {k: enc(v) for k, v in m.state_dict().items()},
        'out': enc(out), 'hN': enc(outs[1]), 'lossWeights': [enc(w) for w in weights],
        'grads': {k: enc(p.grad) for k, p in m.named_parameters()}, 'dx': enc(x.grad),
    }
    if kind == 'lstm':
        case['cN'] = enc(outs[2])
    if with_h0:
        case['h0'] = enc(h0)
        case['dh0'] = enc(h0.grad)
        if c0 is not None:
            case['c0'] = enc(c0)
            case['dc0'] = enc(c0.grad)
    return case


def cell_case(kind, N, I, H, with_h=True, bias=True, nonlinearity='tanh', unbatched=False):
    cls = {'lstm': nn.LSTMCell, 'gru': nn.GRUCell, 'rnn': nn.RNNCell}[kind]
    kw = dict(bias=bias)
    if kind == 'rnn':
        kw['nonlinearity'] = nonlinearity
    m = cls(I, H, **kw).double()
    shape = (I,) if unbatched else (N, I)
    hshape = (H,) if unbatched else (N, H)
    x = randn(*shape).requires_grad_(True)
    h = randn(*hshape).requires_grad_(True) if with_h else None
    c = randn(*hshape).requires_grad_(True) if (with_h and kind == 'lstm') else None
    if kind == 'lstm':
        out = m(x, (h, c)) if with_h else m(x)
        outs = list(out)
    else:
        outs = [m(x, h) if with_h else m(x)]
    loss, weights = weighted_loss(outs)
    loss.backward()
    case = {'kind': kind, 'N': N, 'inputSize': I, 'hiddenSize': H, 'bias': bias, 'nonlinearity': nonlinearity,
            'unbatched': unbatched, 'x': enc(x), 'params': {k: enc(v) for k, v in m.state_dict().items()},
            'outs': [enc(o) for o in outs], 'lossWeights': [enc(w) for w in weights],
            'grads': {k: enc(p.grad) for k, p in m.named_parameters()}, 'dx': enc(x.grad)}
    if with_h:
        case['h'] = enc(h)
        case['dh'] = enc(h.grad)
        if c is not None:
            case['c'] = enc(c)
            case['dc'] = enc(c.grad)
    return case


def embedding_cases():
    cases = []
    m = nn.Embedding(10, 4, padding_idx=2).double()
    idx = torch.tensor([[1, 2, 3, 1], [2, 9, 0, 1], [5, 5, 2, 7]])
    out = m(idx)
    loss, weights = weighted_loss([out])
    loss.backward()
    cases.append({'name': 'padding', 'numEmbeddings': 10, 'embeddingDim': 4, 'paddingIdx': 2, 'weight': enc(m.weight),
                  'indices': enc(idx), 'out': enc(out), 'lossWeights': [enc(w) for w in weights],
                  'dweight': enc(m.weight.grad)})
    m = nn.Embedding(6, 3, max_norm=1.0).double()
    with torch.no_grad():
        m.weight.mul_(2)
    before = m.weight.detach().clone()
    idx = torch.tensor([0, 3, 3, 5])
    out = m(idx)
    cases.append({'name': 'maxNorm', 'numEmbeddings': 6, 'embeddingDim': 3, 'maxNorm': 1.0, 'weight': enc(before),
                  'indices': enc(idx), 'out': enc(out), 'weightAfter': enc(m.weight)})
    return cases


def sdpa_reference(q, k, v, attn_mask=None, is_causal=False, scale=None):
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ k.transpose(-2, -1) * scale
    L, S = q.shape[-2], k.shape[-2]
    if is_causal:
        keep = torch.ones(L, S, dtype=torch.bool).tril()
        s = s.masked_fill(~keep, float('-inf'))
    elif attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            s = s.masked_fill(~attn_mask, float('-inf'))
        else:
            s = s + attn_mask
    return torch.softmax(s, -1) @ v


def attention_cases():
    cases = []
    configs = [
        ('plain', {}),
        ('boolMask', {'attn_mask': torch.rand(3, 5) > 0.3}),
        ('floatMask', {'attn_mask': randn(3, 5)}),
        ('causal', {'is_causal': True}),
        ('scale', {'scale': 0.5}),
    ]
    for name, kw in configs:
        q, k, v = randn(2, 3, 3, 8), randn(2, 3, 5, 8), randn(2, 3, 5, 6)
        if name == 'boolMask':
            kw['attn_mask'][:, 0] = True  # no fully masked row
        if name == 'causal':
            k, v = randn(2, 3, 3, 8), randn(2, 3, 3, 6)
        for t in (q, k, v):
            t.requires_grad_(True)
        out = sdpa_reference(q, k, v, **kw)
        loss, weights = weighted_loss([out])
        loss.backward()
        case = {'name': name, 'q': enc(q), 'k': enc(k), 'v': enc(v), 'out': enc(out),
                'lossWeights': [enc(w) for w in weights], 'dq': enc(q.grad), 'dk': enc(k.grad), 'dv': enc(v.grad)}
        if 'attn_mask' in kw:
            case['attnMask'] = enc(kw['attn_mask'])
        if kw.get('is_causal'):
            case['isCausal'] = True
        if 'scale' in kw:
            case['scale'] = kw['scale']
        cases.append(case)
    return cases


def mha_cases():
    cases = []
    configs = [
        ('self', dict(E=8, heads=2, L=4, S=4, N=3), {}),
        ('cross', dict(E=8, heads=4, L=3, S=5, N=2, kdim=6, vdim=5), {}),
        ('masks', dict(E=8, heads=2, L=4, S=5, N=3), {'kpm': True, 'attn': True}),
        ('batchFirstPerHead', dict(E=6, heads=3, L=2, S=3, N=2, batch_first=True), {'average': False}),
        ('noBias', dict(E=4, heads=1, L=3, S=3, N=2, bias=False), {}),
    ]
    for name, c, opts in configs:
        m = nn.MultiheadAttention(c['E'], c['heads'], bias=c.get('bias', True), kdim=c.get('kdim'), vdim=c.get('vdim'),
                                  batch_first=c.get('batch_first', False)).double()
        with torch.no_grad():
            for p in m.parameters():
                if p.dim() == 1:
                    p.copy_((randn(*p.shape) * 0.1).float().double())  # zero by default; exercise them
        bf = c.get('batch_first', False)
        shp = lambda n, d: (c['N'], n, d) if bf else (n, c['N'], d)
        q = randn(*shp(c['L'], c['E'])).requires_grad_(True)
        if name == 'self':
            k = v = q
        else:
            k = randn(*shp(c['S'], c.get('kdim') or c['E'])).requires_grad_(True)
            v = randn(*shp(c['S'], c.get('vdim') or c['E'])).requires_grad_(True)
        kw = {'average_attn_weights': opts.get('average', True)}
        case = {'name': name, 'embedDim': c['E'], 'numHeads': c['heads'], 'bias': c.get('bias', True),
                'kdim': c.get('kdim'), 'vdim': c.get('vdim'), 'batchFirst': bf, 'averageAttnWeights': kw['average_attn_weights'],
                'selfAttention': name == 'self'}
        if opts.get('kpm'):
            kpm = torch.zeros(c['N'], c['S'], dtype=torch.bool)
            kpm[0, -2:] = True
            kpm[2, 1] = True
            kw['key_padding_mask'] = kpm
            case['keyPaddingMask'] = enc(kpm)
        if opts.get('attn'):
            am = torch.rand(c['L'], c['S']) > 0.7
            am[:, 0] = False
            kw['attn_mask'] = am
            case['attnMask'] = enc(am)
        m.eval()
        out, w = m(q, k, v, **kw)
        loss, weights = weighted_loss([out, w])
        loss.backward()
        case.update({'params': {kk: enc(vv) for kk, vv in m.state_dict().items()}, 'query': enc(q), 'key': enc(k),
                     'value': enc(v), 'out': enc(out), 'weights': enc(w), 'lossWeights': [enc(x) for x in weights],
                     'grads': {kk: enc(p.grad) for kk, p in m.named_parameters()}, 'dquery': enc(q.grad)})
        if name != 'self':
            case['dkey'] = enc(k.grad)
            case['dvalue'] = enc(v.grad)
        cases.append(case)
    return cases


def additive_case():
    N, Lq, S, Dq, Dk, Dv, Hd = 2, 3, 4, 5, 6, 3, 7
    wq, wk, wv = randn(Hd, Dq), randn(Hd, Dk), randn(1, Hd)
    q, k, v = randn(N, Lq, Dq), randn(N, S, Dk), randn(N, S, Dv)
    for t in (wq, wk, wv, q, k, v):
        t.requires_grad_(True)
    lengths = [4, 2]
    feats = torch.tanh((q @ wq.T).unsqueeze(2) + (k @ wk.T).unsqueeze(1))
    scores = (feats @ wv.T).squeeze(-1)
    ignore = torch.arange(S).unsqueeze(0) >= torch.tensor(lengths).unsqueeze(1)
    scores = scores.masked_fill(ignore.unsqueeze(1), float('-inf'))
    w = torch.softmax(scores, -1)
    ctx = w @ v
    loss, weights = weighted_loss([ctx, w])
    loss.backward()
    return {'querySize': Dq, 'keySize': Dk, 'hiddenSize': Hd, 'lengths': lengths,
            'params': {'W_q.weight': enc(wq), 'W_k.weight': enc(wk), 'w_v.weight': enc(wv)},
            'query': enc(q), 'keys': enc(k), 'values': enc(v), 'context': enc(ctx), 'weights': enc(w),
            'lossWeights': [enc(x) for x in weights],
            'grads': {'W_q.weight': enc(wq.grad), 'W_k.weight': enc(wk.grad), 'w_v.weight': enc(wv.grad)},
            'dquery': enc(q.grad), 'dkeys': enc(k.grad), 'dvalues': enc(v.grad)}


def main():
    rec = []
    for kind in ('lstm', 'gru', 'rnn'):
        rec.append(recurrent_case(kind, 5, 3, 4, 6))
        rec.append(recurrent_case(kind, 4, 2, 3, 20, layers=2, batch_first=True, with_h0=True))
        rec.append(recurrent_case(kind, 4, 3, 5, 6, layers=2, bidirectional=True, with_h0=True))
        rec.append(recurrent_case(kind, 6, 3, 4, 5, bidirectional=True, batch_first=True, with_h0=True, lengths=[6, 2, 4]))
        rec.append(recurrent_case(kind, 5, 4, 3, 9, layers=2, bidirectional=True, lengths=[3, 5, 1, 4], bias=False))
    rec.append(recurrent_case('rnn', 5, 3, 4, 9, layers=2, with_h0=True, nonlinearity='relu'))
    rec.append(recurrent_case('rnn', 5, 3, 4, 6, bidirectional=True, lengths=[5, 3, 2], nonlinearity='relu'))
    cells = []
    for kind in ('lstm', 'gru', 'rnn'):
        cells.append(cell_case(kind, 3, 4, 18))
        cells.append(cell_case(kind, 2, 5, 6, with_h=False, bias=False))
        cells.append(cell_case(kind, 1, 3, 4, unbatched=True))
    cells.append(cell_case('rnn', 3, 4, 10, nonlinearity='relu'))
    data = {'recurrent': rec, 'cells': cells, 'embedding': embedding_cases(), 'sdpa': attention_cases(),
            'mha': mha_cases(), 'additive': additive_case()}
    path = os.path.join(ROOT, 'test', 'fixtures', 'rnn.json')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(data, f, separators=(',', ':'))
    print('wrote', path, os.path.getsize(path), 'bytes')


if __name__ == '__main__':
    main()
