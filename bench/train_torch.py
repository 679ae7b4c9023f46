"""PyTorch side of bench/train.bench.mjs: one epoch of the course's Fashion-MNIST CNN.

    /usr/bin/python3 bench/train_torch.py --threads 2 [--root /usr/share/datasets/fashion-mnist] [--steps N]

The same model (conv 32 -> conv 32 -> max pool -> dense 128 -> dense 10, ReLU, PyTorch's default
initialisation), optimizer (Adam, lr 1e-3), batch size (64, shuffled) and preprocessing (pixels
/ 255, then (x - 0.2860) / 0.3530) as the dendrite side; the images are decoded into one tensor
up front on both sides, so the epoch time is the training loop. Prints one JSON line:
{"epoch_s", "epoch_cpu_s", "steps", "test_accuracy", "eval_s", "threads", "torch"}.
"""
import argparse
import gzip
import json
import os
import time

import numpy as np
import torch
from torch import nn


def read_idx(path):
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def split(root, name):
    def find(base):
        for p in (os.path.join(root, base + '.gz'), os.path.join(root, base)):
            if os.path.exists(p):
                return p
        raise SystemExit(f'train_torch.py: no {base}[.gz] in {root}')
    x = torch.from_numpy(read_idx(find(f'{name}-images-idx3-ubyte')).copy()).float().div_(255).unsqueeze(1)
    y = torch.from_numpy(read_idx(find(f'{name}-labels-idx1-ubyte')).astype(np.int64))
    return x.sub_(0.2860).div_(0.3530), y


def course_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(),
        nn.Conv2d(32, 32, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(32 * 12 * 12, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--root', default='/usr/share/datasets/fashion-mnist')
    ap.add_argument('--steps', type=int, default=0, help='stop the epoch after this many steps (0: the whole epoch)')
    ap.add_argument('--seed', type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    x_train, y_train = split(args.root, 'train')
    x_test, y_test = split(args.root, 't10k')
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_train, y_train), batch_size=64, shuffle=True)
    model = course_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    model.train()
    steps = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for xb, yb in loader:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        steps += 1
        if args.steps and steps >= args.steps:
            break
    epoch_s, epoch_cpu_s = time.perf_counter() - t0, time.process_time() - c0

    model.eval()
    t0 = time.perf_counter()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x_test), 500):
            correct += (model(x_test[i:i + 500]).argmax(1) == y_test[i:i + 500]).sum().item()
    eval_s = time.perf_counter() - t0
    print(json.dumps({'epoch_s': epoch_s, 'epoch_cpu_s': epoch_cpu_s, 'steps': steps, 'test_accuracy': correct / len(x_test),
                      'eval_s': eval_s, 'threads': torch.get_num_threads(), 'torch': torch.__version__}))


if __name__ == '__main__':
    main()
