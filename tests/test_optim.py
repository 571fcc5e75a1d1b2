"""torchlike.optim against real torch.optim: identical parameters, state and state_dict
after many steps with the same initial values and the same gradient sequence."""
import copy
import warnings

import numpy as np
import pytest

import torchlike
import torchlike.optim
from torchlike.nn import Parameter
from torchlike.optim._elementwise import _run_group

from helpers import batched_ops_run, float_tol, normwise_tol

# (optimizer, keyword arguments): every option that changes the update rule
CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9), maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, amsgrad=True, maximize=True, weight_decay=0.5)),
    ("RMSprop", dict()),
    ("RMSprop", dict(centered=True, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(alpha=0.3, momentum=0.5, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adamax", dict()),
    ("Adamax", dict(weight_decay=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(weight_decay=0.1, momentum_decay=0.01)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(weight_decay=0.1, maximize=True)),
]
SHAPES = ((5, 7), (3,), ())
STEPS = 25

# Tolerances (see helpers.float_tol). PyTorch runs an update as separate kernels, each
# rounding its result; torchlike's update is one fused XLA computation, whose products
# may or may not be contracted into FMAs depending on the CPU (and PyTorch's vectorized
# kernels likewise), so the two round at different places. Rounding steps per update on
# the longest path among CASES (single-tensor RMSprop, centered, with momentum and weight
# decay): weight decay (add with alpha: 2), square_avg (mul_, addcmul_: 3), grad_avg
# (lerp_: 2), the centered variance (addcmul: 2) and its sqrt (1), + eps (1), the buffer
# (mul_, addcdiv_: 3), the parameter (add_ with alpha: 2) = 16; the Adam family's paths
# are no longer (bias corrections and step sizes are Python floats in both). Over n
# steps the errors add up (the states are averages and the parameter a running sum, so
# an earlier error passes on with gain <= 1): 16 * n roundings. Parameters and states
# are sums whose terms cancel (a momentum buffer near zero is the difference of larger
# updates), so the error is relative to the tensor's largest element (normwise_tol).
# On one AMD EPYC the worst element of RMSprop-11's momentum buffer differed by 22 ulps
# of its own value but 3 ulps of the buffer's largest element; without FMA anywhere
# (--xla_cpu_max_isa=SSE4_2, ATEN_CPU_CAPABILITY=default) elements near zero differ by
# 110 of their own ulps and still 1-3 of the largest (14 with XLA's fast math). The
# float64 runs, with the same count, check every formula to ~1e-13.
ROUNDINGS_PER_STEP = 16


def _tol(dtype, desired, steps=STEPS):
    real = {"complex64": "float32"}.get(dtype, dtype)
    return normwise_tol(real, ROUNDINGS_PER_STEP * steps, desired)


def _optim(lib):
    return torchlike.optim if lib is torchlike else lib.optim


def _np(t):
    t = t.detach()
    if isinstance(t, torchlike.Tensor):
        return np.asarray(t.float() if t.dtype is torchlike.bfloat16 else t)
    return (t.float() if str(t.dtype) == "torch.bfloat16" else t).numpy()


def _data(seed, dtype, steps, shapes=SHAPES):
    rng = np.random.default_rng(seed)

    def draw(shape):
        x = rng.standard_normal(shape)
        if dtype.startswith("complex"):
            x = x + 1j * rng.standard_normal(shape)
        return np.asarray(x).astype(dtype)
    return [draw(s) for s in shapes], [[draw(s) for s in shapes] for _ in range(steps)]


def _train(lib, name, kw, dtype="float32", steps=STEPS, schedule=None, params_fn=None):
    """Run `steps` updates with a fixed gradient sequence; returns (params, optimizer)."""
    inits, grads = _data(0, dtype, steps)
    params = [lib.nn.Parameter(lib.tensor(a)) for a in inits]
    opt = getattr(_optim(lib), name)(params_fn(params) if params_fn else params, **kw)
    for i, gs in enumerate(grads):
        for p, g in zip(params, gs):
            p.grad = lib.tensor(g)
        if schedule:
            for group in opt.param_groups:
                group["lr"] = schedule(i)
        opt.step()
    return params, opt


def _assert_state_same(ours, theirs, dtype="float32", steps=STEPS):
    """Same state_dict: param_groups equal (keys in order), state entries equal."""
    sd_ours, sd_theirs = ours.state_dict(), theirs.state_dict()
    assert sd_ours["param_groups"] == sd_theirs["param_groups"]
    assert [list(g) for g in sd_ours["param_groups"]] == \
        [list(g) for g in sd_theirs["param_groups"]]
    assert list(sd_ours["state"]) == list(sd_theirs["state"])
    for index, entry in sd_theirs["state"].items():
        mine = sd_ours["state"][index]
        assert list(mine) == list(entry)
        for key, value in entry.items():
            assert str(mine[key].dtype) == str(value.dtype), key
            assert tuple(mine[key].shape) == tuple(value.shape), key
            np.testing.assert_allclose(_np(mine[key]), _np(value), err_msg=key,
                                       **_tol(dtype, _np(value), steps))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch(oracle, name, kw, dtype):
    ours, opt_ours = _train(torchlike, name, kw, dtype)
    theirs, opt_theirs = _train(oracle, name, kw, dtype)
    for a, b in zip(ours, theirs):
        assert a.dtype == getattr(torchlike, dtype) and a.requires_grad and a.is_leaf
        np.testing.assert_allclose(_np(a), _np(b), **_tol(dtype, _np(b)))
    _assert_state_same(opt_ours, opt_theirs, dtype)


@pytest.mark.parametrize("name,kw", [c for c in CASES if c[0] != "SGD"][::2] +
                         [("SGD", dict(lr=0.1, momentum=0.9))])
def test_complex_parameters_match_torch(oracle, name, kw):
    ours, _ = _train(torchlike, name, kw, "complex64", steps=15)
    theirs, _ = _train(oracle, name, kw, "complex64", steps=15)
    for a, b in zip(ours, theirs):
        assert a.dtype is torchlike.complex64
        np.testing.assert_allclose(_np(a), _np(b), **_tol("complex64", _np(b), 15))


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "NAdam", "RAdam"])
def test_bfloat16_parameters_close_to_torch(oracle, name):
    """Half precision rounds after every PyTorch op; the fused update rounds less often,
    so results agree to bfloat16 precision, not bit for bit."""
    kw = dict(lr=0.01, momentum=0.9) if name in ("SGD", "RMSprop") else dict(lr=0.01)
    steps = 10
    inits, grads = _data(1, "float32", steps)

    def run(lib):
        params = [lib.nn.Parameter(lib.tensor(a, dtype=lib.bfloat16)) for a in inits]
        opt = getattr(_optim(lib), name)(params, **kw)
        largest_update = 0.0
        for gs in grads:
            before = [_np(p) for p in params]
            for p, g in zip(params, gs):
                p.grad = lib.tensor(g, dtype=lib.bfloat16)
            opt.step()
            largest_update = max([largest_update] + [float(np.abs(_np(p) - b).max())
                                                     for p, b in zip(params, before)])
        return params, largest_update
    (ours, _), (theirs, update) = run(torchlike), run(oracle)
    # Each step rounds the parameter to bfloat16 in both libraries, and the two roundings
    # may land one ulp apart: `steps` ulps of each element's own value (rtol). The update
    # added each step is PyTorch's bfloat16 result of its ~16 ops (ROUNDINGS_PER_STEP),
    # each rounded, against torchlike's float32 update rounded once: up to 16 bfloat16
    # roundings of the update's size, every step (atol, from the largest update torch made).
    tol = float_tol("bfloat16", steps)
    tol["atol"] = float_tol("bfloat16", steps * ROUNDINGS_PER_STEP, update)["atol"]
    for a, b in zip(ours, theirs):
        assert a.dtype is torchlike.bfloat16
        np.testing.assert_allclose(_np(a), _np(b), **tol)


def test_lr_changed_every_step_matches_torch_without_retracing(oracle):
    schedule = lambda i: 0.05 / (1 + i)  # noqa: E731
    _train(torchlike, "Adam", dict(lr=0.05), steps=3, schedule=schedule)   # warm the cache
    compiled = _run_group._cache_size()
    ours, _ = _train(torchlike, "Adam", dict(lr=0.05), schedule=schedule)
    assert _run_group._cache_size() == compiled
    theirs, _ = _train(oracle, "Adam", dict(lr=0.05), schedule=schedule)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(_np(a), _np(b), **_tol("float32", _np(b)))


def test_param_groups_with_own_options_and_params_without_grad(oracle):
    def groups(params):
        return [{"params": [params[0]], "lr": 0.05, "betas": (0.8, 0.99)},
                {"params": params[1:], "weight_decay": 0.1, "amsgrad": True}]

    def run(lib):
        params, opt = _train(lib, "Adam", dict(lr=0.01), params_fn=groups, steps=5)
        frozen = lib.nn.Parameter(lib.ones(4))
        opt.add_param_group({"params": [frozen], "lr": 1.0})  # never gets a gradient
        params[2].grad = None                                  # skipped this step
        params[0].grad = lib.ones(5, 7)
        params[1].grad = lib.ones(3)
        opt.step()
        return params + [frozen], opt
    (ours, opt_ours), (theirs, opt_theirs) = run(torchlike), run(oracle)
    for a, b in zip(ours, theirs):                 # 5 steps, then one more
        np.testing.assert_allclose(_np(a), _np(b), **_tol("float32", _np(b), 6))
    _assert_state_same(opt_ours, opt_theirs, steps=6)
    assert repr(opt_ours) == repr(opt_theirs)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.5)),
                                     ("Adagrad", dict()), ("NAdam", dict())])
def test_state_layout_before_and_after_a_step(oracle, name, kw):
    """SGD without momentum keeps no state; Adagrad creates its state up front."""
    for steps in (0, 1):
        ours, opt_ours = _train(torchlike, name, kw, steps=steps)
        theirs, opt_theirs = _train(oracle, name, kw, steps=steps)
        _assert_state_same(opt_ours, opt_theirs, steps=steps)   # 0 steps: bit for bit


def test_load_state_dict_from_torch_continues_identically(oracle, tmp_path):
    """A torch optimizer checkpoint resumes in torchlike with the same trajectory."""
    from torchlike.serialization import load
    theirs, opt_theirs = _train(oracle, "NAdam", dict(lr=0.01), steps=7)
    oracle.save({"params": [p.detach() for p in theirs], "optim": opt_theirs.state_dict()},
                tmp_path / "ckpt.pt")
    ckpt = load(tmp_path / "ckpt.pt")
    ours = [Parameter(t) for t in ckpt["params"]]
    opt_ours = torchlike.optim.NAdam(ours, lr=0.5)
    opt_ours.load_state_dict(ckpt["optim"])
    assert opt_ours.param_groups[0]["lr"] == 0.01
    _, grads = _data(5, "float32", 10)
    for gs in grads:
        for p, q, g in zip(ours, theirs, gs):
            p.grad, q.grad = torchlike.tensor(g), oracle.tensor(g)
        opt_ours.step()
        opt_theirs.step()
    for a, b in zip(ours, theirs):   # torch's first 7 steps, then 10 in each library
        np.testing.assert_allclose(_np(a), _np(b), **_tol("float32", _np(b), 10))
    _assert_state_same(opt_ours, opt_theirs, steps=10)


def test_state_dict_round_trip_within_torchlike():
    params, opt = _train(torchlike, "Adam", dict(lr=0.01, amsgrad=True), steps=4)
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0, 1, 2]
    fresh = [Parameter(p.detach().clone()) for p in params]
    opt2 = torchlike.optim.Adam(fresh, lr=1.0)
    opt2.load_state_dict(copy.deepcopy(sd))   # as in PyTorch, loading aliases the tensors
    assert opt2.param_groups[0]["lr"] == 0.01 and opt2.param_groups[0]["params"][0] is fresh[0]
    assert float(opt2.state[fresh[0]]["step"]) == 4.0
    for p, q in zip(params, fresh):
        p.grad = torchlike.ones(p.shape)
        q.grad = torchlike.ones(q.shape)
    opt.step()
    opt2.step()
    for p, q in zip(params, fresh):   # the same compiled update on equal inputs
        np.testing.assert_array_equal(_np(p), _np(q))


def test_load_state_dict_casts_state_to_parameter_dtype():
    params, opt = _train(torchlike, "Adam", dict(lr=0.01), steps=2)
    doubles = [Parameter(p.detach().double()) for p in params]
    opt2 = torchlike.optim.Adam(doubles)
    opt2.load_state_dict(opt.state_dict())
    state = opt2.state[doubles[0]]
    assert state["exp_avg"].dtype is torchlike.float64
    assert state["step"].dtype is torchlike.float32       # the step count keeps its dtype


def test_load_state_dict_errors(oracle):
    def run(lib, mutate):
        p = lib.nn.Parameter(lib.ones(2))
        opt = _optim(lib).SGD([p], lr=0.1)
        sd = opt.state_dict()
        mutate(sd)
        opt.load_state_dict(sd)

    def more_groups(sd):
        sd["param_groups"].append(dict(sd["param_groups"][0]))

    def more_params(sd):
        sd["param_groups"][0]["params"] = [0, 1]
    from helpers import assert_raises_same
    for mutate in (more_groups, more_params):
        assert_raises_same(lambda lib: run(lib, mutate))


def test_zero_grad(oracle):
    for set_to_none in (True, False):
        results = []
        for lib in (torchlike, oracle):
            p = lib.nn.Parameter(lib.ones(3))
            q = lib.nn.Parameter(lib.ones(2))
            opt = _optim(lib).SGD([p, q], lr=0.1)
            (p * 2).sum().backward()
            grad = p.grad
            opt.zero_grad(set_to_none=set_to_none)
            results.append((None if p.grad is None else _np(p.grad).tolist(), q.grad,
                            _np(grad).tolist()))
        assert results[0] == results[1]


@pytest.mark.parametrize("shared", [False, True], ids=["own", "one grad for two"])
def test_zero_grad_keeping_tensors_zeroes_them_in_place_as_torch(oracle, shared, monkeypatch):
    # zero_grad(set_to_none=False) zeroes every gradient, one version each (a gradient
    # two parameters share: twice), as one op where the gradients are distinct
    ran = batched_ops_run(monkeypatch)
    seen = []
    for lib in (torchlike, oracle):
        params = [lib.nn.Parameter(lib.ones(3)), lib.nn.Parameter(lib.ones(2, dtype=lib.float64)),
                  lib.nn.Parameter(lib.ones(3))]
        (params[0] * 2).sum().backward()
        (params[1] * 3).sum().backward()
        params[2].grad = params[0].grad if shared else lib.full((3,), 5.0)
        grads, versions = [p.grad for p in params], [p.grad._version for p in params]
        _optim(lib).SGD(params, lr=0.1).zero_grad(set_to_none=False)
        seen.append(([p.grad is g for p, g in zip(params, grads)],
                     [p.grad._version - v for p, v in zip(params, versions)],
                     [(str(p.grad.dtype), p.grad.tolist()) for p in params]))
    assert seen[0] == seen[1]
    assert ran == ([] if shared else ["zero_all"])


def test_closure_runs_with_grad_enabled_and_returns_loss(oracle):
    for lib in (torchlike, oracle):
        p = lib.nn.Parameter(lib.tensor([1.0, -2.0]))
        opt = _optim(lib).SGD([p], lr=0.1)
        seen = []

        def closure():
            seen.append(lib.is_grad_enabled())
            opt.zero_grad()
            loss = (p * p).sum()
            loss.backward()
            return loss
        with lib.no_grad():
            loss = opt.step(closure)
        assert seen == [True] and float(loss.detach()) == 5.0
        # p - 0.1 * 2p: two roundings, plus 0.8's own rounding to float32
        np.testing.assert_allclose(_np(p), [0.8, -1.6], **float_tol("float32", 3))


def test_step_runs_without_recording_history():
    p = Parameter(torchlike.ones(3))
    opt = torchlike.optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = torchlike.ones(3)
    version = p._version
    opt.step()
    assert p.is_leaf and p.grad_fn is None and p._version > version
    assert opt.state[p]["momentum_buffer"].requires_grad is False


def test_step_hooks():
    p = Parameter(torchlike.ones(2))
    opt = torchlike.optim.Adam([p])
    calls = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o is opt)))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", o is opt)))
    p.grad = torchlike.ones(2)
    opt.step()
    pre.remove()
    opt.step()
    assert calls == [("pre", True), ("post", True), ("post", True)]


def test_named_parameters_keep_their_names(oracle):
    for lib in (torchlike, oracle):
        a, b = lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(3))
        opt = _optim(lib).SGD([("w", a), ("b", b)], lr=0.1)
        assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


def test_errors_match_torch(oracle):
    from helpers import assert_raises_same

    def param(lib):
        return lib.nn.Parameter(lib.ones(2))
    checks = [
        lambda lib: _optim(lib).SGD([], lr=0.1),
        lambda lib: _optim(lib).SGD(param(lib), lr=0.1),
        lambda lib: _optim(lib).SGD([param(lib)], lr=-1.0),
        lambda lib: _optim(lib).SGD([param(lib)], lr=0.1, nesterov=True),
        lambda lib: _optim(lib).SGD([param(lib)], lr=0.1, momentum=-0.5),
        lambda lib: _optim(lib).Adam([param(lib)], betas=(1.0, 0.9)),
        lambda lib: _optim(lib).Adam([param(lib)], eps=-1.0),
        lambda lib: _optim(lib).RMSprop([param(lib)], alpha=-1.0),
        lambda lib: _optim(lib).Adagrad([param(lib)], lr_decay=-1.0),
        lambda lib: _optim(lib).NAdam([param(lib)], momentum_decay=-1.0),
        lambda lib: _optim(lib).SGD([param(lib) * 2], lr=0.1),
        lambda lib: _optim(lib).SGD([1.0], lr=0.1),
        lambda lib: _optim(lib).SGD([param(lib)], lr=0.1).add_param_group({"params": {param(lib)}}),
        lambda lib: _optim(lib).SGD([param(lib)], lr=0.1).add_param_group([param(lib)]),
    ]
    for check in checks:
        assert_raises_same(check)

    def overlap(lib):
        p = param(lib)
        opt = _optim(lib).SGD([p], lr=0.1)
        opt.add_param_group({"params": [p]})
    assert_raises_same(overlap)


def test_duplicate_parameter_warns():
    p = Parameter(torchlike.ones(2))
    with pytest.warns(UserWarning, match="duplicate parameters"):
        torchlike.optim.SGD([p, p], lr=0.1)


def test_tensor_lr_is_accepted():
    p = Parameter(torchlike.ones(2))
    opt = torchlike.optim.Adam([p], lr=torchlike.tensor(0.1))
    p.grad = torchlike.ones(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
    # Adam's first step from 1: the ~10 roundings of one update, and 0.9's own rounding
    np.testing.assert_allclose(_np(p), [0.9, 0.9], **float_tol("float32", 12))


def test_custom_optimizer_on_the_base_class(oracle):
    """A user optimizer written against the public API, as in PyTorch tutorials."""
    def make(lib):
        class SignSGD(_optim(lib).Optimizer):
            def __init__(self, params, lr=0.1):
                super().__init__(params, dict(lr=lr))

            @lib.no_grad()
            def step(self, closure=None):
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is None:
                            continue
                        count = self.state[p].setdefault("count", 0)
                        self.state[p]["count"] = count + 1
                        p.add_(p.grad.sign(), alpha=-group["lr"])
        return SignSGD

    def run(lib):
        p = lib.nn.Parameter(lib.tensor([1.0, -2.0, 3.0]))
        opt = make(lib)([p], lr=0.5)
        for _ in range(3):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
        return _np(p).tolist(), opt.state_dict()["state"], repr(opt).split("\n")[1:]
    assert run(torchlike) == run(oracle)   # +-0.5 steps from small integers: exact


def test_custom_step_without_no_grad_fails_as_in_torch(oracle):
    from helpers import assert_raises_same

    def run(lib):
        class Plain(_optim(lib).Optimizer):
            def step(self, closure=None):
                for p in self.param_groups[0]["params"]:
                    p.add_(p.grad, alpha=-0.1)
        p = lib.nn.Parameter(lib.ones(2))
        p.grad = lib.ones(2)
        Plain([p], {}).step()
    assert_raises_same(run)
