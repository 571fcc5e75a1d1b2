"""torch.backends: settable flags of PyTorch's backend libraries.

torchlike runs everything through XLA, so most flags have no lever to pull: they are
kept so that programs which set and read them run unchanged. The one with a meaning in
JAX is the float32 matmul precision (TF32), mapped onto JAX's default matmul
precision (`_precision.py`).
"""
from . import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp, opt_einsum   # noqa: F401
