"""torch.special's functions that torchlike did not have yet: scaled error and Bessel
functions, normal distribution helpers, entr, xlog1py, zeta, the incomplete gamma
functions (also torch.igamma/igammac) and the orthogonal polynomials.

The aliases of existing ops (erf, gammaln, expit ...) are wired in torchlike/special.py.
Most functions are JAX's; the Bessel functions JAX lacks (J, Y, K, Airy) run SciPy's
Cephes code on the host through `jax.pure_callback` (SciPy comes with JAX, and PyTorch's
kernels are ports of the same Cephes routines). PyTorch gives none of those, nor the
polynomials, a derivative: their results never require grad.
"""
import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor
from ._common import as_scalar, expose, is_float, no_derivative, not_implemented, \
    require_tensor, with_jvp
from .dispatch import apply
from .registry import OPS, Op
from ._util import check_broadcast, float_result_dtype, result_dtype

SPECIAL = {}      # torch.special name -> torchlike function


def _real_float_dtype(kernel, d):
    """The dtype a real special function computes in: integers in the default float
    dtype; complex inputs get the dispatcher's error."""
    if d.is_complex:
        raise not_implemented(kernel, d)
    return float_result_dtype(d)


# -- one-input functions ------------------------------------------------------------------------
def _unary(name, fn, grad_fn=None, kernel=None, half=True):
    """special.<name>(input): fn on the input cast to its float dtype. grad_fn None: no
    derivative (the result never requires grad). half=False: PyTorch's CPU kernel has no
    float16/bfloat16 form."""
    def impl(a, *, dtype):
        return fn(a.astype(dtype))
    op = OPS["special_" + name] = Op("special_" + name, impl, grad_fn, (0,), grad_fn is not None)
    kernel = kernel or name + "_cpu"

    def torch_fn(input):
        require_tensor("special_" + name, input, "input", 1)
        d = _real_float_dtype(kernel, input._dtype)
        if not half and d in (dt.float16, dt.bfloat16):
            raise not_implemented(kernel, d)
        return apply(op, (input,), (("dtype", d.np),))
    torch_fn.__name__ = torch_fn.__qualname__ = name
    SPECIAL[name] = torch_fn
    return torch_fn


def _scipy(name):
    """scipy.special.<name>, imported at its first call: importing scipy.special costs
    about 0.2 s, a fifth of `import torchlike`, for functions few programs use."""
    def call(values):
        import scipy.special
        return getattr(scipy.special, name)(values)
    return call


def _on_host(scipy_fn):
    """An elementwise SciPy function as a JAX function (computed in float64, rounded to
    the input's dtype once, so float32 results are correctly rounded)."""
    def host(values):
        return np.asarray(scipy_fn(np.asarray(values, np.float64)), values.dtype)

    def fn(a):
        return jax.pure_callback(host, jax.ShapeDtypeStruct(a.shape, a.dtype), a,
                                 vmap_method="expand_dims")
    return fn


def _airy_ai(values):
    return _scipy("airy")(values)[0]


def _spherical_j0(a):
    # sin(x) / x, with its limit 1 at 0 (the division alone gives nan there)
    safe = jnp.where(a == 0, jnp.ones_like(a), a)
    return jnp.where(a == 0, jnp.ones_like(a), jnp.sin(safe) / safe)


def _ndtr(a):
    return (1 + jsp.erf(a * np.sqrt(0.5).astype(a.dtype))) * 0.5


def _entr_values(a):
    safe = jnp.where(a > 0, a, jnp.ones_like(a))
    return jnp.where(a > 0, -a * jnp.log(safe),
                     jnp.where(a == 0, jnp.zeros_like(a),
                               jnp.where(jnp.isnan(a), a, jnp.full_like(a, -jnp.inf))))


# PyTorch's derivative of entr: -(1 + log x) for every x (-inf at 0 is its limit)
_entr = with_jvp(_entr_values, lambda a, out: -(1 + jnp.log(a)))

for _name, _fn, _grad_fn, _half in [
        ("erfcx", jsp.erfcx, "SpecialErfcxBackward0", True),
        ("i0e", jsp.i0e, "SpecialI0EBackward0", True),
        ("i1", jsp.i1, "SpecialI1Backward0", True),
        ("i1e", jsp.i1e, "SpecialI1EBackward0", True),
        ("ndtr", _ndtr, "MulBackward1", True),             # PyTorch composes (1 + erf) * 0.5
        ("ndtri", jsp.ndtri, "SpecialNdtriBackward0", True),
        ("log_ndtr", jsp.log_ndtr, "SpecialLogNdtrBackward0", True),
        ("entr", _entr, "SpecialEntrBackward0", True),
        ("bessel_j0", _on_host(_scipy("j0")), None, False),
        ("bessel_j1", _on_host(_scipy("j1")), None, False),
        ("bessel_y0", _on_host(_scipy("y0")), None, False),
        ("bessel_y1", _on_host(_scipy("y1")), None, False),
        ("modified_bessel_i0", jsp.i0, None, False),
        ("modified_bessel_i1", jsp.i1, None, False),
        ("modified_bessel_k0", _on_host(_scipy("k0")), None, False),
        ("modified_bessel_k1", _on_host(_scipy("k1")), None, False),
        ("scaled_modified_bessel_k0", _on_host(_scipy("k0e")), None, False),
        ("scaled_modified_bessel_k1", _on_host(_scipy("k1e")), None, False),
        ("spherical_bessel_j0", _spherical_j0, None, False),
        ("airy_ai", _on_host(_airy_ai), None, False)]:
    _unary(_name, _fn, _grad_fn, half=_half)


# -- two-input functions -----------------------------------------------------------------------
def _xlog1py_values(a, b):
    # 0 where x == 0 (whatever y but nan), as PyTorch
    safe_b = jnp.where(a == 0, jnp.zeros_like(b), b)
    return jnp.where(jnp.isnan(b), b, jnp.where(a == 0, jnp.zeros_like(a),
                                                a * jnp.log1p(safe_b)))


# PyTorch's derivatives: d/dx = xlog1py(x != 0, y), d/dy = x / (1 + y)
_xlog1py = with_jvp(_xlog1py_values,
                    lambda a, b, out: _xlog1py_values((a != 0).astype(a.dtype), b),
                    lambda a, b, out: a / (1 + b))


def _zeta(a, b):
    return no_derivative(jsp.zeta, NotImplementedError(
        "the derivative for 'zeta' is not implemented."))(a, b)


def _binary(name, fn, grad_fn, kernel, *, scalars=True, input_error=None):
    """A float-valued function of two tensors (or a tensor and a Python number where
    `scalars`); PyTorch names the node ...Backward1 for a number first, ...Backward2 for a
    number second. input_error: PyTorch's message when the first input's derivative is
    missing (the backward raises it if that input requires grad)."""
    def impl(a, b, *, dtype):
        return fn(jnp.asarray(a, dtype), jnp.asarray(b, dtype))

    def impl_no_input_grad(a, b, *, dtype):
        return no_derivative(lambda x, y: fn(x, y), NotImplementedError(input_error))(
            jnp.asarray(a, dtype), jnp.asarray(b, dtype))
    op = OPS[name] = Op(name, impl, grad_fn, (0, 1))
    raising_op = OPS[name + "_no_input_grad"] = Op(name + "_no_input_grad", impl_no_input_grad,
                                                   grad_fn, (0, 1))

    def torch_fn(input, other):
        fn_name = "special_" + name if name in ("gammainc", "gammaincc", "zeta", "xlog1py") \
            else name
        if not scalars or not isinstance(other, Tensor):
            require_tensor(fn_name, input, "input", 1)
        if not scalars or not isinstance(input, Tensor):
            require_tensor(fn_name, other, "other", 2)
        node = grad_fn
        if not isinstance(input, Tensor):
            input, node = as_scalar(input), grad_fn[:-1] + "1"
        elif not isinstance(other, Tensor):
            other, node = as_scalar(other), grad_fn[:-1] + "2"
        else:
            check_broadcast(input, other)
        d = result_dtype(input, other)
        if d.is_complex or (not scalars and not is_float(d)):
            raise not_implemented(kernel, d)
        d = float_result_dtype(d)
        chosen = op
        if input_error and isinstance(input, Tensor) and input.requires_grad:
            chosen = raising_op
        return apply(chosen, (input, other), (("dtype", d.np),), node)
    torch_fn.__name__ = torch_fn.__qualname__ = name
    return torch_fn


SPECIAL["xlog1py"] = _binary("xlog1py", _xlog1py, "SpecialXlog1PyBackward0", "xlog1py_cpu")
SPECIAL["zeta"] = _binary("zeta", _zeta, "SpecialZetaBackward0", "zeta_cpu")
igamma = _binary("igamma", jsp.gammainc, "IgammaBackward0", "igamma_cpu", scalars=False,
                 input_error="the derivative for 'igamma: input' is not implemented.")
igammac = _binary("igammac", jsp.gammaincc, "IgammacBackward0", "igammac_cpu", scalars=False,
                  input_error="the derivative for 'igammac: input' is not implemented.")
expose("igamma", igamma)
expose("igammac", igammac)


def _special_igamma(name, fn):
    def special_fn(input, other):
        require_tensor("special_" + name, input, "input", 1)
        require_tensor("special_" + name, other, "other", 2)
        return fn(input, other)
    special_fn.__name__ = name
    return special_fn


SPECIAL["gammainc"] = _special_igamma("gammainc", igamma)
SPECIAL["gammaincc"] = _special_igamma("gammaincc", igammac)


# -- orthogonal polynomials ------------------------------------------------------------------
# Each is its three-term recurrence P_k = step(k, x, P_{k-1}, P_{k-2}) from P_0 and P_1,
# run for every element up to its own n (n < 0 gives 0), with PyTorch's closed forms at
# the interval's ends and, for large n inside it, the trigonometric forms PyTorch uses.
def _three_term(x, n, first, step):
    n = jnp.broadcast_to(n, jnp.broadcast_shapes(x.shape, n.shape)).astype(x.dtype)
    x = jnp.broadcast_to(x, n.shape)
    p0 = jnp.ones_like(x)
    p1 = first(x)

    def body(state):
        k, prev, cur = state
        new = step(k.astype(x.dtype), x, cur, prev)
        keep = k <= n
        return k + 1, jnp.where(keep, cur, prev), jnp.where(keep, new, cur)

    top = jnp.max(n, initial=0) if n.size else 0
    _, _, pn = jax.lax.while_loop(lambda s: s[0] <= top, body,
                                  (jnp.asarray(2, jnp.int64), p0, p1))
    out = jnp.where(n == 0, p0, jnp.where(n == 1, p1, pn))
    return jnp.where(n < 0, jnp.zeros_like(x), out), x, n


def _chebyshev_t(x, n):
    out, x, n = _three_term(x, n, lambda x: x, lambda k, x, p, q: (x + x) * p - q)
    odd = jnp.fmod(n, 2) != 0
    ends = jnp.where((x > 0) | ~odd, 1.0, -1.0).astype(x.dtype)
    inner = jnp.cos(n * jnp.arccos(jnp.clip(x, -1, 1)))
    out = jnp.where((n > 6) & (jnp.abs(x) < 1), inner, out)
    return jnp.where((jnp.abs(x) == 1) & (n >= 0), ends, out)


def _chebyshev_u(x, n):
    out, x, n = _three_term(x, n, lambda x: x + x, lambda k, x, p, q: (x + x) * p - q)
    odd = jnp.fmod(n, 2) != 0
    ends = jnp.where((x > 0) | ~odd, n + 1, -(n + 1))
    theta = jnp.arccos(jnp.clip(x, -1, 1))
    s = jnp.sin(theta)
    safe = jnp.where(s != 0, s, jnp.ones_like(s))
    inner = jnp.where(s != 0, jnp.sin((n + 1) * theta) / safe, (n + 1) * jnp.cos((n + 1) * theta) * x)
    out = jnp.where((n > 8) & (jnp.abs(x) < 1), inner, out)
    return jnp.where((jnp.abs(x) == 1) & (n >= 0), ends, out)


def _chebyshev_v(x, n):
    out, x, n = _three_term(x, n, lambda x: x + x - 1, lambda k, x, p, q: (x + x) * p - q)
    odd = jnp.fmod(n, 2) != 0
    ends = jnp.where(x > 0, 1.0, jnp.where(odd, -(n + n + 1), n + n + 1)).astype(x.dtype)
    theta = jnp.arccos(jnp.clip(x, -1, 1))
    half = jnp.sin(theta / 2)
    c = jnp.cos(theta / 2)
    safe = jnp.where(half != 1, c, jnp.ones_like(c))
    inner = jnp.where(half != 1, jnp.cos((n + 0.5) * theta) / safe,
                      jnp.where(odd, -(n + n + 1), n + n + 1))
    out = jnp.where((n > 8) & (jnp.abs(x) < 1), inner, out)
    return jnp.where((jnp.abs(x) == 1) & (n >= 0), ends, out)


def _chebyshev_w(x, n):
    out, x, n = _three_term(x, n, lambda x: x + x + 1, lambda k, x, p, q: (x + x) * p - q)
    odd = jnp.fmod(n, 2) != 0
    ends = jnp.where(x > 0, n + n + 1, jnp.where(odd, -1.0, 1.0)).astype(x.dtype)
    theta = jnp.arccos(jnp.clip(x, -1, 1))
    c = jnp.cos(theta / 2)
    s = jnp.sin(theta / 2)
    safe = jnp.where(c != 1, s, jnp.ones_like(s))
    inner = jnp.where(c != 1, jnp.sin((n + 0.5) * theta) / safe, ends)
    out = jnp.where((n > 8) & (jnp.abs(x) < 1), inner, out)
    return jnp.where((jnp.abs(x) == 1) & (n >= 0), ends, out)


def _hermite_h(x, n):
    out, _, _ = _three_term(x, n, lambda x: x + x,
                            lambda k, x, p, q: (x + x) * p - 2 * (k - 1) * q)
    return out


def _hermite_he(x, n):
    out, _, _ = _three_term(x, n, lambda x: x, lambda k, x, p, q: x * p - (k - 1) * q)
    return out


def _laguerre_l(x, n):
    out, x, n = _three_term(x, n, lambda x: 1 - x,
                            lambda k, x, p, q: ((k + k - 1 - x) * p - (k - 1) * q) / k)
    return jnp.where((x == 0) & (n >= 0), jnp.ones_like(out), out)


def _legendre_p(x, n):
    out, x, n = _three_term(x, n, lambda x: x,
                            lambda k, x, p, q: ((k + k - 1) * x * p - (k - 1) * q) / k)
    odd = jnp.fmod(n, 2) != 0
    ends = jnp.where((x > 0) | ~odd, 1.0, -1.0).astype(x.dtype)
    return jnp.where((jnp.abs(x) == 1) & (n >= 0), ends, out)


def _shifted(fn):
    """The polynomial on [0, 1]: P*(x) = P(2x - 1)."""
    return lambda x, n: fn(x + x - 1, n)


def _polynomial(name, fn):
    def impl(x, n, *, dtype):
        return fn(jnp.asarray(x, dtype), jnp.asarray(n, dtype))
    op = OPS["special_" + name] = Op("special_" + name, impl, None, (), False)
    kernel = name + "_cpu"

    def torch_fn(input, n):
        if not isinstance(input, Tensor):
            require_tensor("special_" + name, n, "n", 2)
            input = as_scalar(input)
        elif isinstance(n, Tensor):
            check_broadcast(input, n)
        else:
            n = as_scalar(n)
        d = _real_float_dtype(kernel, result_dtype(input, n))
        return apply(op, (input, n), (("dtype", d.np),))
    torch_fn.__name__ = torch_fn.__qualname__ = name
    SPECIAL[name] = torch_fn


for _name, _fn in [("chebyshev_polynomial_t", _chebyshev_t),
                   ("chebyshev_polynomial_u", _chebyshev_u),
                   ("chebyshev_polynomial_v", _chebyshev_v),
                   ("chebyshev_polynomial_w", _chebyshev_w),
                   ("hermite_polynomial_h", _hermite_h),
                   ("hermite_polynomial_he", _hermite_he),
                   ("laguerre_polynomial_l", _laguerre_l),
                   ("legendre_polynomial_p", _legendre_p),
                   ("shifted_chebyshev_polynomial_t", _shifted(_chebyshev_t)),
                   ("shifted_chebyshev_polynomial_u", _shifted(_chebyshev_u)),
                   ("shifted_chebyshev_polynomial_v", _shifted(_chebyshev_v)),
                   ("shifted_chebyshev_polynomial_w", _shifted(_chebyshev_w))]:
    _polynomial(_name, _fn)


# -- special.round: PyTorch's special_round always passes decimals (RoundBackward1) ---------
def special_round(input, *, decimals=0):
    from . import unary
    require_tensor("special_round", input, "input", 1)
    unary.real("round_vml_cpu")(input)
    if not is_float(input._dtype):          # the decimals kernel has no integer form
        raise not_implemented("round_vml_cpu", input._dtype)
    return apply(unary._round_op, (input,), (("decimals", int(decimals)),), "RoundBackward1")


SPECIAL["round"] = special_round
