"""Copies and conversions: clone, contiguous, dtype and device moves."""
import jax
import jax.numpy as jnp

from .. import _device
from .._tensor import Tensor
from ._common import require_tensor
from .dispatch import apply
from .registry import register_op, torch_function


@register_op("to_copy", "ToCopyBackward0")
def _convert_impl(a, *, dtype):
    dtype = jnp.dtype(dtype)
    if jnp.issubdtype(a.dtype, jnp.complexfloating) and not jnp.issubdtype(dtype, jnp.complexfloating):
        if dtype == jnp.bool_:
            return a != 0           # a complex number is true when either part is nonzero
        a = a.real
    if jnp.issubdtype(a.dtype, jnp.floating) and jnp.issubdtype(dtype, jnp.integer):
        return _float_to_int(a, dtype)
    return a.astype(dtype)


def _float_to_int(a, dtype):
    """Float to integer as PyTorch's CPU kernels do it (C casts on x86): truncate into
    int32 (int64 for int64), where NaN and out-of-range values become the minimum, then
    narrow by keeping the low bits. XLA would saturate instead (-1.5 -> uint8 gives 0,
    PyTorch 255)."""
    wide = jnp.int64 if dtype == jnp.int64 else jnp.int32
    a = a.astype(jnp.promote_types(a.dtype, jnp.float32))
    t = jnp.trunc(a)
    limit = float(2 ** (jnp.iinfo(wide).bits - 1))   # exact in every float type
    bad = jnp.isnan(t) | (t < -limit) | (t >= limit)
    as_wide = jnp.where(bad, 0, t).astype(wide)
    as_wide = jnp.where(bad, jnp.iinfo(wide).min, as_wide)
    return as_wide.astype(dtype)


def convert_dtype(x, dtype):
    return apply(_convert_impl, (x,), (("dtype", dtype.np),))


@register_op("to_device", "ToCopyBackward0")
def _move_impl(a, *, device):
    return jax.device_put(a, _device.to_jax(device))


def move_to_device(x, device):
    out = apply(_move_impl, (x,), (("device", device),))    # ToCopyBackward0 if recorded
    # inside a compiled function device_put only hints at placement: move the value itself
    out._storage.array = _device.place(out._data(), device)
    out._storage.device = device
    return out


@register_op("clone", "CloneBackward0")
def _clone_impl(a):
    return a + jnp.zeros((), a.dtype) if a.dtype != jnp.bool_ else a


@torch_function("clone", method=True)
def clone(input, *, memory_format=None):
    from .._factories import with_memory_format
    return with_memory_format(apply(_clone_impl, (input,)), input, memory_format, "clone")


@torch_function("contiguous", method=True, function=False)
def contiguous(self, memory_format=None):
    from .._factories import memory_format as memory_format_type
    if memory_format is not None and not isinstance(memory_format, memory_format_type):
        raise TypeError("contiguous(): argument 'memory_format' must be torch.memory_format, "
                        f"not {type(memory_format).__name__}")
    if self.is_contiguous():
        return self
    return apply(_clone_impl, (self,))


# -- conjugation: torchlike has no lazy conj bit, so conj() of a complex tensor is a copy ----
@register_op("conj", "ConjBackward0")
def _conj_impl(a):
    return jnp.conj(a)


@torch_function("conj", method=True)
def conj(input):
    require_tensor("conj", input, "input", 1)
    if not input.is_complex():
        return input                # PyTorch returns real tensors themselves
    return apply(_conj_impl, (input,))


@torch_function("conj_physical", method=True)
def conj_physical(input):
    if not input.is_complex():
        return input
    return apply(_conj_impl, (input,), (), "ConjPhysicalBackward0")


def _conj_physical_(self):
    # the in-place form records its node even for real tensors, as PyTorch
    from ._common import inplace_method
    return inplace_method(lambda s: apply(_conj_impl, (s,), (), "ConjPhysicalBackward1"))(self)


def _register_conj_physical_forms():
    from ._common import with_out
    from .registry import FUNCTIONS, METHODS
    FUNCTIONS["conj_physical"] = with_out("conj_physical", conj_physical)
    FUNCTIONS["conj_physical_"] = METHODS["conj_physical_"] = _conj_physical_


_register_conj_physical_forms()


@torch_function("resolve_conj", "resolve_neg", method=True)
def resolve_conj(input):
    return input                    # nothing is ever pending


@torch_function("is_conj", "is_neg", method=True)
def is_conj(input):
    return False
