"""torchlike._functorch.config: PyTorch 2.13's functorch options (_config_module.py)."""
from .._config_module import install
from .._torch_config_defaults import FUNCTORCH

install(__name__, FUNCTORCH)
