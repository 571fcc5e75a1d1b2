"""Pooling relatives: the *_with_indices names, max_unpool (a scatter of each pooled
value back to the position its index names), power-average pooling, local response
normalization and channel shuffle."""
import functools

import jax
import jax.numpy as jnp
import numpy as np

from ..._ops._util import scalar_name
from ._common import call, nn_op, ntuple
from .pooling import (adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d,
                      avg_pool1d, avg_pool2d, avg_pool3d, max_pool1d, max_pool2d, max_pool3d)


# -- PyTorch's explicit names for return_indices=True -------------------------------------
def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool3d(input, output_size, True)


# -- max_unpool --------------------------------------------------------------------------
@nn_op("max_unpool")
def _max_unpool_op(x, indices, *, out_spatial):
    lead = x.shape[:-len(out_spatial)]
    rows = int(np.prod(lead))
    flat_x = x.reshape(rows, -1)
    flat_i = indices.reshape(rows, -1)
    size = int(np.prod(out_spatial))
    return _scatter_rows(flat_x, flat_i, size).reshape(lead + tuple(out_spatial))


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _scatter_rows(flat_x, flat_i, size):
    out = jnp.zeros((flat_x.shape[0], size), flat_x.dtype)
    return out.at[jnp.arange(flat_x.shape[0])[:, None], flat_i].set(flat_x, mode="drop")


def _scatter_rows_fwd(flat_x, flat_i, size):
    return _scatter_rows(flat_x, flat_i, size), flat_i


def _scatter_rows_bwd(size, flat_i, g):
    # PyTorch's backward reads each input's gradient at its index, also where two inputs
    # share an index and only one value was kept (the derivative of the set would be 0)
    inside = (flat_i >= 0) & (flat_i < size)
    picked = jnp.take_along_axis(g, jnp.clip(flat_i, 0, size - 1), axis=1)
    return jnp.where(inside, picked, 0).astype(g.dtype), None


_scatter_rows.defvjp(_scatter_rows_fwd, _scatter_rows_bwd)


def _unpool_output_size(input, n, kernel, stride, padding, output_size):
    spatial = input.shape[-n:]
    default = [(spatial[d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(n)]
    if output_size is None:
        return tuple(default)
    given = output_size
    sizes = list(output_size)
    if len(sizes) == n + 2:
        sizes = sizes[2:]
    if len(sizes) != n:
        raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} "
                         f"elements, but it has a length of '{len(sizes)}'")
    for d in range(n):
        low, high = default[d] - stride[d], default[d] + stride[d]
        if not low < sizes[d] < high:
            raise ValueError(f'invalid output_size "{given}" (dim {d} must be between {low} '
                             f'and {high})')
    return tuple(int(s) for s in sizes)


def _max_unpool(n, input, indices, kernel_size, stride, padding, output_size, grad_fn):
    kernel = ntuple(kernel_size, n)
    stride = kernel if stride is None else ntuple(stride, n)
    padding = ntuple(padding, n)
    if indices.dtype.name != "int64":
        raise RuntimeError("elements in indices should be type int64 but got: "
                           + scalar_name(indices.dtype))
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError("Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: "
                           f"{list(indices.shape)}")
    out_spatial = _unpool_output_size(input, n, kernel, stride, padding, output_size)
    if input.device.type == "cpu" and indices.numel():
        # PyTorch's CPU kernel checks every index (the accelerator one cannot)
        flat = np.asarray(indices.detach().numpy()).reshape(-1)
        invalid = (flat < 0) | (flat >= int(np.prod(out_spatial)))
        if invalid.any():     # the first bad index in memory order, as PyTorch's loop meets it
            raise RuntimeError(f"Found an invalid max index: {flat[np.argmax(invalid)]} (output "
                               f"volumes are of size {'x'.join(str(s) for s in out_spatial)})")
    return call(_max_unpool_op, (input, indices), grad_fn, out_spatial=out_spatial)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size,
                       "SqueezeBackward1")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size,
                       "MaxUnpool2DBackward0")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size,
                       "MaxUnpool3DBackward0")


# -- power-average pooling (composed from public ops, so grad_fn names are PyTorch's) ------
def _lp_pool(avg_pool, n, input, norm_type, kernel_size, stride, ceil_mode):
    kernel = ntuple(kernel_size, n)
    if stride is not None:
        out = avg_pool(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    else:
        out = avg_pool(input.pow(norm_type), kernel, padding=0, ceil_mode=ceil_mode)
    # sum over the window = mean * window size; sign * relu(abs) keeps -0 and NaN as torch
    return (out.sign() * out.abs().relu()).mul(int(np.prod(kernel))).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(avg_pool1d, 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(avg_pool2d, 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(avg_pool3d, 3, input, norm_type, kernel_size, stride, ceil_mode)


# -- local response normalization ---------------------------------------------------------
def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    from .. import functional as F
    dim = input.dim()
    if dim < 3:
        # PyTorch's message carries a run of spaces from a line continuation
        raise ValueError("Expected 3D or higher dimensionality                          "
                         f"input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    # average of squares over a window of `size` channels centred on each channel
    squares = input.mul(input)
    before, after = size // 2, (size - 1) // 2
    if dim == 3:
        window = F.pad(squares.unsqueeze(1), (0, 0, before, after))
        div = avg_pool2d(window, (size, 1), stride=1).squeeze(1)
    else:
        sizes = input.size()
        window = squares.view(sizes[0], 1, sizes[1], sizes[2], -1)
        window = F.pad(window, (0, 0, 0, 0, before, after))
        div = avg_pool3d(window, (size, 1, 1), stride=1).squeeze(1).view(sizes)
    return input / div.mul(alpha).add(k).pow(beta)


# -- channel shuffle ----------------------------------------------------------------------
@nn_op("channel_shuffle")
def _channel_shuffle_op(x, *, groups):
    n, c = x.shape[:2]
    rest = x.shape[2:]
    grouped = x.reshape((n, groups, c // groups) + rest)
    return jnp.swapaxes(grouped, 1, 2).reshape(x.shape)


def channel_shuffle(input, groups):
    if input.dim() <= 2:
        raise RuntimeError("channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError("Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    if input.shape[1] % groups:
        raise RuntimeError("Number of channels must be divisible by groups. Got "
                           f"{input.shape[1]} channels and {groups} groups.")
    return call(_channel_shuffle_op, (input,), "ChannelShuffleBackward0", groups=int(groups))


native_channel_shuffle = channel_shuffle
