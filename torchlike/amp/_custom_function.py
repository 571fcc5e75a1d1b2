"""custom_fwd / custom_bwd: autocast for the forward and backward of an
autograd.Function, so that backward runs under the autocast state forward saw."""
import functools

from . import autocast_mode as _mode


def _cast_floats(value, dtype, device_type):
    return _mode._map_tensors(
        lambda t: t.to(dtype) if _mode._eligible(t, device_type) else t, value, {})[0]


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0]
        ctx._dtype = _mode.get_autocast_dtype(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = _mode.is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        autocast_context = _mode.is_autocast_enabled(device_type)
        ctx._fwd_used_autocast = False
        if autocast_context:
            with _mode.autocast(device_type=device_type, enabled=False):
                cast_args = _cast_floats(args, cast_inputs, device_type)
                cast_kwargs = {k: v for k, v in kwargs.items()}
                return fwd(*cast_args, **cast_kwargs)
        return fwd(*args, **kwargs)
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        with _mode.autocast(device_type=device_type, enabled=ctx._fwd_used_autocast,
                            dtype=ctx._dtype):
            return bwd(*args, **kwargs)
    return decorate_bwd
