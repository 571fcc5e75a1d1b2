"""Collectives on lists of tensors (all_to_all, reduce_scatter, the coalesced forms) and
batched point-to-point transfers, built on the single-tensor collectives."""
import warnings

from . import _collectives as coll
from . import _process_group as pg


def _flat(tensors):
    from .. import cat
    return cat([t.reshape(-1) for t in tensors])


def _write_pieces(flat, tensors):
    """flat's consecutive pieces written into `tensors` in place."""
    offset = 0
    for t in tensors:
        n = t.numel()
        coll.write(t, flat[offset:offset + n].reshape(t.shape).jax())
        offset += n


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    """output_tensor_list[i] = rank i's input_tensor_list[this rank]: one flat
    all_to_all_single with each piece's size as its split."""
    group = coll._member(group)
    if group is None:
        return None
    first = tuple(input_tensor_list[0].shape)
    for i, t in enumerate(input_tensor_list):      # gloo's checks: one shape throughout
        if tuple(t.shape) != first:
            raise RuntimeError(f"ProcessGroupGloo::alltoall: invalid tensor size at index {i} "
                               f"(expected {coll._shape_text(first)}, got {coll._shape_text(t.shape)})")
    if sum(t.numel() for t in output_tensor_list) != sum(t.numel() for t in input_tensor_list):
        raise RuntimeError("ProcessGroupGloo::alltoall: input and output tensors must have "
                           "the same size")
    received = output_tensor_list[0].new_empty((sum(t.numel() for t in output_tensor_list),))
    coll.all_to_all_single(received, _flat(input_tensor_list),
                           [t.numel() for t in output_tensor_list],
                           [t.numel() for t in input_tensor_list], group=group)
    _write_pieces(received, output_tensor_list)
    return coll.Work((), output_tensor_list) if async_op else None


def reduce_scatter(output, input_list, op=coll.ReduceOp.SUM, group=None, async_op=False):
    """output = the reduction over ranks of input_list[this rank]."""
    group = coll._member(group)
    if group is None:
        return None
    if len(input_list) != group.size():
        raise RuntimeError("invalid input tensor list size, must be world size")
    return coll.reduce_scatter_single(output, _flat(input_list), op, group, async_op)


def _will_be_deprecated(name):
    warnings.warn(f"`torch.distributed.{name}` will be deprecated. If you must use it, please "
                  "revisit our documentation later at "
                  "https://pytorch.org/docs/main/distributed.html#collective-functions",
                  FutureWarning, stacklevel=3)


def all_reduce_coalesced(tensors, op=coll.ReduceOp.SUM, group=None, async_op=False):
    """all_reduce of several tensors, one flat collective per dtype."""
    _will_be_deprecated("all_reduce_coalesced")
    from .._tensor import Tensor
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    group = coll._member(group)
    if group is None or not tensors:
        return None
    for t in tensors:
        if t.dtype is not tensors[0].dtype:
            raise ValueError("Invalid usage of tensors with different dtypesFound "
                             f"{tensors[0].dtype} and  {t.dtype}")
    kind = coll._op_name(op, tensors[0])
    outs = coll.run_on_tensors("all_reduce", tensors, group, kind)
    return coll._finish(async_op, outs, tensors)


def all_gather_coalesced(output_tensor_lists, input_tensor_list, group=None, async_op=False):
    """output_tensor_lists[r][i] = rank r's input_tensor_list[i]."""
    _will_be_deprecated("all_gather_coalesced")
    group = coll._member(group)
    if group is None:
        return None
    for i, tensor in enumerate(input_tensor_list):
        coll.all_gather([outputs[i] for outputs in output_tensor_lists], tensor, group=group)
    return coll.Work((), output_tensor_lists) if async_op else None


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    """A barrier; a rank that does not arrive makes it fail within the group's timeout
    (JAX's heartbeats), as gloo's monitored barrier."""
    return coll.barrier(group)


class P2POp:
    """One send or receive of a batch for batch_isend_irecv."""

    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        if op not in (coll.isend, coll.irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type "
                             "``torch.distributed.isend`` or ``torch.distributed.irecv``.")
        self.op, self.tensor, self.group, self.tag = op, tensor, group, tag
        self.peer = peer
        self.group_peer = group_peer

    def global_peer(self):
        group = pg.resolve(self.group)
        return coll._global_rank(group, self.peer, self.group_peer,
                                 "dst" if self.op is coll.isend else "src")

    def __repr__(self):
        group = pg.resolve(self.group)
        me = group.rank()
        peer = group.ranks.index(self.global_peer())
        src, dst = (me, peer) if self.op is coll.isend else (peer, me)
        return (f"P2POp({self.op.__name__} pg={list(group.ranks)}, "
                f"group_src={src}, group_dst={dst},  {self.tensor.shape}, {self.tensor.dtype})")


def batch_isend_irecv(p2p_op_list):
    """Runs the transfers in one order every rank agrees on (by rank pair, then sender),
    so that two ranks each sending to the other cannot wait for each other; the works
    come back in the given order."""
    if not p2p_op_list:              # PyTorch fails on its first item
        raise IndexError("list index out of range")
    if not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type "
                         "``torch.distributed.P2POp``.")
    me = pg.default_group().rank()

    def order(k):
        peer = p2p_op_list[k].global_peer()
        sender = me if p2p_op_list[k].op is coll.isend else peer
        return (min(me, peer), max(me, peer), sender != min(me, peer))

    works = [None] * len(p2p_op_list)
    for k in sorted(range(len(p2p_op_list)), key=order):
        p = p2p_op_list[k]
        works[k] = p.op(p.tensor, p.global_peer())
    return works
