"""Collectives on tensors, each one small jitted program over a group's mesh.

Every rank's tensor is one shard of a global array (the ranks' arrays concatenated along
axis 0, sharded over the mesh axis 'ranks'); the program's output sharding says who gets
what (replicated: every rank gets the whole result, as after an all-reduce; sharded on
'ranks': each rank gets its own part, as after a reduce-scatter). XLA turns that into its
collectives (gloo on CPU, NCCL on GPUs, ICI on TPUs): no transport of our own. As in
PyTorch, every member must call the same collectives in the same order.
"""
import enum
import functools
import warnings

import numpy as np

import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec

from . import _process_group as pg
from ._errors import is_peer_failure, peer_failure


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
# The global array is every rank's local array concatenated along axis 0 (so no reshape
# runs outside the program); `n` is the group size. A program's result is already this
# rank's result in its final shape: outside it nothing is left to compile per shape.
def _rows(x, n):
    return x.reshape((n, x.shape[0] // n) + x.shape[1:])


def _reduce_rows(x, op):
    """x reduced over its first axis (the ranks), keeping x's dtype (bool sums are ors)."""
    if x.dtype == jnp.bool_:
        return jnp.any(x, axis=0) if op in ("sum", "max") else jnp.all(x, axis=0)
    if op == "sum":
        return jnp.sum(x, axis=0, dtype=x.dtype)
    if op == "avg":          # PyTorch's AVG: the sum, then one division
        return (jnp.sum(x, axis=0, dtype=x.dtype) / x.shape[0]).astype(x.dtype)
    if op == "prod":
        return jnp.prod(x, axis=0, dtype=x.dtype)
    if op in _BITWISE:
        return _BITWISE[op].reduce(x, axis=0)
    return jnp.max(x, axis=0) if op == "max" else jnp.min(x, axis=0)


_BITWISE = {"band": jnp.bitwise_and, "bor": jnp.bitwise_or, "bxor": jnp.bitwise_xor}


def _split(flat, shapes):
    """A flat result cut into pieces of `shapes` (None: left whole)."""
    if shapes is None:
        return flat
    pieces, offset = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        pieces.append(flat[offset:offset + size].reshape(shape))
        offset += size
    return tuple(pieces)


def _all_reduce(x, n, op, shapes):
    return _split(_reduce_rows(_rows(x, n), op), shapes)


def _reduce_scatter(x, n, op, shapes):
    """Each rank's flat (n * k,) input; rank r gets the reduction of every r-th chunk
    (the result, (n * k,), is sharded over the ranks)."""
    return _reduce_rows(_rows(x, n), op)


def _all_gather(x, n, arg, shapes):
    """Every rank's input, whole (shapes=None) or one piece per rank (shapes given)."""
    return x if shapes is None else tuple(_rows(x, n))


def _row(x, n, src, shapes):
    """Rank src's input, for everyone (replicated) or dealt out (sharded over ranks)."""
    return _split(_rows(x, n)[src], shapes)


def _exchange(x, n, arg, shapes):
    """Rank-major (n, n, k ...) -> rank r gets every rank's r-th chunk (all-to-all)."""
    chunks = x.reshape((n, n, x.shape[0] // (n * n)) + x.shape[1:])
    return jnp.swapaxes(chunks, 0, 1).reshape(x.shape)


_COLLECTIVE_NAMES = {"row": "broadcast/scatter", "exchange": "all_to_all"}

_PROGRAMS = {"all_reduce": _all_reduce, "reduce_scatter": _reduce_scatter,
             "all_gather": _all_gather, "row": _row, "exchange": _exchange}


@functools.lru_cache(maxsize=256)
def _program(kind, arg, shapes, mesh, sharded_out):
    """One jitted program per (kind, argument, output pieces, mesh, output layout); jax.jit
    keeps one executable per input shape and dtype under it."""
    fn = functools.partial(_PROGRAMS[kind], n=mesh.devices.size, shapes=shapes,
                           **{"op" if "reduce" in kind else ("src" if kind == "row" else "arg"): arg})
    spec = PartitionSpec("ranks") if sharded_out else PartitionSpec()
    if arg in _BITWISE:
        # XLA's CPU collectives have no bitwise all-reduce: gather, then reduce locally
        fn = functools.partial(_gathered_first, fn, NamedSharding(mesh, PartitionSpec()))
    return jax.jit(fn, out_shardings=NamedSharding(mesh, spec))


def _gathered_first(fn, replicated, x):
    return fn(jax.lax.with_sharding_constraint(x, replicated))


@jax.jit
def _flatten(arrays):
    """Several arrays as one flat array (one compile per list of shapes)."""
    return jnp.concatenate([a.reshape(-1) for a in arrays])


def _run(kind, group, local, arg=None, shapes=None, sharded_out=False):
    """Run a program with `local` (a jax array, at least 1-d) as this rank's part; this
    rank's part of the result (a tuple of arrays when `shapes` cuts it into pieces)."""
    mesh = group.mesh
    device = group.device
    if local.ndim == 0:
        local = local.reshape(1)
    whole = jax.make_array_from_single_device_arrays(
        (group.size() * local.shape[0],) + tuple(local.shape[1:]),
        NamedSharding(mesh, PartitionSpec("ranks")), [jax.device_put(local, device)])
    try:
        out = _program(kind, arg, shapes, mesh, sharded_out)(whole)
    except Exception as error:      # noqa: BLE001  (only a peer's failure is translated)
        if is_peer_failure(error):
            raise peer_failure(_COLLECTIVE_NAMES.get(kind, kind), group, error) from error
        raise
    if isinstance(out, tuple):
        return tuple(o.addressable_data(0) for o in out)
    return out.addressable_data(0)


def run_flat(kind, group, arrays, arg=None):
    """`kind` over several arrays at once (one collective, as DDP's buckets): the result
    cut back into arrays of their shapes."""
    shapes = tuple(tuple(a.shape) for a in arrays)
    return _run(kind, group, _flatten(list(arrays)), arg, shapes)


# -- tensors in and out --------------------------------------------------------------------
def _array(tensor):
    from .._tensor import Tensor
    if not isinstance(tensor, Tensor):
        raise TypeError("Invalid function argument. Expected parameter `tensor` of type "
                        "torch.Tensor\n             but got {} instead.".format(type(tensor)))
    return tensor.jax()


def write(tensor, array):
    """tensor's values replaced in place by `array`: views and bases see the change, and,
    as with PyTorch's collectives (which write behind autograd's back), the version
    counter stays where it was."""
    if tuple(array.shape) != tuple(tensor.shape):
        array = array.reshape(tuple(tensor.shape))
    if array.dtype != tensor.dtype.np:
        array = array.astype(tensor.dtype.np)
    counter = tensor._version_counter
    version = counter.value
    tensor._write(array)
    counter.value = version


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
    arrays = arrays if isinstance(arrays, (list, tuple)) else [arrays]
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


_OPS = {RedOpType.SUM: "sum", RedOpType.AVG: "avg", RedOpType.PRODUCT: "prod",
        RedOpType.MIN: "min", RedOpType.MAX: "max", RedOpType.BAND: "band",
        RedOpType.BOR: "bor", RedOpType.BXOR: "bxor"}


def _op_name(op, tensor):
    if not isinstance(op, RedOpType):
        raise TypeError(f"all_reduce(): op must be a torch.distributed.ReduceOp, got {op!r}")
    if op not in _OPS:
        raise ValueError(f"Cannot use ReduceOp.{op.name} with gloo")
    if _OPS[op] in _BITWISE and (tensor.is_floating_point() or tensor.is_complex()):
        raise RuntimeError(f"Cannot use ReduceOp.{op.name} with non-integral dtype")
    if op is RedOpType.AVG and not tensor.is_floating_point() and not tensor.is_complex():
        # PyTorch divides the sum in place, which an integer tensor refuses
        from .._tensor import SCALAR_NAME
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{SCALAR_NAME[tensor.dtype.name]}")
    return _OPS[op]


def _shape_text(shape):
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _check_outputs(name, tensors, tensor, group):
    """PyTorch's (gloo's) checks of an output list against the input."""
    if len(tensors) != group.size():
        raise RuntimeError(f"ProcessGroupGloo::{name}: invalid output tensor list at index 0 "
                           f"(expected length {group.size()}, got {len(tensors)})")
    for t in tensors:
        if t.dtype is not tensor.dtype:
            raise ValueError("Invalid usage of tensors with different dtypesFound "
                             f"{t.dtype} and  {tensor.dtype}")
    for i, t in enumerate(tensors):
        if tuple(t.shape) != tuple(tensor.shape):
            raise RuntimeError(f"ProcessGroupGloo::{name}: invalid tensor size at index {i} "
                               f"(expected {_shape_text(tensor.shape)}, got {_shape_text(t.shape)})")


# -- the collectives ----------------------------------------------------------------------
def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    group = _member(group)
    if group is None:
        return None
    out = _run("all_reduce", group, _array(tensor), _op_name(op, tensor))
    write(tensor, out)
    return _finish(async_op, out)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    group = _member(group)
    if group is None:
        return None
    dst = _group_rank(group, dst, group_dst, "dst")
    out = _run("all_reduce", group, _array(tensor), _op_name(op, tensor))
    if group.rank() == dst:
        write(tensor, out)
    return _finish(async_op, out)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    group = _member(group)
    if group is None:
        return None
    src = _group_rank(group, src, group_src, "src")
    out = _run("row", group, _array(tensor), src)
    if group.rank() != src:
        write(tensor, out)
    return _finish(async_op, out)


def run_on_tensors(kind, tensors, group=None, arg=None):
    """A collective on several tensors of one dtype as one flat array (DDP's buckets):
    each tensor gets its part of the result, in place."""
    group = pg.resolve(group)
    outs = run_flat(kind, group, [_array(t) for t in tensors], arg)
    for t, o in zip(tensors, outs):
        write(t, o)
    return outs


def all_gather(tensor_list, tensor, group=None, async_op=False):
    group = _member(group)
    if group is None:
        return None
    local = _array(tensor)
    _check_outputs("allgather", tensor_list, tensor, group)
    shapes = tuple(tuple(local.shape) for _ in range(group.size()))
    outs = _run("all_gather", group, local, shapes=shapes)
    for t, o in zip(tensor_list, outs):
        write(t, o)
    return _finish(async_op, outs, tensor_list)


def all_gather_single(output_tensor, input_tensor, group=None, async_op=False):
    group = _member(group)
    if group is None:
        return None
    local = _array(input_tensor)
    if output_tensor.numel() != local.size * group.size():
        raise RuntimeError(f"ProcessGroupGloo::allgather: invalid tensor size at index 0 "
                           f"(expected {_shape_text(input_tensor.shape)}, got "
                           f"{_shape_text(output_tensor.shape)})")
    out = _run("all_gather", group, local)
    # concatenated (n * d0, ...) as with gloo, or stacked (n, *shape) as NCCL also allows
    write(output_tensor, out)
    return _finish(async_op, out, [output_tensor])


def reduce_scatter_single(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    group = _member(group)
    if group is None:
        return None
    local = _array(input)
    if local.size != output.numel() * group.size():
        raise ValueError("input tensor must be the same size as output size times world size")
    out = _run("reduce_scatter", group, local.reshape(-1), _op_name(op, input), sharded_out=True)
    write(output, out)
    return _finish(async_op, out, [output])


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """PyTorch 2.13's deprecated name of all_gather_single (with its warning)."""
    _deprecated("all_gather_into_tensor", "all_gather_single")
    return all_gather_single(output_tensor, input_tensor, group, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """PyTorch 2.13's deprecated name of reduce_scatter_single (with its warning)."""
    _deprecated("reduce_scatter_tensor", "reduce_scatter_single")
    return reduce_scatter_single(output, input, op, group, async_op)


def _deprecated(old, new):
    warnings.warn(f"`torch.distributed.{old}` is deprecated. Please use "
                  f"`torch.distributed.{new}` instead.", FutureWarning, stacklevel=3)


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
    local = _array(tensor)
    shapes = tuple(tuple(local.shape) for _ in range(group.size()))
    outs = _run("all_gather", group, local, shapes=shapes)
    if group.rank() == dst:
        for t, o in zip(gather_list, outs):
            write(t, o)
    return _finish(async_op, outs)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    group = _member(group)
    if group is None:
        return None
    src = _group_rank(group, src, group_src, "src")
    if group.rank() == src:
        if scatter_list is None or len(scatter_list) != group.size():
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        local = _flatten([_array(t) for t in scatter_list])
    else:
        if scatter_list:
            raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
        # the other ranks' parts are never read: zeros of the right size fill them
        local = jnp.zeros((group.size() * tensor.numel(),), _array(tensor).dtype)
    out = _run("row", group, local, src, sharded_out=True)
    write(tensor, out)
    return _finish(async_op, out)


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
        if output.numel() != local.size:
            raise RuntimeError("all_to_all_single: the output must have as many elements as "
                               "the input (in->size == out->size)")
        out = _run("exchange", group, local, sharded_out=True)
        write(output, out)
        return _finish(async_op, out, [output])
    # uneven splits: every chunk padded to the longest chunk any rank sends
    longest = _run("all_reduce", group, np.array([max(input_split_sizes)]), "max")
    longest = int(longest[0])
    starts = np.cumsum([0] + list(input_split_sizes))
    padded = np.zeros((n, longest) + local.shape[1:], local.dtype)
    host = np.asarray(local)
    for i, k in enumerate(input_split_sizes):
        padded[i, :k] = host[starts[i]:starts[i] + k]
    out = np.asarray(_run("exchange", group, padded.reshape((n * longest,) + local.shape[1:]),
                          sharded_out=True)).reshape(padded.shape)
    received = np.concatenate([out[i, :k] for i, k in enumerate(output_split_sizes)])
    write(output, jnp.asarray(received))
    return _finish(async_op, [], [output])


# -- point to point: a two-member collective ----------------------------------------------
@functools.lru_cache(maxsize=1024)
def _pair(low, high, my_rank, backend):
    return pg.ProcessGroup((low, high), my_rank, backend, None)


def _pair_run(tensor, me, peer, sender, write_result):
    pair = _pair(min(me, peer), max(me, peer), me, pg.default_group().name())
    out = _run("row", pair, _array(tensor), pair.ranks.index(sender))
    if write_result:
        write(tensor, out)
    return out


def _global_rank(group, rank, group_rank, what):
    group = pg.resolve(group)
    return group.ranks[_group_rank(group, rank, group_rank, what)]


def _peer(group, rank, group_rank, what):
    me = pg.default_group().rank()
    peer = _global_rank(group, rank, group_rank, what)
    if peer == me:
        kind = "destination" if what == "dst" else "source"
        raise ValueError(f"Invalid {kind} rank: {kind} rank should not be the same as the "
                         "rank of the current process.")
    return me, peer


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Blocks until the peer's matching recv has the values. JAX runs a send and its
    recv as one program on the two ranks: the peer must be in its recv (not in its own
    send to this rank) for the transfer to run."""
    me, dst = _peer(group, dst, group_dst, "dst")
    _pair_run(tensor, me, dst, me, write_result=False).block_until_ready()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    if src is None and group_src is None:
        raise RuntimeError("torchlike.distributed.recv needs src: JAX's collectives have no "
                           "receive from any source")
    me, src = _peer(group, src, group_src, "src")
    _pair_run(tensor, me, src, src, write_result=True)
    return src


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    me, dst = _peer(group, dst, group_dst, "dst")
    return Work((_pair_run(tensor, me, dst, me, write_result=False),))


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    me, src = _peer(group, src, group_src, "src")
    return Work((_pair_run(tensor, me, src, src, write_result=True),))


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    group = _member(group)
    if group is None:
        return None
    out = _run("all_reduce", group, np.zeros((1,), np.int32), "sum")
    if async_op:
        return Work((out,))
    out.block_until_ready()
    return None
