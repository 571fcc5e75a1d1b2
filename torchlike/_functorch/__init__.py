"""torchlike._functorch: the configuration of PyTorch's AOT autograd, whose options a
PyTorch program may set (they change nothing here: _config_module.py)."""
from . import config       # noqa: F401
