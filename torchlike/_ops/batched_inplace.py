"""One pending op that rewrites many whole tensors in place: what clip_grad_norm_,
clip_grad_value_, GradScaler.unscale_ and zero_grad(set_to_none=False) do to every
gradient of a model (PyTorch's foreach kernels). Op by op they record one to eight
no_grad ops per gradient (hundreds for a transformer), each costing the host a
dispatch; as one op the step pays one, and the values are the same arithmetic."""
import jax.numpy as jnp

from .. import _jax_bridge as bridge
from .. import _lazy as lazy
from ..autograd.grad_mode import no_grad
from .dispatch import apply
from .registry import Op


def batchable(tensors):
    """Whether one pending op may compute new values for all of `tensors` and write
    them back whole: each a whole floating tensor that requires no grad, on one device,
    with a storage of its own (PyTorch writes a tensor listed twice twice, and a view
    into the storage of another), outside a JAX trace."""
    if not tensors or not (lazy.ENABLED and bridge.top_level()):
        return False
    device = tensors[0]._storage.device
    for t in tensors:
        if not t._whole or t._storage.device is not device or t.requires_grad \
                or not t._dtype.is_floating_point:
            return False
    return len({id(t._storage) for t in tensors}) == len(tensors)


def run(op, leading, tensors):
    """op(*leading, *tensors) under no_grad: its outputs, pending Tensors (the ops here
    return what they compute besides, then one new value per tensor)."""
    with no_grad():
        return apply(op, list(leading) + list(tensors))


def write_back(tensors, values, versions=1):
    """Each tensor's elements replaced by its new value: Tensor._write_now's write of a
    whole tensor (batchable ones are whole, outside a trace), and `versions` added to
    each version counter: the count of in-place ops PyTorch runs on it (one for a
    `mul_`, two for clip_grad_value_'s clamps, none for GradScaler's fused unscale)."""
    for t, new in zip(tensors, values):
        st = t._storage
        st.array = new._raw()
        st.generation += 1
        t._version_counter.value += versions


def _zeros_impl(*tensors):
    return tuple([jnp.zeros_like(t) for t in tensors])


_zeros_op = Op("zero_all", _zeros_impl, differentiable=False)


def zero_all_(tensors):
    """t.zero_() for each tensor (zero_grad(set_to_none=False)'s gradients), as one op
    where batchable allows it."""
    if len(tensors) > 1 and batchable(tensors):
        write_back(tensors, run(_zeros_op, (), tensors))
        return
    for t in tensors:
        t.zero_()
