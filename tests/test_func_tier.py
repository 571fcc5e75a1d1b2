"""torch.func transforms run as compiled programs, one per guard (torchlike/_func_tier.py):
every call gives PyTorch's results, whatever changed between calls; a repeated call
compiles nothing; what cannot be one program (a print, a result that is the argument
itself) runs eagerly."""
import jax
import numpy as np
import pytest

import torchlike
from torchlike import _caches, _func_tier
from torchlike._compile import config

torch = pytest.importorskip("torch")

CALLS = 4       # the first traces, the rest run the program


def _is_tensor(x):
    return isinstance(x, torchlike.Tensor)


def _close(ours, theirs):
    """Equal within float32 rounding of the largest value (sums of products cancel)."""
    theirs = np.asarray(theirs.tolist())
    np.testing.assert_allclose(np.asarray(ours.tolist()), theirs, rtol=1e-5,
                               atol=1e-6 * max(1.0, np.abs(theirs).max()))


def _model(lib):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 3))
    with lib.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(lib.linspace(-1, 1, p.numel()).reshape(p.shape) * (i + 1) / 3)
    return model


def _inputs(lib, call):
    x = lib.linspace(-2, 2, 20).reshape(5, 4) * (call + 1)
    return x, lib.tensor([0, 2, 1, 2, 0])


def _per_sample_grads(lib):
    """The torch.func tutorial's per-sample gradients, the parameters moving between
    calls as a training loop moves them."""
    model = _model(lib)
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(p, x, y):
        out = lib.func.functional_call(model, p, (x.unsqueeze(0),))
        return lib.nn.functional.cross_entropy(out, y.unsqueeze(0))
    per_sample = lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))
    results = []
    for call in range(CALLS):
        grads = per_sample(params, *_inputs(lib, call))
        results.append(grads["2.weight"])
        params = {k: v - 0.1 * grads[k].mean(0) for k, v in params.items()}
    return results


def _inline_jacobians(lib):
    """jacrev of a lambda written inside the loop (a new function object each call) at
    a row of a matrix (a view, at a new offset each call)."""
    model = _model(lib)
    x = _inputs(lib, 0)[0]
    return [lib.func.jacrev(lambda a: model(a).sin())(x[call]) for call in range(CALLS)]


def _hessians(lib):
    scale = lib.tensor([1.0, -2.0, 0.5])
    f = lambda a: (a.sin() * scale).sum() * a.pow(2).sum()      # noqa: E731
    results = []
    for call in range(CALLS):
        results.append(lib.func.hessian(f)(lib.tensor([0.3, -1.2, 2.0]) * (call + 1)))
        scale.mul_(1.5)             # (a captured tensor written between calls)
    return results


def _module_gradients(lib):
    """vmap of a module whose parameters require grad: backward after each call."""
    model = _model(lib)
    results = []
    for call in range(CALLS):
        out = lib.func.vmap(model)(_inputs(lib, call)[0])
        assert out.requires_grad
        out.pow(2).sum().backward()
        results.append(model[0].weight.grad.clone())
    return results


def _batchnorm_ensemble(lib):
    """stack_module_state + vmap(functional_call) of BatchNorm models in train mode: the
    running statistics are written back at every call."""
    lib.manual_seed(0)
    models = [lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.BatchNorm1d(3)) for _ in range(2)]
    params, buffers = lib.func.stack_module_state(models)
    base = models[0]

    def run(p, b, x):
        return lib.func.functional_call(base, (p, b), (x,))
    with lib.no_grad():
        for k in params:
            params[k].copy_(lib.linspace(-1, 1, params[k].numel()).reshape(params[k].shape))
    results = []
    for call in range(CALLS):
        out = lib.func.vmap(run, in_dims=(0, 0, None))(params, buffers, _inputs(lib, call)[0])
        results += [out, buffers["1.running_mean"].clone(), buffers["1.running_var"].clone()]
    return results


def _python_scalar(lib):
    """A global Python number read by the function changes between calls (the last
    call must not run the program traced for 2.0)."""
    results = []
    for factor in (1.0, 1.0, 2.0, 2.0, 1.0):
        _GLOBALS["factor"] = factor
        results.append(lib.func.grad(_scaled_loss)(lib.tensor([0.5, -1.0, 2.0])))
    return results


_GLOBALS = {"factor": 1.0}


def _rebound_closure(lib):
    """A closure variable the function reads is rebound between calls."""
    scale = 1.0

    def f(a):
        return (a.sin() * scale).sum()
    g = lib.func.grad(f)
    results = []
    for scale in (1.0, 1.0, 2.0, 2.0, 1.0):    # noqa: B007 (f reads it)
        results.append(g(lib.tensor([0.5, -1.0, 2.0])))
    return results


def _writes_into_a_view(lib):
    """vmap of a function writing its input in place, given a view of a matrix."""
    x = lib.arange(12.0).reshape(3, 4)
    f = lib.vmap(lambda a: a.mul_(1.5).sum())
    results = []
    for _ in range(CALLS):
        results += [f(x[:, 1:]), x.clone()]
    return results


def _scaled_loss(a):
    return (a.pow(3) * _GLOBALS["factor"]).sum()


@pytest.mark.parametrize("case", [_per_sample_grads, _inline_jacobians, _hessians,
                                  _module_gradients, _batchnorm_ensemble, _python_scalar,
                                  _rebound_closure, _writes_into_a_view])
def test_every_call_gives_torchs_results(case):
    _func_tier._tiers.clear()
    ours, theirs = case(torchlike), case(torch)
    # (the later calls ran a program)
    assert any(not e.eager for t in _func_tier._tiers.values() for e in t.entries.values())
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        _close(a, b)


def test_a_repeated_transform_compiles_nothing_and_runs_its_program():
    model = _model(torchlike)
    jac = torchlike.func.jacrev(lambda a: model(a).tanh())
    x = _inputs(torchlike, 0)[0][0]
    jac(x), jac(x)      # traced and compiled (and the copy of the row, `x` being a view)
    compiles = _caches.compiles.total
    for _ in range(3):
        jac(x).tolist()
    assert _caches.compiles.total == compiles
    tier = _func_tier._tiers[jac._tier_key]
    assert [e.eager for e in tier.entries.values()] == [False]


def test_turned_off_every_call_runs_eagerly(monkeypatch):
    monkeypatch.setattr(config, "compile_func_transforms", False)
    f = torchlike.func.grad(lambda a: a.sin().sum())
    for _ in range(3):
        f(torchlike.tensor([1.0, 2.0]))
    assert f._tier_key not in _func_tier._tiers


def test_a_function_that_prints_prints_at_every_call(capsys):
    def f(a):
        print("called")
        return a.exp().sum()
    g = torchlike.func.grad(f)
    for call in range(CALLS):
        _close(g(torchlike.tensor([0.5, 1.0]) * call),
               torch.func.grad(f)(torch.tensor([0.5, 1.0]) * call))
    assert capsys.readouterr().out.count("called") == 2 * CALLS


def test_a_returned_argument_stays_the_callers_tensor():
    f = torchlike.vmap(lambda a: a)
    x = torchlike.ones(3, 2)
    assert all(f(x) is x for _ in range(CALLS))


def test_random_draws_differ_at_every_call():
    torchlike.manual_seed(0)
    drop = torchlike.vmap(lambda a: torchlike.nn.functional.dropout(a, 0.5),
                          randomness="different")
    masks = [drop(torchlike.ones(8, 16)) for _ in range(CALLS)]
    for m in masks:
        assert set(np.unique(m.tolist())) <= {0.0, 2.0}
    assert len({tuple(np.ravel(m.tolist())) for m in masks}) == CALLS


def test_an_error_is_raised_at_every_call_as_torch_raises_it():
    f_ours = torchlike.vmap(lambda a, b: a + b)
    f_theirs = torch.vmap(lambda a, b: a + b)
    with pytest.raises(ValueError) as theirs:
        f_theirs(torch.ones(3, 2), torch.ones(4, 2))
    for _ in range(CALLS):
        with pytest.raises(ValueError) as ours:
            f_ours(torchlike.ones(3, 2), torchlike.ones(4, 2))
        assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("returns_tuple", [True, False])
def test_autograd_functional_keeps_its_conventions_at_every_call(returns_tuple):
    """torch.autograd.functional's jacobian and jvp unpack their results by whether the
    function returned a tuple, which they learn while it runs: a call that runs the
    program instead unpacks the same way, and compiles nothing."""
    def f(a, b):
        return ((a * b).sin(), a.exp()) if returns_tuple else (a * b).sin()
    for call in range(CALLS):
        if call == 2:
            compiles = _caches.compiles.total
        args = {lib: (lib.tensor([0.5, -1.0]) * (call + 1), lib.tensor([2.0, 0.25]))
                for lib in (torchlike, torch)}
        ours = torchlike.autograd.functional.jacobian(f, args[torchlike])
        theirs = torch.autograd.functional.jacobian(f, args[torch])
        assert type(ours) is type(theirs)
        assert isinstance(ours[0], tuple) == isinstance(theirs[0], tuple)
        flat_ours = jax.tree_util.tree_leaves(ours, is_leaf=_is_tensor)
        flat_theirs = torch.utils._pytree.tree_leaves(theirs)
        assert len(flat_ours) == len(flat_theirs)
        for a, b in zip(flat_ours, flat_theirs):
            _close(a, b)
        v = {lib: (lib.ones(2), lib.ones(2)) for lib in (torchlike, torch)}
        ours = torchlike.autograd.functional.jvp(f, args[torchlike], v[torchlike])
        theirs = torch.autograd.functional.jvp(f, args[torch], v[torch])
        assert isinstance(ours[1], tuple) == isinstance(theirs[1], tuple)
        for a, b in zip(jax.tree_util.tree_leaves(ours, is_leaf=_is_tensor),
                        torch.utils._pytree.tree_leaves(theirs)):
            _close(a, b)
    assert _caches.compiles.total == compiles
    # (and they ran as programs)
    assert {k[0][1] for k in _func_tier._tiers if k[0][0] == "autograd.functional"} >= \
        {"jacobian", "jvp"}


def test_a_lambda_written_at_each_call_compiles_once():
    """autograd.functional.hessian of a lambda written at each call wraps it in a
    closure of its own each time: the transform is still found by what it is made of."""
    model = _model(torchlike)
    x = _inputs(torchlike, 0)[0][0].clone()

    def hessian():
        return torchlike.autograd.functional.hessian(lambda a: model(a).tanh().sum(), x)
    first = hessian()
    first.tolist()
    compiles = _caches.compiles.total
    for _ in range(3):
        _close(hessian(), first)
    assert _caches.compiles.total == compiles
    tmodel = _model(torch)
    _close(first, torch.autograd.functional.hessian(lambda a: tmodel(a).tanh().sum(),
                                                    _inputs(torch, 0)[0][0]))


def test_a_closure_over_a_new_number_each_call_compiles_a_bounded_number_of_times():
    """`grad(lambda a: f(a) * scale)` with a new float `scale` each step: a new function
    each time (its closure holds a new object); past TIERS_PER_CODE such functions of one
    code, calls run eagerly instead of compiling one program each. Every call is right."""
    def step(lib, scale):
        return lib.func.grad(lambda a: a.sin().sum() * scale)(lib.tensor([0.5, 1.0]))
    compiles = []
    for call in range(_func_tier.TIERS_PER_CODE + 6):   # (eager: its first call compiles ops)
        scale = 1.0 + call / 7          # (a new float object each call)
        before = _caches.compiles.total
        _close(step(torchlike, scale), step(torch, scale))
        compiles.append(_caches.compiles.total - before)
    assert compiles[-4:] == [0, 0, 0, 0]


def test_modules_are_not_bounded_as_functions_of_one_code():
    """The bound is per function code: vmap of more distinct modules than it still
    compiles each of them."""
    models = [_model(torchlike) for _ in range(_func_tier.TIERS_PER_CODE + 2)]
    x = _inputs(torchlike, 0)[0]
    for model in models:
        torchlike.vmap(model)(x)
    assert all(torchlike.vmap(m)._tier_key in _func_tier._tiers for m in models)


_JACOBIANS = {
    "jacrev": lambda lib, f, x: lib.func.jacrev(f)(x),
    "jacfwd": lambda lib, f, x: lib.func.jacfwd(f)(x),
    "functional.jacobian": lambda lib, f, x: lib.autograd.functional.jacobian(f, x),
    "vectorized jacobian": lambda lib, f, x: lib.autograd.functional.jacobian(
        f, x, vectorize=True),
    "hessian": lambda lib, f, x: lib.func.hessian(lambda a: f(a).sum())(x),
}


@pytest.mark.parametrize("name", sorted(_JACOBIANS))
def test_compiled_jacobians_print_signed_zeros_as_torch(name):
    # a structural zero times a negative derivative is -0.0 (PyTorch prints -0.0000):
    # compiled, XLA made the product with the one-hot basis a select, which gave +0.0
    def f(a):
        return a.sin() * 2 - a.exp()
    values = [0.5, 1.0, 2.0, -1.5]
    got = _JACOBIANS[name](torchlike, f, torchlike.tensor(values))
    want = _JACOBIANS[name](torch, f, torch.tensor(values))
    assert str(got) == str(want)
