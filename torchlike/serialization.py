"""torchlike.save / torchlike.load in PyTorch's own checkpoint format, without PyTorch.

Writing: `_serialization/writer.py`. Reading is built on PyTorch's weights_only principle,
with or without weights_only (see docs/design.md, "Loading checkpoints"):

- `_serialization/archive.py`   the zip container: one folder, a known version, every
                                size checked before anything is allocated;
- `_serialization/unpickler.py` a pickle machine whose risky opcodes ask the allow-lists;
- `_serialization/allowlist.py` the allow-lists, and add_safe_globals to widen them;
- `_serialization/rebuild.py`   storages read once, tensors as views of them.

A file can name only allow-listed globals, call only allow-listed callables and set
state only on objects it created itself: it can't run code or change torchlike.
"""
import pickle
import re
import warnings

import numpy as np

from . import _device
from ._serialization import legacy, rebuild
from ._serialization.allowlist import (Policy, _StorageType, add_safe_globals,
                                       clear_safe_globals, get_safe_globals, safe_globals)
from ._serialization.archive import open_archive
from ._serialization.unpickler import WeightsUnpickler
from ._serialization.writer import DEFAULT_PROTOCOL, save

__all__ = ["save", "load", "DEFAULT_PROTOCOL", "add_safe_globals", "safe_globals",
           "get_safe_globals", "clear_safe_globals"]

_UNSAFE_MESSAGE = (
    "Re-running `torch.load` with `weights_only` set to `False` will also accept plain "
    "Python and numpy data (numpy arrays, paths, dates, argparse.Namespace); torchlike never "
    "runs code named by a file, so a class of your own has to be allow-listed either way.")


def _weights_only_message(message):
    """PyTorch's framing of a weights-only refusal ("Weights only load failed. ...")."""
    if re.search(r"GLOBAL (\S+) was not an allowed global by default\.", message):
        return ("Weights only load failed. This file can still be loaded, to do so you have "
                "two options, do those steps only if you trust the source of the checkpoint. "
                f"\n\t(1) {_UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with "
                "`weights_only=True` please check the recommended steps in the following "
                "error message.\n\tWeightsUnpickler error: " + message)
    if message.startswith("Unsupported dtype"):
        return f"Weights only load failed. {message}"       # weights_only=False won't help
    if re.search(r"whose module (\S+) is blocked", message):
        return f"Weights only load failed. {_UNSAFE_MESSAGE}\n\n\n{message}"
    return (f"Weights only load failed. {_UNSAFE_MESSAGE}\nThe checkpoint asks for something "
            f"a weights-only load refuses: WeightsUnpickler error: \n\n{message}")


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
            raise RuntimeError("torch.load: a callable map_location must return its "
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


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _byte_order(archive):
    if "byteorder" not in archive:
        return "little"
    if archive.size("byteorder") > 16:
        raise ValueError("Unknown endianness type: (a record of "
                         f"{archive.size('byteorder')} bytes)")
    order = archive.read("byteorder").decode("utf-8", "replace")
    if order not in ("little", "big"):
        raise ValueError("Unknown endianness type: " + order)
    return order


class _StorageReader:
    """persistent_load of one load: each storage key read once, its size checked first."""

    def __init__(self, archive, map_location, mmap):
        self.archive = archive
        self.map_location = map_location
        self.mmap = mmap
        self.order = _byte_order(archive)
        self.loaded = {}

    def __call__(self, pid):
        if type(pid) is not tuple or len(pid) != 5 or type(pid[1]) is not _StorageType \
                or not all(type(v) in (str, bytes) for v in pid[2:4]):
            raise pickle.UnpicklingError("unsupported persistent id in checkpoint: expected "
                                         "('storage', torch.<Type>Storage, key, location, "
                                         "numel)")
        _, storage_type, key, location, numel = pid
        key, location = _text(key), _text(location)
        storage = self.loaded.get(key)
        if storage is None:
            values = self._values(storage_type.dtype, key, numel)
            storage = self.loaded[key] = rebuild.LoadedStorage(
                values, _target_device(location, self.map_location))
        elif storage.values.dtype != storage_type.dtype.np:
            raise RuntimeError(f"checkpoint is corrupt: storage {key} is read as two dtypes")
        return storage

    def _values(self, dtype, key, numel):
        if type(numel) is not int or numel < 0:
            raise TypeError(f"checkpoint is corrupt: storage {key} declares {numel!r} elements")
        name = f"data/{key}"
        nbytes = numel * dtype.itemsize
        record_size = self.archive.size(name)
        if record_size != nbytes:
            raise RuntimeError(
                f"record size ({record_size} bytes) does not match expected size ({nbytes} "
                f"bytes = {nbytes} elements * 1 bytes/element) for dtype Byte")
        stored = np.dtype(dtype.np).newbyteorder("<" if self.order == "little" else ">")
        if self.mmap:
            values = self.archive.map_array(name, stored, numel)
        else:
            values = self.archive.read_array(name, stored, numel)
        if not stored.isnative:
            values = values.byteswap().view(stored.newbyteorder("="))
        return values


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Read a checkpoint written by torch.save or torchlike.save. weights_only defaults to
    True, as in PyTorch >= 2.6. With mmap=True (a path only), storages stay memory-mapped
    from the file and are read as they are used."""
    weights_only = True if weights_only is None else bool(weights_only)
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                           "specified")
    if pickle_load_args and weights_only:
        warnings.warn("pickle_load_args only works if `weights_only=False`.")
    archive, opened = open_archive(f, bool(mmap))
    try:
        return _load_from(archive, map_location, weights_only, bool(mmap))
    finally:
        archive.close()
        if opened is not None:
            opened.close()


def _load_from(archive, map_location, weights_only, mmap):
    policy = Policy(weights_only)
    try:
        if isinstance(archive, legacy.LegacyFile):
            return legacy.load(archive.data, policy,
                               lambda location: _target_device(location, map_location))
        reader = _StorageReader(archive, map_location, mmap)
        return WeightsUnpickler(archive.read("data.pkl"), policy, reader).load()
    except pickle.UnpicklingError as e:
        if weights_only:
            raise pickle.UnpicklingError(_weights_only_message(str(e))) from None
        raise
