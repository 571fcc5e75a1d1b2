"""The steady-state step (optim/_elementwise.py, `_Steady`): after a planned step, the
next step reuses its plan when the parameters, their state and the group's static
choices are unchanged. Against torch for what the user sees, and bit for bit against
torchlike's general path (every step planned), so that a stale lerp formula, which only
changes roundings, cannot hide inside a tolerance."""
import copy

import numpy as np
import pytest

import torchlike

from test_optim import CASES, _assert_state_same, _data, _np, _optim, _tol

STEPS = 12


def _run(lib, name, kw, change=None, dtype="float32", steps=STEPS, schedule=None):
    """`steps` updates with a fixed gradient sequence; `change(lib, opt, params, i)` runs
    before step i (it may set a gradient to None, change the group ...). Returns the
    parameters (those of added groups included) and the optimizer."""
    inits, grads = _data(0, dtype, steps)
    params = [lib.nn.Parameter(lib.tensor(a)) for a in inits]
    opt = getattr(_optim(lib), name)(params, **kw)
    scheduler = schedule(lib, opt) if schedule else None
    for i, gs in enumerate(grads):
        for p, g in zip(params, gs):
            p.grad = lib.tensor(g)
        if change is not None:
            change(lib, opt, params, i)
        opt.step()
        if scheduler is not None:
            scheduler.step()
    return params, opt


def _check(oracle, general_path, name, kw, change=None, dtype="float32", steps=STEPS,
           schedule=None, torch=True):
    """The run matches torch and, bit for bit, torchlike's general path."""
    ours, opt_ours = _run(torchlike, name, kw, change, dtype, steps, schedule)
    if torch:
        theirs, opt_theirs = _run(oracle, name, kw, change, dtype, steps, schedule)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(_np(a), _np(b), **_tol(dtype, _np(b), steps))
        _assert_state_same(opt_ours, opt_theirs, dtype, steps)
    general_path()
    planned, opt_planned = _run(torchlike, name, kw, change, dtype, steps, schedule)
    for a, b in zip(ours, planned):
        np.testing.assert_array_equal(_np(a), _np(b))
    for p, q in zip(ours, planned):
        state, expected = opt_ours.state[p], opt_planned.state[q]
        assert list(state) == list(expected)
        for key in state:
            np.testing.assert_array_equal(_np(state[key]), _np(expected[key]), err_msg=key)
    return opt_ours


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_steady_steps_match(oracle, general_path, name, kw):
    _check(oracle, general_path, name, kw)


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01, amsgrad=True)),
                                     ("SGD", dict(lr=0.1, momentum=0.9)),
                                     ("RMSprop", dict(centered=True)),
                                     ("NAdam", dict())])
@pytest.mark.parametrize("dtype", ["complex64", "float64"])
def test_other_dtypes_match_the_general_path(oracle, general_path, name, kw, dtype):
    _check(oracle, general_path, name, kw, dtype=dtype, torch=dtype == "float64")


def test_half_parameters_match_the_general_path(general_path):
    def run():
        rng = np.random.default_rng(0)
        params = [torchlike.nn.Parameter(torchlike.tensor(
            rng.standard_normal(256).astype(np.float32)).to(dtype))
            for dtype in (torchlike.float16, torchlike.bfloat16, torchlike.float32)]
        opt = torchlike.optim.AdamW(params, lr=1e-2, betas=(0.3, 0.9))
        for _ in range(6):
            for p in params:
                p.grad = torchlike.tensor(rng.standard_normal(256).astype(np.float32)).to(p.dtype)
            opt.step()
        return [_np(p) for p in params]
    fast = run()
    general_path()
    for a, b in zip(fast, run()):
        np.testing.assert_array_equal(a, b)


def test_the_steady_state_does_not_plan(plan_calls):
    """The regression guard: after the first step (which, for SGD, creates the momentum
    buffers) no step plans again, a scheduler's lr changes included. ASGD plans once
    more where it starts averaging (mu leaves 1 after step t0: a flag)."""
    for name, kw, plans in [("AdamW", dict(lr=0.01), 1), ("SGD", dict(lr=0.1, momentum=0.9), 1),
                            ("SGD", dict(lr=0.1), 1), ("NAdam", dict(), 1),
                            ("Adagrad", dict(), 1), ("ASGD", dict(t0=3), 2)]:
        plan_calls.clear()
        _run(torchlike, name, kw, schedule=lambda lib, opt: lib.optim.lr_scheduler.StepLR(
            opt, step_size=3, gamma=0.5))
        assert len(plan_calls) == plans, name


def test_tensor_hyperparameters_plan_every_step(plan_calls, general_path):
    """A tensor lr is left to the general path (its value is read each step there)."""
    ours, _ = _run(torchlike, "Adam", dict(lr=torchlike.tensor(0.01)))
    assert len(plan_calls) == STEPS
    general_path()
    # (the same lr as a number: the float32 tensor's value)
    for a, b in zip(ours, _run(torchlike, "Adam", dict(lr=torchlike.tensor(0.01).item()))[0]):
        np.testing.assert_array_equal(_np(a), _np(b))


def test_changes_that_plan_again(plan_calls):
    def change(lib, opt, params, i):
        group = opt.param_groups[0]
        if i == 3:
            group["weight_decay"] = 0.0        # a flag
        if i == 6:
            group["betas"] = (0.3, 0.9)        # lerp's other formula
        if i == 8:
            params[1].grad = None              # another parameter list
        if i == 10:
            opt.state[params[0]]["step"].fill_(20)
    _run(torchlike, "Adam", dict(lr=0.01, weight_decay=0.1), change)
    # the first step, then steps 3, 6, 8 and 9 (the full list again), 10
    assert len(plan_calls) == 6


def test_lr_scheduler(oracle, general_path):
    _check(oracle, general_path, "AdamW", dict(lr=0.01),
           schedule=lambda lib, opt: lib.optim.lr_scheduler.StepLR(opt, 3, gamma=0.5))
    _check(oracle, general_path, "SGD", dict(lr=0.1, momentum=0.9),
           schedule=lambda lib, opt: lib.optim.lr_scheduler.LinearLR(opt, total_iters=8))


def _toggle(key, values):
    """A change that sets group[key] to values[i] before step i where one is given."""
    def change(lib, opt, params, i):
        if i in values:
            opt.param_groups[0][key] = values[i]
    return change


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01)), ("AdamW", dict(lr=0.01)),
                                     ("SGD", dict(lr=0.1, momentum=0.9)),
                                     ("RMSprop", dict(momentum=0.5))])
def test_weight_decay_toggled(oracle, general_path, name, kw):
    _check(oracle, general_path, name, kw, _toggle("weight_decay", {4: 0.1, 8: 0.0}))


def test_flags_toggled(oracle, general_path):
    _check(oracle, general_path, "Adam", dict(lr=0.01), _toggle("maximize", {3: True, 7: False}))
    _check(oracle, general_path, "SGD", dict(lr=0.1, momentum=0.9),
           _toggle("nesterov", {3: True, 7: False}))


@pytest.mark.parametrize("name,key,values", [
    ("Adam", "betas", {4: (0.3, 0.9), 8: (0.9, 0.999)}),     # 1 - beta1 across 0.5
    ("RMSprop", "alpha", {4: 0.3, 8: 0.99})])                 # 1 - alpha (centered)
def test_lerp_weight_across_the_threshold(oracle, general_path, name, key, values):
    kw = dict(lr=0.01) if name == "Adam" else dict(centered=True)
    _check(oracle, general_path, name, kw, _toggle(key, values))


@pytest.mark.parametrize("name,kw", [("AdamW", dict(lr=0.01)),
                                     ("SGD", dict(lr=0.1, momentum=0.9))])
def test_parameter_without_grad_for_a_step(oracle, general_path, name, kw):
    def change(lib, opt, params, i):
        if i in (3, 4, 9):
            params[1].grad = None
        if i == 6:
            params[0].grad = None
    _check(oracle, general_path, name, kw, change)


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01)), ("NAdam", dict()),
                                     ("SGD", dict(lr=0.1, momentum=0.9)), ("ASGD", dict(t0=4))])
def test_load_state_dict_midway(oracle, general_path, name, kw):
    def change(lib, opt, params, i):
        if i == 3:
            opt.load_state_dict(copy.deepcopy(opt.state_dict()))
        if i == 7:        # a checkpoint of other values: torch's step counts restart at 2
            sd = copy.deepcopy(opt.state_dict())
            for entry in sd["state"].values():
                if "step" in entry:
                    entry["step"] = lib.tensor(2.0)
            opt.load_state_dict(sd)
    _check(oracle, general_path, name, kw, change)


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01)), ("NAdam", dict()),
                                     ("RAdam", dict(lr=0.01))])
def test_step_written_by_the_user(oracle, general_path, name, kw):
    def change(lib, opt, params, i):
        if i == 4:
            opt.state[params[0]]["step"].fill_(10)
        if i == 8:
            with lib.no_grad():
                opt.state[params[2]]["step"].add_(3)
    _check(oracle, general_path, name, kw, change)


def test_state_replaced_by_the_user(oracle, general_path):
    def change(lib, opt, params, i):
        if i == 3:      # a new step tensor of another dtype
            opt.state[params[0]]["step"] = lib.tensor(3.0, dtype=lib.float64)
        if i == 5:      # a new state dict
            opt.state[params[1]] = dict(opt.state[params[1]])
        if i == 8:      # the same step tensor, another storage
            opt.state[params[2]]["step"].data = lib.tensor(5.0)
    _check(oracle, general_path, "Adam", dict(lr=0.01), change)


def test_moment_of_another_dtype(oracle, general_path):
    """(torch refuses this one: only the general path to compare with)"""
    def change(lib, opt, params, i):
        if i == 5:
            state = opt.state[params[0]]
            state["exp_avg"] = state["exp_avg"].double()
    _check(oracle, general_path, "Adam", dict(lr=0.01), change, torch=False)


@pytest.mark.parametrize("name,kw", [("AdamW", dict(lr=0.01)),
                                     ("SGD", dict(lr=0.1, momentum=0.9))])
def test_add_param_group_midway(oracle, general_path, name, kw):
    extra = {}

    def change(lib, opt, params, i):
        if i == 4:
            extra[lib] = lib.nn.Parameter(lib.ones(4))
            opt.add_param_group({"params": [extra[lib]], "lr": 0.05})
        if i >= 4:
            extra[lib].grad = lib.full((4,), 0.1 * i)
    _check(oracle, general_path, name, kw, change)


def test_kept_for_the_last_step_only():
    """One record per group and device that the last step updated."""
    params, opt = _run(torchlike, "AdamW", dict(lr=0.01), steps=2)
    extra = torchlike.nn.Parameter(torchlike.ones(3))
    opt.add_param_group({"params": [extra]})
    extra.grad = torchlike.ones(3)
    opt.step()
    assert len(opt._steady) == 2
    extra.grad = None
    opt.step()
    assert list(opt._steady) == [(0, params[0].device)]


def test_not_kept_in_copies_or_state_dict():
    params, opt = _run(torchlike, "AdamW", dict(lr=0.01), steps=3)
    assert opt._steady
    copied = copy.deepcopy(opt)
    assert copied._steady == {}
    assert "_steady" not in str(opt.state_dict())
    opt.load_state_dict(opt.state_dict())
    assert opt._steady == {}


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.01)),
                                     ("SGD", dict(lr=0.1, momentum=0.9))])
def test_eager_steps_after_compiled_ones(general_path, name, kw):
    """Steps inside torchlike.compile write the state through the trace: the eager steps
    after them plan again and continue from what the compiled steps left."""
    def run():
        inits, grads = _data(0, "float32", 8)
        params = [torchlike.nn.Parameter(torchlike.tensor(a)) for a in inits]
        opt = getattr(torchlike.optim, name)(params, **kw)

        def step(gs):
            for p, g in zip(params, gs):
                p.grad = g
            opt.step()
        compiled = torchlike.compile(step)
        for i, gs in enumerate(grads):
            gs = [torchlike.tensor(g) for g in gs]
            (compiled if 2 <= i < 5 else step)(gs)
        return [_np(p) for p in params] + [_np(v) for p in params
                                           for v in opt.state[p].values()]
    fast = run()
    general_path()
    for a, b in zip(fast, run()):
        np.testing.assert_array_equal(a, b)
