"""Joining and rearranging: cat, stack, flip, roll, repeat ..."""
import jax.numpy as jnp

from .._tensor import Tensor
from .dispatch import apply
from .registry import Op, OPS, torch_function
from ._util import result_dtype, wrap_dim


def _cat_impl(*arrays, dim, dtype):
    return jnp.concatenate([a.astype(dtype) for a in arrays], axis=dim)


OPS["cat"] = _cat_op = Op("cat", _cat_impl, "CatBackward0", ())


@torch_function("cat", "concat", "concatenate")
def cat(tensors, dim=0, *, axis=None, out=None):
    if axis is not None:
        dim = axis
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    # legacy rule: 1-d empty tensors are skipped
    live = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    ref = live[0]
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, ref.ndim)
    for i, t in enumerate(live):
        if t.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and {t.ndim}")
        for k in range(ref.ndim):
            if k != d and t.shape[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected "
                                   f"size {ref.shape[k]} but got size {t.shape[k]} for tensor "
                                   f"number {tensors.index(t)} in the list.")
    return apply(_cat_op, live, (("dim", d), ("dtype", result_dtype(*live).np)))


def _stack_impl(*arrays, dim, dtype):
    return jnp.stack([a.astype(dtype) for a in arrays], axis=dim)


OPS["stack"] = _stack_op = Op("stack", _stack_impl, "StackBackward0", ())


@torch_function("stack")
def stack(tensors, dim=0, *, out=None):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(tensors[0].shape)} at entry 0 and {list(t.shape)} at entry {i}")
    d = wrap_dim(dim, tensors[0].ndim + 1)
    return apply(_stack_op, tensors, (("dim", d), ("dtype", result_dtype(*tensors).np)))


def _flip_impl(a, *, dims):
    return jnp.flip(a, dims)


OPS["flip"] = _flip_op = Op("flip", _flip_impl, "FlipBackward0", ())


@torch_function("flip", method=True)
def flip(input, *dims):
    from ._util import size_args, wrap_dims
    dims = wrap_dims(size_args(dims), input.ndim)
    return apply(_flip_op, (input,), (("dims", dims),))


def _repeat_impl(a, *, repeats):
    a = a.reshape((1,) * (len(repeats) - a.ndim) + a.shape)
    return jnp.tile(a, repeats)


OPS["repeat"] = _repeat_op = Op("repeat", _repeat_impl, "RepeatBackward0", ())


@torch_function("repeat", method=True, function=False)
def repeat(self, *sizes):
    from ._util import size_args
    sizes = size_args(sizes)
    if len(sizes) < self.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    return apply(_repeat_op, (self,), (("repeats", sizes),))
