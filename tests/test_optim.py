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
TOL = {"float32": dict(rtol=1e-6, atol=1e-7), "float64": dict(rtol=1e-13, atol=1e-15),
       "complex64": dict(rtol=1e-5, atol=1e-6)}


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


def _train(lib, name, kw, dtype="float32", steps=25, schedule=None, params_fn=None):
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


def _assert_state_same(ours, theirs, tol):
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
            np.testing.assert_allclose(_np(mine[key]), _np(value), **tol, err_msg=key)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch(oracle, name, kw, dtype):
    ours, opt_ours = _train(torchlike, name, kw, dtype)
    theirs, opt_theirs = _train(oracle, name, kw, dtype)
    for a, b in zip(ours, theirs):
        assert a.dtype == getattr(torchlike, dtype) and a.requires_grad and a.is_leaf
        np.testing.assert_allclose(_np(a), _np(b), **TOL[dtype])
    _assert_state_same(opt_ours, opt_theirs, TOL[dtype])


@pytest.mark.parametrize("name,kw", [c for c in CASES if c[0] != "SGD"][::2] +
                         [("SGD", dict(lr=0.1, momentum=0.9))])
def test_complex_parameters_match_torch(oracle, name, kw):
    ours, _ = _train(torchlike, name, kw, "complex64", steps=15)
    theirs, _ = _train(oracle, name, kw, "complex64", steps=15)
    for a, b in zip(ours, theirs):
        assert a.dtype is torchlike.complex64
        np.testing.assert_allclose(_np(a), _np(b), **TOL["complex64"])


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "NAdam", "RAdam"])
def test_bfloat16_parameters_close_to_torch(oracle, name):
    """Half precision rounds after every PyTorch op; the fused update rounds less often,
    so results agree to bfloat16 precision, not bit for bit."""
    kw = dict(lr=0.01, momentum=0.9) if name in ("SGD", "RMSprop") else dict(lr=0.01)
    inits, grads = _data(1, "float32", 10)

    def run(lib):
        params = [lib.nn.Parameter(lib.tensor(a, dtype=lib.bfloat16)) for a in inits]
        opt = getattr(_optim(lib), name)(params, **kw)
        for gs in grads:
            for p, g in zip(params, gs):
                p.grad = lib.tensor(g, dtype=lib.bfloat16)
            opt.step()
        return params
    for a, b in zip(run(torchlike), run(oracle)):
        assert a.dtype is torchlike.bfloat16
        np.testing.assert_allclose(_np(a), _np(b), rtol=2e-2, atol=2e-2)


def test_lr_changed_every_step_matches_torch_without_retracing(oracle):
    schedule = lambda i: 0.05 / (1 + i)  # noqa: E731
    _train(torchlike, "Adam", dict(lr=0.05), steps=3, schedule=schedule)   # warm the cache
    compiled = _run_group._cache_size()
    ours, _ = _train(torchlike, "Adam", dict(lr=0.05), schedule=schedule)
    assert _run_group._cache_size() == compiled
    theirs, _ = _train(oracle, "Adam", dict(lr=0.05), schedule=schedule)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(_np(a), _np(b), **TOL["float32"])


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
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(_np(a), _np(b), **TOL["float32"])
    _assert_state_same(opt_ours, opt_theirs, TOL["float32"])
    assert repr(opt_ours) == repr(opt_theirs)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.5)),
                                     ("Adagrad", dict()), ("NAdam", dict())])
def test_state_layout_before_and_after_a_step(oracle, name, kw):
    """SGD without momentum keeps no state; Adagrad creates its state up front."""
    for steps in (0, 1):
        ours, opt_ours = _train(torchlike, name, kw, steps=steps)
        theirs, opt_theirs = _train(oracle, name, kw, steps=steps)
        _assert_state_same(opt_ours, opt_theirs, TOL["float32"])


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
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(_np(a), _np(b), **TOL["float32"])
    _assert_state_same(opt_ours, opt_theirs, TOL["float32"])


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
    for p, q in zip(params, fresh):
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
        np.testing.assert_allclose(_np(p), [0.8, -1.6], rtol=1e-6)


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
    np.testing.assert_allclose(_np(p), [0.9, 0.9], rtol=1e-6)


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
    assert run(torchlike) == run(oracle)


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
