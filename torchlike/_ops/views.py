"""View ops: results alias their input's storage, as in PyTorch.

Each view op has a JAX implementation (what autograd replays) and a stride rule (which
elements of the storage the view sees), so writes through the view reach the base.
"""
import math

import jax.numpy as jnp
from jax import lax

from .._dtype import dtype as _dtype_cls
from .._host_ops import unbound_on_host, viewed_on_host, whole_in_order
from .._storage import strided_gather, strided_scatter, view_strides
from .._tensor import (VIEW_DEFAULT, VIEW_MULTI_OUTPUT, Tensor, _with_version,
                       legacy_type_name)
from .. import _jax_bridge as bridge
from .. import _lazy as lazy
from .._lazy import Deferred
from ..autograd.grad_mode import _state as _modes
from ._common import warn_once
from .dispatch import _edges, apply, record, records_history
from .registry import register_op, torch_function
from ._util import invalid_arguments, size_args, wrap_dim, wrap_dims


def make_view(x, op, params, shape, strides, offset, grad_fn=None, positions=()):
    """Run view op on x and return a tensor aliasing x's storage. `positions` (Python
    ints) are passed to the op as traced arguments, not static params, so that x[i] or
    x[i:i + n] for a new i reuses the compiled function instead of compiling another."""
    # (numpy copies only computed values that record no history: other views skip the
    # host path's checks, which cost about a microsecond)
    view = None if (_modes.enabled and records_history(x)) or \
        type(x._storage.array) is Deferred or whole_in_order(x, shape, strides, offset) \
        else viewed_on_host(x, shape, strides, offset)
    if view is not None:
        return view
    if _pending_ok(op):
        return _pending_view(x, op, params, shape, strides, offset, grad_fn, positions)
    out = apply(op, (x,) + positions, params, grad_fn)
    return _as_view_of(x, out, shape, strides, offset)


def _pending_ok(op):
    """Whether a view may be made by _pending_view: its value deferred, no JAX trace or
    compiled prefix replaying, and nothing saved (a saved result would be the view,
    which shares its base's version counter, where apply saves a fresh tensor)."""
    return (lazy.ENABLED and not op.saves and bridge.top_level() and not bridge.state.folding
            and bridge.state.replay is None)


def _pending_view(x, op, params, shape, strides, offset, grad_fn, positions):
    """What apply followed by _as_view_of makes, without the intermediate tensor that
    apply wraps the result in (a Tensor, its Storage and version counter, for every view
    of every step): the pending value goes straight into the view, which the node
    records as its output (its version is its base's, as _as_view_of sets it)."""
    inputs = (x,) + positions
    recorded = op.differentiable and _modes.enabled and records_history(x)
    if not (recorded or lazy.DEFER_UNRECORDED):
        out = apply(op, inputs, params, grad_fn)
        return _as_view_of(x, out, shape, strides, offset)
    value = lazy.defer(op, params, (x._raw(),) + positions, x._storage.device)
    view = x._make_view(value, shape, strides, offset)
    if recorded:
        pending = type(value) is Deferred
        # (the node shares the pending call's input tuple, as apply's nodes do)
        node = record(op, params, _edges(inputs),
                      value.inputs if pending else (x._raw(),) + positions, (view,),
                      grad_fn, inputs)
        if pending:
            value.node = node
    return view


def _as_view_of(x, out, shape, strides, offset, multi_output=False):
    # the view's value may still be pending: a recorded view does not force the forward
    v = x._make_view(out._raw(), shape, strides, offset)
    node = v._grad_fn = out._grad_fn
    v._output_nr = out._output_nr
    if node is not None:        # the view lives at its base's version (dispatch.record)
        node.out_versions = _with_version(node.out_versions, v._output_nr,
                                          v._version_counter.value)
    if multi_output and v._creation_meta == VIEW_DEFAULT:
        # PyTorch forbids in-place writes to outputs of split/chunk/unbind
        v._creation_meta = VIEW_MULTI_OUTPUT
    return v


# -- reshape family -------------------------------------------------------------------
@register_op("view", "ViewBackward0")
def _reshape_impl(a, *, shape):
    return a.reshape(shape)


def infer_shape(shape, numel):
    shape = list(shape)
    for i, n in enumerate(shape):
        if n < -1:
            raise RuntimeError(f"invalid shape dimension {n} at index {i} of shape {shape}")
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(n for n in shape if n != -1)
    if -1 in shape:
        if known == 0 and numel == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {shape} because "
                               "the unspecified dimension size -1 can be any value and is "
                               "ambiguous")
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape[shape.index(-1)] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


def _view_shape(shape):
    """view's size; a first value that is not an int matches neither of view's
    signatures (size or dtype)."""
    if len(shape) == 1:
        first = shape[0][0] if isinstance(shape[0], (tuple, list)) and shape[0] else shape[0]
        if not isinstance(first, (tuple, list)) and not hasattr(first, "__index__"):
            raise invalid_arguments("view", shape[0])
    return size_args(shape, "view")


@torch_function("view", method=True, function=False)
def view(self, *shape):
    if len(shape) == 1 and isinstance(shape[0], _dtype_cls):
        if shape[0] is self.dtype:
            return self
        raise NotImplementedError("view(dtype) is not supported by torchlike")
    shape = infer_shape(_view_shape(shape), self.numel())
    strides = view_strides(tuple(self.shape), self.stride(), shape)
    if strides is None:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.")
    return make_view(self, _reshape_impl, (("shape", shape),), shape, strides, self._offset)


def _int_tuple_arg(fn_name, arg, value):
    """torch.fn's `arg` is a tuple of ints (only methods take them as varargs)."""
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{fn_name}(): argument '{arg}' (position 2) must be tuple of ints, not "
                        f"{type(value).__name__}")
    for i, n in enumerate(value):
        if not hasattr(n, "__index__") or isinstance(n, bool):
            raise TypeError(f"{fn_name}(): argument '{arg}' (position 2) must be tuple of ints, "
                            f"but found element of type {type(n).__name__} at pos {i}")
    return tuple(value)


@torch_function("reshape", method=False)
def reshape_function(input, shape):
    return reshape(input, _int_tuple_arg("reshape", "shape", shape))


@torch_function("reshape", method=True, function=False)
def reshape(input, *shape):
    shape = infer_shape(size_args(shape, "reshape", "shape"), input.numel())
    strides = view_strides(tuple(input.shape), input.stride(), shape)
    if strides is not None:
        # (PyTorch names the view of a non-contiguous input ReshapeAliasBackward0)
        return make_view(input, _reshape_impl, (("shape", shape),), shape, strides, input._offset,
                         None if input.is_contiguous() else "ReshapeAliasBackward0")
    if _modes.enabled and records_history(input):
        # PyTorch copies first, then views the copy: CloneBackward0 under the view's node
        # (a tensor that no view can reshape is not contiguous: contiguous() copies it)
        input = input.contiguous()
    return unsafe_view(input, shape)


def unsafe_view(input, shape):
    """PyTorch's _unsafe_view: `input` (contiguous) with another shape, as a new tensor
    rather than a view (UnsafeViewBackward0)."""
    return apply(_reshape_impl, (input,), (("shape", tuple(shape)),), "UnsafeViewBackward0")


def alias(x):
    """A new tensor seeing exactly x's elements (x[...]): PyTorch's AliasBackward0."""
    return make_view(x, _reshape_impl, (("shape", tuple(x.shape)),), x.shape, x.stride(),
                     x._offset, "AliasBackward0")


@torch_function("view_as", method=True, function=False)
def view_as(self, other):
    return view(self, tuple(other.shape))


@torch_function("reshape_as", method=True, function=False)
def reshape_as(self, other):
    return reshape(self, tuple(other.shape))


@torch_function("flatten", method=True)
def flatten(input, start_dim=0, end_dim=-1):
    s, e = wrap_dim(start_dim, input.ndim), wrap_dim(end_dim, input.ndim)
    if input.ndim == 0:
        return reshape(input, (1,))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shape = input.shape[:s] + (math.prod(input.shape[s:e + 1]),) + input.shape[e + 1:]
    return reshape(input, shape)


@torch_function("unflatten", method=True)
def unflatten(input, dim, sizes):
    d = wrap_dim(dim, input.ndim)
    sizes = list(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = input.shape[d]
    known = math.prod(k for k in sizes if k != -1)
    if sizes.count(-1) <= 1 and (known != n if -1 not in sizes else (known == 0 or n % known)):
        raise RuntimeError(f"unflatten: Provided sizes {sizes} don't multiply up to the size of "
                           f"dim {d} ({n}) in the input tensor")
    sizes = infer_shape(sizes, n)
    return view(input, input.shape[:d] + sizes + input.shape[d + 1:])


@torch_function("ravel", method=True)
def ravel(input):
    return reshape(input, (-1,))


# -- permutations ---------------------------------------------------------------------
@register_op("permute", "PermuteBackward0")
def _permute_impl(a, *, dims):
    return jnp.transpose(a, dims)


def _permuted(x, dims, grad_fn):
    shape, strides = _permuted_layout(x._shape, x.stride(), dims)
    return make_view(x, _permute_impl, (("dims", dims),), shape, strides, x._offset, grad_fn)


_permuted_layouts = {}      # (shape, strides, dims) -> the permuted (shape, strides)


def _permuted_layout(shape, strides, dims):
    """The shape and strides of a permutation by `dims` (cached: attention transposes
    its inputs and output at every call)."""
    key = (shape, strides, dims)
    layout = _permuted_layouts.get(key)
    if layout is None:
        if len(_permuted_layouts) >= 4096:      # bounded: forget them all (cheap to make)
            _permuted_layouts.clear()
        layout = _permuted_layouts[key] = (tuple([tuple.__getitem__(shape, d) for d in dims]),
                                           tuple([strides[d] for d in dims]))
    return layout


@torch_function("permute", method=False)
def permute_function(input, dims):
    return permute(input, _int_tuple_arg("permute", "dims", dims))


@torch_function("permute", method=True, function=False)
def permute(input, *dims):
    dims = size_args(dims, "permute", "dims")
    if len(dims) != input.ndim:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does "
                           "not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {input.ndim} is not equal to len(dims) = {len(dims)}")
    wrapped = tuple(wrap_dim(d, input.ndim) for d in dims)
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _permuted(input, wrapped, None)


@torch_function("transpose", "swapaxes", "swapdims", method=True)
def transpose(input, dim0, dim1):
    ndim = len(input._shape)
    d0, d1 = wrap_dim(dim0, ndim), wrap_dim(dim1, ndim)
    if ndim == 0:                   # dims 0 and -1 both name the lone scalar "dim"
        return _permuted(input, (), "TransposeBackward0")
    dims = list(range(ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return _permuted(input, tuple(dims), "TransposeBackward0")


def _transpose_2d(input, name):
    if input.ndim > 2:
        raise RuntimeError(f"{name}() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}D")
    return _permuted(input, tuple(reversed(range(input.ndim))), "TBackward0")


@torch_function("t", method=True)
def t(input):
    return _transpose_2d(input, "t")


def _t_inplace(self):
    return _transpose_2d(self, "t_")


_T_DEPRECATED = (
    "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
    "deprecated and it will throw an error in a future release. Consider `x.mT` to transpose "
    "batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the "
    "dimensions of a tensor. (Triggered internally at "
    "/__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4314.)")
_T_0D = ("Tensor.T is deprecated on 0-D tensors. This function is the identity in these "
         "cases. (Triggered internally at "
         "/__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4321.)")


def _T(self):
    if self.ndim != 2 and self.ndim != 1:
        warn_once(_T_0D if self.ndim == 0 else _T_DEPRECATED)
    return _permuted(self, tuple(reversed(range(self.ndim))), "PermuteBackward0")


def _mT(self):
    if self.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {self.ndim}-D tensor.")
    return transpose(self, -2, -1)


Tensor.T = property(_T)
Tensor.mT = property(_mT)
Tensor.H = property(lambda self: _T(self).conj() if self.is_complex() else _T(self))
Tensor.mH = property(lambda self: _mT(self).conj() if self.is_complex() else _mT(self))


@torch_function("movedim", "moveaxis", method=True)
def movedim(input, source, destination):
    if isinstance(source, int) != isinstance(destination, int):
        raise invalid_arguments("movedim", source, destination)
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    given = {"source": list(src), "destination": list(dst)}     # as the user wrote them
    src = tuple(wrap_dim(d, input.ndim) for d in src)
    dst = tuple(wrap_dim(d, input.ndim) for d in dst)
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({given[name]})")
    rest = [d for d in range(input.ndim) if d not in src]
    order = [None] * input.ndim
    for s, d in zip(src, dst):
        order[d] = s
    it = iter(rest)
    order = tuple(o if o is not None else next(it) for o in order)
    return _permuted(input, order, "PermuteBackward0")


@torch_function("adjoint", method=True)
def adjoint(input):
    return _mT(input)


# -- expand, squeeze ------------------------------------------------------------------
@register_op("expand", "ExpandBackward0")
def _expand_impl(a, *, shape):
    return jnp.broadcast_to(a, shape)


@torch_function("expand", method=True, function=False)
def expand(self, *sizes):
    sizes = size_args(sizes, "expand")
    if len(sizes) < self.ndim:
        raise RuntimeError(f"expand({legacy_type_name(self)}{{{list(self.shape)}}}, size={list(sizes)}): "
                           "the number of sizes provided "
                           f"({len(sizes)}) must be greater or equal to the number of dimensions "
                           f"in the tensor ({self.ndim})")
    lead = len(sizes) - self.ndim
    shape, strides = [], []
    for i, n in enumerate(sizes):
        if i < lead:
            if n < 0:
                raise RuntimeError(f"The expanded size of the tensor ({n}) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            shape.append(n)
            strides.append(0)
            continue
        own, own_stride = self.shape[i - lead], self.stride()[i - lead]
        if n == -1:
            n = own
        if own == n:
            strides.append(own_stride)
        elif own == 1:
            strides.append(0)
        else:
            raise RuntimeError(f"The expanded size of the tensor ({n}) must match the existing "
                               f"size ({own}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(self.shape)}")
        shape.append(n)
    shape = tuple(shape)
    if shape == tuple(self.shape):
        return make_view(self, _reshape_impl, (("shape", shape),), shape, self.stride(),
                         self._offset, "ExpandBackward0")
    return make_view(self, _expand_impl, (("shape", shape),), shape, strides, self._offset)


@torch_function("expand_as", method=True, function=False)
def expand_as(self, other):
    return expand(self, tuple(other.shape))


@torch_function("broadcast_to", method=True)
def broadcast_to(input, size):
    return expand(input, tuple(size))


@torch_function("squeeze", method=True)
def squeeze(input, dim=None):
    if dim is None:
        keep = [i for i, n in enumerate(input.shape) if n != 1]
        grad_fn = "SqueezeBackward0"
    else:
        dims = wrap_dims(dim, input.ndim)
        keep = [i for i, n in enumerate(input.shape) if not (i in dims and n == 1)]
        grad_fn = "SqueezeBackward1" if isinstance(dim, int) else "SqueezeBackward2"
    shape = tuple(input.shape[i] for i in keep)
    strides = tuple(input.stride()[i] for i in keep)
    return make_view(input, _reshape_impl, (("shape", shape),), shape, strides, input._offset,
                     grad_fn)


@torch_function("unsqueeze", method=True)
def unsqueeze(input, dim):
    if not hasattr(dim, "__index__"):
        raise TypeError(f"unsqueeze(): argument 'dim' (position 1) must be int, not "
                        f"{type(dim).__name__}")
    d = wrap_dim(dim, input.ndim + 1)
    shape = input.shape[:d] + (1,) + input.shape[d:]
    st = input.stride()
    new_stride = st[d] * input.shape[d] if d < input.ndim else 1
    strides = st[:d] + (new_stride,) + st[d:]
    return make_view(input, _reshape_impl, (("shape", tuple(shape)),), shape, strides,
                     input._offset, "UnsqueezeBackward0")


# -- in-place view ops: self takes the view's shape and strides ----------------------
# PyTorch names their nodes apart from the out-of-place ones
_INPLACE_VIEW_NODE = {"TBackward0": "TBackward1", "TransposeBackward0": "TransposeBackward1",
                      "UnsqueezeBackward0": "UnsqueezeBackward1",
                      "SqueezeBackward0": "SqueezeBackward3", "SqueezeBackward1": "SqueezeBackward4",
                      "SqueezeBackward2": "SqueezeBackward5", "AsStridedBackward0": "AsStridedBackward1"}


def _inplace_view(view_fn, name):
    def method(self, *args, **kwargs):
        from ..autograd.graph import node_class
        self._check_inplace()
        out = view_fn(self, *args, **kwargs)
        node = out._grad_fn
        if node is not None:
            node.__class__ = node_class(_INPLACE_VIEW_NODE[node.name()])
            self._grad_fn, self._output_nr = node, 0
        # the storage is untouched: only which of its elements self sees changes
        self._shape, self._stride, self._offset = out._shape, out._stride, out._offset
        self._cache, self._cache_gen, self._whole = out._cache, out._cache_gen, out._whole
        self._version_counter.value += 1
        if node is not None:
            node.out_versions = (self._version_counter.value,)
        if self._base is not None:
            self._view_version = self._version_counter.value   # its history is current
        return self
    method.__name__ = name
    return method


# -- selections -----------------------------------------------------------------------
@register_op("select", "SelectBackward0")
def _select_impl(a, index, *, dim):
    return lax.dynamic_index_in_dim(a, index, dim, keepdims=False)


@torch_function("select", method=True)
def select(input, dim, index):
    shape = tuple(input._shape)     # (plain tuple slicing: Size's own is Python code)
    if not shape:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, len(shape))
    n = shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(shape)} at dimension {d}")
    index %= n
    st = input.stride()
    return make_view(input, _select_impl, (("dim", d),), shape[:d] + shape[d + 1:],
                     st[:d] + st[d + 1:], input._offset + index * st[d], positions=(index,))


@register_op("slice", "SliceBackward0")
def _slice_impl(a, start, *, dim, size, step):
    # the span the slice covers starts at the traced `start` (already within bounds)
    span = lax.dynamic_slice_in_dim(a, start, (size - 1) * step + 1 if size else 0, dim)
    return lax.slice_in_dim(span, 0, span.shape[dim], step, dim)


def slice_dim(input, dim, start, stop, step=1):
    """input[..., start:stop:step, ...] on `dim` (bounds already clamped)."""
    n = max(0, -(-(stop - start) // step))
    st = input.stride()
    shape = input.shape[:dim] + (n,) + input.shape[dim + 1:]
    strides = st[:dim] + (st[dim] * step,) + st[dim + 1:]
    return make_view(input, _slice_impl, (("dim", dim), ("size", n), ("step", step)),
                     shape, strides, input._offset + start * st[dim], positions=(start,))


@torch_function("narrow", method=True)
def narrow(input, dim, start, length):
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    d = wrap_dim(dim, input.ndim)
    if isinstance(start, Tensor):
        start = int(start)
    n = input.shape[d]
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return slice_dim(input, d, start, start + length)


@register_op("split", "SplitBackward0")
def _split_impl(a, *, dim, bounds):
    return tuple(lax.slice_in_dim(a, s, e, 1, dim) for s, e in bounds)


def _split_at(input, d, sizes, grad_fn):
    bounds, pos = [], 0
    for n in sizes:
        bounds.append((pos, pos + n))
        pos += n
    outs = apply(_split_impl, (input,), (("dim", d), ("bounds", tuple(bounds))), grad_fn)
    st = input.stride()
    return tuple(_as_view_of(input, o, o.shape, st, input._offset + s * st[d], True)
                 for o, (s, _) in zip(outs, bounds))


@torch_function("split", method=True)
def split(tensor, split_size_or_sections, dim=0):
    if isinstance(split_size_or_sections, int) and split_size_or_sections < 0:
        raise RuntimeError("split expects split_size be non-negative, but got split_size="
                           f"{split_size_or_sections}")
    d = wrap_dim(dim, tensor.ndim)
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size == 0 and n != 0:
            raise RuntimeError("split_size can only be 0 if dimension size is 0, but got dimension size of " + str(n))
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if size else []
        sizes = sizes or [0]                  # at least one (empty) piece, as PyTorch
        return _split_at(tensor, d, sizes, "SplitBackward0")
    sizes = list(split_size_or_sections)
    if sum(sizes) != n:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                           f"tensor's size at dimension {d}), but got split_sizes={sizes}")
    return _split_at(tensor, d, sizes, "SplitWithSizesBackward0")


@torch_function("chunk", method=True)
def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    d = wrap_dim(dim, input.ndim)
    n = input.shape[d]
    size = -(-n // chunks)
    if n == 0:                            # PyTorch: `chunks` empty pieces
        return _split_at(input, d, [0] * chunks, "SplitWithSizesBackward0")
    return split(input, size, d)


@register_op("unbind", "UnbindBackward0")
def _unbind_impl(a, *, dim):
    return tuple(lax.index_in_dim(a, i, dim, keepdims=False) for i in range(a.shape[dim]))


@torch_function("unbind", method=True)
def unbind(input, dim=0):
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, input.ndim)
    outs = unbound_on_host(input, d) or apply(_unbind_impl, (input,), (("dim", d),))
    st = input.stride()
    return tuple(_as_view_of(input, o, o.shape, st[:d] + st[d + 1:], input._offset + i * st[d],
                             True)
                 for i, o in enumerate(outs))


@register_op("diagonal", "DiagonalBackward0")
def _diagonal_impl(a, *, offset, dim1, dim2):
    return jnp.diagonal(a, offset, dim1, dim2)


@torch_function("diagonal", method=True)
def diagonal(input, offset=0, dim1=0, dim2=1):
    d1, d2 = wrap_dim(dim1, input.ndim), wrap_dim(dim2, input.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n1, n2 = input.shape[d1], input.shape[d2]
    st = input.stride()
    length = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    start = input._offset + (offset * st[d2] if offset >= 0 else -offset * st[d1])
    rest = [i for i in range(input.ndim) if i not in (d1, d2)]
    shape = tuple(input.shape[i] for i in rest) + (length,)
    strides = tuple(st[i] for i in rest) + (st[d1] + st[d2],)
    return make_view(input, _diagonal_impl, (("offset", offset), ("dim1", d1), ("dim2", d2)),
                     shape, strides, start if length else input._offset)


def storage_layout(base):
    """How `base`'s value sits in its storage: None when it is the storage array itself,
    else (shape, strides, offset, storage shape) (a base that was permuted in place or
    made by preserve_format)."""
    if base._whole:
        return None
    return (tuple(base.shape), base.stride(), base._offset, tuple(base._storage.array.shape))


def _to_storage(value, layout):
    if layout is None:
        return value
    shape, strides, offset, storage_shape = layout
    return strided_scatter(jnp.zeros(storage_shape, value.dtype), value, shape=shape,
                           strides=strides, offset=offset)


def _from_storage(storage, layout):
    if layout is None:
        return storage
    shape, strides, offset, _ = layout
    return strided_gather(storage, shape=shape, strides=strides, offset=offset)


@register_op("as_strided", "AsStridedBackward0")
def _as_strided_impl(base, *, shape, strides, offset, base_layout=None):
    return strided_gather(_to_storage(base, base_layout), shape=shape, strides=strides,
                          offset=offset)


@torch_function("as_strided", method=True)
def as_strided(input, size, stride, storage_offset=None):
    base = input._base if input._base is not None else input
    shape, strides = tuple(size), tuple(stride)
    offset = input._offset if storage_offset is None else storage_offset
    params = (("shape", shape), ("strides", strides), ("offset", offset),
              ("base_layout", storage_layout(base)))
    if base is not input and input.requires_grad:
        # differentiate through the view itself: PyTorch's gradient reaches only the
        # view's elements (and the view may require grad where its base does not)
        params += (("input_layout", (tuple(input.shape), input.stride(), input._offset)),)
        out = apply(_as_strided_of_view_op, (input, base.detach()), params)
        return _as_view_of(base, out, shape, strides, offset)
    return make_view(base, _as_strided_impl, params, shape, strides, offset)


@register_op("as_strided_of_view", "AsStridedBackward0")
def _as_strided_of_view_op(view, base, *, shape, strides, offset, base_layout, input_layout):
    """as_strided of `view` read from its storage (values from `base` where the view
    has none): differentiable in `view` only."""
    storage = lax.stop_gradient(_to_storage(base, base_layout))
    view_shape, view_strides, view_offset = input_layout
    storage = strided_scatter(storage, view, shape=view_shape, strides=view_strides,
                              offset=view_offset)
    return strided_gather(storage, shape=shape, strides=strides, offset=offset)


@torch_function("unfold", method=True, function=False)
def unfold(self, dimension, size, step):
    d = wrap_dim(dimension, self.ndim)
    longest = self.shape[d] if self.ndim else 1
    if size > longest:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {longest} but size is "
                           f"{size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if self.ndim == 0:              # PyTorch: a window of `size` (0 or 1) elements
        return narrow(reshape(self, (1,)), 0, 0, size)
    n = (self.shape[d] - size) // step + 1
    st = self.stride()
    shape = self.shape[:d] + (n,) + self.shape[d + 1:] + (size,)
    strides = st[:d] + (st[d] * step,) + st[d + 1:] + (st[d],)
    base = self._base if self._base is not None else self
    params = (("shape", shape), ("strides", strides), ("offset", self._offset),
              ("base_layout", storage_layout(base)))
    return make_view(base, _as_strided_impl, params, shape, strides, self._offset,
                     "UnfoldBackward0")


for _name, _fn in (("t_", _t_inplace), ("transpose_", transpose), ("swapaxes_", transpose),
                   ("swapdims_", transpose), ("squeeze_", squeeze), ("unsqueeze_", unsqueeze)):
    torch_function(_name, method=True, function=False)(_inplace_view(_fn, _name))
torch_function("as_strided_", method=True)(_inplace_view(as_strided, "as_strided_"))


# -- history of views after in-place writes -------------------------------------------
@register_op("copy_slices", "CopySlices")
def _copy_slices_impl(base, *others, shape, strides, offset, inner, inner_params,
                      base_layout=None):
    """base with the view's elements replaced by inner(view, *others)."""
    storage = _to_storage(base, base_layout)
    view = strided_gather(storage, shape=shape, strides=strides, offset=offset)
    new = inner.bind(inner_params)(view, *others)
    storage = strided_scatter(storage, new, shape=shape, strides=strides, offset=offset)
    return _from_storage(storage, base_layout)


def record_copy_slices(view, node, base_before):
    """After an in-place op on `view` produced history `node`, give the base the history
    CopySlices(base as it was, the inner op's other inputs), as PyTorch does."""
    from .._tensor import edge_of
    from .dispatch import record
    base = view._base
    params = (("shape", tuple(view.shape)), ("strides", view.stride()), ("offset", view._offset),
              ("inner", node.op), ("inner_params", node.params),
              ("base_layout", storage_layout(base)))
    base_edge = edge_of(base) if base.requires_grad else (None, 0)
    record(_copy_slices_impl, params, (base_edge,) + node.edges[1:],
           (base_before,) + node.arrays[1:], (base,), "CopySlices")
    view._view_version = -1  # the view's own history is regenerated from the base


def as_strided_of_base(view, base):
    """Regenerate a stale view's history as a strided read of its base."""
    from .._tensor import edge_of
    from .dispatch import record
    params = (("shape", tuple(view.shape)), ("strides", view.stride()), ("offset", view._offset),
              ("base_layout", storage_layout(base)))
    record(_as_strided_impl, params, (edge_of(base),), (base._data(),), (view,))
