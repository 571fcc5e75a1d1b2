"""F.unfold (im2col) and F.fold (col2im): a gather of every sliding block through a
static index map, and its transpose, a scatter-add of the blocks into the image."""
import functools

import jax.numpy as jnp
import numpy as np

from ._common import call, nn_op


def _pair_arg(value, what):
    pair = tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value),) * 2
    if len(pair) != 2:
        raise RuntimeError(f"It is expected {what} equals to 2, but got size {len(pair)}")
    return pair


def _blocks(size, kernel, dilation, padding, stride):
    """Sliding blocks per spatial dim of a (padded) image of `size`."""
    return tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                 for s, k, d, p, st in zip(size, kernel, dilation, padding, stride))


@functools.lru_cache(maxsize=256)
def _block_index(padded, kernel, dilation, stride, blocks):
    """(kh*kw, L) flat positions in the padded image of each kernel element of each block."""
    (kh, kw), (dh, dw), (sh, sw), (bh, bw) = kernel, dilation, stride, blocks
    rows = (np.arange(bh) * sh)[None, :, None] + (np.arange(kh) * dh)[:, None, None]
    cols = (np.arange(bw) * sw)[None, None, :] + (np.arange(kw) * dw)[:, None, None]
    flat = rows[:, None, :, :] * padded[1] + cols[None, :, :, :]    # (kh, kw, bh, bw)
    return flat.reshape(kh * kw, bh * bw)


@nn_op("im2col")
def _unfold_op(x, *, kernel, dilation, padding, stride):
    batched = x.ndim == 4
    x = x if batched else x[None]
    n, c, h, w = x.shape
    (ph, pw) = padding
    x = jnp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    padded = x.shape[2:]
    blocks = _blocks((h, w), kernel, dilation, padding, stride)
    index = _block_index(padded, kernel, dilation, stride, blocks)
    cols = x.reshape(n, c, padded[0] * padded[1])[:, :, index]  # (n, c, kh*kw, L); n may be 0
    cols = cols.reshape(n, c * index.shape[0], index.shape[1])
    return cols if batched else cols[0]


@nn_op("col2im")
def _fold_op(cols, *, output_size, kernel, dilation, padding, stride):
    batched = cols.ndim == 3
    cols = cols if batched else cols[None]
    n, ckk, length = cols.shape
    kk = kernel[0] * kernel[1]
    (ph, pw) = padding
    padded = (output_size[0] + 2 * ph, output_size[1] + 2 * pw)
    blocks = _blocks(output_size, kernel, dilation, padding, stride)
    index = _block_index(padded, kernel, dilation, stride, blocks)
    image = jnp.zeros((n, ckk // kk, padded[0] * padded[1]), cols.dtype)
    image = image.at[:, :, index].add(cols.reshape(n, ckk // kk, kk, length))
    image = image.reshape(n, ckk // kk, *padded)[:, :, ph:ph + output_size[0],
                                                  pw:pw + output_size[1]]
    return image if batched else image[0]


def _check_geometry(kernel, dilation, padding, stride):
    checks = (("kernel size", "kernel", kernel), ("dilation", "dilation", dilation),
              ("stride", "stride", stride))
    for what, label, (a, b) in checks:
        if a <= 0 or b <= 0:
            raise RuntimeError(f"{what} should be greater than zero, but got {label}_height: "
                               f"{a} {label}_width: {b}")
    if padding[0] < 0 or padding[1] < 0:
        raise RuntimeError("padding should be non-negative, but got pad_height: "
                           f"{padding[0]} pad_width: {padding[1]}")


def _geometry(kernel_size, dilation, padding, stride):
    geometry = (_pair_arg(kernel_size, "kernel_size"), _pair_arg(dilation, "dilation"),
                _pair_arg(padding, "padding"), _pair_arg(stride, "stride"))
    _check_geometry(*geometry)
    return geometry


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    kernel, dilation, padding, stride = _geometry(kernel_size, dilation, padding, stride)
    if input.dim() not in (3, 4) or 0 in input.shape[-3:]:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size "
                           f"and other non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    blocks = _blocks(input.shape[-2:], kernel, dilation, padding, stride)
    if blocks[0] < 1 or blocks[1] < 1:
        raise RuntimeError(f"Given input with spatial size {tuple(input.shape[-2:])}, "
                           f"kernel_size={kernel}, dilation={dilation}, padding={padding}, "
                           f"calculated shape of the array of sliding blocks as {blocks}, but "
                           "its components must be at least one.")
    return call(_unfold_op, (input,), "Im2ColBackward0", kernel=kernel, dilation=dilation,
                padding=padding, stride=stride)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    output_size = _pair_arg(output_size, "output_size")
    kernel, dilation, padding, stride = _geometry(kernel_size, dilation, padding, stride)
    if input.dim() not in (2, 3) or 0 in input.shape[-2:]:
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           "batch size and non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    channels_kk = input.shape[-2]
    if channels_kk % (kernel[0] * kernel[1]):
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={channels_kk} and "
                           f"kernel_size={kernel}.")
    blocks = _blocks(output_size, kernel, dilation, padding, stride)
    if blocks[0] < 1 or blocks[1] < 1:
        raise RuntimeError(f"Given output_size={output_size}, kernel_size={kernel}, "
                           f"dilation={dilation}, padding={padding}, stride={stride}, "
                           f"calculated shape of the array of sliding blocks as {blocks}, but "
                           "its components must be at least one.")
    if input.shape[-1] != blocks[0] * blocks[1]:
        raise RuntimeError(f"Given output_size={output_size}, kernel_size={kernel}, "
                           f"dilation={dilation}, padding={padding}, stride={stride}, expected "
                           "size of input's dimension 2 to match the calculated number of "
                           f"sliding blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, "
                           f"but got input.size(2)={input.shape[-1]}.")
    return call(_fold_op, (input,), "Col2ImBackward0", output_size=output_size, kernel=kernel,
                dilation=dilation, padding=padding, stride=stride)
