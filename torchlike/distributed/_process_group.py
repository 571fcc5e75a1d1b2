"""Process groups: PyTorch's ranks mapped onto JAX processes.

A torchlike process group is a set of JAX processes joined by `jax.distributed.initialize`
(one coordinator, as torch's TCPStore is one); each rank contributes its first local
device, and a group's collectives run on a one-axis `Mesh` of those devices. A world of one
process needs no coordinator, so it never touches `jax.distributed` (and can be set up and
torn down any number of times, as in PyTorch).
"""
import datetime
import faulthandler
import os
import sys

import numpy as np

# torch.distributed's default timeout for gloo (and the one we fall back on)
DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)
_KNOWN_BACKENDS = ("gloo", "nccl", "xla", "mpi", "ucc", "cpu:gloo,cuda:nccl")


class Backend(str):
    """A backend name, lower-cased as PyTorch's Backend("GLOO") == "gloo"."""
    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"
    XLA = "xla"

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(name)}")
        value = name.lower()
        if value not in _KNOWN_BACKENDS and ":" not in value:
            raise AssertionError(f"Unknown backend type {name}")
        return str.__new__(cls, value)


class ProcessGroup:
    """A set of ranks (global rank numbers) and the JAX devices they compute on."""

    def __init__(self, ranks, my_rank, backend, timeout):
        self._ranks = tuple(ranks)
        self._rank = self._ranks.index(my_rank)
        self._backend = backend
        self.timeout = timeout
        self._mesh = None
        self._device = None

    def rank(self):
        return self._rank

    def size(self):
        return len(self._ranks)

    def name(self):
        return self._backend

    @property
    def ranks(self):
        return self._ranks

    @property
    def device(self):
        """This rank's device in the group (found once)."""
        if self._device is None:
            self._device = device_of_rank(self._ranks[self._rank])
        return self._device

    @property
    def mesh(self):
        """A one-axis mesh ('ranks') of each member's device, in group-rank order."""
        if self._mesh is None:
            from jax.sharding import Mesh
            self._mesh = Mesh(np.array([device_of_rank(r) for r in self._ranks]), ("ranks",))
        return self._mesh

    def __repr__(self):
        return f"<torchlike.distributed.ProcessGroup ranks={list(self._ranks)}>"


class _NonGroupMember:
    def __repr__(self):
        return "GroupMember.NON_GROUP_MEMBER"


class _World:
    """The default group, read when used (as torch.distributed.group.WORLD is)."""
    default = None

    @property
    def WORLD(self):
        return _World.default


class GroupMember:
    NON_GROUP_MEMBER = _NonGroupMember()
    WORLD = property(lambda self: _World.default)


group = _World()
_state = {"joined_jax": False, "world_size": 1}


def device_of_rank(rank):
    """The device a rank computes on: its process's first local device."""
    import jax
    if _state["world_size"] == 1:
        return jax.local_devices()[0]
    for device in jax.devices():
        if device.process_index == rank:
            return device
    raise RuntimeError(f"no JAX device belongs to rank {rank}")


def _not_initialized():
    return ValueError("Default process group has not been initialized, please make sure "
                      "to call init_process_group.")


def default_group():
    if _World.default is None:
        raise _not_initialized()
    return _World.default


def resolve(group):
    """The group a collective runs on: `None` means the default group."""
    return default_group() if group is None else group


def is_available():
    return True


def is_initialized():
    return _World.default is not None


def _rendezvous(init_method, rank, world_size):
    """(coordinator address or None, rank, world_size) from an init_method, read as
    PyTorch reads env:// and tcp://."""
    if init_method.startswith("env://"):
        def env(name, given=None):
            if given is not None:
                return given
            value = os.environ.get(name)
            if value is None:
                raise ValueError("Error initializing torch.distributed using env:// rendezvous: "
                                 f"environment variable {name} expected, but not set")
            return value
        rank = int(env("RANK", None if rank < 0 else rank))
        world_size = int(env("WORLD_SIZE", None if world_size < 0 else world_size))
        address = f"{env('MASTER_ADDR')}:{int(env('MASTER_PORT'))}"
        return address, rank, world_size
    if init_method.startswith("tcp://"):
        if rank < 0:
            raise ValueError("Error initializing torch.distributed using tcp:// rendezvous: "
                             "rank parameter missing")
        if world_size < 0:
            raise ValueError("Error initializing torch.distributed using tcp:// rendezvous: "
                             "world size parameter missing")
        return init_method[len("tcp://"):].split("?")[0].rstrip("/"), rank, world_size
    scheme = init_method.split("://")[0]
    raise RuntimeError(f"No rendezvous handler for {scheme}://")


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join this process to the job: jax.distributed.initialize with the coordinator at
    MASTER_ADDR:MASTER_PORT (env://) or at the tcp:// address, process_id = rank."""
    if _World.default is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if store is not None:
        raise NotImplementedError("torchlike.distributed: a Store is not supported; "
                                  "use init_method='env://' or 'tcp://host:port'")
    backend = Backend(backend or "gloo")
    timeout = timeout or DEFAULT_TIMEOUT
    address, rank, world_size = _rendezvous(init_method or "env://", rank, world_size)
    if not 0 <= rank < world_size:
        raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {world_size - 1}]")
    if world_size > 1:
        _join_jax(address, rank, world_size, backend, timeout)
    _state["world_size"] = world_size
    _World.default = ProcessGroup(range(world_size), rank, backend, timeout)


def _join_jax(address, rank, world_size, backend, timeout):
    import jax
    if _state["joined_jax"]:
        raise RuntimeError("torchlike.distributed: this process already joined a JAX "
                           "distributed job; JAX allows one per process")
    if backend in ("gloo", "cpu:gloo,cuda:nccl"):
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    seconds = max(1, int(timeout.total_seconds()))
    options = {}
    if backend == "nccl" and "LOCAL_RANK" in os.environ:
        # one GPU per process, as with torchrun and torch.cuda.set_device(LOCAL_RANK)
        options["local_device_ids"] = [int(os.environ["LOCAL_RANK"])]
    jax.distributed.initialize(
        coordinator_address=address, num_processes=world_size, process_id=rank,
        initialization_timeout=seconds,
        # a dead peer is noticed within the timeout instead of JAX's 100 s default
        heartbeat_timeout_seconds=min(100, seconds), shutdown_timeout_seconds=min(300, seconds),
        **options)
    _state["joined_jax"] = True
    _exit_on_uncaught_exception()
    # When a peer dies outside a collective, JAX's coordination service notices the missed
    # heartbeats and aborts this process with its own message ("another task died");
    # faulthandler adds where this rank's Python code was when that happened.
    faulthandler.enable()


def _exit_on_uncaught_exception():
    """An uncaught exception ends a worker at once. Python's normal exit would run JAX's
    shutdown, which waits at a barrier for every peer (up to the timeout) while the peers
    wait in their next collective for this one: the failure would look like a hang. Exiting
    lets the launcher see it and stop the others, as torchrun does."""
    previous = sys.excepthook

    def report_and_exit(kind, value, traceback):
        previous(kind, value, traceback)
        if not _state["joined_jax"]:       # destroy_process_group ran: exit as usual
            return
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)

    sys.excepthook = report_and_exit


def destroy_process_group(group=None):
    if group is None or group is _World.default:
        if _World.default is None:
            raise AssertionError("Process group cannot be None")
        if _state["joined_jax"]:
            import jax
            jax.distributed.shutdown()
            _state["joined_jax"] = False
        _World.default = None
        _state["world_size"] = 1


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False, group_desc=None, device_id=None, sort_ranks=True):
    world = default_group()
    ranks = list(range(world.size())) if ranks is None else list(ranks)
    for r in ranks:
        if not 0 <= r < world.size():
            raise ValueError(f"Rank {r} is out of range. Valid ranks are 0 to "
                             f"{world.size() - 1} (world_size={world.size()})")
    if sort_ranks:
        ranks = sorted(ranks)
    my_rank = world.rank()
    if my_rank not in ranks:
        return GroupMember.NON_GROUP_MEMBER
    return ProcessGroup(ranks, my_rank, Backend(backend) if backend else world.name(),
                        timeout or world.timeout)


def get_rank(group=None):
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return resolve(group).rank()


def get_world_size(group=None):
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return resolve(group).size()


def get_backend(group=None):
    return resolve(group).name()


def get_process_group_ranks(group):
    return list(resolve(group).ranks)


def get_global_rank(group, group_rank):
    return resolve(group).ranks[group_rank]


def get_group_rank(group, global_rank):
    ranks = resolve(group).ranks
    if global_rank not in ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {group}")
    return ranks.index(global_rank)


def new_subgroups(group_size=None, group=None, timeout=None, backend=None, pg_options=None,
                  group_desc=None):
    """The group's ranks cut into consecutive subgroups of group_size: (this rank's
    subgroup, all of them)."""
    if group_size is None:
        # PyTorch's default is one subgroup per node's GPUs; torchlike's CPU processes
        # have none to count, as PyTorch's CPU wheel
        raise ValueError("Default group size only takes effect when CUDA is available."
                         "If your subgroup using a backend that does not depend on CUDA,"
                         "please pass in 'group_size' correctly.")
    if group_size <= 0:
        raise ValueError(f"The arg 'group_size' ({group_size}) must be positive")
    world_size = get_world_size(group)
    if world_size < group_size:
        raise ValueError(f"The arg 'group_size' ({group_size}) must not exceed the world "
                         f"size ({world_size})")
    if world_size % group_size:
        raise ValueError(f"The world size ({world_size}) must be divisible by "
                         f"'group_size={group_size}'")
    ranks = get_process_group_ranks(group)
    return new_subgroups_by_enumeration(
        [ranks[i:i + group_size] for i in range(0, len(ranks), group_size)], timeout, backend)


def new_subgroups_by_enumeration(ranks_per_subgroup_list, timeout=None, backend=None,
                                 pg_options=None, group_desc=None):
    subgroups, mine = [], None
    for ranks in ranks_per_subgroup_list:
        subgroup = new_group(ranks, timeout=timeout, backend=backend)
        subgroups.append(subgroup)
        if subgroup is not GroupMember.NON_GROUP_MEMBER:
            mine = subgroup
    return mine, subgroups
