"""Sorting and order statistics (sort, topk, kthvalue, median, mode, quantile) and
counting (unique, bincount, histc).

Values are always gathered from the input at the computed indices, so jax.vjp sends
each gradient to the element that was selected, as PyTorch does. Results whose shape
depends on the values (unique, bincount) are computed on the host.
"""
import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor
from ..autograd.grad_mode import is_grad_enabled
from ._common import expose, is_float, no_derivative, not_implemented
from .dispatch import apply
from .reduce import named_result
from .registry import Op, OPS
from ._util import wrap_dim


def _order(a, dim, descending, stable=True):
    """Indices that sort `a` along dim; nan sorts as the largest value (PyTorch)."""
    return jnp.argsort(a, axis=dim, stable=stable, descending=descending)


def _sort_impl(a, *, dim, descending):
    if a.ndim == 0:
        return a, jnp.zeros((), jnp.int64)
    idx = _order(jax.lax.stop_gradient(a), dim, descending)
    return jnp.take_along_axis(a, idx, axis=dim), idx.astype(jnp.int64)


OPS["sort"] = _sort_op = Op("sort", _sort_impl, "SortBackward0", ())


_NO_STABLE = object()


def sort(input, dim=-1, descending=False, *, stable=_NO_STABLE):
    """Always stable; passing stable= at all selects PyTorch's other overload, whose node
    is SortBackward1."""
    if isinstance(dim, bool):                   # sort(x, descending) positional quirk
        dim, descending = -1, dim
    d = wrap_dim(dim, input.ndim)
    if input._dtype.is_complex:
        raise RuntimeError(" Sort does not support complex dtypes on CPU")
    values, indices = apply(_sort_op, (input,), (("dim", d), ("descending", bool(descending))),
                            "SortBackward0" if stable is _NO_STABLE else "SortBackward1")
    return named_result("sort", values, indices)


def argsort(input, dim=-1, descending=False, *, stable=False):
    return sort(input, dim, descending).indices


def msort(input):
    d = 0
    if input._dtype.is_complex:
        raise RuntimeError(" Sort does not support complex dtypes on CPU")
    values, _ = apply(_sort_op, (input,), (("dim", d), ("descending", False)))
    return values


expose("sort", sort, inplace=False)
expose("argsort", argsort, inplace=False, out=False)
expose("msort", msort, inplace=False)


# -- topk / kthvalue ---------------------------------------------------------------------------
def _topk_impl(a, *, k, dim, largest):
    if a.ndim == 0:
        return a, jnp.zeros((), jnp.int64)
    idx = _order(jax.lax.stop_gradient(a), dim, largest)
    idx = jax.lax.slice_in_dim(idx, 0, k, axis=dim)
    return jnp.take_along_axis(a, idx, axis=dim), idx.astype(jnp.int64)


OPS["topk"] = _topk_op = Op("topk", _topk_impl, "TopkBackward0", ())


def topk(input, k, dim=-1, largest=True, sorted=True):
    d = wrap_dim(dim, input.ndim)
    if input._dtype.is_complex:
        raise RuntimeError(" topk does not support complex dtypes on CPU")
    n = input.shape[d] if input.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    if input._dtype is dt.bool:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    values, indices = apply(_topk_op, (input,), (("k", int(k)), ("dim", d),
                                                 ("largest", bool(largest))))
    return named_result("topk", values, indices)


expose("topk", topk, inplace=False)


def _kth_impl(a, *, k, dim, keepdim):
    if a.ndim == 0:
        return a, jnp.zeros((), jnp.int64)
    idx = _order(jax.lax.stop_gradient(a), dim, False)
    idx = jax.lax.slice_in_dim(idx, k - 1, k, axis=dim)
    values = jnp.take_along_axis(a, idx, axis=dim)
    if not keepdim:
        values, idx = jnp.squeeze(values, dim), jnp.squeeze(idx, dim)
    return values, idx.astype(jnp.int64)


OPS["kthvalue"] = _kth_op = Op("kthvalue", _kth_impl, "KthvalueBackward0", ())


def kthvalue(input, k, dim=-1, keepdim=False):
    if input._dtype.is_complex:
        raise not_implemented("kthvalue_cpu", input._dtype)
    d = wrap_dim(dim, input.ndim)
    _nonempty_dim(input, d, "kthvalue")
    n = input.shape[d] if input.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    values, indices = apply(_kth_op, (input,), (("k", int(k)), ("dim", d), ("keepdim", keepdim)))
    return named_result("kthvalue", values, indices)


expose("kthvalue", kthvalue, inplace=False)


# -- median / nanmedian --------------------------------------------------------------------------
def _median_index(a, dim, ignore_nan):
    """Index of the lower median along dim (nan: the first nan, unless ignored)."""
    a = jax.lax.stop_gradient(a)
    idx = _order(a, dim, False)
    n = a.shape[dim]
    if ignore_nan:
        valid = jnp.sum(~jnp.isnan(a), axis=dim, keepdims=True) if is_float_array(a) \
            else jnp.full_like(jnp.sum(a, axis=dim, keepdims=True), n)
        pos = jnp.maximum(valid - 1, 0) // 2
    else:
        pos = jnp.full((1,) * a.ndim, (n - 1) // 2)
        if is_float_array(a):
            has_nan = jnp.any(jnp.isnan(a), axis=dim, keepdims=True)
            first_nan = jnp.sum(~jnp.isnan(a), axis=dim, keepdims=True)   # nans sort last
            pos = jnp.where(has_nan, first_nan, pos)
    return jnp.take_along_axis(idx, jnp.broadcast_to(pos, pos.shape).astype(idx.dtype), axis=dim)


def _nonempty_dim(input, d, name):
    if input.ndim and input.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def is_float_array(a):
    return jnp.issubdtype(a.dtype, jnp.inexact)


def _median_dim_impl(a, *, dim, keepdim, ignore_nan):
    if a.ndim == 0:
        return a, jnp.zeros((), jnp.int64)
    idx = _median_index(a, dim, ignore_nan)
    values = jnp.take_along_axis(a, idx, axis=dim)
    if not keepdim:
        values, idx = jnp.squeeze(values, dim), jnp.squeeze(idx, dim)
    return values, idx.astype(jnp.int64)


def _median_all_impl(a, *, ignore_nan):
    flat = a.reshape(-1)
    idx = _median_index(flat, 0, ignore_nan)
    value = jax.lax.stop_gradient(flat[idx[0]])
    if not is_float_array(flat):
        return value
    # PyTorch shares the gradient evenly among all elements equal to the median: the
    # result is `value` plus a zero whose derivative is mask / count
    mask = jax.lax.stop_gradient((flat == value) | (jnp.isnan(flat) & jnp.isnan(value)))
    zero = jnp.where(mask, flat - jax.lax.stop_gradient(flat), 0).sum()
    return value + zero / jnp.maximum(mask.sum(), 1).astype(flat.dtype)


OPS["median_dim"] = _median_dim_op = Op("median_dim", _median_dim_impl, "MedianBackward1", ())
OPS["median"] = _median_all_op = Op("median", _median_all_impl, "MedianBackward0", (0, "result"))


def _median(name, ignore_nan):
    node = name.capitalize()

    def torch_fn(input, dim=None, keepdim=False):
        if input._dtype.is_complex:
            raise not_implemented("median_cpu" if dim is None else "median_out", input._dtype)
        if dim is None:
            if input.numel() == 0:
                return apply(_median_all_op, (input.reshape(1) * float("nan"),),
                             (("ignore_nan", ignore_nan),), node + "Backward0")
            return apply(_median_all_op, (input,), (("ignore_nan", ignore_nan),), node + "Backward0")
        d = wrap_dim(dim, input.ndim)
        _nonempty_dim(input, d, name)
        values, indices = apply(_median_dim_op, (input,),
                                (("dim", d), ("keepdim", keepdim), ("ignore_nan", ignore_nan)),
                                node + "Backward1")
        return named_result(name, values, indices)
    torch_fn.__name__ = name
    expose(name, torch_fn, inplace=False)
    return torch_fn


median = _median("median", False)
nanmedian = _median("nanmedian", True)


def _mode_impl(a, *, dim, keepdim):
    """The most frequent value (the smallest among equally frequent ones) and the last
    index where it occurs, as PyTorch."""
    if a.ndim == 0:
        return a, jnp.zeros((), jnp.int64)
    x = jnp.moveaxis(jax.lax.stop_gradient(a), dim, -1)
    eq = x[..., :, None] == x[..., None, :]
    counts = eq.sum(-1)
    best = counts.max(-1, keepdims=True)
    top = jnp.inf if is_float_array(x) else True if x.dtype == jnp.bool_ else jnp.iinfo(x.dtype).max
    value = jnp.where(counts == best, x, top).min(-1, keepdims=True)
    n = x.shape[-1]
    last = jnp.max(jnp.where(x == value, jnp.arange(n), -1), axis=-1, keepdims=True)
    idx = jnp.moveaxis(last, -1, dim)
    values = jnp.take_along_axis(a, idx, axis=dim)
    if not keepdim:
        values, idx = jnp.squeeze(values, dim), jnp.squeeze(idx, dim)
    return values, idx.astype(jnp.int64)


OPS["mode"] = _mode_op = Op("mode", _mode_impl, "ModeBackward0", ())


def mode(input, dim=-1, keepdim=False):
    if input._dtype.is_complex:
        raise not_implemented("mode_cpu", input._dtype)
    values, indices = apply(_mode_op, (input,), (("dim", wrap_dim(dim, input.ndim)),
                                                 ("keepdim", keepdim)))
    return named_result("mode", values, indices)


expose("mode", mode, inplace=False)


# -- quantile --------------------------------------------------------------------------------------
def _quantile_impl(a, q, *, dim, keepdim, interpolation, ignore_nan, scalar_q):
    if dim is None:
        a, dim = a.reshape(-1), 0
    elif a.ndim == 0:            # dim 0 of a 0-d tensor: the tensor itself
        out = _quantile_impl(a.reshape(1), q, dim=0, keepdim=False, interpolation=interpolation,
                             ignore_nan=ignore_nan, scalar_q=scalar_q)
        return out
    method = {"linear": "linear", "lower": "lower", "higher": "higher", "nearest": "nearest",
              "midpoint": "midpoint"}[interpolation]
    fn = jnp.nanquantile if ignore_nan else jnp.quantile
    out = fn(a, q, axis=dim, keepdims=keepdim, method=method)
    return out


OPS["quantile"] = _quantile_op = Op("quantile", _quantile_impl, "SqueezeBackward4", (0,))


def _quantile(name, ignore_nan):
    def torch_fn(input, q, dim=None, keepdim=False, *, interpolation="linear"):
        scalar_q = not isinstance(q, Tensor)
        _quantile_checks(input, q, scalar_q, interpolation)
        d = None if dim is None else wrap_dim(dim, input.ndim)
        out = apply(_quantile_op, (input, q if not scalar_q else float(q)),
                    (("dim", d), ("keepdim", keepdim), ("interpolation", interpolation),
                     ("ignore_nan", ignore_nan), ("scalar_q", scalar_q)))
        if keepdim and dim is None:
            out = out.reshape(((q.numel(),) if not scalar_q and q.ndim else ()) + (1,) * input.ndim)
        return out
    torch_fn.__name__ = name
    expose(name, torch_fn, inplace=False)
    return torch_fn


def _quantile_checks(input, q, scalar_q, interpolation):
    """PyTorch's argument errors, in its order (both spellings say quantile())."""
    if scalar_q and not 0 <= q <= 1:
        raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {q}")
    if input.numel() == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    if not input._dtype.is_floating_point or input._dtype.itemsize < 4:
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if not scalar_q:
        if q.ndim > 1:
            raise RuntimeError("quantile() q must be a scalar or 1D tensor")
        if q._dtype is not input._dtype:
            raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise RuntimeError("quantile() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    if not scalar_q and q.numel():
        values = _host(q)       # a host check, as PyTorch's (q is small)
        if values.min() < 0 or values.max() > 1:
            raise RuntimeError("quantile() q values must be in the range [0, 1]")


quantile = _quantile("quantile", False)
nanquantile = _quantile("nanquantile", True)


# -- unique, bincount, histc: value-dependent shapes, computed on the host ---------------------
def _host(x):
    return np.asarray(x.detach())


def _from_host(values, dtype, device):
    from .._factories import tensor_from_numpy
    return tensor_from_numpy(values, dtype, device)


# PyTorch records a node for the values of unique whose backward raises; here the values
# are then a gather of the input at the first occurrences the host found.
def _gather_impl(x, *, index, axis, error):
    def gather(x):
        return jnp.take(x.reshape(-1) if axis is None else x, jnp.asarray(index, jnp.int32),
                        axis=axis or 0)
    return no_derivative(gather, NotImplementedError(
        f"the derivative for '{error}' is not implemented."))(x)


OPS["unique_values"] = _unique_values_op = Op("unique_values", _gather_impl)


def _unique_values(input, values, first, axis, grad_fn, error):
    if not (input.requires_grad and is_grad_enabled()):
        return _from_host(values, input._dtype, input.device)
    params = (("index", tuple(first.tolist())), ("axis", axis), ("error", error))
    return apply(_unique_values_op, (input,), params, grad_fn)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    a = _host(input)
    if dim is None:
        values, first, inverse, counts = np.unique(a.reshape(-1), return_index=True,
                                                   return_inverse=True, return_counts=True)
        inverse = inverse.reshape(a.shape)
        node = ("Unique2Backward0", "_unique2")
    else:
        d = wrap_dim(dim, input.ndim)
        values, first, inverse, counts = np.unique(a, return_index=True, return_inverse=True,
                                                   return_counts=True, axis=d)
        inverse = inverse.reshape(-1)
        node = ("UniqueDimBackward0", "unique_dim")
    out = [_unique_values(input, values, first, None if dim is None else d, *node)]
    if return_inverse:
        out.append(_from_host(inverse, dt.int64, input.device))
    if return_counts:
        out.append(_from_host(counts, dt.int64, input.device))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    a = _host(input)
    d = 0 if dim is None else wrap_dim(dim, input.ndim)
    x = a.reshape(-1) if dim is None else np.moveaxis(a, d, 0)
    n = x.shape[0]
    if n == 0:
        starts = np.zeros(0, dtype=np.int64)
    else:
        row = int(np.prod(x.shape[1:]))        # (-1 cannot be inferred for one element)
        changed = np.any((x[1:] != x[:-1]).reshape(n - 1, row), axis=1)
        starts = np.concatenate([[0], np.nonzero(changed)[0] + 1])
    values = x[starts] if dim is None else np.moveaxis(x[starts], 0, d)
    group = np.cumsum(np.isin(np.arange(n), starts)) - 1
    counts = np.diff(np.concatenate([starts, [n]]))
    out = [_unique_values(input, values, starts, None if dim is None else d,
                          "UniqueConsecutiveBackward0", "unique_consecutive")]
    if return_inverse:
        out.append(_from_host(group.reshape(a.shape) if dim is None else group, dt.int64,
                              input.device))
    if return_counts:
        out.append(_from_host(counts, dt.int64, input.device))
    return out[0] if len(out) == 1 else tuple(out)


expose("unique", unique, inplace=False, out=False)
expose("unique_consecutive", unique_consecutive, inplace=False, out=False)


def bincount(input, weights=None, minlength=0):
    if is_float(input._dtype) or input._dtype is dt.bool:
        raise not_implemented("bincount_cpu", input._dtype)
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is not None and (weights.ndim != 1 or weights.shape[0] != input.numel()):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    a = _host(input)
    if input.ndim != 1 or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return _from_host(np.bincount(a, minlength=minlength), dt.int64, input.device)
    out_dtype = weights._dtype if weights._dtype in (dt.float32, dt.float64) else dt.float64
    counts = np.bincount(a, weights=_host(weights).astype(np.float64), minlength=minlength)
    return _from_host(counts, out_dtype, input.device)


def histc(input, bins=100, min=0, max=0):
    if not is_float(input._dtype):
        raise not_implemented("histogram_cpu", input._dtype)
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    a = _host(input).astype(np.float64)
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    counts, _ = np.histogram(a[(a >= lo) & (a <= hi)], bins=bins, range=(lo, hi))
    return _from_host(counts, input._dtype, input.device)


expose("bincount", bincount, inplace=False, out=False)
expose("histc", histc, inplace=False)
