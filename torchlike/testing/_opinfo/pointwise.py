"""Oracle samples for pointwise ops (see core.py for the notation)."""
from .core import D, E, L, OpInfo, S, T

# -- unary ----------------------------------------------------------------------------------
# name, (low, high) of the float domain, integer samples?, values at kinks, aliases
_UNARY = [
    ("abs", None, True, [-1.0, 0.0, 2.0], ("absolute",)),
    ("neg", None, True, None, ("negative",)),
    ("positive", None, True, None, ()),
    ("sign", None, True, [-1.0, 0.0, 2.0], ()),
    ("sgn", None, True, [-1.0, 0.0, 2.0], ()),
    ("exp", None, True, None, ()),
    ("exp2", None, True, None, ()),
    ("expm1", None, True, None, ()),
    ("log", (0.1, 3.0), True, None, ()),
    ("log2", (0.1, 3.0), True, None, ()),
    ("log10", (0.1, 3.0), True, None, ()),
    ("log1p", (-0.5, 3.0), True, None, ()),
    ("sqrt", (0.1, 3.0), True, None, ()),
    ("rsqrt", (0.1, 3.0), True, None, ()),
    ("square", None, True, None, ()),
    ("reciprocal", (0.5, 2.0), True, None, ()),
    ("sin", None, True, None, ()),
    ("cos", None, True, None, ()),
    ("tan", (-1.2, 1.2), True, None, ()),
    ("asin", (-0.9, 0.9), True, None, ("arcsin",)),
    ("acos", (-0.9, 0.9), True, None, ("arccos",)),
    ("atan", None, True, None, ("arctan",)),
    ("sinh", None, True, None, ()),
    ("cosh", None, True, None, ()),
    ("tanh", None, True, None, ()),
    ("asinh", None, True, None, ("arcsinh",)),
    ("acosh", (1.1, 3.0), True, None, ("arccosh",)),
    ("atanh", (-0.9, 0.9), True, None, ("arctanh",)),
    ("sigmoid", None, True, None, ()),
    ("logit", (0.05, 0.95), True, None, ()),
    ("erf", None, True, None, ()),
    ("erfc", None, True, None, ()),
    ("erfinv", (-0.9, 0.9), True, None, ()),
    ("lgamma", (0.2, 4.0), True, None, ()),
    ("digamma", (0.2, 4.0), True, None, ()),
    ("floor", None, True, None, ()),
    ("ceil", None, True, None, ()),
    ("trunc", None, True, None, ("fix",)),
    ("frac", None, False, None, ()),
    ("round", None, True, [-2.5, -0.5, 0.5, 1.5, 2.5], ()),
    ("relu", None, True, [-1.0, 0.0, 2.0], ()),
    ("deg2rad", None, True, None, ()),
    ("rad2deg", None, True, None, ()),
    ("i0", None, True, None, ()),
    ("sinc", None, True, [0.0, 0.5], ()),
    ("nan_to_num", None, True, [float("nan"), float("inf"), -float("inf"), 1.0], ()),
]

for _name, _domain, _ints, _kinks, _aliases in _UNARY:
    _lo, _hi = _domain or (None, None)
    _samples = [S(T(2, 3, low=_lo, high=_hi)), S(T(dtype="f64", low=_lo, high=_hi))]
    if _ints:
        _samples.append(S(T(4, dtype="i64", low=1 if _domain else -5, high=3 if _domain else 6)))
    if _kinks:
        _samples.append(S(L(_kinks)))
    OpInfo(_name, _samples, aliases=_aliases)

OpInfo("round", [S(T(2, 3, low=-20, high=20), decimals=1), S(T(3, dtype="f64"), decimals=-1)],
       aliases=())
for _name in ("abs", "exp", "sqrt", "floor"):       # empty tensors
    OpInfo(_name, [S(T(0, 2))])
OpInfo("nan_to_num", [S(L([float("nan"), float("inf"), -float("inf"), 1.0]), nan=1.0,
                        posinf=5.0, neginf=-5.0)])
OpInfo("logit", [S(L([0.0, 0.05, 0.5, 1.0]), eps=0.1)])
OpInfo("bitwise_not", [S(T(4, dtype="i64")), S(T(4, dtype="b")), S(T(3, dtype="u8"))],
       errors=[E(T(3), msg=False)])

# predicates: bool results, never differentiable
_SPECIAL = [1.0, float("nan"), float("inf"), -float("inf"), 0.0, -0.0]
for _name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit", "isreal",
              "logical_not"):
    OpInfo(_name, [S(L(_SPECIAL)), S(T(3, dtype="i64")), S(T(dtype="f64"))])

# -- binary ---------------------------------------------------------------------------------
def _binary_samples(lo=None, hi=None, ints=True, scalar=2.5):
    """Same shapes, broadcasting, a Python scalar, a 0-d operand of another dtype, ints."""
    out = [S(T(2, 3), T(2, 3, low=lo, high=hi)),
           S(T(2, 1, dtype="f64"), T(3, dtype="f64", low=lo, high=hi)),
           S(T(3), scalar),
           S(T(3), T(dtype="f64", low=lo, high=hi))]
    if ints:
        out += [S(T(3, dtype="i64"), T(3, dtype="i64", low=1 if lo else -5))]
    return out


_BAD_BROADCAST = E(T(2, 3), T(4))
_BINARY = [
    # name, samples, aliases
    ("add", _binary_samples(), ()),
    ("sub", _binary_samples(), ("subtract",)),
    ("mul", _binary_samples(), ("multiply",)),
    ("div", _binary_samples(0.5, 2.0), ("divide",)),
    ("true_divide", _binary_samples(0.5, 2.0), ()),
    ("floor_divide", _binary_samples(0.5, 2.0)[:3], ()),
    ("remainder", _binary_samples(0.5, 2.0), ()),
    ("fmod", _binary_samples(0.5, 2.0), ()),
    ("atan2", _binary_samples(), ("arctan2",)),
    ("hypot", _binary_samples(ints=False), ()),
    ("maximum", _binary_samples(), ()),
    ("minimum", _binary_samples(), ()),
    ("fmax", _binary_samples(), ()),
    ("fmin", _binary_samples(), ()),
    ("logaddexp", _binary_samples(ints=False), ()),
    ("logaddexp2", _binary_samples(ints=False), ()),
    ("copysign", _binary_samples(), ()),
    ("xlogy", _binary_samples(0.1, 2.0), ()),
    ("nextafter", [S(T(3), T(3)), S(T(2, dtype="f64"), T(2, dtype="f64"))], ()),
    # (non-negative exponents: PyTorch's ldexp backward uses an integer pow(2, other),
    # which is 0 for negative ones; torchlike gives the true derivative)
    ("ldexp", [S(T(3), T(3, dtype="i64", low=0, high=3))], ()),
]
for _name, _samples, _aliases in _BINARY:
    OpInfo(_name, _samples, aliases=_aliases, errors=[_BAD_BROADCAST])

for _name in ("add", "mul", "div", "remainder"):     # empty, and int tensor with float scalar
    OpInfo(_name, [S(T(0, 3), T(3, low=0.5)), S(T(3, dtype="i32"), 2.5)])
OpInfo("add", [S(T(2, 3), T(2, 3), alpha=2), S(T(3, dtype="i64"), T(3, dtype="i64"), alpha=3),
               S(2, T(3))],
       errors=[E(T(3, dtype="i64"), T(3, dtype="i64"), alpha=1.5)])
OpInfo("sub", [S(T(2, 3), T(2, 3), alpha=2), S(T(3), 1.0, alpha=-1)],
       errors=[E(T(3, dtype="b"), T(3, dtype="b"))])
OpInfo("rsub", [S(T(2, 3), T(2, 3)), S(T(3), 2.0), S(T(3), T(3), alpha=2)])
OpInfo("div", [S(T(2, 3), T(2, 3, low=0.5), rounding_mode="floor"),
               S(T(2, 3), T(3, low=0.5), rounding_mode="trunc"),
               S(T(4, dtype="i64"), T(4, dtype="i64", low=1), rounding_mode="trunc"),
               S(T(4, dtype="i64"), T(4, dtype="i64", low=1), rounding_mode="floor"),
               S(T(3, dtype="i64"), 2)],
       errors=[E(T(3), T(3), rounding_mode="round")])
OpInfo("floor_divide", [S(L([-7, 7, -3], "i64"), L([2, -2, 2], "i64")),
                        S(L([-7.5, 7.0, 3.0]), 2.0)])
OpInfo("remainder", [S(L([-7, 7, -3], "i64"), L([2, -2, 2], "i64")), S(-3.5, T(3, low=0.5))])
OpInfo("fmod", [S(L([-7, 7, -3], "i64"), L([2, -2, 2], "i64"))])
OpInfo("pow", [S(T(2, 3, low=0.1), T(2, 3)), S(T(3), 2), S(T(3), 0.5, ), S(T(3, low=0.1), -1.5),
               S(T(2, 1, dtype="f64", low=0.1), T(3, dtype="f64")), S(2.0, T(3)),
               S(T(3, dtype="i64", low=0), 2), S(T(3, dtype="i64"), T(3, dtype="i64", low=0)),
               S(L([0.0, 1.0, 2.0]), 2.0), S(L([0.0, 2.0]), L([0.0, 3.0]))],
       errors=[E(T(3, dtype="i64"), -2), _BAD_BROADCAST])
OpInfo("float_power", [S(T(3, low=0.1), 2), S(T(3, dtype="i64", low=1), T(3, low=-1)),
                       S(T(2, low=0.1), 0.5)])
OpInfo("maximum", [S(L([1.0, 2.0, 3.0]), L([1.0, 0.0, 3.0]))])     # ties split the grad
OpInfo("minimum", [S(L([1.0, 2.0, 3.0]), L([1.0, 0.0, 3.0]))])
OpInfo("fmax", [S(L([1.0, float("nan"), 3.0]), L([float("nan"), 0.0, 3.0]))])
OpInfo("heaviside", [S(L([-1.0, 0.0, 2.0]), L([0.5, 0.5, 0.5])),
                     S(T(4, dtype="i64"), T(4, dtype="i64"))], grad=False)
OpInfo("xlogy", [S(L([0.0, 1.0, 2.0]), L([0.0, 0.5, 3.0])), S(2.0, T(3, low=0.1))])

# bitwise, logical and shifts: integers and bools only
_INT_PAIRS = [S(T(4, dtype="i64"), T(4, dtype="i64")), S(T(4, dtype="b"), T(4, dtype="b")),
              S(T(2, 1, dtype="i32"), 3), S(T(3, dtype="u8"), T(3, dtype="u8"))]
for _name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    OpInfo(_name, _INT_PAIRS, errors=[E(T(3), T(3), msg=False)])
for _name in ("bitwise_left_shift", "bitwise_right_shift"):
    OpInfo(_name, [S(T(4, dtype="i64"), T(4, dtype="i64", low=0, high=4)),
                   S(T(3, dtype="i32"), 2)])
for _name in ("logical_and", "logical_or", "logical_xor"):
    OpInfo(_name, [S(T(4, dtype="b"), T(4, dtype="b")), S(T(2, 3), T(3, dtype="i64")),
                   S(L([0.0, 1.0, 0.0]), L([0.0, 0.0, 2.0]))])
OpInfo("gcd", [S(T(4, dtype="i64"), T(4, dtype="i64"))])
OpInfo("lcm", [S(T(4, dtype="i64", low=1), T(4, dtype="i64", low=1))])

# comparisons: bool results
for _name, _aliases in [("eq", ()), ("ne", ("not_equal",)), ("lt", ("less",)),
                        ("le", ("less_equal",)), ("gt", ("greater",)), ("ge", ("greater_equal",))]:
    OpInfo(_name, [S(T(2, 3, dtype="i64"), T(2, 3, dtype="i64")), S(T(2, 1), T(3)),
                   S(T(3), 0.5), S(T(3, dtype="i64"), 1.5),
                   S(L([1.0, float("nan")]), L([1.0, float("nan")]))],
           aliases=_aliases, errors=[_BAD_BROADCAST])
OpInfo("isclose", [S(L([1.0, 1.0 + 1e-9, float("nan"), 2.0]), L([1.0, 1.0, float("nan"), 2.1])),
                   S(L([1.0, float("nan")]), L([1.0, float("nan")]), equal_nan=True),
                   S(T(3), T(3), rtol=0.5, atol=1.0)])
OpInfo("allclose", [S(T(3), T(3)), S(L([1.0, 2.0]), L([1.0, 2.0 + 1e-9])),
                    S(L([1.0, float("nan")]), L([1.0, float("nan")]), equal_nan=True)])
OpInfo("equal", [S(T(3), T(3)), S(L([1.0, 2.0]), L([1.0, 2.0])), S(T(2), T(3))])

# -- ternary and parameterised ------------------------------------------------------------
OpInfo("where", [S(T(2, 3, dtype="b"), T(2, 3), T(2, 3)), S(T(3, dtype="b"), T(2, 1), 0.0),
                 S(T(3, dtype="b"), 1.0, T(3, dtype="f64")),
                 S(T(3, dtype="b"), T(3, dtype="i64"), T(3))],
       self_arg=1, errors=[E(T(3), T(3), T(3))])
OpInfo("clamp", [S(T(2, 3), -0.5, 0.5), S(T(3), min=0.0), S(T(3), max=0.0),
                 S(L([-1.0, 0.0, 0.5, 1.0]), 0.0, 0.5),     # at the bounds: grad passes
                 S(T(2, 3), T(3, low=-2, high=0), T(2, 1, low=0, high=2)),
                 S(T(3, dtype="i64"), -1, 2), S(T(3, dtype="i64"), 0.5)],
       aliases=("clip",), errors=[E(T(3))])
OpInfo("clamp_min", [S(T(2, 3), 0.0), S(T(3), T(3))])
OpInfo("clamp_max", [S(T(2, 3), 0.0), S(T(3), T(3))])
OpInfo("lerp", [S(T(2, 3), T(2, 3), 0.3), S(T(3), T(2, 3), T(2, 3, low=0, high=1)),
                S(T(3, dtype="f64"), T(3, dtype="f64"), T(dtype="f64"))])
OpInfo("addcmul", [S(T(2, 3), T(2, 3), T(3)), S(T(3), T(3), T(3), value=0.5)])
OpInfo("addcdiv", [S(T(2, 3), T(2, 3), T(3, low=0.5)), S(T(3), T(3), T(3, low=0.5), value=2)],
       errors=[E(T(3, dtype="i64"), T(3, dtype="i64"), T(3, dtype="i64"), msg=False)])
OpInfo("copysign", [S(L([1.0, -2.0, 0.0]), L([-0.0, 1.0, -1.0])), S(T(3, dtype="i64"), -1.0)])
OpInfo("frexp", [S(T(2, 3))], grad=False)
OpInfo("polygamma", [S(1, T(3, low=0.5)), S(2, T(2, dtype="f64", low=0.5))], self_arg=1)
OpInfo("mvlgamma", [S(T(3, low=2.0, high=4.0), p=2)])
OpInfo("zero_", [S(T(2, 3))], op=lambda lib, x: x.clone().zero_(), covers=("Tensor.zero_",))
OpInfo("fill_", [S(T(2, 3), 1.5), S(T(3), T(dtype="f32"))],
       op=lambda lib, x, v: x.clone().fill_(v), covers=("Tensor.fill_",))

# -- invalid calls: PyTorch's exception class (and message, unless msg=False) ---------------
_C64 = "c64"
_ERRORS = [
    ("abs", E(T(3, dtype="b"))), ("neg", E(T(3, dtype="b"))), ("sign", E(T(3, dtype=_C64))),
    ("frac", E(T(3, dtype="i64"))), ("round", E(T(3, dtype="i64"), decimals=1)),
    ("exp", E([1.0, 2.0])), ("sqrt", E(T(3), T(3))), ("sin", E(T(3), foo=1)),
    ("erfinv", E(T(3, dtype=_C64))), ("floor", E(T(3, dtype=_C64))), ("ceil", E(T(3, dtype=_C64))),
    ("trunc", E(T(3, dtype=_C64))), ("lgamma", E(T(3, dtype=_C64))), ("digamma", E(T(3, dtype=_C64))),
    ("i0", E(T(3, dtype=_C64))), ("erf", E(T(3, dtype=_C64))), ("deg2rad", E(T(3, dtype=_C64))),
    ("relu", E(T(3, dtype="b"))), ("sinc", E(T(3), 1)), ("logit", E(T(3, dtype=_C64))),
    ("isnan", E([1.0], msg=False)), ("signbit", E(T(3, dtype=_C64))),
    ("isposinf", E(T(3, dtype=_C64))), ("isneginf", E(T(3, dtype=_C64))),
    ("logical_not", E([1], msg=False)), ("frexp", E(T(3, dtype="i64"))),
    ("polygamma", E(-1, T(3))), ("mvlgamma", E(T(3), p=0)),
    ("rsub", E(T(3, dtype="b"), T(3, dtype="b"))), ("float_power", E(T(2, 3), T(4))),
    ("heaviside", E(T(3), T(4))), ("heaviside", E(T(3), T(3, dtype="i64"), msg=False)),
    ("bitwise_left_shift", E(T(3), T(3))), ("bitwise_right_shift", E(T(3), 1)),
    ("logical_and", E(T(2, 3), T(4))), ("gcd", E(T(3), T(3))), ("lcm", E(T(3), T(3))),
    ("isclose", E(T(3), T(3, dtype="f64"))), ("isclose", E(T(3), T(3), rtol=-1.0)),
    ("allclose", E(T(3), T(4))), ("equal", E(T(3), 1.0)),
    ("clamp_min", E(T(2, 3), T(4))), ("clamp", E(T(3, dtype="b"), True, True)),
    ("clamp_max", E(T(3, dtype="b"), True)),
    ("lerp", E(T(3), T(3, dtype="f64"), 0.5)), ("lerp", E(T(3), T(4), 0.5)),
    ("addcmul", E(T(3), T(4), T(3))), ("addcmul", E(T(3, dtype="b"), T(3, dtype="b"), T(3, dtype="b"))),
    ("addcdiv", E(T(4), T(3), T(3))),
    ("where", E(T(3, dtype="b"), T(2), T(3))),
    ("nextafter", E(T(3, dtype="i64"), T(3, dtype="i64"))), ("ldexp", E(T(3), T(4))),
    ("hypot", E(T(3, dtype="i64"), T(3, dtype="i64"))),
    ("logaddexp", E(T(3, dtype="i64"), T(3, dtype="i64"))),
    # integer division by zero raises in PyTorch
    ("fmod", E(T(3, dtype="i64"), 0)), ("remainder", E(T(3, dtype="i64"), L([0, 1, 2], "i64"))),
    ("floor_divide", E(T(3, dtype="i64"), 0)),
    ("div", E(T(3, dtype="i64"), L([0, 1, 2], "i64"), rounding_mode="trunc")),
    ("atan2", E(T(3, dtype=_C64), T(3))), ("xlogy", E(T(3, dtype=_C64), T(3))),
]
for _name, _error in _ERRORS:
    OpInfo(_name, errors=[_error])

# -- edge shapes and dtypes the families above leave out: a 0-d operand against an empty one
# (broadcast to empty), float64, and integers where PyTorch allows them ---------------------
for _name in ("sub", "true_divide", "atan2", "maximum", "minimum", "fmax", "fmin", "copysign",
              "eq", "lt", "ge", "logical_and", "logaddexp", "hypot", "pow", "where"):
    OpInfo(_name, [S(T(0, 3), T(dtype="f64"))] if _name != "where" else
           [S(T(0, 3, dtype="b"), T(), T(3, dtype="f64"))])
for _name in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "gcd"):
    OpInfo(_name, [S(T(0, 3, dtype="i32"), T(dtype="i64", low=0, high=3))])
OpInfo("isclose", [S(T(2, 3, dtype="f64"), T(3, dtype="f64")), S(T(3, dtype="i64"), T(3, dtype="i64"))])
OpInfo("clamp", [S(T(), -0.5, 0.5), S(T(0, 3, dtype="f64"), T(3, dtype="f64"), 1.0)])
OpInfo("clamp_min", [S(T(3, dtype="i64"), 1), S(T(dtype="f64"), 0.0)])
OpInfo("clamp_max", [S(T(3, dtype="i64"), 1), S(T(dtype="f64"), 0.0)])
OpInfo("addcmul", [S(T(dtype="f64"), T(2, 3, dtype="f64"), T(3, dtype="f64")),
                   S(T(3, dtype="i64"), T(3, dtype="i64"), T(3, dtype="i64"), value=2)])
OpInfo("addcdiv", [S(T(dtype="f64"), T(2, 3, dtype="f64"), T(3, dtype="f64", low=0.5))])
OpInfo("lerp", [S(T(0, 3), T(3), 0.5)])
OpInfo("float_power", [S(T(dtype="f64", low=0.1), T(0, 2))])

# a list is not a tensor: the argument parser's TypeError
for _name in ("positive", "sgn", "exp2", "expm1", "log", "log2", "log10", "log1p", "rsqrt", "square",
              "reciprocal", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh",
              "acosh", "atanh", "sigmoid", "erfc", "rad2deg", "nan_to_num", "isinf", "isfinite",
              "isreal"):
    OpInfo(_name, errors=[E([1.0])])
for _name in ("logical_or", "logical_xor"):
    OpInfo(_name, errors=[_BAD_BROADCAST])
# in-place forms: the result must fit self's shape and dtype
for _name, _fn in [("add_", lambda lib, x: x.clone().add_(lib.ones(2, 3))),
                   ("mul_", lambda lib, x: x.clone().mul_(1.5)),
                   ("div_", lambda lib, x: x.clone().div_(2)),
                   ("sigmoid_", lambda lib, x: x.clone().sigmoid_()),
                   ("clamp_", lambda lib, x: x.clone().clamp_(0.5))]:
    OpInfo(_name + " (bad self)", errors=[E(T(3, dtype="i64") if _name != "add_" else T(3),
                                            msg=_name != "clamp_")], op=_fn)
