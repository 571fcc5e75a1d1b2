"""A seeded fuzz of torchlike.load: a few hundred malformed and malicious checkpoints.

Each case starts from a valid checkpoint and damages it: random bytes of data.pkl
flipped or cut, risky opcode sequences (globals that reach the OS or torchlike's state,
BUILD/REDUCE/NEWOBJ on whatever is on the stack) spliced in, records dropped, duplicated
or lying about their sizes, the zip itself damaged. For every case the loader must
- return, or raise one of the documented classes (LOAD_ERRORS), nothing else;
- finish quickly, allocating little (tracemalloc peak);
and once the whole batch ran, the process must be exactly as before (see
test_serialization_security.process_state).
"""
import collections
import io
import pickle
import random
import struct
import time
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest

import torchlike
from torchlike.serialization import load, save
from test_serialization_security import archive, dumps, process_state, tensor

# What torchlike.load raises on a bad file (docs/design.md, "Loading checkpoints").
LOAD_ERRORS = (pickle.UnpicklingError, RuntimeError, TypeError, ValueError, EOFError)
SEED = 20261128
CASES = 400
MAX_SECONDS = 2.0
MAX_PEAK_BYTES = 16 * 2 ** 20

# Names an attacker would reach for: the OS, torchlike's process-wide state, shared
# objects whose state BUILD would change, and the allowed callables themselves.
RISKY_GLOBALS = [
    ("os", "system"), ("posix", "system"), ("sys", "exit"), ("builtins", "eval"),
    ("builtins", "getattr"), ("builtins", "setattr"), ("__builtin__", "exec"),
    ("torch", "set_grad_enabled"), ("torch", "manual_seed"), ("torch", "set_default_dtype"),
    ("torch", "Tensor"), ("torch", "float32"), ("torch", "int64"), ("torch", "device"),
    ("torch", "Size"), ("torch.nn.parameter", "Parameter"), ("torch", "FloatStorage"),
    ("collections", "OrderedDict"), ("collections", "Counter"), ("builtins", "bytearray"),
    ("builtins", "set"), ("builtins", "range"), ("builtins", "list"), ("_codecs", "encode"),
    ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter_with_state"),
    ("torch._tensor", "_rebuild_from_type_v2"), ("numpy", "dtype"), ("numpy", "ndarray"),
    ("numpy.core.multiarray", "_reconstruct"), ("copyreg", "_reconstructor"),
    ("argparse", "Namespace"), ("torchlike", "set_grad_enabled"),
]

# Small opcode sequences that build arguments or act on the stack.
SNIPPETS = [
    pickle.REDUCE, pickle.BUILD, pickle.NEWOBJ, pickle.APPEND, pickle.APPENDS,
    pickle.SETITEM, pickle.SETITEMS, pickle.ADDITEMS, pickle.STOP, pickle.POP, pickle.DUP,
    pickle.MARK, pickle.TUPLE, pickle.EMPTY_TUPLE, pickle.EMPTY_DICT, pickle.EMPTY_LIST,
    pickle.NONE, pickle.NEWFALSE, b"K\x07", b"J\xff\xff\xff\x7f", b"\x8a\x09" + b"\xff" * 9,
    b"X\x04\x00\x00\x00type", b"X\x08\x00\x00\x00itemsize", b"X\x04\x00\x00\x00cuda",
    b"}X\x08\x00\x00\x00backwardK\x01s", b"(K\x02K\x03t", b"N}\x86", b"h\x01", b"q\x05",
    b"\x93", b"\x92", b"\x94", b"\x95" + b"\x00" * 8, b"i", b"o", b"\x82\x01", b"P", b"Q",
    b"\x97", b"\x98", b"\xff",
]


# -- valid checkpoints to start from ------------------------------------------------------
def _base_checkpoints():
    base = torchlike.arange(12.0).reshape(3, 4)
    metadata = collections.OrderedDict([("w", torchlike.ones(2, 2)), ("b", torchlike.zeros(2))])
    metadata._metadata = {"": {"version": 1}}
    objects = [
        {"weight": torchlike.nn.Parameter(torchlike.ones(3, 2)), "col": base[:, 1], "base": base,
         "ints": torchlike.arange(5), "flags": torchlike.tensor([True, False])},
        metadata,
        {"step": 3, "lr": 0.1, "name": "run", "b": b"\x00\xff", "s": {1, 2}, "z": 1 + 2j,
         "size": torchlike.Size([2, 3]), "dev": torchlike.device("cpu"),
         "dtype": torchlike.float16, "t": torchlike.zeros(1).expand(4, 5)},
        [torchlike.tensor([1.5, -2.0], dtype=torchlike.float64), base.t(), (1, (2, (3,)))],
    ]
    raws = []
    for obj in objects:
        buf = io.BytesIO()
        save(obj, buf)
        raws.append(buf.getvalue())
    return raws


def _records(raw):
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def _zip(records, compression=zipfile.ZIP_STORED):
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", compression) as zf:
        warnings.simplefilter("ignore", UserWarning)     # duplicate names, on purpose
        for name, data in records:
            zf.writestr(name, data)
    return out.getvalue()


def _with_pickle(raw, pkl):
    return _zip([(n, pkl if n.endswith("/data.pkl") else d) for n, d in _records(raw)])


def _pickle_of(raw):
    return next(d for n, d in _records(raw) if n.endswith("/data.pkl"))


# -- mutations ---------------------------------------------------------------------------
def _flip_pickle_bytes(rng, raw):
    pkl = bytearray(_pickle_of(raw))
    for _ in range(rng.randint(1, 4)):
        pkl[rng.randrange(len(pkl))] = rng.randrange(256)
    return _with_pickle(raw, bytes(pkl))


def _cut_pickle(rng, raw):
    pkl = _pickle_of(raw)
    return _with_pickle(raw, pkl[:rng.randrange(len(pkl))])


def _risky_sequence(rng):
    module, name = rng.choice(RISKY_GLOBALS)
    parts = [pickle.GLOBAL + f"{module}\n{name}\n".encode()]
    parts += [rng.choice(SNIPPETS) for _ in range(rng.randint(1, 5))]
    return b"".join(parts)


def _splice_risky_opcodes(rng, raw):
    pkl = _pickle_of(raw)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(2, len(pkl))
        pkl = pkl[:at] + _risky_sequence(rng) + pkl[at:]
    return _with_pickle(raw, pkl)


def _attack_pickle(rng, raw):
    """A whole pickle built from risky sequences: GLOBAL, args, call/BUILD, STOP."""
    body = b"".join(_risky_sequence(rng) for _ in range(rng.randint(1, 4)))
    return _with_pickle(raw, b"\x80\x02" + body + pickle.STOP)


def _drop_record(rng, raw):
    records = _records(raw)
    del records[rng.randrange(len(records))]
    return _zip(records)


def _duplicate_record(rng, raw):
    records = _records(raw)
    name, data = rng.choice(records)
    records.insert(rng.randrange(len(records) + 1), (name, data[::-1]))
    return _zip(records)


def _rename_record(rng, raw):
    records = _records(raw)
    i = rng.randrange(len(records))
    name, data = records[i]
    records[i] = (rng.choice(["other/", "", name + "x", name.replace("/", "//")]) +
                  name.split("/", 1)[-1], data)
    return _zip(records)


def _change_record(rng, raw):
    """version, byteorder or a storage rewritten: other values, other lengths."""
    records = _records(raw)
    i = rng.randrange(len(records))
    name, data = records[i]
    choices = [b"", b"99\n", b"0\n", b"-1", b"big", b"middle", data[:len(data) // 2],
               data + b"\x00" * rng.randint(1, 9), bytes(rng.randrange(256) for _ in range(8))]
    records[i] = (name, rng.choice(choices))
    return _zip(records)


def _flip_zip_bytes(rng, raw):
    data = bytearray(raw)
    for _ in range(rng.randint(1, 6)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _truncate_zip(rng, raw):
    return raw[:rng.randrange(len(raw))]


def _lie_about_a_size(rng, raw):
    """Deflate the archive, then make one record's headers claim another size."""
    data = bytearray(_zip(_records(raw), zipfile.ZIP_DEFLATED))
    claimed = rng.choice([0, 1, 2 ** 31, 2 ** 32 - 1, rng.randrange(1 << 20)])
    position = data.find(b"PK\x01\x02")
    targets = []
    while position >= 0:
        targets.append(position)
        position = data.find(b"PK\x01\x02", position + 4)
    central = rng.choice(targets)
    struct.pack_into("<I", data, central + 24, claimed)
    local = struct.unpack_from("<I", data, central + 42)[0]
    if local + 26 <= len(data):
        struct.pack_into("<I", data, local + 22, claimed)
    return bytes(data)


MUTATIONS = [_flip_pickle_bytes, _cut_pickle, _splice_risky_opcodes, _attack_pickle,
             _drop_record, _duplicate_record, _rename_record, _change_record,
             _flip_zip_bytes, _truncate_zip, _lie_about_a_size]


def _cases():
    rng = random.Random(SEED)
    bases = _base_checkpoints()
    for i in range(CASES):
        mutation = MUTATIONS[i % len(MUTATIONS)]
        yield mutation.__name__, mutation(rng, rng.choice(bases)), rng.random() < 0.5


# -- what a successful load may hold -----------------------------------------------------
_PLAIN = (type(None), bool, int, float, complex, str, bytes, bytearray, torchlike.Size,
          torchlike.device, type(torchlike.float32), torchlike.Tensor, np.ndarray, np.generic,
          np.dtype)


def _allowed_globals():
    """Ids of what a file may name (a pickle may return a bare allow-listed global)."""
    from torchlike._serialization.allowlist import Policy
    return {id(v) for v in Policy(weights_only=False).named.values()}


def _only_data(obj, allowed):
    """Every object in a loaded structure is plain data or an allow-listed global: no
    other class, function or module (walked with a stack; tensor values are not read,
    they may be huge expanded views)."""
    stack, seen = [obj], set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (dict, collections.OrderedDict, collections.Counter)):
            stack.extend(item.keys())
            stack.extend(item.values())
            stack.extend(getattr(item, "__dict__", {}).values())
        elif isinstance(item, (list, tuple, set, frozenset)) and not isinstance(item, torchlike.Size):
            stack.extend(item)
        elif not isinstance(item, _PLAIN) and id(item) not in allowed:
            return False
    return True


def test_fuzzed_checkpoints_fail_cleanly_and_change_nothing():
    cases = list(_cases())           # built first: making them runs (and imports) torchlike
    load(io.BytesIO(archive(dumps({"x": tensor(), "b": b"\xff"}))))   # warm-up imports
    allowed = _allowed_globals()
    before = process_state()
    outcomes = collections.Counter()
    for name, raw, weights_only in cases:
        tracemalloc.start()
        start = time.perf_counter()
        try:
            result = load(io.BytesIO(raw), weights_only=weights_only)
        except LOAD_ERRORS as e:
            result, outcome = None, type(e).__name__
        else:
            outcome = "loaded"
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert elapsed < MAX_SECONDS, (name, elapsed)
        assert peak < MAX_PEAK_BYTES, (name, peak)
        assert result is None or _only_data(result, allowed), (name, result)
        outcomes[outcome] += 1
    after = process_state()
    assert after == before, [k for k in before if before[k] != after.get(k)]
    # the fuzz reached both sides: most cases fail, a few damaged files still load
    assert sum(outcomes.values()) == CASES
    assert outcomes["UnpicklingError"] > 50 and outcomes["RuntimeError"] > 50, outcomes
    assert outcomes["loaded"] > 5, outcomes


@pytest.mark.parametrize("weights_only", [True, False])
def test_fuzz_bases_load(weights_only):
    """The starting checkpoints are valid: the failures above come from the damage."""
    for raw in _base_checkpoints():
        assert _only_data(load(io.BytesIO(raw), weights_only=weights_only), set())
