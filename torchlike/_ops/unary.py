"""Unary pointwise ops, built from one table: each row is one op with its PyTorch names.

`unary_op` generates torchlike.<name> (with out=), Tensor.<name> and Tensor.<name>_
from a row. The dtype rule is either 'float' (integers and bools compute in the
default float dtype, as exp, sin, sqrt ...) or 'keep' (abs, neg, floor ...).
"""
import functools
import math

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from .. import _dtype as dt
from ..return_types import structseq
from ._common import (REDUCED_FLOATS, expose, in_float32, is_float, not_implemented,
                      require_tensor, round_to)
from .dispatch import apply
from .registry import OPS, Op
from ._util import float_result_dtype


def with_derivative(f, df):
    """f with the derivative df(x) (PyTorch's choice at kinks where JAX's differs)."""
    g = jax.custom_jvp(f)
    g.defjvp(lambda primals, tangents: (f(primals[0]), df(primals[0]) * tangents[0]))
    return g


def floats_only(f):
    """Rounding ops: integer tensors are returned unchanged (as PyTorch copies them)."""
    return lambda a: f(a) if jnp.issubdtype(a.dtype, jnp.inexact) else a


# -- dtype checks: which kernels PyTorch lacks for which dtypes -----------------------------
def no_bool(kernel):
    def check(x):
        if x._dtype is dt.bool:
            raise not_implemented(kernel, x._dtype)
    return check


def floats(kernel):
    def check(x):
        if not is_float(x._dtype):
            raise not_implemented(kernel, x._dtype)
    return check


def _bool_error(message):
    def check(x):
        if x._dtype is dt.bool:
            raise RuntimeError(message)
    return check


def real(kernel, message=None, error=NotImplementedError):
    """Kernels PyTorch has for real dtypes only (a fixed message, or the dispatcher's)."""
    def check(x):
        if x._dtype.is_complex:
            raise error(message) if message else not_implemented(kernel, x._dtype)
    return check


def both(*checks):
    def check(x):
        for c in checks:
            c(x)
    return check


def integral(kernel):
    def check(x):
        if is_float(x._dtype):
            raise not_implemented(kernel, x._dtype)
    return check


# -- the builder ----------------------------------------------------------------------------
# in-place forms PyTorch records under another node name, whose backward raises
_INPLACE_GRAD_FN = {"asinh": "AsinhBackward1", "acosh": "AcoshBackward1",
                    "atanh": "AtanhBackward1"}


def unary_op(name, fn, grad_fn, *, result="float", saves=(0,), check=None, aliases=(),
             inplace=True, differentiable=True):
    def impl(a, *, dtype):
        return fn(a.astype(dtype))
    op = OPS[name] = Op(name, impl, grad_fn, saves, differentiable)

    def torch_fn(input):
        require_tensor(name, input, "input", 1)
        if check is not None:
            check(input)
        d = float_result_dtype(input._dtype) if result == "float" else input._dtype
        return apply(op, (input,), (("dtype", d.np),))
    torch_fn.__name__ = torch_fn.__qualname__ = name
    expose(name, torch_fn, aliases=aliases, inplace=inplace,
           inplace_grad_fn=_INPLACE_GRAD_FN.get(name),
           inplace_backward_error=NotImplementedError(
               f"the derivative for 'inplace version of {name}' is not implemented.")
           if name in _INPLACE_GRAD_FN else None)
    return torch_fn


_abs_real = with_derivative(jnp.abs, jnp.sign)        # PyTorch: d|x|/dx = 0 at 0


def abs_with_zero_grad(a):
    # a complex input's tangent is real(conj(sgn z) dz); JAX's own rule gives that (0 at 0)
    return jnp.abs(a) if jnp.iscomplexobj(a) else _abs_real(a)


_NEG_BOOL = ("Negation, the `-` operator, on a bool tensor is not supported. If you are "
             "trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def _sign(a):
    if a.dtype == jnp.bool_:
        return a
    s = jnp.sign(a)
    return jnp.where(jnp.isnan(a), 0, s).astype(s.dtype) if jnp.issubdtype(a.dtype, jnp.floating) \
        else s                                 # PyTorch: sign(nan) = 0


def _square(a):
    # PyTorch squares a bool tensor as pow(x, 2): an int64 result
    return jnp.square(a.astype(jnp.int64) if a.dtype == jnp.bool_ else a)


_SIGN_COMPLEX = ("Unlike NumPy, torch.sign is not intended to support complex numbers. Please "
                 "use torch.sgn instead.")
_UNARY = [
    # name, jax fn, grad_fn, dtype rule, saves, check, aliases
    ("abs", abs_with_zero_grad, "AbsBackward0", "keep", (0,), no_bool("abs_cpu"), ("absolute",)),
    ("neg", jnp.negative, "NegBackward0", "keep", (), _bool_error(_NEG_BOOL), ("negative",)),
    ("sign", _sign, "SignBackward0", "keep", (), real("", _SIGN_COMPLEX), ()),
    ("sgn", _sign, "SgnBackward0", "keep", (), None, ()),
    ("exp", jnp.exp, "ExpBackward0", "float", ("result",), None, ()),
    ("exp2", jnp.exp2, "Exp2Backward0", "float", ("result",), None, ()),
    ("expm1", jnp.expm1, "Expm1Backward0", "float", ("result",), None, ()),
    ("log", jnp.log, "LogBackward0", "float", (0,), None, ()),
    ("log2", jnp.log2, "Log2Backward0", "float", (0,), None, ()),
    ("log10", jnp.log10, "Log10Backward0", "float", (0,), None, ()),
    ("log1p", jnp.log1p, "Log1PBackward0", "float", (0,), None, ()),
    ("sqrt", jnp.sqrt, "SqrtBackward0", "float", ("result",), None, ()),
    ("rsqrt", jax.lax.rsqrt, "RsqrtBackward0", "float", ("result",), None, ()),
    ("square", _square, "PowBackward0", "keep", (0,), None, ()),
    ("reciprocal", jnp.reciprocal, "ReciprocalBackward0", "float", ("result",), None, ()),
    ("sin", jnp.sin, "SinBackward0", "float", (0,), None, ()),
    ("cos", jnp.cos, "CosBackward0", "float", (0,), None, ()),
    ("tan", jnp.tan, "TanBackward0", "float", ("result",), None, ()),
    ("asin", jnp.arcsin, "AsinBackward0", "float", (0,), None, ("arcsin",)),
    ("acos", jnp.arccos, "AcosBackward0", "float", (0,), None, ("arccos",)),
    ("atan", jnp.arctan, "AtanBackward0", "float", (0,), None, ("arctan",)),
    ("sinh", jnp.sinh, "SinhBackward0", "float", (0,), None, ()),
    ("cosh", jnp.cosh, "CoshBackward0", "float", (0,), None, ()),
    ("tanh", jnp.tanh, "TanhBackward0", "float", ("result",), None, ()),
    ("asinh", jnp.arcsinh, "AsinhBackward0", "float", (0,), None, ("arcsinh",)),
    ("acosh", jnp.arccosh, "AcoshBackward0", "float", (0,), None, ("arccosh",)),
    ("atanh", jnp.arctanh, "AtanhBackward0", "float", (0,), None, ("arctanh",)),
    ("sigmoid", jax.nn.sigmoid, "SigmoidBackward0", "float", ("result",), None, ()),
    ("erf", jsp.erf, "ErfBackward0", "float", (0,), real("erf_vml_cpu"), ()),
    ("erfc", jsp.erfc, "ErfcBackward0", "float", (0,), real("erfc_vml_cpu"), ()),
    ("erfinv", jsp.erfinv, "ErfinvBackward0", "float", (0,), real("erfinv_vml_cpu"), ()),
    ("lgamma", jsp.gammaln, "LgammaBackward0", "float", (0,), real("lgamma_vml_cpu"), ()),
    ("digamma", lambda x: _digamma(x), "DigammaBackward0", "float", (0,), real("digamma"), ()),
    ("i0", jsp.i0, "I0Backward0", "float", (0,), real("i0_vml_cpu"), ()),
    ("sinc", jnp.sinc, "SincBackward0", "float", (0,), None, ()),
    ("deg2rad", jnp.deg2rad, "Deg2RadBackward0", "float", (),
     real("", "deg2rad is not supported for complex tensors.", RuntimeError), ()),
    ("rad2deg", jnp.rad2deg, "Rad2DegBackward0", "float", (), None, ()),
    ("floor", floats_only(jnp.floor), "FloorBackward0", "keep", (),
     both(no_bool("floor_vml_cpu"), real("", "floor is not supported for complex inputs")), ()),
    ("ceil", floats_only(jnp.ceil), "CeilBackward0", "keep", (),
     both(no_bool("ceil_vml_cpu"), real("", "ceil is not supported for complex inputs")), ()),
    ("trunc", floats_only(jnp.trunc), "TruncBackward0", "keep", (),
     both(no_bool("trunc_vml_cpu"), real("", "trunc is not supported for complex inputs")), ("fix",)),
    ("frac", lambda a: a - jnp.trunc(a), "FracBackward0", "keep", (), floats("frac_cpu"), ()),
    ("relu", jax.nn.relu, "ReluBackward0", "keep", ("result",),
     both(_bool_error("Boolean inputs not supported for relu"),
          real("", "clamp is not supported for complex types")), ()),
    ("bitwise_not", lambda a: ~a, None, "keep", (), integral("bitwise_not_cpu"), ()),
]
def _cube(y, d):
    """y ** 3 as PyTorch's reduced-dtype pow computes it: bfloat16 rounds y * y first."""
    return round_to(round_to(y * y, d) * y, d) if d == jnp.bfloat16 else round_to(y * y * y, d)


_BFLOAT16 = frozenset({jnp.dtype("bfloat16")})
_LN2, _LN10 = np.float32(np.log(2.0)), np.float32(np.log(10.0))
_TWO_OVER_ROOT_PI = np.float32(2.0 / np.sqrt(np.pi))
# PyTorch's backward formulas for a float16/bfloat16 input, as tangents: each an
# expression in the input x and the rounded result y with the roundings of the reduced-
# dtype ops the formula is written in (found against its gradients): name ->
# (tangent(x, y, t, dtype), for which dtypes)
_DERIVATIVES = {
    "exp": (lambda x, y, t, d: t * y, REDUCED_FLOATS),
    "tanh": (lambda x, y, t, d: t * (1 - y * y), REDUCED_FLOATS),       # (one kernel)
    "expm1": (lambda x, y, t, d: t * round_to(y + 1, d), REDUCED_FLOATS),
    "reciprocal": (lambda x, y, t, d: t * -round_to(y * y, d), REDUCED_FLOATS),
    "sin": (lambda x, y, t, d: t * round_to(jnp.cos(x), d), REDUCED_FLOATS),
    "cos": (lambda x, y, t, d: t * -round_to(jnp.sin(x), d), REDUCED_FLOATS),
    "sqrt": (lambda x, y, t, d: t / round_to(2 * y, d), REDUCED_FLOATS),
    "rsqrt": (lambda x, y, t, d: -0.5 * t * _cube(y, d), REDUCED_FLOATS),
    # (tan, atan, asinh, atanh: float16's kernels round elsewhere, not found)
    "tan": (lambda x, y, t, d: t * round_to(1 + round_to(y * y, d), d), _BFLOAT16),
    "sinh": (lambda x, y, t, d: t * round_to(jnp.cosh(x), d), REDUCED_FLOATS),
    "cosh": (lambda x, y, t, d: t * round_to(jnp.sinh(x), d), REDUCED_FLOATS),
    "atan": (lambda x, y, t, d: t / round_to(round_to(x * x, d) + 1, d), _BFLOAT16),
    "asinh": (lambda x, y, t, d: t * round_to(jax.lax.rsqrt(round_to(round_to(x * x, d) + 1, d)),
                                              d), _BFLOAT16),
    "atanh": (lambda x, y, t, d: t / round_to(1 - round_to(x * x, d), d), _BFLOAT16),
    "log1p": (lambda x, y, t, d: t / round_to(x + 1, d), REDUCED_FLOATS),
    "log2": (lambda x, y, t, d: t / round_to(x * _LN2, d), REDUCED_FLOATS),
    "log10": (lambda x, y, t, d: t / round_to(x * _LN10, d), REDUCED_FLOATS),
    "erf": (lambda x, y, t, d: t * round_to(_TWO_OVER_ROOT_PI * round_to(
        jnp.exp(-round_to(x * x, d)), d), d), REDUCED_FLOATS),
    # (float16's kernel rounds g * (1 - y) before the last product: not this form)
    "sigmoid": (lambda x, y, t, d: t * (y * (1 - y)), _BFLOAT16),
}
UNARY = {}     # name -> torchlike function (without out=)
for _name, _fn, _grad_fn, _rule, _saves, _check, _aliases in _UNARY:
    # (a float16/bfloat16 input computes in float32, rounded once, as PyTorch's kernels)
    _fn = in_float32(_fn, *_DERIVATIVES.get(_name, ())) if _rule == "float" else _fn
    UNARY[_name] = unary_op(_name, _fn, _grad_fn, result=_rule, saves=_saves, check=_check,
                            aliases=_aliases, differentiable=_grad_fn is not None)
reciprocal = UNARY["reciprocal"]
neg = UNARY["neg"]


def positive(input):
    """PyTorch returns the input itself."""
    require_tensor("positive", input, "input", 1)
    if input._dtype is dt.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


expose("positive", positive, inplace=False, out=False)


# -- rounding with decimals, logit with eps, nan_to_num ----------------------------------
def _round_impl(a, *, decimals):
    if not jnp.issubdtype(a.dtype, jnp.inexact):
        return a
    if decimals == 0:
        return jnp.round(a)
    scale = jnp.asarray(10.0 ** (decimals if decimals > 0 else -decimals), a.dtype)
    # PyTorch scales up for positive decimals and down for negative ones (as here)
    return jnp.round(a * scale) / scale if decimals > 0 else jnp.round(a / scale) * scale


OPS["round"] = _round_op = Op("round", _round_impl, "RoundBackward0", ())


def round(input, *, decimals=0):  # noqa: A001
    require_tensor("round", input, "input", 1)
    no_bool("round_vml_cpu")(input)
    real("round_vml_cpu")(input)
    if decimals and not is_float(input._dtype):
        raise not_implemented("round_cpu", input._dtype)
    return apply(_round_op, (input,), (("decimals", int(decimals)),),
                 "RoundBackward1" if decimals else "RoundBackward0")


expose("round", round)


def _logit_impl(a, *, eps, dtype):
    a = a.astype(dtype)
    if eps is not None:
        # clamp with the gradient passing at the bounds, as PyTorch's logit backward
        a = jnp.where(a < eps, jnp.asarray(eps, dtype), a)
        a = jnp.where(a > 1 - eps, jnp.asarray(1 - eps, dtype), a)
    return jnp.log(a) - jnp.log1p(-a)          # its derivative is inf (not nan) at 0 and 1


OPS["logit"] = _logit_op = Op("logit", _logit_impl, "LogitBackward0", (0,))


def logit(input, eps=None):
    real("logit_cpu")(input)
    d = float_result_dtype(input._dtype)
    return apply(_logit_op, (input,), (("eps", None if eps is None else float(eps)), ("dtype", d.np)))


expose("logit", logit)


def _nan_to_num_impl(a, *, nan, posinf, neginf):
    if not jnp.issubdtype(a.dtype, jnp.inexact):
        return a
    return jnp.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)


OPS["nan_to_num"] = _nan_to_num_op = Op("nan_to_num", _nan_to_num_impl, "NanToNumBackward0", (0,))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    require_tensor("nan_to_num", input, "input", 1)
    return apply(_nan_to_num_op, (input,), (("nan", float(nan)), ("posinf", posinf),
                                            ("neginf", neginf)))


expose("nan_to_num", nan_to_num)


# -- predicates: bool results, no gradient ---------------------------------------------------
def _predicate(name, fn, inplace=False, check=None):
    op = OPS[name] = Op(name, lambda a: fn(a), None, (), False)

    def torch_fn(input):
        require_tensor(name, input, "input", 1)
        if check is not None:
            check(input)
        return apply(op, (input,))
    torch_fn.__name__ = torch_fn.__qualname__ = name
    expose(name, torch_fn, inplace=inplace)
    return torch_fn


isnan = _predicate("isnan", jnp.isnan)
isinf = _predicate("isinf", jnp.isinf)
isfinite = _predicate("isfinite", jnp.isfinite)
isposinf = _predicate("isposinf", jnp.isposinf, check=real(
    "", "isposinf does not support complex inputs.", RuntimeError))
isneginf = _predicate("isneginf", jnp.isneginf, check=real(
    "", "isneginf does not support complex inputs.", RuntimeError))
signbit = _predicate("signbit", lambda a: jnp.signbit(a) if a.dtype != jnp.bool_ else
                     jnp.zeros(a.shape, bool),
                     check=real("", "signbit is not implemented for complex tensors."))
isreal = _predicate("isreal", jnp.isreal)
logical_not = _predicate("logical_not", jnp.logical_not, inplace=True)


# -- frexp, polygamma, mvlgamma -----------------------------------------------------------------
def _frexp_impl(a):
    m, e = jnp.frexp(a)
    e = jax.lax.stop_gradient(e)
    return a / jnp.exp2(e).astype(a.dtype), e.astype(jnp.int32)   # d mantissa = 1 / 2**e


OPS["frexp"] = _frexp_op = Op("frexp", _frexp_impl, "FrexpBackward0", ())


_FREXP = structseq("frexp", ["mantissa", "exponent"])


def frexp(input):
    if not input._dtype.is_floating_point:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    m, e = apply(_frexp_op, (input,))
    return _FREXP(m, e)


expose("frexp", frexp, inplace=False)


def _polygamma_impl(a, *, n, dtype):
    return _polygamma(n, a.astype(dtype))


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _polygamma(n, x):
    """psi^(n)(x) = (-1)^(n+1) n! zeta(n+1, x), with PyTorch's (Cephes') Hurwitz zeta:
    JAX's loses digits for order 2 and is wrong for x < 0, where the series still
    converges for an integer order."""
    if n == 0:
        return _digamma(x)
    if n == 1:
        return _trigamma(x)
    zeta = _hurwitz_zeta(float(n + 1), x)
    return (-1.0) ** (n + 1) * math.factorial(n) * zeta


def _trigamma(x):
    """PyTorch's own trigamma (not its zeta): reflection below 1/2, six recurrence steps,
    then the asymptotic series 1/x + 1/(2x^2) + 1/(6x^3) - 1/(30x^5) + 1/(42x^7)."""
    reflect = x < 0.5
    head = jnp.where(reflect, -(jnp.pi / jnp.sin(jnp.pi * x)) ** 2, 0.0).astype(x.dtype)
    y = jnp.where(reflect, 1 - x, x)
    for _ in range(6):
        head = head + 1 / (y * y)
        y = y + 1
    inv2 = 1 / (y * y)
    tail = (1 + 1 / (2 * y) + inv2 * (1.0 / 6 - inv2 * (1.0 / 30 - inv2 * (1.0 / 42)))) / y
    return jnp.where(reflect, -1, 1).astype(x.dtype) * (head + tail)


# (2j)! / B_2j for j = 1..12: the Euler-Maclaurin correction terms of zeta
_ZETA_EM = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
            7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
            -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18)


def _hurwitz_zeta(s, q):
    """sum_k (q + k)^-s for an integer order s > 1: the terms are summed directly until
    q + k > 9 (at least nine of them), the rest by Euler-Maclaurin, as Cephes does."""
    dtype = q.dtype
    steps = jnp.maximum(9, jnp.floor(9.0 - q) + 1)      # terms taken directly

    def body(state):
        k, total = state
        return k + 1, total + jnp.where(k < steps, (q + k) ** -s, 0)
    _, total = jax.lax.while_loop(lambda state: jnp.any(state[0] < steps), body,
                                  (jnp.zeros((), dtype), jnp.zeros_like(q)))
    w = q + steps                       # the first term not summed: half of it, plus
    b = w ** -s                         # the integral from w, plus the corrections
    total = total + w * b / (s - 1) + 0.5 * b
    factor, power = jnp.ones_like(q), b
    k = 0.0
    for coefficient in _ZETA_EM:
        factor = factor * (s + k)
        power = power / w
        total = total + factor * power / coefficient
        factor = factor * (s + k + 1)
        power = power / w
        k += 2.0
    poles = (q <= 0) & (q == jnp.floor(q))
    return jnp.where(poles, jnp.inf, total)


@jax.custom_jvp
def _digamma(x):
    # PyTorch: digamma(+-0) = -+inf (JAX gives nan)
    return jnp.where(x == 0, jnp.copysign(jnp.inf, -x), jsp.digamma(x))


@_digamma.defjvp
def _digamma_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return _digamma(x), _polygamma(1, x) * t


@_polygamma.defjvp
def _polygamma_jvp(n, primals, tangents):
    (x,), (t,) = primals, tangents
    return _polygamma(n, x), _polygamma(n + 1, x) * t


OPS["polygamma"] = _polygamma_op = Op("polygamma", _polygamma_impl, "PolygammaBackward0", (0,))


def polygamma(n, input):
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    d = float_result_dtype(input._dtype)
    return apply(_polygamma_op, (input,), (("n", int(n)), ("dtype", d.np)))


def _polygamma_method(self, n):
    return polygamma(n, self)


expose("polygamma", polygamma, method=False, inplace=False)
expose("polygamma", _polygamma_method, function=False, inplace_grad_fn="PolygammaBackward1")


def _mvlgamma_impl(a, *, p, dtype):
    return jsp.multigammaln(a.astype(dtype), p)


OPS["mvlgamma"] = _mvlgamma_op = Op("mvlgamma", _mvlgamma_impl, "MvlgammaBackward0", (0,))


def mvlgamma(input, p):
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    d = float_result_dtype(input._dtype)          # integers: the default float dtype
    return apply(_mvlgamma_op, (input,), (("p", int(p)), ("dtype", d.np)))


expose("mvlgamma", mvlgamma)
