"""A compiled call's guard: what must be equal for a traced program to be reused."""
import operator

from .._tensor import Tensor

_STORAGE_OF = operator.attrgetter("_storage")


def _tensor_sig(t):
    # a whole tensor (its storage, contiguous) needs no strides or offset in its key
    layout = True if t._whole else (t.stride(), t._offset)
    # the device as (type, index): torchlike.device hashes and compares in Python, and a
    # guard is hashed and compared on every call
    device = t._storage.device
    return (t._shape, layout, t._dtype, device.type, device.index, t._requires_grad,
            t._grad_fn is None)


def leaf_sig(x):
    if isinstance(x, Tensor):
        return ("T",) + _tensor_sig(x)
    if isinstance(x, (bool, int, float, complex, str, type(None))):
        return (type(x), x)
    return ("id", id(x))


def collect(state):
    """The tensors a call reads (state and arguments), their unique storages, for each
    tensor the index of its storage, and the guard part describing which slots hold
    which tensors. (Runs on every call: dict building over ids, and storages as dict keys
    (their hash is object's, in C; Tensor's is a Python method).)"""
    values = [s.get() for s in state.tensor_slots]
    by_id = dict(zip(map(id, state.tensors), state.tensors))
    slot_ids = [None if v is None else id(v) for v in values]
    for i, v in zip(slot_ids, values):
        if i is not None and i not in by_id:
            by_id[i] = v
    tensors = list(by_id.values())
    index = dict(zip(by_id, range(len(tensors))))
    sig = tuple(None if i is None else index[i] for i in slot_ids)
    where = {}
    owner = [where.setdefault(st, len(where)) for st in map(_STORAGE_OF, tensors)]
    tensor_sig = tuple((k,) + _tensor_sig(t) for k, t in zip(owner, tensors))
    return tensors, list(where), owner, (tensor_sig, sig)


class GuardKey:
    """A guard (a nested tuple of every tensor's signature and every Python value) with
    its hash computed once: a cache lookup (and an LRU's move_to_end) would hash the
    whole nest again each time."""
    __slots__ = ("parts", "hash")

    def __init__(self, parts):
        self.parts, self.hash = parts, hash(parts)

    def __hash__(self):
        return self.hash

    def __eq__(self, other):
        return self.hash == other.hash and self.parts == other.parts


def shapes_left_out(key):
    """A call's guard key without sizes and strides (ranks stay): what the recompile
    limit counts when shapes are dynamic. Runs only when a call misses the cache."""
    treedef, leaves, (tensor_sig, slot_sig), *rest = key.parts
    leaves = tuple(("T", len(x[1]), x[2] is True) + x[3:] if x[0] == "T" else x
                   for x in leaves)
    tensor_sig = tuple((s[0], len(s[1]), s[2] is True) + s[3:] for s in tensor_sig)
    return GuardKey((treedef, leaves, (tensor_sig, slot_sig), *rest))
