"""torch.nn.modules.flatten's path: Flatten and Unflatten live in linear.py."""
from .linear import Flatten, Unflatten  # noqa: F401
