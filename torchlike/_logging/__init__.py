"""torchlike._logging: PyTorch's torch._logging.set_logs, for the compiler's logs.

torchlike.compile logs on the `torchlike._dynamo` logger: graph breaks at DEBUG (with the
user's file and line), the recompile limit at WARNING. set_logs takes PyTorch's keyword
arguments (names from PyTorch 2.13: _torch_config_defaults.SET_LOGS); those about the
compiler front end (all, dynamo, graph_breaks, recompiles, recompiles_verbose) set that
logger's level and give it a handler on stderr; the others (inductor's, AOT autograd's,
distributed's artifacts) have nothing here to show. Each call replaces the settings of
the one before, as PyTorch's: set_logs() puts back the defaults.
"""
import logging

from .._torch_config_defaults import SET_LOGS

_LOGGER = "torchlike._dynamo"
_handler = None


def set_logs(**settings):
    for name in settings:
        if name not in SET_LOGS:
            raise TypeError(f"set_logs() got an unexpected keyword argument '{name}'")
    global _handler
    logger = logging.getLogger(_LOGGER)
    levels = [settings[k] for k in ("all", "dynamo") if settings.get(k) is not None]
    if any(settings.get(k) for k in ("graph_breaks", "recompiles", "recompiles_verbose")):
        levels.append(logging.DEBUG)
    if _handler is not None:
        logger.removeHandler(_handler)
        _handler = None
    if not levels:
        logger.setLevel(logging.NOTSET)
        return
    logger.setLevel(min(levels))
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("[%(name)s] %(message)s"))
    logger.addHandler(_handler)
