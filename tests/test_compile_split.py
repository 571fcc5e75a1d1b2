"""torchlike.compile(fullgraph=False) splits a function at a graph break (issue 10).

The ops before the break run as one compiled prefix program, the rest eagerly
(torchlike/_compile/split.py). Expected values come from real torch.compile with the
"eager" backend (dynamo splits the function at the same break) on the same inputs.
"""
import numpy as np
import pytest

import torchlike
from helpers import float_tol, normwise_tol, to_numpy

torch = pytest.importorskip("torch")

counters = torchlike._dynamo.utils.counters


def _branchy(lib):
    def f(x, w):
        y = lib.tanh(x @ w) * 2 + 1
        z = y.sum()
        if z > 0:           # the break: a tensor's value decides the Python path
            return y * 3 - z
        return y - 1
    return f


def test_prefix_is_one_compiled_call_and_both_branches_match_torch():
    counters.clear()
    ours = torchlike.compile(_branchy(torchlike))
    theirs = torch.compile(_branchy(torch), backend="eager")
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    for sign in (1.0, -1.0, 1.0):
        x = (sign * np.abs(rng.standard_normal((2, 3)))).astype(np.float32)
        before = torchlike._lazy.stats.materializations
        got = ours(torchlike.tensor(x), torchlike.tensor(w))
        # the branch read a value the prefix program computed: without the split, eager
        # mode would have materialized the pending matmul, tanh and sum for it
        assert torchlike._lazy.stats.materializations == before
        want = theirs(torch.tensor(x), torch.tensor(w)).numpy()
        # a matmul of 3 terms, tanh, a sum of 8 (cancelling: scale 8 * 3) and 2 ops more
        np.testing.assert_allclose(to_numpy(got), want, **float_tol("float32", 16, 24.0))
    assert dict(counters["graph_break"]) == {"Data-dependent branching": 1}
    assert counters["stats"]["unique_graphs"] == 1          # one trace: the prefix
    assert counters["stats"]["split_prefix_runs"] == 3      # one program call per call
    assert counters["stats"]["split_replay_stopped"] == 0   # every prefix op replayed


def _step(lib, where):
    """A training step with `.item()` (the break) after the forward, the backward or
    the optimizer step."""
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 1))
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = lib.linspace(-1, 1, 16).reshape(4, 4)

    def step():
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        losses = [loss.item()] if where == "forward" else []
        loss.backward()
        if where == "backward":
            losses.append(loss.item())
        opt.step()
        if where == "step":
            losses.append(loss.item())
        return losses[0]
    return model, step


def test_training_step_with_item_after_the_step_matches_torch_in_one_program():
    """PyTorch breaks the graph at `.item()`; torchlike keeps the number in the program
    (nothing after it needs its value in Python), so each call is one program call, no
    split, and the break is counted under PyTorch's reason. (A number needed in Python:
    test_compile.py's training-step test, test_compile_item.py.)"""
    where = "step"
    counters.clear()
    model, step = _step(torchlike, where)
    torch_model, torch_step = _step(torch, where)
    with torch.no_grad():
        for p, q in zip(model.parameters(), torch_model.parameters()):
            q.copy_(torch.tensor(to_numpy(p)))
    ours, theirs = torchlike.compile(step), torch.compile(torch_step, backend="eager")
    got = [ours() for _ in range(3)]
    want = [theirs() for _ in range(3)]
    # three steps of a small MLP: ~64 roundings per pass (test_compile.py's count)
    np.testing.assert_allclose(got, want, **float_tol("float32", 3 * 64))
    for p, q in zip(model.parameters(), torch_model.parameters()):
        w = q.detach().numpy()
        np.testing.assert_allclose(to_numpy(p), w, **normwise_tol("float32", 3 * 64, w))
    assert set(counters["graph_break"]) == {"Unsupported Tensor.item() call with "
                                            "capture_scalar_outputs=False"}
    assert counters["stats"]["split_prefix_runs"] == 0


def test_split_at_a_disabled_call_and_a_replay_that_stops_stay_right():
    """compiler.disable'd code is a break too. A compiled function called inside the
    prefix was inlined by the trace but runs as its own program eagerly: the replay
    stops at the first op that does not match and the rest is computed eagerly."""
    def make(lib, inner):
        @lib.compiler.disable
        def on_host(y):
            return y + 1

        def f(x):
            y = inner(x.exp()) * 2
            return on_host(y) * 3
        return f
    counters.clear()
    ours = torchlike.compile(make(torchlike, torchlike.compile(lambda t: t.sin() - 1)))
    theirs = torch.compile(make(torch, torch.compile(lambda t: t.sin() - 1, backend="eager")),
                           backend="eager")
    x = np.linspace(-1, 1, 5, dtype=np.float32)
    for _ in range(2):
        np.testing.assert_allclose(to_numpy(ours(torchlike.tensor(x))),
                                   theirs(torch.tensor(x)).numpy(), **float_tol("float32", 8))
    assert counters["graph_break"]["Skip calling `torchlike.compiler.disable()`d function"] == 1
    assert counters["stats"]["split_prefix_runs"] == 2
    assert counters["stats"]["split_replay_stopped"] == 2


def test_split_with_a_func_transform_in_the_prefix_matches_torch():
    """torch.func inside the prefix: its ops run in a transform of their own (their
    tracers end with it), so they are neither logged nor replayed."""
    def make(lib):
        def f(x):
            y = lib.func.grad(lambda t: (t.sin() * 2).sum())(x) * 3
            if y.sum() > 0:
                return y + 1
            return y - 1
        return f
    counters.clear()
    x = np.linspace(0, 1, 4, dtype=np.float32)
    ours = torchlike.compile(make(torchlike))
    for _ in range(2):
        np.testing.assert_allclose(to_numpy(ours(torchlike.tensor(x))),
                                   make(torch)(torch.tensor(x)).numpy(),
                                   **float_tol("float32", 6))
    assert counters["stats"]["split_prefix_runs"] == 2
    assert counters["stats"]["split_replay_stopped"] == 0
