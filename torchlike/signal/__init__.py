"""torch.signal: its `windows` namespace."""
from . import windows  # noqa: F401
