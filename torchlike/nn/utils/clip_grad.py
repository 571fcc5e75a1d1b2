"""Gradient clipping (in place, under no_grad), as torch.nn.utils."""
import math
import warnings

import jax.numpy as jnp

from ... import _factories
from ..._ops import batched_inplace
from ..._ops.registry import Op
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad


def _grads_of(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _norm(t, norm_type):
    if norm_type == math.inf:
        return t.abs().max()
    if norm_type == -math.inf:
        return t.abs().min()
    return t.abs().pow(norm_type).sum().pow(1.0 / norm_type) if norm_type != 2 else \
        t.pow(2).sum().sqrt()


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the per-tensor norms (= the norm of all elements together)."""
    from ... import stack
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return _factories.tensor(0.0)
    with no_grad():
        norms = stack([_norm(t.detach(), norm_type) for t in tensors])
        total = _norm(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(float(total)):
        raise RuntimeError(_NONFINITE.format(norm_type))
    return total


_NONFINITE = ("The total norm of order {} for gradients from `parameters` is non-finite, so "
              "it cannot be clipped. To disable this error and scale the gradients by the "
              "non-finite norm anyway, set `error_if_nonfinite=False`")


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    grads = _grads_of(parameters)
    if not grads:
        return
    with no_grad():
        coef = (float(max_norm) / (total_norm + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.to(g.dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale all gradients together so that their total norm is at most max_norm;
    returns the total norm before clipping."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    grads = _grads_of(parameters)
    if _one_op_clips(grads, norm_type):
        return _clip_in_one_op(grads, max_norm, error_if_nonfinite)
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def _clip_impl(max_norm, *grads):
    """The 2-norm clip of gradients of one dtype, with the arithmetic of the op-by-op
    path (get_total_norm, then clip_grads_with_norm_): each gradient's norm, the norm of
    those, then each gradient times min(max_norm / (total + 1e-6), 1)."""
    norms = jnp.stack([jnp.sqrt(jnp.sum(g * g)) for g in grads])
    total = jnp.sqrt(jnp.sum(norms * norms))
    coef = jnp.minimum(jnp.asarray(max_norm).astype(total.dtype) / (total + 1e-6), 1.0)
    return (total,) + tuple([g * coef for g in grads])


_clip_op = Op("clip_grad_norm", _clip_impl, differentiable=False)


def _one_op_clips(grads, norm_type):
    """Whether clip_grad_norm_ may run as one pending op (_clip_impl): a 2-norm of
    gradients of one dtype that batched_inplace.batchable allows. Else it runs op by
    op (a transformer's 38 gradients: about 230 ops)."""
    return norm_type == 2.0 and batched_inplace.batchable(grads) and \
        all([g._dtype is grads[0]._dtype for g in grads])


def _clip_in_one_op(grads, max_norm, error_if_nonfinite):
    """Clip `grads` in place by _clip_impl; returns the total norm (before clipping).
    A non-finite norm with error_if_nonfinite raises with the gradients unchanged."""
    total, *clipped = batched_inplace.run(_clip_op, [float(max_norm)], grads)
    if error_if_nonfinite and not math.isfinite(float(total)):
        raise RuntimeError(_NONFINITE.format(2.0))
    batched_inplace.write_back(grads, clipped)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient into [-clip_value, clip_value] in place. PyTorch's default
    (foreach, on CPU too) clamps from below, then from above: two versions per gradient,
    and a NaN clip_value makes NaN gradients; foreach=False clamps each once."""
    clip_value = float(clip_value)
    grads = _grads_of(parameters)
    if foreach is False:
        with no_grad():
            for g in grads:
                g.clamp_(min=-clip_value, max=clip_value)
    elif batched_inplace.batchable(grads):
        clamped = batched_inplace.run(_clamp_op, [clip_value], grads)
        batched_inplace.write_back(grads, clamped, versions=2)
    else:
        with no_grad():
            for g in grads:
                g.clamp_min_(-clip_value)
                g.clamp_max_(clip_value)


def _clamp_impl(clip_value, *grads):
    """clip_grad_value_'s clamps of every gradient as one op (NaN bounds give NaN)."""
    return tuple([jnp.minimum(jnp.maximum(g, -clip_value), clip_value).astype(g.dtype)
                  for g in grads])


_clamp_op = Op("clip_grad_value", _clamp_impl, differentiable=False)
