"""Argument helpers shared by the op modules: dims, shapes, scalars, PyTorch's errors."""
import builtins

import numpy as np

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


def size_args(args):
    """Accept f(2, 3), f((2, 3)), f([2, 3]) and f(torch.Size([2, 3]))."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(int(a) for a in args)


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


def result_dtype(*operands):
    """PyTorch promotion over tensors and Python scalars."""
    tensors = [(x._dtype, x.ndim) for x in operands if isinstance(x, Tensor)]
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
    return np.asarray(t._data())
