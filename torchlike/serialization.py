"""torchlike.save / torchlike.load in PyTorch's own checkpoint format, without PyTorch.

The format (PyTorch >= 1.6) is an uncompressed zip archive under one top-level folder:

    <name>/data.pkl          the object, pickled with protocol 2
    <name>/byteorder         'little' or 'big'
    <name>/data/<key>        raw bytes of each storage, aligned to 64 bytes in the file
    <name>/version           '3'  (plus .format_version, .storage_alignment, .data/...)

Inside data.pkl a tensor is `torch._utils._rebuild_tensor_v2(storage, offset, size,
stride, requires_grad, OrderedDict())`, where `storage` is the persistent id
('storage', torch.<Type>Storage, key, location, numel); tensors that share memory share
the key. A Parameter wraps that in `torch._utils._rebuild_parameter(tensor,
requires_grad, OrderedDict())`.

Writing names those torch globals without importing torch (the pure-Python pickler
lets us emit a GLOBAL opcode by name). Reading maps them onto torchlike. By default
(weights_only) the unpickler resolves only an allow-list of names, so a checkpoint
cannot run code. Unlike PyTorch, weights_only=False keeps an allow-list too, only a
longer one (numpy values, paths, dates, torchlike's classes): no name in a file ever
reaches an arbitrary import.
"""
import collections
import codecs
import functools
import importlib
import io
import os
import pathlib
import pickle
import secrets
import zipfile

import numpy as np

from . import _device
from . import _dtype as dt
from ._storage import VersionCounter
from ._tensor import Size, Tensor

__all__ = ["save", "load", "DEFAULT_PROTOCOL"]

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

    def __init__(self, file, protocol):
        super().__init__(file, protocol)
        self.storages = {}          # id(Storage) -> _StorageRef, in order of first use

    def _storage_ref(self, t):
        ref = self.storages.get(id(t._storage))
        if ref is None:
            ref = _StorageRef(str(len(self.storages)), t._storage, t.dtype)
            self.storages[id(t._storage)] = ref
        return ref

    def persistent_id(self, obj):
        if type(obj) is _StorageRef:
            return ("storage", _STORAGE_GLOBALS[_STORAGE_NAMES[obj.dtype.name]], obj.key,
                    _location(obj.storage.device), int(obj.storage.array.size))
        return None

    def reducer_override(self, obj):
        from .nn.parameter import Parameter
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
    """Write `obj` to a path or binary file object in PyTorch's zip checkpoint format."""
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
            _write_record(zf, f"{prefix}/data/{ref.key}", _little_endian_bytes(ref.storage.array))
        _write_record(zf, f"{prefix}/version", b"3\n")
        _write_record(zf, f"{prefix}/.data/serialization_id",
                      str(secrets.randbits(128)).zfill(40).encode())
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as out:
            out.write(archive.getbuffer())
    else:
        f.write(archive.getbuffer())


# -- loading ----------------------------------------------------------------------------
class _LoadedStorage:
    """One storage record, turned into torchlike tensors on first use. The first tensor
    covering the whole storage owns it; later tensors on the same key alias the owner's
    torchlike storage, so memory sharing between tensors survives the round trip."""

    def __init__(self, values, device):
        self.values = values          # 1-D numpy array, native byte order
        self.device = device
        self.owner = None

    def tensor(self, offset, size, stride):
        from ._factories import tensor_from_numpy
        offset = int(offset)
        size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
        numel = int(np.prod(size, dtype=np.int64))
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if numel and (offset < 0 or min(stride, default=0) < 0 or last >= self.values.size):
            raise RuntimeError(f"checkpoint is corrupt: a tensor of size {list(size)} reaches "
                               f"past the end of its storage of {self.values.size} elements")
        itemsize = self.values.dtype.itemsize
        picked = (np.lib.stride_tricks.as_strided(self.values[offset:], shape=size,
                                                  strides=tuple(s * itemsize for s in stride))
                  if numel else np.zeros(size, self.values.dtype))
        dtype = dt._BY_NP[self.values.dtype]
        whole = offset == 0 and numel == self.values.size and _contiguous(size, stride)
        if self.owner is None:
            if whole:
                self.owner = tensor_from_numpy(picked, dtype, self.device)
                return self.owner
            self.owner = tensor_from_numpy(self.values, dtype, self.device)
        value = tensor_from_numpy(np.asarray(picked, order="C"), dtype, self.device)._data()
        view = self.owner._make_view(value, size, stride, offset)
        view._base = None                 # PyTorch's loaded tensors are not views either
        view._version_counter = VersionCounter()
        view._view_version = 0
        return view


def _contiguous(size, stride):
    expected = 1
    for n, s in zip(reversed(size), reversed(stride)):
        if n != 1 and s != expected:
            return False
        expected *= n
    return True


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    t = storage.tensor(storage_offset, size, stride)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor(storage, storage_offset, size, stride):
    return storage.tensor(storage_offset, size, stride)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    return _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    from .nn.parameter import Parameter
    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    param = _rebuild_parameter(data, requires_grad, backward_hooks)
    for key, value in (state or {}).items():
        setattr(param, key, value)
    return param


def _rebuild_from_type_v2(func, new_type, args, state):
    """A tensor subclass, or a tensor with attributes: rebuild, retype, restore them."""
    from .nn.parameter import Parameter
    result = func(*args)
    if new_type is Parameter and not isinstance(result, Parameter):
        result = Parameter(result, result.requires_grad)
    if isinstance(state, tuple):
        state = state[0]
    if state:
        for key, value in state.items():
            setattr(result, key, value)
    return result


class _StorageType:
    """Stands for torch.<Type>Storage in a persistent id: only its dtype matters."""

    def __init__(self, dtype):
        self.dtype = dtype


def _allowed_globals():
    """Every name a state_dict checkpoint needs, and nothing that can run code."""
    from .nn.parameter import Parameter
    allowed = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("collections", "Counter"): collections.Counter,
        ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
        ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
        ("torch.nn.parameter", "Parameter"): Parameter,
        ("torch", "Tensor"): Tensor,
        ("torch", "Size"): Size,
        ("torch", "device"): _device.device,
        ("_codecs", "encode"): codecs.encode,      # protocol 2 pickles bytes this way
        ("builtins", "bytearray"): bytearray,
        ("builtins", "set"): set,
        ("builtins", "complex"): complex,
    }
    for name, d in dt._BY_NAME.items():
        allowed[("torch", name)] = d
    for storage_name, d in _DTYPE_OF_STORAGE.items():
        allowed[("torch", storage_name)] = _StorageType(d)
    return allowed


def _numpy_global(module, name):
    """numpy's pickling helpers (arrays, scalars, dtypes), which only build data."""
    if module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        # found through what numpy itself pickles, wherever this numpy version keeps them
        if name == "_reconstruct":
            return np.zeros(0).__reduce__()[0]
        if name == "scalar":
            return np.float64(0).__reduce__()[0]
    if module == "numpy" and name in ("ndarray", "dtype"):
        return getattr(np, name)
    if module == "numpy.dtypes" and name.endswith("DType"):
        found = getattr(np.dtypes, name, None)
        return found if isinstance(found, type) and issubclass(found, np.dtype) else None
    return None


@functools.lru_cache(maxsize=None)
def _extra_globals():
    """What weights_only=False adds: plain data types a training script commonly puts in a
    checkpoint beside its state_dicts (numpy values, paths, dates, argparse results).
    Constructing any of them runs no code from the file."""
    import argparse
    import builtins
    import copyreg
    import datetime
    import pathlib
    names = ("int", "float", "bool", "str", "bytes", "tuple", "list", "dict", "frozenset",
             "slice", "range", "object")
    import builtins
    extra = {("builtins", n): getattr(builtins, n) for n in names}
    extra[("builtins", "xrange")] = range          # protocol 2's spelling of range
    extra.update({
        ("collections", "defaultdict"): collections.defaultdict,
        ("collections", "deque"): collections.deque,
        ("copyreg", "_reconstructor"): copyreg._reconstructor,
        ("argparse", "Namespace"): argparse.Namespace,
        ("pathlib", "PosixPath"): pathlib.PosixPath,
        ("pathlib", "WindowsPath"): pathlib.WindowsPath,
        ("pathlib", "PurePosixPath"): pathlib.PurePosixPath,
        ("pathlib", "PureWindowsPath"): pathlib.PureWindowsPath,
        ("pathlib", "Path"): pathlib.Path,
        ("datetime", "datetime"): datetime.datetime,
        ("datetime", "date"): datetime.date,
        ("datetime", "time"): datetime.time,
        ("datetime", "timedelta"): datetime.timedelta,
        ("datetime", "timezone"): datetime.timezone,
    })
    return extra


def _torchlike_type(module, name):
    """A torch.* class name mapped onto torchlike's class of the same name (weights_only=
    False only). Only classes qualify, never functions, so no torchlike routine (such as
    load itself) can be called from a file."""
    try:
        found = getattr(importlib.import_module("torchlike" + module[5:]), name)
    except (ImportError, AttributeError):
        return None
    # only torchlike's own classes: not something a torchlike module happens to import
    if isinstance(found, type) and found.__module__.split(".")[0] == "torchlike":
        return found
    return None


_WEIGHTS_ONLY_FAILED = (
    "Weights only load failed. Re-running `torchlike.load` with `weights_only` set to `False` "
    "will likely succeed, but it can result in arbitrary code execution. Do it only if you "
    "got the file from a trusted source.\n\n")


class _Unpickler(pickle.Unpickler):
    """Resolves only allow-listed globals, with or without weights_only: torchlike.load
    never imports or calls arbitrary code named by a file. weights_only=True accepts what
    PyTorch's weights-only unpickler accepts; weights_only=False adds plain data types
    (numpy, paths, dates ...) and torchlike's own classes under their torch names. A
    whole pickled model (classes of the user's own modules) therefore can't be loaded;
    save and load its state_dict instead."""

    def __init__(self, file, storage_for, weights_only):
        super().__init__(file)
        self._storage_for = storage_for
        self._weights_only = weights_only
        self._allowed = _allowed_globals()

    def find_class(self, module, name):
        if module == "__builtin__":       # protocol 2 spells Python 3's builtins this way
            module = "builtins"
        found = self._allowed.get((module, name))
        if found is None and not self._weights_only:
            found = _extra_globals().get((module, name)) or _numpy_global(module, name)
            if found is None and (module == "torch" or module.startswith("torch.")):
                found = _torchlike_type(module, name)
        if found is not None:
            return found
        if self._weights_only:
            raise pickle.UnpicklingError(
                _WEIGHTS_ONLY_FAILED + f"Unsupported global: GLOBAL {module}.{name} was not an "
                "allowed global by default. With weights_only=True a checkpoint may hold only "
                "tensors, parameters, dicts, lists, tuples, sets, numbers, strings, dtypes, "
                "sizes and devices.")
        raise pickle.UnpicklingError(
            f"Unsupported global: GLOBAL {module}.{name} is not allowed. torchlike.load never "
            "imports code named by a checkpoint, even with weights_only=False: besides "
            "tensors and containers it accepts numpy arrays and scalars, paths, dates, "
            "argparse.Namespace and torchlike's own types. To restore a whole model, save "
            "its state_dict and load that into a new instance.")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and _text(pid[0]) == "storage"
                and isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError(f"unsupported persistent id in checkpoint: {pid!r}")
        _, storage_type, key, location, numel = pid
        return self._storage_for(storage_type.dtype, _text(key), _text(location), int(numel))


def _text(value):
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


def _target_device(location, map_location):
    """Where a storage saved at `location` goes, following torch.load's map_location."""
    if isinstance(map_location, dict):
        place = map_location.get(location, location)
    elif callable(map_location) and not isinstance(map_location, (str, _device.device)):
        # PyTorch passes the storage; `lambda storage, loc: storage` keeps its location
        sentinel = object()
        result = map_location(sentinel, location)
        if result is None or result is sentinel:
            place = location
        elif isinstance(result, (str, _device.device)):
            place = result
        else:
            raise RuntimeError("torchlike.load: a callable map_location must return its "
                               "storage argument unchanged or a device")
    else:
        place = location if map_location is None else map_location
    dev = place if isinstance(place, _device.device) else _device.device(str(place))
    if dev.type == "cuda" and _device.accelerator_count("cuda") == 0:
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() "
            "is False. If you are running on a CPU-only machine, please use torch.load with "
            "map_location=torch.device('cpu') to map your storages to the CPU.")
    return _device.canonical(dev)


def _open_archive(f):
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as handle:
            raw = handle.read()
    elif hasattr(f, "read"):
        raw = f.read()
        if isinstance(raw, str):
            raise TypeError("torchlike.load needs a file opened in binary mode ('rb')")
    else:
        raise TypeError(f"torchlike.load expects a path or a binary file object, got "
                        f"{type(f).__name__}")
    if not raw:
        raise EOFError("Ran out of input")
    if not raw.startswith(b"PK"):
        raise pickle.UnpicklingError(
            "invalid checkpoint: not a PyTorch zip archive (torchlike reads the zip format "
            "that torch.save writes since PyTorch 1.6)")
    try:
        return zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise RuntimeError("PytorchStreamReader failed reading zip archive: failed finding "
                           f"central directory; the checkpoint is corrupt or truncated ({e})"
                           ) from None


def _read(zf, name):
    try:
        return zf.read(name)
    except KeyError:
        raise RuntimeError(f"PytorchStreamReader failed locating file {name}: file not found; "
                           "the checkpoint is incomplete") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise RuntimeError(f"PytorchStreamReader failed reading file {name}: the checkpoint "
                           f"is corrupt ({e})") from None


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Read a checkpoint written by torch.save or torchlike.save. weights_only defaults
    to True, as in PyTorch >= 2.6."""
    weights_only = True if weights_only is None else bool(weights_only)
    with _open_archive(f) as zf:
        names = zf.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if not pickles:
            raise RuntimeError("PytorchStreamReader failed locating file data.pkl: file not "
                               "found")
        prefix = pickles[0][:-len("data.pkl")]
        order = "little"
        if f"{prefix}byteorder" in names:
            order = _read(zf, f"{prefix}byteorder").decode("ascii", "replace").strip()
            if order not in ("little", "big"):
                raise RuntimeError(f"checkpoint has an unknown byte order {order!r}")
        loaded = {}

        def storage_for(dtype, key, location, numel):
            storage = loaded.get(key)
            if storage is None:
                raw = _read(zf, f"{prefix}data/{key}")
                if numel < 0 or len(raw) < numel * dtype.itemsize:
                    raise RuntimeError(f"checkpoint is corrupt: storage {key} holds {len(raw)} "
                                       f"bytes, {numel * dtype.itemsize} expected")
                stored = dtype.np.newbyteorder("<" if order == "little" else ">")
                values = np.frombuffer(raw, dtype=stored, count=numel).astype(dtype.np)
                storage = loaded[key] = _LoadedStorage(
                    values, _target_device(location, map_location))
            return storage

        unpickler = _Unpickler(io.BytesIO(_read(zf, f"{prefix}data.pkl")), storage_for,
                               weights_only)
        try:
            return unpickler.load()
        except (pickle.UnpicklingError, RuntimeError):
            raise
        except Exception as e:  # noqa: BLE001 - anything else means a damaged data.pkl
            raise pickle.UnpicklingError(f"checkpoint data.pkl is corrupt: {type(e).__name__}: "
                                         f"{e}") from e
