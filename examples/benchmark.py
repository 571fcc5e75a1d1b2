"""Time the same PyTorch-style code under real torch and under torchlike, in one process.

    python examples/benchmark.py [--quick] [--device cpu|cuda]

Each workload is a function of `lib` (torch or torchlike) run unchanged on both. It is
warmed up first (torchlike compiles each new graph structure once), then timed as the
median of several repeats; the ratio torchlike/torch is what to quote (below 1: faster).
"""
import argparse
import statistics
import time

import torchlike

try:
    import torch
except ImportError:
    torch = None


def seed_walkthrough(lib, steps, device):
    """The seed notebook's graph, forward and backward, in a loop."""
    x = lib.ones(3, 3, requires_grad=True, device=device)
    for _ in range(steps):
        out = ((x + 2) * (x + 2) * 3).mean()
        out.backward()
    return x.grad.sum().item()


def mlp_sgd(lib, steps, device, batch=128, sizes=(784, 256, 256, 10), lr=0.01):
    """A 3-layer MLP written with raw tensors, manual SGD under no_grad."""
    lib.manual_seed(0)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = (lib.randn(fan_in, fan_out, device=device) / fan_in ** 0.5).requires_grad_()
        b = lib.zeros(fan_out, device=device, requires_grad=True)
        params += [w, b]
    x = lib.randn(batch, sizes[0], device=device)
    target = lib.randint(0, sizes[-1], (batch,), device=device)
    onehot = (target[:, None] == lib.arange(sizes[-1], device=device)).float()
    for _ in range(steps):
        h = x
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i < len(params) - 2:
                h = h.relu()
        logp = h - h.exp().sum(1, keepdim=True).log()
        loss = -(logp * onehot).sum(1).mean()
        loss.backward()
        with lib.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
    return loss.item()


def chain(lib, steps, device, length=200):
    """A long chain of small ops (graph size stresses the engine)."""
    x = lib.ones(16, requires_grad=True, device=device)
    for _ in range(steps):
        y = x
        for _ in range(length):
            y = y * 1.001 + 0.001
        y.sum().backward()
    return x.grad.sum().item()


WORKLOADS = [
    ("seed walkthrough x100", seed_walkthrough, 100),
    ("MLP 784-256-256-10 b128 SGD x50", mlp_sgd, 50),
    ("200-op chain fwd+bwd x10", chain, 10),
]


def timed(fn, lib, steps, device, repeats):
    fn(lib, 2, device)                       # warm-up: compile, allocate
    if lib is torchlike:
        fn(lib, steps, device)               # same structure again: cached from now on
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(lib, steps, device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    print(f"{'workload':36s} {'torch s':>9s} {'torchlike s':>12s} {'ratio':>7s}")
    for name, fn, steps in WORKLOADS:
        theirs = timed(fn, torch, steps, args.device, repeats) if torch is not None else float("nan")
        ours = timed(fn, torchlike, steps, args.device, repeats)
        print(f"{name:36s} {theirs:9.4f} {ours:12.4f} {ours / theirs:7.2f}x")


if __name__ == "__main__":
    main()
