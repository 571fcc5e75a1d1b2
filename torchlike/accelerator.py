"""torch.accelerator: the current accelerator (a JAX GPU, else a TPU, else none)."""
import contextlib

from . import _device


def _none_available():
    return RuntimeError("Cannot access accelerator device when none is available.")


def current_accelerator(check_available=False):
    for type_ in ("cuda", "tpu"):
        if _device.accelerator_count(type_):
            return _device.device(type_)
    return None


def is_available():
    return current_accelerator() is not None


def device_count():
    acc = current_accelerator()
    return 0 if acc is None else _device.accelerator_count(acc.type)


def _require():
    acc = current_accelerator()
    if acc is None:
        raise _none_available()
    return acc


_index = [0]


def current_device_index():
    _require()
    return _index[0]


current_device_idx = current_device_index


def set_device_index(device):
    _require()
    index = device.index if isinstance(device, _device.device) else int(device)
    if index >= 0:
        if index >= device_count():
            raise RuntimeError("CUDA error: invalid device ordinal")
        _index[0] = index


set_device_idx = set_device_index


@contextlib.contextmanager
def device_index(device):
    previous = _index[0]
    if device is not None:
        set_device_index(device)
    try:
        yield
    finally:
        _index[0] = previous


def synchronize(device=None):
    _require()
    import jax
    jax.effects_barrier()
    for array in jax.live_arrays():
        array.block_until_ready()


def empty_cache():
    _require()


def empty_host_cache():
    _require()


def current_stream(device=None):
    acc = _require()
    from ._streams import Stream
    return Stream(acc)


def set_stream(stream):
    """XLA schedules its own streams; selecting one changes nothing."""
    from ._streams import Stream
    if not isinstance(stream, Stream):
        raise TypeError("_accelerator_setStream(): incompatible function arguments. The "
                        "following argument types are supported:\n    1. (arg0: "
                        f"torch.Stream) -> None\n\nInvoked with: {stream}")


def get_device_capability(device=None):
    acc = _require()
    from . import _dtype
    return {"supported_dtypes": [d for d in _dtype.ALL_DTYPES]} if acc else {}


def get_memory_info(device_index=None):
    acc = _require()
    if acc.type == "cuda":
        from . import cuda
        return cuda.mem_get_info(device_index)
    return (0, 0)


def memory_stats(device_index=None):
    acc = _require()
    if acc.type == "cuda":
        from . import cuda
        return cuda.memory_stats(device_index)
    return {}


def reset_accumulated_memory_stats(device_index=None):
    _require()


def _cuda_memory(fn_name, device=None):
    acc = _require()
    if acc.type != "cuda":
        return 0
    from . import cuda
    return getattr(cuda, fn_name)(device)


def memory_allocated(device_index=None):
    return _cuda_memory("memory_allocated", device_index)


def max_memory_allocated(device_index=None):
    return _cuda_memory("max_memory_allocated", device_index)


def memory_reserved(device_index=None):
    return _cuda_memory("memory_reserved", device_index)


def max_memory_reserved(device_index=None):
    return _cuda_memory("max_memory_reserved", device_index)


def reset_peak_memory_stats(device_index=None):
    acc = _require()
    if acc.type == "cuda":
        from . import cuda
        cuda.reset_peak_memory_stats(device_index)
