"""More losses. Those PyTorch writes as compositions of tensor ops are composed here from
torchlike's public ops the same way, so values, gradients and grad_fn names follow; the
native ones (soft margin, multi margin, multilabel margin) are one op each."""
import math

import jax
import jax.numpy as jnp

from ..._ops._util import check_broadcast, scalar_name
from ._common import call, check_reduction, nn_op, reduce_array, reduction_of


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    import torchlike
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * torchlike.ones_like(input)
    elif bool(torchlike.any(var < 0)):
        raise ValueError("var has negative entry/entries")
    if var.size() != input.size():
        if input.size()[:-1] == var.size():
            var = var.unsqueeze(-1)        # one variance per sample, shared by the last dim
        elif not (input.ndim == var.ndim and sum(
                v for i, v in zip(input.size(), var.size()) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    # PyTorch clamps a clone in place under no_grad: the value is clamped, the gradient
    # passes to var unchanged. (Written out of place: torchlike's fused backward replays
    # the clone without the no_grad clamp.)
    var = var + (var.clamp(min=eps) - var).detach()
    loss = 0.5 * (torchlike.log(var) + (input - target) ** 2 / var)
    if full:
        loss += 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    import torchlike
    reduction = reduction_of(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not a valid value for reduction")
    if log_input:
        loss = torchlike.exp(input) - target * input
    else:
        loss = input - target * torchlike.log(input + eps)
    if full:
        # Stirling's approximation of log(target!), only where target > 1
        stirling = (target * torchlike.log(target) - target
                    + 0.5 * torchlike.log(2 * math.pi * target))
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce(loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    import torchlike
    reduction = reduction_of(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    zeros = torchlike.zeros_like(input)
    margin_part = torchlike.where(target != 1, (margin - input).clamp_min(0), zeros)
    self_part = torchlike.where(target != -1, input, zeros)
    return _reduce(margin_part + self_part, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    from ..functional import logsigmoid
    reduction = reduction_of(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(dim=class_dim) / input.size(class_dim)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    return _reduce(loss, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    import torchlike
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    dims = (anchor.ndim, positive.ndim, negative.ndim)
    if len(set(dims)) != 1:
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {dims[0]}D, positive "
                           f"{dims[1]}D, and negative {dims[2]}D inputs")
    distance = distance_function or torchlike.pairwise_distance
    to_positive = distance(anchor, positive)
    to_negative = distance(anchor, negative)
    if swap:    # the positive may be closer to the negative than the anchor is
        to_negative = torchlike.minimum(to_negative, distance(positive, negative))
    return _reduce(torchlike.clamp_min(margin + to_positive - to_negative, 0), reduction)


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction="mean", ignore_index=None, label_smoothing=0.0, options=None):
    """cross_entropy(linear(input, linear_weight, linear_bias), target): PyTorch's chunked
    evaluation (`options`) only saves memory, so one matmul gives the same values.
    linear_weight (C, d_1, ..., d_K, in_features) gives a K-dimensional loss."""
    from ..functional import cross_entropy
    if input.dim() not in (1, 2):
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError("expected linear_weight with dimensionality at least 2, got "
                           f"{linear_weight.dim()}")
    features = input.shape[-1]
    if linear_weight.shape[-1] != features:
        raise RuntimeError("expected equal input and linear_weight last dimensions (in_features), "
                           f"got {features} and {linear_weight.shape[-1]}, respectively")
    if ignore_index is not None and target.dtype.is_floating_point:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    out_features = tuple(linear_weight.shape[:-1])
    if len(out_features) > 1 and input.dim() == 1:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape "
                           f"{tuple(linear_weight.shape)} requires batched input, (N, {features}),"
                           f" got unbatched input with shape {tuple(input.shape)}")
    if linear_bias is not None and tuple(linear_bias.shape) != out_features:
        raise RuntimeError(f"expected linear_bias shape {out_features}, got "
                           f"{tuple(linear_bias.shape)}")
    logits = input @ linear_weight.reshape(-1, features).t()
    logits = logits.reshape(tuple(input.shape[:-1]) + out_features)
    if linear_bias is not None:
        logits = logits + linear_bias
    return cross_entropy(logits, target, weight=weight, reduction=reduction,
                         ignore_index=-100 if ignore_index is None else ignore_index,
                         label_smoothing=label_smoothing)


# -- native margin losses -----------------------------------------------------------------
def _check_nonempty(input):
    """The margin losses take a vector or a batch of vectors with at least one class."""
    if not (input.dim() == 0 or input.dim() <= 2 and input.shape[-1] != 0):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {list(input.shape)}")


def _check_long_target(target):
    if target.dtype.name != "int64":
        raise RuntimeError(f"expected scalar type Long but found {scalar_name(target.dtype)}")


@nn_op("soft_margin_loss", saves=(0, 1))
def _soft_margin_op(x, y, *, reduction):
    return reduce_array(jnp.log1p(jnp.exp(-y * x)), reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    check_broadcast(input, target)
    return call(_soft_margin_op, (input, target), "SoftMarginLossBackward0",
                reduction=reduction)


@nn_op("multi_margin_loss", saves=(0, 1))
def _multi_margin_op(x, target, *weight, p, margin, reduction):
    classes = x.shape[-1]
    picked = jnp.take_along_axis(x, target[..., None], axis=-1)
    z = jnp.maximum(margin - picked + x, 0)
    z = z if p == 1 else z * z
    if weight:
        z = z * weight[0][target][..., None]
    others = jnp.arange(classes) != target[..., None]      # the target class is left out
    loss = jnp.sum(jnp.where(others, z, 0), axis=-1) / classes
    return reduce_array(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    _check_nonempty(input)
    rows = input.shape[0] if input.dim() == 2 else 1
    if target.dim() > 1 or target.numel() != rows:
        raise RuntimeError("multi_margin_loss: target tensor should be 1-D with size equal to "
                           "the number of input samples (batch size). Expected target size "
                           f"[{rows}], but got {list(target.shape)}. Input has shape "
                           f"{list(input.shape)}.")
    _check_long_target(target)
    if input.dim() == 0:        # one sample of one class
        input, target = input.reshape(1), target.reshape(())
    inputs = (input, target) if weight is None else (input, target, weight)
    return call(_multi_margin_op, inputs, "MultiMarginLossBackward0", p=int(p),
                margin=float(margin), reduction=reduction)


@nn_op("multilabel_margin_loss", saves=(0, 1))
def _multilabel_margin_op(x, target, *, reduction):
    classes = x.shape[-1]
    # the targets of a sample are its entries up to the first -1
    listed = jnp.cumprod(target >= 0, axis=-1).astype(bool)
    hits = jax.nn.one_hot(jnp.where(listed, target, 0), classes, dtype=x.dtype)
    hits = hits * listed[..., None]
    per_class = jnp.sum(hits, axis=-2)          # how often each class is listed
    is_target = per_class > 0
    # every listed target j against every non-target k: max(0, 1 - (x_j - x_k))
    pair = jnp.maximum(1 - (x[..., :, None] - x[..., None, :]), 0)
    weight = per_class[..., :, None] * (~is_target)[..., None, :]
    loss = jnp.sum(pair * weight, axis=(-2, -1)) / classes
    return reduce_array(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    _check_nonempty(input)
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError("inconsistent target size: " + str(list(target.shape))
                           + " for input of size: " + str(list(input.shape)))
    _check_long_target(target)
    if input.dim() == 0:        # one sample of one class
        input, target = input.reshape(1), target.reshape(1)
    return call(_multilabel_margin_op, (input, target), "MultilabelMarginLossBackward0",
                reduction=reduction)
