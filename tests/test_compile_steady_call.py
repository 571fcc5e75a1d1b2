"""torchlike.compile's steady call (compiled.py `_steady`, plan.py): the pieces a call on
the last call's guard plan skips or remembers, each against eager torch (or the full
path) on the change that must make it fall back:

* the ids of the roots of a call whose arguments are only tensors and Python numbers are
  made once (`_root_ids`): a module passed as an argument is a root of its own;
* the state's fingerprint is one flat tuple of lengths and ids (state.py): a structure
  change that keeps every id (a parameter moved from one module to another, an attribute
  added to a module) still gives a new walk;
* the plan keeps the call's tensor lists from call to call, but not its arguments;
* the program's outputs are cut in three without unflattening them, and the results
  that require grad are picked by place (autograd_node.py): results of every kind,
  differentiable outside or not, as eager gives them.
"""
import gc
import weakref

import numpy as np
import pytest

import torchlike
from helpers import float_tol, to_numpy

torch = pytest.importorskip("torch")

X = np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3)
W1 = np.linspace(-0.5, 0.5, 6, dtype=np.float32).reshape(2, 3)
W2 = np.linspace(0.3, -0.4, 6, dtype=np.float32).reshape(2, 3)
TOL = float_tol("float32", steps=32 * 5)


def _linear(lib, w):
    lin = lib.nn.Linear(3, 2)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor(w))
        lin.bias.zero_()
    return lin


def _steady(f, *args):
    for _ in range(3):      # trace, trace with the optimizer state, plan in use
        f(*args)
    assert f._plan is not None


def test_a_module_argument_is_a_root_each_call():
    a, b = _linear(torchlike, W1), _linear(torchlike, W2)
    ta, tb = _linear(torch, W1), _linear(torch, W2)
    f = torchlike.compile(lambda m, x: m(x).square().sum())
    x, tx = torchlike.tensor(X), torch.tensor(X)
    _steady(f, a, x)
    for m, tm in ((b, tb), (a, ta), (b, tb)):   # another module: another state
        np.testing.assert_allclose(f(m, x).item(), tm(tx).square().sum().item(), **TOL)
        # (its parameters are read, not constants of the trace)
        for lib_m in (m, tm):
            with _no_grad(lib_m):
                lib_m.weight.mul_(1.5)
        np.testing.assert_allclose(f(m, x).item(), tm(tx).square().sum().item(), **TOL)


def _no_grad(module):
    return (torchlike if isinstance(module, torchlike.nn.Module) else torch).no_grad()


class _Pair(torchlike.nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = torchlike.nn.Linear(3, 2), torchlike.nn.Linear(3, 2)

    def forward(self, x):
        # every parameter, found through the modules that hold them now
        total = sum(p.sum() for p in self.parameters())
        return (self.a(x) * getattr(self, "scale", 1.0)).sum() + total


def test_a_parameter_moved_between_modules_walks_again():
    net = _Pair()
    f = torchlike.compile(lambda x: net(x))
    x = torchlike.tensor(X)
    _steady(f, x)
    # b's bias moves to a (a's own bias goes): every id the walk saw stays, only
    # which module holds which parameter changes
    bias = net.b._parameters.pop("bias")
    net.a._parameters["bias"] = bias
    net.b.bias = None
    with torchlike.no_grad():
        want = net(x)
    np.testing.assert_allclose(f(x).item(), want.item(), **TOL)


def test_an_attribute_added_to_a_module_is_guarded():
    net = _Pair()
    f = torchlike.compile(lambda x: net(x))
    x = torchlike.tensor(X)
    _steady(f, x)
    net.scale = 3.0
    with torchlike.no_grad():
        want = net(x)
    np.testing.assert_allclose(f(x).item(), want.item(), **TOL)
    net.scale = -1.0
    with torchlike.no_grad():
        want = net(x)
    np.testing.assert_allclose(f(x).item(), want.item(), **TOL)


def test_the_plan_does_not_keep_a_calls_arguments():
    lin = _linear(torchlike, W1)
    f = torchlike.compile(lambda x: lin(x).sum())
    _steady(f, torchlike.tensor(X))
    x = torchlike.tensor(X)
    f(x)
    gone = weakref.ref(x)
    del x
    gc.collect()
    assert gone() is None
    # ... and the next call with a fresh argument still runs on the plan
    plan = f._plan
    np.testing.assert_allclose(f(torchlike.tensor(2 * X)).item(),
                               float(lin(torchlike.tensor(2 * X)).sum()), **TOL)
    assert f._plan is plan


def test_results_of_every_kind_from_steady_calls_match_torch():
    def make(lib):
        lin = _linear(lib, W1)

        def fn(x):
            y = lin(x)
            return {"loss": y.square().mean(), "plain": y.detach() * 2, "n": 3,
                    "pair": (y.sum(), "tag")}
        return lin, fn
    lin, fn = make(torchlike)
    tlin, tfn = make(torch)
    f = torchlike.compile(fn)
    x, tx = torchlike.tensor(X), torch.tensor(X)
    _steady(f, x)
    for _ in range(2):
        got, want = f(x), tfn(tx)
        assert got["n"] == 3 and got["pair"][1] == "tag"
        assert got["plain"].requires_grad is False
        assert got["loss"].requires_grad and got["pair"][0].requires_grad
        np.testing.assert_allclose(to_numpy(got["plain"]), want["plain"].numpy(), **TOL)
        (got["loss"] + got["pair"][0]).backward()      # differentiable outside
        (want["loss"] + want["pair"][0]).backward()
        np.testing.assert_allclose(to_numpy(lin.weight.grad), tlin.weight.grad.numpy(), **TOL)
        lin.weight.grad = tlin.weight.grad = None
        lin.bias.grad = tlin.bias.grad = None


def test_a_steady_training_step_with_dropout_draws_as_eager():
    def run(compiled):
        torchlike.manual_seed(0)
        net = torchlike.nn.Sequential(torchlike.nn.Linear(3, 8), torchlike.nn.Dropout(0.5),
                                      torchlike.nn.Linear(8, 2))
        opt = torchlike.optim.SGD(net.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = net(x).square().mean()
            loss.backward()
            opt.step()
            return loss
        f = torchlike.compile(step) if compiled else step
        x = torchlike.tensor(X)
        losses = [f(x).item() for _ in range(5)]
        if compiled:    # (the steady program reads the generator's counter)
            assert f._plan is not None and f._plan.entry.reads_counters
        return (losses, [to_numpy(p) for p in net.parameters()],
                torchlike.default_generator._counter)
    (eager, eager_params, eager_draws), (got, params, draws) = run(False), run(True)
    np.testing.assert_allclose(got, eager, **TOL)
    for p, q in zip(params, eager_params):
        np.testing.assert_allclose(p, q, **TOL)
    assert draws == eager_draws
