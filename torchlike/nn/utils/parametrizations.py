"""nn.utils.parametrizations: orthogonal, weight_norm and spectral_norm, each a
parametrization module registered with nn.utils.parametrize."""
from ... import linalg
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from .. import functional as F
from .._functional_layers.weight_norm import norm_except_dim, weight_norm as _weight_norm
from ..modules.module import Module
from . import parametrize

_MAPS = ("matrix_exp", "cayley", "householder")


# -- orthogonal ---------------------------------------------------------------------------
def _householder_product(a, tau):
    """The first k columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^H, v_i the i-th column of
    `a` below the diagonal with a unit diagonal (LAPACK's orgqr)."""
    import torchlike
    n, k = a.shape[-2], a.shape[-1]
    eye = torchlike.eye(n, dtype=a.dtype, device=a.device).expand(*a.shape[:-2], n, n)
    q = eye
    for i in range(k):
        v = _reflector(a, i)
        h = eye - tau[..., i, None, None] * (v.unsqueeze(-1) @ v.conj().unsqueeze(-2))
        q = q @ h
    return q[..., :, :k]


def _reflector(a, i):
    import torchlike
    n = a.shape[-2]
    rows = torchlike.arange(n, device=a.device)
    column = a[..., :, i]
    unit = (rows == i).to(a.dtype)
    return torchlike.where(rows > i, column, unit)


def _is_orthogonal(q):
    import numpy as np
    import torchlike
    n, k = q.size(-2), q.size(-1)
    eye = torchlike.eye(k, dtype=q.dtype, device=q.device)
    double = q.dtype in (torchlike.float64, torchlike.complex128)
    eps = 10.0 * n * float(np.finfo(np.float64 if double else np.float32).eps)
    return bool(torchlike.allclose(q.mH @ q, eye, atol=eps))


def _make_orthogonal(a):
    """The Q of a QR decomposition with R's diagonal made positive (unique for full rank)."""
    q, r = linalg.qr(a)
    return q * r.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


class _Orthogonal(Module):
    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        if weight.is_complex() and orthogonal_map == "householder":
            raise ValueError("The householder parametrization does not support complex "
                             "tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, x):
        import torchlike
        n, k = x.size(-2), x.size(-1)
        transposed = n < k
        if transposed:
            x = x.mT
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            x = x.tril()
            if n != k:
                x = torchlike.cat([x, x.new_zeros(n, n - k).expand(*x.shape[:-2], -1, -1)],
                                  dim=-1)
            a = x - x.mH
            if self.orthogonal_map == "matrix_exp":
                q = torchlike.matrix_exp(a)
            else:
                eye = torchlike.eye(n, dtype=a.dtype, device=a.device)
                q = linalg.solve(torchlike.add(eye, a, alpha=-0.5),
                                 torchlike.add(eye, a, alpha=0.5))
            if n != k:
                q = q[..., :k]
        else:
            a = x.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (a * a).sum(dim=-2))
            q = _householder_product(a, tau)
            q = q * x.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if getattr(self, "base", None) is not None:
            q = self.base @ q
        if transposed:
            q = q.mT
        return q

    def right_inverse(self, q):
        import torchlike
        if q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {q.shape}.")
        q_init = q
        n, k = q.size(-2), q.size(-1)
        transpose = n < k
        if transpose:
            q = q.mT
            n, k = k, n
        if "base" not in self._buffers:
            # without trivialization PyTorch cannot assign to matrix_exp / cayley either
            if self.orthogonal_map == "cayley" or self.orthogonal_map == "matrix_exp":
                raise NotImplementedError("It is not possible to assign to the matrix "
                                          "exponential or the Cayley parametrizations when "
                                          "use_trivialization=False.")
            raise NotImplementedError("torchlike: assigning to a householder orthogonal "
                                      "parametrization needs geqrf")
        if n == k:
            q = q.clone() if _is_orthogonal(q) else _make_orthogonal(q)
        else:
            # complete to a square matrix with random columns, then orthogonalize
            extra = torchlike.randn(*(q.size()[:-2] + (n, n - k)), dtype=q.dtype,
                                    device=q.device)
            q = _make_orthogonal(torchlike.cat([q, extra], dim=-1))
        self.base = q
        neg_eye = torchlike.zeros_like(q_init)
        neg_eye.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
        return neg_eye


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError("Expected a matrix or batch of matrices. "
                         f"Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        square_or_complex = weight.size(-2) == weight.size(-1) or weight.is_complex()
        orthogonal_map = "matrix_exp" if square_or_complex else "householder"
    if orthogonal_map not in _MAPS:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    if orthogonal_map == "householder" and not use_trivialization:
        # the starting reflectors come from LAPACK's geqrf, which torchlike does not have
        raise NotImplementedError("torchlike: orthogonal(orthogonal_map='householder', "
                                  "use_trivialization=False) is not implemented; use "
                                  "use_trivialization=True or another orthogonal_map")
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


# -- weight_norm --------------------------------------------------------------------------
class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


# -- spectral_norm ------------------------------------------------------------------------
class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.size()
            u = weight_mat.new_empty(h).normal_(0, 1)
            v = weight_mat.new_empty(w).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat, n_power_iterations):
        import torchlike
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(torchlike.mv(weight_mat, self._v), dim=0,
                                          eps=self.eps))
                self._v.copy_(F.normalize(torchlike.mv(weight_mat.mH, self._u), dim=0,
                                          eps=self.eps))

    def forward(self, weight):
        import torchlike
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u = self._u.clone()
        v = self._v.clone()
        sigma = torchlike.vdot(u, torchlike.mv(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        transposed = isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d))
        dim = 1 if transposed else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
