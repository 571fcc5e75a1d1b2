"""torch.fft: discrete Fourier transforms (implementations in _ops/spectral.py)."""
from ._ops._common import with_out as _with_out
from ._ops.spectral import TRANSFORMS as _TRANSFORMS, HELPERS as _HELPERS

# every transform takes out=, as PyTorch's do; the helpers handle their own out=
globals().update({name: _with_out("fft_" + name, fn) for name, fn in _TRANSFORMS.items()})
globals().update(_HELPERS)

__all__ = sorted(list(_TRANSFORMS) + list(_HELPERS))
