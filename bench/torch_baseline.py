#!/usr/bin/python3
"""PyTorch baselines for `make bench`: the same networks, shapes, data,
batch size and initialisation schemes as dlgrade's reference, timed on this
machine.

Run with Debian's interpreter (/usr/bin/python3), which sees python3-torch.
PyTorch's speed on a small machine depends on its thread settings (its own
OpenMP threads and OpenBLAS's pthreads compete for the same cores), so
scripts/bench runs this script once per configuration:

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch_baseline.py --threads 2 linear conv

and compares dlgrade against the fastest. Every measurement is preceded by
warm-up calls (a fresh process's first calls are several times slower) and
repeated; each prints one line

    RESULT NAME MEDIAN MIN MAX UNIT runs=R [key=value ...]

What is timed matches dlgrade's side:
  gemm512     C = A B, 512 x 512 x 512, float32
  linear      nn.Linear(784, 256), batch 64: forward, then backward giving
              dx, dW and db (bench/kernels_bench.c times the same)
  conv1/conv2 the CNN's two convolutions, batch 64, 3x3, padding 1:
              (1, 28, 28) -> 32 and (32, 14, 14) -> 64; forward, then
              backward giving dx, dW and db (bench/conv_bench.c)
  mlp/cnn     epochs of reference/models/{mlp,cnn}.yaml with Adam (lr 1e-3),
              batch 64, shuffled, each epoch timed like `dlgrade train`'s:
              training, the running training accuracy, then evaluating the
              test set in batches of 256
  mlp-probe/cnn-probe
              3 runs of 100 / 10 training batches, only to pick the fastest thread
              configuration before the long epoch runs
"""
import argparse
import gzip
import os
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def report(name, values, unit, **extra):
    """One RESULT line: median, min and max of the runs."""
    fields = " ".join(f"{key}={value}" for key, value in extra.items())
    print(f"RESULT {name} {statistics.median(values):.6g} {min(values):.6g} "
          f"{max(values):.6g} {unit} runs={len(values)} {fields}".rstrip(), flush=True)


def timed_runs(step, runs, warmup, repeat=1):
    """Wall times of `runs` runs of `repeat` calls each, per call, after
    `warmup` untimed calls."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(repeat):
            step()
        times.append((time.perf_counter() - start) / repeat)
    return times


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


def initialise(model):
    """dlgrade's schemes: He-uniform weights (bound sqrt(6 / fan_in)),
    Xavier-uniform for the last layer, zero biases."""
    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    for layer in layers:
        if layer is layers[-1]:
            nn.init.xavier_uniform_(layer.weight)
        else:
            nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
        nn.init.zeros_(layer.bias)
    return model


def mlp():
    return initialise(nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(),
                                    nn.Linear(256, 10)))


def cnn():
    return initialise(nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10)))


def train_batches(model, optimizer, x, y, order, batch):
    """One pass over `order`; returns the number of correct predictions."""
    correct = 0
    for i in range(0, len(order), batch):
        index = order[i:i + batch]
        logits = model(x[index])
        loss = F.cross_entropy(logits, y[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        correct += (logits.detach().argmax(1) == y[index]).sum().item()
    return correct


def evaluate(model, x, y, batch=256):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    model.train()
    return correct / len(x)


def warm_up(make_model, x, y, batches):
    """A throwaway model trained for a few batches: the allocator, thread
    pools and kernels' first-call costs are paid before the clock starts."""
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_batches(model, optimizer, x, y, torch.randperm(len(x))[:batches * 64], 64)


def epochs(name, make_model, data, count):
    x, y, xt, yt = data
    warm_up(make_model, x, y, 20)
    torch.manual_seed(1)
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    times, accuracy = [], 0.0
    for _ in range(count):
        start = time.perf_counter()
        train_batches(model, optimizer, x, y, torch.randperm(len(x)), 64)
        accuracy = evaluate(model, xt, yt)
        times.append(time.perf_counter() - start)
    report(f"{name}_epoch", times, "s", train_samples=len(x), test_accuracy=f"{accuracy:.4f}")


def probe(name, make_model, data, batches, runs):
    x, y = data[0], data[1]
    model = make_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = torch.randperm(len(x))[:batches * 64]
    times = timed_runs(lambda: train_batches(model, optimizer, x, y, order, 64), runs, 1)
    report(f"{name}_probe", [t * 1e3 / batches for t in times], "ms/batch", batches=batches)


def gemm512(runs):
    a, b = torch.randn(512, 512), torch.randn(512, 512)
    times = timed_runs(lambda: torch.mm(a, b), runs, 5)
    report("gemm512", [2 * 512 ** 3 / t * 1e-9 for t in times], "GFLOP/s")


def forward_backward(layer, x, name, runs, repeat):
    dout = torch.randn_like(layer(x))

    def step():
        layer(x).backward(dout)  # dW, db and dx accumulate, as dlgrade's do

    times = timed_runs(step, runs, 10, repeat)
    report(name, [t * 1e3 for t in times], "ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", nargs="+",
                        choices=["gemm512", "linear", "conv1", "conv2", "mlp", "cnn",
                                 "mlp-probe", "cnn-probe"])
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="torch.set_num_threads (default: all cores)")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per kernel")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per model")
    parser.add_argument("--limit", type=int, default=0,
                        help="train on the first N training samples (as dlgrade train --limit)")
    args = parser.parse_args()

    torch.manual_seed(1)
    torch.set_num_threads(args.threads)
    print(f"CONFIG torch={torch.__version__} numpy={np.__version__} "
          f"threads={torch.get_num_threads()} "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}", flush=True)
    data = None
    if any(w in ("mlp", "cnn", "mlp-probe", "cnn-probe") for w in args.what):
        data = load_fashion_mnist(os.environ.get("DLGRADE_DATA",
                                                 "/usr/share/datasets/fashion-mnist"))
        if args.limit > 0:
            data = (data[0][:args.limit], data[1][:args.limit], data[2], data[3])
    for what in args.what:
        if what == "gemm512":
            gemm512(args.runs)
        elif what == "linear":
            x = torch.randn(64, 784, requires_grad=True)
            forward_backward(nn.Linear(784, 256), x, "linear", args.runs, 20)
        elif what == "conv1":
            x = torch.randn(64, 1, 28, 28, requires_grad=True)
            forward_backward(nn.Conv2d(1, 32, 3, padding=1), x, "conv1", args.runs, 1)
        elif what == "conv2":
            x = torch.randn(64, 32, 14, 14, requires_grad=True)
            forward_backward(nn.Conv2d(32, 64, 3, padding=1), x, "conv2", args.runs, 1)
        elif what == "mlp-probe":
            probe("mlp", mlp, data, 100, 3)
        elif what == "cnn-probe":
            probe("cnn", cnn, data, 10, 3)
        elif what == "mlp":
            epochs("mlp", mlp, data, args.epochs)
        elif what == "cnn":
            epochs("cnn", cnn, data, args.epochs)


if __name__ == "__main__":
    main()
