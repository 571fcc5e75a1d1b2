"""Hooks, grad modes, custom autograd.Function and the compiled-backward cache."""
import threading

import numpy as np
import pytest

import torchlike
from torchlike.autograd import engine
from helpers import assert_raises_same, assert_same, run_both

pytestmark = pytest.mark.usefixtures("oracle")


# -- hooks -------------------------------------------------------------------------------
def test_tensor_hooks_replace_chain_and_remove():
    def run(lib):
        calls = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        h1 = y.register_hook(lambda g: calls.append(("y1", g.tolist())) or g * 2)
        y.register_hook(lambda g: calls.append(("y2", g.tolist())))
        x.register_hook(lambda g: calls.append(("x", g.tolist())) or g + 1)
        y.retain_grad()
        (y * y).sum().backward(retain_graph=True)
        first = (x.grad.clone(), y.grad.clone())
        h1.remove()
        x.grad = None
        y.grad = None
        (y * y).sum().backward()
        return calls, first, x.grad, y.grad
    ours, theirs = run_both(run)
    assert ours[0] == theirs[0]
    assert_same(ours[1:], theirs[1:])


def test_post_accumulate_grad_hook():
    def run(lib):
        seen = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
        (x * 2).sum().backward()
        (x * 3).sum().backward()
        return seen
    ours, theirs = run_both(run)
    assert ours == theirs


def test_node_hooks_and_prehooks():
    def run(lib):
        seen = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.grad_fn.register_prehook(lambda go: seen.append(("pre", go[0].tolist())))
        y.grad_fn.register_hook(lambda gi, go: seen.append(("post", gi[0].tolist(),
                                                            go[0].tolist())))
        (y * y).sum().backward()
        return seen, x.grad
    ours, theirs = run_both(run)
    assert ours[0] == theirs[0]
    assert_same(ours[1], theirs[1])


def test_node_metadata_is_a_dict():
    def run(lib):
        y = lib.ones(2, requires_grad=True) * 2
        y.grad_fn.metadata["k"] = 1
        return y.grad_fn.metadata
    ours, theirs = run_both(run)
    assert ours == theirs


# -- grad modes -------------------------------------------------------------------------
def test_grad_modes_as_context_managers_and_decorators():
    def run(lib):
        x = lib.ones(2, requires_grad=True)
        out = []
        with lib.no_grad():
            out.append((x * 2).requires_grad)
            with lib.enable_grad():
                out.append((x * 2).requires_grad)
            out.append(lib.is_grad_enabled())
        with lib.set_grad_enabled(False):
            out.append((x * 2).requires_grad)
        lib.set_grad_enabled(False)
        out.append(lib.is_grad_enabled())
        lib.set_grad_enabled(True)

        @lib.no_grad()
        def f():
            return (x * 2).requires_grad

        @lib.no_grad
        def g():
            return (x * 2).requires_grad

        @lib.inference_mode()
        def h():
            return lib.is_inference_mode_enabled(), (x * 2).requires_grad

        @lib.no_grad()
        def gen():
            yield (x * 2).requires_grad
            yield lib.is_grad_enabled()
        out += [f(), g(), h(), list(gen()), lib.is_grad_enabled(),
                lib.is_inference_mode_enabled()]
        with lib.inference_mode():
            out.append(lib.is_inference_mode_enabled())
        try:
            with lib.no_grad():
                raise ValueError
        except ValueError:
            out.append(lib.is_grad_enabled())
        return out
    ours, theirs = run_both(run)
    assert ours == theirs


def test_grad_mode_is_thread_local():
    result = {}

    def worker():
        result["in_thread"] = torchlike.is_grad_enabled()
    with torchlike.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert result["in_thread"] is True


# -- custom Function ----------------------------------------------------------------------
def _make_functions(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x * x * k

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 2 * x * ctx.k, None

    class SplitTwo(lib.autograd.Function):
        @staticmethod
        def forward(x):
            return x * 2, (x > 0).float()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.mark_non_differentiable(output[1])
            ctx.set_materialize_grads(True)

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2

    class Wrong(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return g, g

    class WrongShape(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return lib.ones(5)
    return Square, SplitTwo, Wrong, WrongShape


def test_custom_function_forward_backward():
    def run(lib):
        Square, SplitTwo, _, _ = _make_functions(lib)
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = Square.apply(x, 3.0)
        a, mask = SplitTwo.apply(y)
        (a * mask).sum().backward()
        return (type(y.grad_fn).__name__, y.grad_fn.name(), a.grad_fn.name(),
                mask.requires_grad, x.grad)
    ours, theirs = run_both(run)
    assert ours[:4] == theirs[:4]
    assert_same(ours[4], theirs[4])


def test_custom_function_needs_input_grad_and_second_backward():
    def run(lib):
        class Probe(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                ctx.save_for_backward(x, y)
                ctx.flags = ctx.needs_input_grad
                return x * y

            @staticmethod
            def backward(ctx, g):
                x, y = ctx.saved_tensors
                return g * y, g * x
        x = lib.ones(2, requires_grad=True)
        out = Probe.apply(x, lib.full((2,), 3.0))
        flags = out.grad_fn.flags
        out.sum().backward()
        try:
            out.sum().backward()
        except RuntimeError as e:
            err = str(e)
        return flags, x.grad, err
    ours, theirs = run_both(run)
    assert ours[0] == theirs[0]
    assert_same(ours[1], theirs[1])
    assert ours[2] == theirs[2]


@pytest.mark.parametrize("which", [2, 3])
def test_custom_function_wrong_gradients(which):
    def run(lib):
        fn = _make_functions(lib)[which]
        x = lib.ones(3, requires_grad=True)
        fn.apply(x).sum().backward()
    assert_raises_same(run)


def test_once_differentiable_runs_backward_without_grad():
    def run(lib):
        class F(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, g):
                return g * 2 if not lib.is_grad_enabled() else g * 100
        x = lib.ones(2, requires_grad=True)
        F.apply(x).sum().backward()
        return x.grad
    ours, theirs = run_both(run)
    assert_same(ours, theirs)


# -- the compiled-backward cache ----------------------------------------------------------
def test_identical_steps_reuse_one_compiled_backward():
    """A loop that builds the same graph traces its backward once per kind of step: the
    first (no .grad yet: the gradient is stored) and the accumulating ones (the old
    .grad is added inside the call); the third identical step makes exactly one
    compiled call and no new trace."""
    x = torchlike.ones(3, 3, requires_grad=True)

    def step():
        ((x + 2) * (x + 2) * 3).mean().backward()
    step()
    step()
    traces, calls = engine.stats.fused_traces, engine.stats.fused_calls
    step()
    assert engine.stats.fused_traces == traces
    assert engine.stats.fused_calls == calls + 1
    # d/dx mean(3 (x + 2)^2) = 6 (x + 2) / 9 = 2 at x = 1, three times
    np.testing.assert_allclose(np.asarray(x.grad), np.full((3, 3), 6.0))


def test_steps_that_reset_grads_to_none_trace_one_backward():
    x = torchlike.ones(3, 3, requires_grad=True)
    for i in range(3):
        x.grad = None               # zero_grad()'s default
        ((x + 2) * (x + 2) * 3).mean().backward()
        if i == 0:
            traces = engine.stats.fused_traces
    assert engine.stats.fused_traces == traces
    np.testing.assert_allclose(np.asarray(x.grad), np.full((3, 3), 2.0))


def test_different_values_same_structure_do_not_retrace():
    w = torchlike.randn(4, 3, requires_grad=True)
    for i in range(3):
        inp = torchlike.randn(5, 4)
        (inp @ w).relu().sum().backward()
        if i == 1:      # (the first step stores .grad, the later ones add to it)
            traces = engine.stats.fused_traces
    assert engine.stats.fused_traces == traces


def test_loss_value_after_backward_needs_no_extra_compiled_call():
    """Recorded ops are deferred; the fused backward computes the loss on the way and
    hands it back, so reading it afterwards runs nothing more."""
    from torchlike import _lazy
    w = torchlike.tensor([0.5, -1.0], requires_grad=True)
    loss = ((w * 3).exp() * w).sum()
    loss.backward()
    before = _lazy.stats.materializations
    value = loss.item()
    assert _lazy.stats.materializations == before
    expected = float(np.sum(np.exp(np.array([1.5, -3.0])) * np.array([0.5, -1.0])))
    assert abs(value - expected) < 1e-5


def test_custom_function_mark_dirty_and_detach_():
    """A Function that modifies its input in place marks it dirty: the input's history
    becomes the Function's node, its version moves on, and gradients flow through."""
    def run(lib):
        class AddOneInPlace(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 2

        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = a * 1
        out = AddOneInPlace.apply(b)
        name = type(out.grad_fn).__name__
        (out * 3).sum().backward()
        c = a * 2
        c.detach_()
        return out is b, name, b._version, a.grad, c.requires_grad, c.grad_fn, c.is_leaf

    ours, theirs = run_both(run)
    assert ours[:3] == theirs[:3]
    assert_same(ours[3], theirs[3])
    assert ours[4:] == theirs[4:]
