"""torchlike.testing.assert_close: PyTorch's tolerance rules and failure messages.

Inputs may be tensors, numpy arrays, Python numbers, or sequences and mappings of them
(compared item by item). Default tolerances depend on the dtype, as PyTorch's:
rtol/atol 1.3e-6/1e-5 for float32, 1e-7/1e-7 for float64, 1e-3/1e-5 for float16,
1.6e-2/1e-5 for bfloat16, exact for integers and bools.
"""
import collections.abc
import numbers

import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor

_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5),
               "complex128": (1e-7, 1e-7)}


def _default_tolerances(*dtypes):
    rtols, atols = zip(*(_TOLERANCES.get(d.name, (0.0, 0.0)) for d in dtypes))
    return max(rtols), max(atols)


def _tolerances(rtol, atol, *dtypes):
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'rtol' if rtol is None else 'atol'}.")
    return (rtol, atol) if rtol is not None else _default_tolerances(*dtypes)


def _path(path):
    return "".join(f"[{p!r}]" for p in path)


def _fail(message, path, msg):
    if path:
        message += f"\n\nThe failure occurred for item {_path(path)}"
    if callable(msg):
        message = msg(message)
    elif msg is not None:
        message = msg
    raise AssertionError(message)


def _attribute(name, a, b, path, msg):
    _fail(f"The values for attribute '{name}' do not match: {a} != {b}.", path, msg)


# -- numbers --------------------------------------------------------------------------------
def _compare_scalars(actual, expected, rtol, atol, equal_nan, check_dtype, path, msg):
    if check_dtype and type(actual) is not type(expected):
        _fail(f"The (d)types do not match: {type(actual)} != {type(expected)}.", path, msg)
    if isinstance(expected, bool) or isinstance(expected, numbers.Integral) and \
            isinstance(actual, numbers.Integral):
        defaults = (0.0, 0.0)
    else:
        defaults = _TOLERANCES["float64"]
    rtol, atol = (rtol, atol) if rtol is not None else defaults
    _tolerances(rtol, atol)
    _close_scalars(actual, expected, rtol, atol, equal_nan, path, msg)


def _close_scalars(actual, expected, rtol, atol, equal_nan, path, msg):
    if equal_nan and _isnan(actual) and _isnan(expected):
        return
    diff = abs(actual - expected)
    if diff <= atol + rtol * abs(expected):
        return
    exact = rtol == 0 and atol == 0
    rel = diff / abs(expected) if expected != 0 else float("inf") if diff else 0.0
    lines = [f"Scalars are not {'equal' if exact else 'close'}!", "",
             f"Expected {expected} but got {actual}.",
             f"Absolute difference: {diff}" + ("" if exact else f" (up to {atol} allowed)"),
             f"Relative difference: {rel}" + ("" if exact else f" (up to {rtol} allowed)")]
    _fail("\n".join(lines), path, msg)


def _isnan(x):
    return isinstance(x, (float, complex)) and x != x


# -- tensors --------------------------------------------------------------------------------
def _as_tensor(x):
    if isinstance(x, np.ndarray):
        from .._factories import tensor
        return tensor(x)
    return x


def _compare_tensors(actual, expected, rtol, atol, equal_nan, check_dtype, check_stride,
                     check_device, path, msg):
    if tuple(actual.shape) != tuple(expected.shape):
        _attribute("shape", actual.shape, expected.shape, path, msg)
    if check_device and actual.device != expected.device:
        _attribute("device", actual.device, expected.device, path, msg)
    if check_dtype and actual.dtype is not expected.dtype:
        _attribute("dtype", actual.dtype, expected.dtype, path, msg)
    if check_stride and actual.stride() != expected.stride():
        _attribute("stride()", actual.stride(), expected.stride(), path, msg)
    rtol, atol = _tolerances(rtol, atol, actual.dtype, expected.dtype)
    common = dt.promote_types(actual.dtype, expected.dtype)
    a, e = _values(actual, common), _values(expected, common)
    if actual.ndim == 0 and expected.ndim == 0:
        _close_scalars(a.item(), e.item(), rtol, atol, equal_nan, path, msg)
        return
    exact = rtol == 0 and atol == 0
    if a.dtype.kind in "biu":
        wide = a.astype(np.int64), e.astype(np.int64)
        diff = np.abs(wide[0] - wide[1])
        close = diff == 0 if exact else diff <= atol + rtol * np.abs(wide[1])
        with np.errstate(all="ignore"):       # x / 0 is inf, as PyTorch reports it
            rel = (diff / np.abs(wide[1]).astype(np.float32)).astype(np.float32)
    else:
        with np.errstate(all="ignore"):
            diff = np.abs(a - e)
            close = diff <= atol + rtol * np.abs(e)
            rel = diff / np.abs(e)
        if equal_nan:
            close |= np.isnan(a) & np.isnan(e)
        if np.iscomplexobj(a):
            diff, rel = diff.real, rel.real
    if close.all():
        return
    mismatched = int((~close).sum())
    total = close.size
    lines = [f"Tensor-likes are not {'equal' if exact else 'close'}!", "",
             f"Mismatched elements: {mismatched} / {total} ({mismatched / total:.1%})"]
    for what, values, allowed in (("absolute", diff, atol), ("relative", rel, rtol)):
        values = np.where(close, 0, values)
        flat = values.reshape(-1)
        where = int(np.argmax(np.isnan(flat))) if np.isnan(flat).any() else int(np.argmax(flat))
        index = tuple(int(i) for i in np.unravel_index(where, values.shape))
        value = flat[where].item()
        lines.append(f"Greatest {what} difference: {value} at index {index}"
                     + ("" if exact else f" (up to {allowed} allowed)"))
    _fail("\n".join(lines), path, msg)


def _values(t, common):
    t = t.detach()
    if t.dtype is not common:
        t = t.to(common)
    if t.dtype is dt.bfloat16:
        return np.asarray(t.float())
    return np.asarray(t)


# -- the walk over containers ---------------------------------------------------------------
def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raise AssertionError (with PyTorch's message) unless actual and expected are close."""
    pending = [(actual, expected, ())]
    while pending:
        a, e, path = pending.pop(0)
        a, e = _as_tensor(a), _as_tensor(e)
        if isinstance(a, Tensor) and isinstance(e, Tensor):
            _compare_tensors(a, e, rtol, atol, equal_nan, check_dtype, check_stride,
                             check_device, path, msg)
        elif isinstance(a, numbers.Number) and isinstance(e, numbers.Number) and \
                not isinstance(a, Tensor) and not isinstance(e, Tensor):
            _compare_scalars(a, e, rtol, atol, equal_nan, check_dtype, path, msg)
        elif _is_sequence(a) and _is_sequence(e):
            if len(a) != len(e):
                _fail(f"The length of the sequences mismatch: {len(a)} != {len(e)}", path, msg)
            pending[:0] = [(x, y, path + (i,)) for i, (x, y) in enumerate(zip(a, e))]
        elif isinstance(a, collections.abc.Mapping) and isinstance(e, collections.abc.Mapping):
            if set(a) != set(e):
                missing = sorted(set(e) - set(a), key=repr)
                extra = sorted(set(a) - set(e), key=repr)
                _fail("The keys of the mappings do not match:\n"
                      f"Missing keys in the actual mapping: {missing}\n"
                      f"Additional keys in the actual mapping: {extra}", path, msg)
            pending[:0] = [(a[k], e[k], path + (k,)) for k in e]
        elif a is None and e is None:
            continue
        else:
            raise TypeError(f"No comparison pair was able to handle inputs of type {type(a)} "
                            f"and {type(e)}.")


def _is_sequence(x):
    return isinstance(x, collections.abc.Sequence) and not isinstance(x, (str, bytes))
