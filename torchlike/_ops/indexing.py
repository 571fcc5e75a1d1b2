"""Tensor.__getitem__ / __setitem__ and index-based ops.

Basic indices (ints, slices, None, ...) produce views through select/slice/unsqueeze,
so writes through them reach the base. Advanced indices (integer tensors or lists,
boolean masks) gather into a new tensor (IndexBackward0); assigning through them is
index_put_ (IndexPutBackward0). Boolean masks become integer indices on the host first,
since the result's shape depends on the mask's values.
"""
import builtins

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype as dt
from .._host_ops import host_index
from .._device import META
from .._meta import is_meta_array, meta_array
from .._tensor import Tensor
from .dispatch import apply
from .registry import Op, OPS, torch_function, tensor_method
from ._common import check_out_overlap, require_tensor, write_out
from ._util import c_type_name, out_of_range, scalar_name, values_to_check
from .registry import FUNCTIONS
from .views import alias, expand, select, slice_dim, unsqueeze


def _treat_as_tuple(index):
    """PyTorch (like old numpy) reads a short list holding sequences, tensors, slices,
    None or ... as a tuple of indices: x[[[0, 1], [1, 0]]] is x[[0, 1], [1, 0]]."""
    if isinstance(index, tuple):
        return True
    if not isinstance(index, list) or len(index) >= 32:
        return False
    return any(isinstance(it, (list, tuple, np.ndarray, Tensor, slice)) or it is None
               or it is Ellipsis for it in index)


class _BadIndex:
    """An index of a type PyTorch refuses, after it counted the indices."""

    def __init__(self, value):
        self.value = value


def _normalize(index):
    """The index as a list of: int, slice, None, Ellipsis, bool (a 0-dim mask), Tensor (an
    integer index or a boolean mask) or _BadIndex."""
    if isinstance(index, slice) and index.step == 0:     # a lone slice is parsed first
        raise ValueError("slice step cannot be zero")
    index = tuple(index) if _treat_as_tuple(index) else (index,)
    out = []
    for it in index:
        if isinstance(it, Tensor):
            if it.ndim == 0 and it._dtype in (dt.bool, dt.uint8):
                out.append(bool(it.item()))
            elif it.ndim == 0 and not (it._dtype.is_floating_point or it._dtype.is_complex):
                # PyTorch reads these as plain integers; a traced one (a per-sample index
                # under vmap) has no value yet, and indexes as a 0-dim index tensor does:
                # the same element, the dimension dropped
                out.append(it if isinstance(it._raw(), jax.core.Tracer) else int(it.item()))
            else:
                out.append(it)
        elif isinstance(it, (list, tuple, np.ndarray, str)):
            out.append(_list_index(it))
        elif isinstance(it, (builtins.bool, np.bool_)):
            out.append(bool(it))
        elif hasattr(it, "__index__") and not isinstance(it, (slice, type(None), type(Ellipsis))):
            out.append(int(it.__index__()))
        elif it is None or it is Ellipsis or isinstance(it, slice):
            out.append(it)
        else:
            out.append(_BadIndex(it))
    return out


def _list_index(it):
    """A sequence used as an index: a bool mask if all bools, else int64 indices (PyTorch
    truncates floats in lists; an empty list selects nothing)."""
    from .._factories import tensor
    if isinstance(it, np.ndarray):
        return tensor(it)
    t = tensor(it)
    return t if t._dtype is dt.bool else t.to(dt.int64)


def _expand_ellipsis(items, ndim):
    """items with ... replaced by whole-dim slices, each paired with its position in the
    index as written (PyTorch names that position in its out-of-bounds errors)."""
    consumed = builtins.sum(it.ndim if isinstance(it, Tensor) and it._dtype in (dt.bool, dt.uint8)
                            else 1 for it in items
                            if not (it is None or it is Ellipsis or isinstance(it, builtins.bool)))
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    for it in items:
        if isinstance(it, _BadIndex):
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or "
                             f"byte Variables are valid indices (got {type(it.value).__name__})")
    n_ellipsis = builtins.sum(1 for it in items if it is Ellipsis)
    if n_ellipsis > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    positioned = list(zip(items, range(len(items))))
    if n_ellipsis:
        i = next(k for k, it in enumerate(items) if it is Ellipsis)
        positioned[i:i + 1] = [(slice(None), i)] * (ndim - consumed)
    return positioned


def _is_full_slice(it, n):
    """x[a:b] over a whole dim with step 1: PyTorch skips it inside a tuple index."""
    return (it.start in (None, 0) and it.step in (None, 1)
            and (it.stop is None or it.stop >= n))


def _slice_and_select(x, items, skip_full_slices=True, alias_unchanged=True, check_bounds=True):
    """PyTorch's applySlicing: apply the basic indices (ints select, slices slice, None and
    0-dim masks unsqueeze) as views, and collect the advanced ones.

    Returns (view, advanced): `advanced` has one entry per dim of `view`, None or an
    int64 jax array of indices, or is None when there are no advanced indices. A lone
    slice (x[:]) always slices; inside a tuple (x[:, 1], x[...]) whole-dim slices are
    skipped, and an index that changes nothing gives an alias, as in PyTorch (the
    grad_fn names show which ops ran). Writes (alias_unchanged=False) go to x itself
    when the index changes nothing."""
    out, dim, advanced = x, 0, []
    for it, position in items:
        if it is None:
            out = unsqueeze(out, dim)
            advanced.append(None)
            dim += 1
        elif isinstance(it, builtins.bool):
            # a 0-dim mask: a new dim, indexed with [0] (True) or [] (False)
            out = unsqueeze(out, dim)
            advanced.append(jnp.zeros((1 if it else 0,), jnp.int64))
            dim += 1
        elif isinstance(it, int):
            if out.ndim == 0:
                raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python "
                                 "or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
            n = out.shape[dim]
            if not -n <= it < n:
                raise IndexError(f"index {it} is out of bounds for dimension {position} with "
                                 f"size {n}")
            out = select(out, dim, it)
        elif isinstance(it, slice):
            start, stop, step = it.indices(out.shape[dim])
            if step <= 0:
                raise ValueError("step must be greater than zero")
            if not (skip_full_slices and _is_full_slice(it, out.shape[dim])):
                out = slice_dim(out, dim, start, builtins.max(stop, start), step)
            advanced.append(None)
            dim += 1
        elif it._dtype in (dt.bool, dt.uint8):
            mask = np.asarray(it._data()).astype(bool)
            for k in range(mask.ndim):
                if dim + k >= out.ndim or mask.shape[k] != out.shape[dim + k]:
                    raise IndexError(f"The shape of the mask {list(mask.shape)} at index {k} does "
                                     f"not match the shape of the indexed tensor "
                                     f"{list(out.shape)} at index {dim + k}")
            advanced.extend(jnp.asarray(idx, dtype=jnp.int64) for idx in np.nonzero(mask))
            dim += mask.ndim
        else:
            if it._dtype.is_floating_point or it._dtype.is_complex:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            meta = _meta_index(it, out)
            if meta is not None:
                advanced.append(meta)
                dim += 1
                continue
            values = values_to_check(it)
            n = out.shape[dim]
            bad = () if values is None else values[(values >= n) | (values < -n)].reshape(-1)
            if len(bad) and check_bounds:
                # PyTorch names the first bad value and the index tensor's rank among them
                rank = builtins.sum(a is not None for a in advanced)
                raise IndexError(f"index {bad[0]} is out of bounds for dimension {rank} with "
                                 f"size {n}")
            advanced.append(it._data().astype(jnp.int64))
            dim += 1
    if all(a is None for a in advanced):
        return (alias(x) if out is x and alias_unchanged else out), None
    shapes = [tuple(a.shape) for a in advanced if a is not None]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together with "
                         f"shapes {', '.join(str(list(s)) for s in shapes)}") from None
    return out, advanced


def _advanced_spec_of(advanced):
    """(static spec, index arrays) for JAX indexing from one entry per dim."""
    while advanced and advanced[-1] is None:
        advanced = advanced[:-1]
    spec, arrays = [], []
    for a in advanced:
        if a is None:
            spec.append(("s", None, None, None))
        else:
            spec.append(("a", len(arrays)))
            arrays.append(a)
    return tuple(spec), arrays


def _advanced_spec(x, items):
    """(static spec, index arrays) for JAX indexing, with PyTorch's bounds errors."""
    spec, arrays, dim = [], [], 0
    for it in items:
        if it is None:
            spec.append(("n",))
        elif isinstance(it, int):
            n = x.shape[dim]
            if not -n <= it < n:
                raise IndexError(f"index {it} is out of bounds for dimension {dim} with size {n}")
            spec.append(("i", it))
            dim += 1
        elif isinstance(it, slice):
            spec.append(("s", it.start, it.stop, it.step))
            dim += 1
        elif isinstance(it, Tensor):
            if it._dtype in (dt.bool, dt.uint8):
                mask = np.asarray(it._data()).astype(bool)
                for k in range(mask.ndim):
                    if mask.shape[k] != x.shape[dim + k]:
                        raise IndexError(f"The shape of the mask {list(mask.shape)} at index {k} does "
                                         f"not match the shape of the indexed tensor "
                                         f"{list(x.shape)} at index {dim + k}")
                for idx in np.nonzero(mask):
                    spec.append(("a", len(arrays)))
                    arrays.append(jnp.asarray(idx, dtype=jnp.int64))
                dim += mask.ndim
            else:
                if it._dtype.is_floating_point or it._dtype.is_complex:
                    raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
                meta = _meta_index(it, x)
                if meta is not None:
                    spec.append(("a", len(arrays)))
                    arrays.append(meta)
                    dim += 1
                    continue
                values = values_to_check(it)
                n = x.shape[dim]
                if values is not None and values.size and (values.max() >= n or values.min() < -n):
                    bad = values.max() if values.max() >= n else values.min()
                    raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {n}")
                spec.append(("a", len(arrays)))
                arrays.append(it._data().astype(jnp.int64))
                dim += 1
    return tuple(spec), arrays


def _rebuild(spec, arrays):
    out = []
    for s in spec:
        if s[0] == "n":
            out.append(None)
        elif s[0] == "i":
            out.append(s[1])
        elif s[0] == "s":
            out.append(slice(s[1], s[2], s[3]))
        else:
            out.append(arrays[s[1]])
    return tuple(out)


def _index_impl(a, *arrays, spec):
    return a[_rebuild(spec, arrays)]


OPS["index"] = _index_op = Op("index", _index_impl, "IndexBackward0", (1,))


def _index_put_impl(a, v, *arrays, spec, accumulate):
    at = a.at[_rebuild(spec, arrays)]
    v = jnp.asarray(v).astype(a.dtype)
    return at.add(v) if accumulate else at.set(v)


OPS["index_put"] = _index_put_op = Op("index_put", _index_put_impl, "IndexPutBackward0", ())


def _check_0d_int_index(self, index):
    if self.ndim == 0 and not isinstance(index, (builtins.bool, tuple, list, Tensor, slice)) \
            and hasattr(index, "__index__"):
        if index:       # PyTorch sees a dim of size 0 there
            raise IndexError(f"index {int(index)} is out of bounds for dimension 0 with size 0")
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                         "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")


def getitem(self, index):
    if type(index) is int or type(index) is slice:
        view = host_index(self, index)
        if view is not None:
            return view
    view = _selected(self, index)
    if view is not None:
        return view
    _check_0d_int_index(self, index)
    items = _expand_ellipsis(_normalize(index), self.ndim)
    view, advanced = _slice_and_select(self, items, not isinstance(index, slice))
    if advanced is None:
        return view
    spec, arrays = _advanced_spec_of(advanced)
    return apply(_index_op, (view,) + tuple(_wrap_idx(a) for a in arrays), (("spec", spec),))


def _selected(x, index):
    """x[i], x[:, i], x[i, :, j]: Python ints in range and whole-dim slices, which
    PyTorch applies as selects (a slice in a tuple that covers its dim is skipped); None
    for any other index, which the general path parses (an LSTM's `out[:, -1]` passes
    here at every step: the parse cost more than the select)."""
    items = index if type(index) is tuple else (index,)
    if len(items) > len(x._shape):
        return None
    selects = []
    dim = 0
    for it in items:
        if type(it) is int:
            n = x._shape[dim + len(selects)]
            if not -n <= it < n:
                return None         # (the general path raises PyTorch's error)
            selects.append((dim, it))
        elif type(it) is slice and it.start is None and it.stop is None and it.step is None:
            dim += 1
        else:
            return None
    if not selects:
        return None
    out = x
    for dim, i in selects:
        out = select(out, dim, i)
    return out


def _meta_index(index, indexed):
    """The array of an index tensor where it or the indexed tensor is on the meta device
    (a meta array: no values to check, or none needed), else None."""
    if index.is_meta or indexed.is_meta:
        return meta_array(tuple(index.shape), np.dtype(np.int64))
    return None


def _wrap_idx(a):
    return Tensor._wrap(a, META) if is_meta_array(a) else Tensor._wrap(a)


def _setitem_scalar(value, dtype):
    """A Python value assigned into a tensor of `dtype`, with PyTorch's checks."""
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, builtins.bool) or not isinstance(value, (int, float, complex)):
        if isinstance(value, builtins.bool):
            return value
        from .._tensor import legacy_type_name_of
        raise TypeError(f"can't assign a {type(value).__name__} to a {legacy_type_name_of(dtype)}")
    if isinstance(value, int) and not -2 ** 63 <= value < 2 ** 63:
        raise ValueError("Overflow when unpacking long long")
    from .._factories import check_fill_value
    check_fill_value(value, dtype)
    return value


def setitem(self, index, value):
    _check_0d_int_index(self, index)
    items = _expand_ellipsis(_normalize(index), self.ndim)
    if not isinstance(value, Tensor):
        value = _setitem_scalar(value, self._dtype)
    if index is False:          # PyTorch's shortcut: nothing is written, no version bump
        return
    if not isinstance(value, Tensor):
        # PyTorch writes Python numbers as 0-dim tensors of self's dtype
        from .._factories import scalar_as, tensor_from_numpy
        value = tensor_from_numpy(scalar_as(value, self._dtype), self._dtype, self.device)
    if value.numel() == 1 and any(isinstance(it, Tensor) and it._dtype is dt.uint8
                                  for it, _ in items):
        # PyTorch sends this case to masked_fill_, which refuses uint8 masks
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           "unsigned char")
    # writes skip whole-dim slices even for a lone x[:] = v
    target, advanced = _slice_and_select(self, items, True, alias_unchanged=False,
                                         check_bounds=False)
    if advanced is None:
        _copy_to(target, value)
        return
    spec, arrays = _advanced_spec_of(advanced)
    _check_put_values(target, value, spec, arrays)
    _slice_and_select(self, items, True, alias_unchanged=False)    # then the index values
    target._inplace(_index_put, value, spec, arrays, False)


def _check_put_values(target, value, spec, arrays):
    """PyTorch's errors for values that can't be written at target[indices]."""
    if not isinstance(value, Tensor):
        return
    result_shape = _index_shape(target, spec, arrays)
    if not _broadcastable(tuple(value.shape), result_shape):
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(value.shape)} cannot "
                           f"be broadcast to indexing result of shape {list(result_shape)}")
    if value._dtype is not target._dtype:
        raise RuntimeError("Index put requires the source and destination dtypes match, got "
                           f"{scalar_name(target._dtype)} for the destination and "
                           f"{scalar_name(value._dtype)} for the source.")


def _copy_to(target, value):
    """PyTorch's copy_to for basic-index writes: copy_ a same-shaped value, fill_ with a
    0-dim one, else drop the value's leading 1-sized dims and expand it to the target."""
    if tuple(value.shape) == tuple(target.shape):
        target.copy_(value)
    elif value.ndim == 0:
        target.fill_(value)
    else:
        shape = tuple(value.shape)
        while shape and shape[0] == 1:
            shape = shape[1:]
        if shape != tuple(value.shape):
            value = value.view(shape)
        target.copy_(expand(value, tuple(target.shape)))


def _index_shape(x, spec, arrays):
    import jax
    out = jax.eval_shape(lambda a, *idx: _index_impl(a, *idx, spec=spec),
                         jax.ShapeDtypeStruct(tuple(x.shape), x._dtype.np),
                         *[jax.ShapeDtypeStruct(a.shape, a.dtype) for a in arrays])
    return tuple(out.shape)


def _broadcastable(value_shape, shape):
    if len(value_shape) > len(shape):
        return False
    return all(v in (1, n) for v, n in zip(reversed(value_shape), reversed(shape)))


def _index_put(self, value, spec, arrays, accumulate):
    if not isinstance(value, Tensor):
        from .pointwise import _scalar
        value = _scalar(value)
    return apply(_index_put_op, (self, value) + tuple(_wrap_idx(a) for a in arrays),
                 (("spec", spec), ("accumulate", accumulate)))


Tensor.__getitem__ = getitem
Tensor.__setitem__ = setitem


@torch_function("index_put_", method=True)
def index_put_(self, indices, values, accumulate=False):
    spec, arrays = _advanced_spec(self, list(indices))
    _check_put_values(self, values, spec, arrays)
    return self._inplace(_index_put, values, spec, arrays, accumulate)


@torch_function("index_put", method=True)
def index_put(input, indices, values, accumulate=False):
    spec, arrays = _advanced_spec(input, list(indices))
    _check_put_values(input, values, spec, arrays)
    return _index_put(input, values, spec, arrays, accumulate)


def _out_dtype_check(out, dtype, message):
    """out= forms that refuse another dtype (with their own message) before writing."""
    if out is not None and isinstance(out, Tensor) and out._dtype is not dtype:
        raise RuntimeError(message.format(scalar=scalar_name(out._dtype),
                                          c_type=c_type_name(out._dtype)))


def _nonzero_function(input, *, as_tuple=False, out=None):
    if out is not None:
        if as_tuple:
            raise RuntimeError("nonzero does not support the out kwarg when as_tuple is True")
        _out_dtype_check(out, dt.int64, "nonzero: Expected out tensor to have scalar type Long "
                                        "but got scalar type{scalar}")
    return _with_out("nonzero", out, nonzero(input, as_tuple=as_tuple))


def _with_out(name, out, result, *inputs):
    if out is None:
        return result
    check_out_overlap(name, out, inputs)
    return write_out(name, out, result)


@torch_function("nonzero", method=True)
def nonzero(input, *, as_tuple=False):
    if not isinstance(as_tuple, builtins.bool):
        raise TypeError(f"nonzero(): argument 'as_tuple' must be bool, not "
                        f"{type(as_tuple).__name__}")
    values = np.asarray(input._data())
    from .._factories import tensor_from_numpy
    if values.ndim == 0:       # a 0-d tensor: one index tuple of length 0, if nonzero
        count = int(values != 0)
        if as_tuple:
            return (tensor_from_numpy(np.zeros(count, np.int64), dt.int64, input.device),)
        return tensor_from_numpy(np.zeros((count, 0), np.int64), dt.int64, input.device)
    idx = np.nonzero(values)
    if as_tuple:
        return tuple(tensor_from_numpy(i, dt.int64, input.device) for i in idx)
    return tensor_from_numpy(np.stack(idx, axis=1) if idx else np.zeros((0, 0)), dt.int64,
                             input.device)


@torch_function("argwhere", method=True)
def argwhere(input):
    require_tensor("argwhere", input, "input", 1)
    return nonzero(input)


def _masked_select_impl(a, *index, shape):
    return jnp.broadcast_to(a, shape)[index]


OPS["masked_select"] = _masked_select_op = Op("masked_select", _masked_select_impl,
                                              "MaskedSelectBackward0", ())


@torch_function("masked_select", method=True)
def masked_select(input, mask):
    from ._util import broadcast_shapes, check_broadcast
    if mask._dtype is not dt.bool:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    check_broadcast(mask, input)        # PyTorch names the mask first in its error
    shape = broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    # the result's length depends on the mask's values: its indices come from the host
    values = np.broadcast_to(np.asarray(mask._data()), shape)
    index = tuple(_wrap_idx(jnp.asarray(i, dtype=jnp.int64)) for i in np.nonzero(values))
    return apply(_masked_select_op, (input,) + index, (("shape", shape),))


def _masked_select_function(input, mask, *, out=None):
    _out_dtype_check(out, input._dtype, "masked_select(): self and result must have the same "
                                        "scalar type")
    return _with_out("masked_select", out, masked_select(input, mask), input, mask)


def _masked_fill_impl(a, mask, value):
    return jnp.where(mask, jnp.asarray(value).astype(a.dtype), a)


OPS["masked_fill"] = _masked_fill_op = Op("masked_fill", _masked_fill_impl, "MaskedFillBackward0", (1,))


@torch_function("masked_fill", method=True)
def masked_fill(input, mask, value):
    from ._util import check_broadcast
    check_broadcast(mask, input)
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    if mask._dtype is not dt.bool:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{c_type_name(mask._dtype)}")
    complex_value = isinstance(value, complex) or isinstance(value, Tensor) and value.is_complex()
    if complex_value and not input._dtype.is_complex:
        kind = {"float32": "float", "float64": "double", "int64": "int64_t", "int32": "int",
                "int16": "int16_t", "int8": "int8_t", "uint8": "uint8_t", "bool": "bool",
                "float16": "c10::Half", "bfloat16": "c10::BFloat16"}[input._dtype.name]
        raise RuntimeError(f"value cannot be converted to type {kind} without overflow")
    if not isinstance(value, Tensor):
        from .pointwise import _scalar
        value = _scalar(value)
    return apply(_masked_fill_op, (input, mask, value),
                 grad_fn="MaskedFillBackward1" if isinstance(value, Tensor) else "MaskedFillBackward0")


@tensor_method("masked_fill_")
def masked_fill_(self, mask, value):
    return self._inplace(masked_fill, mask, value)


def _index_select_impl(a, idx, *, dim):
    if a.ndim == 0:             # a 0-d input: the index (checked) selects the value itself
        return a
    return jnp.take(a, idx, axis=dim)


OPS["index_select"] = _index_select_op = Op("index_select", _index_select_impl,
                                            "IndexSelectBackward0", (1,))


@torch_function("index_select", method=True)
def index_select(input, dim, index):
    from ._util import wrap_dim
    d = wrap_dim(dim, input.ndim)
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if input.ndim == 0 and index.numel() != 1:
        raise RuntimeError("index_select(): Index to scalar can have only 1 value, got "
                           f"{index.numel()} value(s)")
    if index._dtype not in (dt.int32, dt.int64):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    n = input.shape[d] if input.ndim else 1
    if n == 0 and index.numel():
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    bad = out_of_range(values_to_check(index), 0, n)       # negative indices too
    if bad is not None:
        if d == 0 or input.ndim <= 1:
            raise IndexError("index out of range in self")
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={n}")
    return apply(_index_select_op, (input, index), (("dim", d),))


def _index_select_function(input, dim, index, *, out=None):
    _out_dtype_check(out, input._dtype, "index_select(): self and result must have the same "
                                        "scalar type")
    return _with_out("index_select", out, index_select(input, dim, index), input, index)


def _gather_impl(a, idx, *, dim):
    if a.ndim == 0:             # a 0-d input and 0-d index (checked to be 0)
        return a
    # the index may be smaller than the input in the other dims (never broadcast)
    a = a[tuple(slice(None) if i == dim else slice(0, n) for i, n in enumerate(idx.shape))]
    return jnp.take_along_axis(a, idx, axis=dim)


OPS["gather"] = _gather_op = Op("gather", _gather_impl, "GatherBackward0", (1,))


@torch_function("gather", method=True)
def gather(input, dim, index, *, sparse_grad=False):
    from ._util import wrap_dim
    d = wrap_dim(dim, input.ndim)
    if index._dtype not in (dt.int64, dt.int32):
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")
    if builtins.max(index.ndim, 1) != builtins.max(input.ndim, 1):     # (0-dim counts as 1-dim)
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for i in range(index.ndim if input.ndim else 0):
        if i != d and index.shape[i] > input.shape[i]:
            raise RuntimeError(f"Size does not match at dimension {i} expected index "
                               f"{list(index.shape)} to be no larger than self "
                               f"{list(input.shape)} apart from dimension {d}")
    # out-of-range indices (negative ones too) are errors, found on the host as PyTorch's
    # CPU kernel finds them
    values = values_to_check(index)
    n = input.shape[d] if input.ndim else 1
    bad = () if values is None else values[(values < 0) | (values >= n)].reshape(-1)
    if len(bad):
        raise RuntimeError(f"index {bad[0]} is out of bounds for dimension {d} with size {n}")
    return apply(_gather_op, (input, index), (("dim", d),))


def _gather_function(input, dim, index, *, sparse_grad=False, out=None):
    _out_dtype_check(out, input._dtype, f"Expected out tensor to have dtype "
                                        f"{c_type_name(input._dtype)}, but got {{c_type}} instead")
    return _with_out("gather", out, gather(input, dim, index, sparse_grad=sparse_grad),
                     input, index)


# torch.fn(..., out=) for the functions whose out= checks come before the write
FUNCTIONS.update(nonzero=_nonzero_function, masked_select=_masked_select_function,
                 index_select=_index_select_function, gather=_gather_function)
