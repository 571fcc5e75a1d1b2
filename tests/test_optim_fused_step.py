"""An eager training step as one program (issue 8): `loss.backward()` stays pending and
`opt.step()` runs it with the update in one compiled call, writing the new parameters
and optimizer state into the old buffers (autograd/_pending_backward.py,
optim/_step_program.py). Whatever is observed, and wherever, must be what PyTorch
shows."""
import jax
import numpy as np
import pytest

import torchlike
from torchlike import _caches, _lazy
from torchlike.autograd import engine
from torchlike.optim import _step_program

from helpers import assert_raises_same, float_tol

torch = pytest.importorskip("torch", reason="the torch oracle is needed to compare values")

# float32, a few dozen roundings on each value's path over two small steps (the
# existing observed-step test's bound)
TOL = float_tol("float32", 200)


def _xla_calls():
    return _lazy.stats.materializations + engine.stats.fused_calls + _step_program.stats.calls


def _two_optimizers(lib, arrays, observe):
    """A model trained by two optimizers (SGD momentum for the first layer, Adam with
    two groups for the second), every value observed after backward, between the two
    step() calls and after them, when `observe`."""
    first, second = lib.nn.Linear(5, 4), lib.nn.Linear(4, 2)
    with lib.no_grad():
        for p, a in zip([*first.parameters(), *second.parameters()], arrays):
            p.copy_(lib.tensor(a))
    sgd = lib.optim.SGD(first.parameters(), lr=0.1, momentum=0.9)
    adam = lib.optim.Adam([{"params": [second.weight]},
                           {"params": [second.bias], "lr": 0.05}], lr=0.01)
    x = lib.tensor(arrays[-1])
    params = [*first.parameters(), *second.parameters()]
    seen = []

    def look(values):
        if observe:
            seen.extend(np.asarray(v.detach()).copy() for v in values)
    for _ in range(2):
        sgd.zero_grad()
        adam.zero_grad()
        loss = second(first(x).tanh()).pow(2).mean()
        loss.backward()
        look([p.grad for p in params])                          # after backward
        sgd.step()
        look(params + [p.grad for p in params])                 # between the optimizers
        adam.step()
        look(params)                                            # after the update
        look([adam.state[p]["exp_avg_sq"] for p in second.parameters()])
        seen.append(loss.item())
    seen.extend(np.asarray(p.detach()).copy() for p in params)
    seen.extend(np.asarray(v).copy() for p in second.parameters()
                for v in (adam.state[p]["exp_avg"], adam.state[p]["exp_avg_sq"]))
    return seen


@pytest.mark.parametrize("observe", [True, False], ids=["observed", "unobserved"])
def test_values_observed_anywhere_in_a_fused_step_are_pytorchs(observe):
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(s).astype(np.float32)
              for s in ((4, 5), (4,), (2, 4), (2,), (3, 5))]
    ours = _two_optimizers(torchlike, arrays, observe)
    theirs = _two_optimizers(torch, arrays, observe)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, **TOL)


def _clipped_step(lib, model, opt, x):
    opt.zero_grad()
    loss = model(x).square().mean()
    loss.backward()
    lib.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    opt.step()
    return loss


def test_a_repeated_step_with_clipping_is_one_call_and_compiles_nothing():
    """Forward, backward, clipping and the update of a repeated step: one call, made at
    step(); the loss read afterwards costs nothing more (the backward computed it)."""
    torchlike.manual_seed(0)
    model = torchlike.nn.Sequential(torchlike.nn.Linear(6, 8), torchlike.nn.ReLU(),
                                    torchlike.nn.Linear(8, 3))
    opt = torchlike.optim.AdamW(model.parameters(), lr=0.01)
    x = torchlike.randn(5, 6)
    for _ in range(3):
        _clipped_step(torchlike, model, opt, x).item()
    compiles, before = _caches.compiles.total, _xla_calls()
    loss = _clipped_step(torchlike, model, opt, x)
    assert _xla_calls() == before + 1
    loss.item()
    assert (_xla_calls(), _caches.compiles.total) == (before + 1, compiles)


def test_the_step_writes_parameters_and_state_in_place(monkeypatch):
    """XLA's own account of a repeated step's program: the new parameters and momentum
    buffers are written into the old ones' buffers (the graph of the loss, still alive
    during step(), is handed the new parameters)."""
    torchlike.manual_seed(0)
    model = torchlike.nn.Sequential(torchlike.nn.Linear(6, 8), torchlike.nn.Tanh(),
                                    torchlike.nn.Linear(8, 3))
    opt = torchlike.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = torchlike.randn(5, 6)
    seen = []
    program = _step_program.program

    def spy(roots, donated):
        fn, kept, given, wanted = program(roots, donated)
        seen.append((fn, jax.tree_util.tree_map(
            lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), (kept, given))))
        return fn, kept, given, wanted
    monkeypatch.setattr(_step_program, "program", spy)
    for _ in range(2):
        opt.zero_grad()
        loss = model(x).square().mean()
        loss.backward()
        opt.step()
    fn, args = seen[-1]
    parameter_bytes = 4 * sum(p.numel() for p in model.parameters())
    assert fn.lower(*args).compile().memory_analysis().alias_size_in_bytes == \
        2 * parameter_bytes


def _held_forward_value(lib, arrays):
    """A forward value nobody read yet, held across the step that changes the weights
    it was computed from: it must show the old weights' result."""
    layer = lib.nn.Linear(3, 2)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(arrays[0]))
        layer.bias.copy_(lib.tensor(arrays[1]))
    opt = lib.optim.SGD(layer.parameters(), lr=0.5)
    x = lib.tensor(arrays[2])
    hidden = layer(x)
    hidden.sum().backward()
    opt.step()
    return [np.asarray(hidden.detach()).copy(), np.asarray(layer.weight.detach()).copy()]


def test_a_forward_value_held_across_the_step_keeps_the_old_parameters():
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((2, 3), (2,), (4, 3))]
    for a, b in zip(_held_forward_value(torchlike, arrays), _held_forward_value(torch, arrays)):
        np.testing.assert_allclose(a, b, **float_tol("float32", 8))


def _backward_again_after_step(lib, retain):
    w = lib.nn.Parameter(lib.tensor([1.0, -2.0, 3.0]))
    opt = lib.optim.SGD([w], lr=0.1)
    z = (w + 1).sum() if not retain else (w * w).sum()
    z.backward(retain_graph=retain)
    opt.step()
    z.backward()                  # through a graph whose parameter the step changed
    return w.grad


def test_a_graph_that_saves_nothing_backwards_again_after_the_step():
    """(w + 1).sum() saves nothing: PyTorch backwards through it again after the step
    changed w, and so must torchlike (whose step wrote w's new value into its old
    buffer, which the graph's add node held)."""
    ours = _backward_again_after_step(torchlike, retain=False)
    theirs = _backward_again_after_step(torch, retain=False)
    np.testing.assert_array_equal(np.asarray(ours), theirs.numpy())


def test_a_retained_graph_that_saved_the_parameter_raises_pytorchs_error_after_the_step():
    assert_raises_same(lambda lib: _backward_again_after_step(lib, retain=True))
