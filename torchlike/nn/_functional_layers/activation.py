"""Activations, softmax, dropout, linear, embedding and pad that the nn modules need.

torchlike.nn.functional owns the public versions of these; the modules use the public
one when it exists (see modules/_functional.py) and these private ones otherwise. Each
is one op with PyTorch's grad_fn name; kinks use `where` so that the gradient at a
boundary is the one PyTorch's backward formula gives (jnp.clip would split it).
"""
import math
import warnings

import jax
import jax.numpy as jnp
from jax import lax

from ... import _factories
from ..._ops.linalg import accumulated_matmul
from ._common import HIGHEST, call, nn_op


# -- pointwise activations ----------------------------------------------------------------
def _relu_impl(x):
    return jnp.where(x > 0, x, jnp.zeros_like(x))


def _hardtanh_impl(x, *, lo, hi):
    inside = (x > lo) & (x < hi)
    return jnp.where(inside, x, jnp.where(x <= lo, jnp.asarray(lo, x.dtype),
                                          jnp.asarray(hi, x.dtype)))


def _gelu_impl(x, *, approximate):
    if approximate == "tanh":
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1.0 + jnp.tanh(inner))
    return 0.5 * x * (1.0 + jax.scipy.special.erf(x * (1.0 / math.sqrt(2.0))))


def _silu_impl(x):
    return x * jax.nn.sigmoid(x)


def _leaky_relu_impl(x, *, slope):
    return jnp.where(x > 0, x, x * slope)


def _elu_impl(x, *, alpha, scale, input_scale):
    return jnp.where(x > 0, x * scale, jnp.expm1(x * input_scale) * (alpha * scale))


def _celu_impl(x, *, alpha):
    return jnp.where(x > 0, x, jnp.expm1(x / alpha) * alpha)


def _softplus_impl(x, *, beta, threshold):
    return jnp.where(x * beta > threshold, x, jnp.log1p(jnp.exp(x * beta)) / beta)


def _mish_impl(x):
    return x * jnp.tanh(jax.nn.softplus(x))


def _hardswish_impl(x):
    return jnp.where(x <= -3, jnp.zeros_like(x), jnp.where(x < 3, x * (x + 3) / 6, x))


def _hardsigmoid_impl(x):
    inside = (x > -3) & (x < 3)
    return jnp.where(inside, x / 6 + 0.5, jnp.where(x >= 3, jnp.ones_like(x),
                                                     jnp.zeros_like(x)))


def _threshold_impl(x, *, threshold, value):
    return jnp.where(x > threshold, x, jnp.asarray(value, x.dtype))


def _hardshrink_impl(x, *, lambd):
    return jnp.where((x > lambd) | (x < -lambd), x, jnp.zeros_like(x))


def _softshrink_impl(x, *, lambd):
    return jnp.where(x > lambd, x - lambd, jnp.where(x < -lambd, x + lambd, jnp.zeros_like(x)))


def _logsigmoid_impl(x):
    return jax.nn.log_sigmoid(x)


def _softsign_impl(x):
    return x / (1 + jnp.abs(x))


def _tanhshrink_impl(x):
    return x - jnp.tanh(x)


_RELU = nn_op("relu", "ReluBackward0", saves=("result",))(_relu_impl)
_HARDTANH = nn_op("hardtanh", "HardtanhBackward0", saves=(0,))(_hardtanh_impl)
_GELU = nn_op("gelu", "GeluBackward0", saves=(0,))(_gelu_impl)
_SILU = nn_op("silu", "SiluBackward0", saves=(0,))(_silu_impl)
_LEAKY = nn_op("leaky_relu", "LeakyReluBackward0", saves=(0,))(_leaky_relu_impl)
_ELU = nn_op("elu", "EluBackward0", saves=("result",))(_elu_impl)
_CELU = nn_op("celu", "CeluBackward0", saves=("result",))(_celu_impl)
_SOFTPLUS = nn_op("softplus", "SoftplusBackward0", saves=(0,))(_softplus_impl)
_MISH = nn_op("mish", "MishBackward0", saves=(0,))(_mish_impl)
_HARDSWISH = nn_op("hardswish", "HardswishBackward0", saves=(0,))(_hardswish_impl)
_HARDSIGMOID = nn_op("hardsigmoid", "HardsigmoidBackward0", saves=(0,))(_hardsigmoid_impl)
_THRESHOLD = nn_op("threshold", "ThresholdBackward0", saves=(0,))(_threshold_impl)
_HARDSHRINK = nn_op("hardshrink", "HardshrinkBackward0", saves=(0,))(_hardshrink_impl)
_SOFTSHRINK = nn_op("softshrink", "SoftshrinkBackward0", saves=(0,))(_softshrink_impl)
_LOGSIGMOID = nn_op("logsigmoid", "LogSigmoidBackward0", saves=(0,))(_logsigmoid_impl)
_SOFTSIGN = nn_op("softsign", "DivBackward0", saves=(0,))(_softsign_impl)
_TANHSHRINK = nn_op("tanhshrink", "SubBackward0", saves=(0,))(_tanhshrink_impl)

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _maybe_inplace(input, out, inplace):
    if inplace:
        input._check_inplace()
        return input._assign_result(out)
    return out


def _relu(input, inplace=False):
    return _maybe_inplace(input, call(_RELU, (input,)), inplace)


def _relu6(input, inplace=False):
    return _hardtanh(input, 0.0, 6.0, inplace)


def _hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    return _maybe_inplace(input, call(_HARDTANH, (input,), lo=float(min_val), hi=float(max_val)),
                          inplace)


def _gelu(input, approximate="none"):
    return call(_GELU, (input,), approximate=approximate)


def _silu(input, inplace=False):
    return _maybe_inplace(input, call(_SILU, (input,)), inplace)


def _leaky_relu(input, negative_slope=0.01, inplace=False):
    return _maybe_inplace(input, call(_LEAKY, (input,), slope=float(negative_slope)), inplace)


def _elu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(input, call(_ELU, (input,), alpha=float(alpha), scale=1.0,
                                      input_scale=1.0), inplace)


def _selu(input, inplace=False):
    return _maybe_inplace(input, call(_ELU, (input,), alpha=_SELU_ALPHA, scale=_SELU_SCALE,
                                      input_scale=1.0), inplace)


def _celu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(input, call(_CELU, (input,), alpha=float(alpha)), inplace)


def _softplus(input, beta=1.0, threshold=20.0):
    return call(_SOFTPLUS, (input,), beta=float(beta), threshold=float(threshold))


def _mish(input, inplace=False):
    return _maybe_inplace(input, call(_MISH, (input,)), inplace)


def _hardswish(input, inplace=False):
    return _maybe_inplace(input, call(_HARDSWISH, (input,)), inplace)


def _hardsigmoid(input, inplace=False):
    return _maybe_inplace(input, call(_HARDSIGMOID, (input,)), inplace)


def _threshold(input, threshold, value, inplace=False):
    return _maybe_inplace(input, call(_THRESHOLD, (input,), threshold=float(threshold),
                                      value=float(value)), inplace)


def _hardshrink(input, lambd=0.5):
    return call(_HARDSHRINK, (input,), lambd=float(lambd))


def _softshrink(input, lambd=0.5):
    return call(_SOFTSHRINK, (input,), lambd=float(lambd))


def _logsigmoid(input):
    return call(_LOGSIGMOID, (input,))


def _softsign(input):
    return call(_SOFTSIGN, (input,))


def _tanhshrink(input):
    return call(_TANHSHRINK, (input,))


def _tanh(input):
    return input.tanh()


def _sigmoid(input):
    return input.sigmoid()


@nn_op("prelu", "PreluKernelBackward0", saves=(0, 1))
def _prelu_op(x, w):
    shape = (1, -1) + (1,) * (x.ndim - 2) if (x.ndim >= 2 and w.size > 1) else w.shape
    return jnp.where(x > 0, x, x * w.reshape(shape))


def _prelu(input, weight):
    return call(_prelu_op, (input, weight))


@nn_op("glu", "GluBackward0", saves=(0,))
def _glu_op(x, *, dim):
    a, b = jnp.split(x, 2, axis=dim)
    return a * jax.nn.sigmoid(b)


def _glu(input, dim=-1):
    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension "
                           f"{dim % input.dim()} is size {input.shape[dim]}")
    return call(_glu_op, (input,), dim=dim % input.dim())


# -- dropout ------------------------------------------------------------------------------
@nn_op("dropout", "MulBackward0", saves=(1,))
def _dropout_op(x, u, *, p):
    keep = (u >= p).astype(x.dtype)
    return x * (keep * jnp.asarray(1.0 / (1.0 - p) if p < 1 else 0.0, x.dtype))


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_with_noise(input, p, training, inplace, noise_shape):
    _check_p(p)
    if not training or p == 0.0:
        return input
    u = _factories.rand(noise_shape, dtype=input.dtype, device=input.device)
    return _maybe_inplace(input, call(_dropout_op, (input, u), p=float(p)), inplace)


def _dropout(input, p=0.5, training=True, inplace=False):
    return _dropout_with_noise(input, p, training, inplace, tuple(input.shape))


def _feature_dropout(input, p, training, inplace, batched_ndim):
    """Dropout of whole channels: the noise is shared across the spatial dims."""
    batched = input.dim() == batched_ndim
    lead = 2 if batched else 1
    shape = tuple(input.shape[:lead]) + (1,) * (input.dim() - lead)
    return _dropout_with_noise(input, p, training, inplace, shape)


def _dropout1d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 3)


def _dropout2d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 4)


def _dropout3d(input, p=0.5, training=True, inplace=False):
    return _feature_dropout(input, p, training, inplace, 5)


# -- linear -------------------------------------------------------------------------------
@nn_op("linear", saves=(0, 1))
def _linear_op(x, w, *bias):
    # float16/bfloat16: the product and the bias added in float32, rounded once (PyTorch's)
    y = accumulated_matmul(x, w.T, precision=HIGHEST)
    return (y + bias[0].astype(y.dtype) if bias else y).astype(jnp.result_type(x, w, *bias))


def _linear_grad_fn(input, has_bias):
    """The node PyTorch's linear ends with, which depends on rank and contiguity."""
    if input.dim() == 1:
        return "ViewBackward0" if has_bias else "SqueezeBackward4"
    if input.dim() == 2:
        return "AddmmBackward0" if has_bias else "MmBackward0"
    if not has_bias:
        return "UnsafeViewBackward0"
    return "ViewBackward0" if input.is_contiguous() else "AddBackward0"


def _linear(input, weight, bias=None):
    if input.shape[-1] != weight.shape[-1]:
        rows = input.numel() // max(input.shape[-1], 1) if input.dim() > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x"
                           f"{input.shape[-1]} and {weight.shape[1]}x{weight.shape[0]})")
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return call(_linear_op, inputs, _linear_grad_fn(input, bias is not None))


@nn_op("bilinear", saves=(0, 1, 2))
def _bilinear_op(x1, x2, w, *bias):
    y = jnp.einsum("...i,oij,...j->...o", x1, w, x2, precision=HIGHEST)
    return y + bias[0] if bias else y


def _bilinear(input1, input2, weight, bias=None):
    inputs = (input1, input2, weight) if bias is None else (input1, input2, weight, bias)
    grad_fn = "AddBackward0" if bias is not None else "ViewBackward0"
    return call(_bilinear_op, inputs, grad_fn)


# -- embedding ----------------------------------------------------------------------------
@nn_op("embedding", "EmbeddingBackward0", saves=(0,))
def _embedding_op(idx, w, *, padding_idx, scale_grad_by_freq):
    rows = jnp.take(w, idx, axis=0)
    if padding_idx is not None:
        # the padding row is looked up but receives no gradient
        frozen = jnp.take(lax.stop_gradient(w), idx, axis=0)
        rows = jnp.where((idx == padding_idx)[..., None], frozen, rows)
    if scale_grad_by_freq:
        counts = jnp.zeros(w.shape[0], w.dtype).at[idx.reshape(-1)].add(1)
        scale = (1.0 / jnp.take(counts, idx))[..., None]
        rows = rows * scale + lax.stop_gradient(rows * (1 - scale))
    return rows


def _embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
               scale_grad_by_freq=False, sparse=False):
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += weight.shape[0]
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    return call(_embedding_op, (input, weight), padding_idx=padding_idx,
                scale_grad_by_freq=bool(scale_grad_by_freq))


def _renorm_rows(weight, input, max_norm, norm_type):
    """Rows looked up by `input` whose norm exceeds max_norm are rescaled in place."""
    from ...autograd.grad_mode import no_grad
    with no_grad():
        rows = input.reshape(-1)      # repeated rows get the same value written twice
        selected = weight.index_select(0, rows)
        norms = selected.abs().pow(norm_type).sum(1, keepdim=True).pow(1.0 / norm_type)
        scale = (max_norm / (norms + 1e-7)).clamp(max=1.0)
        weight.index_put_((rows,), selected * scale)


# -- pad ----------------------------------------------------------------------------------
_JNP_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@nn_op("pad")
def _pad_op(x, *, widths, mode, value):
    if mode == "constant":
        return jnp.pad(x, widths, constant_values=jnp.asarray(value, x.dtype))
    return jnp.pad(x, widths, mode=_JNP_PAD_MODE[mode])


def _pad(input, pad, mode="constant", value=None):
    """PyTorch's pad list runs from the last dim backwards: (left, right, top, bottom...)."""
    pairs = [(int(pad[i]), int(pad[i + 1])) for i in range(0, len(pad), 2)]
    widths = [(0, 0)] * (input.dim() - len(pairs)) + pairs[::-1]
    grad_fn = {"constant": "ConstantPadNdBackward0"}.get(
        mode, f"{mode.capitalize()}Pad{len(pairs)}DBackward0")
    if mode == "reflect":
        grad_fn = f"ReflectionPad{len(pairs)}DBackward0"
    elif mode == "replicate":
        grad_fn = f"ReplicationPad{len(pairs)}DBackward0"
    elif mode == "circular":
        grad_fn = "torch::autograd::CopySlices"
    return call(_pad_op, (input,), grad_fn, widths=tuple(widths), mode=mode,
                value=0.0 if value is None else float(value))
