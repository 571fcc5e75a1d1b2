"""torch.cpu: the CPU's device module (streams and synchronization are no-ops there)."""
import contextlib

from ._streams import Stream as _Stream


def is_available():
    return True


def device_count():
    return 1


def current_device():
    return "cpu"


def set_device(device):
    pass


def synchronize(device=None):
    """Wait for JAX's queued CPU work (PyTorch's CPU ops are synchronous already)."""
    import jax
    jax.effects_barrier()


class Stream(_Stream):
    def __init__(self, priority=-1):
        super().__init__("cpu")


def current_stream(device=None):
    return Stream()


@contextlib.contextmanager
def stream(stream):
    yield


class StreamContext:
    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self.stream

    def __exit__(self, *exc):
        return False


def is_initialized():
    return True


from .amp import _cpu_aliases as amp     # noqa: E402  torch.cpu.amp: deprecated aliases
