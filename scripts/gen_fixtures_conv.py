"""Reference values for test/conv from PyTorch (Debian's python3-torch 1.13):
    /usr/bin/python3 scripts/gen_fixtures_conv.py   ->  test/fixtures/conv.json

Inputs are not stored: both sides generate them with the integer hash in `values` (mirrored in
test/conv/fixtures.ts), so the file holds only each case's arguments and PyTorch's outputs and
gradients (computed in float64, rounded to 7 significant digits). The upstream gradient of every
case is values(numel(y), seed + 1).
"""
import json
import os
import torch
import torch.nn.functional as F

torch.set_grad_enabled(True)
M32 = 0xFFFFFFFF


def values(n, seed):
    out = []
    for i in range(n):
        h = (((i + 1) * 0x9E3779B1) & M32) ^ (((seed + 7) * 0x85EBCA6B) & M32)
        h ^= h >> 16
        h = (h * 0x7FEB352D) & M32
        h ^= h >> 15
        h = (h * 0x846CA68B) & M32
        h ^= h >> 16
        out.append(((h % 2001) - 1000) / 1000)
    return out


def gen(shape, seed, scale=1.0, shift=0.0):
    n = 1
    for s in shape:
        n *= s
    return torch.tensor([v * scale + shift for v in values(n, seed)], dtype=torch.float64).reshape(shape)


def leaf(shape, seed, **kw):
    return gen(shape, seed, **kw).requires_grad_(True)


def flat(t):
    return [float(f"{v:.7g}") for v in t.detach().reshape(-1).tolist()]


def upstream(y, seed):
    return gen(list(y.shape), seed + 1)


def conv_cases():
    cases = [
        dict(name="basic 1x1x5x5 k3", N=1, C=1, H=5, W=5, K=1, k=[3, 3]),
        dict(name="pad 1", N=2, C=3, H=7, W=6, K=4, k=[3, 3], padding=[1, 1]),
        dict(name="stride 2 pad 1", N=2, C=4, H=9, W=8, K=6, k=[3, 3], stride=[2, 2], padding=[1, 1]),
        dict(name="rect kernel, mixed stride/pad/dilation", N=1, C=2, H=8, W=7, K=3, k=[3, 2], stride=[2, 1], padding=[1, 0], dilation=[2, 1]),
        dict(name="groups 2", N=2, C=4, H=6, W=6, K=6, k=[3, 3], padding=[1, 1], groups=2),
        dict(name="depthwise", N=2, C=4, H=6, W=7, K=4, k=[3, 3], padding=[1, 1], groups=4),
        dict(name="depthwise multiplier 2 stride 2", N=2, C=3, H=7, W=7, K=6, k=[3, 3], stride=[2, 2], padding=[1, 1], groups=3),
        dict(name="depthwise dilation 2", N=1, C=2, H=7, W=7, K=2, k=[3, 3], padding=[2, 2], dilation=[2, 2], groups=2),
        dict(name="pointwise 1x1", N=2, C=5, H=4, W=5, K=3, k=[1, 1]),
        dict(name="1x1 stride 2", N=1, C=3, H=5, W=6, K=2, k=[1, 1], stride=[2, 2]),
        dict(name="5x5 pad 2 batch 3", N=3, C=2, H=6, W=6, K=3, k=[5, 5], padding=[2, 2]),
        dict(name="same, even kernel", N=1, C=2, H=5, W=5, K=2, k=[4, 4], padding="same"),
        dict(name="same, dilation 2", N=2, C=2, H=6, W=5, K=3, k=[3, 3], padding="same", dilation=[2, 2]),
        dict(name="odd sizes", N=1, C=3, H=11, W=3, K=5, k=[2, 3], stride=[3, 1], padding=[0, 1]),
        dict(name="no bias", N=2, C=2, H=5, W=5, K=2, k=[3, 3], bias=False),
        dict(name="first layer 1->8", N=2, C=1, H=6, W=6, K=8, k=[3, 3]),
        dict(name="groups 2 stride 2 dilation 2", N=2, C=4, H=9, W=9, K=4, k=[3, 3], stride=[2, 2], padding=[2, 2], dilation=[2, 2], groups=2),
        dict(name="valid", N=1, C=2, H=4, W=6, K=2, k=[2, 2], padding="valid"),
    ]
    out = []
    for i, c in enumerate(cases):
        c = dict(dict(stride=[1, 1], padding=[0, 0], dilation=[1, 1], groups=1, bias=True), **c)
        seed = 100 + 10 * i
        c["seed"] = seed
        x = leaf([c["N"], c["C"], c["H"], c["W"]], seed)
        w = leaf([c["K"], c["C"] // c["groups"]] + c["k"], seed + 2, scale=0.5)
        b = leaf([c["K"]], seed + 3) if c["bias"] else None
        y = F.conv2d(x, w, b, stride=c["stride"], padding=c["padding"], dilation=c["dilation"], groups=c["groups"])
        y.backward(upstream(y, seed))
        c.update(yShape=list(y.shape), y=flat(y), gx=flat(x.grad), gw=flat(w.grad), gb=flat(b.grad) if b is not None else None)
        out.append(c)
    return out


def conv_transpose_cases():
    cases = [
        dict(name="2x2 k2 s1", N=1, C=1, H=2, W=2, K=1, k=[2, 2]),
        dict(name="stride 2 pad 1 outputPadding 1", N=2, C=3, H=4, W=5, K=2, k=[3, 3], stride=[2, 2], padding=[1, 1], outputPadding=[1, 1]),
        dict(name="DCGAN k4 s2 p1 groups 2", N=1, C=4, H=3, W=3, K=6, k=[4, 4], stride=[2, 2], padding=[1, 1], groups=2),
        dict(name="dilation 2", N=2, C=2, H=4, W=3, K=3, k=[3, 3], padding=[1, 1], dilation=[2, 2]),
        dict(name="depthwise s2", N=1, C=3, H=3, W=4, K=3, k=[3, 3], stride=[2, 2], padding=[1, 1], outputPadding=[1, 1], groups=3),
        dict(name="U-Net up k2 s2", N=2, C=4, H=3, W=4, K=2, k=[2, 2], stride=[2, 2]),
        dict(name="asymmetric", N=1, C=2, H=3, W=4, K=3, k=[3, 2], stride=[2, 3], padding=[1, 0], outputPadding=[1, 2]),
        dict(name="pointwise", N=2, C=3, H=3, W=3, K=4, k=[1, 1], bias=False),
    ]
    out = []
    for i, c in enumerate(cases):
        c = dict(dict(stride=[1, 1], padding=[0, 0], outputPadding=[0, 0], dilation=[1, 1], groups=1, bias=True), **c)
        seed = 400 + 10 * i
        c["seed"] = seed
        x = leaf([c["N"], c["C"], c["H"], c["W"]], seed)
        w = leaf([c["C"], c["K"] // c["groups"]] + c["k"], seed + 2, scale=0.5)
        b = leaf([c["K"]], seed + 3) if c["bias"] else None
        y = F.conv_transpose2d(x, w, b, stride=c["stride"], padding=c["padding"], output_padding=c["outputPadding"],
                               groups=c["groups"], dilation=c["dilation"])
        y.backward(upstream(y, seed))
        c.update(yShape=list(y.shape), y=flat(y), gx=flat(x.grad), gw=flat(w.grad), gb=flat(b.grad) if b is not None else None)
        out.append(c)
    return out


def pool_cases():
    cases = [
        dict(op="max", name="k2", shape=[2, 3, 6, 6], k=[2, 2]),
        dict(op="max", name="k3 s2 p1", shape=[1, 2, 7, 8], k=[3, 3], stride=[2, 2], padding=[1, 1]),
        dict(op="max", name="k3 s2 ceil", shape=[1, 2, 8, 8], k=[3, 3], stride=[2, 2], ceilMode=True),
        dict(op="max", name="dilation 2 ceil", shape=[2, 1, 7, 6], k=[3, 3], stride=[2, 1], padding=[1, 1], dilation=[2, 2], ceilMode=True),
        dict(op="max", name="rect", shape=[1, 2, 5, 7], k=[2, 3], stride=[1, 2], padding=[1, 1]),
        dict(op="avg", name="k2", shape=[2, 3, 6, 6], k=[2, 2]),
        dict(op="avg", name="k3 s2 p1 include pad", shape=[1, 2, 7, 8], k=[3, 3], stride=[2, 2], padding=[1, 1]),
        dict(op="avg", name="k3 s2 p1 exclude pad", shape=[1, 2, 7, 8], k=[3, 3], stride=[2, 2], padding=[1, 1], countIncludePad=False),
        dict(op="avg", name="ceil include pad", shape=[1, 2, 8, 8], k=[3, 3], stride=[2, 2], padding=[1, 1], ceilMode=True),
        dict(op="avg", name="ceil exclude pad", shape=[1, 1, 6, 7], k=[3, 2], stride=[2, 2], padding=[1, 0], ceilMode=True, countIncludePad=False),
        dict(op="avg", name="divisor override", shape=[1, 2, 5, 5], k=[2, 2], stride=[1, 1], divisorOverride=3),
        dict(op="adaptiveAvg", name="5x7 -> 3x4", shape=[2, 2, 5, 7], out=[3, 4]),
        dict(op="adaptiveAvg", name="global", shape=[2, 3, 6, 6], out=[1, 1]),
        dict(op="adaptiveAvg", name="7x5 -> 7x2 (upsampling-free)", shape=[1, 2, 7, 5], out=[7, 2]),
        dict(op="adaptiveAvg", name="3x3 -> 5x4 (more cells than input)", shape=[1, 1, 3, 3], out=[5, 4]),
        dict(op="adaptiveMax", name="5x7 -> 3x4", shape=[2, 2, 5, 7], out=[3, 4]),
    ]
    out = []
    for i, c in enumerate(cases):
        seed = 700 + 10 * i
        c["seed"] = seed
        x = leaf(c["shape"], seed)
        idx = None
        if c["op"] == "max":
            y, idx = F.max_pool2d(x, c["k"], stride=c.get("stride"), padding=c.get("padding", 0), dilation=c.get("dilation", 1),
                                  ceil_mode=c.get("ceilMode", False), return_indices=True)
        elif c["op"] == "avg":
            y = F.avg_pool2d(x, c["k"], stride=c.get("stride"), padding=c.get("padding", 0), ceil_mode=c.get("ceilMode", False),
                             count_include_pad=c.get("countIncludePad", True), divisor_override=c.get("divisorOverride"))
        elif c["op"] == "adaptiveAvg":
            y = F.adaptive_avg_pool2d(x, c["out"])
        else:
            y, idx = F.adaptive_max_pool2d(x, c["out"], return_indices=True)
        y.backward(upstream(y, seed))
        c.update(yShape=list(y.shape), y=flat(y), gx=flat(x.grad), indices=idx.reshape(-1).tolist() if idx is not None else None)
        out.append(c)
    return out


def batch_norm_cases():
    cases = [
        dict(name="2d train", shape=[3, 4, 3, 2], training=True),
        dict(name="1d train [N, C]", shape=[5, 3], training=True, momentum=0.3),
        dict(name="1d train [N, C, L]", shape=[2, 3, 4], training=True),
        dict(name="2d eval", shape=[2, 3, 2, 3], training=False),
        dict(name="2d train no affine", shape=[2, 2, 3, 3], training=True, affine=False),
    ]
    out = []
    for i, c in enumerate(cases):
        seed = 900 + 10 * i
        c["seed"] = seed
        C = c["shape"][1]
        affine = c.get("affine", True)
        x = leaf(c["shape"], seed, scale=2.0, shift=0.3)
        w = leaf([C], seed + 2, scale=0.5, shift=1.0) if affine else None
        b = leaf([C], seed + 3) if affine else None
        rm = gen([C], seed + 4, scale=0.2)
        rv = gen([C], seed + 5, scale=0.5, shift=1.0)
        y = F.batch_norm(x, rm, rv, w, b, training=c["training"], momentum=c.get("momentum", 0.1), eps=1e-5)
        y.backward(upstream(y, seed))
        c.update(y=flat(y), gx=flat(x.grad), gw=flat(w.grad) if affine else None, gb=flat(b.grad) if affine else None,
                 runningMean=flat(rm), runningVar=flat(rv))
        out.append(c)
    return out


def interpolate_cases():
    cases = [
        dict(name="nearest x2", shape=[1, 2, 3, 4], mode="nearest", scaleFactor=2),
        dict(name="nearest size 5x7", shape=[2, 1, 3, 4], mode="nearest", size=[5, 7]),
        dict(name="nearest x1.5", shape=[1, 2, 4, 3], mode="nearest", scaleFactor=1.5),
        dict(name="nearest down 2x3", shape=[1, 1, 5, 7], mode="nearest", size=[2, 3]),
        dict(name="bilinear x2", shape=[1, 2, 3, 4], mode="bilinear", scaleFactor=2, alignCorners=False),
        dict(name="bilinear align corners 5x7", shape=[2, 1, 3, 4], mode="bilinear", size=[5, 7], alignCorners=True),
        dict(name="bilinear down 2x3", shape=[1, 1, 5, 7], mode="bilinear", size=[2, 3], alignCorners=False),
        dict(name="bilinear x1.7", shape=[1, 1, 4, 3], mode="bilinear", scaleFactor=1.7, alignCorners=False),
        dict(name="bilinear align corners to 1 row", shape=[1, 1, 3, 4], mode="bilinear", size=[1, 6], alignCorners=True),
    ]
    out = []
    for i, c in enumerate(cases):
        seed = 1100 + 10 * i
        c["seed"] = seed
        x = leaf(c["shape"], seed)
        kw = dict(mode=c["mode"])
        if "size" in c:
            kw["size"] = c["size"]
        else:
            kw["scale_factor"] = c["scaleFactor"]
        if c["mode"] == "bilinear":
            kw["align_corners"] = c["alignCorners"]
        y = F.interpolate(x, **kw)
        y.backward(upstream(y, seed))
        c.update(yShape=list(y.shape), y=flat(y), gx=flat(x.grad))
        out.append(c)
    return out


def pad_cases():
    cases = [
        dict(name="constant 0.5", shape=[1, 2, 3, 4], pad=[1, 2, 0, 1], mode="constant", value=0.5),
        dict(name="constant negative crops", shape=[2, 1, 4, 5], pad=[-1, 1, 2, -1], mode="constant", value=0.0),
        dict(name="reflect", shape=[1, 2, 4, 4], pad=[2, 1, 1, 3], mode="reflect"),
        dict(name="replicate", shape=[1, 1, 3, 4], pad=[1, 2, 2, 1], mode="replicate"),
        dict(name="circular", shape=[1, 2, 3, 4], pad=[1, 1, 2, 0], mode="circular"),
        dict(name="reflect last dim of 3-D", shape=[2, 3, 5], pad=[3, 2], mode="reflect"),
    ]
    out = []
    for i, c in enumerate(cases):
        seed = 1300 + 10 * i
        c["seed"] = seed
        x = leaf(c["shape"], seed)
        if c["mode"] == "constant":
            y = F.pad(x, c["pad"], mode="constant", value=c["value"])
        else:
            y = F.pad(x, c["pad"], mode=c["mode"])
        y.backward(upstream(y, seed))
        c.update(yShape=list(y.shape), y=flat(y), gx=flat(x.grad))
        out.append(c)
    return out


def main():
    data = {
        "generator": f"scripts/gen_fixtures_conv.py, torch {torch.__version__}",
        "conv2d": conv_cases(),
        "convTranspose2d": conv_transpose_cases(),
        "pool": pool_cases(),
        "batchNorm": batch_norm_cases(),
        "interpolate": interpolate_cases(),
        "pad": pad_cases(),
    }
    path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "conv.json")
    with open(path, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
