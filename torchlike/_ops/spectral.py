"""torch.fft's transforms as three ops (complex-to-complex, real-to-complex,
complex-to-real), after PyTorch's own split into _fft_c2c, _fft_r2c and _fft_c2r, plus the
frequency helpers and shifts.

Each public function validates its arguments into static parameters (the axes, the
signal sizes, the normalization) with PyTorch's messages, then applies one op. The
Hermitian transforms (hfft*, ihfft*) are the real ones with conjugation and the opposite
normalization, as PyTorch computes them. Gradients come from JAX's transposes of its FFTs.
"""
import jax.numpy as jnp

from .. import _dtype as dt
from ._common import require_tensor
from .dispatch import apply
from .registry import Op, OPS
from ._util import scalar_name, wrap_dim

_NORMS = ("backward", "ortho", "forward")
# the normalization a transform's mirror uses: hfft is irfft of the conjugate with the
# scaling moved to the other direction
_SWAPPED = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


# -- the ops ------------------------------------------------------------------------------
def _c2c_impl(a, *, axes, sizes, norm, inverse, conj, dtype):
    a = a.astype(dtype)
    if axes:
        transform = jnp.fft.ifftn if inverse else jnp.fft.fftn
        a = transform(a, s=sizes, axes=axes, norm=norm)
    return jnp.conj(a) if conj else a


def _r2c_impl(a, *, axes, sizes, norm, conj, dtype):
    out = jnp.fft.rfftn(a.astype(dtype), s=sizes, axes=axes, norm=norm)
    return jnp.conj(out) if conj else out


def _c2r_impl(a, *, axes, sizes, norm, conj, dtype):
    a = a.astype(dtype)
    return jnp.fft.irfftn(jnp.conj(a) if conj else a, s=sizes, axes=axes, norm=norm)


OPS["fft_c2c"] = _c2c_op = Op("fft_c2c", _c2c_impl, "FftC2CBackward0")
OPS["fft_r2c"] = _r2c_op = Op("fft_r2c", _r2c_impl, "FftR2CBackward0")
OPS["fft_c2r"] = _c2r_op = Op("fft_c2r", _c2r_impl, "FftC2RBackward0")


# -- argument checks --------------------------------------------------------------------------
def _norm(norm):
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _complex_of(d):
    """The complex dtype a transform of `d` computes in (integers: the default float's)."""
    if d in (dt.float16, dt.bfloat16):
        raise RuntimeError(f"Unsupported dtype {scalar_name(d)}")
    if d.is_complex:
        return d
    if not d.is_floating_point:
        d = dt.get_default_dtype()
    return dt.complex128 if d is dt.float64 else dt.complex64


def _real_of(complex_dtype):
    return dt.float64 if complex_dtype is dt.complex128 else dt.float32


def _points(n):
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return n


def _check_int_dim(fn, dim):
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"fft_{fn}(): argument 'dim' must be int, not {type(dim).__name__}")


def _one_dim(fn, input, n, dim):
    """(axes, sizes) of a 1-D transform: the wrapped dim and n (None: the input's size)."""
    require_tensor(f"fft_{fn}", input, "input", 1)
    _check_int_dim(fn, dim)
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    axis = wrap_dim(dim, input.ndim)
    return (axis,), (input.shape[axis] if n is None else _points(n),)


def _n_dims(fn, input, s, dim):
    """(axes, sizes) of an n-D transform with PyTorch's rules: dims default to the last
    len(s) ones (or all of them); -1 in s keeps a size."""
    require_tensor(f"fft_{fn}", input, "input", 1)
    if isinstance(dim, int):
        dim = (dim,)
    if s is not None:
        s = tuple(int(v) for v in s)
        if dim is None:
            if len(s) > input.ndim:
                raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has "
                                   f"{input.ndim} dimensions.")
            dim = tuple(range(input.ndim - len(s), input.ndim))
        elif len(s) != len(dim):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    if input.ndim == 0 and dim:      # no 0-d-as-1-d leniency for FFT dims (maybe_wrap_dim's)
        raise IndexError(f"Dimension specified as {tuple(dim)[0]} but tensor has no dimensions")
    axes = tuple(range(input.ndim)) if dim is None else tuple(wrap_dim(d, input.ndim)
                                                              for d in dim)
    if len(set(axes)) != len(axes):
        raise RuntimeError("FFT dims must be unique")
    if s is None:
        sizes = tuple(input.shape[a] for a in axes)
    else:
        sizes = tuple(input.shape[a] if n == -1 else _points(n) for a, n in zip(axes, s))
    return axes, sizes


def _params(axes, sizes, norm, dtype, **extra):
    return (("axes", axes), ("sizes", sizes), ("norm", norm), ("dtype", dtype.np)) + \
        tuple(extra.items())


# -- the transforms -----------------------------------------------------------------------------
def _c2c(input, axes, sizes, norm, inverse, one_dim=False):
    """fft/ifft of any input. PyTorch's 1-D transforms of a real input run a forward r2c
    (the inverse as its conjugate: ConjBackward0); its n-D ones convert to complex first."""
    norm = _norm(norm)
    cdt = _complex_of(input._dtype)
    grad_fn = None
    if one_dim and not input._dtype.is_complex:
        grad_fn = "ConjBackward0" if inverse else "FftR2CBackward0"
    return apply(_c2c_op, (input,), _params(axes, sizes, norm, cdt, inverse=inverse,
                                             conj=False), grad_fn)


def _c2r(input, axes, sizes, norm, conj):
    """irfft*/hfft*: the last axis's size is the real output's (default 2 * (m - 1))."""
    cdt = _complex_of(input._dtype)
    if not axes:
        raise RuntimeError(("hfftn" if conj else "irfftn") + " must transform at least one axis")
    last = input.shape[axes[-1]]
    sizes = sizes[:-1] + (_points(2 * (last - 1)) if sizes[-1] is None else sizes[-1],)
    return apply(_c2r_op, (input,), _params(axes, sizes, norm, cdt, conj=conj))


def _real_input(fn, input):
    require_tensor(f"fft_{fn}", input, "input", 1)
    if input._dtype.is_complex:
        raise RuntimeError(f"{fn} expects a real input tensor, but got "
                           f"{scalar_name(input._dtype)}")


def _r2c(input, axes, sizes, norm, conj, grad_fn=None):
    cdt = _complex_of(input._dtype)
    return apply(_r2c_op, (input,), _params(axes, sizes, norm, _real_of(cdt), conj=conj),
                 grad_fn)


def fft(input, n=None, dim=-1, norm=None):
    axes, sizes = _one_dim("fft", input, n, dim)
    return _c2c(input, axes, sizes, norm, False, one_dim=True)


def ifft(input, n=None, dim=-1, norm=None):
    axes, sizes = _one_dim("ifft", input, n, dim)
    return _c2c(input, axes, sizes, norm, True, one_dim=True)


def fftn(input, s=None, dim=None, norm=None):
    axes, sizes = _n_dims("fftn", input, s, dim)
    return _c2c(input, axes, sizes, norm, False)


def ifftn(input, s=None, dim=None, norm=None):
    axes, sizes = _n_dims("ifftn", input, s, dim)
    return _c2c(input, axes, sizes, norm, True)


def fft2(input, s=None, dim=(-2, -1), norm=None):
    axes, sizes = _n_dims("fft2", input, s, dim)
    return _c2c(input, axes, sizes, norm, False)


def ifft2(input, s=None, dim=(-2, -1), norm=None):
    axes, sizes = _n_dims("ifft2", input, s, dim)
    return _c2c(input, axes, sizes, norm, True)


def rfft(input, n=None, dim=-1, norm=None):
    _real_input("rfft", input)           # PyTorch checks the dtype before dim and norm
    axes, sizes = _one_dim("rfft", input, n, dim)
    return _r2c(input, axes, sizes, _norm(norm), False)


def _rfftn(fn, input, s, dim, norm):
    axes, sizes = _n_dims(fn, input, s, dim)
    if input._dtype.is_complex:
        raise RuntimeError(f"rfftn expects a real-valued input tensor, but got "
                           f"{scalar_name(input._dtype)}")
    return _r2c(input, axes, sizes, _norm(norm), False)


def rfftn(input, s=None, dim=None, norm=None):
    return _rfftn("rfftn", input, s, dim, norm)


def rfft2(input, s=None, dim=(-2, -1), norm=None):
    return _rfftn("rfft2", input, s, dim, norm)


def _c2r_sizes(fn, input, n_or_s, dim, one_dim):
    """Axes and sizes of irfft*/hfft*, the last size None when left to its default."""
    if one_dim:
        axes, sizes = _one_dim(fn, input, None, dim)
        return axes, ((None,) if n_or_s is None else (_points(n_or_s),))
    axes, sizes = _n_dims(fn, input, n_or_s, dim)
    if axes and (n_or_s is None or tuple(n_or_s)[-1] == -1):
        sizes = sizes[:-1] + (None,)
    return axes, sizes


def irfft(input, n=None, dim=-1, norm=None):
    axes, sizes = _c2r_sizes("irfft", input, n, dim, True)
    return _c2r(input, axes, sizes, _norm(norm), False)


def irfftn(input, s=None, dim=None, norm=None):
    axes, sizes = _c2r_sizes("irfftn", input, s, dim, False)
    return _c2r(input, axes, sizes, _norm(norm), False)


def irfft2(input, s=None, dim=(-2, -1), norm=None):
    axes, sizes = _c2r_sizes("irfft2", input, s, dim, False)
    return _c2r(input, axes, sizes, _norm(norm), False)


def hfft(input, n=None, dim=-1, norm=None):
    axes, sizes = _c2r_sizes("hfft", input, n, dim, True)
    return _c2r(input, axes, sizes, _SWAPPED[_norm(norm)], True)


def hfftn(input, s=None, dim=None, norm=None):
    axes, sizes = _c2r_sizes("hfftn", input, s, dim, False)
    return _c2r(input, axes, sizes, _SWAPPED[_norm(norm)], True)


def hfft2(input, s=None, dim=(-2, -1), norm=None):
    axes, sizes = _c2r_sizes("hfft2", input, s, dim, False)
    return _c2r(input, axes, sizes, _SWAPPED[_norm(norm)], True)


def ihfft(input, n=None, dim=-1, norm=None):
    _real_input("ihfft", input)
    axes, sizes = _one_dim("ihfft", input, n, dim)
    return _r2c(input, axes, sizes, _SWAPPED[_norm(norm)], True, "ConjBackward0")


def _ihfftn(fn, input, s, dim, norm):
    axes, sizes = _n_dims(fn, input, s, dim)
    norm = _SWAPPED[_norm(norm)]
    if input._dtype.is_complex:
        raise RuntimeError(f"Only supports floating-point dtypes, but found: "
                           f"{scalar_name(input._dtype)}")
    # one axis is ihfft (a conjugate view); more run a c2c on the leading axes
    grad_fn = "ConjBackward0" if len(axes) == 1 else "FftC2CBackward0"
    return _r2c(input, axes, sizes, norm, True, grad_fn)


def ihfftn(input, s=None, dim=None, norm=None):
    return _ihfftn("ihfftn", input, s, dim, norm)


def ihfft2(input, s=None, dim=(-2, -1), norm=None):
    return _ihfftn("ihfft2", input, s, dim, norm)


# -- frequencies and shifts -------------------------------------------------------------------
def _frequencies(n, d, onesided, dtype, device, requires_grad):
    from .._factories import arange
    if dtype is None:
        dtype = dt.get_default_dtype()
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    count = n // 2 + 1 if onesided else n
    # the integer frequency index k, wrapped to negative values past the middle
    k = arange(count, dtype=dt.int64, device=device)
    if not onesided:
        k = k - (k >= (n + 1) // 2).to(dt.int64) * n
    out = k.to(dtype) * (1.0 / (n * d)) if n else k.to(dtype)   # as PyTorch scales
    out = out.detach()
    return out.requires_grad_(requires_grad) if requires_grad else out


def fftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False,
            out=None):
    result = _frequencies(n, d, False, dtype, device, requires_grad)
    return result if out is None else out.copy_(result)


def rfftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False,
             out=None):
    result = _frequencies(n, d, True, dtype, device, requires_grad)
    return result if out is None else out.copy_(result)


def _shift(input, dim, inverse):
    from .shape import roll
    if dim is None:
        dims = tuple(range(input.ndim))
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = tuple(wrap_dim(d, input.ndim) for d in dims)
    if not dims:
        return roll(input, 0, 0) if input.ndim else input.clone()
    shifts = tuple((input.shape[d] + 1) // 2 if inverse else input.shape[d] // 2 for d in dims)
    return roll(input, shifts, dims)


def fftshift(input, dim=None):
    require_tensor("fft_fftshift", input, "input", 1)
    return _shift(input, dim, False)


def ifftshift(input, dim=None):
    require_tensor("fft_ifftshift", input, "input", 1)
    return _shift(input, dim, True)


TRANSFORMS = {f.__name__: f for f in (fft, ifft, fft2, ifft2, fftn, ifftn, rfft, irfft, rfft2,
                                      irfft2, rfftn, irfftn, hfft, ihfft, hfft2, ihfft2, hfftn,
                                      ihfftn)}
HELPERS = {f.__name__: f for f in (fftfreq, rfftfreq, fftshift, ifftshift)}
