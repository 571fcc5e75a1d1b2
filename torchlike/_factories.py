"""Tensor factories: tensor, as_tensor, from_numpy, zeros, ones, full, arange, rand ...

Every factory fixes the dtype explicitly (PyTorch's defaults, never JAX's) and places
the array on the requested torchlike device.
"""
import builtins
import math
import numbers

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np

from . import _device
from . import _dtype as dt
from . import _random
from ._caches import LRU
from ._meta import is_meta_array, meta_array
from ._ops._util import int_list, invalid_arguments, size_args
from ._ops._util import python_type_name as _python_type_name
from ._ops.registry import tensor_method, torch_function
from ._symbolic import SYMBOLS as _SYMBOLS, SymNumber
from ._tensor import Tensor, _new_object


def _place(np_or_jax_array, device):
    return _device.place(np_or_jax_array, device)


def _finish(array, device, requires_grad):
    if device is _device.META and not is_meta_array(array):    # (values made for no one)
        array = meta_array(array.shape, array.dtype)
    if device is None:
        t = Tensor._wrap(array)
    else:                              # (Tensor._wrap inlined: every factory call ends here)
        t = _new_object(Tensor)
        t._init_from_array(array, device)
    if requires_grad:
        if not (t._dtype.is_floating_point or t._dtype.is_complex):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t._requires_grad = True
    return t


def _leaf_dtype(x):
    """The dtype one element of nested data stands for (torch's infer_scalar_type)."""
    kind = type(x)          # (the plain Python numbers first: most data is made of them)
    if kind is float:
        return dt.get_default_dtype()
    if kind is int:
        return dt.int64
    if kind is bool:
        return dt.bool
    if isinstance(x, Tensor):
        return x._dtype
    if isinstance(x, (np.ndarray, np.generic)):     # before float: np.float64 is a float
        return dt.from_numpy_dtype(x.dtype)
    if isinstance(x, builtins.bool):
        return dt.bool
    if isinstance(x, numbers.Integral):
        return dt.int64
    if isinstance(x, numbers.Real):
        return dt.get_default_dtype()
    if isinstance(x, numbers.Complex):
        return dt.default_complex_dtype()
    raise TypeError(f"new(): invalid data type '{type(x).__name__}'")


def _infer_dtype(data):
    """PyTorch's dtype for nested Python data: promote_types over every element (numpy
    scalars and tensors keep their own dtypes); no elements at all means the default."""
    result = None
    plain = set()           # the types of plain Python numbers met (promoted once each)
    stack = [data]
    while stack:
        x = stack.pop()
        kind = type(x)
        if kind is float or kind is int or kind is bool:
            plain.add(kind)
            continue
        if kind in _SYMBOLS:
            plain.add(x.python_type)
            continue
        if isinstance(x, (list, tuple)):
            # an empty sequence stands for the default dtype, as in PyTorch
            stack.extend(x) if x else stack.append(0.0)
            continue
        d = _leaf_dtype(x)
        result = d if result is None else dt.promote_types(result, d)
    for kind in plain:
        d = _leaf_dtype(kind())
        result = d if result is None else dt.promote_types(result, d)
    return dt.get_default_dtype() if result is None else result


def _is_sequence(x):
    return isinstance(x, (list, tuple))


def _nested_shape(data):
    """The shape nested sequences claim, read from their first elements (as PyTorch)."""
    shape = []
    x = data
    while _is_sequence(x):
        shape.append(len(x))
        if not x:
            break
        x = x[0]
    if isinstance(x, (Tensor, np.ndarray)):
        shape.extend(x.shape)
    return shape


_PLAIN_NUMBERS = frozenset((float, int, bool))


def _check_nested(data, shape, dtype):
    """PyTorch's errors for ragged nested sequences (a queue, not recursion)."""
    if 0 in shape:          # PyTorch stores nothing, so it checks nothing either
        return
    pending = [(data, 0)]
    while pending:
        x, depth = pending.pop()
        if isinstance(x, (Tensor, np.ndarray)):
            continue        # numpy/np.stack report their own shape errors
        if depth == len(shape):
            if _is_sequence(x):
                if dtype.is_floating_point or dtype.is_complex:
                    raise TypeError(f"must be real number, not {type(x).__name__}")
                raise TypeError(f"'{type(x).__name__}' object cannot be interpreted as an integer")
            continue
        if not _is_sequence(x):
            raise TypeError("not a sequence")
        if len(x) != shape[depth]:
            raise ValueError(f"expected sequence of length {shape[depth]} at dim {depth} "
                             f"(got {len(x)})")
        if depth + 1 == len(shape) and all([type(item) in _PLAIN_NUMBERS for item in x]):
            continue        # a row of plain numbers: nothing below it to check
        pending.extend((item, depth + 1) for item in x)


def _to_numpy(data, dtype=None):
    """Nested data as a numpy array (values only; the caller casts to the dtype)."""
    if isinstance(data, Tensor):
        return np.asarray(data.detach())
    if _is_sequence(data):
        shape = _nested_shape(data)
        _check_nested(data, shape, dtype or _infer_dtype(data))
        if 0 in shape:
            return np.zeros(shape)
        if any(isinstance(x, Tensor) for x in data):
            return np.stack([_to_numpy(x, dtype) for x in data])
    values = np.asarray(data)
    if values.dtype == object or values.dtype == np.uint64:
        # Python ints beyond int64: PyTorch unpacks every int as a C long long
        raise ValueError("Overflow when unpacking long long")
    return values


# The range PyTorch's checked conversion of Python numbers accepts for each integer dtype
# (unsigned types also take negative ints down to -max, which then wrap around; negative
# floats they refuse).
_INT_RANGE = {"uint8": (-255, 255), "int8": (-128, 127), "int16": (-32768, 32767),
              "int32": (-2 ** 31, 2 ** 31 - 1), "int64": (-2 ** 63, 2 ** 63 - 1)}


def _int_range(dtype, is_float):
    lo, hi = _INT_RANGE[dtype.name]
    return (0 if is_float and dtype is dt.uint8 else lo), hi


def _cast_python_values(values, dtype):
    """Python numbers (as a numpy array) to `dtype` with torch.tensor's overflow checks."""
    if dtype.name in _INT_RANGE:
        if values.dtype.kind == "c":
            raise TypeError("'complex' object cannot be interpreted as an integer")
        lo, hi = _int_range(dtype, values.dtype.kind == "f")
        if values.size and (not np.all(np.isfinite(values)) or values.min() < lo
                            or values.max() > hi):
            raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow")
        if values.dtype.kind == "f":
            values = np.trunc(values)
        # through int64, so that negative values wrap into unsigned types as in C
        return values.astype(np.int64).astype(dtype.np)
    if values.dtype.kind == "c" and not dtype.is_complex and dtype is not dt.bool:
        raise TypeError("must be real number, not complex")
    if values.dtype.kind in "USO":      # only reachable with a fixed dtype (torch.Tensor)
        raise TypeError("must be real number, not str")
    with np.errstate(over="ignore", invalid="ignore"):     # overflow to inf, silently
        return values.astype(dtype.np)


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
    if isinstance(data, str):
        raise TypeError("new(): invalid data type 'str'")
    if isinstance(data, jax.Array):         # a copy, as torch.tensor(ndarray) makes
        return _tensor_from_jax(data, dtype, device, requires_grad)
    if dtype is None:
        dtype = (data._dtype if isinstance(data, Tensor)
                 else dt.from_numpy_dtype(data.dtype) if isinstance(data, (np.ndarray, np.generic))
                 else _infer_dtype(data))
    if device is None and isinstance(data, Tensor):
        device = data.device
    device = _device.canonical(device)
    try:
        values = _to_numpy(data, dtype)
    except ValueError:
        if not _holds_symbol(data):
            raise
        # numbers .item() read in a compiled function's trace (_symbolic.py)
        return _finish(jnp.asarray(_symbol_values(data), dtype.np), device, requires_grad)
    if _is_python_data(data):
        values = _cast_python_values(values, dtype)
    return _finish(_place(values.astype(dtype.np), device), device, requires_grad)


def _holds_symbol(data):
    return type(data) in _SYMBOLS or (
        _is_sequence(data) and any(_holds_symbol(x) for x in data))


def _symbol_values(data):
    """Nested data with each symbol replaced by its traced value."""
    if type(data) in _SYMBOLS:
        return data._value
    return [_symbol_values(x) for x in data] if _is_sequence(data) else data


def _tensor_from_jax(array, dtype, device, requires_grad):
    dtype = dtype or dt.from_numpy_dtype(array.dtype)
    device = _device.canonical(device)
    copy = jnp.array(array, dtype=dtype.np, copy=True)
    if not isinstance(copy, jax.core.Tracer):      # (a tracer has no device to move)
        copy = _place(copy, device)
    return _finish(copy, device, requires_grad)


def _is_python_data(data):
    """Python numbers (possibly nested): these get PyTorch's overflow checks; numpy
    arrays and tensors convert with C casts instead."""
    if isinstance(data, (Tensor, np.ndarray, np.generic)):
        return False
    return not (_is_sequence(data) and any(isinstance(x, (Tensor, np.ndarray)) for x in data))


@torch_function("as_tensor", "asarray")
def as_tensor(data, dtype=None, device=None, **kwargs):
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    if isinstance(data, np.ndarray) and dtype is None and device is None:
        return from_numpy(data)
    if isinstance(data, jax.Array) and dtype is None and device is None:
        from ._jax_bridge import from_jax       # shares, as as_tensor(ndarray) does
        return from_jax(data)
    return tensor(data, dtype=dtype, device=device)


@torch_function("from_numpy")
def from_numpy(array):
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {_type_name(array)})")
    from ._numpy_sharing import check_array, share_array
    check_array(array)
    dt.from_numpy_dtype(array.dtype)            # PyTorch's error for a dtype it lacks
    cpu = _device.canonical(None)
    # the tensor's storage keeps the array as its values (_numpy_sharing.py)
    return share_array(Tensor._wrap(_place(array, cpu), cpu), array)


def _resolve(dtype, device, default=None):
    return (dtype or default or dt.get_default_dtype()), _device.canonical(device)


def scalar_as(value, dtype):
    """A Python number as a numpy scalar of `dtype`, converted the C way (overflow gives
    inf, complex to real keeps the real part, to bool tests for nonzero), silently."""
    if dtype is dt.bool:
        return np.bool_(value != 0)
    if isinstance(value, complex) and not dtype.is_complex:
        value = value.real
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(value).astype(dtype.np)[()]


# JAX arrays are immutable (an in-place op replaces its storage's array), so tensors can
# share one array of constants: a small ones/zeros/full costs a lookup, not a dispatch.
_FILLED = LRU(256)
_FILLED_MAX_NUMEL = 4096


def _filled(shape, value, dtype, device, requires_grad):
    dtype, device = _resolve(dtype, device)
    kind = type(value)
    if kind in _SYMBOLS:        # a number .item() read in a compiled function's trace
        return _finish(jnp.full(shape, value._value.astype(dtype.np)), device, requires_grad)
    if (kind is int or (kind is float and value != 0 and value == value)) \
            and math.prod(shape) <= _FILLED_MAX_NUMEL:
        # keyed by the number itself (not its converted bytes): a hit converts nothing.
        # (An int, or a float other than nan and zeros, whose sign a key would lose.)
        key = (shape, dtype, device, kind, value)
        array = _FILLED.peek(key)      # (no reordering: a constant evicted is filled again)
        if array is None:
            with jax.ensure_compile_time_eval():       # a cached array is never a tracer
                array = _device.filled(shape, scalar_as(value, dtype), dtype.np, device)
            _FILLED[key] = array
        return _finish(array, device, requires_grad)
    scalar = scalar_as(value, dtype)
    key = (shape, dtype, device, scalar.tobytes()) if math.prod(shape) <= _FILLED_MAX_NUMEL \
        else None
    array = _FILLED.get(key) if key is not None else None
    if array is None:
        with jax.ensure_compile_time_eval():       # a cached array is never a tracer
            array = _device.filled(shape, scalar, dtype.np, device)
        if key is not None:
            _FILLED[key] = array
    return _finish(array, device, requires_grad)


def _shape_from(size, name=None, dtype=None):
    """The shape of size arguments f(2, 3) / f((2, 3)), with PyTorch's errors in its
    order (argument types first, then values); `name` is the factory's name for them."""
    if len(size) == 1 and type(size[0]) is tuple and size[0]:
        size_or_sizes = size[0]       # f((2, 3)), as a module's state or buffer asks
    else:
        size_or_sizes = size
    if size_or_sizes and (dtype is None or type(dtype) is dt.dtype) \
            and all([type(n) is int and n >= 0 for n in size_or_sizes]):
        return size_or_sizes    # f(2, 3) or f((2, 3)): nothing to convert or refuse
    if not size and name is not None:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    shape = size_args(size, name or "new")
    if dtype is not None and not isinstance(dtype, dt.dtype):
        raise TypeError(f"{name}(): argument 'dtype' must be torch.dtype, not {type(dtype).__name__}")
    for n in shape:
        if n < 0:
            if name == "zeros":     # zeros checks sizes itself, with its own message
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(shape)}")
    return shape


@torch_function("zeros")
def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    return _filled(_shape_from(size, "zeros", dtype), 0, dtype, device, requires_grad)


@torch_function("ones")
def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    return _filled(_shape_from(size, "ones", dtype), 1, dtype, device, requires_grad)


@torch_function("empty")
def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):
    return _filled(_shape_from(size, "empty", dtype), 0, dtype, device, requires_grad)


# The C++ names PyTorch's "value cannot be converted" error uses for fill values.
_C_TYPE = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int",
           "int64": "int64_t", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
           "float32": "float", "float64": "double", "complex64": "c10::complex<float>",
           "complex128": "c10::complex<double>"}


def check_fill_value(value, dtype, numel=2):
    """PyTorch's checked conversion of a fill value to `dtype` (full, fill_ ...). For a
    single element PyTorch takes a shortcut that converts half types unchecked."""
    if dtype is dt.bool or isinstance(value, (builtins.bool, SymNumber)):
        return          # (a symbol's value is not known here: _symbolic.py)
    if isinstance(value, numbers.Integral):      # keep ints exact: 2**63 - 1 fits int64
        real, imag = int(value), 0
    else:
        real, imag = complex(value).real, complex(value).imag
    name = _C_TYPE[dtype.name]
    if dtype.name in _INT_RANGE:
        lo, hi = _int_range(dtype, isinstance(real, float))
        ok = imag == 0 and math.isfinite(real) and lo <= real <= hi
    elif dtype.is_complex:
        limit = float(np.finfo(dtype.to_real().np).max)
        ok = not any(math.isfinite(p) and abs(p) > limit for p in (real, imag))
    elif dtype in (dt.float16, dt.bfloat16) and numel == 1:
        ok, name = imag == 0, "double"
    else:
        limit = float(ml_dtypes.finfo(dtype.np).max)
        ok = imag == 0 and not (math.isfinite(real) and abs(real) > limit)
    if not ok:
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")


@torch_function("full")
def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    shape = int_list(size, "full", single=False)
    if not isinstance(fill_value, numbers.Number):
        raise TypeError("full(): argument 'fill_value' (position 2) must be Number, not "
                        f"{type(fill_value).__name__}")
    _shape_from((shape,))
    if dtype is None:
        dtype = dt.scalar_dtype(fill_value)
    check_fill_value(fill_value, dtype, math.prod(shape))
    return _filled(shape, fill_value, dtype, device, requires_grad)


class memory_format:
    """torch.memory_format: how a new tensor lays out its elements."""

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return "torch." + self._name


preserve_format = memory_format("preserve_format")
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")


def layout_strides(input, fmt, fn_name):
    """The strides of a new tensor like `input` in memory format `fmt` (None: contiguous)."""
    from ._storage import preserved_strides
    if fmt is None or fmt is preserve_format:
        return None if input.is_contiguous() else preserved_strides(tuple(input.shape),
                                                                    input.stride())
    if not isinstance(fmt, memory_format):
        raise TypeError(f"{fn_name}(): argument 'memory_format' must be torch.memory_format, "
                        f"not {type(fmt).__name__}")
    if fmt is contiguous_format:
        return None
    rank = 4 if fmt is channels_last else 5
    if input.ndim != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {fmt._name} format")
    # channels innermost: N, spatial dims..., C
    shape = tuple(input.shape)
    order = (0,) + tuple(range(2, rank)) + (1,)
    strides, acc = [0] * rank, 1
    for d in reversed(order):
        strides[d] = acc
        acc *= max(shape[d], 1)
    return tuple(strides)


def with_memory_format(result, input, fmt, fn_name):
    """result (a fresh tensor shaped like input) laid out as `fmt` asks."""
    strides = layout_strides(input, fmt, fn_name)
    return result if strides is None else result._adopt_layout(strides)


def _like(input, dtype, device):
    return input.shape, dtype or input.dtype, device or input.device


@torch_function("zeros_like")
def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    shape, dtype, device = _like(input, dtype, device)
    return with_memory_format(_filled(shape, 0, dtype, device, requires_grad), input,
                              memory_format, "zeros_like")


@torch_function("ones_like")
def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    shape, dtype, device = _like(input, dtype, device)
    return with_memory_format(_filled(shape, 1, dtype, device, requires_grad), input,
                              memory_format, "ones_like")


@torch_function("empty_like")
def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    shape, dtype, device = _like(input, dtype, device)
    return with_memory_format(_filled(shape, 0, dtype, device, requires_grad), input,
                              memory_format, "empty_like")


@torch_function("full_like")
def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    shape, dtype, device = _like(input, dtype, device)
    check_fill_value(fill_value, dtype, math.prod(shape))
    return with_memory_format(_filled(shape, fill_value, dtype, device, requires_grad), input,
                              memory_format, "full_like")


_MISSING = object()     # an argument not given (None is an invalid value there)


@torch_function("eye")
def eye(n, m=_MISSING, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    if m is _MISSING:
        m = None
        if not _is_size_like(n):
            raise TypeError(f"eye(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    elif not (_is_size_like(n) and _is_size_like(m)):
        raise invalid_arguments("eye", n, m)
    dtype, device = _resolve(dtype, device)
    for name, value in (("n", n), ("m", m)):
        if value is not None and value < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {value}")
    with jax.default_device(_device.to_jax(device)):
        array = jnp.eye(n, n if m is None else m, dtype=dtype.np)
    return _finish(array, device, requires_grad)


@torch_function("arange")
def arange(start=None, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    if end is None:                 # arange(end)
        start, end = 0, start
    if start is None:               # arange(end=...)
        start = 0
    if end is None:
        raise TypeError("arange() received an invalid combination of arguments - got ()")
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if dtype is None:
        dtype = (dt.int64 if all(isinstance(v, int) for v in values)
                 else dt.get_default_dtype())
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not all(math.isfinite(v) for v in values[:2]):
        raise RuntimeError(f"unsupported range: {_c_number(values[0])} -> {_c_number(values[1])}")
    # PyTorch computes the length from the arguments as doubles and the elements from the
    # arguments converted to the accumulation type (int64 for integer dtypes, so that
    # arange(0.5, 3, dtype=int32) counts from 0). Only int64 has its own length rule and
    # checks (on the converted values, so a step of 0.5 becomes 0 there).
    is_int = not (dtype.is_floating_point or dtype.is_complex)
    start, end, step = (int(v) for v in values) if is_int else (float(v) for v in values)
    check_start, check_end, check_step = (start, end, step) if dtype is dt.int64 else values
    if check_step == 0:
        raise ValueError("step must be nonzero")
    if not ((check_step > 0 and check_end >= check_start)
            or (check_step < 0 and check_end <= check_start)):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is dt.int64:
        n = _c_div(end - start + step - (1 if step > 0 else -1), step)
    else:
        n = math.ceil((values[1] - values[0]) / values[2])
    n = builtins.max(0, n)
    device = _device.canonical(device)
    # integer ranges are kept as filled constants are (the positions `arange(T)` of
    # every forward of a GPT-style model): a new array each call was a transfer to the
    # device, which waits while the device runs the previous step's update
    key = ("arange", start, n, step, dtype, device) if is_int and n <= _FILLED_MAX_NUMEL \
        else None
    array = None if key is None else _FILLED.peek(key)
    if array is None:
        if is_int:
            array = start + np.arange(n, dtype=np.int64) * step
        else:
            acc = np.float32 if dtype in (dt.float16, dt.bfloat16) else np.float64
            array = acc(start) + np.arange(n, dtype=acc) * acc(step)
        with jax.ensure_compile_time_eval():       # a cached array is never a tracer
            array = _place(array.astype(dtype.np), device)
        if key is not None:
            _FILLED[key] = array
    return _finish(array, device, requires_grad)


def _c_div(a, b):
    """C's integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _c_number(v):
    """A number as PyTorch's C++ prints it in messages (inf, nan, 1.5, 3)."""
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if v != v else ("inf" if v > 0 else "-inf")
    return f"{v:g}" if isinstance(v, float) else str(v)


def _zero_dim_ends(name, start, end):
    """linspace/logspace take tensor ends only as 0-d tensors."""
    ndims = [getattr(v, "ndim", 0) for v in (start, end)]
    if any(ndims):
        raise RuntimeError(f"{name} only supports 0-dimensional start and end tensors, but got "
                           f"start with {ndims[0]} dimension(s) and end with {ndims[1]} "
                           "dimension(s).")


@torch_function("linspace")
def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    _zero_dim_ends("linspace", start, end)
    if not _is_size_like(steps):
        raise invalid_arguments("linspace", start, end, steps)
    dtype, device = _resolve(dtype, device)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    # PyTorch fills the first half from start and the second half from end.
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    i = np.arange(steps, dtype=np.float64)
    halfway = steps // 2
    values = np.where(i < halfway, start + step * i, end - step * (steps - 1 - i))
    if steps == 1:
        values = np.full(1, start, dtype=np.float64)
    return _finish(_place(values.astype(dtype.np), device), device, requires_grad)


@torch_function("logspace")
def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False, out=None):
    _zero_dim_ends("logspace", start, end)
    lin = linspace(start, end, steps, dtype=dt.float64)
    dtype, device = _resolve(dtype, device)
    values = np.power(base, np.asarray(lin))
    return _finish(_place(values.astype(dtype.np), device), device, requires_grad)


def _random_tensor(kind, size, dtype, device, requires_grad, generator, low=0.0, high=1.0,
                   name=None):
    dtype, device = _resolve(dtype, device)
    shape = _shape_from(size, name)
    return _finish(_random.sample(kind, shape, dtype, low, high, generator, device), device,
                   requires_grad)


@torch_function("rand")
def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    return _random_tensor("uniform", size, dtype, device, requires_grad, generator, name="rand")


@torch_function("randn")
def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    return _random_tensor("normal", size, dtype, device, requires_grad, generator, name="randn")


@torch_function("randint")
def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad=False):
    two_args = size is None
    if two_args:                    # randint(high, size)
        low, high, size = 0, low, high
    if not (_is_size_like(low) and _is_size_like(high) and isinstance(size, (tuple, list))):
        if two_args and _is_size_like(high):
            raise TypeError("randint(): argument 'size' (position 2) must be tuple of ints, not "
                            f"{type(size).__name__}")
        raise invalid_arguments("randint", low, high, size)
    _shape_from((size,), "randint")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    kind = "randint" if high - low < _random.SMALL_SPAN else "randint_wide"
    return _random_tensor(kind, (size,), dtype or dt.int64, device, requires_grad, generator,
                          low, high)


@torch_function("randperm")
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    return _random_tensor("permutation", (n,), dtype or dt.int64, device, requires_grad, generator)


@torch_function("rand_like")
def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    shape, dtype, device = _like(input, dtype, device)
    return with_memory_format(rand(shape, dtype=dtype, device=device,
                                   requires_grad=requires_grad), input, memory_format, "rand_like")


@torch_function("randn_like")
def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    shape, dtype, device = _like(input, dtype, device)
    return with_memory_format(randn(shape, dtype=dtype, device=device,
                                    requires_grad=requires_grad), input, memory_format,
                              "randn_like")


@torch_function("randint_like")
def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False):
    if high is None:
        low, high = 0, low
    shape, dtype, device = _like(input, dtype, device)
    return randint(low, high, shape, dtype=dtype, device=device)


_LEGACY_OVERLOADS = """, but expected one of:
 * (*, torch.device device = None)
 * (torch.Storage storage)
 * (Tensor other)
 * (tuple of ints size, *, torch.device device = None)
 * (object data, *, torch.device device = None)
"""


def _is_size_like(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, (builtins.bool, np.bool_))


# -- Tensor.new_*: factories that default to self's dtype and device -----------------------
def _new_defaults(self, dtype, device):
    return dtype or self._dtype, device or self.device


@tensor_method("new_tensor")
def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    dtype, device = _new_defaults(self, dtype, device)
    if isinstance(data, Tensor):
        import warnings
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than tensor.new_tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
        return _finish(data.detach().to(device=device, dtype=dtype).clone()._data(), device,
                       requires_grad)
    return tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def _new_size(name, size):
    if len(size) == 1 and isinstance(size[0], int) and name == "new_full":
        raise TypeError("new_full(): argument 'size' (position 1) must be tuple of ints, not int")
    return size


@tensor_method("new_zeros")
def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, **unused):
    dtype, device = _new_defaults(self, dtype, device)
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


@tensor_method("new_ones")
def new_ones(self, *size, dtype=None, device=None, requires_grad=False, **unused):
    dtype, device = _new_defaults(self, dtype, device)
    return ones(*size, dtype=dtype, device=device, requires_grad=requires_grad)


@tensor_method("new_empty")
def new_empty(self, *size, dtype=None, device=None, requires_grad=False, **unused):
    dtype, device = _new_defaults(self, dtype, device)
    return empty(*size, dtype=dtype, device=device, requires_grad=requires_grad)


@tensor_method("new_full")
def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, **unused):
    dtype, device = _new_defaults(self, dtype, device)
    _new_size("new_full", (size,))
    return full(size, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def legacy_construct(self, args, device=None, dtype=None):
    """torch.Tensor(...): Tensor() is empty, Tensor(*sizes) uninitialised (here: zeros),
    Tensor(sequence) copies data into the default dtype, Tensor(tensor) aliases it."""
    if dtype is not None:
        got = ", ".join([type(a).__name__ for a in args] + ["dtype=torch.dtype"])
        raise TypeError(f"new() received an invalid combination of arguments - got ({got})"
                        + _LEGACY_OVERLOADS)
    dtype = dt.get_default_dtype()
    device = _device.canonical(device)
    if len(args) == 1 and isinstance(args[0], Tensor):
        alias = args[0].detach()
        for name in Tensor.__slots__:
            if name not in ("__dict__", "__weakref__"):
                setattr(self, name, getattr(alias, name))
        return
    if any(isinstance(a, Tensor) for a in args):
        got = ", ".join(type(a).__name__ for a in args)
        raise TypeError(f"new() received an invalid combination of arguments - got ({got})"
                        + _LEGACY_OVERLOADS)
    data = args[0] if len(args) == 1 else None
    if data is not None and not _is_size_like(data) and data.__class__.__name__ != "Size":
        if isinstance(data, str):
            raise TypeError("new(): invalid data type 'str'")
        if not isinstance(data, (list, tuple, np.ndarray)):
            raise TypeError(f"new(): data must be a sequence (got {_python_type_name(data)})")
        values = _to_numpy(data, dtype)
        values = (_cast_python_values(values, dtype) if _is_python_data(data)
                  else values.astype(dtype.np))
        self._init_from_array(_place(values, device), device)
        return
    for pos, a in enumerate(args if data is None else (), start=1):
        if not _is_size_like(a):
            raise TypeError(f"new(): argument 'size' failed to unpack the object at pos {pos} "
                            f"with error \"type must be tuple of ints,but got "
                            f"{type(a).__name__}\"")
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


def _type_name(value):
    """A type as PyTorch's messages name it (its C name): numpy's scalars with their
    module (`numpy.float32`), Python's own types and classes by their name."""
    kind = type(value)
    return f"numpy.{kind.__name__}" if isinstance(value, np.generic) else kind.__name__
