"""The harness for behaviours ported from PyTorch's test/test_autograd.py.

Each behaviour is a function `run(lib)` written once and run under real torch and under
torchlike. What it returns (tensors, graph nodes, numbers, strings, nested in lists,
tuples and dicts), what it raises, and which warnings it emits are reduced to plain data
by `observe` and must agree. A behaviour is therefore one small function; the test that
holds it names the PyTorch test it comes from.
"""
import warnings

import numpy as np

import torchlike

try:
    import torch
except ImportError:  # the oracle fixture skips these tests without torch
    torch = None


def _is_tensor(x):
    return isinstance(x, torchlike.Tensor) or (torch is not None and isinstance(x, torch.Tensor))


def _is_node(x):
    return hasattr(x, "next_functions") and callable(getattr(x, "name", None))


def observe(x):
    """Plain data for comparing a result of either library."""
    if _is_tensor(x):
        t = x.detach()
        if str(t.dtype).endswith("bfloat16"):
            t = t.float()
        values = np.asarray(t.tolist(), dtype=complex if t.is_complex() else float)
        fn = x.grad_fn
        return ("tensor", str(x.dtype).replace("torch.", ""), tuple(x.shape), values,
                x.requires_grad, None if fn is None else fn.name())
    if _is_node(x):
        return ("node", x.name())
    if isinstance(x, BaseException):
        return ("raises", type(x).__name__, str(x))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [observe(v) for v in x])
    if isinstance(x, dict):
        return ("dict", {k: observe(v) for k, v in x.items()})
    if isinstance(x, float):
        return ("float", np.asarray(x))
    if torch is not None and isinstance(x, (torch.dtype, torch.Size)):
        return str(x).replace("torch.", "")
    if isinstance(x, (torchlike.dtype, torchlike.Size)):
        return str(x).replace("torchlike.", "").replace("torch.", "")
    return x


def _compare(ours, theirs, where, rtol, atol):
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray), (where, ours, theirs)
        assert ours.shape == theirs.shape, (where, ours, theirs)
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=where)
    elif isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs), (where, ours, theirs)
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _compare(a, b, f"{where}[{i}]", rtol, atol)
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and ours.keys() == theirs.keys(), (where, ours, theirs)
        for k in theirs:
            _compare(ours[k], theirs[k], f"{where}[{k!r}]", rtol, atol)
    else:
        assert ours == theirs, (where, ours, theirs)


def _run(run, lib, *, check_warnings):
    grad_enabled = lib.is_grad_enabled()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = observe(run(lib))
        except Exception as e:  # noqa: BLE001 - whatever torch raises, we must raise too
            result = observe(e)
        finally:
            lib.set_grad_enabled(grad_enabled)   # a behaviour may leave it switched
    seen = [(w.category.__name__, str(w.message)) for w in caught] if check_warnings else None
    return result, seen


def same_behaviour(run, *, check_warnings=False, rtol=1e-5, atol=1e-6):
    """run(lib) returns, raises and (with check_warnings) warns the same under both.
    Default tolerances are helpers.assert_same's: these graphs are a few float32
    pointwise ops and small reductions."""
    theirs = _run(run, torch, check_warnings=check_warnings)
    ours = _run(run, torchlike, check_warnings=check_warnings)
    _compare(ours, theirs, "result", rtol, atol)
    return ours[0]


def warned(lib, fn):
    """(result or exception, [(category, message)]) of fn(), for behaviours about warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn()
        except Exception as e:  # noqa: BLE001
            result = e
    return result, [(w.category.__name__, str(w.message)) for w in caught]


def attempt(fn):
    """fn()'s result, or the exception it raised (so one behaviour can check several)."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001
        return e


class Behaviours:
    """A topic file's table of ported behaviours: `@cases.add("test_x")` registers
    run(lib) under the name of the PyTorch test it comes from (a suffix tells several
    behaviours of one test apart); `cases.params()` feeds pytest.mark.parametrize.
    xfail= names why torchlike knowingly fails it (strict: a pass is reported)."""

    def __init__(self):
        self.runs, self.options = {}, {}

    def add(self, name, *, xfail=None, **options):
        def register(run):
            assert name not in self.runs, name
            self.runs[name] = run
            self.options[name] = (xfail, options)
            return run
        return register

    def params(self):
        import pytest
        out = []
        for name in self.runs:
            xfail = self.options[name][0]
            marks = [pytest.mark.xfail(reason=xfail, strict=True)] if xfail else []
            out.append(pytest.param(name, marks=marks, id=name))
        return out

    def check(self, name):
        same_behaviour(self.runs[name], **self.options[name][1])


def values(lib, *shape, dtype=None, requires_grad=False):
    """Deterministic stand-in for randn: the two libraries' generators differ, so a
    ported test that drew random inputs uses these spread values instead."""
    n = 1
    for s in shape:
        n *= s
    flat = [((i * 7) % 11 - 5) * 0.3 + 0.1 for i in range(n)]
    t = lib.tensor(flat, dtype=dtype or lib.float32).reshape(shape)
    return t.requires_grad_() if requires_grad else t
