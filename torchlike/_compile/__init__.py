"""torchlike.compile: PyTorch functions and modules as jax.jit programs (compiled.py),
with the state they read and write found by state.py."""
from .compiled import CompiledCallable, Unsupported, disable, is_compiling  # noqa: F401
