"""SGD with momentum, dampening, Nesterov momentum, weight decay and maximize."""
import jax.numpy as jnp

from .._factories import full_like, zeros_like
from .optimizer import check_fused, to_scalar
from ._elementwise import ElementwiseOptimizer, negate, rounded, stored

__all__ = ["SGD"]


def sgd_update(flags, p, g, states, s):
    """s = (lr, weight_decay, momentum, 1 - dampening, has_buffer). The first step with
    momentum starts the buffer as a copy of the (decayed) gradient, as PyTorch does; it
    is a traced choice (states[0] is zeros then), so the first step and the later ones
    share one compiled program."""
    decay, use_momentum, nesterov, maximize = flags
    lr, weight_decay, momentum, one_minus_dampening, has_buffer = s[0], s[1], s[2], s[3], s[4]
    if maximize:
        g = negate(g)
    if decay:
        g = stored(stored(weight_decay) * p + g)
    new_states = ()
    if use_momentum:
        buf = jnp.where(has_buffer != 0,
                        stored(stored(one_minus_dampening) * g + rounded(states[0] * momentum, s)),
                        g)
        g = stored(stored(momentum) * buf + g) if nesterov else buf
        new_states = (buf,)
    return stored(stored(-lr) * g + p), new_states


class SGD(ElementwiseOptimizer):
    update = staticmethod(sgd_update)
    scalar_state = ()

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None, differentiable=False, fused=None):
        from .._tensor import Tensor
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)

    setstate_defaults = (("nesterov", False), ("maximize", False), ("foreach", None),
                         ("differentiable", False), ("fused", False))

    # PyTorch keeps no state without momentum, and stores the buffer after the first step
    def new_state(self, p, group):
        return {} if group["momentum"] != 0 else None

    def first_step_state(self, p, group):
        # the first step copies the gradient into a new buffer; without dampening an
        # update from a buffer of -0.0 gives the same bits: 1 * g + (-0.0 * momentum + -0.0)
        # is g, signed zeros included (a buffer of +0.0 would turn a -0.0 gradient into
        # +0.0). So torchlike.compile's first call can trace the later calls' program.
        if group["momentum"] == 0 or group["dampening"] != 0:
            return None
        negative_zero = complex(-0.0, -0.0) if p.is_complex() else -0.0
        return {"momentum_buffer": full_like(p, negative_zero)}

    def array_names(self, group, state):
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def state_tensor(self, p, state, name):
        buf = state.get(name)       # (no buffer before the first step: zeros stand in)
        return zeros_like(p) if buf is None else buf

    def flags(self, group, state):
        return (group["weight_decay"] != 0, group["momentum"] != 0, bool(group["nesterov"]),
                bool(group["maximize"]))

    def scalars(self, group, state, host):
        return (to_scalar(group["lr"]), to_scalar(group["weight_decay"]), group["momentum"],
                1 - group["dampening"], float(state.get("momentum_buffer") is not None)), {}
