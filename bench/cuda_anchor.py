"""PyTorch anchors for bench/cuda.bench.mjs, on the same GPU: FP32 SGEMM with TF32 off (cuBLAS),
the elementwise add of 1e8 floats, and the per-op time of a 1-element add from Python.

    python3 bench/cuda_anchor.py [--shapes MxNxK,...] [--add-n 100000000]

Prints one JSON object: {"torch", "cuda", "device", "sgemm": [{M, N, K, tflops, median_s}],
"add": {n, gbps, median_s}, "tiny_add_us"}. Kernels are timed with CUDA events around repeated
launches after a warm-up; the tiny add with the host clock around 10,000 calls and a sync.
"""
import argparse
import json
import time

SHAPES = [(1024, 1024, 1024), (2048, 2048, 2048), (4096, 4096, 4096), (8192, 8192, 8192),
          (12544, 64, 576), (256, 1024, 1024), (1, 1000, 4096)]


def time_cuda(torch, fn, reps):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1000.0)
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default="")
    ap.add_argument("--add-n", type=int, default=100_000_000)
    args = ap.parse_args()
    import torch
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    shapes = SHAPES if not args.shapes else [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    out = {"torch": torch.__version__, "cuda": torch.version.cuda, "device": torch.cuda.get_device_name(0), "sgemm": []}
    for (m, n, k) in shapes:
        a = torch.rand(m, k, device=dev)
        b = torch.rand(k, n, device=dev)
        c = torch.empty(m, n, device=dev)
        flops = 2.0 * m * n * k
        reps = max(5, min(200, int(2e12 / max(flops, 1))))
        s = time_cuda(torch, lambda: torch.matmul(a, b, out=c), reps)
        out["sgemm"].append({"M": m, "N": n, "K": k, "tflops": flops / s / 1e12, "median_s": s})
        del a, b, c
    n = args.add_n
    x = torch.rand(n, device=dev)
    y = torch.rand(n, device=dev)
    z = torch.empty(n, device=dev)
    s = time_cuda(torch, lambda: torch.add(x, y, out=z), 20)
    out["add"] = {"n": n, "gbps": 3 * 4 * n / s / 1e9, "median_s": s}
    del x, y, z
    one = torch.ones(1, device=dev)
    for _ in range(1000):
        one + one
    torch.cuda.synchronize()
    calls = 10_000
    t0 = time.perf_counter()
    for _ in range(calls):
        one + one
    torch.cuda.synchronize()
    out["tiny_add_us"] = (time.perf_counter() - t0) / calls * 1e6
    print(json.dumps(out))


if __name__ == "__main__":
    main()
