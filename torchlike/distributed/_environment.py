"""What a program asks torch.distributed about its surroundings: which backends exist, how
it was launched, the debug level, the default timeout."""
import enum
import os

from ._process_group import DEFAULT_TIMEOUT

default_pg_timeout = DEFAULT_TIMEOUT

# the backends this library maps onto JAX (nccl: JAX's GPU collectives; gloo: its CPU
# ones); PyTorch's CPU wheel reports only gloo, so only gloo is always available here
_AVAILABLE = {"gloo": True, "nccl": False, "mpi": False, "ucc": False, "xccl": False}


def _has_gpu():
    import jax
    try:
        return bool(jax.devices("gpu"))
    except RuntimeError:
        return False


def is_gloo_available():
    return True


def is_nccl_available():
    return _has_gpu()


def is_mpi_available():
    return False


def is_ucc_available():
    return False


def is_backend_available(backend):
    """True for a backend init_process_group can use here (gloo; nccl with a GPU)."""
    name = str(backend).lower()
    if name == "nccl":
        return is_nccl_available()
    return _AVAILABLE.get(name, False)


def is_torchelastic_launched():
    """Whether torchrun (or torchlike's launcher, which sets the same variables) started
    this process: its rendezvous id is always set."""
    return os.getenv("TORCHELASTIC_RUN_ID") is not None


def get_node_local_rank(fallback_rank=None):
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError(
        "LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow "
        "`get_node_local_rank` to work, assuming you are not running in a multi-device "
        "context and want the code to run locally instead.")


class DebugLevel(enum.IntEnum):
    OFF = 0
    INFO = 1
    DETAIL = 2

    __str__ = enum.Enum.__str__      # 'DebugLevel.INFO', as PyTorch prints it


_debug = {"level": None}


def set_debug_level(level):
    _debug["level"] = DebugLevel(level)


def set_debug_level_from_env():
    name = os.environ.get("TORCH_DISTRIBUTED_DEBUG", "OFF").upper()
    if name not in DebugLevel.__members__:
        raise ValueError("The value of TORCH_DISTRIBUTED_DEBUG must be OFF, INFO, or DETAIL, "
                         f"but got {name}")
    _debug["level"] = DebugLevel[name]


def get_debug_level():
    """OFF unless set, or read once from TORCH_DISTRIBUTED_DEBUG as PyTorch does."""
    if _debug["level"] is None:
        set_debug_level_from_env()
    return _debug["level"]


def is_xccl_available():
    return False


_DEFAULT_BACKEND = {"cpu": "gloo", "cuda": "nccl", "xpu": "xccl"}


def get_default_backend_for_device(device):
    device_type = getattr(device, "type", str(device).split(":")[0])
    if device_type not in _DEFAULT_BACKEND:
        raise ValueError(f"Default backend not registered for device : {device_type}")
    return _DEFAULT_BACKEND[device_type]


def supports_complex(reduceOp):
    """Whether a reduction is defined on complex tensors (orderings and products are not)."""
    from ._collectives import ReduceOp
    return reduceOp not in (ReduceOp.PRODUCT, ReduceOp.MIN, ReduceOp.MAX, ReduceOp.BAND,
                            ReduceOp.BOR, ReduceOp.BXOR)
