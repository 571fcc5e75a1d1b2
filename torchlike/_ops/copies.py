"""The view-free `*_copy` forms, the `*_scatter` inverses of views, and splits by sizes.

PyTorch's `x_copy(t, ...)` is `x(t, ...).clone()`: the same values, never aliasing; its
`x_scatter(t, src, ...)` returns a copy of t with the view `x(t, ...)` replaced by src.
Both are written on the existing views, so values, dtypes and gradients are the views'.
"""
import torchlike as _torch

from .._tensor import Tensor
from ._common import expose
from ._util import wrap_dim


def _copy_of(view_name, method=True):
    def copy(input, *args, **kwargs):
        view = getattr(input, view_name) if method else getattr(_torch, view_name)
        result = view(*args, **kwargs) if method else view(input, *args, **kwargs)
        if isinstance(result, (tuple, list)):
            return tuple(r.clone(memory_format=_torch.contiguous_format) for r in result)
        return result.clone(memory_format=_torch.contiguous_format)
    copy.__name__ = view_name + "_copy"
    return copy


for _view in ("expand", "diagonal", "permute", "squeeze", "unsqueeze", "transpose", "t",
              "unfold", "unbind", "view", "as_strided", "narrow", "select", "detach"):
    expose(_view + "_copy", _copy_of(_view), method=False, inplace=False)
expose("alias_copy", lambda input: input.clone(memory_format=_torch.contiguous_format),
       method=False, inplace=False)


def split_with_sizes(input, split_sizes, dim=0):
    d = wrap_dim(dim, input.ndim)
    if sum(split_sizes) != input.shape[d]:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to "
                           f"{input.shape[d]} (input tensor's size at dimension {dim}), but got "
                           f"split_sizes={list(split_sizes)}")
    return _torch.split(input, list(split_sizes), dim)


expose("split_with_sizes", split_with_sizes, inplace=False, out=False)
expose("split_with_sizes_copy", _copy_of("split_with_sizes", method=False), method=False,
       inplace=False)
# unsafe_* differ from split/chunk only in skipping autograd's view checks
expose("unsafe_split", lambda input, split_size, dim=0: tuple(
    t.clone() for t in _torch.split(input, split_size, dim)), inplace=False, out=False)
expose("unsafe_chunk", lambda input, chunks, dim=0: tuple(
    t.clone() for t in _torch.chunk(input, chunks, dim)), inplace=False, out=False)
expose("unsafe_split_with_sizes", lambda input, split_sizes, dim=0: tuple(
    t.clone() for t in split_with_sizes(input, split_sizes, dim)), inplace=False, out=False)


# -- *_scatter: a copy with one view replaced ---------------------------------------------------
def _check_src(name, view, src):
    if not isinstance(src, Tensor):
        raise TypeError(f"{name}(): argument 'src' (position 2) must be Tensor, not "
                        f"{type(src).__name__}")
    if tuple(view.shape) != tuple(src.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(view.shape)}")


def _scatter_into(name, select):
    """x_scatter(input, src, *args): input with select(input, *args) replaced by src,
    as a differentiable functional write (through a clone's view)."""
    def scatter(input, src, *args, **kwargs):
        _check_src(name, select(input.detach(), *args, **kwargs), src)
        out = input.clone()
        view = select(out, *args, **kwargs)
        view.copy_(src)
        return out
    scatter.__name__ = name
    return scatter


def _slice(t, dim=0, start=None, end=None, step=1):
    d = wrap_dim(dim, t.ndim)
    return t[(slice(None),) * d + (slice(start, end, step),)]


expose("select_scatter", _scatter_into("select_scatter", lambda t, dim, index: t.select(dim, index)),
       inplace=False)
expose("slice_scatter", _scatter_into("slice_scatter", _slice), inplace=False)
expose("diagonal_scatter", _scatter_into(
    "diagonal_scatter", lambda t, offset=0, dim1=0, dim2=1: t.diagonal(offset, dim1, dim2)),
    inplace=False)
expose("as_strided_scatter", _scatter_into(
    "as_strided_scatter", lambda t, size, stride, storage_offset=None:
    t.as_strided(size, stride, storage_offset)), inplace=False)
