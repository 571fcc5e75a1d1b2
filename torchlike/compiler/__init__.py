"""torchlike.compiler: PyTorch's torch.compiler namespace over torchlike.compile."""
import functools

from .._compile import api as _api
from .._compile.api import compile, list_backends          # noqa: F401
from .._compile.breaks import disable, is_compiling         # noqa: F401
from .._compile.stance import set_stance                     # noqa: F401
from . import config                                        # noqa: F401


def is_dynamo_compiling():
    return is_compiling()


def is_exporting():
    return False


def reset():
    """Forget every compiled program (torch.compiler.reset)."""
    from .._compile.compiled import CompiledCallable
    CompiledCallable.reset_all()


def allow_in_graph(fn):
    """Every torchlike function is traceable already."""
    return fn


def assume_constant_result(fn):
    return fn


def cudagraph_mark_step_begin():
    """Where a training loop's iteration starts, for PyTorch's CUDA graph trees (mode=
    "reduce-overhead"); torchlike records no CUDA graphs, so there is nothing to mark."""


def set_default_backend(backend):
    """The backend torchlike.compile takes where none is given (None: "inductor"). Every
    backend here is the same XLA compile; the name is checked when a function is
    compiled, as PyTorch checks it."""
    if backend is not None and not isinstance(backend, str) and not callable(backend):
        raise TypeError(f"backend must be a string or callable, got {type(backend)}")
    _api.default_backend = "inductor" if backend is None else backend


def get_default_backend():
    return _api.default_backend


def nested_compile_region(fn=None, *, options=None, max_reuse_entries=8, reuse_hash_fn=None):
    """Marks a region PyTorch compiles once and reuses inside a compiled function. A
    trace here inlines the region's ops into the one program, and XLA's compile does
    the rest, so the region is the function itself; eagerly, PyTorch's is too."""
    if fn is None:
        return functools.partial(nested_compile_region, options=options,
                                 max_reuse_entries=max_reuse_entries,
                                 reuse_hash_fn=reuse_hash_fn)

    @functools.wraps(fn)
    def region(*args, **kwargs):
        return fn(*args, **kwargs)
    return region


def substitute_in_graph(original_fn, *, can_constant_fold_through=False,
                        skip_signature_check=False):
    """A decorator registering a Python stand-in for a (C) function that PyTorch's
    compiler cannot trace. torchlike.compile runs the original function's Python
    anyway, so the stand-in is never needed: the decorated name calls the original,
    as PyTorch's does outside a compiled function."""
    def decorator(polyfill):
        @functools.wraps(polyfill)
        def original(*args, **kwargs):
            return original_fn(*args, **kwargs)
        return original
    return decorator


def wrap_numpy(fn):
    """A function of numpy arrays as a function of tensors: tensor arguments become
    arrays (`.numpy()`), array results tensors. PyTorch compiles the numpy code with
    fullgraph=True; here numpy runs on the host, so inside torchlike.compile the call is
    a graph break (fullgraph=True: Unsupported)."""
    import numpy as np
    from .._factories import as_tensor
    from .._tensor import Tensor
    from ..utils import _pytree

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        args, kwargs = _pytree.tree_map_only(Tensor, lambda t: t.numpy(), (args, kwargs))
        out = fn(*args, **kwargs)
        return _pytree.tree_map_only(np.ndarray, as_tensor, out)
    return wrapped
