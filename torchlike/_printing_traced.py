"""How a tensor prints inside torch.func's transforms and forward AD, as PyTorch's does.

Inside an eager (not jitted) vmap, grad or jvp a tensor holds a JAX tracer whose value
is known: a BatchTracer (vmap) keeps the batched value and its batch dim, a JVP or
Linearize tracer (grad, vjp, jvp, jacrev, jacfwd) its primal. PyTorch prints the same
layers as wrappers around the value, the outermost transform at level 1:
`GradTrackingTensor(lvl=2, value=\n    BatchedTensor(lvl=1, bdim=0, value=\n ...`; a dual
tensor of forward_ad prints as `tensor([...], tangent=tensor([...]))`. A tracer whose
value is not known (under jit, or torchlike.compile's trace) is left to the caller.
"""
import textwrap

import jax
from jax._src.interpreters import ad, batching


def traced_repr(array, device):
    """PyTorch's repr of a tensor holding tracer `array`, or None where its value is not
    known here."""
    from ._tensor import Tensor
    from .autograd import forward_ad
    level = forward_ad._current
    if level is not None and level.owns(array):
        primal, tangent = array.primal, ad.instantiate_zeros(array.tangent) \
            if type(array.tangent) is ad.Zero else array.tangent
        if isinstance(primal, jax.core.Tracer) or isinstance(tangent, jax.core.Tracer):
            return None
        shown = repr(Tensor._wrap(primal, device))
        tangent_shown = repr(float(tangent)) if tangent.ndim == 0 else \
            repr(Tensor._wrap(tangent, device))
        return f"{shown[:-1]}, tangent={tangent_shown})"
    layers = []
    while isinstance(array, jax.core.Tracer):
        if isinstance(array, batching.BatchTracer):
            if array.batch_dim is not None:     # (None: a value the vmap does not map)
                layers.append(f"BatchedTensor(lvl={{}}, bdim={array.batch_dim}, value=")
            array = array.val
        elif isinstance(array, (ad.JVPTracer, ad.LinearizeTracer)):
            layers.append("GradTrackingTensor(lvl={}, value=")
            array = array.primal
        else:
            return None
    shown = repr(Tensor._wrap(array, device))
    for lvl, head in enumerate(reversed(layers), 1):
        shown = head.format(lvl) + "\n" + textwrap.indent(shown, "    ") + "\n)"
    return shown
