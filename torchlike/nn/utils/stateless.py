"""torch.nn.utils.stateless: functional_call (PyTorch's older home of torch.func's)."""
import warnings

from ... import func

__all__ = ["functional_call"]


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """torch.func.functional_call with one dict, and PyTorch's deprecation warning."""
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch "
                  "2.0 and will be removed in a future version of PyTorch. Please use "
                  "`torch.func.functional_call` instead which is a drop-in replacement.",
                  FutureWarning, stacklevel=2)
    if not hasattr(parameters_and_buffers, "keys"):     # (one dict here, not a sequence)
        raise AttributeError(f"'{type(parameters_and_buffers).__name__}' object has no "
                             "attribute 'keys'")
    return func.functional_call(module, parameters_and_buffers, args, kwargs,
                                tie_weights=tie_weights, strict=strict)
