"""nn.utils.skip_init: a module built without running its parameter initialisation."""
import inspect


def skip_init(module_cls, *args, **kwargs):
    """As PyTorch: the module is built on the meta device (its initializers draw
    nothing there) and then given memory on the requested device; its values are
    unspecified (zeros here)."""
    from ..modules.module import Module
    if not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    final_device = kwargs.pop("device", "cpu")
    kwargs["device"] = "meta"
    return module_cls(*args, **kwargs).to_empty(device=final_device)
