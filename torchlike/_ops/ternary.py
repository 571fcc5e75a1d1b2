"""Ternary and parameterised pointwise ops: where, clamp, lerp, addcmul/addcdiv,
isclose/allclose/equal, and the in-place-first fill_/zero_/copy_."""
import jax
import jax.numpy as jnp

from .. import _dtype as dt
from .._tensor import Tensor
from ._common import as_scalar, expose, is_float, not_implemented, opmath, require_tensor
from .dispatch import apply
from .registry import FUNCTIONS, METHODS, Op, OPS
from ._util import (broadcast_shapes, c_type_name, check_broadcast, invalid_arguments,
                    result_dtype, scalar_name)

__all__ = ["where", "clamp", "clamp_min", "clamp_max", "lerp", "addcmul", "addcdiv", "isclose",
           "allclose", "equal", "copy_"]


def _cast(x, dtype):
    return x.astype(dtype) if hasattr(x, "astype") else jnp.asarray(x, dtype)


def _scalar_or_tensor(x):
    return x if isinstance(x, Tensor) else as_scalar(x)


# -- where -------------------------------------------------------------------------------------
def _where_impl(c, a, b, *, dtype):
    return jnp.where(c, _cast(a, dtype), _cast(b, dtype))


OPS["where"] = _where_op = Op("where", _where_impl, "WhereBackward0", (0,))


def where(condition, input=None, other=None):
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    if condition._dtype is not dt.bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {scalar_name(condition._dtype)}")
    for x in (input, other):
        if isinstance(x, Tensor):
            check_broadcast(condition, x)
    d = result_dtype(_scalar_or_tensor(input), _scalar_or_tensor(other))
    return apply(_where_op, (condition, _scalar_or_tensor(input), _scalar_or_tensor(other)),
                 (("dtype", d.np),))


def _where_method(self, condition, other):
    return where(condition, self, other)


expose("where", where, method=False, inplace=False)
expose("where", _where_method, function=False, inplace=False)


# -- clamp -------------------------------------------------------------------------------------
def _clamp_impl(a, lo, hi, *, dtype):
    """min(max(a, lo), hi), NaN wherever the input or a bound is NaN, with the gradient
    where PyTorch's clamp backward sends it (see _clamp_between)."""
    a = a.astype(dtype)
    if not jnp.issubdtype(dtype, jnp.inexact):
        if lo is not None:
            a = jnp.where(a < lo, _cast(lo, dtype), a)
        return a if hi is None else jnp.where(a > hi, _cast(hi, dtype), a)
    if lo is not None and hi is not None:
        return _clamp_between(a, _cast(lo, dtype), _cast(hi, dtype))
    # one bound: `where` sends the gradient to the input where it is within the bound,
    # to the bound where the input passed it, and nowhere for a NaN
    nan = jnp.array(jnp.nan, dtype)
    if lo is not None:
        lo = _cast(lo, dtype)
        return jnp.where(a >= lo, a, jnp.where(a < lo, lo, nan))
    hi = _cast(hi, dtype)
    return jnp.where(a <= hi, a, jnp.where(a > hi, hi, nan))


@jax.custom_jvp
def _clamp_between(a, lo, hi):
    nan = jnp.array(jnp.nan, a.dtype)
    a = jnp.where(a >= lo, a, jnp.where(a < lo, lo, nan))
    return jnp.where(a <= hi, a, jnp.where(a > hi, hi, nan))


@_clamp_between.defjvp
def _clamp_between_jvp(primals, tangents):
    # PyTorch's rule, which does not follow the value (a NaN bound still passes the
    # gradient on): the input where lo <= a <= hi, the lower bound where a < lo < hi,
    # the upper one where a > hi or lo > hi (the crossed bounds' output is hi); at
    # a < lo == hi, nothing
    a, lo, hi = primals
    ta, tlo, thi = tangents
    out = _clamp_between(a, lo, hi)
    zero = jnp.zeros_like(out)
    tangent = (jnp.where((a >= lo) & (a <= hi), ta, zero)
               + jnp.where((a < lo) & (lo < hi), tlo, zero)
               + jnp.where((a > hi) | (lo > hi), thi, zero))
    return out, tangent


OPS["clamp"] = _clamp_op = Op("clamp", _clamp_impl, "ClampBackward1", (0,))


def _clamp(input, min, max, grad_fns, name="clamp"):
    if not isinstance(input, Tensor):
        raise invalid_arguments(name, input, min if max is None else max)
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    tensors = [x for x in (min, max) if isinstance(x, Tensor)]
    if tensors and len(tensors) != len([x for x in (min, max) if x is not None]):
        raise TypeError("clamp() received an invalid combination of arguments - got (Tensor, "
                        "Tensor and Number bounds)")
    for t in tensors:
        check_broadcast(input, t)
    min = _scalar_or_tensor(min) if min is not None else None
    max = _scalar_or_tensor(max) if max is not None else None
    d = result_dtype(*(x for x in (input, min, max) if x is not None))
    if d is dt.bool and not tensors:   # PyTorch's scalar kernels lack bool; tensor ones have it
        kernel = ( "clamp_scalar_cpu" if min is not None and max is not None
                  else "clamp_min_scalar_cpu" if min is not None else "clamp_max_scalar_cpu")
        raise not_implemented(kernel, d)
    return apply(_clamp_op, (input, min, max), (("dtype", d.np),),
                 grad_fns[0] if tensors else grad_fns[1])


def clamp(input, min=None, max=None):
    return _clamp(input, min, max, ("ClampBackward0", "ClampBackward1"))


def clamp_min(input, min):
    return _clamp(input, min, None, ("ClampMinBackward1", "ClampMinBackward0"), "clamp_min")


def clamp_max(input, max):
    return _clamp(input, None, max, ("ClampMaxBackward1", "ClampMaxBackward0"), "clamp_max")


expose("clamp", clamp, aliases=("clip",))
expose("clamp_min", clamp_min)
expose("clamp_max", clamp_max)


# -- lerp --------------------------------------------------------------------------------------
def _lerp_impl(a, b, w, *, dtype):
    # PyTorch's formula: exact at both ends (float16/bfloat16 in float32, rounded once)
    m = opmath(dtype)
    a, b, w = a.astype(m), b.astype(m), _cast(w, m)
    return jnp.where(jnp.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1 - w)).astype(dtype)


OPS["lerp"] = _lerp_op = Op("lerp", _lerp_impl, "LerpBackward0", (0, 1, 2))


def lerp(input, end, weight):
    tensor_weight = isinstance(weight, Tensor)
    for name, t in (("end", end), ("weight", weight if tensor_weight else None)):
        if t is not None and t._dtype is not input._dtype:
            raise RuntimeError(f"expected dtype {c_type_name(input._dtype)} for `{name}` but got "
                               f"dtype {c_type_name(t._dtype)}")
    if not is_float(input._dtype):
        raise not_implemented("lerp_kernel_tensor" if tensor_weight else "lerp_kernel_scalar",
                              input._dtype)
    check_broadcast(input, end)
    if tensor_weight:
        check_broadcast(input, weight)
    return apply(_lerp_op, (input, end, _scalar_or_tensor(weight)), (("dtype", input._dtype.np),),
                 "LerpBackward1" if tensor_weight else "LerpBackward0")


expose("lerp", lerp)


# -- addcmul / addcdiv -------------------------------------------------------------------------
def _addc_impl(a, t1, t2, *, value, dtype, divide):
    m = opmath(dtype)           # (float16/bfloat16 in float32, rounded once)
    a, t1, t2 = a.astype(m), t1.astype(m), t2.astype(m)
    return (a + value * (t1 / t2 if divide else t1 * t2)).astype(dtype)


OPS["addcmul"] = _addc_op = Op("addcmul", _addc_impl, "AddcmulBackward0", (1, 2))

_INT_ADDCDIV = ("Integer division with addcdiv is no longer supported, and in a future  release "
                "addcdiv will perform a true division of tensor1 and tensor2. The historic "
                "addcdiv behavior can be implemented as (input + value * torch.trunc(tensor1 / "
                "tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / "
                "tensor2) for float inputs. The future addcdiv behavior is just the latter "
                "implementation: (input + value * tensor1 / tensor2), for all dtypes.")


def _addc(input, tensor1, tensor2, value, divide):
    check_broadcast(input, tensor1)
    check_broadcast(input, tensor2)
    check_broadcast(tensor1, tensor2)
    if divide and not is_float(tensor1._dtype) and not is_float(tensor2._dtype):
        raise RuntimeError(_INT_ADDCDIV)
    d = result_dtype(input, tensor1, tensor2)
    if d is dt.bool:
        raise not_implemented("addcdiv_cpu_out" if divide else "addcmul_cpu_out", d)
    return apply(_addc_op, (input, tensor1, tensor2),
                 (("value", value), ("dtype", d.np), ("divide", divide)),
                 "AddcdivBackward0" if divide else "AddcmulBackward0")


def addcmul(input, tensor1, tensor2, *, value=1):
    return _addc(input, tensor1, tensor2, value, False)


def addcdiv(input, tensor1, tensor2, *, value=1):
    return _addc(input, tensor1, tensor2, value, True)


expose("addcmul", addcmul)
expose("addcdiv", addcdiv)


# -- closeness ----------------------------------------------------------------------------
def _isclose_impl(a, b, *, rtol, atol, equal_nan, dtype):
    a, b = a.astype(dtype), b.astype(dtype)
    if dtype == jnp.bool_:                 # bools are close when equal
        return a == b
    if not jnp.issubdtype(dtype, jnp.inexact):
        return a == b if (rtol == 0 and atol == 0) else \
            jnp.abs(a - b).astype(jnp.float64) <= atol + rtol * jnp.abs(b).astype(jnp.float64)
    close = (a == b) | (jnp.abs(a - b) <= atol + rtol * jnp.abs(b))
    close = close & jnp.isfinite(a - b) | (a == b)
    if equal_nan:
        close = close | (jnp.isnan(a) & jnp.isnan(b))
    return close


OPS["isclose"] = _isclose_op = Op("isclose", _isclose_impl, None, (), False)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    require_tensor("isclose", input, "input", 1)
    require_tensor("isclose", other, "other", 2)
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if tol < 0:
            raise RuntimeError(f"{name} must be greater than or equal to zero, but got {tol:g}")
    if input._dtype is not other._dtype:
        raise RuntimeError(f"{scalar_name(input._dtype)} did not match {scalar_name(other._dtype)}")
    check_broadcast(input, other)
    return apply(_isclose_op, (input, other), (("rtol", float(rtol)), ("atol", float(atol)),
                                               ("equal_nan", bool(equal_nan)),
                                               ("dtype", input._dtype.np)))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    broadcast_shapes(tuple(input.shape), tuple(other.shape))
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other):
    require_tensor("equal", input, "input", 1)
    require_tensor("equal", other, "other", 2)
    if tuple(input.shape) != tuple(other.shape):
        return False
    d = result_dtype(input, other)
    return bool(jnp.array_equal(input._data().astype(d.np), other._data().astype(d.np)))


expose("isclose", isclose, inplace=False, out=False)
expose("allclose", allclose, inplace=False, out=False)
expose("equal", equal, inplace=False, out=False)


# -- fills and copies (in-place first in PyTorch) -----------------------------------------
def _fill_impl(a, v):
    return jnp.broadcast_to(_cast(v, a.dtype), a.shape)


OPS["fill"] = _fill_op = Op("fill", _fill_impl, "FillBackward0", ())


def _filled(self, value):
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.ndim} dimensions.")
    return apply(_fill_op, (self, _scalar_or_tensor(value)),
                 grad_fn="FillBackward3" if isinstance(value, Tensor) else "FillBackward2")


def _zeroed(self):
    return apply(_fill_op, (self, 0), grad_fn="ZeroBackward0")


def fill_(self, value):
    return self._inplace(_filled, value)


def zero_(self):
    return self._inplace(_zeroed)


METHODS["fill_"] = fill_
METHODS["zero_"] = zero_
# torch.zero_(t) and torch.fill_(t, v) are the methods as functions
FUNCTIONS["zero_"] = METHODS["zero_"]
FUNCTIONS["fill_"] = METHODS["fill_"]


def _copy_impl(a, src):
    return jnp.broadcast_to(src.astype(a.dtype), a.shape)


OPS["copy"] = _copy_op = Op("copy", _copy_impl, "CopyBackwards", ())


def _copied(self, src, non_blocking=False):
    check_broadcast(self, src)
    if len(src.shape) > self.ndim or any(s not in (1, n) for s, n in
                                        zip(src.shape[::-1], self.shape[::-1])):
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast "
                           f"shape {list(broadcast_shapes(tuple(self.shape), tuple(src.shape)))}")
    if src.device != self.device:
        src = src.to(self.device)
    return apply(_copy_op, (self, src))


def copy_(self, src, non_blocking=False):
    self._check_inplace()
    return self._assign_result(_copied(self, src))


METHODS["copy_"] = copy_
