"""torch.special: special functions. New ones are in _ops/special_fns.py; the rest are
torchlike's existing ops under torch.special's names (the same nodes as PyTorch's)."""
from ._ops._common import with_out as _with_out
from ._ops.registry import FUNCTIONS as _FUNCTIONS
from ._ops.special_fns import SPECIAL as _SPECIAL

# torch.special name -> the existing torchlike op it is
_ALIASES = {"erf": "erf", "erfc": "erfc", "erfinv": "erfinv", "exp2": "exp2",
            "expm1": "expm1", "log1p": "log1p", "digamma": "digamma", "psi": "digamma",
            "gammaln": "lgamma", "multigammaln": "mvlgamma", "i0": "i0", "logit": "logit",
            "expit": "sigmoid", "sinc": "sinc", "polygamma": "polygamma",
            "xlogy": "xlogy"}

# the FUNCTIONS entries already take out=; the new ones get it here, as PyTorch's do
globals().update({name: _FUNCTIONS[target] for name, target in _ALIASES.items()})
globals().update({name: _with_out("special_" + name, fn) for name, fn in _SPECIAL.items()})


def softmax(input, dim, *, dtype=None):
    return _FUNCTIONS["softmax"](input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    return _FUNCTIONS["log_softmax"](input, dim, dtype=dtype)


_MISSING = object()


def logsumexp(input, dim=_MISSING, keepdim=False):
    if dim is _MISSING:      # PyTorch's parser names the function and quotes the argument
        raise TypeError('special_logsumexp() missing 1 required positional arguments: "dim"')
    return _FUNCTIONS["logsumexp"](input, dim, keepdim)


__all__ = sorted(list(_ALIASES) + list(_SPECIAL) + ["softmax", "log_softmax", "logsumexp"])
