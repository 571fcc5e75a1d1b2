"""Compiles on a worker thread, so that a step never waits for a program it can do without.

One worker thread runs every background compile in the order they were started: the
optimizer's first update predicted ahead (optim/ahead.py), and the fused backward's
variant that computes its pending inputs inside (autograd/engine.py), which the engine
uses once its compile has finished, going on with the program it has meanwhile.
`jax.jit(f).lower(shapes).compile()` fills the caches that the later call
`jax.jit(f)(arrays)` reads, so that call neither traces nor compiles; XLA releases the
GIL while it compiles, so the steps on the main thread go on at nearly their speed.
"""
import concurrent.futures

import jax

from ._caches import LRU

_worker = None
_compiles = LRU(64)             # key -> Future of compile_later's job


def submit(fn, *args):
    """Run fn(*args) on the worker thread; returns its Future."""
    global _worker
    if _worker is None:
        _worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="torchlike-compile")
    return _worker.submit(fn, *args)


def wait():
    """Block until every job started so far has finished (benchmarks and tests call
    this to measure or assert the steady state)."""
    if _worker is not None:
        _worker.submit(int).result()


def _abstract(x):
    """What lowering needs of an argument: its shape, dtype, weak type and, when it is
    committed to a device, its sharding (an uncommitted array's sharding would make
    jax.jit key the program differently from the real call). The job must not keep a
    buffer alive, or read one that a later step has donated."""
    if isinstance(x, jax.Array):
        return jax.ShapeDtypeStruct(x.shape, x.dtype, weak_type=x.weak_type,
                                    sharding=x.sharding if x.committed else None)
    return x


def _compile(jitted, args, static):
    jitted.lower(*args, **static).compile()
    return jitted


def compile_later(key, jitted, args, static=None):
    """Compile `jitted` for the shapes of `args` (and its static keyword arguments
    `static`) on the worker thread, once per key."""
    if key not in _compiles:
        _compiles[key] = submit(_compile, jitted, jax.tree.map(_abstract, args), static or {})


def compiled(key):
    """The jitted function of `key` once its compile has finished, else None (not
    started, still running, or failed: a failed job is not started again)."""
    job = _compiles.get(key)
    if job is None or not job.done() or job.exception() is not None:
        return None
    return job.result()
