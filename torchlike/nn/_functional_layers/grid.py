"""F.affine_grid and F.grid_sample (bilinear and nearest, 2-D and 3-D): sampling points
are unnormalized to pixel coordinates, padded by PyTorch's rule, and read with gathers
whose weights carry the gradient to the grid."""
import itertools
import warnings

import jax.numpy as jnp
import numpy as np

from ._common import HIGHEST, call, nn_op

# PyTorch's public name -> enum tables
GRID_SAMPLE_INTERPOLATION_MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}
GRID_SAMPLE_PADDING_MODES = {"zeros": 0, "border": 1, "reflection": 2}

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the "
                  "old behavior is desired. See the documentation of grid_sample for details.")


# -- affine_grid -------------------------------------------------------------------------
def _base_coordinates(size, align_corners):
    """Normalized pixel centres of one axis: -1..1 (or shrunk by (size-1)/size)."""
    if size <= 1:
        return np.zeros((size,), np.float64)
    steps = np.linspace(-1.0, 1.0, size)
    return steps if align_corners else steps * (size - 1) / size


@nn_op("affine_grid")
def _affine_grid_op(theta, *, spatial, align_corners):
    axes = [_base_coordinates(s, align_corners) for s in spatial]      # (D,) H, W
    mesh = np.meshgrid(*axes, indexing="ij")
    # homogeneous points ordered x, y(, z): the last spatial axis is x
    points = np.stack([m.reshape(-1) for m in reversed(mesh)] + [np.ones(mesh[0].size)], -1)
    grid = jnp.einsum("pk,njk->npj", points.astype(theta.dtype), theta, precision=HIGHEST)
    return grid.reshape((theta.shape[0],) + tuple(spatial) + (len(spatial),))


def affine_grid(theta, size, align_corners=None):
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    given, size = size, tuple(int(s) for s in size)
    if len(size) in (4, 5):
        n = len(size) - 2
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (n, n + 1):
            raise ValueError(f"Expected a batch of {n}D affine matrices of shape "
                             f"Nx{n}x{n + 1} for size {given}. Got {theta.shape}.")
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {given}.")
    spatial = size[2:]
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {given}")
    return call(_affine_grid_op, (theta,), "AffineGridGeneratorBackward0", spatial=spatial,
                align_corners=bool(align_corners))


# -- grid_sample -------------------------------------------------------------------------
def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, twice_low, twice_high):
    """Fold `coord` back into [low, high] by mirror reflections (low/high given doubled)."""
    if twice_low == twice_high:
        return jnp.zeros_like(coord)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    distance = jnp.abs(coord - low)
    extra = jnp.fmod(distance, span)
    flips = jnp.floor(distance / span)
    return jnp.where(jnp.fmod(flips, 2) == 0, extra + low, span - extra + low)


def _source_coordinate(coord, size, padding_mode, align_corners):
    coord = _unnormalize(coord, size, align_corners)
    if padding_mode == "border":
        coord = jnp.clip(coord, 0, size - 1)
    elif padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        coord = jnp.clip(coord, 0, size - 1)
    return coord


def _gather(flat, spatial, indices):
    """flat (N, C, prod(spatial)) read at integer `indices` (one (N, P) array per dim), with
    zeros where a point falls outside the image."""
    inside = True
    position = 0
    for index, size in zip(indices, spatial):
        inside = inside & (index >= 0) & (index < size)
        position = position * size + jnp.clip(index, 0, size - 1)
    values = jnp.take_along_axis(flat, position[:, None, :].astype(jnp.int32), axis=2)
    return jnp.where(inside[:, None, :], values, 0)


@nn_op("grid_sample")
def _grid_sample_op(x, grid, *, mode, padding_mode, align_corners):
    n, c = x.shape[:2]
    spatial = x.shape[2:]
    out_shape = grid.shape[1:-1]
    points = grid.reshape(n, -1, len(spatial))
    # the grid's last axis is (x, y[, z]): the reverse of the spatial dims (D,) H, W
    coords = [_source_coordinate(points[..., len(spatial) - 1 - d], size, padding_mode,
                                 align_corners) for d, size in enumerate(spatial)]
    flat = x.reshape(n, c, -1)
    if mode == "nearest":
        out = _gather(flat, spatial, [jnp.round(cd).astype(jnp.int32) for cd in coords])
    else:
        lows = [jnp.floor(cd) for cd in coords]
        fractions = [cd - lo for cd, lo in zip(coords, lows)]
        out = 0
        for corner in itertools.product((0, 1), repeat=len(spatial)):
            weight = 1
            for up, frac in zip(corner, fractions):
                weight = weight * (frac if up else 1 - frac)
            index = [(lo + up).astype(jnp.int32) for lo, up in zip(lows, corner)]
            out = out + _gather(flat, spatial, index) * weight[:, None, :]
    return out.reshape((n, c) + tuple(out_shape)).astype(x.dtype)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if mode == "bicubic":
        raise NotImplementedError("torchlike: grid_sample(mode='bicubic') is not implemented; "
                                  "use mode='bilinear' or 'nearest'")
    if input.dim() not in (4, 5) or grid.dim() != input.dim():
        raise RuntimeError(f"grid_sampler(): expected {input.dim()}D input and grid with same "
                           f"number of dimensions, but got input with sizes {list(input.shape)} and "
                           f"grid with sizes {list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError("grid_sampler(): expected grid and input to have same batch size, "
                           f"but got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if grid.shape[-1] != input.dim() - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.dim() - 2} in "
                           f"last dimension, but got grid with sizes {list(grid.shape)}")
    grad_fn = f"GridSampler{input.dim() - 2}DBackward0"
    return call(_grid_sample_op, (input, grid), grad_fn, mode=mode, padding_mode=padding_mode,
                align_corners=bool(align_corners))
