"""torchlike.distributed: PyTorch's torch.distributed on JAX's distributed runtime.

Processes join through `jax.distributed.initialize` (init_process_group), collectives are
small jitted programs over a mesh of the group's devices (XLA's gloo on CPU, NCCL on GPUs,
ICI on TPUs). See docs/distributed.md.
"""
from ._process_group import (
    Backend, GroupMember, ProcessGroup, group, is_available, is_initialized,
    init_process_group, destroy_process_group, new_group, get_rank, get_world_size,
    get_backend, get_process_group_ranks, get_global_rank, get_group_rank,
    new_subgroups, new_subgroups_by_enumeration,
)
from ._collectives import (
    ReduceOp, Work, all_reduce, reduce, broadcast, all_gather, all_gather_single,
    all_gather_into_tensor, reduce_scatter_single, reduce_scatter_tensor, gather, scatter,
    all_to_all_single, send, recv, isend, irecv, barrier,
)
from ._objects import (
    all_gather_object, broadcast_object_list, gather_object, scatter_object_list,
    send_object_list, recv_object_list,
)
from ._tensor_lists import (
    all_to_all, reduce_scatter, all_reduce_coalesced, all_gather_coalesced,
    monitored_barrier, P2POp, batch_isend_irecv,
)
from ._errors import DistError, DistBackendError, DistNetworkError, DistStoreError
from ._environment import (
    default_pg_timeout, is_gloo_available, is_nccl_available, is_mpi_available,
    is_ucc_available, is_backend_available, is_torchelastic_launched, get_node_local_rank,
    DebugLevel, get_debug_level, set_debug_level, set_debug_level_from_env,
    is_xccl_available, get_default_backend_for_device, supports_complex,
)
from ._options import (
    AllreduceOptions, AllreduceCoalescedOptions, ReduceOptions, ReduceScatterOptions,
    BroadcastOptions, GatherOptions, ScatterOptions, AllToAllOptions, BarrierOptions,
)
from ._store import Store, HashStore, PrefixStore
from . import device_mesh  # noqa: E402  (torch.distributed.device_mesh)
from .device_mesh import DeviceMesh, init_device_mesh
from . import fsdp  # noqa: E402,F401  (torch.distributed.fsdp)
