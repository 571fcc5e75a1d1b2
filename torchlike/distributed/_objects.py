"""Collectives on picklable Python objects: bytes through a uint8 tensor collective."""
import pickle

import numpy as np

from . import _collectives as coll
from . import _process_group as pg


def _as_tensor(obj):
    from .._factories import tensor_from_numpy
    from .. import uint8
    return tensor_from_numpy(np.frombuffer(pickle.dumps(obj), np.uint8).copy(), uint8)


def _padded(data, length):
    from .. import zeros, uint8
    out = zeros(length, dtype=uint8)
    out[:data.numel()] = data
    return out


def _longest(size, group):
    from .. import tensor, int64
    t = tensor([size], dtype=int64)
    coll.all_reduce(t, coll.ReduceOp.MAX, group=group)
    return int(t.item())


def all_gather_object(object_list, obj, group=None):
    """object_list[i] = rank i's obj (each pickled, padded to the longest, gathered)."""
    group = pg.resolve(group)
    data = _as_tensor(obj)
    sizes = [data.new_zeros(1).long() for _ in range(group.size())]
    coll.all_gather(sizes, data.new_tensor([data.numel()]).long(), group=group)
    longest = max(int(s.item()) for s in sizes)
    rows = [data.new_zeros(longest) for _ in range(group.size())]
    coll.all_gather(rows, _padded(data, longest), group=group)
    for i, (row, size) in enumerate(zip(rows, sizes)):
        object_list[i] = pickle.loads(row.numpy()[:int(size.item())].tobytes())


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """object_list's items replaced by those of rank src (pickled as one list)."""
    group = pg.resolve(group)
    src_rank = coll._group_rank(group, src, group_src, "src")
    data = _as_tensor(list(object_list)) if group.rank() == src_rank else None
    size = data.numel() if data is not None else 0
    longest = _longest(size, group)
    from .. import zeros, uint8
    buffer = _padded(data, longest) if data is not None else zeros(longest, dtype=uint8)
    coll.broadcast(buffer, group=group, group_src=src_rank)
    if group.rank() != src_rank:
        object_list[:] = pickle.loads(buffer.numpy().tobytes())


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """object_gather_list[i] = rank i's obj, on rank dst only."""
    group = pg.resolve(group)
    dst = coll._group_rank(group, dst, group_dst, "dst")
    if group.rank() == dst and object_gather_list is None:
        raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
    gathered = [None] * group.size()
    all_gather_object(gathered, obj, group=group)
    if group.rank() == dst:
        object_gather_list[:len(gathered)] = gathered


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None,
                        group=None, group_src=None):
    """scatter_object_output_list[0] = rank src's scatter_object_input_list[this rank]."""
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size "
                         "at least 1.")
    group = pg.resolve(group)
    src_rank = coll._group_rank(group, src, group_src, "src")
    objects = list(scatter_object_input_list) if group.rank() == src_rank else []
    broadcast_object_list(objects, group=group, group_src=src_rank)
    scatter_object_output_list[0] = objects[group.rank()]


def send_object_list(object_list, dst=None, group=None, device=None, group_dst=None,
                     use_batch=False):
    """The list pickled, its size then its bytes sent to dst."""
    from .. import tensor, int64
    _, dst = coll._peer(group, dst, group_dst, "dst")
    data = _as_tensor(list(object_list))
    coll.send(tensor([data.numel()], dtype=int64), dst)
    coll.send(data, dst)


def recv_object_list(object_list, src=None, group=None, device=None, group_src=None,
                     use_batch=False):
    """object_list's items replaced by those rank src sent; returns src."""
    from .. import zeros, int64, uint8
    _, src = coll._peer(group, src, group_src, "src")
    size = zeros(1, dtype=int64)
    coll.recv(size, src)
    data = zeros(int(size.item()), dtype=uint8)
    coll.recv(data, src)
    received = pickle.loads(data.numpy().tobytes())
    object_list[:len(received)] = received
    return src
