"""The first step's optimizer update, compiled in the background at the first
zero_grad() (torchlike/optim/ahead.py): step() then compiles nothing, and a wrong
prediction changes no result."""
import jax
import numpy as np
import pytest

import torchlike
from torchlike.optim import ahead
from helpers import normwise_tol, to_numpy

torch = pytest.importorskip("torch")


class _Compiles:
    def __init__(self):
        self.count = 0
        jax.monitoring.register_event_duration_secs_listener(self._seen)

    def _seen(self, name, duration, **kwargs):
        if name == "/jax/core/compile/backend_compile_duration":
            self.count += 1


COMPILES = _Compiles()


def _model(lib, frozen_bias=False):
    model = lib.nn.Sequential(lib.nn.Linear(5, 7), lib.nn.Tanh(), lib.nn.Linear(7, 3))
    with lib.no_grad():
        for i, p in enumerate(model.parameters()):
            values = np.sin(np.arange(p.numel(), dtype=np.float32) + i).reshape(tuple(p.shape))
            p.copy_(lib.tensor(values))
    if frozen_bias:
        model[2].bias.requires_grad_(False)
    return model


OPTIMIZERS = {
    "sgd_momentum": lambda lib, ps: lib.optim.SGD(ps, lr=0.1, momentum=0.9),
    "adamw": lambda lib, ps: lib.optim.AdamW(ps, lr=0.01),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_the_first_step_runs_the_update_compiled_ahead(name):
    model = _model(torchlike)
    opt = OPTIMIZERS[name](torchlike, model.parameters())
    x = torchlike.tensor(np.linspace(-1, 1, 20, dtype=np.float32).reshape(4, 5))
    opt.zero_grad()
    model(x).pow(2).mean().backward()
    ahead.wait()
    before = COMPILES.count
    opt.step()
    assert COMPILES.count == before          # the background compiled it


def _train(lib, name):
    """Three steps where the prediction is wrong: the optimizer also holds the
    parameters of a layer the loss never reaches (predicted with gradients, they get
    none), and one parameter is frozen."""
    model = _model(lib, frozen_bias=True)
    unused = lib.nn.Linear(2, 2)
    opt = OPTIMIZERS[name](lib, list(model.parameters()) + list(unused.parameters()))
    x = lib.tensor(np.linspace(-1, 1, 20, dtype=np.float32).reshape(4, 5))
    compiled_in_step = []
    for _ in range(3):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        if lib is torchlike:
            ahead.wait()
        before = COMPILES.count
        opt.step()
        compiled_in_step.append(COMPILES.count > before)
    return [p.detach() for p in model.parameters()], compiled_in_step


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_a_wrong_prediction_changes_nothing(name):
    got, compiled = _train(torchlike, name)
    want, _ = _train(torch, name)
    assert compiled[0]          # the guess missed: the first step compiled its own update
    for g, w in zip(got, want):
        # three steps: each a forward and backward through dot products of 5 and 7
        # terms, tanh and a mean of 12 squares (about 64 roundings on an element's
        # path, as tests/test_compile.py counts them) and the update; trained weights
        # are sums that may cancel, hence the norm-wise scale
        np.testing.assert_allclose(to_numpy(g), w.numpy(),
                                   **normwise_tol("float32", 3 * 64, w.numpy()))
