"""Matrix products: matmul and its PyTorch spellings (mm, bmm, mv, dot, outer ...)."""
import jax.numpy as jnp

from .._tensor import Tensor
from .dispatch import apply
from .registry import Op, OPS, torch_function
from ._util import result_dtype, scalar_name


def _matmul_impl(a, b, *, dtype):
    return jnp.matmul(a.astype(dtype), b.astype(dtype))


OPS["matmul"] = _matmul_op = Op("matmul", _matmul_impl, "MmBackward0", (0, 1))


def _check_same_dtype(a, b, what="expected m1 and m2 to have the same dtype"):
    if a.dtype is not b.dtype:
        raise RuntimeError(f"{what}, but got: {scalar_name(a.dtype)} != {scalar_name(b.dtype)}")


def _mm_shapes(a, b):
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[-2] if a.ndim > 1 else 1}"
                           f"x{a.shape[-1]} and {b.shape[-2] if b.ndim > 1 else b.shape[0]}x"
                           f"{b.shape[-1] if b.ndim > 1 else 1})")


def _mm(a, b, grad_fn):
    return apply(_matmul_op, (a, b), (("dtype", a.dtype.np),), grad_fn)


@torch_function("matmul", method=True)
def matmul(input, other, *, out=None):
    if input.ndim == 0 or other.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{input.ndim}D and {other.ndim}D")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{scalar_name(input.dtype)} != {scalar_name(other.dtype)}")
    if input.ndim == 1 and other.ndim == 1:
        return dot(input, other)
    if input.ndim == 2 and other.ndim == 1:
        return mv(input, other)
    if input.ndim == 1 and other.ndim == 2:
        if input.shape[0] != other.shape[0]:
            raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat ({other.shape[0]}"
                               f"x{other.shape[1]}), vec ({input.shape[0]})")
        return _mm(input, other, "SqueezeBackward4")
    if input.ndim == 2 and other.ndim == 2:
        return mm(input, other)
    _mm_shapes(input, other)
    grad_fn = "UnsafeViewBackward0" if input.ndim > 2 and other.ndim <= 2 else (
        "UnsafeViewBackward0" if input.ndim >= 3 or other.ndim >= 3 else "BmmBackward0")
    if input.ndim == 3 and other.ndim == 3:
        grad_fn = "BmmBackward0"
    return _mm(input, other, grad_fn)


@torch_function("mm", method=True)
def mm(input, mat2, *, out=None):
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    _mm_shapes(input, mat2)
    _check_same_dtype(input, mat2, "self and mat2 must have the same dtype")
    return _mm(input, mat2, "MmBackward0")


@torch_function("bmm", method=True)
def bmm(input, mat2, *, out=None):
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    return _mm(input, mat2, "BmmBackward0")


@torch_function("mv", method=True)
def mv(input, vec, *, out=None):
    if input.ndim != 2 or vec.ndim != 1 or input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat ({input.shape[0]}x"
                           f"{input.shape[1] if input.ndim > 1 else ''}), vec ({vec.shape[0]})")
    return _mm(input, vec, "MvBackward0")


@torch_function("dot", "inner", method=True)
def dot(input, other, *, out=None):
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.shape[0] != other.shape[0]:
        raise RuntimeError("inconsistent tensor size, expected tensor [%d] and src [%d] to have the "
                           "same number of elements, but got %d and %d elements respectively"
                           % (input.shape[0], other.shape[0], input.shape[0], other.shape[0]))
    _check_same_dtype(input, other, "dot : expected both vectors to have same dtype")
    return _mm(input, other, "DotBackward0")


def _outer_impl(a, b, *, dtype):
    return jnp.outer(a.astype(dtype), b.astype(dtype))


OPS["outer"] = _outer_op = Op("outer", _outer_impl, "MulBackward0", (0, 1))


@torch_function("outer", "ger", method=True)
def outer(input, vec2):
    return apply(_outer_op, (input, vec2), (("dtype", result_dtype(input, vec2).np),))


def _addmm_impl(c, a, b, *, beta, alpha):
    return beta * c + alpha * jnp.matmul(a, b)


OPS["addmm"] = _addmm_op = Op("addmm", _addmm_impl, "AddmmBackward0", (1, 2))


@torch_function("addmm", method=True)
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    _mm_shapes(mat1, mat2)
    return apply(_addmm_op, (input, mat1, mat2), (("beta", beta), ("alpha", alpha)))
