"""Time the same PyTorch-style training steps four ways, in one process: torch eager,
torchlike running the very same function of `lib` (eagerly, and wrapped in
`torchlike.compile`: the "compiled" columns), and a hand-written `jax.jit` of the
same whole step (forward, loss, `jax.value_and_grad`, the optimizer update written
functionally; same shapes and init distribution), which is the speed ceiling.

    python examples/benchmark.py [--quick] [--device cpu|cuda] [--only seed,mlp,...]
                                 [--json PATH] [--threads N]

Each step ends by reading its result on the host (`.tolist()`), as a training loop that
logs `loss.item()` does, so nothing can stay pending between steps. Per workload the first
step is timed on its own (a model built fresh, shapes no other workload uses, so the
structure is new to the process: it includes tracing and compiling); then one untimed
repeat warms up and the steady-state time per step is the median of several repeats.
The GPT-style row is the wall time of `python examples/gpt_tiny.py --lib X` from process
start. Three more tables follow: nn.DataParallel's weak scaling (`scaling`), each model
step's host CPU time per phase (`host`), and the host CPU time per batch of three common
DataLoader patterns (`data`). docs/performance.md explains the columns.
"""
import argparse
import compileall
import functools
import gc
import importlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback

try:
    import torch
except ImportError:
    torch = None


def _warm_torch():
    """torch before torchlike: torchlike's import freezes what exists then
    (torchlike/_collector.py), so torch's objects stay out of the collections torchlike's
    graphs cause, as they would in a program without torch. A first optimizer step makes
    most of them (torch imports its compiler stack then: about 120,000 objects)."""
    layer = torch.nn.Linear(2, 2)
    layer(torch.ones(1, 2)).sum().backward()
    torch.optim.SGD(layer.parameters(), lr=0.1).step()


if torch is not None:
    _warm_torch()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import torchlike  # noqa: E402

F32 = jnp.float32
tree_map = jax.tree_util.tree_map


# ---------------------------------------------------------------- shared pieces, lib side

def lib_trainer(lib, forward, parameters, optimizer, inputs, target):
    """One training step of a model: zero_grad, forward, cross_entropy, backward, step.
    `step.phases()` runs the same step and returns each phase's thread CPU time."""
    F = lib.nn.functional

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(forward(*inputs), target)
        loss.backward()
        optimizer.step()
        return loss

    def phases():       # (step's body again: a clock between its lines would time it too)
        clock = time.thread_time
        t0 = clock()
        optimizer.zero_grad()
        t1 = clock()
        loss = F.cross_entropy(forward(*inputs), target)
        t2 = clock()
        loss.backward()
        t3 = clock()
        optimizer.step()
        t4 = clock()
        loss.tolist()
        t5 = clock()
        return t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4
    step.phases = phases
    return step


def lib_model_step(lib, device, model, optimizer_cls, input_shape, classes=10, **opt_args):
    """A step for `model` (an nn.Module or a (forward, parameters) pair) on one fixed batch."""
    forward, parameters = (model, list(model.parameters())) if isinstance(model, lib.nn.Module) else model
    optimizer = optimizer_cls(parameters, **opt_args)
    x = lib.randn(*input_shape, device=device)
    y = lib.randint(0, classes, (input_shape[0],), device=device)
    # the batch is data made before training, as jax_batch's arrays are (JAX computes
    # them when made): torchlike's draws are pending until read, so read them here and
    # the first step's time is the step's, not the data sampler's compile
    x.tolist(), y.tolist()
    return lib_trainer(lib, forward, parameters, optimizer, (x,), y)


# ---------------------------------------------------------------- shared pieces, jax side

def jax_device(device):
    return jax.devices("gpu" if device == "cuda" else device)[0]


def uniform(key, shape, bound):
    return jax.random.uniform(key, shape, F32, -bound, bound)


def linear_init(key, fan_in, fan_out):
    """nn.Linear's init: weight and bias uniform in +-1/sqrt(fan_in)."""
    kw, kb = jax.random.split(key)
    bound = 1 / math.sqrt(fan_in)
    return {"w": uniform(kw, (fan_out, fan_in), bound), "b": uniform(kb, (fan_out,), bound)}


def linear(p, x):
    return x @ p["w"].T + p["b"]


def cross_entropy(logits, target):
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, target[:, None], axis=-1))


def sgd_momentum(lr, momentum):
    def init(params):
        return tree_map(jnp.zeros_like, params)

    def update(params, grads, buf):
        buf = tree_map(lambda b, g: momentum * b + g, buf, grads)
        return tree_map(lambda p, b: p - lr * b, params, buf), buf
    return init, update


def adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """torch.optim.Adam (weight_decay=0) or AdamW (decoupled weight_decay)."""
    b1, b2 = betas

    def init(params):
        return (jnp.zeros((), F32), tree_map(jnp.zeros_like, params), tree_map(jnp.zeros_like, params))

    def update(params, grads, state):
        t, m, v = state
        t = t + 1
        m = tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
        v = tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t

        def new(p, m, v):
            p = p * (1 - lr * weight_decay)
            return p - (lr / c1) * m / (jnp.sqrt(v) / jnp.sqrt(c2) + eps)
        return tree_map(new, params, m, v), (t, m, v)
    return init, update


def jax_trainer(device, loss_fn, params, optimizer, *batch):
    """A step() calling one jitted training step; params and optimizer state live here."""
    init, update = optimizer
    dev = jax_device(device)
    state = tree_map(jnp.copy, jax.device_put([params, init(params)], dev))  # distinct buffers
    batch = jax.device_put(batch, dev)

    @functools.partial(jax.jit, donate_argnums=(0, 1))      # updated in place, as torch does
    def train_step(params, opt_state, *batch):
        loss, grads = jax.value_and_grad(loss_fn)(params, *batch)
        params, opt_state = update(params, grads, opt_state)
        return params, opt_state, loss

    def step():
        state[0], state[1], loss = train_step(state[0], state[1], *batch)
        return loss
    return step


def jax_batch(input_shape, classes=10):
    kx, ky = jax.random.split(jax.random.key(1))
    return (jax.random.normal(kx, input_shape, F32),
            jax.random.randint(ky, (input_shape[0],), 0, classes, jnp.int32))


def jax_model_step(device, forward, params, optimizer, input_shape):
    def loss_fn(params, x, y):
        return cross_entropy(forward(params, x), y)
    return jax_trainer(device, loss_fn, params, optimizer, *jax_batch(input_shape))


# ---------------------------------------------------------------- 1. seed graph

def seed(lib, device):
    """The seed notebook's graph on a fresh leaf every step."""
    def step():
        x = lib.ones(3, 3, requires_grad=True, device=device)
        out = ((x + 2) * (x + 2) * 3).mean()
        out.backward()
        return x.grad
    return step


def seed_jax(device):
    def grad_of_fresh_leaf():
        x = jnp.ones((3, 3), F32)
        return jax.grad(lambda x: jnp.mean((x + 2) * (x + 2) * 3))(x)
    on_device = jax.sharding.SingleDeviceSharding(jax_device(device))
    return jax.jit(grad_of_fresh_leaf, out_shardings=on_device)


# ---------------------------------------------------------------- 2, 3. MLP, SGD momentum

def mlp(sizes, batch):
    def make(lib, device):
        nn = lib.nn
        lib.manual_seed(0)
        layers = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        model = nn.Sequential(*layers[:-1]).to(device)
        return lib_model_step(lib, device, model, lib.optim.SGD, (batch, sizes[0]),
                              lr=0.01, momentum=0.9)

    def make_jax(device):
        keys = jax.random.split(jax.random.key(0), len(sizes) - 1)
        params = [linear_init(k, a, b) for k, a, b in zip(keys, sizes[:-1], sizes[1:])]

        def forward(params, x):
            for p in params[:-1]:
                x = jax.nn.relu(linear(p, x))
            return linear(params[-1], x)
        return jax_model_step(device, forward, params, sgd_momentum(0.01, 0.9), (batch, sizes[0]))
    return make, make_jax


# ---------------------------------------------------------------- 4. CNN, Adam

CNN_BATCH = (32, 1, 28, 28)


def cnn(lib, device):
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2),          # 8 x 13 x 13
        nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),         # 16 x 5 x 5
        nn.Flatten(), nn.Linear(16 * 5 * 5, 10)).to(device)
    return lib_model_step(lib, device, model, lib.optim.Adam, CNN_BATCH, lr=1e-3)


def conv_init(key, c_in, c_out, k):
    """nn.Conv2d's init: uniform in +-1/sqrt(c_in * k * k)."""
    kw, kb = jax.random.split(key)
    bound = 1 / math.sqrt(c_in * k * k)
    return {"w": uniform(kw, (c_out, c_in, k, k), bound), "b": uniform(kb, (c_out,), bound)}


def conv_relu_pool(p, x):
    x = jax.lax.conv_general_dilated(x, p["w"], (1, 1), "VALID",
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
    x = jax.nn.relu(x + p["b"][:, None, None])
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")


def cnn_jax(device):
    k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
    params = [conv_init(k1, 1, 8, 3), conv_init(k2, 8, 16, 3), linear_init(k3, 16 * 5 * 5, 10)]

    def forward(params, x):
        x = conv_relu_pool(params[1], conv_relu_pool(params[0], x))
        return linear(params[2], x.reshape(x.shape[0], -1))
    return jax_model_step(device, forward, params, adam(1e-3), CNN_BATCH)


# ---------------------------------------------------------------- 5. TransformerEncoder, AdamW

D_MODEL, NHEAD, FFN, SEQ, BATCH = 64, 4, 256, 32, 16


def transformer_model(lib, device):
    """(forward, parameters) of the transformer workload's model."""
    nn = lib.nn
    lib.manual_seed(0)
    layer = nn.TransformerEncoderLayer(D_MODEL, NHEAD, dim_feedforward=FFN, dropout=0.0,
                                       batch_first=True)
    encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).to(device)
    head = nn.Linear(D_MODEL, 10).to(device)
    return (lambda x: head(encoder(x).mean(1)),
            list(encoder.parameters()) + list(head.parameters()))


def transformer(lib, device):
    return lib_model_step(lib, device, transformer_model(lib, device), lib.optim.AdamW,
                          (BATCH, SEQ, D_MODEL), lr=1e-3)


def layer_norm(p, x, eps=1e-5):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / jnp.sqrt(var + eps) * p["w"] + p["b"]


def encoder_layer_init(key, d, ffn):
    k1, k2, k3, k4 = jax.random.split(key, 4)
    ones, zeros = jnp.ones((d,), F32), jnp.zeros((d,), F32)
    return {"in_w": uniform(k1, (3 * d, d), math.sqrt(6 / (4 * d))),     # xavier_uniform
            "in_b": jnp.zeros((3 * d,), F32),
            "out": dict(linear_init(k2, d, d), b=zeros),
            "ff1": linear_init(k3, d, ffn), "ff2": linear_init(k4, ffn, d),
            "ln1": {"w": ones, "b": zeros}, "ln2": {"w": ones, "b": zeros}}


def encoder_layer(p, x, nhead):
    """nn.TransformerEncoderLayer, post-norm, relu, no dropout, batch_first."""
    B, T, D = x.shape
    q, k, v = jnp.split(x @ p["in_w"].T + p["in_b"], 3, axis=-1)
    q, k, v = (t.reshape(B, T, nhead, D // nhead).transpose(0, 2, 1, 3) for t in (q, k, v))
    att = jax.nn.softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(D // nhead), axis=-1)
    y = linear(p["out"], (att @ v).transpose(0, 2, 1, 3).reshape(B, T, D))
    x = layer_norm(p["ln1"], x + y)
    return layer_norm(p["ln2"], x + linear(p["ff2"], jax.nn.relu(linear(p["ff1"], x))))


def transformer_jax(device):
    k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
    params = {"layers": [encoder_layer_init(k, D_MODEL, FFN) for k in (k1, k2)],
              "head": linear_init(k3, D_MODEL, 10)}

    def forward(params, x):
        for p in params["layers"]:
            x = encoder_layer(p, x, NHEAD)
        return linear(params["head"], x.mean(1))
    return jax_model_step(device, forward, params, adam(1e-3, weight_decay=0.01),
                          (BATCH, SEQ, D_MODEL))


# ---------------------------------------------------------------- 6. LSTM, Adam

LSTM_IN, HIDDEN = 32, 64


def lstm(lib, device):
    nn = lib.nn
    lib.manual_seed(0)
    rnn = nn.LSTM(LSTM_IN, HIDDEN, batch_first=True).to(device)
    head = nn.Linear(HIDDEN, 10).to(device)
    model = (lambda x: head(rnn(x)[0][:, -1]), list(rnn.parameters()) + list(head.parameters()))
    return lib_model_step(lib, device, model, lib.optim.Adam, (BATCH, SEQ, LSTM_IN), lr=1e-3)


def lstm_jax(device):
    keys = jax.random.split(jax.random.key(0), 5)
    bound = 1 / math.sqrt(HIDDEN)
    params = {"w_ih": uniform(keys[0], (4 * HIDDEN, LSTM_IN), bound),
              "w_hh": uniform(keys[1], (4 * HIDDEN, HIDDEN), bound),
              "b_ih": uniform(keys[2], (4 * HIDDEN,), bound),
              "b_hh": uniform(keys[3], (4 * HIDDEN,), bound),
              "head": linear_init(keys[4], HIDDEN, 10)}

    def forward(p, x):
        xs = x.transpose(1, 0, 2) @ p["w_ih"].T + p["b_ih"] + p["b_hh"]

        def cell(carry, xt):
            h, c = carry
            i, f, g, o = jnp.split(xt + h @ p["w_hh"].T, 4, axis=-1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            return (h, c), None

        zeros = jnp.zeros((x.shape[0], HIDDEN), F32)
        (h, _), _ = jax.lax.scan(cell, (zeros, zeros), xs)
        return linear(p["head"], h)
    return jax_model_step(device, forward, params, adam(1e-3), (BATCH, SEQ, LSTM_IN))


# ---------------------------------------------------------------- 7. chain of elementwise ops

CHAIN_OPS = 10_000


def chain(lib, device):
    """CHAIN_OPS elementwise ops (a multiply and an add, repeated), then backward."""
    x = lib.ones(16, requires_grad=True, device=device)

    def step():
        x.grad = None
        y = x
        for _ in range(CHAIN_OPS // 2):
            y = y * 1.001 + 0.001
        y.sum().backward()
        return x.grad
    return step


def chain_jax(device):
    x = jax.device_put(jnp.ones(16, F32), jax_device(device))

    def forward(x):
        for _ in range(CHAIN_OPS // 2):
            x = x * 1.001 + 0.001
        return x.sum()
    grad = jax.jit(jax.grad(forward))
    return lambda: grad(x)


# ---------------------------------------------------------------- 8. per-sample gradients

PSG_SIZES, PSG_BATCH = (32, 64, 10), 64


def per_sample_grads(lib, device):
    """torch.func's per-sample gradients: vmap(grad(loss)) over functional_call, the same
    transform called every step (not a training step: no optimizer)."""
    nn, func = lib.nn, lib.func
    lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(*PSG_SIZES[:2]), nn.ReLU(), nn.Linear(*PSG_SIZES[1:]))
    model = model.to(device)
    params = {k: v.detach() for k, v in model.named_parameters()}
    x = lib.randn(PSG_BATCH, PSG_SIZES[0], device=device)
    y = lib.randint(0, PSG_SIZES[-1], (PSG_BATCH,), device=device)

    def loss(p, xi, yi):
        out = func.functional_call(model, p, (xi.unsqueeze(0),))
        return nn.functional.cross_entropy(out, yi.unsqueeze(0))
    per_sample = func.vmap(func.grad(loss), in_dims=(None, 0, 0))
    return lambda: per_sample(params, x, y)["2.weight"]


def per_sample_grads_jax(device):
    k1, k2 = jax.random.split(jax.random.key(0))
    params = [linear_init(k1, *PSG_SIZES[:2]), linear_init(k2, *PSG_SIZES[1:])]
    x, y = jax_batch((PSG_BATCH, PSG_SIZES[0]), PSG_SIZES[-1])

    def loss(p, xi, yi):
        out = linear(p[1], jax.nn.relu(linear(p[0], xi[None])))
        return cross_entropy(out, yi[None])
    on_device = jax.sharding.SingleDeviceSharding(jax_device(device))
    per_sample = jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0, 0)),
                         out_shardings=on_device)
    params, x, y = jax.device_put((params, x, y), on_device)
    return lambda: per_sample(params, x, y)[1]["w"]


# ---------------------------------------------------------------- timing

def first_steps(make_step):
    """(step, first step, second step) of a freshly made step, in seconds: its first call
    and its next one (which compiles again where the first step changed what the step
    sees, such as the optimizer state it created); then torchlike's background compiles
    finish, so that the steady state has none running on the side."""
    step = make_step()
    gc.collect()
    start = time.perf_counter()
    step().tolist()
    first = time.perf_counter() - start
    start = time.perf_counter()
    step().tolist()
    second = time.perf_counter() - start
    torchlike._background.wait()
    return step, first, second


WARM_SECONDS = 0.02


def steady_times(steps_by_label, steps, repeats, failed):
    """Median time per step of each step in `steps_by_label` (label -> step): one untimed
    warm-up repeat of `steps` steps, then `repeats` timed ones, taken in turns (a repeat
    of each label, then the next round), so that a burst of load on a shared machine
    slows every column of a row alike instead of one. Every step's result is read on
    the host. A step that raises is dropped and reported through failed(label, exc).
    Before each repeat its step runs untimed for WARM_SECONDS, as steps run back to back
    in a training loop: after another library's repeat, XLA's worker threads have gone
    to sleep (a 14 us jax.jit chain step took 180 us right after the switch), and
    torch's OpenMP threads spin for about 10 ms of CPU after its last op, which would
    slow the next repeat on a 2-core machine."""
    times = {label: [] for label in steps_by_label}
    for _ in range(repeats + 1):
        for label, step in list(steps_by_label.items()):
            try:
                warm_until = time.perf_counter() + WARM_SECONDS
                step().tolist()
                while time.perf_counter() < warm_until:
                    step().tolist()
                start = time.perf_counter()
                for _ in range(steps):
                    step().tolist()
                times[label].append((time.perf_counter() - start) / steps)
            except Exception as exc:                   # noqa: BLE001 (reported in the table)
                del steps_by_label[label], times[label]
                failed(label, exc)
    return {label: statistics.median(t[1:]) for label, t in times.items()}


mlp_small, mlp_small_jax = mlp((784, 256, 256, 10), 128)
mlp_large, mlp_large_jax = mlp((1024, 1024, 1024, 10), 512)

# name, description, lib step maker, jax.jit step maker, steps per timed repeat
WORKLOADS = [
    ("seed", "seed graph, fresh ones(3,3) leaf", seed, seed_jax, 200),
    ("mlp", "MLP 784-256-256-10 b128, SGD momentum", mlp_small, mlp_small_jax, 20),
    ("mlp_large", "MLP 1024-1024-1024-10 b512, SGD momentum", mlp_large, mlp_large_jax, 5),
    ("cnn", "CNN 2 conv+pool+linear 1x28x28 b32, Adam", cnn, cnn_jax, 10),
    ("transformer", "TransformerEncoder 2x d64 h4 seq32 b16, AdamW", transformer, transformer_jax, 10),
    ("lstm", "LSTM h64 in32 seq32 b16 + linear, Adam", lstm, lstm_jax, 10),
    ("chain", f"chain of {CHAIN_OPS:,} elementwise ops + backward", chain, chain_jax, 2),
    ("func", "per-sample grads, vmap(grad) of MLP 32-64-10 b64 (torch.func)",
     per_sample_grads, per_sample_grads_jax, 20),
]
GPT = "gpt"
SCALING = "scaling"
HOST = "host"
DATA = "data"
UTILS = "utils"
NAMES = [w[0] for w in WORKLOADS] + [GPT, SCALING, HOST, DATA, UTILS]


def unsupported(exc):
    traceback.print_exception(exc, file=sys.stderr)
    return "unsupported: " + f"{type(exc).__name__}: {exc}".splitlines()[0][:160]


def step_makers(workload, device, torch_ok):
    """label -> a function making the workload's step that way."""
    name, _, make, make_jax, _ = workload
    makers = {"torch": lambda: make(torch, device)} if torch_ok else {}
    makers["torchlike"] = lambda: make(torchlike, device)
    if name != "chain":      # (one 10,000-op program: minutes of XLA compile)
        makers["compiled"] = lambda: torchlike.compile(make(torchlike, device))
    makers["jax.jit"] = lambda: make_jax(device)
    return makers


def run_workload(workload, device, quick, torch_ok, fresh=False):
    """One row. `fresh`: the first and second steps of torchlike, compiled and jax.jit
    are those of a fresh process each (first_steps_in_fresh_process); the steps made here
    run their first steps all the same, before the steady state."""
    name, description, _, _, steps = workload
    steps, repeats = (max(1, steps // 10), 2) if quick else (steps, 5)
    row = {"name": name, "workload": description, "notes": []}
    makers = step_makers(workload, device, torch_ok)

    def failed(label, exc):
        if label in ("torch", "jax.jit"):
            raise exc
        row["notes"].append(("torchlike.compile " if label == "compiled" else "") + unsupported(exc))
        row.pop(label, None)

    alone = {label: first_steps_in_fresh_process(name, label, device)
             for label in makers if fresh and label != "torch"}
    steps_by_label = {}
    for label, make_step in makers.items():     # first steps: one after the other
        try:
            steps_by_label[label], first, second = first_steps(make_step)
            row[label] = (first, None, second)
        except Exception as exc:                       # noqa: BLE001 (reported in the table)
            failed(label, exc)
    in_process = {label: row[label][0] for label in alone if label in row}
    if in_process:
        row["first_in_process"] = in_process
    for label, measured in alone.items():
        if label in row and measured is not None:
            row[label] = (measured[0], None, measured[1])
        elif label in row:
            row["notes"].append(f"{label}: first steps measured in this process")
    for label, per_step in steady_times(steps_by_label, steps, repeats, failed).items():
        first, _, second = row[label]
        row[label] = (first, per_step, second)
    if name == "chain":
        per_op = [f"{label} {fmt(row[label][1] / CHAIN_OPS)}"
                  for label in ("torch", "torchlike", "jax.jit") if label in row]
        row["notes"].append("per op: " + ", ".join(per_op))
    row["notes"].append("second step: " + ", ".join(
        f"{label} {fmt(row[label][2])}" for label in ("torchlike", "compiled", "jax.jit")
        if label in row))
    return row


def first_steps_in_fresh_process(name, label, device):
    """(first, second) step of workload `name` made the `label` way, in a process of its
    own (first_step_worker), or None where it failed there. In one process, a later
    column's first step profits from what an earlier one of the same workload left
    behind (the same functions at the same shapes; docs/performance.md): the MLP's jax.jit
    first step took 247-282 ms after torchlike's and 290-330 alone or first, and
    torchlike's, which runs before it, 383-455 against 334-391 after jax.jit's."""
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--first-step-worker",
                           name, "--first-step-label", label, "--device", device],
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        return None
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return measured["first"], measured["second"]


def first_step_worker(name, label, device):
    """Prints the first and second step of workload `name` made the `label` way, as
    JSON: the whole run of a fresh process (first_steps_in_fresh_process)."""
    start_backends(device, torch_ok=False)
    workload = {w[0]: w for w in WORKLOADS}[name]
    _, first, second = first_steps(step_makers(workload, device, torch_ok=False)[label])
    print(json.dumps({"first": first, "second": second}))


def run_gpt(device, quick, threads, torch_ok):
    """Wall time of examples/gpt_tiny.py from process start, under torch and torchlike."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpt_tiny.py")
    extra = ["--steps", "3", "--tokens", "16"] if quick else []
    row = {"name": GPT, "notes": []}
    steps, tokens = ("3", "16") if quick else ("10", "64")
    row["workload"] = f"GPT-style script: {steps} AdamW steps + {tokens} tokens, wall from start"
    # torchlike's modules byte-compiled first, as pip does when it installs a package
    # (torch's are): otherwise, where PYTHONDONTWRITEBYTECODE is set, every run compiled
    # some 260 modules from source before its first line (0.3-1 s)
    compileall.compile_dir(os.path.dirname(torchlike.__file__), quiet=1)
    for label in (["torch"] if torch_ok else []) + ["torchlike"]:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads)) if label == "torch" else None
        start = time.perf_counter()
        done = subprocess.run([sys.executable, script, "--lib", label, "--device", device] + extra,
                              capture_output=True, text=True, env=env)
        wall = time.perf_counter() - start
        if done.returncode == 0:
            row[label] = (None, wall)
        elif label == "torchlike":
            sys.stderr.write(done.stderr)
            row["notes"].append("unsupported: " + (done.stderr.strip().splitlines() or ["?"])[-1][:160])
        else:
            raise RuntimeError(done.stderr)
    return row


# ---------------------------------------------------------------- host time per phase

HOST_WORKLOADS = ("mlp", "mlp_large", "cnn", "transformer", "lstm")
PHASES = ("zero_grad", "forward", "backward", "step", "read")


def run_host(device, quick, torch_ok):
    """Thread CPU time of each phase of the model steps, median over steps, for torch and
    torchlike; for jax.jit, its step's call and the read of its loss. On a CPU the
    device's threads share the cores with this thread, so a step's wall time is about
    this host time plus the device's: unlike wall time, it hardly moves with the
    machine's load, which makes it the measure of the engine's own cost. (torch computes
    on this thread: its phases include the arithmetic.)"""
    steps, warm = (5, 3) if quick else (50, 20)
    rows = []
    for name, _, make, make_jax, _ in WORKLOADS:
        if name not in HOST_WORKLOADS or (quick and name != "mlp"):
            continue
        libs = ([("torch", torch)] if torch_ok else []) + [("torchlike", torchlike)]
        for label, lib in libs:
            step = make(lib, device)
            for _ in range(warm):
                step().tolist()
            torchlike._background.wait()
            times = [step.phases() for _ in range(steps)]
            rows.append([name, label] + [statistics.median(t) for t in zip(*times)])
        step = make_jax(device)
        for _ in range(warm):
            step().tolist()
        times = []
        for _ in range(steps):
            start = time.thread_time()
            loss = step()
            called = time.thread_time()
            loss.tolist()
            times.append((called - start, time.thread_time() - called))
        call, read = (statistics.median(t) for t in zip(*times))
        rows.append([name, "jax.jit", None, None, None, call, read])
    return rows


def print_host(rows):
    print("\nHost CPU time per step (this thread), by phase, median; torch's phases include "
          "its arithmetic (it runs on this thread), jax.jit's step is its call")
    print(markdown_line(["workload", "library"] + list(PHASES) + ["host total"]))
    print(markdown_line(["---"] * (len(PHASES) + 3)))
    for name, label, *phases in rows:
        total = sum(p for p in phases if p is not None)
        print(markdown_line([name, label] + [fmt(p) for p in phases] + [fmt(total)]),
              flush=True)


# ---------------------------------------------------------------- training-loop utilities

UTILITIES = ("plain", "clip_grad_norm_", "clip_grad_value_", "zero_grad(set_to_none=False)",
             "GradScaler", "compiled model")
# (torchlike only: torch's compile of the model needs its inductor's C++ toolchain)
TORCHLIKE_ONLY = ("compiled model",)


def utility_step(lib, device, utility):
    """The transformer workload's step with one utility a training loop often adds to
    every step (or "plain", without)."""
    F, utils = lib.nn.functional, lib.nn.utils
    forward, params = transformer_model(lib, device)
    if utility == "compiled model":     # PyTorch's usual recipe: model compiled, loop eager
        forward = lib.compile(forward)
    optimizer = lib.optim.AdamW(params, lr=1e-3)
    scaler = lib.amp.GradScaler(device, init_scale=1024.0) if utility == "GradScaler" else None
    x = lib.randn(BATCH, SEQ, D_MODEL, device=device)
    y = lib.randint(0, 10, (BATCH,), device=device)

    def step():
        optimizer.zero_grad(set_to_none=utility != "zero_grad(set_to_none=False)")
        loss = F.cross_entropy(forward(x), y)
        (loss if scaler is None else scaler.scale(loss)).backward()
        if utility == "clip_grad_norm_":
            utils.clip_grad_norm_(params, 1.0)
        elif utility == "clip_grad_value_":
            utils.clip_grad_value_(params, 0.1)
        if scaler is None:
            optimizer.step()
        else:
            scaler.step(optimizer)
            scaler.update()
        return loss
    return step


def run_utils(device, quick, torch_ok):
    """Wall time per step of the transformer step plain and with each utility, under
    torch and torchlike (measured in turns, as the workloads are): [utility, torch,
    torchlike]. What a utility costs is its step's time less the plain step's."""
    steps, repeats = (2, 2) if quick else (10, 5)
    libs = ([("torch", torch)] if torch_ok else []) + [("torchlike", torchlike)]
    rows = []
    for utility in UTILITIES:
        made = {label: first_steps(functools.partial(utility_step, lib, device, utility))[0]
                for label, lib in libs
                if label == "torchlike" or utility not in TORCHLIKE_ONLY}
        times = steady_times(made, steps, repeats, failed=_raise)
        rows.append([utility, times.get("torch"), times["torchlike"]])
    return rows


def _raise(label, exc):
    raise exc


def print_utils(rows):
    print("\nTraining-loop utilities on the transformer step (AdamW): wall time per step, "
          "and what the utility adds to the plain step")
    print(markdown_line(["utility", "torch /step", "torchlike /step", "torch adds",
                         "torchlike adds"]))
    print(markdown_line(["---"] * 5))
    theirs_plain, ours_plain = rows[0][1], rows[0][2]
    for utility, theirs, ours in rows:
        added = ["-", "-"] if utility == "plain" else [
            fmt_change(theirs - theirs_plain) if theirs else "-", fmt_change(ours - ours_plain)]
        print(markdown_line([utility, fmt(theirs), fmt(ours)] + added), flush=True)


# ---------------------------------------------------------------- data loading

DATA_SAMPLES, DATA_BATCH = 4096, 64


def data_loaders(lib):
    """A DataLoader (batch 64, shuffled) for each way a training script commonly holds
    its data: a TensorDataset, a Dataset returning numpy rows and an int, and a Dataset
    indexing tensors it holds (`self.x[i]`)."""
    data = importlib.import_module(lib.__name__ + ".utils.data")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((DATA_SAMPLES, 32)).astype(np.float32)
    y = rng.integers(0, 10, DATA_SAMPLES)

    class NumpySamples(data.Dataset):
        def __len__(self):
            return DATA_SAMPLES

        def __getitem__(self, i):
            return x[i], int(y[i])

    class TensorSamples(data.Dataset):
        def __init__(self):
            self.x, self.y = lib.tensor(x), lib.tensor(y)

        def __len__(self):
            return DATA_SAMPLES

        def __getitem__(self, i):
            return self.x[i], self.y[i]

    datasets = {"TensorDataset": data.TensorDataset(lib.tensor(x), lib.tensor(y)),
                "numpy samples": NumpySamples(), "tensor samples": TensorSamples()}
    return {name: data.DataLoader(d, batch_size=DATA_BATCH, shuffle=True)
            for name, d in datasets.items()}


def run_data(quick, torch_ok):
    """Thread CPU time per batch of one pass over each loader (the batches read, as a
    training step reads them), for torch and torchlike: [pattern, torch, torchlike]."""
    passes = 1 if quick else 3
    times = {}
    for label, lib in ([("torch", torch)] if torch_ok else []) + [("torchlike", torchlike)]:
        for name, loader in data_loaders(lib).items():
            for x, y in loader:            # (a first pass: compiles, caches)
                pass
            start, batches = time.thread_time(), 0
            for _ in range(passes):
                for x, y in loader:
                    x.tolist(), y.tolist()
                    batches += 1
            times.setdefault(name, {})[label] = (time.thread_time() - start) / batches
    return [[name, t.get("torch"), t["torchlike"]] for name, t in times.items()]


def print_data(rows):
    print(f"\nData loading: thread CPU per {DATA_BATCH}-sample batch, read")
    print(markdown_line(["loader", "torch", "torchlike", "torchlike/torch"]))
    print(markdown_line(["---"] * 4))
    for name, theirs, ours in rows:
        ratio = f"{ours / theirs:.2f}" if theirs else "-"
        print(markdown_line([name, fmt(theirs), fmt(ours), ratio]), flush=True)


# ---------------------------------------------------------------- data-parallel scaling

SCALING_DEVICES = (1, 2, 4, 8)
SCALING_PER_DEVICE_BATCH = 64


def scaling_worker(devices, steps, device):
    """One process training the MLP with nn.DataParallel over `devices` local devices
    (simulated on a CPU) at a fixed batch per device: prints samples per second."""
    nn = torchlike.nn
    torchlike.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    devices = min(devices, len(jax.local_devices()))
    model = model.to(device)
    parallel = nn.DataParallel(model, device_ids=list(range(devices)))
    opt = torchlike.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    batch = SCALING_PER_DEVICE_BATCH * devices
    x = torchlike.randn(batch, 784, device=device)
    y = torchlike.randint(0, 10, (batch,), device=device)

    def step():
        opt.zero_grad()
        loss = torchlike.nn.functional.cross_entropy(parallel(x), y)
        loss.backward()
        opt.step()
        return loss
    for _ in range(3):
        step().item()
    start = time.perf_counter()
    for _ in range(steps):
        step().item()
    print(json.dumps({"devices": devices,
                      "samples_per_s": batch * steps / (time.perf_counter() - start)}))


def run_scaling(device, quick):
    """Weak scaling of nn.DataParallel: the MLP step at 64 samples per device on 1, 2, 4
    and 8 devices. On a CPU the devices are simulated (XLA_FLAGS), all sharing the same
    cores, so the efficiency measures the overhead of the sharded program, not a speed-up;
    on a GPU or TPU host, the real devices are used (up to as many as exist). --quick
    measures 1 and 2 devices only (each count is a fresh process: seconds of start-up)."""
    rows = []
    steps = "5" if quick else "30"
    for n in SCALING_DEVICES[:2] if quick else SCALING_DEVICES:
        env = dict(os.environ)
        if device == "cpu":
            env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") +
                                f" --xla_force_host_platform_device_count={n}").strip()
        done = subprocess.run([sys.executable, os.path.abspath(__file__), "--scaling-worker",
                               str(n), "--scaling-steps", steps, "--device", device],
                              capture_output=True, text=True, env=env)
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
            break
        row = json.loads(done.stdout.strip().splitlines()[-1])
        if rows and row["devices"] == rows[-1]["devices"]:
            break       # no more devices than that on this host
        rows.append(row)
    if rows:
        base = rows[0]["samples_per_s"]
        for r in rows:
            r["efficiency"] = r["samples_per_s"] / (base * r["devices"])
    return rows


def local_gpu_count():
    try:
        return len(jax.devices("gpu"))
    except RuntimeError:
        return 0


def print_scaling(rows, device):
    print(f"\nnn.DataParallel weak scaling, MLP 784-256-256-10, {SCALING_PER_DEVICE_BATCH} "
          f"samples per device ({'simulated CPU devices sharing the cores' if device == 'cpu' else device})")
    print(markdown_line(["devices", "samples/s", "efficiency"]))
    print(markdown_line(["---"] * 3))
    for r in rows:
        print(markdown_line([str(r["devices"]), f"{r['samples_per_s']:.0f}",
                             f"{r['efficiency']:.2f}"]), flush=True)


# ---------------------------------------------------------------- output

def fmt(seconds):
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def fmt_change(seconds):
    """A difference of times, signed (noise can make a step with more work faster)."""
    return ("-" if seconds < 0 else "+") + fmt(abs(seconds))


def ratio(row, a, b):
    if a not in row or b not in row:
        return "-"
    r = row[a][1] / row[b][1]
    return f"{r:.2g}" if r < 0.1 else f"{r:.2f}" if r < 100 else f"{r:.0f}"


COLUMNS = ["workload", "torch /step", "torchlike /step", "compiled /step", "jax.jit /step",
           "torchlike/torch", "compiled/torch", "jax.jit/torch", "torchlike/jax.jit",
           "compiled/jax.jit", "first step torch", "first step torchlike",
           "first step compiled", "first step jax.jit", "notes"]


def table_row(row):
    """`compiled` is torchlike.compile of the same step function."""
    def cell(label, which):
        return fmt(row[label][which]) if label in row and row[label][which] is not None else "-"
    return [row["workload"], cell("torch", 1), cell("torchlike", 1), cell("compiled", 1),
            cell("jax.jit", 1), ratio(row, "torchlike", "torch"), ratio(row, "compiled", "torch"),
            ratio(row, "jax.jit", "torch"), ratio(row, "torchlike", "jax.jit"),
            ratio(row, "compiled", "jax.jit"), cell("torch", 0), cell("torchlike", 0),
            cell("compiled", 0), cell("jax.jit", 0), "; ".join(row["notes"])]


def markdown_line(cells):
    return "| " + " | ".join(cells) + " |"


def jax_cpu_threads():
    """Threads in XLA's CPU intra-op pool: one per core this process may run on."""
    if "--xla_cpu_multi_thread_eigen=false" in os.environ.get("XLA_FLAGS", ""):
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def start_backends(device, torch_ok):
    """The backends, and JAX's lowering (its first jit imports MLIR's dialects, 0.15 s),
    started outside any timing: whichever way ran first would pay for them."""
    jax.jit(jnp.sin)(jnp.zeros(1)).block_until_ready()
    if torch_ok and device != "cpu":
        torch.zeros(1, device=device).tolist()


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="few steps and repeats (for tests)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--only", default=",".join(NAMES), help="comma-separated: " + ",".join(NAMES))
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--threads", type=int, help="torch threads (default: JAX's CPU pool size)")
    parser.add_argument("--scaling-worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scaling-steps", type=int, default=30, help=argparse.SUPPRESS)
    parser.add_argument("--first-step-worker", help=argparse.SUPPRESS)
    parser.add_argument("--first-step-label", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scaling_worker:
        return scaling_worker(args.scaling_worker, args.scaling_steps, args.device)
    if args.first_step_worker:
        return first_step_worker(args.first_step_worker, args.first_step_label, args.device)
    only = args.only.split(",")
    if set(only) - set(NAMES):
        parser.error(f"unknown workload(s) {sorted(set(only) - set(NAMES))}; choose from {NAMES}")

    threads = args.threads or jax_cpu_threads()
    torch_ok = torch is not None and (args.device == "cpu" or torch.cuda.is_available())
    if torch is not None:
        torch.set_num_threads(threads)
    start_backends(args.device, torch_ok)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    header = (f"device {args.device}; {platform.machine()}, {os.cpu_count()} cores, load avg {load}; "
              f"torch {torch.__version__ if torch else 'missing'} with {threads} thread(s) "
              f"({'set by --threads' if args.threads else '='} JAX's CPU pool: "
              f"{jax_cpu_threads()}, one thread per core), "
              f"jax {jax.__version__}; {'quick' if args.quick else 'full'} run")
    print(header, flush=True)
    if not torch_ok:
        print("torch: not available on this device; its columns stay empty", flush=True)

    rows = []
    print(markdown_line(COLUMNS))
    print(markdown_line(["---"] * len(COLUMNS)), flush=True)
    for workload in WORKLOADS:
        if workload[0] in only:
            rows.append(run_workload(workload, args.device, args.quick, torch_ok,
                                     fresh=not args.quick))
            print(markdown_line(table_row(rows[-1])), flush=True)
    if GPT in only:
        rows.append(run_gpt(args.device, args.quick, threads, torch_ok))
        print(markdown_line(table_row(rows[-1])), flush=True)
    scaling = []
    if SCALING in only:
        scaling = run_scaling(args.device, args.quick)
        print_scaling(scaling, args.device)
        if args.device == "cpu" and local_gpu_count():
            # the real devices too (not testable on a machine without a GPU)
            gpu_rows = run_scaling("cuda", args.quick)
            print_scaling(gpu_rows, "cuda")
            scaling = {"cpu": scaling, "cuda": gpu_rows}

    host = []
    if HOST in only:
        host = run_host(args.device, args.quick, torch_ok)
        print_host(host)

    loading = []
    if DATA in only:
        loading = run_data(args.quick, torch_ok)
        print_data(loading)

    utilities = []
    if UTILS in only:
        utilities = run_utils(args.device, args.quick, torch_ok)
        print_utils(utilities)

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"header": header, "rows": rows, "scaling": scaling, "host": host,
                       "data": loading, "utils": utilities}, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
