"""PyTorch's legacy checkpoint format (before 1.6, or `_use_new_zipfile_serialization=False`).

The file is a sequence, with no container around it:

    pickle(MAGIC_NUMBER)  pickle(1001)  pickle(sys_info)
    pickle(obj)           storages as persistent ids ('storage', torch.<Type>Storage, key,
                          location, numel, None)
    pickle(sorted keys)
    per key: numel as a little-endian int64, then the storage's little-endian bytes

Every pickle goes through the same restricted unpickler as the zip format. The storages'
bytes come after the object, so a tensor is made first as a view of an empty torchlike
Storage that receives its values once the object is read (PyTorch fills its storages
from the file at the same point); no value can be read in between.
"""
import io
import pickle
import struct

import numpy as np

from .rebuild import PendingStorage
from .unpickler import WeightsUnpickler

MAGIC_NUMBER = 0x1950a86a20f9469cfc6c
PROTOCOL_VERSION = 1001
_SYS_INFO = dict(protocol_version=PROTOCOL_VERSION, little_endian=True,
                 type_sizes=dict(short=struct.calcsize("=h"), int=struct.calcsize("=i"),
                                 long=struct.calcsize("=l")))


class LegacyFile:
    """A whole legacy checkpoint in memory (open_archive's answer for a non-zip file)."""

    def __init__(self, data):
        self.data = data

    def close(self):
        pass


def load(data, policy, device_of):
    """The object in legacy checkpoint `data`; `device_of(location)` applies map_location."""
    position = 0

    def next_pickle(persistent_load=None):
        nonlocal position
        unpickler = WeightsUnpickler(data, policy, persistent_load or _no_storage)
        unpickler._file.seek(position)
        obj = unpickler.load()
        position = unpickler._file.tell()
        return obj

    magic = next_pickle()
    if type(magic) is not int or magic != MAGIC_NUMBER:
        raise RuntimeError("Invalid magic number; corrupt file?")
    version = next_pickle()
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise RuntimeError(f"Invalid protocol version: {version}")
    next_pickle()                               # sys_info: the data is little-endian anyway
    storages = {}
    budget = [len(data) - position]             # bytes the storages may still claim

    def persistent_load(pid):
        return _storage_of(pid, storages, budget, device_of)

    obj = next_pickle(persistent_load)
    keys = next_pickle()
    if type(keys) is not list or not all(type(k) is str for k in keys):
        raise RuntimeError("checkpoint is corrupt: the storage keys are not a list of str")
    position = _fill(data, position, keys, storages)
    return obj


def _no_storage(pid):
    raise pickle.UnpicklingError("checkpoint is corrupt: a storage outside the object")


def _storage_of(pid, storages, budget, device_of):
    from .allowlist import _StorageType
    if type(pid) is not tuple or len(pid) != 6 or type(pid[1]) is not _StorageType \
            or type(pid[2]) is not str or type(pid[3]) not in (str, bytes) \
            or type(pid[4]) is not int or pid[4] < 0:
        raise pickle.UnpicklingError("unsupported persistent id in checkpoint: expected "
                                     "('storage', torch.<Type>Storage, key, location, "
                                     "numel, None)")
    _, storage_type, key, location, numel, view_metadata = pid
    if view_metadata is not None:
        raise RuntimeError("checkpoint uses storage views (PyTorch < 0.4), which torchlike "
                           "does not read")
    storage = storages.get(key)
    if storage is None:
        dtype = np.dtype(storage_type.dtype.np)
        # the storages together may not claim more bytes than the rest of the file holds
        budget[0] -= numel * dtype.itemsize
        if budget[0] < 0:
            raise RuntimeError(f"checkpoint is corrupt: storage {key} needs "
                               f"{numel * dtype.itemsize} bytes, more than the file holds")
        location = location.decode("ascii") if type(location) is bytes else location
        storage = storages[key] = PendingStorage(dtype, numel, device_of(location))
    elif storage.values.dtype != storage_type.dtype.np or storage.numel != numel:
        raise RuntimeError(f"checkpoint is corrupt: storage {key} is declared twice "
                           "differently")
    return storage


def _fill(data, position, keys, storages):
    for key in keys:
        storage = storages.get(key)
        if storage is None:
            raise RuntimeError(f"checkpoint is corrupt: data for an unknown storage {key}")
        itemsize = storage.values.dtype.itemsize
        header = data[position:position + 8]
        if len(header) != 8:
            raise RuntimeError("unexpected EOF, expected 8 more bytes. The file might be "
                               "corrupted.")
        numel = int.from_bytes(header, "little", signed=True)
        if numel != storage.numel:
            raise RuntimeError(f"storage has wrong byte size: expected "
                               f"{storage.numel * itemsize} got {numel * itemsize}")
        position += 8
        nbytes = numel * itemsize
        if position + nbytes > len(data):
            raise RuntimeError(f"unexpected EOF, expected {position + nbytes - len(data)} "
                               "more bytes. The file might be corrupted.")
        values = np.frombuffer(data, storage.values.dtype.newbyteorder("<"), numel, position)
        storage.fill(values.astype(storage.values.dtype, copy=False))
        position += nbytes
    missing = [k for k, s in storages.items() if k not in keys]
    if missing:
        raise RuntimeError(f"checkpoint is corrupt: no data for storage {missing[0]}")
    return position


# -- writing ----------------------------------------------------------------------------
def write(f, obj, protocol):
    """obj in the legacy format to the binary file object `f`."""
    from .._lazy import force
    from .writer import _little_endian_bytes, _TorchPickler
    out = io.BytesIO()
    for header in (MAGIC_NUMBER, PROTOCOL_VERSION, _SYS_INFO):
        pickle.dump(header, out, protocol=protocol)
    pickler = _TorchPickler(out, protocol, legacy=True)
    pickler.dump(obj)
    refs = sorted(pickler.storages.values(), key=lambda ref: ref.key)
    pickle.dump([ref.key for ref in refs], out, protocol=protocol)
    for ref in refs:
        payload = _little_endian_bytes(force(ref.storage.array))
        out.write((len(payload) // ref.dtype.itemsize).to_bytes(8, "little", signed=True))
        out.write(payload)
    f.write(out.getbuffer())
