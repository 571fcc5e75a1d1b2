"""Fractional max pooling (Graham 2014): windows of a fixed size whose starts advance by a
fractional stride, placed by one random sample per (batch, channel) and dim."""
import jax.numpy as jnp
import numpy as np

from ._common import call, nn_op, ntuple


def _starts(sample, in_size, out_size, pool):
    """Window starts of one dim (PyTorch's rule, in double precision)."""
    i = jnp.arange(out_size, dtype=jnp.float64)
    if out_size > 1:
        alpha = (in_size - pool) / (out_size - 1)
        u = sample.astype(jnp.float64)[..., None]
        starts = (jnp.floor((i + u) * alpha) - jnp.floor(u * alpha)).astype(jnp.int64)
    else:
        starts = jnp.zeros(sample.shape + (out_size,), jnp.int64)
    return starts.at[..., out_size - 1].set(in_size - pool)


@nn_op("fractional_max_pool")
def _fractional_op(x, samples, *, kernel, output_size):
    n = len(kernel)
    batched = x.ndim == n + 2
    x = x if batched else x[None]
    samples = samples[: x.shape[0]]
    spatial = x.shape[2:]
    # samples[..., 0] places the last dim's windows, samples[..., 1] the one before ...
    flat = 0
    for d in range(n):
        start = _starts(samples[..., n - 1 - d], spatial[d], output_size[d], kernel[d])
        pos = start[..., :, None] + jnp.arange(kernel[d])          # (N, C, out_d, k_d)
        shape = [1] * (2 * n)
        shape[d], shape[n + d] = output_size[d], kernel[d]
        pos = pos.reshape(pos.shape[:2] + tuple(shape))
        flat = flat * spatial[d] + pos
    lead = x.shape[:2]
    flat = jnp.broadcast_to(flat, lead + tuple(output_size) + tuple(kernel))
    flat = flat.reshape(lead + (-1, int(np.prod(kernel))))
    values = jnp.take_along_axis(x.reshape(lead + (-1, 1)), flat.reshape(lead + (-1, 1)),
                                 axis=2).reshape(flat.shape)
    best = jnp.argmax(values, axis=-1)[..., None]
    index = jnp.take_along_axis(flat, best, axis=-1)[..., 0]
    out = jnp.take_along_axis(x.reshape(lead + (-1,)), index.reshape(lead + (-1,)), axis=2)
    out = out.reshape(lead + tuple(output_size))
    index = index.reshape(lead + tuple(output_size))
    return (out, index) if batched else (out[0], index[0])


def _fractional(n, input, kernel_size, output_size, output_ratio, return_indices,
                random_samples):
    import torchlike
    name = f"fractional_max_pool{n}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an "
                         "output_ratio")
    kernel = ntuple(kernel_size, n)
    spatial = tuple(input.shape[-n:])
    if output_size is None:
        ratio = ntuple_float(output_ratio, n)
        output_size = tuple(int(s * r) for s, r in zip(spatial, ratio))
    output_size = ntuple(output_size, n)
    labels = ("time", "height", "width")[3 - n:]
    for label, out, k, size in zip(labels, output_size, kernel, spatial):
        if out + k - 1 > size:
            raise RuntimeError(f"{name}(): pool {label} {k} too large relative to input "
                               f"{label} {size}")
    if random_samples is None:
        batch = 1 if input.dim() == n + 1 else input.shape[0]
        random_samples = torchlike.rand(batch, input.shape[-n - 1], n, dtype=input.dtype,
                                        device=input.device)
    out, index = call(_fractional_op, (input, random_samples),
                      f"FractionalMaxPool{n}DBackward0", kernel=kernel,
                      output_size=tuple(output_size))
    return (out, index) if return_indices else out


def ntuple_float(value, n):
    return tuple(float(v) for v in value) if isinstance(value, (tuple, list)) \
        else (float(value),) * n


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    return _fractional(2, input, kernel_size, output_size, output_ratio, return_indices,
                       _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    return _fractional(3, input, kernel_size, output_size, output_ratio, return_indices,
                       _random_samples)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None,
                                       output_ratio=None, return_indices=True,
                                       _random_samples=None):
    return fractional_max_pool2d(input, kernel_size, output_size, output_ratio, True,
                                 _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None,
                                       output_ratio=None, return_indices=True,
                                       _random_samples=None):
    return fractional_max_pool3d(input, kernel_size, output_size, output_ratio, True,
                                 _random_samples)
