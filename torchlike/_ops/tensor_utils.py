"""Small ops PyTorch users reach for that compose existing ones: block_diag, fill, put,
isin, unravel_index, scalar_tensor, sum_to_size (renorm: tensor_extra.py)."""
import builtins
import math

import jax.numpy as jnp
import numpy as np

import torchlike as _torch

from .. import _dtype as dt
from ..return_types import structseq
from .._tensor import Tensor
from ._common import expose, is_float, not_implemented, require_tensor
from .dispatch import apply
from .registry import OPS, Op
from ._util import result_dtype, scalar_name


def block_diag(*tensors):
    mats = []
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t.ndim} dimensions")
        mats.append(t.reshape(1, -1) if t.ndim < 2 else t)
    dtype = result_dtype(*mats) if mats else dt.get_default_dtype()
    rows = sum(m.shape[0] for m in mats)
    cols = sum(m.shape[1] for m in mats)
    out = _torch.zeros(rows, cols, dtype=dtype)
    r = c = 0
    pieces = []
    for m in mats:
        left = _torch.zeros(m.shape[0], c, dtype=dtype)
        right = _torch.zeros(m.shape[0], cols - c - m.shape[1], dtype=dtype)
        pieces.append(_torch.cat([left, m.to(dtype), right], 1))
        r, c = r + m.shape[0], c + m.shape[1]
    return _torch.cat(pieces, 0) if pieces else out


def fill(input, value):
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.ndim} dimensions.")
    return input.clone().fill_(value)


def _put_impl(a, index, src, *, accumulate):
    flat = a.reshape(-1)
    index = jnp.where(index < 0, index + flat.shape[0], index).reshape(-1)
    src = src.reshape(-1).astype(a.dtype)
    if accumulate:             # a bool sum is a logical or
        flat = flat.at[index].max(src) if a.dtype == jnp.bool_ else flat.at[index].add(src)
    else:
        flat = flat.at[index].set(src)
    return flat.reshape(a.shape)


OPS["put"] = _put_op = Op("put", _put_impl, "PutBackward0", (1,))


def put(input, index, source, accumulate=False):
    if index._dtype is not dt.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got "
                           f"{scalar_name(index._dtype)}")
    if source._dtype is not input._dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {scalar_name(input._dtype)} and source.dtype = "
                           f"{scalar_name(source._dtype)}")
    if index.numel() != source.numel():
        raise RuntimeError(f"put_(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {source.numel()}, "
                           f"index.numel() = {index.numel()}")
    n = input.numel()
    values = np.asarray(index._data()).reshape(-1)
    bad = values[(values >= n) | (values < -n)] if values.size else values
    if bad.size:
        raise IndexError(f"out of range: tried to access index {bad[0]} on a tensor of {n} "
                         "elements.")
    return apply(_put_op, (input, index, source), (("accumulate", bool(accumulate)),))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments")
    if not isinstance(elements, Tensor):
        elements = _torch.tensor(elements, dtype=test_elements.dtype)
    if not isinstance(test_elements, Tensor):
        test_elements = _torch.tensor(test_elements, dtype=elements.dtype)
    d = result_dtype(elements, test_elements)
    a = elements.detach().to(d).reshape(-1, 1)
    b = test_elements.detach().to(d).reshape(1, -1)
    hit = (a == b).any(1).reshape(elements.shape) if b.numel() else \
        _torch.zeros(elements.shape, dtype=dt.bool)
    return hit.logical_not() if invert else hit


def unravel_index(indices, shape):
    if not isinstance(indices, Tensor):
        indices = _torch.tensor(indices)
    if is_float(indices.dtype) or indices.dtype is dt.bool:
        raise TypeError("expected 'indices' to be integer dtype, but got "
                        f"{indices.dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got "
                         f"{tuple(shape)}")
    n = math.prod(shape)
    values = np.asarray(indices._data())
    if values.size and ((values >= n) | (values < -n)).any():
        raise ValueError(f"'indices' must be in range [{-n}, {n - 1}]")
    values = np.where(values < 0, values + n, values)
    coords = np.unravel_index(values, shape) if shape else ()
    from .._factories import tensor_from_numpy
    return tuple(tensor_from_numpy(np.asarray(c, np.int64), dt.int64, indices.device)
                 for c in coords)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False, **_):
    return _torch.tensor(s, dtype=dtype or dt.get_default_dtype(), device=device,
                         requires_grad=requires_grad)


def sum_to_size(self, *size):
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
    lead = self.ndim - len(size)
    if lead < 0 or any(s != 1 and s != n for s, n in zip(size, self.shape[lead:])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size "
                           f"{{{list(self.shape)}}}.")
    if not size:           # PyTorch sums to a 0-d shape even from 0-d (bool -> int64)
        return self.sum()
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size)
                                      if s == 1 and self.shape[lead + i] != 1)
    out = self.sum(dims, keepdim=True) if dims else self
    return out.reshape(size) if lead else out


expose("block_diag", block_diag, method=False, inplace=False, out=False)
expose("fill", fill, inplace=False, out=False)
expose("put", put, inplace=True, out=False)
expose("isin", isin, method=False, inplace=False)
expose("unravel_index", unravel_index, method=False, inplace=False, out=False)
expose("scalar_tensor", scalar_tensor, method=False, inplace=False, out=False)
expose("sum_to_size", sum_to_size, function=False, inplace=False)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """Uninitialized values (zeros here) seen through the given strides."""
    size, stride = tuple(size), tuple(stride)
    extent = 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0
    out = _torch.zeros(extent, dtype=dtype, device=device).as_strided(size, stride)
    return out.requires_grad_(True) if requires_grad else out


def new_empty_strided(self, size, stride, *, dtype=None, layout=None, device=None,
                      requires_grad=False, pin_memory=False):
    return empty_strided(size, stride, dtype=dtype or self.dtype, device=device or self.device,
                         requires_grad=requires_grad)


expose("empty_strided", empty_strided, method=False, inplace=False, out=False)
expose("new_empty_strided", new_empty_strided, function=False, inplace=False)


def constant_pad_nd(input, pad, value=0):
    """The kernel behind F.pad's constant mode."""
    return _torch.nn.functional.pad(input, list(pad), mode="constant", value=value)


expose("constant_pad_nd", constant_pad_nd, method=False, inplace=False, out=False)


# -- igamma, index_reduce, nonzero_static, empty_permuted, histogram, cdouble ----------------
def _igamma_impl(a, x, *, dtype, upper):
    import jax.scipy.special as jsp
    a, x = a.astype(dtype), x.astype(dtype)
    return jsp.gammaincc(a, x) if upper else jsp.gammainc(a, x)


OPS["igamma"] = _igamma_op = Op("igamma", _igamma_impl, "IgammaBackward0", (0, 1))


def _igamma(name, upper):
    def fn(input, other):
        require_tensor(name, input, "input", 1)
        require_tensor(name, other, "other", 2)
        d = result_dtype(input, other)
        if not d.is_floating_point:
            from ._common import not_implemented
            raise not_implemented(f"{name}_cpu", d)
        return apply(_igamma_op, (input, other), (("dtype", d.np), ("upper", upper)),
                     "IgammacBackward0" if upper else "IgammaBackward0")
    fn.__name__ = name
    return fn


expose("igamma", _igamma("igamma", False))
expose("igammac", _igamma("igammac", True))


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError("index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    if input.ndim == 0:           # a 0-d tensor is indexed as one element
        return index_reduce(input.reshape(1), 0, index.reshape(-1), source.reshape(-1), reduce,
                            include_self=include_self).reshape(())
    d = dim % input.ndim
    shape = [1] * source.ndim
    shape[d] = -1
    spread = index.reshape(shape).expand(source.shape) if source.ndim else index
    return input.scatter_reduce(d, spread, source, reduce, include_self=include_self)


expose("index_reduce", index_reduce, out=False)


def nonzero_static(input, *, size, fill_value=-1):
    found = input.nonzero()
    if found.shape[0] >= size:
        return found[:size]
    pad = _torch.full((size - found.shape[0], input.ndim), fill_value, dtype=dt.int64)
    return _torch.cat([found, pad], 0)


expose("nonzero_static", nonzero_static, inplace=False, out=False)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False):
    """Uninitialized values (zeros here) laid out in memory in physical_layout's order."""
    size, layout_ = tuple(size), list(physical_layout)
    if len(size) != len(layout_):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the "
                           f"physical_layout; i.e. len(size) = {len(size)} is not equal to "
                           f"len(physical_layout) = {len(layout_)}")
    for i, d in enumerate(layout_):
        if not 0 <= d < len(size):
            raise RuntimeError(f"Dimension out of range (expected to be between 0 and "
                               f"{len(size) - 1}, but got {d} at index {i}).  NB: negative dims "
                               "not currently supported; file an issue if you want it.")
    if len(set(layout_)) != len(layout_):
        raise RuntimeError("Duplicate dim not allowed")
    physical = _torch.zeros([size[i] for i in physical_layout], dtype=dtype, device=device)
    inverse = [list(physical_layout).index(i) for i in range(len(size))]
    out = physical.permute(inverse)
    return out.requires_grad_(True) if requires_grad else out


expose("empty_permuted", empty_permuted, method=False, inplace=False, out=False)

_Histogram = structseq("histogram", ("hist", "bin_edges"))


def histogram(input, bins=100, *, range=None, weight=None, density=False):  # noqa: A002
    values = np.asarray(input.detach())
    edges = np.asarray(bins.detach()) if isinstance(bins, Tensor) else bins
    w = None if weight is None else np.asarray(weight.detach())
    lo_hi = None
    if range is not None:
        lo_hi = tuple(range)
    elif not isinstance(bins, Tensor) and values.size:
        lo_hi = (values.min(), values.max())
    hist, edges = np.histogram(values, edges, range=lo_hi, weights=w, density=density)
    from .._factories import tensor_from_numpy
    return _Histogram(tensor_from_numpy(hist.astype(values.dtype), input.dtype, input.device),
                      tensor_from_numpy(edges.astype(values.dtype), input.dtype, input.device))


expose("histogram", histogram, inplace=False, out=False)

_Histogramdd = structseq("histogramdd", ("hist", "bin_edges"))


def histogramdd(input, bins=10, *, range=None, weight=None, density=False):  # noqa: A002
    """Counts of the rows of `input` (..., D) in a D-dimensional grid: NumPy's binning,
    whose edge rules (an empty or constant dimension widened to a unit range) are
    PyTorch's."""
    if not input.dtype.is_floating_point:
        raise not_implemented("histogramdd", input._dtype)
    dims = input.shape[-1]
    if isinstance(bins, (list, tuple)) and len(bins) != dims:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost "
                           "dimension of the input.")
    if weight is not None and tuple(weight.shape) != tuple(input.shape[:-1]):
        raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have the "
                           "same shape as the input tensor excluding its innermost dimension, "
                           f"but got input with shape {list(input.shape)} and weight with "
                           f"shape {list(weight.shape)}")
    values = np.asarray(input.detach()).reshape(-1, dims)
    if isinstance(bins, (list, tuple)):
        bins = [np.asarray(b.detach()) if isinstance(b, Tensor) else b for b in bins]
    w = None if weight is None else np.asarray(weight.detach()).reshape(-1)
    ranges = None if range is None else [tuple(range[2 * i:2 * i + 2])
                                         for i in builtins.range(dims)]
    hist, edges = np.histogramdd(values, bins, range=ranges, weights=w, density=density)
    from .._factories import tensor_from_numpy

    def ours(a):
        return tensor_from_numpy(a.astype(values.dtype), input.dtype, input.device)
    return _Histogramdd(ours(hist), tuple(ours(e) for e in edges))


expose("histogramdd", histogramdd, method=False, inplace=False, out=False)
Tensor.cdouble = lambda self, memory_format=None: self.to(dt.complex128)


# -- torch.grid_sampler*: F.grid_sample with its modes given as aten's integer codes ---------
_GRID_MODES = ("bilinear", "nearest", "bicubic")
_GRID_PADDINGS = ("zeros", "border", "reflection")


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    from ..nn.functional import grid_sample
    return grid_sample(input, grid, _GRID_MODES[interpolation_mode],
                       _GRID_PADDINGS[padding_mode], bool(align_corners))


for _name in ("grid_sampler", "grid_sampler_2d", "grid_sampler_3d"):
    expose(_name, grid_sampler, method=False, inplace=False, out=False)
