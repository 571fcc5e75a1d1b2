"""Python numbers read from traced tensors: what `.item()` returns inside a compiled
function's trace, where PyTorch captures it (fullgraph=True, or
config.capture_scalar_outputs), and, speculatively, where PyTorch breaks the graph there
(the defaults: a trace that needs the number in Python is redone with the break,
_compile/breaks.SpeculationFailed).

PyTorch's compiler turns such a read into a symbol (an "unbacked" SymFloat, SymInt or
SymBool) that Python arithmetic, tensor ops and factories take like a number, and that
comes out of the compiled function as a plain number; only a branch on its value (a
guard) fails. Here the symbol carries the 0-d traced value: arithmetic on it is traced
into the same program, a tensor op takes it as the Python scalar it stands for (PyTorch's
promotion of a wrapped number), and a result that holds one gets its value after the call.
"""
import contextlib
import gc
import numbers
import threading
import weakref

import jax
import jax.numpy as jnp
import numpy as np

GUARD_HINT = ("Consider annotating your code using torch._check*(). Could not guard on "
              "data-dependent expression")


class SymNumber:
    """A Python number known only as a traced 0-d value. Subclasses name the Python
    type it stands for (`python_type`) and the dtype its value is kept in."""
    __slots__ = ("_value", "__weakref__")
    python_type = None
    dtype = None

    def __init__(self, value):
        self._value = value
        born = getattr(_trace, "born", None)
        if born is not None:
            born.append(weakref.ref(self))

    @property
    def __class__(self):
        """The Python type it stands for, as isinstance sees it (PyTorch's compiler shows
        its symbols as the numbers' own types): `isinstance(loss.item(), float)` holds.
        type() still gives the symbol's class."""
        return self.python_type

    # -- where Python needs the value now ------------------------------------------------
    def __bool__(self):
        from . import _jax_bridge as bridge
        from ._compile.breaks import UserError
        if bridge.state.op_log is not None:     # fullgraph=False: no symbol, or a split here
            self._needs_value("bool")
        # fullgraph=True: PyTorch's error for a branch on an unbacked symbol
        raise UserError(f"{GUARD_HINT} {type(self).__name__}: a branch on a value that "
                        ".item() read inside a compiled function, which its program does "
                        "not have in Python.\n\nCompute both sides with tensor ops "
                        "(torch.where), or compile with fullgraph=False, which breaks the "
                        "graph here.")

    def _needs_value(self, what):
        """Python needs the number itself: a graph break (fullgraph=True: Unsupported),
        noted too, for a trace that goes on after code that caught the break (a library
        that formats in a try block)."""
        from . import _jax_bridge as bridge
        from ._compile.breaks import CONVERTED, symbol_trouble
        bridge.state.symbol_needed = True
        symbol_trouble(bridge.state.capture_scalars, CONVERTED,
                       f"{what}() of a {type(self).__name__} that .item() read needs its "
                       "value in Python, which one XLA program cannot give")

    def __int__(self):
        self._needs_value("int")

    def __float__(self):
        self._needs_value("float")

    def __complex__(self):
        self._needs_value("complex")

    def __index__(self):
        self._needs_value("index")

    def __format__(self, spec):
        self._needs_value("format")

    def __repr__(self):
        self._needs_value("repr")

    def __str__(self):
        self._needs_value("str")

    def __hash__(self):         # (a dict key: its equality is a traced value)
        self._needs_value("hash")

    # -- arithmetic: traced into the program ---------------------------------------------
    def __neg__(self):
        return symbol(-self._value.astype(_BY_TYPE[_promoted(self)].dtype), _promoted(self))

    def __pos__(self):
        return symbol(self._value, _promoted(self))

    def __abs__(self):
        return symbol(jnp.abs(self._value), _promoted(self))

    def __round__(self, ndigits=None):
        if ndigits is None:
            return SymInt(jnp.round(self._value).astype(SymInt.dtype))
        return symbol(jnp.round(self._value, ndigits), _promoted(self))

    def __floor__(self):
        return SymInt(jnp.floor(self._value).astype(SymInt.dtype))

    def __ceil__(self):
        return SymInt(jnp.ceil(self._value).astype(SymInt.dtype))

    def __trunc__(self):
        return SymInt(jnp.trunc(self._value).astype(SymInt.dtype))


class SymFloat(SymNumber):
    """torch.SymFloat: a float read from a traced tensor."""
    __slots__ = ()
    python_type = float
    dtype = np.float64


class SymInt(SymNumber):
    """torch.SymInt: an int read from a traced tensor."""
    __slots__ = ()
    python_type = int
    dtype = np.int64


class SymBool(SymNumber):
    """torch.SymBool: a bool read from a traced tensor, or a comparison of symbols."""
    __slots__ = ()
    python_type = bool
    dtype = np.bool_

    def __invert__(self):       # (PyTorch's SymBool: logical not, unlike Python's ~True)
        return SymBool(jnp.logical_not(self._value))


_BY_TYPE = {float: SymFloat, int: SymInt, bool: SymBool}
SYMBOLS = frozenset(_BY_TYPE.values())      # (by exact type: a set lookup)


_trace = threading.local()       # .born: the symbols made during this thread's trace


@contextlib.contextmanager
def recorded():
    """While a compiled function is traced: (weak references to) every symbol made."""
    held, _trace.born = getattr(_trace, "born", None), []
    try:
        yield _trace.born
    finally:
        _trace.born = held


def escaped(born, kept):
    """Whether a symbol in `born` other than those in `kept` (ids) is still alive: kept
    by Python code outside the program's results, in a list the function appended it to
    (the program cannot give it its value). Each such symbol is taken out of the lists
    that hold it, undoing the trace's appends, for the function's run without them."""
    def alive():
        return [s for s in (r() for r in born) if s is not None and id(s) not in kept]
    found = alive()
    if found:
        gc.collect()                # (a cycle may hold one: a caught exception's frames)
        found = alive()
    for s in found:
        for holder in gc.get_referrers(s):
            if type(holder) is list and holder is not found:
                holder[:] = [x for x in holder if x is not s]
    return bool(found)


def from_traced(value, dtype):
    """The symbol of a 0-d traced value of torchlike `dtype` (not complex) that
    `.item()` reads; it carries no gradient (item() leaves the graph, as PyTorch's)."""
    cls = SymFloat if dtype.is_floating_point else SymBool if dtype.name == "bool" else SymInt
    return cls(jax.lax.stop_gradient(value).reshape(()).astype(cls.dtype))


def listed(value, dtype):
    """tolist() of a traced integer array: nested lists of SymInts."""
    if value.ndim == 0:
        return from_traced(value, dtype)
    return [listed(value[i], dtype) for i in range(value.shape[0])]


def python_value(array, python_type):
    """A symbol's value after the call, as the Python number it stands for."""
    return python_type(np.asarray(array).item())


def _python_type(x):
    if isinstance(x, SymNumber):
        return x.python_type
    for t in (bool, int, float):        # (bool first: it is an int too)
        if isinstance(x, t):
            return t
    return None


def _promoted(*operands):
    """The Python type of arithmetic on `operands` (a bool counts as an int)."""
    return float if any(_python_type(x) is float for x in operands) else int


def symbol(value, python_type):
    """The symbol of a traced value (a result, a program input) standing for a number
    of `python_type`."""
    cls = _BY_TYPE[python_type]
    return cls(jnp.asarray(value).astype(cls.dtype))


def _operands(x, y, python_type):
    return [jnp.asarray(v._value if isinstance(v, SymNumber) else v,
                        _BY_TYPE[python_type].dtype) for v in (x, y)]


def _binary(fn, result=None):
    """A binary dunder and its reflection. The operands compute as Python's promotion
    says (float64 where either is a float, else int64); `result(x, y)` gives the result's
    Python type where that promotion does not (`/`, `**`, comparisons)."""
    def forward(x, y):
        if _python_type(y) is None:
            return NotImplemented
        kind = _promoted(x, y)
        out = kind if result is None else result(x, y)
        if out is float:
            kind = float
        return symbol(fn(*_operands(x, y, kind)), out)

    def reflected(x, y):
        if _python_type(y) is None:
            return NotImplemented
        return forward(_BY_TYPE[_python_type(y)](jnp.asarray(y)), x)
    return forward, reflected


def _power_type(x, y):
    """int ** int is an int for a known exponent >= 0, a float otherwise (Python's)."""
    if _promoted(x, y) is float:
        return float
    return int if isinstance(y, int) and not isinstance(y, SymNumber) and y >= 0 else float


def _bool(x, y):
    return bool


def _float(x, y):
    return float


for _name, _fn, _result in (
        ("add", jnp.add, None), ("sub", jnp.subtract, None), ("mul", jnp.multiply, None),
        ("truediv", jnp.true_divide, _float), ("floordiv", jnp.floor_divide, None),
        ("mod", jnp.remainder, None), ("pow", jnp.power, _power_type)):
    _f, _r = _binary(_fn, _result)
    setattr(SymNumber, f"__{_name}__", _f)
    setattr(SymNumber, f"__r{_name}__", _r)
for _name, _fn in (("eq", jnp.equal), ("ne", jnp.not_equal), ("lt", jnp.less),
                   ("le", jnp.less_equal), ("gt", jnp.greater), ("ge", jnp.greater_equal)):
    setattr(SymNumber, f"__{_name}__", _binary(_fn, _bool)[0])
for _name, _fn in (("and", jnp.logical_and), ("or", jnp.logical_or),
                   ("xor", jnp.logical_xor)):
    _f, _r = _binary(_fn, _bool)
    setattr(SymBool, f"__{_name}__", _f)
    setattr(SymBool, f"__r{_name}__", _r)
del _name, _fn, _result, _f, _r

# as torch's symbols, they pass where a Python number is accepted (a tensor operand, a
# factory's fill value); whatever then needs the value itself fails at that point
numbers.Real.register(SymFloat)
numbers.Integral.register(SymInt)
numbers.Integral.register(SymBool)
