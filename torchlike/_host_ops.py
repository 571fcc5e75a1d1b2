"""Moving small CPU tensors' elements with numpy, where XLA would compile a program.

A pending op compiles a program for each new shape (10-200 ms on CPU), which is
nothing for a step repeated a thousand times and everything for the one-off data
movement around it: appending a token to a sequence at each length, or iterating a
tensor of batch indices (`for i in ix`, an unbind). For small concrete CPU tensors that
record no history, these ops are made by numpy at call time instead: copies, exact.
"""
import functools
import math

import numpy as np

from . import _device

HOST_MAX_ELEMENTS = 1 << 14


@functools.cache
def _late():
    """(_jax_bridge, Deferred, Tensor, is_grad_enabled): modules that import this one,
    bound at the first use (an import statement in a function costs a few
    microseconds per call, and these run for every sample a data set gives)."""
    from . import _jax_bridge
    from ._lazy import Deferred
    from ._tensor import Tensor
    from .autograd.grad_mode import is_grad_enabled
    return _jax_bridge, Deferred, Tensor, is_grad_enabled


def on_device_of(host, like):
    """Numpy array `host` on the device of jax array `like` (uncommitted on the default
    device, as torchlike's other arrays)."""
    return _device.place(host, _device.from_jax(next(iter(like.devices()))))


def _numpy_may_read(tensors):
    """Whether numpy may take these tensors' values: not inside a JAX trace or a
    compiled prefix's replay, and each on the CPU, with a computed storage (a view's
    pending base is not forced), recording no history."""
    bridge, Deferred, _, is_grad_enabled = _late()
    if not bridge.top_level() or bridge.state.replay is not None:
        return False
    grad = is_grad_enabled()
    return not any(t._storage.device.type != "cpu" or grad and t.requires_grad
                   or type(t._storage.array) is Deferred for t in tensors)


def _concrete_arrays(tensors):
    """The tensors' jax arrays, or None where numpy must not take them (_numpy_may_read),
    a value is pending, or there are more than HOST_MAX_ELEMENTS in all."""
    Deferred = _late()[1]
    if not _numpy_may_read(tensors):
        return None
    total, arrays = 0, []
    for t in tensors:
        a = t._raw()
        total += a.size
        if type(a) is Deferred or total > HOST_MAX_ELEMENTS:
            return None
        arrays.append(a)
    return arrays


def joined_on_host(op, tensors, params):
    """`cat` or `stack` of small concrete CPU tensors joined by numpy into a new tensor;
    None otherwise (the op then runs as any other). Appending a token
    (`torch.cat((idx, next), 1)`) is such a join at every length: as a pending op it
    compiled a program per length, and a read of `idx[0, -1]` took the join into a
    program padding cannot cover (the joined length is not the length of its inputs)."""
    Tensor = _late()[2]
    arrays = _concrete_arrays(tensors)
    if arrays is None:
        return None
    params = dict(params)
    host = [np.asarray(a).astype(params["dtype"]) for a in arrays]
    return Tensor._wrap(on_device_of(_HOST_JOINS[op.name](host, params), arrays[0]),
                        tensors[0]._storage.device)


_HOST_JOINS = {
    "cat": lambda arrays, p: np.concatenate([a for i, a in enumerate(arrays)
                                            if i not in p["skip"]], axis=p["dim"]),
    "stack": lambda arrays, p: np.stack(arrays, axis=p["dim"]),
}


def viewed_on_host(tensor, shape, strides, offset):
    """The elements the view (shape, strides, offset) of `tensor`'s storage sees, copied
    by numpy into a new tensor (the caller makes it the view), or None where numpy must
    not read the tensor (_numpy_may_read) or the view has more than HOST_MAX_ELEMENTS
    elements. A pending view op compiled a gather per shape when read (a batch sliced
    from a data set at each length, `data[i:i + n]`), and kept the join of such slices
    off the host."""
    if math.prod(shape) > HOST_MAX_ELEMENTS or not _numpy_may_read((tensor,)):
        return None
    Tensor = _late()[2]
    st = tensor._storage
    flat = np.asarray(st.array).reshape(-1)
    seen = np.lib.stride_tricks.as_strided(flat[offset:], shape,
                                           [s * flat.itemsize for s in strides])
    return Tensor._wrap(on_device_of(np.array(seen), st.array), st.device)


def unbound_on_host(tensor, dim):
    """The values of `tensor.unbind(dim)` made by numpy (new tensors, which unbind makes
    views of `tensor`), or None (see _concrete_arrays). Iterating a tensor unbinds it:
    as a pending op, a program with one output per element, compiled per length."""
    Tensor = _late()[2]
    arrays = _concrete_arrays([tensor])
    if arrays is None:
        return None
    host, device = np.asarray(arrays[0]), tensor._storage.device
    return tuple(Tensor._wrap(on_device_of(np.take(host, i, axis=dim), arrays[0]), device)
                 for i in range(host.shape[dim]))
