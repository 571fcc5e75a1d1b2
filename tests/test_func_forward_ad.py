"""torchlike.autograd.forward_ad against real torch.autograd.forward_ad."""
import numpy as np
import pytest

import torchlike
from helpers import float_tol
from test_func import _models, _sine, assert_same, both, pair, same_error

torch = pytest.importorskip("torch")


def _run(lib, fn, primal, tangent):
    fw = lib.autograd.forward_ad
    with fw.dual_level():
        dual = fw.make_dual(primal, tangent)
        out = fn(lib, dual)
        primal_out, tangent_out = fw.unpack_dual(out)
        plain = fw.unpack_dual(primal)
    assert plain.tangent is None
    after = fw.unpack_dual(out)         # outside the level: a plain tensor again
    assert after.tangent is None
    return primal_out, tangent_out, after.primal * 1


@pytest.mark.parametrize("name", ["pointwise", "reductions", "shapes", "matmul"])
def test_dual_tensors_carry_tangents(name):
    fns = {
        "pointwise": lambda lib, a: (a.sin() * a.exp() + 2).sqrt() / (1 + a * a),
        "reductions": lambda lib, a: a.softmax(-1).logsumexp(0) + a.norm(),
        "shapes": lambda lib, a: lib.cat([a.t(), a.flip(0).t()], 0)[1:, ::2].cumsum(0),
        "matmul": lambda lib, a: (a @ a.t()).tanh() @ a,
    }
    (x, tx), (t, tt) = pair(3, 4), pair(3, 4)
    if name == "pointwise":
        x, tx = x.abs() + 0.5, tx.abs() + 0.5
    tol = {}
    if name == "matmul":
        # the tangent (sech^2(aa^T) * (t a^T + a t^T)) a + tanh(aa^T) t sums products of
        # three standard-normal draws over 4 terms each: terms of magnitude up to about
        # 16 cancel (scale 4 failed for some draws, depending on the tests run before)
        tol = dict(tol=float_tol("float32", steps=16, scale=16.0))
    assert_same(_run(torchlike, fns[name], x, t), _run(torch, fns[name], tx, tt), **tol)


def test_module_under_forward_ad():
    (mine,), (ref,) = _models(1)
    (x, tx), (t, tt) = pair(4, 3), pair(4, 3)
    got = _run(torchlike, lambda lib, a: mine(a), x, t)
    want = _run(torch, lambda lib, a: ref(a), tx, tt)
    assert_same(got, tuple(w.detach() for w in want))


@pytest.mark.parametrize("case", ["no_level", "size", "integer", "nested"])
def test_forward_ad_errors_match_torch(case):
    def call(lib):
        fw = lib.autograd.forward_ad

        def run():
            if case == "no_level":
                return fw.make_dual(lib.ones(2), lib.ones(2))
            with fw.dual_level():
                if case == "size":
                    fw.make_dual(lib.ones(2), lib.ones(3))
                elif case == "integer":
                    fw.make_dual(lib.arange(2), lib.arange(2))
                else:
                    fw.dual_level().__enter__()
        return run
    same_error(*both(call))
    fw = torchlike.autograd.forward_ad
    if fw._current is not None:         # (a level the failing case left open)
        fw.exit_dual_level()
    assert np.asarray(torchlike.ones(2) * 2).tolist() == [2.0, 2.0]


@pytest.mark.parametrize("case", ["negative_level", "other_level", "integer_tangent",
                                  "exit_without_level", "exit_other_level_without",
                                  "exit_other_level_inside"])
def test_levels_and_tangent_dtypes_are_checked_as_torch(case):
    def call(lib):
        fw = lib.autograd.forward_ad
        x = lib.ones(3)

        def run():
            if case == "exit_without_level":
                return fw.exit_dual_level()
            if case == "exit_other_level_without":
                return fw.exit_dual_level(level=0)
            with fw.dual_level():
                if case == "negative_level":
                    fw.make_dual(x, x, level=-1)
                elif case == "other_level":
                    fw.make_dual(x, lib.ones(2), level=5)     # (the level before the size)
                elif case == "integer_tangent":
                    fw.make_dual(x, lib.arange(2))            # (the dtype before the size)
                else:
                    fw.exit_dual_level(level=1)
        return run
    same_error(*both(call))
    fw = torchlike.autograd.forward_ad
    if fw._current is not None:         # (the level the last case leaves open)
        fw.exit_dual_level()
    with fw.dual_level():               # and levels work after each error
        assert fw.unpack_dual(fw.make_dual(torchlike.ones(2), torchlike.ones(2))).tangent \
            .tolist() == [1.0, 1.0]


def _rounding_with_ctx(lib):
    """round() written as forward(ctx, ...) (forward AD takes it, as PyTorch's eager
    autograd does), whose jvp passes the tangent through scaled by 3, not the forward's
    zero derivative."""
    class Round(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_forward(x)
            return x.round()

        @staticmethod
        def backward(ctx, g):
            return g

        @staticmethod
        def jvp(ctx, t):
            x, = ctx.saved_tensors
            return t * 3 + x * 0
    return Round


@pytest.mark.parametrize("with_jvp,ctx_style", [(False, False), (True, False), (True, True)])
def test_custom_function_jvp_under_dual_level(with_jvp, ctx_style):
    # the Function's jvp gives the tangent (its forward ran under no_grad, which dropped
    # the tangent: unpack_dual gave None); without one, PyTorch's NotImplementedError;
    # a Function of plain tensors inside the level needs none
    (x, tx), (t, tt) = pair(3), pair(3)

    def call(lib, dual):
        # (_sine's jvp is 100 x the tangent, reading what it saved for forward)
        fn = _rounding_with_ctx(lib) if ctx_style else \
            _sine(lib, False, "saved" if with_jvp else None)
        return fn.apply(dual) * 2 + fn.apply(lib.ones(3)).sum()
    if not with_jvp:
        same_error(lambda: _run(torchlike, call, x, t), lambda: _run(torch, call, tx, tt))
        return
    assert_same(_run(torchlike, call, x, t), _run(torch, call, tx, tt))


def test_no_grad_inside_a_dual_level_keeps_tangents():
    # forward AD ignores grad mode (in PyTorch too): no_grad dropped the tangent
    (x, tx), (t, tt) = pair(2, 3), pair(2, 3)

    def call(lib, dual):
        with lib.no_grad():
            return dual.sin() * 2 + dual.exp()
    assert_same(_run(torchlike, call, x, t), _run(torch, call, tx, tt))


def test_save_for_forward_of_a_non_tensor_raises_as_torch():
    def call(lib):
        class Saves(lib.autograd.Function):
            @staticmethod
            def forward(x):
                return x.sin()

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.save_for_forward(inputs[0], 3)

            @staticmethod
            def backward(ctx, g):
                return g

            @staticmethod
            def jvp(ctx, t):
                return t
        return lib.func.jvp(Saves.apply, (lib.ones(2),), (lib.ones(2),))
    same_error(lambda: call(torchlike), lambda: call(torch))
