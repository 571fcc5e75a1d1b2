"""Reductions: sum, mean, prod, max/min (with indices), argmax/argmin, var/std ..."""
import collections

import jax.numpy as jnp

from .. import _dtype as dt
from .._tensor import Tensor
from .dispatch import apply
from .registry import Op, OPS, torch_function
from ._util import scalar_name, wrap_dim, wrap_dims

# PyTorch's named tuples for (values, indices) results
MaxResult = collections.namedtuple("max", ["values", "indices"])
MinResult = collections.namedtuple("min", ["values", "indices"])
_NAMED = {"max": MaxResult, "min": MinResult}
for _n in ("sort", "topk", "kthvalue", "mode", "median", "nanmedian", "cummax", "cummin",
           "aminmax", "var_mean", "std_mean"):
    _NAMED[_n] = collections.namedtuple(_n, ["min", "max"] if _n == "aminmax" else ["values", "indices"])


def named_result(name, values, indices):
    return _NAMED[name](values, indices)


def _reduction(name, fn, grad_fns, *, dtype_rule, saves=(0,)):
    """A reduction over all dims (grad_fns[0]) or given dims (grad_fns[1])."""
    def impl(a, *, dims, keepdim, dtype):
        return fn(a.astype(dtype), axis=dims, keepdims=keepdim)
    op = OPS[name] = Op(name, impl, grad_fns[0], saves)

    def torch_fn(input, dim=None, keepdim=False, *, dtype=None, out=None):
        d = dtype_rule(input, dtype, name)
        if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0 and name != "sum"):
            params = (("dims", None), ("keepdim", keepdim), ("dtype", d.np))
            return apply(op, (input,), params, grad_fns[0])
        dims = wrap_dims(dim, input.ndim)
        params = (("dims", dims), ("keepdim", keepdim), ("dtype", d.np))
        return apply(op, (input,), params, grad_fns[1])
    torch_fn.__name__ = name
    torch_function(name, method=True)(torch_fn)
    return torch_fn


def _sum_dtype(input, dtype, name):
    if dtype is not None:
        return dtype
    d = input._dtype
    return dt.int64 if not (d.is_floating_point or d.is_complex) else d


def _mean_dtype(input, dtype, name):
    d = dtype or input._dtype
    if not (d.is_floating_point or d.is_complex):
        raise RuntimeError(f"{name}(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {scalar_name(d)}")
    return d


sum = _reduction("sum", jnp.sum, ("SumBackward0", "SumBackward1"), dtype_rule=_sum_dtype, saves=())
nansum = _reduction("nansum", jnp.nansum, ("NansumBackward0", "NansumBackward0"), dtype_rule=_sum_dtype)
mean = _reduction("mean", jnp.mean, ("MeanBackward0", "MeanBackward1"), dtype_rule=_mean_dtype, saves=())
nanmean = _reduction("nanmean", jnp.nanmean, ("NanmeanBackward0", "NanmeanBackward0"),
                     dtype_rule=_mean_dtype)


@torch_function("prod", method=True)
def prod(input, dim=None, keepdim=False, *, dtype=None):
    d = _sum_dtype(input, dtype, "prod")
    if dim is None:
        return apply(_prod_op, (input,), (("dims", None), ("keepdim", False), ("dtype", d.np)),
                     "ProdBackward0")
    return apply(_prod_op, (input,), (("dims", (wrap_dim(dim, input.ndim),)), ("keepdim", keepdim),
                                      ("dtype", d.np)), "ProdBackward1")


_prod_op = OPS["prod"] = Op("prod", lambda a, *, dims, keepdim, dtype:
                            jnp.prod(a.astype(dtype), axis=dims, keepdims=keepdim),
                            "ProdBackward0", (0, "result"))


# -- max / min ----------------------------------------------------------------------------
def _argext(a, dim, keepdim, largest):
    """PyTorch returns the first index of the extreme value (nan counts as extreme)."""
    return (jnp.argmax if largest else jnp.argmin)(a, axis=dim, keepdims=keepdim)


def _ext_dim_impl(a, *, dim, keepdim, largest):
    values = (jnp.max if largest else jnp.min)(a, axis=dim, keepdims=keepdim)
    return values, _argext(a, dim, keepdim, largest).astype(jnp.int64)


def _ext_all_impl(a, *, largest):
    return (jnp.max if largest else jnp.min)(a)


OPS["max_dim"] = _ext_dim_op = Op("max_dim", _ext_dim_impl, "MaxBackward0", (0,))
OPS["max_all"] = _ext_all_op = Op("max_all", _ext_all_impl, "MaxBackward1", (0, "result"))


def _empty_check(input, name, dim=None):
    if input.numel() == 0 and (dim is None or input.shape[dim] == 0):
        if dim is None:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
        raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")


def _extreme(name, largest):
    def torch_fn(input, dim=None, keepdim=False, *, out=None):
        if isinstance(dim, Tensor):
            from .pointwise import maximum, minimum
            return (maximum if largest else minimum)(input, dim)
        if dim is None:
            _empty_check(input, name)
            return apply(_ext_all_op, (input,), (("largest", largest),),
                         "MaxBackward1" if largest else "MinBackward1")
        d = wrap_dim(dim, input.ndim)
        _empty_check(input, name, d)
        values, indices = apply(_ext_dim_op, (input,),
                                (("dim", d), ("keepdim", keepdim), ("largest", largest)),
                                "MaxBackward0" if largest else "MinBackward0")
        return named_result(name, values, indices)
    torch_fn.__name__ = name
    torch_function(name, method=True)(torch_fn)
    return torch_fn


max = _extreme("max", True)
min = _extreme("min", False)


def _amext(name, largest):
    def impl(a, *, dims, keepdim):
        return (jnp.max if largest else jnp.min)(a, axis=dims, keepdims=keepdim)
    op = OPS[name] = Op(name, impl, name.capitalize() + "Backward0", (0, "result"))

    def torch_fn(input, dim=(), keepdim=False, *, out=None):
        dims = None if dim == () or dim is None else wrap_dims(dim, input.ndim)
        return apply(op, (input,), (("dims", dims), ("keepdim", keepdim)))
    torch_function(name, method=True)(torch_fn)
    return torch_fn


amax = _amext("amax", True)
amin = _amext("amin", False)


@torch_function("aminmax", method=True)
def aminmax(input, *, dim=None, keepdim=False):
    return _NAMED["aminmax"](amin(input, () if dim is None else dim, keepdim),
                             amax(input, () if dim is None else dim, keepdim))


def _arg_impl(a, *, dim, keepdim, largest):
    if dim is None:
        out = _argext(a.reshape(-1), 0, False, largest)
        return (out.reshape((1,) * a.ndim) if keepdim else out).astype(jnp.int64)
    return _argext(a, dim, keepdim, largest).astype(jnp.int64)


OPS["argmax"] = _arg_op = Op("argmax", _arg_impl, None, (), False)


def _arg(name, largest):
    def torch_fn(input, dim=None, keepdim=False):
        d = None if dim is None else wrap_dim(dim, input.ndim)
        _empty_check(input, name, d)
        return apply(_arg_op, (input,), (("dim", d), ("keepdim", keepdim), ("largest", largest)))
    torch_function(name, method=True)(torch_fn)
    return torch_fn


argmax = _arg("argmax", True)
argmin = _arg("argmin", False)


# -- statistics -----------------------------------------------------------------------------
def _var_impl(a, *, dims, correction, keepdim, sqrt):
    v = jnp.var(a, axis=dims, ddof=correction, keepdims=keepdim)
    return jnp.sqrt(v) if sqrt else v


OPS["var"] = _var_op = Op("var", _var_impl, "VarBackward0", (0,))


def _var_like(name, sqrt):
    def torch_fn(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
        if isinstance(unbiased, bool) or unbiased is None:
            pass
        else:  # var(x, dim, keepdim) positional forms use dim first
            unbiased, keepdim = None, unbiased
        if correction is None:
            correction = 0 if unbiased is False else 1
        _mean_dtype(input, None, name)
        dims = None if dim is None else wrap_dims(dim, input.ndim)
        return apply(_var_op, (input,), (("dims", dims), ("correction", correction),
                                         ("keepdim", keepdim), ("sqrt", sqrt)),
                     ("StdBackward0" if sqrt else "VarBackward0"))
    torch_function(name, method=True)(torch_fn)
    return torch_fn


var = _var_like("var", False)
std = _var_like("std", True)


@torch_function("var_mean")
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


@torch_function("std_mean")
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def _logsumexp_impl(a, *, dims, keepdim):
    import jax.scipy.special as sp
    return sp.logsumexp(a, axis=dims, keepdims=keepdim)


OPS["logsumexp"] = _lse_op = Op("logsumexp", _logsumexp_impl, "LogsumexpBackward0", (0, "result"))


@torch_function("logsumexp", method=True)
def logsumexp(input, dim, keepdim=False):
    if not (input._dtype.is_floating_point or input._dtype.is_complex):
        input = input.to(dt.get_default_dtype())
    return apply(_lse_op, (input,), (("dims", wrap_dims(dim, input.ndim)), ("keepdim", keepdim)))


def _bool_reduce(name, fn):
    def impl(a, *, dims, keepdim):
        return fn(a, axis=dims, keepdims=keepdim)
    op = OPS[name] = Op(name, impl, None, (), False)

    def torch_fn(input, dim=None, keepdim=False, *, out=None):
        dims = None if dim is None else wrap_dims(dim, input.ndim)
        out = apply(op, (input,), (("dims", dims), ("keepdim", keepdim)))
        return out if input._dtype is not dt.uint8 else out.to(dt.uint8)
    torch_function(name, method=True)(torch_fn)


_bool_reduce("any", jnp.any)
_bool_reduce("all", jnp.all)


@torch_function("count_nonzero", method=True)
def count_nonzero(input, dim=None):
    return sum(input != 0, dim)


def _cum_impl(a, *, dim, dtype, kind):
    a = a.astype(dtype)
    return jnp.cumsum(a, axis=dim) if kind == "sum" else jnp.cumprod(a, axis=dim)


OPS["cumsum"] = _cum_op = Op("cumsum", _cum_impl, "CumsumBackward0", ())


@torch_function("cumsum", method=True)
def cumsum(input, dim, *, dtype=None, out=None):
    d = _sum_dtype(input, dtype, "cumsum")
    return apply(_cum_op, (input,), (("dim", wrap_dim(dim, input.ndim)), ("dtype", d.np),
                                     ("kind", "sum")))


@torch_function("cumprod", method=True)
def cumprod(input, dim, *, dtype=None, out=None):
    d = _sum_dtype(input, dtype, "cumprod")
    return apply(_cum_op, (input,), (("dim", wrap_dim(dim, input.ndim)), ("dtype", d.np),
                                     ("kind", "prod")), "CumprodBackward0")


def _norm_impl(a, *, p, dims, keepdim):
    if p == float("inf"):
        return jnp.max(jnp.abs(a), axis=dims, keepdims=keepdim)
    if p == 2:
        return jnp.sqrt(jnp.sum(jnp.abs(a) ** 2, axis=dims, keepdims=keepdim))
    return jnp.sum(jnp.abs(a) ** p, axis=dims, keepdims=keepdim) ** (1.0 / p)


OPS["norm"] = _norm_op = Op("norm", _norm_impl, "NormBackward1", (0, "result"))


@torch_function("norm", method=True)
def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    if p in ("fro", None):
        p = 2
    dims = None if dim is None else wrap_dims(dim, input.ndim)
    return apply(_norm_op, (input,), (("p", float(p)), ("dims", dims), ("keepdim", keepdim)),
                 "NormBackward1" if dim is not None else "NormBackward0")
