"""torch.masked: reductions and normalizations that ignore masked-out elements.

Each function replaces the masked-out elements (mask False) by its operation's identity
(0 for sum, 1 for prod, -inf for amax and logsumexp, ...) and runs the ordinary op; mean,
var and std divide by the count of kept elements, so a fully masked-out slice gives nan.
The mask broadcasts to the input. Strided tensors only (PyTorch's sparse layouts are not
supported by torchlike).
"""
import math

import torchlike as _torch

__all__ = ["sum", "prod", "cumsum", "cumprod", "amax", "amin", "argmax", "argmin", "mean",
           "median", "logsumexp", "logaddexp", "norm", "var", "std", "softmax", "log_softmax",
           "softmin", "normalize"]

_builtin_sum = sum


def _input_mask(input, mask):
    if mask is None:
        return _torch.ones(input.shape, dtype=_torch.bool)
    if mask.dtype is not _torch.bool:
        mask = mask.to(_torch.bool)
    return mask.expand(input.shape) if tuple(mask.shape) != tuple(input.shape) else mask


def _identity(op, input, ord=2):
    d = input.dtype
    if op in ("sum", "cumsum"):
        return 0
    if op in ("prod", "cumprod"):
        return 1
    if op in ("amax", "argmax", "logsumexp", "logaddexp"):
        return -math.inf if d.is_floating_point else _torch.iinfo(d).min
    if op in ("amin", "argmin"):
        return math.inf if d.is_floating_point else _torch.iinfo(d).max
    if op == "norm":
        return math.inf if ord == -math.inf else 0
    raise NotImplementedError(f"identity of {op} on {d} input")


def _filled(op, input, mask, ord=2):
    """input with masked-out elements set to op's identity."""
    if mask is None:
        return input
    fill = _torch.tensor(_identity(op, input, ord), dtype=input.dtype)
    return _torch.where(_input_mask(input, mask), input, fill)


def _dims(dim, ndim):
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(d % ndim if ndim else 0 for d in dims)


def _cast(input, dtype):
    return input if dtype is None or dtype is input.dtype else input.to(dtype)


def sum(input, dim=None, *, keepdim=False, dtype=None, mask=None):  # noqa: A001
    if dtype is None and not input.dtype.is_floating_point and not input.dtype.is_complex:
        dtype = _torch.int64
    x = _filled("sum", _cast(input, dtype), mask)
    return _torch.sum(x, _dims(dim, input.ndim), keepdim=keepdim)


def prod(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    if dtype is None and not input.dtype.is_floating_point and not input.dtype.is_complex:
        dtype = _torch.int64
    x = _filled("prod", _cast(input, dtype), mask)
    for d in sorted(_dims(dim, input.ndim), reverse=True):
        x = _torch.prod(x, d, keepdim=True)
    if not keepdim:
        x = x.reshape([n for i, n in enumerate(x.shape) if i not in _dims(dim, input.ndim)])
    return x


def cumsum(input, dim, *, dtype=None, mask=None):
    return _torch.cumsum(_filled("cumsum", _cast(input, dtype), mask), dim)


def cumprod(input, dim, *, dtype=None, mask=None):
    return _torch.cumprod(_filled("cumprod", _cast(input, dtype), mask), dim)


def amax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    return _torch.amax(_filled("amax", _cast(input, dtype), mask), _dims(dim, input.ndim),
                       keepdim=keepdim)


def amin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    return _torch.amin(_filled("amin", _cast(input, dtype), mask), _dims(dim, input.ndim),
                       keepdim=keepdim)


def argmax(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    # PyTorch returns the indices in the input's dtype (or `dtype`)
    return _torch.argmax(_filled("argmax", input, mask), dim, keepdim=keepdim).to(dtype or input.dtype)


def argmin(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    # PyTorch returns the indices in the input's dtype (or `dtype`)
    return _torch.argmin(_filled("argmin", input, mask), dim, keepdim=keepdim).to(dtype or input.dtype)


def _count(input, dim, keepdim, mask):
    return _torch.sum(_input_mask(input, mask), _dims(dim, input.ndim), keepdim=keepdim)


def mean(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    source = "Optional"
    if dtype is None:
        dtype, source = input.dtype, "Input"
    if not (dtype.is_floating_point or dtype.is_complex):
        raise ValueError(f"mean(): Could not infer output dtype. {source} dtype must be either "
                         f"a floating point or complex dtype. Got: {dtype}")
    total = sum(input, dim, keepdim=keepdim, dtype=dtype, mask=mask)
    return total / _count(input, dim, keepdim, mask)


def median(input, dim=-1, *, keepdim=False, dtype=None, mask=None):
    x = _cast(input, dtype)
    if not x.dtype.is_floating_point:
        x = x.to(_torch.float32)
    if mask is not None:
        x = _torch.where(_input_mask(x, mask), x, _torch.tensor(math.nan, dtype=x.dtype))
    return _torch.nanmedian(x, dim, keepdim=keepdim).values


def logsumexp(input, dim=None, *, keepdim=False, dtype=None, mask=None):
    # PyTorch casts the result back to the input's dtype (or `dtype`)
    return _torch.logsumexp(_filled("logsumexp", input, mask), _dims(dim, input.ndim),
                            keepdim=keepdim).to(dtype or input.dtype)


def logaddexp(input, other, *, dtype=None, input_mask=None, other_mask=None):
    return _torch.logaddexp(_filled("logaddexp", _cast(input, dtype), input_mask),
                            _filled("logaddexp", _cast(other, dtype), other_mask))


def norm(input, ord=2.0, dim=None, *, keepdim=False, dtype=None, mask=None):
    x = _filled("norm", _cast(input, dtype), mask, ord)
    return _torch.linalg.vector_norm(x, ord, _dims(dim, input.ndim), keepdim=keepdim)


def _var(input, dim, unbiased, correction, keepdim, dtype, mask, take_sqrt):
    if unbiased is not None and correction is not None:
        raise ValueError("Only one of unbiased and correction may be given")
    ddof = correction if correction is not None else (1 if unbiased in (None, True) else 0)
    x = _cast(input, dtype)
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        x = x.to(_torch.float32)
    count = _count(x, dim, True, mask)
    centered = x - sum(x, dim, keepdim=True, mask=mask) / count
    squares = _torch.where(_input_mask(x, mask), centered * centered.conj(),
                           _torch.tensor(0, dtype=x.dtype))
    total = _torch.sum(squares, _dims(dim, x.ndim), keepdim=keepdim)
    if not keepdim:
        count = _count(x, dim, False, mask)
    out = total / _torch.clamp(count - ddof, min=0)
    return _torch.sqrt(out) if take_sqrt else out


def var(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None,
        mask=None):
    return _var(input, dim, unbiased, correction, keepdim, dtype, mask, False)


def std(input, dim=None, unbiased=None, *, correction=None, keepdim=False, dtype=None,
        mask=None):
    return _var(input, dim, unbiased, correction, keepdim, dtype, mask, True)


def softmax(input, dim, *, dtype=None, mask=None):
    return _torch.softmax(_filled("amax", _cast(input, dtype), mask), dim)


def log_softmax(input, dim, *, dtype=None, mask=None):
    return _torch.log_softmax(_filled("amax", _cast(input, dtype), mask), dim)


def softmin(input, dim, *, dtype=None, mask=None):
    return _torch.nn.functional.softmin(_filled("amin", _cast(input, dtype), mask), dim)


def normalize(input, ord, dim, *, eps=1e-12, dtype=None, mask=None):
    x = _filled("sum", _cast(input, dtype), mask)
    return x / _torch.clamp(norm(x, ord, dim, keepdim=True), min=eps)
