"""Convolutions (and their transposes) as one op: jax.lax.conv_general_dilated.

A transposed convolution is the ordinary convolution of the stride-dilated input with
the spatially flipped kernel whose in/out channels are swapped within each group.
"""
import jax.numpy as jnp
from jax import lax

from ... import _dtype as dt
from ..._ops._common import opmath
from ..._ops._util import c_type_name, scalar_name
from ..._ops.dispatch import apply
from ..._tensor import legacy_type_name
from ._common import HIGHEST, CheckedOnce, call, nn_op, ntuple

_SPECS = {1: ("NCH", "OIH", "NCH"), 2: ("NCHW", "OIHW", "NCHW"),
          3: ("NCDHW", "OIDHW", "NCDHW")}


def _transposed_kernel(w, groups):
    """(Cin, Cout/g, *k) -> (Cout, Cin/g, *k), flipped spatially."""
    cin, cout_g = w.shape[0], w.shape[1]
    k = w.shape[2:]
    w = w.reshape((groups, cin // groups, cout_g) + k)
    w = jnp.swapaxes(w, 1, 2).reshape((groups * cout_g, cin // groups) + k)
    return jnp.flip(w, axis=tuple(range(2, w.ndim)))


@nn_op("convolution", "ConvolutionBackward0", saves=(0, 1))
def _convolution(x, w, *bias, stride, padding, dilation, groups, transposed, output_padding):
    n = w.ndim - 2
    unbatched = x.ndim == n + 1
    if unbatched:
        x = x[None]
    # float16/bfloat16: accumulated in float32 and the bias added before the one rounding,
    # as PyTorch's kernels (rounded first, a biased output differed in a quarter of its
    # elements)
    dtype = jnp.result_type(x, w)
    acc = opmath(dtype)
    wide = {} if acc == dtype else {"preferred_element_type": acc}
    if transposed:
        ks = w.shape[2:]
        pads = [(d * (k - 1) - p, d * (k - 1) - p + op)
                for k, d, p, op in zip(ks, dilation, padding, output_padding)]
        out = lax.conv_general_dilated(
            x, _transposed_kernel(w, groups), (1,) * n, pads, lhs_dilation=stride,
            rhs_dilation=dilation, dimension_numbers=_SPECS[n], feature_group_count=groups,
            precision=HIGHEST, **wide)
    else:
        out = lax.conv_general_dilated(
            x, w, stride, padding, rhs_dilation=dilation, dimension_numbers=_SPECS[n],
            feature_group_count=groups, precision=HIGHEST, **wide)
    if bias:
        out = out + bias[0].reshape((1, -1) + (1,) * n).astype(out.dtype)
    out = out.astype(dtype)
    return out[0] if unbatched else out


def _check_dims(input, n, transposed):
    name = f"conv{'_transpose' if transposed else ''}{n}d"
    if input.dim() not in (n + 1, n + 2):
        raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to "
                           f"{name}, but got input of size: {list(input.shape)}")


def _check_input(input, weight, n, groups, transposed):
    channels = input.shape[0 if input.dim() == n + 1 else 1]
    expected = weight.shape[0] if transposed else weight.shape[1] * groups
    if channels != expected:
        shape = list(input.shape) if input.dim() == n + 2 else [1] + list(input.shape)
        if transposed:
            raise RuntimeError(
                f"Given transposed=1, weight of size {list(weight.shape)}, expected input"
                f"{shape} to have {expected} channels, but got {channels} channels instead")
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
            f"{shape} to have {expected} channels, but got {channels} channels instead")


def _param(value, name, n):
    """stride/padding/dilation as n ints, with PyTorch's error for a wrong length."""
    values = ntuple(value, n)
    if len(values) != n:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values "
                           f"to match the convolution dimensions, but got {name}={list(values)}")
    return values


def _check_convolution(input, weight, bias, n, stride, padding, dilation, groups, transposed):
    """PyTorch's _convolution checks, in its order (dtypes of the weight last)."""
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(f"Input type ({c_type_name(input.dtype)}) and bias type "
                           f"({c_type_name(bias.dtype)}) should be the same")
    if weight.dim() < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    stride, dilation = _param(stride, "stride", n), _param(dilation, "dilation", n)
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if padding == "same" and any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        pads = ((0, 0),) * n if padding == "valid" else _same_padding(weight, dilation)
    else:
        pads = tuple((p, p) for p in _param(padding, "padding", n))
    if any(p < 0 for pair in pads for p in pair):
        raise RuntimeError("negative padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d < 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    if any(d == 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dilation)}")
    w = list(weight.shape)
    if input.ndim not in (len(w), len(w) - 1):
        raise RuntimeError(f"Expected {len(w)}-dimensional input for {len(w)}-dimensional "
                           f"weight{w}, but got {input.ndim}-dimensional input of size "
                           f"{list(input.shape)} instead")
    if w[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at "
                           f"dimension 0, but got weight of size {w} instead")
    if w[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{w}] instead")
    _check_input(input, weight, n, groups, transposed)
    if not transposed:
        if bias is not None and (bias.dim() != 1 or bias.shape[0] != w[0]):
            raise RuntimeError(f"Given weight of size {w}, expected bias to be 1-dimensional with "
                               f"{w[0]} elements, but got bias of size {list(bias.shape)} instead")
        sizes = [x + lo + hi for x, (lo, hi) in zip(input.shape[-n:], pads)]
        kernel = [d * (k - 1) + 1 for k, d in zip(w[2:], dilation)]
        if any(k > x for k, x in zip(kernel, sizes)):
            raise RuntimeError("Calculated padded input size per channel: "
                               f"({' x '.join(map(str, sizes))}). Kernel size: "
                               f"({' x '.join(map(str, kernel))}). Kernel size can't be greater "
                               "than actual input size")
    if weight.dtype is not input.dtype:
        if input.dtype is dt.float32:
            raise RuntimeError(f"Input type ({legacy_type_name(input)}) and weight type "
                               f"({legacy_type_name(weight)}) should be the same or input should "
                               "be a MKLDNN tensor and weight is a dense tensor")
        raise RuntimeError(f"expected scalar type {scalar_name(input.dtype)} but found "
                           f"{scalar_name(weight.dtype)}")
    return stride, pads, dilation


def _grad_fn(input, n):
    """An unbatched input is batched, convolved and squeezed back by PyTorch."""
    return "SqueezeBackward1" if input.dim() == n + 1 else None


def _same_padding(weight, dilation):
    """'same' padding: total d*(k-1) per dim, the odd element going to the right."""
    pads = []
    for k, d in zip(weight.shape[2:], dilation):
        total = d * (k - 1)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def _conv_params(n, input, weight, bias, stride, padding, dilation, groups):
    """The convolution op's static parameters, in call()'s sorted order (kept per
    signature with the checks' result: no dict sorted per call)."""
    _check_dims(input, n, False)
    stride, pads, dilation = _check_convolution(input, weight, bias, n, stride, padding,
                                                dilation, groups, False)
    return (("dilation", dilation), ("groups", int(groups)), ("output_padding", (0,) * n),
            ("padding", pads), ("stride", stride), ("transposed", False))


_conv_checked = CheckedOnce(_conv_params)


def _conv(n, input, weight, bias, stride, padding, dilation, groups):
    # the checks read only shapes, dtypes and the arguments: the signature holds them all
    signature = (n, input.shape, input.dtype, weight.shape, weight.dtype,
                 None if bias is None else (bias.shape, bias.dtype),
                 stride, padding, dilation, groups)
    params = _conv_checked(signature, n, input, weight, bias, stride, padding, dilation, groups)
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return apply(_convolution, inputs, params, _grad_fn(input, n))


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(n, input, weight, bias, stride, padding, output_padding, groups, dilation):
    stride, dilation = ntuple(stride, n), ntuple(dilation, n)
    padding, output_padding = ntuple(padding, n), ntuple(output_padding, n)
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise RuntimeError("output padding must be smaller than either stride or dilation, "
                               f"but got output_padding_height: {op} output_padding_width: {op} "
                               f"stride_height: {s} stride_width: {s} dilation_height: {d} "
                               f"dilation_width: {d}")
    _check_dims(input, n, True)
    _check_input(input, weight, n, groups, True)
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return call(_convolution, inputs, _grad_fn(input, n), stride=stride, padding=padding,
                dilation=dilation, groups=int(groups), transposed=True,
                output_padding=output_padding)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transpose(1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transpose(2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transpose(3, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)
