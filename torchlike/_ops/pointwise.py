"""Pointwise ops: built from small tables, each row one op with its PyTorch names.

`unary_op` and `binary_op` generate the torchlike function, the Tensor method and the
in-place `name_` method from one row; dunders are wired in `torchlike/__init__.py`.
"""
import builtins

import jax
import jax.numpy as jnp
from jax import lax

from .. import _dtype as dt
from .._tensor import Tensor
from .dispatch import apply
from .registry import FUNCTIONS, METHODS, Op, OPS, torch_function
from ._util import check_broadcast, float_result_dtype, result_dtype, scalar_name


def _inplace_method(fn):
    def method(self, *args, **kwargs):
        return self._inplace(fn, *args, **kwargs)
    return method


def expose(name, fn, *, method=True, inplace=True, function=True, aliases=()):
    for n in (name,) + tuple(aliases):
        if function:
            FUNCTIONS[n] = fn
        if method:
            METHODS[n] = fn
        if inplace:
            METHODS[n + "_"] = _inplace_method(fn)


# -- unary --------------------------------------------------------------------------------
def unary_op(name, fn, grad_fn=None, *, saves=(0,), floating=True, aliases=(), inplace=True,
             bool_out=False, differentiable=True):
    """floating: integer inputs compute in the default float dtype (PyTorch's rule for
    exp, sin, sqrt ...); otherwise the input dtype is kept."""
    def impl(a, *, dtype):
        return fn(a.astype(dtype))
    op = OPS[name] = Op(name, impl, grad_fn or name.capitalize().replace("_", "") + "Backward0",
                        saves, differentiable and not bool_out)

    def torch_fn(input, *, out=None):
        d = float_result_dtype(input._dtype) if floating else input._dtype
        return apply(op, (input,), (("dtype", d.np),))
    torch_fn.__name__ = name
    expose(name, torch_fn, aliases=aliases, inplace=inplace)
    return torch_fn


def _sign(a):
    return jnp.sign(a) if a.dtype != jnp.bool_ else a


def _round_half_even(a):
    return jnp.round(a)


_UNARY = [
    # name, jax fn, grad_fn, floating, saves, aliases
    ("abs", jnp.abs, "AbsBackward0", False, (0,), ("absolute",)),
    ("neg", jnp.negative, "NegBackward0", False, (), ("negative",)),
    ("exp", jnp.exp, "ExpBackward0", True, ("result",), ()),
    ("exp2", jnp.exp2, "Exp2Backward0", True, ("result",), ()),
    ("expm1", jnp.expm1, "Expm1Backward0", True, ("result",), ()),
    ("log", jnp.log, "LogBackward0", True, (0,), ()),
    ("log2", jnp.log2, "Log2Backward0", True, (0,), ()),
    ("log10", jnp.log10, "Log10Backward0", True, (0,), ()),
    ("log1p", jnp.log1p, "Log1PBackward0", True, (0,), ()),
    ("sqrt", jnp.sqrt, "SqrtBackward0", True, ("result",), ()),
    ("rsqrt", lax.rsqrt, "RsqrtBackward0", True, ("result",), ()),
    ("sin", jnp.sin, "SinBackward0", True, (0,), ()),
    ("cos", jnp.cos, "CosBackward0", True, (0,), ()),
    ("tan", jnp.tan, "TanBackward0", True, ("result",), ()),
    ("asin", jnp.arcsin, "AsinBackward0", True, (0,), ("arcsin",)),
    ("acos", jnp.arccos, "AcosBackward0", True, (0,), ("arccos",)),
    ("atan", jnp.arctan, "AtanBackward0", True, (0,), ("arctan",)),
    ("sinh", jnp.sinh, "SinhBackward0", True, (0,), ()),
    ("cosh", jnp.cosh, "CoshBackward0", True, (0,), ()),
    ("tanh", jnp.tanh, "TanhBackward0", True, ("result",), ()),
    ("asinh", jnp.arcsinh, "AsinhBackward0", True, (0,), ("arcsinh",)),
    ("acosh", jnp.arccosh, "AcoshBackward0", True, (0,), ("arccosh",)),
    ("atanh", jnp.arctanh, "AtanhBackward0", True, (0,), ("arctanh",)),
    ("sigmoid", jax.nn.sigmoid, "SigmoidBackward0", True, ("result",), ()),
    ("erf", jax.scipy.special.erf, "ErfBackward0", True, (0,), ()),
    ("erfc", jax.scipy.special.erfc, "ErfcBackward0", True, (0,), ()),
    ("erfinv", jax.scipy.special.erfinv, "ErfinvBackward0", True, (0,), ()),
    ("lgamma", jax.scipy.special.gammaln, "LgammaBackward0", True, (0,), ()),
    ("digamma", jax.scipy.special.digamma, "DigammaBackward0", True, (0,), ()),
    ("reciprocal", jnp.reciprocal, "ReciprocalBackward0", True, ("result",), ()),
    ("square", jnp.square, "PowBackward0", False, (0,), ()),
    ("sign", _sign, "SignBackward0", False, (), ()),
    ("sgn", _sign, "SgnBackward0", False, (), ()),
    ("floor", jnp.floor, "FloorBackward0", False, (), ()),
    ("ceil", jnp.ceil, "CeilBackward0", False, (), ()),
    ("trunc", jnp.trunc, "TruncBackward0", False, (), ("fix",)),
    ("frac", lambda a: a - jnp.trunc(a), "FracBackward0", False, (), ()),
    ("relu", jax.nn.relu, "ReluBackward0", False, ("result",), ()),
    ("positive", lambda a: a, "AliasBackward0", False, (), ()),
]
for _name, _fn, _grad_fn, _floating, _saves, _aliases in _UNARY:
    unary_op(_name, _fn, _grad_fn, floating=_floating, saves=_saves, aliases=_aliases)


def _predicate(name, fn, aliases=()):
    def impl(a):
        return fn(a)
    op = OPS[name] = Op(name, impl, None, (), False)

    def torch_fn(input):
        return apply(op, (input,))
    expose(name, torch_fn, inplace=False, aliases=aliases)


for _name, _fn in [("isnan", jnp.isnan), ("isinf", jnp.isinf), ("isfinite", jnp.isfinite),
                   ("isposinf", jnp.isposinf), ("isneginf", jnp.isneginf),
                   ("signbit", jnp.signbit), ("logical_not", jnp.logical_not),
                   ("isreal", jnp.isreal)]:
    _predicate(_name, _fn)


# -- binary -------------------------------------------------------------------------------
def _cast(x, dtype):
    return x.astype(dtype) if hasattr(x, "astype") else jnp.asarray(x, dtype)


def binary_op(name, fn, grad_fn, *, saves=(0, 1), result="promote", aliases=(), inplace=True,
              method=True, reverse_grad_fn=None, scalar_grad_fn=None):
    """result: 'promote' (PyTorch promotion), 'float' (integers promote to the default
    float, as true division), 'bool' (comparisons: compute promoted, return bool)."""
    def impl(a, b, *, dtype):
        return fn(_cast(a, dtype), _cast(b, dtype))

    def rimpl(a, b, *, dtype):
        return fn(_cast(b, dtype), _cast(a, dtype))
    op = OPS[name] = Op(name, impl, grad_fn, saves, result != "bool")
    rop = OPS["r" + name] = Op("r" + name, rimpl, reverse_grad_fn or grad_fn, saves, result != "bool")

    def compute_dtype(input, other):
        d = result_dtype(input, other)
        if result == "float" and not (d.is_floating_point or d.is_complex):
            d = dt.get_default_dtype()
        return d

    def torch_fn(input, other, *, out=None):
        if not isinstance(input, Tensor):      # torch.add(2, x): scalar first
            return reverse(other, input)
        if isinstance(other, Tensor):
            check_broadcast(input, other)
            g = None
        else:
            other = _scalar(other)
            g = scalar_grad_fn
        return apply(op, (input, other), (("dtype", compute_dtype(input, other).np),), g)

    def reverse(self, other):
        """other <op> self, with self a Tensor (used by __rsub__ and friends)."""
        other = _scalar(other) if not isinstance(other, Tensor) else other
        return apply(rop, (self, other), (("dtype", compute_dtype(self, other).np),))
    torch_fn.__name__ = name
    torch_fn.reverse = reverse
    expose(name, torch_fn, aliases=aliases, inplace=inplace, method=method)
    return torch_fn


def _scalar(x):
    if isinstance(x, (builtins.bool, int, float, complex)):
        return x
    if hasattr(x, "item") and hasattr(x, "dtype"):   # numpy scalars
        return x.item()
    raise TypeError(f"unsupported operand type: {type(x).__name__}")


def _div_floor(a, b):
    if jnp.issubdtype(a.dtype, jnp.integer):
        return jnp.floor_divide(a, b)
    return jnp.floor(a / b)


def _remainder(a, b):
    return jnp.remainder(a, b)


def _fmod(a, b):
    return jnp.fmod(a, b)


add = binary_op("add", jnp.add, "AddBackward0", saves=())
sub = binary_op("sub", jnp.subtract, "SubBackward0", saves=(), aliases=("subtract",),
                reverse_grad_fn="RsubBackward1")
mul = binary_op("mul", jnp.multiply, "MulBackward0", aliases=("multiply",))
true_divide = binary_op("true_divide", jnp.true_divide, "DivBackward0", result="float")
floor_divide = binary_op("floor_divide", _div_floor, "FloorDivideBackward0", saves=())
remainder = binary_op("remainder", _remainder, "RemainderBackward0", saves=())
fmod = binary_op("fmod", _fmod, "FmodBackward0", saves=())
atan2 = binary_op("atan2", jnp.arctan2, "Atan2Backward0", result="float", aliases=("arctan2",))
hypot = binary_op("hypot", jnp.hypot, "HypotBackward0")
maximum = binary_op("maximum", jnp.maximum, "MaximumBackward0", inplace=False)
minimum = binary_op("minimum", jnp.minimum, "MinimumBackward0", inplace=False)
fmax = binary_op("fmax", jnp.fmax, "FmaxBackward0", inplace=False)
fmin = binary_op("fmin", jnp.fmin, "FminBackward0", inplace=False)
logaddexp = binary_op("logaddexp", jnp.logaddexp, "LogaddexpBackward0", result="float", inplace=False)
copysign = binary_op("copysign", jnp.copysign, "CopysignBackward0", result="float")
xlogy = binary_op("xlogy", jax.scipy.special.xlogy, "XlogyBackward0", result="float")
heaviside = binary_op("heaviside", lambda a, b: jnp.where(a == 0, b, (a > 0).astype(a.dtype)),
                      "HeavisideBackward0")
bitwise_and = binary_op("bitwise_and", jnp.bitwise_and, None, result="bool_ok")
bitwise_or = binary_op("bitwise_or", jnp.bitwise_or, None, result="bool_ok")
bitwise_xor = binary_op("bitwise_xor", jnp.bitwise_xor, None, result="bool_ok")
for _n in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    OPS[_n].differentiable = False
    OPS["r" + _n].differentiable = False


def _compare(name, fn, aliases=()):
    def impl(a, b, *, dtype):
        return fn(_cast(a, dtype), _cast(b, dtype))
    op = OPS[name] = Op(name, impl, None, (), False)

    def torch_fn(input, other, *, out=None):
        if isinstance(other, Tensor):
            check_broadcast(input, other)
        else:
            other = _scalar(other)
        return apply(op, (input, other), (("dtype", result_dtype(input, other).np),))
    expose(name, torch_fn, aliases=aliases, inplace=True)
    return torch_fn


eq = _compare("eq", jnp.equal)
ne = _compare("ne", jnp.not_equal, ("not_equal",))
lt = _compare("lt", jnp.less, ("less",))
le = _compare("le", jnp.less_equal, ("less_equal",))
gt = _compare("gt", jnp.greater, ("greater",))
ge = _compare("ge", jnp.greater_equal, ("greater_equal",))
logical_and = _compare("logical_and", jnp.logical_and)
logical_or = _compare("logical_or", jnp.logical_or)
logical_xor = _compare("logical_xor", jnp.logical_xor)


@torch_function("div", "divide", method=True)
def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode is None:
        return true_divide(input, other)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        return _trunc_div(input, other)
    raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                       f"found '{rounding_mode}'")


_trunc_div = binary_op("trunc_divide", lambda a, b: jnp.trunc(a / b).astype(a.dtype)
                       if jnp.issubdtype(a.dtype, jnp.floating) else lax.div(a, b),
                       "DivBackward2", saves=(), method=False, inplace=False)
METHODS["div_"] = _inplace_method(div)
METHODS["divide_"] = _inplace_method(div)
FUNCTIONS.pop("trunc_divide")


def _add_alpha(plain):
    """add/sub take alpha=: input + alpha * other."""
    def fn(input, other, *, alpha=1, out=None):
        if alpha != 1:
            other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
        return plain(input, other)
    fn.reverse = plain.reverse
    return fn


add = _add_alpha(add)
sub = _add_alpha(sub)
expose("add", add)
expose("sub", sub, aliases=("subtract",))


@torch_function("rsub")
def rsub(input, other, *, alpha=1):
    return sub.reverse(input, other * alpha if not isinstance(other, Tensor) else other * alpha)


# -- pow --------------------------------------------------------------------------------
def _pow_impl(a, b, *, dtype):
    return jnp.power(_cast(a, dtype), _cast(b, dtype))


def _rpow_impl(a, b, *, dtype):
    return jnp.power(_cast(b, dtype), _cast(a, dtype))


OPS["pow"] = _pow_op = Op("pow", _pow_impl, "PowBackward0", (0, 1))
OPS["rpow"] = _rpow_op = Op("rpow", _rpow_impl, "PowBackward2", (0, "result"))


@torch_function("pow", method=True)
def pow(input, exponent, *, out=None):
    if not isinstance(input, Tensor):
        return _rpow(exponent, input)
    if isinstance(exponent, Tensor):
        check_broadcast(input, exponent)
        grad_fn = "PowBackward1"
    else:
        exponent = _scalar(exponent)
        if isinstance(exponent, int) and exponent < 0 and not (input._dtype.is_floating_point
                                                                or input._dtype.is_complex):
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        grad_fn = "PowBackward0"
    d = result_dtype(input, exponent)
    return apply(_pow_op, (input, exponent), (("dtype", d.np),), grad_fn)


def _rpow(self, base):
    d = result_dtype(self, base)
    return apply(_rpow_op, (self, _scalar(base)), (("dtype", d.np),))


pow.reverse = _rpow
METHODS["pow_"] = _inplace_method(pow)


@torch_function("float_power", method=True)
def float_power(input, exponent):
    complex_ = input.is_complex() or (isinstance(exponent, Tensor) and exponent.is_complex()) \
        or isinstance(exponent, complex)
    d = dt.complex128 if complex_ else dt.float64
    input = input.to(d) if isinstance(input, Tensor) else input
    exponent = exponent.to(d) if isinstance(exponent, Tensor) else exponent
    return pow(input, exponent)


# -- ternary and parameterised ------------------------------------------------------------
def _where_impl(c, a, b, *, dtype):
    return jnp.where(c, _cast(a, dtype), _cast(b, dtype))


OPS["where"] = _where_op = Op("where", _where_impl, "WhereBackward0", (0,))


@torch_function("where", method=True)
def where(condition, input=None, other=None, *, out=None):
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    if condition._dtype is not dt.bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {scalar_name(condition._dtype)}")
    d = result_dtype(input, other)
    return apply(_where_op, (condition, _scalar_or_tensor(input), _scalar_or_tensor(other)),
                 (("dtype", d.np),))


def _scalar_or_tensor(x):
    return x if isinstance(x, Tensor) else _scalar(x)


def _clamp_impl(a, lo, hi, *, dtype):
    a = a.astype(dtype)
    if lo is not None:
        a = jnp.maximum(a, _cast(lo, dtype))
    if hi is not None:
        a = jnp.minimum(a, _cast(hi, dtype))
    return a


OPS["clamp"] = _clamp_op = Op("clamp", _clamp_impl, "ClampBackward1", (0,))


@torch_function("clamp", "clip", method=True)
def clamp(input, min=None, max=None, *, out=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    tensors = isinstance(min, Tensor) or isinstance(max, Tensor)
    d = result_dtype(*(x for x in (input, min, max) if x is not None))
    return apply(_clamp_op, (input, min, max), (("dtype", d.np),),
                 "ClampBackward0" if tensors else "ClampBackward1")


METHODS["clamp_"] = METHODS["clip_"] = _inplace_method(clamp)


@torch_function("clamp_min", method=True)
def clamp_min(input, min):
    return clamp(input, min=min)


@torch_function("clamp_max", method=True)
def clamp_max(input, max):
    return clamp(input, max=max)


def _lerp_impl(a, b, w, *, dtype):
    a, b = a.astype(dtype), b.astype(dtype)
    return a + _cast(w, dtype) * (b - a)


OPS["lerp"] = _lerp_op = Op("lerp", _lerp_impl, "LerpBackward0", (0, 1, 2))


@torch_function("lerp", method=True)
def lerp(input, end, weight):
    d = result_dtype(input, end)
    return apply(_lerp_op, (input, end, weight), (("dtype", d.np),),
                 "LerpBackward1" if isinstance(weight, Tensor) else "LerpBackward0")


METHODS["lerp_"] = _inplace_method(lerp)


def _addc_impl(a, t1, t2, *, value, dtype, divide):
    a, t1, t2 = a.astype(dtype), t1.astype(dtype), t2.astype(dtype)
    return a + value * (t1 / t2 if divide else t1 * t2)


OPS["addcmul"] = _addc_op = Op("addcmul", _addc_impl, "AddcmulBackward0", (1, 2))


@torch_function("addcmul", method=True)
def addcmul(input, tensor1, tensor2, *, value=1):
    d = result_dtype(input, tensor1, tensor2)
    return apply(_addc_op, (input, tensor1, tensor2),
                 (("value", value), ("dtype", d.np), ("divide", False)))


@torch_function("addcdiv", method=True)
def addcdiv(input, tensor1, tensor2, *, value=1):
    d = result_dtype(input, tensor1, tensor2)
    return apply(_addc_op, (input, tensor1, tensor2),
                 (("value", value), ("dtype", d.np), ("divide", True)), "AddcdivBackward0")


METHODS["addcmul_"] = _inplace_method(addcmul)
METHODS["addcdiv_"] = _inplace_method(addcdiv)


# -- fills and copies (in-place first in PyTorch) -----------------------------------------
def _fill_impl(a, v):
    return jnp.broadcast_to(_cast(v, a.dtype), a.shape)


OPS["fill"] = _fill_op = Op("fill", _fill_impl, "FillBackward0", ())


def _filled(self, value):
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.ndim} dimensions.")
    return apply(_fill_op, (self, value if isinstance(value, Tensor) else _scalar(value)),
                 grad_fn="FillBackward3" if isinstance(value, Tensor) else "FillBackward2")


def _zeroed(self):
    return apply(_fill_op, (self, 0), grad_fn="ZeroBackward0")


def _fill_method(self, value):
    return self._inplace(_filled, value)


METHODS["fill_"] = _fill_method
METHODS["zero_"] = lambda self: self._inplace(_zeroed)


def _copy_impl(a, src):
    return jnp.broadcast_to(src.astype(a.dtype), a.shape)


OPS["copy"] = _copy_op = Op("copy", _copy_impl, "CopyBackwards", ())


def _copied(self, src, non_blocking=False):
    check_broadcast(self, src)
    if len(src.shape) > self.ndim or any(s not in (1, n) for s, n in
                                        zip(src.shape[::-1], self.shape[::-1])):
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast "
                           f"shape {list(jnp.broadcast_shapes(tuple(self.shape), tuple(src.shape)))}")
    if src.device != self.device:
        src = src.to(self.device)
    return apply(_copy_op, (self, src))


def copy_(self, src, non_blocking=False):
    self._check_inplace()
    result = _copied(self, src)
    return self._assign_result(result)


METHODS["copy_"] = copy_
