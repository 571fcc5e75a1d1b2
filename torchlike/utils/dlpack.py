"""torch.utils.dlpack: DLPack capsules in and out (tensors share memory, no copy)."""
from .._jax_bridge import from_dlpack, to_dlpack

__all__ = ["from_dlpack", "to_dlpack"]
