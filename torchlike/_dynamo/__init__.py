"""torchlike._dynamo: the names of torch._dynamo that user code touches."""
from .._compile import config              # noqa: F401  (config.recompile_limit ...)
from .._compile.api import list_backends   # noqa: F401
from .._compile.breaks import disable      # noqa: F401
from . import exc, utils                   # noqa: F401


def reset():
    from ..compiler import reset as reset_
    reset_()
