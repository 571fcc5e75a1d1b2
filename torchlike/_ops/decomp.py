"""torch.linalg: norms, solves, inverses, determinants and decompositions, plus the
older torch.* spellings (inverse, det, logdet, slogdet, cholesky, qr, svd, pinverse,
matrix_power). JAX calls the same LAPACK routines as PyTorch on CPU, so signs of
eigen- and singular vectors agree.

PyTorch checks LAPACK's status and raises torch.linalg.LinAlgError for singular or
non positive-definite inputs; torchlike reads the (small) status back on the host to
raise the same error.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype as dt
from ..return_types import structseq
from .._tensor import Tensor
from ._common import expose, is_float, no_derivative
from .dispatch import apply
from .registry import Op, OPS
from ._util import scalar_name, wrap_dim, wrap_dims


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError."""


LinAlgError.__name__ = LinAlgError.__qualname__ = "_LinAlgError"   # as PyTorch's class prints

_RESULTS = {"linalg_slogdet": ("sign", "logabsdet"), "slogdet": ("sign", "logabsdet"),
            "linalg_qr": ("Q", "R"), "qr": ("Q", "R"), "linalg_svd": ("U", "S", "Vh"),
            "svd": ("U", "S", "V"), "linalg_eigh": ("eigenvalues", "eigenvectors"),
            "linalg_lstsq": ("solution", "residuals", "rank", "singular_values"),
            "linalg_inv_ex": ("inverse", "info"), "linalg_cholesky_ex": ("L", "info")}
_NAMED = {k: structseq(k, v) for k, v in _RESULTS.items()}


def _float_input(name, A):
    if not is_float(A._dtype):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {scalar_name(A._dtype)}")


def _at_least_2d(name, A, arg="A"):
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {arg} must have at least 2 dimensions.")


def _solve_shapes(name, A, B, left, vector):
    """PyTorch's message for a right-hand side that does not fit A."""
    rows, cols = (B.shape[-1], 1) if vector else tuple(B.shape[-2:])
    if (rows if left else cols) != A.shape[-1]:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation {eq} "
                           f"({A.shape[-2]}x{A.shape[-1]} and {rows}x{cols})")


def _square(name, A):
    _at_least_2d(name, A)
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


# -- norms --------------------------------------------------------------------------------------
@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2, 3))
def _vnorm(x, ord, dims, keepdim):
    a = jnp.abs(x)
    if ord == float("inf"):
        return jnp.max(a, axis=dims, keepdims=keepdim)
    if ord == float("-inf"):
        return jnp.min(a, axis=dims, keepdims=keepdim)
    if ord == 0:
        return jnp.sum(a != 0, axis=dims, keepdims=keepdim).astype(x.dtype)
    if ord == 1:
        return jnp.sum(a, axis=dims, keepdims=keepdim)
    if ord == 2:
        return jnp.sqrt(jnp.sum(a * a, axis=dims, keepdims=keepdim))
    return jnp.sum(a ** ord, axis=dims, keepdims=keepdim) ** (1.0 / ord)


@_vnorm.defjvp
def _vnorm_jvp(ord, dims, keepdim, primals, tangents):
    """PyTorch's linalg_vector_norm_backward: 0 where the norm is 0, the gradient shared
    among the extreme entries for +-inf."""
    (x,), (t,) = primals, tangents
    out = _vnorm(x, ord, dims, keepdim)
    norm = _vnorm(x, ord, dims, True)
    sign = jnp.sign(x)
    if ord == 0:
        d = jnp.zeros_like(x)
    elif ord == 1:
        d = sign
    elif ord in (float("inf"), float("-inf")):
        mask = (jnp.abs(x) == norm)
        d = sign * mask / jnp.sum(mask, axis=dims, keepdims=True)
    elif ord == 2:
        d = jnp.where(norm == 0, 0, x / jnp.where(norm == 0, 1, norm))
    else:
        safe = jnp.where(norm == 0, 1, norm)
        d = jnp.where(norm == 0, 0, sign * jnp.abs(x) ** (ord - 1) / safe ** (ord - 1))
    return out, jnp.sum(d * t, axis=dims, keepdims=keepdim).astype(out.dtype)


def _vnorm_impl(x, *, ord, dims, keepdim, dtype):
    # half types accumulate in float32 (as PyTorch's), so squares cannot overflow
    wide = jnp.float32 if dtype in (jnp.float16, jnp.bfloat16) else dtype
    return _vnorm(x.astype(wide), ord, dims, keepdim).astype(dtype)


OPS["linalg_vector_norm"] = _vnorm_op = Op("linalg_vector_norm", _vnorm_impl,
                                           "LinalgVectorNormBackward0", (0, "result"))


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    if not isinstance(ord, (int, float)):
        raise TypeError("linalg_vector_norm(): argument 'ord' (position 2) must be Number, not "
                        f"{type(ord).__name__}")
    if not is_float(x._dtype):
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {scalar_name(x._dtype)}")
    all_dims = dim is None or (isinstance(dim, (tuple, list)) and not dim)
    if x.numel() == 0 and (ord < 0 or ord == float("inf")):    # no identity to start from
        if all_dims:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord:g} norm on an empty "
                               "tensor because the operation does not have an identity")
        for d in (dim,) if isinstance(dim, int) else dim:
            if x.shape[wrap_dims(d, x.ndim)[0]] == 0:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {ord:g} norm on the "
                                   f"dimension {d}because this dimension is empty and the "
                                   "operation does not have an identity")
    dims = None if all_dims else wrap_dims(dim, x.ndim)
    if dims is not None and x.ndim == 0:
        dims = None
    if dtype is not None and not is_float(dtype):
        raise RuntimeError("linalg.vector_norm: dtype should be floating point or complex, but "
                           f"got {scalar_name(dtype)}")
    d = dtype or x._dtype
    return apply(_vnorm_op, (x,), (("ord", float(ord)), ("dims", dims), ("keepdim", keepdim),
                                   ("dtype", d.np)))


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Composed as PyTorch does, so the final node matches (Amax, Sum, LinalgVectorNorm)."""
    from .reduce import amax, amin, sum
    if A.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 "
                           f"dimensions.")
    if isinstance(dim, int):
        raise TypeError("linalg_matrix_norm() received an invalid combination of arguments - "
                        "got (Tensor, dim=int)")
    if not is_float(A._dtype) and dtype is None:
        raise RuntimeError("linalg.matrix_norm: Expected a floating point or complex tensor as "
                           f"input. Got {scalar_name(A._dtype)}")
    if len(dim) != 2:
        raise RuntimeError("linalg.matrix_norm: dim must be a 2-tuple. Got "
                           + " ".join(str(d) for d in dim))
    d0, d1 = wrap_dims(dim, A.ndim)
    if ord not in ("fro", "nuc", 2, -2, 1, -1, float("inf"), float("-inf")):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if not is_float(dtype or A._dtype):
        raise RuntimeError("linalg.matrix_norm: Expected a floating point or complex tensor as "
                           f"input. Got {scalar_name(dtype or A._dtype)}")
    if dtype is not None:
        A = A.to(dtype)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        sv = svdvals(_move_to_end(A, d0, d1))
        if ord == "nuc":
            out = sum(sv, -1)
        else:
            out = (amax if ord == 2 else amin)(sv, -1)
        return _keep(out, A, d0, d1) if keepdim else out
    if ord in (1, -1, float("inf"), float("-inf")):
        # PyTorch: amax(abs(A).sum(dim0, keepdim), dim1, keepdim), one node each
        from .pointwise import UNARY
        reduce_dim, other = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = sum(UNARY["abs"](A), reduce_dim, keepdim)
        if not keepdim and other > reduce_dim:
            other -= 1
        return (amax if ord > 0 else amin)(sums, other, keepdim)
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def _move_to_end(A, d0, d1):
    from .views import movedim
    return movedim(A, (d0, d1), (-2, -1))


def _keep(out, A, d0, d1):
    from .views import unsqueeze
    for d in sorted((d0, d1)):
        out = unsqueeze(out, d)
    return out


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    if dim is not None and not isinstance(dim, int) and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is not None and dim is None and A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be "
                           f"1D or 2D. Got {A.ndim}D.")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


# -- solve, inv, det ----------------------------------------------------------------------------
def _lu_status(name, A_array):
    """PyTorch's singular-matrix error, from the first zero pivot of an LU factorisation."""
    if A_array.size == 0:          # nothing to factor: never singular
        return
    lu, _, _ = jax.lax.linalg.lu(A_array)
    diag = np.asarray(jnp.diagonal(lu, axis1=-2, axis2=-1)).reshape(-1, lu.shape[-1])
    for b, row in enumerate(diag):
        zeros = np.nonzero(row == 0)[0]
        if zeros.size:
            prefix = f"(Batch element {b}): " if A_array.ndim > 2 else ""
            if name.endswith("solve"):
                raise LinAlgError(f"{name}: {prefix}The solver failed because the input matrix "
                                  "is singular.")
            raise LinAlgError(f"{name}: {prefix}The diagonal element {zeros[0] + 1} is zero, the "
                              "inversion could not be completed because the input matrix is "
                              "singular.")


def _solve_impl(A, B, *, vector, left):
    if vector:
        return jnp.linalg.solve(A, B[..., None])[..., 0]
    if not left:        # X A = B  <=>  A^T X^T = B^T
        return jnp.swapaxes(jnp.linalg.solve(jnp.swapaxes(A, -1, -2), jnp.swapaxes(B, -1, -2)),
                            -1, -2)
    return jnp.linalg.solve(A, B)


OPS["linalg_solve"] = _solve_op = Op("linalg_solve", _solve_impl, "LinalgSolveExBackward0", (0, 1))


def solve(A, B, *, left=True):
    _square("linalg.solve", A)
    _float_input("linalg.solve", A)
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    _solve_shapes("linalg.solve", A, B, left, vector and left)
    _lu_status("torch.linalg.solve", A._data())
    return apply(_solve_op, (A, B), (("vector", vector and left), ("left", bool(left))))


def _inv_impl(A):
    return jnp.linalg.inv(A)


OPS["linalg_inv"] = _inv_op = Op("linalg_inv", _inv_impl, "LinalgInvExBackward0", (0,))


def inv(A):
    _square("linalg.inv", A)
    _float_input("linalg.inv", A)
    _lu_status("linalg.inv", A._data())
    return apply(_inv_op, (A,))


def _det_impl(A):
    if A.shape[-1] == 0:        # the empty product; jnp.linalg.det's derivative fails on 0x0
        return jnp.ones(A.shape[:-2], A.dtype)
    return jnp.linalg.det(A)


OPS["linalg_det"] = _det_op = Op("linalg_det", _det_impl, "LinalgDetBackward0", (0, "result"))


def det(A):
    _square("linalg.det", A)
    _float_input("linalg.det", A)
    return apply(_det_op, (A,))


def _slogdet_impl(A):
    sign, logabs = jnp.linalg.slogdet(A)
    return jax.lax.stop_gradient(sign), logabs


OPS["linalg_slogdet"] = _slogdet_op = Op("linalg_slogdet", _slogdet_impl, "LinalgSlogdetBackward0",
                                         (0,))


def slogdet(A):
    _square("linalg.slogdet", A)
    _float_input("linalg.slogdet", A)
    return _NAMED["linalg_slogdet"](*apply(_slogdet_op, (A,)))


def _logdet_impl(A):
    sign, logabs = jnp.linalg.slogdet(A)
    return jnp.where(sign < 0, jnp.nan, jnp.where(sign == 0, -jnp.inf, logabs))


OPS["logdet"] = _logdet_op = Op("logdet", _logdet_impl, "WhereBackward0", (0,))


def logdet(A):
    _square("logdet", A)
    _float_input("logdet", A)
    return apply(_logdet_op, (A,))


# -- decompositions -----------------------------------------------------------------------------
def _cholesky_impl(A, *, upper):
    L = jnp.linalg.cholesky(A)
    return jnp.swapaxes(L, -1, -2).conj() if upper else L


OPS["linalg_cholesky"] = _chol_op = Op("linalg_cholesky", _cholesky_impl,
                                       "LinalgCholeskyExBackward0", ("result",))


def cholesky(A, *, upper=False, out=None):
    _square("linalg.cholesky", A)
    _float_input("linalg.cholesky", A)
    result = apply(_chol_op, (A,), (("upper", bool(upper)),))
    _check_positive_definite("linalg.cholesky", result)
    return result


def _check_positive_definite(name, L):
    if L.numel() == 0:
        return
    diag = np.asarray(jnp.diagonal(L._data(), axis1=-2, axis2=-1)).reshape(-1, L.shape[-1])
    for b, row in enumerate(diag):
        bad = np.nonzero(~np.isfinite(row))[0]
        if bad.size:
            prefix = f"(Batch element {b}): " if L.ndim > 2 else ""
            raise LinAlgError(f"{name}: {prefix}The factorization could not be completed because "
                              f"the input is not positive-definite (the leading minor of order "
                              f"{bad[0] + 1} is not positive-definite).")


_QR_COMPLETE = ("The QR decomposition is not differentiable when mode='complete' and "
                "nrows > ncols.")
_QR_R = ("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please "
         "use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")


def _qr_values(A, mode):
    if mode == "r":
        return jnp.zeros((0,), A.dtype), jnp.linalg.qr(A, mode="r")
    return tuple(jnp.linalg.qr(A, mode=mode))


def _qr_impl(A, *, mode):
    # PyTorch has no derivative in these two cases and raises in backward
    if mode == "r":
        return no_derivative(functools.partial(_qr_values, mode=mode), RuntimeError(_QR_R))(A)
    if mode == "complete" and A.shape[-2] > A.shape[-1]:
        return no_derivative(functools.partial(_qr_values, mode=mode),
                             RuntimeError(_QR_COMPLETE))(A)
    return _qr_values(A, mode)


OPS["linalg_qr"] = _qr_op = Op("linalg_qr", _qr_impl, "LinalgQrBackward0", ("result",))


def qr(A, mode="reduced"):
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    _at_least_2d("linalg.qr", A)
    _float_input("linalg.qr", A)
    return _NAMED["linalg_qr"](*apply(_qr_op, (A,), (("mode", mode),)))


@jax.custom_vjp
def _svd_full(A):
    return tuple(jnp.linalg.svd(A, full_matrices=True))


def _svd_full_fwd(A):
    U, S, Vh = _svd_full(A)
    return (U, S, Vh), (A, U, Vh)


def _svd_full_bwd(residuals, cotangents):
    """As PyTorch: the extra columns of U (rows of Vh) get no gradient; the rest is the
    reduced SVD's, with the cotangents turned to the reduced SVD's signs."""
    A, U, Vh = residuals
    gU, gS, gVh = cotangents
    k = min(A.shape[-2], A.shape[-1])
    (Ur, _, _), pullback = jax.vjp(lambda a: tuple(jnp.linalg.svd(a, full_matrices=False)), A)
    signs = jnp.sign(jnp.sum(U[..., :, :k] * Ur, axis=-2))
    return pullback((gU[..., :, :k] * signs[..., None, :], gS, gVh[..., :k, :] * signs[..., :, None]))


_svd_full.defvjp(_svd_full_fwd, _svd_full_bwd)


def _svd_impl(A, *, full_matrices):
    if full_matrices:
        return _svd_full(A)
    return tuple(jnp.linalg.svd(A, full_matrices=False))


OPS["linalg_svd"] = _svd_op = Op("linalg_svd", _svd_impl, "LinalgSvdBackward0", ("result",))


def svd(A, full_matrices=True, *, driver=None):
    _at_least_2d("linalg.svd", A)
    _float_input("linalg.svd", A)
    return _NAMED["linalg_svd"](*apply(_svd_op, (A,), (("full_matrices", bool(full_matrices)),)))


def _svdvals_impl(A):
    return jnp.linalg.svd(A, compute_uv=False)


OPS["linalg_svdvals"] = _svdvals_op = Op("linalg_svdvals", _svdvals_impl, "LinalgSvdBackward0", (0,))


def svdvals(A, *, driver=None):
    _at_least_2d("linalg.svd", A)
    _float_input("linalg.svd", A)
    return apply(_svdvals_op, (A,))


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _eigh(A, lower):
    return tuple(jnp.linalg.eigh(A, UPLO="L" if lower else "U", symmetrize_input=False))


def _eigh_fwd(A, lower):
    w, V = _eigh(A, lower)
    return (w, V), (w, V)


def _eigh_bwd(lower, residuals, cotangents):
    """PyTorch's linalg_eig_backward for Hermitian input:
    gA = V (skew(V^H gV) / (w_j - w_i) + diag(gw)) V^H."""
    w, V = residuals
    gw, gV = cotangents
    Vh = jnp.swapaxes(V, -1, -2).conj()
    VhgV = Vh @ gV
    VhgV = 0.5 * (VhgV - jnp.swapaxes(VhgV, -1, -2).conj())
    E = w[..., None, :] - w[..., :, None]
    n = w.shape[-1]
    E = jnp.where(jnp.eye(n, dtype=bool), 1, E)
    inner = jnp.where(jnp.eye(n, dtype=bool), 0, VhgV / E) + gw[..., :, None] * jnp.eye(n, dtype=w.dtype)
    return (V @ inner @ Vh,)


_eigh.defvjp(_eigh_fwd, _eigh_bwd)


def _eigh_impl(A, *, lower, values_only):
    w, V = _eigh(A, lower)
    return w if values_only else (w, V)


OPS["linalg_eigh"] = _eigh_op = Op("linalg_eigh", _eigh_impl, "LinalgEighBackward0", ("result",))


def _uplo(UPLO):
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO.upper() == "L"


def eigh(A, UPLO="L"):
    _uplo(UPLO)
    _square("linalg.eigh", A)
    _float_input("linalg.eigh", A)
    return _NAMED["linalg_eigh"](*apply(_eigh_op, (A,), (("lower", _uplo(UPLO)),
                                                         ("values_only", False))))


def eigvalsh(A, UPLO="L"):
    _uplo(UPLO)
    _square("linalg.eigh", A)
    _float_input("linalg.eigh", A)
    return apply(_eigh_op, (A,), (("lower", _uplo(UPLO)), ("values_only", True)))


def _pinv_impl(A, atol, rtol, *, hermitian):
    """Singular values at most max(atol, rtol * largest) count as zero, as PyTorch's;
    a hermitian A is read from its lower triangle only (eigh's UPLO='L')."""
    if hermitian:         # LAPACK reads the lower triangle; the gradient is eigh's
        w, V = jnp.linalg.eigh(A, UPLO="L", symmetrize_input=False)
        sv = jnp.abs(w)
    else:
        U, sv, Vh = jnp.linalg.svd(A, full_matrices=False)
    largest = jnp.max(sv, axis=-1, keepdims=True, initial=0.0)
    threshold = jnp.maximum(atol[..., None], rtol[..., None] * largest)
    inverse = jnp.where(sv > threshold, 1 / jnp.where(sv > threshold, sv, 1), 0)
    if hermitian:
        scaled = V * (jnp.sign(w) * inverse)[..., None, :]
        return scaled @ jnp.conj(jnp.swapaxes(V, -1, -2))
    return jnp.conj(jnp.swapaxes(Vh, -1, -2)) * inverse[..., None, :] \
        @ jnp.conj(jnp.swapaxes(U, -1, -2))


def _mH(x):
    return jnp.conj(jnp.swapaxes(x, -1, -2))


@functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
def _pinv_with_grad(A, atol, rtol, hermitian):
    return _pinv_impl(A, atol, rtol, hermitian=hermitian)


def _pinv_fwd(A, atol, rtol, hermitian):
    P = _pinv_impl(A, atol, rtol, hermitian=hermitian)
    return P, (A, P, atol, rtol)


def _pinv_bwd(hermitian, residuals, g):
    """The derivative of the pseudo-inverse (Golub & Pereyra) in the full A, which
    PyTorch uses in hermitian mode too; no gradient for the tolerances."""
    A, P, atol, rtol = residuals
    Ph, gh = _mH(P), _mH(g)
    if A.shape[-2] <= A.shape[-1]:
        K = gh @ P
        KPh = K @ Ph
        gA = -_mH(P @ K) + KPh - (A @ P) @ KPh + (Ph @ P) @ (gh - K @ A)
    else:
        K = P @ gh
        PhK = Ph @ K
        gA = -_mH(K @ P) + PhK - PhK @ P @ A + (gh - A @ K) @ P @ Ph
    return gA, jnp.zeros_like(atol), jnp.zeros_like(rtol)


_pinv_with_grad.defvjp(_pinv_fwd, _pinv_bwd)


def _pinv_op_impl(A, atol, rtol, *, hermitian):
    return _pinv_with_grad(A, atol, rtol, hermitian)


OPS["linalg_pinv"] = _pinv_op = Op("linalg_pinv", _pinv_op_impl, "LinalgPinvBackward0", (0, "result"))


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    if A.ndim < 2 or not is_float(A._dtype):
        raise RuntimeError(f"linalg.pinv({scalar_name(A._dtype)}{{{list(A.shape)}}}): expected a "
                           "tensor with 2 or more dimensions of float, double, cfloat or cdouble "
                           "types")
    real = dt.float32 if A._dtype in (dt.float32, dt.complex64) else dt.float64
    if rtol is None:         # PyTorch: eps * max(m, n), or 0 when only atol is given
        rtol = 0.0 if atol is not None else float(np.finfo(real.np).eps) * max(A.shape[-2:])
    from .._factories import tensor
    from .._tensor import Tensor as tensor_type     # (this module's Tensor name is deleted)
    tols = [t.to(real) if isinstance(t, tensor_type) else tensor(float(t or 0.0), dtype=real)
            for t in (atol, rtol)]
    return apply(_pinv_op, (A, *tols), (("hermitian", bool(hermitian)),))


def _lstsq_impl(A, B, *, vector):
    sol = jnp.linalg.pinv(A) @ (B[..., None] if vector else B)
    residuals = jnp.zeros((0,), A.dtype)      # gelsy computes none
    return (sol[..., 0] if vector else sol), residuals


OPS["linalg_lstsq"] = _lstsq_op = Op("linalg_lstsq", _lstsq_impl, "LinalgLstsqBackward0", (0, 1))


def lstsq(A, B, rcond=None, *, driver=None):
    """The default CPU driver (gelsy) returns the solution and rank only."""
    if A.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    _float_input("linalg.lstsq", A)
    if A._dtype is not B._dtype:
        raise RuntimeError("torch.linalg.lstsq: Expected input and other to have the same dtype, "
                           f"but got input's dtype {scalar_name(A._dtype)} and other's dtype "
                           f"{scalar_name(B._dtype)}")
    vector = B.ndim == A.ndim - 1
    if A.shape[-2] != B.shape[-1 if vector else -2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match "
                           f"other.size({-1 if vector else -2})")
    solution, residuals = apply(_lstsq_op, (A, B), (("vector", vector),))
    from .._factories import tensor_from_numpy
    empty = tensor_from_numpy(np.zeros((0,)), A._dtype, A.device)
    singular_values = empty
    rank = matrix_rank(A.detach())
    if driver == "gels":           # QR: no rank, no singular values
        rank = tensor_from_numpy(np.zeros((0,), np.int64), dt.int64, A.device)
    elif driver in ("gelsd", "gelss"):
        singular_values = svdvals(A.detach())
    m, n = A.shape[-2:]
    full_rank = driver == "gels" or (rank.numel() and bool((rank == n).all()))
    if driver not in (None, "gelsy") and m > n and full_rank:
        # the squared residual norm of each column, as LAPACK leaves it
        fitted = A @ (solution.unsqueeze(-1) if vector else solution)
        diff = fitted - (B.unsqueeze(-1) if vector else B)
        residuals = (diff * diff).sum(-2)
        residuals = residuals.squeeze(-1) if vector else residuals
    return _NAMED["linalg_lstsq"](solution, residuals, rank, singular_values)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None):
    _at_least_2d("torch.linalg.matrix_rank", A, "input")
    sv = np.asarray(jnp.linalg.svd(A._data(), compute_uv=False))
    m, n = A.shape[-2:]
    tol_rel = np.finfo(sv.dtype).eps * max(m, n) if rtol is None and atol is None else (rtol or 0)
    threshold = np.maximum(atol or 0, tol_rel * (sv.max(-1, keepdims=True) if sv.size else 0))
    from .._factories import tensor_from_numpy
    return tensor_from_numpy((sv > threshold).sum(-1), dt.int64, A.device)


def _matrix_exp_impl(A):
    return jax.scipy.linalg.expm(A)


OPS["linalg_matrix_exp"] = _expm_op = Op("linalg_matrix_exp", _matrix_exp_impl,
                                         "LinalgMatrixExpBackward0", (0,))


def matrix_exp(A):
    _square("linalg.matrix_exp", A)
    return apply(_expm_op, (A,))


def _solve_triangular_impl(A, B, *, upper, left, unitriangular):
    return jax.scipy.linalg.solve_triangular(A, B, lower=not upper, unit_diagonal=unitriangular) \
        if left else jnp.swapaxes(jax.scipy.linalg.solve_triangular(
            jnp.swapaxes(A, -1, -2), jnp.swapaxes(B, -1, -2), lower=upper,
            unit_diagonal=unitriangular), -1, -2)


OPS["linalg_solve_triangular"] = _solve_tri_op = Op("linalg_solve_triangular",
                                                    _solve_triangular_impl,
                                                    "LinalgSolveTriangularBackward0", (0, "result"))


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    _at_least_2d("linalg.solve_triangular", B, "B")
    _square("linalg.solve_triangular", A)
    _solve_shapes("linalg.solve_triangular", A, B, left, False)
    return apply(_solve_tri_op, (A, B), (("upper", bool(upper)), ("left", bool(left)),
                                         ("unitriangular", bool(unitriangular))))


# -- matrix_power: repeated squaring, as PyTorch (so the last node is an mm) ---------------------
def matrix_power(A, n):
    from .linalg import mm, matmul
    from .basic import clone
    _square("linalg.matrix_power", A)
    if n == 0:
        from .._factories import eye
        out = eye(A.shape[-1], dtype=A._dtype, device=A.device).expand(A.shape).clone()
        return out if not A.requires_grad else _copy_into(out, A)
    if n < 0:
        A, n = inv(A), -n
        if n == 1:
            return A
    elif n == 1:
        return clone(A)
    product = mm if A.ndim == 2 else matmul
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else product(result, base)
        n >>= 1
        if n:
            base = product(base, base)
    return result


def _copy_into(out, A):
    """PyTorch's n == 0 result is an identity copied into a zeros_like(A): a
    CopyBackwards node whose gradient for A is 0."""
    from .ternary import _copy_op
    return apply(_copy_op, (A, out), (), "torch::autograd::CopyBackwards")


# -- the torch.* spellings -------------------------------------------------------------------
def inverse(input):
    return inv(input)


def cholesky_legacy(input, upper=False):
    import warnings
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be "
                  "removed in a future PyTorch release.", UserWarning, stacklevel=2)
    _square("cholesky", input)
    result = apply(_chol_op, (input,), (("upper", bool(upper)),), "CholeskyBackward0")
    _check_positive_definite("cholesky", result)
    return result


def slogdet_legacy(input):
    return _NAMED["slogdet"](*slogdet(input))


def qr_legacy(input, some=True):
    return _NAMED["qr"](*qr(input, "reduced" if some else "complete"))


def svd_legacy(input, some=True, compute_uv=True):
    from .views import _mT
    if input.ndim < 2:
        raise RuntimeError("linalg.svd: input should have at least 2 dimensions, but has "
                           f"{input.ndim} dimensions instead")
    U, S, Vh = svd(input, full_matrices=not some)
    return _NAMED["svd"](U, S, _mT(Vh))


def pinverse(input, rcond=1e-15):
    return pinv(input)


for _name, _fn, _method in [("inverse", inverse, True), ("det", det, True),
                            ("logdet", logdet, True), ("slogdet", slogdet_legacy, True),
                            ("cholesky", cholesky_legacy, True), ("qr", qr_legacy, True),
                            ("svd", svd_legacy, True), ("pinverse", pinverse, True),
                            ("matrix_power", matrix_power, True),
                            ("matrix_exp", matrix_exp, True)]:
    expose(_name, _fn, method=_method, inplace=False)

# what torchlike/linalg.py re-exports as torch.linalg
LINALG = {"norm": norm, "vector_norm": vector_norm, "matrix_norm": matrix_norm, "solve": solve,
          "inv": inv, "det": det, "slogdet": slogdet, "cholesky": cholesky, "qr": qr,
          "svd": svd, "svdvals": svdvals, "eigh": eigh, "eigvalsh": eigvalsh, "lstsq": lstsq,
          "pinv": pinv, "matrix_power": matrix_power, "matrix_rank": matrix_rank,
          "matrix_exp": matrix_exp, "solve_triangular": solve_triangular}
del wrap_dim, Tensor
