"""A compiled call's guard: what must be equal for a traced program to be reused."""
from .._tensor import Tensor


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
    which tensors."""
    tensors, index = [], {}
    for t in state.tensors:
        if id(t) not in index:
            index[id(t)] = len(tensors)
            tensors.append(t)
    sig = []
    for s in state.tensor_slots:
        v = s.get()
        if v is None:
            sig.append(None)
            continue
        k = index.get(id(v))
        if k is None:
            k = index[id(v)] = len(tensors)
            tensors.append(v)
        sig.append(k)
    storages, where, owner, tensor_sig = [], {}, [], []
    for t in tensors:
        st = t._storage
        k = where.get(id(st))
        if k is None:
            k = where[id(st)] = len(storages)
            storages.append(st)
        owner.append(k)
        tensor_sig.append((k,) + _tensor_sig(t))
    return tensors, storages, owner, (tuple(tensor_sig), tuple(sig))


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
