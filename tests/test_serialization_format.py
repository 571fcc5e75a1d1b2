"""The checkpoint container against PyTorch: loading proportional to the file (storages
read once, tensors as views, mmap), and malformed archives answered like PyTorch."""
import io
import pickle
import struct
import time
import tracemalloc
import warnings
import zipfile

import pytest

import torchlike
from torchlike.serialization import load, save
from test_serialization_security import FOUR_FLOATS, archive, dumps, tensor


def _torch_bytes(oracle, obj):
    buf = io.BytesIO()
    oracle.save(obj, buf)
    return buf.getvalue()


def _both(oracle, raw):
    """(ours, theirs): the loaded object or the exception, for the same bytes."""
    results = []
    for loader in (load, oracle.load):
        try:
            results.append(loader(io.BytesIO(raw)))
        except Exception as e:  # noqa: BLE001 - the exception is the result compared
            results.append(e)
    return results


# -- proportional to the file ---------------------------------------------------------------
def test_expanded_tensor_loads_as_a_view_instantly(oracle):
    """torch.save of zeros(1).expand(20000, 20000) is 1.6 KB; PyTorch loads it as a
    4-byte storage with strides (0, 0), and so must we: no 1.6 GB materialization."""
    raw = _torch_bytes(oracle, oracle.zeros(1).expand(20000, 20000))
    assert len(raw) < 2000
    tracemalloc.start()
    start = time.perf_counter()
    ours = load(io.BytesIO(raw))
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    theirs = oracle.load(io.BytesIO(raw))
    assert elapsed < 2.0 and peak < 10 * 2 ** 20, (elapsed, peak)
    assert tuple(ours.shape) == tuple(theirs.shape) == (20000, 20000)
    assert ours.stride() == theirs.stride() == (0, 0)
    assert ours.untyped_storage().nbytes() == theirs.untyped_storage().nbytes() == 4


def test_expanded_and_overlapping_views_equal_torchs(oracle):
    base = oracle.arange(12.0)
    cases = {"expand": oracle.arange(3.0).expand(300, 3),
             "overlap": base.as_strided((5, 4), (2, 1)),
             "offset": base.as_strided((2, 3), (1, 2), 3),
             "shared": {"a": base.as_strided((3, 3), (1, 1)), "b": base[2:], "c": base}}
    for name, obj in cases.items():
        ours, theirs = _both(oracle, _torch_bytes(oracle, obj))
        pairs = zip(ours.values(), theirs.values()) if isinstance(obj, dict) else [(ours, theirs)]
        for o, t in pairs:
            assert o.tolist() == t.tolist() and o.stride() == t.stride(), name
            assert o.storage_offset() == t.storage_offset(), name
    # views of one storage share it, as in PyTorch: a write shows through the others
    ours = load(io.BytesIO(_torch_bytes(oracle, cases["shared"])))
    ours["c"].add_(100)
    assert ours["a"].tolist()[0] == [100.0, 101.0, 102.0]
    assert ours["b"].tolist()[0] == 102.0


def test_each_storage_is_read_once(oracle):
    """A thousand views of one 4 MB storage cost one 4 MB read, not a thousand."""
    base = oracle.zeros(2 ** 20)
    raw = _torch_bytes(oracle, [base[i:] for i in range(1000)])
    tracemalloc.start()
    ours = load(io.BytesIO(raw))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(ours) == 1000 and ours[999].shape == (2 ** 20 - 999,)
    assert peak < 12 * 2 ** 20, peak


def test_mmap_maps_the_file_and_reads_lazily(oracle, tmp_path):
    path = tmp_path / "big.pt"
    oracle.save({"w": oracle.arange(2 ** 23, dtype=oracle.float32), "b": oracle.ones(3)}, path)
    tracemalloc.start()
    mapped = load(path, mmap=True)
    mapped_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    read = load(path)
    read_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert mapped_peak < 2 ** 20 < 2 ** 25 <= read_peak, (mapped_peak, read_peak)
    assert mapped["w"][-3:].tolist() == read["w"][-3:].tolist() == [8388605.0, 8388606.0, 8388607.0]
    mapped["w"].add_(1)                    # copy-on-write: the file keeps its values
    assert mapped["w"][:2].tolist() == [1.0, 2.0]
    assert oracle.load(path)["w"][:2].tolist() == [0.0, 1.0]
    assert load(path, mmap=True)["b"].tolist() == [1.0, 1.0, 1.0]


def test_mmap_needs_a_path_like_torch(oracle, tmp_path):
    raw = _torch_bytes(oracle, oracle.ones(2))
    for loader in (load, oracle.load):
        with pytest.raises(ValueError, match="f must be a file path in order to use the mmap"):
            loader(io.BytesIO(raw), mmap=True)
    deflated = tmp_path / "deflated.pt"
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(deflated, "w",
                                                                  zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    assert load(deflated).tolist() == [1.0, 1.0]          # deflated archives load, as in torch
    with pytest.raises(RuntimeError, match="mmap=True needs uncompressed records"):
        load(deflated, mmap=True)


# -- archives PyTorch rejects ----------------------------------------------------------------
def _records(oracle):
    with zipfile.ZipFile(io.BytesIO(_torch_bytes(oracle, {"x": oracle.arange(4.0)}))) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def _zip(records):
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w") as zf:
        warnings.simplefilter("ignore", UserWarning)     # duplicate names, on purpose
        for name, data in records:
            zf.writestr(name, data)
    return out.getvalue()


def _replace(records, name, data):
    return [(n, data if n == name else d) for n, d in records]


def _without(records, name):
    return [(n, d) for n, d in records if n != name]


ARCHIVE_CASES = {
    # name: (make records, expected message fragment, shared with torch's message)
    "second folder": (lambda r: r + [("other/extra", b"x")],
                      "file in archive is not in a subdirectory archive/: other/extra"),
    "second folder first": (lambda r: [("other/extra", b"x")] + r,
                            'Expected hasRecord("version") to be true'),
    "no folder": (lambda r: [(n.split("/", 1)[1], d) for n, d in r],
                  "file in archive is not in a subdirectory: data.pkl"),
    "no version": (lambda r: _without(r, "archive/version"),
                   'Expected hasRecord("version") to be true, but got false.'),
    "version 99": (lambda r: _replace(r, "archive/version", b"99\n"),
                   "Attempted to read a PyTorch file with version 99, but the maximum supported "
                   "version for reading is 10."),
    "version 0": (lambda r: _replace(r, "archive/version", b"0\n"),
                  "Attempted to read a PyTorch file with version 0, but the minimum supported "
                  "version for reading is 1."),
    "version abc": (lambda r: _replace(r, "archive/version", b"abc\n"),
                    "Couldn't parse the version abc\n as Long Long."),
    "no data.pkl": (lambda r: _without(r, "archive/data.pkl"),
                    "PytorchStreamReader failed locating file data.pkl: file not found"),
    "missing storage": (lambda r: _without(r, "archive/data/0"),
                        "PytorchStreamReader failed locating file data/0: file not found"),
    "short storage": (lambda r: _replace(r, "archive/data/0", FOUR_FLOATS[:8]),
                      "record size (8 bytes) does not match expected size (16 bytes = 16 "
                      "elements * 1 bytes/element) for dtype Byte"),
    "long storage": (lambda r: _replace(r, "archive/data/0", FOUR_FLOATS + b"1234"),
                     "record size (20 bytes) does not match expected size (16 bytes"),
}


@pytest.mark.parametrize("case", list(ARCHIVE_CASES))
def test_malformed_archives_fail_like_torch(oracle, case):
    make, fragment = ARCHIVE_CASES[case]
    raw = _zip(make(_records(oracle)))
    ours, theirs = _both(oracle, raw)
    assert type(ours) is type(theirs) is RuntimeError, (ours, theirs)
    assert fragment in str(ours) and fragment in str(theirs), (str(ours), str(theirs))


def test_unknown_byte_order_like_torch(oracle):
    raw = _zip(_replace(_records(oracle), "archive/byteorder", b"middle"))
    ours, theirs = _both(oracle, raw)
    assert type(ours) is type(theirs) is ValueError
    assert str(ours) == str(theirs) == "Unknown endianness type: middle"


def test_duplicate_records_are_refused(oracle):
    """PyTorch reads whichever copy its zip library's binary search meets first: for a
    duplicated data/0 that depends on where the copy sits among the other names (checked
    here), so the archive means two things and torchlike refuses it."""
    records = _records(oracle)
    index = [n for n, _ in records].index("archive/data/0")
    nines = ("archive/data/0", struct.pack("<4f", 9, 9, 9, 9))
    seen = set()
    for position in range(len(records) + 1):
        raw = _zip(records[:position] + [nines] + records[position:])
        seen.add(tuple(oracle.load(io.BytesIO(raw))["x"].tolist()))
        with pytest.raises(RuntimeError, match="two records named archive/data/0"):
            load(io.BytesIO(raw))
    assert seen == {(0.0, 1.0, 2.0, 3.0), (9.0, 9.0, 9.0, 9.0)}, (index, seen)


# -- tensors that do not fit their storage: PyTorch's class and message --------------------
GEOMETRY_CASES = {
    "past the end": (tensor(size=(3, 2), stride=(2, 1)), RuntimeError,
                     "Trying to resize storage that is not resizable"),
    "negative offset": (tensor(offset=-1, size=(2,)), RuntimeError,
                        "Tensor: invalid storage offset -1"),
    "negative size": (tensor(size=(-2,)), RuntimeError, "numel: integer multiplication overflow"),
    "negative stride": (tensor(offset=3, size=(2,), stride=(-1,)), RuntimeError,
                        "Storage size calculation overflowed with sizes=[2] and strides=[-1]"),
    "rank mismatch": (tensor(size=(2, 2), stride=(1,)), RuntimeError,
                      "unequal size length (2) and stride length (1)"),
    "numel overflow": (tensor(size=(2 ** 40, 2 ** 40), stride=(0, 1)), RuntimeError,
                       "numel: integer multiplication overflow"),
    "size past int64": (tensor(size=(2 ** 64,), stride=(0,)), TypeError, "Overflow when unpacking long long"),
    "float size": (tensor(size=(2.0,)), TypeError, ""),
    "declared too big": (tensor(numel=10 ** 12), RuntimeError,
                         "record size (16 bytes) does not match expected size (4000000000000 bytes"),
}


@pytest.mark.parametrize("case", list(GEOMETRY_CASES))
def test_tensor_geometry_is_checked_like_torch(oracle, case):
    obj, error, fragment = GEOMETRY_CASES[case]
    raw = archive(dumps({"t": obj}))
    tracemalloc.start()
    ours, theirs = _both(oracle, raw)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert type(ours) is type(theirs) is error, (ours, theirs)
    assert fragment in str(ours) and fragment in str(theirs), (str(ours), str(theirs))
    assert peak < 2 ** 20


def test_valid_geometry_edge_cases_load_like_torch(oracle):
    for obj in (tensor(offset=100, size=(0,)), tensor(size=(3, 4), stride=(0, 1)),
                tensor(size=(2, 2), stride=(1, 1)), tensor(offset=3, size=(1,)),
                tensor(size=(), stride=()), tensor(size=(4, 1, 1), stride=(1, 7, 0))):
        ours, theirs = _both(oracle, archive(dumps(obj)))
        assert ours.tolist() == theirs.tolist() and tuple(ours.shape) == tuple(theirs.shape)


def test_unknown_storage_type_is_refused_like_torch(oracle):
    raw = archive(dumps({"t": tensor(dtype="Float7Storage")}))
    ours, theirs = _both(oracle, raw)
    assert type(ours) is type(theirs) is pickle.UnpicklingError
    assert str(theirs).startswith("Weights only load failed.")
    assert "Unsupported global: GLOBAL torch.Float7Storage was not an allowed global" in str(theirs)
    assert str(ours).startswith("Weights only load failed. Unsupported dtype: GLOBAL "
                                "torch.Float7Storage")


@pytest.mark.filterwarnings("ignore:ComplexHalf support is experimental")    # torch's own
@pytest.mark.parametrize("dtype", ["uint16", "float8_e4m3fn", "complex32"])
def test_dtypes_torchlike_lacks_are_named_in_the_error(oracle, dtype):
    """PyTorch saves these through torch.storage.UntypedStorage; the error says why."""
    raw = _torch_bytes(oracle, {"t": oracle.zeros(2, dtype=getattr(oracle, dtype))})
    for weights_only in (True, False):
        with pytest.raises(pickle.UnpicklingError, match="a dtype torchlike does not have"):
            load(io.BytesIO(raw), weights_only=weights_only)


# -- zip bombs ------------------------------------------------------------------------------
def _lie_about_size(raw, name, claimed):
    """Patch the uncompressed size of record `name` in its local and central headers."""
    data = bytearray(raw)
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        info = zf.getinfo(name)
    struct.pack_into("<I", data, info.header_offset + 22, claimed)       # local header
    position = data.find(b"PK\x01\x02")                                    # central directory
    while position >= 0:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if data[position + 46:position + 46 + name_length] == name.encode():
            struct.pack_into("<I", data, position + 24, claimed)
        position = data.find(b"PK\x01\x02", position + 4)
    return bytes(data)


def test_zip_bomb_fails_before_allocating():
    """A deflated storage whose header claims 4 GB from a few bytes: refused from the
    sizes alone (deflate can't expand more than 1032:1), before any allocation."""
    numel = 2 ** 30 - 1
    raw = archive(dumps({"t": tensor(size=(numel,), numel=numel)}),
                  records=[("data/0", b"\x00" * 64)], compression=zipfile.ZIP_DEFLATED)
    bomb = _lie_about_size(raw, "archive/data/0", numel * 4)
    tracemalloc.start()
    with pytest.raises(RuntimeError, match="more than its .* compressed bytes can hold"):
        load(io.BytesIO(bomb))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2 ** 20, peak


def test_record_longer_than_its_header_says_is_corrupt():
    """zipfile reads no more than the declared size; the CRC then fails."""
    raw = archive(dumps({"t": tensor(size=(2,), numel=2)}), records=[("data/0", FOUR_FLOATS)],
                  compression=zipfile.ZIP_DEFLATED)
    with pytest.raises(RuntimeError, match="corrupt"):
        load(io.BytesIO(_lie_about_size(raw, "archive/data/0", 8)))


def test_round_trip_still_aligned_and_readable_by_torch(oracle, tmp_path):
    """Nothing of the writer changed: torch reads what we write, views included."""
    x = torchlike.arange(12.0).reshape(3, 4)
    save({"x": x, "t": x.t(), "row": x[1]}, tmp_path / "rt.pt")
    theirs = oracle.load(tmp_path / "rt.pt")
    ours = load(tmp_path / "rt.pt", mmap=True)
    for key in ("x", "t", "row"):
        assert ours[key].tolist() == theirs[key].tolist()
        assert ours[key].stride() == theirs[key].stride()
