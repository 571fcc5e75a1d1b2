"""Reductions: sum, mean, prod, max/min (with indices), amax, argmax, var/std, logsumexp,
norm, any/all, and the scans (cumsum, cumprod, cummax, cummin, logcumsumexp).

Where PyTorch's gradient differs from JAX's default (ties, nan) the impl is written
so that jax.vjp gives PyTorch's: plain max() and amax() share the gradient evenly
among equal extremes; max(dim) sends it to the returned index.
"""
import builtins
import functools
import math

import jax
import jax.numpy as jnp

from .. import _dtype as dt
from ..return_types import structseq
from .._tensor import Tensor
from ._common import (expose, is_float, inplace_method, not_implemented, opmath, with_jvp,
                      with_out)
from .dispatch import apply
from .registry import FUNCTIONS, METHODS, Op, OPS
from ._util import invalid_arguments, scalar_name, wrap_dim, wrap_dims

# PyTorch's named tuples (torch.return_types.<name>)
_FIELDS = {"max": ("values", "indices"), "min": ("values", "indices"),
           "aminmax": ("min", "max"), "cummax": ("values", "indices"),
           "cummin": ("values", "indices"), "sort": ("values", "indices"),
           "topk": ("values", "indices"), "kthvalue": ("values", "indices"),
           "median": ("values", "indices"), "nanmedian": ("values", "indices"),
           "mode": ("values", "indices")}
_NAMED = {name: structseq(name, fields) for name, fields in _FIELDS.items()}


def named_result(name, *values):
    return _NAMED[name](*values)


def _dims_of(input, dim):
    """None (all dims) or a tuple of non-negative dims; () means all, as PyTorch."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return None
    dims = wrap_dims(dim, input.ndim)
    return dims if input.ndim else None      # a 0-dim tensor's only "dim" is itself


def _axis_alias(dim, axis):
    """PyTorch accepts numpy's axis= for dim= in reductions."""
    return axis if dim is None and axis is not None else dim


# -- sum, nansum, mean, prod -------------------------------------------------------------------
def _sum_dtype(input, dtype, name):
    if dtype is not None:
        return dtype
    return input._dtype if is_float(input._dtype) else dt.int64


def _mean_dtype(input, dtype, name):
    d = dtype or input._dtype
    if not is_float(d):
        which = "Optional" if dtype is not None else "Input"
        raise RuntimeError(f"{name}(): could not infer output dtype. {which} dtype must be either "
                           f"a floating point or complex dtype. Got: {scalar_name(d)}")
    return d


def _nansum_dtype(input, dtype, name):
    if input._dtype.is_complex:
        raise RuntimeError("nansum on CPU does not support complex inputs")
    return _sum_dtype(input, dtype, name)


def _reduction(name, fn, grad_fns, *, dtype_rule, saves=(0,)):
    """A reduction over all dims (grad_fns[0]) or given dims (grad_fns[1])."""
    def impl(a, *, dims, keepdim, dtype):
        # dtype= keeps JAX from widening small integer sums to int64
        acc = opmath(dtype)
        return fn(a.astype(acc), axis=dims, keepdims=keepdim, dtype=acc).astype(dtype)
    op = OPS[name] = Op(name, impl, grad_fns[0], saves)

    def torch_fn(input, dim=None, keepdim=False, *, dtype=None, axis=None):
        dim = _axis_alias(dim, axis)
        d = dtype_rule(input, dtype, name)
        dims = _dims_of(input, dim)
        return apply(op, (input,), (("dims", dims), ("keepdim", keepdim), ("dtype", d.np)),
                     grad_fns[0] if dim is None else grad_fns[1])
    torch_fn.__name__ = name
    expose(name, torch_fn, inplace=False)
    return torch_fn


sum = _reduction("sum", jnp.sum, ("SumBackward0", "SumBackward1"), dtype_rule=_sum_dtype,
                 saves=())
nansum = _reduction("nansum", jnp.nansum, ("NansumBackward0", "NansumBackward0"),
                    dtype_rule=_nansum_dtype)
mean = _reduction("mean", jnp.mean, ("MeanBackward0", "MeanBackward1"), dtype_rule=_mean_dtype,
                  saves=())


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """nansum / (number of non-nan), composed as PyTorch does (a DivBackward0 node)."""
    if not is_float(dtype or input._dtype):
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {scalar_name(input._dtype)}")
    from .pointwise import logical_not, true_divide
    from .unary import isnan
    count = sum(logical_not(isnan(input)), dim, keepdim)
    return true_divide(nansum(input, dim, keepdim, dtype=dtype), count)


expose("nanmean", nanmean, inplace=False)


def _prod_impl(a, *, dims, keepdim, dtype):
    # (float16/bfloat16 multiply in that dtype: PyTorch's CPU kernel rounds every step of a
    # short row, found against its results; its order over longer rows is not followed)
    return jnp.prod(a.astype(dtype), axis=dims, keepdims=keepdim, dtype=dtype)


OPS["prod"] = _prod_op = Op("prod", _prod_impl, "ProdBackward0", (0, "result"))


def prod(input, dim=None, keepdim=False, *, dtype=None):
    d = _sum_dtype(input, dtype, "prod")
    if dim is None:
        return apply(_prod_op, (input,), (("dims", None), ("keepdim", False), ("dtype", d.np)))
    if not isinstance(dim, int):
        raise invalid_arguments("prod", input, dim)
    return apply(_prod_op, (input,), (("dims", _dims_of(input, dim)),
                                      ("keepdim", keepdim), ("dtype", d.np)), "ProdBackward1")


expose("prod", prod, inplace=False)


# -- max / min -----------------------------------------------------------------------------------
@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2, 3))
def extreme(a, dims, keepdim, largest):
    """max/min over dims; nan is the extreme, as in PyTorch."""
    return (jnp.max if largest else jnp.min)(a, axis=dims, keepdims=keepdim)


@extreme.defjvp
def _extreme_jvp(dims, keepdim, largest, primals, tangents):
    # PyTorch shares the gradient evenly among all elements equal to the extreme
    (a,), (t,) = primals, tangents
    full = extreme(a, dims, True, largest)
    mask = (a == full) | (jnp.isnan(a) & jnp.isnan(full))
    share = jnp.sum(jnp.where(mask, t, 0), axis=dims, keepdims=keepdim) \
        / jnp.sum(mask, axis=dims, keepdims=keepdim).astype(t.dtype)
    return extreme(a, dims, keepdim, largest), share.astype(a.dtype)


def _argext(a, dim, keepdim, largest):
    """The first index of the extreme value (nan counts as extreme), as PyTorch."""
    return (jnp.argmax if largest else jnp.argmin)(a, axis=dim, keepdims=keepdim)


def _ext_dim_impl(a, *, dim, keepdim, largest):
    if a.ndim == 0:
        return a, jnp.zeros((), jnp.int64)
    idx = _argext(a, dim, True, largest)
    values = jnp.take_along_axis(a, idx, axis=dim)      # the gradient goes to the index
    if not keepdim:
        values, idx = jnp.squeeze(values, dim), jnp.squeeze(idx, dim)
    return values, idx.astype(jnp.int64)


def _ext_all_impl(a, *, largest):
    return extreme(a, None, False, largest)


OPS["max_dim"] = _ext_dim_op = Op("max_dim", _ext_dim_impl, "MaxBackward0", (0,))
OPS["max_all"] = _ext_all_op = Op("max_all", _ext_all_impl, "MaxBackward1", (0, "result"))


def _empty_check(input, name, dim=None, error=RuntimeError):
    if input.numel() == 0 and (dim is None or input.ndim and input.shape[dim] == 0):
        if dim is None:
            raise error(f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
                        + (" Specify the reduction dim with the 'dim' argument."
                           if error is RuntimeError else ""))
        raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")


def _extreme_fn(name, largest):
    node = name.capitalize()

    def torch_fn(input, dim=None, keepdim=False):
        if not isinstance(input, Tensor):                 # no signature takes a number first
            raise invalid_arguments(name, input, dim)
        if isinstance(dim, Tensor):                       # torch.max(a, b)
            from .pointwise import maximum, minimum
            return (maximum if largest else minimum)(input, dim)
        if input._dtype.is_complex:
            if dim is None:
                raise not_implemented(name + "_all", input._dtype)
            raise RuntimeError(f"{name}(): does not support complex input")
        if dim is None:
            _empty_check(input, name)
            return apply(_ext_all_op, (input,), (("largest", largest),), node + "Backward1")
        d = wrap_dim(dim, input.ndim)
        _empty_check(input, name, d)
        values, indices = apply(_ext_dim_op, (input,),
                                (("dim", d), ("keepdim", keepdim), ("largest", largest)),
                                node + "Backward0")
        return named_result(name, values, indices)
    torch_fn.__name__ = name
    expose(name, torch_fn, inplace=False)
    return torch_fn


max = _extreme_fn("max", True)
min = _extreme_fn("min", False)


def _amext_impl(a, *, dims, keepdim, largest):
    return extreme(a, dims, keepdim, largest)


OPS["amax"] = _amext_op = Op("amax", _amext_impl, "AmaxBackward0", (0, "result"))


def _amext(name, largest):
    def torch_fn(input, dim=(), keepdim=False):
        if input._dtype.is_complex:
            raise not_implemented(name[1:] + "_values_cpu", input._dtype)
        first = dim[0] if isinstance(dim, (tuple, list)) and dim else dim
        if input.numel() == 0 and isinstance(first, int) and -input.ndim <= first < input.ndim:
            _empty_check(input, name, first % input.ndim)      # before the other dims' checks
        dims = _dims_of(input, dim)
        _empty_check(input, name, None if dims is None else dims[0])
        return apply(_amext_op, (input,), (("dims", dims), ("keepdim", keepdim),
                                           ("largest", largest)), name.capitalize() + "Backward0")
    torch_fn.__name__ = name
    expose(name, torch_fn, inplace=False)
    FUNCTIONS[name] = _out_dtype_of_input(name, torch_fn, lambda i, o: (
        f"Expected the dtype for input and out to match, but got {scalar_name(i)} for input's "
        f"dtype and {scalar_name(o)} for out's dtype."))
    return torch_fn


def _out_dtype_of_input(name, fn, message):
    """torch.fn(..., out=) for reductions whose out must have the input's dtype exactly."""
    plain = with_out(name, fn)

    def checked(input, *args, out=None, **kwargs):
        for o in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(o, Tensor) and isinstance(input, Tensor) and o._dtype is not input._dtype:
                raise RuntimeError(message(input._dtype, o._dtype))
        return plain(input, *args, out=out, **kwargs)
    checked.__name__ = name
    return checked


amax = _amext("amax", True)
amin = _amext("amin", False)


def _aminmax_impl(a, *, dims, keepdim):
    if a.ndim == 0:            # dim 0 of a 0-d tensor is the tensor itself
        dims = None
    return extreme(a, dims, keepdim, False), extreme(a, dims, keepdim, True)


OPS["aminmax"] = _aminmax_op = Op("aminmax", _aminmax_impl, "AminmaxBackward0", (0,))


def aminmax(input, *, dim=None, keepdim=False):
    if input._dtype.is_complex:
        raise not_implemented("aminmax_cpu", input._dtype)
    dims = None if dim is None else (wrap_dim(dim, input.ndim),)
    if dims is None and input.numel() == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    if dims is not None and input.numel() == 0 and input.shape[dims[0]] == 0:
        raise IndexError(f"aminmax: Expected reduction dim {dims[0]} to have non-zero size.")
    lo, hi = apply(_aminmax_op, (input,), (("dims", dims), ("keepdim", keepdim)))
    return named_result("aminmax", lo, hi)


expose("aminmax", aminmax, inplace=False)
# (dtypes named as C++'s typeid names, as PyTorch's message prints them)
_CPP_NAMES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
              "float16": "c10::Half", "bfloat16": "c10::BFloat16"}
FUNCTIONS["aminmax"] = _out_dtype_of_input("aminmax", aminmax, lambda i, o: (
    f"Expected out tensor to have dtype {_CPP_NAMES.get(str(i)[6:], str(i)[6:])}, "
    f"but got {_CPP_NAMES.get(str(o)[6:], str(o)[6:])} instead"))


def _arg_impl(a, *, dim, keepdim, largest):
    if a.ndim == 0:
        return jnp.zeros((), jnp.int64)
    if dim is None:
        out = _argext(a.reshape(-1), 0, False, largest)
        return (out.reshape((1,) * a.ndim) if keepdim else out).astype(jnp.int64)
    return _argext(a, dim, keepdim, largest).astype(jnp.int64)


OPS["argmax"] = _arg_op = Op("argmax", _arg_impl, None, (), False)


def _arg(name, largest):
    def torch_fn(input, dim=None, keepdim=False):
        if input._dtype.is_complex or input._dtype is dt.bool:
            kind = "bool" if input._dtype is dt.bool else "complex"
            raise RuntimeError(f"{name}(): does not support {kind} input")
        d = None if dim is None else wrap_dim(dim, input.ndim)
        _empty_check(input, name, d, error=IndexError)
        return apply(_arg_op, (input,), (("dim", d), ("keepdim", keepdim), ("largest", largest)))
    torch_fn.__name__ = name
    expose(name, torch_fn, inplace=False)
    return torch_fn


argmax = _arg("argmax", True)
argmin = _arg("argmin", False)


# -- statistics ------------------------------------------------------------------------------------
# std's derivative is 0 where std is 0 (a constant input), as PyTorch's std_backward
_std_sqrt = with_jvp(jnp.sqrt, lambda v, out: jnp.where(out == 0, 0, 0.5 / out))


def _var_impl(a, *, dims, correction, keepdim, sqrt, with_mean):
    if a.dtype in (jnp.float16, jnp.bfloat16):        # PyTorch accumulates in float32
        out = _var_impl(a.astype(jnp.float32), dims=dims, correction=correction,
                        keepdim=keepdim, sqrt=sqrt, with_mean=with_mean)
        return tuple(o.astype(a.dtype) for o in out) if with_mean else out.astype(a.dtype)
    d = a - jnp.mean(a, axis=dims, keepdims=True)
    squares = (d * jnp.conj(d)).real if jnp.iscomplexobj(d) else d * d
    n = a.size if dims is None else math.prod(a.shape[i] for i in dims)
    # n <= correction divides by 0 (inf, or nan for a constant), as PyTorch does
    v = jnp.sum(squares, axis=dims, keepdims=keepdim) / (n - correction if n > correction else 0)
    v = _std_sqrt(v) if sqrt else v
    return (v, jnp.mean(a, axis=dims, keepdims=keepdim)) if with_mean else v


OPS["var"] = _var_op = Op("var", _var_impl, "VarBackward0", (0,))


def _var_args(input, dim, unbiased, keepdim, correction, name="var"):
    if unbiased is not None and not isinstance(unbiased, bool):
        # var(x, dim, keepdim) positional form: the third argument is keepdim
        unbiased, keepdim = None, unbiased
    if isinstance(dim, bool) and unbiased is None:       # var(x, unbiased)
        dim, unbiased = None, dim
    if correction is None:
        correction = 0 if unbiased is False else 1
    if not is_float(input._dtype):
        which = name if name.endswith("_mean") else "std and var"
        raise RuntimeError(f"{which} only support floating point and complex dtypes")
    return _dims_of(input, dim), correction, keepdim


def _var_like(name, sqrt, with_mean, grad_fn):
    def torch_fn(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
        dims, correction, keepdim = _var_args(input, dim, unbiased, keepdim, correction, name)
        return apply(_var_op, (input,), (("dims", dims), ("correction", correction),
                                         ("keepdim", keepdim), ("sqrt", sqrt),
                                         ("with_mean", with_mean)), grad_fn)
    torch_fn.__name__ = name
    expose(name, torch_fn, inplace=False, method=not with_mean)
    return torch_fn


var = _var_like("var", False, False, "VarBackward0")
std = _var_like("std", True, False, "StdBackward0")
var_mean = _var_like("var_mean", False, True, "VarMeanBackward0")
std_mean = _var_like("std_mean", True, True, "StdMeanBackward0")


def _logsumexp_impl(a, *, dims, keepdim):
    import jax.scipy.special as sp
    if a.ndim == 0:
        return a
    return sp.logsumexp(a, axis=dims, keepdims=keepdim)


OPS["logsumexp"] = _lse_op = Op("logsumexp", _logsumexp_impl, "LogsumexpBackward0", (0, "result"))


def logsumexp(input, dim, keepdim=False):
    if not is_float(input._dtype):
        input = input.to(dt.get_default_dtype())
    if isinstance(dim, (tuple, list)) and not dim:
        # PyTorch reduces over every dim, then fails to write the kept-dims result
        if input.numel() and input.ndim and not keepdim:
            raise RuntimeError(f"output with shape [] doesn't match the broadcast shape "
                               f"{[1] * input.ndim}")
        dim = tuple(range(input.ndim))
    return apply(_lse_op, (input,), (("dims", _dims_of(input, dim) or ()), ("keepdim", keepdim)))


expose("logsumexp", logsumexp, inplace=False)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """torch.norm: 'nuc' is linalg.matrix_norm, everything else (including 'fro')
    linalg.vector_norm, as PyTorch dispatches it."""
    from .decomp import matrix_norm, vector_norm
    if p == "nuc":
        dims = (-2, -1) if dim is None else (dim,) if isinstance(dim, int) else dim
        return matrix_norm(input, "nuc", dims, keepdim, dtype=dtype)
    return vector_norm(input, 2 if p in ("fro", None) else p, dim, keepdim, dtype=dtype)


expose("norm", norm, inplace=False)


def dist(input, other, p=2):
    """The p-norm of input - other."""
    from .decomp import vector_norm
    from .pointwise import sub
    return vector_norm(sub(input, other), p)


expose("dist", dist, inplace=False, out=False)


# -- any / all / count_nonzero ----------------------------------------------------------------
def _bool_reduce(name, fn):
    def impl(a, *, dims, keepdim):
        return fn(a, axis=dims, keepdims=keepdim)
    op = OPS[name] = Op(name, impl, None, (), False)

    def torch_fn(input, dim=None, keepdim=False):
        out = apply(op, (input,), (("dims", _dims_of(input, dim)), ("keepdim", keepdim)))
        return out if input._dtype is not dt.uint8 else out.to(dt.uint8)
    torch_fn.__name__ = name
    expose(name, torch_fn, inplace=False)


_bool_reduce("any", jnp.any)
_bool_reduce("all", jnp.all)


def count_nonzero(input, dim=None):
    from .pointwise import ne
    return sum(ne(input, 0), dim)


expose("count_nonzero", count_nonzero, inplace=False, out=False)


# -- scans ------------------------------------------------------------------------------------------
def _cum_impl(a, *, dim, dtype, kind):
    a = a.astype(dtype)
    if a.ndim == 0:
        return a
    # (each output rounded once from the running float32 value, as PyTorch's)
    acc = a.astype(opmath(dtype))
    if kind == "sum":
        return jnp.cumsum(acc, axis=dim).astype(dtype)
    if kind == "prod":
        return jnp.cumprod(acc, axis=dim).astype(dtype)
    return jax.lax.cumlogsumexp(acc, axis=dim).astype(dtype)


OPS["cumsum"] = _cum_op = Op("cumsum", _cum_impl, "CumsumBackward0", ())


def _scan(name, kind, grad_fn, saves=()):
    def torch_fn(input, dim, *, dtype=None):
        if kind == "logsumexp" and not is_float(input._dtype):
            raise not_implemented("logcumsumexp_out_cpu", input._dtype)
        d = _sum_dtype(input, dtype, name) if kind != "logsumexp" else input._dtype
        return apply(_cum_op, (input,), (("dim", wrap_dim(dim, input.ndim)), ("dtype", d.np),
                                         ("kind", kind)), grad_fn)

    def inplace(self, dim, *, dtype=None):
        if dtype is not None and dtype is not self._dtype:
            raise RuntimeError(f"Bad in-place call: input tensor dtype {_c_name(self._dtype)} and "
                               f"output tensor dtype {_c_name(dtype)} should match")
        return inplace_method(torch_fn)(self, dim, dtype=self._dtype)
    torch_fn.__name__ = name
    expose(name, torch_fn, inplace=False)
    if kind != "logsumexp":
        METHODS[name + "_"] = inplace
    return torch_fn


def _c_name(d):
    return {"float32": "float", "float64": "double", "int64": "long int"}.get(d.name, d.name)


cumsum = _scan("cumsum", "sum", "CumsumBackward0")
cumprod = _scan("cumprod", "prod", "CumprodBackward0")
logcumsumexp = _scan("logcumsumexp", "logsumexp", "LogcumsumexpBackward0")


def _cumext_impl(a, *, dim, largest):
    """Running max/min and the index where it was last attained (PyTorch's choice:
    ties take the later index, nan sticks)."""
    if a.ndim == 0:
        return a, jnp.zeros((), jnp.int64)
    n = a.shape[dim]
    idx = jnp.broadcast_to(jnp.arange(n).reshape((n,) + (1,) * (a.ndim - dim - 1)), a.shape)

    def combine(x, y):          # associative: x comes before y
        (va, ia), (vb, ib) = x, y
        later = (vb >= va) if largest else (vb <= va)
        if jnp.issubdtype(va.dtype, jnp.inexact):
            later = jnp.isnan(vb) | (~jnp.isnan(va) & later)
        return jnp.where(later, vb, va), jnp.where(later, ib, ia)
    _, indices = jax.lax.associative_scan(combine, (jax.lax.stop_gradient(a), idx), axis=dim)
    values = jnp.take_along_axis(a, indices, axis=dim)    # the gradient goes to the index
    return values, indices.astype(jnp.int64)


OPS["cummax"] = _cumext_op = Op("cummax", _cumext_impl, "CummaxBackward0", (0,))


def _cumext(name, largest):
    def torch_fn(input, dim):
        if input._dtype.is_complex:
            raise not_implemented(name + "_cpu", input._dtype)
        values, indices = apply(_cumext_op, (input,), (("dim", wrap_dim(dim, input.ndim)),
                                                       ("largest", largest)),
                                name.capitalize() + "Backward0")
        return named_result(name, values, indices)
    torch_fn.__name__ = name
    expose(name, torch_fn, inplace=False)
    return torch_fn


cummax = _cumext("cummax", True)
cummin = _cumext("cummin", False)

del builtins
