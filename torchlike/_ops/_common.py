"""What the op-library modules share: exposing one implementation under all of
PyTorch's names (torch.fn, Tensor.fn, Tensor.fn_, out=), and PyTorch's common errors."""
import builtins
import functools
import warnings

import jax
from jax._src.interpreters import ad as _ad       # (LinearizeTracer: write_out)

from .. import _dtype as dt
from ..return_types import structseq
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..autograd.graph import node_class
from .registry import FUNCTIONS, METHODS
from ._util import scalar_name


# -- in-place --------------------------------------------------------------------------------
def inplace_method(fn, grad_fn=None, backward_error=None):
    """Tensor.fn_: compute out of place, then write into self (through views).

    Which saved entries are version-checked afterwards is Tensor._assign_result's rule.
    grad_fn: the in-place form's own node name where PyTorch's differs (AsinhBackward1).
    backward_error: the exception PyTorch's backward raises for this in-place form."""
    def method(self, *args, **kwargs):
        def compute(s, *a, **k):
            result = fn(s, *a, **k)
            node = result._grad_fn if isinstance(result, Tensor) else None
            if node is not None and grad_fn is not None:
                node.__class__ = node_class(grad_fn)
            if node is not None and backward_error is not None:
                node.op = _raising_op(node.op, backward_error)
            return result
        return self._inplace(compute, *args, **kwargs)
    method.__name__ = getattr(fn, "__name__", "op") + "_"
    return method


_RAISING = {}


def _raising_op(op, error):
    """The same op, with a backward that raises `error` (cached per op and error)."""
    key = (op.name, type(error), str(error))
    if key not in _RAISING:
        from .registry import Op

        def impl(*arrays, **params):
            return no_derivative(functools.partial(op.impl, **params), error)(*arrays)
        _RAISING[key] = Op(op.name + "_no_grad", impl, op.grad_fn, op.saves)
    return _RAISING[key]


# -- out= ------------------------------------------------------------------------------------
def write_out(name, out, result):
    """torch.fn(..., out=out): check, resize if needed, copy, and return `out`."""
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{name}(): argument 'out' must be tuple of Tensors")
        written = tuple(write_out(name, o, r) for o, r in zip(out, result))
        return _out_type(result)(*written) if hasattr(result, "_fields") else written
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    # (a result differentiated by torch.func's grad/vjp/jacrev holds a linearize tracer:
    # it depends on an input that requires grad there)
    if result.requires_grad or out.requires_grad or \
            isinstance(result._raw(), _ad.LinearizeTracer):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if result._dtype is not out._dtype and not dt.can_cast(result._dtype, out._dtype):
        raise RuntimeError(f"result type {scalar_name(result._dtype)} can't be cast to the "
                           f"desired output type {scalar_name(out._dtype)}")
    with no_grad():
        if tuple(out.shape) != tuple(result.shape):
            if out.numel() != 0:
                warnings.warn(
                    f"An output with one or more elements was resized since it had shape "
                    f"{list(out.shape)}, which does not match the required output shape "
                    f"{list(result.shape)}. This behavior is deprecated, and in a future PyTorch "
                    "release outputs will not be resized unless they have zero elements. You can "
                    "explicitly reuse an out tensor t by resizing it, inplace, to zero elements "
                    "with t.resize_(0). (Triggered internally at "
                    "/__w/pytorch/pytorch/aten/src/ATen/native/Resize.cpp:30.)",
                    UserWarning, stacklevel=3)
            fresh = result.to(out._dtype).detach().clone()
            out.data = fresh          # a resize reallocates, as PyTorch's does
            out._version_counter.value += 1
        else:
            out.copy_(result)
    return out


_WARNED_ONCE = set()    # the messages warn_once gave


def warn_once(message):
    """A UserWarning PyTorch gives once per process (its TORCH_WARN_ONCE), pointing at
    the line that called the function calling this."""
    if message not in _WARNED_ONCE:
        _WARNED_ONCE.add(message)
        warnings.warn(message, UserWarning, stacklevel=3)


def _out_type(result):
    """PyTorch returns torch.return_types.<name>_out for out= calls (structseq makes each
    once)."""
    return structseq(type(result).__name__ + "_out", result._fields)


def with_out(name, fn):
    """fn accepting PyTorch's out= keyword."""
    def wrapper(*args, out=None, **kwargs):
        if out is not None:
            check_out_overlap(name, out, args)
        result = fn(*args, **kwargs)
        return result if out is None else write_out(name, out, result)
    wrapper.__name__ = getattr(fn, "__name__", name)
    wrapper.__doc__ = fn.__doc__
    wrapper.plain = fn
    # names itself, so that a wrapper of it (autocast's functools.wraps copies attributes)
    # is not taken for it (nn/modules/_functional.py skips this wrapper, not that one)
    wrapper.with_out = wrapper
    return wrapper


# Ops whose out= may not share any memory with an input (PyTorch's assert_no_overlap);
# pointwise ops allow an out= that is exactly an input.
_NO_INPUT_OVERLAP = frozenset({"cat", "concat", "concatenate", "gather", "index_select",
                               "kthvalue", "masked_select", "take"})
_OVERLAP = ("unsupported operation: {} refer{} to a single memory location. Please clone() "
            "the tensor before performing the operation.")


def check_out_overlap(name, out, args):
    """PyTorch's refusals of an out= whose memory overlaps: itself (an expanded tensor:
    several elements in one place), or, for the ops above, an input's."""
    for o in out if isinstance(out, (tuple, list)) else (out,):
        if not isinstance(o, Tensor):
            continue
        if any(st == 0 and n > 1 for st, n in zip(o.stride(), o.shape)):
            raise RuntimeError(_OVERLAP.format(
                "more than one element of the written-to tensor", "s"))
        if name in _NO_INPUT_OVERLAP and any(_shares_memory(o, a) for a in _tensors(args)):
            raise RuntimeError(_OVERLAP.format(
                "some elements of the input tensor and the written-to tensor", ""))


def _tensors(args):
    for a in args:
        if isinstance(a, Tensor):
            yield a
        elif isinstance(a, (tuple, list)):
            yield from _tensors(a)


def _shares_memory(a, b):
    """Whether a's and b's elements overlap in their storage (by their spans)."""
    if a._storage is not b._storage or a.numel() == 0 or b.numel() == 0:
        return False

    def span(t):
        start = t.storage_offset()
        return start, start + builtins.sum((n - 1) * st for n, st in zip(t.shape, t.stride()))
    (a0, a1), (b0, b1) = span(a), span(b)
    return a0 <= b1 and b0 <= a1


# the in-place forms PyTorch also offers as functions: torch.abs_(x)
TORCH_INPLACE_FUNCTIONS = frozenset(
    "abs_ acos_ acosh_ addmv_ alpha_dropout_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ "
    "asin_ asinh_ atan_ atanh_ ceil_ celu_ clamp_ clamp_max_ clamp_min_ clip_ cos_ cosh_ "
    "deg2rad_ dropout_ erf_ erfc_ exp2_ exp_ expm1_ feature_alpha_dropout_ feature_dropout_ "
    "fix_ floor_ frac_ gcd_ i0_ lcm_ ldexp_ log10_ log1p_ log2_ log_ logit_ nan_to_num_ neg_ "
    "negative_ rad2deg_ reciprocal_ relu_ round_ rrelu_ rsqrt_ selu_ sigmoid_ sin_ sinc_ sinh_ "
    "sqrt_ square_ tan_ tanh_ threshold_ trunc_ xlogy_".split())


def expose(name, fn, *, method=True, inplace=True, function=True, aliases=(), out=True,
           inplace_grad_fn=None, inplace_backward_error=None):
    """Register fn as torchlike.<name> (with out=), Tensor.<name> and Tensor.<name>_
    (and torchlike.<name>_ where PyTorch has that function)."""
    for n in (name,) + tuple(aliases):
        if function:
            FUNCTIONS[n] = with_out(n, fn) if out else fn
        if method:
            METHODS[n] = fn
        if inplace:
            METHODS[n + "_"] = inplace_method(fn, inplace_grad_fn, inplace_backward_error)
            if n + "_" in TORCH_INPLACE_FUNCTIONS:
                FUNCTIONS[n + "_"] = METHODS[n + "_"]
    return fn


def op(*names, method=True, inplace=False, function=True, out=True):
    """Decorator form of expose: @op("name", "alias", inplace=True)."""
    def deco(fn):
        expose(names[0], fn, method=method, inplace=inplace, function=function,
               aliases=names[1:], out=out)
        return fn
    return deco


# -- derivatives where JAX's default is not PyTorch's -------------------------------------
REDUCED_FLOATS = frozenset({jax.numpy.dtype("float16"), jax.numpy.dtype("bfloat16")})


def in_float32(fn, derivative=None, derivative_for=REDUCED_FLOATS):
    """fn of one array as PyTorch's kernels compute a float16/bfloat16 input: in float32,
    the result rounded once to the input's dtype. Computed in the reduced dtype, a
    composite (sigmoid, silu, gelu) rounded at every step. `derivative(x, y, t, dtype)`,
    where given (for the dtypes `derivative_for`), is the tangent for tangent t as
    PyTorch's backward formula computes the gradient there: from the input x and the
    rounded result y (in float32), with the roundings of the reduced-dtype ops the
    formula is written in; the caller rounds it once more. (Differentiating the float32
    computation rounded elsewhere: a sin's or tanh's gradient differed from PyTorch's in
    a quarter to half of the elements.)"""
    @functools.wraps(fn)
    def run(a, **params):
        if a.dtype not in REDUCED_FLOATS:
            return fn(a, **params)
        if derivative is None or a.dtype not in derivative_for:
            return fn(a.astype(jax.numpy.float32), **params).astype(a.dtype)
        return _with_torch_derivative(fn, derivative, a.dtype, tuple(sorted(params.items())))(a)
    return run


@functools.lru_cache(maxsize=512)
def _with_torch_derivative(fn, derivative, dtype, params):
    """fn in float32 rounded to `dtype`, differentiated by `derivative` (in_float32)."""
    f32 = jax.numpy.float32

    @jax.custom_jvp
    def rounded(a):
        return fn(a.astype(f32), **dict(params)).astype(dtype)

    @rounded.defjvp
    def rule(primals, tangents):
        x = primals[0]
        y = rounded(x)
        t = derivative(x.astype(f32), y.astype(f32), tangents[0].astype(f32), dtype)
        return y, t.astype(dtype)
    return rounded


def round_to(a, dtype):
    """a rounded to `dtype`, kept in its own dtype (a rounding step of PyTorch's kernels)."""
    return a.astype(dtype).astype(a.dtype)


def opmath(dtype):
    """The dtype PyTorch's kernels compute `dtype` values in (its "opmath" type, also
    what a sum accumulates in): float32 for float16/bfloat16, the result rounded once at
    the end (jnp.sum(a, dtype=bfloat16) adds in bfloat16, and a composite computed in
    the reduced dtype rounds at every step); else `dtype`."""
    return jax.numpy.float32 if jax.numpy.dtype(dtype) in REDUCED_FLOATS else dtype


def with_jvp(f, *partials):
    """f(*arrays) whose derivative in argument i is partials[i](*arrays, result): PyTorch's
    formulas at kinks and singular points (0 ** 0, x * log(0) ...) where JAX's differ."""
    g = jax.custom_jvp(f)

    def jvp(primals, tangents):
        out = f(*primals)
        tangent = None
        for p, t in zip(partials, tangents):
            if isinstance(t, jax.custom_derivatives.SymbolicZero) or p is None:
                continue
            term = p(*primals, out) * t
            tangent = term if tangent is None else tangent + term
        return out, tangent if tangent is not None else jax.numpy.zeros_like(out)
    g.defjvp(jvp, symbolic_zeros=True)     # untouched inputs add no (nan * 0) terms
    return g


def no_derivative(f, error):
    """f whose backward raises PyTorch's error for ops without a derivative formula
    (their grad_fn is torch::autograd::NotImplemented). error: the aten op name, or an
    exception instance."""
    g = jax.custom_vjp(f)
    if isinstance(error, str):
        error = RuntimeError(f"derivative for aten::{error} is not implemented")

    def bwd(residuals, cotangent):
        raise type(error)(*error.args)
    g.defvjp(lambda *args: (f(*args), None), bwd)
    return g


NOT_IMPLEMENTED = "torch::autograd::NotImplemented"


# -- PyTorch's errors --------------------------------------------------------------------
def not_implemented(kernel, dtype):
    """The dispatcher's error for a dtype a kernel does not support."""
    return NotImplementedError(f'"{kernel}" not implemented for \'{scalar_name(dtype)}\'')


def require_tensor(fn_name, value, arg, position):
    if not isinstance(value, Tensor):
        raise TypeError(f"{fn_name}(): argument '{arg}' (position {position}) must be Tensor, "
                        f"not {type(value).__name__}")


def is_float(d):
    return d.is_floating_point or d.is_complex


def is_integral(d, include_bool=True):
    return not is_float(d) and (include_bool or d is not dt.bool)


def as_scalar(x):
    """A Python number from a Python or numpy scalar (PyTorch's 'wrapped number')."""
    if isinstance(x, (builtins.bool, int, float, complex)):     # (a symbol too: _symbolic)
        return x
    if hasattr(x, "item") and hasattr(x, "dtype") and not isinstance(x, Tensor):
        return x.item()
    raise TypeError(f"unsupported operand type: {type(x).__name__}")
