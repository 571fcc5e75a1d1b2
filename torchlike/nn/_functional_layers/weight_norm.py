"""PyTorch's _weight_norm(v, g, dim) = v * g / ||v|| (the norm over every dim but `dim`;
all dims for dim=-1), one op named as PyTorch's node."""
import jax.numpy as jnp

from ._common import call, nn_op


def norm_except_dim_array(v, dim):
    axes = tuple(d for d in range(v.ndim) if d != dim) if dim != -1 else None
    return jnp.sqrt(jnp.sum(v * v, axis=axes, keepdims=dim != -1))


@nn_op("weight_norm")
def _weight_norm_op(v, g, *, dim):
    return v * (g / norm_except_dim_array(v, dim))


def weight_norm(v, g, dim=0):
    if dim == -1:        # PyTorch composes this case from plain ops
        return v * (g / v.norm())
    dim = dim % v.dim()
    return call(_weight_norm_op, (v, g), "WeightNormInterfaceBackward0", dim=dim)


def norm_except_dim(v, pow=2, dim=0):
    """||v|| over every dim but `dim` (kept as size 1); PyTorch's norm_except_dim."""
    if dim == -1:
        return v.norm(pow)
    dims = [d for d in range(v.dim()) if d != dim % v.dim()]
    return v.norm(pow, dim=dims, keepdim=True)
