"""torch.backends.opt_einsum: contraction-order flags. JAX's einsum always plans its
contraction with opt_einsum, so `enabled`/`strategy` are recorded for compatibility."""
import contextlib

try:
    import opt_einsum as _opt_einsum
except ImportError:
    _opt_einsum = None

enabled = _opt_einsum is not None
strategy = "auto" if _opt_einsum is not None else None


def is_available():
    return _opt_einsum is not None


def get_opt_einsum():
    return _opt_einsum


def set_flags(_enabled=None, _strategy=None):
    global enabled, strategy
    previous = (enabled, strategy)
    if _enabled is not None:
        enabled = _enabled
    if _strategy is not None:
        strategy = _strategy
    return previous


@contextlib.contextmanager
def flags(enabled=None, strategy=None):
    previous = set_flags(enabled, strategy)
    try:
        yield
    finally:
        set_flags(*previous)
