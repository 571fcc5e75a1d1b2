"""Run PyTorch's own OpInfo database (`op_db`) through torchlike, with torch as the oracle.

For one OpInfo, `run_opinfo` draws a small fixed set of its samples (per dtype), converts
each to torchlike, calls torchlike's function (or method, or in-place method) and torch's,
and returns one `Check` per comparison: forward (value, dtype, shape), gradient of every
float input, and error inputs (exception class, and the OpInfo's own message regex).
It never asserts: the test module decides which checks must match, and
`python tests/opdb_support.py` prints the totals by kind.

Sampling is deterministic: torch's generator is seeded from the OpInfo's id before its
samples are drawn, so every run compares the same values.
"""
import contextlib
import itertools
import re
import types
import warnings
import zlib

import numpy as np

import torchlike
import torchlike.linalg  # noqa: F401
import torchlike.nn.functional  # noqa: F401

import torch
from torch.testing._internal.common_methods_invocations import op_db  # noqa: E402

# samples compared per dtype (first N that op_db yields); float64 also runs gradients
SAMPLES_PER_DTYPE = {torch.float32: 1, torch.float64: 1, torch.int64: 1, torch.bool: 1}
GRAD_DTYPE = torch.float64
MAX_ERROR_INPUTS = 6

# ops whose values are random or uninitialized: only dtype and shape are compared
NONDETERMINISTIC = re.compile(
    r"(^|\.|_)(rand|randn|randint|bernoulli|multinomial|normal|cauchy|exponential|geometric"
    r"|log_normal|uniform|empty|new_empty|empty_strided|new_empty_strided|empty_like"
    r"|empty_permuted|dropout\w*|alpha_dropout|feature_alpha_dropout|rrelu"
    r"|fractional_max_pool\dd)(\.|$|_like)")

EPS = {"float64": 2.0 ** -52, "float32": 2.0 ** -23}
# Rounding steps on an element's path in a generic op_db sample (see tests/helpers.py):
# samples are small (<= ~100 elements per reduction), pointwise chains have a few libm
# calls, and small factorizations (linalg) amplify by a condition number that op_db keeps
# modest. 2**10 steps is 1.2e-4 relative in float32, 2.3e-13 in float64; the error is
# normwise (relative to the largest |value| of the result), since op_db's samples
# produce sums with cancellation. Ops that need more state it in STEPS below.
DEFAULT_STEPS = 2 ** 10
STEPS = {
    # the gradient of a running log-sum-exp is a sum of softmax-weighted cotangents over
    # each prefix: exp/log pairs per term, cancellation between the prefixes (~2**13)
    "logcumsumexp": 2 ** 13,
}


def opinfo_id(info):
    return info.name + ("." + info.variant_test_name if info.variant_test_name else "")


OPINFOS = {opinfo_id(o): o for o in op_db}


class Check:
    __slots__ = ("kind", "where", "ok", "detail")

    def __init__(self, kind, where, ok, detail=""):
        self.kind, self.where, self.ok, self.detail = kind, where, ok, detail

    @property
    def key(self):
        return f"{self.kind}/{self.where}"

    def __repr__(self):
        return f"{self.key}: {'ok' if self.ok else 'MISMATCH ' + self.detail}"


# -- converting torch values to torchlike ---------------------------------------------------
def to_torchlike(value, _seen=None):
    """A torch sample value as torchlike: tensors by value (requires_grad kept), dtypes,
    devices, memory formats and layouts by name; containers recursively. Aliasing that
    op_db's error inputs rely on is kept: the same tensor twice (out= the input) is one
    torchlike tensor, and an expanded tensor (stride 0) is expanded again."""
    seen = {} if _seen is None else _seen
    if isinstance(value, torch.Tensor):
        if id(value) not in seen:
            seen[id(value)] = _tensor_to_torchlike(value)
        return seen[id(value)]
    if isinstance(value, torch.dtype):
        return getattr(torchlike, str(value).replace("torch.", ""))
    if isinstance(value, torch.device):
        return torchlike.device(str(value))
    if isinstance(value, (torch.memory_format, torch.layout)):
        return getattr(torchlike, str(value).replace("torch.", ""))
    if isinstance(value, torch.Size):
        return torchlike.Size(value)
    if isinstance(value, (list, tuple)):
        items = [to_torchlike(v, seen) for v in value]
        return type(value)(items) if type(value) in (list, tuple) else tuple(items)
    if isinstance(value, dict):
        return {k: to_torchlike(v, seen) for k, v in value.items()}
    if isinstance(value, types.FunctionType):
        return torchlike_function(value)
    if isinstance(value, torch.nn.Module):
        return _module_to_torchlike(value)
    return value


def _module_to_torchlike(module):
    """A parameter-free torch module (op_db passes nn.PairwiseDistance() as a distance
    function) as the torchlike module of the same class and settings."""
    cls = getattr(torchlike.nn, type(module).__name__)
    ours = cls()
    for name, v in vars(module).items():
        if isinstance(v, (bool, int, float, str, type(None))):
            setattr(ours, name, v)
    return ours


def _tensor_to_torchlike(value):
    if value.is_meta:       # (no values: its shape and dtype)
        return torchlike.empty(tuple(value.shape), device="meta",
                               dtype=getattr(torchlike, str(value.dtype).split(".")[1]))
    t = value.detach()
    expanded = [d for d in range(t.ndim) if t.layout == torch.strided and t.stride(d) == 0
                and t.shape[d] > 1]
    for d in expanded:
        t = t.narrow(d, 0, 1)
    if t.dtype == torch.bfloat16:
        out = torchlike.tensor(t.float().numpy()).to(torchlike.bfloat16)
    else:
        out = torchlike.tensor(t.resolve_conj().resolve_neg().numpy())
    if value.requires_grad:
        out.requires_grad_(True)
    return out.expand(tuple(value.shape)) if expanded else out


def _set_seed_torchlike(op, *args, **kwargs):
    torchlike.manual_seed(42)
    return op(*args, **kwargs)


def torchlike_function(fn):
    """A Python function written against torch (op_db's lambdas) with its global names
    rebound to torchlike: same code, other library."""
    names = set(fn.__code__.co_names)
    if fn.__closure__ or not names & {"torch", "wrapper_set_seed", "F", "np"} and not \
            fn.__module__.startswith("torch.testing"):
        return fn
    env = dict(fn.__globals__)
    env["torch"] = torchlike
    env["wrapper_set_seed"] = _set_seed_torchlike
    if "F" in env:
        env["F"] = torchlike.nn.functional
    return types.FunctionType(fn.__code__, env, fn.__name__, fn.__defaults__)


def resolve(lib, dotted):
    obj = lib
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def torchlike_callable(info):
    """torchlike's counterpart of info.op, or None: op_db's lambdas rebound, torch's
    methods by name on the tensor, torch functions by their dotted name."""
    op = info.op
    if isinstance(op, types.FunctionType) and op.__module__.startswith("torch.testing"):
        return torchlike_function(op)
    reflected = isinstance(op, types.FunctionType) and op.__module__ == "torch._tensor"
    if type(op).__name__ in ("method_descriptor", "wrapper_descriptor") or reflected:
        name = info.name if reflected else op.__name__
        if not hasattr(torchlike.Tensor, name):
            return None
        # op_db calls the unbound descriptor (some error inputs pass a non-tensor self)
        return lambda *a, **k: getattr(torchlike.Tensor, name)(*a, **k)
    if info.name.startswith(("torch.ops.", "_")) or type(op).__name__ in (
            "OpOverloadPacket", "OpOverload", "_JittedFunction"):
        return None
    fn = resolve(torchlike, info.name)
    if fn is None and "." not in info.name and hasattr(torchlike.Tensor, info.name):
        name = info.name
        return lambda self, *a, **k: getattr(self, name)(*a, **k)
    return fn


def resolves(info):
    return torchlike_callable(info) is not None


# -- drawing samples ------------------------------------------------------------------------
def _seed(info, tag):
    torch.manual_seed(zlib.crc32(f"{opinfo_id(info)}/{tag}".encode()))


def _dtypes(info):
    supported = info.supported_dtypes("cpu")
    return [d for d in SAMPLES_PER_DTYPE if d in supported]


def samples(info):
    """[(dtype, index, SampleInput)]: the first few of each dtype, fixed by the seed."""
    out = []
    for dtype in _dtypes(info):
        grad = dtype == GRAD_DTYPE and info.supports_autograd
        _seed(info, dtype)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                drawn = list(itertools.islice(
                    info.sample_inputs("cpu", dtype, requires_grad=grad),
                    SAMPLES_PER_DTYPE[dtype]))
        except Exception:  # noqa: BLE001 - a sample generator that fails has no samples
            continue
        out += [(dtype, i, s) for i, s in enumerate(drawn)]
    return out


def error_inputs(info):
    _seed(info, "errors")
    try:
        return list(itertools.islice(info.error_inputs("cpu"), MAX_ERROR_INPUTS))
    except Exception:  # noqa: BLE001 - no error inputs for this op on CPU
        return []


# -- calling --------------------------------------------------------------------------------
def _call(fn, sample, convert):
    args = (sample.input,) + tuple(sample.args)
    kwargs = dict(sample.kwargs)
    if convert:
        try:
            args, kwargs = to_torchlike((args, kwargs))
        except (ValueError, TypeError) as e:   # numpy (so torchlike.tensor) stops at 64
            return e, args                      # dims
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - compared with what torch raised
            return e, args
        process = sample.output_process_fn_grad
        if process is not None:
            process = torchlike_function(process) if convert else process
            try:
                out = process(out)
            except Exception as e:  # noqa: BLE001
                return e, args
    return out, args


@contextlib.contextmanager
def _isolated_seeds():
    state = torch.get_rng_state()
    try:
        yield
    finally:
        torch.set_rng_state(state)


# -- comparing ------------------------------------------------------------------------------
def _numpy(t):
    t = t.detach()
    if isinstance(t, torch.Tensor):
        if t._is_zerotensor():
            return np.zeros(tuple(t.shape), dtype=str(t.dtype).replace("torch.", ""))
        t = t.resolve_conj().resolve_neg()
        if t.is_sparse or t.layout != torch.strided:
            t = t.to_dense()
    if "bfloat16" in str(t.dtype):
        t = t.float()
    return np.asarray(t.numpy())


def tolerance(info, dtype_name, expected):
    steps = STEPS.get(opinfo_id(info), DEFAULT_STEPS)
    rtol = steps * EPS.get(dtype_name, EPS["float32"])
    finite = np.abs(expected[np.isfinite(expected)]) if expected.size else expected
    scale = float(finite.max()) if finite.size else 0.0
    return rtol, rtol * max(scale, 1.0)


def compare(ours, theirs, info, values=True, where="out"):
    """None when `ours` is what a torch user would get, else what differs."""
    if isinstance(theirs, torch.Tensor):
        if not isinstance(ours, torchlike.Tensor):
            return f"{where}: expected a Tensor, got {type(ours).__name__}"
        td, od = str(theirs.dtype)[6:], str(ours.dtype)[6:]
        if od != td:
            return f"{where}: dtype {od} != {td}"
        if tuple(ours.shape) != tuple(theirs.shape):
            return f"{where}: shape {tuple(ours.shape)} != {tuple(theirs.shape)}"
        if not values:
            return None
        b = _numpy(theirs)
        a = np.asarray(_numpy_ours(ours))
        if b.dtype.kind in "fc":
            rtol, atol = tolerance(info, td, b)
            close = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
            if not close.all():
                i = np.argwhere(~close)[0]
                return f"{where}: values differ at {tuple(i)}: {a[tuple(i)]} != {b[tuple(i)]}"
        elif not np.array_equal(a, b):
            return f"{where}: values differ: {a.ravel()[:6]} != {b.ravel()[:6]}"
        return None
    if isinstance(theirs, (tuple, list)):
        if not isinstance(ours, (tuple, list)):
            return f"{where}: expected a sequence, got {type(ours).__name__}"
        if len(ours) != len(theirs):
            return f"{where}: length {len(ours)} != {len(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            bad = compare(a, b, info, values, f"{where}[{i}]")
            if bad:
                return bad
        return None
    if isinstance(theirs, torch.dtype):
        return None if str(ours) == str(theirs) else f"{where}: {ours} != {theirs}"
    if isinstance(ours, torchlike.Tensor):
        return f"{where}: expected {type(theirs).__name__}, got a Tensor"
    if isinstance(theirs, float) and isinstance(ours, float):
        return None if np.isclose(ours, theirs, rtol=1e-6, atol=1e-9, equal_nan=True) \
            else f"{where}: {ours} != {theirs}"
    if type(ours) is not type(theirs) and not (isinstance(ours, int) and isinstance(theirs, int)):
        return f"{where}: {type(ours).__name__} != {type(theirs).__name__}"
    if values and ours != theirs:
        return f"{where}: {ours} != {theirs}"
    return None


def _numpy_ours(t):
    t = t.detach()
    if t.dtype is torchlike.bfloat16:
        t = t.float()
    return np.asarray(t)


def _flat(x):
    if isinstance(x, (tuple, list)):
        return [t for item in x for t in _flat(item)]
    return [x]


def _inputs_requiring_grad(args, lib):
    return [t for t in _flat(list(args)) if isinstance(t, lib.Tensor) and t.requires_grad]


def _grads(lib, out, inputs):
    """Gradients of sum(out_i * c_i) (fixed random cotangents c_i) w.r.t. inputs."""
    outs = [t for t in _flat(out) if isinstance(t, lib.Tensor) and t.requires_grad
            and t.dtype.is_floating_point]
    if not outs:
        return None
    cts = [lib.tensor(np.random.default_rng(100 + i).uniform(-1, 1, tuple(t.shape)))
           .to(t.dtype) for i, t in enumerate(outs)]
    try:
        return lib.autograd.grad(outs, inputs, cts, allow_unused=True)
    except Exception as e:  # noqa: BLE001 - compared with torch's
        return e


def _describe(e):
    return f"{type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''}"


# -- one OpInfo -----------------------------------------------------------------------------
def run_opinfo(info):
    """[Check] for every forward, gradient and error comparison of `info`."""
    ours_fn = torchlike_callable(info)
    checks = []
    if ours_fn is None:
        return checks
    values = not NONDETERMINISTIC.search(opinfo_id(info))
    with _isolated_seeds():
        for dtype, i, sample in samples(info):
            where = f"{str(dtype)[6:]}/{i}"
            checks += _forward_and_grad(info, ours_fn, sample, where, values)
        for j, error in enumerate(error_inputs(info)):
            checks.append(_error_check(info, ours_fn, error, f"{j}"))
    return checks


def _forward_and_grad(info, ours_fn, sample, where, values):
    theirs, their_args = _call(info.op, sample, convert=False)
    ours, our_args = _call(ours_fn, sample, convert=True)
    if isinstance(theirs, Exception):
        ok = isinstance(ours, Exception) and type(ours).__name__ == type(theirs).__name__
        return [Check("forward", where, ok, "" if ok else
                      f"torch raised {_describe(theirs)}; torchlike gave "
                      f"{_describe(ours) if isinstance(ours, Exception) else type(ours).__name__}")]
    if isinstance(ours, Exception):
        return [Check("forward", where, False, f"torchlike raised {_describe(ours)}")]
    bad = compare(ours, theirs, info, values)
    checks = [Check("forward", where, bad is None, bad or "")]
    if bad is None and values and info.supports_autograd:
        their_inputs = _inputs_requiring_grad(their_args, torch)
        if their_inputs:
            checks.append(_grad_check(info, ours, theirs, our_args, their_inputs, where))
    return checks


def _grad_check(info, ours, theirs, our_args, their_inputs, where):
    our_inputs = _inputs_requiring_grad(our_args, torchlike)
    expected = _grads(torch, theirs, their_inputs)
    if expected is None or isinstance(expected, Exception):
        return Check("grad", where, True)     # torch has no gradient here: nothing to match
    got = _grads(torchlike, ours, our_inputs)
    if got is None or isinstance(got, Exception):
        return Check("grad", where, False, f"torchlike: {_describe(got) if got else 'no graph'}")
    for k, (a, b) in enumerate(zip(got, expected)):
        if b is None:
            continue       # torch: input unused; torchlike may return zeros or None
        if a is None:
            return Check("grad", where, False, f"input {k}: no gradient")
        bad = compare(a, b, info, True, f"grad {k}")
        if bad:
            return Check("grad", where, False, bad)
    return Check("grad", where, True)


def _error_check(info, ours_fn, error, where):
    sample = error.sample_input
    theirs, _ = _call(info.op, sample, convert=False)
    if not isinstance(theirs, Exception):
        return Check("error", where, True)   # torch itself accepts it on this build
    ours, _ = _call(ours_fn, sample, convert=True)
    if not isinstance(ours, Exception):
        return Check("error", where, False, f"torchlike did not raise; torch: {_describe(theirs)}")
    if type(ours).__name__ != type(theirs).__name__:
        return Check("error", where, False, f"{_describe(ours)} != {_describe(theirs)}")
    # the message must match what op_db requires of torch's (its regex), or torch's own
    # first line
    regex = error.error_regex or ""
    message, expected = str(ours), str(theirs)
    if re.search(regex, message) or message.splitlines()[:1] == expected.splitlines()[:1]:
        return Check("error", where, True)
    return Check("error", where, False, f"message {message[:160]!r} !~ {regex!r}")


def lacks_a_name(checks):
    """Whether every forward check failed on a name torchlike lacks (op_db's lambdas
    resolve, then reach for a missing attribute)."""
    forward = [c for c in checks if c.kind == "forward"]
    return bool(forward) and all(not c.ok and "has no attribute" in c.detail for c in forward)


# -- a report of the whole database ---------------------------------------------------------
def measure(selected, log=print):
    """Run every OpInfo in `selected`; (resolved count, Counter of (kind, ok) -> checks,
    crash count). An OpInfo resolves when torchlike has its callable (and op_db's lambda
    finds every name it reaches for); `log` gets one line per OpInfo and per failed check."""
    import collections
    import time
    totals = collections.Counter()
    resolved = crashes = 0
    for info in selected:
        t0 = time.time()
        if not resolves(info):
            log(f"MISSING {opinfo_id(info)}")
            continue
        try:
            checks = run_opinfo(info)
        except BaseException as e:  # noqa: BLE001 - the report goes on
            log(f"CRASH {opinfo_id(info)}: {_describe(e)}")
            crashes += 1
            resolved += 1
            totals[("forward", False)] += 1       # counted as one failed check
            continue
        if lacks_a_name(checks):
            log(f"MISSING {opinfo_id(info)} (lambda)")
            continue
        resolved += 1
        for c in checks:
            totals[(c.kind, c.ok)] += 1
            if not c.ok:
                log(f"FAIL {opinfo_id(info)} {c!r}")
        log(f"DONE {opinfo_id(info)} {len(checks)} {time.time() - t0:.2f}s")
    return resolved, totals, crashes


def summary(resolved, total, totals, crashes):
    """The measurement as lines: resolved/total, and matched/total checks by kind."""
    lines = [f"resolved {resolved}/{total} ({resolved / total:.1%})"]
    for kind in ("forward", "grad", "error"):
        ok, bad = totals[(kind, True)], totals[(kind, False)]
        lines.append(f"{kind}: {ok}/{ok + bad}")
    ok = sum(n for (_, good), n in totals.items() if good)
    every = sum(totals.values())
    lines.append(f"checks matched {ok}/{every} ({ok / max(every, 1):.2%})")
    lines.append(f"crashes: {crashes}")
    return lines


def main(argv):
    selected = [o for o in op_db if not argv or any(opinfo_id(o).startswith(a) for a in argv)]
    resolved, totals, crashes = measure(selected, lambda line: print(line, flush=True))
    print("\n".join(summary(resolved, len(selected), totals, crashes)), flush=True)


if __name__ == "__main__":
    import sys
    main(sys.argv[1:])
