"""torch.device <-> JAX devices.

PyTorch's 'cuda' means "an accelerator": here it maps to JAX's GPU platform (CUDA or
ROCm); 'tpu' maps to TPUs. Without such a device, asking for one raises the error a
CPU-only PyTorch build raises.
"""
import functools
import threading

import jax

_JAX_PLATFORM = {"cpu": "cpu", "cuda": "gpu", "tpu": "tpu"}


class device:
    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int):
            type, index = "cuda", type
        if ":" in type:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {type}")
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'")
            index = int(idx)
        if type not in _JAX_PLATFORM and type not in ("meta", "mps"):
            raise RuntimeError(
                "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, "
                "fpga, maia, xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone device "
                f"type at start of device string: {type}")
        self.type, self.index = type, index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))


@functools.cache
def _jax_devices(platform):
    try:
        return tuple(jax.devices(platform))
    except RuntimeError:
        return ()


def _absent(type_):
    if type_ == "cuda":
        return AssertionError("Torch not compiled with CUDA enabled")
    return RuntimeError(f"Could not run on device type '{type_}': no such device is available")


def canonical(dev):
    """A torchlike device with an explicit index for accelerators (like tensor.device)."""
    if dev is None:
        return get_default_device()
    dev = dev if isinstance(dev, device) else device(dev)
    if dev.type == "cpu":
        return _CPU
    devices = _jax_devices(_JAX_PLATFORM[dev.type])
    if not devices:
        raise _absent(dev.type)
    index = 0 if dev.index is None else dev.index
    if index >= len(devices):
        raise RuntimeError("CUDA error: invalid device ordinal")
    return device(dev.type, index)


def to_jax(dev):
    if dev.type == "cpu":
        return _jax_devices("cpu")[0]
    return _jax_devices(_JAX_PLATFORM[dev.type])[dev.index or 0]


def from_jax(jax_device):
    platform = jax_device.platform
    if platform == "cpu":
        return _CPU
    type_ = "tpu" if platform == "tpu" else "cuda"
    return device(type_, _jax_devices(_JAX_PLATFORM[type_]).index(jax_device))


_CPU = device("cpu")
_state = threading.local()


def get_default_device():
    return getattr(_state, "default", _CPU)


def set_default_device(dev):
    _state.default = _CPU if dev is None else canonical(dev)


def accelerator_count(type_="cuda"):
    return len(_jax_devices(_JAX_PLATFORM[type_]))
