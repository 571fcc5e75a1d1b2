"""Small programs compiled by XLA's quicker CPU code generator.

A small graph's first backward is mostly XLA's compile (the seed notebook's: ~25 of its
~45 ms), and on CPU much of that compile is the fusion emitters' code generation. The
older emitters (`xla_cpu_use_fusion_emitters=False`) compile a small program in about
60% of the time (3x3 seed graph, median of 12 programs: 26 -> 15 ms; larger ones gain
0-50%) and run arrays of up to about a thousand elements as fast, but larger ones 6-35%
slower (measured on 12 sizes of a 3-layer network's gradient and on the benchmark's
steps). So a fused backward (autograd/engine.py), a pending graph's program (_lazy.py)
or a torchlike.compile program (_compile/compiled.py) whose every input and output has
at most `SMALL` elements is compiled that way, always: which compile a program gets
depends only on the program, so its results are the same from run to run. (Switching a
program from the quick compile to the default one once the latter was ready in the
background was measured too, and dropped: the two compiles' results differ in the last
bit where a reduction reads a matmul's or a convolution's output, so results would have
depended on timing.)

CPU only: the option means nothing elsewhere. Where this JAX does not know the option,
programs compile as before.
"""
import math

import jax

QUICK_OPTIONS = {"xla_cpu_use_fusion_emitters": False}
SMALL = 1024            # elements of the largest input or output of a quick program

enabled = True          # turned off when this JAX's XLA rejects QUICK_OPTIONS


class Quick:
    """A jitted function whose calls run its quick executable: arguments of other
    shapes, types or shardings go to the jitted function itself. `run` is the
    executable's own call, for a caller that handles those cases (engine._fused_call);
    `release()` lets go of the executable (compiled code is dropped past a budget:
    _caches), which the next call compiles again the same way."""
    __slots__ = ("jitted", "executable", "run")

    def __init__(self, jitted, executable):
        self.jitted = jitted
        self._use(executable)

    def _use(self, executable):
        self.executable = executable
        self.run = self._first_run

    def _first_run(self, *args):
        out = self.executable(*args)
        # from now on the executable's own call, without Compiled.__call__'s Python frame
        # where this JAX makes one (a fused backward runs every step: 0.45 of its 7.2 us)
        self.run = getattr(self.executable, "_call", None) or self.executable
        return out

    def __call__(self, *args):
        if self.executable is None:
            self._use(self.jitted.lower(*args).compile(QUICK_OPTIONS))
        try:
            return self.run(*args)
        except (TypeError, ValueError):
            # (other shapes, types or shardings: the usual jitted call)
            return self.jitted(*args)

    def release(self):
        self.executable = self.run = None

    def lower(self, *args, **kwargs):
        """The jitted function's lowering (its program text, as jax.jit's `lower`)."""
        return self.jitted.lower(*args, **kwargs)


def quick(jitted, args, lowered=None):
    """A `Quick` of `jitted` for `args` (its lowering for them, where the caller has
    it), where the program is small and runs on a CPU; else None."""
    global enabled
    # (a stand-in without `lower`, such as a test's spy, is left alone)
    if not enabled or not hasattr(jitted, "lower") or not _small_on_cpu(args):
        return None
    if lowered is None:
        lowered = jitted.lower(*args)
    if any(_size(out) > SMALL for out in jax.tree_util.tree_leaves(lowered.out_info)):
        return None                 # (the lowering is cached: a call does not trace again)
    try:
        return Quick(jitted, lowered.compile(QUICK_OPTIONS))
    except Exception:                       # noqa: BLE001 (an XLA that lacks the option)
        enabled = False
        return None


def first_call(jitted, args, cache, key):
    """jitted(*args) for the first call of the program that `cache[key]` holds; where
    the program is small and runs on a CPU, a `Quick` takes its place in the cache."""
    found = quick(jitted, args)
    if found is None:
        return jitted(*args)
    cache[key] = found
    return found(*args)


def _size(aval):
    return math.prod(aval.shape)


def _small_on_cpu(args):
    """Whether every array in `args` is small and on a CPU (without arrays: whether the
    default device is a CPU, where the program will run)."""
    arrays = [a for a in jax.tree_util.tree_leaves(args) if isinstance(a, jax.Array)]
    if not arrays:
        return jax.default_backend() == "cpu"
    if any(isinstance(a, jax.core.Tracer) for a in arrays):
        return False    # (values of an enclosing transform, vmap's: no device, no executable)
    return all(a.size <= SMALL for a in arrays) and \
        all(d.platform == "cpu" for a in arrays for d in a.devices())


def release(cache):
    """Let go of the executables of the `Quick`s in `cache`."""
    for value in cache.values():
        if type(value) is Quick:
            value.release()
