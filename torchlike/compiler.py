"""torchlike.compiler: PyTorch's torch.compiler namespace over torchlike.compile."""
from ._compile.api import compile, list_backends          # noqa: F401
from ._compile.breaks import disable, is_compiling         # noqa: F401
from ._compile.stance import set_stance                     # noqa: F401


def is_dynamo_compiling():
    return is_compiling()


def is_exporting():
    return False


def reset():
    """Forget every compiled program (torch.compiler.reset)."""
    from ._compile.compiled import CompiledCallable
    CompiledCallable.reset_all()


def allow_in_graph(fn):
    """Every torchlike function is traceable already."""
    return fn


def assume_constant_result(fn):
    return fn


def cudagraph_mark_step_begin():
    """Where a training loop's iteration starts, for PyTorch's CUDA graph trees (mode=
    "reduce-overhead"); torchlike records no CUDA graphs, so there is nothing to mark."""
