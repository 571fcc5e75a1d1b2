"""torch.set_float32_matmul_precision and the TF32 flags, mapped onto JAX's default
matmul precision: 'highest' is full float32, 'high' TF32 (JAX's 'tensorfloat32'),
'medium' one bfloat16 pass. Only float32 contractions without an explicit precision
follow it (torchlike's nn ops ask for full precision, as PyTorch's defaults compute)."""
import warnings

import jax

_JAX_NAMES = {"highest": "highest", "high": "tensorfloat32", "medium": "bfloat16"}
_current = "highest"          # PyTorch's default: no TF32


def get_float32_matmul_precision():
    return _current


def set_float32_matmul_precision(precision):
    global _current
    if precision not in _JAX_NAMES:
        # PyTorch warns and leaves the setting as it was
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.")
        return
    _current = precision
    jax.config.update("jax_default_matmul_precision", _JAX_NAMES[precision])
