"""The repeated step's own paths (optim/_elementwise.py, `_Steady.repeat` and `run`):
the checks it makes on flat lists instead of per-parameter lookups, and the slower
paths it takes for what its fast reads and writes do not cover (a pending value, a
view, a stand-in state entry). Bit for bit against torchlike's general path (every
step planned), and against torch where torch runs the same."""
import numpy as np
import pytest

import torchlike
from torchlike.optim import _elementwise

from helpers import call_counter
from test_optim import _np
from test_optim_steady_plan import _check, _run


@pytest.fixture
def repeats(monkeypatch):
    """How many steps ran the remembered plan (`_Steady.run`)."""
    return call_counter(monkeypatch, _elementwise._Steady, "run")


def test_a_key_added_then_renamed_plans_again(plan_calls, general_path):
    """A state of the same size may hold other keys: where not every key is read each
    step, the keys themselves are compared."""
    def change(lib, opt, params, i):
        state = opt.state[params[0]]
        if i == 3:
            state["note"] = 1
        if i == 6:
            state["other"] = state.pop("note")
    ours, opt = _run(torchlike, "Adam", dict(lr=0.01), change)
    # the first step, the key added, the key renamed
    assert len(plan_calls) == 3
    general_path()
    planned, _ = _run(torchlike, "Adam", dict(lr=0.01), change)
    for a, b in zip(ours, planned):
        np.testing.assert_array_equal(_np(a), _np(b))
    assert list(opt.state[ours[0]]) == ["step", "exp_avg", "exp_avg_sq", "other"]


def test_a_moment_replaced_is_read_without_planning(oracle, general_path, plan_calls,
                                                    repeats):
    """The update's state entries are read again at every repeated step."""
    def change(lib, opt, params, i):
        if i == 4:
            state = opt.state[params[1]]
            state["exp_avg"] = state["exp_avg"].clone() * 0.5
    _check(oracle, general_path, "Adam", dict(lr=0.01), change)
    # the steady run: one plan, every later step repeated; the general one plans each
    assert len(plan_calls) == 1 + 12 and len(repeats) == 11


def test_state_dicts_swapped_between_parameters(oracle, general_path):
    """opt.state is compared by its entries: the same dicts under other keys differ."""
    def run(lib):
        rng = np.random.default_rng(1)
        params = [lib.nn.Parameter(lib.tensor(rng.standard_normal(4).astype(np.float32)))
                  for _ in range(2)]
        opt = lib.optim.Adam(params, lr=0.01)
        for i in range(8):
            for p in params:
                p.grad = lib.tensor(rng.standard_normal(4).astype(np.float32))
            if i == 5:
                opt.state[params[0]], opt.state[params[1]] = \
                    opt.state[params[1]], opt.state[params[0]]
            opt.step()
        return [_np(p) for p in params] + [_np(opt.state[p]["exp_avg"]) for p in params]
    ours, theirs = run(torchlike), run(oracle)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    general_path()
    for a, b in zip(ours, run(torchlike)):
        np.testing.assert_array_equal(a, b)


def test_a_pending_parameter_and_a_view_as_state(oracle, general_path):
    """A parameter changed in place between steps (maybe a pending value) and a moment
    that views a larger tensor (not its storage's whole array) are read and written as
    the general path reads and writes them."""
    def change(lib, opt, params, i):
        with lib.no_grad():
            if i in (3, 7):
                params[0].mul_(0.5)
        if i == 4:
            state = opt.state[params[0]]
            view = lib.zeros(10, 7)[::2]
            view.copy_(state["exp_avg"])
            state["exp_avg"] = view
    _check(oracle, general_path, "Adam", dict(lr=0.01), change)


def test_a_step_count_that_is_a_view(general_path):
    """A 0-dim step tensor that views a larger tensor is written through its storage."""
    holders = []

    def change(lib, opt, params, i):
        if i == 3:
            state = opt.state[params[0]]
            holder = lib.zeros(3)
            holder[1] = state["step"]
            holders.append(holder)
            state["step"] = holder[1]

    ours, opt = _run(torchlike, "AdamW", dict(lr=0.01), change)
    assert float(holders[0][1]) == 12.0 and float(holders[0][0]) == 0.0
    general_path()
    planned, _ = _run(torchlike, "AdamW", dict(lr=0.01), change)
    for a, b in zip(ours, planned):
        np.testing.assert_array_equal(_np(a), _np(b))


def test_sgd_momentum_buffer_set_to_none(oracle, general_path):
    """SGD's `state_tensor` stands in zeros for a missing buffer: the repeated step
    writes the new buffer into the state, as the general path does."""
    def change(lib, opt, params, i):
        if i == 5:
            opt.state[params[1]]["momentum_buffer"] = None
    _check(oracle, general_path, "SGD", dict(lr=0.1, momentum=0.9), change)


def test_a_second_group_plans_once_more(plan_calls):
    """The first step's second group makes state after the first group's record was
    taken: the first group plans again once, then both repeat."""
    a = torchlike.nn.Parameter(torchlike.ones(3))
    b = torchlike.nn.Parameter(torchlike.ones(4))
    opt = torchlike.optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.1}], lr=0.01)
    assert not plan_calls
    for _ in range(6):
        a.grad, b.grad = torchlike.ones(3), torchlike.ones(4)
        opt.step()
    assert len(plan_calls) == 3
    assert float(opt.state[a]["step"]) == float(opt.state[b]["step"]) == 6.0


def test_lerp_weight_changed_within_its_formula(oracle, general_path, plan_calls):
    """A beta1 changed on the same side of lerp's threshold keeps the plan; the new
    value is used."""
    def change(lib, opt, params, i):
        if i == 4:
            opt.param_groups[0]["betas"] = (0.8, 0.999)
    _check(oracle, general_path, "Adam", dict(lr=0.01), change)
    assert len(plan_calls) == 1 + 12
