"""nn.utils.skip_init: a module built without running its parameter initialisation."""
import inspect


def skip_init(module_cls, *args, **kwargs):
    """PyTorch builds the module on the meta device and allocates it empty; torchlike has
    no meta device, so the module is built normally (its values are unspecified in
    PyTorch, so any values are allowed)."""
    from ..modules.module import Module
    if not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    kwargs.pop("device", None)
    return module_cls(*args, **kwargs)
