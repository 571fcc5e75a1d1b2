"""Two compile tiers, so that a structure seen for the first time does not wait for a
fully optimized compile.

XLA's CPU compile of a training step takes hundreds of milliseconds, most of it in
LLVM's optimizations. A program met for the first time is compiled with them off (about
half the time; the code runs slower, which matters little for a program run once or
twice). From its second use on, the fully optimized program is compiled in a background
thread while the quick one keeps running the steps, and calls switch to it once it is
ready. A pending-graph structure met only once (a program per new length while a model
generates tokens) is never compiled twice.

`jax.jit(f).lower(*args).compile()` fills the same caches as a call of `jax.jit(f)` with
those arguments, so the switch is a plain call of the optimized `jax.jit`.
"""
import atexit
import os
import threading

import jax
from jax._src.core import trace_ctx as _trace_ctx

# XLA options of the quick tier; {} turns the tiers off (one optimized compile, as a
# plain jax.jit). None: decided at the first compile: on when JAX's default backend is
# the CPU (not measured on accelerators, whose compiles are shaped differently).
QUICK_OPTIONS = None if os.environ.get("TORCHLIKE_COMPILE_TIERS", "1") == "1" else {}

# Compile the optimized tier in a background thread (False: at the second use, in the
# calling thread).
BACKGROUND = True

_in_flight = set()          # threads compiling the optimized tier
_lock = threading.Lock()


def quick_options():
    global QUICK_OPTIONS
    if QUICK_OPTIONS is None:
        QUICK_OPTIONS = ({"xla_backend_optimization_level": 0}
                         if jax.default_backend() == "cpu" else {})
    return QUICK_OPTIONS


def jit(fn):
    """A jitted `fn` with the two tiers, or a plain `jax.jit(fn)` when they are off."""
    options = quick_options()
    return Tiered(fn, options) if options else jax.jit(fn)


class Tiered:
    """A callable like `jax.jit(fn)`: quick compiles until the optimized one is ready."""
    __slots__ = ("quick", "full", "state")

    QUICK, COMPILING, READY = 0, 1, 2

    def __init__(self, fn, options):
        self.quick = jax.jit(fn, compiler_options=options)
        self.full = jax.jit(fn)
        self.state = None           # None: never called

    def __call__(self, *args):
        state = self.state
        if state is Tiered.READY or not _trace_ctx.is_top_level():
            return self.full(*args)
        if state is None:
            self.state = Tiered.QUICK
        elif state is Tiered.QUICK:
            if not BACKGROUND:
                self.state = Tiered.READY
                return self.full(*args)
            self.state = Tiered.COMPILING
            _start(self, args)
        return self.quick(*args)

    def _compile_full(self, args):
        try:
            self.full.lower(*args).compile()
        except Exception:       # the optimized tier's own call will raise it, if real
            pass
        self.state = Tiered.READY


def _start(tiered, args):
    def work():
        try:
            tiered._compile_full(args)
        finally:
            with _lock:
                _in_flight.discard(thread)
    thread = threading.Thread(target=work, name="torchlike-compile", daemon=True)
    with _lock:
        _in_flight.add(thread)
    thread.start()


def in_flight():
    """How many optimized compiles are running in the background."""
    with _lock:
        return len(_in_flight)


def wait():
    """Wait until every background compile has finished (benchmarks call this before
    timing a steady state; the process waits at exit)."""
    while True:
        with _lock:
            threads = list(_in_flight)
        if not threads:
            return
        for thread in threads:
            thread.join()


atexit.register(wait)
