"""The dtypes PyTorch offers with barebones support: uint16/32/64, the float8 family,
and (not computable here) float4_e2m1fn_x2, uint1 (`torch.bit`) and complex32.

PyTorch can create, copy and convert tensors of these types but runs almost no kernel on
them and refuses to promote them (`_dtype.promote_types` raises its messages). JAX has
uint16/32/64 and the float8 types (from ml_dtypes), so tensors of those can be made and
converted. JAX has no complex half, no packed float4 pair and no 1-bit type: those dtype
objects exist (with PyTorch's attributes) but making a tensor of one raises a TypeError
that says so.
"""
import ml_dtypes
import numpy as np

from . import _dtype


def _barebones(name, np_dtype, *, signed, floating):
    d = _dtype.dtype(name, np_dtype, None)      # no rank: never promoted
    d.is_signed, d.is_floating_point = signed, floating
    return d


class _UnrepresentableDtype(_dtype.dtype):
    """A PyTorch dtype that JAX cannot hold: reading `.np` (what every tensor-making path
    does) raises."""
    __slots__ = ()

    def __init__(self, name, itemsize, *, signed, floating, complex_):
        self.name, self.itemsize, self._rank = name, itemsize, None
        self.is_signed, self.is_floating_point, self.is_complex = signed, floating, complex_

    @property
    def np(self):
        raise TypeError(f"torch.{self.name} is not supported by torchlike: JAX has no such "
                        f"type ({_INSTEAD[self.name]})")


_INSTEAD = {"complex32": "use torch.complex64",
            "float4_e2m1fn_x2": "use torch.float8_e4m3fn or torch.bfloat16",
            "uint1": "use torch.bool or torch.uint8"}

uint16 = _barebones("uint16", np.uint16, signed=False, floating=False)
uint32 = _barebones("uint32", np.uint32, signed=False, floating=False)
uint64 = _barebones("uint64", np.uint64, signed=False, floating=False)
float8_e4m3fn = _barebones("float8_e4m3fn", ml_dtypes.float8_e4m3fn, signed=True, floating=True)
float8_e4m3fnuz = _barebones("float8_e4m3fnuz", ml_dtypes.float8_e4m3fnuz, signed=True,
                             floating=True)
float8_e5m2 = _barebones("float8_e5m2", ml_dtypes.float8_e5m2, signed=True, floating=True)
float8_e5m2fnuz = _barebones("float8_e5m2fnuz", ml_dtypes.float8_e5m2fnuz, signed=True,
                             floating=True)
float8_e8m0fnu = _barebones("float8_e8m0fnu", ml_dtypes.float8_e8m0fnu, signed=False,
                            floating=True)
complex32 = _UnrepresentableDtype("complex32", 4, signed=True, floating=False, complex_=True)
float4_e2m1fn_x2 = _UnrepresentableDtype("float4_e2m1fn_x2", 1, signed=True, floating=True,
                                         complex_=False)
bit = _UnrepresentableDtype("uint1", 1, signed=False, floating=False, complex_=False)

UNSIGNED_WIDE = (uint16, uint32, uint64)
FLOAT8 = (float8_e4m3fn, float8_e4m3fnuz, float8_e5m2, float8_e5m2fnuz, float8_e8m0fnu)
REPRESENTABLE = UNSIGNED_WIDE + FLOAT8
ALL = REPRESENTABLE + (complex32, float4_e2m1fn_x2, bit)
# PyTorch's C++ names of these types, for its promotion messages
CPP_NAMES = {"uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64",
             "float8_e4m3fn": "Float8_e4m3fn", "float8_e4m3fnuz": "Float8_e4m3fnuz",
             "float8_e5m2": "Float8_e5m2", "float8_e5m2fnuz": "Float8_e5m2fnuz",
             "float8_e8m0fnu": "Float8_e8m0fnu", "complex32": "ComplexHalf"}

_dtype.register_barebones(ALL, {d.np: d for d in REPRESENTABLE})
