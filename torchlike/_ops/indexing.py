"""Tensor.__getitem__ / __setitem__ and index-based ops.

Basic indices (ints, slices, None, ...) produce views through select/slice/unsqueeze,
so writes through them reach the base. Advanced indices (integer tensors or lists,
boolean masks) gather into a new tensor (IndexBackward0); assigning through them is
index_put_ (IndexPutBackward0). Boolean masks become integer indices on the host first,
since the result's shape depends on the mask's values.
"""
import builtins

import jax.numpy as jnp
import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor
from .dispatch import apply
from .registry import Op, OPS, torch_function, tensor_method
from .views import select, slice_dim, unsqueeze


def _normalize(index):
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for it in index:
        if isinstance(it, (list, np.ndarray)) or (isinstance(it, Tensor)):
            out.append(it if isinstance(it, Tensor) else _list_index(it))
        elif isinstance(it, (builtins.bool, np.bool_)):
            out.append(_list_index(bool(it)))
        elif hasattr(it, "__index__") and not isinstance(it, (slice, type(None), type(Ellipsis))):
            out.append(int(it.__index__()))
        else:
            out.append(it)
    return out


def _list_index(it):
    from .._factories import tensor
    return tensor(it)


def _expand_ellipsis(items, ndim):
    consumed = builtins.sum(1 if not isinstance(it, Tensor) or it._dtype is not dt.bool else it.ndim
                            for it in items if it is not None and it is not Ellipsis)
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    n_ellipsis = builtins.sum(1 for it in items if it is Ellipsis)
    if n_ellipsis > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if n_ellipsis:
        i = next(k for k, it in enumerate(items) if it is Ellipsis)
        items = items[:i] + [slice(None)] * (ndim - consumed) + items[i + 1:]
    return items


def _basic_view(x, items):
    out, dim = x, 0
    for it in items:
        if it is None:
            out = unsqueeze(out, dim)
            dim += 1
        elif isinstance(it, int):
            if out.ndim == 0:
                raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python "
                                 "or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
            n = out.shape[dim]
            if not -n <= it < n:
                raise IndexError(f"index {it} is out of bounds for dimension {dim} with size {n}")
            out = select(out, dim, it)
        elif isinstance(it, slice):
            start, stop, step = it.indices(out.shape[dim])
            if step <= 0:
                raise ValueError("step must be greater than zero")
            out = slice_dim(out, dim, start, builtins.max(stop, start), step)
            dim += 1
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                             "Variables are valid tensor indices (got " + type(it).__name__ + ")")
    if out is x:   # x[...] or x[:] on 0 dims: still a new alias
        out = slice_dim(x, 0, 0, x.shape[0]) if x.ndim else x.view(())
    return out


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
                values = np.asarray(it._data())
                n = x.shape[dim]
                if values.size and (values.max() >= n or values.min() < -n):
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


def _is_advanced(items):
    return any(isinstance(it, Tensor) for it in items)


def getitem(self, index):
    items = _expand_ellipsis(_normalize(index), self.ndim)
    if not _is_advanced(items):
        return _basic_view(self, items)
    spec, arrays = _advanced_spec(self, items)
    return apply(_index_op, (self,) + tuple(_wrap_idx(a) for a in arrays), (("spec", spec),))


def _wrap_idx(a):
    return Tensor._wrap(a)


def setitem(self, index, value):
    items = _expand_ellipsis(_normalize(index), self.ndim)
    if not _is_advanced(items):
        target = _basic_view(self, items)
        if isinstance(value, Tensor):
            target.copy_(value)
        else:
            target.fill_(value)
        return
    spec, arrays = _advanced_spec(self, items)
    self._inplace(_index_put, value, spec, arrays, False)


def _index_put(self, value, spec, arrays, accumulate):
    if not isinstance(value, Tensor):
        from .pointwise import _scalar
        value = _scalar(value)
    return apply(_index_put_op, (self, value) + tuple(_wrap_idx(a) for a in arrays),
                 (("spec", spec), ("accumulate", accumulate)))


Tensor.__getitem__ = getitem
Tensor.__setitem__ = setitem


@tensor_method("index_put_")
def index_put_(self, indices, values, accumulate=False):
    spec, arrays = _advanced_spec(self, list(indices))
    return self._inplace(_index_put, values, spec, arrays, accumulate)


@torch_function("index_put", method=True)
def index_put(input, indices, values, accumulate=False):
    spec, arrays = _advanced_spec(input, list(indices))
    return _index_put(input, values, spec, arrays, accumulate)


@torch_function("nonzero", method=True)
def nonzero(input, *, as_tuple=False):
    idx = np.nonzero(np.asarray(input._data()))
    from .._factories import tensor_from_numpy
    if as_tuple:
        return tuple(tensor_from_numpy(i, dt.int64, input.device) for i in idx)
    return tensor_from_numpy(np.stack(idx, axis=1) if idx else np.zeros((0, 0)), dt.int64,
                             input.device)


@torch_function("argwhere", method=True)
def argwhere(input):
    return nonzero(input)


@torch_function("masked_select", method=True)
def masked_select(input, mask):
    from .views import expand
    from ._util import broadcast_shapes
    shape = broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    return getitem(expand(input, shape), expand(mask, shape))


def _masked_fill_impl(a, mask, value):
    return jnp.where(mask, jnp.asarray(value).astype(a.dtype), a)


OPS["masked_fill"] = _masked_fill_op = Op("masked_fill", _masked_fill_impl, "MaskedFillBackward0", (1,))


@torch_function("masked_fill", method=True)
def masked_fill(input, mask, value):
    if mask._dtype is not dt.bool:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{mask._dtype.name if mask._dtype is not dt.uint8 else 'unsigned char'}")
    if not isinstance(value, Tensor):
        from .pointwise import _scalar
        value = _scalar(value)
    return apply(_masked_fill_op, (input, mask, value),
                 grad_fn="MaskedFillBackward1" if isinstance(value, Tensor) else "MaskedFillBackward0")


@tensor_method("masked_fill_")
def masked_fill_(self, mask, value):
    return self._inplace(masked_fill, mask, value)


def _index_select_impl(a, idx, *, dim):
    return jnp.take(a, idx, axis=dim)


OPS["index_select"] = _index_select_op = Op("index_select", _index_select_impl,
                                            "IndexSelectBackward0", (1,))


@torch_function("index_select", method=True)
def index_select(input, dim, index):
    from ._util import wrap_dim
    d = wrap_dim(dim, input.ndim)
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    values = np.asarray(index._data())
    n = input.shape[d] if input.ndim else 1
    if values.size and (values.max() >= n or values.min() < -n):
        raise IndexError("index out of range in self")
    return apply(_index_select_op, (input, index), (("dim", d),))


def _gather_impl(a, idx, *, dim):
    return jnp.take_along_axis(a, idx, axis=dim)


OPS["gather"] = _gather_op = Op("gather", _gather_impl, "GatherBackward0", (1,))


@torch_function("gather", method=True)
def gather(input, dim, index, *, sparse_grad=False):
    from ._util import wrap_dim
    d = wrap_dim(dim, input.ndim)
    if index._dtype is not dt.int64:
        raise RuntimeError("gather(): Expected dtype int64 for index")
    if index.ndim != input.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    return apply(_gather_op, (input, index), (("dim", d),))
