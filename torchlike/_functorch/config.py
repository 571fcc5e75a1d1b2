"""torchlike._functorch.config: PyTorch 2.13's functorch options (_config_module.py)."""
import os

from .._config_module import install
from .._torch_config_defaults import FUNCTORCH

# PyTorch derives this default from the environment: True where $CI is set (so the
# generated file holds whatever the machine that wrote it had).
ENVIRONMENT_DEFAULTS = {"error_on_custom_op_aliasing": (bool(os.getenv("CI")), "bool")}

install(__name__, {**FUNCTORCH, **ENVIRONMENT_DEFAULTS})
