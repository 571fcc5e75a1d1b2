"""torch.finfo / torch.iinfo: machine limits of a dtype, read from ml_dtypes (which
knows bfloat16) and printed as PyTorch prints them (every number in %g)."""
import math

import ml_dtypes

from . import _dtype


def _check_dtype(fn_name, value):
    if not isinstance(value, _dtype.dtype):
        raise TypeError(f"{fn_name}(): argument 'type' (position 1) must be torch.dtype, "
                        f"not {type(value).__name__}")


class finfo:
    """Limits of a floating dtype (a complex dtype reports its real part's)."""

    def __init__(self, type=None):
        if type is None:
            type = _dtype.get_default_dtype()
        _check_dtype("finfo", type)
        if not (type.is_floating_point or type.is_complex):
            raise TypeError("torch.finfo() requires a floating point input type. Use "
                            "torch.iinfo to handle 'torch.finfo'")
        real = type.to_real()
        info = ml_dtypes.finfo(real.np)
        self.bits = real.itemsize * 8
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = float(info.smallest_normal)
        self.smallest_normal = self.tiny
        # 10 ** -(decimal digits eps resolves), as PyTorch defines it
        self.resolution = 10.0 ** -math.floor(-math.log10(self.eps))
        self.dtype = real.name

    def __eq__(self, other):
        return isinstance(other, finfo) and other.dtype == self.dtype

    __hash__ = None      # PyTorch's finfo objects are not hashable either

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype."""

    def __init__(self, type):
        _check_dtype("iinfo", type)
        if type is _dtype.bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if type.is_floating_point or type.is_complex:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo "
                            "to handle 'torch.iinfo'")
        info = ml_dtypes.iinfo(type.np)
        self.bits = type.itemsize * 8
        self.max = int(info.max)
        self.min = int(info.min)
        self.dtype = type.name

    def __eq__(self, other):
        return isinstance(other, iinfo) and other.dtype == self.dtype

    __hash__ = None

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
