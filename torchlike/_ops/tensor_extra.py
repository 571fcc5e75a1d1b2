"""Smaller Tensor and torch names from issue 12: renorm, fill_diagonal_, resize_,
Tensor.new, storage, pin_memory and share_memory_ (CPU no-ops with PyTorch's answers).
(polar, complex: complex_parts.py; corrcoef: statistics.py; sum_to_size: tensor_utils.py.)"""
import warnings

import jax.numpy as jnp
import numpy as np

from .._tensor import Tensor
from .dispatch import apply
from .registry import FUNCTIONS, METHODS, Op, OPS
from ._util import c_type_name, scalar_name


def _function_and_method(*names):
    def deco(fn):
        for name in names:
            FUNCTIONS[name] = fn
            METHODS[name] = fn
        return fn
    return deco


def _method(*names):
    def deco(fn):
        for name in names:
            METHODS[name] = fn
        return fn
    return deco


# -- renorm -------------------------------------------------------------------------------
def _renorm_impl(x, *, p, dim, maxnorm):
    axes = tuple(d for d in range(x.ndim) if d != dim)
    magnitude = jnp.abs(x)
    if p == float("inf"):
        norm = jnp.max(magnitude, axis=axes, keepdims=True)
    else:
        norm = jnp.sum(magnitude ** p, axis=axes, keepdims=True) ** (1.0 / p)
    # PyTorch scales sub-tensors over the limit by maxnorm / (norm + 1e-7)
    factor = jnp.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0).astype(x.dtype)
    return x * factor


OPS["renorm"] = _renorm_op = Op("renorm", _renorm_impl, "RenormBackward0", (0,))


@_function_and_method("renorm")
def renorm(input, p, dim, maxnorm):
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if input.dim() <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.dim()} "
                           "dimensions")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {scalar_name(input.dtype)}")
    return apply(_renorm_op, (input,), (("dim", dim % input.dim()), ("maxnorm", float(maxnorm)),
                                        ("p", float(p))))


@_method("renorm_")
def renorm_(self, p, dim, maxnorm):
    return self._inplace(lambda s: renorm(s, p, dim, maxnorm))


# -- fill_diagonal_ -----------------------------------------------------------------------
@_method("fill_diagonal_")
def fill_diagonal_(self, fill_value, wrap=False):
    if self.dim() < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.dim() > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    rows, cols = self.shape[0], self.shape[1]
    step = sum(self.stride())
    if self.dim() == 2 and wrap and rows > cols + 1:
        # the diagonal restarts every cols + 1 rows, one blank row between repeats
        count = (self.numel() + cols) // (cols + 1)
    else:
        count = min(self.shape)
    self.as_strided((count,), (step,), self.storage_offset()).fill_(fill_value)
    return self


# -- resize_ ------------------------------------------------------------------------------
def _sizes(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(int(s) for s in size[0])
    return tuple(int(s) for s in size)


@_method("resize_")
def resize_(self, *size, memory_format=None):
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    size = _sizes(size)
    for s in size:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
    count = int(np.prod(size))
    flat = self.detach().reshape(-1)._data()
    # PyTorch keeps the storage's leading elements; new elements are uninitialized
    flat = flat[:count] if count <= flat.shape[0] else \
        jnp.concatenate([flat, jnp.zeros(count - flat.shape[0], flat.dtype)])
    self.data = Tensor._wrap(flat.reshape(size), self.device)
    return self


@_method("resize_as_")
def resize_as_(self, other, memory_format=None):
    return resize_(self, tuple(other.shape))


FUNCTIONS["resize_as_"] = resize_as_          # torch.resize_as_(t, other) too


# -- legacy constructors: Tensor.new and torch.FloatTensor & co ---------------------------
def legacy_new(dtype, device, args, kwargs, what="new()"):
    """PyTorch's legacy constructor: (), (*sizes), (Size), (sequence of data), (Tensor)."""
    from .. import _factories
    device = kwargs.pop("device", device)
    if kwargs:
        raise TypeError(f"{what} got an unexpected keyword argument '{next(iter(kwargs))}'")
    if not args:
        return _factories.empty(0, dtype=dtype, device=device)
    if len(args) == 1:
        (arg,) = args
        if isinstance(arg, Tensor):
            if arg.dtype is not dtype:
                raise TypeError(f"expected {_options(dtype)} (got {_options(arg.dtype)})")
            return arg.detach() if arg.requires_grad else arg
        if isinstance(arg, str):
            raise TypeError(f"new(): invalid data type '{type(arg).__name__}'")
        from .._tensor import Size
        if isinstance(arg, Size):
            return _empty_checked(tuple(arg), dtype, device)
        if not isinstance(arg, (int, np.integer)):
            return _factories.tensor(arg, dtype=dtype, device=device)
    if all(isinstance(a, (int, np.integer)) for a in args):
        return _empty_checked(tuple(int(a) for a in args), dtype, device)
    raise TypeError(f"{what} received an invalid combination of arguments - got "
                    f"({', '.join(type(a).__name__ for a in args)})")


def _options(dtype):
    return (f"TensorOptions(dtype={c_type_name(dtype)}, device=cpu, layout=Strided, "
            "requires_grad=false (default), pinned_memory=false (default), "
            "memory_format=(nullopt))")


def _empty_checked(shape, dtype, device):
    from .. import _factories
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(shape)}")
    return _factories.empty(shape, dtype=dtype, device=device)


@_method("new")
def new(self, *args, **kwargs):
    return legacy_new(self.dtype, self.device, args, kwargs)


# -- storage, pinning, sharing ------------------------------------------------------------
class TypedStorage:
    """What Tensor.storage() returns: the tensor's storage seen as elements of its dtype
    (deprecated in PyTorch, which warns on use)."""

    def __init__(self, tensor):
        self._tensor = tensor
        self.dtype = tensor.dtype
        self.device = tensor.device

    def _values(self):
        return np.asarray(self._tensor._storage.array).reshape(-1)

    def size(self):
        return int(np.prod(np.shape(self._tensor._storage.array)))

    __len__ = size

    def tolist(self):
        return self._values().tolist()

    def __iter__(self):
        return iter(self.tolist())

    def __getitem__(self, index):
        return self._values()[index].item()

    def data_ptr(self):
        return self._tensor._storage.data_ptr()

    def nbytes(self):
        return self.size() * self.dtype.itemsize

    def element_size(self):
        return self.dtype.itemsize

    def untyped(self):
        return self._tensor.untyped_storage()

    def __repr__(self):
        values = "\n".join(f" {v}" for v in self.tolist())
        return f"{values}\n[torch.storage.TypedStorage(dtype={self.dtype}, device=" \
               f"{self.device}) of size {self.size()}]"


@_method("storage")
def storage(self):
    warnings.warn("TypedStorage is deprecated. It will be removed in the future and "
                  "UntypedStorage will be the only storage class. This should only matter to "
                  "you if you are using storages directly.  To access UntypedStorage "
                  "directly, use tensor.untyped_storage() instead of tensor.storage()",
                  UserWarning, stacklevel=2)
    return TypedStorage(self)


@_method("pin_memory")
def pin_memory(self, device=None):
    from .. import _device
    _device._current_accelerator()     # PyTorch's error without an accelerator
    return self      # JAX stages host-to-device copies itself


@_method("is_pinned")
def is_pinned(self, device=None):
    return False


@_method("share_memory_")
def share_memory_(self):
    # one process owns the array; torchlike's DataLoader workers are threads
    self._shared = True
    return self


@_method("is_shared")
def is_shared(self):
    return bool(getattr(self, "_shared", False))
