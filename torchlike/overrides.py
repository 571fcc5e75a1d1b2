"""torch.overrides: the `__torch_function__` protocol's helpers, for library code that
lets its arguments' types take over a call (`if has_torch_function(args): return
handle_torch_function(f, args, ...)`).

torchlike's own ops do not dispatch `__torch_function__`; these helpers let Python code
that asks for it do so, as PyTorch's do: an argument whose type defines
`__torch_function__` is asked to handle the call.
"""
from ._tensor import Tensor

__all__ = ["has_torch_function", "has_torch_function_unary", "has_torch_function_variadic",
           "handle_torch_function", "is_tensor_like", "is_tensor_method_or_property",
           "resolve_name"]


def _overrides(value):
    """Whether `value`'s type defines __torch_function__ (torchlike's Tensor does not)."""
    return getattr(type(value), "__torch_function__", None) is not None


def has_torch_function(relevant_args):
    return any(_overrides(a) for a in relevant_args)


def has_torch_function_unary(value):
    return _overrides(value)


def has_torch_function_variadic(*args):
    return has_torch_function(args)


def _overloaded_args(relevant_args):
    """The arguments whose types define __torch_function__, one per type, a subclass
    before its base classes (PyTorch's order)."""
    found = []
    for a in relevant_args:
        if not _overrides(a) or any(type(f) is type(a) for f in found):
            continue
        at = len(found)
        for k, f in enumerate(found):
            if issubclass(type(a), type(f)):
                at = k
                break
        found.insert(at, a)
    return found


def resolve_name(f):
    return f"{f.__module__}.{f.__name__}" if hasattr(f, "__name__") else None


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    """Call the first __torch_function__ among `relevant_args` that does not return
    NotImplemented; PyTorch's TypeError when all do."""
    overloaded = _overloaded_args(relevant_args)
    types = tuple(type(a) for a in overloaded)
    for a in overloaded:
        result = type(a).__torch_function__(public_api, types, args, kwargs)
        if result is not NotImplemented:
            return result
    raise TypeError(f"no implementation found for '{resolve_name(public_api)}' on types that "
                    f"implement __torch_function__: {[type(a) for a in overloaded]}")


def is_tensor_like(inp):
    return type(inp) is Tensor or _overrides(inp)


def is_tensor_method_or_property(func):
    return getattr(Tensor, getattr(func, "__name__", ""), None) is func
