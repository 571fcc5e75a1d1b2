"""nn.Parameter: a leaf tensor that requires grad and prints 'Parameter containing:'."""
from .._tensor import Tensor


class Parameter(Tensor):
    def __new__(cls, data=None, requires_grad=True):
        from .._factories import empty
        if data is None:
            data = empty(0)
        p = object.__new__(cls)
        p._init_from_array(data._data(), data.device)
        p._storage = data._storage        # shares memory with `data`, as PyTorch
        p._version_counter = data._version_counter
        p._requires_grad = bool(requires_grad)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass

    def __reduce_ex__(self, protocol):
        from .._tensor import _rebuild_tensor
        return (_rebuild_tensor, (self.numpy(force=True), self._dtype.name, self.requires_grad,
                                  Parameter))
