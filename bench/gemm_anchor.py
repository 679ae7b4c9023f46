"""SGEMM anchors for bench/gemm.bench.mjs: numpy (OpenBLAS) or PyTorch on the same shapes.

    OPENBLAS_NUM_THREADS=n python3 bench/gemm_anchor.py numpy --threads n
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/gemm_anchor.py torch --threads n

Prints one JSON object per line: {"lib", "threads", "M", "N", "K", "gflops", "median_s"}.
The median of repeated calls into preallocated outputs, after a warm-up call.
"""
import argparse
import json
import time

SHAPES = [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048),
          (64, 128, 784), (256, 1024, 1024), (12544, 64, 576), (1, 1000, 4096)]


def median_time(fn, flops, budget_s=0.4, min_reps=5):
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or (time.perf_counter() - start < budget_s and len(times) < 2000):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("lib", choices=["numpy", "torch"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--shapes", default="")
    args = ap.parse_args()
    shapes = SHAPES
    if args.shapes:
        shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    import numpy as np
    rng = np.random.default_rng(0)
    if args.lib == "torch":
        import torch
        torch.set_num_threads(args.threads)
    for (M, N, K) in shapes:
        a = rng.standard_normal((M, K), dtype=np.float32)
        b = rng.standard_normal((K, N), dtype=np.float32)
        c = np.empty((M, N), dtype=np.float32)
        if args.lib == "numpy":
            fn = lambda: np.matmul(a, b, out=c)
        else:
            ta, tb, tc = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(c)
            fn = lambda: torch.matmul(ta, tb, out=tc)
        flops = 2.0 * M * N * K
        t = median_time(fn, flops)
        print(json.dumps({"lib": args.lib, "threads": args.threads, "M": M, "N": N, "K": K,
                          "gflops": flops / t / 1e9, "median_s": t}), flush=True)


if __name__ == "__main__":
    main()
