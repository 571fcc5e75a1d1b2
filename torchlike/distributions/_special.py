"""The regularised lower incomplete gamma function, for Gamma.cdf. torchlike.special
is being built elsewhere; this op keeps the distributions independent of it."""
import jax.scipy.special as jsp

from .._ops.dispatch import apply
from .._ops.registry import Op

_igamma_op = Op("igamma", jsp.gammainc, "IgammaBackward0")


def gammainc(a, x):
    return apply(_igamma_op, (a, x))
