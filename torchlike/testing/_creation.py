"""torchlike.testing.make_tensor: a tensor of random test values, with PyTorch's rules.

Values are uniform in [low, high): floats default to [-9, 9), integers to [-9, 10)
(uint8 from 0), both clamped to the dtype's range; bools are fair coin flips. The numbers
come from torchlike's generator (manual_seed makes them reproducible), not PyTorch's.
"""
import math
import warnings

import numpy as np

import torchlike as _torch

from .. import _dtype as dt


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _bounds(low, high, dtype):
    """(low, high) with PyTorch's defaults, checks and clamping to the dtype's range."""
    floating = dtype.is_floating_point or dtype.is_complex
    if floating:
        info = np.finfo(dtype.to_real().np if dtype.is_complex else
                        (np.float32 if dtype is dt.bfloat16 else dtype.np))
        lowest, highest = float(info.min), float(info.max)
    else:
        info = np.iinfo(dtype.np)
        lowest, highest = int(info.min), int(info.max) + 1
    default_low = 0 if dtype is dt.uint8 else -9
    default_high = 9 if floating else 10
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    low, high = max(low, lowest), min(high, highest)
    if low > high or (low == high and not floating):
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    if low == high:
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or "
                      "complex types is deprecated since 2.1 and will be removed in 2.3. Use "
                      "`torch.full(...)` instead.", FutureWarning, stacklevel=3)
    return low, high


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False, memory_format=None):
    shape = _shape(shape)
    if requires_grad and not (dtype.is_floating_point or dtype.is_complex):
        raise ValueError("`requires_grad=True` is not supported for boolean and integral "
                         f"dtypes, but got dtype={dtype}")
    if dtype is dt.bool:
        values = _torch.rand(shape) < 0.5
    else:
        low, high = _bounds(low, high, dtype)
        if dtype.is_floating_point or dtype.is_complex:
            real = dtype.to_real() if dtype.is_complex else dtype
            draw = (lambda: _torch.rand(shape, dtype=dt.float64) * (high - low) + low)
            values = draw().to(real)
            if dtype.is_complex:
                values = _torch.complex(values, draw().to(real))
        else:
            values = _torch.randint(int(low), int(high), shape, dtype=dt.int64).to(dtype)
        if exclude_zero:
            tiny = np.finfo(dtype.to_real().np if dtype.is_complex else np.float32
                            if dtype is dt.bfloat16 else dtype.np).tiny \
                if dtype.is_floating_point or dtype.is_complex else 1
            values = _torch.where(values == 0, _torch.full_like(values, tiny), values)
    if noncontiguous and values.numel() > 1:
        wide = _torch.empty(shape[:-1] + (2 * shape[-1],), dtype=dtype)
        wide[..., ::2] = values
        values = wide[..., ::2]
    elif memory_format is not None:
        values = values.contiguous(memory_format=memory_format)
    values = values.to(device) if device is not None else values
    if requires_grad:
        values.requires_grad_(True)
    return values
