"""Bounds on what torchlike keeps between calls: compiled programs and cached arrays.

Two kinds of memory grow with the number of distinct shapes and graph structures a
program meets (a loop over ever-new batch sizes, generation that appends a token per
step):

* torchlike's own dictionaries (jitted functions per structure, output shapes per op,
  cached constant arrays). Each is an `LRU` with a fixed number of entries.
* the executables themselves. JAX keeps every program it compiles in process-wide
  caches of thousands of entries, whatever becomes of the jitted function, and offers
  no way to evict one of them. So torchlike counts backend compiles (JAX's monitoring
  event) and, once `MAX_COMPILES` have happened since the last reset, drops them all
  (`jax.clear_caches()`) at the next safe point (no trace in progress) and hands the
  freed memory back to the system. Programs still in use compile again on demand.
  Measured on CPU: ~1.5 MB of compiled code per small program, ~10 MB per training
  step, so the default bound holds compiled code under ~2.5 GB in the worst case.
"""
import collections
import ctypes
import os

import jax

MAX_COMPILES = int(os.environ.get("TORCHLIKE_MAX_COMPILES", "256"))

_BACKEND_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


class LRU(collections.OrderedDict):
    """A dict that forgets its least recently used entry beyond `maxsize` entries."""

    def __init__(self, maxsize):
        super().__init__()
        self.maxsize = maxsize

    def get(self, key, default=None):
        try:
            value = self[key]
        except KeyError:
            return default
        self.move_to_end(key)
        return value

    # A lookup that leaves recency alone (OrderedDict's own get, in C): for hot caches of
    # cheap-to-recompute entries, where a hit must cost no Python call; their eviction
    # order is then insertion order.
    peek = collections.OrderedDict.get

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        if len(self) > self.maxsize:
            self.popitem(last=False)


class _CompileCounter:
    total = 0            # backend compiles in this process
    since_reset = 0      # backend compiles since the last reset
    resets = 0           # how many times compiled code was dropped (tests read this)


compiles = _CompileCounter()


def _on_event(event, duration_secs, **kwargs):
    if event == _BACKEND_COMPILE_EVENT:
        compiles.total += 1
        compiles.since_reset += 1


jax.monitoring.register_event_duration_secs_listener(_on_event)


def _trim_malloc():
    """Give freed heap memory back to the system (glibc keeps it otherwise)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


# called after compiled code is dropped, by caches that hold executables of their own
# (_small_programs.release)
on_release = []


def release_if_over_budget():
    """Called where torchlike is about to run or compile something: drop every compiled
    program once more than MAX_COMPILES were made since the last time."""
    if compiles.since_reset < MAX_COMPILES:
        return
    from jax._src import core
    if not core.trace_state_clean():     # inside someone's trace: wait for a safe point
        return
    jax.clear_caches()
    for release in on_release:
        release()
    _trim_malloc()
    compiles.since_reset = 0
    compiles.resets += 1
