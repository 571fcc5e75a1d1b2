"""Graph breaks: code a compiled function cannot trace into one program (it needs a
tensor's value in Python), torchlike.compiler.disable, and is_compiling."""
import functools
import linecache
import sys
import traceback

import jax

from .. import _jax_bridge as bridge


class Unsupported(RuntimeError):
    """torch._dynamo.exc.Unsupported: fullgraph=True met something that is not one graph."""


def is_compiling():
    return bridge.state.compiling > 0


# Errors JAX raises when traced code needs a concrete value: a graph break.
BREAKS = (jax.errors.ConcretizationTypeError, jax.errors.TracerBoolConversionError,
          jax.errors.TracerIntegerConversionError, jax.errors.TracerArrayConversionError)


class GraphBreak(Exception):
    def __init__(self, error, tb):
        super().__init__(str(error))
        self.error, self.tb = error, tb

    def unsupported(self):
        where = ""
        tb = self.tb or self.__traceback__
        if tb is not None:
            frames = [f for f in traceback.extract_tb(tb)
                      if "/torchlike/" not in f.filename and "/jax/" not in f.filename]
            if frames:
                f = frames[-1]
                line = (f.line or linecache.getline(f.filename, f.lineno)).strip()
                where = f"\n  File \"{f.filename}\", line {f.lineno}, in {f.name}\n    {line}"
        return Unsupported("torchlike.compile(fullgraph=True): the function cannot be one "
                           "graph: it needs a tensor's value in Python (a data-dependent "
                           f"branch, .item(), .tolist() or similar){where}\n"
                           f"({type(self.error).__name__})")


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
            raise GraphBreak(RuntimeError(
                f"torchlike.compiler.disable'd function {fn.__qualname__} called"),
                sys.exc_info()[2])
        _DISABLED[0] += 1
        try:
            return fn(*args, **kwargs)
        finally:
            _DISABLED[0] -= 1
    return run_eagerly
