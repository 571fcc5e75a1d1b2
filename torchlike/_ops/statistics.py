"""Covariance, correlation and trapezoid integration, composed of existing ops (so their
gradients and dtype rules are those ops')."""
import torchlike as _torch

from .._tensor import Tensor
from ._common import expose, is_float
from ._util import wrap_dim


def cov(input, *, correction=1, fweights=None, aweights=None):
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.ndim} dimensions")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    n = x.shape[1]
    w = None
    for name, weights in (("fweights", fweights), ("aweights", aweights)):
        if weights is None:
            continue
        if weights.ndim > 1:
            raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got "
                               f"{name} with {weights.ndim} dimensions")
        if is_float(weights.dtype) != (name == "aweights"):
            kind = "floating point" if name == "aweights" else "integral"
            raise RuntimeError(f"cov(): expected {name} to have {kind} dtype but got "
                               f"{name} with {str(weights.dtype)[6:].capitalize()} dtype")
        if weights.numel() != n:
            raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                               f"observations in the input but got {weights.numel()} != {n}")
        w = weights if w is None else w * weights
    x = x if is_float(x.dtype) else x.to(_torch.get_default_dtype())
    if w is None:
        total = _torch.tensor(float(n), dtype=x.dtype)
        mean = x.mean(1, keepdim=True)
        norm = total - correction
    else:
        total = w.sum()
        mean = (x * w).sum(1, keepdim=True) / total
        if correction == 0:
            norm = total
        elif aweights is None:
            norm = total - correction
        else:
            norm = total - correction * (w * aweights).sum() / total
    norm = _torch.clamp(norm, min=0)
    centered = x - mean
    weighted = centered if w is None else centered * w
    return (weighted @ centered.conj().t() / norm).squeeze()    # PyTorch squeezes always


def corrcoef(input):
    if input.ndim > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but got "
                           f"an input with {input.ndim} dimensions")
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = _torch.diagonal(c)
    stddev = _torch.sqrt(d.real if d.is_complex() else d)
    c = c / stddev[:, None] / stddev[None, :]
    return _torch.clamp(c, -1, 1) if not c.is_complex() else c


def _spacing(y, x, dx, d):
    if x is None:
        return dx
    if x.ndim == 1:
        shape = [1] * y.ndim
        shape[d] = -1
        return _torch.diff(x).reshape(shape)
    return _torch.diff(x, dim=d)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    d = wrap_dim(dim, y.ndim)
    if y.shape[d] == 0:
        return _torch.zeros_like(y).sum(d)
    if not isinstance(x, Tensor) and x is not None:
        dx, x = x, None
    spacing = _spacing(y, x, 1 if dx is None else dx, d)
    pairs = y.narrow(d, 0, y.shape[d] - 1) + y.narrow(d, 1, y.shape[d] - 1)
    return (pairs * spacing).sum(d) / 2


def trapz(y, x=None, *, dx=None, dim=-1):
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    d = wrap_dim(dim, y.ndim)
    if not isinstance(x, Tensor) and x is not None:
        dx, x = x, None
    spacing = _spacing(y, x, 1 if dx is None else dx, d)
    n = max(y.shape[d] - 1, 0)
    pairs = y.narrow(d, 0, n) + y.narrow(d, 1, n) if n else y.narrow(d, 0, 0)
    return _torch.cumsum(pairs * spacing / 2, d)


expose("cov", cov, inplace=False, out=False)
expose("corrcoef", corrcoef, inplace=False, out=False)
expose("trapezoid", trapezoid, method=False, inplace=False, out=False)
expose("trapz", trapz, method=False, inplace=False, out=False)
expose("cumulative_trapezoid", cumulative_trapezoid, method=False, inplace=False, out=False)
