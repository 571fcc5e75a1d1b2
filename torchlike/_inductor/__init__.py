"""torchlike._inductor: PyTorch's compiler backend's configuration, whose options a
PyTorch program may set (they change nothing here: _config_module.py)."""
from . import config       # noqa: F401
