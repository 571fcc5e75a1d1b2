"""What a compiled training step's program computes, against the hand-written jax.jit
step (issue 10): an optimizer's per-parameter step counts (torchlike/_compile/aliases.py,
optim/_elementwise.py `_vector_rows`) and the backward's pullbacks (_compile/pullbacks.py).

A step leaves all counts of a group in one array: the compiled program takes it once and
computes the group's bias corrections once. Counts that differ (one set by hand, a
parameter that got no gradient in some step) must still give each parameter its own
bias correction, as eager torch does. Values are compared with eager torch after each
call (torch.compile keeps eager's results and its inductor needs a C++ toolchain).
"""
import numpy as np
import pytest

import torchlike
from helpers import float_tol, normwise_tol, to_numpy

torch = pytest.importorskip("torch")

# a few AdamW steps of a 3-4-2 tanh network on 5 rows (see test_compile_first_step.py);
# trained weights are sums with cancellation, so the tolerance is normwise
STEPS = 4 * 64
X = np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3)
W1 = np.linspace(-0.5, 0.5, 12, dtype=np.float32).reshape(4, 3)
W2 = np.linspace(0.3, -0.4, 8, dtype=np.float32).reshape(2, 4)


def _run(lib, compiled, calls, between=None):
    """Per call (args of the step: whether the second layer takes part): the
    parameters and the step counts; `between(opt, params, i)` runs before call i."""
    nn = lib.nn
    first, second = nn.Linear(3, 4), nn.Linear(4, 2)
    with lib.no_grad():
        first.weight.copy_(lib.tensor(W1))
        first.bias.fill_(0.1)
        second.weight.copy_(lib.tensor(W2))
        second.bias.fill_(-0.2)
    params = list(first.parameters()) + list(second.parameters())
    opt = lib.optim.AdamW(params, lr=0.05)
    x = lib.tensor(X)

    def step(use_second):
        opt.zero_grad()
        h = first(x).tanh()
        loss = (second(h) if use_second else h).pow(2).mean()
        loss.backward()
        opt.step()
    f = lib.compile(step) if compiled else step
    out = []
    for i, use_second in enumerate(calls):
        if between is not None:
            between(opt, params, i)
        f(use_second)
        out.append(([np.array(to_numpy(p)) for p in params],
                    [float(opt.state[p]["step"]) if p in opt.state else None
                     for p in params]))
    return out, f, opt, params


def _compare(got, want):
    for (params, steps), (t_params, t_steps) in zip(got, want):
        assert steps == t_steps
        for a, b in zip(params, t_params):
            np.testing.assert_allclose(a, b, **normwise_tol("float32", STEPS, b))


def test_a_groups_counts_are_one_input_and_stay_separate_tensors():
    calls = [True] * 2
    got, f, opt, params = _run(torchlike, True, calls)
    _compare(got, _run(torch, False, calls)[0])
    counts = [opt.state[p]["step"] for p in params]
    assert len({id(t) for t in counts}) == len(params)     # a tensor each, as torch
    # ... holding one array, which the program takes as one input
    assert len({id(t._storage.array) for t in counts}) == 1
    assert len(f._plan.entry.alias) == len(params) - 1


def test_counts_set_apart_give_each_parameter_its_bias_correction():
    """One count set by hand between calls: the counts no longer share an array, the
    function traces again, and each parameter's update uses its own count."""
    def set_one(opt, params, i):
        if i == 2:
            opt.state[params[1]]["step"].fill_(7.0)
    calls = [True] * 4
    got, f, _, params = _run(torchlike, True, calls, set_one)
    _compare(got, _run(torch, False, calls, set_one)[0])
    # (counts 4, 9, 4, 4 after the last call: two arrays, one of them held by three)
    assert len(f._plan.entry.alias) == len(params) - 2


def test_a_parameter_left_out_of_some_steps_lags_as_in_torch():
    """Without the second layer a call gives it no gradient: its counts lag behind the
    first layer's, and later calls update both from their own counts."""
    calls = [True, False, True, True]
    got, _, _, _ = _run(torchlike, True, calls)
    want = _run(torch, False, calls)[0]
    _compare(got, want)
    assert want[-1][1] == [4.0, 4.0, 3.0, 3.0]


def test_a_recurrent_step_runs_its_loop_once_forward_and_once_backward():
    """Inside a compiled training step each op is linearized where it runs
    (torchlike/_compile/pullbacks.py): the LSTM's loop is in the program twice (forward
    and backward), not three times (a vjp that traced the forward again added one)."""
    torch.manual_seed(0)
    weights = [p.detach().numpy().copy()
               for p in torch.nn.LSTM(3, 4, batch_first=True).parameters()]

    def run(lib, compiled):
        rnn = lib.nn.LSTM(3, 4, batch_first=True)
        with lib.no_grad():
            for p, w in zip(rnn.parameters(), weights):
                p.copy_(lib.tensor(w))
        opt = lib.optim.SGD(rnn.parameters(), lr=0.1)
        x = lib.tensor(np.linspace(-1, 1, 30, dtype=np.float32).reshape(2, 5, 3))

        def step():
            opt.zero_grad()
            loss = rnn(x)[0].pow(2).mean()
            loss.backward()
            opt.step()
            return loss
        f = lib.compile(step) if compiled else step
        losses = [float(f().detach()) for _ in range(2)]
        return losses, [np.array(to_numpy(p)) for p in rnn.parameters()], f

    (losses, params, f), (t_losses, t_params, _) = run(torchlike, True), run(torch, False)
    # the mean of 40 squares (no cancellation) after 5 LSTM time steps of 3- and 4-term
    # dots, gates and tanh, and one SGD step before the second: STEPS roundings bound it
    np.testing.assert_allclose(losses, t_losses, **float_tol("float32", STEPS))
    for a, b in zip(params, t_params):
        np.testing.assert_allclose(a, b, **normwise_tol("float32", STEPS, b))
    entry = f._plan.entry
    state, _, storages = f._plan.layout([])
    counters = [g._counter for g in state.generators]
    text = entry.program.lower(*entry.pick([st.array for st in storages] + counters)).as_text()
    assert text.count("stablehlo.while") == 2
