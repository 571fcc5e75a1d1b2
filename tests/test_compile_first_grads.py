"""A compiled training step traces once: its first trace takes placeholder `.grad`s, so
the second call (which finds real ones) reuses it (issue 10;
torchlike/_compile/first_grads.py). Values, `.grad`s and param_groups are compared with
eager torch after each call; traces are counted by the Python body's runs (the body runs
only when traced, or eagerly)."""
import itertools

import numpy as np
import pytest

import torchlike
from helpers import float_tol, to_numpy

torch = pytest.importorskip("torch")

# three SGD steps of a 3-2 linear layer on 4 rows (dot products of 3 terms, a mean of 8
# squares and its backward per step)
TOL = float_tol("float32", steps=3 * 32)
X = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
W = np.linspace(-0.5, 0.5, 6, dtype=np.float32).reshape(2, 3)


def _run(lib, compiled, zero_grad, calls=3, dampening=0.0):
    """Per call: the loss and the `.grad`s; then the param_group and the body's runs."""
    lin = lib.nn.Linear(3, 2)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor(W))
        lin.bias.fill_(0.1)
    opt = lib.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9, dampening=dampening)
    x = lib.tensor(X)
    runs = itertools.count()     # (an iterator: not state the compiled call guards)

    def step():
        next(runs)
        if zero_grad:
            opt.zero_grad()
        loss = lin(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss
    f = lib.compile(step) if compiled else step
    out, planned = [], []
    for _ in range(calls):
        loss = f()
        out.append((float(loss.detach()), [np.array(to_numpy(p.grad)) for p in lin.parameters()]))
        planned.append(getattr(f, "_plan", None) is not None)
    return out, dict(opt.param_groups[0], params=None), next(runs), planned


def _compare(got, want):
    for (loss, grads), (t_loss, t_grads) in zip(got, want):
        np.testing.assert_allclose(loss, t_loss, **TOL)
        for a, b in zip(grads, t_grads):
            np.testing.assert_allclose(a, b, **TOL)


def test_a_step_that_zeroes_its_grads_traces_once_and_keeps_torchs_groups():
    got, group, runs, planned = _run(torchlike, compiled=True, zero_grad=True)
    want, t_group, _, _ = _run(torch, compiled=False, zero_grad=True)
    _compare(got, want)
    assert runs == 1        # one trace serves the first call and the later ones
    # the first call leaves a guard plan that holds from then on: the second call does
    # not walk the state or build the guard again (plan.py)
    assert planned == [True] * 3
    # every key of the group stays, those holding None too (foreach, fused)
    assert group.keys() == t_group.keys()
    assert {k: v for k, v in group.items() if v is None} == \
        {k: v for k, v in t_group.items() if v is None}


@pytest.mark.parametrize("dampening", [0.0, 0.5])
def test_a_step_that_accumulates_its_grads_gives_torchs_grads(dampening):
    # the step reads its `.grad`s (backward adds to them): the first call is traced
    # again as its state stands, and the trace with placeholders serves the later calls.
    # With dampening the trace also creates the momentum buffers (no first-step state is
    # made ahead): the dropped trace must take them out again
    got, _, runs, _ = _run(torchlike, compiled=True, zero_grad=False, dampening=dampening)
    want, _, _, _ = _run(torch, compiled=False, zero_grad=False, dampening=dampening)
    _compare(got, want)
    if not dampening:
        assert runs == 2        # both on the first call


def test_a_failed_trace_leaves_no_placeholder():
    lin = torchlike.nn.Linear(3, 2)
    opt = torchlike.optim.SGD(lin.parameters(), lr=0.1)

    def step():
        opt.zero_grad()
        lin(torchlike.tensor(X)).sum().backward()
        raise ValueError("stop")
    with pytest.raises(ValueError, match="stop"):
        torchlike.compile(step)()
    # (a failed trace puts the state back as it found it: no `.grad`s yet)
    assert [p.grad for p in lin.parameters()] == [None, None]


def test_a_function_that_leaves_the_grads_alone_leaves_them_none():
    # (it reaches the optimizer, so its first trace gets placeholders, which it does
    # not replace: they go, and the function is traced again without them)
    results = []
    for lib in (torchlike, torch):
        lin = lib.nn.Linear(3, 2)
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(W))
            lin.bias.fill_(0.1)
        opt = lib.optim.SGD(lin.parameters(), lr=0.1)

        def evaluate(x):
            opt.param_groups        # (names the optimizer: the compiled call walks it)
            return lin(x).detach().sum()
        f = lib.compile(evaluate) if lib is torchlike else evaluate
        values = [float(f(lib.tensor(X))) for _ in range(2)]
        results.append((values, [p.grad for p in lin.parameters()]))
    (got, grads), (want, t_grads) = results
    np.testing.assert_allclose(got, want, **TOL)
    assert grads == t_grads == [None, None]
