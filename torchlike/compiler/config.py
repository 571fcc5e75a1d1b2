"""torchlike.compiler.config: PyTorch 2.13's torch.compiler options (_config_module.py:
accepted, they change nothing here)."""
from .._config_module import install
from .._torch_config_defaults import COMPILER

install(__name__, COMPILER)
