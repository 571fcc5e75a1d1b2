"""Collectives on tensors, each one small jitted program over a group's mesh.

Every rank contributes its tensor as one shard of a global array of shape
(group size, *shape) sharded over the mesh axis 'ranks'; the program's output sharding
says who gets what (replicated: every rank gets the whole result, as after an
all-reduce; sharded on 'ranks': each rank gets its own row, as after a reduce-scatter).
XLA turns that into its collectives (gloo on CPU, NCCL on GPUs, ICI on TPUs): no transport
of our own. As in PyTorch, every member must call the same collectives in the same order.
"""
import enum
import functools

import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec

from . import _process_group as pg


class RedOpType(enum.Enum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8


class ReduceOp:
    """torch.distributed.ReduceOp: the reduction of all_reduce, reduce and reduce_scatter."""
    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM


# -- the programs: pure functions of the global array, shared by every call ---------------
def _reduce_rows(x, op):
    """x reduced over its first axis (the ranks), keeping x's dtype (bool sums are ors)."""
    if x.dtype == jnp.bool_:
        return jnp.any(x, axis=0) if op in ("sum", "max") else jnp.all(x, axis=0)
    if op == "sum":
        return jnp.sum(x, axis=0, dtype=x.dtype)
    if op == "prod":
        return jnp.prod(x, axis=0, dtype=x.dtype)
    return jnp.max(x, axis=0) if op == "max" else jnp.min(x, axis=0)


def _reduce_scatter_rows(x, op):
    """x: (n, n * k, ...) -> row r is the reduction of every rank's r-th chunk."""
    n = x.shape[0]
    return _reduce_rows(x.reshape((n, n, x.shape[1] // n) + x.shape[2:]), op)


def _identity(x):
    return x


def _row(x, index):
    return x[index]


def _exchange(x):
    """x: (n, n, ...) rank-major -> row r holds every rank's r-th chunk (all-to-all)."""
    return jnp.swapaxes(x, 0, 1)


_PROGRAMS = {"reduce": _reduce_rows, "reduce_scatter": _reduce_scatter_rows,
             "gather": _identity, "row": _row, "exchange": _exchange}


@functools.lru_cache(maxsize=256)
def _program(kind, static, mesh, sharded_out):
    """One jitted program per (kind, static argument, mesh, output layout); jax.jit keeps
    one executable per input shape and dtype under it."""
    fn = _PROGRAMS[kind]
    if static is not None:
        fn = functools.partial(fn, **{"op" if kind.startswith("reduce") else "index": static})
    spec = PartitionSpec("ranks") if sharded_out else PartitionSpec()
    return jax.jit(fn, out_shardings=NamedSharding(mesh, spec))


def _run(kind, group, local, static=None, sharded_out=False):
    """Run a program with `local` (a jax array) as this rank's row; this rank's part of
    the result (its row when sharded_out)."""
    mesh = group.mesh
    device = pg.device_of_rank(group.ranks[group.rank()])
    row = jax.device_put(jnp.expand_dims(local, 0), device)
    whole = jax.make_array_from_single_device_arrays(
        (group.size(),) + tuple(local.shape), NamedSharding(mesh, PartitionSpec("ranks")), [row])
    out = _program(kind, static, mesh, sharded_out)(whole).addressable_data(0)
    return out[0] if sharded_out else out


# -- tensors in and out --------------------------------------------------------------------
def _array(tensor):
    from .._tensor import Tensor
    if not isinstance(tensor, Tensor):
        raise TypeError(f"expected a Tensor, got {type(tensor).__name__}")
    return tensor.jax()


def _write(tensor, array):
    """tensor's values replaced in place (its version counter moves, as in PyTorch)."""
    from .. import no_grad
    from .._jax_bridge import wrap
    with no_grad():
        tensor.copy_(wrap(array))


class Work:
    """The handle async_op=True returns. JAX dispatches asynchronously, so the
    collective is already on its way; wait() blocks until its results exist."""

    def __init__(self, arrays=(), result=None):
        self._arrays = arrays
        self._result = result or []

    def wait(self, timeout=None):
        for a in self._arrays:
            a.block_until_ready()
        return True

    def is_completed(self):
        return all(a.is_ready() for a in self._arrays)

    def is_success(self):
        return self.is_completed()

    def exception(self):
        return None

    def result(self):
        self.wait()
        return self._result

    def get_future(self):
        return _Future(self)

    def synchronize(self):
        self.wait()


class _Future:
    def __init__(self, work):
        self._work = work

    def wait(self):
        return self._work.result()

    def value(self):
        return self._work.result()

    def done(self):
        return self._work.is_completed()


def _finish(async_op, arrays, result=None):
    return Work(tuple(arrays), result) if async_op else None


def _member(group):
    """The group to run on, or None for a rank outside it (PyTorch then does nothing)."""
    return None if group is pg.GroupMember.NON_GROUP_MEMBER else pg.resolve(group)


def _group_rank(group, global_rank, group_rank, what):
    if group_rank is not None:
        return group_rank
    if global_rank is None:
        raise ValueError(f"Either {what} or group_{what} must be specified")
    if global_rank not in group.ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {group}")
    return group.ranks.index(global_rank)


_OPS = {RedOpType.SUM: "sum", RedOpType.AVG: "sum", RedOpType.PRODUCT: "prod",
        RedOpType.MIN: "min", RedOpType.MAX: "max"}


def _op_name(op):
    if not isinstance(op, RedOpType):
        raise TypeError(f"all_reduce(): op must be a torch.distributed.ReduceOp, got {op!r}")
    if op not in _OPS:
        raise ValueError(f"Cannot use ReduceOp.{op.name} with gloo")
    return _OPS[op]


def _average(tensor, group, op):
    if op is RedOpType.AVG:
        from .. import no_grad
        with no_grad():
            tensor.div_(group.size())


# -- the collectives ----------------------------------------------------------------------
def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    group = _member(group)
    if group is None:
        return None
    out = _run("reduce", group, _array(tensor), _op_name(op))
    _write(tensor, out)
    _average(tensor, group, op)
    return _finish(async_op, [out])


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    group = _member(group)
    if group is None:
        return None
    dst = _group_rank(group, dst, group_dst, "dst")
    out = _run("reduce", group, _array(tensor), _op_name(op))
    if group.rank() == dst:
        _write(tensor, out)
        _average(tensor, group, op)
    return _finish(async_op, [out])


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    group = _member(group)
    if group is None:
        return None
    src = _group_rank(group, src, group_src, "src")
    out = _run("row", group, _array(tensor), src)
    if group.rank() != src:
        _write(tensor, out)
    return _finish(async_op, [out])


def all_gather(tensor_list, tensor, group=None, async_op=False):
    group = _member(group)
    if group is None:
        return None
    if len(tensor_list) != group.size():
        raise ValueError("tensor list size must match the group size: "
                         f"{len(tensor_list)} vs {group.size()}")
    out = _run("gather", group, _array(tensor))
    for i, t in enumerate(tensor_list):
        _write(t, out[i])
    return _finish(async_op, [out], tensor_list)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    group = _member(group)
    if group is None:
        return None
    local = _array(input_tensor)
    if output_tensor.numel() != local.size * group.size():
        raise ValueError("output tensor size must be equal to world_size times input tensor size")
    out = _run("gather", group, local)
    # PyTorch accepts the output stacked (n, *shape) or concatenated (n * d0, ...)
    _write(output_tensor, out.reshape(tuple(output_tensor.shape)))
    return _finish(async_op, [out], [output_tensor])


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    group = _member(group)
    if group is None:
        return None
    local = _array(input)
    if local.size != output.numel() * group.size():
        raise ValueError("input tensor must be the same size as output size times world size")
    flat = local.reshape((group.size() * output.numel(),))
    out = _run("reduce_scatter", group, flat, _op_name(op), sharded_out=True)
    _write(output, out.reshape(tuple(output.shape)))
    _average(output, group, op)
    return _finish(async_op, [out], [output])


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    group = _member(group)
    if group is None:
        return None
    dst = _group_rank(group, dst, group_dst, "dst")
    if group.rank() == dst:
        if gather_list is None or len(gather_list) != group.size():
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    out = _run("gather", group, _array(tensor))
    if group.rank() == dst:
        for i, t in enumerate(gather_list):
            _write(t, out[i])
    return _finish(async_op, [out])


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    group = _member(group)
    if group is None:
        return None
    src = _group_rank(group, src, group_src, "src")
    if group.rank() == src:
        if scatter_list is None or len(scatter_list) != group.size():
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        local = jnp.stack([_array(t) for t in scatter_list])
    else:
        if scatter_list:
            raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
        # the other ranks' rows are never read: zeros of the right shape fill them
        local = jnp.zeros((group.size(),) + tuple(tensor.shape), _array(tensor).dtype)
    # row `src` of the (n, n, ...) global array, its rows dealt out one per rank
    out = _run("row", group, local, src, sharded_out=True)
    _write(tensor, out)
    return _finish(async_op, [out])


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None,
                      group=None, async_op=False):
    group = _member(group)
    if group is None:
        return None
    n = group.size()
    local = _array(input)
    even = (not output_split_sizes or len(set(output_split_sizes)) == 1) and \
           (not input_split_sizes or len(set(input_split_sizes)) == 1)
    if even:
        if local.shape[0] % n:
            raise ValueError("Split sizes doesn't match total dim 0 size")
        chunks = local.reshape((n, local.shape[0] // n) + local.shape[1:])
        out = _run("exchange", group, chunks, sharded_out=True)
        _write(output, out.reshape(tuple(output.shape)))
        return _finish(async_op, [out], [output])
    # uneven splits: every chunk padded to the longest chunk any rank sends
    longest = jnp.asarray(max(input_split_sizes), jnp.int64)
    longest = int(_run("reduce", group, longest, "max"))
    starts = [sum(input_split_sizes[:i]) for i in range(n)]
    padded = jnp.stack([jnp.pad(local[s:s + k], [(0, longest - k)] + [(0, 0)] * (local.ndim - 1))
                        for s, k in zip(starts, input_split_sizes)])
    out = _run("exchange", group, padded, sharded_out=True)
    received = jnp.concatenate([out[i, :k] for i, k in enumerate(output_split_sizes)])
    _write(output, received)
    return _finish(async_op, [received], [output])


# -- point to point: a two-member collective ----------------------------------------------
@functools.lru_cache(maxsize=1024)
def _pair(low, high, my_rank, backend):
    return pg.ProcessGroup((low, high), my_rank, backend, None)


def _pair_run(tensor, me, peer, sender, write):
    pair = _pair(min(me, peer), max(me, peer), me, pg.default_group().name())
    out = _run("row", pair, _array(tensor), pair.ranks.index(sender))
    if write:
        _write(tensor, out)
    return out


def _global_rank(group, rank, group_rank, what):
    group = pg.resolve(group)
    return group.ranks[_group_rank(group, rank, group_rank, what)]


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Blocks until the peer's matching recv has the values. JAX matches a send with its
    recv as one program on the two ranks: the peer must be in its recv (not its own send
    to this rank) for the transfer to run."""
    me = pg.default_group().rank()
    dst = _global_rank(group, dst, group_dst, "dst")
    if dst == me:
        raise ValueError("Invalid destination rank: should not be the same as the rank of the current process.")
    _pair_run(tensor, me, dst, me, write=False).block_until_ready()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    if src is None and group_src is None:
        raise RuntimeError("torchlike.distributed.recv needs src: JAX's collectives have no "
                           "receive from any source")
    me = pg.default_group().rank()
    src = _global_rank(group, src, group_src, "src")
    if src == me:
        raise ValueError("Invalid source rank: should not be the same as the rank of the current process.")
    _pair_run(tensor, me, src, src, write=True)
    return src


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    me = pg.default_group().rank()
    dst = _global_rank(group, dst, group_dst, "dst")
    return Work((_pair_run(tensor, me, dst, me, write=False),))


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    me = pg.default_group().rank()
    src = _global_rank(group, src, group_src, "src")
    return Work((_pair_run(tensor, me, src, src, write=True),))


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    group = _member(group)
    if group is None:
        return None
    out = _run("reduce", group, jnp.zeros((1,), jnp.int32), "sum")
    if async_op:
        return Work((out,))
    out.block_until_ready()
    return None
