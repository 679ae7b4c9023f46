"""PyTorch anchor for bench/rnn.bench.mjs: nn.LSTM forward and forward+backward.

    OMP_NUM_THREADS=n /usr/bin/python3 bench/rnn_anchor.py --threads n --shapes 50x64x128x256

Prints one JSON object per line: {"threads", "T", "N", "I", "H", "forward_s", "train_s",
"forward_cpu_s", "train_cpu_s"}: the median wall time of repeated calls after a warm-up, and the
mean process CPU time per call (forward under no_grad; train = forward, sum, backward, with the
gradients cleared in between, as the dendrite side does).
"""
import argparse
import json
import time

import torch


def median_time(fn, budget_s=1.5, min_reps=5):
    """(median wall seconds, mean CPU seconds) per call."""
    fn()
    times = []
    start = time.perf_counter()
    cpu0 = time.process_time()
    while len(times) < min_reps or (time.perf_counter() - start < budget_s and len(times) < 200):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    cpu = (time.process_time() - cpu0) / len(times)
    times.sort()
    return times[len(times) // 2], cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--shapes", default="50x64x128x256")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    for s in args.shapes.split(","):
        T, N, I, H = (int(v) for v in s.split("x"))
        lstm = torch.nn.LSTM(I, H)
        x = torch.randn(T, N, I)

        def forward():
            with torch.no_grad():
                lstm(x)

        def train():
            y, _ = lstm(x)
            y.sum().backward()
            for p in lstm.parameters():
                p.grad = None

        fwd, fwd_cpu = median_time(forward)
        trn, trn_cpu = median_time(train)
        print(json.dumps({"threads": args.threads, "T": T, "N": N, "I": I, "H": H, "forward_s": fwd, "train_s": trn,
                          "forward_cpu_s": fwd_cpu, "train_cpu_s": trn_cpu}), flush=True)


if __name__ == "__main__":
    main()
