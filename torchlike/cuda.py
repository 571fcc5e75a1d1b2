"""torchlike.cuda: 'cuda' means JAX's GPU platform.

With a GPU, the calls a training script makes are answered from JAX: memory numbers
from the device's allocator statistics, names and capabilities from the device, and
`synchronize` waits for JAX's queued work. Without one, each call does what a CPU-only
PyTorch does: queries of counts and memory answer 0 or do nothing, anything that needs
the device raises `AssertionError: Torch not compiled with CUDA enabled`.
"""
import time
import warnings

from . import _device, _random


def is_available():
    return _device.accelerator_count("cuda") > 0


def device_count():
    return _device.accelerator_count("cuda")


def is_initialized():
    return is_available()


def _require_gpu():
    if not is_available():
        raise _device._absent("cuda")


def init():
    _require_gpu()


_current_index = 0


def current_device():
    _require_gpu()
    return _current_index


def _index(device, optional=True):
    """A device argument (None, int, str, torch.device) -> a CUDA device index."""
    if device is None:
        return _current_index
    if isinstance(device, int):
        return _current_index if device < 0 and optional else device
    dev = device if isinstance(device, _device.device) else _device.device(device)
    if dev.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {dev}")
    return _current_index if dev.index is None else dev.index


def set_device(device):
    """Select the GPU that a bare 'cuda' means (a negative index does nothing)."""
    global _current_index
    index = _index(device)
    if isinstance(device, int) and device < 0:
        return
    _require_gpu()
    if index >= device_count():
        raise RuntimeError("CUDA error: invalid device ordinal")
    _current_index = index


class device:
    """Context manager that makes `device` current for its block."""

    def __init__(self, device):
        self.idx = -1 if device is None else _index(device, optional=False)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx < 0:
            return
        if not is_available():
            raise RuntimeError("PyTorch was compiled without CUDA support")
        self.prev_idx = _current_index
        set_device(self.idx)

    def __exit__(self, *exc):
        if self.prev_idx >= 0:
            set_device(self.prev_idx)
        return False


class device_of(device):
    """`device` of a tensor's GPU; a CPU tensor selects nothing."""

    def __init__(self, obj):
        dev = obj.device
        super().__init__(dev.index if dev.type == "cuda" else -1)


def _jax_device(dev=None):
    _require_gpu()
    import jax
    return jax.devices("gpu")[_index(dev)]


def synchronize(device=None):
    """Wait for the GPU's queued work (JAX dispatches asynchronously)."""
    _require_gpu()
    import jax
    jax.effects_barrier()
    for array in jax.live_arrays():
        if _jax_device(device) in array.devices():
            array.block_until_ready()


def get_device_name(device=None):
    return _jax_device(device).device_kind


def get_device_capability(device=None):
    props = get_device_properties(device)
    return props.major, props.minor


class _CudaDeviceProperties:
    """What torch.cuda.get_device_properties reports, from the JAX device."""

    def __init__(self, jax_device):
        self.name = jax_device.device_kind
        capability = str(getattr(jax_device, "compute_capability", "0.0"))
        major, _, minor = capability.partition(".")
        self.major, self.minor = int(major or 0), int(minor or 0)
        stats = jax_device.memory_stats() or {}
        self.total_memory = int(stats.get("bytes_limit", 0))
        self.multi_processor_count = int(getattr(jax_device, "core_count", 0))
        self.is_integrated = False
        self.is_multi_gpu_board = False

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // (1024 * 1024)}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None):
    return _CudaDeviceProperties(_jax_device(device))


def is_bf16_supported(including_emulation=True):
    if not is_available():
        return False
    return including_emulation or get_device_capability()[0] >= 8


def get_arch_list():
    return []


# -- random numbers: one generator serves every device -------------------------------------
def manual_seed(seed):
    _random.default_generator.manual_seed(seed)


manual_seed_all = manual_seed


def seed():
    if is_available():
        _random.default_generator.seed()


seed_all = seed


def initial_seed():
    _require_gpu()
    return _random.default_generator.initial_seed()


def get_rng_state(device="cuda"):
    _require_gpu()
    return _random.default_generator.get_state()


def set_rng_state(new_state, device="cuda"):
    if is_available():
        _random.default_generator.set_state(new_state)


def get_rng_state_all():
    return [get_rng_state() for _ in range(device_count())]


def set_rng_state_all(new_states):
    for state in new_states:
        set_rng_state(state)


# -- memory: JAX's allocator statistics ----------------------------------------------------
def _stats(device=None):
    if not is_available():
        return {}
    return _jax_device(device).memory_stats() or {}


# JAX cannot reset its peak counter: after reset_peak_memory_stats, a peak is the JAX
# peak if it rose since the reset, else the larger of the use at the reset and now.
_peak_baseline = {}      # device index -> (JAX peak at the reset, bytes in use at the reset)


def memory_allocated(device=None):
    return int(_stats(device).get("bytes_in_use", 0))


def max_memory_allocated(device=None):
    stats = _stats(device)
    peak = int(stats.get("peak_bytes_in_use", 0))
    baseline = _peak_baseline.get(_index(device)) if stats else None
    if baseline is not None and peak <= baseline[0]:
        return max(baseline[1], int(stats.get("bytes_in_use", 0)))
    return peak


def memory_reserved(device=None):
    stats = _stats(device)
    return int(stats.get("bytes_reserved", stats.get("pool_bytes", 0)))


def max_memory_reserved(device=None):
    stats = _stats(device)
    return int(stats.get("peak_bytes_reserved", stats.get("peak_pool_bytes", 0)))


def memory_cached(device=None):
    warnings.warn("`torch.cuda.memory_cached` has been renamed to `torch.cuda.memory_reserved`",
                  FutureWarning, stacklevel=2)
    return memory_reserved(device)


def max_memory_cached(device=None):
    warnings.warn("`torch.cuda.max_memory_cached` has been renamed to "
                  "`torch.cuda.max_memory_reserved`", FutureWarning, stacklevel=2)
    return max_memory_reserved(device)


def reset_peak_memory_stats(device=None):
    _require_gpu()
    stats = _stats(device)
    _peak_baseline[_index(device)] = (int(stats.get("peak_bytes_in_use", 0)),
                                      int(stats.get("bytes_in_use", 0)))


reset_max_memory_allocated = reset_peak_memory_stats


def memory_stats(device=None):
    """PyTorch's key names for the numbers JAX keeps (an empty dict without a GPU)."""
    from collections import OrderedDict
    if not is_available():
        return OrderedDict()
    return OrderedDict([("allocated_bytes.all.current", memory_allocated(device)),
                        ("allocated_bytes.all.peak", max_memory_allocated(device)),
                        ("reserved_bytes.all.current", memory_reserved(device)),
                        ("reserved_bytes.all.peak", max_memory_reserved(device))])


def mem_get_info(device=None):
    """(free, total) bytes."""
    _require_gpu()
    stats = _stats(device)
    total = int(stats.get("bytes_limit", 0))
    return total - int(stats.get("bytes_in_use", 0)), total


def empty_cache():
    """Releases nothing: XLA's allocator keeps its pool (PyTorch's empty_cache keeps
    live tensors too; only the cached free blocks differ)."""


def set_per_process_memory_fraction(fraction, device=None):
    _require_gpu()
    raise RuntimeError("torchlike cannot resize JAX's GPU memory pool after start; set "
                       "XLA_PYTHON_CLIENT_MEM_FRACTION before the process starts instead")


def ipc_collect():
    _require_gpu()


# -- streams and events: XLA orders the work on its own streams ---------------------------
class Stream:
    """One stream per device: XLA schedules its own streams, so waiting on a stream is
    waiting on the device."""

    def __init__(self, device=None, priority=0, **kwargs):
        if not is_available():
            raise RuntimeError("torch.cuda.Stream requires CUDA support")
        self.device = _device.device("cuda", _index(device))
        self.priority = priority

    def synchronize(self):
        synchronize(self.device)

    def wait_stream(self, stream):
        pass

    def wait_event(self, event):
        pass

    def record_event(self, event=None):
        event = event or Event()
        event.record(self)
        return event

    def query(self):
        self.synchronize()
        return True


def current_stream(device=None):
    _require_gpu()
    return Stream(device)


default_stream = current_stream


class StreamContext:
    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self.stream

    def __exit__(self, *exc):
        return False


def stream(stream):
    return StreamContext(stream)


class Event:
    """A point in the device's work; `elapsed_time` between two recorded events in ms,
    measured on the host after waiting for the work before each."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        if not is_available():
            raise RuntimeError("Tried to instantiate dummy base class Event")
        self.enable_timing = enable_timing
        self._time = None

    def record(self, stream=None):
        synchronize()
        self._time = time.perf_counter()

    def synchronize(self):
        synchronize()

    def wait(self, stream=None):
        pass

    def query(self):
        return True

    def elapsed_time(self, end_event):
        if not self.enable_timing or self._time is None or end_event._time is None:
            raise RuntimeError("Both events must be recorded with enable_timing=True before "
                               "calling elapsed_time()")
        return (end_event._time - self._time) * 1000.0


# -- the names that exist mostly in name (allocator, graphs, NVML, legacy types) --------------
from ._cuda_names_only import *          # noqa: E402,F401,F403

from .amp import _cuda_aliases as amp     # noqa: E402  torch.cuda.amp: deprecated aliases
