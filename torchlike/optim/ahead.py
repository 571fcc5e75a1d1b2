"""The first step's optimizer update, compiled in the background ahead of time.

A first training step compiles two programs one after the other: the fused backward
(with the forward) and the optimizer's group update. The update's program depends only
on the parameters' shapes and dtypes and on the optimizer's settings, all known before
the first forward runs. So at the first `zero_grad()` the optimizer predicts the
updates its first `step()` will run (`predicted_updates`), and the worker thread of
`torchlike/_background.py` lowers and compiles them while the main thread records the
forward and compiles the backward: XLA compiles outside the GIL, so on a machine with a
second core the two compiles overlap. `jax.jit(f).lower(shapes).compile()` fills the
cache that the later call `jax.jit(f)(arrays)` reads, so `step()` finds its program
compiled.

A wrong prediction (a parameter left without a gradient, a state made differently)
costs only the background work: `step()` then compiles what it needs, as before. The
trace of a group update reads the module-level `_Tracing`, so traces of it never run in
two threads at once (`tracing`).
"""
import threading
import weakref

from .. import _background, _jax_bridge

tracing = threading.Lock()      # held while a group update may be traced
# the prediction makes a first step's state (zeros the size of the parameters) to read
# its shapes: past this many bytes of parameters it is not worth the memory, and a model
# that size compiles its update in a small part of its first step anyway
MAX_PARAMETER_BYTES = 64 * 2 ** 20
_started = weakref.WeakSet()    # optimizers whose first step was predicted already
_pending = weakref.WeakKeyDictionary()      # optimizer -> its compiles still running


def start(optimizer):
    """Once per optimizer, at its first zero_grad(): compile its predicted first-step
    updates in the background."""
    if optimizer in _started or not _jax_bridge.top_level() or \
            optimizer.defaults.get("differentiable", False):
        return
    _started.add(optimizer)
    size = sum(p.numel() * p.element_size() for group in optimizer.param_groups
               for p in group["params"] if p.requires_grad)
    if size > MAX_PARAMETER_BYTES:
        return
    try:
        jobs = list(optimizer.predicted_updates())
    except Exception:       # (a prediction is only a guess: step() decides)
        return
    if not jobs:
        return
    from ._elementwise import _run_group
    _pending[optimizer] = [_background.submit(_compile, _run_group, args, static)
                           for args, static in jobs]


def finish(optimizer):
    """Before the optimizer's step: its compiles ahead are done (so none of them runs
    later, unexpected, and step() finds its program)."""
    for job in _pending.pop(optimizer, ()):
        job.result()


def wait():
    """Block until every compile started ahead, and every other background compile,
    has finished (benchmarks, tests)."""
    _background.wait()


def _compile(program, args, static):
    try:
        with tracing:
            program.lower(*args, **static).compile()
    except Exception:       # a guess that cannot compile is step()'s business
        pass
