"""Helpers the distributions share: broadcasting parameters, probs <-> logits, and the
lazily computed parameter (probs from logits or the other way round)."""
import functools
import numbers

import numpy as np

import torchlike

euler_constant = 0.57721566490153286060    # Euler-Mascheroni constant

__all__ = ["broadcast_all", "logits_to_probs", "clamp_probs", "probs_to_logits",
           "lazy_property"]


def broadcast_all(*values):
    """Tensors and numbers broadcast together; numbers become tensors of the first
    tensor's dtype and device (the default dtype when there is none)."""
    if not all(isinstance(v, (torchlike.Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    if not all(isinstance(v, torchlike.Tensor) for v in values):
        first = next((v for v in values if isinstance(v, torchlike.Tensor)), None)
        options = (dict(dtype=torchlike.get_default_dtype()) if first is None
                   else dict(dtype=first.dtype, device=first.device))
        values = [v if isinstance(v, torchlike.Tensor) else torchlike.tensor(v, **options)
                  for v in values]
    return torchlike.broadcast_tensors(*values)


def finfo(dtype):
    """numpy's float info for a torchlike float dtype (eps, tiny, max)."""
    import jax.numpy as jnp
    return jnp.finfo(dtype.np)


def _standard_normal(shape, dtype, device):
    return torchlike.randn(tuple(shape), dtype=dtype, device=device)


def _sum_rightmost(value, dim):
    """Sum the `dim` rightmost dimensions of `value` away."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    if is_binary:
        return torchlike.sigmoid(logits)
    return torchlike.softmax(logits, dim=-1)


def clamp_probs(probs):
    """Probabilities kept inside (eps, 1 - eps) so their logs stay finite."""
    eps = float(finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    clamped = clamp_probs(probs)
    if is_binary:
        return torchlike.log(clamped) - torchlike.log1p(-clamped)
    return torchlike.log(clamped)


class lazy_property:
    """A property computed on first use and then stored on the instance (the derived
    parameter: probs of a logits-parameterised distribution, a Cholesky factor...)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        functools.update_wrapper(self, wrapped)

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        with torchlike.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def as_size(shape):
    return torchlike.Size(tuple(shape))


def numel(shape):
    return int(np.prod(tuple(shape), dtype=np.int64))
