"""Storage (a jax.Array that in-place ops replace) and strided views of it.

JAX arrays are immutable; PyTorch tensors alias. Every tensor points at a Storage and
describes which of its elements it sees with PyTorch's (shape, strides, offset). An
in-place op computes the new values functionally and replaces the storage's array, so
every alias sees the change. Reading a view goes through its cached value, recomputed
by a strided gather only after the storage changed.
"""
import functools
import math
import threading

import jax
import numpy as np


class _WriteScope(threading.local):
    # inside torchlike.compile's trace: (ids of the storages the trace may write, the
    # Storage.epoch it started at); a write to another storage born before the trace is
    # a graph break (torchlike/_compile/effects.py)
    writable = None


write_scope = _WriteScope()


class Storage:
    __slots__ = ("array", "generation", "device", "born", "__weakref__")
    # bumped when torchlike.compile starts a trace: a storage born before the trace and
    # not among the trace's inputs is one the trace must not write (effects.py)
    epoch = 0

    def __init__(self, array, device):
        # (Tensor._init_from_array sets these four fields itself: keep them in step)
        self.array = array          # shaped like the tensor that created it
        self.generation = 0         # bumps on every write, to invalidate view caches
        self.device = device
        self.born = Storage.epoch

    def nbytes(self):
        return self.array.size * self.array.dtype.itemsize

    def data_ptr(self):
        """A stable fake address, consistent with Tensor.data_ptr() (offset 0)."""
        return id(self) * 16

    def size(self):
        return self.nbytes()

    def __len__(self):
        return self.nbytes()


class VersionCounter:
    """PyTorch's version counter: shared by a tensor, its views and detach()."""
    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


_contiguous = {}        # shape -> its contiguous strides (read for most fresh tensors)


def contiguous_strides(shape):
    strides = _contiguous.get(shape)
    if strides is None:
        if len(_contiguous) >= 4096:        # bounded: forget them all (cheap to make)
            _contiguous.clear()
        strides = _contiguous[shape] = _contiguous_strides(shape)
    return strides


def _contiguous_strides(shape):
    strides = []
    acc = 1
    for n in reversed(shape):
        strides.append(acc)
        acc *= max(n, 1)
    return tuple(reversed(strides))


def is_contiguous(shape, strides):
    expected = 1
    for n, s in zip(reversed(shape), reversed(strides)):
        if n == 1:
            continue
        if n == 0:
            return True
        if s != expected:
            return False
        expected *= n
    return True


_view_layouts = {}       # (old shape, old strides, new shape) -> view_strides' answer


def view_strides(old_shape, old_strides, new_shape):
    """Strides that let `new_shape` alias `old_shape`'s elements, or None (PyTorch's
    computeStride): dimensions may merge only where memory is contiguous between them.
    Cached: every recorded batched linear layer asks twice per call."""
    key = (tuple(old_shape), tuple(old_strides), tuple(new_shape))
    if key in _view_layouts:
        return _view_layouts[key]
    if len(_view_layouts) >= 4096:          # bounded: forget them all (cheap to make)
        _view_layouts.clear()
    strides = _view_layouts[key] = _view_strides(*key)
    return strides


def _view_strides(old_shape, old_strides, new_shape):
    if math.prod(old_shape) == 0:
        return contiguous_strides(tuple(new_shape))
    if not old_shape:
        # a 0-d tensor is one element: PyTorch views it as shape [1], stride [1]
        old_shape, old_strides = (1,), (1,)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base_stride = old_strides[-1] if old_strides else 1
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (old_shape[tensor_d - 1] != 1 and
                             old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_strides[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    if view_d != -1:
        return None
    return tuple(new_strides)


def _flat_index(shape, strides, offset):
    index = np.full(shape, offset, dtype=np.int64)
    for axis, (n, s) in enumerate(zip(shape, strides)):
        shape_1 = [1] * len(shape)
        shape_1[axis] = n
        index = index + (np.arange(n, dtype=np.int64) * s).reshape(shape_1)
    return index


# `offset` is traced (not static) so that views at new positions reuse compiled code.
@functools.partial(jax.jit, static_argnames=("shape", "strides"))
def strided_gather(base, *, shape, strides, offset):
    """The elements a (shape, strides, offset) view sees in `base`."""
    return base.reshape(-1)[_flat_index(shape, strides, 0) + offset]


@functools.partial(jax.jit, static_argnames=("shape", "strides"))
def strided_scatter(base, value, *, shape, strides, offset):
    """`base` with the view's elements replaced by `value`."""
    flat = base.reshape(-1).at[(_flat_index(shape, strides, 0) + offset).reshape(-1)].set(
        value.reshape(-1).astype(base.dtype))
    return flat.reshape(base.shape)


def overlaps_itself(shape, strides):
    """True when two elements of the view share memory (expanded dims)."""
    return any(s == 0 and n > 1 for n, s in zip(shape, strides))


def is_non_overlapping_and_dense(shape, strides):
    """Whether the view covers a block of memory exactly once (in any dim order)."""
    expected = 1
    for n, s in sorted(zip(shape, strides), key=lambda p: p[1]):
        if n == 1:
            continue
        if s != expected:
            return False
        expected *= n
    return True


def preserved_strides(shape, strides):
    """The strides PyTorch's preserve_format gives a new tensor like one with `strides`:
    the same when they are dense, else dense strides in the same dim order (stride-0
    dims keep their place)."""
    if is_non_overlapping_and_dense(shape, strides):
        return tuple(strides)
    ndim = len(shape)
    perm = list(reversed(range(ndim)))          # perm[0] becomes the innermost dim

    def should_swap(d0, d1):
        s0, s1 = strides[d0], strides[d1]
        if s0 == 0 or s1 == 0:
            return 0
        if s0 != s1:
            return -1 if s0 < s1 else 1
        return 1 if shape[d0] > shape[d1] else 0
    for i in range(1, ndim):                    # insertion sort, as ties must stay put
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = should_swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    out, acc = [0] * ndim, 1
    for d in perm:
        out[d] = acc
        if shape[d] > 1:
            acc *= shape[d]
    return tuple(out)
