"""Binary pointwise ops (arithmetic, comparisons, bitwise), built from small tables.

`binary_op` generates torchlike.<name> (with out=), Tensor.<name>, Tensor.<name>_ and
the reflected form used by the r-dunders from one row. Unary ops live in unary.py,
ternary and parameterised ones (where, clamp, lerp ...) in ternary.py; both are
re-exported here because the operators in torchlike/__init__.py read this module.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .. import _dtype as dt
from .._lazy import PY_SCALARS
from .._symbolic import SymNumber
from .._tensor import Tensor
from ._common import (NOT_IMPLEMENTED, REDUCED_FLOATS, as_scalar, expose, inplace_method,
                      is_float, no_derivative, not_implemented, require_tensor, round_to,
                      with_jvp)
from .dispatch import apply
from .registry import FUNCTIONS, METHODS, Op, OPS  # noqa: F401  (FUNCTIONS read by __init__)
from ._util import check_broadcast, invalid_arguments, result_dtype, scalar_name, values_to_check
from .unary import UNARY, reciprocal, neg, logical_not, abs_with_zero_grad  # noqa: F401

_scalar = as_scalar   # indexing.py imports this name


def _cast(x, dtype):
    return x.astype(dtype) if hasattr(x, "astype") else jnp.asarray(x, dtype)


# -- which dtypes a kernel accepts (checked on the promoted dtype, as PyTorch) -------------
def _no_bool(kernel):
    def check(d):
        if d is dt.bool:
            raise not_implemented(kernel, d)
    return check


def _floats(kernel):
    def check(d):
        if not is_float(d):
            raise not_implemented(kernel, d)
    return check


def _real(kernel):
    def check(d):
        if d.is_complex:
            raise not_implemented(kernel, d)
    return check


def _check_nonzero(divisor):
    """PyTorch's CPU integer division by zero is an error; finding it needs the divisor's
    values on the host (only integer divisions on the CPU pay for this)."""
    if isinstance(divisor, Tensor):
        values = values_to_check(divisor)
        zero = values is not None and bool(np.any(values == 0))
    else:       # (a number .item() read in a trace has no value to check: _symbolic.py)
        zero = not isinstance(divisor, SymNumber) and divisor == 0
    if zero:
        raise RuntimeError("ZeroDivisionError")


def _kind(x):
    """What PyTorch's promotion looks at: a tensor's dtype and whether it is 0-dim, or a
    Python scalar's type."""
    return (x._dtype, x._shape == ()) if isinstance(x, Tensor) else type(x)


def _integral(kernel, bool_ok=True):
    def check(d):
        if is_float(d) or (d is dt.bool and not bool_ok):
            raise not_implemented(kernel, d)
    return check


# ops with several signatures, none of which takes a Python number first
_NO_SCALAR_FIRST = frozenset({"fmod", "copysign", "eq", "ne", "lt", "le", "gt", "ge"})


def binary_op(name, fn, grad_fn, *, saves=(0, 1), result="promote", aliases=(), inplace=True,
              scalar_grad_fn=None, reverse_grad_fn=None, reverse_fn=None, check=None,
              tensor_only=None, differentiable=True, inplace_grad_fn=None,
              inplace_backward_error=None, operand_check=None, int_divisor=False):
    """result: 'promote' (PyTorch promotion), 'float' (integers compute in the default
    float dtype), 'bool' (comparisons: compute promoted, return bool).
    tensor_only: the name of `other` when PyTorch accepts only a Tensor there.
    reverse_fn/reverse_grad_fn: `scalar <op> tensor`, where PyTorch's node differs.
    operand_check(a, b): PyTorch's errors that depend on the operands, not just the dtype.
    int_divisor: `other` divides, and an integer division by zero raises."""
    def impl(a, b, *, dtype):
        return fn(_cast(a, dtype), _cast(b, dtype))

    def rimpl(a, b, *, dtype):
        return (reverse_fn or fn)(_cast(b, dtype), _cast(a, dtype))
    differentiable = differentiable and result != "bool"
    op = OPS[name] = Op(name, impl, grad_fn, saves, differentiable)
    rop = OPS["r" + name] = Op("r" + name, rimpl, reverse_grad_fn or grad_fn, saves, differentiable)

    def compute_dtype(input, other):
        d = result_dtype(input, other)
        if check is not None:
            check(d)
        if result == "float" and not is_float(d):
            d = dt.get_default_dtype()
        return d

    known = {}      # operand kinds -> (dtype, params): promotion runs once per combination

    def dtype_and_params(input, other):
        key = (_kind(input), _kind(other), dt.get_default_dtype())
        hit = known.get(key)
        if hit is None:
            d = compute_dtype(input, other)
            hit = known[key] = (d, (("dtype", d.np),))
        return hit

    def torch_fn(input, other):
        if not isinstance(input, Tensor):      # torch.remainder(2, x): a scalar first
            if tensor_only:                    # PyTorch has no Scalar-first signature
                require_tensor(name, input, "input", 1)
            if name in _NO_SCALAR_FIRST:
                raise invalid_arguments(name, input, other)
            require_tensor(name, other, "other", 2)
            return reverse(other, input)
        if operand_check is not None:
            operand_check(input, other)
        # (the promotion key is dtype_and_params' own, built here from what is known)
        if isinstance(other, Tensor):
            if input._shape != other._shape:
                check_broadcast(input, other)
            g = None
            other_kind = (other._dtype, other._shape == ())
        else:
            if tensor_only:
                require_tensor(name, other, tensor_only, 2)
            if type(other) not in PY_SCALARS:     # (as_scalar returns these as they are)
                other = as_scalar(other)
            g = scalar_grad_fn
            other_kind = type(other)
        hit = known.get(((input._dtype, input._shape == ()), other_kind, dt.get_default_dtype()))
        d, params = hit if hit is not None else dtype_and_params(input, other)
        if int_divisor and not is_float(d):
            _check_nonzero(other)
        return apply(op, (input, other), params, g)

    def reverse(self, other):
        """other <op> self, with self a Tensor (the r-dunders)."""
        other = as_scalar(other) if not isinstance(other, Tensor) else other
        if operand_check is not None:
            operand_check(other, self)
        d, params = dtype_and_params(self, other)
        if int_divisor and not is_float(d):
            _check_nonzero(self)
        return apply(rop, (self, other), params)

    def torch_fn_(self, other):
        """The in-place form: like PyTorch, a result type that can't be cast back to self's
        dtype is refused before the kernel's own dtype checks."""
        if not isinstance(other, Tensor):
            other = as_scalar(other)
        d = result_dtype(self, other)
        if result == "float" and not is_float(d):
            d = dt.get_default_dtype()
        if result != "bool" and d is not self._dtype and not dt.can_cast(d, self._dtype):
            raise RuntimeError(f"result type {scalar_name(d)} can't be cast to the desired "
                               f"output type {scalar_name(self._dtype)}")
        return torch_fn(self, other)
    torch_fn.__name__ = torch_fn_.__name__ = name
    torch_fn.reverse = reverse
    expose(name, torch_fn, aliases=aliases, inplace=inplace, inplace_grad_fn=inplace_grad_fn,
           inplace_backward_error=inplace_backward_error)
    if inplace:
        for n in (name,) + tuple(aliases):
            METHODS[n + "_"] = inplace_method(torch_fn_, inplace_grad_fn, inplace_backward_error)
            if n + "_" in FUNCTIONS:
                FUNCTIONS[n + "_"] = METHODS[n + "_"]
    return torch_fn


# -- arithmetic --------------------------------------------------------------------------------
def _floor_divide(a, b):
    return jnp.floor_divide(a, b)


def _floor_divide_no_grad(a, b):
    if jnp.issubdtype(a.dtype, jnp.inexact):
        return no_derivative(jnp.floor_divide, "floor_divide")(a, b)
    return jnp.floor_divide(a, b)


def _remainder_scalar_first(a, b):
    if jnp.issubdtype(a.dtype, jnp.inexact):
        return no_derivative(jnp.remainder, "remainder")(a, b)
    return jnp.remainder(a, b)


def _trunc_divide(a, b):
    if jnp.issubdtype(a.dtype, jnp.inexact):
        return jnp.trunc(a / b)
    return lax.div(a, b)                       # integer division truncates


# PyTorch: ties split the gradient, and a nan (never smaller nor larger) takes it whole
_maximum = with_jvp(jnp.maximum,
                    lambda a, b, out: jnp.where(a == b, 0.5, jnp.where(a < b, 0.0, 1.0)),
                    lambda a, b, out: jnp.where(a == b, 0.5, jnp.where(a > b, 0.0, 1.0)))
_minimum = with_jvp(jnp.minimum,
                    lambda a, b, out: jnp.where(a == b, 0.5, jnp.where(a > b, 0.0, 1.0)),
                    lambda a, b, out: jnp.where(a == b, 0.5, jnp.where(a < b, 0.0, 1.0)))


def _atan2_partial(y_or_x, sign):
    """d atan2 / d(y or x) = +-(x or y) / (x^2 + y^2), 0 at the origin (PyTorch)."""
    def partial(y, x, out):
        den = y * y + x * x
        return jnp.where(den == 0, 0.0, sign * (x if y_or_x == "y" else y) /
                         jnp.where(den == 0, 1, den))
    return partial


# PyTorch: x / hypot and y / hypot (nan at the origin, where JAX's picks a direction)
_hypot = with_jvp(jnp.hypot, lambda x, y, out: x / out, lambda x, y, out: y / out)
_atan2 = with_jvp(jnp.arctan2, _atan2_partial("y", 1.0), _atan2_partial("x", -1.0))


def _fmax(a, b):
    # PyTorch's grad goes to `a` where a >= b or b is nan, else to `b`
    return jnp.where((a >= b) | jnp.isnan(b), a, b)


def _fmin(a, b):
    return jnp.where((a <= b) | jnp.isnan(b), a, b)


def _logaddexp2(a, b):
    return jnp.logaddexp2(a, b)


def _heaviside_values(a, b):
    return jnp.where(a == 0, b, (a > 0).astype(a.dtype))


def _heaviside(a, b):
    if jnp.issubdtype(a.dtype, jnp.inexact):
        return no_derivative(_heaviside_values, "heaviside")(a, b)
    return _heaviside_values(a, b)


def _xlogy_values(a, b):
    # PyTorch: 0 where x == 0 (even for y == 0), nan where y is nan
    safe_b = jnp.where(a == 0, jnp.ones_like(b), b)
    return jnp.where(jnp.isnan(b), b, jnp.where(a == 0, jnp.zeros_like(a), a * jnp.log(safe_b)))


# PyTorch's derivatives: d/dx = xlogy(x != 0, y), d/dy = x / y
_xlogy = with_jvp(_xlogy_values,
                  lambda a, b, out: _xlogy_values((a != 0).astype(a.dtype), b),
                  lambda a, b, out: a / b)


def _copysign(a, b):
    """|a| with the sign of b: d/da = result / a (0 at a == 0) and b gets no gradient,
    as PyTorch's formula."""
    sign = jnp.where(jnp.signbit(b), -1, 1).astype(a.dtype)
    return abs_with_zero_grad(a) * jax.lax.stop_gradient(sign)


# d nextafter(a, b) / da = 1, and nothing for b (PyTorch's formula)
_nextafter = with_jvp(jnp.nextafter, lambda a, b, out: jnp.ones_like(a), None)


def _ldexp(a, b):
    return a * jnp.exp2(b)


def _shift_left(a, b):
    return jnp.left_shift(a, b)


def _shift_right(a, b):
    return jnp.right_shift(a, b)


_BOOL_SUB = ("Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
             "`^` or `logical_xor()` operator instead.")
_BOOL_SUB_ONE = ("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                 "trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def _is_bool(x):
    return x._dtype is dt.bool if isinstance(x, Tensor) else isinstance(x, bool)


def _sub_operands(a, b):
    """PyTorch refuses `-` whenever an operand is bool (a Python bool counts)."""
    if _is_bool(a) and _is_bool(b):
        raise RuntimeError(_BOOL_SUB)
    if _is_bool(a) or _is_bool(b):
        raise RuntimeError(_BOOL_SUB_ONE)


def _true_divide(a, b):
    """a / b as PyTorch's (float16/bfloat16 with its derivatives: _reduced_divide)."""
    if jnp.result_type(a, b) in REDUCED_FLOATS:
        return _reduced_divide(a, b)
    return divide_exactly(a, b)


def divide_exactly(a, b):
    """a / b correctly rounded. XLA rewrites x / broadcast(s) into x * broadcast(1 / s),
    which can be 1 ulp off; behind an optimization barrier the broadcast divisor is
    opaque to that rewrite (the barrier itself compiles away)."""
    shape = jnp.broadcast_shapes(jnp.shape(a), jnp.shape(b))
    if jnp.shape(b) != shape and jnp.issubdtype(jnp.result_type(b), jnp.inexact):
        b = lax.optimization_barrier(jnp.broadcast_to(b, shape))
    return jnp.true_divide(a, b)


@jax.custom_jvp
def _reduced_divide(a, b):
    return divide_exactly(a, b)


@_reduced_divide.defjvp
def _reduced_divide_jvp(primals, tangents):
    # PyTorch's derivatives as its float16/bfloat16 ops compute them, each op rounded:
    # grad / other, and -grad * ((self / other) / other)
    a, b = primals
    q = _reduced_divide(a, b)
    # (XLA's CPU backend computes a fused float16 chain without rounding its steps: the
    # quotient is kept out of the factor's fusion)
    rounded_q = lax.optimization_barrier(q) if q.dtype == jnp.float16 else q
    return q, divide_exactly(tangents[0], b) + tangents[1] * -(rounded_q / b)


add = binary_op("add", jnp.add, "AddBackward0", saves=())
sub = binary_op("sub", jnp.subtract, "SubBackward0", saves=(), aliases=("subtract",),
                reverse_grad_fn="RsubBackward1", operand_check=_sub_operands)
mul = binary_op("mul", jnp.multiply, "MulBackward0", aliases=("multiply",))
true_divide = binary_op("true_divide", _true_divide, "DivBackward0", result="float")
floor_divide = binary_op("floor_divide", _floor_divide_no_grad, NOT_IMPLEMENTED,
                         saves=(), check=_no_bool("div_floor_cpu"), int_divisor=True,
                         inplace_backward_error=RuntimeError(
                             "derivative for aten::floor_divide_ is not implemented"))
_floor_div = binary_op("div_floor", _floor_divide, "DivBackward2", saves=(),
                       check=_no_bool("div_floor_cpu"), inplace=False, int_divisor=True)
_trunc_div = binary_op("div_trunc", _trunc_divide, "DivBackward2", saves=(),
                       check=_no_bool("div_trunc_cpu"), inplace=False, int_divisor=True)
remainder = binary_op("remainder", jnp.remainder, "RemainderBackward1", saves=(0, 1),
                      scalar_grad_fn="RemainderBackward0", check=_no_bool("remainder_cpu"),
                      reverse_fn=_remainder_scalar_first, reverse_grad_fn=NOT_IMPLEMENTED,
                      int_divisor=True)
fmod = binary_op("fmod", jnp.fmod, "FmodBackward1", saves=(0, 1), scalar_grad_fn="FmodBackward0",
                 check=_no_bool("fmod_cpu"), int_divisor=True)
atan2 = binary_op("atan2", _atan2, "Atan2Backward0", result="float", aliases=("arctan2",),
                  tensor_only="other", check=_real("atan2_cpu"))
hypot = binary_op("hypot", _hypot, "HypotBackward0", tensor_only="other",
                  check=_floats("hypot_cpu"))
maximum = binary_op("maximum", _maximum, "MaximumBackward0", inplace=False, tensor_only="other")
minimum = binary_op("minimum", _minimum, "MinimumBackward0", inplace=False,
                    tensor_only="other")
fmax = binary_op("fmax", _fmax, "FmaxBackward0", inplace=False, tensor_only="other")
fmin = binary_op("fmin", _fmin, "FminBackward0", inplace=False, tensor_only="other")
logaddexp = binary_op("logaddexp", jnp.logaddexp, "LogaddexpBackward0", inplace=False,
                      tensor_only="other", check=_floats("logaddexp_cpu"))
logaddexp2 = binary_op("logaddexp2", _logaddexp2, "Logaddexp2Backward0", inplace=False,
                       tensor_only="other", check=_floats("logaddexp2_cpu"))
copysign = binary_op("copysign", _copysign, "CopysignBackward0", result="float",
                     scalar_grad_fn="CopysignBackward1")
xlogy = binary_op("xlogy", _xlogy, "XlogyBackward0", result="float",
                  scalar_grad_fn="XlogyBackward2", reverse_grad_fn="XlogyBackward1",
                  check=_real("xlogy_cpu"))
nextafter = binary_op("nextafter", _nextafter, "NextafterBackward0", tensor_only="other",
                      check=_floats("nextafter_cpu"))
heaviside = binary_op("heaviside", _heaviside, NOT_IMPLEMENTED, tensor_only="values")
ldexp = binary_op("ldexp", _ldexp, "LdexpBackward0", result="float", tensor_only="other")
gcd = binary_op("gcd", jnp.gcd, None, tensor_only="other", check=_integral("gcd_cpu", False))
lcm = binary_op("lcm", jnp.lcm, None, tensor_only="other", check=_integral("lcm_cpu", False))
bitwise_and = binary_op("bitwise_and", jnp.bitwise_and, None, check=_integral("bitwise_and_cpu"))
bitwise_or = binary_op("bitwise_or", jnp.bitwise_or, None, check=_integral("bitwise_or_cpu"))
bitwise_xor = binary_op("bitwise_xor", jnp.bitwise_xor, None, check=_integral("bitwise_xor_cpu"))
bitwise_left_shift = binary_op("bitwise_left_shift", _shift_left, None,
                               check=_integral("lshift_cpu", False))
bitwise_right_shift = binary_op("bitwise_right_shift", _shift_right, None,
                                check=_integral("rshift_cpu", False))
for _n in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
           "bitwise_right_shift", "gcd", "lcm"):
    OPS[_n].differentiable = OPS["r" + _n].differentiable = False

_HEAVISIDE_DTYPES = "heaviside is not yet implemented for tensors with different dtypes"


def _heaviside_checked(input, values):
    require_tensor("heaviside", input, "input", 1)
    if isinstance(values, Tensor) and values._dtype is not input._dtype:
        raise RuntimeError(_HEAVISIDE_DTYPES)
    return heaviside(input, values)


expose("heaviside", _heaviside_checked)


# -- comparisons: bool results ---------------------------------------------------------
def _compare_inplace_impl(a, b, *, fn):
    return fn(a, _cast(b, jnp.result_type(a, b))).astype(a.dtype)


OPS["compare_"] = _compare_inplace_op = Op("compare_", _compare_inplace_impl, None, ())


def _compare(name, fn, aliases=(), node=None):
    """A comparison; its in-place form keeps self's dtype and, for comparisons proper,
    records PyTorch's <Node>Backward0/1 (a zero gradient). The logical ops take tensors
    only."""
    out = binary_op(name, fn, None, saves=(), result="bool", aliases=aliases, inplace=node is None,
                    tensor_only=None if node is not None else "other")
    if node is not None:
        def compare_(self, other):
            tensor = isinstance(other, Tensor)
            if tensor:
                check_broadcast(self, other)
            return apply(_compare_inplace_op, (self, other if tensor else as_scalar(other)),
                         (("fn", fn),), f"{node}Backward{1 if tensor else 0}")
        for n in (name,) + aliases:
            METHODS[n + "_"] = inplace_method(compare_)
    return out


eq = _compare("eq", jnp.equal, node="Eq")
ne = _compare("ne", jnp.not_equal, ("not_equal",), node="Ne")
lt = _compare("lt", jnp.less, ("less",), node="Lt")
le = _compare("le", jnp.less_equal, ("less_equal",), node="Le")
gt = _compare("gt", jnp.greater, ("greater",), node="Gt")
ge = _compare("ge", jnp.greater_equal, ("greater_equal",), node="Ge")
logical_and = _compare("logical_and", jnp.logical_and)
logical_or = _compare("logical_or", jnp.logical_or)
logical_xor = _compare("logical_xor", jnp.logical_xor)


# -- div and the alpha= forms ------------------------------------------------------------
def div(input, other, *, rounding_mode=None):
    if rounding_mode is None:
        return true_divide(input, other)
    if rounding_mode == "floor":
        return _floor_div(input, other)
    if rounding_mode == "trunc":
        return _trunc_div(input, other)
    raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                       f"found '{rounding_mode}'")


expose("div", div, aliases=("divide",))
for _n in ("div_trunc", "div_floor"):   # reached only through div(rounding_mode=)
    FUNCTIONS.pop(_n)
    METHODS.pop(_n)


def _with_alpha(plain, name):
    """add/sub take alpha=: input + alpha * other."""
    def fn(input, other, *, alpha=1):
        if isinstance(alpha, bool) and result_dtype(input, other) is not dt.bool:
            if isinstance(input, Tensor) and isinstance(other, Tensor):
                check_broadcast(input, other)       # PyTorch checks shapes first
            raise RuntimeError("Boolean alpha only supported for Boolean results.")
        if alpha != 1:
            if isinstance(alpha, float) and not is_float(result_dtype(input, other)):
                raise RuntimeError("For integral input tensors, argument alpha must not be a "
                                   "floating point number.")
            other = mul(other, alpha) if isinstance(other, Tensor) else (
                other and alpha if isinstance(other, bool) else other * alpha)
        return plain(input, other)
    fn.__name__ = name
    fn.reverse = plain.reverse
    return fn


add = _with_alpha(add, "add")
sub = _with_alpha(sub, "sub")
expose("add", add)
expose("sub", sub, aliases=("subtract",))


def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    if not isinstance(input, Tensor):
        raise invalid_arguments("rsub", input, other)
    if isinstance(other, Tensor):
        return _rsub_tensor(input, other, alpha)
    return sub.reverse(input if alpha == 1 else mul(input, alpha), other)


def _rsub_impl(a, b, *, alpha, dtype):
    return _cast(b, dtype) - alpha * _cast(a, dtype)


OPS["rsub_tensor"] = _rsub_op = Op("rsub_tensor", _rsub_impl, "RsubBackward0", ())


def _rsub_tensor(input, other, alpha):
    check_broadcast(input, other)
    d = result_dtype(input, other)
    _sub_operands(other, input)
    return apply(_rsub_op, (input, other), (("alpha", alpha), ("dtype", d.np)))


expose("rsub", rsub, method=False, inplace=False)


# -- pow ---------------------------------------------------------------------------------------
def _pow_values(a, b):
    return jnp.power(a, b)


# PyTorch's derivatives: 0 for the base where the exponent is 0 (also at 0 ** 0), and 0
# for the exponent where the base is 0 and the exponent >= 0
_pow = with_jvp(_pow_values,
                lambda a, b, out: jnp.where(b == 0, 0, b * jnp.power(a, b - 1)).astype(out.dtype),
                lambda a, b, out: jnp.where((a == 0) & (b >= 0), 0,
                                            out * jnp.log(a)).astype(out.dtype))


def _int_pow(a, b):
    """Integer powers; a negative exponent gives 1 / a ** -b truncated toward zero, as
    PyTorch: 0, except 1 for a == 1 and +-1 (by parity) for a == -1."""
    negative = b < 0
    power = jnp.power(a, jnp.where(negative, jnp.zeros_like(b), b))
    unit = jnp.where(a == 1, 1, jnp.where(a == -1, 1 - 2 * (b & 1), 0)).astype(a.dtype)
    return jnp.where(negative, unit, power)


def _pow_any(a, b):
    if jnp.issubdtype(a.dtype, jnp.inexact):
        return _pow(a, b)
    if jnp.issubdtype(a.dtype, jnp.signedinteger):
        return _int_pow(a, b)
    return jnp.power(a, b)


def _pow_in(base, exponent, dtype, scalar_base=False):
    """base ** exponent in `dtype`: a Python number rounded to it first, as PyTorch's;
    float16/bfloat16 computed in float32 and rounded once (XLA's bfloat16 power was off
    in half the elements; PyTorch's bfloat16 kernel rounds x * x inside for the
    exponents 3 and -2, not followed here), with PyTorch's derivatives there
    (_reduced_pow). `scalar_base`: base is a Python number (rpow)."""
    if jnp.dtype(dtype) not in REDUCED_FLOATS:
        return _pow_any(_cast(base, dtype), _cast(exponent, dtype))
    # (integers, a Python number's among them, enter as float32: their float0 tangent
    # would not multiply)
    base, exponent = (v if jnp.issubdtype(jnp.result_type(v), jnp.inexact)
                      else jnp.asarray(v, jnp.float32) for v in (base, exponent))
    return _reduced_pow(jnp.dtype(dtype), scalar_base)(base, exponent)


@functools.lru_cache(maxsize=16)
def _reduced_pow(dtype, scalar_base):
    """Float16/bfloat16 pow whose derivatives are PyTorch's formulas with the roundings
    of the reduced-dtype ops they are written in (found against its gradients): for the
    base exponent * base ** (exponent - 1), exponent - 1 and the power rounded, the
    exponent unrounded where it is a Python number; for the exponent result * log(base),
    log(base) rounded unless base is a Python number; each times the gradient, rounded."""
    f32 = jnp.float32

    @jax.custom_jvp
    def power(base, exponent):
        return _pow_any(_cast(base, dtype).astype(f32),
                        _cast(exponent, dtype).astype(f32)).astype(dtype)

    @power.defjvp
    def rule(primals, tangents):
        base, exponent = primals
        y = power(base, exponent)
        x, e = _cast(base, dtype).astype(f32), exponent.astype(f32)
        lower = round_to(jnp.power(x, _cast(exponent - 1, dtype).astype(f32)), dtype)
        d_base = jnp.where(e == 0, 0, round_to(e * lower, dtype))
        log = jnp.log(base.astype(f32)) if scalar_base else round_to(jnp.log(x), dtype)
        d_exponent = jnp.where((x == 0) & (e >= 0), 0, round_to(y.astype(f32) * log, dtype))
        t = tangents[0].astype(f32) * d_base + tangents[1].astype(f32) * d_exponent
        return y, t.astype(dtype)
    return power


def _pow_impl(a, b, *, dtype):
    return _pow_in(a, b, dtype)


def _rpow_impl(a, b, *, dtype):
    return _pow_in(b, a, dtype, scalar_base=True)


OPS["pow"] = _pow_op = Op("pow", _pow_impl, "PowBackward0", (0, 1))
OPS["rpow"] = _rpow_op = Op("rpow", _rpow_impl, "PowBackward2", (0, "result"))


def pow(input, exponent):  # noqa: A001
    if not isinstance(input, Tensor):
        if not isinstance(exponent, Tensor):
            raise invalid_arguments("pow", input, exponent)
        return _rpow(exponent, input)
    if isinstance(exponent, Tensor):
        check_broadcast(input, exponent)
        if input._dtype is dt.bool and exponent._dtype is dt.bool:
            raise not_implemented("pow", dt.bool)
        grad_fn = "PowBackward1"
    else:
        exponent = as_scalar(exponent)
        if isinstance(exponent, int) and exponent < 0 and not is_float(input._dtype):
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        grad_fn = "PowBackward0"
    d = result_dtype(input, exponent)
    return apply(_pow_op, (input, exponent), (("dtype", d.np),), grad_fn)


def _rpow(self, base):
    """base ** self for a Python scalar base (a tensor base is plain pow)."""
    if isinstance(base, Tensor):
        return pow(base, self)
    d = result_dtype(self, as_scalar(base))
    return apply(_rpow_op, (self, as_scalar(base)), (("dtype", d.np),))


pow.reverse = _rpow
expose("pow", pow)


def float_power(input, exponent):
    """pow computed in double (complex double for complex operands)."""
    complex_ = any(isinstance(x, Tensor) and x.is_complex() for x in (input, exponent)) \
        or isinstance(exponent, complex) or isinstance(input, complex)
    d = dt.complex128 if complex_ else dt.float64
    input = input.to(d) if isinstance(input, Tensor) else input
    exponent = exponent.to(d) if isinstance(exponent, Tensor) else exponent
    return pow(input, exponent)


def _float_power_(self, exponent):
    d = dt.complex128 if self.is_complex() else dt.float64
    if self._dtype is not d:
        raise RuntimeError(f"the base given to float_power_ has dtype {scalar_name(self._dtype)} "
                           f"but the operation's result requires dtype {scalar_name(d)}")
    return self.pow_(exponent.to(d) if isinstance(exponent, Tensor) else exponent)


expose("float_power", float_power, inplace=False)
METHODS["float_power_"] = _float_power_

from .ternary import *  # noqa: E402,F401,F403  (where, clamp, lerp ... share this namespace)
