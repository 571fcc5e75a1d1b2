"""torchlike.autograd.functional against real torch.autograd.functional."""
import numpy as np
import pytest

import torchlike
from helpers import float_tol, to_numpy
from test_func import assert_same, both, pair, same_error

torch = pytest.importorskip("torch")


def _fns(lib):
    return {
        "vec": lambda a: (a.sin() * a).cumsum(0),
        "two_in": lambda a, b: (a.unsqueeze(1) * b).tanh(),
        "two_out": lambda a: (a.exp(), (a ** 2).sum(0)),
        "scalar": lambda a: (a.sin() * a.norm()).sum(),
        "scalar2": lambda a, b: (a.cos() * b).sum() * b.sum(),
        "const": lambda a: lib.ones(2),
    }


@pytest.mark.parametrize("strategy,vectorize", [("reverse-mode", False),
                                                ("forward-mode", True)])
def test_jacobian(strategy, vectorize):
    F, TF = torchlike.autograd.functional, torch.autograd.functional
    f, tf = both(_fns)
    (x, tx), (m, tm), (y, ty) = pair(3), pair(3, 2), pair(2)
    kw = dict(strategy=strategy, vectorize=vectorize)
    assert_same(F.jacobian(f["vec"], x, **kw), TF.jacobian(tf["vec"], tx, **kw))
    assert_same(F.jacobian(f["two_in"], (x, m), **kw), TF.jacobian(tf["two_in"], (tx, tm), **kw))
    assert_same(F.jacobian(f["two_out"], m, **kw), TF.jacobian(tf["two_out"], tm, **kw))
    assert_same(F.jacobian(f["two_out"], (m,), **kw), TF.jacobian(tf["two_out"], (tm,), **kw))
    g = lambda a, b: (a.exp(), b.sum(0))        # noqa: E731
    assert_same(F.jacobian(g, (x, m), **kw), TF.jacobian(g, (tx, tm), **kw))
    if strategy == "reverse-mode":     # (torch's forward mode fails on a constant output)
        assert_same(F.jacobian(f["const"], x, **kw), TF.jacobian(tf["const"], tx, **kw))


def test_hessian():
    F, TF = torchlike.autograd.functional, torch.autograd.functional
    f, tf = both(_fns)
    (x, tx), (y, ty) = pair(4, dtype=np.float64), pair(4, dtype=np.float64)
    assert_same(F.hessian(f["scalar"], x), TF.hessian(tf["scalar"], tx))
    assert_same(F.hessian(f["scalar2"], (x, y)), TF.hessian(tf["scalar2"], (tx, ty)))


def test_vjp_jvp_hvp_vhp():
    F, TF = torchlike.autograd.functional, torch.autograd.functional
    f, tf = both(_fns)
    (x, tx), (m, tm), (u, tu), (w, tw) = pair(3), pair(3, 2), pair(3), pair(3, 2)
    assert_same(F.vjp(f["vec"], x, u), TF.vjp(tf["vec"], tx, tu))
    assert_same(F.vjp(f["two_in"], (x, m), w), TF.vjp(tf["two_in"], (tx, tm), tw))
    assert_same(F.vjp(f["scalar"], x), TF.vjp(tf["scalar"], tx))
    assert_same(F.vjp(lambda a: a.sum(), torchlike.ones(1, 1)),
                TF.vjp(lambda a: a.sum(), torch.ones(1, 1)))
    assert_same(F.jvp(f["vec"], x, u), TF.jvp(tf["vec"], tx, tu))
    assert_same(F.jvp(f["two_out"], m, w), TF.jvp(tf["two_out"], tm, tw))
    assert_same(F.jvp(lambda a: a * 2, torchlike.ones(1)), TF.jvp(lambda a: a * 2, torch.ones(1)))
    assert_same(F.hvp(f["scalar"], x, u), TF.hvp(tf["scalar"], tx, tu))
    assert_same(F.vhp(f["scalar"], x, u), TF.vhp(tf["scalar"], tx, tu))
    assert_same(F.hvp(f["scalar2"], (x, u), (u, x)), TF.hvp(tf["scalar2"], (tx, tu), (tu, tx)))
    assert_same(F.vhp(f["scalar2"], (x, u), (u, x)), TF.vhp(tf["scalar2"], (tx, tu), (tu, tx)))
    out, grad = F.vjp(lambda a: (a * 2).sum(), x.requires_grad_())
    assert not out.requires_grad and not grad.requires_grad


@pytest.mark.parametrize("case", [
    "jac_float_input", "jac_int_output", "jac_list_input", "jac_bad_strategy",
    "jac_forward_not_vectorized", "jac_forward_create_graph", "hess_vector", "hess_tuple",
    "hess_bad_strategy", "vjp_no_v", "vjp_bad_v", "vjp_two_v", "jvp_no_v", "jvp_bad_v",
    "hvp_vector", "hvp_no_v", "vhp_bad_v", "strict_constant", "jvp_tuple_bad_v",
    "vjp_tuple_v_length",
])
def test_errors_match_torch(case):
    def call(lib):
        F, x = lib.autograd.functional, lib.ones(3)
        return {
            "jac_float_input": lambda: F.jacobian(lambda a: a, 3.0),
            "jac_int_output": lambda: F.jacobian(lambda a: 3, x),
            "jac_list_input": lambda: F.jacobian(lambda a: a, [x]),
            "jac_bad_strategy": lambda: F.jacobian(lambda a: a, x, strategy="foo"),
            "jac_forward_not_vectorized": lambda: F.jacobian(lambda a: a, x,
                                                             strategy="forward-mode"),
            "jac_forward_create_graph": lambda: F.jacobian(
                lambda a: a, x, create_graph=True, strategy="forward-mode", vectorize=True),
            "hess_vector": lambda: F.hessian(lambda a: a, x),
            "hess_tuple": lambda: F.hessian(lambda a: (a, a), x),
            "hess_bad_strategy": lambda: F.hessian(lambda a: a.sum(), x,
                                                   outer_jacobian_strategy="foo"),
            "vjp_no_v": lambda: F.vjp(lambda a: a, x),
            "vjp_bad_v": lambda: F.vjp(lambda a: a, x, lib.ones(4)),
            "vjp_two_v": lambda: F.vjp(lambda a: a, x, (lib.ones(3), lib.ones(3))),
            "jvp_no_v": lambda: F.jvp(lambda a: a, x),
            "jvp_bad_v": lambda: F.jvp(lambda a: a, x, lib.ones(4)),
            "hvp_vector": lambda: F.hvp(lambda a: a, x, x),
            "hvp_no_v": lambda: F.hvp(lambda a: a.sum(), x),
            "vhp_bad_v": lambda: F.vhp(lambda a: a.sum(), x, lib.ones(4)),
            "strict_constant": lambda: F.jacobian(lambda a: lib.ones(2), x, strict=True),
            "jvp_tuple_bad_v": lambda: F.jvp(lambda a, b: a * b, (x, x),
                                             (lib.ones(3), lib.ones(4))),
            "vjp_tuple_v_length": lambda: F.vjp(lambda a: (a, a), x, (lib.ones(3),)),
        }[case]
    same_error(*both(call))


@pytest.mark.parametrize("api", ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"])
def test_create_graph_results_stay_in_the_graph(api):
    """With create_graph=True, results are differentiable w.r.t. the inputs and the
    tensors the function captured: backward through them reaches both."""
    values = np.random.default_rng(3).standard_normal((3, 3)).astype(np.float64)

    def run(lib):
        w = lib.tensor(values[0], requires_grad=True)
        x = lib.tensor(values[1], requires_grad=True)
        v = lib.tensor(values[2])
        F = lib.autograd.functional
        f = lambda a: ((w * a).tanh() * a).sum()        # noqa: E731
        g = lambda a: (w * a).sin() * a                  # noqa: E731
        result = {
            "jacobian": lambda: F.jacobian(g, x, create_graph=True),
            "hessian": lambda: F.hessian(f, x, create_graph=True),
            "vjp": lambda: F.vjp(g, x, v, create_graph=True),
            "jvp": lambda: F.jvp(g, x, v, create_graph=True),
            "hvp": lambda: F.hvp(f, x, v, create_graph=True),
            "vhp": lambda: F.vhp(f, x, v, create_graph=True),
        }[api]()
        parts = result if isinstance(result, tuple) else (result,)
        sum(((p * p).sum() for p in parts), lib.tensor(0.0, dtype=lib.float64)).backward()
        return result, w.grad, x.grad
    got, want = run(torchlike), run(torch)
    tol = dict(rtol=1e-9, atol=1e-12)
    assert_same(got[0], tuple(t.detach() for t in want[0]) if isinstance(want[0], tuple)
                else want[0].detach(), tol)
    for g, r in zip(got[1:], want[1:]):
        assert_same(g, r, tol)


@pytest.mark.parametrize("api", ["jacobian", "jacobian_vectorized", "hessian"])
def test_results_without_create_graph_record_no_history(api):
    """An input that requires grad: without create_graph PyTorch's results are plain
    tensors (no grad_fn, printed without one)."""
    def run(lib):
        AF = lib.autograd.functional
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        return {"jacobian": lambda: AF.jacobian(lambda a: a.sin() * 2, x),
                "jacobian_vectorized": lambda: AF.jacobian(lambda a: a.sin() * 2, x,
                                                           vectorize=True),
                "hessian": lambda: AF.hessian(lambda a: (a ** 3).sum(), x)}[api]()
    got, want = run(torchlike), run(torch)
    assert (got.requires_grad, got.grad_fn) == (want.requires_grad, None)
    assert repr(got) == repr(want)


def test_jacobian_of_complex_inputs_follows_torchs_convention():
    def run(lib):
        z = lib.tensor(np.array([1 + 1j, 2 - 0.5j], np.complex64))
        return lib.autograd.functional.jacobian(lambda a: a.abs(), z)
    got, want = run(torchlike), run(torch)
    # z / |z|: two squares, their sum, the root and the division (5 roundings), |values|
    # <= 1, nothing cancels (the zeros are exact)
    np.testing.assert_allclose(to_numpy(got), want.numpy(), **float_tol("float32", steps=5))
    assert repr(got) == repr(want)      # (its zeros print as +0.0000j, as torch's)


@pytest.mark.parametrize("case", [
    "jac_strict_vectorized", "jac_strict_forward", "hess_forward_not_vectorized",
    "hess_strict_vectorized", "hess_one_tuple", "hvp_one_tuple", "vhp_one_tuple",
    "vjp_int", "jvp_int", "jac_int", "jac_forward_int", "hess_int", "hvp_int",
])
def test_option_and_input_errors_match_torch(case):
    def call(lib):
        F, x, n = lib.autograd.functional, lib.ones(3), lib.arange(3)
        cube = lambda a: (a ** 3).sum()          # noqa: E731
        return {
            "jac_strict_vectorized": lambda: F.jacobian(lambda a: a * 2, x, strict=True,
                                                        vectorize=True),
            "jac_strict_forward": lambda: F.jacobian(lambda a: a * 2, x, strict=True,
                                                     vectorize=True, strategy="forward-mode"),
            "hess_forward_not_vectorized": lambda: F.hessian(
                cube, x, outer_jacobian_strategy="forward-mode"),
            "hess_strict_vectorized": lambda: F.hessian(cube, x, strict=True, vectorize=True),
            "hess_one_tuple": lambda: F.hessian(lambda a: (cube(a),), x),
            "hvp_one_tuple": lambda: F.hvp(lambda a: (cube(a),), x, x),
            "vhp_one_tuple": lambda: F.vhp(lambda a: (cube(a),), x, x),
            "vjp_int": lambda: F.vjp(lambda a: a * 2, n, n),
            "jvp_int": lambda: F.jvp(lambda a: a * 2, n, n),
            "jac_int": lambda: F.jacobian(lambda a: a * 2, n),
            "jac_forward_int": lambda: F.jacobian(lambda a: a * 2, n, vectorize=True,
                                                  strategy="forward-mode"),
            "hess_int": lambda: F.hessian(cube, n),
            "hvp_int": lambda: F.hvp(cube, n, n),
        }[case]
    same_error(*both(call))


_STRICT = {
    "jacobian output independent of input 1":
        lambda F, x, y: F.jacobian(lambda a, b: (a * 2, b * a.sum()), (x, y), strict=True),
    "jacobian output 1 independent of input 0":
        lambda F, x, y: F.jacobian(lambda a, b: (a * b.sum(), b * 2), (x, y), strict=True),
    "jacobian through detach and a sum":
        lambda F, x, y: F.jacobian(lambda a: a.detach() * 2 + a.sum(), x, strict=True),
    "jacobian dependent": lambda F, x, y: F.jacobian(lambda a, b: a * b.sum(), (x, y),
                                                    strict=True),
    "vjp input unused": lambda F, x, y: F.vjp(lambda a, b: a * 2, (x, y), x * 0 + 1,
                                              strict=True),
    "vjp dependent": lambda F, x, y: F.vjp(lambda a, b: a * b.sum(), (x, y), x * 0 + 1,
                                           strict=True),
    "jvp input unused": lambda F, x, y: F.jvp(lambda a, b: a * 2, (x, y), (x, y), strict=True),
    "hessian of a linear function": lambda F, x, y: F.hessian(lambda a: a.sum(), x, strict=True),
    "hessian linear in input 1":
        lambda F, x, y: F.hessian(lambda a, b: (a ** 2).sum() + b.sum(), (x, y), strict=True),
    "hessian dependent": lambda F, x, y: F.hessian(lambda a: (a ** 3).sum(), x, strict=True),
    "hvp linear": lambda F, x, y: F.hvp(lambda a: a.sum(), x, x, strict=True),
    "vhp linear in input 1":
        lambda F, x, y: F.vhp(lambda a, b: (a ** 2).sum() + b.sum(), (x, y), (x, y),
                              strict=True),
    "hvp input unused": lambda F, x, y: F.hvp(lambda a, b: (a ** 2).sum(), (x, y), (x, y),
                                              strict=True),
    "hvp dependent": lambda F, x, y: F.hvp(lambda a: (a ** 3).sum(), x, x, strict=True),
}


@pytest.mark.parametrize("case", sorted(_STRICT))
def test_strict_mode_refuses_independence_as_torch(case):
    """strict=True (without create_graph): PyTorch's errors where an input does not
    reach the outputs, an output does not depend on an input (jacobian), or a gradient
    does not depend on the inputs (hessian, hvp, vhp); the same results otherwise."""
    (x, tx), (y, ty) = pair(3), pair(2)
    call = _STRICT[case]
    try:
        want = call(torch.autograd.functional, tx, ty)
    except RuntimeError:
        same_error(lambda: call(torchlike.autograd.functional, x, y),
                   lambda: call(torch.autograd.functional, tx, ty))
        return
    assert_same(call(torchlike.autograd.functional, x, y), want)
