"""torch.nn.attention: choosing scaled_dot_product_attention's kernel. XLA compiles one
attention program whatever is chosen, so the choice is accepted, checked and recorded
(for code that reads it back), and changes no result."""
import contextlib
import enum

__all__ = ["SDPBackend", "sdpa_kernel"]


class SDPBackend(enum.IntEnum):
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_enabled = [list(SDPBackend)[1:]]       # every backend but ERROR, as PyTorch starts


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of "
                             f"SDPBackend instances, got {type(backends).__name__}")
    chosen = [backends] if isinstance(backends, SDPBackend) else list(dict.fromkeys(backends))
    _enabled.append(chosen)
    try:
        yield {}
    finally:
        _enabled.pop()
