"""torch.backends.cudnn: flags a training script sets. XLA chooses convolution
algorithms itself, so benchmark/deterministic are recorded, not acted on; cuDNN is
reported unavailable, as PyTorch does without a CUDA build."""
import contextlib

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    return None


def is_acceptable(tensor):
    return False


def set_flags(_enabled=None, _benchmark=None, _benchmark_limit=None, _deterministic=None,
              _allow_tf32=None):
    """Set the given flags; returns the previous values, as PyTorch's set_flags does."""
    module = globals()
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
    previous = tuple(module[n] for n in names)
    for name, value in zip(names, (_enabled, _benchmark, _benchmark_limit, _deterministic,
                                   _allow_tf32)):
        if value is not None:
            module[name] = value
    return previous


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True):
    """Set the flags for the block, restoring the previous values afterwards."""
    module = globals()
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
    saved = {n: module[n] for n in names}
    module.update(enabled=enabled, benchmark=benchmark, benchmark_limit=benchmark_limit,
                  deterministic=deterministic, allow_tf32=allow_tf32)
    try:
        yield
    finally:
        module.update(saved)
