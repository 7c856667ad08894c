#!/usr/bin/python3
"""PyTorch baselines for `make bench`: the same networks, data and batch
size as dlgrade's reference, timed on this machine.

Run with Debian's interpreter (/usr/bin/python3), which sees python3-torch.
Prints one line per measurement: NAME SECONDS [extra], for scripts/bench.
"""
import gzip
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_fashion_mnist(directory):
    def images(name):
        with gzip.open(os.path.join(directory, name)) as f:
            data = np.frombuffer(f.read(), np.uint8, offset=16)
        return torch.from_numpy(data.reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)

    def labels(name):
        with gzip.open(os.path.join(directory, name)) as f:
            data = np.frombuffer(f.read(), np.uint8, offset=8)
        return torch.from_numpy(data.astype(np.int64))

    return (images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz"),
            images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz"))


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def epoch_seconds(model, x, y, batch, epochs):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for _ in range(epochs):
        order = torch.randperm(len(x))
        start = time.perf_counter()
        for i in range(0, len(x), batch):
            index = order[i:i + batch]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x[index]), y[index])
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    return min(times)


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def conv_forward_backward_ms(repeats=20):
    x = torch.randn(64, 32, 14, 14, requires_grad=True)
    conv = nn.Conv2d(32, 64, 3, padding=1)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out = conv(x)
        out.backward(torch.ones_like(out))
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def main():
    what = sys.argv[1:] or ["mlp"]
    torch.manual_seed(1)
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", os.cpu_count())))
    directory = os.environ.get("DLGRADE_DATA", "/usr/share/datasets/fashion-mnist")
    if "mlp" in what or "cnn" in what:
        x, y, xt, yt = load_fashion_mnist(directory)
    if "mlp" in what:
        model = mlp()
        seconds = epoch_seconds(model, x, y, 64, 3)
        print(f"torch_mlp_epoch_seconds {seconds:.3f} test_accuracy {accuracy(model, xt, yt):.4f}")
    if "conv" in what:
        print(f"torch_conv_ms {conv_forward_backward_ms():.2f}")
    if "cnn" in what:
        model = cnn()
        seconds = epoch_seconds(model, x, y, 64, 1)
        print(f"torch_cnn_epoch_seconds {seconds:.3f}")


if __name__ == "__main__":
    main()
