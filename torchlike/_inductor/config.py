"""torchlike._inductor.config: PyTorch 2.13's inductor options (_config_module.py)."""
from .._config_module import install
from .._torch_config_defaults import INDUCTOR

install(__name__, INDUCTOR)
