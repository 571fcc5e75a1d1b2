"""Older and lesser-used names of torch.autograd: Variable, variable, NestedIOFunction,
SavedTensor, the __torch_function__ helpers and the engine's process-wide switches.

torchlike's engine has no worker threads, replays no views and dispatches no
__torch_function__ of its own tensors; these names keep PyTorch's answers and errors so
that code written against them runs unchanged.
"""
import warnings

from .function import Function
from .grad_mode import _GradModeContext


# -- Variable: since PyTorch 0.4 a Tensor; the class remains for isinstance and old code --
class _VariableMeta(type):
    def __instancecheck__(cls, other):
        from .._tensor import Tensor
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """Variable(data, requires_grad=False): a new tensor sharing data's storage."""

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        from .._factories import empty
        from .._tensor import Tensor
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with "
                          "torch.no_grad():` instead.", UserWarning, stacklevel=2)
        if data is None:
            return empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)


def variable(*args, **kwargs):
    raise RuntimeError("torch.autograd.variable(...) is deprecated, use torch.tensor(...) instead")


# -- SavedTensor: made only by the engine (PyTorch's grad_fn._raw_saved_*) -----------------
class SavedTensor:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("Trying to create a SavedTensor object from Python is forbidden.")


# -- NestedIOFunction: the legacy Function with nested inputs and outputs ---------------------
def _flat_tensors(obj):
    """The tensors in a nest of lists and tuples, depth first (iteratively)."""
    from .._tensor import Tensor
    stack, out = [obj], []
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            out.append(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
    return out


class NestedIOFunction(Function):
    """Kept for backward compatibility, as in PyTorch (use Function): forward_extended
    and backward_extended are the user's methods on nested inputs and outputs."""

    def _do_forward(self, *input):
        self._nested_input = input
        return super()._do_forward(*_flat_tensors(input))   # PyTorch's own AttributeError

    __call__ = _do_forward

    def forward(self, *args):
        result = self.forward_extended(*self._nested_input)
        del self._nested_input
        self._nested_output = result
        return tuple(_flat_tensors(result))

    def backward(self, *gradients):
        return tuple(self.backward_extended(*gradients))

    def save_for_backward(self, *args):
        self.to_save = tuple(_flat_tensors(args))
        self._to_save_nested = args

    def mark_dirty(self, *args, **kwargs):
        self.dirty_tensors = tuple(_flat_tensors((args, kwargs)))

    def mark_non_differentiable(self, *args, **kwargs):
        self.non_differentiable = tuple(_flat_tensors((args, kwargs)))

    def forward_extended(self, *input):
        raise NotImplementedError

    def backward_extended(self, *grad_output):
        raise NotImplementedError


# -- __torch_function__ helpers (torch.overrides) --------------------------------------------
def _own_override(obj):
    """The __torch_function__ obj's type defines (torchlike's Tensor has none)."""
    return getattr(type(obj), "__torch_function__", None)


def _tensor_default(cls, func, types, args, kwargs):
    """What torch.Tensor's own __torch_function__ does: decline unless every overriding
    type is this tensor type or a base of it, else run func."""
    if not all(issubclass(cls, t) for t in types):
        return NotImplemented
    return func(*args, **(kwargs or {}))


def has_torch_function(relevant_args):
    """Whether any of the arguments overrides __torch_function__."""
    from .._tensor import Tensor
    if isinstance(relevant_args, dict) or not hasattr(relevant_args, "__getitem__") \
            or not hasattr(relevant_args, "__len__"):
        raise TypeError("expected a sequence")
    if isinstance(relevant_args, Tensor):
        return False                     # (its elements are plain tensors)
    return any(_own_override(a) is not None for a in relevant_args)


def is_tensor_like(inp):
    from .._tensor import Tensor
    return type(inp) is Tensor or hasattr(inp, "__torch_function__")


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    """Offer the call to each overriding argument type (subclasses before their bases,
    else left to right; tensors count, with Tensor's default) until one does not return
    NotImplemented."""
    from .._tensor import Tensor
    overloaded = []
    for arg in relevant_args:
        if not (isinstance(arg, Tensor) or _own_override(arg) is not None) \
                or any(type(o) is type(arg) for o in overloaded):
            continue
        at = next((k for k, o in enumerate(overloaded) if issubclass(type(arg), type(o))),
                  len(overloaded))
        overloaded.insert(at, arg)
    types = tuple(type(a) for a in overloaded)
    for arg in overloaded:
        if _own_override(arg) is None:
            result = _tensor_default(type(arg), public_api, types, args, kwargs)
        else:
            result = arg.__torch_function__(public_api, types, args, kwargs)
        if result is not NotImplemented:
            return result
    raise TypeError(f"no implementation found for '{public_api.__module__}.{public_api.__name__}' "
                    f"on types that implement __torch_function__: {[type(a) for a in overloaded]}")


# -- switches of PyTorch's engine; torchlike's backward runs on the calling thread -----------
class _Flags:
    multithreading = True
    grad_layout_enforced = True


_flags = _Flags()


def is_multithreading_enabled():
    return _flags.multithreading


def is_view_replay_enabled():
    """False: views record their own backward (PyTorch's default, which torchlike keeps)."""
    return False


class _FlagContext(_GradModeContext):
    """Sets its flag when made (so it works as a plain call) and restores it on exit."""
    flag = None

    def __init__(self, mode):
        self.prev = getattr(_flags, self.flag)
        setattr(_flags, self.flag, bool(mode))
        self.mode = mode

    def __enter__(self):
        setattr(_flags, self.flag, bool(self.mode))

    def __exit__(self, *exc):
        setattr(_flags, self.flag, self.prev)
        return False

    def _clone(self):
        return self.__class__(self.mode)

    clone = _clone


class set_multithreading_enabled(_FlagContext):
    """Context manager (or call) switching multithreaded backward; torchlike's backward
    always runs on the calling thread, so only the reported flag changes. (As PyTorch's,
    used as a decorator it leaves the flag set.)"""
    flag = "multithreading"


class enforce_grad_layout_policy(_FlagContext):
    """Context manager (or call) relaxing the gradient layout contract; torchlike's
    accumulated gradients take the parameter's strides either way."""
    flag = "grad_layout_enforced"

    def __init__(self, enable=True):
        super().__init__(enable)

    def __call__(self, func):
        setattr(_flags, self.flag, self.prev)
        return super().__call__(func)
