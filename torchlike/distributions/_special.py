"""The regularised lower incomplete gamma function, for Gamma.cdf. torchlike.special
is being built elsewhere; this op keeps the distributions independent of it."""
import jax.scipy.special as jsp

from .._ops._common import no_derivative
from .._ops.dispatch import apply
from .._ops.registry import Op

# PyTorch differentiates igamma in x only
_IGAMMA_A_ERROR = NotImplementedError("the derivative for 'igamma: input' is not implemented.")


def _identity(a):
    return a


_a_without_derivative = no_derivative(_identity, _IGAMMA_A_ERROR)


def _igamma_impl(a, x):
    return jsp.gammainc(_a_without_derivative(a), x)


_igamma_op = Op("igamma", _igamma_impl, "IgammaBackward0")


def gammainc(a, x):
    return apply(_igamma_op, (a, x))
