"""A compiled training step's backward without a second forward.

Inside torchlike.compile's trace, backward() runs node by node, and a node's backward
was `jax.vjp` of its op on the saved inputs: the forward traced a second time inside
each vjp. XLA merges most of those copies with the forward, but not all: a loop
(an LSTM's scan) runs twice, and a kernel whose copy XLA lays out differently (a layer
norm's rsqrt, attention's exp) is compiled twice. So in a training step (the function
reaches an optimizer) each recorded op is linearized where it runs: `jax.vjp` gives its
output and its pullback, which the node's backward then applies (autograd/engine.py).
"""
import jax

from .._ops import dispatch
from .._ops.registry import fill_cotangents


def linearized(op, params, inputs, arrays):
    """(output, pullback) of a traced op that autograd will record; None when no input
    carries a gradient (nothing is recorded)."""
    diff = [e[0] is not None for e in dispatch._edges(inputs)]
    if not any(diff):
        return None
    fn = op.bind(params)

    def restricted(*diff_arrays):
        it = iter(diff_arrays)
        return fn(*[next(it) if d else a for a, d in zip(arrays, diff)])
    out, vjp = jax.vjp(restricted, *[a for a, d in zip(arrays, diff) if d])
    return out, lambda cotangents: vjp(fill_cotangents(out, cotangents))
