"""torchlike.load against crafted checkpoints: a file can't run code or change the process.

Each attack is a data.pkl written by hand (the pickler below emits any GLOBAL by name),
inside an otherwise valid archive. Every one must fail with pickle.UnpicklingError (or
PyTorch's class where PyTorch has a check of its own), in both weights_only modes, and
leave everything a file could target exactly as it was: dtypes, Tensor/Parameter/Size/
device classes, the torchlike namespace, grad mode, numpy's dtypes, imported modules.
Where real torch's weights-only load refuses the same file, its class and message prefix
are compared.
"""
import collections
import enum
import io
import os
import pickle
import sys
import zipfile

import numpy as np
import pytest

import torchlike
from torchlike.serialization import load, save

WO_PREFIX = "Weights only load failed."


# -- crafting checkpoints ------------------------------------------------------------------
class Global:
    """A global written into the pickle by name: GLOBAL module\\nname."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):          # the pickler wants reduce functions to be callable
        raise TypeError("placeholder")


class Call:
    """REDUCE func(*args), followed by BUILD state when state is given."""

    def __init__(self, func, *args, state=None):
        self.func, self.args, self.state = func, args, state

    def __reduce__(self):
        if self.state is None:
            return (self.func, self.args)
        return (self.func, self.args, self.state)


class Build:
    """Push `target` (any object, a Global included) and BUILD `state` on it."""

    def __init__(self, target, state):
        self.target, self.state = target, state


class NewObj:
    """NEWOBJ cls.__new__(cls, *args)."""

    def __init__(self, cls, *args):
        self.cls, self.args = cls, args


class Pid:
    """A persistent id ('storage', ...) as torch writes it."""

    def __init__(self, *fields):
        self.fields = fields


class _Pickler(pickle._Pickler):
    def persistent_id(self, obj):
        return obj.fields if type(obj) is Pid else None

    def reducer_override(self, obj):
        if isinstance(obj, Global):
            return "global"
        return NotImplemented

    def save_global(self, obj, name=None):
        if isinstance(obj, Global):
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
            self.memoize(obj)
            return
        super().save_global(obj, name)

    def save(self, obj, save_persistent_id=True):
        if type(obj) is Build:
            self.save(obj.target)
            self.save(obj.state)
            self.write(pickle.BUILD)
            return
        if type(obj) is NewObj:
            self.save(obj.cls)
            self.save(obj.args)
            self.write(pickle.NEWOBJ)
            return
        super().save(obj, save_persistent_id)


def dumps(obj):
    buf = io.BytesIO()
    _Pickler(buf, 2).dump(obj)
    return buf.getvalue()


def storage(key="0", numel=4, dtype="FloatStorage"):
    return Pid("storage", Global("torch", dtype), key, "cpu", numel)


def tensor(offset=0, size=(4,), stride=(1,), key="0", numel=4, dtype="FloatStorage",
           rebuild="_rebuild_tensor_v2"):
    return Call(Global("torch._utils", rebuild), storage(key, numel, dtype), offset,
                tuple(size), tuple(stride), False, collections.OrderedDict())


FOUR_FLOATS = np.arange(4, dtype=np.float32).tobytes()


def archive(pkl, records=(("data/0", FOUR_FLOATS),), prefix="archive", version=b"3\n",
            compression=zipfile.ZIP_STORED):
    """A checkpoint zip: data.pkl, byteorder, the given records, version."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        zf.writestr(f"{prefix}/data.pkl", pkl)
        zf.writestr(f"{prefix}/byteorder", b"little")
        for name, data in records:
            zf.writestr(f"{prefix}/{name}", data)
        if version is not None:
            zf.writestr(f"{prefix}/version", version)
    return out.getvalue()


def process_state():
    """Everything a checkpoint could try to change, in a comparable form."""
    import torchlike._dtype as dt
    state = {name: tuple(getattr(d, s) for s in type(d).__slots__)
             for name, d in dt._BY_NAME.items()}
    for cls in (torchlike.Tensor, torchlike.nn.Parameter, torchlike.Size, torchlike.device,
                type(torchlike.float32), collections.OrderedDict, collections.Counter,
                np.ndarray, np.dtype):
        state[cls.__qualname__] = {k: id(v) for k, v in vars(cls).items()}
    state["torchlike"] = {k: id(v) for k, v in vars(torchlike).items()}
    state["grad"] = (torchlike.is_grad_enabled(), torchlike.get_default_dtype())
    state["cpu"] = (torchlike.device("cpu").type, torchlike.device("cpu").index)
    state["numpy"] = [(d.str, d.byteorder, d.isnative) for d in map(np.dtype, "f8 f4 i8 u1 ?".split())]
    state["safe"] = torchlike.serialization.get_safe_globals()
    state["modules"] = sorted(sys.modules)
    state["environ"] = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    return state


@pytest.fixture
def unchanged():
    """Asserts at the end of the test that the process is as it was."""
    # warm-up: lazy imports happen now (bytes import the latin-1 codec the first time)
    load(io.BytesIO(archive(dumps({"x": tensor(), "b": b"\xff"}))))
    before = process_state()
    yield
    after = process_state()
    assert after == before, [k for k in before if before[k] != after.get(k)]


def refused(raw, weights_only, error=pickle.UnpicklingError):
    with pytest.raises(error) as info:
        load(io.BytesIO(raw), weights_only=weights_only)
    message = str(info.value)
    if weights_only and error is pickle.UnpicklingError:
        assert message.startswith(WO_PREFIX), message
    return message


def torch_refuses(oracle, raw):
    """Real torch's weights-only load of the same bytes: its exception."""
    with pytest.raises(Exception) as info:
        oracle.load(io.BytesIO(raw), weights_only=True)
    return info.value


# -- BUILD: state only on fresh instances of settable types ---------------------------------
OD = Global("collections", "OrderedDict")
STATE_ATTACKS = {
    "dtype itemsize": Build(Global("torch", "float32"), {"itemsize": 3}),
    "dtype slots": Build(Global("torch", "float32"), (None, {"itemsize": 3, "name": "x"})),
    "Tensor.backward": Build(Global("torch", "Tensor"), {"backward": OD}),
    "Tensor.__add__": Build(Global("torch", "Tensor"), (None, {"__add__": OD})),
    "Size.numel": Build(Global("torch", "Size"), {"numel": OD}),
    "device.type": Build(Call(Global("torch", "device"), "cpu"), {"type": "cuda"}),
    "device class": Build(Global("torch", "device"), {"__eq__": OD}),
    "Parameter.__repr__": Build(Global("torch.nn.parameter", "Parameter"), {"__repr__": OD}),
    "OrderedDict class": Build(OD, {"__setitem__": OD}),
    "rebuild function": Build(Global("torch._utils", "_rebuild_tensor_v2"), {"__code__": 1}),
    "loaded tensor": Build(tensor(), {"backward": OD}),
    "storage type": Build(Global("torch", "FloatStorage"), {"dtype": 1}),
}


@pytest.mark.parametrize("attack", list(STATE_ATTACKS))
@pytest.mark.parametrize("weights_only", [True, False])
def test_build_cannot_set_state_on_shared_objects(unchanged, attack, weights_only):
    raw = archive(dumps({"x": tensor(), "evil": STATE_ATTACKS[attack]}))
    message = refused(raw, weights_only)
    assert "Can only build" in message, message


@pytest.mark.parametrize("attack", ["dtype itemsize", "Tensor.backward", "Tensor.__add__",
                                    "Size.numel", "Parameter.__repr__", "OrderedDict class"])
def test_torch_refuses_the_same_files(oracle, attack):
    """PyTorch's weights-only load refuses these too, with the same class and framing."""
    raw = archive(dumps({"x": tensor(), "evil": STATE_ATTACKS[attack]}))
    theirs = torch_refuses(oracle, raw)
    ours = refused(raw, True)
    assert type(theirs) is pickle.UnpicklingError and str(theirs).startswith(WO_PREFIX)
    assert ("Can only build" in str(theirs)) == ("Can only build" in ours)


def test_parameter_calls_do_not_read_values(unchanged):
    """Parameter(t) from a file wraps t's storage: an expanded 20000 x 20000 view stays a
    4-byte storage (Parameter(t) in torchlike proper would gather its values)."""
    P = Global("torch.nn.parameter", "Parameter")
    big = tensor(size=(20000, 20000), stride=(0, 0), numel=1)
    raw = archive(dumps([Call(P, big, False), NewObj(P, tensor(key="1")), Call(P)]),
                  records=[("data/0", FOUR_FLOATS[:4]), ("data/1", FOUR_FLOATS)])
    for weights_only in (True, False):
        expanded, plain, empty = load(io.BytesIO(raw), weights_only=weights_only)
        assert type(expanded) is torchlike.nn.Parameter and not expanded.requires_grad
        assert expanded.stride() == (0, 0) and expanded.untyped_storage().nbytes() == 4
        assert plain.requires_grad and empty.shape == (0,)


def test_attributes_saved_with_tensors_cannot_shadow_methods(unchanged):
    """_rebuild_from_type_v2 / _rebuild_parameter_with_state put attributes back into the
    instance, never over a Tensor method or property."""
    from_type = Global("torch._tensor", "_rebuild_from_type_v2")
    rebuild = Global("torch._utils", "_rebuild_tensor_v2")
    args = (storage(), 0, (4,), (1,), False, collections.OrderedDict())
    for state in ({"backward": OD}, {"grad": None}, {"__class__": OD}, {1: 2}):
        raw = archive(dumps(Call(from_type, rebuild, Global("torch", "Tensor"), args, state)))
        with pytest.raises(RuntimeError, match="would shadow"):
            load(io.BytesIO(raw))
        param = Call(Global("torch._utils", "_rebuild_parameter_with_state"), tensor(), True,
                     collections.OrderedDict(), state)
        with pytest.raises(RuntimeError, match="would shadow"):
            load(io.BytesIO(archive(dumps(param))))
    ok = archive(dumps(Call(from_type, rebuild, Global("torch", "Tensor"), args, {"note": 7})))
    assert load(io.BytesIO(ok)).note == 7


def test_ordered_dict_metadata_is_settable_like_torch(oracle):
    """state_dict()s carry `_metadata` on their OrderedDict: the one BUILD a weights-only
    checkpoint needs."""
    sd = oracle.nn.Linear(2, 2).state_dict()
    buf = io.BytesIO()
    oracle.save(sd, buf)
    ours = load(io.BytesIO(buf.getvalue()))
    assert ours._metadata == sd._metadata and list(ours) == list(sd)


# -- calls: only allow-listed callables, never with side effects ----------------------------
CALL_ATTACKS = {
    "set_grad_enabled": (Call(Global("torch", "set_grad_enabled"), False), "GLOBAL torch.set_grad_enabled"),
    "grad_mode class": (Call(Global("torch.autograd.grad_mode", "set_grad_enabled"), False),
                        "set_grad_enabled"),
    "no_grad enter": (Call(Global("torch", "no_grad")), "GLOBAL torch.no_grad"),
    "manual_seed": (Call(Global("torch", "manual_seed"), 0), "GLOBAL torch.manual_seed"),
    "set_default_dtype": (Call(Global("torch", "set_default_dtype"), Global("torch", "float64")),
                          "GLOBAL torch.set_default_dtype"),
    "os.system": (Call(Global("os", "system"), "true"), "whose module os is blocked"),
    "posix.system": (Call(Global("posix", "system"), "true"), "whose module posix is blocked"),
    "sys.exit": (Call(Global("sys", "exit"), 3), "whose module sys is blocked"),
    "getattr": (Call(Global("builtins", "getattr"), Global("torch", "Tensor"), "backward"),
                "getattr"),
    "eval": (Call(Global("builtins", "eval"), "1"), "eval"),
    "exec": (Call(Global("__builtin__", "exec"), "x = 1"), "exec"),
    "torchlike itself": (Call(Global("torchlike", "set_grad_enabled"), False), "torchlike.set_grad_enabled"),
    "dtype call": (Call(Global("torch", "float32"), 1), "unrecognized function"),
    "storage type call": (Call(Global("torch", "FloatStorage"), 1), "unrecognized function"),
    "newobj Tensor": (NewObj(Global("torch", "Tensor")), "Can only create new object"),
    "newobj device": (NewObj(Global("torch", "device"), "cpu"), "Can only create new object"),
    "codec import": (Call(Global("_codecs", "encode"), "x", "rot13"), "latin1"),
    "bytearray bomb": (Call(Global("builtins", "bytearray"), 10 ** 12), "data it holds"),
    "set of a lazy range": (Call(Global("builtins", "set"),
                                 Call(Global("builtins", "range"), 10 ** 12)), "range"),
    "Size of a lazy range": (Call(Global("torch", "Size"),
                                  Call(Global("builtins", "range"), 10 ** 12)), "range"),
    "Tensor allocation": (Call(Global("torch", "Tensor"), 10 ** 12), "unrecognized function"),
}


@pytest.mark.parametrize("attack", list(CALL_ATTACKS))
@pytest.mark.parametrize("weights_only", [True, False])
def test_calls_are_allow_listed(unchanged, attack, weights_only):
    payload, expected = CALL_ATTACKS[attack]
    raw = archive(dumps({"x": tensor(), "evil": payload}))
    message = refused(raw, weights_only)
    assert expected in message, message


NUMPY_ARRAY_PICKLE = dumps({"a": np.arange(3.0)})      # pickled at import: numpy imports


@pytest.mark.parametrize("attack", ["set_grad_enabled", "manual_seed", "set_default_dtype",
                                    "getattr", "eval", "exec", "os.system", "sys.exit"])
def test_torch_refuses_the_same_calls_with_the_same_message(oracle, attack):
    """The inner message names the global as PyTorch's does (builtins shown bare, blocked
    modules reported as blocked); only the API it points to is torchlike's."""
    raw = archive(dumps({"x": tensor(), "evil": CALL_ATTACKS[attack][0]}))
    theirs, ours = str(torch_refuses(oracle, raw)), refused(raw, True)
    assert theirs.startswith(WO_PREFIX)
    for sentence in ("was not an allowed global by default.", "is blocked."):
        if sentence in theirs:
            start = theirs.index("GLOBAL ")
            expected = theirs[start:theirs.index(sentence, start) + len(sentence)]
            assert expected in ours, (expected, ours)
            break
    else:
        raise AssertionError(theirs)


def test_weights_only_false_numpy_cannot_reach_shared_dtypes_or_allocate(unchanged):
    """numpy's own pickles load (weights_only=False), but a dtype is always a fresh copy
    before its state is set, and an array starts empty."""
    dtype_call = Call(Global("numpy", "dtype"), "f8", False, False,
                      state=(3, ">", None, None, None, -1, -1, 0))
    out = load(io.BytesIO(archive(dumps({"d": dtype_call}))), weights_only=False)
    assert out["d"].byteorder == ">" and np.dtype("f8").byteorder == "="
    bomb = Call(Global("numpy.core.multiarray", "_reconstruct"), Global("numpy", "ndarray"),
                (10 ** 12,), b"b")
    refused(archive(dumps({"a": bomb})), False)
    out = load(io.BytesIO(archive(NUMPY_ARRAY_PICKLE)), weights_only=False)
    assert out["a"].tolist() == [0.0, 1.0, 2.0]


def test_deeply_nested_tuples_are_refused_not_a_crash(unchanged):
    """Hashing 10**5 nested tuples overflows CPython's C stack; the loader stops first."""
    deep = b"\x80\x02}" + b")" + b"\x85" * 100_000 + b"K\x01s."       # {deep_tuple: 1}
    with pytest.raises(pickle.UnpicklingError, match="nests tuples"):
        load(io.BytesIO(archive(deep)))


# -- the user's allow-list ------------------------------------------------------------------
class Config:
    def __init__(self, lr, layers):
        self.lr, self.layers = lr, layers


class WithSetState:
    def __setstate__(self, state):
        self.restored = state


SHARED_CONFIG = Config(0.1, [1])


def shared_config():
    return SHARED_CONFIG


def test_safe_globals_allow_whole_objects(tmp_path, oracle):
    obj = {"cfg": Config(0.5, [2, 3]), "w": torchlike.ones(2), "s": WithSetState()}
    save(obj, tmp_path / "obj.pt")
    message = refused((tmp_path / "obj.pt").read_bytes(), True)
    assert f"GLOBAL {__name__}.Config was not an allowed global" in message
    assert "add_safe_globals" in message
    with torchlike.serialization.safe_globals([Config, WithSetState]):
        assert set(torchlike.serialization.get_safe_globals()) == {Config, WithSetState}
        out = load(tmp_path / "obj.pt")
        again = load(tmp_path / "obj.pt", weights_only=False)
    assert torchlike.serialization.get_safe_globals() == []
    for o in (out, again):
        assert type(o["cfg"]) is Config and o["cfg"].lr == 0.5 and o["cfg"].layers == [2, 3]
        assert o["w"].tolist() == [1.0, 1.0] and type(o["s"]) is WithSetState
    # PyTorch's own API behaves the same way on the file torchlike wrote
    with oracle.serialization.safe_globals([Config, WithSetState]):
        assert oracle.load(tmp_path / "obj.pt")["cfg"].layers == [2, 3]
    torchlike.serialization.add_safe_globals([(Config, f"{__name__}.Config"), WithSetState])
    try:
        assert load(tmp_path / "obj.pt")["cfg"].lr == 0.5
    finally:
        torchlike.serialization.clear_safe_globals()
    assert torchlike.serialization.get_safe_globals() == []
    with pytest.raises(ValueError, match="tuple of length 2"):
        torchlike.serialization.add_safe_globals([(Config, "a", "b")])
    with pytest.raises(TypeError, match="str of callable full path"):
        torchlike.serialization.add_safe_globals([(Config, 3)])


def test_allowed_class_state_only_on_fresh_instances(unchanged):
    """Even an allowed class's state is set only on an instance this file created, not on
    one an allowed function hands back."""
    attack = Build(Call(Global(__name__, "shared_config")), {"lr": 99.0})
    with torchlike.serialization.safe_globals([Config, shared_config]):
        message = refused(archive(dumps(attack)), True)
    assert "only change objects created by this checkpoint" in message
    assert SHARED_CONFIG.lr == 0.1


def test_blocked_modules_stay_blocked_when_allow_listed(unchanged):
    with torchlike.serialization.safe_globals([os.getcwd]):
        message = refused(archive(dumps(Call(Global("posix", "getcwd")))), True)
    assert "is blocked" in message


def test_explicit_pickle_module_with_weights_only_is_refused_like_torch(oracle):
    raw = archive(dumps({"x": tensor()}))
    with pytest.raises(RuntimeError, match="Can not safely load weights when explicit "
                                           "pickle_module is specified"):
        load(io.BytesIO(raw), pickle_module=pickle, weights_only=True)
    with pytest.raises(RuntimeError, match="Can not safely load weights when explicit"):
        oracle.load(io.BytesIO(raw), pickle_module=pickle, weights_only=True)


class Color(enum.Enum):
    RED = 1


def test_shared_instances_of_allowed_classes_stay_shared_and_unchanged(unchanged):
    """Calling an allowed class may hand back a shared instance (an Enum member): it loads,
    but BUILD on it is refused, since the file did not create it."""
    member = Call(Global(__name__, "Color"), 1)
    with torchlike.serialization.safe_globals([Color]):
        assert load(io.BytesIO(archive(dumps({"c": member}))))["c"] is Color.RED
        message = refused(archive(dumps(Build(member, {"hacked": True}))), True)
    assert "only change objects created by this checkpoint" in message
    assert "hacked" not in vars(Color.RED)


class Net(torchlike.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torchlike.nn.Linear(2, 3)
        self.register_buffer("steps", torchlike.zeros(1))

    def forward(self, x):
        return self.fc(x)


def test_whole_module_round_trips_with_its_classes_allowed(tmp_path):
    """As in PyTorch, a pickled model loads once every class in it is allow-listed."""
    net = Net()
    save(net, tmp_path / "net.pt")
    message = refused((tmp_path / "net.pt").read_bytes(), True)
    assert f"GLOBAL {__name__}.Net was not an allowed global" in message
    with torchlike.serialization.safe_globals([Net]):
        message = refused((tmp_path / "net.pt").read_bytes(), True)
        assert "GLOBAL torchlike.nn.modules.linear.Linear was not an allowed" in message
    with torchlike.serialization.safe_globals([Net, torchlike.nn.Linear]):
        again = load(tmp_path / "net.pt")
    assert type(again) is Net and type(again.fc) is torchlike.nn.Linear
    x = torchlike.ones(4, 2)
    assert again(x).tolist() == net(x).tolist()
    assert [n for n, _ in again.named_buffers()] == ["steps"]
