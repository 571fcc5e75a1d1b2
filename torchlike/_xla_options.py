"""XLA's options for the programs of this process, set when torchlike is imported.

PyTorch rounds the result of every op to its dtype. XLA may instead keep a fused
intermediate of a bfloat16 computation in float32 ("excess precision", on by default):
a pending graph `(x.bfloat16() * 3 + 1).float()` then gave other values run as one
program than op by op, and than PyTorch's (a bfloat16 convolution under autocast read
back through `.float()`: 0.03 apart), so results depended on where torchlike's programs
happened to be cut. Off, each op's result is rounded as PyTorch's is; float32 programs
are unchanged. (XLA's CPU backend still computes a fused float16 chain in float32.)

XLA reads its flags once, when JAX starts its first backend, and keeps them for the
process (every jax.jit's, the user's own too, as `jax_enable_x64` is): set here, before
torchlike makes its first array. A `XLA_FLAGS` that names the option wins; where JAX
had started before torchlike was imported, programs keep XLA's default.
"""
import os

OPTION = "xla_allow_excess_precision"


def set_flags():
    """Turn excess precision off in XLA_FLAGS, unless the user chose, or JAX started."""
    flags = os.environ.get("XLA_FLAGS", "")
    if OPTION not in flags and not _backend_started():
        os.environ["XLA_FLAGS"] = f"{flags} --{OPTION}=false".strip()


def _backend_started():
    try:
        from jax._src import xla_bridge
        return bool(xla_bridge._backends)
    except (ImportError, AttributeError):       # pragma: no cover (another JAX)
        return False
