"""Graph breaks: code a compiled function cannot trace into one program (it needs a
tensor's value in Python), torchlike.compiler.disable, and is_compiling."""
import builtins
import collections
import contextlib
import functools
import linecache
import logging
import threading
import traceback

import jax

from .. import _jax_bridge as bridge
from .._symbolic import SymNumber, python_value
from .._tensor import Tensor


class TorchDynamoException(RuntimeError):
    """torch._dynamo.exc.TorchDynamoException: the base of the compiler's errors."""


class Unsupported(TorchDynamoException):
    """torch._dynamo.exc.Unsupported: fullgraph=True met something that is not one graph."""


class UserError(TorchDynamoException):
    """torch._dynamo.exc.UserError: here, a branch on a value that .item() read
    (_symbolic.py)."""


def is_compiling():
    return bridge.state.compiling > 0


# Errors JAX raises when traced code needs a concrete value: a graph break.
BREAKS = (jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError,
          jax.errors.TracerIntegerConversionError, jax.errors.TracerArrayConversionError)


# The kinds of break, named by PyTorch's first line for the same code (torch._dynamo's
# graph-break registry), found from the torchlike method that needed the value.
_KINDS = {
    "item": "Unsupported Tensor.item() call with capture_scalar_outputs=False",
    "_read_item": "Unsupported Tensor.item() call with capture_scalar_outputs=False",
    "tolist": "Tensor.tolist() with non-integer tensor",
    "__bool__": "Data-dependent branching",
}
_EXPLAIN = ("it needs a tensor's value in Python (a data-dependent branch, .item(), "
            ".tolist() or similar), which one XLA program cannot give")
# PyTorch's first lines for the breaks at .item() and an integer tensor's .tolist()
_CAPTURED_REASONS = {"item": _KINDS["item"], "tolist": "Data dependent operator"}
DISABLED_CALL = "Skip calling `torchlike.compiler.disable()`d function"
CONVERTED = "Symbolic value converted to a Python number"     # (_symbolic.py)
ESCAPED = "Symbolic value kept outside the compiled program"
LOGGED = "logging.Logger method not supported for non-export cases"      # (PyTorch's)
_OWN_LOGGERS = ("jax", "torchlike", "absl")
OUTSIDE_WRITE = "Write to a tensor outside the compiled function's state"
PRINTED = "Failed to trace builtin operator"       # (PyTorch's, for `print(tensor)`)


class SpeculationFailed(Exception):
    """A trace that kept .item() numbers in the program where PyTorch breaks the graph
    met code that needs one in Python: the function is traced again without (PyTorch's
    break there)."""


def captured(kind):
    """.item() (kind "item") or an integer .tolist() ("tolist") kept as a symbol."""
    if bridge.state.capture_scalars == bridge.SPECULATIVE:
        bridge.state.captured_kinds.append(_CAPTURED_REASONS[kind])


def symbol_trouble(mode, kind, message):
    """A captured number the program cannot give its value: speculation is over (the
    trace is redone without), or, where PyTorch captures too, a break of `kind`."""
    if mode == bridge.SPECULATIVE:
        raise SpeculationFailed()
    raise GraphBreak(TypeError(message), None, kind=kind)


class GraphBreak(Exception):
    """Raised inside a trace where the function cannot be one program."""

    def __init__(self, error, tb, kind=None):
        super().__init__(str(error))
        self.error, self.tb, self.kind = error, tb, kind

    def _frames(self):
        return traceback.extract_tb(self.tb or self.__traceback__)

    def reason(self):
        """The first line of PyTorch's message for this break."""
        if self.kind is not None:
            return self.kind
        inner = [f.name for f in self._frames() if "/torchlike/" in f.filename]
        for name in inner:      # the outermost: what the user called (bool() calls item)
            if name in _KINDS:
                return _KINDS[name]
        return "Data-dependent value needed in Python"

    def user_frame(self):
        """(file, line number, function, source) of the user's line that broke, or None."""
        frames = [f for f in self._frames()
                  if "/torchlike/" not in f.filename and "/jax/" not in f.filename]
        if not frames:
            return None
        f = frames[-1]
        return (f.filename, f.lineno, f.name,
                (f.line or linecache.getline(f.filename, f.lineno)).strip())

    def where(self):
        frame = self.user_frame()
        if frame is None:
            return ""
        return '\n  File "{}", line {}, in {}\n    {}'.format(*frame)

    def unsupported(self):
        reason = self.reason()
        own_words = (DISABLED_CALL, OUTSIDE_WRITE, PRINTED, CONVERTED, ESCAPED, LOGGED)
        explain = str(self.error) if reason in own_words else \
            f"{_EXPLAIN} ({type(self.error).__name__})"
        return Unsupported(f"{reason}\n  Explanation: torchlike.compile(fullgraph=True): the "
                           f"function cannot be one graph: {explain}.\n\n"
                           f"from user code:{self.where()}")


def printed_tensor():
    """The break for a traced tensor's repr (printed, logged or formatted): with
    fullgraph=False the function splits there and the rest, the printing included, runs
    eagerly at every call with the values, as after PyTorch's graph break."""
    return GraphBreak(RuntimeError("it shows a tensor, whose values one XLA program does "
                                   "not have in Python"), None, kind=PRINTED)


@contextlib.contextmanager
def print_breaks(fullgraph, muted):
    """While a compiled function is traced on this thread, `print` runs at every call,
    as PyTorch's: it is a graph break (PyTorch's is one; with fullgraph=True, its
    Unsupported), raised before anything is written, except that Python values print
    from inside the program, unless the trace splits (muted[0] set: the prefix program
    would print them, and the eager run after it again). A trace runs the function's
    Python once. A logging call that makes a record is a break too (PyTorch's). Other
    threads print and log as usual."""
    original, thread = builtins.print, threading.get_ident()

    def breaking_print(*args, **kwargs):
        if threading.get_ident() != thread or not is_compiling():
            return original(*args, **kwargs)
        if fullgraph or any(isinstance(a, Tensor) and isinstance(a._raw(), jax.core.Tracer)
                            for a in list(args) + list(kwargs.values())):
            raise GraphBreak(RuntimeError("it calls print, which runs in Python at every "
                                          "call"), None, kind=PRINTED)
        # Python values only, fullgraph=False: where PyTorch breaks the graph to print at
        # every call, the program prints them when it runs (a host callback, ordered
        # among its kind), without a break
        _print_when_run(original, args, kwargs, muted)

    original_log = logging.Logger._log

    def breaking_log(logger, level, msg, args, *rest, **kwargs):
        # a record the logger's level lets through (Logger._log runs only then): a
        # break, as PyTorch's, so that it is logged at every call, with the values the
        # call computes (a trace runs the function's Python once)
        # (JAX's and torchlike's own loggers, which log while a trace runs, excepted)
        if threading.get_ident() == thread and is_compiling() and \
                not logger.name.startswith(_OWN_LOGGERS):
            raise GraphBreak(RuntimeError("it logs, which runs in Python at every call"),
                             None, kind=LOGGED)
        return original_log(logger, level, msg, args, *rest, **kwargs)
    builtins.print, logging.Logger._log = breaking_print, breaking_log
    try:
        yield
    finally:
        builtins.print, logging.Logger._log = original, original_log


def _print_when_run(original, args, kwargs, muted):
    """print(*args, **kwargs) as a host callback of the program (none while muted[0]);
    a number .item() read (a symbol: _symbolic.py) is passed as the callback's traced
    argument and printed as the Python number it stands for."""
    where = [i for i, a in enumerate(args) if isinstance(a, SymNumber)]

    def show(*values):
        if muted[0]:
            return
        shown = list(args)
        for i, v in zip(where, values):
            shown[i] = python_value(v, args[i].python_type)
        original(*shown, **kwargs)
    jax.debug.callback(show, *[args[i]._value for i in where], ordered=True)


# torch._dynamo.utils.counters: "graph_break" counts breaks by reason, "stats" the
# programs traced ("unique_graphs")
counters = collections.defaultdict(collections.Counter)
log = logging.getLogger("torchlike._dynamo")


def note_break(gb, split):
    """A break with fullgraph=False: counted and logged (at DEBUG, as PyTorch's
    graph_breaks log is off by default). The function splits there (split.py), or, for
    a break found only after it returned, the guard runs eagerly."""
    reason = gb.reason()
    counters["graph_break"][reason] += 1
    then = ("The ops before it run as one compiled program, the rest eagerly" if split
            else "This guard of the function now runs eagerly")
    log.debug("Graph break: %s. %s. From user code at:%s", reason, then, gb.where())


# -- torchlike.compiler.disable -----------------------------------------------------------
_DISABLED = [0]


def disabled():
    return _DISABLED[0] > 0


def disable(fn=None, recursive=True, *, reason=None):
    """A function that always runs eagerly; inside a compiled function, calling it is a
    graph break (the caller runs eagerly for that guard)."""
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason)
    fn = getattr(fn, "_torchlike_compiled_fn", fn)    # a compiled function: its original

    @functools.wraps(fn)
    def run_eagerly(*args, **kwargs):
        if is_compiling():
            raise GraphBreak(RuntimeError(f"it calls {fn.__qualname__}, which "
                                          "torchlike.compiler.disable marks to run eagerly"),
                             None, kind=DISABLED_CALL)
        _DISABLED[0] += 1
        try:
            return fn(*args, **kwargs)
        finally:
            _DISABLED[0] -= 1
    return run_eagerly
