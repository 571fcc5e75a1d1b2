"""Normalisation layers: each one op (statistics, normalisation and the affine map),
with running statistics updated in place under no_grad as PyTorch's kernels do."""
import warnings

import jax
import jax.numpy as jnp
from jax import lax

from ..._jax_bridge import check_norm_statistics
from ... import _dtype as dt
from ..._ops._common import REDUCED_FLOATS, not_implemented, round_to
from ..._ops._util import c_type_name, int_list, scalar_name, wrap_dim
from ...autograd.grad_mode import no_grad
from ._common import CheckedOnce, apply, call, nn_op


def _affine(y, weight, bias, shape):
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _in_float(x, arrays):
    """PyTorch's normalization kernels compute a float16 or bfloat16 input in float32
    ("opmath") and round the result once, whatever the parameters' dtype (float32 ones may
    go with a reduced input): x and the arrays in float32 where x is reduced, and the
    dtype to give the result."""
    dtype = x.dtype
    if dtype not in REDUCED_FLOATS:
        return x, arrays, dtype
    return x.astype(jnp.float32), [a.astype(jnp.float32) if getattr(a, "dtype", None) in
                                   REDUCED_FLOATS else a for a in arrays], dtype


def _normalized_as_torch(x, weight, bias, grouped, axes, affine_shape, statistics):
    """A float16/bfloat16 input's batch, layer or group norm as PyTorch's CPU kernels
    compute it (x, weight and bias in float32, None where absent; the caller rounds the
    result once): normalized over `axes` of x reshaped to `grouped`, with the statistics
    `statistics(g)` gives for the output, and differentiated with those it gives for the
    derivatives, PyTorch's saved ones: ((mean, 1/std) for the output, (mean, 1/std) for
    the derivatives). The derivatives are PyTorch's formula, in float32 from those (found
    against its gradients; JAX's differentiation of the output's computation differed in
    a third to a half of the input's gradient)."""
    present = [a for a in (weight, bias) if a is not None]

    def split(params):
        it = iter(params)
        return [next(it) if a is not None else None for a in (weight, bias)]

    @jax.custom_jvp
    def normalized(v, *params):
        g = v.reshape(grouped)
        (mean, rstd), _ = statistics(g)
        return _affine(((g - mean) * rstd).reshape(v.shape), *split(params), affine_shape)

    @normalized.defjvp
    def rule(primals, tangents):
        v, params, tv, tparams = primals[0], primals[1:], tangents[0], tangents[1:]
        g = v.reshape(grouped)
        _, (mean, rstd) = statistics(g)
        xhat = (g - mean) * rstd
        t = tv.reshape(grouped)
        t = rstd * (t - jnp.mean(t, axis=axes, keepdims=True)
                    - xhat * jnp.mean(t * xhat, axis=axes, keepdims=True))
        xhat, t = xhat.reshape(v.shape), t.reshape(v.shape)
        (w, _), (tw, tb) = split(params), split(tparams)
        if w is not None:
            t = t * w.reshape(affine_shape) + tw.reshape(affine_shape) * xhat
        if tb is not None:
            t = t + tb.reshape(affine_shape)
        return normalized(v, *params), t
    return normalized(x, *present)


def _moments(x, axes):
    """(mean, biased variance) of x over `axes`, kept as dims."""
    mean = jnp.mean(x, axis=axes, keepdims=True)
    return mean, jnp.mean(jnp.square(x - mean), axis=axes, keepdims=True)


def _exact_then_rounded(axes, eps, dtype):
    """Layer and group norm's statistics: the output from exact ones, the derivatives
    from them rounded to `dtype`, as PyTorch saves them."""
    def statistics(g):
        mean, var = _moments(g, axes)
        rstd = lax.rsqrt(var + eps)
        return (mean, rstd), (round_to(mean, dtype), round_to(rstd, dtype))
    return statistics


def _batch_statistics(x, axes, eps, dtype, params):
    """(mean, 1/std) over `axes` as PyTorch's CPU kernel normalizes with them, and the
    exact (mean, var) for the running statistics; x is in float32 where it was reduced.
    The kernel keeps its statistics in `dtype`, the input's, unless float parameters go
    with a reduced input (mixed): a float16 batch then normalizes with a rounded mean and
    a rounded 1/std, a bfloat16 one with 1/std of a rounded variance too (found against
    PyTorch's results: batch norm exactly, instance norm within a bfloat16 ulp)."""
    mean, var = _moments(x, axes)
    mixed = any(getattr(p, "dtype", dtype) != dtype for p in params)
    if x.dtype == dtype or mixed:
        return mean, lax.rsqrt(var + eps), mean, var
    spread = round_to(var, dtype) if dtype == jnp.bfloat16 else var
    return round_to(mean, dtype), round_to(lax.rsqrt(spread + eps), dtype), mean, var


def _unpack(optional, flags):
    """Split the variadic tail of an op into optional tensors by presence flags."""
    it = iter(optional)
    return [next(it) if f else None for f in flags]


@nn_op("batch_norm", "NativeBatchNormBackward0", saves=(0,))
def _batch_norm_op(x, *rest, training, has_running, has_weight, has_bias, eps):
    """Returns (out, new running mean, new running var) when running stats are tracked."""
    stats_dtypes = (rest[0].dtype, rest[1].dtype) if has_running else None
    params = [a for i, a in enumerate(rest) if not (has_running and i == 2)]
    x, rest, dtype = _in_float(x, rest)
    if has_running:
        rm, rv, momentum, *rest = rest
    weight, bias = _unpack(rest, (has_weight, has_bias))
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        used_mean, invstd, mean, var = _batch_statistics(x, axes, eps, dtype, params)
    else:
        used_mean, invstd = rm.reshape(shape), lax.rsqrt(rv.reshape(shape) + eps)
    if training and x.dtype != dtype:
        # (PyTorch's backward from the statistics its output used)
        def statistics(g):
            kept = _batch_statistics(g, axes, eps, dtype, params)[:2]
            return kept, kept
        y = _normalized_as_torch(x, weight, bias, x.shape, axes, shape,
                                 statistics).astype(dtype)
    else:
        y = _affine((x - used_mean) * invstd, weight, bias, shape).astype(dtype)
    if not has_running:
        return y
    if training:
        count = x.size // x.shape[1]
        unbiased = lax.stop_gradient(var).reshape(-1) * (count / max(count - 1, 1))
        mean = lax.stop_gradient(mean).reshape(-1)
        rm = rm * (1 - momentum) + mean * momentum
        rv = rv * (1 - momentum) + unbiased * momentum
    return y, rm.astype(stats_dtypes[0]), rv.astype(stats_dtypes[1])


def _check_batch(input, training):
    if training:
        count = input.shape[0] if input.dim() else 1
        for n in input.shape[2:]:
            count *= n
        if count == 1:
            raise ValueError("Expected more than 1 value per channel when training, got input "
                             f"size {input.shape}")


def _mixed(input, p):
    """p's dtype differs from the input's (float parameters may go with a half input)."""
    reduced = input.dtype in (dt.float16, dt.bfloat16)
    return p is not None and p.dtype is not input.dtype and not (reduced and p.dtype is dt.float32)


def check_mixed_dtypes(input, params, kernel=None):
    """PyTorch's CPU norm kernels: parameters share the input's dtype; an integer input
    has no `kernel`."""
    for p in params:
        if not _mixed(input, p):
            continue
        if p.dtype is dt.float32:
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
        if input.dtype is dt.float32:
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        raise RuntimeError(f"expected scalar type {scalar_name(input.dtype)} but found "
                           f"{scalar_name(p.dtype)}")
    if kernel is not None and not input.dtype.is_floating_point:
        raise not_implemented(kernel, input.dtype)


def _check_batch_params(input, running_mean, running_var, weight, bias, training):
    features = input.shape[1] if input.dim() > 1 else 0
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is None:
            if name.startswith("running") and not training:
                raise RuntimeError(f"{name} must be defined in evaluation mode")
        elif t.numel() != features:
            raise RuntimeError(f"{name} should contain {features} elements not {t.numel()}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be "
                         "None")
    wrap_dim(1, input.dim())
    check_mixed_dtypes(input, (running_mean, running_var, weight, bias), "batch_norm")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    _check_batch(input, training)
    if training:
        check_norm_statistics(input, (running_mean, running_var))
    _check_batch_params(input, running_mean, running_var, weight, bias, training)
    has_running = running_mean is not None and running_var is not None
    inputs = [input]
    if has_running:
        inputs += [running_mean, running_var, 0.0 if momentum is None else float(momentum)]
    inputs += [t for t in (weight, bias) if t is not None]
    out = call(_batch_norm_op, inputs, training=bool(training), has_running=has_running,
               has_weight=weight is not None, has_bias=bias is not None, eps=float(eps))
    if not has_running:
        return out
    out, new_mean, new_var = out
    if training:
        _set_statistic(running_mean, new_mean)
        _set_statistic(running_var, new_var)
    return out


def _set_statistic(running, new):
    """running.copy_(new) under no_grad. A whole buffer of new's dtype takes new's value
    itself, not a pending copy of it: the step's fused backward computes that value with
    the forward (engine._held_siblings), so the next step's batch_norm reads a computed
    buffer (a pending copy was the next backward's pending input, computed by a program
    of its own each step until that backward's larger program compiled)."""
    if running._whole and running.dtype is new.dtype and running.shape == new.shape:
        running._write(new._raw())
    else:
        with no_grad():
            running.copy_(new)


@nn_op("layer_norm", "NativeLayerNormBackward0", saves=(0,))
def _layer_norm_op(x, *rest, ndims, has_weight, has_bias, eps):
    x, rest, dtype = _in_float(x, rest)
    weight, bias = _unpack(rest, (has_weight, has_bias))
    axes = tuple(range(x.ndim - ndims, x.ndim))
    shape = x.shape[x.ndim - ndims:]
    if x.dtype != dtype:
        return _normalized_as_torch(x, weight, bias, x.shape, axes, shape,
                                    _exact_then_rounded(axes, eps, dtype)).astype(dtype)
    mean, var = _moments(x, axes)
    y = (x - mean) * lax.rsqrt(var + eps)
    return _affine(y, weight, bias, shape).astype(dtype)


def _normalized_shape(normalized_shape):
    if isinstance(normalized_shape, int):
        return (normalized_shape,)
    return tuple(int(s) for s in normalized_shape)


def _check_normalized(input, shape):
    if tuple(input.shape[input.dim() - len(shape):]) != shape or input.dim() < len(shape):
        expected = "[*, " + ", ".join(str(s) for s in shape) + "]"
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"{expected}, but got input of size{list(input.shape)}")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    shape = int_list(normalized_shape, "layer_norm", "normalized_shape", 2, single=False)
    # (every layer of every step passes here: its checks read only shapes and dtypes, so
    # a layer's arguments are checked once)
    _layer_norm_checked((shape, input.shape, input.dtype,
                         None if weight is None else (weight.shape, weight.dtype),
                         None if bias is None else (bias.shape, bias.dtype)),
                        input, shape, weight, bias)
    inputs = (input,) + tuple(t for t in (weight, bias) if t is not None)
    # call()'s parameters, already in its sorted order (skips sorting a dict per call)
    params = (("eps", float(eps)), ("has_bias", bias is not None),
              ("has_weight", weight is not None), ("ndims", len(shape)))
    return apply(_layer_norm_op, inputs, params)


def _check_layer_norm(input, shape, weight, bias):
    """layer_norm's shape and dtype errors, in PyTorch's order."""
    check_mixed_dtypes(input, (weight,))
    if _mixed(input, bias):
        raise RuntimeError(f"expected scalar type {scalar_name(input.dtype)} but found "
                           f"{scalar_name(bias.dtype)}")
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got "
                               f"{name} of shape {list(t.shape)} and normalized_shape = "
                               f"{list(shape)}")
    _check_normalized(input, shape)
    check_mixed_dtypes(input, (), "LayerNormKernelImpl")


_layer_norm_checked = CheckedOnce(_check_layer_norm)


@nn_op("group_norm", "NativeGroupNormBackward0", saves=(0,))
def _group_norm_op(x, *rest, groups, has_weight, has_bias, eps):
    x, rest, dtype = _in_float(x, rest)
    weight, bias = _unpack(rest, (has_weight, has_bias))
    n = x.shape[0]
    if x.dtype != dtype:
        return _normalized_as_torch(x, weight, bias, (n, groups, -1), (-1,),
                                    (1, -1) + (1,) * (x.ndim - 2),
                                    _exact_then_rounded((-1,), eps, dtype)).astype(dtype)
    g = x.reshape((n, groups, -1))
    mean, var = _moments(g, (-1,))
    y = ((g - mean) * lax.rsqrt(var + eps)).reshape(x.shape)
    return _affine(y, weight, bias, (1, -1) + (1,) * (x.ndim - 2)).astype(dtype)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    if input.dim() < 2:
        raise RuntimeError("Expected at least 2 dimensions for input tensor but received "
                           f"{input.dim()}")
    if input.shape[1] % num_groups != 0:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {list(input.shape)} and num_groups={num_groups}")
    inputs = [input] + [t for t in (weight, bias) if t is not None]
    return call(_group_norm_op, inputs, groups=int(num_groups), has_weight=weight is not None,
                has_bias=bias is not None, eps=float(eps))


@nn_op("instance_norm", "ViewBackward0", saves=(0,))
def _instance_norm_op(x, *rest, use_input_stats, has_running, has_weight, has_bias, eps):
    stats_dtypes = (rest[0].dtype, rest[1].dtype) if has_running else None
    params = [a for i, a in enumerate(rest) if not (has_running and i == 2)]
    x, rest, dtype = _in_float(x, rest)
    if has_running:
        rm, rv, momentum, *rest = rest
    weight, bias = _unpack(rest, (has_weight, has_bias))
    axes = tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if use_input_stats:
        used_mean, invstd, mean, var = _batch_statistics(x, axes, eps, dtype, params)
    else:
        used_mean, invstd = rm.reshape(shape), lax.rsqrt(rv.reshape(shape) + eps)
    y = _affine((x - used_mean) * invstd, weight, bias, shape).astype(dtype)
    if not has_running:
        return y
    if use_input_stats:
        # PyTorch runs batch norm over (1, N*C, ...) and averages the N updated copies
        count = 1
        for s in x.shape[2:]:
            count *= s
        batch_mean = jnp.mean(lax.stop_gradient(mean).reshape(x.shape[:2]), axis=0)
        unbiased = lax.stop_gradient(var).reshape(x.shape[:2]) * (count / max(count - 1, 1))
        rm = rm * (1 - momentum) + batch_mean * momentum
        rv = rv * (1 - momentum) + jnp.mean(unbiased, axis=0) * momentum
    return y, rm.astype(stats_dtypes[0]), rv.astype(stats_dtypes[1])


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    if use_input_stats:
        count = 1
        for s in input.shape[2:]:
            count *= s
        if count <= 1:
            raise ValueError("Expected more than 1 spatial element when training, got input "
                             f"size {input.shape}")
        check_norm_statistics(input, (running_mean, running_var))
    has_running = running_mean is not None and running_var is not None
    inputs = [input]
    if has_running:
        inputs += [running_mean, running_var, float(momentum)]
    inputs += [t for t in (weight, bias) if t is not None]
    out = call(_instance_norm_op, inputs, use_input_stats=bool(use_input_stats),
               has_running=has_running, has_weight=weight is not None,
               has_bias=bias is not None, eps=float(eps))
    if not has_running:
        return out
    out, new_mean, new_var = out
    if use_input_stats:
        with no_grad():
            running_mean.copy_(new_mean)
            running_var.copy_(new_var)
    return out


_rms_mismatch_warned = False


def _warn_rms_mismatch(input, weight):
    """PyTorch's warning, once per process (TORCH_WARN_ONCE: not once per message)."""
    global _rms_mismatch_warned
    _rms_mismatch_warned = True
    warnings.warn(f"Mismatch dtype between input and weight: input dtype = "
                  f"{c_type_name(input.dtype)}, weight dtype = {c_type_name(weight.dtype)}, "
                  "Cannot dispatch to fused implementation.", UserWarning, stacklevel=3)


@nn_op("rms_norm", "MulBackward0", saves=(0,))
def _rms_norm_op(x, *weight, ndims, eps):
    x, weight, dtype = _in_float(x, weight)
    axes = tuple(range(x.ndim - ndims, x.ndim))
    y = x * lax.rsqrt(jnp.mean(jnp.square(x), axis=axes, keepdims=True) + eps)
    return (y * weight[0] if weight else y).astype(dtype)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    shape = _normalized_shape(normalized_shape)
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    if weight is not None and tuple(weight.shape) != tuple(shape):
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got "
                           f"weight of shape {list(weight.shape)} and normalized_shape = "
                           f"{list(shape)}")
    _check_normalized(input, shape)
    if weight is not None and weight.dtype != input.dtype and not _rms_mismatch_warned:
        _warn_rms_mismatch(input, weight)
    if eps is None:     # (the machine epsilon of the dtype it computes in: float32 for a
        #                     reduced input, as PyTorch's)
        eps = float(jnp.finfo(jnp.promote_types(input.dtype.np, jnp.float32)).eps)
    inputs = [input] if weight is None else [input, weight]
    return call(_rms_norm_op, inputs, ndims=len(shape), eps=float(eps))
