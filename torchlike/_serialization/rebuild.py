"""Storages and tensors of a checkpoint being loaded.

Each storage record is read once, at its real size, into one torchlike Storage; every
tensor naming it is a view (shape, strides, offset) of that storage, as in PyTorch, so a
file holding `zeros(1).expand(20000, 20000)` loads a 4-byte storage and a (0, 0)-strided
tensor. A view's values are gathered from the storage only when first read.

The geometry a file declares is checked before anything is built, with PyTorch's
messages: a tensor can reach neither before nor past its storage.
"""
import math
from collections import OrderedDict

import jax
import numpy as np

from .. import _device
from .._storage import VersionCounter, is_contiguous
from .._tensor import Tensor

_INT64_MAX = 2 ** 63 - 1


class LoadedStorage:
    """One storage record: a flat numpy array (read, or memory-mapped) turned into a
    torchlike Storage when the first tensor asks for it."""

    def __init__(self, values, device):
        self.values = values          # 1-D numpy array in native byte order
        self.device = device
        self.storage = None           # torchlike Storage, shared by every tensor here

    @property
    def numel(self):
        return self.values.size

    def tensor(self, offset, size, stride):
        offset, size, stride = _checked_geometry(offset, size, stride, self.numel,
                                                 self.values.dtype.itemsize)
        if math.prod(size) == 0:
            return _fresh_tensor(np.zeros(size, self.values.dtype), self.device)
        if self.storage is None and offset == 0 and math.prod(size) == self.numel \
                and is_contiguous(size, stride):
            # the usual case: the tensor is its whole storage, stored in its own shape
            owner = _fresh_tensor(self.values.reshape(size), self.device)
            self.storage = owner._storage
            return owner
        if self.storage is None:
            self.storage = _fresh_tensor(self.values, self.device)._storage
        return _view_of(self.storage, offset, size, stride)


def _place(values, device):
    """A jax array of `values` on `device`. On JAX's default device, device_put leaves
    the array uncommitted and, on a CPU, aliases the numpy buffer (a memory map stays a
    memory map, read lazily)."""
    if _device.to_jax(device) == jax.local_devices()[0]:
        return jax.device_put(values)
    return _device.place(values, device)


def _fresh_tensor(values, device):
    return Tensor._wrap(_place(values, device), device)


def _view_of(storage, offset, size, stride):
    """A tensor seeing (size, stride, offset) of `storage`, its values gathered on first
    read. Like PyTorch's loaded tensors it is not a view of another tensor (no _base)
    and counts its own versions."""
    holder = object.__new__(Tensor)
    holder._init_from_array(storage.array, storage.device)
    holder._storage = storage
    view = holder._make_view(None, size, stride, offset)
    view._cache_gen = -1                # not computed yet: the first read gathers it
    view._base = None
    view._version_counter = VersionCounter()
    view._view_version = 0
    return view


def _checked_geometry(offset, size, stride, numel, itemsize):
    """(offset, size, stride) as ints, or PyTorch's error for a tensor that does not fit."""
    offset = _as_int(offset, "storage_offset")
    size = tuple(_as_int(n, "size") for n in _as_sequence(size, "size"))
    stride = tuple(_as_int(s, "stride") for s in _as_sequence(stride, "stride"))
    if len(size) != len(stride):
        raise RuntimeError(f"unequal size length ({len(size)}) and stride length "
                           f"({len(stride)})")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    if any(n < 0 for n in size) or math.prod(size) > _INT64_MAX:
        raise RuntimeError("numel: integer multiplication overflow")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and "
                           f"strides={list(stride)}")
    if math.prod(size) == 0:
        return offset, size, stride
    needed = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if needed > _INT64_MAX:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and "
                           f"strides={list(stride)}")
    if needed > numel:
        raise RuntimeError(
            "Trying to resize storage that is not resizable: the checkpoint is corrupt, a "
            f"tensor of size {list(size)}, stride {list(stride)} and offset {offset} needs "
            f"{needed * itemsize} bytes of a storage that holds {numel * itemsize}")
    return offset, size, stride


def _as_sequence(value, what):
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"_rebuild_tensor(): argument '{what}' must be tuple of ints, not "
                        f"{type(value).__name__}")
    return value


def _as_int(value, what):
    if type(value) is not int:
        raise TypeError(f"_rebuild_tensor(): argument '{what}' must be int or tuple of ints, "
                        f"but found element of type {type(value).__name__}")
    if not -_INT64_MAX - 1 <= value <= _INT64_MAX:
        raise TypeError(f"_rebuild_tensor(): argument '{what}' failed to unpack: Overflow "
                        "when unpacking long long")
    return value


class PendingStorage(LoadedStorage):
    """A storage of the legacy format, whose bytes follow the object: its tensors are
    views of one empty torchlike Storage that `fill` gives its values (legacy.py)."""

    def __init__(self, np_dtype, numel, device):
        super().__init__(np.empty(0, np_dtype), device)
        self._numel = numel

    @property
    def numel(self):
        return self._numel

    def tensor(self, offset, size, stride):
        offset, size, stride = _checked_geometry(offset, size, stride, self._numel,
                                                 self.values.dtype.itemsize)
        if math.prod(size) == 0:
            return _fresh_tensor(np.zeros(size, self.values.dtype), self.device)
        if self.storage is None:
            self.storage = _fresh_tensor(self.values, self.device)._storage
        return _view_of(self.storage, offset, size, stride)

    def fill(self, values):
        if self.storage is not None:
            self.storage.array = _place(values, self.device)
            self.storage.generation += 1


# -- the torch._utils rebuild functions a checkpoint may call -------------------------
def _storage_arg(storage):
    if type(storage) not in (LoadedStorage, PendingStorage):
        raise TypeError(f"_rebuild_tensor(): expected a storage from this checkpoint, got "
                        f"{type(storage).__name__}")
    return storage


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _storage_arg(storage).tensor(storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    t = _rebuild_tensor(storage, storage_offset, size, stride)
    if _flag(requires_grad):
        t.requires_grad_(True)
    return t


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    t = _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad)
    if dtype is not t.dtype:
        raise RuntimeError(f"checkpoint is corrupt: a {t.dtype} storage read as {dtype}")
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks):
    return _as_parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    param = _as_parameter(data, requires_grad)
    set_attributes(param, state)
    return param


TENSOR_REBUILDERS = {f.__name__: f for f in (
    _rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
    _rebuild_parameter_with_state)}


def rebuild_from_type_v2(func, new_type, args, state):
    """A tensor subclass, or a tensor with attributes: rebuild, retype, restore them."""
    from ..nn.parameter import Parameter
    if not any(func is f for f in TENSOR_REBUILDERS.values()) or type(args) is not tuple:
        raise TypeError("_rebuild_from_type_v2: expected a tensor rebuild function")
    result = func(*args)
    if new_type is Parameter and not isinstance(result, Parameter):
        result = _as_parameter(result, result.requires_grad)
    elif new_type is not Tensor and new_type is not Parameter:
        raise TypeError(f"_rebuild_from_type_v2: cannot rebuild a tensor as {new_type!r}")
    if isinstance(state, tuple):
        state = state[0]
    set_attributes(result, state)
    return result


def parameter_from(data=None, requires_grad=True):
    """Parameter(data, requires_grad) as a checkpoint may call it."""
    if data is None:
        return _as_parameter(_fresh_tensor(np.zeros(0, np.float32), _device.canonical(None)),
                             requires_grad)
    return _as_parameter(data, requires_grad)


def _as_parameter(data, requires_grad):
    """`data` (a tensor this load just built, referenced nowhere else) as a Parameter,
    without reading its values: Parameter(data) would gather an expanded view."""
    from ..nn.parameter import Parameter
    if not isinstance(data, Tensor) or type(data) is not Tensor:
        raise TypeError(f"_rebuild_parameter(): expected a tensor, got {type(data).__name__}")
    param = object.__new__(Parameter)
    for name in Tensor.__slots__:
        if name not in ("__dict__", "__weakref__"):
            setattr(param, name, getattr(data, name))
    param._requires_grad = False
    param._set_requires_grad(_flag(requires_grad), "Only Tensors of floating point and "
                             "complex dtype can require gradients")
    return param


def _flag(value):
    """requires_grad as saved: a bool (truth of anything else, a tensor say, could read
    a huge view)."""
    if type(value) not in (bool, int):
        raise TypeError(f"requires_grad must be a bool, not {type(value).__name__}")
    return bool(value)


def set_attributes(tensor, state):
    """Python attributes saved with a tensor (`t.note = ...`), put back into its __dict__.
    A name that would shadow a Tensor method or property, or a dunder, is refused: data
    from a file must not change what `t.backward` or `t.__add__` mean."""
    if state is None:
        return
    if type(state) not in (dict, OrderedDict):
        raise TypeError("tensor state must be a dict of attributes")
    for key in state:
        if type(key) is not str or key.startswith("__") or hasattr(type(tensor), key):
            raise RuntimeError(f"checkpoint sets attribute {key!r} of a "
                               f"{type(tensor).__name__}, which would shadow its class's")
    tensor.__dict__.update(state)
