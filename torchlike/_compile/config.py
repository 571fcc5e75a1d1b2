"""torchlike._dynamo.config: the settings of torchlike.compile, under PyTorch 2.13's
dynamo option names (all of them can be set; those not read here change nothing:
_config_module.py), and torchlike's own."""
import sys

from .._config_module import install
from .._torch_config_defaults import DYNAMO

# read by torchlike.compile:
#   recompile_limit (alias cache_size_limit): distinct guards (traces) per compiled
#     function before it runs eagerly, as PyTorch's
#   capture_scalar_outputs: .item() inside a compiled function gives a symbol traced into
#     the program, not a graph break, as PyTorch's setting (fullgraph=True always does:
#     _symbolic.py)
OWN = {
    # with dynamic shapes (dynamic=None or True), the programs kept per function: one per
    # shape seen, the least recently used dropped beyond this (and retraced if it returns)
    "programs_per_function": (64, "int"),
    # torch.func transforms run as compiled programs, one per guard (_func_tier.py)
    "compile_func_transforms": (True, "bool"),
}

install(__name__, {**DYNAMO, **OWN}, aliases={"cache_size_limit": "recompile_limit"},
        public_name="torchlike._dynamo.config")


def limit():
    """The recompile limit in force (set under PyTorch's name or its older alias)."""
    return sys.modules[__name__].recompile_limit
