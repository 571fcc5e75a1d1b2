"""Pooling: max and average windows with jax.lax.reduce_window; adaptive pools as
static averaging matrices (average) or static gathers of the bins (max)."""
import jax.numpy as jnp
import numpy as np
from jax import lax

from ... import _dtype
from ..._ops._common import in_float32, not_implemented
from ..._ops._util import wrap_dim
from ..._ops.dispatch import apply
from ._common import HIGHEST, CheckedOnce, call, nn_op, ntuple


# -- the dtypes torch's CPU kernels take ----------------------------------------------------
def _floats(dtype):
    return dtype.is_floating_point


def _floats_or_long(dtype):
    return dtype.is_floating_point or dtype is _dtype.int64


def _not_bool(dtype):
    return dtype is not _dtype.bool


def _long_float_double(dtype):
    return dtype in (_dtype.int64, _dtype.float32, _dtype.float64)


def _check_dtype(kernel, dtype, supported):
    """torch's error for a pool whose CPU kernel has no version for `dtype` (raised after
    the shape checks, where torch's kernel dispatch raises it)."""
    if not supported(dtype):
        raise not_implemented(kernel, dtype)


# -- fixed windows ------------------------------------------------------------------------
def _pool_geometry(shape, kernel, stride, padding, dilation, ceil_mode):
    """Per spatial dim: (low pad, high pad, output size), with PyTorch's output-size rule
    (in ceil mode the last window must start inside the input or the left padding)."""
    geometry = []
    for size, k, s, p, d in zip(shape, kernel, stride, padding, dilation):
        span = size + 2 * p - d * (k - 1) - 1
        out = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (out - 1) * s >= size + p:
            out -= 1
        high = p + max(0, (out - 1) * s + d * (k - 1) + 1 - (size + 2 * p))
        geometry.append((p, high, out))
    return tuple(geometry)


def _window_args(ndim, kernel, stride, dilation, geometry):
    lead = ndim - len(kernel)
    return dict(window_dimensions=(1,) * lead + tuple(kernel),
                window_strides=(1,) * lead + tuple(stride),
                padding=((0, 0),) * lead + tuple((lo, hi) for lo, hi, _ in geometry),
                window_dilation=(1,) * lead + tuple(dilation))


def _max_with_index(a, b):
    """Max of (value, flat index) pairs: NaN wins, ties keep the first index (PyTorch)."""
    (va, ia), (vb, ib) = a, b
    take_b = ((vb > va) | ((vb == va) & (ib < ia)) | jnp.isnan(vb)) & ~jnp.isnan(va)
    take_b = take_b | (jnp.isnan(va) & jnp.isnan(vb) & (ib < ia))
    return jnp.where(take_b, vb, va), jnp.where(take_b, ib, ia)


def _lowest(dtype):
    """The identity of max for `dtype` (integer pools cannot start from -inf)."""
    if jnp.issubdtype(dtype, jnp.floating):
        return np.array(-np.inf, dtype)
    return np.array(jnp.iinfo(dtype).min if dtype != jnp.bool_ else False, dtype)


@nn_op("max_pool", saves=(0, "result"))
def _max_pool_op(x, *, kernel, stride, dilation, geometry, with_indices):
    win = _window_args(x.ndim, kernel, stride, dilation, geometry)
    dilated = any(d != 1 for d in dilation)
    if not (with_indices or dilated):
        return lax.reduce_window(x, _lowest(x.dtype), lax.max, **win)
    n = len(kernel)
    spatial = x.shape[-n:]
    flat = jnp.arange(int(np.prod(spatial)), dtype=jnp.int64).reshape(spatial)
    _, idx = lax.reduce_window((lax.stop_gradient(x), jnp.broadcast_to(flat, x.shape)),
                               (_lowest(x.dtype), np.array(-1, np.int64)),
                               _max_with_index, **win)
    if dilated:
        # XLA has no gradient for dilated max windows: gather the arg-max instead, which
        # also sends the gradient to exactly that element, as PyTorch does
        lead = x.shape[:-n]
        out = jnp.take_along_axis(x.reshape(lead + (-1,)), idx.reshape(lead + (-1,)), axis=-1)
        out = out.reshape(idx.shape)
    else:
        out = lax.reduce_window(x, _lowest(x.dtype), lax.max, **win)
    return (out, idx) if with_indices else out


def _c_half(x):
    """C's x / 2 for ints (truncates toward zero)."""
    return -(-x // 2) if x < 0 else x // 2


def _pool_args(n, kernel_size, stride, padding, dilation=1, name="max_pool2d"):
    values = {"kernel_size": ntuple(kernel_size, n)}
    no_stride = stride is None or (isinstance(stride, (list, tuple)) and not stride)
    values["stride"] = values["kernel_size"] if no_stride else ntuple(stride, n)
    values["padding"], values["dilation"] = ntuple(padding, n), ntuple(dilation, n)
    for what, v in values.items():
        if len(v) != n:
            raise RuntimeError(f"{name}: {what} must either be a single int, or a tuple of "
                               f"{'two' if n == 2 else 'three'} ints")
    return tuple(values.values())


def _check_pool1d(input, kernel, stride, padding, dilation, ceil_mode):
    """max_pool1d's own checks (PyTorch runs it without the 2-D kernel)."""
    if input.dim() not in (2, 3) or 0 in input.shape[-2:]:
        raise RuntimeError("max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim "
                           f"batch size for input, but got:{list(input.shape)}")
    (k,), (s,), (p,), (d,) = kernel, stride, padding, dilation
    for ok, message in ((k > 0, f"kernel_size must be greater than zero, but got {k}"),
                        (s > 0, f"stride must be greater than zero, but got {s}"),
                        (p >= 0, f"padding must be non-negative, but got {p}"),
                        (p <= k // 2, "padding should be at most half of kernel size, but got "
                                      f"padding={p} and kernel_size={k}"),
                        (d > 0, f"dilation must be greater than zero, but got {d}")):
        if not ok:
            raise RuntimeError("max_pool1d() " + message)
    out = _pool_geometry(input.shape[-1:], kernel, stride, padding, dilation, ceil_mode)[0][2]
    if out <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {out}")


def _check_pool2d(input, kernel, stride, padding, dilation, ceil_mode, is_max):
    """PyTorch's 2-D pooling checks in its order: input rank, each dim's output-size
    arguments, then pool2d_shape_check."""
    if input.dim() not in (3, 4):
        if not is_max:
            wrap_dim(-3, input.dim())        # avg_pool2d reads the channel count first
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    for k, s, p, d in zip(kernel, stride, padding, dilation):
        if s == 0:
            raise RuntimeError("stride should not be zero")
        if p < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
        if p > _c_half((k - 1) * d + 1):
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
    geometry = _pool_geometry(input.shape[-2:], kernel, stride, padding, dilation, ceil_mode)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    if kh <= 0 or kw <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kh} kW: {kw}")
    if sh <= 0 or sw <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {sh} dW: {sw}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError("dilation should be greater than zero, but got dilationH: "
                           f"{dh} dilationW: {dw}")
    if 0 in input.shape[-3:]:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size "
                           f"for input, but got:{list(input.shape)}")
    if pw > _c_half(kw) or ph > _c_half(kh):
        raise RuntimeError("pad should be smaller than or equal to half of kernel size, but got "
                           f"padW = {pw}, padH = {ph}, kW = {kw}, kH = {kh}")
    (_, _, oh), (_, _, ow) = geometry
    if oh < 1 or ow < 1:
        c, h, w = input.shape[-3:]
        raise RuntimeError(f"Given input size: ({c}x{h}x{w}). Calculated output size: "
                           f"({c}x{oh}x{ow}). Output size is too small")


def _check_padding(kernel, stride, padding, dilation):
    """The output-size arguments, checked per dim before anything else (PyTorch's
    pooling_output_shape)."""
    for k, s, p, d in zip(kernel, stride, padding, dilation):
        if s == 0:
            raise RuntimeError("stride should not be zero")
        if p < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
        if p > _c_half((k - 1) * d + 1):
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")


def _check_pool3d(input, kernel, stride, padding, dilation, ceil_mode, is_max):
    if input.dim() not in (4, 5):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
    _check_padding(kernel, stride, padding, dilation)
    if is_max:
        for i, size in enumerate(input.shape[input.dim() - 4:]):
            if size == 0:
                raise RuntimeError(
                    "max_pool3d_with_indices_out_cpu_template(): Expected input's non-batch "
                    f"dimensions to have positive length, but input has a shape of "
                    f"{list(input.shape)} and non-batch dimension {i} has length zero!")
    geometry = _pool_geometry(input.shape[-3:], kernel, stride, padding, dilation, ceil_mode)
    sizes = [out for _, _, out in geometry]
    if min(sizes) < 1:
        c, d, h, w = input.shape[-4:]
        raise RuntimeError(f"Given input size: ({c}x{d}x{h}x{w}). Calculated output size: "
                           f"({c}x{sizes[0]}x{sizes[1]}x{sizes[2]}). Output size is too small")


def _check_pool(n, input, kernel, stride, padding, dilation, ceil_mode, is_max,
                return_indices=False):
    if n == 1 and is_max and not return_indices:
        _check_pool1d(input, kernel, stride, padding, dilation, ceil_mode)
    elif n == 1:                 # through the 2-D kernel
        _check_padding(kernel, stride, padding, dilation)
    elif n == 2:
        _check_pool2d(input, kernel, stride, padding, dilation, ceil_mode, is_max)
    else:
        if not is_max and input.dim() in (4, 5):
            _check_padding(kernel, stride, padding, dilation)
        _check_pool3d(input, kernel, stride, padding, dilation, ceil_mode, is_max)


def _max_pool_geometry(n, input, kernel_size, stride, padding, dilation, ceil_mode,
                      return_indices):
    """A max pool's op parameters, in call()'s sorted order: the checked window
    arguments and the output geometry (kept per signature: no dict sorted per call)."""
    kernel, stride, padding, dilation = _pool_args(n, kernel_size, stride, padding, dilation,
                                                   f"max_pool{n}d")
    _check_pool(n, input, kernel, stride, padding, dilation, ceil_mode, True, return_indices)
    if n == 1 and not return_indices:
        _check_dtype("max_pool1d_impl", input.dtype, _floats)
    else:
        _check_dtype("max_pool3d" if n == 3 else "max_pool2d", input.dtype, _not_bool)
    geometry = _pool_geometry(input.shape[-n:], kernel, stride, padding, dilation, ceil_mode)
    return (("dilation", dilation), ("geometry", geometry), ("kernel", kernel),
            ("stride", stride), ("with_indices", bool(return_indices)))


_max_pool_checked = CheckedOnce(_max_pool_geometry)


def _max_pool(n, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
              grad_fn):
    # the checks and the geometry read only the input's shape and dtype and the arguments
    signature = (n, input.shape, input.dtype, kernel_size, stride, padding, dilation,
                 ceil_mode, return_indices)
    params = _max_pool_checked(signature, n, input, kernel_size, stride, padding, dilation,
                               ceil_mode, return_indices)
    out = apply(_max_pool_op, (input,), params, grad_fn)
    return tuple(out) if return_indices else out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, "SqueezeBackward1")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, "MaxPool2DWithIndicesBackward0")


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, "MaxPool3DWithIndicesBackward0")


@nn_op("avg_pool", saves=(0,))
@in_float32             # (a float16/bfloat16 window sums in float32, as PyTorch's)
def _avg_pool_op(x, *, kernel, stride, geometry, count_include_pad, divisor_override):
    n = len(kernel)
    ones = (1,) * n
    win = _window_args(x.ndim, kernel, stride, ones, geometry)
    total = lax.reduce_window(x, np.array(0, x.dtype), lax.add, **win)
    # integer pools divide in the integer type, truncating as C does (lax.div)
    divide = _c_divide if jnp.issubdtype(x.dtype, jnp.integer) else jnp.true_divide
    if divisor_override:
        return divide(total, np.array(divisor_override, x.dtype))
    spatial = x.shape[-n:]
    if count_include_pad:
        # the explicit padding counts, the ceil-mode overhang past it does not
        area = jnp.ones(tuple(s + 2 * lo for s, (lo, _, _) in zip(spatial, geometry)), x.dtype)
        pads = tuple((0, hi - lo) for lo, hi, _ in geometry)
    else:
        area = jnp.ones(spatial, x.dtype)
        pads = tuple((lo, hi) for lo, hi, _ in geometry)
    count = lax.reduce_window(area, np.array(0, x.dtype), lax.add, kernel, stride, pads)
    return divide(total, count)


def _c_divide(a, b):
    a, b = jnp.broadcast_arrays(a, jnp.asarray(b, a.dtype))
    return lax.div(a, b)


def _avg_pool(n, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, grad_fn):
    kernel, stride, padding, _ = _pool_args(n, kernel_size, stride, padding, 1,
                                            f"avg_pool{n}d")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    _check_pool(n, input, kernel, stride, padding, (1,) * n, ceil_mode, False)
    if n == 3:
        _check_dtype("avg_pool3d_out_frame", input.dtype, _long_float_double)
    else:
        _check_dtype("avg_pool2d", input.dtype, _floats_or_long)
    geometry = _pool_geometry(input.shape[-n:], kernel, stride, padding, (1,) * n, ceil_mode)
    return call(_avg_pool_op, (input,), grad_fn, kernel=kernel, stride=stride,
                geometry=geometry, count_include_pad=bool(count_include_pad),
                divisor_override=divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     None, "SqueezeBackward1")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, "AvgPool2DBackward0")


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    return _avg_pool(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, "AvgPool3DBackward0")


# -- adaptive -----------------------------------------------------------------------------
def _bins(size, out):
    """PyTorch's adaptive bins: [floor(i*size/out), ceil((i+1)*size/out))."""
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


def _averaging_matrix(size, out, dtype):
    m = np.zeros((size, out), dtype)
    for i, (start, end) in enumerate(_bins(size, out)):
        m[start:end, i] = 1.0 / (end - start)
    return m


_LETTERS = "abcdefgh"


@nn_op("adaptive_avg_pool", saves=(0,))
@in_float32             # (averaging weights and sums in float32 for a reduced input)
def _adaptive_avg_op(x, *, output_size):
    n = len(output_size)
    spatial = x.shape[-n:]
    mats = [jnp.asarray(_averaging_matrix(s, o, x.dtype)) for s, o in zip(spatial, output_size)]
    ins, outs = _LETTERS[:n], _LETTERS[n:2 * n]
    spec = f"...{ins}," + ",".join(i + o for i, o in zip(ins, outs)) + f"->...{outs}"
    return jnp.einsum(spec, x, *mats, precision=HIGHEST)


def _gather_plan(spatial, output_size):
    """Static gather indices for every bin, bins padded by repeating their last element
    (a repeat changes neither the max nor the first arg-max)."""
    index, flat = [], 0
    n = len(spatial)
    for j, (size, out) in enumerate(zip(spatial, output_size)):
        bins = _bins(size, out)
        width = max(e - s for s, e in bins)
        ix = np.array([[min(s + t, e - 1) for t in range(width)] for s, e in bins])
        shape = [1] * (2 * n)
        shape[2 * j], shape[2 * j + 1] = out, width
        ix = ix.reshape(shape)
        index.append(ix)
        flat = flat * size + ix
    return index, flat


@nn_op("adaptive_max_pool", saves=(0, "result"))
def _adaptive_max_op(x, *, output_size):
    n = len(output_size)
    lead = x.ndim - n
    index, flat = _gather_plan(x.shape[-n:], output_size)
    windows = x[(Ellipsis,) + tuple(jnp.asarray(i) for i in index)]
    order = list(range(lead)) + [lead + 2 * j for j in range(n)] + \
        [lead + 2 * j + 1 for j in range(n)]
    windows = windows.transpose(order).reshape(x.shape[:lead] + tuple(output_size) + (-1,))
    flat = np.broadcast_to(flat, np.broadcast_shapes(*(i.shape for i in index)))
    flat = flat.transpose([2 * j for j in range(n)] + [2 * j + 1 for j in range(n)])
    flat = jnp.asarray(flat.reshape(tuple(output_size) + (-1,)))
    arg = jnp.argmax(lax.stop_gradient(windows), axis=-1)[..., None]
    value = jnp.take_along_axis(windows, arg, axis=-1)[..., 0]
    idx = jnp.take_along_axis(jnp.broadcast_to(flat, windows.shape), arg, axis=-1)[..., 0]
    return value, idx.astype(jnp.int64)


def _output_size(input, output_size, n, kind=None):
    if isinstance(output_size, (tuple, list)) and input.dim() < len(output_size) + 1:
        raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
    if kind is not None:
        _check_output_size(kind, n, input, output_size)
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * n
    if len(sizes) == 1 and n > 1:
        sizes = tuple(sizes) * n
    return tuple(int(input.shape[-n + j]) if s is None else int(s) for j, s in enumerate(sizes))


def _check_output_size(kind, n, input, output_size):
    """PyTorch's errors for an output_size of the wrong length or with negative sizes
    (1-D pools run as 2-D ones with a height of 1)."""
    if not isinstance(output_size, (tuple, list)):
        return
    sizes = list(output_size)
    if len(sizes) != n and not (len(sizes) == 1 and n > 1):
        if n == 1:
            raise RuntimeError(f"adaptive_{kind}_pool1d() argument 'output_size' should contain "
                               f"one int (got {len(sizes)})")
        if kind == "avg":
            raise RuntimeError(f"adaptive_avg_pool{n}d: output_size must be {n}")
        raise RuntimeError(f"adaptive_max_pool{n}d(): internal error: output_size.size() must "
                           f"be {n}")
    if all(s is None or s >= 0 for s in sizes):
        return
    if n == 1:
        sizes = [1] + sizes
    if kind == "avg":
        shown = ", ".join(map(str, sizes[:2])) + "".join(f",{s}" for s in sizes[2:])
        raise RuntimeError(f"adaptive_avg_pool{max(n, 2)}d: elements of output_size must be "
                           f"greater than or equal to 0 but received {{{shown}}}")
    shape = list(input.shape[:input.dim() - n]) + sizes
    raise RuntimeError(f"Trying to create tensor with negative dimension "
                       f"{next(s for s in sizes if s is not None and s < 0)}: {shape}")


def adaptive_avg_pool1d(input, output_size):
    size = _output_size(input, output_size, 1, "avg")
    _check_dtype("adaptive_avg_pool2d", input.dtype, _floats)
    return call(_adaptive_avg_op, (input,), "SqueezeBackward1", output_size=size)


def _check_adaptive(name, input, size):
    n = len(size)
    if any(s < 0 for s in size):
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 "
                           f"but received {{{', '.join(map(str, size))}}}")
    if input.dim() not in (n + 1, n + 2):
        raise RuntimeError(f"{name}(): Expected {n + 1}D or {n + 2}D tensor, but got "
                           f"{list(input.shape)}")
    for i in range(-n, 0):
        if input.shape[i] <= 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(input.shape)} with "
                               f"dimension {i + input.dim()} being empty")


def adaptive_avg_pool2d(input, output_size):
    size = _output_size(input, output_size, 2, "avg")
    if any(s < 0 for s in size) or size != (1, 1):
        _check_adaptive("adaptive_avg_pool2d", input, size)
        if not input.dtype.is_floating_point and 0 not in size:
            raise not_implemented("adaptive_avg_pool2d", input.dtype)
    if size == (1, 1):     # PyTorch computes this common case as a mean
        return input.mean((-2, -1), keepdim=True)
    return call(_adaptive_avg_op, (input,), "AdaptiveAvgPool2DBackward0", output_size=size)


def adaptive_avg_pool3d(input, output_size):
    size = _output_size(input, output_size, 3, "avg")
    if size == (1, 1, 1):
        return input.mean((-3, -2, -1), keepdim=True)
    _check_dtype("adaptive_avg_pool3d_cpu", input.dtype, _floats)
    return call(_adaptive_avg_op, (input,), "AdaptiveAvgPool3DBackward0", output_size=size)


def _adaptive_max(n, input, output_size, return_indices, grad_fn):
    size = _output_size(input, output_size, n, "max")
    _check_dtype("adaptive_max_pool3d_cpu" if n == 3 else "adaptive_max_pool2d", input.dtype,
                 _floats)
    out, idx = call(_adaptive_max_op, (input,), grad_fn, output_size=size)
    return (out, idx) if return_indices else out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    return _adaptive_max(1, input, output_size, return_indices, "SqueezeBackward1")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    return _adaptive_max(2, input, output_size, return_indices, "AdaptiveMaxPool2DBackward0")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    return _adaptive_max(3, input, output_size, return_indices, "AdaptiveMaxPool3DBackward0")
