"""torchlike.compile, Module.compile and OptimizedModule: PyTorch's entry points."""
import functools

from .._config_module import check_compile_options
from ..nn.modules.module import Module
from .breaks import TorchDynamoException
from .compiled import CompiledCallable

_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
# every backend name PyTorch lists means one thing here: XLA through jax.jit
_BACKENDS = ("cudagraphs", "inductor", "openxla", "tvm", "eager", "aot_eager", "xla")


class InvalidBackend(TorchDynamoException):
    """torch._dynamo.exc.InvalidBackend."""

    def __init__(self, name):
        super().__init__(f"Invalid backend: {name!r}, see `torch._dynamo.list_backends()` "
                         "for available backends.")


def list_backends(exclude_tags=("debug", "experimental")):
    """PyTorch's list (torchlike's own name "xla" is accepted, not listed)."""
    return sorted(b for b in _BACKENDS if b not in ("eager", "aot_eager", "xla"))


default_backend = "inductor"       # (torchlike.compiler.set_default_backend)


def _check(backend, mode, options):
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if isinstance(backend, str) and backend not in _BACKENDS:
        raise InvalidBackend(backend)


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None,
            options=None, name=None, disable=False, recompile_limit=None,
            isolate_recompiles=False, shapes_spec=None):
    """torch.compile: `model` (a function or an nn.Module) traced into jax.jit programs.
    `backend` (None: PyTorch's default, inductor), `mode` and `options` (inductor's option
    names and types) are checked as PyTorch checks them; XLA compiles whatever they say. Used bare or with arguments as
    a decorator. `name`, `isolate_recompiles` and `shapes_spec` are accepted and change
    nothing (each compiled function has its own cache here already)."""
    if backend is None:
        backend = default_backend
    _check(backend, mode, options)
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic,
                                 backend=backend, mode=mode, options=options, name=name,
                                 disable=disable, recompile_limit=recompile_limit,
                                 isolate_recompiles=isolate_recompiles,
                                 shapes_spec=shapes_spec)
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    if backend == "inductor":
        check_compile_options(options)      # (inductor's names and types: PyTorch's errors)
    if disable:
        return model
    if isinstance(model, Module):
        return OptimizedModule(model, fullgraph=fullgraph, dynamic=dynamic,
                               recompile_limit=recompile_limit)
    return CompiledCallable(model, fullgraph=fullgraph, dynamic=dynamic,
                            recompile_limit=recompile_limit)


class OptimizedModule(Module):
    """A module whose forward runs as compiled programs; the original is `_orig_mod`
    (state_dict keys carry that prefix, as in PyTorch)."""

    def __init__(self, mod, fullgraph=False, dynamic=None, recompile_limit=None):
        super().__init__()
        self._orig_mod = mod
        self.__dict__["_compiled_call"] = CompiledCallable(
            mod.__call__, fullgraph=fullgraph, dynamic=dynamic, recompile_limit=recompile_limit)

    def forward(self, *args, **kwargs):
        return self.__dict__["_compiled_call"](*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.__dict__["_modules"]["_orig_mod"], name)
