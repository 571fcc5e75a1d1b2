"""Checkpoints against real torch: the legacy (non-zip) format both ways, map_location's
forms, allow-listed classes and the messages of a refused load."""
import io
import re

import numpy as np
import pytest

import torchlike

from helpers import float_tol


def _state(lib):
    a = lib.arange(6.0).reshape(2, 3)
    return {"a": a, "row": a[1], "half": lib.ones(3, dtype=lib.float16),
            "bf16": lib.tensor([1.5, -2.0], dtype=lib.bfloat16),
            "long": lib.tensor([1, 2, 3]), "p": lib.nn.Parameter(lib.tensor([3.0])),
            "meta": [lib.Size([2, 3]), 7, "x"]}


def _summary(obj):
    out = {}
    for k, v in obj.items():
        if k == "meta":
            out[k] = [list(v[0]), v[1], v[2]]
        else:
            out[k] = (v.float().tolist(), str(v.dtype), type(v).__name__, v.requires_grad)
    return out


def _legacy_bytes(lib, obj):
    buffer = io.BytesIO()
    lib.save(obj, buffer, _use_new_zipfile_serialization=False)
    return buffer.getvalue()


def test_legacy_file_of_torch_loads_here(oracle):
    raw = _legacy_bytes(oracle, _state(oracle))
    assert not raw.startswith(b"PK")            # really the legacy format
    ours = torchlike.load(io.BytesIO(raw))
    assert _summary(ours) == _summary(oracle.load(io.BytesIO(raw)))
    # `row` still shares `a`'s storage, as in torch
    ours["a"].add_(1)
    assert ours["row"].tolist() == [4.0, 5.0, 6.0]


def test_legacy_file_written_here_loads_in_torch(oracle, tmp_path):
    raw = _legacy_bytes(torchlike, _state(torchlike))
    assert raw[:15] == _legacy_bytes(oracle, {})[:15]    # the same magic number pickle
    theirs = oracle.load(io.BytesIO(raw))
    assert _summary(theirs) == _summary(_state(oracle))
    assert theirs["row"].untyped_storage().data_ptr() == theirs["a"].untyped_storage().data_ptr()
    assert _summary(torchlike.load(io.BytesIO(raw))) == _summary(theirs)
    torchlike.save(_state(torchlike), tmp_path / "l.pt", _use_new_zipfile_serialization=False)
    assert _summary(oracle.load(tmp_path / "l.pt")) == _summary(theirs)


class Config:
    def __init__(self, lr):
        self.lr = lr


def _refusal(lib, raw):
    with pytest.raises(Exception) as info:
        lib.load(io.BytesIO(raw))
    return info.type, str(info.value)


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_allowed_classes_and_refusal_messages_like_torch(oracle, legacy):
    raw = _legacy_bytes(oracle, {"c": Config(0.5)}) if legacy else None
    if raw is None:
        buffer = io.BytesIO()
        oracle.save({"c": Config(0.5)}, buffer)
        raw = buffer.getvalue()
    (our_type, ours), (their_type, theirs) = _refusal(torchlike, raw), _refusal(oracle, raw)
    assert our_type is their_type
    # the same torch.* names (torch.load, torch.serialization.add_safe_globals ...)
    names = re.compile(r"torch\.[\w.]+")
    assert set(names.findall(ours)) == set(names.findall(theirs))
    assert f"GLOBAL {__name__}.Config was not an allowed global" in ours
    for lib in (torchlike, oracle):
        with lib.serialization.safe_globals([Config]):
            assert Config in lib.serialization.get_safe_globals()
            assert lib.load(io.BytesIO(raw))["c"].lr == 0.5
        assert Config not in lib.serialization.get_safe_globals()


def test_whole_modules_load_once_their_classes_are_allowed(oracle):
    """A model pickled whole by torch loads here once torchlike's classes of the same
    names are allowed, and computes what torch's does. (torch's legacy writer also names
    each module class by a 'module' persistent id, which weights-only loads refuse.)"""
    classes = ("Sequential", "Linear", "ReLU")
    theirs = oracle.nn.Sequential(oracle.nn.Linear(2, 3), oracle.nn.ReLU())
    buffer = io.BytesIO()
    oracle.save(theirs, buffer)
    with torchlike.serialization.safe_globals([getattr(torchlike.nn, c) for c in classes]):
        ours = torchlike.load(io.BytesIO(buffer.getvalue()))
        assert type(ours[0]) is torchlike.nn.Linear
        for name, value in theirs.state_dict().items():
            np.testing.assert_array_equal(ours.state_dict()[name].numpy(), value.numpy())
        # a float32 dot of 2 terms plus a bias (3 roundings) on terms of magnitude < 1,
        # which may cancel to a small result: relative to the terms, not the result
        np.testing.assert_allclose(ours(torchlike.ones(1, 2)).detach().numpy(),
                                   theirs(oracle.ones(1, 2)).detach().numpy(),
                                   **float_tol(oracle.float32, 3, 1.0))
        again = torchlike.load(io.BytesIO(_legacy_bytes(torchlike, ours)))
        assert again(torchlike.ones(1, 2)).tolist() == ours(torchlike.ones(1, 2)).tolist()
    raw = _legacy_bytes(oracle, theirs)
    with torchlike.serialization.safe_globals([getattr(torchlike.nn, c) for c in classes]):
        (our_type, ours_message) = _refusal(torchlike, raw)
    with oracle.serialization.safe_globals([getattr(oracle.nn, c) for c in classes]):
        (their_type, theirs_message) = _refusal(oracle, raw)
    assert our_type is their_type
    assert "Only persistent_load of storage is allowed" in ours_message
    assert "Only persistent_load of storage is allowed" in theirs_message


def test_damaged_legacy_files_fail_like_torch(oracle, tmp_path):
    raw = _legacy_bytes(oracle, {"w": oracle.ones(4)})
    bad_magic = b"\x80\x02K\x05." + raw[15:]
    for damaged in (bad_magic, raw[:-4]):
        (our_type, ours), (their_type, theirs) = (_refusal(torchlike, damaged),
                                                  _refusal(oracle, damaged))
        assert our_type is their_type is RuntimeError
        assert ours == theirs
    (tmp_path / "l.pt").write_bytes(raw)
    for path in (tmp_path / "l.pt", str(tmp_path / "l.pt")):
        with pytest.raises(RuntimeError, match="mmap can only be used") as theirs:
            oracle.load(path, mmap=True)
        with pytest.raises(RuntimeError, match=re.escape(str(theirs.value))):
            torchlike.load(path, mmap=True)
    with pytest.raises(AttributeError) as theirs:
        oracle.load(12345)
    with pytest.raises(AttributeError, match=re.escape(str(theirs.value))):
        torchlike.load(12345)


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_map_location_forms_like_torch(oracle, legacy):
    def forms(lib, calls):
        def record(storage, location):
            calls.append(location)
            return storage
        return ["cpu", lib.device("cpu"), {"cpu": "cpu"}, {"cuda:0": "cpu"}, record,
                lambda storage, location: None]
    raws = {}
    for lib in (oracle, torchlike):
        buffer = io.BytesIO()
        lib.save({"w": lib.arange(3.0), "v": lib.ones(2)}, buffer,
                 _use_new_zipfile_serialization=not legacy)
        raws[lib.__name__] = buffer.getvalue()
    for raw in raws.values():
        seen = {}
        for lib in (oracle, torchlike):
            calls = []
            seen[lib.__name__] = [
                (str(out["w"].device), out["w"].tolist()) for out in
                (lib.load(io.BytesIO(raw), map_location=where) for where in forms(lib, calls))
            ] + [calls]
        assert seen["torchlike"] == seen["torch"]
    np.testing.assert_array_equal(
        torchlike.load(io.BytesIO(raws["torch"]))["w"].numpy(), np.arange(3.0))


class _RunsCode:
    def __reduce__(self):
        import os
        return (os.system, ("echo legacy-file-ran-code",))


def test_legacy_files_get_the_zip_formats_safety(oracle):
    """The same restricted unpickler reads every pickle of a legacy file: a global outside
    the allow-list is refused, and damaged files raise only the documented errors."""
    import pickle
    header = b"".join(pickle.dumps(v, protocol=2) for v in (
        oracle.serialization.MAGIC_NUMBER, oracle.serialization.PROTOCOL_VERSION,
        {"protocol_version": 1001, "little_endian": True,
         "type_sizes": {"short": 2, "int": 4, "long": 8}}))
    evil = header + pickle.dumps({"x": _RunsCode()}, protocol=2) + pickle.dumps([], 2)
    assert oracle.load(io.BytesIO(header + pickle.dumps({"x": 1}, 2) + pickle.dumps([], 2)))
    for weights_only in (True, False):
        with pytest.raises(pickle.UnpicklingError, match="blocked|not an allowed|not allowed"):
            torchlike.load(io.BytesIO(evil), weights_only=weights_only)
    raw = _legacy_bytes(torchlike, {"w": torchlike.ones(8), "n": [1, 2]})
    rng = np.random.default_rng(0)
    errors = (pickle.UnpicklingError, RuntimeError, TypeError, ValueError, EOFError)
    for trial in range(40):
        damaged = bytearray(raw[:rng.integers(1, len(raw))] if trial % 2 else raw)
        for i in rng.integers(0, len(damaged), 3):
            damaged[i] ^= int(rng.integers(1, 256))
        try:
            torchlike.load(io.BytesIO(bytes(damaged)))
        except errors:
            pass
