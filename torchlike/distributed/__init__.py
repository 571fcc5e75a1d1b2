"""torchlike.distributed: PyTorch's torch.distributed on JAX's distributed runtime.

Processes join through `jax.distributed.initialize` (init_process_group), collectives are
small jitted programs over a mesh of the group's devices (XLA's gloo on CPU, NCCL on GPUs,
ICI on TPUs). See docs/distributed.md.
"""
from ._process_group import (
    Backend, GroupMember, ProcessGroup, group, is_available, is_initialized,
    init_process_group, destroy_process_group, new_group, get_rank, get_world_size,
    get_backend, get_process_group_ranks, get_global_rank, get_group_rank,
)
from ._collectives import (
    ReduceOp, Work, all_reduce, reduce, broadcast, all_gather, all_gather_single,
    all_gather_into_tensor, reduce_scatter_single, reduce_scatter_tensor, gather, scatter,
    all_to_all_single, send, recv, isend, irecv, barrier,
)
from ._objects import all_gather_object, broadcast_object_list
from . import fsdp  # noqa: E402,F401  (torch.distributed.fsdp)
