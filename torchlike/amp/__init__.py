"""torch.amp: automatic mixed precision (autocast regions and loss scaling)."""
from . import autocast_mode, grad_scaler
from .autocast_mode import autocast, is_autocast_available
from .grad_scaler import GradScaler
from ._custom_function import custom_bwd, custom_fwd

__all__ = ["autocast", "custom_bwd", "custom_fwd", "GradScaler", "is_autocast_available"]
