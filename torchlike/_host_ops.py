"""Moving small CPU tensors' elements with numpy, where XLA would compile a program.

A pending op compiles a program for each new shape (10-200 ms on CPU), which is
nothing for a step repeated a thousand times and everything for the one-off data
movement around it: appending a token to a sequence at each length, or iterating a
tensor of batch indices (`for i in ix`, an unbind). For small concrete CPU tensors that
record no history, these ops are made by numpy at call time instead: copies, exact.
"""
import functools
import math

import numpy as np
from jax._src.array import ArrayImpl as _ArrayImpl     # a concrete jax.Array's class

from . import _device
from ._storage import contiguous_strides

HOST_MAX_ELEMENTS = 1 << 14


@functools.cache
def _late():
    """(_jax_bridge, Deferred, Tensor, is_grad_enabled): modules that import this one,
    bound at the first use (an import statement in a function costs a few
    microseconds per call, and these run for every sample a data set gives)."""
    from . import _jax_bridge
    from ._lazy import Deferred
    from ._tensor import Tensor
    from .autograd.grad_mode import is_grad_enabled
    return _jax_bridge, Deferred, Tensor, is_grad_enabled


def on_device_of(host, like):
    """Numpy array `host` on the device of jax array `like` (uncommitted on the default
    device, as torchlike's other arrays)."""
    return _device.place(host, _device.from_jax(next(iter(like.devices()))))


def _numpy_may_read(tensors):
    """Whether numpy may take these tensors' values: not inside a JAX trace or a
    compiled prefix's replay, and each on the CPU, with a computed storage (a view's
    pending base is not forced), recording no history."""
    bridge, Deferred, _, is_grad_enabled = _late()
    if not bridge.top_level() or bridge.state.replay is not None:
        return False
    grad = is_grad_enabled()
    for t in tensors:       # (a loop, not any() of a generator: this runs for every sample)
        st = t._storage
        if st.device.type != "cpu" or type(st.array) is Deferred:
            return False
        # (t.requires_grad, its property asked only of a view, as host_index does)
        if grad and (t._requires_grad or t._grad_fn is not None or
                     t._base is not None and t.requires_grad):
            return False
    return True


def _host_values(tensors):
    """The tensors' values as numpy arrays, or None where numpy must not take them
    (_numpy_may_read), a value is pending, or there are more than HOST_MAX_ELEMENTS
    in all. A view numpy made (viewed_on_host) and never read is read here in place,
    from its storage: stacking a data set's rows copies each once, on the host."""
    if not _numpy_may_read(tensors):
        return None
    return _values_of(tensors)


def _values_of(tensors):
    """_host_values for tensors numpy may read."""
    Deferred = _late()[1]
    total, values = 0, []
    for t in tensors:
        unread = unread_view_values(t)
        if unread is not None:
            total += unread.size
            if total > HOST_MAX_ELEMENTS:
                return None
            values.append(unread)
            continue
        a = t._raw()
        total += a.size
        if type(a) is Deferred or total > HOST_MAX_ELEMENTS:
            return None
        values.append(np.asarray(a))
    return values


def _rows_of_one_storage(tensors):
    """The values of unread views viewed_on_host made of one storage, all of one shape
    and strides (the samples `data[i]` a DataLoader collates), gathered by one numpy
    index into one array, stacked along a new first dim; None for any other list
    (_values_of reads each then: a numpy view of the storage and a strided view of
    that per tensor, which cost ten times this per sample)."""
    first = tensors[0]
    st, shape, strides = first._storage, first._shape, first._stride
    array = st.array
    if len(tensors) < 2 or type(array) is not _ArrayImpl or 0 in shape or \
            math.prod(shape) * len(tensors) > HOST_MAX_ELEMENTS:
        return None
    for t in tensors:
        if t._cache_gen != HOST_VIEW_UNREAD or t._storage is not st or t._whole \
                or t._shape != shape or t._stride != strides:
            return None
    offsets = np.fromiter([t._offset for t in tensors], np.intp, len(tensors))
    index = offsets.reshape((-1,) + (1,) * len(shape)) + _element_offsets(shape, strides)
    return np.asarray(array).reshape(-1)[index]


@functools.lru_cache(maxsize=64)
def _element_offsets(shape, strides):
    """Each element's offset from a view's first one, for a view of (shape, strides)."""
    offsets = np.zeros(shape, np.intp)
    for d, (size, stride) in enumerate(zip(shape, strides)):
        offsets += np.arange(size).reshape((-1,) + (1,) * (len(shape) - d - 1)) * stride
    return offsets


def joined_on_host(op, tensors, params):
    """`cat` or `stack` of small concrete CPU tensors joined by numpy into a new tensor;
    None otherwise (the op then runs as any other). Appending a token
    (`torch.cat((idx, next), 1)`) is such a join at every length: as a pending op it
    compiled a program per length, and a read of `idx[0, -1]` took the join into a
    program padding cannot cover (the joined length is not the length of its inputs)."""
    Tensor = _late()[2]
    if not _numpy_may_read(tensors):
        return None
    params = dict(params)
    rows = _rows_of_one_storage(tensors)
    if rows is not None:
        joined = _JOINED_ROWS[op.name](rows.astype(params["dtype"], copy=False), params)
    else:
        values = _values_of(tensors)
        if values is None:
            return None
        joined = _HOST_JOINS[op.name]([v.astype(params["dtype"], copy=False) for v in values],
                                      params)
    device = tensors[0]._storage.device
    return Tensor._wrap(_device.place(joined, device), device)


_HOST_JOINS = {
    "cat": lambda arrays, p: np.concatenate([a for i, a in enumerate(arrays)
                                            if i not in p["skip"]], axis=p["dim"]),
    "stack": lambda arrays, p: np.stack(arrays, axis=p["dim"]),
}

# The same joins of _rows_of_one_storage's array (no tensor is empty: cat skips none)
_JOINED_ROWS = {
    "cat": lambda rows, p: np.moveaxis(rows, 0, p["dim"]).reshape(
        rows.shape[1:p["dim"] + 1] + (-1,) + rows.shape[p["dim"] + 2:]),
    "stack": lambda rows, p: np.moveaxis(rows, 0, p["dim"]),
}


# A view's `_cache_gen` while viewed_on_host made it and nothing has read it yet
# (generations count up from 0; -1 is a view a checkpoint load made, read the usual way)
HOST_VIEW_UNREAD = -2


def viewed_on_host(tensor, shape, strides, offset):
    """The view (shape, strides, offset) of `tensor`, whose elements numpy copies out of
    the storage when it is first read (gathered_on_host), or None where numpy must not
    read the tensor (_numpy_may_read) or the view has more than HOST_MAX_ELEMENTS
    elements. A pending view op compiled a gather per shape when read (a batch sliced
    from a data set at each length, `data[i:i + n]`), and kept the join of such slices
    off the host; a copy made at once cost a transfer to the device for every sample
    of a data set, which the stack of the batch then read back."""
    if math.prod(shape) > HOST_MAX_ELEMENTS or not _numpy_may_read((tensor,)):
        return None
    view = tensor._make_view(None, shape, strides, offset)
    view._cache_gen = HOST_VIEW_UNREAD
    return view


def whole_in_order(x, shape, strides, offset):
    """Whether the view (shape, strides, offset) of x sees all of x's (computed) storage
    in its order: a reshape of a contiguous tensor (`targets.view(-1)` in a training
    step). Such a view stays pending rather than copied by numpy (views.make_view): the
    copy's transfer to the device waits while the device runs the previous step's
    update (0.2-0.3 ms on 2 busy cores, against 28 us idle), where a pending reshape
    joins the program that reads it."""
    return offset == 0 and x._storage.array.size == math.prod(shape) and \
        strides == contiguous_strides(shape)


def host_index(x, index):
    """x[index] for a Python int in range or a slice of Python ints with a positive step,
    the very view select or slice makes where it takes viewed_on_host's path (as
    views.make_view decides), or None for any other case: a computed CPU tensor
    recording no history (in any grad mode), at the top level. A Dataset's `self.x[i]`
    and a loop's `data[i:i + n]` run this for every sample or batch; the general path
    (parse, the op's checks, make_view's) cost about three times as much (2.8 us for
    x[i], 6.5 for x[i:j])."""
    shape = x._shape
    if not shape or type(x._storage.array) is not _ArrayImpl or x._grad_fn is not None \
            or x._requires_grad or x._base is not None and x.requires_grad:
        return None
    n = tuple.__getitem__(shape, 0)         # (Size's own __getitem__ is Python)
    strides = x.stride()
    if type(index) is int:
        if not -n <= index < n:
            return None                 # (the general path raises PyTorch's error)
        view_shape, view_strides = tuple(shape)[1:], strides[1:]
        offset = x._offset + (index % n) * strides[0]
    else:
        if not (type(index.start) in _INT_OR_NONE and type(index.stop) in _INT_OR_NONE
                and type(index.step) in _INT_OR_NONE):
            return None
        start, stop, step = index.indices(n)
        if step <= 0:
            return None
        size = max(0, -(-(max(stop, start) - start) // step))
        view_shape = (size,) + tuple(shape)[1:]
        view_strides = (strides[0] * step,) + strides[1:]
        offset = x._offset + start * strides[0]
    # viewed_on_host's checks and view, inlined (most of them hold already: a sample's
    # index runs this, and the calls cost a third of it)
    if math.prod(view_shape) > HOST_MAX_ELEMENTS or x._storage.device.type != "cpu" or \
            whole_in_order(x, view_shape, view_strides, offset):
        return None
    bridge = _late()[0]
    if not bridge.top_level() or bridge.state.replay is not None:
        return None
    view = x._make_view(None, view_shape, view_strides, offset)
    view._cache_gen = HOST_VIEW_UNREAD
    return view


_INT_OR_NONE = (int, type(None))


def unread_view_values(t):
    """The values of tensor `t` if it is a view viewed_on_host made and nothing has read
    yet, as numpy sees them in its storage (a view of them), or None: reading such a
    view (a join, `x[i].item()`) then needs no copy to the device and back."""
    if t._cache_gen != HOST_VIEW_UNREAD or t._whole:
        return None
    array = t._storage.array
    if type(array) is not _ArrayImpl:          # (written since by a pending op)
        return None
    return _strided(np.asarray(array), t._shape, t.stride(), t._offset)


def gathered_on_host(storage, shape, strides, offset):
    """The elements a view made by viewed_on_host sees, copied by numpy, on the
    storage's device; None where its storage is no longer a ready CPU array (written
    since, by an update still running): the caller then gathers them with XLA."""
    array = storage.array
    if type(array) is not _ArrayImpl or storage.device.type != "cpu" or not array.is_ready():
        return None
    values = np.array(_strided(np.asarray(array), shape, strides, offset))
    return _device.place(values, storage.device)


def _strided(host, shape, strides, offset):
    """The elements (shape, strides, offset) sees in the flat `host` array: a numpy
    view of them (the caller copies)."""
    flat = host.reshape(-1)
    if 0 in shape:                  # (its offset may lie past an empty buffer's end)
        return np.empty(shape, flat.dtype)
    size = flat.itemsize
    return np.ndarray(shape, flat.dtype, flat, offset * size, [s * size for s in strides])


def unbound_on_host(tensor, dim):
    """The values of `tensor.unbind(dim)` made by numpy (new tensors, which unbind makes
    views of `tensor`), or None (see _concrete_arrays). Iterating a tensor unbinds it:
    as a pending op, a program with one output per element, compiled per length."""
    Tensor = _late()[2]
    values = _host_values([tensor])
    if values is None:
        return None
    host, device = values[0], tensor._storage.device
    return tuple(Tensor._wrap(_device.place(np.take(host, i, axis=dim), device), device)
                 for i in range(host.shape[dim]))
