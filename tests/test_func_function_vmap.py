"""A custom autograd.Function's own vmap staticmethod under torch.func, against real
torch: PyTorch's "Extending torch.func with autograd.Function" example (a sort and a
take computed by numpy, with backward, jvp and vmap staticmethods) under every
transform, what the staticmethod is told (batch size, randomness, in_dims) and how its
out_dims are read, and PyTorch's errors. Before, torchlike ran the forward itself
batched (numpy then saw a tracer) and never called the staticmethod."""
import numpy as np
import pytest

import torchlike
from helpers import assert_raises_same, assert_same

torch = pytest.importorskip("torch")


def _numpy_functions(lib):
    """PyTorch's tutorial example: sort and take whose forwards run in numpy."""
    class NumpyTake(lib.autograd.Function):
        @staticmethod
        def forward(x, ind, ind_inv, dim):
            return lib.tensor(np.take_along_axis(x.cpu().numpy(), ind.cpu().numpy(), dim))

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, ind, ind_inv, dim = inputs
            ctx.save_for_backward(ind, ind_inv)
            ctx.save_for_forward(ind, ind_inv)
            ctx.dim = dim

        @staticmethod
        def backward(ctx, grad_output):
            ind, ind_inv = ctx.saved_tensors
            return NumpyTake.apply(grad_output, ind_inv, ind, ctx.dim), None, None, None

        @staticmethod
        def jvp(ctx, x_tangent, ind_tangent, ind_inv_tangent, _):
            ind, ind_inv = ctx.saved_tensors
            return NumpyTake.apply(x_tangent, ind, ind_inv, ctx.dim)

        @staticmethod
        def vmap(info, in_dims, x, ind, ind_inv, dim):
            x_bdim, ind_bdim, ind_inv_bdim, _ = in_dims
            logical_dim = x.dim() if x_bdim is None else x_bdim - 1
            dim = dim if dim >= 0 else dim + logical_dim

            def front(t, bdim):
                return t.expand(info.batch_size, *t.shape) if bdim is None else \
                    t.movedim(bdim, 0)
            return NumpyTake.apply(front(x, x_bdim), front(ind, ind_bdim),
                                   front(ind_inv, ind_inv_bdim), dim + 1), 0

    class NumpySort(lib.autograd.Function):
        @staticmethod
        def forward(x, dim):
            x = x.cpu().numpy()
            ind = np.argsort(x, axis=dim)
            ind_inv = np.argsort(ind, axis=dim)
            return (lib.tensor(np.take_along_axis(x, ind, axis=dim)), lib.tensor(ind),
                    lib.tensor(ind_inv))

        @staticmethod
        def setup_context(ctx, inputs, output):
            _, dim = inputs
            _, ind, ind_inv = output
            ctx.mark_non_differentiable(ind, ind_inv)
            ctx.save_for_backward(ind, ind_inv)
            ctx.save_for_forward(ind, ind_inv)
            ctx.dim = dim

        @staticmethod
        def backward(ctx, grad_output, _0, _1):
            ind, ind_inv = ctx.saved_tensors
            return NumpyTake.apply(grad_output, ind_inv, ind, ctx.dim), None

        @staticmethod
        def jvp(ctx, x_tangent, _):
            ind, ind_inv = ctx.saved_tensors
            return NumpyTake.apply(x_tangent, ind, ind_inv, ctx.dim), None, None

        @staticmethod
        def vmap(info, in_dims, x, dim):
            x = x.movedim(in_dims[0], 0)
            dim = dim if dim >= 0 else dim + x.dim() - 1
            return NumpySort.apply(x, dim + 1), (0, 0, 0)

    def numpy_sort(x, dim=-1):
        return NumpySort.apply(x, dim)[0]
    return numpy_sort


def _weighted(lib, sort):
    return lambda t: (sort(t) * lib.arange(3.0)).sum()


_TRANSFORMS = {
    "eager": lambda lib, sort, x: sort(x),
    "backward": lambda lib, sort, x: lib.autograd.grad(_weighted(lib, sort)(x), x)[0],
    "vmap": lambda lib, sort, x: lib.vmap(sort)(x),
    "vmap in_dims=1": lambda lib, sort, x: lib.vmap(sort, in_dims=1)(x),
    "vmap of vmap": lambda lib, sort, x: lib.vmap(lib.vmap(sort))(x.reshape(2, 1, 3)),
    "grad": lambda lib, sort, x: lib.func.grad(_weighted(lib, sort))(x),
    "vmap of grad": lambda lib, sort, x: lib.vmap(lib.func.grad(_weighted(lib, sort)))(x),
    "grad of vmap": lambda lib, sort, x: lib.func.grad(
        lambda t: (lib.vmap(sort)(t) * lib.arange(3.0)).sum())(x),
    "jacrev": lambda lib, sort, x: lib.func.jacrev(sort)(x[0]),
    "jacrev of jacrev": lambda lib, sort, x: lib.func.jacrev(
        lib.func.jacrev(lambda t: (sort(t) ** 2 * lib.arange(3.0)).sum()))(x[0]),
    "jvp": lambda lib, sort, x: lib.func.jvp(sort, (x,), (lib.ones(2, 3) * lib.arange(3.0),)),
    "jacfwd": lambda lib, sort, x: lib.func.jacfwd(sort)(x[0]),
    "vmap of jvp": lambda lib, sort, x: lib.vmap(
        lambda p: lib.func.jvp(sort, (p,), (lib.arange(3.0),))[1])(x),
    "autograd.functional.jacobian": lambda lib, sort, x:
        lib.autograd.functional.jacobian(sort, x[0]),
}


@pytest.mark.parametrize("transform", sorted(_TRANSFORMS))
def test_numpy_function_example_under_transforms_as_torch(transform):
    """PyTorch's tutorial Functions under each transform: torch's values. (The input
    requires grad only outside transforms: a transform that runs eagerly, as one over
    numpy must, names its results' node _TransformBackward, docs/jax.md.)"""
    values = np.array([[3.0, 1.0, 2.0], [0.5, 2.5, -1.0]], np.float32)
    requires_grad = transform in ("eager", "backward")
    ours, theirs = (_TRANSFORMS[transform](lib, _numpy_functions(lib),
                                           lib.tensor(values, requires_grad=requires_grad))
                    for lib in (torchlike, torch))
    assert_same(ours, theirs)


def _recording(lib, calls, result=None):
    """x * x * k with a vmap staticmethod that notes what it is told and adds 100 (so
    its use shows in the values), or returns `result(x)` instead where given."""
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(x, k):
            return x * x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            ctx.k = inputs[1]

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 2 * x * ctx.k, None

        @staticmethod
        def vmap(info, in_dims, x, k):
            calls.append((info.batch_size, info.randomness, in_dims))
            if result is not None:
                return result(x, in_dims)
            moved = x.movedim(in_dims[0], 0) if in_dims[0] is not None else x
            return Square.apply(moved, k) + 100, 0
    return Square


_CALLS = {
    "in_dims=0": lambda lib, f, x: lib.vmap(f.apply, in_dims=(0, None))(x, 2.0),
    "in_dims=1": lambda lib, f, x: lib.vmap(f.apply, in_dims=(1, None))(x, 2.0),
    "nested": lambda lib, f, x: lib.vmap(lib.vmap(f.apply, in_dims=(0, None)),
                                         in_dims=(0, None))(x, 2.0),
    "randomness same": lambda lib, f, x: lib.vmap(lambda t: f.apply(t, 3.0).sum(),
                                                  randomness="same")(x),
    "randomness different": lambda lib, f, x: lib.vmap(lambda t: f.apply(t, 3.0).sum(),
                                                       randomness="different")(x),
    "grad of vmap": lambda lib, f, x: lib.func.grad(
        lambda t: lib.vmap(f.apply, in_dims=(0, None))(t, 1.0).sum())(x),
    "vmap of grad": lambda lib, f, x: lib.vmap(lib.func.grad(lambda t: f.apply(t, 1.0).sum()))(x),
    "unbatched input": lambda lib, f, x: lib.vmap(lambda t: f.apply(x[0], 2.0) + t)(x),
}


@pytest.mark.parametrize("call", sorted(_CALLS))
def test_vmap_staticmethod_is_told_and_used_as_torch(call):
    """The staticmethod's batch size, randomness and in_dims, the number and order of its
    calls (one per vmap level, innermost first), and its results."""
    values = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    (ours, our_calls), (theirs, their_calls) = (
        (_CALLS[call](lib, _recording(lib, calls), lib.tensor(values)), calls)
        for lib, calls in ((torchlike, []), (torch, [])))
    assert our_calls == their_calls
    assert_same(ours, theirs, check_grad_fn=False)


_RESULTS = {
    "out_dims None": lambda x, in_dims: (x * 2, None),
    "an input returned": lambda x, in_dims: (x, 0),
    "negative out_dims": lambda x, in_dims: (x.movedim(in_dims[0], -1) * 2, -1),
    "not a tuple": lambda x, in_dims: x * 2,
    "three returns": lambda x, in_dims: (x, 0, 0),
    "out_dims of another structure": lambda x, in_dims: (x * 2, (0, 1)),
}


@pytest.mark.parametrize("result", sorted(_RESULTS))
def test_vmap_staticmethod_results_read_as_torch(result):
    """out_dims None (the output is not batched), an input returned as it is (the
    caller's own batched tensor, whatever out_dims say), a negative out_dim, and
    PyTorch's errors for results it cannot read."""
    values = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    assert_raises_or_same(lambda lib: lib.vmap(_recording(lib, [], _RESULTS[result]).apply,
                                               in_dims=(1, None))(lib.tensor(values), 2.0))


def assert_raises_or_same(fn):
    try:
        theirs = fn(torch)
    except Exception:  # noqa: BLE001 - whatever torch raises, we must raise too
        assert_raises_same(fn)
        return
    assert_same(fn(torchlike), theirs, check_grad_fn=False)


def test_vmap_rule_errors_as_torch():
    """Both generate_vmap_rule and a vmap staticmethod; a tensor passed by keyword."""
    def both(lib):
        class Both(_recording(lib, [])):
            generate_vmap_rule = True
        return lib.vmap(Both.apply, in_dims=(0, None))(lib.ones(2, 3), 2.0)

    def keyword(lib):
        class Keyword(lib.autograd.Function):
            @staticmethod
            def forward(x, *, k):
                return x * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                pass

            @staticmethod
            def vmap(info, in_dims, x, *, k):
                return x * k, in_dims[0]
        return lib.vmap(lambda x: Keyword.apply(x, k=lib.ones(3)))(lib.ones(2, 3))
    assert_raises_same(both)
    assert_raises_same(keyword)
