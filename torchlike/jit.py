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


class Error(RuntimeError):
    pass


class TracerWarning(Warning):
    pass


def fork(func, *args, **kwargs):
    """Runs func now; wait() returns its result (PyTorch's eager semantics)."""
    return _Done(func(*args, **kwargs))


def wait(future):
    return future.wait()


class _Done:
    def __init__(self, value):
        self._value = value

    def wait(self):
        return self._value

