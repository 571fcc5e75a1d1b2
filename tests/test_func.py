"""torchlike.func against real torch.func: values, shapes, dtypes and errors."""
import numpy as np
import pytest

import torchlike
from helpers import float_tol, to_numpy

torch = pytest.importorskip("torch")
TOL = float_tol("float32", steps=16, scale=4.0)
rng = np.random.default_rng(0)


def pair(*shape, dtype=np.float32):
    values = rng.standard_normal(shape).astype(dtype)
    return torchlike.tensor(values), torch.tensor(values)


def assert_same(got, want, tol=TOL):
    """Same pytree structure, shapes, dtypes and values (within float rounding)."""
    if isinstance(want, torch.Tensor):
        assert isinstance(got, torchlike.Tensor), type(got)
        assert tuple(got.shape) == tuple(want.shape)
        assert str(got.dtype) == str(want.dtype)
        np.testing.assert_allclose(to_numpy(got), want.detach().numpy(), **tol)
    elif isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want)
        for k in want:
            assert_same(got[k], want[k], tol)
    elif isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(g, w, tol)
    else:
        assert got == want


def same_error(call_torchlike, call_torch):
    with pytest.raises(Exception) as ref:
        call_torch()
    with pytest.raises(type(ref.value)) as err:
        call_torchlike()
    assert str(err.value) == str(ref.value)


def both(build):
    """build(lib) -> callable, for torchlike and torch."""
    return build(torchlike), build(torch)


# -- grad -----------------------------------------------------------------------------
def _loss(lib):
    return lambda x, y: (lib.sin(x) * y).sum() + (x ** 2).mean()


def test_grad_values_argnums_and_aux():
    (x, tx), (y, ty) = pair(3, 4), pair(3, 4)
    f, tf = both(_loss)
    assert_same(torchlike.func.grad(f)(x, y), torch.func.grad(tf)(tx, ty))
    assert_same(torchlike.func.grad(f, argnums=1)(x, y), torch.func.grad(tf, argnums=1)(tx, ty))
    assert_same(torchlike.func.grad(f, argnums=(0, -1))(x, y),
                torch.func.grad(tf, argnums=(0, -1))(tx, ty))
    assert_same(torchlike.func.grad_and_value(f)(x, y), torch.func.grad_and_value(tf)(tx, ty))

    def with_aux(lib):
        return lambda x: ((x.exp()).sum(), {"double": x * 2, "half": (x / 2,)})
    g, tg = both(with_aux)
    assert_same(torchlike.func.grad(g, has_aux=True)(x), torch.func.grad(tg, has_aux=True)(tx))
    assert_same(torchlike.func.grad_and_value(g, has_aux=True)(x),
                torch.func.grad_and_value(tg, has_aux=True)(tx))


def test_grad_of_dict_and_float64_inputs():
    (a, ta), (b, tb) = pair(2, 3, dtype=np.float64), pair(3, dtype=np.float64)

    def f(lib):
        return lambda p: (p["w"] @ p["b"]).tanh().sum()
    fl, ft = both(f)
    assert_same(torchlike.func.grad(fl)({"w": a, "b": b}), torch.func.grad(ft)({"w": ta, "b": tb}))


@pytest.mark.parametrize("case", [
    dict(argnums=1), dict(argnums=-2), dict(argnums=(0, 0)), dict(argnums=1.5),
    dict(argnums=()), dict(argnums=[0]), dict(fn="vector"), dict(fn="float"),
    dict(fn="triple", has_aux=True), dict(has_aux=True), dict(arg="int"), dict(arg="float"),
])
def test_grad_errors_match_torch(case):
    fns = {"sum": lambda x: x.sum(), "vector": lambda x: x * 2, "float": lambda x: 3.0,
           "triple": lambda x: (x.sum(), 1, 2)}
    fn = fns[case.get("fn", "sum")]
    kwargs = {k: v for k, v in case.items() if k in ("argnums", "has_aux")}
    arg = case.get("arg")

    def call(lib):
        x = {"int": lib.arange(3), "float": 3.0}.get(arg) if arg else lib.ones(3)
        return lambda: lib.func.grad(fn, **kwargs)(x)
    same_error(*both(call))


# -- vjp, jvp, linearize ----------------------------------------------------------------
def _two_outputs(lib):
    return lambda x, y: (x.sin() * y, (x @ y.T).sum(-1))


@pytest.mark.parametrize("api", ["grad", "vjp", "jvp", "jacrev", "jacfwd"])
@pytest.mark.parametrize("aux", ["int", "none_in_dict"])
def test_aux_must_hold_tensors(api, aux):
    def call(lib):
        x = lib.ones(2)
        extra = 1 if aux == "int" else {"a": [x, None]}
        fn = lambda a: (a.sum() if api == "grad" else a * 2, extra)   # noqa: E731
        F = lib.func
        return {"grad": lambda: F.grad(fn, has_aux=True)(x),
                "vjp": lambda: F.vjp(fn, x, has_aux=True),
                "jvp": lambda: F.jvp(fn, (x,), (x,), has_aux=True),
                "jacrev": lambda: F.jacrev(fn, has_aux=True)(x),
                "jacfwd": lambda: F.jacfwd(fn, has_aux=True)(x)}[api]
    same_error(*both(call))


@pytest.mark.parametrize("case", ["structure", "tangents_not_tuple", "float_primal",
                                  "float_tangent", "int_output"])
def test_jvp_errors_match_torch(case):
    def call(lib):
        x = lib.ones(2)
        F = lib.func
        return {"structure": lambda: F.jvp(lambda a, b: a, (x, x), (x,)),
                "tangents_not_tuple": lambda: F.jvp(lambda a: a, (x,), x),
                "float_primal": lambda: F.jvp(lambda a: a, (3.0,), (3.0,)),
                "float_tangent": lambda: F.jvp(lambda a: a, (x,), (3.0,)),
                "int_output": lambda: F.jvp(lambda a: 3, (x,), (x,))}[case]
    same_error(*both(call))


@pytest.mark.parametrize("api", ["vjp", "jacrev", "jacfwd"])
def test_non_tensor_outputs_match_torch(api):
    def call(lib):
        x = lib.ones(2)
        F = lib.func
        return {"vjp": lambda: F.vjp(lambda a: 3, x),
                "jacrev": lambda: F.jacrev(lambda a: 3)(x),
                "jacfwd": lambda: F.jacfwd(lambda a: 3)(x)}[api]
    same_error(*both(call))


def test_vjp():
    (x, tx), (y, ty) = pair(2, 3), pair(2, 3)
    (c1, tc1), (c2, tc2) = pair(2, 3), pair(2)
    f, tf = both(_two_outputs)
    out, fn = torchlike.func.vjp(f, x, y)
    tout, tfn = torch.func.vjp(tf, tx, ty)
    assert_same(out, tout)
    assert_same(fn((c1, c2)), tfn((tc1, tc2)))
    out, fn, aux = torchlike.func.vjp(lambda x: (x.exp(), x.sum()), x, has_aux=True)
    tout, tfn, taux = torch.func.vjp(lambda x: (x.exp(), x.sum()), tx, has_aux=True)
    assert_same((out, aux, fn(c1)), (tout, taux, tfn(tc1)))
    same_error(lambda: torchlike.func.vjp(lambda a: a * 2, x)[1](torchlike.ones(4)),
               lambda: torch.func.vjp(lambda a: a * 2, tx)[1](torch.ones(4)))
    same_error(lambda: torchlike.func.vjp(lambda a: a * 2, x)[1]((x,)),
               lambda: torch.func.vjp(lambda a: a * 2, tx)[1]((tx,)))
    same_error(lambda: torchlike.func.vjp(lambda a: {"p": (a, a)}, x)[1]({"p": x}),
               lambda: torch.func.vjp(lambda a: {"p": (a, a)}, tx)[1]({"p": tx}))
    same_error(lambda: torchlike.func.vjp(lambda a: a, 3.0),
               lambda: torch.func.vjp(lambda a: a, 3.0))


def test_jvp_and_linearize():
    (x, tx), (y, ty), (u, tu), (v, tv) = pair(2, 3), pair(2, 3), pair(2, 3), pair(2, 3)
    f, tf = both(_two_outputs)
    assert_same(torchlike.func.jvp(f, (x, y), (u, v)), torch.func.jvp(tf, (tx, ty), (tu, tv)))
    assert_same(torchlike.func.jvp(lambda a: (a.cos(), a.sum()), (x,), (u,), has_aux=True),
                torch.func.jvp(lambda a: (a.cos(), a.sum()), (tx,), (tu,), has_aux=True))
    out, fn = torchlike.func.linearize(lambda a: a.sin().cumsum(0), x)
    tout, tfn = torch.func.linearize(lambda a: a.sin().cumsum(0), tx)
    assert_same((out, fn(u), fn(v)), (tout, tfn(tu), tfn(tv)))
    same_error(lambda: torchlike.func.jvp(lambda a: a, x, u),
               lambda: torch.func.jvp(lambda a: a, tx, tu))
    same_error(lambda: torchlike.func.jvp(lambda a: a, (x,), (torchlike.ones(4),)),
               lambda: torch.func.jvp(lambda a: a, (tx,), (torch.ones(4),)))


# -- Jacobians and Hessians -----------------------------------------------------------
@pytest.mark.parametrize("api", ["jacrev", "jacfwd"])
def test_jacobians(api):
    (x, tx), (y, ty) = pair(3), pair(2, 3)
    jac, tjac = getattr(torchlike.func, api), getattr(torch.func, api)
    f, tf = both(lambda lib: (lambda a, b: (b @ a).tanh()))
    assert_same(jac(f)(x, y), tjac(tf)(tx, ty))
    assert_same(jac(f, argnums=(0, 1))(x, y), tjac(tf, argnums=(0, 1))(tx, ty))
    g, tg = both(_two_outputs)
    assert_same(jac(g, argnums=1)(y, y), tjac(tg, argnums=1)(ty, ty))
    h = lambda a: (a.exp(), {"s": a.sum()})     # noqa: E731
    assert_same(jac(h, has_aux=True)(x), tjac(h, has_aux=True)(tx))
    same_error(lambda: jac(f, argnums=2)(x, y), lambda: tjac(tf, argnums=2)(tx, ty))


def test_hessian_and_nested_jacobians():
    (x, tx), (y, ty) = pair(4, dtype=np.float64), pair(4, dtype=np.float64)
    f = lambda a, b: (a.sin() * b).sum() * a.norm()         # noqa: E731
    assert_same(torchlike.func.hessian(f)(x, y), torch.func.hessian(f)(tx, ty))
    assert_same(torchlike.func.hessian(f, argnums=(0, 1))(x, y),
                torch.func.hessian(f, argnums=(0, 1))(tx, ty))
    jj = torchlike.func.jacfwd(torchlike.func.jacrev(f))(x, y)
    assert_same(jj, torch.func.jacfwd(torch.func.jacrev(f))(tx, ty))
    assert_same(torchlike.func.jacrev(torchlike.func.jacrev(f))(x, y),
                torch.func.jacrev(torch.func.jacrev(f))(tx, ty))




def test_jacobian_dicts_keep_their_key_order():
    """The Jacobians' dicts list their keys as the function's outputs and inputs do (JAX
    sorts them): the tutorials' `torch.cat([j.flatten(1) for j in J.values()], 1)` over
    a model's parameters must follow named_parameters()."""
    (x, tx), (y, ty) = pair(3), pair(3)
    out = lambda d: {"z": d["z"] * d["a"], "a": d["a"].sum()}     # noqa: E731
    args, targs = {"z": x, "a": y}, {"z": tx, "a": ty}
    for api in ("jacrev", "jacfwd"):
        jac, tjac = getattr(torchlike.func, api), getattr(torch.func, api)
        assert_same(jac(out)(args), tjac(out)(targs))
        assert_same(jac(lambda d: (d["z"].exp(), {"y": d["a"], "b": d["z"]}), has_aux=True)(args),
                    tjac(lambda d: (d["z"].exp(), {"y": d["a"], "b": d["z"]}), has_aux=True)(targs))
    scalar = lambda d: (d["z"] * d["a"]).sum()        # noqa: E731
    assert_same(torchlike.func.hessian(scalar)(args), torch.func.hessian(scalar)(targs))
    got, fn = torchlike.func.linearize(out, args)
    want, tfn = torch.func.linearize(out, targs)
    assert_same((got, fn(args)), (want, tfn(targs)))
    model = torchlike.nn.Linear(3, 2)
    tmodel = torch.nn.Linear(3, 2)
    tmodel.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    jac = torchlike.func.jacrev(lambda p: torchlike.func.functional_call(model, p, (x,)))(
        dict(model.named_parameters()))
    tjac = torch.func.jacrev(lambda p: torch.func.functional_call(tmodel, p, (tx,)))(
        dict(tmodel.named_parameters()))
    assert_same(jac, tjac)
# -- vmap -----------------------------------------------------------------------------
def test_vmap_in_dims_out_dims_and_structures():
    (x, tx), (y, ty), (b, tb) = pair(4, 3), pair(3, 4), pair(3)
    mv = lambda m, v: m @ v      # noqa: E731
    for vm, args, targs in [
        (dict(), (x, b), None), (dict(in_dims=(0, None)), (x, b), (tx, tb)),
        (dict(in_dims=(1, None)), (y, b), (ty, tb)),
        (dict(in_dims=(-1, None), out_dims=0), (y, b), (ty, tb)),
    ]:
        if targs is None:
            continue
        assert_same(torchlike.vmap(mv, **vm)(*args), torch.vmap(mv, **vm)(*targs))
    f = lambda d, s: {"a": d["p"] * s, "b": (d["q"].sum(), d["p"].exp())}   # noqa: E731
    in_dims = ({"p": 0, "q": 1}, None)
    out_dims = {"a": 1, "b": (0, -1)}
    assert_same(torchlike.vmap(f, in_dims, out_dims)({"p": x, "q": y}, 2.0),
                torch.vmap(f, in_dims, out_dims)({"p": tx, "q": ty}, 2.0))
    assert_same(torchlike.vmap(lambda a: (a, 7), out_dims=(0, None))(x),
                torch.vmap(lambda a: (a, 7), out_dims=(0, None))(tx))
    nested = torchlike.vmap(torchlike.vmap(lambda a, c: a * c, (0, None)), (1, None))(y, b)
    assert_same(nested, torch.vmap(torch.vmap(lambda a, c: a * c, (0, None)), (1, None))(ty, tb))


@pytest.mark.parametrize("chunk_size", [1, 3, 4, 10])
def test_vmap_chunk_size(chunk_size):
    (x, tx), (b, tb) = pair(10, 3), pair(3)
    f = lambda a, c: ((a * c).sum(), a.flip(0))     # noqa: E731
    assert_same(torchlike.vmap(f, (0, None), (0, 1), chunk_size=chunk_size)(x, b),
                torch.vmap(f, (0, None), (0, 1), chunk_size=chunk_size)(tx, tb))


@pytest.mark.parametrize("case", [
    (dict(in_dims=1), "x"), (dict(in_dims=(0, 0)), "x"), (dict(in_dims=[0]), "x"),
    (dict(in_dims=None), "x"), (dict(in_dims=(0, 0)), "x,y"), (dict(in_dims=(0, 0)), "x,2.0"),
    (dict(in_dims=0), "s"), (dict(in_dims=(None,)), "x"), (dict(out_dims=1), "x"),
    (dict(out_dims=(0, 0)), "x"), (dict(fn="int"), "x"), (dict(fn="rand"), "x"),
    (dict(randomness="foo"), "x"), (dict(chunk_size=0), "x"), (dict(fn="item"), "x"),
    (dict(fn="bool"), "x"), (dict(fn="to_int"), "x"), (dict(fn="pair", out_dims=(0, None)), "x"),
])
def test_vmap_errors_match_torch(case):
    kwargs, inputs = case
    fns = {"id": lambda *a: a[0], "int": lambda *a: 3, "rand": lambda *a: a[0] + 0 * 1,
           "mul": lambda a, b: a * b, "item": lambda a: a.sum().item(),
           "bool": lambda a: a if a.sum() > 0 else -a, "to_int": lambda a: int(a.sum()),
           "pair": lambda a: (a, a * 2)}
    kwargs = dict(kwargs)
    fn_name = kwargs.pop("fn", "mul" if "," in inputs else "id")

    def call(lib):
        values = {"x": lib.ones(3), "y": lib.ones(4), "s": lib.tensor(1.0), "2.0": 2.0}
        args = [values[k] for k in inputs.split(",")]
        fn = (lambda a: lib.rand(2)) if fn_name == "rand" else fns[fn_name]
        fn.__name__ = "<lambda>"
        return lambda: lib.vmap(fn, **kwargs)(*args)
    same_error(*both(call))


def test_vmap_randomness():
    x = torchlike.ones(5)
    same = torchlike.vmap(lambda a: torchlike.rand(3) + a * 0, randomness="same")(x)
    assert np.all(to_numpy(same) == to_numpy(same)[0])
    diff = torchlike.vmap(lambda a: torchlike.randn(3) + a * 0, randomness="different")(x)
    assert len({tuple(r) for r in to_numpy(diff).tolist()}) == 5
    chunked = torchlike.vmap(lambda a: torchlike.rand(()) + a * 0, randomness="different",
                             chunk_size=2)(x)
    assert len(set(to_numpy(chunked).tolist())) == 5
    assert torchlike.rand(2).shape == (2,)      # eager draws still work afterwards


# -- nested transforms: per-sample gradients, ensembles -------------------------------
def _models(n):
    models = [torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
              for _ in range(n)]
    mine = []
    for m in models:
        t = torchlike.nn.Sequential(torchlike.nn.Linear(3, 5), torchlike.nn.Tanh(),
                                    torchlike.nn.Linear(5, 2))
        t.load_state_dict({k: torchlike.tensor(v.detach().numpy())
                           for k, v in m.state_dict().items()})
        mine.append(t)
    return mine, models


def test_per_sample_gradients():
    (mine,), (ref,) = _models(1)
    (x, tx), (y, ty) = pair(6, 3), pair(6, 2)

    def loss(lib, model):
        def f(params, a, b):
            out = lib.func.functional_call(model, params, (a.unsqueeze(0),))
            return ((out - b) ** 2).mean()
        return f
    params = {k: v.detach() for k, v in mine.named_parameters()}
    tparams = {k: v.detach() for k, v in ref.named_parameters()}
    got = torchlike.vmap(torchlike.func.grad(loss(torchlike, mine)), (None, 0, 0))(params, x, y)
    want = torch.vmap(torch.func.grad(loss(torch, ref)), (None, 0, 0))(tparams, tx, ty)
    assert_same(got, want)


def test_ensemble_with_stack_module_state():
    mine, ref = _models(4)
    params, buffers = torchlike.func.stack_module_state(mine)
    tparams, tbuffers = torch.func.stack_module_state(ref)
    assert_same(params, {k: v.detach() for k, v in tparams.items()})
    assert all(p.requires_grad and p.is_leaf for p in params.values())
    (x, tx) = pair(7, 3)

    def run(lib, base):
        return lambda p, b, a: lib.func.functional_call(base, (p, b), (a,))
    got = torchlike.vmap(run(torchlike, mine[0]), (0, 0, None))(params, buffers, x)
    want = torch.vmap(run(torch, ref[0]), (0, 0, None))(tparams, tbuffers, tx)
    assert_same(got, want.detach())
    same_error(lambda: torchlike.func.stack_module_state([]),
               lambda: torch.func.stack_module_state([]))
    same_error(lambda: torchlike.func.stack_module_state([mine[0], mine[1].eval()]),
               lambda: torch.func.stack_module_state([ref[0], ref[1].eval()]))


def test_functional_call():
    (mine,), (ref,) = _models(1)
    x, tx = pair(2, 3)
    w, tw = pair(5, 3)
    assert_same(torchlike.func.functional_call(mine, {"0.weight": w}, x),
                torch.func.functional_call(ref, {"0.weight": tw}, tx).detach())
    assert_same(torchlike.nn.utils.stateless.functional_call(mine, {"0.weight": w}, (x,)),
                torch.nn.utils.stateless.functional_call(ref, {"0.weight": tw}, (tx,)).detach())
    assert to_numpy(mine[0].weight).tolist() != to_numpy(w).tolist()   # restored
    for bad in ({"foo": 1}, {"0.weight": 1}):
        same_error(lambda: torchlike.func.functional_call(
                       mine, {k: torchlike.ones(1) for k in bad}, (x,), strict=True),
                   lambda: torch.func.functional_call(
                       ref, {k: torch.ones(1) for k in bad}, (tx,), strict=True))
    same_error(lambda: torchlike.func.functional_call(mine, ({"0.bias": w}, {"0.bias": w}), x),
               lambda: torch.func.functional_call(ref, ({"0.bias": tw}, {"0.bias": tw}), tx))


def test_tied_weights():
    def build(lib):
        m = lib.nn.Sequential(lib.nn.Linear(3, 3, bias=False), lib.nn.Linear(3, 3, bias=False))
        m[1].weight = m[0].weight
        return m
    m, tm = build(torchlike), build(torch)
    tm[0].weight.data = torch.tensor(to_numpy(m[0].weight))
    (x, tx), (w, tw) = pair(2, 3), pair(3, 3)
    assert_same(torchlike.func.functional_call(m, {"0.weight": w}, x),
                torch.func.functional_call(tm, {"0.weight": tw}, tx).detach())
    assert_same(torchlike.func.functional_call(m, {"0.weight": w, "1.weight": w}, x),
                torch.func.functional_call(tm, {"0.weight": tw, "1.weight": tw}, tx).detach())
    same_error(lambda: torchlike.func.functional_call(m, {"0.weight": w, "1.weight": w * 1}, x),
               lambda: torch.func.functional_call(tm, {"0.weight": tw, "1.weight": tw * 1}, tx))
    assert_same(torchlike.func.functional_call(m, {"0.weight": w, "1.weight": w * 2}, x,
                                               tie_weights=False),
                torch.func.functional_call(tm, {"0.weight": tw, "1.weight": tw * 2}, tx,
                                           tie_weights=False).detach())
    same_error(lambda: torchlike.func.stack_module_state(
                   [torchlike.nn.Linear(2, 2), torchlike.nn.Conv1d(2, 2, 1)]),
               lambda: torch.func.stack_module_state([torch.nn.Linear(2, 2),
                                                      torch.nn.Conv1d(2, 2, 1)]))


# -- grad mode and detach inside transforms --------------------------------------------
def _no_grad_inside(lib):
    def f(a):
        with lib.no_grad():
            b = a * a
        return (b * a).sum() + (a.detach() * a).sum()
    return f


def test_no_grad_and_detach_inside_transforms():
    (x, tx), (u, tu) = pair(3), pair(3)
    f, tf = both(_no_grad_inside)
    for api in ("grad", "jacrev", "jacfwd"):
        assert_same(getattr(torchlike.func, api)(f)(x), getattr(torch.func, api)(tf)(tx))
    assert_same(torchlike.func.jvp(f, (x,), (u,)), torch.func.jvp(tf, (tx,), (tu,)))
    assert_same(torchlike.func.vjp(f, x)[1](torchlike.tensor(1.0)),
                torch.func.vjp(tf, tx)[1](torch.tensor(1.0)))
    with torchlike.no_grad():       # an outer no_grad does not reach inside
        got = torchlike.func.grad(lambda a: (a * a).sum())(x)
    with torch.no_grad():
        want = torch.func.grad(lambda a: (a * a).sum())(tx)
    assert_same(got, want)
    g = lambda a: (a.detach() * a).sum()        # noqa: E731
    assert_same(torchlike.vmap(torchlike.func.grad(g))(x.reshape(3, 1)),
                torch.vmap(torch.func.grad(g))(tx.reshape(3, 1)))


# -- transforms inside torchlike's autograd graph ---------------------------------------
def _square_sum(out):
    return sum((o.pow(2).sum() for o in (out if isinstance(out, tuple) else (out,))))


@pytest.mark.parametrize("case", ["vmap_model", "ensemble", "grad_of_input", "jacrev_captured",
                                  "hessian", "vmap_grad"])
def test_backward_through_transforms(case):
    """Results of a transform are differentiable w.r.t. the tensors that require grad it
    read (arguments and captured parameters): backward fills the same .grads as torch."""
    mine, ref = _models(2)
    values = rng.standard_normal((5, 3)).astype(np.float32)

    def run(lib, models):
        x = lib.tensor(values)
        w = lib.tensor(values[0], requires_grad=True)
        F = lib.func
        if case == "vmap_model":
            out, leaves = lib.vmap(models[0])(x), list(models[0].parameters())
        elif case == "ensemble":
            params, buffers = F.stack_module_state(models)
            out = lib.vmap(lambda p, b, a: F.functional_call(models[0], (p, b), (a,)),
                           in_dims=(0, 0, None))(params, buffers, x)
            leaves = list(params.values())
        elif case == "grad_of_input":
            out, leaves = F.grad(lambda a: (a.sin() * a).sum())(w), [w]
        elif case == "jacrev_captured":
            out = F.jacrev(lambda a: models[0](a.unsqueeze(0)).squeeze(0))(x[1])
            leaves = list(models[0].parameters())
        elif case == "hessian":
            out, leaves = F.hessian(lambda a: (a.tanh() * w).sum() * a.sum())(x[2]), [w]
        else:
            out = lib.vmap(F.grad(lambda a: (models[0](a.unsqueeze(0)) ** 2).sum()))(x)
            leaves = list(models[0].parameters())
        assert out.requires_grad
        _square_sum(out).backward()
        return out, [p.grad for p in leaves]
    got, want = run(torchlike, mine), run(torch, ref)
    assert_same(got[0].detach(), want[0].detach())
    for g, r in zip(got[1], want[1]):
        assert_same(g, r)


def test_transforms_under_no_grad_are_not_recorded():
    (mine,), _ = _models(1)
    with torchlike.no_grad():
        out = torchlike.vmap(mine)(torchlike.ones(2, 3))
    assert out.grad_fn is None and not out.requires_grad
    out = torchlike.vmap(lambda a: a * 2)(torchlike.ones(2, 3))
    assert not out.requires_grad      # nothing that requires grad was read


def test_vmap_refuses_batched_writes_into_unbatched_tensors():
    """PyTorch's error, and a module's buffer is left as it was (no tracer inside)."""
    def call(lib, what):
        buf = lib.zeros(3)
        return {"copy": lambda: lib.vmap(lambda a: buf.copy_(a))(lib.ones(2, 3)),
                "setitem": lambda: lib.vmap(lambda a: buf.__setitem__(0, a[0]))(
                    lib.ones(2, 3))}[what]
    for what in ("copy", "setitem"):
        same_error(call(torchlike, what), call(torch, what))
    bn = torchlike.nn.BatchNorm1d(3)
    same_error(lambda: torchlike.vmap(bn)(torchlike.randn(2, 4, 3)),
               lambda: torch.vmap(torch.nn.BatchNorm1d(3))(torch.randn(2, 4, 3)))
    norm = lambda lib: lambda x: lib.nn.functional.instance_norm(        # noqa: E731
        x.unsqueeze(0), lib.zeros(2), lib.ones(2), use_input_stats=True)
    same_error(lambda: torchlike.vmap(norm(torchlike))(torchlike.ones(3, 2, 4)),
               lambda: torch.vmap(norm(torch))(torch.ones(3, 2, 4)))
    assert to_numpy(bn.running_mean).tolist() == [0.0, 0.0, 0.0]
    assert to_numpy(bn(torchlike.ones(4, 3))).shape == (4, 3)


def _written_inputs(lib):
    """What vmapped functions wrote into their inputs, as the caller sees it."""
    x = lib.zeros(2, 3)
    lib.vmap(lambda t: t.add_(1))(x)
    y = lib.arange(6.0).reshape(3, 2)
    lib.vmap(lambda t: t.mul_(2).add_(t), in_dims=1)(y)
    w = lib.zeros(3)
    lib.vmap(lambda t, u: u.add_(1) + t, in_dims=(0, None))(lib.zeros(2, 3), w)
    chunked = lib.zeros(4, 3)
    lib.vmap(lambda t: t[1:].fill_(5), chunk_size=3)(chunked)
    nested = lib.zeros(2, 2, 3)
    lib.vmap(lib.vmap(lambda t: t.add_(1)))(nested)
    base = lib.zeros(2, 3)
    lib.vmap(lambda t: t.add_(1))(base[:, :2])
    return x, y, w, chunked, nested, base


def test_vmap_writes_into_inputs_reach_the_caller():
    """As PyTorch's vmap: an in-place op on a vmapped input (or on one not mapped over)
    changes the caller's tensor."""
    assert_same(_written_inputs(torchlike), _written_inputs(torch))


def test_vmapped_ensemble_of_batch_norms_updates_its_stacked_statistics():
    """The ensembling recipe with BatchNorm in train mode: the running statistics the
    vmapped forward writes land in the stacked buffers, as in PyTorch."""
    x = np.arange(8.0, dtype=np.float32).reshape(4, 2)

    def run(lib):
        bns = [lib.nn.BatchNorm1d(2) for _ in range(2)]
        params, buffers = lib.func.stack_module_state(bns)
        out = lib.vmap(lambda p, b, x: lib.func.functional_call(bns[0], (p, b), (x,)),
                       in_dims=(0, 0, None))(params, buffers, lib.tensor(x))
        return out, buffers
    assert_same(run(torchlike), run(torch))


def _bn_model(lib):
    return lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.BatchNorm1d(3))


def test_replace_all_batch_norm_modules_drops_running_stats_as_torch():
    ours, theirs = _bn_model(torchlike), _bn_model(torch)
    assert torchlike.func.replace_all_batch_norm_modules_(ours) is ours
    assert torch.func.replace_all_batch_norm_modules_(theirs) is theirs
    for name in ("running_mean", "running_var", "num_batches_tracked", "track_running_stats"):
        assert getattr(ours[1], name) == getattr(theirs[1], name), name
    # what it is for: the model now runs under vmap in training mode
    assert tuple(torchlike.vmap(ours)(torchlike.ones(2, 4, 3)).shape) == (2, 4, 3)


@pytest.mark.parametrize("in_dims", [0, 1])
def test_debug_unwrap_gives_the_batch_behind_a_sample(in_dims):
    ours, theirs = pair(2, 3)
    for lib, x in ((torchlike, ours), (torch, theirs)):
        assert lib.func.debug_unwrap(x) is x        # outside transforms: the tensor itself
    got = torchlike.vmap(torchlike.func.debug_unwrap, in_dims=in_dims)(ours)
    want = torch.vmap(torch.func.debug_unwrap, in_dims=in_dims)(theirs)
    assert_same(got, want)
    got = torchlike.func.grad(lambda t: (torchlike.func.debug_unwrap(t) * t).sum())(ours)
    want = torch.func.grad(lambda t: (torch.func.debug_unwrap(t) * t).sum())(theirs)
    assert_same(got, want)


_REARRANGE = [("a b c -> c (a b)", {}), ("(a b) c d -> a b c d", {"a": 1}),
              ("a ... -> ... a", {}), ("a b c -> a 1 b c", {}), ("a b c -> a (c b)", {}),
              ("a b () -> a b", {"a": 2})]


def test_rearrange_matches_torch():
    ours, theirs = pair(2, 3, 4)
    for pattern, lengths in _REARRANGE:
        x, tx = (ours, theirs) if "()" not in pattern else (ours[:, :, :1], theirs[:, :, :1])
        want = torch.func.rearrange(tx, pattern, **lengths)
        assert_same(torchlike.func.rearrange(x, pattern, **lengths), want)
    assert_same(torchlike.func.rearrange([ours, ours], "n a b c -> a (n b) c"),
                torch.func.rearrange([theirs, theirs], "n a b c -> a (n b) c"))
    for bad in ("a b -> b a", "a b c -> a b", "a a c -> a c"):
        with pytest.raises(ValueError) as got:
            torchlike.func.rearrange(ours, bad)
        with pytest.raises(ValueError) as want:
            torch.func.rearrange(theirs, bad)
        assert str(got.value) == str(want.value)


@pytest.mark.parametrize("api", ["vjp", "jvp", "jacrev", "jacfwd"])
def test_aux_that_is_not_a_pair_names_the_transform_as_torch(api):
    def call(lib):
        x = lib.ones(3)
        F = lib.func
        fn = lambda a: a * 2       # noqa: E731  (no (output, aux) pair)
        return {"vjp": lambda: F.vjp(fn, x, has_aux=True),
                "jvp": lambda: F.jvp(fn, (x,), (x,), has_aux=True),
                "jacrev": lambda: F.jacrev(fn, has_aux=True)(x),
                "jacfwd": lambda: F.jacfwd(fn, has_aux=True)(x)}[api]
    same_error(*both(call))


# -- complex numbers: PyTorch's reverse mode gives the conjugate of JAX's ----------------
_Z = np.array([1 + 1j, 2 - 0.5j, -0.3 + 0.2j], np.complex64)
_W = np.array([0.5 + 2j, -1 + 1j, 0.25 - 0.75j], np.complex64)


@pytest.mark.parametrize("case", ["grad_abs", "grad_real_square", "grad_and_value",
                                  "vjp_sin", "vjp_mixed", "jvp_sin"])
def test_complex_results_follow_torchs_convention(case):
    def run(lib):
        F = lib.func
        z, w = lib.tensor(_Z), lib.tensor(_W)
        return {"grad_abs": lambda: F.grad(lambda a: a.abs().sum())(z),
                "grad_real_square": lambda: F.grad(lambda a: (a * a).real.sum())(z),
                "grad_and_value": lambda: F.grad_and_value(
                    lambda a: (a * a.conj()).real.sum())(z),
                "vjp_sin": lambda: F.vjp(lambda a: a.sin(), z)[1](w),
                "vjp_mixed": lambda: F.vjp(lambda a: a.exp() * a.conj(), z)[1](w),
                "jvp_sin": lambda: F.jvp(lambda a: a.sin(), (z,), (w,))}[case]()
    assert_same(run(torchlike), run(torch))


@pytest.mark.parametrize("api", ["jacrev", "jacfwd"])
def test_jacobians_refuse_complex_inputs_as_torch(api):
    def call(lib):
        x, z = lib.ones(2), lib.tensor(_Z)
        return lambda: getattr(lib.func, api)(lambda a, b: (a.sum() * b).abs(),
                                              argnums=(0, 1))(x, z)
    same_error(*both(call))


@pytest.mark.parametrize("case", ["read", "write", "embedding", "compiled_fullgraph"])
def test_a_per_sample_index_tensor_indexes_as_torch(case):
    """x[i] with i a 0-dim integer tensor that holds a traced value (one index per sample
    under vmap, or inside torch.compile): the element, as for a concrete index (PyTorch
    reads a 0-dim index as an integer; a traced one has no value to read)."""
    def run(lib):
        x = lib.arange(6.0).reshape(2, 3)
        index = lib.tensor([0, 2])

        def write(a, i):
            a = a.clone()
            a[i] = -1.0
            return a
        if case == "embedding":
            lib.manual_seed(0)
            table = lib.arange(10.0).reshape(5, 2)
            return lib.func.vmap(lambda i: table[i] * 2)(lib.tensor([[0, 1], [3, 4]]))
        if case == "compiled_fullgraph":
            options = {"backend": "eager"} if lib is torch else {}
            fn = lib.compile(lambda a, i: a[i] * 2, fullgraph=True, **options)
            return fn(x, lib.tensor(1))
        return lib.func.vmap(lambda a, i: a[i] if case == "read" else write(a, i))(x, index)
    assert_same(run(torchlike), run(torch))


@pytest.mark.parametrize("case", ["vjp_int", "vjp_fn_float", "jvp_int_primal",
                                  "jvp_int_tangent", "jacrev_int", "jacfwd_int",
                                  "call_with_module_value", "call_with_float_value"])
def test_integer_inputs_and_non_tensor_values_are_refused_as_torch(case):
    def call(lib):
        F, x, n = lib.func, lib.ones(3), lib.arange(3)
        m = lib.nn.Linear(3, 2)
        return {
            "vjp_int": lambda: F.vjp(lambda a: a * 2, n),
            "vjp_fn_float": lambda: F.vjp(lambda a: a * 2, x)[1](1.0),
            "jvp_int_primal": lambda: F.jvp(lambda a: a * 2, (n,), (x,)),
            "jvp_int_tangent": lambda: F.jvp(lambda a: a * 2, (x,), (n,)),
            "jacrev_int": lambda: F.jacrev(lambda a: a * 2)(n),
            "jacfwd_int": lambda: F.jacfwd(lambda a: a * 2)(n),
            "call_with_module_value": lambda: F.functional_call(
                m, {"weight": lib.nn.Linear(3, 2)}, (x,)),
            "call_with_float_value": lambda: F.functional_call(m, {"bias": 3.0}, (x,)),
        }[case]
    same_error(*both(call))


def test_stateless_functional_call_warns_and_takes_one_dict_as_torch():
    import warnings

    def call(lib, values):
        m = lib.nn.Linear(2, 2)
        weight = lib.ones(2, 2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = lib.nn.utils.stateless.functional_call(m, values(weight), (lib.ones(1, 2),))
        return out.detach() - m.bias.detach(), [(w.category, str(w.message)) for w in caught]
    got, want = call(torchlike, lambda w: {"weight": w}), call(torch, lambda w: {"weight": w})
    assert_same(got[0], want[0])
    assert got[1] == want[1] and want[1][0][0] is FutureWarning
    same_error(lambda: call(torchlike, lambda w: ({"weight": w}, {})),
               lambda: call(torch, lambda w: ({"weight": w}, {})))


@pytest.mark.parametrize("case", ["in_dims_float", "nested_in_dims_float", "out_dims_float",
                                  "no_inputs", "jvp_no_primals"])
def test_more_vmap_and_jvp_errors_match_torch(case):
    def call(lib):
        F, x = lib.func, lib.ones(2, 3)
        return {
            "in_dims_float": lambda: F.vmap(lambda a, b: a + b, in_dims=(0, 1.0))(x, x),
            "nested_in_dims_float": lambda: F.vmap(lambda a, b: a + b[0],
                                                   in_dims=(0, (1.0,)))(x, (x,)),
            "out_dims_float": lambda: F.vmap(lambda a: a, out_dims=1.0)(x),
            "no_inputs": lambda: F.vmap(lambda: lib.ones(2))(),
            "jvp_no_primals": lambda: F.jvp(lambda: lib.ones(2), (), ()),
        }[case]
    same_error(*both(call))


@pytest.mark.parametrize("case", ["out_dims_one_tuple", "out_dims_true", "argnums_true",
                                  "argnums_bools", "grad_of_bool", "grad_and_value_of_long"])
def test_arguments_torch_accepts(case):
    """Forms PyTorch takes: a 1-tuple out_dims for one output, bools as ints (argnums,
    out_dims), and an integer output to grad (a constant: zero gradients)."""
    def run(lib):
        F, x = lib.func, lib.arange(6.0).reshape(2, 3)
        y = lib.tensor([1.0, 2.0, 3.0])
        product = lambda a, b: (a * b).sum()        # noqa: E731
        return {
            "out_dims_one_tuple": lambda: F.vmap(lambda a: a * 2, out_dims=(1,))(x),
            "out_dims_true": lambda: F.vmap(lambda a: a * 2, out_dims=True)(x),
            "argnums_true": lambda: F.grad(product, argnums=True)(y, y * 3),
            "argnums_bools": lambda: F.grad(product, argnums=(True, False))(y, y * 3),
            "grad_of_bool": lambda: F.grad(lambda a: (a > 1).sum())(y),
            "grad_and_value_of_long": lambda: F.grad_and_value(lambda a: a.long().sum())(y),
        }[case]()
    assert_same(run(torchlike), run(torch))


@pytest.mark.parametrize("case", ["dropout_different", "dropout_same", "bernoulli_different",
                                  "ensemble_with_dropout"])
def test_random_ops_under_vmap_behave_as_torchs(case):
    """Random draws inside vmap (randomness 'different' or 'same'): the values differ from
    torch's (each library has its own generator), so what is compared is what the
    randomness mode promises: per-sample rows differ or agree, and every value is one
    the op can give (0 or 2 for p=0.5 dropout, 0 or 2 for 2 * bernoulli(0.5))."""
    def run(lib):
        lib.manual_seed(0)
        F = lib.func
        nf = lib.nn.functional
        ones = lib.ones(2, 64)
        if case == "ensemble_with_dropout":
            models = [lib.nn.Sequential(lib.nn.Linear(64, 64), lib.nn.Dropout(0.5))
                      for _ in range(2)]
            for m in models:
                with lib.no_grad():
                    m[0].weight.copy_(lib.eye(64))
                    m[0].bias.zero_()
            params, buffers = F.stack_module_state(models)
            out = F.vmap(lambda p, b: F.functional_call(models[0], (p, b), (ones[0],)),
                         randomness="different")(params, buffers)
        else:
            mode = "same" if case == "dropout_same" else "different"
            fn = (lambda a: lib.bernoulli(a) * 2) if case == "bernoulli_different" else \
                (lambda a: nf.dropout(a, 0.5))
            out = F.vmap(fn, randomness=mode)(ones * 0.5 if "bernoulli" in case else ones)
        values = out.detach()
        return (tuple(values.shape), str(values.dtype), bool((values[0] != values[1]).any()),
                bool(((values == 0) | (values == 2)).all()))
    assert run(torchlike) == run(torch)


@pytest.mark.parametrize("case", ["tolist", "numpy", "nonzero", "masked_select", "unique"])
def test_host_reads_of_batched_values_raise_torchs_vmap_errors(case):
    def call(lib):
        read = {"tolist": lambda a: lib.tensor(a.tolist()),
                "numpy": lambda a: lib.from_numpy(a.numpy()),
                "nonzero": lambda a: a.nonzero(),
                "masked_select": lambda a: a.masked_select(a > 0),
                "unique": lambda a: a.unique()}[case]
        return lambda: lib.func.vmap(read)(lib.ones(2, 3))
    same_error(*both(call))


def test_tensors_print_inside_transforms_as_torchs():
    """print-debugging inside vmap, grad (nested too) and jvp, and forward AD's duals:
    PyTorch's wrappers around the values, levels counted from the outermost."""
    def run(lib):
        F = lib.func
        shown = []

        def seen(a):
            shown.append(repr(a))
            return a
        F.vmap(lambda a: seen(a) * 2)(lib.arange(6.0).reshape(2, 3))
        square = lambda a: (seen(a) ** 2).sum()        # noqa: E731
        F.grad(square)(lib.tensor([1.0, 2.0]))
        F.vmap(F.grad(square))(lib.tensor([[1.0, 2.0], [3.0, 4.0]]))
        F.jvp(lambda a: seen(a).sin(), (lib.tensor([1.0, 2.0]),), (lib.ones(2),))
        F.vmap(lambda a, b: seen(b) + a, in_dims=(0, None))(lib.ones(2, 2), lib.ones(2))
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            dual = fw.make_dual(lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0]))
            shown += [repr(dual), repr(dual * 2), repr(dual.sum())]
        return shown
    assert run(torchlike) == run(torch)


@pytest.mark.parametrize("case", ["grad_inplace", "grad_view_inplace", "grad_out_op",
                                  "vjp_inplace", "jacrev_inplace"])
def test_writes_to_differentiated_inputs_raise_as_torch(case):
    """Inside grad, vjp and jacrev the inputs are leaves that require grad, as PyTorch's
    are: an in-place op on one (or a view of one) and an out= op reading one raise
    PyTorch's errors instead of dropping the gradient."""
    def call(lib):
        F, x = lib.func, lib.tensor([1.0, 2.0, 3.0])

        def out_op(a):
            o = lib.empty(3)
            lib.mul(a, a, out=o)
            return o.sum()
        return {"grad_inplace": lambda: F.grad(lambda a: a.mul_(2).sum())(x),
                "grad_view_inplace": lambda: F.grad(lambda a: a[0:2].mul_(2).sum())(x),
                "grad_out_op": lambda: F.grad(out_op)(x),
                "vjp_inplace": lambda: F.vjp(lambda a: a.add_(1), x),
                "jacrev_inplace": lambda: F.jacrev(lambda a: a.add_(1))(x)}[case]
    same_error(*both(call))


def test_differentiated_inputs_require_grad_and_copies_may_be_written():
    def run(lib):
        seen = []

        def f(a):
            seen.append((a.requires_grad, a.is_leaf))
            b = a.clone()
            b.mul_(2)                   # (a copy is not a leaf: written in place, as torch)
            return (b * a).sum()
        return lib.func.grad(f)(lib.tensor([1.0, 2.0, 3.0])), seen
    got, want = run(torchlike), run(torch)
    assert_same(got[0], want[0])
    assert got[1] == want[1] == [(True, True)]


def test_integer_outputs_as_torch():
    """torch.func's reverse mode refuses an integer output (argmax); forward mode gives
    it a zero tangent of its dtype; autograd.functional gives it zero derivatives of the
    inputs' dtypes."""
    x, tx = torchlike.arange(3., dtype=torchlike.float64), torch.arange(3., dtype=torch.float64)
    y, ty = torchlike.ones(2), torch.ones(2)
    AF, tAF = torchlike.autograd.functional, torch.autograd.functional
    for call in (lambda lib: lib.func.vjp(lambda a: (a * 2, a.argmax()), x if lib is torchlike else tx),
                 lambda lib: lib.func.jacrev(lambda a: a.argmax())(x if lib is torchlike else tx),
                 lambda lib: lib.func.hessian(lambda a: a.argmax())(x if lib is torchlike else tx)):
        same_error(lambda: call(torchlike), lambda: call(torch))
    argmax_and_double = lambda a: (a.argmax(), a * 2)       # noqa: E731
    assert_same(torchlike.func.jvp(argmax_and_double, (x,), (x,)),
                torch.func.jvp(argmax_and_double, (tx,), (tx,)))
    assert_same(torchlike.func.linearize(argmax_and_double, x)[1](x),
                tuple(t.detach() for t in torch.func.linearize(argmax_and_double, tx)[1](tx)))
    assert_same(torchlike.func.jacfwd(lambda a: a.argmax())(x),
                torch.func.jacfwd(lambda a: a.argmax())(tx))
    assert_same(AF.jacobian(lambda a, b: (a.argmax(), b * 2), (x, y)),
                tAF.jacobian(lambda a, b: (a.argmax(), b * 2), (tx, ty)))
    assert_same(AF.vjp(lambda a: a.argmax(), x), tAF.vjp(lambda a: a.argmax(), tx))
    assert_same(AF.hessian(lambda a: a.argmax(), x), tAF.hessian(lambda a: a.argmax(), tx))


_CAPTURED_WRITES = {
    "add_ traced": lambda c, x: c.add_(x), "add_ number": lambda c, x: c.add_(1),
    "mul_": lambda c, x: c.mul_(2.0), "copy_": lambda c, x: c.copy_(x.detach()),
    "zero_": lambda c, x: c.zero_(), "fill_": lambda c, x: c.fill_(1.0),
    "setitem": lambda c, x: c.__setitem__(0, x[0]), "exp_": lambda c, x: c.exp_(),
    "view add_": lambda c, x: c[:2].add_(1), "+=": lambda c, x: c.__iadd__(x),
}


@pytest.mark.parametrize("write", sorted(_CAPTURED_WRITES))
@pytest.mark.parametrize("api", ["grad", "vjp", "jvp", "jacrev"])
def test_writes_into_captured_tensors_raise_as_torch(api, write):
    """As PyTorch's grad-type transforms: an in-place op on a tensor the function did not
    receive raises (it kept the transform's tracer: the tensor printed as a
    GradTrackingTensor afterwards, and using it raised JAX's UnexpectedTracerError)."""
    def call(lib):
        captured = lib.zeros(3)

        def f(x):
            _CAPTURED_WRITES[write](captured, x)
            return (x * 2).sum()
        x = lib.ones(3)
        run = {"grad": lambda: lib.func.grad(f)(x), "vjp": lambda: lib.func.vjp(f, x),
               "jvp": lambda: lib.func.jvp(f, (x,), (x,)),
               "jacrev": lambda: lib.func.jacrev(f)(x)}[api]
        return run, captured
    (ours, captured), (theirs, _) = call(torchlike), call(torch)
    same_error(ours, theirs)
    assert repr(captured) == "tensor([0., 0., 0.])" and (captured + 1).tolist() == [1.0] * 3


def test_autograd_functional_allows_untraced_writes_into_captured_tensors():
    """autograd.functional runs on eager autograd in PyTorch: a write of values that do
    not depend on the inputs happens, as there. One of traced values raises (PyTorch
    writes them eagerly; here it would keep a tracer)."""
    results = []
    for lib in (torchlike, torch):
        counter = lib.zeros(3)
        jac = lib.autograd.functional.jacobian(lambda x: (counter.add_(1), x * 2)[1], lib.ones(3))
        results.append((jac, counter))
    assert_same(*results)
    counter = torchlike.zeros(3)
    with pytest.raises(RuntimeError, match="would mutate a captured Tensor"):
        torchlike.autograd.functional.jacobian(lambda x: (counter.add_(x), x)[1],
                                               torchlike.ones(3))
    assert counter.tolist() == [0.0] * 3


def _functions(lib):
    class Scale(lib.autograd.Function):
        """forward without ctx and a setup_context: usable inside torch.func's transforms."""
        @staticmethod
        def forward(x, s, y):
            return x * s + y.sin(), x.exp()

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, s, y = inputs
            ctx.s = s
            ctx.save_for_backward(x, y)

        @staticmethod
        def backward(ctx, g1, g2):
            x, y = ctx.saved_tensors
            return g1 * ctx.s + g2 * x.exp(), None, g1 * y.cos()

    class Old(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2
    return Scale, Old


def test_custom_functions_inside_reverse_transforms_as_torch():
    """A Function's backward is the transform's rule, as PyTorch's functorch runs it (its
    forward ran untracked there: the gradients came out zero); one without
    setup_context raises PyTorch's error."""
    (scale, old), (t_scale, t_old) = _functions(torchlike), _functions(torch)
    (x, tx), (y, ty) = pair(3), pair(3)

    def loss(fn):
        return lambda a, b: (fn.apply(a, 3.0, b)[0] * fn.apply(a, 3.0, b)[1]).sum()
    assert_same(torchlike.func.grad(loss(scale), argnums=(0, 1))(x, y),
                torch.func.grad(loss(t_scale), argnums=(0, 1))(tx, ty))
    assert_same(torchlike.func.jacrev(lambda a: scale.apply(a, 2.0, y)[0])(x),
                torch.func.jacrev(lambda a: t_scale.apply(a, 2.0, ty)[0])(tx))
    out, fn = torchlike.func.vjp(lambda a: scale.apply(a, 2.0, y)[1], x)
    t_out, t_fn = torch.func.vjp(lambda a: t_scale.apply(a, 2.0, ty)[1], tx)
    assert_same((out, fn(torchlike.ones(3))), (t_out, t_fn(torch.ones(3))))
    same_error(lambda: torchlike.func.grad(lambda a: old.apply(a).sum())(x),
               lambda: torch.func.grad(lambda a: t_old.apply(a).sum())(tx))
    # autograd.functional (PyTorch's eager autograd) takes forward(ctx, ...) too
    assert_same(torchlike.autograd.functional.jacobian(lambda a: old.apply(a).exp(), x),
                torch.autograd.functional.jacobian(lambda a: t_old.apply(a).exp(), tx))



def _sine(lib, vmappable, with_jvp):
    """sin as a Function whose jvp (if any) is not its derivative (100 x the tangent, as a
    straight-through estimator's is not): forward mode must call it."""
    class Sine(lib.autograd.Function):
        generate_vmap_rule = vmappable

        @staticmethod
        def forward(x):
            return x.sin()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            if with_jvp == "saved":
                ctx.save_for_forward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * x.cos()

        if with_jvp:
            @staticmethod
            def jvp(ctx, t):
                saved = ctx.saved_tensors       # (those saved for forward only)
                return t * 100 + (saved[0] * 0 if saved else 0)
    return Sine


_FORWARD_CALLS = {
    "jacrev": lambda lib, f, x: lib.func.jacrev(f.apply)(x),
    "jacfwd": lambda lib, f, x: lib.func.jacfwd(f.apply)(x),
    "hessian": lambda lib, f, x: lib.func.hessian(lambda t: f.apply(t).sum())(x),
    "jvp": lambda lib, f, x: lib.func.jvp(f.apply, (x,), (lib.ones(3),)),
    "vmap of jvp": lambda lib, f, x: lib.func.vmap(
        lambda a: lib.func.jvp(f.apply, (a,), (lib.ones(()),))[1])(x),
    "linearize": lambda lib, f, x: lib.func.linearize(f.apply, x)[1](lib.ones(3)),
    "vmap": lambda lib, f, x: lib.func.vmap(f.apply)(x),
}


@pytest.mark.parametrize("vmappable", [False, True])
@pytest.mark.parametrize("with_jvp", [None, "saved", "unsaved"])
@pytest.mark.parametrize("call", sorted(_FORWARD_CALLS))
def test_custom_function_rules_under_forward_mode_and_vmap_as_torch(call, vmappable, with_jvp):
    """Forward mode calls the Function's jvp (JAX's derivative of its forward gave cos(x),
    not the jvp's 100), reading ctx.save_for_forward's tensors; vmap and jacfwd (vmap of
    jvp) need generate_vmap_rule; forward mode needs jvp: PyTorch's errors otherwise
    (torchlike ran them all)."""
    x, tx = pair(3)
    ours = lambda: _FORWARD_CALLS[call](torchlike, _sine(torchlike, vmappable, with_jvp), x)  # noqa: E731
    try:
        want = _FORWARD_CALLS[call](torch, _sine(torch, vmappable, with_jvp), tx)
    except Exception as error:
        with pytest.raises(type(error)) as ours_error:
            ours()
        assert str(ours_error.value) == str(error)
        return
    assert_same(ours(), want)



def _functional_call(lib, call, fn, x):
    functional = lib.autograd.functional
    if call == "jvp":
        return functional.jvp(fn.apply, x, lib.ones(3))
    if call == "hessian":
        return functional.hessian(lambda a: fn.apply(a).sum(), x)
    return getattr(functional, call)(lambda a: fn.apply(a).sum(), x, lib.ones(3))


@pytest.mark.parametrize("call", ["jvp", "hvp", "vhp", "hessian"])
def test_custom_functions_need_no_jvp_under_autograd_functional(call):
    """autograd.functional's jvp, hvp and hessian are double backward in PyTorch: a Function
    without jvp (or with forward(ctx, ...)) works there, as it does here."""
    (_, old), (_, t_old) = _functions(torchlike), _functions(torch)
    x, tx = pair(3)
    for fn, t_fn in ((_sine(torchlike, True, None), _sine(torch, True, None)), (old, t_old)):
        assert_same(_functional_call(torchlike, call, fn, x),
                    _functional_call(torch, call, t_fn, tx))

def test_multinomial_under_vmap_as_torch():
    """multinomial inside vmap (it read its probabilities on the host and failed):
    PyTorch's randomness rules, shapes and dtype; draws follow the distribution."""
    probs = np.tile(np.array([0.1, 0.0, 0.6, 0.3], np.float32), (6, 1))
    ours, theirs = torchlike.tensor(probs), torch.tensor(probs)
    same_error(lambda: torchlike.vmap(lambda q: torchlike.multinomial(q, 2))(ours),
               lambda: torch.vmap(lambda q: torch.multinomial(q, 2))(theirs))
    for replacement, k in ((False, 3), (True, 5)):
        draw = lambda lib, p, mode: lib.vmap(        # noqa: E731
            lambda q: lib.multinomial(q, k, replacement=replacement), randomness=mode)(p)
        same_error(lambda: draw(torchlike, ours, "same"), lambda: draw(torch, theirs, "same"))
        got, want = draw(torchlike, ours, "different"), draw(torch, theirs, "different")
        assert (tuple(got.shape), str(got.dtype)) == (tuple(want.shape), str(want.dtype))
        rows = to_numpy(got)
        assert (rows != 1).all()                 # (a class of probability 0)
        if not replacement:
            assert all(len(set(r)) == k for r in rows.tolist())
        assert not all((r == rows[0]).all() for r in rows)     # (6 rows: all alike 1 in 10^3+)
    # 'same' with probabilities not mapped over: one draw for every sample
    rows = to_numpy(torchlike.vmap(lambda x, q: torchlike.multinomial(q, 3) + x * 0,
                                   in_dims=(0, None), randomness="same")(
        torchlike.zeros(6, dtype=torchlike.int64), ours[0]))
    assert all((r == rows[0]).all() for r in rows)


def test_vmap_returns_an_input_returned_as_it_is():
    """As PyTorch's: the caller's own tensor comes back (also after an in-place op that
    returns self), where the batch dim is where it was; elsewhere a new tensor."""
    def identities(lib):
        a = lib.ones(2, 3)
        return [lib.vmap(lambda t: t)(a) is a,
                lib.vmap(lambda t: t, in_dims=1, out_dims=1)(a) is a,
                lib.vmap(lambda t: t, in_dims=1)(a) is a,
                lib.vmap(lambda t, u: (t, u * 2))(a, a)[0] is a,
                lib.vmap(lambda t: t.add_(1))(a) is a, a.tolist()]
    assert identities(torchlike) == identities(torch)


@pytest.mark.parametrize("strategy", ["forward-mode", "reverse-mode"])
def test_custom_functions_in_functional_jacobian_as_torch(strategy):
    """autograd.functional.jacobian's forward mode, PyTorch's forward AD, calls a Function's
    jvp (100 x the tangent, not the derivative) and raises without one, whatever its vmap
    support, and takes forward(ctx, ...); reverse mode uses backward (torchlike's forward
    mode differentiated the forward)."""
    x, tx = pair(3)
    (_, old), (_, t_old) = _functions(torchlike), _functions(torch)
    old.jvp = staticmethod(lambda ctx, t: t * 100)
    t_old.jvp = staticmethod(lambda ctx, t: t * 100)
    cases = [(_sine(torchlike, v, j), _sine(torch, v, j))
             for v in (False, True) for j in (None, "unsaved")] + [(old, t_old)]
    for ours, theirs in cases:
        call = lambda lib, fn, a: lib.autograd.functional.jacobian(  # noqa: E731
            fn.apply, a, strategy=strategy, vectorize=True)
        try:
            want = call(torch, theirs, tx)
        except Exception as error:
            with pytest.raises(type(error)) as ours_error:
                call(torchlike, ours, x)
            assert str(ours_error.value) == str(error)
            continue
        assert_same(call(torchlike, ours, x), want)
