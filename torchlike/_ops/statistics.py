"""Covariance, correlation, trapezoid integration and finite differences, composed of existing ops (so their
gradients and dtype rules are those ops')."""
import torchlike as _torch

from .._tensor import Tensor
from ._common import expose, is_float
from ._util import wrap_dim, wrap_dims


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


# -- torch.gradient: central differences inside, one-sided ones (order 1 or 2) at the edges ---
def _gradient_spacings(input, spacing, dims):
    """One entry per dim: a Python number (uniform steps) or a 1-D coordinate tensor."""
    if spacing is None:
        return [1.0] * len(dims)
    if not isinstance(spacing, (list, tuple)):
        return [spacing] * len(dims)
    if len(spacing) != len(dims):
        raise RuntimeError(
            "torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim "
            "arguments to have the same length, but got a spacing argument of length "
            f"{len(spacing)} and a dim argument of length {len(dims)}.")
    devices = {s.device for s in spacing if isinstance(s, Tensor)} | {input.device}
    if len(devices) > 1:
        raise RuntimeError("torch.gradient expected each tensor to be on the same device, but "
                           f"got devices {', '.join(map(str, sorted(devices, key=str)))}!")
    return list(spacing)


def _slice(t, d, start, stop=None):
    stop = t.shape[d] if stop is None else stop % t.shape[d] if stop < 0 else stop
    start = start % t.shape[d]
    return t.narrow(d, start, stop - start)


def _uniform_gradient(f, d, h, edge_order):
    center = (_slice(f, d, 2) - _slice(f, d, 0, -2)) / (2 * h)
    if edge_order == 1:
        first = (_slice(f, d, 1, 2) - _slice(f, d, 0, 1)) / h
        last = (_slice(f, d, -1) - _slice(f, d, -2, -1)) / h
    else:
        first = (-1.5 * _slice(f, d, 0, 1) + 2 * _slice(f, d, 1, 2)
                 - 0.5 * _slice(f, d, 2, 3)) / h
        last = (0.5 * _slice(f, d, -3, -2) - 2 * _slice(f, d, -2, -1)
                + 1.5 * _slice(f, d, -1)) / h
    return _torch.cat([first, center, last], d)


def _coordinate_gradient(f, d, x, edge_order):
    """Second-order differences on the uneven grid x (numpy.gradient's formulas)."""
    shape = [1] * f.ndim
    shape[d] = -1
    dx = _torch.diff(x)
    h1, h2 = dx[:-1].reshape(shape), dx[1:].reshape(shape)
    center = (-h2 / (h1 * (h1 + h2)) * _slice(f, d, 0, -2)
              + (h2 - h1) / (h1 * h2) * _slice(f, d, 1, -1)
              + h1 / (h2 * (h1 + h2)) * _slice(f, d, 2))
    if edge_order == 1:
        first = (_slice(f, d, 1, 2) - _slice(f, d, 0, 1)) / dx[0]
        last = (_slice(f, d, -1) - _slice(f, d, -2, -1)) / dx[-1]
    else:
        a, b = dx[0], dx[1]
        first = (-(2 * a + b) / (a * (a + b)) * _slice(f, d, 0, 1)
                 + (a + b) / (a * b) * _slice(f, d, 1, 2)
                 - a / (b * (a + b)) * _slice(f, d, 2, 3))
        a, b = dx[-1], dx[-2]
        last = (a / (b * (a + b)) * _slice(f, d, -3, -2)
                - (a + b) / (a * b) * _slice(f, d, -2, -1)
                + (2 * a + b) / (a * (a + b)) * _slice(f, d, -1))
    return _torch.cat([first, center, last], d)


def gradient(input, *, spacing=None, dim=None, edge_order=1):
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = wrap_dims(dim, input.ndim)
    spacings = _gradient_spacings(input, spacing, dims)
    if any(input.shape[d] < edge_order + 1 for d in dims):
        raise RuntimeError("torch.gradient expected each dimension size to be at least "
                           "edge_order+1")
    f = input if is_float(input.dtype) else input.to(_torch.get_default_dtype())
    return tuple(_coordinate_gradient(f, d, h, edge_order) if isinstance(h, Tensor)
                 else _uniform_gradient(f, d, h, edge_order) for d, h in zip(dims, spacings))


expose("gradient", gradient, method=False, inplace=False, out=False)
expose("cov", cov, inplace=False, out=False)
expose("corrcoef", corrcoef, inplace=False, out=False)
expose("trapezoid", trapezoid, method=False, inplace=False, out=False)
expose("trapz", trapz, method=False, inplace=False, out=False)
expose("cumulative_trapezoid", cumulative_trapezoid, method=False, inplace=False, out=False)
