"""Argument helpers shared by the op modules: dims, shapes, scalars, PyTorch's errors."""
import builtins
import weakref

import jax
import numpy as np
from jax._src.array import ArrayImpl as _ArrayImpl     # a concrete jax.Array's class

from .. import _dtype as dt
from .._tensor import Tensor


def wrap_dim(dim, ndim):
    """A non-negative dim, with PyTorch's IndexError for one out of range."""
    rank = builtins.max(ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-rank}, "
                         f"{rank - 1}], but got {dim})")
    return dim % rank if ndim else 0


def wrap_dims(dims, ndim):
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, int):
        dims = (dims,)
    out = tuple(wrap_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {out[0]} appears multiple times in the list of dims")
    return out


def type_name(x):
    """A value's type as PyTorch's argument parser names it in messages."""
    return "Tensor" if isinstance(x, Tensor) else type(x).__name__


def _is_index(v):
    """What PyTorch's parser unpacks as an int: ints, numpy ints, integer 0-dim tensors."""
    if isinstance(v, Tensor):
        return v.ndim == 0 and not (v._dtype.is_floating_point or v._dtype.is_complex)
    return isinstance(v, (int, np.integer))


def int_list(value, fn, arg="size", pos=1, single=True):
    """A tuple-of-ints argument (`single`: a lone int is accepted too), with the errors
    of PyTorch's argument parser: its first element decides whether the signature
    matches, later ones fail to unpack."""
    if isinstance(value, (tuple, list)):
        if value and (isinstance(value[0], builtins.bool) or not _is_index(value[0])):
            raise TypeError(f"{fn}(): argument '{arg}' (position {pos}) must be tuple of ints, "
                            f"but found element of type {type_name(value[0])} at pos 0")
        for i, v in enumerate(value[1:], 2):
            if not _is_index(v):
                raise TypeError(f"{fn}(): argument '{arg}' failed to unpack the object at pos {i} "
                                f"with error \"type must be tuple of ints,but got {type_name(v)}\"")
        return tuple(int(v) for v in value)
    if single and _is_index(value) and not isinstance(value, builtins.bool):
        return (int(value),)
    raise TypeError(f"{fn}(): argument '{arg}' (position {pos}) must be tuple of ints, not "
                    f"{type_name(value)}")


def size_args(args, fn, arg="size"):
    """Accept f(2, 3), f((2, 3)), f([2, 3]) and f(torch.Size([2, 3])) with PyTorch's errors
    (`fn`, `arg`: the function and argument the messages name)."""
    return int_list(args[0] if len(args) == 1 else tuple(args), fn, arg)


def invalid_arguments(fn, *args):
    """PyTorch's error for arguments that match none of a function's signatures."""
    return TypeError(f"{fn}() received an invalid combination of arguments - got "
                     f"({', '.join(type_name(a) for a in args)}), but expected one of the "
                     "signatures in its documentation")


def broadcast_shapes(*shapes):
    ndim = builtins.max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for s in shapes:
        for i, n in enumerate(s):
            j = ndim - len(s) + i
            if out[j] == 1:
                out[j] = n
            elif n != 1 and n != out[j]:
                raise RuntimeError(f"The size of tensor a ({out[j]}) must match the size of "
                                   f"tensor b ({n}) at non-singleton dimension {i}")
    return tuple(out)


def check_broadcast(a, b):
    """PyTorch's error message for two tensors that do not broadcast."""
    sa, sb = tuple(a.shape), tuple(b.shape)
    if sa == sb:
        return
    ndim = builtins.max(len(sa), len(sb))
    for i in range(1, ndim + 1):
        x = sa[-i] if i <= len(sa) else 1
        y = sb[-i] if i <= len(sb) else 1
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b "
                               f"({y}) at non-singleton dimension {ndim - i}")


def is_scalar(x):
    return isinstance(x, (builtins.bool, int, float, complex)) and not isinstance(x, Tensor)


def python_type_name(x):
    """The name PyTorch's messages give x's type: qualified by its module unless it is
    a builtin (`int`, `numpy.ndarray`)."""
    t = type(x)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"


def result_dtype(*operands):
    """PyTorch promotion over tensors and Python scalars."""
    tensors = [(x._dtype, len(x._shape)) for x in operands if isinstance(x, Tensor)]
    scalars = [x for x in operands if not isinstance(x, Tensor)]
    return dt.result_type_of(tensors, scalars)


def as_tensor_arg(x, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"expected Tensor as argument, but got {type(x).__name__}")
    return x


def float_result_dtype(d):
    """Ops like exp/sin/mean: integers compute in the default float dtype."""
    return d if (d.is_floating_point or d.is_complex) else dt.get_default_dtype()


def scalar_name(d):
    from .._tensor import SCALAR_NAME
    return SCALAR_NAME[d.name]


_C_TYPE_NAME = {"float64": "double", "float32": "float", "float16": "c10::Half",
                "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
                "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
                "bool": "bool", "complex64": "c10::complex<float>",
                "complex128": "c10::complex<double>"}


def c_type_name(d):
    """The C++ type name some PyTorch messages use ('float', 'long int', 'c10::Half')."""
    return _C_TYPE_NAME[d.name]


def values_to_check(t):
    """t's values on the host, for the checks PyTorch's CPU kernels make (indices in
    range, integer divisors non-zero); None for a tensor on an accelerator, where
    PyTorch's check is an asynchronous device assert and a copy back would stall
    every call."""
    if t.device.type != "cpu":
        return None
    values = t._data()
    if isinstance(values, jax.core.Tracer):    # inside a jax transform: no values to check
        return None
    return np.asarray(values)


def check_can_cast(result, out):
    """PyTorch's error for an in-place or out= result that cannot take `result`'s dtype."""
    if result is not out and not dt.can_cast(result, out):
        raise RuntimeError(f"result type {scalar_name(result)} can't be cast to the desired "
                           f"output type {scalar_name(out)}")


def out_of_range(values, low, high, ignore=None):
    """The first of `values` (host values or None) outside [low, high), or None."""
    if values is None:
        return None
    bad = (values < low) | (values >= high)
    if ignore is not None:
        bad &= values != ignore
    return values[bad].flat[0] if bad.any() else None


# Arrays checked against a range: (id, low, high, ignore) -> (weakref to the array, its
# first value outside the range or None). A training loop passes the same target array
# every step, and JAX arrays never change, so its check reads it on the host once (a
# storage found out of range is not read again before each of its views is); a tensor
# written in place holds a new array, which is checked afresh. Bounded: forgotten all at
# once when full.
_in_range = {}


def indices_out_of_range(t, low, high, ignore=None):
    """out_of_range(values_to_check(t), low, high, ignore), remembering in-range arrays.
    A view's values are some of its storage's: where the storage's computed array is in
    range, the view's pending value is not computed to be checked (`targets.view(-1)`,
    made anew at every step of a loop over one target tensor)."""
    if t.device.type != "cpu":
        return None
    whole = t._storage.array
    if type(whole) is _ArrayImpl and _checked_in_range(whole, low, high, ignore) is None:
        return None
    values = t._data()
    if isinstance(values, jax.core.Tracer):    # inside a jax transform: no values to check
        return None
    return _checked_in_range(values, low, high, ignore)


def _checked_in_range(values, low, high, ignore):
    key = (id(values), low, high, ignore)
    known = _in_range.get(key)
    if known is not None and known[0]() is values:
        return known[1]
    bad = out_of_range(np.asarray(values), low, high, ignore)
    if len(_in_range) >= 256:
        _in_range.clear()
    _in_range[key] = (weakref.ref(values), bad)
    return bad


def check_expand(t, target):
    """PyTorch's message when t cannot be expanded to the shape `target`."""
    shape = tuple(t.shape)
    for i in range(1, len(target) + 1):
        n = shape[-i] if i <= len(shape) else 1
        if n != 1 and n != target[-i] or len(shape) > len(target):
            raise RuntimeError(f"The expanded size of the tensor ({target[-i]}) must match the "
                               f"existing size ({n}) at non-singleton dimension "
                               f"{len(target) - i}.  Target sizes: {list(target)}.  Tensor sizes: "
                               f"{list(shape)}")
