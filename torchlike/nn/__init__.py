"""torchlike.nn (modules are built only on the public Tensor API)."""
from .parameter import Parameter
from . import functional
