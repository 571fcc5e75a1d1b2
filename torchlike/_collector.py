"""torchlike and Python's cyclic garbage collector.

A recorded op makes a few Python objects (its tensor, its graph node, their tuples)
where torch makes C++ ones, so a long graph -- a 10,000-op chain waiting for its
backward -- promotes tens of thousands of objects into the oldest generation at every
step. Python runs a full collection once those promotions pass a quarter of what lived
through the last one, and a full collection walks every tracked object in the process:
JAX's, numpy's and torchlike's own module-level objects (about 120,000 after
`import torchlike`) included. That walk was most of the chain's cost per op.

So at the end of `import torchlike` the objects that exist then are moved to the
permanent generation (`gc.freeze()`), which collections skip. They are modules,
classes, functions and their tables, which live for the whole process anyway. Objects
made later are collected as usual. The cost: any object that existed before the import
and later becomes unreachable inside a reference cycle is never reclaimed (the
collector no longer looks at it), and `gc.get_objects()` no longer lists frozen objects.
`TORCHLIKE_GC_FREEZE=0` in the environment keeps the collector as it was.
"""
import gc
import os

FREEZE_VARIABLE = "TORCHLIKE_GC_FREEZE"


def freeze_import_time_objects():
    """Move every object alive now to the collector's permanent generation, unless the
    user said not to."""
    if os.environ.get(FREEZE_VARIABLE, "1") != "0":
        gc.freeze()
