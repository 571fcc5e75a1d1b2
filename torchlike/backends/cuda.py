"""torch.backends.cuda: cuBLAS flags (matmul.allow_tf32 is the float32 matmul precision)
and the scaled-dot-product-attention backend switches (recorded; XLA picks kernels)."""
import contextlib

from .. import cuda as _cuda
from . import _precision


def is_built():
    """Whether this build can use a CUDA GPU: JAX's GPU platform is installed and found."""
    return _cuda.is_available()


class cuBLASModule:
    """`torch.backends.cuda.matmul`: fixed set of attributes, as PyTorch's."""
    _flags = {"allow_fp16_reduced_precision_reduction": True,
              "allow_bf16_reduced_precision_reduction": True,
              "allow_fp16_accumulation": False}

    def __getattr__(self, name):
        if name == "allow_tf32":
            return _precision.get_float32_matmul_precision() != "highest"
        if name in self._flags:
            return self._flags[name]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name, value):
        if name == "allow_tf32":
            _precision.set_float32_matmul_precision("high" if value else "highest")
        elif name in self._flags:
            self._flags[name] = bool(value)
        else:
            raise AttributeError(f"Unknown attribute {name}")


matmul = cuBLASModule()

# scaled_dot_product_attention backends: all on by default, as in PyTorch
_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def flash_sdp_enabled():
    return _sdp["flash"]


def enable_flash_sdp(enabled):
    _sdp["flash"] = bool(enabled)


def mem_efficient_sdp_enabled():
    return _sdp["mem_efficient"]


def enable_mem_efficient_sdp(enabled):
    _sdp["mem_efficient"] = bool(enabled)


def math_sdp_enabled():
    return _sdp["math"]


def enable_math_sdp(enabled):
    _sdp["math"] = bool(enabled)


def cudnn_sdp_enabled():
    return _sdp["cudnn"]


def enable_cudnn_sdp(enabled):
    _sdp["cudnn"] = bool(enabled)


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True,
               enable_cudnn=True):
    saved = dict(_sdp)
    _sdp.update(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient,
                cudnn=enable_cudnn)
    try:
        yield
    finally:
        _sdp.update(saved)


_linalg_library = "default"


def preferred_linalg_library(backend=None):
    """XLA chooses the solver library; the choice is recorded and reported back."""
    global _linalg_library
    if backend is not None:
        _linalg_library = backend if isinstance(backend, str) else str(backend)
    return _linalg_library
