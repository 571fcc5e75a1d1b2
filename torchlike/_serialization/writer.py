"""torchlike.save: PyTorch's zip checkpoint format, written without importing torch.

The format (PyTorch >= 1.6) is an uncompressed zip archive under one top-level folder:

    <name>/data.pkl          the object, pickled with protocol 2
    <name>/byteorder         'little' or 'big'
    <name>/data/<key>        raw bytes of each storage, aligned to 64 bytes in the file
    <name>/version           '3'  (plus .format_version, .storage_alignment, .data/...)

Inside data.pkl a tensor is `torch._utils._rebuild_tensor_v2(storage, offset, size,
stride, requires_grad, OrderedDict())`, where `storage` is the persistent id
('storage', torch.<Type>Storage, key, location, numel); tensors that share memory share
the key. A Parameter wraps that in `torch._utils._rebuild_parameter(tensor,
requires_grad, OrderedDict())`. The pure-Python pickler lets us emit those torch names
as GLOBAL opcodes without importing torch.
"""
import collections
import io
import os
import pathlib
import pickle
import secrets
import zipfile

import numpy as np

from .. import _device
from .. import _dtype as dt
from .._lazy import force
from .._tensor import Size, Tensor

DEFAULT_PROTOCOL = 2
_ALIGNMENT = 64

_STORAGE_NAMES = {"float32": "FloatStorage", "float64": "DoubleStorage",
                  "float16": "HalfStorage", "bfloat16": "BFloat16Storage",
                  "int64": "LongStorage", "int32": "IntStorage", "int16": "ShortStorage",
                  "int8": "CharStorage", "uint8": "ByteStorage", "bool": "BoolStorage",
                  "complex64": "ComplexFloatStorage", "complex128": "ComplexDoubleStorage"}
_DTYPE_OF_STORAGE = {v: dt._BY_NAME[k] for k, v in _STORAGE_NAMES.items()}


class _Global:
    """A torch global written into the pickle by name (torch is never imported)."""
    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):   # the pickler insists that a reduce function be callable
        raise TypeError(f"{self.module}.{self.name} is a placeholder for pickling")


_REBUILD_TENSOR = _Global("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAMETER = _Global("torch._utils", "_rebuild_parameter")
_TORCH_SIZE = _Global("torch", "Size")
_TORCH_DEVICE = _Global("torch", "device")
_STORAGE_GLOBALS = {name: _Global("torch", name) for name in _STORAGE_NAMES.values()}


# -- saving -----------------------------------------------------------------------------
class _StorageRef:
    """One storage to write: the persistent id names it, its bytes go to data/<key>."""
    __slots__ = ("key", "storage", "dtype")

    def __init__(self, key, storage, dtype):
        self.key, self.storage, self.dtype = key, storage, dtype


def _location(device):
    return "cpu" if device.type == "cpu" else f"{device.type}:{device.index or 0}"


class _TorchPickler(pickle._Pickler):
    """Pickles torchlike tensors, dtypes, sizes and devices as PyTorch does."""

    def __init__(self, file, protocol, legacy=False):
        super().__init__(file, protocol)
        self.storages = {}          # id(Storage) -> _StorageRef, in order of first use
        self.legacy = legacy        # the legacy format's ids end with view metadata (None)

    def _storage_ref(self, t):
        ref = self.storages.get(id(t._storage))
        if ref is None:
            ref = _StorageRef(str(len(self.storages)), t._storage, t.dtype)
            self.storages[id(t._storage)] = ref
        return ref

    def persistent_id(self, obj):
        if type(obj) is _StorageRef:
            pid = ("storage", _STORAGE_GLOBALS[_STORAGE_NAMES[obj.dtype.name]], obj.key,
                   _location(obj.storage.device), int(obj.storage.array.size))
            return pid + (None,) if self.legacy else pid
        return None

    def reducer_override(self, obj):
        from ..nn.parameter import Parameter
        if isinstance(obj, (_Global, dt.dtype)):
            return "global"                     # written by save_global below
        if isinstance(obj, Parameter):
            return (_REBUILD_PARAMETER, (obj.detach(), obj.requires_grad,
                                         collections.OrderedDict()))
        if isinstance(obj, Tensor):
            if obj.dtype.name not in _STORAGE_NAMES:
                raise pickle.PicklingError(f"cannot save a tensor of dtype {obj.dtype}")
            return (_REBUILD_TENSOR, (self._storage_ref(obj), obj.storage_offset(),
                                      tuple(obj.shape), tuple(obj.stride()),
                                      obj.requires_grad, collections.OrderedDict()))
        if isinstance(obj, Size):
            return (_TORCH_SIZE, (tuple(int(n) for n in obj),))
        if isinstance(obj, _device.device):
            return (_TORCH_DEVICE, (obj.type,) if obj.index is None else (obj.type, obj.index))
        return NotImplemented

    def save_global(self, obj, name=None):
        if isinstance(obj, _Global):
            module, name = obj.module, obj.name
        elif isinstance(obj, dt.dtype):
            module, name = "torch", obj.name
        else:
            return super().save_global(obj, name)
        self.write(pickle.GLOBAL + module.encode("utf-8") + b"\n" + name.encode("utf-8") + b"\n")
        self.memoize(obj)


def _archive_name(f):
    if isinstance(f, (str, os.PathLike)):
        return pathlib.Path(f).stem or "archive"
    return "archive"


def _write_record(zf, name, data):
    """Store `data` uncompressed with its payload aligned: the local header's extra
    field is padded so that the bytes start at a multiple of 64 (as PyTorch, which
    relies on it to memory-map checkpoints)."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    start = zf.fp.tell() + 30 + len(name.encode("utf-8")) + 4
    pad = (-start) % _ALIGNMENT
    info.extra = b"FB" + pad.to_bytes(2, "little") + b"Z" * pad
    zf.writestr(info, data)


def _little_endian_bytes(array):
    array = np.asarray(array, order="C")
    return array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """Write `obj` to a path or binary file object in PyTorch's zip checkpoint format
    (or its legacy format with `_use_new_zipfile_serialization=False`)."""
    if not _use_new_zipfile_serialization:
        return _save_legacy(obj, f, pickle_protocol)
    data = io.BytesIO()
    pickler = _TorchPickler(data, pickle_protocol)
    pickler.dump(obj)
    prefix = _archive_name(f)
    # the archive is assembled in memory, so that alignment offsets start at 0
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        _write_record(zf, f"{prefix}/data.pkl", data.getvalue())
        _write_record(zf, f"{prefix}/.format_version", b"1")
        _write_record(zf, f"{prefix}/.storage_alignment", str(_ALIGNMENT).encode())
        if not _disable_byteorder_record:
            _write_record(zf, f"{prefix}/byteorder", b"little")
        for ref in pickler.storages.values():
            # (a storage's array may still be pending: see _lazy.py)
            _write_record(zf, f"{prefix}/data/{ref.key}",
                          _little_endian_bytes(force(ref.storage.array)))
        _write_record(zf, f"{prefix}/version", b"3\n")
        _write_record(zf, f"{prefix}/.data/serialization_id",
                      str(secrets.randbits(128)).zfill(40).encode())
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as out:
            out.write(archive.getbuffer())
    else:
        f.write(archive.getbuffer())


def _save_legacy(obj, f, pickle_protocol):
    from . import legacy
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as out:
            legacy.write(out, obj, pickle_protocol)
    else:
        legacy.write(f, obj, pickle_protocol)
