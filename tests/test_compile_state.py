"""torchlike.compile finds the state a function reaches through the user's own objects
(a trainer holding a model, an optimizer, counters and tensors), and breaks where it
would write a tensor it did not find.

Values are compared with the same code run eagerly by real torch (torch.compile needs a
C++ toolchain for inductor; its results equal eager torch's within rounding by design).
"""
import numpy as np
import pytest

import torchlike
from helpers import float_tol, to_numpy

torch = pytest.importorskip("torch")

# a few training steps of a 3x2 linear layer: dot products of 3 terms, a mean of 8
# squares, the same backward and an SGD update, per step
TOL = float_tol("float32", steps=64)
X = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)


def _close(got, want):
    np.testing.assert_allclose(to_numpy(got), want.detach().numpy(), **TOL)


class Trainer:
    """Lightning-style: the compiled step is a bound method reading `self`."""

    def __init__(self, lib):
        self.lib = lib
        self.model = lib.nn.Linear(3, 2)
        with lib.no_grad():
            self.model.weight.copy_(lib.tensor(np.arange(6, dtype=np.float32).reshape(2, 3) / 10))
            self.model.bias.fill_(0.5)
        self.opt = lib.optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9)
        self.scale = 1.0                  # read by the step: part of the guard
        self.steps_done = 0               # written by the step: replayed after each call
        self.seen = lib.zeros(2)          # a tensor attribute written in place
        self.losses = []                  # never named by the step: not followed
        self.epoch = 0                    # never named by the step: not guarded

    def loss_of(self, x):                 # a method the step calls: its names count too
        return (self.model(x) * self.scale).pow(2).mean()

    def step(self, x):
        self.opt.zero_grad()
        loss = self.loss_of(x)
        loss.backward()
        self.opt.step()
        self.seen.add_(self.model.bias.detach())
        self.steps_done += 1
        return loss


def _train(lib, compiled, calls=4):
    t = Trainer(lib)
    step = lib.compile(t.step) if compiled else t.step
    x = lib.tensor(X)
    losses = []
    for i in range(calls):
        if i == 2:
            t.scale = 0.5                 # a guarded value changes outside
        loss = step(x)
        t.losses.append(loss.item())      # changes that the step never reads
        t.epoch += 1
        losses.append(loss)
    return t, losses


def test_a_compiled_method_of_a_trainer_object_gives_torchs_numbers():
    torchlike._dynamo.utils.counters.clear()
    mine, my_losses = _train(torchlike, compiled=True)
    ref, ref_losses = _train(torch, compiled=False)
    for got, want in zip(my_losses, ref_losses):
        _close(got, want)
    for got, want in [(mine.model.weight, ref.model.weight), (mine.model.bias, ref.model.bias),
                      (mine.model.weight.grad, ref.model.weight.grad), (mine.seen, ref.seen),
                      (mine.opt.state[mine.model.weight]["momentum_buffer"],
                       ref.opt.state[ref.model.weight]["momentum_buffer"])]:
        _close(got, want)
    assert mine.steps_done == ref.steps_done == 4
    assert not torchlike._dynamo.utils.counters["graph_break"]


def test_attributes_the_code_never_names_are_not_guarded():
    class Loop:
        def __init__(self):
            self.scale = 2.0
            self.history, self.epoch = [], 0

        def step(self, x):
            return x * self.scale

    torchlike._dynamo.utils.counters.clear()
    loop = Loop()
    step = torchlike.compile(loop.step)
    for i in range(3):
        loop.history.append(step(torchlike.ones(2)).sum().item())
        loop.epoch += 1
    assert torchlike._dynamo.utils.counters["stats"]["unique_graphs"] == 1
    loop.scale = 3.0                      # a value the code names: a new guard
    assert to_numpy(step(torchlike.ones(2))).tolist() == [3.0, 3.0]
    assert torchlike._dynamo.utils.counters["stats"]["unique_graphs"] == 2
    assert loop.history == [4.0, 4.0, 4.0]


def test_a_leaf_reached_through_containers_accumulates_its_grad():
    class Holder:
        def __init__(self, lib):
            self.w = lib.ones(3, requires_grad=True)

    def run(lib, compiled):
        store = {"holders": [Holder(lib)]}

        def f(x):
            (store["holders"][0].w * x).sum().backward()
            return x * 2
        g = lib.compile(f) if compiled else f
        for _ in range(3):
            g(lib.tensor([1.0, 2.0, 3.0]))
        return store["holders"][0].w.grad

    _close(run(torchlike, True), run(torch, False))


def test_a_tensor_attribute_replaced_outside_is_read_anew():
    def run(lib, compiled):
        class Box:
            pass
        box = Box()
        box.offset = lib.zeros(2)

        def f(x):
            return x + box.offset
        g = lib.compile(f) if compiled else f
        out = [g(lib.ones(2))]
        box.offset = lib.full((2,), 3.0)
        out.append(g(lib.ones(2)))
        return out

    for got, want in zip(run(torchlike, True), run(torch, False)):
        _close(got, want)


def test_a_hidden_state_carried_on_an_object_between_calls():
    def run(lib, compiled):
        class Cell:
            def __init__(self):
                self.hidden = lib.zeros(2)

            def __call__(self, x):
                self.hidden = (self.hidden * 0.5 + x).tanh()
                return self.hidden
        cell = Cell()
        g = lib.compile(cell.__call__) if compiled else cell
        return [g(lib.tensor([1.0, -2.0])) for _ in range(3)] + [cell.hidden]

    for got, want in zip(run(torchlike, True), run(torch, False)):
        _close(got, want)


class _Hidden:
    pass


def _reached_by_a_dynamic_name(lib):
    """A tensor the code reaches with getattr(obj, "name"): no attribute name in the
    code says so, so the state walk cannot know it."""
    holder = _Hidden()
    holder.total = lib.zeros(3)

    def f(x):
        getattr(holder, "total").add_(x)
        return x * 2
    return holder, f


def test_a_write_to_a_tensor_the_walk_did_not_find_runs_eagerly():
    torchlike._dynamo.utils.counters.clear()
    results = []
    for lib, compiled in ((torchlike, True), (torch, False)):
        holder, f = _reached_by_a_dynamic_name(lib)
        g = lib.compile(f) if compiled else f
        outs = [g(lib.ones(3)) for _ in range(3)]
        results.append(outs + [holder.total])
    for got, want in zip(*results):
        _close(got, want)
    assert dict(torchlike._dynamo.utils.counters["graph_break"]) == {
        "Write to a tensor outside the compiled function's state": 1}


def test_fullgraph_refuses_a_write_outside_the_state_and_writes_nothing():
    holder, f = _reached_by_a_dynamic_name(torchlike)
    with pytest.raises(torchlike._dynamo.exc.Unsupported) as info:
        torchlike.compile(f, fullgraph=True)(torchlike.ones(3))
    message = str(info.value)
    assert message.startswith("Write to a tensor outside the compiled function's state")
    assert 'getattr(holder, "total").add_(x)' in message      # names the line
    assert to_numpy(holder.total).tolist() == [0.0, 0.0, 0.0]


def test_a_leaf_grad_written_outside_the_state_runs_eagerly():
    holder = _Hidden()
    holder.w = torchlike.ones(2, requires_grad=True)

    def f(x):
        (getattr(holder, "w") * x).sum().backward()
        return x
    g = torchlike.compile(f)
    for _ in range(3):
        g(torchlike.tensor([1.0, 2.0]))
    # the gradient of sum(w * x) is x, accumulated over three calls
    assert to_numpy(holder.w.grad).tolist() == [3.0, 6.0]


def test_a_grad_scaler_inside_a_compiled_step_breaks_and_gives_torchs_numbers():
    def run(lib, compiled):
        model = lib.nn.Linear(3, 1)
        with lib.no_grad():
            model.weight.copy_(lib.tensor([[0.1, 0.2, 0.3]]))
            model.bias.fill_(0.5)
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        scaler = lib.amp.GradScaler("cpu")
        x = lib.tensor(np.ones((4, 3), np.float32))

        def step(x):
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            return loss
        f = lib.compile(step) if compiled else step
        return [f(x) for _ in range(3)] + [model.weight, lib.tensor(scaler.get_scale())]

    torchlike._dynamo.utils.counters.clear()
    for got, want in zip(run(torchlike, True), run(torch, False)):
        _close(got, want)
    # the scaler's calls run eagerly (PyTorch breaks there too, at the inf check's .item())
    assert set(torchlike._dynamo.utils.counters["graph_break"]) == {
        "Skip calling `torchlike.compiler.disable()`d function"}


def test_config_namespaces_are_guarded_and_a_logger_is_not_followed():
    import argparse
    import logging
    import types

    class Run:
        def __init__(self):
            self.logger = logging.getLogger("torchlike.test")     # not followed
            self.cfg = types.SimpleNamespace(scale=2.0)
            self.args = argparse.Namespace(bias=1.0)

        def step(self, x):
            self.logger.debug("a step")
            return x * self.cfg.scale + self.args.bias

    run = Run()
    step = torchlike.compile(run.step)
    assert to_numpy(step(torchlike.ones(2))).tolist() == [3.0, 3.0]     # 1 * 2 + 1
    run.cfg.scale, run.args.bias = 5.0, -1.0
    assert to_numpy(step(torchlike.ones(2))).tolist() == [4.0, 4.0]     # 1 * 5 - 1


def _closure_over(lib):
    """A function and a setter of the closure variables it reads: a Python number and
    a module, each rebound between calls (`nonlocal`)."""
    scale, model = 1.0, lib.nn.Linear(3, 2)
    models = {1.0: model}
    with lib.no_grad():
        model.weight.copy_(lib.tensor(X[:2]))
        model.bias.fill_(0.5)

    def f(x):
        return model(x * scale).sum()

    def rebind(value):
        nonlocal scale, model
        scale = value
        if value not in models:
            models[value] = lib.nn.Linear(3, 2)
            with lib.no_grad():
                models[value].weight.copy_(lib.tensor(X[1:3] * value))
                models[value].bias.copy_(models[1.0].bias)
        model = models[value]
    return f, rebind


def test_a_rebound_closure_variable_is_read_anew():
    """PyTorch's torch.compile guards closure variables; a program traced for one value
    of a rebound closure number or module must not serve another."""
    results = {}
    for lib, compile_ in ((torchlike, torchlike.compile), (torch, lambda f: f)):
        f, rebind = _closure_over(lib)
        compiled = compile_(f)
        x = lib.tensor(X)
        results[lib] = []
        for value in (1.0, 1.0, 2.0, 2.0, 1.0):
            rebind(value)
            results[lib].append(compiled(x).item())
    # x * scale, a 3-term dot product and bias, a sum of 8: about 16 roundings on a path,
    # terms up to about 8 in magnitude (weights up to 2, inputs up to 1, scale up to 2)
    np.testing.assert_allclose(results[torchlike], results[torch],
                               **float_tol("float32", steps=16, scale=8.0))
