"""torchlike and Python's cyclic garbage collector.

A recorded op makes a few Python objects (its tensor, its graph node, their tuples)
where torch makes C++ ones, so a long graph -- a 10,000-op chain waiting for its
backward -- promotes tens of thousands of objects into the oldest generation at every
step. Python runs a full collection once those promotions pass a quarter of what lived
through the last one, and a full collection walks every tracked object in the process:
JAX's, numpy's and torchlike's own module-level objects (about 120,000 after
`import torchlike`) included. That walk was most of the chain's cost per op.

So at the end of `import torchlike`:
- the objects that exist then are moved to the permanent generation (`gc.freeze()`),
  which collections skip. They are modules, classes, functions and their tables, which
  live for the whole process anyway. Objects made later are collected as usual.
- the youngest generation's threshold is raised from Python's 700 to YOUNG_THRESHOLD
  (where it is lower). The objects made after the import still grow with what a
  process compiled: JAX's jaxprs and lowering caches, about 10,000-20,000 tracked
  objects per model. With 700, a 10,000-op graph passed 70,000 allocations, and so a
  full collection over all of them, about once a step; with 10,000 the full collection
  needs 1,000,000. Garbage in reference cycles is still reclaimed, only later (its
  memory held that much longer: cycles are rare in a training loop, whose graphs
  reference counting frees).

The cost: an object made before the import that later becomes unreachable inside a
reference cycle is never reclaimed (the collector no longer looks at it), and
`gc.get_objects()` no longer lists frozen objects. `TORCHLIKE_GC_FREEZE=0` in the
environment keeps the collector as it was (frozen nothing, thresholds untouched).
"""
import gc
import os

FREEZE_VARIABLE = "TORCHLIKE_GC_FREEZE"
YOUNG_THRESHOLD = 10_000


def tune_at_import():
    """Freeze every object alive now and raise the youngest generation's threshold,
    unless the user said not to."""
    if os.environ.get(FREEZE_VARIABLE, "1") == "0":
        return
    gc.freeze()
    young, *older = gc.get_threshold()
    if young and young < YOUNG_THRESHOLD:    # (0: the program turned collections off)
        gc.set_threshold(YOUNG_THRESHOLD, *older)
