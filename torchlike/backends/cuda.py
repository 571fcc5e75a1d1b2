"""torch.backends.cuda: cuBLAS flags (matmul.allow_tf32 is the float32 matmul precision)
and the scaled-dot-product-attention backend switches (recorded; XLA picks kernels)."""
import contextlib
import enum

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


class SDPBackend(enum.IntEnum):
    """Which scaled-dot-product-attention kernel runs; XLA lowers attention itself."""
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


def is_flash_attention_available():
    # PyTorch's CUDA builds say True; torchlike has a GPU build when JAX sees a GPU
    return _cuda.is_available()


def is_ck_sdpa_available():
    return False


def can_use_flash_attention(params, debug=False):
    return False


def can_use_efficient_attention(params, debug=False):
    return False


_fp16_bf16_reduction_math_sdp = [False]


def allow_fp16_bf16_reduction_math_sdp(enabled):
    _fp16_bf16_reduction_math_sdp[0] = bool(enabled)


def fp16_bf16_reduction_math_sdp_allowed():
    return _fp16_bf16_reduction_math_sdp[0]


_linalg_library = "default"


def preferred_linalg_library(backend=None):
    """XLA chooses the solver library; the choice is recorded and reported back."""
    global _linalg_library
    if backend is not None:
        _linalg_library = backend if isinstance(backend, str) else str(backend)
    return _linalg_library


_blas_library = "cublas"


def preferred_blas_library(backend=None):
    """XLA chooses the BLAS library; the choice is recorded and reported back."""
    global _blas_library
    if backend is not None:
        _blas_library = str(backend).lower()
    return _blas_library


def preferred_rocm_fa_library(backend=None):
    return "default"


class SDPAParams:
    """The arguments can_use_flash_attention inspects (recorded, never used by XLA)."""

    def __init__(self, query, key, value, attn_mask=None, dropout=0.0, is_causal=False,
                 enable_gqa=False):
        self.query, self.key, self.value, self.attn_mask = query, key, value, attn_mask
        self.dropout, self.is_causal, self.enable_gqa = dropout, is_causal, enable_gqa


class _PlanCache:
    """cuFFT plan cache settings: XLA plans FFTs itself."""
    size = 0
    max_size = 4096

    def clear(self):
        pass


class _PlanCacheManager:
    def __getitem__(self, device):
        return _PlanCache()

    def __getattr__(self, name):
        return getattr(_PlanCache(), name)


cufft_plan_cache = _PlanCacheManager()


def cublas_workspace_size():
    return 0


def cublaslt_workspace_size():
    return 0


def blas_workspace_size():
    return 0
