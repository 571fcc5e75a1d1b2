"""A compiled call's guard: what must be equal for a traced program to be reused."""
from .._tensor import Tensor


def _tensor_sig(t):
    return (tuple(t._shape), t.stride(), t._offset, t._dtype, t._storage.device,
            t._requires_grad, t._grad_fn is None)


def leaf_sig(x):
    if isinstance(x, Tensor):
        return ("T",) + _tensor_sig(x)
    if isinstance(x, (bool, int, float, complex, str, type(None))):
        return (type(x), x)
    return ("id", id(x))



def collect(state):
    """The tensors a call reads (state and arguments), their unique storages, and the
    guard part describing which slots hold which tensors."""
    tensors, index = [], {}
    for t in state.tensors:
        if id(t) not in index:
            index[id(t)] = len(tensors)
            tensors.append(t)
    sig = []
    for s in state.tensor_slots:
        v = s.get()
        if isinstance(v, Tensor) and id(v) not in index:
            index[id(v)] = len(tensors)
            tensors.append(v)
        sig.append(None if v is None else index[id(v)])
    storages, where = [], {}
    for t in tensors:
        if id(t._storage) not in where:
            where[id(t._storage)] = len(storages)
            storages.append(t._storage)
    tensor_sig = tuple((where[id(t._storage)],) + _tensor_sig(t) for t in tensors)
    return tensors, storages, (tensor_sig, tuple(sig))


