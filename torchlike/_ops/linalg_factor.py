"""More of torch.linalg: LU factorizations and solves with them, the `_ex` forms (with an
`info` status), Cholesky solves, eig, cond, vander, tensorinv/tensorsolve, and the older
torch.* spellings (lu, lu_solve, lu_unpack, cholesky_solve, cholesky_inverse,
triangular_solve). Implementations are JAX's LAPACK calls (the same routines PyTorch calls
on CPU: getrf, potrf, geev), so pivots and factors agree.
"""
import math

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl

import torchlike as _torch

from .. import _dtype as dt
from ..return_types import structseq
from ._common import expose
from .decomp import LINALG, _float_input, _square
from .dispatch import apply
from .registry import OPS, Op

_Named = {name: structseq(name, fields) for name, fields in [
    ("linalg_lu_factor", ("LU", "pivots")), ("linalg_lu_factor_ex", ("LU", "pivots", "info")),
    ("linalg_lu", ("P", "L", "U")), ("lu_unpack", ("P", "L", "U")),
    ("linalg_cholesky_ex", ("L", "info")), ("linalg_inv_ex", ("inverse", "info")),
    ("linalg_solve_ex", ("result", "info")), ("linalg_eig", ("eigenvalues", "eigenvectors")),
    ("triangular_solve", ("solution", "cloned_coefficient"))]}


def _mT(x):
    return jnp.swapaxes(x, -1, -2)


# -- LU -------------------------------------------------------------------------------------
def _lu_factor_impl(A):
    lu, pivots, _ = jax.lax.linalg.lu(A)
    return lu, (pivots + 1).astype(jnp.int32)          # LAPACK's 1-based pivots


OPS["linalg_lu_factor"] = _lu_factor_op = Op("linalg_lu_factor", _lu_factor_impl,
                                             "LinalgLuFactorExBackward0", (0,))


def _permutation(pivots, m):
    return jax.lax.linalg.lu_pivots_to_permutation(pivots - 1, m)


def _unpack_impl(lu, pivots, *, unpack_data, unpack_pivots):
    m, n = lu.shape[-2:]
    k = min(m, n)
    L = jnp.tril(lu[..., :, :k], -1) + jnp.eye(m, k, dtype=lu.dtype)
    U = jnp.triu(lu[..., :k, :])
    perm = _permutation(pivots, m)
    P = _mT(jax.nn.one_hot(perm, m, dtype=lu.dtype))   # A = P L U
    return P, L, U


OPS["lu_unpack"] = _unpack_op = Op("lu_unpack", _unpack_impl, "LuUnpackBackward0", ())


def lu_factor(A, *, pivot=True):
    _float_input("linalg.lu_factor", A)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    return _Named["linalg_lu_factor"](*apply(_lu_factor_op, (A,)))


def _zeros_info(A, batch=None):
    shape = tuple(A.shape[:-2]) if batch is None else batch
    return _torch.zeros(shape, dtype=dt.int32)


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    LU, pivots = lu_factor(A, pivot=pivot)
    return _Named["linalg_lu_factor_ex"](LU, pivots, _zeros_info(A))


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    return _Named["lu_unpack"](*apply(_unpack_op, (LU_data, LU_pivots),
                                      (("unpack_data", True), ("unpack_pivots", True))))


def linalg_lu(A, *, pivot=True):
    _float_input("linalg.lu", A)
    LU, pivots = lu_factor(A, pivot=pivot)
    return _Named["linalg_lu"](*lu_unpack(LU, pivots))


def _lu_solve_impl(lu, pivots, B, *, left, adjoint):
    n = lu.shape[-1]
    if not left:            # X A = B  <=>  A^H X^H = B^H
        return jnp.conj(_mT(_lu_solve_impl(lu, pivots, jnp.conj(_mT(B)), left=True,
                                           adjoint=not adjoint)))
    perm = _permutation(pivots, n)
    if adjoint:             # A^H x = b with A = P L U: U^H L^H P^T x = b
        y = jsl.solve_triangular(lu, B, lower=False, trans="C")
        z = jsl.solve_triangular(lu, y, lower=True, unit_diagonal=True, trans="C")
        inverse = jnp.argsort(perm, axis=-1)
        return jnp.take_along_axis(z, inverse[..., :, None], axis=-2)
    b = jnp.take_along_axis(B, jnp.broadcast_to(perm[..., :, None], B.shape[:-2] + perm.shape[-1:]
                                                + B.shape[-1:]), axis=-2)
    y = jsl.solve_triangular(lu, b, lower=True, unit_diagonal=True)
    return jsl.solve_triangular(lu, y, lower=False)


OPS["linalg_lu_solve"] = _lu_solve_op = Op("linalg_lu_solve", _lu_solve_impl,
                                           "LinalgLuSolveBackward0", (0, 2))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    return apply(_lu_solve_op, (LU, pivots, B), (("left", bool(left)), ("adjoint", bool(adjoint))))


def lu_legacy(A, pivot=True, get_infos=False):
    LU, pivots = lu_factor(A, pivot=pivot)
    return (LU, pivots, _zeros_info(A)) if get_infos else (LU, pivots)


def lu_solve_legacy(b, LU_data, LU_pivots):
    return lu_solve(LU_data, LU_pivots, b)


# -- the _ex forms ----------------------------------------------------------------------------
def cholesky_ex(A, *, upper=False, check_errors=False):
    L = LINALG["cholesky"](A, upper=upper)
    return _Named["linalg_cholesky_ex"](L, _zeros_info(A))


def inv_ex(A, *, check_errors=False):
    return _Named["linalg_inv_ex"](LINALG["inv"](A), _zeros_info(A))


def solve_ex(A, B, *, left=True, check_errors=False):
    return _Named["linalg_solve_ex"](LINALG["solve"](A, B, left=left), _zeros_info(A))


# -- Cholesky solves, triangular_solve --------------------------------------------------------
def _chol_solve_impl(B, L, *, upper):
    return jsl.cho_solve((L, not upper), B)


OPS["cholesky_solve"] = _chol_solve_op = Op("cholesky_solve", _chol_solve_impl,
                                            "CholeskySolveBackward0", (0, 1, "result"))


def cholesky_solve(B, L, upper=False):
    return apply(_chol_solve_op, (B, L), (("upper", bool(upper)),))


def cholesky_inverse(L, upper=False):
    _square("cholesky_inverse", L)
    eye = _torch.eye(L.shape[-1], dtype=L.dtype).expand(L.shape)
    return cholesky_solve(eye, L, upper)


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    coefficient = A.mT if transpose else A
    x = LINALG["solve_triangular"](coefficient, b, upper=upper != bool(transpose),
                                   unitriangular=unitriangular)
    return _Named["triangular_solve"](x, A.clone())


# -- eig, cond, vander, tensorinv, tensorsolve ------------------------------------------------
def _eig_impl(A):
    w, V = jnp.linalg.eig(A)
    return w, V


OPS["linalg_eig"] = _eig_op = Op("linalg_eig", _eig_impl, "LinalgEigBackward0", ("result",))


def eig(A):
    _square("linalg.eig", A)
    _float_input("linalg.eig", A)
    return _Named["linalg_eig"](*apply(_eig_op, (A,)))


def eigvals(A):
    return eig(A).eigenvalues


def cond(A, p=None):
    if p in (None, 2, -2):
        s = LINALG["svdvals"](A)
        big, small = s[..., 0], s[..., -1]
        return big / small if p != -2 else small / big
    return LINALG["matrix_norm"](A, p) * LINALG["matrix_norm"](LINALG["inv"](A), p)


def vander(x, *, N=None):
    n = (x.shape[-1] if x.ndim else 1) if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    if x.dtype is dt.bool:
        raise RuntimeError("linalg.vander does not support bool tensors")
    x = x if x.dtype.is_floating_point or x.dtype.is_complex else x.to(dt.int64)
    x = x if x.ndim else x.reshape(1)            # PyTorch treats a 0-d x as one point
    ones = _torch.ones(tuple(x.shape) + (1,), dtype=x.dtype)
    powers = x.unsqueeze(-1).expand(tuple(x.shape) + (n - 1,)).cumprod(-1)
    return _torch.cat([ones, powers], -1)


def tensorinv(A, ind=2):
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if rows != cols:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           "prod(self.shape[:ind]), but got "
                           f"{cols} != {rows}")
    inverse = LINALG["inv"](A.reshape(rows, cols))
    return inverse.reshape(tuple(A.shape[ind:]) + tuple(A.shape[:ind]))


def tensorsolve(A, B, dims=None):
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        A = A.permute([d for d in range(A.ndim) if d not in dims] + dims)
    rest = tuple(A.shape[B.ndim:])
    solution = LINALG["solve"](A.reshape(B.numel(), math.prod(rest)), B.reshape(-1))
    return solution.reshape(rest)


for _name, _fn in [("lu_factor", lu_factor), ("lu_factor_ex", lu_factor_ex), ("lu", linalg_lu),
                   ("lu_solve", lu_solve), ("cholesky_ex", cholesky_ex), ("inv_ex", inv_ex),
                   ("solve_ex", solve_ex), ("eig", eig), ("eigvals", eigvals), ("cond", cond),
                   ("vander", vander), ("tensorinv", tensorinv), ("tensorsolve", tensorsolve)]:
    LINALG[_name] = _fn
expose("lu", lu_legacy, inplace=False, out=False)
expose("lu_solve", lu_solve_legacy, inplace=False)
expose("lu_unpack", lu_unpack, method=False, inplace=False)
expose("cholesky_solve", cholesky_solve, inplace=False)
expose("cholesky_inverse", cholesky_inverse, inplace=False)
expose("triangular_solve", triangular_solve, inplace=False)
