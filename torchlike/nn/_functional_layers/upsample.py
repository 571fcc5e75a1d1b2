"""interpolate (nearest, nearest-exact, linear/bilinear/trilinear, bicubic, area) and
pixel_shuffle/pixel_unshuffle.

Interpolation is separable: along each spatial dim the output is a weighted sum of a few
gathered input rows, whose indices and weights depend only on the sizes, so they are
computed with numpy at trace time, in float32 as PyTorch's kernels compute them.
"""
import math
import warnings

import jax.numpy as jnp
import numpy as np

from ..._ops._common import opmath
from ._common import call, nn_op
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d

_CUBIC_A = -0.75
_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_GRAD_NAME = {"nearest": "Nearest", "nearest-exact": "NearestExact", "linear": "Linear",
              "bilinear": "Bilinear", "bicubic": "Bicubic", "trilinear": "Trilinear"}


def _source_scale(in_size, out_size, align_corners, scale):
    f32 = np.float32
    if align_corners:
        return f32(in_size - 1) / f32(out_size - 1) if out_size > 1 else f32(0)
    return f32(1.0 / scale) if scale else f32(in_size) / f32(out_size)


def _cubic_weights(t):
    a = _CUBIC_A

    def near(x):        # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):         # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _taps(in_size, out_size, mode, align_corners, scale):
    """(indices, weights): lists of per-output arrays, one entry per tap."""
    f32 = np.float32
    dst = np.arange(out_size, dtype=f32)
    s = _source_scale(in_size, out_size, align_corners, scale)
    last = in_size - 1
    if mode == "nearest":
        return [np.minimum(np.floor(dst * s).astype(np.int64), last)], None
    if mode == "nearest-exact":
        return [np.minimum(np.floor((dst + f32(0.5)) * s).astype(np.int64), last)], None
    real = dst * s if align_corners else (dst + f32(0.5)) * s - f32(0.5)
    if mode == "bicubic":
        base = np.floor(real)
        t = (real - base).astype(f32)
        base = base.astype(np.int64)
        index = [np.clip(base + k - 1, 0, last) for k in range(4)]
        return index, _cubic_weights(t)
    real = np.maximum(real, f32(0))
    low = np.minimum(np.floor(real).astype(np.int64), last)
    high = np.minimum(low + 1, last)
    frac = (real - low).astype(f32)
    return [low, high], [f32(1) - frac, frac]


@nn_op("interpolate", saves=(0,))
def _interpolate_op(x, *, sizes, mode, align_corners, scales):
    n = len(sizes)
    dtype = x.dtype
    x = x.astype(opmath(dtype))     # (float16/bfloat16: every dim in float32, rounded once)
    for j, (out_size, scale) in enumerate(zip(sizes, scales)):
        axis = x.ndim - n + j
        index, weights = _taps(x.shape[axis], out_size, mode, align_corners, scale)
        if weights is None:
            x = jnp.take(x, jnp.asarray(index[0]), axis=axis)
            continue
        shape = [1] * x.ndim
        shape[axis] = out_size
        total = None
        for idx, w in zip(index, weights):
            term = jnp.take(x, jnp.asarray(idx), axis=axis) * jnp.asarray(w, x.dtype).reshape(shape)
            total = term if total is None else total + term
        x = total
    return x.astype(dtype)


def _output_sizes(input, n, size, scale_factor, recompute_scale_factor):
    spatial = tuple(input.shape[2:])
    if size is not None:
        if scale_factor is not None:
            raise ValueError("only one of size or scale_factor should be defined")
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * n
        if len(sizes) != n:
            raise ValueError(f"Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(spatial)} and output size of {list(sizes)}. Please provide "
                             "input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                             "(o1, o2, ...,oK) format.")
        return tuple(int(s) for s in sizes), (None,) * n
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) \
        else (scale_factor,) * n
    if len(factors) != n:
        raise ValueError("Input and scale_factor must have the same number of spatial dimensions,"
                         f" but got input with spatial dimensions of {list(spatial)} and "
                         f"scale_factor of shape {scale_factor}. Please provide input tensor in "
                         "(N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) "
                         "format.")
    sizes = tuple(int(math.floor(float(s) * float(f))) for s, f in zip(spatial, factors))
    scales = (None,) * n if recompute_scale_factor else tuple(float(f) for f in factors)
    return sizes, scales


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    n = input.dim() - 2
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating "
                         "modes: linear | bilinear | bicubic | trilinear")
    sizes, scales = _output_sizes(input, n, size, scale_factor, recompute_scale_factor)
    if _DIMS.get(mode, n) != n:
        if mode != "bicubic" and 1 <= n <= 3:
            raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs "
                                      f"{_DIMS[mode] + 2}D input")
        n = 0
    if mode not in _GRAD_NAME and mode != "area" or not 1 <= n <= 3:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.dim()}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | lanczos | area | "
                                  f"nearest-exact (got {mode})")
    if min(sizes) <= 0:
        names = "DHW"[3 - n:]
        given = ", ".join(f"{a}: {b}" for a, b in zip(names, input.shape[-n:]))
        wanted = ", ".join(f"{a}: {b}" for a, b in zip(names, sizes))
        raise RuntimeError("Input and output sizes should be greater than 0, but got input "
                           f"({given}){' and' if n == 1 else ''} output ({wanted})")
    if antialias:
        raise NotImplementedError("torchlike: interpolate(antialias=True) is not supported")
    sizes, scales = _output_sizes(input, n, size, scale_factor, recompute_scale_factor)
    if mode == "area":
        pool = (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[n - 1]
        return pool(input, sizes)
    return call(_interpolate_op, (input,), f"Upsample{_GRAD_NAME[mode]}{n}DBackward0",
                sizes=sizes, mode=mode, align_corners=bool(align_corners), scales=scales)


@nn_op("pixel_shuffle", "PixelShuffleBackward0")
def _pixel_shuffle_op(x, *, factor):
    r = factor
    *lead, c, h, w = x.shape
    y = x.reshape(tuple(lead) + (c // (r * r), r, r, h, w))
    k = len(lead)
    y = y.transpose(tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return y.reshape(tuple(lead) + (c // (r * r), h * r, w * r))


@nn_op("pixel_unshuffle", "PixelUnshuffleBackward0")
def _pixel_unshuffle_op(x, *, factor):
    r = factor
    *lead, c, h, w = x.shape
    y = x.reshape(tuple(lead) + (c, h // r, r, w // r, r))
    k = len(lead)
    y = y.transpose(tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return y.reshape(tuple(lead) + (c * r * r, h // r, w // r))


def pixel_shuffle(input, upscale_factor):
    if input.shape[-3] % (upscale_factor * upscale_factor):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be "
                           "divisible by the square of upscale_factor, but input.size(-3)="
                           f"{input.shape[-3]} is not divisible by "
                           f"{upscale_factor * upscale_factor}")
    return call(_pixel_shuffle_op, (input,), factor=int(upscale_factor))


def pixel_unshuffle(input, downscale_factor):
    for name, axis in (("height", -2), ("width", -1)):
        if input.shape[axis] % downscale_factor:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by "
                               f"downscale_factor, but input.size({axis})={input.shape[axis]} "
                               f"is not divisible by {downscale_factor}")
    return call(_pixel_unshuffle_op, (input,), factor=int(downscale_factor))


# -- the deprecated spellings of interpolate ---------------------------------------------
def _deprecated(name):
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
