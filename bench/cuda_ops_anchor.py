"""PyTorch / cuDNN / torchvision anchors for bench/cuda_ops.bench.mjs, on the same GPU in the same run.

    python3 bench/cuda_ops_anchor.py --spec SPEC.json

SPEC.json is written by the Node bench: the cases to time (their shapes) and the paths of the
ROI/NMS inputs it drew (raw float32 files), so both sides see the same boxes. FP32 with TF32 off,
cudnn.benchmark = True. Each case: repeated launches after a warm-up, timed with CUDA events around
`reps` calls, median of rounds (the Node side times the same loop with the host clock between two
synchronisations). Prints one JSON object on the last line: {"torch", "cuda", "cudnn", "device",
"torchvision", "cases": {name: seconds per call}, "train": {name: samples per second}}.
"""
import argparse
import json


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", required=True)
    args = ap.parse_args()
    with open(args.spec) as f:
        spec = json.load(f)
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    dev = torch.device("cuda")
    try:
        import torchvision
        from torchvision.ops import nms as tv_nms, roi_align as tv_roi_align
        tv = torchvision.__version__
    except Exception as e:  # noqa: BLE001 - reported, not fatal
        tv_nms = tv_roi_align = None
        tv = f"unavailable ({type(e).__name__})"

    def timed(fn, reps, rounds=7):
        fn()
        torch.cuda.synchronize()
        per = []
        for _ in range(rounds):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(reps):
                fn()
            end.record()
            end.synchronize()
            per.append(start.elapsed_time(end) / 1000.0 / reps)
        per.sort()
        return per[len(per) // 2]

    def zero(*ts):
        for t in ts:
            t.grad = None

    out = {"torch": torch.__version__, "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
           "device": torch.cuda.get_device_name(0), "torchvision": tv, "cases": {}, "train": {}}
    torch.manual_seed(0)
    for c in spec["cases"]:
        name, kind, reps = c["name"], c["kind"], c["reps"]
        if kind in ("conv", "convT"):
            n, cin, cout, h, w, k, s, p = c["n"], c["cin"], c["cout"], c["h"], c["w"], c["k"], c["stride"], c["pad"]
            x = torch.randn(n, cin, h, w, device=dev, requires_grad=True)
            if kind == "conv":
                wt = (torch.randn(cout, cin, k, k, device=dev) * 0.05).requires_grad_()
                f = lambda: F.conv2d(x, wt, b, stride=s, padding=p)  # noqa: E731
            else:
                wt = (torch.randn(cin, cout, k, k, device=dev) * 0.05).requires_grad_()
                f = lambda: F.conv_transpose2d(x, wt, b, stride=s, padding=p)  # noqa: E731
            b = torch.zeros(cout, device=dev, requires_grad=True)
            with torch.no_grad():
                out["cases"][name + " fwd"] = timed(f, reps)
            g = torch.randn_like(f())

            def fb():
                zero(x, wt, b)
                f().backward(g)
            out["cases"][name + " fwd+bwd"] = timed(fb, reps)
        elif kind == "lstm":
            T, B, I, H = c["T"], c["batch"], c["input"], c["hidden"]
            lstm = nn.LSTM(I, H).to(dev)
            x = torch.randn(T, B, I, device=dev, requires_grad=True)
            with torch.no_grad():
                out["cases"][name + " fwd"] = timed(lambda: lstm(x), reps)
            g = torch.randn(T, B, H, device=dev)

            def fb():
                zero(x, *lstm.parameters())
                lstm(x)[0].backward(g)
            out["cases"][name + " fwd+bwd"] = timed(fb, reps)
        elif kind == "roiAlign":
            if tv_roi_align is None:
                continue
            x = torch.randn(c["n"], c["c"], c["h"], c["w"], device=dev, requires_grad=True)
            rois = torch.from_numpy(np.fromfile(c["rois"], dtype=np.float32).reshape(-1, 5)).to(dev)
            f = lambda: tv_roi_align(x, rois, (c["out"], c["out"]), spatial_scale=c["scale"], sampling_ratio=c["sampling"], aligned=True)  # noqa: E731
            with torch.no_grad():
                out["cases"][name + " fwd"] = timed(f, reps)
            g = torch.randn_like(f())

            def fb():
                zero(x)
                f().backward(g)
            out["cases"][name + " fwd+bwd"] = timed(fb, reps)
        elif kind == "nms":
            if tv_nms is None:
                continue
            boxes = torch.from_numpy(np.fromfile(c["boxes"], dtype=np.float32).reshape(-1, 4)).to(dev)
            scores = torch.from_numpy(np.fromfile(c["scores"], dtype=np.float32)).to(dev)
            out["cases"][name] = timed(lambda: tv_nms(boxes, scores, c["iou"]), reps)
    for t in spec.get("train", []):
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.Sigmoid(), nn.Conv2d(32, 32, 3), nn.Sigmoid(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(32 * 12 * 12, 128), nn.Sigmoid(), nn.Linear(128, 10)).to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        bs = t["batch"]
        x = torch.rand(bs, 1, 28, 28, device=dev)
        y = torch.randint(0, 10, (bs,), device=dev)

        def step():
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()
        s = timed(step, t["steps"], rounds=5)
        out["train"][t["name"]] = bs / s
    print(json.dumps(out))


if __name__ == "__main__":
    main()
