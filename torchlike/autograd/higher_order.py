"""create_graph=True: a node's input gradients as recorded ops, so that they can be
differentiated again. Each gradient is its own node, wired only to the arguments its
value depends on (read off the vjp's jaxpr), and named as PyTorch's formula names it."""
import functools

import jax

from .._caches import LRU
from .engine import _conj
from .grad_mode import no_grad
from .graph import AccumulateGrad


@functools.cache
def _vjp_op(op, grad_fn_name):
    """An Op computing op's vjp, so create_graph records the backward itself."""
    from .._ops.registry import Op, _vjp_of

    def impl(*args, params, diff, n_inputs):
        # conjugated on both sides, as engine._conj explains (PyTorch's complex convention)
        grads = _vjp_of(op.bind(params), diff, args[:n_inputs], [_conj(c) for c in args[n_inputs:]])
        return tuple(_conj(g) for g in grads)
    return Op(op.name + "_vjp", impl, grad_fn_name)


_vjp_deps_cache = LRU(1024)     # (op, params, diff, argument avals) -> dependencies


def _literal(v):
    return hasattr(v, "val")                # a jaxpr Literal holds its value; a Var doesn't


def _vjp_dependencies(op, params, diff, args):
    """For each gradient the vjp of `op` returns, the positions of the arguments (forward
    inputs, then output gradients) its value depends on, read off the vjp's jaxpr. The
    gradient of x * w with respect to x does not depend on x: PyTorch's graph for it has
    no edge to x, so differentiating it again reports x unused, and a gradient that
    depends on nothing requiring grad does not require grad."""
    arrays = [k for k, a in enumerate(args) if hasattr(a, "shape")]
    key = (op, params, diff, tuple((k, tuple(args[k].shape), str(args[k].dtype)) for k in arrays),
           tuple(type(a) for a in args))
    deps = _vjp_deps_cache.get(key)
    if deps is not None:
        return deps
    from .._ops.registry import _vjp_of
    n_inputs = len(diff)

    def vjp(*array_args):
        full = list(args)
        for k, a in zip(arrays, array_args):
            full[k] = a
        return tuple(_vjp_of(op.bind(params), diff, full[:n_inputs], full[n_inputs:]))
    abstract = [jax.ShapeDtypeStruct(tuple(args[k].shape), args[k].dtype) for k in arrays]
    jaxpr = jax.make_jaxpr(vjp)(*abstract).jaxpr
    found = {v: frozenset([arrays[i]]) for i, v in enumerate(jaxpr.invars)}
    for eqn in jaxpr.eqns:             # (a nested call counts as using all its inputs)
        used = frozenset().union(*[found.get(v, frozenset()) for v in eqn.invars
                                   if not _literal(v)])
        for v in eqn.outvars:
            found[v] = used
    outs = tuple(frozenset() if _literal(v) else found.get(v, frozenset())
                 for v in jaxpr.outvars)
    # one gradient that is an output gradient unchanged (add's, for instance)
    passthrough = None
    if len(jaxpr.outvars) == 1 and jaxpr.outvars[0] in jaxpr.invars:
        k = arrays[jaxpr.invars.index(jaxpr.outvars[0])]
        if k >= n_inputs and tuple(args[k].shape) == tuple(args[diff.index(True)].shape):
            passthrough = k
    deps = _vjp_deps_cache[key] = (outs, passthrough)
    return deps


# PyTorch's derivative formulas end in an op of their own, whose node the gradient
# carries under create_graph=True. Where that differs from the forward node's name
# (the default here), the formula's name is listed.
_GRAD_NODE_NAMES = {
    "TanhBackward0": "TanhBackwardBackward0", "SigmoidBackward0": "SigmoidBackwardBackward0",
    "ReluBackward0": "ThresholdBackwardBackward0", "SinBackward0": "MulBackward0",
    "CosBackward0": "MulBackward0", "ExpBackward0": "MulBackward0",
    "PowBackward0": "MulBackward0", "LogBackward0": "DivBackward0",
    "SqrtBackward0": "DivBackward0", "SumBackward0": "ExpandBackward0",
    "SumBackward1": "ExpandBackward0", "MeanBackward0": "DivBackward0",
}


def recorded_vjp(node, grads):
    """The input gradients of `node` as recorded ops (create_graph=True): one node per
    gradient, as PyTorch's formulas give, wired only to the arguments it depends on."""
    from .._tensor import Tensor
    inputs = []
    for (nxt, nr), array in zip(node.edges, node.arrays):
        if isinstance(nxt, AccumulateGrad):
            inputs.append(nxt.variable)
        elif nxt is None or not hasattr(array, "shape"):
            inputs.append(array if not hasattr(array, "shape") else Tensor._wrap(array))
        else:
            proxy = Tensor._wrap(array)
            proxy._grad_fn, proxy._output_nr = nxt, nr
            inputs.append(proxy)
    args = inputs + list(grads)
    values = [a._data() if isinstance(a, Tensor) else a for a in args]
    n = len(node.diff)
    return [_one_recorded_grad(node, tuple(i == k for i in range(n)), args, values)
            if d else None for k, d in enumerate(node.diff)]


def _one_recorded_grad(node, diff, args, values):
    from .._ops.dispatch import apply
    from .._tensor import Tensor
    (deps,), passthrough = _vjp_dependencies(node.op, node.params, diff, values)
    if passthrough is not None:            # the gradient is an output gradient itself
        return args[passthrough]
    if not any(isinstance(args[k], Tensor) and args[k].requires_grad for k in deps):
        with no_grad():
            return _apply_vjp(node, diff, args, apply)
    # an argument the gradient does not depend on gets no edge (as in PyTorch's formulas)
    args = [a.detach() if isinstance(a, Tensor) and k not in deps else a
            for k, a in enumerate(args)]
    return _apply_vjp(node, diff, args, apply)


def _apply_vjp(node, diff, args, apply):
    name = _GRAD_NODE_NAMES.get(node.name(), node.name())
    params = (("params", node.params), ("diff", diff), ("n_inputs", len(diff)))
    (out,) = apply(_vjp_op(node.op, name), args, params)
    return out
