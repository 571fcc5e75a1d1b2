"""DDP's gradient all-reduce inside the fused backward program.

When `.backward()` replays the graph as one jitted vjp (autograd/engine.py), the engine
asks `reducer_for` whether a DistributedDataParallel waits for this backward's gradients.
If it does, the vjp runs under `jax.shard_map` over the group's mesh (each rank's arrays
are its own block of a global array sharded over the axis 'ranks') and the DDP parameters'
gradients leave it through `lax.pmean`: XLA computes, averages (gloo, NCCL or ICI) and adds
them to `.grad` in one program, and DDP's post-backward buckets have nothing left to do.

Used by default on GPUs and TPUs (see ENABLED), in the common case only: one DDP waiting,
every parameter it expects reached by the fused graph, no tensor hooks on them (a hook
must see the un-averaged gradient) and find_unused_parameters off. Anything else keeps the
post-backward path. As with every collective, all ranks must run the same graph on the
same shapes.
"""
import weakref

import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec

from ..._caches import LRU
from ...distributed._errors import is_peer_failure, peer_failure

# True: fused where possible; False: always the post-backward buckets; None (default):
# fused except on CPU devices, where XLA's in-program gloo all-reduce measured slower than
# the buckets' separate one (MLP 784-256-256-10, 2 processes: 17 ms vs 10 ms a step)
ENABLED = None


class _Stats:
    fused_backwards = 0       # backward passes whose all-reduce ran inside the vjp
    post_backward_averages = 0   # ... and those averaged by the buckets afterwards


stats = _Stats()
_waiting = []                 # weak references to DDPs whose forward expects a backward


def arm(ddp):
    """`ddp`'s forward ran with grad sync on: the next backward may carry its all-reduce."""
    _waiting[:] = [r for r in _waiting if r() is not None and r() is not ddp]
    _waiting.append(weakref.ref(ddp))


def reducer_for(leaves, hooked):
    """The engine's hook: a _Reducer when the fused backward over `leaves` (AccumulateGrad
    nodes; `hooked[i]` True where the leaf has hooks) can average a waiting DDP's
    gradients, else None."""
    waiting = [r() for r in _waiting if r() is not None and r()._expected is not None]
    if len(waiting) != 1:
        return None
    ddp = waiting[0]
    group = ddp.process_group
    if not (group.device.platform != "cpu" if ENABLED is None else ENABLED):
        return None
    expected = ddp._expected
    if ddp.find_unused_parameters or group.size() == 1:
        return None
    mask = tuple(id(leaf.variable) in expected for leaf in leaves)
    if sum(mask) != len(expected):
        return None                  # a parameter this backward does not reach
    if any(m and h for m, h in zip(mask, hooked)):
        return None                  # a hook wants a parameter's own gradient
    ddp._expected, ddp._ready = None, set()   # averaged here: the buckets stand down
    stats.fused_backwards += 1
    return _Reducer(group, mask)


def _as_key(value):
    """A non-array input of the vjp (a Python number) as part of a cache key (nan-safe)."""
    return (type(value), repr(value))


class _Reducer:
    def __init__(self, group, mask):
        self.group = group
        self.mask = mask
        self.key = ("ddp_pmean", group.mesh, mask)

    def compile(self, vjp):
        """vjp's signature and results, run as one program per rank over the mesh."""
        return _MeshCall(vjp, self.group, self.mask)


class _MeshCall:
    """Calls vjp (local arrays in, local arrays out) as a shard_map over the group's mesh:
    one jitted program per layout of the inputs (which are 0-d, which are Python numbers)."""

    def __init__(self, vjp, group, mask):
        self.vjp = vjp
        self.group = group
        self.mask = mask
        self.programs = LRU(16)

    def __call__(self, *args):
        leaves, treedef = jax.tree_util.tree_flatten(args)
        is_array = tuple(isinstance(a, jax.Array) for a in leaves)
        constants = tuple(_as_key(a) for a, arr in zip(leaves, is_array) if not arr)
        arrays = [a for a, arr in zip(leaves, is_array) if arr]
        scalar = tuple(a.ndim == 0 for a in arrays)
        key = (treedef, is_array, constants, scalar)
        program = self.programs.get(key)
        if program is None:
            fixed = [a for a, arr in zip(leaves, is_array) if not arr]
            program = self.programs[key] = _Program(self.vjp, self.group.mesh, self.mask,
                                                    treedef, is_array, fixed, scalar)
        try:
            return program(arrays, self.group)
        except Exception as error:      # noqa: BLE001  (only a peer's failure is translated)
            if is_peer_failure(error):
                raise peer_failure("DDP's gradient all-reduce (in the fused backward)",
                                   self.group, error) from error
            raise


def _averaged(grads, mask):
    """The masked gradients averaged over 'ranks': one flat pmean per dtype (one
    collective each, as DDP's buckets; XLA's CPU backend does not combine them itself)."""
    out = list(grads)
    by_dtype = {}
    for i, (g, m) in enumerate(zip(grads, mask)):
        if m:
            by_dtype.setdefault(g.dtype, []).append(i)
    for indices in by_dtype.values():
        flat = jax.lax.pmean(jnp.concatenate([grads[i].reshape(-1) for i in indices]), "ranks")
        offset = 0
        for i in indices:
            out[i] = flat[offset:offset + grads[i].size].reshape(grads[i].shape)
            offset += grads[i].size
    return tuple(out)


class _Program:
    def __init__(self, vjp, mesh, mask, treedef, is_array, fixed, scalar):
        self.scalar_out = None          # which results are 0-d, learnt when traced
        self.out_tree = None
        self.n = mesh.devices.size
        self.sharding = NamedSharding(mesh, PartitionSpec("ranks"))

        def per_rank(*blocks):
            blocks = iter(b.reshape(()) if s else b for b, s in zip(blocks, scalar))
            constants = iter(fixed)
            leaves = [next(blocks) if arr else next(constants) for arr in is_array]
            grads, values, pre_values = vjp(*jax.tree_util.tree_unflatten(treedef, leaves))
            grads = _averaged(grads, mask)
            outs, self.out_tree = jax.tree_util.tree_flatten((grads, values, pre_values))
            self.scalar_out = tuple(o.ndim == 0 for o in outs)
            return tuple(o.reshape(1) if o.ndim == 0 else o for o in outs)

        spec = PartitionSpec("ranks")
        self.fn = jax.jit(jax.shard_map(per_rank, mesh=mesh, in_specs=spec, out_specs=spec))

    def __call__(self, arrays, group):
        device = group.device
        whole = []
        for a in arrays:
            if a.ndim == 0:
                a = a.reshape(1)
            if a.devices() != {device}:
                a = jax.device_put(a, device)
            whole.append(jax.make_array_from_single_device_arrays(
                (self.n * a.shape[0],) + a.shape[1:], self.sharding, [a]))
        outs = self.fn(*whole)
        local = [o.addressable_data(0) for o in outs]
        local = [o.reshape(()) if s else o for o, s in zip(local, self.scalar_out)]
        return jax.tree_util.tree_unflatten(self.out_tree, local)
