"""An MLP trained on many different batch sizes, one after the other: every step's
structure is new to the process. Issue 8's target: memory stays bounded and no step is
slower than an op-by-op tier would run it.

    python examples/batch_sizes.py [--sizes 300] [--every 50]

torchlike has no op-by-op tier of its own (docs/performance.md says why: on XLA's CPU
backend a per-op executable compiles per shape too), so the op-by-op column is JAX's own
eager mode running the same step un-jitted: `jax.value_and_grad` of the same forward
and loss, then the same SGD-momentum update, each JAX call one cached per-shape
executable (`jax.disable_jit` would split them further into primitives, which is slower
still). JAX keeps every one of them (about 40 MB per batch size here), so that side
clears JAX's caches every 32 sizes, as a bounded tier would. Both sides meet batch sizes
1, 2, ..., N, each size on one side and then on the other (so both see the same machine
load), and read the loss on the host every step. The resident memory printed is the
process's, both sides' compiled code together.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchmark  # noqa: E402  (imports torch first when present: see its header)
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import torchlike  # noqa: E402

SIZES = (784, 256, 256, 10)
LR, MOMENTUM = 0.01, 0.9


def resident_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def torchlike_steps():
    """A step function of the batch size, on one torchlike model and optimizer."""
    nn = torchlike.nn
    torchlike.manual_seed(0)
    layers = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    optimizer = torchlike.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)

    def step(batch):
        x = torchlike.randn(batch, SIZES[0])
        y = torchlike.randint(0, SIZES[-1], (batch,))
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def op_by_op_steps():
    """The same step in JAX's eager mode: no jit of ours, one executable per JAX call."""
    keys = jax.random.split(jax.random.key(0), len(SIZES) - 1)
    params = [benchmark.linear_init(k, a, b) for k, a, b in zip(keys, SIZES[:-1], SIZES[1:])]
    init, update = benchmark.sgd_momentum(LR, MOMENTUM)
    state = {"params": params, "buf": init(params), "key": jax.random.key(1)}

    def loss_of(params, x, y):
        for p in params[:-1]:
            x = jax.nn.relu(benchmark.linear(p, x))
        return benchmark.cross_entropy(benchmark.linear(params[-1], x), y)

    def step(batch):
        state["key"], kx, ky = jax.random.split(state["key"], 3)
        x = jax.random.normal(kx, (batch, SIZES[0]), jnp.float32)
        y = jax.random.randint(ky, (batch,), 0, SIZES[-1])
        loss, grads = jax.value_and_grad(loss_of)(state["params"], x, y)
        state["params"], state["buf"] = update(state["params"], grads, state["buf"])
        return float(loss)
    return step


def timed(step, batch):
    """Seconds of one step, and the XLA compiles and releases of compiled code during it."""
    counter = torchlike._caches.compiles       # (torchlike's count of XLA compiles)
    before = counter.total, counter.resets
    start = time.perf_counter()
    step(batch)
    return time.perf_counter() - start, counter.total - before[0], counter.resets - before[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, default=300)
    parser.add_argument("--every", type=int, default=50, help="print memory every N sizes")
    args = parser.parse_args()
    ours, eager = torchlike_steps(), op_by_op_steps()
    rows = []
    for batch in range(1, args.sizes + 1):       # interleaved: both sides see the same load
        rows.append((timed(ours, batch), timed(eager, batch)[0]))
        if batch % 32 == 0:
            jax.clear_caches()     # the op-by-op side as a bounded tier (every size is new)
        if batch % args.every == 0:
            print(f"  {batch} sizes met, resident {resident_mb():.0f} MB", flush=True)
    ratios = [mine[0] / theirs for mine, theirs in rows]
    print(f"{args.sizes} batch sizes: torchlike {sum(m[0] for m, _ in rows):.1f} s, jax op by op"
          f" {sum(t for _, t in rows):.1f} s; per step torchlike/op-by-op median"
          f" {sorted(ratios)[len(ratios) // 2]:.2f}")
    print(f"steps slower than op by op: {sum(r > 1 for r in ratios)}")
    for i in sorted(range(len(ratios)), key=ratios.__getitem__)[-min(3, len(ratios)):][::-1]:
        (mine, compiles, releases), theirs = rows[i]
        print(f"  batch {i + 1}: {ratios[i]:.2f}x ({mine * 1e3:.0f} against {theirs * 1e3:.0f} ms),"
              f" {compiles} compiles, {releases} releases of compiled code")

if __name__ == "__main__":
    main()
