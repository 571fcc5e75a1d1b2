"""The generic oracle test: every OpInfo sample, in every variant, under torch and torchlike.

For each sample it compares what a PyTorch user sees: the result's type (tensor, named
tuple, Python scalar), dtype, shape, values, requires_grad and grad_fn name, and the
gradients of every floating input after `.backward()` of the outputs weighted by a
fixed random cotangent. A call torch rejects must raise the same exception class in
torchlike (and the same message for the table's explicit error samples).

Deliberate differences are listed below as named sets, each with its reason.
"""
import warnings
import zlib

import numpy as np
import pytest

import torchlike
import torchlike.linalg  # noqa: F401  (until torchlike/__init__.py imports the namespace)
from torchlike.testing._opinfo.core import D, E, T, load_all, has_variant, resolve, variants_of

try:
    import torch
except ImportError:
    torch = None

OP_DB = load_all()

# -- deliberate differences (key: "name", "name/variant" or "name/variant/index") ---------
# grad_fn names torchlike cannot reproduce.
GRAD_FN_NAME_DIFFERS = {
}
# Samples whose gradients are not compared (the forward still is).
GRAD_DIFFERS = {
}
# Error samples whose message differs (the exception class still must match).
MESSAGE_DIFFERS = {
}

# -- bugs in files the op library does not own: strict xfails, so that a fix shows up -------
KNOWN_BUGS_ELSEWHERE = {
}


def _key_in(table, name, variant, index=None):
    return (name in table or f"{name}/{variant}" in table
            or f"{name}/{variant}/{index}" in table)


# -- building the parameter list ----------------------------------------------------------
def _params():
    libs = [torchlike] + ([torch] if torch is not None else [])
    out = []
    for info in OP_DB:
        variants = variants_of(info, libs)
        for name in (info.name,) + info.aliases:
            for variant in variants:
                if variant != "custom" and not any(has_variant(lib, name, variant) for lib in libs):
                    continue
                # a method is the function's own code with self first, torch.fn_ the
                # method fn_: one sample proves the binding; aliases likewise. In-place
                # forms share the function's code too: two samples check the write-back.
                # (a method-only op, e.g. Tensor.view, runs every sample as a method)
                count = len(info.samples)
                if name != info.name or variant == "function_" or (
                        variant == "method" and "function" in variants):
                    count = min(1, count)
                elif variant == "inplace":
                    count = min(2, count)
                for i in range(count):
                    out.append(pytest.param(info, name, variant, i, False,
                                            id=f"{name}-{variant}-{i}",
                                            marks=_known_bug(name, variant, i)))
        if info.op is None and info.out and info.samples and has_variant(torchlike, info.name, "function"):
            if torch is None or _torch_takes_out(info):
                out.append(pytest.param(info, info.name, "out", 0, False, id=f"{info.name}-out-0",
                                        marks=_known_bug(info.name, "out", 0)))
        for i in range(len(info.errors)):
            variant = variants[0] if variants else "function"
            out.append(pytest.param(info, info.name, variant, i, True, id=f"{info.name}-error-{i}",
                                    marks=_known_bug(info.name, "error", i)))
    return out


def _known_bug(name, variant, index):
    for key in (f"{name}/{variant}/{index}", f"{name}/{variant}", name):
        if key in KNOWN_BUGS_ELSEWHERE:
            return [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS_ELSEWHERE[key])]
    return []


def _torch_takes_out(info):
    """Whether torch.<name> accepts out= for the first sample (decided by asking torch)."""
    sample = info.samples[0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            args, kwargs, _ = _materialize(torch, info, 0, sample, grad=False)
            expected = resolve(torch, info.name)(*args, **kwargs)
            outs = _empty_like_result(torch, expected)
            resolve(torch, info.name)(*args, **kwargs, out=outs)
    except Exception:  # noqa: BLE001 - any failure means: no out= form to test
        return False
    return True


def _empty_like_result(lib, result):
    if isinstance(result, tuple):
        return tuple(_empty_like_result(lib, r) for r in result)
    return lib.empty(0, dtype=getattr(lib, str(result.dtype).replace("torch.", "")))


# -- materialising samples ----------------------------------------------------------------
def _tensor(lib, array, spec):
    if spec.dtype == "bfloat16":
        return lib.tensor(array.astype(np.float32)).to(lib.bfloat16)
    return lib.tensor(array)


def _materialize(lib, info, index, sample, grad=True):
    leaves = []

    def build(value, path):
        if isinstance(value, T):
            t = _tensor(lib, value.numpy(info.seed(index, path)), value)
            if grad and value.grad and info.grad:
                t.requires_grad_(True)
                leaves.append(t)
            return t
        if isinstance(value, D):
            return getattr(lib, value.name)
        if isinstance(value, (list, tuple)):
            return type(value)(build(v, f"{path}.{i}") for i, v in enumerate(value))
        return value
    args = [build(a, str(i)) for i, a in enumerate(sample.args)]
    kwargs = {k: build(v, k) for k, v in sample.kwargs.items()}
    return args, kwargs, leaves


def _call(lib, info, name, variant, args, kwargs):
    if variant == "custom":
        return info.op(lib, *args, **kwargs)
    if variant in ("function", "out"):
        fn = resolve(lib, name)
        if fn is None:
            raise AttributeError(f"module has no attribute {name!r}")
        return fn(*args, **kwargs)
    self = args[info.self_arg]
    rest = args[:info.self_arg] + args[info.self_arg + 1:]
    if variant == "method":
        return getattr(self, name)(*rest, **kwargs)
    self = self.clone()
    if variant == "function_":
        fn = resolve(lib, name + "_")
        if fn is None:
            raise AttributeError(f"module has no attribute {name + '_'!r}")
        result = fn(self, *rest, **kwargs)
    else:
        result = getattr(self, name + "_")(*rest, **kwargs)
    assert result is self, "an in-place method must return self"
    return result


def _run(lib, info, name, variant, index, sample, grad=True):
    """(result, leaves) or (exception, None)."""
    args, kwargs, leaves = _materialize(lib, info, index, sample, grad=grad)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if variant == "out":
                expected = _call(lib, info, name, "function", args, kwargs)
                out = _empty_like_result(lib, expected)
                result = _call(lib, info, name, "out", args, dict(kwargs, out=out))
                _check_out_identity(result, out)
            else:
                result = _call(lib, info, name, variant, args, kwargs)
    except Exception as e:  # noqa: BLE001 - compared with whatever the oracle raises
        return e, None
    return result, leaves


def _check_out_identity(result, out):
    if isinstance(out, tuple):
        assert all(r is o for r, o in zip(result, out)), "out= results must be the out tensors"
    else:
        assert result is out, "out= must return the out tensor"


# -- comparing ----------------------------------------------------------------------------
def _tolerance(info, dtype_name, precision):
    """Tolerances for a float64 result computed from float32 inputs are float32's."""
    if "float16" in (dtype_name, precision) or "bfloat16" in (dtype_name, precision):
        # both libraries compute in float32 and round the result once to the 16-bit
        # type; a float32 difference can move that rounding by one ulp: bfloat16's is
        # 2**-7 = 0.0078 relative (float16's 2**-10), under 1e-2
        return 1e-2, 1e-2
    if dtype_name in ("float64", "complex128") and precision != "float32":
        return max(info.atol * 1e-4, 1e-12), max(info.rtol * 1e-4, 1e-12)
    return info.atol, info.rtol


def _numpy(t):
    if torch is not None and isinstance(t, torch.Tensor) and t._is_zerotensor():
        return np.zeros(tuple(t.shape), dtype=str(t.dtype).replace("torch.", ""))
    t = t.detach()
    if hasattr(t, "resolve_conj"):       # torch's lazy conjugate/negative bits
        t = t.resolve_conj().resolve_neg()
    if "bfloat16" in str(t.dtype):
        t = t.float()
    return np.asarray(t.cpu().numpy() if hasattr(t, "cpu") else t)


def _compare(ours, theirs, info, check_grad_fn, where="result", precision="float64"):
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, torchlike.Tensor), f"{where}: expected a Tensor, got {type(ours)}"
        td = str(theirs.dtype).replace("torch.", "")
        assert str(ours.dtype).replace("torch.", "") == td, f"{where}: dtype {ours.dtype} != {td}"
        assert tuple(ours.shape) == tuple(theirs.shape), f"{where}: shape {ours.shape} != {theirs.shape}"
        assert ours.requires_grad == theirs.requires_grad, f"{where}: requires_grad differs"
        if check_grad_fn:
            a = ours.grad_fn.name() if ours.grad_fn is not None else None
            b = theirs.grad_fn.name() if theirs.grad_fn is not None else None
            assert a == b, f"{where}: grad_fn {a} != {b}"
        if info.nondeterministic:
            return
        atol, rtol = _tolerance(info, td, precision)
        a, b = _numpy(ours), _numpy(theirs)
        try:
            np.testing.assert_allclose(a, b, atol=atol, rtol=rtol, equal_nan=True)
        except AssertionError as e:
            raise AssertionError(f"{where}: values differ: ours {a.tolist()} torch {b.tolist()}"
                                 f"\n{e}") from None
        return
    if isinstance(theirs, tuple) and type(theirs).__module__ == "torch.return_types":
        assert type(ours).__name__ == type(theirs).__name__, f"{where}: {type(ours)} != {type(theirs)}"
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for field in ("values", "indices", "min", "max", "solution", "Q", "R", "U", "S", "Vh",
                      "eigenvalues", "eigenvectors", "sign", "logabsdet"):
            if hasattr(theirs, field):
                assert hasattr(ours, field), f"{where}: named tuple lacks .{field}"
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)), f"{where}: expected a sequence, got {type(ours)}"
        assert type(ours) is type(theirs) or type(theirs).__module__ == "torch.return_types" \
            or type(theirs).__name__ == "Size", f"{where}: {type(ours)} != {type(theirs)}"
        assert len(ours) == len(theirs), f"{where}: length {len(ours)} != {len(theirs)}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _compare(a, b, info, check_grad_fn, f"{where}[{i}]", precision)
        return
    if isinstance(theirs, torch.dtype):
        assert str(ours) == str(theirs), f"{where}: {ours} != {theirs}"
        return
    assert not isinstance(ours, torchlike.Tensor), f"{where}: expected {type(theirs)}, got a Tensor"
    assert type(ours) is type(theirs), f"{where}: {type(ours)} != {type(theirs)}"
    if isinstance(theirs, float):
        np.testing.assert_allclose(ours, theirs, atol=info.atol, rtol=info.rtol, err_msg=where)
    else:
        assert ours == theirs, f"{where}: {ours} != {theirs}"


def _flat_tensors(x):
    if isinstance(x, (tuple, list)):
        return [t for item in x for t in _flat_tensors(item)]
    return [x] if x is not None and hasattr(x, "requires_grad") else []


def _backward(lib, outs, cotangent_specs):
    """None, or the exception backward raised (ops without a derivative raise one)."""
    loss = None
    for t, (i, shape) in zip(outs, cotangent_specs):
        ct = np.random.default_rng(1000 + i).uniform(-1, 1, shape)
        ct = lib.tensor(ct).to(t.dtype)
        term = (t * ct).sum()
        loss = term if loss is None else loss + term
    try:
        loss.backward()
    except Exception as e:  # noqa: BLE001 - compared with the oracle's
        return e
    return None


def _least_precise(sample):
    found = set()

    def visit(v):
        if isinstance(v, T):
            found.add(v.dtype)
        elif isinstance(v, (list, tuple)):
            for x in v:
                visit(x)
    for v in list(sample.args) + list(sample.kwargs.values()):
        visit(v)
    for d in ("float16", "bfloat16", "float32"):
        if d in found:
            return d
    return "float64"


_RUN_COUNT = [0]


@pytest.fixture(autouse=True)
def _bounded_jit_caches():
    """Thousands of samples compile thousands of small XLA programs; dropping the
    caches now and then keeps a worker's memory flat (recompiling costs little here)."""
    yield
    _RUN_COUNT[0] += 1
    if _RUN_COUNT[0] % 300 == 0:
        import jax
        jax.clear_caches()
        from torchlike.autograd import engine
        engine._fused_cache.clear()


# -- the test -----------------------------------------------------------------------------
@pytest.mark.parametrize("info, name, variant, index, is_error", _params())
def test_op(oracle, info, name, variant, index, is_error):
    sample = info.errors[index] if is_error else info.samples[index]
    grad = variant != "out"
    theirs, their_leaves = _run(torch, info, name, variant, index, sample, grad)
    ours, our_leaves = _run(torchlike, info, name, variant, index, sample, grad)

    if isinstance(theirs, Exception):
        assert isinstance(ours, Exception), \
            f"torch raised {type(theirs).__name__}: {theirs}; torchlike returned {ours!r}"
        assert type(ours).__name__ == type(theirs).__name__, \
            f"torch raised {type(theirs).__name__}({theirs}); torchlike {type(ours).__name__}({ours})"
        if isinstance(sample, E) and sample.msg and not _key_in(MESSAGE_DIFFERS, name, variant):
            assert str(ours) == str(theirs)
        return
    assert not is_error, f"the error sample did not raise in torch: {sample}"
    if isinstance(ours, Exception):
        raise ours

    check_grad_fn = not _key_in(GRAD_FN_NAME_DIFFERS, name, variant)
    precision = _least_precise(sample)
    _compare(ours, theirs, info, check_grad_fn, precision=precision)

    # gradients: weight every differentiable output by a fixed random cotangent
    if not grad or not their_leaves or info.nondeterministic \
            or _key_in(GRAD_DIFFERS, name, variant):
        return
    their_outs = _flat_tensors(theirs)
    our_outs = _flat_tensors(ours)
    picked = [i for i, t in enumerate(their_outs) if t.requires_grad]
    if not picked:
        return
    specs = [(i, tuple(their_outs[i].shape)) for i in picked]
    their_error = _backward(torch, [their_outs[i] for i in picked], specs)
    our_error = _backward(torchlike, [our_outs[i] for i in picked], specs)
    if their_error is not None or our_error is not None:
        assert type(our_error) is type(their_error) and str(our_error) == str(their_error), \
            f"backward: torch raised {their_error!r}, torchlike {our_error!r}"
        return
    for k, (a, b) in enumerate(zip(our_leaves, their_leaves)):
        if b.grad is None:
            assert a.grad is None, f"input {k}: torch has no grad, torchlike has one"
            continue
        assert a.grad is not None, f"input {k}: torchlike computed no grad"
        _compare(a.grad, b.grad, info, False, f"grad of input {k}", precision)
