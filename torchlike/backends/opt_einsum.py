"""torch.backends.opt_einsum: contraction-order flags. JAX's einsum always plans its
contraction with opt_einsum, so `enabled`/`strategy` are recorded for compatibility."""
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
