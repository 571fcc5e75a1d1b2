"""torchlike.save / torchlike.load against torch.save / torch.load, in both directions."""
import collections
import io
import os
import pickle
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import torchlike
from torchlike.nn import Parameter
from torchlike.serialization import load, save

DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8",
          "uint8", "bool", "complex64", "complex128"]


def _values(dtype, shape=(2, 3)):
    x = np.arange(int(np.prod(shape))).reshape(shape) - 2
    if dtype == "bool":
        return x % 2 == 0
    if dtype.startswith("complex"):
        return (x + 0.5j * x).astype(dtype)
    if dtype == "uint8":
        return (x + 2).astype(dtype)
    return x.astype("float32") * (0.75 if dtype.startswith(("float", "bfloat")) else 1)


def _make(lib, dtype, shape=(2, 3)):
    return lib.tensor(_values(dtype, shape), dtype=getattr(lib, dtype))


def _np(t):
    t = t.detach()
    if "bfloat16" in str(t.dtype):
        t = t.float()
    return np.asarray(t) if isinstance(t, torchlike.Tensor) else t.numpy()


def _same(ours, theirs):
    """A torchlike structure equals a torch one: types, dtypes, shapes, values, flags."""
    if hasattr(theirs, "dtype") and hasattr(theirs, "shape"):
        assert isinstance(ours, torchlike.Tensor), type(ours)
        assert str(ours.dtype) == str(theirs.dtype)
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert ours.requires_grad == theirs.requires_grad
        assert isinstance(ours, Parameter) == (type(theirs).__name__ == "Parameter")
        np.testing.assert_array_equal(_np(ours), _np(theirs))
    elif isinstance(theirs, dict):
        assert type(ours).__name__ == type(theirs).__name__ and list(ours) == list(theirs)
        for k in theirs:
            _same(ours[k], theirs[k])
    elif type(theirs).__module__ == "torch":      # dtype, Size, device
        assert type(ours).__name__ == type(theirs).__name__ and str(ours) == str(theirs)
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
    else:
        assert type(ours) is type(theirs) and ours == theirs


def _checkpoint(lib):
    """A state_dict-like object exercising everything a checkpoint holds."""
    base = _make(lib, "float32", (3, 4))
    return collections.OrderedDict([
        ("weight", lib.nn.Parameter(_make(lib, "float32", (4, 3)))),
        ("frozen", lib.nn.Parameter(_make(lib, "float64", (2,)), requires_grad=False)),
        ("base", base),
        ("column", base[:, 1]),                  # shares base's storage
        ("row", base[2]),
        ("scalar", lib.tensor(2.5)),
        ("empty", lib.zeros(0, 3)),
        ("tensors", {d: _make(lib, d) for d in DTYPES}),
        ("meta", {"epoch": 3, "lr": 0.01, "name": "run-1", "flags": [True, None],
                  "pair": (1, 2.5), "bytes": b"\x00\xff", "ids": {1, 2}, "z": 1 + 2j}),
        ("dtype", lib.float16),
        ("size", lib.Size([2, 3])),
        ("device", lib.device("cpu")),
    ])


def test_torch_checkpoint_loads_in_torchlike(oracle, tmp_path):
    path = tmp_path / "from_torch.pt"
    oracle.save(_checkpoint(oracle), path)
    loaded = load(path)
    _same(loaded, _checkpoint(oracle))
    # shared storage stays shared: writing the base shows through its views
    loaded["base"].add_(100)
    assert _np(loaded["column"]).tolist() == (_np(loaded["base"])[:, 1]).tolist()
    assert _np(loaded["row"]).tolist() == (_np(loaded["base"])[2]).tolist()


@pytest.mark.parametrize("weights_only", [True, False])
def test_torchlike_checkpoint_loads_in_torch(oracle, tmp_path, weights_only):
    path = tmp_path / "from_torchlike.pt"
    save(_checkpoint(torchlike), path)
    loaded = oracle.load(path, weights_only=weights_only)
    _same(_checkpoint(torchlike), loaded)
    loaded["base"].add_(100)
    assert loaded["column"].tolist() == loaded["base"][:, 1].tolist()
    assert loaded["base"].untyped_storage().data_ptr() == loaded["row"].untyped_storage().data_ptr()


def test_torchlike_round_trip_and_file_objects(tmp_path):
    ckpt = _checkpoint(torchlike)
    for target in (tmp_path / "a.pt", str(tmp_path / "b.pt")):
        save(ckpt, target)
        again = load(target)
        assert list(again) == list(ckpt)
        np.testing.assert_array_equal(_np(again["weight"]), _np(ckpt["weight"]))
    buf = io.BytesIO()
    save(ckpt, buf)
    buf.seek(0)
    again = load(buf)
    assert isinstance(again["weight"], Parameter) and again["weight"].requires_grad
    assert not again["frozen"].requires_grad
    assert again["tensors"]["bfloat16"].dtype is torchlike.bfloat16
    np.testing.assert_array_equal(_np(again["tensors"]["bfloat16"]),
                                  _np(ckpt["tensors"]["bfloat16"]))
    with open(tmp_path / "c.pt", "wb") as f:
        save(ckpt, f)
    with open(tmp_path / "c.pt", "rb") as f:
        assert load(f)["meta"] == ckpt["meta"]


def test_torch_file_objects_both_ways(oracle):
    buf = io.BytesIO()
    oracle.save({"x": oracle.arange(5)}, buf)
    buf.seek(0)
    assert load(buf)["x"].tolist() == [0, 1, 2, 3, 4]
    buf = io.BytesIO()
    save({"x": torchlike.arange(5)}, buf)
    buf.seek(0)
    assert oracle.load(buf)["x"].tolist() == [0, 1, 2, 3, 4]


def test_single_tensor_and_views_saved_alone(oracle, tmp_path):
    x = torchlike.arange(12.0).reshape(3, 4)
    for obj in (x, x[1], x[:, 2], x.t()):
        path = tmp_path / "t.pt"
        save(obj, path)
        theirs = oracle.load(path)
        assert theirs.tolist() == obj.tolist() and list(theirs.stride()) == list(obj.stride())
        ours = load(path)
        assert ours.tolist() == obj.tolist() and tuple(ours.shape) == tuple(obj.shape)
    oracle.save(oracle.arange(12.0).reshape(3, 4)[:, 1:3], tmp_path / "v.pt")
    assert load(tmp_path / "v.pt").tolist() == [[1.0, 2.0], [5.0, 6.0], [9.0, 10.0]]


def test_records_are_aligned_like_torch(tmp_path):
    save({"a": torchlike.ones(3), "b": torchlike.zeros(5, dtype=torchlike.int8)}, tmp_path / "x.pt")
    raw = (tmp_path / "x.pt").read_bytes()
    with zipfile.ZipFile(tmp_path / "x.pt") as zf:
        names = zf.namelist()
        assert names[0] == "x/data.pkl" and "x/byteorder" in names and "x/version" in names
        assert zf.read("x/version") == b"3\n" and zf.read("x/byteorder") == b"little"
        for info in zf.infolist():
            header = info.header_offset
            name_len = int.from_bytes(raw[header + 26:header + 28], "little")
            extra_len = int.from_bytes(raw[header + 28:header + 30], "little")
            assert (header + 30 + name_len + extra_len) % 64 == 0, info.filename
            assert info.compress_type == zipfile.ZIP_STORED


def test_map_location(tmp_path):
    save({"x": torchlike.ones(2)}, tmp_path / "m.pt")
    for where in ("cpu", torchlike.device("cpu"), {"cpu": "cpu"}, lambda storage, loc: storage):
        assert load(tmp_path / "m.pt", map_location=where)["x"].device == torchlike.device("cpu")


def test_cuda_checkpoint_needs_map_location_without_gpu(tmp_path):
    """A checkpoint saved on a GPU names 'cuda:0'; map_location='cpu' loads it anywhere."""
    save({"x": torchlike.ones(2)}, tmp_path / "g.pt")
    with zipfile.ZipFile(tmp_path / "g.pt") as zf:
        records = {n: zf.read(n) for n in zf.namelist()}
    records["g/data.pkl"] = records["g/data.pkl"].replace(b"X\x03\x00\x00\x00cpu",
                                                          b"X\x06\x00\x00\x00cuda:0")
    with zipfile.ZipFile(tmp_path / "g2.pt", "w") as zf:
        for n, payload in records.items():
            zf.writestr(n.replace("g/", "g2/"), payload)
    assert load(tmp_path / "g2.pt", map_location="cpu")["x"].tolist() == [1.0, 1.0]
    if torchlike.cuda.is_available():
        assert load(tmp_path / "g2.pt")["x"].device.type == "cuda"
    else:
        with pytest.raises(RuntimeError, match="CUDA device"):
            load(tmp_path / "g2.pt")


def _evil_checkpoint(path, payload):
    save({"x": torchlike.ones(1)}, path)
    with zipfile.ZipFile(path) as zf:
        records = {n: zf.read(n) for n in zf.namelist()}
    prefix = path.stem
    records[f"{prefix}/data.pkl"] = payload
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in records.items():
            zf.writestr(n, data)


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("weights_only", [None, True, False])
def test_malicious_pickle_is_rejected(oracle, tmp_path, weights_only):
    """Even weights_only=False keeps an allow-list (torch's would run the command); the
    os module is blocked outright, with PyTorch's message."""
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    _evil_checkpoint(path, pickle.dumps({"a": _RunsCode(marker)}, protocol=2))
    blocked = f"Trying to load unsupported GLOBAL {os.name}.system whose module {os.name} is blocked."
    with pytest.raises(pickle.UnpicklingError) as ours:
        load(path, weights_only=weights_only)
    assert blocked in str(ours.value)
    assert str(ours.value).startswith("Weights only load failed." if weights_only in (None, True)
                                      else blocked)
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError) as theirs:      # torch refuses it the same way
        oracle.load(path, weights_only=True)
    assert blocked in str(theirs.value) and str(theirs.value).startswith("Weights only load failed.")
    assert not marker.exists()


class _Hidden:
    """Code smuggled inside data that weights_only=False accepts."""
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (eval, (f"open({str(self.marker)!r}, 'w')",))


def _pickled_with_global(module, name, args=()):
    """A pickle calling module.name(*args), written by hand so nothing is imported."""
    body = pickle.dumps(args, protocol=2)[2:-1]      # the arguments tuple's opcodes
    return (b"\x80\x02" + pickle.GLOBAL + f"{module}\n{name}\n".encode() + body
            + pickle.REDUCE + pickle.STOP)


@pytest.mark.parametrize("module,name,args", [
    ("builtins", "eval", ("1 + 1",)),
    ("builtins", "getattr", ((), "count")),
    ("subprocess", "Popen", (["true"],)),
    ("torch.serialization", "load", ("x.pt",)),     # torch names map to classes only
    ("torch", "load", ("x.pt",)),
    ("torch.serialization", "zipfile", ()),
    ("numpy", "load", ("x.npy",)),
    ("__main__", "Net", ()),
])
def test_weights_only_false_keeps_an_allow_list(tmp_path, module, name, args):
    path = tmp_path / "bad.pt"
    _evil_checkpoint(path, _pickled_with_global(module, name, args))
    with pytest.raises(pickle.UnpicklingError, match=f"GLOBAL {module}.{name} is not allowed"):
        load(path, weights_only=False)


def test_object_array_cannot_smuggle_code(tmp_path):
    marker = tmp_path / "pwned"
    arr = np.empty(1, dtype=object)
    arr[0] = _Hidden(marker)
    path = tmp_path / "obj.pt"
    _evil_checkpoint(path, pickle.dumps({"a": arr}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL builtins.eval"):
        load(path, weights_only=False)
    assert not marker.exists()


def test_weights_only_false_reads_common_extras(oracle, tmp_path):
    """What training scripts put beside their state_dicts: torch.load(weights_only=False)
    reads these, and so does torchlike (without importing anything from the file)."""
    import argparse
    import datetime
    import pathlib
    extras = {"args": argparse.Namespace(lr=0.1, name="run"), "arr": np.arange(3.0),
              "best": np.float64(0.25), "ints": np.array([1, 2], np.int32),
              "dt": np.dtype("float32"), "path": pathlib.PurePosixPath("/tmp/run"),
              "when": datetime.datetime(2024, 5, 1, 12), "r": range(3), "sl": slice(1, 4),
              "fs": frozenset({1, 2}), "dd": collections.defaultdict(list, {"a": [1]}),
              "dtype": oracle.float16, "size": oracle.Size([2, 3]), "w": oracle.ones(2)}
    oracle.save(extras, tmp_path / "extras.pt")
    out = load(tmp_path / "extras.pt", weights_only=False)
    assert out["args"] == extras["args"] and out["path"] == extras["path"]
    assert out["arr"].tolist() == [0.0, 1.0, 2.0] and out["ints"].dtype == np.int32
    assert type(out["best"]) is np.float64 and out["best"] == 0.25
    assert out["dt"] == np.float32 and out["when"] == extras["when"]
    assert out["r"] == range(3) and out["sl"] == slice(1, 4) and out["fs"] == {1, 2}
    assert out["dd"]["a"] == [1] and out["dd"].default_factory is list
    assert out["dtype"] is torchlike.float16 and out["size"] == torchlike.Size([2, 3])
    assert out["w"].tolist() == [1.0, 1.0]
    with pytest.raises(pickle.UnpicklingError, match="weights_only"):
        load(tmp_path / "extras.pt")                  # the default refuses them, as torch


def test_torchlike_classes_need_add_safe_globals(tmp_path):
    """A file can't call torchlike's classes by their torch names (one of them,
    set_grad_enabled, changes the process when called); add_safe_globals allows one."""
    path = tmp_path / "dev.pt"
    _evil_checkpoint(path, _pickled_with_global("torch.nn.modules.linear", "Identity"))
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL torch.nn.modules.linear.Identity"):
        load(path, weights_only=False)
    with torchlike.serialization.safe_globals(
            [(torchlike.nn.Identity, "torch.nn.modules.linear.Identity")]):
        assert isinstance(load(path, weights_only=False), torchlike.nn.Identity)
        assert isinstance(load(path), torchlike.nn.Identity)
    assert torchlike.serialization.get_safe_globals() == []


def test_other_disallowed_globals_are_rejected(tmp_path):
    path = tmp_path / "np.pt"
    _evil_checkpoint(path, pickle.dumps({"a": np.ones(2)}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="weights_only"):
        load(path)
    assert load(path, weights_only=False)["a"].tolist() == [1.0, 1.0]


def test_weights_only_false_maps_torch_names(oracle, tmp_path):
    """Globals such as torch.float32 or a torch class resolve to torchlike's."""
    oracle.save({"dtype": oracle.float32, "lst": [oracle.int8]}, tmp_path / "d.pt")
    out = load(tmp_path / "d.pt", weights_only=False)
    assert out["dtype"] is torchlike.float32 and out["lst"][0] is torchlike.int8


def test_corrupt_and_truncated_files(oracle, tmp_path):
    path = tmp_path / "ok.pt"
    save({"w": torchlike.ones(100), "b": torchlike.zeros(3)}, path)
    raw = path.read_bytes()
    cases = {
        "truncated": (raw[:len(raw) // 2], RuntimeError),
        "cut_at_end": (raw[:-10], RuntimeError),
        "not_a_zip": (b"certainly not a checkpoint" * 4, pickle.UnpicklingError),
        "empty": (b"", EOFError),
    }
    for name, (payload, error) in cases.items():
        bad = tmp_path / f"{name}.pt"
        bad.write_bytes(payload)
        with pytest.raises(error):
            load(bad)
    # a damaged storage record fails its CRC check
    flipped = bytearray(raw)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("ok/data/0")
    start = info.header_offset + 30 + len(info.filename) + \
        int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    flipped[start + 5] ^= 0xFF
    (tmp_path / "flipped.pt").write_bytes(bytes(flipped))
    with pytest.raises(RuntimeError, match="corrupt"):
        load(tmp_path / "flipped.pt")
    # a damaged pickle
    _evil_checkpoint(tmp_path / "badpickle.pt", b"\x80\x02}q\x00(X\x01")
    with pytest.raises(pickle.UnpicklingError):
        load(tmp_path / "badpickle.pt")
    with pytest.raises(AttributeError) as theirs:
        oracle.load(12345)
    with pytest.raises(AttributeError, match=re.escape(str(theirs.value))):
        load(12345)


def test_optimizer_state_dict_round_trips_through_both(oracle, tmp_path):
    p = oracle.nn.Parameter(oracle.ones(3))
    opt = oracle.optim.Adam([p], lr=0.1)
    p.grad = oracle.ones(3)
    opt.step()
    oracle.save(opt.state_dict(), tmp_path / "opt.pt")
    ours = load(tmp_path / "opt.pt")
    assert ours["param_groups"] == opt.state_dict()["param_groups"]
    assert float(ours["state"][0]["step"]) == 1.0
    save(ours, tmp_path / "opt2.pt")
    back = oracle.load(tmp_path / "opt2.pt")
    assert back["param_groups"] == opt.state_dict()["param_groups"]
    assert back["state"][0]["exp_avg"].tolist() == opt.state[p]["exp_avg"].tolist()


def test_serialization_does_not_import_torch():
    code = ("import sys, io, torchlike\nfrom torchlike.serialization import save, load\n"
            "b = io.BytesIO(); save({'x': torchlike.ones(2)}, b); b.seek(0)\n"
            "assert load(b)['x'].tolist() == [1.0, 1.0]\nassert 'torch' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def _net(nn):
    # no conv bias: BatchNorm cancels it, leaving a gradient of pure rounding noise
    return nn.Sequential(nn.Conv1d(2, 3, 3, bias=False), nn.BatchNorm1d(3), nn.ReLU(),
                         nn.Flatten(), nn.Linear(12, 2))


def _fit(lib, model, opt, sched, steps):
    x = lib.tensor(np.random.default_rng(0).standard_normal((4, 2, 6)).astype(np.float32))
    y = lib.tensor([0, 1, 1, 0])
    for _ in range(steps):
        opt.zero_grad()
        lib.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        sched.step()


def _setup(lib):
    model = _net(lib.nn)
    opt = lib.optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    return model, opt, lib.optim.lr_scheduler.StepLR(opt, 2, gamma=0.5)


@pytest.mark.parametrize("direction", ["torch_to_torchlike", "torchlike_to_torch"])
def test_training_resumes_from_a_checkpoint_of_the_other_library(oracle, tmp_path, direction):
    """A model + optimizer + scheduler checkpoint written mid-training by one library
    resumes in the other, and both continue identically."""
    from nn_oracle import copy_weights
    src_lib, dst_lib = ((oracle, torchlike) if direction == "torch_to_torchlike"
                        else (torchlike, oracle))
    ref_model, ref_opt, ref_sched = _setup(oracle)          # uninterrupted reference run
    src_model, src_opt, src_sched = _setup(src_lib)
    if src_lib is torchlike:
        copy_weights(src_model, ref_model)
    else:
        src_model.load_state_dict(ref_model.state_dict())
    _fit(oracle, ref_model, ref_opt, ref_sched, 3)
    _fit(src_lib, src_model, src_opt, src_sched, 3)
    ckpt = {"model": src_model.state_dict(), "optim": src_opt.state_dict(),
            "sched": src_sched.state_dict(), "epoch": 3}
    src_lib.save(ckpt, tmp_path / "ckpt.pt")

    loaded = dst_lib.load(tmp_path / "ckpt.pt")
    model, opt, sched = _setup(dst_lib)
    result = model.load_state_dict(loaded["model"])
    assert not result.missing_keys and not result.unexpected_keys
    opt.load_state_dict(loaded["optim"])
    sched.load_state_dict(loaded["sched"])
    assert loaded["epoch"] == 3 and opt.param_groups[0]["lr"] == 0.005
    _fit(oracle, ref_model, ref_opt, ref_sched, 3)
    _fit(dst_lib, model, opt, sched, 3)
    for (name, ours), (_, theirs) in zip(model.state_dict().items(),
                                         ref_model.state_dict().items()):
        np.testing.assert_allclose(_np(ours).astype(np.float64),
                                   _np(theirs).astype(np.float64), atol=1e-5, rtol=1e-5,
                                   err_msg=name)
