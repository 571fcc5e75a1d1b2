"""Window functions: torch.hann_window, hamming_window, blackman_window, bartlett_window,
kaiser_window.

A window is a small constant: its values are computed in float64 on the host and rounded
once to the requested dtype, then placed like any factory's result. A periodic window of
length N is the symmetric window of length N + 1 without its last point, as PyTorch
defines it.
"""
import numpy as np

from .. import _dtype as dt
from ._common import expose
from ._util import c_type_name


def _check(name, window_length, dtype, device, requires_grad):
    if isinstance(window_length, bool) or not isinstance(window_length, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, not "
                        f"{type(window_length).__name__}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    if dtype is None:
        dtype = dt.get_default_dtype()
    if dtype.is_complex:
        raise NotImplementedError(f"\"arange_cpu\" not implemented for '{_scalar(dtype)}'")
    if not dtype.is_floating_point:
        flag = "true" if requires_grad else "false (default)"
        raise RuntimeError(
            f"{name} expects floating point dtypes, got: TensorOptions(dtype="
            f"{c_type_name(dtype)}, device={device or 'cpu'}, layout=Strided (default), "
            f"requires_grad={flag}, pinned_memory=false, memory_format=(nullopt))")
    return dtype


def _scalar(d):
    from ._util import scalar_name
    return scalar_name(d)


def _symmetric_points(length, periodic):
    """n / (M - 1) for the symmetric window of M points the result is cut from."""
    m = length + 1 if periodic else length
    return np.arange(length, dtype=np.float64), m


def _make(name, values_of):
    def window(window_length, periodic=True, *args, dtype=None, layout=None, device=None,
               pin_memory=False, requires_grad=False):
        from .._factories import tensor
        d = _check(name, window_length, dtype, device, requires_grad)
        if window_length <= 1:
            values = np.ones(window_length)          # PyTorch: [] and [1.]
        else:
            n, m = _symmetric_points(window_length, periodic)
            values = values_of(n, m, *args)        # PyTorch takes alpha, beta by position
        return tensor(values.astype(np.float64), dtype=d, device=device,
                      requires_grad=requires_grad)
    window.__name__ = window.__qualname__ = name
    expose(name, window, method=False, inplace=False, out=False)
    return window


def _general_hamming(n, m, alpha=0.54, beta=0.46):
    return alpha - beta * np.cos(2 * np.pi * n / (m - 1))


def _hann(n, m):
    return _general_hamming(n, m, 0.5, 0.5)


def _blackman(n, m):
    phase = 2 * np.pi * n / (m - 1)
    return 0.42 - 0.5 * np.cos(phase) + 0.08 * np.cos(2 * phase)


def _bartlett(n, m):
    return 1 - np.abs(2 * n / (m - 1) - 1)


def _kaiser(n, m, beta=12.0):
    ratio = 2 * n / (m - 1) - 1
    return np.i0(beta * np.sqrt(np.clip(1 - ratio * ratio, 0, None))) / np.i0(beta)


hann_window = _make("hann_window", _hann)
hamming_window = _make("hamming_window", _general_hamming)
blackman_window = _make("blackman_window", _blackman)
bartlett_window = _make("bartlett_window", _bartlett)
kaiser_window = _make("kaiser_window", _kaiser)
