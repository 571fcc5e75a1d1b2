"""nn.Parameter (a leaf tensor that requires grad and prints 'Parameter containing:')
and nn.Buffer (a marker that makes a module attribute a buffer)."""
from .._tensor import Tensor


class Parameter(Tensor):
    def __new__(cls, data=None, requires_grad=True):
        from .._factories import empty
        if data is None:
            data = empty(0)
        p = object.__new__(cls)
        p._init_from_array(data._raw() if data.is_meta else data._data(), data.device)
        # an alias of `data` (which may itself be a view), sharing memory as in PyTorch
        p._storage = data._storage
        p._shape, p._stride, p._offset, p._whole = (data._shape, data._stride, data._offset,
                                                    data._whole)
        p._cache, p._cache_gen = data._cache, data._cache_gen
        p._version_counter = data._version_counter
        p._requires_grad = bool(requires_grad)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass

    def __reduce_ex__(self, protocol):
        from .._tensor import _rebuild_tensor
        return (_rebuild_tensor, (self._host_copy(), self._dtype.name, self.requires_grad,
                                  Parameter))


class _BufferMeta(type):
    """isinstance(t, Buffer) holds for the plain tensors that Buffer(...) returns."""

    def __instancecheck__(cls, instance):
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """Buffer(tensor, persistent=True): assigning it to a module attribute registers a
    buffer. Like PyTorch's, it returns a plain Tensor (an alias of `data`) carrying the
    flag."""

    def __new__(cls, data=None, *, persistent=True):
        from .._factories import empty
        if data is None:
            data = empty(0)
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t


class UninitializedTensorMixin:
    """A parameter or buffer whose shape is not known yet (the Lazy* modules): a
    placeholder until `materialize` gives it a shape, when it becomes `cls_to_become`."""
    cls_to_become = None

    def materialize(self, shape, device=None, dtype=None):
        from .._factories import empty
        value = empty(shape, device=device or self.device, dtype=dtype or self.dtype)
        requires_grad = self._requires_grad
        self._init_from_array(value._data(), value.device, requires_grad)
        self.__class__ = self.cls_to_become

    def __repr__(self):
        return f"<{self.__class__.__name__}>"

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        raise RuntimeError(f"'{self.__class__.__name__}' must be initialized before it can be "
                           "saved")


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        from .._factories import empty
        return Parameter.__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None):
        from .._factories import empty
        t = object.__new__(cls)
        value = empty(0, device=device, dtype=dtype)
        t._init_from_array(value._data(), value.device, requires_grad)
        return t

    def __init__(self, requires_grad=False, device=None, dtype=None):
        pass
