"""Which old buffers the group update may overwrite (donate).

XLA writes a jitted function's results into the buffers of its donated arguments, so an
update that donates the old optimizer state needs no second copy of it: the step's peak
memory drops by its size. (Parameters are not donated: see _elementwise._run_group.) A donated array is deleted, which is
only safe when nothing but its own tensor refers to it. Whatever could still read an
old array holds a Python reference to that very array object: another storage or a
view's cached value, a pending `Deferred` (its `_value`), a saved input of an autograd
graph, an array the user took with `t.jax()`, a `numpy()` snapshot, the shared cache
of filled constants that `zeros_like` draws from. So a reference count above the one
the tensor alone gives means the array is shared. (NumPy views and DLPack exports of
a buffer are PJRT's external references: XLA then declines to reuse the buffer and
leaves it intact, without a warning.) What a count cannot see is a second jax.Array
object over the same buffer, such as `jax.device_put(t.jax(), device)` to the device
it is on already returns: torchlike keeps no such pairs (torchlike.compile's donation
relies on the same; `_device.uncommitted` makes one, an uncommitted twin of a committed
array, but its callers keep only the twin), so only user code that makes one could be
surprised.

A shared array is not withheld from donation but replaced by a private copy (a
device-to-device copy, which compiles nothing) that the update then consumes: the
update is one program whatever the holders, so the first step, whose zero state
comes from the shared cache, and the later steps run the same compiled program.
"""
import sys

import jax


def _counts(arrays):
    # (map: no Python call per array; a step passes three or four per parameter)
    return list(map(sys.getrefcount, arrays))


def _count_with_one_holder():
    """What `_counts` gives for an array that one tensor holds (here: a list), counted
    the same way: the holder, `arrays`, map's reference and getrefcount's argument."""
    holder = [object()]
    return _counts(list(holder))[0]


_ONE_HOLDER = _count_with_one_holder()


def make_private(arrays):
    """Replace, in the list `arrays`, each array that something besides its tensor
    refers to by a copy of it, so that every array in it can be donated. Each array
    must come from a tensor that is alive during the call and holds it (the tensor is
    the one holder allowed)."""
    counts = _counts(arrays)
    if counts and max(counts) > _ONE_HOLDER:
        for i, count in enumerate(counts):
            if count > _ONE_HOLDER:
                arrays[i] = jax.device_put(arrays[i], may_alias=False)
    return arrays
