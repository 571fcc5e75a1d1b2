"""torch.optim.adamw's path: AdamW lives in adam.py."""
from .adam import AdamW  # noqa: F401
