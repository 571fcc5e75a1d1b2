"""torchlike.func's transforms inside torchlike's autograd graph.

In PyTorch, `vmap(model)(x).sum().backward()` fills the model's `.grad`s, and
`grad(f)(x)` is differentiable when `x` requires grad. Here a transform's results join
the graph as the outputs of one node (a custom Function) whose inputs are every tensor
that requires grad the transform read: its tensor arguments and the tensors its function
captured (found while it ran: _jax_bridge notes them). The node's backward is jax.vjp of
the whole transform, rerun with tracers standing in for those tensors.
"""
import contextlib

import jax

from . import _jax_bridge as bridge
from ._storage import Storage
from ._tensor import Tensor
from .autograd.function import Function
from .autograd.grad_mode import enable_grad, is_grad_enabled


def _is_leaf(x):
    return x is None or isinstance(x, Tensor)


def _differentiable(t):
    return isinstance(t, Tensor) and (t.dtype.is_floating_point or t.dtype.is_complex)


@contextlib.contextmanager
def _inside():
    """While a transform runs, its ops are its own (_jax_bridge.apply_traced), also
    inside torchlike.compile's trace, whose ops record for autograd; the tensors born
    before the outermost one are its captures."""
    state = bridge.state
    previous = state.captured_before
    if not state.transforms:
        Storage.epoch += 1
        state.captured_before = Storage.epoch
    state.transforms += 1
    try:
        yield
    finally:
        state.transforms -= 1
        state.captured_before = previous


def joined(body, args):
    """body(args): a transform over torchlike code, returning a pytree of Tensors; its
    results join the autograd graph of the tensors that require grad it read."""
    # the outermost transform joins: at the top level, or where torchlike.compile traces
    # (its ops record on tracers, so that a compiled `vmap(model)` is differentiable)
    if not (is_grad_enabled() and not bridge.state.transforms and
            (bridge.top_level() or bridge.state.compiling)):
        with _inside():
            return body(args)
    from .func import _rebuild
    leaves = jax.tree_util.tree_leaves(args, is_leaf=_is_leaf)
    explicit = [i for i, x in enumerate(leaves) if _differentiable(x) and x.requires_grad]
    # the tensors that require grad born before the transform that it reads (_jax_bridge)
    bridge.state.captures = captures = {}
    try:
        with _inside():
            out = body(args)
    finally:
        bridge.state.captures = None
    explicit_ids = {id(leaves[i]) for i in explicit}
    captured = [t for t in captures.values()
                if id(t) not in explicit_ids and _differentiable(t)]
    if not explicit and not captured:
        return out
    out_leaves = jax.tree_util.tree_leaves(out, is_leaf=_is_leaf)
    slots = [k for k, o in enumerate(out_leaves) if _differentiable(o)]
    if not slots:
        return out

    def pure(*arrays):
        """The transform as a function of the arrays of the tensors that require grad."""
        inner = list(leaves)
        for i, a in zip(explicit, arrays):
            inner[i] = bridge.wrap(a, leaves[i].device)
        previous = bridge.state.substitute
        bridge.state.substitute = {id(t): a for t, a in zip(captured, arrays[len(explicit):])}
        try:
            with enable_grad(), _inside():
                result = body(_rebuild(args, iter(inner)))
        finally:
            bridge.state.substitute = previous
        result = jax.tree_util.tree_leaves(result, is_leaf=_is_leaf)
        return tuple(result[k].jax() for k in slots)

    inputs = [leaves[i] for i in explicit] + captured
    results = _Transform.apply(pure, [out_leaves[k] for k in slots], *inputs)
    for k, r in zip(slots, results):
        out_leaves[k] = r
    return _rebuild(out, iter(out_leaves))


class _Transform(Function):
    """A transform's results as one node: backward is jax.vjp of the transform."""

    _results_from_jax = True

    @staticmethod
    def forward(ctx, pure, results, *inputs):
        ctx.pure = pure
        ctx.arrays = [x.jax() for x in inputs]
        ctx.devices = [x.device for x in inputs]
        return tuple(results)

    @staticmethod
    def backward(ctx, *grads):
        outs, pullback = jax.vjp(ctx.pure, *ctx.arrays)
        cotangents = pullback(tuple(g.jax().astype(o.dtype) for g, o in zip(grads, outs)))
        used = _used_inputs(ctx.pure, ctx.arrays)
        return (None, None) + tuple(bridge.wrap(c, d) if u else None
                                    for c, d, u in zip(cotangents, ctx.devices, used))


def _used_inputs(pure, arrays):
    """Which inputs the results depend on at all: as in PyTorch, a tensor the results'
    graph never reaches gets no gradient (None), not zeros."""
    from jax._src.interpreters import partial_eval as pe
    closed = jax.make_jaxpr(pure)(*arrays)
    _, used = pe.dce_jaxpr(closed.jaxpr, [True] * len(closed.jaxpr.outvars))
    return used
