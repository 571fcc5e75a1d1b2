"""torchlike.overrides against torch.overrides: the __torch_function__ helpers library
code calls (has_torch_function / handle_torch_function), with PyTorch's order and
errors; nn.functional re-exports them as PyTorch's does."""
import pytest

import torchlike
import torchlike.overrides

torch = pytest.importorskip("torch")
import torch.overrides  # noqa: E402


class Handles:
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return ("handled", func.__name__, [t.__name__ for t in types], len(args), kwargs)


class Declines(Handles):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return NotImplemented


class Refuses:
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return NotImplemented


def _calls(lib):
    o = lib.overrides

    def f(x, y=1):
        if o.has_torch_function((x,)):
            return o.handle_torch_function(f, (x,), x, y=y)
        return x + y
    try:
        o.handle_torch_function(f, (Refuses(),), Refuses())
        refused = None
    except TypeError as error:
        refused = str(error)
    return [f(Handles()), f(1), o.has_torch_function_unary(lib.ones(1)),
            o.has_torch_function((lib.ones(1), 1)), o.is_tensor_like(Handles()),
            o.is_tensor_like(lib.ones(1)), o.is_tensor_like(1),
            o.handle_torch_function(f, (Handles(), Declines()), 3), refused,
            o.has_torch_function((lib.nn.Parameter(lib.ones(1)),)),
            o.has_torch_function_variadic(1, Handles()),
            o.is_tensor_method_or_property(lib.Tensor.add),
            o.is_tensor_method_or_property(lib.add),
            lib.nn.functional.has_torch_function is o.has_torch_function,
            lib.nn.functional.handle_torch_function is o.handle_torch_function]


def test_torch_function_helpers_as_torch():
    assert _calls(torchlike) == _calls(torch)
