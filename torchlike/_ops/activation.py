"""Activations, softmax, dropout and the other nn.functional math, as ops. The public
functions live in torchlike/nn/functional.py; the ones PyTorch also has as torch.<name>
or Tensor.<name> (selu, celu, threshold, softmax, hardshrink ...) are exposed here.

Each derivative at a kink is PyTorch's (hardtanh: 0 at the bounds, leaky_relu: the
slope at 0, hardswish: its one-sided formula ...), written into the impl with `where`
or a custom JVP so that jax.vjp reproduces it.
"""
import builtins
import functools

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype as dt
from .._tensor import Tensor
from ._common import (REDUCED_FLOATS, expose, in_float32, inplace_method, is_float,
                      not_implemented, round_to, with_jvp)
from .dispatch import apply
from .registry import FUNCTIONS, Op, OPS
from ._util import check_can_cast, indices_out_of_range, wrap_dim

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _hardswish_values(x):
    return x * jnp.clip(x + 3, 0, 6) / 6


# -- the table: name -> (impl(x, **params), grad_fn, saves) -----------------------------------
def _hardtanh(x, lo, hi):
    # the gradient passes strictly inside (lo, hi) only, as PyTorch's
    inside = (x > lo) & (x < hi) | jnp.isnan(x)
    return jnp.where(inside, x, jnp.where(x <= lo, lo, hi).astype(x.dtype))


_IMPLS = {
    "hardtanh": (_hardtanh, "HardtanhBackward0", (0,)),
    "leaky_relu": (lambda x, slope: jnp.where(x > 0, x, x * slope), "LeakyReluBackward0", (0,)),
    "elu": (lambda x, alpha, scale, input_scale:
            jnp.where(x > 0, scale * x, scale * alpha * jnp.expm1(x * input_scale)),
            "EluBackward0", ("result",)),
    "celu": (lambda x, alpha: jnp.where(x > 0, x, alpha * jnp.expm1(x / alpha)),
             "CeluBackward0", ("result",)),
    "gelu": (lambda x, approximate: jax.nn.gelu(x, approximate=approximate == "tanh"),
             "GeluBackward0", (0,)),
    "silu": (lambda x: x * jax.nn.sigmoid(x), "SiluBackward0", (0,)),
    "mish": (lambda x: x * jnp.tanh(jax.nn.softplus(x)), "MishBackward0", (0,)),
    "softplus": (lambda x, beta, threshold:
                 jnp.where(x * beta > threshold, x, jax.nn.softplus(x * beta) / beta),
                 "SoftplusBackward0", (0,)),
    "softsign": (lambda x: x / (1 + jnp.abs(x)), "DivBackward0", (0,)),
    # PyTorch's backward multiplies by 1/6 rounded to float32 (1.0f / 6.0f), in every dtype
    "hardsigmoid": (with_jvp(lambda x: jnp.where(x <= -3, 0, jnp.where(x >= 3, 1, x / 6 + 0.5))
                             .astype(x.dtype),
                             lambda x, out: jnp.where((x > -3) & (x < 3), float(np.float32(1 / 6)),
                                                      0).astype(x.dtype)),
                    "HardsigmoidBackward0", (0,)),
    # PyTorch: d/dx = 0 up to -3, x/3 + 1/2 inside (-3, 3), 1 from 3 on
    "hardswish": (with_jvp(_hardswish_values,
                           lambda x, out: jnp.where(x <= -3, 0, jnp.where(x < 3, x / 3 + 0.5, 1))
                           .astype(x.dtype)), "HardswishBackward0", (0,)),
    "logsigmoid": (lambda x: -jax.nn.softplus(-x), "LogSigmoidBackward0", (0,)),
    "tanhshrink": (lambda x: x - jnp.tanh(x), "SubBackward0", (0,)),
    "softshrink": (lambda x, lambd: jnp.where(x > lambd, x - lambd, jnp.where(x < -lambd, x + lambd, 0))
                   .astype(x.dtype), "SoftshrinkBackward0", (0,)),
    "hardshrink": (lambda x, lambd: jnp.where((x > lambd) | (x < -lambd), x, 0).astype(x.dtype),
                   "HardshrinkBackward0", (0,)),
    "threshold": (lambda x, threshold, value: jnp.where(x > threshold, x, value).astype(x.dtype),
                  "ThresholdBackward0", (0,)),
    "rrelu_eval": (lambda x, slope: jnp.where(x > 0, x, x * slope), "RreluWithNoiseBackward0", (0,)),
}
ACT = {}
for _name, (_fn, _grad_fn, _saves) in _IMPLS.items():
    # (a float16/bfloat16 input computes in float32, rounded once, as PyTorch's kernels)
    ACT[_name] = OPS["act_" + _name] = Op("act_" + _name, in_float32(_fn), _grad_fn, _saves)


# PyTorch's kernel names, for the dtypes they lack: floating only, or no bool
_FLOAT_KERNELS = {"leaky_relu": "leaky_relu_cpu", "elu": "elu_cpu", "celu": "elu_cpu",
                  "gelu": "GeluKernelImpl", "silu": "silu_cpu", "mish": "mish_cpu",
                  "softplus": "softplus_cpu", "hardsigmoid": "hardsigmoid_cpu",
                  "hardswish": "hardswish_cpu", "logsigmoid": "log_sigmoid_cpu",
                  "softshrink": "softshrink_check", "hardshrink": "hardshrink_cpu",
                  "rrelu_eval": "leaky_relu_cpu"}
_BOOL_ERRORS = {
    "hardtanh": RuntimeError("Bool inputs not supported for hardtanh"),
    "threshold": not_implemented("threshold_cpu", dt.bool),
    "softsign": not_implemented("abs_cpu", dt.bool),
    "tanhshrink": RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                               "supported. If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead."),
}


def check_dtype(name, input):
    kernel = _FLOAT_KERNELS.get(name)
    if kernel is not None and not is_float(input._dtype):
        raise not_implemented(kernel, input._dtype)
    if input._dtype is dt.bool and name in _BOOL_ERRORS:
        error = _BOOL_ERRORS[name]
        raise type(error)(*error.args)


def act(name, input, grad_fn=None, **params):
    """Apply activation `name` (PyTorch's kernels take floats only, most of them)."""
    check_dtype(name, input)
    if name in ("softsign", "tanhshrink") and not is_float(input._dtype):
        input = input.to(dt.get_default_dtype())      # composite ops: integers promote
    return apply(ACT[name], (input,), tuple(sorted(params.items())), grad_fn)


def maybe_inplace(input, compute, inplace, grad_fn=None):
    """Activations with inplace=True write into the input (their node may be renamed,
    e.g. LeakyReluBackward1)."""
    if inplace:
        return inplace_method(lambda x: compute(x), grad_fn)(input)
    return compute(input)


# -- torch.* and Tensor.* spellings --------------------------------------------------------------
def selu(input):
    return act("elu", input, alpha=SELU_ALPHA, scale=SELU_SCALE, input_scale=1.0)


def celu(input, alpha=1.0):
    return act("celu", input, alpha=float(alpha))


def threshold(input, threshold, value):
    return act("threshold", input, threshold=float(threshold), value=float(value))


def hardshrink(input, lambd=0.5):
    return act("hardshrink", input, lambd=float(lambd))


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    check_dtype("rrelu_eval", input)
    if not training:
        return act("rrelu_eval", input, slope=(lower + upper) / 2)
    from .. import _random
    slopes = _random.sample("uniform", tuple(input.shape), input._dtype, lower, upper, generator,
                            input.device)
    return apply(_rrelu_op, (input, Tensor._wrap(slopes, input.device)))


OPS["rrelu"] = _rrelu_op = Op("rrelu", lambda x, s: jnp.where(x > 0, x, x * s),
                              "RreluWithNoiseBackward0", (0, 1))

expose("selu", selu, method=False, inplace=False, out=False)
expose("celu", celu, method=False, inplace=False, out=False)
expose("threshold", threshold, method=False, inplace=False)
expose("hardshrink", hardshrink, inplace=False)
expose("rrelu", rrelu, method=False, inplace=False, out=False)
FUNCTIONS["selu_"] = inplace_method(selu, "EluBackward1")
FUNCTIONS["celu_"] = inplace_method(celu, "CeluBackward1")
FUNCTIONS["threshold_"] = inplace_method(threshold, "ThresholdBackward1")
FUNCTIONS["rrelu_"] = inplace_method(rrelu, "RreluWithNoiseBackward1")


def _prelu_impl(x, w):
    shape = (1, -1) + (1,) * (x.ndim - 2) if (x.ndim >= 2 and w.size > 1) else w.shape
    return jnp.where(x > 0, x, x * w.reshape(shape))


OPS["prelu"] = _prelu_op = Op("prelu", _prelu_impl, "PreluKernelBackward0", (0, 1))


def prelu(input, weight):
    if not is_float(input._dtype):
        raise not_implemented("prelu_cpu", input._dtype)
    if input.ndim == 0:
        raise RuntimeError("Not allow zero-dim input tensor.")
    if weight.ndim > 1:
        raise RuntimeError("prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() != 1 and weight.numel() != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {weight.numel()} and channel size = {channels}.")
    return apply(_prelu_op, (input, weight))


expose("prelu", prelu, inplace=False, out=False)


# -- softmax family --------------------------------------------------------------------------------
def _softmax_impl(x, *, dim, dtype, log, negate):
    x = x.astype(dtype)
    if negate:
        x = -x
    if x.ndim == 0:
        return jnp.zeros_like(x) if log else jnp.ones_like(x)
    if x.dtype in REDUCED_FLOATS:
        return _reduced_softmax(dim, log)(x)
    # (an empty integer input keeps its dtype, as PyTorch's)
    return (jax.nn.log_softmax if log else jax.nn.softmax)(x, axis=dim).astype(x.dtype)


@functools.lru_cache(maxsize=64)
def _reduced_softmax(dim, log):
    """softmax or log_softmax of a float16/bfloat16 array along `dim` as PyTorch's CPU
    kernels compute it: in float32, rounded once, except that log_softmax along the last
    dim keeps the sum of exponentials and its log in the reduced dtype; and the
    backward from the rounded result y, in float32 and rounded once: y * (g - sum(g * y))
    and g - exp(y) * sum(g) (all found against its results)."""
    f32 = jnp.float32

    @jax.custom_jvp
    def rounded(x):
        wide = x.astype(f32)
        if log and dim == x.ndim - 1:
            shifted = wide - jax.lax.stop_gradient(wide.max(axis=dim, keepdims=True))
            total = round_to(jnp.exp(shifted).sum(axis=dim, keepdims=True), x.dtype)
            return (shifted - round_to(jnp.log(total), x.dtype)).astype(x.dtype)
        return (jax.nn.log_softmax if log else jax.nn.softmax)(wide, axis=dim).astype(x.dtype)

    @rounded.defjvp
    def rule(primals, tangents):
        y = rounded(primals[0])
        w, t = y.astype(f32), tangents[0].astype(f32)
        if log:
            out = t - (jnp.exp(w) * t).sum(axis=dim, keepdims=True)
        else:
            out = w * (t - (w * t).sum(axis=dim, keepdims=True))
        return y, out.astype(y.dtype)
    return rounded


OPS["softmax"] = _softmax_op = Op("softmax", _softmax_impl, "SoftmaxBackward0", ("result",))


def softmax_like(input, dim, dtype, *, log=False, negate=False):
    d = wrap_dim(dim, input.ndim)
    if dtype is not None:
        input = input.to(dtype)
    if not is_float(input._dtype) and input.numel():
        kernel = "_lastdim_kernel_impl" if d == builtins.max(input.ndim - 1, 0) else "_kernel_impl"
        raise not_implemented(("log_softmax" if log else "softmax") + kernel, input._dtype)
    return apply(_softmax_op, (input,), (("dim", d), ("dtype", input._dtype.np), ("log", log),
                                         ("negate", negate)),
                 "LogSoftmaxBackward0" if log else "SoftmaxBackward0")


def softmax(input, dim, dtype=None):
    return softmax_like(input, dim, dtype)


def log_softmax(input, dim, dtype=None):
    return softmax_like(input, dim, dtype, log=True)


expose("softmax", softmax, inplace=False)
expose("log_softmax", log_softmax, inplace=False)


# -- dropout -----------------------------------------------------------------------------------------
def _dropout_impl(x, mask, *, scale, alpha):
    if alpha is None:
        return x * (mask * scale).astype(x.dtype)
    a, b = alpha
    return (x * mask + (1 - mask) * _ALPHA_PRIME) * a + b


_ALPHA_PRIME = -SELU_ALPHA * SELU_SCALE
OPS["dropout"] = _dropout_op = Op("dropout", _dropout_impl, "MulBackward0", (1,))


def dropout_like(input, p, training, *, keep_dims=None, alpha=False, generator=None):
    """Bernoulli(1 - p) mask, scaled by 1/(1-p): per element, or per channel when
    keep_dims (the leading dims the mask spans) is given; alpha: keep SELU's mean and
    variance (alpha_dropout)."""
    if p < 0 or p > 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if p < 1 and not is_float(input._dtype):      # input * a float mask, in place
        check_can_cast(dt.get_default_dtype(), input._dtype)
    if alpha and p == 1:              # PyTorch: input * 0
        from .pointwise import mul
        return mul(input, 0)
    from .random_ops import sample_pending      # (random_ops is registered after this module)
    shape = tuple(input.shape)
    if keep_dims is not None:
        shape = shape[:keep_dims] + (1,) * (input.ndim - keep_dims)
    keep_prob = 1.0 - p
    mask = sample_pending("bernoulli", shape, input._dtype, keep_prob, 0.0, generator,
                          input.device)
    mask = Tensor._wrap(mask, input.device)
    if alpha:
        a = (keep_prob * (1 + p * _ALPHA_PRIME ** 2)) ** -0.5 if keep_prob > 0 else 0.0
        b = -a * _ALPHA_PRIME * p
        return apply(_dropout_op, (input, mask), (("scale", 1.0), ("alpha", (a, b))), "AddBackward0")
    scale = 1.0 / keep_prob if keep_prob > 0 else 0.0
    return apply(_dropout_op, (input, mask), (("scale", scale), ("alpha", None)))


def _check_p(p):
    # torch.dropout raises RuntimeError; F.dropout's own Python check raises ValueError
    if p < 0 or p > 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p, train):
    _check_p(p)
    return dropout_like(input, p, train)


def alpha_dropout(input, p, train):
    _check_p(p)
    return dropout_like(input, p, train, alpha=True)


def feature_dropout(input, p, train):
    _check_p(p)
    return dropout_like(input, p, train, keep_dims=2)


def feature_alpha_dropout(input, p, train):
    _check_p(p)
    return dropout_like(input, p, train, keep_dims=2, alpha=True)


for _name, _fn in [("dropout", dropout), ("alpha_dropout", alpha_dropout),
                   ("feature_dropout", feature_dropout),
                   ("feature_alpha_dropout", feature_alpha_dropout)]:
    FUNCTIONS[_name] = _fn
    FUNCTIONS[_name + "_"] = inplace_method(_fn)


# -- embedding, distances ---------------------------------------------------------------------
def _embedding_impl(weight, indices, *, padding_idx):
    out = jnp.take(weight, indices, axis=0)
    if padding_idx is None:
        return out
    # the padding row gets no gradient (PyTorch's embedding_backward)
    pad = (indices == padding_idx)[..., None]
    return jnp.where(pad, jax.lax.stop_gradient(out), out)


OPS["embedding"] = _embedding_op = Op("embedding", _embedding_impl, "EmbeddingBackward0", (1,))


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """torch.embedding(weight, indices): note the order."""
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    if indices._dtype not in (dt.int64, dt.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following "
                           f"scalar types: Long, Int; but got torch.{_legacy(indices)} instead "
                           "(while checking arguments for embedding)")
    if indices_out_of_range(indices, 0, weight.shape[0]) is not None:
        raise IndexError("index out of range in self")
    pad = None if padding_idx is None or padding_idx < 0 else padding_idx
    return apply(_embedding_op, (weight, indices), (("padding_idx", pad),))


def _legacy(t):
    from .._tensor import legacy_type_name
    return legacy_type_name(t).replace("torch.", "")


FUNCTIONS["embedding"] = embedding


def _pairwise_impl(x, *, p, keepdim):
    from .decomp import _vnorm
    return _vnorm(x, p, -1 if x.ndim else None, keepdim)


OPS["pairwise_norm"] = _pairwise_op = Op("pairwise_norm", _pairwise_impl, "NormBackward1", (0, "result"))


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """norm(x1 - x2 + eps, p, -1), as PyTorch composes it (a NormBackward1 node)."""
    from .pointwise import add, sub
    diff = add(sub(x1, x2), eps)
    if diff.ndim == 0:
        return apply(_pairwise_op, (diff,), (("p", float(p)), ("keepdim", False)))
    return apply(_pairwise_op, (diff,), (("p", float(p)), ("keepdim", keepdim)))


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps), dim), as PyTorch composes it."""
    from .decomp import vector_norm
    from .pointwise import mul, true_divide, clamp_min
    from .reduce import sum
    from .shape import broadcast_tensors
    x1, x2 = broadcast_tensors(x1, x2)
    d = wrap_dim(dim, x1.ndim)
    n1 = clamp_min(vector_norm(x1, 2, d, True), eps)
    n2 = clamp_min(vector_norm(x2, 2, d, True), eps)
    return sum(mul(true_divide(x1, n1), true_divide(x2, n2)), d)


def _pdist_impl(x, *, p):
    from .decomp import _vnorm
    import numpy as np
    rows, cols = np.triu_indices(x.shape[0], 1)
    return _vnorm(x[rows] - x[cols], p, -1, False)


OPS["pdist"] = _pdist_op = Op("pdist", _pdist_impl, "PdistBackward0", (0, "result"))


def pdist(input, p=2):
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    return apply(_pdist_op, (input,), (("p", float(p)),))


FUNCTIONS["pairwise_distance"] = pairwise_distance
FUNCTIONS["cosine_similarity"] = cosine_similarity


def bilinear(input1, input2, weight, bias=None):
    """x1^T W x2 + b, one einsum and an add (AddBackward0 with a bias)."""
    from .linalg import einsum
    from .pointwise import add
    _check_bilinear(input1, input2, weight, bias)
    out = einsum("...i,oij,...j->...o", input1, weight, input2)
    return add(out, bias) if bias is not None else out


def _check_bilinear(input1, input2, weight, bias):
    if input1.ndim != input2.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.ndim} and "
                           f"{input2.ndim}")
    for i in range(input1.ndim - 1):
        if input1.shape[i] != input2.shape[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: got "
                               f"{input1.shape[i]} and {input2.shape[i]}")
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional, got {weight.ndim}")
    for k, t in ((1, input1), (2, input2)):
        if t.shape[-1] != weight.shape[k]:
            raise RuntimeError(f"bilinear(): input{k} size does not match weight size: got "
                               f"{t.shape[-1]} but expected {weight.shape[k]}")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != weight.shape[0]):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                           f"{bias.shape[-1] if bias.ndim else 1} but expected {weight.shape[0]}")


FUNCTIONS["bilinear"] = bilinear
FUNCTIONS["pdist"] = pdist
