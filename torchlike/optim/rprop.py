"""Rprop: per-element step sizes that grow while the gradient keeps its sign and shrink
when it flips; only the gradient's sign moves the parameter."""
import jax.numpy as jnp

from .._factories import full_like, zeros_like
from ._checks import check_lr
from ._elementwise import ElementwiseOptimizer, negate, stored, zero_step
from .optimizer import to_scalar

__all__ = ["Rprop"]


def rprop_update(flags, p, g, states, s):
    """s = (eta_minus, eta_plus, step_size_min, step_size_max);
    states = (prev, step_size)."""
    (maximize,) = flags
    eta_minus, eta_plus, size_min, size_max = s[0], s[1], s[2], s[3]
    if maximize:
        g = negate(g)
    agreement = stored(g * states[0])
    # (PyTorch writes the etas into the parameter-dtype `sign` tensor)
    factor = stored(jnp.where(agreement > 0, eta_plus, jnp.where(agreement < 0, eta_minus, 1)))
    step_size = stored(jnp.clip(stored(states[1] * factor), size_min, size_max))
    # after a sign flip the step is skipped and the flip forgotten
    g = jnp.where(factor == stored(eta_minus), jnp.zeros_like(g), g)
    return stored(p - jnp.sign(g) * step_size), (g, step_size)


class Rprop(ElementwiseOptimizer):
    update = staticmethod(rprop_update)
    vector_scalars = True
    setstate_defaults = (("foreach", None), ("maximize", False), ("differentiable", False),
                         ("capturable", False))

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def new_state(self, p, group):
        return {"step": zero_step(p), "prev": zeros_like(p),
                "step_size": full_like(p, to_scalar(group["lr"]))}

    def array_names(self, group, state):
        return ("prev", "step_size")

    def flags(self, group, state):
        return (bool(group["maximize"]),)

    def scalars(self, group, state, host):
        (eta_minus, eta_plus), (size_min, size_max) = group["etas"], group["step_sizes"]
        return (eta_minus, eta_plus, size_min, size_max), {"step": host["step"] + 1}
