"""Complex numbers in parts: real, imag, angle, polar, complex, view_as_real/complex.

torchlike's real/imag/view_as_real return new tensors, not views sharing the complex
tensor's storage (JAX has no reinterpreting view): reading them matches PyTorch; writing
into them does not reach the complex tensor.
"""
import jax.numpy as jnp

from .. import _dtype as dt
from .._tensor import Tensor
from ._common import expose, require_tensor, write_out
from .dispatch import apply
from .registry import OPS, Op
from ._util import float_result_dtype, scalar_name

OPS["real"] = _real_op = Op("real", lambda a: jnp.real(a), "RealBackward0", ())
OPS["imag"] = _imag_op = Op("imag", lambda a: jnp.imag(a), "ImagBackward0", ())


def real(input):
    require_tensor("real", input, "input", 1)
    return apply(_real_op, (input,)) if input._dtype.is_complex else input


def imag(input):
    require_tensor("imag", input, "input", 1)
    if not input._dtype.is_complex:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return apply(_imag_op, (input,))


def _angle_impl(a, *, dtype):
    if jnp.iscomplexobj(a):
        return jnp.angle(a)
    a = a.astype(dtype)
    # PyTorch: pi for negative reals, 0 otherwise, nan stays nan
    return jnp.where(jnp.isnan(a), a, jnp.where(a < 0, jnp.pi, 0.0).astype(dtype))


OPS["angle"] = _angle_op = Op("angle", _angle_impl, "AngleBackward0", (0,))


def angle(input):
    require_tensor("angle", input, "input", 1)
    d = input._dtype.to_real() if input._dtype.is_complex else float_result_dtype(input._dtype)
    return apply(_angle_op, (input,), (("dtype", d.np),))


OPS["polar"] = _polar_op = Op("polar", lambda r, t: r * jnp.exp(1j * t.astype(
    jnp.result_type(t.dtype, jnp.complex64))), "PolarBackward0", (0, 1))
OPS["complex"] = _complex_op = Op("complex", lambda re, im: jax_complex(re, im),
                                  "ComplexBackward0", ())


def jax_complex(re, im):
    return re + 1j * im.astype(jnp.result_type(im.dtype, jnp.complex64))


def _parts(name, a, b):
    for arg, t in (("real", a), ("imag", b)) if name == "complex" else (("abs", a), ("angle", b)):
        require_tensor(name, t, arg, 1 if arg in ("real", "abs") else 2)
    if a._dtype not in (dt.float32, dt.float64) or b._dtype not in (dt.float32, dt.float64):
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got "
                           f"{scalar_name(a._dtype)} and {scalar_name(b._dtype)}")
    if a._dtype is not b._dtype:
        raise RuntimeError(f"Expected object of scalar type {scalar_name(a._dtype)} but got "
                           f"scalar type {scalar_name(b._dtype)} for second argument")


def polar(abs, angle):  # noqa: A002 - PyTorch's argument names
    _parts("polar", abs, angle)
    return apply(_polar_op, (abs, angle))


def complex(real, imag):  # noqa: A001
    _parts("complex", real, imag)
    return apply(_complex_op, (real, imag))


OPS["view_as_real"] = _as_real_op = Op(
    "view_as_real", lambda a: jnp.stack([jnp.real(a), jnp.imag(a)], axis=-1),
    "ViewAsRealBackward0", ())
OPS["view_as_complex"] = _as_complex_op = Op(
    "view_as_complex", lambda a: jax_complex(a[..., 0], a[..., 1]), "ViewAsComplexBackward0", ())


def view_as_real(input):
    if not input._dtype.is_complex:
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return apply(_as_real_op, (input,))


def view_as_complex(input):
    if input._dtype not in (dt.float32, dt.float64):
        raise RuntimeError("view_as_complex is only supported for floating point tensors, but "
                           f"got a tensor of scalar type: {scalar_name(input._dtype)}")
    if not input.ndim or input.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    return apply(_as_complex_op, (input,))


expose("real", real, method=False, inplace=False, out=False)
expose("imag", imag, method=False, inplace=False, out=False)
Tensor.real = property(real)          # attributes on a Tensor, as in PyTorch
Tensor.imag = property(imag)
expose("angle", angle)
expose("polar", polar, method=False, inplace=False)
def _complex_function(real, imag, *, out=None):
    result = complex(real, imag)
    if out is None:
        return result
    if isinstance(out, Tensor) and out._dtype is not result._dtype:   # no casting into out
        raise RuntimeError(f"Expected object of scalar type {scalar_name(result._dtype)} but got "
                           f"scalar type {scalar_name(out._dtype)} for argument 'out'")
    return write_out("complex", out, result)


expose("complex", _complex_function, method=False, inplace=False, out=False)
expose("view_as_real", view_as_real, method=False, inplace=False, out=False)
expose("view_as_complex", view_as_complex, method=False, inplace=False, out=False)
