"""Tensors that share memory with numpy arrays: `Tensor.numpy()` and `torch.from_numpy`.

In PyTorch the array and the tensor are one piece of memory: `t.numpy()` then `t.add_(1)`
changes the array, and `a += 1` changes `torch.from_numpy(a)`. A torchlike storage holds
an immutable jax.Array, so a storage that shares becomes a `SharedStorage`, whose values
live in a numpy array (the host buffer), the one source of truth:

- reading the storage (any op, printing, a view's gather) gives a jax.Array of the
  buffer's current values, a snapshot as of that moment, as an eager PyTorch op reads its
  input then (the last snapshot again while the buffer's bits still equal it: comparing
  costs less than moving a copy into JAX);
- writing it (an in-place op, `copy_`, an optimizer step) computes the new values (a
  pending deferred value is computed now) and stores them into the buffer;
- inside a JAX trace a write of a traced value is kept aside until a concrete one
  replaces it (the trace's end), since a tracer has no values to store.

A buffer that `numpy()` allocated belongs to the storage: once no array refers to it any
more (its reference count says only the storage does), nobody can see the sharing, and
the storage turns back into an ordinary one with the buffer's last values, so code that
once looked at a tensor through numpy does not stay slower. A buffer that came from
`from_numpy` is the user's and stays shared as long as the tensor lives.
"""
import itertools
import sys
import warnings
import weakref

import jax
import numpy as np

from . import _device
from ._lazy import force
from ._storage import Storage

_ARRAY_SLOT = Storage.__dict__["array"]     # the base class's slots, under the properties
_GENERATION_SLOT = Storage.__dict__["generation"]
_TICKS = itertools.count(1 << 62)           # generations no ordinary storage reaches
# storage -> [host buffer, whether the storage owns it, last snapshot (jax.Array), the
# values it was made from (numpy)]; weak, so storages die as usual
_HOSTS = weakref.WeakKeyDictionary()
_BITS = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


class SharedStorage(Storage):
    """A Storage whose values live in a numpy buffer (see the module docstring)."""
    __slots__ = ()

    def _live(self):
        """This storage's entry [buffer, owned, snapshot, its values], or None once it is
        an ordinary storage again: an owned buffer no array refers to is released here."""
        entry = _HOSTS.get(self)
        if entry is not None and entry[1] and sys.getrefcount(entry[0]) <= _ONLY_OURS:
            _release(self, entry)
            return None
        return entry

    @property
    def array(self):
        held = _ARRAY_SLOT.__get__(self)
        if held is not None:               # a traced write, kept until the trace ends
            return held
        entry = self._live()
        if entry is None:
            return _ARRAY_SLOT.__get__(self)
        return _snapshot(entry, self.device)

    @array.setter
    def array(self, value):
        entry = None if isinstance(value, jax.core.Tracer) else self._live()
        if entry is None:
            _ARRAY_SLOT.__set__(self, value)
            return
        _ARRAY_SLOT.__set__(self, None)
        buffer, value = entry[0], force(value)
        if value.shape != buffer.shape:
            value = value.reshape(buffer.shape)
        buffer[...] = np.asarray(value)        # (jax.device_get: 10 us more of Python)
        entry[2], entry[3] = value, np.array(buffer)

    @property
    def generation(self):
        """A new number on every read while shared: numpy may have written the buffer
        since, so a view's cached value is never taken as current."""
        if self._live() is None:
            return _GENERATION_SLOT.__get__(self)
        return next(_TICKS)

    @generation.setter
    def generation(self, value):
        _GENERATION_SLOT.__set__(self, value)

    def nbytes(self):
        entry = self._live()
        return entry[0].nbytes if entry is not None else super().nbytes()


def _same_bits(a, b):
    """Whether two arrays hold the same bits (-0.0 is not 0.0; a NaN equals itself)."""
    kind = _BITS.get(a.itemsize)
    return kind is not None and a.shape == b.shape and bool(
        (a.view(kind) == b.view(kind)).all())


def _snapshot(entry, device):
    """A jax.Array of the buffer's values now: the last one while the bits are the same."""
    buffer, snapshot, its_values = entry[0], entry[2], entry[3]
    if snapshot is not None and _same_bits(buffer, its_values):
        return snapshot
    values = np.array(buffer)
    entry[2], entry[3] = _device.place(values, device), values
    return entry[2]


def _release(storage, entry):
    """Back to an ordinary storage holding the buffer's last values."""
    del _HOSTS[storage]
    _ARRAY_SLOT.__set__(storage, _snapshot(entry, storage.device))
    _GENERATION_SLOT.__set__(storage, next(_TICKS))      # views cached before re-read
    storage.__class__ = Storage


def _share(storage, buffer, owned, snapshot=None):
    """`snapshot`: a jax.Array of the buffer's values now, if one is at hand."""
    _HOSTS[storage] = [buffer, owned, snapshot, None if snapshot is None else np.array(buffer)]
    _ARRAY_SLOT.__set__(storage, None)
    storage.__class__ = SharedStorage


# -- Tensor.numpy() ---------------------------------------------------------------------
def numpy_of(tensor):
    """The ndarray that shares `tensor`'s memory (its storage seen through the tensor's
    sizes, strides and offset), or None where sharing is impossible (a traced value)."""
    storage = tensor._storage
    entry = storage._live() if type(storage) is SharedStorage else None
    if entry is not None:
        buffer = entry[0]
    else:
        current = force(storage.array)
        if isinstance(current, jax.core.Tracer):
            return None
        buffer = np.array(current)        # writable, owned by the storage
        _share(storage, buffer, owned=True, snapshot=current)
    if tensor._whole:
        return buffer.view()        # a new array object each call, as PyTorch's
    if not buffer.flags.c_contiguous:           # a strided array given to from_numpy
        return None
    itemsize = buffer.itemsize
    return np.lib.stride_tricks.as_strided(
        buffer.reshape(-1)[tensor._offset:], tuple(tensor.shape),
        tuple(s * itemsize for s in tensor.stride()))


# -- torch.from_numpy -------------------------------------------------------------------
_warned_read_only = False


def share_array(tensor, array):
    """Make `tensor` (just made from `array`'s values) share the array's memory."""
    global _warned_read_only
    if not array.flags.writeable:
        if not _warned_read_only:
            _warned_read_only = True
            warnings.warn(
                "The given NumPy array is not writable, and PyTorch does not support "
                "non-writable tensors. This means writing to this tensor will result in "
                "undefined behavior. You may want to copy the array to protect its data or "
                "make it writable before converting it to a tensor. This type of warning "
                "will be suppressed for the rest of this program.", UserWarning, stacklevel=3)
        return tensor                            # its copy: writes can't reach the array
    _share(tensor._storage, array, owned=False, snapshot=_ARRAY_SLOT.__get__(tensor._storage))
    return tensor


def check_array(array):
    """PyTorch's refusals of an array from_numpy can't share."""
    if any(s < 0 for s in array.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with "
            "negative strides are not currently supported. (You can probably work around "
            "this by making a copy of your array  with array.copy().) ")
    if not array.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte "
                         "order. Conversion between byte orders is currently not supported.")


def _count_when_only_the_table_holds_it():
    """sys.getrefcount(entry[0]) in `_live` when only the entry holds the buffer."""
    entry = [np.zeros(1), True, None, None]
    return sys.getrefcount(entry[0])


_ONLY_OURS = _count_when_only_the_table_holds_it()
