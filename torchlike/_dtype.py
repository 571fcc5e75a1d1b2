"""dtypes and PyTorch's type promotion, in one place.

Every torchlike tensor carries one of the `dtype` objects below; the matching
numpy/JAX dtype is `dtype.np`. Promotion follows PyTorch, not numpy: categories
bool < integer < floating < complex, and within a call dimensioned tensors outrank
0-dim tensors, which outrank Python scalars (a Python scalar or 0-dim tensor only
changes the result when it belongs to a higher category).
"""
import builtins

import ml_dtypes
import numpy as np


class dtype:
    __slots__ = ("name", "np", "itemsize", "is_floating_point", "is_complex", "is_signed", "_rank")

    def __init__(self, name, np_dtype, rank):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.is_complex = self.np.kind == "c"
        self.is_floating_point = self.np.kind == "f" or name == "bfloat16"
        self.is_signed = name not in ("bool", "uint8")
        self._rank = rank

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_complex(self):
        if self.is_complex:
            return self
        if not self.is_floating_point:
            raise RuntimeError(f"Unknown Complex ScalarType for {_SCALAR_NAMES[self.name]}")
        # float16 would be complex32 in PyTorch, which torchlike (like JAX) does not have
        return complex128 if self.name == "float64" else complex64

    def to_real(self):
        return {"complex128": float64, "complex64": float32}.get(self.name, self)


bool = dtype("bool", np.bool_, 0)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 2)
int16 = dtype("int16", np.int16, 3)
int32 = dtype("int32", np.int32, 4)
int64 = dtype("int64", np.int64, 5)
float16 = dtype("float16", np.float16, 6)
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, 7)
float32 = dtype("float32", np.float32, 8)
float64 = dtype("float64", np.float64, 9)
complex64 = dtype("complex64", np.complex64, 10)
complex128 = dtype("complex128", np.complex128, 11)

# PyTorch's C++ scalar type names, used in its messages ("Unknown ... for Long").
_SCALAR_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short",
                 "int32": "Int", "int64": "Long"}

ALL_DTYPES = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64,
              complex64, complex128)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NP = {d.np: d for d in ALL_DTYPES}
ALIASES = {"float": float32, "double": float64, "half": float16, "long": int64, "int": int32,
           "short": int16, "cfloat": complex64, "cdouble": complex128,
           "float32": float32, "float64": float64}


def _dtype_by_name(name):
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype):
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except KeyError:
        scalar_type = np.dtype(np_dtype).type
        raise TypeError(f"can't convert np.ndarray of type {scalar_type.__module__}."
                        f"{scalar_type.__name__}. The only supported types are: float64, "
                        "float32, float16, complex64, complex128, int64, int32, int16, int8, "
                        "uint64, uint32, uint16, uint8, and bool.") from None


def category(d):
    """0 bool, 1 integer, 2 floating, 3 complex."""
    if d is bool:
        return 0
    if d.is_complex:
        return 3
    if d.is_floating_point:
        return 2
    return 1


class _DefaultDtypeState:
    default = float32       # one for the process, as PyTorch's: threads share it


_state = _DefaultDtypeState()


def get_default_dtype():
    return _state.default


def set_default_dtype(d):
    if d not in (float32, float64, float16, bfloat16):
        raise TypeError("only floating-point types are supported as the default type")
    _state.default = d


def default_complex_dtype():
    default = get_default_dtype()
    if default is bfloat16:
        raise RuntimeError("invalid default scalar type for complex")
    # a float16 default gives complex32 in PyTorch, a dtype torchlike does not have
    return complex128 if default is float64 else complex64


def promote_types(a, b):
    if a is b:
        return a
    if a._rank is None or b._rank is None:      # uint16/32/64, float8 ... (_barebones_dtypes)
        return _promote_barebones(a, b)
    ca, cb = category(a), category(b)
    if ca != cb:
        hi, lo = (a, b) if ca > cb else (b, a)
        # complex absorbs a wider real type: complex64 + float64 -> complex128
        if category(hi) == 3 and lo is float64:
            return complex128
        return hi
    if ca == 2 and {a.name, b.name} == {"float16", "bfloat16"}:
        return float32
    if ca == 1 and {a.name, b.name} == {"uint8", "int8"}:
        return int16
    if ca == 1 and "uint8" in (a.name, b.name):
        other = b if a is uint8 else a
        return other if other.itemsize > 1 else int16
    return a if a._rank > b._rank else b


def register_barebones(dtypes, by_np):
    """Called once by _barebones_dtypes: make those dtypes (which have no promotion rank)
    known by name and numpy type."""
    _BY_NAME.update({d.name: d for d in dtypes})
    _BY_NP.update(by_np)


def _promote_barebones(a, b):
    from ._barebones_dtypes import CPP_NAMES, FLOAT8, UNSIGNED_WIDE
    names = {**_SCALAR_NAMES, "float16": "Half", "bfloat16": "BFloat16", "float32": "Float",
             "float64": "Double", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
             **CPP_NAMES}
    pair = f"{names.get(a.name, a.name)} and {names.get(b.name, b.name)}"
    if a in FLOAT8 or b in FLOAT8:
        raise RuntimeError(f"Promotion for Float8 Types is not supported, attempted to promote "
                           f"{pair}")
    if a in UNSIGNED_WIDE or b in UNSIGNED_WIDE:
        # a wide unsigned integer meets a float: the float wins, as in PyTorch
        for d in (a, b):
            if d.is_floating_point and d._rank is not None:
                return d
        raise RuntimeError(f"Promotion for uint16, uint32, uint64 types is not supported, "
                           f"attempted to promote {pair}")
    if a.is_complex and b.is_complex:     # complex32 with complex64/128
        return a if a.itemsize > b.itemsize else b
    if a.is_complex or b.is_complex:
        half_complex, real = (a, b) if a.is_complex else (b, a)
        return {"float64": complex128, "float32": complex64}.get(real.name, half_complex)
    raise RuntimeError(f"Promotion of {pair} is not supported")


def scalar_dtype(value):
    """The dtype a Python scalar stands for as a 'wrapped number' in promotion (a number
    .item() read in a compiled trace is an instance of the type it stands for:
    _symbolic.SymNumber.__class__)."""
    if isinstance(value, builtins.bool):
        return bool
    if isinstance(value, int):
        return int64
    if isinstance(value, float):
        return get_default_dtype()
    if isinstance(value, complex):
        return default_complex_dtype()
    raise TypeError(f"unsupported scalar {type(value).__name__}")


def _combine(higher, lower):
    """Keep `higher` (a more important tier) unless `lower` is of a higher category."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.is_complex:
        return higher
    if lower.is_complex:
        return higher.to_complex() if higher.is_floating_point else lower
    if higher.is_floating_point:
        return higher
    if higher is bool or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def result_type_of(tensor_dtypes_dims, scalars=()):
    """PyTorch's result_type over (dtype, ndim) pairs and Python scalars."""
    dim_result = zero_result = wrapped_result = None
    for d, ndim in tensor_dtypes_dims:
        if ndim > 0:
            dim_result = d if dim_result is None else promote_types(dim_result, d)
        else:
            zero_result = d if zero_result is None else promote_types(zero_result, d)
    for s in scalars:
        d = scalar_dtype(s)
        wrapped_result = d if wrapped_result is None else promote_types(wrapped_result, d)
    return _combine(dim_result, _combine(zero_result, wrapped_result))


def can_cast(from_, to):
    """Same-kind casting as PyTorch: no float->int, no complex->real, nothing->bool."""
    cf, ct = category(from_), category(to)
    if cf > ct and not (cf == 0):
        return False
    if to is bool and from_ is not bool:
        return False
    return True
