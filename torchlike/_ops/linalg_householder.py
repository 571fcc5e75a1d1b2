"""LAPACK's compact factorizations: Householder QR (geqrf, householder_product, ormqr) and
symmetric-indefinite LDL^T (ldl_factor, ldl_factor_ex, ldl_solve).

geqrf is JAX's own LAPACK call (the routine PyTorch calls on CPU), so the reflectors agree.
JAX has no derivative for its householder_product, so applying reflectors is written here
as a scan of rank-one updates, which jax.vjp differentiates. JAX does not expose sytrf /
sytrs at all: LDL^T calls SciPy's LAPACK wrappers on the host (jax.pure_callback), the same
Bunch-Kaufman routine PyTorch calls, so factors and pivots agree; PyTorch has no derivative
for these either.
"""

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype as dt
from ..return_types import structseq
from ._common import expose
from .decomp import LINALG, _at_least_2d, _float_input
from .dispatch import apply
from .registry import OPS, Op
from ._util import scalar_name

_Named = {name: structseq(name, fields) for name, fields in [
    ("geqrf", ("a", "tau")), ("linalg_ldl_factor", ("LD", "pivots")),
    ("linalg_ldl_factor_ex", ("LD", "pivots", "info"))]}


def _scalar(t):
    return scalar_name(t._dtype)


def _mH(x):
    return jnp.conj(jnp.swapaxes(x, -1, -2))


# -- Householder reflectors ---------------------------------------------------------------------
def _geqrf_impl(A):
    from jax._src.lax.linalg import geqrf     # not re-exported by jax.lax.linalg
    return geqrf(A)


OPS["geqrf"] = _geqrf_op = Op("geqrf", _geqrf_impl, "GeqrfBackward0", (), differentiable=False)


def _apply_reflectors(A, tau, C, *, transpose):
    """Q C (or Q^H C) with Q = H_1 ... H_k, H_i = I - tau_i v_i v_i^H, v_i the i-th column
    of A below the diagonal with a unit diagonal (LAPACK's compact form)."""
    m, k = A.shape[-2], tau.shape[-1]
    V = jnp.tril(A[..., :, :k], -1) + jnp.eye(m, k, dtype=A.dtype)
    vs = jnp.moveaxis(V, -1, 0)                       # (k, *batch, m)
    taus = jnp.moveaxis(jnp.conj(tau) if transpose else tau, -1, 0)

    def reflect(X, v_tau):
        v, t = v_tau
        w = jnp.einsum("...m,...mn->...n", jnp.conj(v), X)
        return X - t[..., None, None] * v[..., :, None] * w[..., None, :], None
    # Q C applies H_k first; Q^H C applies H_1^H first
    X, _ = jax.lax.scan(reflect, C, (vs, taus), reverse=not transpose)
    return X


def _householder_product_impl(A, tau):
    m, n = A.shape[-2:]
    eye = jnp.broadcast_to(jnp.eye(m, n, dtype=A.dtype), A.shape)
    return _apply_reflectors(A, tau, eye, transpose=False)


OPS["linalg_householder_product"] = _householder_op = Op(
    "linalg_householder_product", _householder_product_impl, "LinalgHouseholderProductBackward0",
    (0, 1))


def _ormqr_impl(A, tau, C, *, left, transpose):
    if left:
        return _apply_reflectors(A, tau, C, transpose=transpose)
    # C Q = (Q^H C^H)^H and C Q^H = (Q C^H)^H
    return _mH(_apply_reflectors(A, tau, _mH(C), transpose=not transpose))


OPS["ormqr"] = _ormqr_op = Op("ormqr", _ormqr_impl, "OrmqrBackward0", (0, 1, 2))


def _at_least_2d_input(name, A):
    if A.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")


def geqrf(input):
    _at_least_2d_input("torch.geqrf", input)
    _float_input("torch.geqrf", input)
    return _Named["geqrf"](*apply(_geqrf_op, (input,)))


def householder_product(A, tau):
    _at_least_2d_input("torch.linalg.householder_product", A)
    if A.shape[-2] < A.shape[-1]:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-2] must be greater "
                           "than or equal to input.shape[-1]")
    if tau.shape[-1] > A.shape[-1]:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-1] must be greater "
                           "than or equal to tau.shape[-1]")
    return apply(_householder_op, (A, tau))


def ormqr(input, tau, other, left=True, transpose=False):
    if input.ndim < 2:
        raise RuntimeError("torch.ormqr: input must have at least 2 dimensions.")
    if other.ndim < 2:
        raise RuntimeError("torch.ormqr: other must have at least 2 dimensions.")
    if tau.ndim != input.ndim - 1:
        raise RuntimeError("torch.ormqr: Expected tau to have one dimension less than input, "
                           f"but got tau.ndim equal to {tau.ndim} and input.ndim is equal to "
                           f"{input.ndim}")
    axis = -2 if left else -1
    if other.shape[axis] != input.shape[-2]:
        raise RuntimeError(f"torch.ormqr: other.shape[{axis}] must be equal to input.shape[-2]")
    if tau.shape[-1] != min(other.shape[axis], input.shape[-1]):
        raise RuntimeError(f"torch.ormqr: tau.shape[-1] must be equal to min(other.shape[{axis}], "
                           "input.shape[-1])")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise NotImplementedError(f'"ormqr_cpu" not implemented for '
                                  f"'{str(input.dtype)[6:].capitalize()}'")
    if tau.dtype is not input.dtype or other.dtype is not input.dtype:
        name, bad = ("tau", tau) if tau.dtype is not input.dtype else ("other", other)
        raise RuntimeError(f"torch.ormqr: Expected input and {name} to have the same dtype, but "
                           f"input has dtype{_scalar(input)} and {name} has dtype {_scalar(bad)}")
    return apply(_ormqr_op, (input, tau, other),
                 (("left", bool(left)), ("transpose", bool(transpose))))


# -- LDL^T (Bunch-Kaufman), on the host --------------------------------------------------------
def _lapack(prefix, dtype, hermitian):
    from scipy.linalg import lapack
    letter = {"float32": "s", "float64": "d", "complex64": "c", "complex128": "z"}[str(dtype)]
    kind = "he" if hermitian and letter in "cz" else "sy"
    return getattr(lapack, letter + kind + prefix)


def _host_ldl_factor(A, hermitian):
    A = np.asarray(A)
    sytrf = _lapack("trf", A.dtype, hermitian)
    LD = np.empty_like(A)
    pivots = np.empty(A.shape[:-1], np.int32)
    info = np.empty(A.shape[:-2], np.int32)
    for i in np.ndindex(A.shape[:-2]):
        ld, piv, status = sytrf(A[i], lower=1)
        LD[i], pivots[i], info[i] = np.tril(ld), piv, status
    return LD, pivots, info


def _ldl_factor_impl(A, *, hermitian):
    shapes = (jax.ShapeDtypeStruct(A.shape, A.dtype),
              jax.ShapeDtypeStruct(A.shape[:-1], jnp.int32),
              jax.ShapeDtypeStruct(A.shape[:-2], jnp.int32))
    return jax.pure_callback(lambda a: _host_ldl_factor(a, hermitian), shapes, A,
                             vmap_method="expand_dims")


OPS["linalg_ldl_factor"] = _ldl_factor_op = Op("linalg_ldl_factor", _ldl_factor_impl,
                                               "LinalgLdlFactorExBackward0", (),
                                               differentiable=False)


def _host_ldl_solve(LD, pivots, B, hermitian):
    LD, pivots, B = np.asarray(LD), np.asarray(pivots), np.asarray(B)
    sytrs = _lapack("trs", LD.dtype, hermitian)
    batch = np.broadcast_shapes(LD.shape[:-2], B.shape[:-2])
    LD = np.broadcast_to(LD, batch + LD.shape[-2:])
    pivots = np.broadcast_to(pivots, batch + pivots.shape[-1:])
    X = np.empty(batch + B.shape[-2:], LD.dtype)
    B = np.broadcast_to(B, X.shape)
    for i in np.ndindex(batch):
        X[i] = sytrs(LD[i], pivots[i], B[i], lower=1)[0]
    return X


def _ldl_solve_impl(LD, pivots, B, *, hermitian):
    batch = jnp.broadcast_shapes(LD.shape[:-2], B.shape[:-2])
    shape = jax.ShapeDtypeStruct(batch + B.shape[-2:], LD.dtype)
    return jax.pure_callback(lambda ld, p, b: _host_ldl_solve(ld, p, b, hermitian), shape,
                             LD, pivots, B, vmap_method="expand_dims")


OPS["linalg_ldl_solve"] = _ldl_solve_op = Op("linalg_ldl_solve", _ldl_solve_impl,
                                             "LinalgLdlSolveBackward0", (), differentiable=False)


def _check_ldl_input(name, A):
    _at_least_2d(name, A)
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    if not (A.dtype.is_floating_point or A.dtype.is_complex) or A.dtype in (dt.float16,
                                                                           dt.bfloat16):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {str(A.dtype)[6:].capitalize()}")


def _ldl(name, A, hermitian, check_errors):
    _check_ldl_input("torch.linalg.ldl_factor_ex", A)
    LD, pivots, info = apply(_ldl_factor_op, (A,), (("hermitian", bool(hermitian)),))
    if check_errors and bool((info != 0).any()):
        # PyTorch reports sytrf's positive info (an exactly zero pivot) as an unknown code
        code = int(info.reshape(-1)[(info.reshape(-1) != 0).int().argmax()])
        raise RuntimeError(f"{name}: Unknown error code: {code}.")
    return LD, pivots, info


def ldl_factor_ex(A, *, hermitian=False, check_errors=False):
    return _Named["linalg_ldl_factor_ex"](*_ldl("torch.linalg.ldl_factor_ex", A, hermitian,
                                                check_errors))


def ldl_factor(A, *, hermitian=False):
    LD, pivots, _ = _ldl("torch.linalg.ldl_factor", A, hermitian, True)
    return _Named["linalg_ldl_factor"](LD, pivots)


def ldl_solve(LD, pivots, B, *, hermitian=False):
    _check_ldl_input("torch.linalg.ldl_solve", LD)
    if B.ndim < 2:
        raise RuntimeError("torch.linalg.ldl_solve: The input tensor B must have at least 2 "
                           "dimensions.")
    return apply(_ldl_solve_op, (LD, pivots, B), (("hermitian", bool(hermitian)),))


LINALG.update(householder_product=householder_product, ldl_factor=ldl_factor,
              ldl_factor_ex=ldl_factor_ex, ldl_solve=ldl_solve)
expose("geqrf", geqrf, inplace=False)
expose("ormqr", ormqr, inplace=False)
expose("orgqr", householder_product, inplace=False)     # torch.orgqr: the older spelling
