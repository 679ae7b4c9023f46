"""torchvision anchors for bench/roi.bench.mjs: the same detection-op cases, timed in PyTorch.

    /usr/bin/python3 bench/roi_anchor.py CASES.json --threads n

CASES.json (written by the JS bench) holds the feature-map shape, the boxes and the NMS inputs,
so both sides run on identical boxes. Prints one JSON object per line: {"case", "threads", "ms",
"cpuMs"}, medians of wall-clock and process CPU time over repeated calls after a warm-up call.
"""
import argparse
import json
import time

import torch
import torchvision.ops as ops


def median_ms(fn, budget_s=0.5, min_reps=5):
    """Medians of wall-clock and of process CPU time per call, in ms."""
    fn()
    wall, cpu = [], []
    start = time.perf_counter()
    while len(wall) < min_reps or (time.perf_counter() - start < budget_s and len(wall) < 1000):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
    wall.sort()
    cpu.sort()
    return 1e3 * wall[len(wall) // 2], 1e3 * cpu[len(cpu) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cases")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with open(args.cases) as f:
        spec = json.load(f)
    torch.manual_seed(0)
    x = torch.randn(spec["featureShape"])
    rois = torch.tensor(spec["rois"], dtype=torch.float32)
    out = spec["outputSize"]
    scale = spec["spatialScale"]
    grad = torch.randn(rois.shape[0], x.shape[1], out, out)
    xg = x.clone().requires_grad_(True)

    def forward_backward(run):
        def fn():
            xg.grad = None
            run(xg).backward(grad)
        return fn

    cases = {}
    for sr in spec["samplingRatios"]:
        align = lambda t, sr=sr: ops.roi_align(t, rois, out, scale, sr, False)
        cases[f"roiAlign fwd sr={sr}"] = lambda align=align: align(x)
        cases[f"roiAlign fwd+bwd sr={sr}"] = forward_backward(align)
    pool = lambda t: ops.roi_pool(t, rois, out, scale)
    cases["roiPool fwd"] = lambda: pool(x)
    cases["roiPool fwd+bwd"] = forward_backward(pool)
    boxes = torch.tensor(spec["nmsBoxes"], dtype=torch.float32)
    scores = torch.tensor(spec["nmsScores"], dtype=torch.float32)
    for thr in spec["nmsThresholds"]:
        cases[f"nms {boxes.shape[0]} iou={thr}"] = lambda thr=thr: ops.nms(boxes, scores, thr)
    for name, fn in cases.items():
        ms, cpu_ms = median_ms(fn)
        print(json.dumps({"case": name, "threads": args.threads, "ms": ms, "cpuMs": cpu_ms}), flush=True)


if __name__ == "__main__":
    main()
