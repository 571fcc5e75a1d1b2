"""The part of torchlike.cuda that exists mostly in name: allocator control, CUDA
graphs, NVML queries, error classes, build flags and the legacy torch.cuda.*Tensor types.
Without a GPU each answers or raises as a CPU-only PyTorch does; with one, what XLA
cannot expose raises and says what to use instead."""
from .cuda import (Stream, _index, _require_gpu, device_count, get_device_capability,
                   is_available, memory_stats, reset_peak_memory_stats)


class OutOfMemoryError(RuntimeError):
    """Raised when a device runs out of memory (XLA reports RESOURCE_EXHAUSTED)."""


class AcceleratorError(RuntimeError):
    """An error reported by the device runtime."""


class CudaError(RuntimeError):
    def __init__(self, code):
        super().__init__(f"CUDA error code {code}")


has_half = True
has_magma = False
default_generators = ()


def is_tf32_supported():
    return is_available() and get_device_capability()[0] >= 8


def _no_nvml(*args, **kwargs):
    # PyTorch reads these through NVML (nvidia-ml-py), which torchlike does not use
    raise ModuleNotFoundError("nvidia-ml-py does not seem to be installed or it can't be "
                              "imported.")


utilization = memory_usage = temperature = power_draw = clock_rate = _no_nvml
device_memory_used = _no_nvml


def list_gpu_processes(device=None):
    return "pynvml module not found, please install nvidia-ml-py"


def memory_stats_as_nested_dict(device=None):
    stats = memory_stats(device)
    nested = {}
    for key, value in stats.items():
        node = nested
        *path, leaf = key.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def host_memory_stats():
    from collections import OrderedDict
    return OrderedDict()


def reset_accumulated_memory_stats(device=None):
    _require_gpu()


def reset_max_memory_cached(device=None):
    reset_peak_memory_stats(device)


def get_gencode_flags():
    return ""


def get_per_process_memory_fraction(device=None):
    _require_gpu()
    return 1.0


def can_device_access_peer(device, peer_device):
    _require_gpu()
    return _index(device) != _index(peer_device) and device_count() > 1


def current_blas_handle():
    _require_gpu()
    raise RuntimeError("torchlike.cuda.current_blas_handle: XLA owns its cuBLAS handles; "
                       "they are not exposed")


def get_sync_debug_mode():
    _require_gpu()
    return 0


def set_sync_debug_mode(debug_mode):
    _require_gpu()


def set_stream(stream):
    """XLA schedules its own streams; selecting one changes nothing."""


def is_current_stream_capturing():
    return False


class CUDAGraph:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("torchlike.cuda.CUDAGraph: CUDA graph capture is not supported by "
                           "torchlike; instead, compile the step with torchlike.compile "
                           "(XLA runs a compiled program as one launch)")


def graph(cuda_graph, pool=None, stream=None, capture_error_mode="global"):
    Stream()            # without a GPU, PyTorch fails here first
    CUDAGraph()


def make_graphed_callables(callables, sample_args, num_warmup_iters=3,
                           allow_unused_input=False, pool=None):
    CUDAGraph()


class DeferredCudaCallError(Exception):
    pass


class cudaStatus:
    SUCCESS = 0
    ERROR_NOT_READY = 34


def check_error(res):
    if res != cudaStatus.SUCCESS:
        raise CudaError(res)


def _no_allocator_control(name):
    def refuse(*args, **kwargs):
        _require_gpu()
        raise RuntimeError(f"torchlike.cuda.{name}: XLA's allocator is not pluggable or "
                           "addressable from torchlike; instead, size it with the "
                           "XLA_PYTHON_CLIENT_MEM_FRACTION / XLA_PYTHON_CLIENT_ALLOCATOR "
                           "environment variables before the process starts")
    refuse.__name__ = name
    return refuse


caching_allocator_alloc = _no_allocator_control("caching_allocator_alloc")
caching_allocator_delete = _no_allocator_control("caching_allocator_delete")
change_current_allocator = _no_allocator_control("change_current_allocator")
graph_pool_handle = _no_allocator_control("graph_pool_handle")
use_mem_pool = _no_allocator_control("use_mem_pool")
cudart = _no_allocator_control("cudart")
current_solver_handle = _no_allocator_control("current_solver_handle")
get_stream_from_external = _no_allocator_control("get_stream_from_external")


class CUDAPluggableAllocator:
    def __init__(self, *args, **kwargs):
        _no_allocator_control("CUDAPluggableAllocator")()


class MemPool(CUDAPluggableAllocator):
    pass


class ExternalStream(Stream):
    def __init__(self, stream_ptr, device=None, **kwargs):
        _no_allocator_control("ExternalStream")()


class GreenContext:
    @staticmethod
    def create(*args, **kwargs):
        _no_allocator_control("GreenContext")()


def caching_allocator_enable(value=True):
    pass


def caching_allocator_disabled():
    return False


def get_allocator_backend():
    _require_gpu()
    return "native"


def memory_snapshot(mempool_id=None):
    return [] if not is_available() else []


def host_memory_stats_as_nested_dict():
    return {}


def reset_accumulated_host_memory_stats():
    pass


def reset_peak_host_memory_stats():
    pass


# -- legacy tensor types: torch.cuda.FloatTensor and friends ------------------------------------
class _LegacyCudaType(type):
    def __instancecheck__(cls, obj):
        from ._tensor import Tensor
        return (isinstance(obj, Tensor) and obj.device.type == "cuda"
                and obj.dtype.name == cls._dtype_name)


def _legacy_cuda_type(name, dtype_name):
    def __new__(cls, *args, **kwargs):
        if not is_available():
            raise TypeError(f"type torch.cuda.{name} not available. Torch not compiled with "
                            "CUDA enabled.")
        import torchlike
        dtype = getattr(torchlike, dtype_name)
        if len(args) == 1 and not isinstance(args[0], int):
            return torchlike.tensor(args[0], dtype=dtype, device="cuda")
        return torchlike.empty(*args, dtype=dtype, device="cuda")
    return _LegacyCudaType(name, (), {"__new__": __new__, "_dtype_name": dtype_name,
                                      "__module__": "torch.cuda"})


for _name, _dtype_name in [("FloatTensor", "float32"), ("DoubleTensor", "float64"),
                           ("HalfTensor", "float16"), ("BFloat16Tensor", "bfloat16"),
                           ("ByteTensor", "uint8"), ("CharTensor", "int8"),
                           ("ShortTensor", "int16"), ("IntTensor", "int32"),
                           ("LongTensor", "int64"), ("BoolTensor", "bool")]:
    globals()[_name] = _legacy_cuda_type(_name, _dtype_name)
del _name, _dtype_name


def memory_summary(device=None, abbreviated=False):
    if not is_available():
        raise KeyError("allocated_bytes.all.current")
    stats = memory_stats(device)
    return "\n".join(f"{key}: {value}" for key, value in stats.items())
