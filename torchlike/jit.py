"""torch.jit: TorchScript does not exist here. `script` and `trace` hand back the
function or module itself (it runs as the original, through torchlike's own engine;
`torchlike.compile` is the way to compile), with a one-time warning saying so. The
decorators that only annotate (`ignore`, `unused`, `export`, ...) return their argument;
`save`/`load` of a TorchScript archive raise, naming what to use instead."""
import contextlib
import typing
import warnings

Final = typing.Final

_warned = [False]


def _warn_once(what):
    if not _warned[0]:
        _warned[0] = True
        warnings.warn(f"torchlike.jit.{what}: no TorchScript is produced; the original "
                      "function or module runs as it is (use torchlike.compile to compile "
                      "it).", UserWarning, stacklevel=3)


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    _warn_once("script")
    return obj


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-05, strict=True, _force_outplace=False,
          _module_class=None, _compilation_unit=None, example_kwarg_inputs=None,
          _store_inputs=True):
    _warn_once("trace")
    return func


def trace_module(mod, inputs, *args, **kwargs):
    _warn_once("trace_module")
    return mod


def script_if_tracing(fn):
    return fn


def _returns_argument(obj=None, **kwargs):
    return obj


ignore = unused = export = interface = script_method = _returns_argument


def is_scripting():
    return False


def is_tracing():
    return False


def annotate(the_type, the_value):
    return the_value


def isinstance(obj, target_type):          # noqa: A001 - torch.jit's name
    import builtins
    return builtins.isinstance(obj, typing.get_origin(target_type) or target_type)


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    return mod


def optimize_for_inference(mod, other_methods=None):
    return mod


@contextlib.contextmanager
def optimized_execution(should_optimize):
    yield


def enable_onednn_fusion(enabled):
    pass


def onednn_fusion_enabled():
    return False


def set_fusion_strategy(strategy):
    return []


def _no_torchscript(what, instead):
    raise RuntimeError(f"torchlike.jit.{what}: TorchScript archives are not supported by "
                       f"torchlike; instead, {instead}")


def save(m, f, _extra_files=None):
    _no_torchscript("save", "save the weights with torchlike.save(model.state_dict(), f)")


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    _no_torchscript("load", "load a state_dict with torchlike.load(f) and "
                            "model.load_state_dict(...)")


class ScriptModule:
    """Only a type to check against: nothing here is ever a ScriptModule."""


class ScriptFunction:
    """Only a type to check against: nothing here is ever a ScriptFunction."""


class CompilationUnit:
    def __init__(self, lang=None, _frames_up=0):
        if lang is not None:
            _no_torchscript("CompilationUnit", "write the functions in Python")


class RecursiveScriptModule(ScriptModule):
    pass


class RecursiveScriptClass:
    pass


class TracedModule(ScriptModule):
    pass


class TopLevelTracedModule(TracedModule):
    pass


class ONNXTracedModule:
    pass


class Error(RuntimeError):
    pass


class TracerWarning(Warning):
    pass


class ScriptWarning(Warning):
    pass


class TracingCheckError(Exception):
    pass


class Attribute(typing.NamedTuple):
    """`jit.Attribute(value, type)`: in eager code, just the value and its type."""
    value: typing.Any
    type: typing.Any


@contextlib.contextmanager
def fuser(name):
    yield


class strict_fusion:
    def __enter__(self):
        warnings.warn("Only works in script mode", stacklevel=2)

    def __exit__(self, *exc):
        return False


def last_executed_optimized_graph():
    return None


def run_frozen_optimizations(mod, optimize_numerics=True, preserved_methods=None):
    return None


def set_module(obj, mod):
    obj.__module__ = mod


def export_opnames(m):
    _no_torchscript("export_opnames", "there are no TorchScript operators to list")


def save_jit_module_to_flatbuffer(m, filename, _extra_files=None):
    _no_torchscript("save_jit_module_to_flatbuffer", "save the weights with torchlike.save")


def jit_module_from_flatbuffer(filename):
    _no_torchscript("jit_module_from_flatbuffer", "load weights with torchlike.load")


class Future:
    """A finished computation: `fork` runs the function at once (PyTorch's eager
    semantics outside TorchScript), so the value is ready when `wait` asks."""

    def __init__(self, value=None):
        self._value = value

    def wait(self):
        return self._value

    def value(self):
        return self._value

    def done(self):
        return True


def fork(func, *args, **kwargs):
    warnings.warn("`torch.jit.fork` is deprecated. Please use `torch.compile` instead.",
                  DeprecationWarning, stacklevel=2)
    return Future(func(*args, **kwargs))


def wait(future):
    warnings.warn("`torch.jit.wait` is deprecated. Please use `torch.compile` instead.",
                  DeprecationWarning, stacklevel=2)
    return future.wait()

