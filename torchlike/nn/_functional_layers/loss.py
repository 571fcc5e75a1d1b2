"""Losses: mostly one op whose grad_fn is the node PyTorch's composite ends with, which
depends on the reduction (e.g. l1_loss ends in AbsBackward0, MeanBackward0 or
SumBackward0). cross_entropy and nll_loss are composed op by op as in PyTorch, so that
the graph of the most common loss shows PyTorch's nodes all the way down."""
import builtins
import warnings

import jax
import jax.numpy as jnp

from ..._ops._common import is_float, not_implemented, with_jvp
from ..._ops.activation import softmax_like
from ..._ops.dispatch import apply
from ..._ops.registry import OPS
from ..._ops.unary import abs_with_zero_grad
from ..._ops._util import (broadcast_shapes, check_broadcast, check_can_cast,
                           indices_out_of_range, out_of_range, result_dtype, scalar_name,
                           values_to_check, wrap_dim)
from ... import _dtype as dt
from ._common import CheckedOnce, call, check_reduction, nn_op, reduce_array, reduction_of


def _warn_target_size(input, target):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input "
                      f"size ({input.shape}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.",
                      stacklevel=4)     # (pointing at the caller of mse_loss and the others)


# -- regression ---------------------------------------------------------------------------
def _elementwise(kind, diff, param):
    if kind == "mse":
        return diff * diff
    if kind == "l1":
        return abs_with_zero_grad(diff)             # PyTorch: the gradient at 0 is 0
    ad = jnp.abs(diff)
    if kind == "smooth_l1":
        return jnp.where(ad < param, 0.5 * diff * diff / param, ad - 0.5 * param)
    return jnp.where(ad < param, 0.5 * diff * diff, param * (ad - 0.5 * param))   # huber


@nn_op("regression_loss", saves=(0, 1))
def _regression_op(x, y, *weight, kind, param, reduction, weighted_mean):
    loss = _elementwise(kind, x - y, param)
    if not weight:
        return reduce_array(loss, reduction)
    loss = loss * weight[0]
    if reduction == "mean" and weighted_mean:
        return jnp.sum(loss) / jnp.sum(weight[0])
    return reduce_array(loss, reduction)


_NATIVE = {"mse": "MseLossBackward0", "smooth_l1": "SmoothL1LossBackward0",
           "huber": "HuberLossBackward0"}
_COMPOSITE = {"none": "AbsBackward0", "mean": "MeanBackward0", "sum": "SumBackward0"}
_WEIGHTED = {"none": "MulBackward0", "mean": "DivBackward0", "sum": "SumBackward0"}


_KERNEL = {"mse": "mse_cpu", "smooth_l1": "smooth_l1_cpu", "huber": "huber_cpu"}


def _regression(kind, input, target, reduction, param=0.0, weight=None):
    _warn_target_size(input, target)
    check_broadcast(input, target)
    check_reduction(reduction)
    if kind == "smooth_l1" and param < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if kind == "huber" and param <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    both_integral = not (is_float(input.dtype) or is_float(target.dtype))
    if kind == "huber" and not is_float(input.dtype):    # writes into an input-typed result
        if both_integral:
            raise not_implemented("huber_cpu", input.dtype)
        check_can_cast(result_dtype(input, target), input.dtype)
    if both_integral:
        if kind == "l1":
            raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either "
                               f"a floating point or complex dtype. Got: {scalar_name(input.dtype)}")
        raise not_implemented(_KERNEL[kind], input.dtype)
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape):
            raise ValueError("Weights and input must have the same size.")
        grad_fn = dict(_WEIGHTED, mean="MeanBackward0") if kind == "huber" else _WEIGHTED
        grad_fn = grad_fn[reduction]
    else:
        grad_fn = _NATIVE[kind] if kind in _NATIVE else _COMPOSITE[reduction]
    inputs = (input, target) if weight is None else (input, target, weight)
    loss = call(_regression_op, inputs, grad_fn, kind=kind, param=float(param),
                reduction=reduction, weighted_mean=kind != "huber")
    return loss.to(input.dtype) if kind == "huber" else loss


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    return _regression("mse", input, target, reduction_of(size_average, reduce, reduction),
                       weight=weight)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    return _regression("l1", input, target, reduction_of(size_average, reduce, reduction),
                       weight=weight)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    reduction = reduction_of(size_average, reduce, reduction)
    if beta == 0.0:        # PyTorch falls back to l1_loss
        return _regression("l1", input, target, reduction)
    return _regression("smooth_l1", input, target, reduction, param=beta)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    return _regression("huber", input, target, reduction, param=delta, weight=weight)


# -- classification -----------------------------------------------------------------------
def _safe_mean(total, count):
    """total / count, NaN when count is 0 (every target ignored) but with a zero
    gradient there, as PyTorch's nll_loss backward gives."""
    empty = count == 0
    nan, zero = (jnp.array(v, total.dtype) for v in (jnp.nan, 0))   # (not float64 selects)
    return total / jnp.where(empty, 1, count) + jnp.where(empty, nan, zero)


@nn_op("nll_loss", saves=(0,))
def _nll_op(x, target, *weight, ignore_index, reduction):
    """x: (N, C, ...) or unbatched (C,) log-probabilities; target: (N, ...) or ()."""
    if x.ndim == 1:         # unbatched: a 0-dim target, or a 1-dim one of size 1
        x, target = x[None], target.reshape(1)
        loss = _nll_op.impl(x, target, *weight, ignore_index=ignore_index, reduction=reduction)
        return loss[0] if reduction == "none" else loss
    logp = jnp.moveaxis(x, 1, -1)                                      # (N, ..., C)
    valid = target != ignore_index
    safe = jnp.where(valid, target, 0)
    if weight:
        w_t = jnp.where(valid, jnp.take(weight[0], safe), 0).astype(logp.dtype)
    else:               # (each target's weight is 1: no gather from a vector of ones)
        w_t = valid.astype(logp.dtype)
    picked = jnp.take_along_axis(logp, safe[..., None], axis=-1)[..., 0]
    nll = -w_t * picked
    if reduction == "none":
        return nll
    if reduction == "sum":
        return jnp.sum(nll)
    return _safe_mean(jnp.sum(nll), jnp.sum(w_t))


def _check_nll(input, target, weight, ignore_index):
    """nll_loss's checks, in PyTorch's order: shapes, weight, dtypes, then target values
    (the first ones read only shapes and dtypes: a training loop's are checked once)."""
    _nll_arguments_checked((input.shape, input.dtype, target.shape, target.dtype,
                            None if weight is None else (weight.shape, weight.dtype)),
                           input, target, weight)
    classes = input.shape[0 if input.dim() == 1 else 1]
    bad = indices_out_of_range(target, 0, classes, ignore_index)
    if bad is not None:
        raise IndexError(f"Target {bad} is out of bounds.")


def _check_nll_arguments(input, target, weight):
    """nll_loss's shape and dtype errors, in PyTorch's order."""
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if input.dim() >= 2 and target.dim() >= 1 and target.shape[0] != input.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0]}).")
    if input.dim() <= 2:
        if target.dim() > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    elif tuple(target.shape) != (input.shape[0],) + tuple(input.shape[2:]):
        raise RuntimeError(f"Expected target size {[input.shape[0]] + list(input.shape[2:])}, "
                           f"got {list(target.shape)}")
    classes = input.shape[0 if input.dim() == 1 else 1]
    if weight is not None and (weight.dim() != 1 or weight.numel() != classes):
        raise RuntimeError(f"weight tensor should be defined either for all {classes} classes or "
                           f"no classes but got weight tensor of shape: {list(weight.shape)}")
    if target.dtype not in (dt.int64, dt.uint8):
        raise RuntimeError("expected target dtype to be Long or Byte, but got "
                           f"{scalar_name(target.dtype)}")
    if input.dim() == 1 and target.dim() == 1 and target.shape[0] != 1:
        raise ValueError("For 1D input, 1D target must have size 1, but got target size: "
                         f"{target.shape[0]}")
    if not input.dtype.is_floating_point:
        raise not_implemented("nll_loss_out_frame", input.dtype)
    if weight is not None and weight.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {scalar_name(input.dtype)} but found "
                           f"{scalar_name(weight.dtype)}")


_nll_arguments_checked = CheckedOnce(_check_nll_arguments)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    return _nll_loss(input, target, weight, ignore_index, reduction)


def _nll_loss(input, target, weight, ignore_index, reduction):
    """nll_loss with its reduction normalized and checked (cross_entropy's did)."""
    _check_nll(input, target, weight, ignore_index)
    dims = input.dim()
    if dims == 3 or dims > 4:
        # as PyTorch: through nll_loss2d, on the input viewed as (N, C, 1, -1)
        n, c = input.shape[0], input.shape[1]
        loss = _nll(input.reshape(n, c, 1, -1), target.reshape(n, 1, -1), weight,
                    ignore_index, reduction, "NllLoss2DBackward0")
        return loss.view((n,) + tuple(input.shape[2:])) if reduction == "none" else loss
    return _nll(input, target, weight, ignore_index, reduction,
                "NllLossBackward0" if dims <= 2 else "NllLoss2DBackward0")


def _nll(input, target, weight, ignore_index, reduction, grad_fn):
    inputs = (input, target) if weight is None else (input, target, weight)
    return call(_nll_op, inputs, grad_fn, ignore_index=int(ignore_index), reduction=reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """PyTorch's composite, op by op, so that the graph shows its nodes (NllLossBackward0
    over LogSoftmaxBackward0, and label smoothing's sums): log_softmax over the class
    dim, then nll_loss for class indices or a weighted sum for class probabilities."""
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    if label_smoothing > 1.0:       # (PyTorch accepts negative values)
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = wrap_dim(0 if input.dim() == 1 else 1, input.dim())
    if not input.dtype.is_floating_point:
        kernel = "log_softmax_lastdim_kernel_impl" if input.dim() <= 2 else "log_softmax_kernel_impl"
        raise not_implemented(kernel, input.dtype)
    probabilities = tuple(target.shape) == tuple(input.shape)
    if probabilities and not target.dtype.is_floating_point:
        raise RuntimeError("Expected floating point type for target with class "
                           f"probabilities, got {scalar_name(target.dtype)}")
    log_probs = softmax_like(input, class_dim, None, log=True)
    if probabilities:
        return _probability_loss(log_probs, target, weight, reduction, label_smoothing,
                                 class_dim)
    loss = _nll_loss(log_probs, target, weight, ignore_index, reduction)
    if not label_smoothing:
        return loss
    # the smoothing term: each (weighted) log-probability summed over the classes
    ignored = target == ignore_index
    weighted = log_probs if weight is None else log_probs * _along(weight, class_dim, input)
    smooth = -weighted.sum(class_dim)
    smooth.masked_fill_(ignored, 0.0)
    if reduction == "mean":
        kept = ~ignored
        total = kept.sum() if weight is None else \
            (weight.gather(0, target.masked_fill(ignored, 0).flatten()) * kept.flatten()).sum()
        smooth = smooth.sum() / total
    elif reduction == "sum":
        smooth = smooth.sum()
    classes = input.shape[class_dim]
    return _scalar_op("mul", "MulBackward1", loss, 1 - label_smoothing) + \
        _scalar_op("mul", "MulBackward1", smooth, label_smoothing / classes)


def _probability_loss(log_probs, target, weight, reduction, label_smoothing, class_dim):
    """cross_entropy's loss against class probabilities."""
    classes = log_probs.shape[class_dim]
    if label_smoothing > 0.0:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    product = log_probs * target
    if weight is not None:
        product = product * _along(weight, class_dim, log_probs)
    if reduction == "none":
        return -product.sum(class_dim)
    if reduction == "mean" and log_probs.numel() == 0:
        return -product.sum().fill_(float("nan"))         # (no classes to average over)
    loss = -product.sum()
    if reduction == "sum":
        return loss
    return _scalar_op("true_divide", "DivBackward1", loss, log_probs.numel() / classes)


def _along(weight, class_dim, input):
    """A per-class weight viewed to broadcast along `input`'s class dim."""
    shape = [1] * input.dim()
    shape[class_dim] = weight.shape[0]
    return weight.view(shape)


def _scalar_op(name, grad_fn, tensor, number):
    """tensor <op> number as PyTorch's C++ composites compute it: its Scalar overload
    (MulBackward1, DivBackward1), where Python's operator wraps the number as a tensor
    (MulBackward0)."""
    return apply(OPS[name], (tensor, number), (("dtype", tensor.dtype.np),), grad_fn)


def _bce_values(x, y):
    # PyTorch clamps each log term at -100 so that a saturated input stays finite
    return -(y * jnp.maximum(jnp.log(x), -100.0) + (1 - y) * jnp.maximum(jnp.log1p(-x), -100.0))


# PyTorch's derivatives: (x - y) / max(x (1 - x), 1e-12) for the input (finite at 0 and 1)
# and log(1 - x) - log(x) for the target
_bce_elementwise = with_jvp(
    _bce_values,
    lambda x, y, out: (x - y) / jnp.maximum((1 - x) * x, 1e-12),
    lambda x, y, out: jnp.log1p(-x) - jnp.log(x))


@nn_op("binary_cross_entropy", "BinaryCrossEntropyBackward0", saves=(0, 1))
def _bce_op(x, y, *weight, reduction):
    loss = _bce_elementwise(x, y)
    if weight:
        loss = (loss * weight[0]).astype(loss.dtype)
    return reduce_array(loss, reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         "size.")
    if weight is not None:
        _check_broadcastable_to(weight, 1, tuple(target.shape))
        if weight.dim() > target.dim():
            _output_shape_error(target, weight)
    same_shape = weight is not None and tuple(weight.shape) == tuple(input.shape)
    for other in (target, weight if same_shape else None):     # (an expanded weight may differ)
        if other is not None and other.dtype is not input.dtype:
            raise RuntimeError(f"Found dtype {scalar_name(other.dtype)} but expected "
                               f"{scalar_name(input.dtype)}")
    if not input.dtype.is_floating_point:
        raise not_implemented("binary_cross_entropy", input.dtype)
    for name, t in (("input", input), ("target", target)):
        bad = out_of_range(values_to_check(t), 0, 1)
        if bad is not None and bad != 1:
            raise RuntimeError(f"all elements of {name} should be between 0 and 1")
    inputs = (input, target) if weight is None else (input, target, weight)
    return call(_bce_op, inputs, reduction=reduction)


def _check_broadcastable_to(t, index, shape):
    """torch.broadcast_shapes' error for argument `index` that cannot broadcast to `shape`."""
    for i in range(1, builtins.min(t.dim(), len(shape)) + 1):
        n = t.shape[-i]
        if n != 1 and n != shape[-i]:
            raise RuntimeError(f"Attempting to broadcast a dimension of length {n} at -{i}! "
                               f"Mismatching argument at index {index} had {t.shape}; but "
                               f"expected shape should be broadcastable to {list(shape)}")


def _output_shape_error(out, other):
    """An in-place op's error when broadcasting `other` would grow `out`."""
    shape = broadcast_shapes(tuple(out.shape), tuple(other.shape))
    raise RuntimeError(f"output with shape {list(out.shape)} doesn't match the broadcast shape "
                       f"{list(shape)}")


@nn_op("bce_with_logits", "BinaryCrossEntropyWithLogitsBackward0", saves=(0, 1))
def _bce_logits_op(x, y, *rest, reduction, has_weight, has_pos_weight):
    rest = list(rest)
    weight = rest.pop(0) if has_weight else None
    pos_weight = rest.pop(0) if has_pos_weight else None
    softplus_neg = jnp.log1p(jnp.exp(-jnp.abs(x))) + jnp.maximum(-x, 0)    # -log sigmoid(x)
    if pos_weight is not None:
        loss = (1 - y) * x + ((pos_weight - 1) * y + 1) * softplus_neg
    else:
        loss = (1 - y) * x + softplus_neg
    if weight is not None:
        loss = loss * weight
    return reduce_array(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    # PyTorch: log_sigmoid(input) * ((pos_weight - 1) * target + 1), then written into
    # (1 - target) * input: the result has target's dtype, then times weight in place
    if not input.dtype.is_floating_point:
        raise not_implemented("log_sigmoid_cpu", input.dtype)
    for extra in (pos_weight, weight):
        if extra is not None:
            check_broadcast(extra, target)
            if extra.dim() > target.dim():
                _output_shape_error(target, extra)
    check_can_cast(result_dtype(target, input), target.dtype)
    inputs = [input, target] + [t for t in (weight, pos_weight) if t is not None]
    loss = call(_bce_logits_op, inputs, reduction=reduction, has_weight=weight is not None,
                has_pos_weight=pos_weight is not None)
    return loss.to(target.dtype)


@nn_op("kl_div", saves=(0, 1))
def _kl_div_op(x, y, *, reduction, log_target):
    loss = jnp.exp(y) * (y - x) if log_target else jax.scipy.special.xlogy(y, y) - y * x
    if reduction == "batchmean":
        return jnp.sum(loss) / x.shape[0] if x.ndim else jnp.sum(loss)
    return reduce_array(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    reduction = reduction_of(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if not (is_float(input.dtype) and is_float(target.dtype)):
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    check_broadcast(target, input)      # PyTorch's formula starts from the target
    grad_fn = {"none": "MulBackward0" if log_target else "SubBackward0",
               "mean": "MeanBackward0", "sum": "SumBackward0",
               "batchmean": "DivBackward0"}[reduction]
    return call(_kl_div_op, (input, target), grad_fn, reduction=reduction,
                log_target=bool(log_target))


# -- embeddings and ranking ---------------------------------------------------------------
def _clamp_min0(v):
    """clamp_min(v, 0) with PyTorch's gradient: it passes at v == 0 (jnp.maximum halves it)."""
    return jnp.where(v >= 0, v, 0)


_COMPOSITE_REDUCED = {"mean": "MeanBackward0", "sum": "SumBackward0"}


@nn_op("cosine_embedding_loss", saves=(0, 1))
def _cosine_embedding_op(x1, x2, y, *, margin, reduction):
    eps = 1e-12
    dot = jnp.sum(x1 * x2, axis=-1)
    denom = jnp.sqrt((jnp.sum(x1 * x1, axis=-1) + eps) * (jnp.sum(x2 * x2, axis=-1) + eps))
    cos = dot / denom
    zeros = jnp.zeros_like(cos)
    loss = jnp.where(y == 1, 1 - cos, zeros) + jnp.where(y == -1, _clamp_min0(cos - margin),
                                                         zeros)
    return reduce_array(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    grad_fn = _COMPOSITE_REDUCED.get(reduction, "AddBackward0")
    input1, input2 = _default_float(input1, input2)
    return call(_cosine_embedding_op, (input1, input2, target), grad_fn, margin=float(margin),
                reduction=reduction)


@nn_op("margin_ranking_loss", saves=(0, 1, 2))
def _margin_ranking_op(x1, x2, y, *, margin, reduction):
    return reduce_array(_clamp_min0(-y * (x1 - x2) + margin), reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.shape}, input2: {input2.shape}, "
                           f"target: {target.shape} ")
    grad_fn = _COMPOSITE_REDUCED.get(reduction, "ClampMinBackward0")
    input1, input2, target = _default_float(input1, input2, target)
    return call(_margin_ranking_op, (input1, input2, target), grad_fn, margin=float(margin),
                reduction=reduction)


def _default_float(*tensors):
    """Integer inputs of a loss meet a Python-float margin: the default float dtype, as in
    PyTorch."""
    if all(is_float(t.dtype) for t in tensors):
        return tensors
    return tuple(t if is_float(t.dtype) else t.to(dt.get_default_dtype()) for t in tensors)


def _pnorm(d, p):
    if p == 2:
        return jnp.sqrt(jnp.sum(d * d, axis=-1))
    if p == 1:
        return jnp.sum(jnp.abs(d), axis=-1)
    return jnp.sum(jnp.abs(d) ** p, axis=-1) ** (1.0 / p)


@nn_op("triplet_margin_loss", saves=(0, 1, 2))
def _triplet_op(a, pos, neg, *, margin, p, eps, swap, reduction):
    d_ap = _pnorm(a - pos + eps, p)
    d_an = _pnorm(a - neg + eps, p)
    if swap:
        d_an = jnp.minimum(d_an, _pnorm(pos - neg + eps, p))
    return reduce_array(_clamp_min0(margin + d_ap - d_an), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    reduction = reduction_of(size_average, reduce, reduction)
    check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {float(margin)}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {anchor.ndim}D, positive "
                           f"{positive.ndim}D, and negative {negative.ndim}D inputs")
    check_broadcast(anchor, positive)
    check_broadcast(anchor, negative)
    grad_fn = _COMPOSITE_REDUCED.get(reduction, "ClampMinBackward0")
    anchor, positive, negative = _default_float(anchor, positive, negative)
    return call(_triplet_op, (anchor, positive, negative), grad_fn, margin=float(margin),
                p=float(p), eps=float(eps), swap=bool(swap), reduction=reduction)
