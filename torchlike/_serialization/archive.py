"""The zip container of a checkpoint, read the way PyTorch's PytorchStreamReader reads it,
with every size checked before anything is allocated.

- Every record lies in one top-level folder; `version` (or `.data/version`) holds a
  format version PyTorch reads (1 to 10).
- A record name appears once. PyTorch reads whichever copy of a duplicated name its
  zip library's binary search meets first, which depends on the other names; an
  archive that says two things under one name is refused instead.
- A record's declared uncompressed size is checked against what its compressed bytes
  can produce (deflate expands at most 1032:1) and against the size the checkpoint
  expects, before it is read: a zip bomb fails before it allocates.
"""
import io
import os
import pickle
import zipfile

import numpy as np

_MAX_DEFLATE_RATIO = 1032
_MIN_VERSION, _MAX_VERSION = 1, 10
_CHUNK = 1 << 24
_CORRUPT = (" This is an internal miniz error. If you are seeing this error, there is a high "
            "likelihood that your checkpoint file is corrupted. This can happen if the "
            "checkpoint was not saved properly, was transferred incorrectly, or the file was "
            "modified after saving.")


class Archive:
    """The records of one checkpoint, by their name inside the top-level folder."""

    def __init__(self, handle, path=None):
        self.path = path                     # set when the file can be memory-mapped
        self._handle = handle
        self._length = _stream_length(handle)
        try:
            self._zip = zipfile.ZipFile(handle)
        except Exception as e:  # noqa: BLE001 - zipfile raises many kinds on a damaged file
            raise RuntimeError("PytorchStreamReader failed reading zip archive: failed "
                               f"finding central directory ({type(e).__name__}: {e})."
                               + _CORRUPT) from None
        self.prefix, self._records, stray = _records_by_name(self._zip.infolist())
        self.version = self._read_version()          # PyTorch looks for it first
        if stray is not None:
            raise RuntimeError(f"file in archive is not in a subdirectory {self.prefix}: "
                               f"{stray}")

    def close(self):
        self._zip.close()

    def __contains__(self, name):
        return name in self._records

    def size(self, name):
        return self._info(name).file_size

    def read(self, name):
        """A small record (data.pkl, byteorder ...) as bytes."""
        info = self._info(name)
        self._check_sizes(info)
        return self._read_into(info, bytearray(info.file_size))

    def read_array(self, name, np_dtype, count):
        """A storage record of `count` elements, read into a fresh numpy array."""
        info = self._info(name)
        self._check_sizes(info)
        values = np.empty(count, np_dtype)
        self._read_into(info, values.view(np.uint8).reshape(-1))
        return values

    def map_array(self, name, np_dtype, count):
        """A storage record as a copy-on-write memory map of the file (read lazily)."""
        info = self._info(name)
        self._check_sizes(info)
        if info.compress_type != zipfile.ZIP_STORED:
            raise RuntimeError(f"mmap=True needs uncompressed records, and {name} is "
                               "compressed; torch.save writes uncompressed archives")
        if count == 0:
            return np.empty(0, np_dtype)
        return np.memmap(self.path, dtype=np_dtype, mode="c", offset=self._data_start(info),
                         shape=(count,))

    # -- checks -------------------------------------------------------------------------
    def _info(self, name):
        try:
            return self._records[name]
        except KeyError:
            raise RuntimeError(f"PytorchStreamReader failed locating file {name}: file not "
                               "found." + _CORRUPT) from None

    def _check_sizes(self, info):
        """The record's sizes are possible in this file: its compressed bytes lie inside
        the archive, and could expand to the size it claims."""
        name = info.filename[len(self.prefix):]
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            # PyTorch's zip library reads only these two; others (bzip2) expand far more
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: unsupported "
                               f"compression method {info.compress_type}." + _CORRUPT)
        if info.header_offset + info.compress_size > self._length:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: the record "
                               "reaches past the end of the archive." + _CORRUPT)
        limit = (info.compress_size if info.compress_type == zipfile.ZIP_STORED
                 else info.compress_size * _MAX_DEFLATE_RATIO + 1024)
        if info.file_size > limit:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: it claims "
                               f"{info.file_size} bytes, more than its {info.compress_size} "
                               "compressed bytes can hold (a zip bomb or a corrupt archive).")

    def _data_start(self, info):
        """Where a stored record's bytes begin: after its local header, whose name and
        extra fields may differ from the central directory's."""
        self._handle.seek(info.header_offset)
        header = self._handle.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise RuntimeError(f"PytorchStreamReader failed reading file {info.filename}: bad "
                               "local header." + _CORRUPT)
        name_length = int.from_bytes(header[26:28], "little")
        extra_length = int.from_bytes(header[28:30], "little")
        start = info.header_offset + 30 + name_length + extra_length
        if start + info.file_size > self._length:
            raise RuntimeError(f"PytorchStreamReader failed reading file {info.filename}: the "
                               "record reaches past the end of the archive." + _CORRUPT)
        return start

    def _read_into(self, info, buffer):
        """Fill `buffer` (exactly the record's size) in chunks, so that reading never
        holds a second copy; zipfile checks the CRC at the end."""
        view = memoryview(buffer)
        try:
            with self._zip.open(info) as src:
                filled = 0
                while filled < len(view):
                    chunk = src.read(min(_CHUNK, len(view) - filled))
                    if not chunk:
                        break
                    view[filled:filled + len(chunk)] = chunk
                    filled += len(chunk)
                if filled != len(view) or src.read(1):
                    raise zipfile.BadZipFile("record shorter or longer than declared")
        except Exception as e:  # noqa: BLE001 - zipfile, zlib and struct errors alike
            name = info.filename[len(self.prefix):]
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: the "
                               f"checkpoint is corrupt ({type(e).__name__}: {e})."
                               + _CORRUPT) from None
        return bytes(buffer) if isinstance(buffer, bytearray) else buffer

    def _read_version(self):
        name = ".data/version" if ".data/version" in self._records else "version"
        if name not in self._records:
            raise RuntimeError('Expected hasRecord("version") to be true, but got false.')
        if self.size(name) > 64:
            raise RuntimeError(f"Couldn't parse the version of {self.size(name)} bytes as "
                               "Long Long.")
        text = self.read(name).decode("utf-8", "replace")
        try:
            version = int(text.strip())
        except ValueError:
            raise RuntimeError(f"Couldn't parse the version {text} as Long Long.") from None
        if version < _MIN_VERSION:
            raise RuntimeError(
                f"Attempted to read a PyTorch file with version {version}, but the minimum "
                f"supported version for reading is {_MIN_VERSION}. Your PyTorch script module "
                "file is too old. Please regenerate it with latest version of PyTorch to "
                "mitigate this issue.")
        if version > _MAX_VERSION:
            raise RuntimeError(
                f"Attempted to read a PyTorch file with version {version}, but the maximum "
                f"supported version for reading is {_MAX_VERSION}. The version of your PyTorch "
                "installation may be too old, please upgrade PyTorch to latest version to "
                "mitigate this issue.")
        return version


def _records_by_name(infos):
    """(folder, {name inside the folder: ZipInfo}, first name outside the folder or None),
    after our rule on duplicate names."""
    if not infos:
        raise RuntimeError("PytorchStreamReader failed reading zip archive: the archive is "
                           "empty." + _CORRUPT)
    first = infos[0].filename
    if "/" not in first:
        raise RuntimeError(f"file in archive is not in a subdirectory: {first}")
    prefix = first[:first.index("/") + 1]
    records, stray = {}, None
    for info in infos:
        if not info.filename.startswith(prefix):
            stray = stray or info.filename
            continue
        name = info.filename[len(prefix):]
        if name in records:
            raise RuntimeError(f"PytorchStreamReader: the archive holds two records named "
                               f"{info.filename}; which one PyTorch reads depends on the "
                               "other names, so the checkpoint is ambiguous and refused.")
        records[name] = info
    return prefix, records, stray


def _stream_length(handle):
    position = handle.tell()
    length = handle.seek(0, os.SEEK_END)
    handle.seek(position)
    return length


def open_archive(f, mmap):
    """An Archive over a path or a binary file object; (archive, handle we opened)."""
    if isinstance(f, (str, os.PathLike)):
        handle = open(f, "rb")
        path = os.fspath(f)
    elif hasattr(f, "read"):
        if mmap:
            raise ValueError("f must be a file path in order to use the mmap argument")
        handle, path = _seekable(f), None
    else:
        raise AttributeError(f"'{type(f).__name__}' object has no attribute 'seek'. You can "
                             "only torch.load from a file that is seekable. Please pre-load "
                             "the data into a buffer like io.BytesIO and try to load from it "
                             "instead.")
    try:
        magic = handle.read(4)
        if isinstance(magic, str):
            raise TypeError("torch.load needs a file opened in binary mode ('rb')")
        if not magic:
            raise EOFError("Ran out of input")
        if magic[:1] == pickle.PROTO:       # a pickle: the legacy format
            return _legacy_file(handle, f, magic, mmap), (handle if path is not None else None)
        if not magic.startswith(b"PK"):
            raise pickle.UnpicklingError(
                "Invalid checkpoint: not a PyTorch zip archive (torchlike reads the zip format "
                "that torch.save writes since PyTorch 1.6)")
        handle.seek(-len(magic), os.SEEK_CUR)
        return Archive(handle, path), (handle if path is not None else None)
    except BaseException:
        if path is not None:
            handle.close()
        raise


def _legacy_file(handle, f, magic, mmap):
    from .legacy import LegacyFile
    if mmap:
        name = f"{f}, " if isinstance(f, str) else ""        # (as PyTorch: str paths only)
        raise RuntimeError(f"mmap can only be used with files saved with `torch.save({name}"
                           "_use_new_zipfile_serialization=True), please torch.save your "
                           "checkpoint with this option in order to use mmap.")
    return LegacyFile(magic + handle.read())


def _seekable(f):
    """zipfile needs to seek; a stream that can't is read into memory first."""
    try:
        if f.seekable():
            return f
    except (AttributeError, OSError):
        pass
    return io.BytesIO(f.read())
