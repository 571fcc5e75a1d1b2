"""Copies and conversions: clone, contiguous, dtype and device moves."""
import jax
import jax.numpy as jnp

from .. import _device
from .._tensor import Tensor
from .dispatch import apply
from .registry import register_op, torch_function


@register_op("to_copy", "ToCopyBackward0")
def _convert_impl(a, *, dtype):
    if jnp.issubdtype(a.dtype, jnp.complexfloating) and not jnp.issubdtype(dtype, jnp.complexfloating):
        a = a.real
    return a.astype(dtype)


def convert_dtype(x, dtype):
    return apply(_convert_impl, (x,), (("dtype", dtype.np),))


@register_op("to_device", "ToCopyBackward0")
def _move_impl(a, *, device):
    return jax.device_put(a, _device.to_jax(device))


def move_to_device(x, device):
    out = apply(_move_impl, (x,), (("device", device),))
    out._storage.device = device
    return out


@register_op("clone", "CloneBackward0")
def _clone_impl(a):
    return a + jnp.zeros((), a.dtype) if a.dtype != jnp.bool_ else a


@torch_function("clone", method=True)
def clone(input, *, memory_format=None):
    return apply(_clone_impl, (input,))


@torch_function("contiguous", method=True, function=False)
def contiguous(self, memory_format=None):
    if self.is_contiguous():
        return self
    return apply(_clone_impl, (self,))
