"""torch.device <-> JAX devices.

PyTorch's 'cuda' means "an accelerator": here it maps to JAX's GPU platform (CUDA or
ROCm); 'tpu' maps to TPUs. Without such a device, asking for one raises the error a
CPU-only PyTorch build raises.
"""
import functools
import math
import re
import threading

import jax
import numpy as np

from ._meta import meta_array

_JAX_PLATFORM = {"cpu": "cpu", "cuda": "gpu", "tpu": "tpu"}


_KNOWN_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                "privateuseone")
# 'type' or 'type:index' with an index without leading zeros, as PyTorch parses them
_DEVICE_STRING = re.compile(r"([a-zA-Z_]+)(?::([1-9][0-9]*|0))?")


class device:
    """torch.device. 'tpu' is torchlike's own addition (PyTorch has no such type)."""
    __slots__ = ("type", "index", "_hash")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            self.type, self.index, self._hash = type.type, type.index, type._hash
            return
        if isinstance(type, int) and not isinstance(type, bool):
            type, index = _current_accelerator(), type
        match = _DEVICE_STRING.fullmatch(type)
        if match is None:
            raise RuntimeError(f"Invalid device string: '{type}'")
        name, idx = match.groups()
        if idx is not None:
            if index is not None:
                raise RuntimeError("type (string) must not include an index because index was "
                                   f"passed explicitly: {type}")
            index = int(idx)
        if name not in _KNOWN_TYPES and name not in _JAX_PLATFORM:
            raise RuntimeError(f"Expected one of {', '.join(_KNOWN_TYPES)} device type at "
                               f"start of device string: {name}")
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        self.type, self.index = name, index
        self._hash = hash((name, index))     # (a device keys per-op caches: hashed once)

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        # as in PyTorch, a device never equals a string: device('cpu') == 'cpu' is False
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return self._hash

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self):
        """`with torch.device(...)`: the default device of the factories inside, as
        set_default_device (per thread; nested blocks restore theirs)."""
        _state.entered.append(_state.default)
        _state.default = device(self)
        return self

    def __exit__(self, *exc_info):
        _state.default = _state.entered.pop()


def _current_accelerator():
    """What a bare device index means: PyTorch's 'current accelerator'."""
    for type_ in ("cuda", "tpu"):
        if accelerator_count(type_):
            return type_
    raise RuntimeError("Cannot access accelerator device when none is available.")


@functools.cache
def _jax_devices(platform):
    try:
        return tuple(jax.local_devices(backend=platform))   # this process's devices, as cuda:N is
    except RuntimeError:
        return ()


def _absent(type_):
    if type_ == "cuda":
        return AssertionError("Torch not compiled with CUDA enabled")
    return RuntimeError(f"Could not run on device type '{type_}': no such device is available")


def canonical(dev):
    """A torchlike device with an explicit index for accelerators (like tensor.device)."""
    if dev is None:
        dev = _state.default
    dev = dev if isinstance(dev, device) else device(dev)
    if dev.type == "cpu":
        return _CPU
    if dev.type == "meta":
        return META
    if dev.type not in _JAX_PLATFORM:
        if dev.type == "mps":
            raise RuntimeError("PyTorch is not linked with support for mps devices")
        raise RuntimeError(f"torchlike does not support the '{dev.type}' device type")
    devices = _jax_devices(_JAX_PLATFORM[dev.type])
    if not devices:
        raise _absent(dev.type)
    index = 0 if dev.index is None else dev.index
    if index >= len(devices):
        raise RuntimeError("CUDA error: invalid device ordinal")
    return device(dev.type, index)


def to_jax(dev):
    if dev is META:         # (a meta tensor's values are made where JAX makes them)
        return jax.local_devices()[0]
    if dev.type == "cpu":
        return _jax_devices("cpu")[0]
    return _jax_devices(_JAX_PLATFORM[dev.type])[dev.index or 0]


def place(array, dev):
    """`array` on torchlike device `dev`. Arrays for JAX's default device stay
    uncommitted: committed arrays take a slower path through every jit call."""
    import jax.numpy as jnp
    if dev is META:
        return meta_array(array.shape, array.dtype)
    target = to_jax(dev)
    if target == jax.local_devices()[0]:
        if isinstance(array, jax.Array) and array.devices() != {target}:
            # jnp.asarray leaves a jax array where it is; through the host, the copy
            # arrives uncommitted on the default device
            array = np.asarray(array)
        if isinstance(array, np.ndarray):
            # a plain copy: jnp.asarray compiles per shape
            return host_to_device(array, target, committed=False)
        return uncommitted(jnp.asarray(array))
    if isinstance(array, np.ndarray):
        return host_to_device(array, target, committed=True)
    return jax.device_put(array, target)


def uncommitted(array):
    """`array` (on the default device) as an uncommitted array over the same buffer.
    jit compiles a program once per pattern of committed arguments, and a program's
    outputs are committed when any argument was. So one array put on the GPU by
    `jax.device_put(x, gpu)` (a draw on 'cuda', `.to('cuda')`) spread to whatever was
    computed from it, and a program met arguments of both kinds: the likely cause of an
    MLP's second step compiling again on an H200 (675 ms; on a CPU, where nothing was
    committed, 3 ms)."""
    if type(array) is not _ArrayImpl or not array.committed:
        return array
    return _ArrayImpl(array.aval, array.sharding, array._arrays, committed=False)


try:        # (JAX's own last step of device_put for a numpy array: see host_to_device)
    from jax._src.lib import xla_client as _xla_client
    from jax._src.core import shaped_abstractify as _shaped_abstractify
    _batched_device_put = _xla_client.batched_device_put
    from jax._src.array import ArrayImpl as _ArrayImpl
    _COPY_DURING_CALL = _xla_client.HostBufferSemantics.IMMUTABLE_ONLY_DURING_CALL
except (ImportError, AttributeError):           # pragma: no cover (another JAX)
    _batched_device_put = None
    _ArrayImpl = None                           # (then arrays stay as they are)
DIRECT_PUT_MAX_BYTES = 1 << 16     # (a 64 KB copy costs about as much as device_put's path)
_SHARDINGS = {}         # jax device -> its SingleDeviceSharding (one per device: bounded)
_AVALS = {}             # (shape, numpy dtype) -> JAX's abstract value for it (bounded)


def host_to_device(array, target, committed):
    """A copy of numpy `array` on jax device `target`, as `jax.device_put` makes it
    (`committed=False`: as device_put without a device leaves it). device_put's
    general path (pytrees, shardings, layouts, copy semantics) costs 25-30 us of
    Python before it reaches the copy itself, which costs about 5 for a small array:
    a tensor made from a list or a small numpy array, a token appended while
    generating, paid it at every call. So a small plain array goes straight to that
    last step and is copied during the call; a large one takes device_put's path,
    which copies it off this thread (or, on the CPU, may share its buffer)."""
    aval = None if (_batched_device_put is None or array.nbytes > DIRECT_PUT_MAX_BYTES
                    or array.dtype.kind not in "biufc") else _aval_of(array)
    if aval is None:
        return jax.device_put(array, target if committed else None)
    sharding = _SHARDINGS.get(target)
    if sharding is None:
        sharding = _SHARDINGS[target] = jax.sharding.SingleDeviceSharding(target)
    return _batched_device_put(aval, sharding, [array], [target], committed, force_copy=True,
                               host_buffer_semantics=_COPY_DURING_CALL)


def _aval_of(array):
    """JAX's abstract value of numpy `array` (kept per shape and dtype), or None where
    JAX would convert its values (64-bit types turned off: device_put converts)."""
    key = (array.shape, array.dtype)
    aval = _AVALS.get(key)
    if aval is None:
        aval = _shaped_abstractify(array)
        if aval.dtype != array.dtype:
            return None
        if len(_AVALS) >= 1024:
            _AVALS.clear()
        _AVALS[key] = aval
    return aval


# Above this many bytes, a constant for an accelerator is filled on the device (one small
# compile per shape) rather than copied from the host.
HOST_FILL_MAX_BYTES = 1 << 22


def filled(shape, scalar, np_dtype, dev):
    """An array of `shape` filled with `scalar` on torchlike device `dev`. Filled on the
    host and copied (no XLA compile, which costs 10-30 ms per new shape on CPU) for the
    CPU and for small arrays; large arrays for an accelerator are filled there."""
    import jax.numpy as jnp
    if dev is META:
        return meta_array(shape, np.dtype(np_dtype))
    nbytes = np.dtype(np_dtype).itemsize * math.prod(shape)
    if dev.type == "cpu" or nbytes <= HOST_FILL_MAX_BYTES:
        return place(np.full(shape, scalar, dtype=np_dtype), dev)
    with jax.default_device(to_jax(dev)):
        return jnp.full(shape, scalar, dtype=np_dtype)


def from_jax(jax_device):
    platform = jax_device.platform
    if platform == "cpu":
        return _CPU
    type_ = "tpu" if platform == "tpu" else "cuda"
    return device(type_, _jax_devices(_JAX_PLATFORM[type_]).index(jax_device))


_CPU = device("cpu")
META = device("meta")     # (canonical's meta device: `device is META` tells a meta tensor)


class _DefaultDeviceState(threading.local):
    default = _CPU      # per thread, as PyTorch's; a class default reads without a failed getattr

    def __init__(self):
        self.entered = []   # the defaults that open `with device(...)` blocks replaced


_state = _DefaultDeviceState()


def get_default_device():
    return canonical(None)


def set_default_device(dev):
    # checked when used, as in PyTorch: set_default_device('cuda') itself never fails
    _state.default = _CPU if dev is None else device(dev)


def accelerator_count(type_="cuda"):
    return len(_jax_devices(_JAX_PLATFORM[type_]))


# Python numbers passed to a compiled function are converted to device arrays on every
# call (several microseconds each). A number that recurs (the 2 in `x + 2`, a learning
# rate) is converted once: jax.device_put keeps it weakly typed, so the compiled code and
# its result dtypes are the same as with the number itself.
_SCALAR_ARRAYS = {}
_SCALAR_CACHE_LIMIT = 4096


def scalar_arg(value, dev=None):
    """`value` ready to pass to a jitted function: a cached device array for bools, ints
    and floats (except nan and zeros, whose sign a dict key would lose), else `value`."""
    kind = type(value)
    if kind is float:
        if value != value or value == 0.0:
            return value
    elif kind is not int and kind is not bool:
        return value
    key = (kind, value, dev)
    array = _SCALAR_ARRAYS.get(key)
    if array is None:
        if len(_SCALAR_ARRAYS) >= _SCALAR_CACHE_LIMIT:
            _SCALAR_ARRAYS.clear()
        target = None if dev is None else to_jax(dev)
        if target is not None and target == jax.local_devices()[0]:
            target = None                   # uncommitted, as place() leaves them
        try:
            # under jax.jit, device_put would give a tracer, which must not outlive the
            # trace in this cache: the cached array is always a concrete one
            with jax.ensure_compile_time_eval():
                array = jax.device_put(value, target)
        except OverflowError:               # beyond int64: let the caller's path raise
            return value
        _SCALAR_ARRAYS[key] = array
    return array
