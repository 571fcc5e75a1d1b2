"""torchlike.nn.functional.

Activation/softmax/dropout/pad/embedding math (the op library) is defined here; the
layer functionals that nn modules need (conv, pooling, normalisation, losses,
attention) live in _functional_layers.py and are re-exported at the bottom.
"""
import warnings

import jax.numpy as jnp
from jax import lax

from .. import _dtype as dt
from .. import _jax_bridge as _bridge
from .._ops import activation as _act
from .._ops._common import inplace_method as _inplace_method
from .._ops.activation import (SELU_ALPHA as _SELU_ALPHA, SELU_SCALE as _SELU_SCALE, act as _apply,
                               bilinear, cosine_similarity, pairwise_distance, pdist, prelu)
from .._ops.dispatch import apply as _run
from .._ops.linalg import accumulated_matmul
from .._ops.registry import Op as _Op, OPS as _OPS
from ..overrides import (handle_torch_function, has_torch_function,  # noqa: F401 (as torch)
                         has_torch_function_unary, has_torch_function_variadic)
from .._ops.unary import UNARY as _UNARY
from .._ops._util import (c_type_name as _c_type_name, check_expand as _check_expand,
                          scalar_name as _scalar_name, wrap_dim as _wrap_dim)
from .._tensor import Tensor as _Tensor
from ._functional_layers._common import CheckedOnce as _CheckedOnce
from ._functional_layers.linear_graph import recorded_linear as _recorded_linear
from ..autograd import grad_mode as _grad_mode


def _maybe_inplace(compute, input, inplace, grad_fn=None):
    """inplace=True writes into the input; PyTorch's in-place node can have another name."""
    if inplace:
        return _inplace_method(compute, grad_fn)(input)
    return compute(input)


# -- activations ------------------------------------------------------------------------------------
def relu(input, inplace=False):
    return _maybe_inplace(_UNARY["relu"], input, inplace)


def relu_(input):
    return relu(input, inplace=True)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _maybe_inplace(lambda x: _apply("hardtanh", x, lo=float(min_val), hi=float(max_val)),
                          input, inplace)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _maybe_inplace(lambda x: _apply("leaky_relu", x, slope=float(negative_slope)), input,
                          inplace, "LeakyReluBackward1")


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(lambda x: _apply("elu", x, alpha=float(alpha), scale=1.0,
                                           input_scale=1.0), input, inplace, "EluBackward1")


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def selu(input, inplace=False):
    return _maybe_inplace(lambda x: _apply("elu", x, alpha=_SELU_ALPHA, scale=_SELU_SCALE,
                                           input_scale=1.0), input, inplace, "EluBackward1")


def selu_(input):
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(lambda x: _apply("celu", x, alpha=float(alpha)), input, inplace,
                          "CeluBackward1")


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh.")
    return _apply("gelu", input, approximate=approximate)


def silu(input, inplace=False):
    return _maybe_inplace(lambda x: _apply("silu", x), input, inplace)


def mish(input, inplace=False):
    return _maybe_inplace(lambda x: _apply("mish", x), input, inplace)


def softplus(input, beta=1.0, threshold=20.0):
    return _apply("softplus", input, beta=float(beta), threshold=float(threshold))


def softsign(input):
    return _apply("softsign", input)


def hardsigmoid(input, inplace=False):
    return _maybe_inplace(lambda x: _apply("hardsigmoid", x), input, inplace)


def hardswish(input, inplace=False):
    return _maybe_inplace(lambda x: _apply("hardswish", x), input, inplace)


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def logsigmoid(input):
    return _apply("logsigmoid", input)


def tanhshrink(input):
    return _apply("tanhshrink", input)


def softshrink(input, lambd=0.5):
    _act.check_dtype("softshrink", input)
    if lambd < 0:
        import numpy as np
        top = float(np.finfo(input._dtype.np).max)
        raise RuntimeError(f"lambda must be in range [0, {top:g}] for input dtype "
                           f"{_dtype_name(input)}, but found {lambd:g}")
    return _apply("softshrink", input, lambd=float(lambd))


def hardshrink(input, lambd=0.5):
    return _apply("hardshrink", input, lambd=float(lambd))


def threshold(input, threshold, value, inplace=False):
    return _maybe_inplace(lambda x: _act.threshold(x, threshold, value), input, inplace,
                          "ThresholdBackward1")


def threshold_(input, threshold, value):
    return globals()["threshold"](input, threshold, value, inplace=True)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    return _maybe_inplace(lambda x: _act.rrelu(x, lower, upper, training), input, inplace,
                          "RreluWithNoiseBackward1")


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


def _glu_impl(x, *, dim):
    a, b = jnp.split(x, 2, axis=dim)
    return a * (1 / (1 + jnp.exp(-b)))


_OPS["glu"] = _glu_op = _Op("glu", _glu_impl, "GluBackward0", (0,))


def glu(input, dim=-1):
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = _wrap_dim(dim, input.ndim)
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size "
                           f"{input.shape[d]}")
    return _run(_glu_op, (input,), (("dim", d),))


# -- softmax family ----------------------------------------------------------------------------------
def _implicit_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  "include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _implicit_dim("softmax", input.ndim, _stacklevel)
    return _act.softmax_like(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _implicit_dim("softmin", input.ndim, _stacklevel)
    return _act.softmax_like(input, dim, dtype, negate=True)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _implicit_dim("log_softmax", input.ndim, _stacklevel)
    return _act.softmax_like(input, dim, dtype, log=True)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    from .. import _random
    u = _Tensor._wrap(_random.sample("exponential", tuple(logits.shape), logits._dtype, 1.0),
                      logits.device)
    gumbels = (logits - u.log()) / tau
    y_soft = softmax(gumbels, dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = y_soft.detach() * 0
    y_hard = y_hard.scatter(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


# -- normalize, linear -----------------------------------------------------------------------------
def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(norm(input), eps), as PyTorch composes it (a DivBackward0 node)."""
    from .._ops.decomp import vector_norm
    from .._ops.pointwise import clamp_min, true_divide
    d = _wrap_dim(dim, input.ndim)
    denom = clamp_min(vector_norm(input, p, d, True), eps).expand_as(input)
    result = true_divide(input, denom)
    if out is not None:
        from .._ops._common import write_out
        return write_out("normalize", out, result)
    return result


def _linear_impl(x, w, b):
    # float16/bfloat16: the product and the bias added in float32, rounded once (PyTorch's)
    dtype = jnp.result_type(x, w) if b is None else jnp.result_type(x, w, b)
    y = accumulated_matmul(x, jnp.swapaxes(w, -1, -2) if w.ndim == 2 else w)
    return (y if b is None else y + b.astype(y.dtype)).astype(dtype)


_OPS["linear"] = _linear_op = _Op("linear", _linear_impl, "AddmmBackward0", (0, 1))


def linear(input, weight, bias=None):
    """One op, named after the step PyTorch ends on: addmm for a matrix with a bias,
    mm without one, a view (or matmul's nodes) otherwise."""
    # (every layer of every step passes here: its checks read only shapes and dtypes, so
    # a layer's arguments are checked once)
    _linear_checked((input.shape, input.dtype, weight.shape, weight.dtype,
                     None if bias is None else (bias.shape, bias.dtype)), input, weight, bias)
    nw = weight.ndim
    if nw == 2 and _grad_mode.is_grad_enabled() and _bridge.top_level() and (
            input.requires_grad or weight.requires_grad
            or (bias is not None and bias.requires_grad)):
        # (recorded: PyTorch's own nodes, see linear_graph.py). Inside a JAX trace
        # (torchlike.compile, torchlike.func) the layer is one node instead, named as the
        # last of PyTorch's: its backward is the vjp of one fused op, which XLA compiles
        # better than the t/addmm/view chain (the transformer's compiled step runs about
        # 6% faster: the weight gradients become dots XLA's CPU backend fuses)
        return _recorded_linear(_linear_op, input, weight, bias)
    nx = input.ndim
    if nw == 1:        # a vector weight: matmul's mv/dot, then a plain add
        grad_fn = "AddBackward0" if bias is not None else \
            {1: "DotBackward0", 2: "MvBackward0"}.get(nx, "UnsafeViewBackward0")
    elif nx == 2 and nw == 2:
        grad_fn = "AddmmBackward0" if bias is not None else "MmBackward0"
    elif bias is not None:
        grad_fn = "ViewBackward0"
    else:
        grad_fn = "SqueezeBackward4" if nx == 1 else "UnsafeViewBackward0"
    return _run(_linear_op, (input, weight, bias), (), grad_fn)


def _check_linear(input, weight, bias):
    """linear's shape and dtype errors, in PyTorch's order."""
    x_shape, w_shape = tuple(input.shape), tuple(weight.shape)
    nx, nw = len(x_shape), len(w_shape)
    if nx == 0 or nw == 0:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are "
                           f"{nx}D and {nw}D")
    if bias is not None and (nx == 2 or (nx == 1 and bias.ndim >= 1) or (nx == 3 and nw == 2)):
        # PyTorch's addmm(bias, input (as a matrix), weight.t()) path
        for name, t in (("self", bias), ("mat1", input)):
            if t.dtype is not weight.dtype:
                raise RuntimeError(f"{name} and mat2 must have the same dtype, but got "
                                   f"{_scalar_name(t.dtype)} and {_scalar_name(weight.dtype)}")
        if nw != 2:
            raise RuntimeError(f"mat2 must be a matrix, got {nw}-D tensor")
    if x_shape[-1] != w_shape[-1]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                           f"({input.numel() // max(x_shape[-1], 1)}x{x_shape[-1]} and "
                           f"{w_shape[-1]}x{w_shape[0] if nw == 2 else 1})")
    if input.dtype is not weight.dtype:          # matmul(input, weight.t())
        raise RuntimeError("expected m1 and m2 to have the same dtype, but got: "
                           f"{_c_type_name(input.dtype)} != {_c_type_name(weight.dtype)}")
    if bias is not None and nw == 2:
        _check_expand(bias, x_shape[:-1] + (w_shape[0],))


_linear_checked = _CheckedOnce(_check_linear)


# -- dropout ---------------------------------------------------------------------------------------
def _dropout_inplace(compute, input, inplace, p, training):
    if inplace and (p == 0 or not training) and 0 <= p <= 1 and isinstance(input, _Tensor):
        # PyTorch's in-place dropout that drops nothing returns its input untouched: no
        # version bump, and no error for a leaf that requires grad
        return input
    return _inplace_method(compute)(input) if inplace else compute(input)


def dropout(input, p=0.5, training=True, inplace=False):
    return _dropout_inplace(lambda x: _act.dropout_like(x, p, training), input, inplace, p,
                            training)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _dropout_inplace(lambda x: _act.dropout_like(x, p, training, alpha=True), input,
                            inplace, p, training)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _dropout_inplace(lambda x: _act.dropout_like(x, p, training, keep_dims=2, alpha=True),
                            input, inplace, p, training)


def dropout1d(input, p=0.5, training=True, inplace=False):
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           "input. Note that dropout1d exists to provide channel-wise dropout on "
                           "inputs with 1 spatial dimension, a channel dimension, and an optional "
                           "batch dimension (i.e. 2D or 3D inputs).")
    return _unbatched(input, 3, lambda x: _dropout_inplace(
        lambda y: _act.dropout_like(y, p, training, keep_dims=2), x, inplace, p, training))


def _unbatched(input, batched_ndim, fn):
    """PyTorch runs an unbatched input as a batch of one, then squeezes the batch away."""
    if input.ndim == batched_ndim:
        return fn(input)
    from .._ops.views import squeeze, unsqueeze
    return squeeze(fn(unsqueeze(input, 0)), 0)


def _dtype_name(t):
    from .._ops._util import scalar_name
    return scalar_name(t._dtype)


def dropout2d(input, p=0.5, training=True, inplace=False):
    if training and input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      "deprecated and will result in an error in a future release. To retain the "
                      "behavior and silence this warning, please use dropout instead. Note that "
                      "dropout2d exists to provide channel-wise dropout on inputs with 2 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. "
                      "3D or 4D inputs).", UserWarning, stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape (C, H, "
                      "W). To maintain the 1D channel-wise dropout behavior, please switch to "
                      "using dropout1d instead.", UserWarning, stacklevel=2)
    return _dropout_inplace(lambda x: _act.dropout_like(x, p, training, keep_dims=2), input,
                            inplace, p, training)


def dropout3d(input, p=0.5, training=True, inplace=False):
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is "
                      "deprecated and will result in an error in a future release. To retain the "
                      "behavior and silence this warning, please use dropout instead. Note that "
                      "dropout3d exists to provide channel-wise dropout on inputs with 3 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. "
                      "4D or 5D inputs).", UserWarning, stacklevel=2)
    return _unbatched(input, 5, lambda x: _dropout_inplace(
        lambda y: _act.dropout_like(y, p, training, keep_dims=2), x, inplace, p, training))


# -- one_hot, pad, embedding -------------------------------------------------------------------------
def one_hot(tensor, num_classes=-1):
    import numpy as np
    from .._factories import tensor_from_numpy
    if tensor._dtype is not dt.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    values = np.asarray(tensor._data())
    if values.size and values.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if not values.size and num_classes <= 0:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if num_classes == -1:
        num_classes = int(values.max()) + 1
    elif values.size and values.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return tensor_from_numpy(np.eye(num_classes, dtype=np.int64)[values], dt.int64, tensor.device)


_JNP_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pad_impl(x, *, widths, mode, value):
    if mode == "constant":
        # lax.pad also crops for negative widths, as PyTorch's constant pad
        config = [(lo, hi, 0) for lo, hi in widths]
        return lax.pad(x, jnp.asarray(value, x.dtype), config)
    # each output position reads the input at a source index computed from the whole
    # input, as PyTorch's reflect/replicate kernels do (negative widths crop after them)
    for d, (lo, hi) in enumerate(widths):
        if lo or hi:
            x = jnp.take(x, _pad_source(x.shape[d], lo, hi, mode), axis=d)
    return x


def _pad_source(size, lo, hi, mode):
    import numpy as np
    positions = np.arange(-lo, size + hi)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":       # PyTorch crops first, then wraps around what is left
        kept = np.arange(max(-lo, 0), size - max(-hi, 0))
        return kept[np.arange(-max(lo, 0), len(kept) + max(hi, 0)) % len(kept)]
    period = 2 * (size - 1)                      # reflect: ... c b [a b c d] c b a ...
    folded = np.abs(positions) % period if period else np.zeros_like(positions)
    return np.where(folded < size, folded, period - folded)


_OPS["pad"] = _pad_op = _Op("pad", _pad_impl, "ConstantPadNdBackward0", ())


_PAD_SIZES = ("Supported combinations for non-constant padding:\n"
              "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
              "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
              "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def pad(input, pad, mode="constant", value=None):
    if mode != "constant" and mode not in _JNP_MODE:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           "dimension but got padding length " + f"{len(pad)} and input of "
                           f"dimension {input.ndim}")
    if mode != "constant":
        if value is not None and value != 0:
            raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
        if len(pad) not in (2, 4, 6) or input.ndim - len(pad) // 2 not in (1, 2):
            raise NotImplementedError(f"Padding size {len(pad)} is not supported for "
                                      f"{input.ndim}D input tensor.\n" + _PAD_SIZES)
    n = len(pad) // 2
    widths = [(0, 0)] * (input.ndim - n) + [(int(pad[2 * (n - 1 - i)]), int(pad[2 * (n - 1 - i) + 1]))
                                           for i in range(n)]
    if mode == "constant":
        grad_fn = "ConstantPadNdBackward0"
    elif mode in _JNP_MODE:
        if mode == "circular" and any(lo > input.shape[d] or hi > input.shape[d]
                                      for d, (lo, hi) in enumerate(widths)):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if input.ndim - n not in (1, 2) or n > 3:
            raise NotImplementedError("Only 2D, 3D, 4D, 5D padding with non-constant padding are "
                                      "supported for now")
        if mode == "reflect":
            for d, (lo, hi) in enumerate(widths):
                if (lo or hi) and (lo >= input.shape[d] or hi >= input.shape[d]):
                    raise RuntimeError(
                        f"Argument #4: Padding size should be less than the corresponding input "
                        f"dimension, but got: padding ({lo}, {hi}) at dimension {d} of input "
                        f"{list(input.shape)}")
        grad_fn = {"reflect": f"ReflectionPad{n}DBackward0", "replicate": f"ReplicationPad{n}DBackward0",
                   "circular": "torch::autograd::CopySlices"}[mode]
    else:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    return _run(_pad_op, (input,), (("widths", tuple(widths)), ("mode", mode),
                                    ("value", 0.0 if value is None else value)), grad_fn)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    if padding_idx is not None:
        if padding_idx > 0 and padding_idx >= weight.shape[0] or \
                padding_idx < 0 and padding_idx < -weight.shape[0]:
            raise AssertionError("Padding_idx must be within num_embeddings")
        if padding_idx < 0:
            padding_idx += weight.shape[0]
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    return _act.embedding(weight, input, -1 if padding_idx is None else padding_idx)


def _embedding_renorm_(weight, indices, max_norm, norm_type):
    """Rows used by `indices` rescaled in place to norm <= max_norm (no gradient)."""
    import numpy as np
    from ..autograd.grad_mode import no_grad
    rows = np.unique(np.asarray(indices._data()).reshape(-1))
    w = weight._data()
    norms = jnp.linalg.norm(w[rows], ord=norm_type, axis=1)
    scale = jnp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    with no_grad():
        weight.copy_(_Tensor._wrap(w.at[rows].multiply(scale[:, None].astype(w.dtype)),
                                   weight.device))


# PyTorch's C++-bound functionals take out=
from .._ops._common import with_out as _with_out  # noqa: E402
gelu, softplus, logsigmoid, hardshrink, softshrink, linear = (
    _with_out(f.__name__, f) for f in (gelu, softplus, logsigmoid, hardshrink, softshrink, linear))

__all__ = [
    "relu", "relu_", "relu6", "hardtanh", "hardtanh_", "leaky_relu", "leaky_relu_", "elu", "elu_",
    "selu", "selu_", "celu", "celu_", "gelu", "silu", "mish", "softplus", "softsign",
    "hardsigmoid", "hardswish", "sigmoid", "tanh", "logsigmoid", "tanhshrink", "softshrink",
    "hardshrink", "threshold", "threshold_", "rrelu", "rrelu_", "prelu", "glu", "softmax",
    "softmin", "log_softmax", "gumbel_softmax", "normalize", "linear", "bilinear", "dropout",
    "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d", "dropout3d", "one_hot",
    "pad", "embedding", "cosine_similarity", "pairwise_distance", "pdist"]

# the layer functionals (conv, pooling, normalisation, losses, attention)
try:
    from ._functional_layers import *  # noqa: F401,F403,E402
    from ._functional_layers import __all__ as _layers_all
    __all__ += list(_layers_all)
except ImportError:
    pass
