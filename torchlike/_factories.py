"""Tensor factories: tensor, as_tensor, from_numpy, zeros, ones, full, arange, rand ...

Every factory fixes the dtype explicitly (PyTorch's defaults, never JAX's) and places
the array on the requested torchlike device.
"""
import builtins
import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np

from . import _device
from . import _dtype as dt
from . import _random
from ._ops._util import size_args
from ._ops.registry import torch_function
from ._tensor import Tensor


def _place(np_or_jax_array, device):
    return jax.device_put(np_or_jax_array, _device.to_jax(device))


def _finish(array, device, requires_grad):
    t = Tensor._wrap(array, device)
    if requires_grad:
        if not (t._dtype.is_floating_point or t._dtype.is_complex):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t._requires_grad = True
    return t


def _infer_dtype(data):
    """PyTorch's dtype for nested Python data: bool < int64 < default float < complex."""
    kind = -1
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, Tensor):
            kind = builtins.max(kind, {0: 0, 1: 1, 2: 2, 3: 3}[dt.category(x._dtype)])
        elif isinstance(x, np.ndarray) or isinstance(x, np.generic):
            kind = builtins.max(kind, dt.category(dt.from_numpy_dtype(np.asarray(x).dtype)))
        elif isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, builtins.bool):
            kind = builtins.max(kind, 0)
        elif isinstance(x, numbers.Integral):
            kind = builtins.max(kind, 1)
        elif isinstance(x, numbers.Real):
            kind = builtins.max(kind, 2)
        elif isinstance(x, numbers.Complex):
            kind = builtins.max(kind, 3)
        else:
            raise TypeError(f"new(): invalid data type '{type(x).__name__}'")
    return [dt.bool, dt.int64, dt.get_default_dtype(), dt.default_complex_dtype(), dt.float32][kind]


def _check_nested(data, depth=0, shape=None):
    """PyTorch's error for ragged nested sequences."""
    if shape is None:
        shape = []
        x = data
        while isinstance(x, (list, tuple)):
            shape.append(len(x))
            if not x:
                break
            x = x[0]
    if isinstance(data, (list, tuple)):
        if depth >= len(shape) or len(data) != shape[depth]:
            expected = shape[depth] if depth < len(shape) else 0
            raise ValueError(f"expected sequence of length {expected} at dim {depth} (got {len(data)})")
        for item in data:
            _check_nested(item, depth + 1, shape)


def _to_numpy(data):
    if isinstance(data, Tensor):
        return np.asarray(data.detach())
    if isinstance(data, (list, tuple)):
        if any(isinstance(x, Tensor) for x in data):
            return np.stack([_to_numpy(x) for x in data]) if data else np.zeros((0,))
        _check_nested(data)
    return np.asarray(data)


def tensor_from_numpy(values, dtype, device=None):
    device = _device.canonical(device)
    return Tensor._wrap(_place(np.asarray(values).astype(dtype.np), device), device)


@torch_function("tensor")
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    if isinstance(data, Tensor):
        import warnings
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    if dtype is None:
        dtype = (data._dtype if isinstance(data, Tensor)
                 else dt.from_numpy_dtype(data.dtype) if isinstance(data, (np.ndarray, np.generic))
                 else _infer_dtype(data))
    if device is None and isinstance(data, Tensor):
        device = data.device
    device = _device.canonical(device)
    values = _to_numpy(data)
    return _finish(_place(values.astype(dtype.np), device), device, requires_grad)


@torch_function("as_tensor", "asarray")
def as_tensor(data, dtype=None, device=None, **kwargs):
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    if isinstance(data, np.ndarray) and dtype is None and device is None:
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


@torch_function("from_numpy")
def from_numpy(array):
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    d = dt.from_numpy_dtype(array.dtype)
    # numpy arrays cannot share memory with JAX arrays; the tensor holds a copy.
    return Tensor._wrap(_place(array, _device.canonical(None)), _device.canonical(None)) \
        if d else None


def _resolve(dtype, device, default=None):
    return (dtype or default or dt.get_default_dtype()), _device.canonical(device)


def _filled(shape, value, dtype, device, requires_grad):
    dtype, device = _resolve(dtype, device)
    with jax.default_device(_device.to_jax(device)):
        array = jnp.full(shape, value, dtype=dtype.np)
    return _finish(array, device, requires_grad)


def _shape_from(size):
    shape = size_args(size)
    for n in shape:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(shape)}")
    return shape


@torch_function("zeros")
def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    return _filled(_shape_from(size), 0, dtype, device, requires_grad)


@torch_function("ones")
def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    return _filled(_shape_from(size), 1, dtype, device, requires_grad)


@torch_function("empty")
def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):
    return _filled(_shape_from(size), 0, dtype, device, requires_grad)


@torch_function("full")
def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = dt.scalar_dtype(fill_value)
    return _filled(_shape_from((size,)), fill_value, dtype, device, requires_grad)


def _like(input, dtype, device):
    return input.shape, dtype or input.dtype, device or input.device


@torch_function("zeros_like")
def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    shape, dtype, device = _like(input, dtype, device)
    return _filled(shape, 0, dtype, device, requires_grad)


@torch_function("ones_like")
def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    shape, dtype, device = _like(input, dtype, device)
    return _filled(shape, 1, dtype, device, requires_grad)


@torch_function("empty_like")
def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    shape, dtype, device = _like(input, dtype, device)
    return _filled(shape, 0, dtype, device, requires_grad)


@torch_function("full_like")
def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    shape, dtype, device = _like(input, dtype, device)
    return _filled(shape, fill_value, dtype, device, requires_grad)


@torch_function("eye")
def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    dtype, device = _resolve(dtype, device)
    with jax.default_device(_device.to_jax(device)):
        array = jnp.eye(n, n if m is None else m, dtype=dtype.np)
    return _finish(array, device, requires_grad)


@torch_function("arange")
def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = values
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        dtype = (dt.int64 if all(isinstance(v, int) for v in values)
                 else dt.get_default_dtype())
    n = builtins.max(0, math.ceil((end - start) / step))
    # PyTorch computes start + i * step in double (or int64) and casts once.
    values = np.arange(n, dtype=np.float64 if dtype.is_floating_point else np.int64) * step + start
    device = _device.canonical(device)
    return _finish(_place(values.astype(dtype.np), device), device, requires_grad)


@torch_function("linspace")
def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    dtype, device = _resolve(dtype, device)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    # PyTorch fills the first half from start and the second half from end.
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    i = np.arange(steps, dtype=np.float64)
    halfway = steps // 2
    values = np.where(i < halfway, start + step * i, end - step * (steps - 1 - i))
    return _finish(_place(values.astype(dtype.np), device), device, requires_grad)


@torch_function("logspace")
def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False, out=None):
    lin = linspace(start, end, steps, dtype=dt.float64)
    dtype, device = _resolve(dtype, device)
    values = np.power(base, np.asarray(lin))
    return _finish(_place(values.astype(dtype.np), device), device, requires_grad)


def _random_tensor(kind, size, dtype, device, requires_grad, generator, low=0.0, high=1.0):
    dtype, device = _resolve(dtype, device)
    shape = _shape_from(size)
    return _finish(_random.sample(kind, shape, dtype, low, high, generator, device), device,
                   requires_grad)


@torch_function("rand")
def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    return _random_tensor("uniform", size, dtype, device, requires_grad, generator)


@torch_function("randn")
def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    return _random_tensor("normal", size, dtype, device, requires_grad, generator)


@torch_function("randint")
def randint(low, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad=False):
    if size is None:
        low, high, size = 0, low, high
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    return _random_tensor("randint", (size,), dtype or dt.int64, device, requires_grad, generator,
                          low, high)


@torch_function("randperm")
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    return _random_tensor("permutation", (n,), dtype or dt.int64, device, requires_grad, generator)


@torch_function("rand_like")
def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    shape, dtype, device = _like(input, dtype, device)
    return rand(shape, dtype=dtype, device=device, requires_grad=requires_grad)


@torch_function("randn_like")
def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    shape, dtype, device = _like(input, dtype, device)
    return randn(shape, dtype=dtype, device=device, requires_grad=requires_grad)


@torch_function("randint_like")
def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False):
    if high is None:
        low, high = 0, low
    shape, dtype, device = _like(input, dtype, device)
    return randint(low, high, shape, dtype=dtype, device=device)


def legacy_construct(self, args, device=None, dtype=None):
    """torch.Tensor(...): sizes make an uninitialised (here: zero) tensor; data is copied."""
    dtype = dtype or dt.get_default_dtype()
    device = _device.canonical(device)
    if len(args) == 1 and not isinstance(args[0], (int, Tensor)) and not (
            isinstance(args[0], (tuple, list)) and args[0].__class__.__name__ == "Size"):
        values = _to_numpy(args[0]).astype(dtype.np)
        self._init_from_array(_place(values, device), device)
        return
    if len(args) == 1 and isinstance(args[0], Tensor):
        src = args[0]
        self._init_from_array(src._data(), src.device)
        self._storage = src._storage
        return
    shape = _shape_from(args) if args else (0,)
    with jax.default_device(_device.to_jax(device)):
        self._init_from_array(jnp.zeros(shape, dtype=dtype.np), device)


def parse_to_args(args, kwargs):
    """Tensor.to(dtype) / to(device, dtype) / to(tensor) / keyword forms."""
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() received an invalid combination of arguments - got unexpected "
                        f"keyword {next(iter(kwargs))}")
    for a in args:
        if isinstance(a, dt.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, (str, _device.device, int)) and not isinstance(a, builtins.bool):
            device = a
        elif isinstance(a, builtins.bool):
            pass  # non_blocking positional
        else:
            raise TypeError(f"to() received an invalid combination of arguments - got ({type(a).__name__})")
    return device, dtype, copy
