"""Index-driven writes and reads: scatter (and _add, _reduce), index_add/copy/fill,
masked_scatter, take, take_along_dim, searchsorted/bucketize; and the small composites
cdist, diff, cartesian_prod, combinations.

The JAX `.at[...]` updates give PyTorch's gradients: a scatter's input gets none where
it was overwritten, its source gets the gradient gathered at the index.
"""
import itertools

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor
from ._common import NOT_IMPLEMENTED, as_scalar, expose, inplace_method, is_float, no_derivative
from .dispatch import apply
from .registry import METHODS, Op, OPS
from ._util import out_of_range, scalar_name, values_to_check, wrap_dim


def _check_index(name, input, dim, index, src=None):
    if index._dtype not in (dt.int64, dt.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    if index.ndim != input.ndim and index.numel() and input.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if isinstance(src, Tensor) and src.ndim != index.ndim and index.numel() and src.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    if isinstance(src, Tensor) and src._dtype is not input._dtype:
        # (every scatter variant reports itself as scatter())
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if index.ndim == input.ndim and input.ndim:
        tensor_src = isinstance(src, Tensor) and src.ndim == index.ndim
        if any(i != dim and m > n for i, (m, n) in enumerate(zip(index.shape, input.shape))) or \
                tensor_src and any(m > n for m, n in zip(index.shape, src.shape)):
            raise RuntimeError(
                f"Expected index {list(index.shape)} to be no larger than self "
                f"{list(input.shape)} apart from dimension {dim}"
                + (f" and to be no larger size than src {list(src.shape)}" if tensor_src else ""))
    n = input.shape[dim] if input.ndim else 1
    bad = out_of_range(values_to_check(index), 0, n)       # negative indices too
    if bad is not None:
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {n}")


def _grid(index, dim):
    """Full coordinates for every element of `index`, with `index` itself along dim."""
    coords = list(jnp.indices(index.shape, sparse=True))
    coords[dim] = index
    return tuple(coords)


def _scatter_impl(a, index, src, *, dim, reduce, include_self):
    if a.dtype == jnp.bool_ and reduce in ("multiply", "prod", "amax", "amin"):
        # bool products and extremes as int8 (and, or), then back to bool
        out = _scatter_impl(a.astype(jnp.int8), index, jnp.asarray(src).astype(jnp.int8),
                            dim=dim, reduce=reduce, include_self=include_self)
        return out.astype(jnp.bool_)
    if a.ndim == 0:
        a, index = a.reshape(1), index.reshape(-1)
        src = src.reshape(-1) if hasattr(src, "ndim") and src.ndim == 0 else src
        return _scatter_impl(a, index, src, dim=0, reduce=reduce, include_self=include_self)[0]
    where = _grid(index, dim)
    if hasattr(src, "shape") and src.ndim:
        src = src[tuple(slice(0, n) for n in index.shape)]
    src = jnp.broadcast_to(jnp.asarray(src, a.dtype), index.shape)
    at = a.at[where]
    if reduce is None:
        return at.set(src)
    if reduce in ("add", "sum"):
        base = a if include_self else a.at[where].set(jnp.zeros((), a.dtype))
        if a.dtype == jnp.bool_:                # a bool sum is a logical or
            return base.at[where].max(src)
        return base.at[where].add(src)
    if reduce in ("multiply", "prod"):
        base = a if include_self else a.at[where].set(1)
        return _scatter_prod(base, where, src) if jnp.issubdtype(a.dtype, jnp.inexact) \
            else base.at[where].multiply(src)
    if reduce == "mean":
        base = a if include_self else a.at[where].set(0)
        total = base.at[where].add(src)
        count = jnp.ones_like(a).at[where].add(1) if include_self else \
            jnp.zeros_like(a).at[where].add(1)
        count = jnp.where(count == 0, 1, count)
        return (total / count).astype(a.dtype) if jnp.issubdtype(a.dtype, jnp.inexact) \
            else jnp.floor_divide(total, count).astype(a.dtype)
    return _scatter_extreme(a, where, src, reduce == "amax", include_self)


def _scatter_prod(base, where, src):
    """Products with PyTorch's derivative result / x for every factor (JAX has none for
    repeated indices): the value is exact, the derivative enters through log-free
    ratios."""
    base0, src0 = jax.lax.stop_gradient(base), jax.lax.stop_gradient(src)
    value = base0.at[where].multiply(src0)
    ratio_self = (base - base0) / base0
    ratio_src = (src - src0) / src0
    return value + value * jnp.zeros_like(base).at[where].add(ratio_src) + value * ratio_self


def _scatter_extreme(a, where, src, largest, include_self):
    """amax/amin: PyTorch shares the gradient evenly among all contributions (self
    included) equal to the result."""
    fill = -jnp.inf if largest else jnp.inf
    if not jnp.issubdtype(a.dtype, jnp.inexact):
        fill = jnp.iinfo(a.dtype).min if largest else jnp.iinfo(a.dtype).max
    base = a if include_self else a.at[where].set(fill)
    value = jax.lax.stop_gradient(base.at[where].max(src) if largest else base.at[where].min(src))
    if not jnp.issubdtype(a.dtype, jnp.inexact):
        return value
    self_hit = jax.lax.stop_gradient(base == value)
    src_hit = jax.lax.stop_gradient(src == value[where])
    count = self_hit.astype(a.dtype).at[where].add(src_hit.astype(a.dtype))
    count = jnp.where(count == 0, 1, count)
    # value + (a zero whose derivative is each equal contribution / count)
    zero = jnp.where(self_hit, a - jax.lax.stop_gradient(a), 0)
    zero = zero.at[where].add(jnp.where(src_hit, src - jax.lax.stop_gradient(src), 0))
    touched = jnp.zeros(a.shape, bool).at[where].set(True)
    untouched_self = jnp.where(touched, 0, a - jax.lax.stop_gradient(a))
    return value + jnp.where(touched, zero / count, untouched_self)


OPS["scatter"] = _scatter_op = Op("scatter", _scatter_impl, "ScatterBackward0", (1,))


def _scatter_no_grad_impl(a, index, src, *, dim, reduce, include_self):
    return no_derivative(lambda x, s: _scatter_impl(x, index, s, dim=dim, reduce=reduce,
                                                    include_self=include_self), "scatter")(a, src)


OPS["scatter_legacy_reduce"] = _scatter_nd_op = Op("scatter_legacy_reduce", _scatter_no_grad_impl,
                                                   NOT_IMPLEMENTED, (1,))


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    if src is None:
        src = value
    d = wrap_dim(dim, input.ndim)
    _check_index("scatter", input, d, index, src)
    tensor_src = isinstance(src, Tensor)
    src = src if tensor_src else as_scalar(src)
    params = (("dim", d), ("reduce", reduce), ("include_self", True))
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError(f"reduce argument must be either add or multiply. Got {reduce}")
        return apply(_scatter_nd_op, (input, index, src), params)
    return apply(_scatter_op, (input, index, src), params,
                 "ScatterBackward0" if tensor_src else "ScatterBackward1")


def scatter_add(input, dim, index, src):
    d = wrap_dim(dim, input.ndim)
    _check_index("scatter_add", input, d, index, src)
    return apply(_scatter_op, (input, index, src), (("dim", d), ("reduce", "add"),
                                                    ("include_self", True)), "ScatterAddBackward0")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError("reduce argument must be either sum, prod, mean, amax or amin, got "
                           + str(reduce))
    d = wrap_dim(dim, input.ndim)
    _check_index("scatter_reduce", input, d, index, src)
    return apply(_scatter_op, (input, index, src), (("dim", d), ("reduce", reduce),
                                                    ("include_self", bool(include_self))),
                 "ScatterReduceBackward0")


expose("scatter", scatter, inplace=False)
_scatter_ = inplace_method(scatter)
_scatter_reduce_ = inplace_method(scatter, backward_error=RuntimeError(
    "derivative for aten::scatter_ is not implemented"))


def scatter_inplace(self, dim, index, src=None, *, value=None, reduce=None):
    """Tensor.scatter_; with reduce= its backward raises, as PyTorch's."""
    return (_scatter_ if reduce is None else _scatter_reduce_)(self, dim, index, src, value=value,
                                                               reduce=reduce)


METHODS["scatter_"] = scatter_inplace
expose("scatter_add", scatter_add)
expose("scatter_reduce", scatter_reduce)


# -- index_add / index_copy / index_fill ---------------------------------------------------------
def _index_update_impl(a, index, src, *, dim, kind, alpha):
    if a.ndim == 0:
        return _index_update_impl(a.reshape(1), index, jnp.reshape(src, (-1,)), dim=0, kind=kind,
                                  alpha=alpha)[0]
    where = (slice(None),) * dim + (index,)
    if kind == "add" and a.dtype == jnp.bool_:      # a bool sum is a logical or
        return a.at[where].max(jnp.logical_and(src, bool(alpha)))
    if kind == "add":
        return a.at[where].add(alpha * src if alpha != 1 else src)
    if kind == "copy":
        return a.at[where].set(src)
    return a.at[where].set(jnp.asarray(src, a.dtype))          # fill


OPS["index_add"] = _index_update_op = Op("index_add", _index_update_impl, "IndexAddBackward0", (1,))


def _check_index_vector(name, input, dim, index):
    if index.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    if index._dtype not in (dt.int64, dt.int32):
        raise IndexError(f"{name}(): Expected dtype int32/int64 for index")
    values = values_to_check(index)
    n = input.shape[dim] if input.ndim else 1
    if values is not None and values.size and (values.max() >= n or values.min() < -n):
        bad = values.max() if values.max() >= n else values.min()
        message = f"index {bad} is out of bounds for dimension {dim} with size {n}"
        if name == "index_copy":
            raise IndexError("index_copy_(): " + message)
        raise RuntimeError(message) if name == "index_add" else IndexError(message)


def _check_source(name, input, d, index, source):
    """index_add/index_copy: the source's dtype, index count and slice shapes."""
    if name == "index_add":
        if index.ndim > 1:
            raise IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: "
                             f"{index.ndim} with type: {scalar_name(index._dtype)} and size: "
                             f"{list(index.shape)}")
        if index._dtype not in (dt.int64, dt.int32):
            raise RuntimeError("index_add_(): Expected dtype int32/int64 for index but got: "
                               + scalar_name(index._dtype))
        if source._dtype is not input._dtype:
            raise RuntimeError(f"index_add_(): self ({scalar_name(input._dtype)}) and source "
                               f"({scalar_name(source._dtype)}) must have the same scalar type")
    elif index._dtype is not dt.int64:
        raise RuntimeError("index_copy_(): Expected a long tensor for index, but got "
                           + scalar_name(index._dtype))
    n_src = source.shape[d] if source.ndim else 1
    if index.numel() != n_src:
        if name == "index_add":
            raise RuntimeError(f"index_add_(): Number of indices ({index.numel()}) should be equal "
                               f"to source.size(dim): ({n_src}), for dim: {d}")
        raise IndexError(f"index_copy_(): Number of indices ({index.numel()}) should be equal to "
                         f"source.size(dim) ({n_src})")
    if name == "index_copy" and source._dtype is not input._dtype:
        raise RuntimeError("index_copy_(): self and source expected to have the same dtype, but "
                           f"got (self) {scalar_name(input._dtype)} and (source) "
                           f"{scalar_name(source._dtype)}")
    rest_in = tuple(input.shape[:d]) + tuple(input.shape[d + 1:])
    rest_src = tuple(source.shape[:d]) + tuple(source.shape[d + 1:])
    if source.ndim and rest_in != rest_src:
        if name == "index_add":
            raise RuntimeError("source tensor shape must match self tensor shape, excluding the "
                               f"specified dimension. Got self.shape = {list(input.shape)} "
                               f"source.shape = {list(source.shape)}")
        k = next(i for i, (a, b) in enumerate(zip(rest_in, rest_src)) if a != b) \
            if len(rest_in) == len(rest_src) else 0
        raise RuntimeError("index_copy_(): Source/destination tensor must have same slice shapes. "
                           f"Destination slice shape: {rest_in[k] if rest_in else 1} at dimension "
                           f"{k} and source slice shape: {rest_src[k] if rest_src else 1} at "
                           f"dimension {k}.")


def index_add(input, dim, index, source, *, alpha=1):
    d = wrap_dim(dim, input.ndim)
    _check_source("index_add", input, d, index, source)
    _check_index_vector("index_add", input, d, index)
    return apply(_index_update_op, (input, index, source), (("dim", d), ("kind", "add"),
                                                            ("alpha", alpha)))


def index_copy(input, dim, index, source):
    d = wrap_dim(dim, input.ndim)
    _check_source("index_copy", input, d, index, source)
    _check_index_vector("index_copy", input, d, index)
    return apply(_index_update_op, (input, index, source), (("dim", d), ("kind", "copy"),
                                                            ("alpha", 1)), "IndexCopyBackward0")


def index_fill(input, dim, index, value):
    d = wrap_dim(dim, input.ndim)
    _check_index_vector("index_fill", input, d, index)
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    tensor_value = isinstance(value, Tensor)
    return apply(_index_update_op, (input, index, value if tensor_value else as_scalar(value)),
                 (("dim", d), ("kind", "fill"), ("alpha", 1)),
                 "IndexFillBackward1" if tensor_value else "IndexFillBackward0")


expose("index_add", index_add)
expose("index_copy", index_copy)
expose("index_fill", index_fill, out=False)


def _masked_scatter_impl(a, mask, src):
    mask = jnp.broadcast_to(mask, a.shape)
    flat_mask = mask.reshape(-1)
    position = jnp.cumsum(flat_mask) - 1                 # k-th True takes source[k]
    taken = src.reshape(-1)[jnp.clip(position, 0, src.size - 1)]
    return jnp.where(flat_mask, taken, a.reshape(-1)).reshape(a.shape)


OPS["masked_scatter"] = _masked_scatter_op = Op("masked_scatter", _masked_scatter_impl,
                                                "MaskedScatterBackward0", (1,))


def masked_scatter(input, mask, source):
    if mask._dtype is not dt.bool:
        raise RuntimeError("masked_scatter_ only supports boolean masks, but got mask with dtype "
                           + scalar_name(mask._dtype))
    if source._dtype is not input._dtype:
        raise RuntimeError("masked_scatter: expected self and source to have same dtypes but got"
                           f"{scalar_name(input._dtype)} and {scalar_name(source._dtype)}")
    needed = int(np.asarray(jnp.broadcast_to(mask._data(), tuple(input.shape))).sum())
    if needed > source.numel():
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return apply(_masked_scatter_op, (input, mask, source))


expose("masked_scatter", masked_scatter, out=False)


# -- take, take_along_dim ----------------------------------------------------------------------
def _take_impl(a, index):
    return a.reshape(-1)[index]


OPS["take"] = _take_op = Op("take", _take_impl, "TakeBackward0", (1,))


def take(input, index):
    if index._dtype is not dt.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                           f"{scalar_name(index._dtype)}")
    values = values_to_check(index)
    n = input.numel()
    if n == 0 and index.numel():
        raise IndexError("take(): tried to take from an empty tensor")
    if values is not None and values.size and (values.max() >= n or values.min() < -n):
        bad = values.max() if values.max() >= n else values.min()
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    return apply(_take_op, (input, index))


def _take_along_impl(a, index, *, dim):
    if dim is None:
        return a.reshape(-1)[index.reshape(-1)]
    shape = jnp.broadcast_shapes(
        a.shape[:dim] + (1,) + a.shape[dim + 1:], index.shape[:dim] + (1,) + index.shape[dim + 1:])
    a = jnp.broadcast_to(a, shape[:dim] + (a.shape[dim],) + shape[dim + 1:])
    index = jnp.broadcast_to(index, shape[:dim] + (index.shape[dim],) + shape[dim + 1:])
    return jnp.take_along_axis(a, index, axis=dim)


OPS["take_along_dim"] = _take_along_op = Op("take_along_dim", _take_along_impl, "GatherBackward0", (1,))


def take_along_dim(input, indices, dim=None):
    if indices._dtype is not dt.int64:
        raise RuntimeError("torch.take_along_dim(): dtype of indices should be Long but got "
                           + scalar_name(indices._dtype))
    d = None if dim is None else wrap_dim(dim, input.ndim)
    if d is not None and input.ndim != indices.ndim:
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same number "
                           f"of dimensions, but got {input.ndim} dimensions for input, and "
                           f"{indices.ndim} dimensions for indices")
    return apply(_take_along_op, (input, indices), (("dim", d),))


expose("take", take, inplace=False)
expose("take_along_dim", take_along_dim, inplace=False)


# -- searchsorted / bucketize ----------------------------------------------------------------------
def _searchsorted_impl(seq, values, *, right, dtype):
    side = "right" if right else "left"
    if seq.ndim <= 1:
        return jnp.searchsorted(seq, values, side=side).astype(dtype)
    flat_seq = seq.reshape(-1, seq.shape[-1])
    flat_val = values.reshape(flat_seq.shape[0], -1)
    out = jax.vmap(lambda s, v: jnp.searchsorted(s, v, side=side))(flat_seq, flat_val)
    return out.reshape(values.shape).astype(dtype)


OPS["searchsorted"] = _search_op = Op("searchsorted", _searchsorted_impl, None, (), False)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got "
                               f"{side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got "
                               "side of left while right was True")
        right = side == "right"
    if sorter is not None:
        from .indexing import gather
        sorted_sequence = gather(sorted_sequence, -1, sorter)
    scalar = not isinstance(input, Tensor)
    if scalar:
        from .._factories import tensor
        input = tensor(input, dtype=sorted_sequence.dtype)
    if sorted_sequence.ndim > 1 and tuple(sorted_sequence.shape[:-1]) != tuple(input.shape[:-1]):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the "
                           "first N-1 dimensions of boundaries tensor and input value tensor must "
                           "match, but we got boundaries tensor "
                           f"{list(sorted_sequence.shape)} and input value tensor {list(input.shape)}")
    d = dt.int32 if out_int32 else dt.int64
    return apply(_search_op, (sorted_sequence, input), (("right", bool(right)), ("dtype", d.np)))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


expose("searchsorted", searchsorted, method=False, inplace=False)
expose("bucketize", bucketize, method=False, inplace=False)


# -- small composites ---------------------------------------------------------------------------
def _cdist_impl(x1, x2, *, p):
    from .decomp import _vnorm
    return _vnorm(x1[..., :, None, :] - x2[..., None, :, :], p, -1, False)


OPS["cdist"] = _cdist_op = Op("cdist", _cdist_impl, "CdistBackward0", (0, 1, "result"))


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if not is_float(x1._dtype):
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: "
                           f"{scalar_name(x1._dtype)}")
    return apply(_cdist_op, (x1, x2), (("p", float(p)),))


expose("cdist", cdist, method=False, inplace=False, out=False)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """Composed as PyTorch does: narrow and subtract, n times (a SubBackward0 node)."""
    from .pointwise import sub, logical_xor
    from .shape import cat
    from .views import narrow
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, input.ndim)
    for t in (prepend, append):
        if t is not None and t.ndim != input.ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    parts = [t for t in (prepend, input, append) if t is not None]
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        length = x.shape[d]
        if length == 0:
            break
        hi, lo = narrow(x, d, 1, length - 1), narrow(x, d, 0, length - 1)
        x = logical_xor(hi, lo) if x._dtype is dt.bool else sub(hi, lo)
    return x


expose("diff", diff, inplace=False)


def cartesian_prod(*tensors):
    from .shape import meshgrid, stack
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    from .shape import stack
    from .indexing import index_select
    from .._factories import tensor_from_numpy
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return tensor_from_numpy(np.zeros((0,)), input._dtype, input.device)
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = np.asarray(list(pick(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    columns = [index_select(input, 0, tensor_from_numpy(rows[:, k], dt.int64, input.device))
               for k in range(r)]
    return stack(columns, 1)


expose("cartesian_prod", cartesian_prod, method=False, inplace=False, out=False)
expose("combinations", combinations, method=False, inplace=False, out=False)
