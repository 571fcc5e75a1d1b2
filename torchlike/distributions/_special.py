"""The regularised lower incomplete gamma function, for Gamma.cdf. torchlike.special
is being built elsewhere; this op keeps the distributions independent of it."""
import jax
import jax.scipy.special as jsp

from .._ops._common import no_derivative
from .._ops.dispatch import apply
from .._ops.registry import Op

# PyTorch differentiates igamma in x only
_IGAMMA_A_ERROR = NotImplementedError("the derivative for 'igamma: input' is not implemented.")


def _igamma_impl(a, x):
    return jsp.gammainc(no_derivative(lambda v: v, _IGAMMA_A_ERROR)(a), x)


_igamma_op = Op("igamma", _igamma_impl, "IgammaBackward0")


def gammainc(a, x):
    return apply(_igamma_op, (a, x))
