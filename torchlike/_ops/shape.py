"""Joining, splitting and rearranging: cat, stack and the *stack family, tensor_split and
the *split family, flip, roll, rot90, repeat, tile, repeat_interleave, broadcast_tensors,
atleast_*d, meshgrid.

Where PyTorch returns views (tensor_split, broadcast_tensors, meshgrid, atleast_*d)
torchlike does too, through the view ops of views.py.
"""
import builtins

import jax.numpy as jnp

from .. import _dtype as dt
from .._host_ops import joined_on_host
from .._lazy import Deferred
from .._tensor import Tensor
from ._common import expose
from .dispatch import apply
from .registry import Op, OPS
from ._util import (broadcast_shapes, python_type_name, result_dtype, scalar_name, size_args,
                    wrap_dim, wrap_dims)
from . import views


# -- cat and stack ----------------------------------------------------------------------------
def _cat_impl(*arrays, dim, dtype, skip):
    return jnp.concatenate([a.astype(dtype) for i, a in enumerate(arrays) if i not in skip],
                           axis=dim)


OPS["cat"] = _cat_op = Op("cat", _cat_impl, "CatBackward0", ())


def _tensor_list(tensors):
    """`tensors` as a list, each a Tensor (PyTorch's TypeError names the first that is
    not)."""
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{python_type_name(t)}")
    return tensors


def cat(tensors, dim=0, *, axis=None):
    if axis is not None:
        dim = axis
    if isinstance(tensors, Tensor):
        raise TypeError("cat(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = _tensor_list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    # legacy rule: 1-d empty tensors are skipped (they still get an empty gradient)
    skip = tuple(i for i, t in enumerate(tensors) if t.ndim == 1 and t.shape[0] == 0)
    if len(skip) == len(tensors):
        skip = skip[1:]
    ref = next(t for i, t in enumerate(tensors) if i not in skip)
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    d = wrap_dim(dim, ref.ndim)
    for i, t in enumerate(tensors):
        if i in skip:
            continue
        if t.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and {t.ndim}")
        for k in range(ref.ndim):
            if k != d and t.shape[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected "
                                   f"size {ref.shape[k]} but got size {t.shape[k]} for tensor "
                                   f"number {i} in the list.")
    params = (("dim", d), ("dtype", result_dtype(*tensors).np), ("skip", skip))
    joined = _joined_on_host(_cat_op, tensors, params)
    return apply(_cat_op, tensors, params) if joined is None else joined


def _stack_impl(*arrays, dim, dtype):
    return jnp.stack([a.astype(dtype) for a in arrays], axis=dim)


OPS["stack"] = _stack_op = Op("stack", _stack_impl, "StackBackward0", ())


def stack(tensors, dim=0):
    tensors = _tensor_list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._shape
    d = wrap_dim(dim, len(shape) + 1)
    for i, t in enumerate(tensors):     # (a data loader's collate stacks every sample)
        if t._shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(shape)} at entry 0 and {list(t._shape)} at entry {i}")
    params = (("dim", d), ("dtype", result_dtype(*tensors).np))
    joined = _joined_on_host(_stack_op, tensors, params)
    return apply(_stack_op, tensors, params) if joined is None else joined


def _joined_on_host(op, tensors, params):
    """joined_on_host, skipped at once where a tensor's storage is still pending (which
    it refuses after checks that cost about a microsecond: an LSTM's state stacks, a
    concatenation inside a model's forward)."""
    for t in tensors:
        if type(t._storage.array) is Deferred:
            return None
    return joined_on_host(op, tensors, params)


def _non_empty(name, tensors):
    if len(tensors) == 0:
        raise RuntimeError(f"{name} expects a non-empty TensorList")


def hstack(tensors):
    _non_empty("hstack", tensors)
    tensors = atleast_1d(*tensors) if len(tensors) != 1 else (atleast_1d(tensors[0]),)
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    _non_empty("vstack", tensors)
    return cat([atleast_2d(t) for t in tensors], 0)


def dstack(tensors):
    _non_empty("dstack", tensors)
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    _non_empty("column_stack", tensors)
    return cat([views.reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in tensors], 1)


for _name, _fn in [("cat", cat), ("stack", stack), ("hstack", hstack), ("vstack", vstack),
                   ("dstack", dstack), ("column_stack", column_stack)]:
    expose(_name, _fn, method=False, inplace=False,
           aliases={"cat": ("concat", "concatenate"), "vstack": ("row_stack",)}.get(_name, ()))


# -- splitting: views, as PyTorch ----------------------------------------------------------------
def tensor_split(input, indices_or_sections, dim=0):
    d = wrap_dim(dim, input.ndim)
    n = input.shape[d]
    if isinstance(indices_or_sections, Tensor):
        if indices_or_sections._dtype is not dt.int64:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have dtype of "
                               f"long, but got {scalar_name(indices_or_sections._dtype)}")
        if indices_or_sections.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a "
                               "zero-dimensional or one-dimensional tensor, but got a tensor with "
                               f"{indices_or_sections.ndim} dims")
        indices_or_sections = indices_or_sections.tolist()
    elif not isinstance(indices_or_sections, (int, list, tuple)):
        raise TypeError("tensor_split() received an invalid combination of arguments - got "
                        f"(Tensor, {type(indices_or_sections).__name__})")
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        size, extra = divmod(n, sections)
        bounds, start = [], 0
        for i in range(sections):
            stop = start + size + (1 if i < extra else 0)
            bounds.append((start, stop))
            start = stop
    else:
        cuts = [0] + [builtins.min(builtins.max(int(i), 0), n) for i in indices_or_sections] + [n]
        bounds = [(cuts[i], builtins.max(cuts[i], cuts[i + 1])) for i in range(len(cuts) - 1)]
    return tuple(views.slice_dim(input, d, s, e) for s, e in bounds)


def _directional_split(name, dim, min_dims):
    def torch_fn(input, indices_or_sections):
        if input.ndim < min_dims:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} "
                               f"dimension, but got a tensor with {input.ndim} dimensions!")
        d = 0 if name == "hsplit" and input.ndim == 1 else dim
        if isinstance(indices_or_sections, int) and (
                indices_or_sections == 0 or input.shape[d] % indices_or_sections):
            raise RuntimeError(f"torch.{name} attempted to split along dimension {d}, but the "
                               f"size of the dimension {input.shape[d]} is not divisible by the "
                               f"split_size {indices_or_sections}!")
        return tensor_split(input, indices_or_sections, d)
    torch_fn.__name__ = name
    expose(name, torch_fn, inplace=False, out=False)


expose("tensor_split", tensor_split, inplace=False, out=False)
_directional_split("hsplit", 1, 1)
_directional_split("vsplit", 0, 2)
_directional_split("dsplit", 2, 3)


# -- flips, rolls, rotations -------------------------------------------------------------------
def _flip_impl(a, *, dims):
    return jnp.flip(a, dims)


OPS["flip"] = _flip_op = Op("flip", _flip_impl, "FlipBackward0", ())


def flip(input, *dims):
    """Tensor.flip(0, 1) or Tensor.flip((0, 1))."""
    dims = wrap_dims(size_args(dims, "flip", "dims"), input.ndim)
    dims = dims if input.ndim else ()
    return apply(_flip_op, (input,), (("dims", dims),))


def _flip_function(input, dims):
    """torch.flip takes a tuple of dims only."""
    if isinstance(dims, int):
        raise TypeError(f"flip(): argument 'dims' (position 2) must be tuple of ints, not int")
    return flip(input, tuple(dims))


def fliplr(input):
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


def flipud(input):
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


def _roll_impl(a, *, shifts, dims):
    if dims is None:
        return jnp.roll(a.reshape(-1), shifts).reshape(a.shape)
    return jnp.roll(a, shifts, dims)


OPS["roll"] = _roll_op = Op("roll", _roll_impl, "RollBackward0", ())


def roll(input, shifts, dims=None):
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if dims is not None:
        dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != (1 if dims is None else len(dims)):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{0 if dims is None else len(dims)}")
    if input.ndim == 0 and dims:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    if input.numel() == 0:                 # PyTorch returns a copy before the dims' checks
        from .basic import clone
        return clone(input)
    if dims is None:
        return apply(_roll_op, (input,), (("shifts", shifts[0]), ("dims", None)))
    return apply(_roll_op, (input,), (("shifts", shifts), ("dims", wrap_dims(dims, input.ndim))))


def _rot90_impl(a, *, k, dims):
    return jnp.rot90(a, k, dims)


OPS["rot90"] = _rot90_op = Op("rot90", _rot90_impl, "Rot90Backward0", ())


def rot90(input, k=1, dims=(0, 1)):
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    first, second = (wrap_dim(x, input.ndim) for x in dims)
    if first == second:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {first} and "
                           f"dim1 = {second}")
    d = wrap_dims(dims, input.ndim)
    return apply(_rot90_op, (input,), (("k", int(k) % 4), ("dims", d)))


for _name, _fn in [("fliplr", fliplr), ("flipud", flipud), ("roll", roll), ("rot90", rot90)]:
    expose(_name, _fn, inplace=False)
expose("flip", _flip_function, method=False, inplace=False)
expose("flip", flip, function=False, inplace=False)


# -- repeats ---------------------------------------------------------------------------------------
def _repeat_impl(a, *, repeats):
    a = a.reshape((1,) * (len(repeats) - a.ndim) + a.shape)
    return jnp.tile(a, repeats)


OPS["repeat"] = _repeat_op = Op("repeat", _repeat_impl, "RepeatBackward0", ())


def repeat(self, *sizes):
    sizes = size_args(sizes, "repeat", "repeats")
    if len(sizes) < self.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    padded = (1,) * (len(sizes) - self.ndim) + tuple(self.shape)
    out = [n * r for n, r in zip(padded, sizes)]
    negative = [n for n in out if n < 0]
    if negative:
        raise RuntimeError(f"Trying to create tensor with negative dimension {negative[0]}: {out}")
    return apply(_repeat_op, (self,), (("repeats", sizes),))


def tile(input, dims):
    dims = tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def _repeat_interleave_impl(a, *, repeats, dim):
    if dim is None:
        a, dim = a.reshape(-1), 0
    if isinstance(repeats, tuple):
        import numpy as np
        return jnp.repeat(a, np.asarray(repeats), axis=dim, total_repeat_length=builtins.sum(repeats))
    return jnp.repeat(a, repeats, axis=dim)


OPS["repeat_interleave"] = _ri_op = Op("repeat_interleave", _repeat_interleave_impl,
                                       "ViewBackward0", ())


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    if repeats is None:                       # repeat_interleave(counts): indices
        from .._factories import tensor_from_numpy
        import numpy as np
        if input.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        counts = np.asarray(input._data())
        if counts.size and counts.min() < 0:
            raise RuntimeError("repeats can not be negative")
        return tensor_from_numpy(np.repeat(np.arange(counts.size), counts), dt.int64, input.device)
    d = None if dim is None else wrap_dim(dim, input.ndim)
    if isinstance(repeats, Tensor):
        if repeats.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        reps = tuple(int(r) for r in repeats.reshape(-1).tolist())
        if builtins.min(reps, default=0) < 0:
            raise RuntimeError("repeats can not be negative")
        size = input.numel() if d is None else input.shape[d]
        if len(reps) != 1 and len(reps) != size:
            raise RuntimeError("repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {len(reps)} and input.size({d or 0}) = {size}")
        if len(reps) == 1:
            reps = reps[0]
        else:
            return apply(_ri_op, (input,), (("repeats", reps), ("dim", d)), "IndexSelectBackward0")
    else:
        reps = int(repeats)
        if reps < 0:
            raise RuntimeError("Repeats must be non-negative")
    return apply(_ri_op, (input,), (("repeats", reps), ("dim", d)))


expose("repeat", repeat, function=False, inplace=False)
expose("tile", tile, inplace=False, out=False)
expose("repeat_interleave", repeat_interleave, inplace=False, out=False)


# -- broadcasting, atleast, meshgrid: views ----------------------------------------------------
def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = broadcast_shapes(*(tuple(t.shape) for t in tensors))
    # a tensor that already has the shape is returned itself, as PyTorch
    return tuple(t if tuple(t.shape) == shape else views.expand(t, shape) for t in tensors)


def broadcast_shapes_fn(*shapes):
    """torch.broadcast_shapes, with its own message (it names the argument)."""
    from .._tensor import Size
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    result = [1] * builtins.max((len(s) for s in shapes), default=0)
    for index, shape in enumerate(shapes):
        for i in range(-1, -len(shape) - 1, -1):
            if shape[i] == 1 or shape[i] == result[i]:
                continue
            if result[i] != 1:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {shape[i]} at "
                                   f"{i}! Mismatching argument at index {index} had {shape}; but "
                                   f"expected shape should be broadcastable to {result}")
            result[i] = shape[i]
    return Size(result)


def _atleast(n):
    def one(t):
        if not isinstance(t, Tensor):
            raise TypeError(f"atleast_{n}d() received an invalid combination of arguments - got "
                            f"({type(t).__name__})")
        if t.ndim >= n:
            return t
        if n == 1:
            return views.reshape(t, (1,))
        if n == 2:
            return views.unsqueeze(t, 0) if t.ndim == 1 else views.reshape(t, (1, 1))
        if t.ndim == 0:
            return views.reshape(t, (1, 1, 1))
        out = views.unsqueeze(t, 0) if t.ndim == 1 else t
        return views.unsqueeze(out, -1)

    def torch_fn(*tensors):
        if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
            return tuple(one(t) for t in tensors[0])
        if len(tensors) == 1:
            return one(tensors[0])
        return tuple(one(t) for t in tensors)
    torch_fn.__name__ = f"atleast_{n}d"
    return torch_fn


atleast_1d, atleast_2d, atleast_3d = _atleast(1), _atleast(2), _atleast(3)


def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        import warnings
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument. (Triggered internally at /pytorch/aten/src/ATen/native/"
                      "TensorShape.cpp:4324.)", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: '
                           f'{indexing}')
    _non_empty("meshgrid", tensors)
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got a {t.ndim}D tensor")
        if t._dtype is not tensors[0]._dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    swap = indexing == "xy" and len(tensors) >= 2
    ordered = list(tensors)
    if swap:
        ordered[0], ordered[1] = ordered[1], ordered[0]
    shape = tuple(t.numel() for t in ordered)
    n = len(ordered)
    grids = []
    for i, t in enumerate(ordered):
        view = views.reshape(t, tuple(-1 if k == i else 1 for k in range(n)))
        grids.append(views.expand(view, shape))
    if swap:       # 'xy': the grids of the swapped inputs, handed back in input order
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


expose("broadcast_tensors", broadcast_tensors, method=False, inplace=False, out=False)
expose("broadcast_shapes", broadcast_shapes_fn, method=False, inplace=False, out=False)
expose("atleast_1d", atleast_1d, method=False, inplace=False, out=False)
expose("atleast_2d", atleast_2d, method=False, inplace=False, out=False)
expose("atleast_3d", atleast_3d, method=False, inplace=False, out=False)
expose("meshgrid", meshgrid, method=False, inplace=False, out=False)
