"""torchlike._dynamo: the names of torch._dynamo that user code touches.

torchlike.compile traces once per guard set, shapes included (it has no symbolic
shapes), so the hints PyTorch's compiler takes about dynamic or static dimensions and
about what to keep in the graph are accepted and change nothing; graph_break() changes
no result (the function computes the same values with or without a split).
"""
from .._compile import config              # noqa: F401  (config.recompile_limit ...)
from .._compile.api import OptimizedModule, list_backends     # noqa: F401
from .._compile.breaks import disable      # noqa: F401
from .._compile.stance import set_stance   # noqa: F401
from ..compiler import allow_in_graph, assume_constant_result, is_compiling  # noqa: F401
from . import eval_frame, exc, utils       # noqa: F401


def reset():
    from ..compiler import reset as reset_
    reset_()


def optimize(backend="inductor", *, nopython=False, guard_export_fn=None, guard_fail_fn=None,
             guard_filter_fn=None, disable=False, dynamic=None, rebuild_ctx=None,
             package=None):
    """The older spelling of torch.compile: `optimize(backend)(fn)`."""
    from .._compile.api import compile as compile_
    return lambda fn: compile_(fn, backend=backend, fullgraph=nopython, dynamic=dynamic,
                               disable=disable)


def optimize_assert(backend, *, hooks=None, export=False, export_constraints=None,
                    dynamic=None, package=None):
    return optimize(backend, nopython=True, dynamic=dynamic)


def _unchanged(fn):
    return fn


# (allow_in_graph and assume_constant_result are torchlike.compiler's)
disallow_in_graph = forbid_in_graph = nonstrict_trace = _unchanged


def mark_dynamic(t, index, *, min=None, max=None, specialize_on=None):
    """A hint about a dimension's sizes (torchlike compiles per shape: accepted)."""


def maybe_mark_dynamic(t, index):
    """A hint about a dimension's sizes (torchlike compiles per shape: accepted)."""


def mark_static(t, index=None):
    """A hint about a dimension's sizes (torchlike compiles per shape: accepted)."""


def mark_static_address(t, guard=True):
    """A hint about a tensor's memory (accepted)."""


def graph_break(msg=""):
    """Where PyTorch's compiler splits the graph; the values computed are the same."""
