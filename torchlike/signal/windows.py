"""torch.signal.windows: SciPy-style window functions (symmetric by default; sym=False
gives the periodic window for spectral analysis).

As with torch.hann_window and friends (_ops/windows.py), the values are computed in
float64 on the host and rounded once to the requested dtype.
"""
import math

import numpy as np

from .. import _dtype as dt

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
           "general_hamming", "hamming", "hann", "kaiser", "nuttall"]

_NUTTALL = (0.3635819, 0.4891775, 0.1365995, 0.0106411)


def _checked_dtype(name, M, dtype, layout):
    if dtype is None:
        dtype = dt.get_default_dtype()
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not None and layout != "torch.strided":
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dtype not in (dt.float32, dt.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    return dtype


def _span(M, sym):
    """The denominator of the window's phase: M - 1 points apart for a symmetric window,
    M for a periodic one (whose M + 1st point is the first of the next period)."""
    return M - 1 if sym or M <= 1 else M


def _result(values, dtype, device, requires_grad):
    from .._factories import tensor
    return tensor(np.asarray(values, np.float64), dtype=dtype, device=device,
                  requires_grad=requires_grad)


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=None, device=None,
                requires_grad=False):
    dtype = _checked_dtype("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if center is None:
        center = _span(M, sym) / 2.0 if M else 0.0
    n = np.arange(M, dtype=np.float64)
    return _result(np.exp(-np.abs(n - center) / tau), dtype, device, requires_grad)


def cosine(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    dtype = _checked_dtype("cosine", M, dtype, layout)
    n = np.arange(M, dtype=np.float64)
    return _result(np.sin(np.pi * (n + 0.5) / (_span(M, sym) + 1)) if M else n, dtype,
                   device, requires_grad)


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=None, device=None,
             requires_grad=False):
    dtype = _checked_dtype("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    n = np.arange(M, dtype=np.float64) - _span(M, sym) / 2.0
    return _result(np.exp(-0.5 * (n / std) ** 2), dtype, device, requires_grad)


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=None, device=None,
           requires_grad=False):
    dtype = _checked_dtype("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    if M <= 1:
        return _result(np.ones(M), dtype, device, requires_grad)
    ratio = 2 * np.arange(M, dtype=np.float64) / _span(M, sym) - 1
    values = np.i0(beta * np.sqrt(np.clip(1 - ratio * ratio, 0, None))) / np.i0(beta)
    return _result(values, dtype, device, requires_grad)


def bartlett(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    dtype = _checked_dtype("bartlett", M, dtype, layout)
    if M <= 1:
        return _result(np.ones(M), dtype, device, requires_grad)
    ratio = 2 * np.arange(M, dtype=np.float64) / _span(M, sym) - 1
    return _result(1 - np.abs(ratio), dtype, device, requires_grad)


def general_cosine(M, *, a, sym=True, dtype=None, layout=None, device=None,
                   requires_grad=False):
    """sum_i (-1)^i a_i cos(2 pi i n / span)."""
    dtype = _checked_dtype("general_cosine", M, dtype, layout)
    if M <= 1:
        return _result(np.ones(M), dtype, device, requires_grad)
    if not hasattr(a, "__iter__"):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    phase = 2 * math.pi * np.arange(M, dtype=np.float64) / _span(M, sym)
    values = sum((-1) ** i * w * np.cos(i * phase) for i, w in enumerate(a))
    return _result(values, dtype, device, requires_grad)


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=None, device=None,
                    requires_grad=False):
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def hamming(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def hann(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    dtype = _checked_dtype("blackman", M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def nuttall(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    return general_cosine(M, a=list(_NUTTALL), sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)
